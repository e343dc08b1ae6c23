"""The staff chat's bookkeeping: each case's forum topic, summary card and pending agent input.

Rows are keyed by (staff chat, case number), so a change of staff chat starts afresh and two bot
processes on one database find the same topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.models import StaffTopic
from core.storage.customers import OPEN_STATUSES_SQL
from core.storage.sql import Row, Sql, instant, iso


@dataclass(frozen=True)
class OpenCase:
    """An undecided or unfinished case as the queue lists it."""

    number: str
    kind: str
    status: str
    customer_id: str
    customer_name: str
    service_id: str | None
    created_at: datetime
    thread_id: int | None


class StaffTopics:
    """Cases' topics and cards in a staff chat."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, chat_id: str, number: str) -> StaffTopic | None:
        """The case's row in this staff chat, or None."""
        row = await self._sql.one(
            "SELECT * FROM staff_topics WHERE chat_id = ? AND case_number = ?", (chat_id, number)
        )
        return _topic(row) if row else None

    async def insert(self, topic: StaffTopic) -> None:
        """Record a case that is to get a topic (the topic itself is created later)."""
        await self._sql.execute(
            "INSERT INTO staff_topics (chat_id, case_number, kind, customer_id, topic_of,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                topic.chat_id,
                topic.case_number,
                topic.kind,
                topic.customer_id,
                topic.topic_of,
                iso(topic.created_at),
                iso(topic.updated_at),
            ),
        )

    async def sharing(self, chat_id: str, owner: str) -> list[StaffTopic]:
        """The cases handled in `owner`'s topic (the owner first, then in filing order)."""
        rows = await self._sql.all(
            "SELECT * FROM staff_topics WHERE chat_id = ? AND (case_number = ? OR topic_of = ?)"
            " ORDER BY created_at, case_number",
            (chat_id, owner, owner),
        )
        topics = [_topic(r) for r in rows]
        return sorted(topics, key=lambda t: t.case_number != owner)

    async def owner_of_thread(self, chat_id: str, thread_id: int) -> StaffTopic | None:
        """The case that owns a forum topic, or None for a topic the bot does not know."""
        row = await self._sql.one(
            "SELECT * FROM staff_topics WHERE chat_id = ? AND thread_id = ? AND topic_of IS NULL"
            " ORDER BY created_at LIMIT 1",
            (chat_id, thread_id),
        )
        return _topic(row) if row else None

    async def latest_of_customer(
        self, chat_id: str, customer_id: str, since: datetime
    ) -> StaffTopic | None:
        """The customer's most recent case in this staff chat filed at or after `since`."""
        row = await self._sql.one(
            "SELECT * FROM staff_topics WHERE chat_id = ? AND customer_id = ? AND created_at >= ?"
            " ORDER BY created_at DESC, case_number DESC LIMIT 1",
            (chat_id, customer_id, iso(since)),
        )
        return _topic(row) if row else None

    async def update(self, chat_id: str, number: str, now: datetime, **fields: Any) -> None:
        """Set some of a row's columns (times and flags converted for storage)."""
        allowed = {
            "thread_id",
            "card_message_id",
            "files_sent",
            "topic_closed",
            "reject_by",
            "reject_asked_at",
            "relay_acked",
            "reminded_at",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not a staff_topics column: {sorted(unknown)}")
        names = sorted(fields)
        values = [_stored(fields[name]) for name in names]
        assignments = ", ".join(f"{name} = ?" for name in names)
        await self._sql.execute(
            f"UPDATE staff_topics SET {assignments}, updated_at = ?"
            " WHERE chat_id = ? AND case_number = ?",
            (*values, iso(now), chat_id, number),
        )

    async def forget_topic(self, chat_id: str, owner: str, now: datetime) -> None:
        """The owner's topic is gone (deleted by hand): every case in it gets a new one."""
        await self._sql.execute(
            "UPDATE staff_topics SET thread_id = NULL, card_message_id = NULL, files_sent = 0,"
            " topic_closed = 0, updated_at = ? WHERE chat_id = ? AND (case_number = ?"
            " OR topic_of = ?)",
            (iso(now), chat_id, owner, owner),
        )

    async def open_inquiry_of_chat(self, chat_id: str, customer_chat: str) -> StaffTopic | None:
        """The newest unclosed inquiry filed from a customer's chat that has a row here."""
        row = await self._sql.one(
            "SELECT s.* FROM staff_topics s JOIN inquiries q ON q.number = s.case_number"
            " WHERE s.chat_id = ? AND q.chat_id = ? AND q.status <> 'closed'"
            " ORDER BY q.created_at DESC, q.number DESC LIMIT 1",
            (chat_id, customer_chat),
        )
        return _topic(row) if row else None

    async def awaiting_reminder(self, chat_id: str, filed_before: datetime) -> list[StaffTopic]:
        """Cases still waiting for an agent's first decision, filed before the given time, that
        have not been reminded of: submitted requests and unanswered inquiries."""
        rows = await self._sql.all(
            "SELECT s.* FROM staff_topics s"
            " LEFT JOIN refund_requests r ON r.number = s.case_number"
            " LEFT JOIN inquiries q ON q.number = s.case_number"
            " WHERE s.chat_id = ? AND s.reminded_at IS NULL"
            " AND ((r.status = 'submitted' AND r.created_at <= ?)"
            " OR (q.status = 'open' AND q.created_at <= ?))"
            " ORDER BY s.created_at, s.case_number",
            (chat_id, iso(filed_before), iso(filed_before)),
        )
        return [_topic(r) for r in rows]

    async def without_topic(self, chat_id: str) -> list[tuple[str, str, str, datetime]]:
        """Open cases that have no row in this staff chat yet: (kind, number, customer, filed),
        oldest first (cases filed before the staff chat was set up, or in another one)."""
        rows = await self._sql.all(
            "SELECT 'request' AS kind, r.number AS number, r.customer_id AS customer_id,"
            " r.created_at AS created_at FROM refund_requests r"
            f" WHERE r.status IN ({OPEN_STATUSES_SQL}) AND NOT EXISTS (SELECT 1 FROM staff_topics"
            " s WHERE s.chat_id = ? AND s.case_number = r.number)"
            " UNION ALL"
            " SELECT 'inquiry', q.number, q.customer_id, q.created_at FROM inquiries q"
            " WHERE q.status <> 'closed' AND NOT EXISTS (SELECT 1 FROM staff_topics s"
            " WHERE s.chat_id = ? AND s.case_number = q.number)"
            " ORDER BY created_at, number",
            (chat_id, chat_id),
        )
        return [(r["kind"], r["number"], r["customer_id"], instant(r["created_at"])) for r in rows]

    async def open_cases(self, chat_id: str) -> list[OpenCase]:
        """Every open case, oldest first, with its customer's name and its topic (if any)."""
        rows = await self._sql.all(
            "SELECT r.number AS number, 'request' AS kind, r.status AS status,"
            " r.customer_id AS customer_id, c.name AS customer_name, r.service_id AS service_id,"
            " r.created_at AS created_at, s.thread_id AS thread_id"
            " FROM refund_requests r JOIN customers c ON c.id = r.customer_id"
            " LEFT JOIN staff_topics s ON s.chat_id = ? AND s.case_number = r.number"
            f" WHERE r.status IN ({OPEN_STATUSES_SQL})"
            " UNION ALL"
            " SELECT q.number, 'inquiry', q.status, q.customer_id, c.name, q.service_id,"
            " q.created_at, s.thread_id"
            " FROM inquiries q JOIN customers c ON c.id = q.customer_id"
            " LEFT JOIN staff_topics s ON s.chat_id = ? AND s.case_number = q.number"
            " WHERE q.status <> 'closed'"
            " ORDER BY created_at, number",
            (chat_id, chat_id),
        )
        return [
            OpenCase(
                number=r["number"],
                kind=r["kind"],
                status=r["status"],
                customer_id=r["customer_id"],
                customer_name=r["customer_name"],
                service_id=r["service_id"],
                created_at=instant(r["created_at"]),
                thread_id=int(r["thread_id"]) if r["thread_id"] is not None else None,
            )
            for r in rows
        ]


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _topic(row: Row) -> StaffTopic:
    def when(name: str) -> datetime | None:
        return instant(row[name]) if row[name] is not None else None

    return StaffTopic(
        chat_id=row["chat_id"],
        case_number=row["case_number"],
        kind=row["kind"],
        customer_id=row["customer_id"],
        topic_of=row["topic_of"],
        thread_id=int(row["thread_id"]) if row["thread_id"] is not None else None,
        card_message_id=int(row["card_message_id"]) if row["card_message_id"] is not None else None,
        files_sent=int(row["files_sent"]),
        topic_closed=bool(row["topic_closed"]),
        reject_by=row["reject_by"],
        reject_asked_at=when("reject_asked_at"),
        relay_acked=bool(row["relay_acked"]),
        reminded_at=when("reminded_at"),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )
