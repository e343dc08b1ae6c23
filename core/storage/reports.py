"""Aggregates for the agents' reports, computed by the database for the period asked.

Each query reads one period through an index (faq_events_by_time, requests_by_time,
request_events_by_time) and returns counts, not rows, so a report costs the same whatever the
history holds; and the retention policy's deletes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.storage.sql import Sql, instant, iso


class Reports:
    """Counts of a period, and removing what the retention policy no longer keeps."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def faq_counts(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """(kind, intent, helpful) → how many FAQ events in [since, until)."""
        rows = await self._sql.all(
            "SELECT kind, intent, helpful, count(*) AS n FROM faq_events"
            " WHERE at >= ? AND at < ? GROUP BY kind, intent, helpful",
            (iso(since), iso(until)),
        )
        return [dict(r) for r in rows]

    async def questions_per_chat(self, since: datetime, until: datetime) -> list[tuple[str, int]]:
        """(chat id, questions asked) in [since, until), for the split by channel."""
        rows = await self._sql.all(
            "SELECT chat_id, count(*) AS n FROM faq_events WHERE at >= ? AND at < ?"
            " AND kind IN ('answer', 'clarify', 'fallback', 'act') GROUP BY chat_id",
            (iso(since), iso(until)),
        )
        return [(r["chat_id"] or "", int(r["n"])) for r in rows]

    async def requests_filed(self, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
        """(status, channel, how many) of the requests filed in [since, until)."""
        rows = await self._sql.all(
            "SELECT status, channel, count(*) AS n FROM refund_requests"
            " WHERE created_at >= ? AND created_at < ? GROUP BY status, channel",
            (iso(since), iso(until)),
        )
        return [(r["status"], r["channel"], int(r["n"])) for r in rows]

    async def approval_waits(self, since: datetime, until: datetime) -> list[float]:
        """Hours from filing to approval, for the approvals made in [since, until)."""
        rows = await self._sql.all(
            "SELECT e.at AS decided, r.created_at AS filed FROM request_events AS e"
            " JOIN refund_requests AS r ON r.number = e.request_number"
            " WHERE e.action = 'approved' AND e.at >= ? AND e.at < ?",
            (iso(since), iso(until)),
        )
        return [(instant(r["decided"]) - instant(r["filed"])).total_seconds() / 3600 for r in rows]

    async def prune(self, before: datetime) -> dict[str, int]:
        """Remove what the retention policy does not keep, older than `before`.

        Requests and their audit trails, inquiries and customers are always kept.
        """
        cutoff = iso(before)
        return {
            "faq_events": await self._sql.execute("DELETE FROM faq_events WHERE at < ?", (cutoff,)),
            "notifications": await self._sql.execute(
                "DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < ?)"
                " OR (failed_at IS NOT NULL AND failed_at < ?)",
                (cutoff, cutoff),
            ),
            "link_codes": await self._sql.execute(
                "DELETE FROM link_codes WHERE expires_at < ?", (cutoff,)
            ),
            "link_failures": await self._sql.execute(
                "DELETE FROM link_failures WHERE at < ?", (cutoff,)
            ),
            "conversations": await self._sql.execute(
                "DELETE FROM conversations WHERE updated_at < ?", (cutoff,)
            ),
        }
