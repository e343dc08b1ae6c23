"""Fixtures for the Telegram end-to-end tests: the real `helpdesk run` against a stand-in Bot API.

A `Harness` is one stand-in Bot API server (testkit/botapi.py), one SQLite file prepared
with `helpdesk import`, and the bot as a subprocess (`python -m bot.cli run --base-url … --db …`,
the token in TELEGRAM_BOT_TOKEN) that can be stopped with SIGTERM and started again on the same
file. Every run's stderr goes to its own log file; when the harness is
torn down the bot must have exited with code 0 and no log may contain the token, a link code or
a full account number.

Customers are built relative to today's KST date (issued yesterday), so every service the tests
use is inside its 7 days whatever day the suite runs on.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.calendar import system_clock, today_kst
from testkit.botapi import FakeBotAPI
from testkit.process import helpdesk_env, run_argv, wait_until_polling
from testkit.records import Record, import_file, service
from testkit.records import customer as customer_record

T = TypeVar("T")

TOKEN = "987654:E2E-secret-Tok3n_do-not-log"
BOT_USERNAME = "helpdesk_e2e_bot"
OUTBOX_INTERVAL = 0.2
_OUR_ERRORS = re.compile(r" (?:ERROR|CRITICAL) (?:bot|core|faq)\b")
WAIT = 15.0  # generous: a loaded 2-core CI machine; the happy path never waits this long


def customer(cid: str, name: str, prefix: str, issued: date) -> Record:
    """A customer with an eligible MyCash service (<prefix>1) and bank one (<prefix>2)."""
    return customer_record(
        cid,
        name,
        [
            service(f"{prefix}1", issued),
            service(
                f"{prefix}2",
                issued,
                service_fee=33000,
                sms_charge=28000,
                payment_method="bank_transfer",
            ),
        ],
    )


def import_records() -> list[Record]:
    """Every customer the tests use; one per test that files something, so none interfere."""
    issued = today_kst(system_clock) - timedelta(days=1)
    customers = [
        customer("hong01", "홍길동", "SMS-100", issued),
        *(customer(f"hong{n:02d}", "홍길동", f"SMS-{n}00", issued) for n in range(3, 11)),
        customer("kim06", "김철수", "SMS-610", issued),
    ]
    many = [service(f"SMS-15{i:03d}", issued) for i in range(80)]
    customers.append(customer_record("many15", "이다수", many))
    return customers


def bot_env() -> dict[str, str]:
    """The environment of every `helpdesk` subprocess: no token, fast outbox, repo importable."""
    return helpdesk_env(outbox_interval_seconds=str(OUTBOX_INTERVAL))


class Harness:
    """A stand-in Bot API, a prepared database and the bot process(es) serving it."""

    def __init__(self, api: FakeBotAPI, workdir: Path) -> None:
        self.api = api
        self.workdir = workdir
        self.db = workdir / "helpdesk.db"
        self.env = bot_env()
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.log_files: list[Path] = []
        # Strings no log may ever contain: the token, link codes and full account numbers.
        self.secrets: list[str] = [api.token, api.token.split(":", 1)[1]]

    # the `helpdesk` command ---------------------------------------------------------------------

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `helpdesk ARGS --db <this database>`."""
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args, "--db", str(self.db)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=self.env,
            timeout=60,
        )
        if check:
            assert done.returncode == 0, f"helpdesk {' '.join(args)} failed: {done.stderr}"
        return done

    def cli_json(self, *args: str) -> Any:
        """Run a `helpdesk … --json` command and parse its output."""
        return json.loads(self.cli(*args, "--json").stdout)

    def import_customers(self) -> None:
        """Load the test customers with `helpdesk import`."""
        path = self.workdir / "customers.json"
        path.write_bytes(import_file(import_records()))
        self.cli("import", str(path))

    def link(self, customer_id: str) -> dict[str, Any]:
        """Issue a link code with `helpdesk link --json` (the code is then a secret)."""
        issued: dict[str, Any] = self.cli_json("link", customer_id)
        self.secrets.append(issued["code"])
        return issued

    def requests(self) -> list[dict[str, Any]]:
        """`helpdesk requests list --json`."""
        found: list[dict[str, Any]] = self.cli_json("requests", "list")
        return found

    def inquiries(self) -> list[dict[str, Any]]:
        """`helpdesk inquiries list --json`."""
        found: list[dict[str, Any]] = self.cli_json("inquiries", "list")
        return found

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox rows, read straight from the file (there is no CLI for them)."""
        with sqlite3.connect(self.db, timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY id")]

    # the bot process ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a bot process was started and has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def start_bot(self) -> None:
        """Start `helpdesk run` and return once it is long-polling the stand-in server."""
        assert not self.running, "the bot is already running"
        self.runs += 1
        log_path = self.workdir / f"bot-run{self.runs}.log"
        self.log_files.append(log_path)
        polls_before = len(self.api.calls("getUpdates"))
        env = self.env | {
            "TELEGRAM_BOT_TOKEN": self.api.token,
            # Deprecation warnings (hidden by default outside __main__) reach the bot's log.
            "PYTHONWARNINGS": "default::DeprecationWarning",
        }
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                run_argv(self.api, "--db", str(self.db)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=self.workdir,
                env=env,
            )
        try:
            wait_until_polling(self.api, self.proc, polls_before, WAIT)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from exc

    def terminate(self) -> None:
        """Send SIGTERM without waiting (the caller waits with wait_exit)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self) -> int:
        """Wait for the bot process to exit; return its exit code."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=WAIT * 2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the bot did not stop on SIGTERM\n{self.log_tail()}") from None

    def stop_bot(self) -> None:
        """SIGTERM the bot and require a clean exit (code 0, no error of ours in its log)."""
        self.terminate()
        code = self.wait_exit()
        assert code == 0, f"the bot exited with {code}\n{self.log_tail()}"
        # PTB itself logs some injected faults (a 502 page is not JSON) at ERROR; ours must not.
        assert not _OUR_ERRORS.search(self.logs()), self.log_tail()

    def logs(self) -> str:
        """Everything the bot runs of this harness wrote to stderr."""
        return "\n".join(p.read_text("utf-8", "replace") for p in self.log_files if p.exists())

    def log_tail(self, lines: int = 40) -> str:
        """The end of the logs, for assertion messages."""
        return "bot log:\n" + "\n".join(self.logs().splitlines()[-lines:])

    def assert_logs_clean(self) -> None:
        """No log line contains the token, a link code or a full account number."""
        text = self.logs()
        assert text, "no log captured"
        leaked = [s for s in self.secrets if s and s in text]
        assert not leaked, f"secrets in the bot log: {leaked}"

    # waiting ------------------------------------------------------------------------------------

    def wait(self, predicate: Callable[[], T], what: str, timeout: float = WAIT) -> T:
        """Block until predicate() is truthy; fail fast (with the log) if the bot died."""

        def check() -> T:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"the bot exited ({self.proc.returncode}) while waiting for {what}\n"
                    + self.log_tail()
                )
            return predicate()

        try:
            return self.api.wait_for_sync(check, timeout)
        except TimeoutError as exc:
            raise AssertionError(f"timed out waiting for {what}: {exc}\n{self.log_tail()}") from exc

    def close(self) -> None:
        """Stop the bot if it still runs (cleanly) and check the logs."""
        if self.running:
            self.stop_bot()
        if self.log_files:
            self.assert_logs_clean()


class Chat:
    """One Telegram user in a private chat with the bot, driven through the stand-in server."""

    def __init__(self, harness: Harness, chat_id: int) -> None:
        self.h = harness
        self.api = harness.api
        self.chat_id = chat_id
        self.queries: list[str] = []
        self.pressed: list[tuple[int, str]] = []

    def messages(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat, edits applied."""
        return self.api.messages(self.chat_id)

    def texts(self) -> list[str]:
        """The text of every bot message in this chat."""
        return [m["text"] or "" for m in self.messages()]

    def wait_new(self, since: int, expect: tuple[str, ...]) -> list[dict[str, Any]]:
        """Wait until the messages after index `since` contain every fragment of `expect`."""

        def arrived() -> list[dict[str, Any]]:
            new = self.messages()[since:]
            joined = "\n".join(m["text"] or "" for m in new)
            if new and all(fragment in joined for fragment in expect):
                return new
            return []

        return self.h.wait(arrived, f"chat {self.chat_id} to receive {expect!r}")

    def say(self, text: str, *expect: str) -> list[dict[str, Any]]:
        """Send a text message; return the bot's new messages once they hold `expect`."""
        since = len(self.messages())
        self.api.push_text(self.chat_id, text)
        return self.wait_new(since, expect)

    def command(self, name: str, args: str = "", *expect: str) -> list[dict[str, Any]]:
        """Send /name [args] as the Telegram client does (with a bot_command entity)."""
        since = len(self.messages())
        self.api.push_command(self.chat_id, name, args)
        return self.wait_new(since, expect)

    def button(self, label: str) -> tuple[int, str]:
        """(message id, callback data) of the newest bot message offering `label`."""
        for message in reversed(self.messages()):
            for text, data in self.api.buttons(self.chat_id, message["message_id"]):
                if text == label and data:
                    return message["message_id"], data
        offered = self.api.buttons(self.chat_id)
        raise AssertionError(f"no button {label!r} in chat {self.chat_id}; last: {offered}")

    def press(self, label: str, *expect: str) -> list[dict[str, Any]]:
        """Press the newest button labelled `label`; return the replies once they hold `expect`."""
        message_id, data = self.button(label)
        return self.press_data(message_id, data, *expect, label=label)

    def press_data(
        self, message_id: int, data: str, *expect: str, label: str = ""
    ) -> list[dict[str, Any]]:
        """Send a callback query with `data` from bot message `message_id` of this chat.

        The answer is new messages, or the pressed message edited into `👉 <choice>` and the
        answer (one call instead of two): what follows the choice counts as new.
        """
        before = self.messages()
        index = next(i for i, m in enumerate(before) if m["message_id"] == message_id)
        old_text = before[index]["text"] or ""
        self.queries.append(self.api.push_callback(self.chat_id, message_id, data))
        self.pressed.append((message_id, label))

        def answered() -> list[dict[str, Any]]:
            now = self.messages()
            edited = now[index]["text"] or ""
            new = now[len(before) :]
            if edited != old_text and edited.startswith(old_text):
                answer = edited[len(old_text) :].split("\n\n", 2)[-1]
                new = [dict(now[index], text=answer), *new]
            joined = "\n".join(m["text"] or "" for m in new)
            if new and all(fragment in joined for fragment in expect):
                return new
            return []

        return self.h.wait(answered, f"chat {self.chat_id} to receive {expect!r}")

    def send_document(self, file_id: str, file_name: str, mime: str, *expect: str) -> None:
        """Send a file (a 확인증) the way a Telegram client uploads one."""
        since = len(self.messages())
        self.api.push_document(self.chat_id, file_id, file_name, mime)
        self.wait_new(since, expect)

    def link(self, customer_id: str, name: str = "홍길동") -> None:
        """Link this chat to `customer_id` through /start <code> (the deep link)."""
        code = self.h.link(customer_id)["code"]
        self.command("start", code, f"{name} 고객님 계정이 연결되었어요")

    def file_mycash_request(self, service: str) -> str:
        """Go through the MyCash refund flow with buttons; return the request number."""
        self.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
        self.press(f"{service} · 31,000원", "합계: 31,000원", "마이캐쉬")
        self.press("다음 진행", "사유를 선택해 주세요")
        self.press("서비스 불만", "남기실 말씀을 입력해 주세요")
        self.say("발송 기능이 필요 없어져서 해지합니다", "신청할까요")
        done = self.press("취소/환불 신청", "신청 번호: R-")
        text = "\n".join(m["text"] for m in done)
        return text.split("신청 번호: ", 1)[1].split()[0]


def _new_api() -> FakeBotAPI:
    return FakeBotAPI(TOKEN, BOT_USERNAME).start()


def _close(harness: Harness) -> None:
    try:
        harness.close()
    finally:
        harness.api.stop()
    assert harness.api.server_errors == []


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A fresh stand-in server and database (customers imported); the bot is not started."""
    h = Harness(_new_api(), tmp_path)
    try:
        h.import_customers()
        yield h
    finally:
        _close(h)


@pytest.fixture
def running(harness: Harness) -> Harness:
    """`harness` with the bot started."""
    harness.start_bot()
    return harness


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One running bot for the tests that cannot disturb each other (own chats, own customers).

    Restarting the process costs a second or so; tests that stop or restart the bot, or that
    need an empty database, use `harness` instead.
    """
    h = Harness(_new_api(), tmp_path_factory.mktemp("shared"))
    try:
        h.import_customers()
        h.start_bot()
        yield h
    finally:
        _close(h)
