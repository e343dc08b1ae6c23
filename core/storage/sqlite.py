"""The embedded SQLite database: one aiosqlite connection, serialised transactions.

SQLite serialises writers anyway, so every unit of work runs in `async with db.transaction()`,
which takes an in-process lock (aiosqlite shares one connection between coroutines, whose
statements would otherwise interleave) and then `BEGIN IMMEDIATE` (so a second process waits for
the write lock up front instead of failing half way). The schema is migrated by the code itself;
`PRAGMA user_version` is the schema version.

The file is watched: a database that was deleted or replaced while the program runs is noticed
at the next transaction, which refuses to start (nothing is written into an unlinked file).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from cryptography.fernet import Fernet

from core.crypto import FieldCipher, key_file_for, read_key, write_new_key
from core.errors import AlreadyRunning, DatabaseMissing, DatabaseReplaced, KeyFileMissing
from core.storage.database import BUSY_TIMEOUT_MS, Database, DatabaseUrl
from core.storage.schema_sqlite import MIGRATIONS
from core.storage.sql import SQLITE, SqliteSql
from core.storage.tx import Tx

log = logging.getLogger(__name__)

BEGIN_ATTEMPTS = 3
FILE_MODE = 0o600


class SqliteDatabase(Database):
    """One SQLite file with serialised transactions and a migrated schema."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: str, cipher: FieldCipher) -> None:
        super().__init__()
        self._conn = conn
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path
        self.url = DatabaseUrl("sqlite", path)
        self.cipher = cipher
        self.schema_version = self.migrated_from = 0
        self._identity = _identity(path)

    @classmethod
    async def connect(
        cls,
        path: str | Path,
        secret_key: bytes | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        *,
        create: bool = True,
    ) -> SqliteDatabase:
        """Open and migrate the database at `path`, creating it when `create` is True.

        Account numbers are encrypted with `secret_key`, or else with the key file beside the
        database. That key file is created only together with a brand-new database: an existing
        database whose key file is missing is refused (a new key could never read its data).
        """
        path = str(path)
        memory = path == ":memory:"
        is_new = memory or _is_empty(path)
        if is_new and not memory:
            if not create:
                raise DatabaseMissing(
                    f"no database at {path} (create one with `helpdesk db init` or "
                    "`helpdesk import FILE`, or pass the right --db)"
                )
            _create_private_file(Path(path))
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so that every unit of work is
        # exactly one transaction, never one implicitly opened by the driver.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")  # fails first on a non-database
            await conn.execute("PRAGMA synchronous = NORMAL")
            await _refuse_newer_schema(conn)
            if secret_key is None:
                secret_key = Fernet.generate_key() if memory else _local_key(path, is_new)
            db = cls(conn, path, FieldCipher(secret_key))
            await db._migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection (after letting SQLite refresh the statistics its planner uses).
        Closing a closed database does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            async with self._lock:
                await self._conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass  # a read-only or vanished file: closing matters more than statistics
        await self._conn.close()

    async def _migrate(self) -> None:
        # A migration may rebuild a table (SQLite cannot alter a CHECK), which foreign keys
        # would refuse; they are off while migrations run and checked before committing.
        # A database already at this version is left alone: no write lock, and no foreign key
        # check, which reads every table (about a second at a provider's 100k customers, paid
        # by every `helpdesk` command).
        async with self._lock, self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current == len(MIGRATIONS):
            self.migrated_from = self.schema_version = current
            return
        async with self._lock:
            await self._conn.execute("PRAGMA foreign_keys = OFF")
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                async with self._conn.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
                version = int(row[0]) if row else 0
                self.migrated_from = version
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in split_script(script):
                        await self._conn.execute(statement)
                    await self._conn.execute(f"PRAGMA user_version = {number}")
                if version < len(MIGRATIONS):  # another process may have migrated meanwhile
                    async with self._conn.execute("PRAGMA foreign_key_check") as cur:
                        broken = await cur.fetchall()
                    if broken:
                        raise RuntimeError(
                            f"migration left rows without their parent: {broken[:5]}"
                        )
                await self._conn.execute("COMMIT")
                self.schema_version = max(version, len(MIGRATIONS))
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            finally:
                await self._conn.execute("PRAGMA foreign_keys = ON")

    @asynccontextmanager
    async def transaction(self, key: str | None = None) -> AsyncIterator[Tx]:
        """Run a block as one write transaction: all of it is stored, or none of it.

        `key` is not needed here: BEGIN IMMEDIATE already runs one writer at a time.
        """
        async with self._hold():
            await self._begin_immediate()
            try:
                yield Tx(SqliteSql(self._conn), self.cipher)
            except BaseException:
                # SQLite may already have rolled back (e.g. disk full); a second ROLLBACK
                # would hide the real error behind "no transaction is active".
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Run read-only queries against one consistent snapshot."""
        async with self._hold():
            await self._conn.execute("BEGIN")
            try:
                yield Tx(SqliteSql(self._conn), self.cipher)
            finally:
                await self._conn.execute("ROLLBACK")

    async def ping(self) -> None:
        """Raise unless a trivial query succeeds now (the health check)."""
        async with self.reading() as tx:
            await tx.sql.one("SELECT 1")

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Hold a lock file beside the database (`helpdesk.db.NAME.lock`) while the block runs.

        The kernel releases it when the process ends, however it ends.
        """
        if self.path == ":memory:":
            yield
            return
        lock_path = f"{self.path}.{name}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyRunning(
                    f"another process holds {lock_path} (is one already running on {self.path}?)"
                ) from None
            yield
        finally:
            os.close(fd)

    async def reset_sequences(self, tx: Tx) -> None:
        """Nothing to do: AUTOINCREMENT counters follow the highest id inserted."""

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        with self._outermost():
            async with self._lock:
                self._check_file()
                yield

    def _check_file(self) -> None:
        if self._identity is not None and _identity(self.path) != self._identity:
            raise DatabaseReplaced(
                f"database {self.path} was deleted or replaced while in use; "
                "stopping so that nothing is written into a file nobody will read"
            )

    async def _begin_immediate(self) -> None:
        # SQLite's busy handler already waits busy_timeout for another writer; a writer that
        # holds the lock longer than that (a long import, a backup) gets a few more chances
        # before the caller sees "database is locked".
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                transient = "locked" in str(exc) or "busy" in str(exc)
                if not transient or attempt == BEGIN_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)


async def _refuse_newer_schema(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {version} is newer than this program "
            f"({len(MIGRATIONS)}); upgrade the program"
        )


def split_script(script: str) -> list[str]:
    """Split a migration into statements (triggers, which contain ';', stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file, or None for an in-memory database or a missing file."""
    if path == ":memory:":
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (-1, -1)
    return (info.st_dev, info.st_ino)


def _is_empty(path: str) -> bool:
    """Whether there is no database at `path` yet (no file, or an empty one)."""
    try:
        return os.stat(path).st_size == 0
    except FileNotFoundError:
        return True


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only.

    SQLite gives the -wal and -shm files the permissions of the database file, so they are
    private too; the file holds names, messages and chat ids.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return  # an empty file someone else just created; SQLite fills it
    os.close(fd)


def _local_key(path: str, is_new: bool) -> bytes:
    key_file = key_file_for(path)
    key = read_key(key_file)
    if key is not None:
        return key
    if not is_new:
        raise KeyFileMissing(
            f"the key file {key_file} of database {path} is missing; restore it from your "
            "backup or set HELPDESK_SECRET_KEY (a new key could not read the stored data)"
        )
    return write_new_key(key_file)
