"""What every database offers the use cases, and which one a URL names.

Two implementations share the repositories (`Tx`): the embedded SQLite file (`core.storage.sqlite`,
one process or a few on one machine) and PostgreSQL (`core.storage.postgres`, several workers on
several machines). `Database.open` takes a URL — `sqlite:///helpdesk.db`, `sqlite:////var/lib/
helpdesk.db`, `postgresql://user:pass@host:5432/helpdesk` — or a plain file path, which is SQLite.
"""

from __future__ import annotations

import contextvars
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from core.crypto import FieldCipher
from core.errors import NestedTransaction, StorageError
from core.storage.sql import Dialect
from core.storage.tx import Tx

BUSY_TIMEOUT_MS = 10_000
SQLITE_PREFIX = "sqlite://"
POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL: SQLite with its file path, or PostgreSQL with its DSN."""

    kind: str  # "sqlite" | "postgresql"
    target: str  # the SQLite path (":memory:" too) or the PostgreSQL DSN

    @classmethod
    def parse(cls, value: str | Path | DatabaseUrl) -> DatabaseUrl:
        """Read a URL, or a plain path (SQLite); an unknown scheme is refused."""
        if isinstance(value, DatabaseUrl):
            return value
        text = str(value)
        if text.startswith(SQLITE_PREFIX):
            # SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute/path.db
            path = text[len(SQLITE_PREFIX) :]
            if not path.startswith("/") or len(path) == 1:
                raise StorageError(f"a SQLite URL is sqlite:///PATH, not {text!r}")
            return cls("sqlite", path[1:])
        scheme = urlsplit(text).scheme if "://" in text else ""
        if scheme in POSTGRES_SCHEMES:
            return cls("postgresql", text)
        if scheme:
            raise StorageError(
                f"unsupported database URL {redact_url(text)!r}: "
                "use sqlite:///PATH or postgresql://user:password@host:port/database"
            )
        return cls("sqlite", text)

    @property
    def is_postgres(self) -> bool:
        """Whether this is a PostgreSQL server database."""
        return self.kind == "postgresql"

    @property
    def display(self) -> str:
        """The URL for messages and logs: a password is never shown."""
        return redact_url(self.target) if self.is_postgres else self.target


def sqlite_url(path: str | Path) -> str:
    """The URL of a SQLite file."""
    return f"{SQLITE_PREFIX}/{path}"


def redact_url(url: str) -> str:
    """A URL with its password (and any password= parameter) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        if ":" in credentials:
            credentials = credentials.split(":", 1)[0] + ":***"
        netloc = f"{credentials}@{host}"
    query = "&".join(
        "password=***" if item.lower().startswith("password=") else item
        for item in parts.query.split("&")
        if item
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Database(ABC):
    """A migrated database: units of work, read snapshots, and what operators need."""

    dialect: ClassVar[Dialect]
    cipher: FieldCipher
    url: DatabaseUrl
    schema_version: int
    """The schema version after opening (the number of migrations)."""
    migrated_from: int
    """The schema version found when opening (0 for a new database)."""

    def __init__(self) -> None:
        # Which task is inside a transaction: a use case that opens its own transaction inside
        # a turn's unit of work would otherwise wait for itself (or for a second connection).
        self._holder: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"db-{id(self)}", default=False
        )

    @classmethod
    async def open(
        cls,
        target: str | Path | DatabaseUrl,
        secret_key: bytes | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        *,
        create: bool = True,
        pool_size: int | None = None,
    ) -> Database:
        """Open and migrate the database a URL or path names (see the module docstring).

        `create=False` refuses a database that does not exist yet (a SQLite file) or was never
        migrated (a PostgreSQL database), instead of creating it. `pool_size` bounds the
        connections to a PostgreSQL server (SQLite keeps its one connection).
        """
        url = DatabaseUrl.parse(target)
        if url.is_postgres:
            from core.storage.postgres import POOL_SIZE, PostgresDatabase

            return await PostgresDatabase.connect(
                url, secret_key, create=create, pool_size=pool_size or POOL_SIZE
            )
        from core.storage.sqlite import SqliteDatabase

        return await SqliteDatabase.connect(url.target, secret_key, busy_timeout_ms, create=create)

    @abstractmethod
    def transaction(self, key: str | None = None) -> AbstractAsyncContextManager[Tx]:
        """Run a block as one write transaction: all of it is stored, or none of it.

        With a `key` (a chat id), transactions of the same key run one at a time across every
        process on the database; SQLite serialises all writers anyway and ignores it.
        """

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Tx]:
        """Run read-only queries against one consistent snapshot."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise unless a trivial query succeeds now (the health check)."""

    @abstractmethod
    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold a lock named `name` for as long as the block runs, against every other process
        on this database; `AlreadyRunning` at once when another process holds it."""

    @abstractmethod
    async def reset_sequences(self, tx: Tx) -> None:
        """After rows were copied in with their ids: new rows continue after the highest."""

    @contextmanager
    def _outermost(self) -> Iterator[None]:
        """Mark this task as inside a transaction; refuse one opened inside another."""
        if self._holder.get():
            raise NestedTransaction(
                "a transaction was opened inside another one on the same database; "
                "pass the open unit of work down instead"
            )
        token = self._holder.set(True)
        try:
            yield
        finally:
            self._holder.reset(token)
