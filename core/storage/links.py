"""Link codes, chat links and wrong-code attempts."""

from __future__ import annotations

from datetime import datetime

from core.storage.sql import Sql, instant, iso


class Links:
    """Which chat belongs to which customer, and the one-time codes that link them."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert_code(
        self, code_hash: str, customer_id: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a link code by its hash (the code itself is never stored)."""
        await self._sql.execute(
            "INSERT INTO link_codes (code_hash, customer_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (code_hash, customer_id, iso(now), iso(expires_at)),
        )

    async def consume_code(self, code_hash: str, chat_id: str, now: datetime) -> str | None:
        """Mark an unused, unexpired code used and return its customer id, else None."""
        row = await self._sql.one(
            "SELECT customer_id, expires_at, used_at FROM link_codes WHERE code_hash = ?",
            (code_hash,),
        )
        if row is None or row["used_at"] is not None:
            return None
        if instant(row["expires_at"]) <= now:
            return None
        changed = await self._sql.execute(
            "UPDATE link_codes SET used_at = ?, used_by = ?"
            " WHERE code_hash = ? AND used_at IS NULL",
            (iso(now), chat_id, code_hash),
        )
        return row["customer_id"] if changed == 1 else None

    async def record_failure(self, chat_id: str, now: datetime) -> None:
        """Remember a wrong link code from this chat."""
        await self._sql.execute(
            "INSERT INTO link_failures (chat_id, at) VALUES (?, ?)", (chat_id, iso(now))
        )

    async def failures_between(
        self, chat_id: str, since: datetime, until: datetime
    ) -> list[datetime]:
        """This chat's wrong link codes in (since, until], oldest first."""
        rows = await self._sql.all(
            "SELECT at FROM link_failures WHERE chat_id = ? AND at > ? AND at <= ? ORDER BY at",
            (chat_id, iso(since), iso(until)),
        )
        return [instant(r["at"]) for r in rows]

    async def link(self, chat_id: str, customer_id: str, now: datetime) -> None:
        """Link a chat to a customer, replacing any earlier link of that chat."""
        await self._sql.execute(
            "INSERT INTO chat_links (chat_id, customer_id, linked_at) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET customer_id = excluded.customer_id,"
            " linked_at = excluded.linked_at",
            (chat_id, customer_id, iso(now)),
        )

    async def unlink(self, chat_id: str) -> bool:
        """Remove a chat's link; return whether there was one."""
        return await self._sql.execute("DELETE FROM chat_links WHERE chat_id = ?", (chat_id,)) > 0

    async def customer_of(self, chat_id: str) -> str | None:
        """Return the customer id the chat is linked to, or None."""
        row = await self._sql.one(
            "SELECT customer_id FROM chat_links WHERE chat_id = ?", (chat_id,)
        )
        return row["customer_id"] if row else None

    async def chats_of(self, customer_id: str) -> list[str]:
        """Return the chats linked to a customer, most recently linked first."""
        rows = await self._sql.all(
            "SELECT chat_id FROM chat_links WHERE customer_id = ? ORDER BY linked_at DESC",
            (customer_id,),
        )
        return [r["chat_id"] for r in rows]


class Values:
    """Small operational values (e.g. the bot's username learnt from getMe)."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, key: str) -> str | None:
        """Return a stored operational value, or None."""
        row = await self._sql.one("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        """Store an operational value."""
        await self._sql.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def set_default(self, key: str, value: str) -> str:
        """Store `value` unless the key has one already; return the stored value.

        Two processes doing this at once store one value and both get it.
        """
        await self._sql.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", (key, value)
        )
        row = await self._sql.one("SELECT value FROM kv WHERE key = ?", (key,))
        assert row is not None
        return str(row["value"])
