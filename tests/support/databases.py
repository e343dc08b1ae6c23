"""Test databases on both backends: a PostgreSQL server to create databases on, and plain SQL
straight to a database (as an operator's `sqlite3` or `psql` shell would), bypassing the code
under test.

The PostgreSQL server is the one HELPDESK_TEST_POSTGRES_URL names (`.ci/run` starts one; so does
`source .ci/postgres.sh && start_postgres`). Each test gets a database of its own, created empty
and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.storage import DatabaseUrl

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"
TEST_KEY = b"ZmRZd2Q0bmR0NmQ1c3F6b2JsaW5rY2ZrZ2Y2aGxhcmQ="
"""HELPDESK_SECRET_KEY of the PostgreSQL test databases (a server database has no key file)."""

_names = itertools.count(1)


def _run(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class PostgresServer:
    """The test PostgreSQL server: creates and drops one database per test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def check(self) -> None:
        """Raise unless the server answers."""

        async def ping() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=5)
            await conn.close()

        _run(ping())

    def create(self) -> str:
        """A new empty database; its URL."""
        name = f"helpdesk_test_{os.getpid()}_{next(_names)}"
        self._admin(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        """Drop a database created here (closing whatever a test left connected)."""
        name = urlsplit(url).path.lstrip("/")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                await conn.execute(statement)
            finally:
                await conn.close()

        _run(run())


class Refused(Exception):
    """The database refused a statement (a constraint, a trigger); the message is the driver's."""


class RawDatabase:
    """Plain SQL to a test database with `?` placeholders, outside the code under test."""

    def __init__(self, url: str) -> None:
        self.url = DatabaseUrl.parse(url)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query, as tuples."""
        return self._run(sql, params, fetch=True)

    def count(self, table: str) -> int:
        """How many rows a table holds."""
        return int(self.rows(f"SELECT count(*) FROM {table}")[0][0])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement; `Refused` when the database refuses it."""
        self._run(sql, params, fetch=False)

    def _run(self, sql: str, params: Sequence[Any], *, fetch: bool) -> list[tuple[Any, ...]]:
        if not self.url.is_postgres:
            conn = sqlite3.connect(self.url.target, timeout=10, isolation_level=None)
            try:
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise Refused(str(exc)) from exc
            finally:
                conn.close()
            return [tuple(r) for r in rows]

        async def run() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(self.url.target, timeout=10)
            try:
                numbered = _numbered(sql)
                if fetch:
                    return [tuple(r) for r in await conn.fetch(numbered, *params)]
                await conn.execute(numbered, *params)
                return []
            except asyncpg.PostgresError as exc:
                raise Refused(str(exc)) from exc
            finally:
                await conn.close()

        result: list[tuple[Any, ...]] = _run(run())
        return result


def _numbered(sql: str) -> str:
    count = itertools.count(1)
    return "".join(f"${next(count)}" if ch == "?" else ch for ch in sql)
