"""`helpdesk chat`: the dialogue engine in a terminal, interactive or piped.

Buttons print as numbered lines `[1] 라벨`; typing the number or the exact label presses it. Piped
input is read one line per turn (each line is echoed after `> ` so a transcript reads like a
chat); `/quit` or end of input ends the chat. Errors never reach the screen as tracebacks: they
are written to the log file beside the database and the customer gets an apology.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.app import App, open_app
from bot.demo import DEMO_CUSTOMER, load_demo
from bot.dialogue import Button, Engine, Event, Opened, Press, Reply, TextInput
from bot.notify import OutboxDeliverer
from bot.settings import Settings
from core.errors import NotFound

QUIT = "/quit"


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """Render replies as terminal text; return it with the buttons in their printed order."""
    lines: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        lines.append(reply.text)
        for button in reply.flat_buttons():
            buttons.append(button)
            lines.append(f"[{len(buttons)}] {button.label}")
        lines.append("")
    return "\n".join(lines), buttons


_PRINTED_NUMBER = re.compile(r"\[?([0-9]{1,2})\]?\s*번?")


def to_event(line: str, buttons: list[Button]) -> Event:
    """A typed number or exact button label presses that button; anything else is text."""
    text = line.strip()
    number = _PRINTED_NUMBER.fullmatch(text)  # "2", "2번", "[2]": the number printed beside it
    if number is not None and 1 <= int(number.group(1)) <= len(buttons):
        return Press(buttons[int(number.group(1)) - 1].payload)
    for button in buttons:
        if text == button.label:
            return Press(button.payload)
    return TextInput(line)


async def _prepare(settings: Settings, chat_id: str, customer_id: str | None) -> App | None:
    app = await open_app(settings, channel="console")
    helpdesk = app.helpdesk
    # "Fresh" means no customers yet, not "no file": another command (db init, link…)
    # may already have created an empty database.
    if not await helpdesk.customers.any():
        await load_demo(helpdesk)
        if customer_id is None:
            customer_id = DEMO_CUSTOMER
        print(
            f"(데이터베이스 {settings.database().display} 에 데모 데이터를 넣었어요.)",
            file=sys.stderr,
        )
    if customer_id is not None:
        try:
            code = await helpdesk.linking.issue_code(customer_id)
        except NotFound:
            print(
                f"error: no customer {customer_id!r} in {settings.database().display}",
                file=sys.stderr,
            )
            await app.close()
            return None
        customer = await helpdesk.linking.redeem(chat_id, code.code)
        print(f"({customer.name} 고객님({customer.id}) 계정으로 연결했어요.)", file=sys.stderr)
    return app


async def chat_loop(engine: Engine, chat_id: str, stdin: TextIO, stdout: TextIO) -> int:
    """Run the conversation until /quit or end of input; return the exit code."""
    interactive = stdin.isatty()
    fatal: list[Exception] = []
    engine.on_fatal = fatal.append
    if interactive:
        stdout.write("카카오알림톡/SMS 취소·환불 도우미예요. /help 도움말, /quit 종료\n\n")
    lines = _LineReader(stdin, interactive)

    buttons: list[Button] = []

    def show(replies: list[Reply], prefix: str = "") -> None:
        nonlocal buttons
        text, offered = render(replies)
        stdout.write(prefix + text + "\n")
        stdout.flush()
        if offered or not prefix:
            buttons = offered  # printed last, so the numbers refer to them

    async def show_notification(target: str, reply: Reply) -> None:
        # Only this terminal user's notifications are claimed, so `target` is always ours.
        show([reply], prefix="🔔 ")

    # A new session: a flow left unfinished in an earlier one is mentioned first.
    opened = await engine.handle(chat_id, Opened())
    if opened:
        show(opened)
    # Notifications of agents' decisions (helpdesk requests approve …) arrive between turns.
    deliverer = OutboxDeliverer(engine.helpdesk, chat_id, show_notification, exact=True)
    while not fatal:
        await deliverer.deliver_due()
        line = await lines.next()
        if line is None:
            break
        if not interactive:
            stdout.write(f"> {line}\n")
        if line.strip() == QUIT:
            break
        show(await engine.handle(chat_id, to_event(line, buttons)))
    if fatal:
        print(f"error: {fatal[0]}", file=sys.stderr)
        return 1
    return 0


class _LineReader:
    """Lines typed or piped, one per turn, then None at the end of input.

    A daemon thread reads, not the loop's executor: Ctrl-C at the prompt must end the chat at
    once, and asyncio.run would otherwise wait for a read that never returns. It reads a line
    only when the chat asks for one, so the prompt never appears before the bot's answer. At a
    terminal the line is read with `input()`, so arrow keys edit it and ↑ recalls earlier ones.
    """

    def __init__(self, stdin: TextIO, interactive: bool) -> None:
        self._stdin = stdin
        self._interactive = interactive
        self._loop = asyncio.get_running_loop()
        self._wanted = threading.Semaphore(0)
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, name="chat-stdin", daemon=True).start()

    async def next(self) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        self._wanted.release()
        return await self._lines.get()

    def _read(self) -> None:
        if self._interactive:
            import readline  # noqa: F401  (line editing and history for input())
        while True:
            self._wanted.acquire()
            line = self._read_one()
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    def _read_one(self) -> str | None:
        if self._interactive:
            try:
                return input("> ")
            except EOFError:
                return None
        raw = self._stdin.readline()
        return raw.rstrip("\n") if raw else None


def run_console(settings: Settings, user: str, customer_id: str | None) -> int:
    """Entry point of `helpdesk chat`."""
    database = settings.database()
    # Beside a SQLite file; a server database has no place of its own on this machine.
    log_path = Path("helpdesk-chat.log" if database.is_postgres else database.target + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=log_path,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    chat_id = f"console:{user}"

    async def main() -> int:
        app = await _prepare(settings, chat_id, customer_id)
        if app is None:
            return 1
        try:
            return await chat_loop(app.engine, chat_id, sys.stdin, sys.stdout)
        finally:
            await app.close()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 0
