"""What customers asked and how the FAQ answered, for the misses report and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.storage.sql import Sql, iso


class FaqEvents:
    """FAQ answers, clarifications, fallbacks and 👍/👎."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def log(
        self,
        *,
        at: datetime,
        chat_id: str | None,
        kind: str,
        intent: str | None,
        text: str,
        normalized: str,
        helpful: bool | None = None,
    ) -> None:
        """Record an FAQ answer, clarify, fallback or a 👍/👎."""
        await self._sql.execute(
            "INSERT INTO faq_events (at, chat_id, kind, intent, text, normalized, helpful)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                iso(at),
                chat_id,
                kind,
                intent,
                text,
                normalized,
                None if helpful is None else int(helpful),
            ),
        )

    async def between(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """FAQ events in [since, until), oldest first."""
        rows = await self._sql.all(
            "SELECT * FROM faq_events WHERE at >= ? AND at < ? ORDER BY id",
            (iso(since), iso(until)),
        )
        return [dict(r) for r in rows]
