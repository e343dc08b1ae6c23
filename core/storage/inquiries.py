"""Customer-centre inquiries (hand-offs)."""

from __future__ import annotations

import json
from datetime import datetime

from core.models import Attachment, Inquiry
from core.storage.sql import Row, Sql, instant, iso


class Inquiries:
    """Inquiries an agent answers or closes."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, inquiry: Inquiry, submission_key: str | None) -> None:
        """Store a new inquiry."""
        await self._sql.execute(
            "INSERT INTO inquiries (number, customer_id, service_id, topic, context, message,"
            " transcript, attachments, status, answer, handled_by, channel, chat_id,"
            " submission_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                inquiry.number,
                inquiry.customer_id,
                inquiry.service_id,
                inquiry.topic,
                inquiry.context,
                inquiry.message,
                json.dumps(list(inquiry.transcript), ensure_ascii=False),
                json.dumps([a.model_dump() for a in inquiry.attachments], ensure_ascii=False),
                inquiry.status,
                inquiry.answer,
                inquiry.handled_by,
                inquiry.channel,
                inquiry.chat_id,
                submission_key,
                iso(inquiry.created_at),
                iso(inquiry.updated_at),
            ),
        )

    async def get(self, number: str) -> Inquiry | None:
        """Return the inquiry with this number, or None."""
        row = await self._sql.one("SELECT * FROM inquiries WHERE number = ?", (number,))
        return _inquiry(row) if row else None

    async def by_submission_key(self, key: str) -> Inquiry | None:
        """Return the inquiry filed with this key (a replayed submission), or None."""
        row = await self._sql.one("SELECT * FROM inquiries WHERE submission_key = ?", (key,))
        return _inquiry(row) if row else None

    async def list(self, status: str | None = None) -> list[Inquiry]:
        """Return inquiries oldest first, optionally of one status."""
        if status:
            rows = await self._sql.all(
                "SELECT * FROM inquiries WHERE status = ? ORDER BY created_at, number", (status,)
            )
        else:
            rows = await self._sql.all("SELECT * FROM inquiries ORDER BY created_at, number")
        return [_inquiry(r) for r in rows]

    async def update(
        self, number: str, status: str, answer: str | None, agent: str, now: datetime
    ) -> None:
        """Answer or close an inquiry."""
        await self._sql.execute(
            "UPDATE inquiries SET status = ?, answer = COALESCE(?, answer), handled_by = ?,"
            " updated_at = ? WHERE number = ?",
            (status, answer, agent, iso(now), number),
        )


def _inquiry(row: Row) -> Inquiry:
    return Inquiry(
        number=row["number"],
        customer_id=row["customer_id"],
        service_id=row["service_id"],
        topic=row["topic"],
        context=row["context"],
        message=row["message"],
        transcript=tuple(json.loads(row["transcript"])),
        attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
        status=row["status"],
        answer=row["answer"],
        handled_by=row["handled_by"],
        channel=row["channel"],
        chat_id=row["chat_id"],
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )
