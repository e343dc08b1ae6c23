"""Shared fixtures. Keep each area in its own section; add new sections rather than mixing."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.storage import Database, sqlite_url
from tests.support.databases import POSTGRES_ENV, TEST_KEY, PostgresServer, RawDatabase

# --- python-telegram-bot ----------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Opt into PTB's timedelta time periods, as `helpdesk run` does.

    PTB 22 otherwise warns each time it builds a RetryAfter; the bot handles both types.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    config.addinivalue_line(
        "markers",
        "both_backends: run each test that uses a database on SQLite and on PostgreSQL",
    )
    config.addinivalue_line("markers", "postgres_only: needs the PostgreSQL test server")
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself")


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


# --- database backends ------------------------------------------------------------------------
#
# A module marked `both_backends` runs each of its tests that uses a database (`db`, `open_db`,
# `database_url`, `raw_db`) twice: on a SQLite file and on a PostgreSQL database of its own.
# PostgreSQL comes from HELPDESK_TEST_POSTGRES_URL; without it, or when the server does not
# answer, those runs are skipped with the reason — except in CI (CI=true), where they fail.

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `backend` for the tests of `both_backends` modules."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres_only"):
        metafunc.parametrize("backend", ["postgresql"], indirect=True)
    elif metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", ["sqlite"], indirect=True)
    elif metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: "sqlite" unless the module asks for both."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The PostgreSQL test server; skipped (locally) or failed (CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV)
    problem = None if url else f"{POSTGRES_ENV} is not set"
    if url:
        server = PostgresServer(url)
        try:
            server.check()
        except Exception as exc:
            problem = f"the PostgreSQL server of {POSTGRES_ENV} does not answer: {exc}"
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {problem}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {problem} (source .ci/postgres.sh)")
    return server


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, db_path: Path) -> Iterator[str]:
    """The URL of this test's own, empty database on the backend under test."""
    if backend == "sqlite":
        yield sqlite_url(db_path)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    try:
        yield url
    finally:
        server.drop(url)


@pytest.fixture
def secret_key(backend: str) -> bytes | None:
    """The encryption key a test opens its database with (SQLite: its key file)."""
    return TEST_KEY if backend == "postgresql" else None


OpenDb = Callable[..., Awaitable[Database]]


@pytest.fixture
async def open_db(database_url: str, secret_key: bytes | None) -> AsyncIterator[OpenDb]:
    """Open (another connection to) this test's database; all are closed after the test."""
    opened: list[Database] = []

    async def open_database(**options: Any) -> Database:
        database = await Database.open(database_url, secret_key, **options)
        opened.append(database)
        return database

    yield open_database
    for database in opened:
        await database.close()


@pytest.fixture
async def db(open_db: OpenDb) -> Database:
    """An opened, migrated database of this test's own; closed after the test."""
    return await open_db()


@pytest.fixture
def raw_db(database_url: str) -> RawDatabase:
    """Plain SQL to this test's database, bypassing the code under test."""
    return RawDatabase(database_url)
