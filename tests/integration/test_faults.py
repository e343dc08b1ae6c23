"""Faults: a killed process, a locked database, a full disk, a read-only database."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.app import assemble
from bot.dialogue import Engine, Press, Reply, TextInput
from core.calendar import fixed_clock
from core.storage import Database
from core.storage.requests import Requests
from core.usecases import Helpdesk

ROOT = Path(__file__).parents[2]
CUSTOMERS = ROOT / "tests" / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)

FILER = textwrap.dedent(
    """
    import asyncio, json, sys
    from core.calendar import system_clock, today_kst
    from core.models import Reason
    from core.usecases import Filing, Helpdesk
    from core.storage import Database

    async def main(path, n):
        db = await Database.open(path)
        helpdesk = Helpdesk(db, system_clock)
        today = today_kst(system_clock).isoformat()
        customers = [
            {"id": f"k{i}", "name": "고객", "services": [{"id": f"K-{i}", "issued_on": today,
             "service_fee": 11000, "sms_charge": 0, "sms_sent": 0, "payment_method": "mycash"}]}
            for i in range(n)
        ]
        await helpdesk.customers.import_file(json.dumps({"customers": customers}).encode())
        print("ready", flush=True)
        for i in range(n):
            await helpdesk.requests.file(Filing(
                customer_id=f"k{i}", service_id=f"K-{i}", reason=Reason.CLOSURE,
                message="폐업", account=None, channel="test", chat_id=None,
                submission_key=None,
            ))
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def test_sigkill_during_submissions_leaves_whole_requests_or_nothing(tmp_path: Path):
    for delay in (0.05, 0.2, 0.4):
        path = tmp_path / f"kill{delay}.db"
        process = subprocess.Popen(
            [sys.executable, "-c", FILER, str(path), "2000"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with sqlite3.connect(path) as raw:
            numbers = [n for (n,) in raw.execute("SELECT number FROM refund_requests")]
            trails = dict(
                raw.execute(
                    "SELECT request_number, group_concat(action) FROM request_events"
                    " GROUP BY request_number"
                ).fetchall()
            )
            counters = raw.execute("SELECT last FROM request_counters").fetchall()
        assert 0 < len(numbers) < 2000, "the kill should land mid-run"
        # Every request has exactly its 'submitted' event and no event lacks its request.
        assert trails == {n: "submitted" for n in numbers}
        # Numbers have no gaps: the counter moved only with the requests it numbered.
        sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
        assert sequence == list(range(1, len(numbers) + 1))
        assert sum(last for (last,) in counters) == len(numbers)


async def make_engine(path: Path, busy_timeout_ms: int = 10_000) -> Engine:
    db = await Database.open(path, busy_timeout_ms=busy_timeout_ms)
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    if not await helpdesk.requests.list() and await helpdesk.values.get("seeded") is None:
        await helpdesk.customers.import_file(CUSTOMERS.read_bytes())
        await helpdesk.values.set("seeded", "1")
        code = await helpdesk.linking.issue_code("hong01")
        await helpdesk.linking.redeem("t:1", code.code)
    return assemble(db, channel="test", clock=fixed_clock(NOW)).engine


def hold_write_lock(path: Path, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
    finally:
        conn.close()


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_a_database_locked_by_another_writer_is_waited_out(tmp_path: Path):
    path = tmp_path / "locked.db"
    engine = await make_engine(path, busy_timeout_ms=200)
    try:
        started = threading.Event()
        locker = threading.Thread(target=hold_write_lock, args=(path, 0.5, started))
        locker.start()
        started.wait()
        replies = await engine.handle("t:1", TextInput("/refund"))
        locker.join()
        assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)
    finally:
        await engine.helpdesk.db.close()


async def test_a_lock_held_too_long_gets_an_apology_and_the_next_turn_works(tmp_path: Path):
    path = tmp_path / "locked.db"
    engine = await make_engine(path, busy_timeout_ms=50)
    try:
        started = threading.Event()
        locker = threading.Thread(target=hold_write_lock, args=(path, 1.5, started))
        locker.start()
        started.wait()
        replies = await engine.handle("t:1", TextInput("/refund"))
        assert "처리 중 문제가 생겼어요" in text_of(replies)
        assert "접수된 신청은 없어요" in text_of(replies)
        await asyncio.to_thread(locker.join)
        replies = await engine.handle("t:1", TextInput("/refund"))
        assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)
    finally:
        await engine.helpdesk.db.close()


def press(replies: list[Reply], label: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return Press(button.payload)
    raise AssertionError(label)


async def walk_to_confirm(engine: Engine) -> list[Reply]:
    replies = await engine.handle("t:1", TextInput("/refund"))
    replies = await engine.handle("t:1", press(replies, "SMS-1001 · 31,000원"))
    replies = await engine.handle("t:1", press(replies, "다음 진행"))
    replies = await engine.handle("t:1", press(replies, "업무 종료"))
    return await engine.handle("t:1", TextInput("업무를 마쳤어요"))


async def test_a_full_disk_apologises_files_nothing_and_keeps_the_data(tmp_path: Path, monkeypatch):
    """The disk fills up half-way through filing: after the request row, before its trail."""
    path = tmp_path / "full.db"
    engine = await make_engine(path)
    try:
        summary = await walk_to_confirm(engine)

        async def disk_full(self: Requests, event: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(Requests, "append_event", disk_full)
        confirm = press(summary, "취소/환불 신청")
        replies = await engine.handle("t:1", confirm)
        assert "처리 중 문제가 생겼어요" in text_of(replies)
        assert "접수된 신청은 없어요" in text_of(replies)
        assert await engine.helpdesk.requests.list() == []  # the row went with the rollback
        monkeypatch.undo()
        # Space comes back: the same confirm now files, with the first number, exactly once.
        replies = await engine.handle("t:1", confirm)
        assert "신청 번호: R-20261128-0001" in text_of(replies)
        assert len(await engine.helpdesk.requests.list()) == 1
    finally:
        await engine.helpdesk.db.close()


async def test_a_read_only_database_apologises_to_the_customer(tmp_path: Path):
    path = tmp_path / "ro.db"
    engine = await make_engine(path)
    try:
        async with engine.helpdesk.db.transaction() as tx:
            await tx.sql.execute("PRAGMA query_only = ON")  # the connection refuses writes
        replies = await engine.handle("t:1", TextInput("/refund"))
        assert "처리 중 문제가 생겼어요" in text_of(replies)
    finally:
        await engine.helpdesk.db.close()


def test_the_operator_gets_one_clear_line_for_a_broken_database_file(tmp_path: Path):
    path = tmp_path / "broken.db"
    path.write_text("this is not a database")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", str(path), "requests", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: database {path}: file is not a database"
