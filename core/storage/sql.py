"""The small SQL surface the repositories use, so that their queries do not depend on a driver.

Queries are written once, with `?` placeholders, in the subset of SQL that SQLite and PostgreSQL
share (no `IS ?`, no driver-specific row ids: `RETURNING` instead of `lastrowid`). Timestamps
are stored as ISO-8601 text in UTC, so they sort in time order on either database (PostgreSQL
compares those columns byte-wise, as SQLite does). Where the two must differ — locking the rows
a transaction is about to change — a query appends its connection's `Dialect` clause.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite

Row = Mapping[str, Any]
Params = Sequence[Any]


@dataclass(frozen=True)
class Dialect:
    """The few clauses that differ between the databases, appended to shared queries."""

    name: str
    lock_rows: str
    """After a SELECT of rows this transaction will change: no other writer changes them first."""
    skip_locked: str
    """After a SELECT claiming rows: rows another transaction is claiming are passed over."""


# SQLite runs one writer at a time (BEGIN IMMEDIATE): what a transaction read stays so.
SQLITE = Dialect("sqlite", lock_rows="", skip_locked="")
POSTGRESQL = Dialect("postgresql", lock_rows=" FOR UPDATE", skip_locked=" FOR UPDATE SKIP LOCKED")


class Sql(Protocol):
    """Run statements inside the current transaction."""

    dialect: Dialect

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        ...

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row (bulk copies)."""
        ...


class SqliteSql:
    """`Sql` over one aiosqlite connection (rows are `sqlite3.Row`, which is a mapping)."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        async with self._conn.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row (bulk copies)."""
        await self._conn.executemany(sql, rows)


def iso(instant: datetime) -> str:
    """The stored form of an instant: UTC ISO-8601, so that text order is time order."""
    return instant.astimezone(UTC).isoformat()


def instant(stored: str) -> datetime:
    """The instant a stored timestamp stands for."""
    return datetime.fromisoformat(stored)
