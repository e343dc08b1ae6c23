"""The database itself, on SQLite and on PostgreSQL: schema versioning, integrity checks and the
append-only audit trail, checked with plain SQL from outside the code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.calendar import fixed_clock
from core.models import Reason, RefundAccount
from core.storage import MIGRATIONS, Database
from core.storage.schema_postgres import MIGRATIONS as PG_MIGRATIONS
from core.usecases import Filing, Helpdesk, hash_link_code
from tests.conftest import OpenDb
from tests.support.databases import RawDatabase, Refused

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST, day 3 of the demo services


def schema_version(raw_db: RawDatabase) -> int:
    """The version the database records, read the way each backend stores it."""
    if raw_db.url.is_postgres:
        return int(raw_db.rows("SELECT max(version) FROM schema_migrations")[0][0])
    return int(raw_db.rows("PRAGMA user_version")[0][0])


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


def test_both_databases_have_the_same_number_of_migrations() -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) >= 4


async def test_a_new_database_records_its_schema_version(db: Database, raw_db: RawDatabase) -> None:
    assert schema_version(raw_db) == len(MIGRATIONS) >= 1
    assert (db.migrated_from, db.schema_version) == (0, len(MIGRATIONS))


async def test_reopening_keeps_the_data_and_does_not_migrate_again(
    open_db: OpenDb, raw_db: RawDatabase, demo_bytes: bytes
) -> None:
    first = await open_db()
    number = await filed_request(first, demo_bytes)
    await first.close()

    reopened = await open_db()  # re-running CREATE TABLE would fail here
    request, events = await Helpdesk(reopened, fixed_clock(NOW)).requests.show(number)
    assert request.service_id == "SMS-1001"
    assert [e.action for e in events] == ["submitted"]
    assert schema_version(raw_db) == reopened.migrated_from == len(MIGRATIONS)


async def test_a_command_opens_a_current_database_while_the_bot_is_writing(
    db_path: Path, demo_bytes: bytes
) -> None:
    """An agent's command opened beside a bot in the middle of a write (an import batch, a
    turn) must not wait for it: opening a database already at this version writes nothing."""
    bot = await Database.open(db_path)
    try:
        number = await filed_request(bot, demo_bytes)
        async with bot.transaction():  # the bot holds SQLite's write lock meanwhile
            agent = await Database.open(db_path, busy_timeout_ms=100)
            try:
                request, _ = await Helpdesk(agent, fixed_clock(NOW)).requests.show(number)
            finally:
                await agent.close()
        assert request.number == number
    finally:
        await bot.close()


async def test_a_database_from_a_newer_program_is_refused(
    open_db: OpenDb, raw_db: RawDatabase
) -> None:
    newer = len(MIGRATIONS) + 1
    if raw_db.url.is_postgres:
        await (await open_db()).close()
        raw_db.execute("INSERT INTO schema_migrations VALUES (?, 'later')", (newer,))
    else:
        raw_db.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(Exception, match="newer than this program"):
        await open_db()


async def test_the_database_file_is_created_in_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "helpdesk.db"
    database = await Database.open(path)
    await database.close()
    assert path.exists()


# --- money columns ----------------------------------------------------------------------------


def insert_service(raw_db: RawDatabase, fee: object) -> None:
    raw_db.execute(
        "INSERT INTO services (id, customer_id, issued_on, service_fee, sms_charge,"
        " sms_sent, payment_method, created_at, updated_at)"
        " VALUES ('S1', 'c1', '2026-11-20', ?, 0, 0, 'mycash', 'now', 'now')",
        (fee,),
    )


@pytest.mark.sqlite_only
async def test_a_fractional_service_fee_cannot_be_stored(db: Database, raw_db: RawDatabase) -> None:
    raw_db.execute("INSERT INTO customers VALUES ('c1', '홍길동', 'now', 'now')")
    with pytest.raises(Refused, match="CHECK"):
        insert_service(raw_db, 1.5)
    assert raw_db.count("services") == 0


@pytest.mark.postgres_only
async def test_a_fractional_amount_is_refused_before_it_reaches_postgresql(db: Database) -> None:
    # The columns are BIGINT; asyncpg would quietly store 1.5 as 1, so the program refuses it.
    async with db.transaction() as tx:
        await tx.sql.execute("INSERT INTO customers VALUES ('c1', '홍길동', 'now', 'now')")
    with pytest.raises(TypeError, match="amounts are integers"):
        async with db.transaction() as tx:
            await tx.sql.execute(
                "INSERT INTO services (id, customer_id, issued_on, service_fee, sms_charge,"
                " sms_sent, payment_method, created_at, updated_at)"
                " VALUES ('S1', 'c1', '2026-11-20', ?, 0, 0, 'mycash', 'now', 'now')",
                (1.5,),
            )


async def test_a_negative_service_fee_cannot_be_stored(db: Database, raw_db: RawDatabase) -> None:
    raw_db.execute("INSERT INTO customers VALUES ('c1', '홍길동', 'now', 'now')")
    with pytest.raises(Refused, match=r"(?i)check"):
        insert_service(raw_db, -1000)
    assert raw_db.count("services") == 0


@pytest.mark.parametrize("column", ["service_fee", "sms_charge", "total"])
async def test_a_fractional_amount_cannot_be_stored_on_a_request(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes, column: str
) -> None:
    await filed_request(db, demo_bytes)
    with pytest.raises(Refused, match=r"(?i)check"):
        raw_db.execute(f"UPDATE refund_requests SET {column} = {column} + 0.5")
    assert raw_db.rows("SELECT total FROM refund_requests") == [(31000,)]


async def test_a_request_total_that_is_not_fee_plus_charge_cannot_be_stored(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with pytest.raises(Refused, match=r"(?i)check"):
        raw_db.execute("UPDATE refund_requests SET total = total + 1000")


# --- the audit trail --------------------------------------------------------------------------


async def test_audit_events_cannot_be_edited(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with pytest.raises(Refused, match="append-only"):
        raw_db.execute("UPDATE request_events SET actor = 'someone else'")
    assert raw_db.rows("SELECT actor FROM request_events") == [("customer:test:chat-1",)]


@pytest.mark.parametrize("statement", ["DELETE FROM request_events", "DELETE FROM inquiry_events"])
async def test_audit_events_cannot_be_deleted(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes, statement: str
) -> None:
    await filed_request(db, demo_bytes)
    raw_db.execute(
        "INSERT INTO inquiries (number, customer_id, topic, context, message, transcript,"
        " attachments, status, channel, created_at, updated_at) VALUES ('Q-1', 'hong01', 't',"
        " 'c', 'm', '[]', '[]', 'open', 'test', 'now', 'now')"
    )
    raw_db.execute(
        "INSERT INTO inquiry_events (inquiry_number, at, actor, action) VALUES"
        " ('Q-1', 'now', 'agent:kim', 'answered')"
    )
    with pytest.raises(Refused, match="append-only"):
        raw_db.execute(statement)
    assert raw_db.count("request_events") == raw_db.count("inquiry_events") == 1


async def test_a_second_open_request_for_a_service_is_refused_by_the_database_itself(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes
) -> None:
    await filed_request(db, demo_bytes)
    with pytest.raises(Refused, match=r"(?i)unique"):
        raw_db.execute(
            "INSERT INTO refund_requests (number, service_id, customer_id, reason, message,"
            " service_fee, sms_charge, total, payment_method, status, channel, created_at,"
            " updated_at) SELECT 'R-X', service_id, customer_id, reason, message, service_fee,"
            " sms_charge, total, payment_method, 'submitted', channel, created_at, updated_at"
            " FROM refund_requests"
        )


async def test_a_bank_transfer_request_without_an_account_cannot_be_stored(
    db: Database, raw_db: RawDatabase, demo_bytes: bytes
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
    with pytest.raises(Refused, match=r"(?i)check"):
        raw_db.execute("UPDATE refund_requests SET account_number = NULL")


# --- transactions, counters, link codes, conversations ----------------------------------------


async def test_a_failed_transaction_stores_nothing_of_what_it_did(
    db: Database, raw_db: RawDatabase
) -> None:
    with pytest.raises(LookupError):
        async with db.transaction() as tx:
            await tx.values.set("bot_username", "helpdesk_bot")
            raise LookupError("something went wrong half way")
    assert raw_db.count("kv") == 0


async def test_request_numbers_count_up_per_day_and_restart_the_next_day(db: Database) -> None:
    async with db.transaction() as tx:
        numbers = [
            await tx.next_number("R", date(2026, 11, 24)),
            await tx.next_number("R", date(2026, 11, 24)),
            await tx.next_number("R", date(2026, 11, 25)),
        ]
    assert numbers == ["R-20261124-0001", "R-20261124-0002", "R-20261125-0001"]


async def test_a_link_code_is_stored_only_as_a_hash(
    db: Database, raw_db: RawDatabase, db_path: Path, demo_bytes: bytes
) -> None:
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    await helpdesk.customers.import_file(demo_bytes)
    issued = await helpdesk.linking.issue_code("hong01")
    rows = raw_db.rows("SELECT * FROM link_codes")
    assert len(rows) == 1
    assert issued.code not in repr(rows)
    assert hash_link_code(issued.code) in rows[0]
    if not raw_db.url.is_postgres:
        assert issued.code.encode() not in stored_bytes(db_path)


async def test_a_conversation_saved_from_a_stale_version_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.conversations.save("chat-1", "reason", {"service": "SMS-1001"}, 0, NOW)
        assert not await tx.conversations.save("chat-1", "idle", {}, 0, NOW)
        assert await tx.conversations.save("chat-1", "message", {"reason": "폐업"}, 1, NOW)
        assert not await tx.conversations.save("chat-1", "idle", {}, 1, NOW)
        loaded = await tx.conversations.load("chat-1")
    assert (loaded.state, loaded.data, loaded.version) == ("message", {"reason": "폐업"}, 2)


# --- the two schemas ----------------------------------------------------------------------------


def sqlite_schema(path: Path) -> dict[str, set[str]]:
    """Table -> columns, and 'index:<table>' -> index names, of a SQLite file."""
    raw = RawDatabase(str(path))
    schema: dict[str, set[str]] = {}
    for (table,) in raw.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        schema[table] = {row[1] for row in raw.rows(f"PRAGMA table_info({table})")}
        schema[f"index:{table}"] = {
            row[1]
            for row in raw.rows(f"PRAGMA index_list({table})")
            if not row[1].startswith("sqlite_autoindex")
        }
    return schema


def postgres_schema(raw_db: RawDatabase) -> dict[str, set[str]]:
    """The same for a PostgreSQL database (its version table left out)."""
    schema: dict[str, set[str]] = {}
    for table, column in raw_db.rows(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'"
    ):
        schema.setdefault(table, set()).add(column)
        schema.setdefault(f"index:{table}", set())
    for table, index in raw_db.rows(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename <> 'schema_migrations'"
        # Primary keys and UNIQUE columns: SQLite's automatic indexes, left out there too.
        " AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'"
    ):
        schema[f"index:{table}"].add(index)
    return schema


@pytest.mark.postgres_only
async def test_the_postgresql_schema_has_the_tables_columns_and_indexes_of_sqlite(
    db: Database, raw_db: RawDatabase, tmp_path: Path
) -> None:
    sqlite_db = await Database.open(tmp_path / "compare.db")
    await sqlite_db.close()
    assert postgres_schema(raw_db) == sqlite_schema(tmp_path / "compare.db")


@pytest.mark.postgres_only
async def test_each_postgresql_migration_is_recorded_once(
    db: Database, raw_db: RawDatabase
) -> None:
    versions = raw_db.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(n,) for n in range(1, len(PG_MIGRATIONS) + 1)]
