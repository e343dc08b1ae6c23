"""Delivery bookkeeping for queued notifications (the channels do the sending)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.models import OutboxItem
from core.storage import Tx
from core.usecases.base import UseCases, customer_chat

RETRY_HORIZON = timedelta(hours=1)
"""No retry is scheduled further ahead than this; a later one was written by a fast clock."""


class Notifications(UseCases):
    """Claim due notifications and record how their delivery went."""

    async def claim(
        self, chat_prefix: str, lease: timedelta, limit: int = 20, *, exact: bool = False
    ) -> list[OutboxItem]:
        """Claim due notifications of chats starting with `chat_prefix` (or equal to it)."""
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.outbox.clamp_future(now + RETRY_HORIZON, now + lease)
            items = await tx.outbox.claim_due(chat_prefix, now, now + lease, limit, exact=exact)
            return [item for item in items if await self._still_theirs(tx, item, now)]

    @staticmethod
    async def _still_theirs(tx: Tx, item: OutboxItem, now: datetime) -> bool:
        """Whether the chat is still the customer's; otherwise send the notice on to the
        chat now linked to them (released for its channel) or give it up."""
        customer_id = item.payload.get("customer_id")
        if not isinstance(customer_id, str):
            return True  # written before notices named their customer
        target = await customer_chat(tx, customer_id, item.chat_id)
        if target == item.chat_id:
            return True
        if target is None:
            await tx.outbox.mark_failed(
                item.id, "no chat linked to the customer", now, item.claimed_until
            )
        else:
            await tx.outbox.reroute(item.id, target, item.claimed_until)
        return False

    async def any_due(self, chat_id: str) -> bool:
        """Whether the chat has a notification waiting (a read: no write lock taken)."""
        async with self.db.reading() as tx:
            return await tx.outbox.any_pending(chat_id)

    async def sent(self, item: OutboxItem) -> None:
        """Record that a notification was delivered (under the claim it was sent with)."""
        async with self.db.transaction() as tx:
            await tx.outbox.mark_sent(item.id, self.now(), item.claimed_until)

    async def failed(self, item: OutboxItem, error: str, retry_in: timedelta | None) -> None:
        """Record a failed delivery: retry after `retry_in`, or give up when it is None."""
        now = self.now()
        retry_in = min(retry_in, RETRY_HORIZON) if retry_in is not None else None
        async with self.db.transaction() as tx:
            if retry_in is None:
                await tx.outbox.mark_failed(item.id, error, now, item.claimed_until)
            else:
                await tx.outbox.mark_retry(item.id, error, now + retry_in, item.claimed_until)

    async def rows(self) -> list[dict[str, Any]]:
        """Every outbox row (operators, tests)."""
        async with self.db.reading() as tx:
            return await tx.outbox.rows()
