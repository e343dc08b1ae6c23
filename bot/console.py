"""`helpdesk chat`: the dialogue engine in a terminal, interactive or piped.

Buttons print as numbered lines `[1] 라벨`; typing the number or the exact label presses it. Piped
input is read one line per turn (each line is echoed after `> ` so a transcript reads like a
chat); `/quit` or end of input ends the chat. Errors never reach the screen as tracebacks: they
are written to the log file beside the database and the customer gets an apology.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import TextIO

from bot.app import App, open_app
from bot.demo import DEMO_CUSTOMER, load_demo
from bot.dialogue import Button, Engine, Event, Press, Reply, TextInput
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


def to_event(line: str, buttons: list[Button]) -> Event:
    """A typed number or exact button label presses that button; anything else is text."""
    text = line.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(buttons):
        return Press(buttons[int(text) - 1].payload)
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
            f"(데이터베이스 {settings.db} 에 데모 데이터를 넣었어요.)",
            file=sys.stderr,
        )
    if customer_id is not None:
        try:
            code = await helpdesk.linking.issue_code(customer_id)
        except NotFound:
            print(f"error: no customer {customer_id!r} in {settings.db}", file=sys.stderr)
            await app.close()
            return None
        customer = await helpdesk.linking.redeem(chat_id, code.code)
        print(f"({customer.name} 고객님({customer.id}) 계정으로 연결했어요.)", file=sys.stderr)
    return app


async def chat_loop(engine: Engine, chat_id: str, stdin: TextIO, stdout: TextIO) -> None:
    """Run the conversation until /quit or end of input."""
    interactive = stdin.isatty()
    buttons: list[Button] = []
    if interactive:
        stdout.write("카카오알림톡/SMS 취소·환불 도우미예요. /help 도움말, /quit 종료\n\n")
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read_lines() -> None:
        # A daemon thread, not the loop's executor: Ctrl-C at the prompt must end the chat
        # at once, and asyncio.run would otherwise wait for a readline that never returns.
        for raw in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, raw)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read_lines, name="chat-stdin", daemon=True).start()

    async def show_notification(target: str, reply: Reply) -> None:
        # Only this terminal user's notifications are claimed, so `target` is always ours.
        nonlocal buttons
        text, offered = render([reply])
        stdout.write(f"🔔 {text}\n")
        stdout.flush()
        if offered:
            buttons = offered  # printed last, so the numbers refer to them

    # Notifications of agents' decisions (helpdesk requests approve …) arrive between turns.
    deliverer = OutboxDeliverer(engine.helpdesk, chat_id, show_notification, exact=True)
    while True:
        await deliverer.deliver_due()
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await lines.get()
        if line is None:
            break
        line = line.rstrip("\n")
        if not interactive:
            stdout.write(f"> {line}\n")
        if line.strip() == QUIT:
            break
        if not line.strip():
            continue
        replies = await engine.handle(chat_id, to_event(line, buttons))
        text, buttons = render(replies)
        stdout.write(text + "\n")
        stdout.flush()


def run_console(settings: Settings, user: str, customer_id: str | None) -> int:
    """Entry point of `helpdesk chat`."""
    log_path = settings.db.with_name(settings.db.name + ".log")
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
            await chat_loop(app.engine, chat_id, sys.stdin, sys.stdout)
        finally:
            await app.close()
        return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 0
