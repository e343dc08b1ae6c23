"""Copying a whole deployment from one database to another (`helpdesk db copy --to URL`).

The way from one SQLite file to PostgreSQL: every row of every table — customers, services,
requests with their audit trails, counters, link codes and links, conversations, the outbox,
inquiries with their trails, the staff group's case topics, FAQ events — is read from one
snapshot of the source and written in one transaction on the target, ids, numbers and
encrypted values as they are. The target must be
new (migrated, but empty) and must use the same encryption key; the copy is committed only once
every table on the target holds as many rows as on the source.
"""

from __future__ import annotations

from core.crypto import PREFIX, CipherError
from core.errors import CopyRefused
from core.storage.database import Database
from core.storage.tx import Tx

TABLES: tuple[tuple[str, str], ...] = (
    ("customers", "id"),
    ("services", "id"),
    ("refund_requests", "number"),
    ("request_events", "id"),
    ("request_counters", "day"),
    ("link_codes", "code_hash"),
    ("chat_links", "chat_id"),
    ("link_failures", "chat_id, at"),
    ("kv", "key"),
    ("conversations", "chat_id"),
    ("outbox", "id"),
    ("inquiries", "number"),
    ("inquiry_events", "id"),
    ("staff_topics", "chat_id, case_number"),
    ("faq_events", "id"),
)
"""Every table of the schema with its sort order, parents before the rows that refer to them.
A migration that adds a table adds it here (a test compares this list with the schema)."""

# Where encrypted values live: the target's key must read them.
_ENCRYPTED = (
    ("refund_requests", "account_number"),
    ("inquiries", "account_number"),
    ("conversations", "data"),
)


async def copy_database(source: Database, target: Database) -> dict[str, int]:
    """Copy every row of `source` into the empty `target`; return the rows per table.

    Refused (CopyRefused, nothing written) when the target is the source, is not empty, is
    at another schema version, or cannot decrypt the source's encrypted values with its key.
    """
    if source.url == target.url:
        raise CopyRefused(f"{target.url.display} is the database being copied")
    if source.schema_version != target.schema_version:
        raise CopyRefused(
            f"the schema versions differ (source {source.schema_version}, "
            f"target {target.schema_version})"
        )
    async with source.reading() as src, target.transaction() as dst:
        filled = [f"{table} ({n} rows)" for table, n in (await _counts(dst)).items() if n]
        if filled:
            raise CopyRefused(
                f"{target.url.display} is not empty: {', '.join(filled)}; "
                "copy into a new database only"
            )
        await _check_key(src, target)
        copied: dict[str, int] = {}
        for table, order in TABLES:
            rows = await src.sql.all(f"SELECT * FROM {table} ORDER BY {order}")
            if rows:
                columns = list(rows[0].keys())
                await dst.sql.execute_many(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' for _ in columns)})",
                    [tuple(row[c] for c in columns) for row in rows],
                )
            copied[table] = len(rows)
        await target.reset_sequences(dst)
        stored = await _counts(dst)
        wrong = [f"{t}: {stored[t]} of {n}" for t, n in copied.items() if stored[t] != n]
        if wrong:
            raise CopyRefused(f"rows missing after the copy ({'; '.join(wrong)}); nothing kept")
    return copied


async def _counts(tx: Tx) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _ in TABLES:
        row = await tx.sql.one(f"SELECT count(*) AS n FROM {table}")
        counts[table] = int(row["n"]) if row else 0
    return counts


async def _check_key(src: Tx, target: Database) -> None:
    """Refuse a target key that cannot read what the source encrypted."""
    for table, column in _ENCRYPTED:
        row = await src.sql.one(
            f"SELECT {column} AS value FROM {table} WHERE {column} LIKE ? LIMIT 1",
            (PREFIX + "%",),
        )
        if row is None:
            continue
        try:
            target.cipher.decrypt(row["value"])
        except CipherError:
            raise CopyRefused(
                "the key the target is opened with (HELPDESK_SECRET_KEY) cannot decrypt the "
                f"source's {table}.{column}: set it to the source's key (for a SQLite file, "
                "the content of its key file beside it)"
            ) from None
