"""Storage: the only package that speaks SQL.

`Database` opens the embedded SQLite file; a unit of work is `async with db.transaction() as tx`
and `tx` holds one repository per area (`tx.requests`, `tx.links`, `tx.outbox`, …).
"""

from core.storage.conversations import ConversationRecord
from core.storage.schema_sqlite import MIGRATIONS
from core.storage.sqlite import Database
from core.storage.tx import Tx

__all__ = ["MIGRATIONS", "ConversationRecord", "Database", "Tx"]
