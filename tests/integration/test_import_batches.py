"""A provider-size import is written in short transactions, and costs a read where nothing changed.

The batch size is made tiny here so that a few customers span several batches.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.calendar import fixed_clock
from core.errors import ImportRejected
from core.importing import check_import
from core.storage import Database
from core.usecases import Helpdesk, customers

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def provider_file(count: int, *, first_owner_of: dict[str, str] | None = None) -> bytes:
    """`count` customers with two services each; `first_owner_of` gives a service to a customer."""
    records: list[dict[str, Any]] = []
    for n in range(count):
        services = [
            {
                "id": f"SMS-{n:04d}-{k}",
                "issued_on": "2026-11-20",
                "service_fee": 11000,
                "sms_charge": 20000,
                "sms_sent": 0,
                "payment_method": "mycash",
            }
            for k in range(2)
        ]
        records.append({"id": f"cust{n:04d}", "name": f"고객{n}", "services": services})
    for service_id, customer_id in (first_owner_of or {}).items():
        owner = next(r for r in records if r["id"] == customer_id)
        owner["services"].append({**records[0]["services"][0], "id": service_id})
    return json.dumps({"customers": records}).encode()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers, "IMPORT_BATCH", 3)


def stored(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_another_writer_gets_the_database_between_batches(
    db: Database, db_path: Path, small_batches: None
) -> None:
    # What the bot needs while an operator imports: its turns' writes go through between two
    # batches instead of waiting for the whole file (a zero busy timeout fails if locked).
    desk = Helpdesk(db, fixed_clock(NOW))
    wrote_between: list[int] = []

    def progress(done: int, total: int | None) -> None:
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE customers SET updated_at = updated_at WHERE id = 'cust0000'")
            other.execute("COMMIT")
        finally:
            other.close()
        wrote_between.append(done)

    with check_import(provider_file(8), today=NOW.date()) as checked:
        summary = await desk.customers.import_checked(checked, progress=progress)
    assert wrote_between == [3, 6, 8]
    assert len(summary.customers["added"]) == 8
    assert len(summary.services["added"]) == 16
    assert stored(db_path, "SELECT count(*) FROM services") == [(16,)]


async def test_an_unchanged_reimport_writes_nothing(
    db: Database, db_path: Path, small_batches: None
) -> None:
    raw = provider_file(7)
    await Helpdesk(db, fixed_clock(NOW)).customers.import_file(raw)
    before = stored(db_path, "SELECT id, updated_at FROM services ORDER BY id")
    summary = await Helpdesk(db, fixed_clock(LATER)).customers.import_file(raw)
    assert len(summary.customers["unchanged"]) == 7
    assert len(summary.services["unchanged"]) == 14
    assert summary.customers["updated"] == summary.services["updated"] == []
    assert stored(db_path, "SELECT id, updated_at FROM services ORDER BY id") == before


async def test_a_changed_record_in_a_later_batch_is_the_only_one_written(
    db: Database, db_path: Path, small_batches: None
) -> None:
    raw = provider_file(7)
    await Helpdesk(db, fixed_clock(NOW)).customers.import_file(raw)
    changed = json.loads(raw)
    changed["customers"][5]["name"] = "고객5(주)"
    changed["customers"][6]["services"][1]["sms_sent"] = 3
    summary = await Helpdesk(db, fixed_clock(LATER)).customers.import_file(
        json.dumps(changed).encode()
    )
    assert summary.customers["updated"] == ["cust0005"]
    assert summary.services["updated"] == ["SMS-0006-1"]
    rows = stored(db_path, f"SELECT id FROM services WHERE updated_at > '{NOW.isoformat()}'")
    assert rows == [("SMS-0006-1",)]
    assert stored(db_path, "SELECT name FROM customers WHERE id = 'cust0005'") == [("고객5(주)",)]


async def test_a_service_of_another_customer_in_the_last_batch_refuses_the_file_whole(
    db: Database, db_path: Path, small_batches: None
) -> None:
    desk = Helpdesk(db, fixed_clock(NOW))
    await desk.customers.import_file(provider_file(1))
    # Seven customers, new but for the last, which claims cust0000's first service: the
    # first two batches would be written before the third found it, were it not looked up first.
    claimed = provider_file(8, first_owner_of={"SMS-0000-0": "cust0007"})
    files = json.loads(claimed)
    files["customers"] = files["customers"][1:]
    with pytest.raises(ImportRejected) as refused:
        await desk.customers.import_file(json.dumps(files).encode())
    assert refused.value.problems == [
        "customer 'cust0007': service 'SMS-0000-0' belongs to customer 'cust0000'; "
        "moving a service between customers is not done by import"
    ]
    assert stored(db_path, "SELECT id FROM customers") == [("cust0000",)]


async def test_the_planner_has_statistics_after_an_import(
    db: Database, db_path: Path, small_batches: None
) -> None:
    await Helpdesk(db, fixed_clock(NOW)).customers.import_file(provider_file(4))
    tables = {row[0] for row in stored(db_path, "SELECT tbl FROM sqlite_stat1")}
    assert {"customers", "services"} <= tables
