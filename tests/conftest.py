"""Shared fixtures. Keep each area in its own section; add new sections rather than mixing."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.storage import Database

# --- python-telegram-bot ----------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Opt into PTB's timedelta time periods, as `helpdesk run` does.

    PTB 22 otherwise warns each time it builds a RetryAfter; the bot handles both types.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "true")


# --- core: demo customers and a real SQLite file --------------------------------------------
#
# hong01 (홍길동) has four services issued on 2026-11-20 (a Friday), so 11-26 is its last
# eligible day. kim02 (김철수) has one. Tests pick the clock; nothing here reads the real date.


@pytest.fixture
def demo_records() -> dict[str, Any]:
    """The import file's content: two customers with eligible and ineligible services."""
    return {
        "customers": [
            {
                "id": "hong01",
                "name": "홍길동",
                "services": [
                    {
                        "id": "SMS-1001",
                        "issued_on": "2026-11-20",
                        "service_fee": 11000,
                        "sms_charge": 20000,
                        "sms_sent": 0,
                        "payment_method": "mycash",
                    },
                    {
                        "id": "SMS-1002",
                        "issued_on": "2026-11-20",
                        "service_fee": 33000,
                        "sms_charge": 0,
                        "sms_sent": 0,
                        "payment_method": "bank_transfer",
                    },
                    {
                        "id": "SMS-1003",
                        "issued_on": "2026-11-20",
                        "service_fee": 11000,
                        "sms_charge": 50000,
                        "sms_sent": 3,
                        "payment_method": "mycash",
                    },
                    {
                        "id": "SMS-1004",
                        "issued_on": "2026-11-20",
                        "service_fee": 22000,
                        "sms_charge": 10000,
                        "sms_sent": 0,
                        "payment_method": "mycash",
                    },
                ],
            },
            {
                "id": "kim02",
                "name": "김철수",
                "services": [
                    {
                        "id": "SMS-2001",
                        "issued_on": "2026-11-20",
                        "service_fee": 11000,
                        "sms_charge": 5000,
                        "sms_sent": 0,
                        "payment_method": "mycash",
                    }
                ],
            },
        ]
    }


@pytest.fixture
def demo_bytes(demo_records: dict[str, Any]) -> bytes:
    """The demo import file as the operator would hand it over (UTF-8 JSON)."""
    return json.dumps(demo_records, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file in this test's own temporary directory."""
    return tmp_path / "helpdesk.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An opened, migrated database on a real file; closed after the test."""
    database = await Database.open(db_path)
    try:
        yield database
    finally:
        await database.close()
