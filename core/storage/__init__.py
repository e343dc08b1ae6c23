"""Storage: the only package that speaks SQL.

`Database.open(url)` opens the embedded SQLite file or a PostgreSQL database (see
`core.storage.database`); a unit of work is `async with db.transaction() as tx` and `tx` holds one
repository per area (`tx.requests`, `tx.links`, `tx.outbox`, …), the same on both.
"""

import sqlite3

from core.storage.conversations import ConversationRecord
from core.storage.database import Database, DatabaseUrl, redact_url, sqlite_url
from core.storage.postgres import DRIVER_ERRORS as PG_DRIVER_ERRORS
from core.storage.schema_sqlite import MIGRATIONS
from core.storage.tx import Tx

DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, *PG_DRIVER_ERRORS)
"""What the database drivers raise for a failed statement or a broken connection."""

__all__ = [
    "DRIVER_ERRORS",
    "MIGRATIONS",
    "ConversationRecord",
    "Database",
    "DatabaseUrl",
    "Tx",
    "redact_url",
    "sqlite_url",
]
