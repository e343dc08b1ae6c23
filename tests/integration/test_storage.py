"""The SQLite file itself: schema versioning, integrity checks and the append-only audit trail."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.calendar import fixed_clock
from core.models import Reason, RefundAccount
from core.storage import MIGRATIONS, Database
from core.usecases import Filing, Helpdesk, hash_link_code

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST, day 3 of the demo services


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as an operator with the sqlite3 shell would have."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


def count(path: Path, table: str) -> int:
    """How many rows `table` holds."""
    with raw(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def stored_bytes(path: Path) -> bytes:
    """Everything SQLite has written for the database: the file and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def filed_request(db: Database, demo_bytes: bytes) -> str:
    """Import the demo customers and file one MyCash request; return its number."""
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    await helpdesk.customers.import_file(demo_bytes)
    request, _ = await helpdesk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1001",
            reason=Reason.CLOSURE,
            message="폐업합니다",
            account=None,
            channel="test",
            chat_id="chat-1",
            submission_key=None,
        )
    )
    return request.number


# --- schema version and migrations ------------------------------------------------------------


async def test_a_new_database_records_its_schema_version(db: Database, db_path: Path) -> None:
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 1


async def test_reopening_keeps_the_data_and_does_not_migrate_again(
    db_path: Path, demo_bytes: bytes
) -> None:
    first = await Database.open(db_path)
    try:
        number = await filed_request(first, demo_bytes)
    finally:
        await first.close()

    reopened = await Database.open(db_path)  # re-running CREATE TABLE would fail here
    try:
        request, events = await Helpdesk(reopened, fixed_clock(NOW)).requests.show(number)
    finally:
        await reopened.close()
    assert request.service_id == "SMS-1001"
    assert [e.action for e in events] == ["submitted"]
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        await Database.open(path)


async def test_the_database_file_is_created_in_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "helpdesk.db"
    database = await Database.open(path)
    await database.close()
    assert path.exists()


# --- money columns ----------------------------------------------------------------------------


async def test_a_fractional_service_fee_cannot_be_stored(db: Database, db_path: Path) -> None:
    with raw(db_path) as conn:
        conn.execute("INSERT INTO customers VALUES ('c1', '홍길동', 'now', 'now')")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO services (id, customer_id, issued_on, service_fee, sms_charge,"
                " sms_sent, payment_method, created_at, updated_at)"
                " VALUES ('S1', 'c1', '2026-11-20', 1.5, 0, 0, 'mycash', 'now', 'now')"
            )
    assert count(db_path, "services") == 0


@pytest.mark.parametrize("column", ["service_fee", "sms_charge", "total"])
async def test_a_fractional_amount_cannot_be_stored_on_a_request(
    db: Database, db_path: Path, demo_bytes: bytes, column: str
) -> None:
    await filed_request(db, demo_bytes)
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(f"UPDATE refund_requests SET {column} = {column} + 0.5")


async def test_a_request_total_that_is_not_fee_plus_charge_cannot_be_stored(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE refund_requests SET total = total + 1000")


# --- the audit trail --------------------------------------------------------------------------


async def test_audit_events_cannot_be_edited(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with raw(db_path) as conn, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE request_events SET actor = 'someone else'")
    with raw(db_path) as conn:
        assert conn.execute("SELECT actor FROM request_events").fetchall() == [
            ("customer:test:chat-1",)
        ]


async def test_audit_events_cannot_be_deleted(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with raw(db_path) as conn, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM request_events")
    assert count(db_path, "request_events") == 1


async def test_a_second_open_request_for_a_service_is_refused_by_the_database_itself(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO refund_requests (number, service_id, customer_id, reason, message,"
            " service_fee, sms_charge, total, payment_method, status, channel, created_at,"
            " updated_at) SELECT 'R-X', service_id, customer_id, reason, message, service_fee,"
            " sms_charge, total, payment_method, 'submitted', channel, created_at, updated_at"
            " FROM refund_requests"
        )


async def test_a_bank_transfer_request_without_an_account_cannot_be_stored(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    await helpdesk.customers.import_file(demo_bytes)
    await helpdesk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1002",
            reason=Reason.CLOSURE,
            message="폐업",
            account=RefundAccount(bank="국민은행", number="123456-01-234567", holder="홍길동"),
            channel="test",
            chat_id=None,
            submission_key=None,
        )
    )
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE refund_requests SET account_number = NULL")


# --- transactions, counters, link codes, conversations ----------------------------------------


async def test_a_failed_transaction_stores_nothing_of_what_it_did(
    db: Database, db_path: Path
) -> None:
    with pytest.raises(LookupError):
        async with db.transaction() as tx:
            await tx.values.set("bot_username", "helpdesk_bot")
            raise LookupError("something went wrong half way")
    assert count(db_path, "kv") == 0


async def test_request_numbers_count_up_per_day_and_restart_the_next_day(db: Database) -> None:
    async with db.transaction() as tx:
        numbers = [
            await tx.next_number("R", date(2026, 11, 24)),
            await tx.next_number("R", date(2026, 11, 24)),
            await tx.next_number("R", date(2026, 11, 25)),
        ]
    assert numbers == ["R-20261124-0001", "R-20261124-0002", "R-20261125-0001"]


async def test_a_link_code_is_stored_only_as_a_hash(
    db: Database, db_path: Path, demo_bytes: bytes
) -> None:
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    await helpdesk.customers.import_file(demo_bytes)
    issued = await helpdesk.linking.issue_code("hong01")
    with raw(db_path) as conn:
        rows = conn.execute("SELECT * FROM link_codes").fetchall()
    assert len(rows) == 1
    assert issued.code not in repr(rows)
    assert hash_link_code(issued.code) in rows[0]
    assert issued.code.encode() not in stored_bytes(db_path)


async def test_a_conversation_saved_from_a_stale_version_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.conversations.save("chat-1", "reason", {"service": "SMS-1001"}, 0, NOW)
        assert not await tx.conversations.save("chat-1", "idle", {}, 0, NOW)
        assert await tx.conversations.save("chat-1", "message", {"reason": "폐업"}, 1, NOW)
        assert not await tx.conversations.save("chat-1", "idle", {}, 1, NOW)
        loaded = await tx.conversations.load("chat-1")
    assert (loaded.state, loaded.data, loaded.version) == ("message", {"reason": "폐업"}, 2)
