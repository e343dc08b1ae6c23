"""The outbox: notifications written with a decision, delivered later by a channel."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.models import OutboxItem
from core.storage.sql import Row, Sql, iso

_DUE = (
    "SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    " AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
    " AND {chats}"
    # A chat's notifications go out in order: none while an earlier one is pending.
    " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.chat_id ="
    " outbox.chat_id AND earlier.id < outbox.id AND earlier.sent_at IS NULL"
    " AND earlier.failed_at IS NULL)"
    " ORDER BY id LIMIT ?{skip_locked}"
)


class Outbox:
    """Queued notifications and their delivery state."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def enqueue(self, chat_id: str, kind: str, payload: dict[str, Any], now: datetime) -> int:
        """Queue a notification for a chat; return its id."""
        row = await self._sql.one(
            "INSERT INTO outbox (chat_id, kind, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (chat_id, kind, json.dumps(payload, ensure_ascii=False), iso(now), iso(now)),
        )
        assert row is not None
        return int(row["id"])

    async def claim_due(
        self,
        chat_prefix: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        *,
        exact: bool = False,
    ) -> list[OutboxItem]:
        """Claim due, unsent notifications of one channel (or one chat) until `lease_until`.

        The lease keeps a second bot process from sending the same message meanwhile; a
        process that dies mid-send lets the lease run out and the message is sent later. Two
        processes claiming at the same moment do not both take a row: each passes over the
        rows the other's claim has locked (PostgreSQL; SQLite runs one claim at a time).
        """
        if exact:
            chats, chat_params = "chat_id = ?", [chat_prefix]
        else:
            chats, chat_params = "substr(chat_id, 1, ?) = ?", [len(chat_prefix), chat_prefix]
        due = _DUE.format(chats=chats, skip_locked=self._sql.dialect.skip_locked)
        rows = await self._sql.all(due, [iso(now), iso(now), *chat_params, limit])
        claim = iso(lease_until)
        for row in rows:
            await self._sql.execute(
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                (claim, row["id"]),
            )
        return [_item(r, claim) for r in rows]

    async def any_pending(self, chat_id: str) -> bool:
        """Whether the chat has an undelivered notification (due now or later)."""
        row = await self._sql.one(
            "SELECT 1 FROM outbox WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL"
            " LIMIT 1",
            (chat_id,),
        )
        return row is not None

    async def clamp_future(self, retry_by: datetime, lease_by: datetime) -> int:
        """Bring retry times and leases back to at most `retry_by` / `lease_by`.

        Times written while the clock ran fast would otherwise hold a notification back until
        the corrected clock caught up with them (a day, for a clock a day ahead).
        """
        retried = await self._sql.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND next_attempt_at > ?",
            (iso(retry_by), iso(retry_by)),
        )
        leased = await self._sql.execute(
            "UPDATE outbox SET claimed_until = ? WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND claimed_until > ?",
            (iso(lease_by), iso(lease_by)),
        )
        return retried + leased

    # The claim (claimed_until as written by claim_due) must still be ours: a process whose
    # lease ran out must not overwrite what the process that took over recorded.

    async def mark_sent(self, item_id: int, now: datetime, claim: str | None) -> None:
        """Record a delivered notification."""
        await self._sql.execute(
            "UPDATE outbox SET sent_at = ?, claimed_until = NULL, last_error = NULL"
            " WHERE id = ? AND claimed_until = ?",
            (iso(now), item_id, claim),
        )

    async def mark_retry(
        self, item_id: int, error: str, next_at: datetime, claim: str | None
    ) -> None:
        """Record a failed attempt and when to try again."""
        await self._sql.execute(
            "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ?"
            " WHERE id = ? AND claimed_until = ?",
            (iso(next_at), error[:500], item_id, claim),
        )

    async def mark_failed(self, item_id: int, error: str, now: datetime, claim: str | None) -> None:
        """Give up on a notification that can never be delivered (e.g. the bot was blocked)."""
        await self._sql.execute(
            "UPDATE outbox SET failed_at = ?, claimed_until = NULL, last_error = ?"
            " WHERE id = ? AND claimed_until = ?",
            (iso(now), error[:500], item_id, claim),
        )

    async def reroute(self, item_id: int, chat_id: str, claim: str | None) -> None:
        """Send a claimed notification to another chat instead (released for its channel)."""
        await self._sql.execute(
            "UPDATE outbox SET chat_id = ?, claimed_until = NULL, attempts = attempts - 1"
            " WHERE id = ? AND claimed_until = ?",
            (chat_id, item_id, claim),
        )

    async def give_up_prefix(
        self, chat_prefix: str, keep: tuple[str, ...], error: str, now: datetime
    ) -> int:
        """Give up every pending row of chats starting with `chat_prefix`, except `keep`'s.

        For messages to a staff chat the bot no longer serves: nobody would ever send them,
        and they would sit in the pending index for ever.
        """
        kept = f" AND chat_id NOT IN ({', '.join('?' for _ in keep)})" if keep else ""
        return await self._sql.execute(
            "UPDATE outbox SET failed_at = ?, last_error = ?, claimed_until = NULL"
            " WHERE sent_at IS NULL AND failed_at IS NULL AND substr(chat_id, 1, ?) = ?" + kept,
            (iso(now), error[:500], len(chat_prefix), chat_prefix, *keep),
        )

    async def rows(self) -> list[dict[str, Any]]:
        """Every outbox row, oldest first (for operators and tests)."""
        return [dict(r) for r in await self._sql.all("SELECT * FROM outbox ORDER BY id")]


def _item(row: Row, claim: str) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        chat_id=row["chat_id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        attempts=int(row["attempts"]) + 1,
        claimed_until=claim,
    )
