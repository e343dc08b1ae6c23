"""PostgreSQL: the database several workers on several machines share (asyncpg, pooled).

The repositories are the SQLite ones: `PgSql` numbers their `?` placeholders ($1, $2 …) and
reads the row count from the command tag. What several processes need on top of SQLite's one
writer at a time:

- `transaction(key=chat_id)` takes a transaction-scoped advisory lock on the key first, so the
  turns of one chat run one after another across every worker (a versioned conversation row
  would catch an overlap anyway; the lock keeps it from costing a rolled-back turn);
- rows a transaction reads in order to change them are locked (`Dialect.lock_rows`), and the
  outbox is claimed with `FOR UPDATE SKIP LOCKED`, so a notification goes to one worker;
- migrations run under an advisory lock, so workers started together migrate once;
- `exclusive(name)` is a session advisory lock held on a connection of its own.

There is no key file beside a server database: the encryption key must come from
HELPDESK_SECRET_KEY, and opening without it is refused.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from core.crypto import FieldCipher
from core.errors import AlreadyRunning, DatabaseMissing, SecretKeyRequired, StorageError
from core.storage.database import Database, DatabaseUrl
from core.storage.schema_postgres import BOOTSTRAP, MIGRATIONS, VERSION_TABLE
from core.storage.sql import POSTGRESQL, Params, Row
from core.storage.tx import Tx

log = logging.getLogger(__name__)

POOL_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10.0

DRIVER_ERRORS: tuple[type[Exception], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError)
"""What asyncpg raises for a failed statement or a broken connection."""
_CONNECT_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What connecting can raise: refused, unreachable, timed out, wrong password, no database."""


class DatabaseUnreachable(StorageError):
    """The PostgreSQL server cannot be reached or refuses the connection."""


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """The query with `?` placeholders numbered as PostgreSQL wants them ($1, $2 …).

    A `?` inside a quoted string or identifier is left alone.
    """
    out: list[str] = []
    quote: str | None = None
    count = 0
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(ch)
    return "".join(out)


def rows_changed(status: str) -> int:
    """The row count of a command tag such as 'UPDATE 3' or 'INSERT 0 1' (0 when none)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def lock_id(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name (the same in every process)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def no_floats(params: Params) -> Params:
    """The parameters, refused when one is a float.

    Nothing stored is a float (money is integer won), and asyncpg would silently truncate
    1.5 to 1 for an integer column where SQLite's type checks refuse it.
    """
    for value in params:
        if isinstance(value, float):
            raise TypeError(f"a float ({value!r}) cannot be stored: amounts are integers")
    return params


class PgSql:
    """`Sql` over one asyncpg connection (rows are asyncpg Records, read by column name)."""

    dialect = POSTGRESQL

    def __init__(self, conn: asyncpg.Connection | PoolConnectionProxy) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        return cast(Row | None, await self._conn.fetchrow(numbered(sql), *no_floats(params)))

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        return cast(list[Row], list(await self._conn.fetch(numbered(sql), *no_floats(params))))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        return rows_changed(await self._conn.execute(numbered(sql), *no_floats(params)))

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row (bulk copies)."""
        await self._conn.executemany(numbered(sql), [no_floats(row) for row in rows])


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database with a migrated schema."""

    dialect = POSTGRESQL

    def __init__(self, pool: asyncpg.Pool, url: DatabaseUrl, cipher: FieldCipher) -> None:
        super().__init__()
        self._pool = pool
        self._closed = False
        self.url = url
        self.cipher = cipher
        self.schema_version = self.migrated_from = 0

    @classmethod
    async def connect(
        cls,
        url: DatabaseUrl,
        secret_key: bytes | None,
        *,
        create: bool = True,
        pool_size: int = POOL_SIZE,
    ) -> PostgresDatabase:
        """Connect a pool and migrate the schema (`create=False`: only one that exists)."""
        if secret_key is None:
            raise SecretKeyRequired(
                f"{url.display} needs HELPDESK_SECRET_KEY, the key that encrypts account "
                "numbers (a server database has no key file beside it)"
            )
        cipher = FieldCipher(secret_key)
        try:
            pool = await asyncpg.create_pool(
                url.target,
                min_size=1,
                max_size=max(1, pool_size),
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except _CONNECT_ERRORS as exc:
            raise DatabaseUnreachable(f"cannot connect to {url.display}: {_reason(exc)}") from None
        db = cls(pool, url, cipher)
        try:
            await db._migrate(create)
        except BaseException:
            await pool.close()
            raise
        return db

    async def _migrate(self, create: bool) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # Workers started together: one migrates, the others then find it done.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id("helpdesk:migrate"))
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", VERSION_TABLE)
            if not exists and not create:
                raise DatabaseMissing(
                    f"no helpdesk schema in {self.url.display} (create it with "
                    "`helpdesk db migrate`, or pass the right --database-url)"
                )
            await conn.execute(BOOTSTRAP)
            version = int(
                await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}")
            )
            if version > len(MIGRATIONS):
                raise StorageError(
                    f"database schema version {version} is newer than this program "
                    f"({len(MIGRATIONS)}); upgrade the program"
                )
            self.migrated_from = version
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await conn.execute(script)
                await conn.execute(
                    f"INSERT INTO {VERSION_TABLE} (version, applied_at) VALUES ($1, $2)",
                    number,
                    datetime.now(UTC).isoformat(),
                )
            self.schema_version = max(version, len(MIGRATIONS))

    async def close(self) -> None:
        """Close every pooled connection (waiting for those in use to be released)."""
        if not self._closed:
            self._closed = True
            await self._pool.close()

    @asynccontextmanager
    async def transaction(self, key: str | None = None) -> AsyncIterator[Tx]:
        """Run a block as one write transaction; with a `key`, one at a time per key.

        The key's lock is an advisory lock held until the transaction ends, in whichever
        process it runs, so a chat's turns on two workers are applied one after the other.
        """
        with self._outermost():
            async with self._pool.acquire() as conn, conn.transaction():
                if key is not None:
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id(f"key:{key}"))
                yield Tx(PgSql(conn), self.cipher)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Run read-only queries against one consistent snapshot."""
        with self._outermost():
            async with (
                self._pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                yield Tx(PgSql(conn), self.cipher)

    async def ping(self) -> None:
        """Raise unless a trivial query succeeds now (the health check)."""
        async with self._pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Hold a session advisory lock named `name` on a connection of its own.

        PostgreSQL releases it when that connection ends, however the process ends.
        """
        try:
            conn = await asyncpg.connect(self.url.target, timeout=CONNECT_TIMEOUT_SECONDS)
        except _CONNECT_ERRORS as exc:
            raise DatabaseUnreachable(
                f"cannot connect to {self.url.display}: {_reason(exc)}"
            ) from None
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id(f"only:{name}")):
                raise AlreadyRunning(
                    f"another process holds the {name!r} lock on {self.url.display}"
                )
            yield
        finally:
            await conn.close()

    async def reset_sequences(self, tx: Tx) -> None:
        """Let every identity column continue after the highest id now in its table."""
        tables = await tx.sql.all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for row in tables:
            table, column = row["table_name"], row["column_name"]
            await tx.sql.one(
                f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max({column}), 1),"
                f" max({column}) IS NOT NULL) FROM {table}",
                (table, column),
            )


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__
