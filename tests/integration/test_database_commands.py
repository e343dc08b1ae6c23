"""Choosing the database and moving a deployment: `--database-url`, `helpdesk db migrate` and
`helpdesk db copy --to URL`, run as an operator runs them (subprocesses), on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import assemble
from bot.dialogue import Press, Reply, TextInput
from core.calendar import fixed_clock
from core.models import Reason, RefundAccount
from core.storage import MIGRATIONS, Database
from core.storage.copy import TABLES
from core.usecases import Filing, InquiryFiling
from tests.support.databases import TEST_KEY, RawDatabase

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST, day 3 of the demo services


def helpdesk(*args: str, key: bytes | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `helpdesk ARGS` with no helpdesk settings but the key given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    if key is not None:
        env["HELPDESK_SECRET_KEY"] = key.decode()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


# --- choosing the database ----------------------------------------------------------------------


def test_db_migrate_creates_the_schema_then_finds_it_up_to_date(
    database_url: str, secret_key: bytes | None, raw_db: RawDatabase, tmp_path: Path
) -> None:
    first = helpdesk("db", "migrate", "--database-url", database_url, key=secret_key, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"schema version {len(MIGRATIONS)} (migrated from 0)" in first.stdout
    assert raw_db.count("customers") == 0
    again = helpdesk("db", "migrate", "--database-url", database_url, key=secret_key, cwd=tmp_path)
    assert f"schema version {len(MIGRATIONS)}, up to date" in again.stdout


def test_commands_read_the_database_url_from_the_environment(
    database_url: str, secret_key: bytes | None, tmp_path: Path, demo_bytes: bytes
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "customers.json").write_bytes(demo_bytes)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= {"PYTHONPATH": str(ROOT), "HELPDESK_DATABASE_URL": database_url}
    if secret_key is not None:
        env["HELPDESK_SECRET_KEY"] = secret_key.decode()
    for args in (["import", "customers.json"], ["requests", "list", "--json"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            capture_output=True,
            text=True,
            cwd=workdir,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert RawDatabase(database_url).count("customers") == 2
    assert not (workdir / "helpdesk.db").exists()  # not the default file in the working dir


def test_db_and_database_url_together_are_refused(tmp_path: Path) -> None:
    result = helpdesk(
        "requests", "list", "--db", "a.db", "--database-url", "sqlite:///b.db", cwd=tmp_path
    )
    assert one_line_error(result) == "error: give --db PATH or --database-url URL, not both"


def test_an_unknown_kind_of_database_url_is_refused(tmp_path: Path) -> None:
    result = helpdesk("db", "init", "--database-url", "mysql://u:pw@host/db", cwd=tmp_path)
    line = one_line_error(result)
    assert "unsupported database URL 'mysql://u:***@host/db'" in line
    assert "pw" not in result.stderr.replace("postgresql://user:password", "")


@pytest.mark.postgres_only
def test_postgresql_without_the_secret_key_is_refused_in_one_line(
    database_url: str, tmp_path: Path
) -> None:
    line = one_line_error(helpdesk("db", "migrate", "--database-url", database_url, cwd=tmp_path))
    assert "needs HELPDESK_SECRET_KEY" in line
    assert ":***@" in line  # the password is not shown


@pytest.mark.postgres_only
def test_a_read_command_on_a_database_never_migrated_says_how_to_create_the_schema(
    database_url: str, secret_key: bytes, raw_db: RawDatabase, tmp_path: Path
) -> None:
    result = helpdesk(
        "requests", "list", "--database-url", database_url, key=secret_key, cwd=tmp_path
    )
    assert "helpdesk db migrate" in one_line_error(result)
    assert raw_db.rows("SELECT to_regclass('customers') IS NULL") == [(True,)]


# --- moving a deployment: db copy ---------------------------------------------------------------


def press(replies: list[Reply], label: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return Press(button.payload)
    raise AssertionError(label)


async def lived_in(path: Path, demo_bytes: bytes) -> dict[str, Any]:
    """A SQLite deployment with a row in every table; what a copy must carry over."""
    db = await Database.open(path)
    try:
        app = assemble(db, channel="telegram", clock=fixed_clock(NOW))
        desk = app.helpdesk
        await desk.customers.import_file(demo_bytes)
        code = await desk.linking.issue_code("hong01")
        await app.engine.handle("tg:1", TextInput(f"/start {code.code}"))
        await app.engine.handle("tg:2", TextInput("/link AAAAAAAAAAAAAAAAAAAAAA"))  # a failure
        await app.engine.handle("tg:1", TextInput("SMS 충전 금액도 환불되나요?"))
        bank, _ = await desk.requests.file(
            Filing(
                customer_id="hong01",
                service_id="SMS-1002",
                reason=Reason.CLOSURE,
                message="폐업합니다",
                account=RefundAccount(bank="국민은행", number="123456-01-234567", holder="홍길동"),
                channel="telegram",
                chat_id="tg:1",
                submission_key="k-bank",
            )
        )
        await desk.requests.approve(bank.number, "kim")  # an outbox row
        inquiry, _ = await desk.inquiries.file(
            InquiryFiling(
                customer_id="hong01",
                service_id="SMS-1003",
                topic="sms_used",
                context="SMS 3건 발송",
                message="부분 환불 부탁드려요",
                transcript=("고객: 환불",),
                attachments=(),
                channel="telegram",
                chat_id="tg:1",
                submission_key="k-inq",
            )
        )
        await desk.inquiries.answer(inquiry.number, "kim", "검토 중이에요")
        await desk.staff.enable("tg:-1001")  # the open inquiry gets a staff topic row
        # A flow in progress: the conversation row holds encrypted data.
        replies = await app.engine.handle("tg:1", TextInput("/refund"))
        await app.engine.handle("tg:1", press(replies, "SMS-1001 · 31,000원"))
        await desk.values.set("bot_username", "helpdesk_bot")
        return {"bank": bank.number, "inquiry": inquiry.number}
    finally:
        await db.close()


async def test_db_copy_moves_every_row_and_the_copy_works_on(
    database_url: str, raw_db: RawDatabase, tmp_path: Path, demo_bytes: bytes
) -> None:
    source = tmp_path / "old" / "helpdesk.db"
    source.parent.mkdir()
    numbers = await lived_in(source, demo_bytes)
    key = (source.parent / "helpdesk.db.key").read_bytes().strip()
    counts = {table: RawDatabase(str(source)).count(table) for table, _ in TABLES}
    assert all(counts.values()), counts  # every table has something to copy

    result = helpdesk(
        "db", "copy", "--db", str(source), "--to", database_url, key=key, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "verified: every table on the target holds as many rows as the source" in result.stdout
    assert {table: raw_db.count(table) for table, _ in TABLES} == counts
    assert raw_db.rows("SELECT account_number FROM refund_requests") == RawDatabase(
        str(source)
    ).rows("SELECT account_number FROM refund_requests")  # encrypted as it was

    # The copy is a working deployment: the account decrypts, the trail is whole, and new
    # rows continue after the copied ids and numbers.
    shown = helpdesk(
        "requests", "show", numbers["bank"], "--json", "--database-url", database_url,
        key=key, cwd=tmp_path,
    )  # fmt: skip
    request = json.loads(shown.stdout)
    assert request["account_number"] == "123456-01-234567"
    assert [e["action"] for e in request["events"]] == ["submitted", "approved"]
    db = await Database.open(database_url, key)
    try:
        desk = assemble(db, channel="telegram", clock=fixed_clock(NOW)).helpdesk
        await desk.requests.reject(numbers["bank"], "lee", "서류 미비")
        filed, _ = await desk.requests.file(
            Filing(
                customer_id="kim02",
                service_id="SMS-2001",
                reason=Reason.CLOSURE,
                message="폐업",
                account=None,
                channel="telegram",
                chat_id=None,
                submission_key=None,
            )
        )
        assert filed.number == "R-20261122-0002"
    finally:
        await db.close()
    # The rejection queued new notices (customer and staff chat) after the copied ones.
    outbox_ids = [row[0] for row in raw_db.rows("SELECT id FROM outbox ORDER BY id")]
    assert len(outbox_ids) > counts["outbox"]
    assert outbox_ids == list(range(1, len(outbox_ids) + 1))
    assert raw_db.rows("SELECT max(id) FROM request_events") == [(counts["request_events"] + 2,)]


async def test_db_copy_refuses_a_target_that_is_not_empty(
    database_url: str, raw_db: RawDatabase, tmp_path: Path, demo_bytes: bytes
) -> None:
    source = tmp_path / "old.db"
    await lived_in(source, demo_bytes)
    key = (tmp_path / "old.db.key").read_bytes().strip()
    first = helpdesk("db", "copy", "--db", str(source), "--to", database_url, key=key, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = raw_db.count("faq_events")
    again = helpdesk("db", "copy", "--db", str(source), "--to", database_url, key=key, cwd=tmp_path)
    line = one_line_error(again)
    assert "is not empty: customers (2 rows)" in line
    assert raw_db.count("faq_events") == before


async def test_db_copy_refuses_a_key_that_cannot_read_the_source(
    database_url: str, raw_db: RawDatabase, tmp_path: Path, demo_bytes: bytes
) -> None:
    source = tmp_path / "old.db"
    await lived_in(source, demo_bytes)
    other_key = TEST_KEY if b"ZmRZ" not in (tmp_path / "old.db.key").read_bytes() else None
    assert other_key is not None
    result = helpdesk(
        "db", "copy", "--db", str(source), "--to", database_url, key=other_key, cwd=tmp_path
    )
    assert "cannot decrypt the source's" in one_line_error(result)
    assert raw_db.count("customers") == 0


async def test_db_copy_knows_every_table_of_the_schema(tmp_path: Path) -> None:
    await (await Database.open(tmp_path / "schema.db")).close()
    tables = RawDatabase(str(tmp_path / "schema.db")).rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    assert {table for table, _ in TABLES} == {name for (name,) in tables}
