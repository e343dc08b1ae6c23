"""Faults: a killed process, a locked database, a full disk, a read-only database, a server that
cuts connections or cannot be reached. The faults both backends share run on both."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import assemble
from bot.dialogue import Engine, Press, Reply, TextInput
from core.calendar import fixed_clock
from core.storage import Database, DatabaseUrl
from core.storage.requests import Requests
from core.usecases import Helpdesk
from tests.conftest import OpenDb
from tests.support.databases import TEST_KEY, RawDatabase

pytestmark = pytest.mark.both_backends

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

    async def main(url, key, n):
        db = await Database.open(url, key.encode() or None)
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

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def test_sigkill_during_submissions_leaves_whole_requests_or_nothing(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, secret_key: bytes | None
):
    for delay in (0.05, 0.2, 0.4):
        # A database of its own for each kill (the fixture gives one per test).
        if backend == "postgresql":
            server = request.getfixturevalue("postgres_server")
            url = server.create()
            request.addfinalizer(lambda url=url, server=server: server.drop(url))
        else:
            url = str(tmp_path / f"kill{delay}.db")
        key = (secret_key or b"").decode()
        process = subprocess.Popen(
            [sys.executable, "-c", FILER, url, key, "2000"],
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
        raw = RawDatabase(url)
        numbers = [n for (n,) in raw.rows("SELECT number FROM refund_requests")]
        trails: dict[str, list[str]] = {}
        for number, action in raw.rows("SELECT request_number, action FROM request_events"):
            trails.setdefault(number, []).append(action)
        counters = raw.rows("SELECT last FROM request_counters")
        assert 0 < len(numbers) < 2000, "the kill should land mid-run"
        # Every request has exactly its 'submitted' event and no event lacks its request.
        assert trails == {n: ["submitted"] for n in numbers}
        # Numbers have no gaps: the counter moved only with the requests it numbered.
        sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
        assert sequence == list(range(1, len(numbers) + 1))
        assert sum(last for (last,) in counters) == len(numbers)


async def make_engine(db: Database) -> Engine:
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


@pytest.mark.sqlite_only
async def test_a_database_locked_by_another_writer_is_waited_out(open_db: OpenDb, db_path: Path):
    path = db_path
    engine = await make_engine(await open_db(busy_timeout_ms=200))
    started = threading.Event()
    locker = threading.Thread(target=hold_write_lock, args=(path, 0.5, started))
    locker.start()
    started.wait()
    replies = await engine.handle("t:1", TextInput("/refund"))
    locker.join()
    assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)


@pytest.mark.sqlite_only
async def test_a_lock_held_too_long_gets_an_apology_and_the_next_turn_works(
    open_db: OpenDb, db_path: Path
):
    path = db_path
    engine = await make_engine(await open_db(busy_timeout_ms=50))
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


async def test_a_full_disk_apologises_files_nothing_and_keeps_the_data(db: Database, monkeypatch):
    """The disk fills up half-way through filing: after the request row, before its trail."""
    engine = await make_engine(db)
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


@pytest.mark.sqlite_only
async def test_a_read_only_database_apologises_to_the_customer(db: Database):
    engine = await make_engine(db)
    async with engine.helpdesk.db.transaction() as tx:
        await tx.sql.execute("PRAGMA query_only = ON")  # the connection refuses writes
    replies = await engine.handle("t:1", TextInput("/refund"))
    assert "처리 중 문제가 생겼어요" in text_of(replies)


@pytest.mark.sqlite_only
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


async def test_a_chats_turn_waits_for_that_chats_turn_in_another_process(open_db: OpenDb):
    """Two workers got messages of one chat at once: the second turn starts after the first."""
    engine = await make_engine(await open_db())
    other_worker = await open_db()
    order: list[str] = []
    inside = asyncio.Event()

    async def other_turn() -> None:
        async with other_worker.transaction(key="t:1") as tx:
            await tx.values.set("other", "1")  # a write: SQLite's lock is taken here
            inside.set()
            await asyncio.sleep(0.3)
            order.append("other worker's turn")

    holder = asyncio.create_task(other_turn())
    await inside.wait()
    replies = await engine.handle("t:1", TextInput("/refund"))
    order.append("this worker's turn")
    await holder
    assert order == ["other worker's turn", "this worker's turn"]
    assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)


@pytest.mark.postgres_only
async def test_one_chats_turn_does_not_hold_up_another_chats(open_db: OpenDb):
    engine = await make_engine(await open_db())
    other_worker = await open_db()
    release = asyncio.Event()
    inside = asyncio.Event()

    async def long_turn() -> None:
        async with other_worker.transaction(key="t:1") as tx:
            await tx.values.set("other", "1")
            inside.set()
            await release.wait()

    holder = asyncio.create_task(long_turn())
    await inside.wait()
    # Chat t:2 is served while t:1's turn is still open in the other worker.
    replies = await asyncio.wait_for(engine.handle("t:2", TextInput("/help")), 30)
    assert "처리 중 문제가 생겼어요" not in text_of(replies)
    release.set()
    await holder


@pytest.mark.postgres_only
async def test_connections_cut_by_the_server_cost_at_most_an_apology(
    db: Database, raw_db: RawDatabase
):
    """A database restart or failover drops every connection; the pool connects again."""
    engine = await make_engine(db)
    name = DatabaseUrl.parse(raw_db.url.target).target.rsplit("/", 1)[1]
    raw_db.rows(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = ? AND pid <> pg_backend_pid()",
        (name,),
    )
    first = await engine.handle("t:1", TextInput("/refund"))
    if "처리 중 문제가 생겼어요" in text_of(first):
        assert "접수된 신청은 없어요" in text_of(first)
    replies = await engine.handle("t:1", TextInput("/refund"))
    assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)


def test_the_operator_gets_one_clear_line_when_the_server_cannot_be_reached(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    url = f"postgresql://helpdesk:s3cret-pw@127.0.0.1:{port}/helpdesk"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--database-url", url, "requests", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT), "HELPDESK_SECRET_KEY": TEST_KEY.decode()},
        timeout=60,
    )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"error: cannot connect to postgresql://helpdesk:***@127.0.0.1:{port}/helpdesk:"
    ), line
    assert "s3cret-pw" not in result.stderr + result.stdout
