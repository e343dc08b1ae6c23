"""Delivering the outbox: notifications an agent's decision queued for a customer's chat.

The CLI writes a notification in the same transaction as the status change; whichever channel
serves that chat (Telegram for `tg:` chats, the terminal for `console:` ones) claims it, sends it
and marks it sent — only once the channel has confirmed the send. Delivery is at-least-once: a
send that failed or got no answer (a timeout, a dropped connection) leaves the notification due,
and it is tried again with exponential back-off, or after the wait Telegram's flood control asked
for if that is longer; a permanent failure (the customer blocked the bot) is recorded and not
retried. Claims are leases taken one notification at a time, with the send capped well inside
the lease, so a second bot process does not send the same message meanwhile; a process that dies
mid-send leaves the message to be sent after the lease. Notifications of one chat are sent in the
order they were written: a later one waits while an earlier one is backing off. A confirmed send
is never repeated; a message can arrive twice only when Telegram carried out a send whose answer
was lost, or when the process dies between Telegram's answer and our marking it sent.

How a notification reaches the customer depends on the channel, which declares it (`Delivery`):

- PUSH: the channel can message a chat whenever it likes (Telegram; the terminal between
  turns). An `OutboxDeliverer` loop sends due notifications with the channel's `Send`.
- PULL: the channel can only answer the customer's own message (a KakaoTalk skill: messaging a
  user outside their turn needs the paid Event API). A `PullOutbox` hands the chat's oldest due
  notification to the next answer, and the channel reports whether that answer went out.

A later push sender for a pull channel (Kakao's Event API, AlimTalk) is a `Send` for that
channel's prefix run by an `OutboxDeliverer`; the channel then stops pulling. Either way the
outbox rows, their order per chat and the claim leases are the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from enum import StrEnum

from bot import texts
from bot.dialogue import Reply
from bot.dialogue.menus import CONTACT, START_REFUND
from core.calendar import mycash_credit_window
from core.models import OutboxItem
from core.usecases import Helpdesk

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SEND_TIMEOUT_SECONDS = 90.0  # well inside LEASE: a send never outlives its claim
MAX_BACKOFF = timedelta(minutes=10)
FIRST_BACKOFF = timedelta(seconds=5)

Send = Callable[[str, Reply], Awaitable[None]]


def render(item: OutboxItem) -> Reply:
    """The customer-facing message of a notification."""
    p = item.payload
    number = str(p.get("number", ""))
    if item.kind == "request_approved":
        total = int(p["total"])
        if p.get("payment_method") == "mycash":
            first, last = mycash_credit_window(date.fromisoformat(str(p["decided_on"])))
            return Reply(texts.notify_approved_mycash(number, total, first, last))
        return Reply(
            texts.notify_approved_bank(number, total, str(p["bank"]), str(p["account_last4"]))
        )
    if item.kind == "request_rejected":
        text = texts.notify_rejected(number, str(p.get("note") or ""))
        refile = p.get("refile_until")
        if isinstance(refile, str):
            # Still inside the 7 days: the customer may file again (checked again on filing).
            text += "\n" + texts.rejected_refile(texts.until_date(date.fromisoformat(refile)))
            return Reply(text, ((START_REFUND,), (CONTACT,)))
        return Reply(text, ((CONTACT,),))
    if item.kind == "request_refunded":
        return Reply(
            texts.notify_refunded(
                number,
                int(p["total"]),
                str(p.get("payment_method")),
                p.get("bank"),
                p.get("account_last4"),
            )
        )
    if item.kind == "inquiry_answer":
        return Reply(texts.notify_inquiry_answer(number, str(p["answer"])))
    raise ValueError(f"unknown notification kind {item.kind!r}")


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 5 s, 10 s, 20 s … up to 10 minutes."""
    return min(FIRST_BACKOFF * (2 ** max(0, attempts - 1)), MAX_BACKOFF)


class OutboxDeliverer:
    """Sends one channel's due notifications (or, with exact=True, one chat's)."""

    def __init__(
        self,
        helpdesk: Helpdesk,
        chat_prefix: str,
        send: Send,
        is_permanent: Callable[[Exception], bool] = lambda exc: False,
        *,
        exact: bool = False,
        asked_wait: Callable[[Exception], timedelta | None] = lambda exc: None,
    ) -> None:
        self.helpdesk = helpdesk
        self.chat_prefix = chat_prefix
        self.exact = exact
        self.send = send
        self.is_permanent = is_permanent
        # How long the channel was told to wait before trying again (flood control), if it was.
        self.asked_wait = asked_wait

    async def deliver_due(self, stop: asyncio.Event | None = None) -> int:
        """Deliver every notification that is due now; return how many were sent.

        One notification is claimed at a time, just before it is sent, and its send is capped
        well inside the lease, so no other process can claim it meanwhile; `stop` is checked
        between notifications so a shutdown never abandons one half-sent.
        """
        sent = 0
        while stop is None or not stop.is_set():
            items = await self.helpdesk.notifications.claim(
                self.chat_prefix, LEASE, limit=1, exact=self.exact
            )
            if not items:
                return sent
            for item in items:
                try:
                    reply = render(item)
                    await asyncio.wait_for(self.send(item.chat_id, reply), SEND_TIMEOUT_SECONDS)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if self.is_permanent(exc) or isinstance(exc, ValueError | KeyError):
                        log.warning("notification %s cannot be delivered: %s", item.id, error)
                        await self.helpdesk.notifications.failed(item, error, None)
                    else:
                        wait = max(backoff(item.attempts), self.asked_wait(exc) or timedelta())
                        log.warning(
                            "notification %s failed (attempt %d), retry in %ss: %s",
                            item.id,
                            item.attempts,
                            int(wait.total_seconds()),
                            error,
                        )
                        await self.helpdesk.notifications.failed(item, error, wait)
                    continue
                await self.helpdesk.notifications.sent(item)
                sent += 1
        return sent


class Delivery(StrEnum):
    """How a channel delivers notifications (see the module docstring)."""

    PUSH = "push"
    PULL = "pull"


class PullOutbox:
    """Notifications that ride on a chat's next answer, for channels that cannot message first.

    `take` claims the chat's oldest due notification (the claim keeps a concurrent answer of the
    same chat from taking it too); the channel then reports `delivered` once its answer is
    written, or `not_delivered` to leave the notification for the chat's next answer. A process
    that dies in between lets the lease run out and the notification comes again.
    """

    def __init__(self, helpdesk: Helpdesk, lease: timedelta = LEASE) -> None:
        self.helpdesk = helpdesk
        self.lease = lease

    async def take(self, chat_id: str) -> tuple[OutboxItem, Reply] | None:
        """The chat's oldest due notification and its message, claimed; None when none is due.

        Most answers have nothing to carry: a read says so without taking the write lock.
        """
        if not await self.helpdesk.notifications.any_due(chat_id):
            return None
        while True:
            items = await self.helpdesk.notifications.claim(
                chat_id, self.lease, limit=1, exact=True
            )
            if not items:
                return None
            item = items[0]
            try:
                return item, render(item)
            except (ValueError, KeyError) as exc:
                # A row no code can render would block every later one of this chat.
                log.warning("notification %s cannot be rendered: %s", item.id, exc)
                await self.helpdesk.notifications.failed(item, f"{type(exc).__name__}: {exc}", None)

    async def delivered(self, item: OutboxItem) -> None:
        """The answer carrying `item` was written to the channel."""
        await self.helpdesk.notifications.sent(item)

    async def not_delivered(self, item: OutboxItem, why: str) -> None:
        """The answer carrying `item` did not go out: offer it again on the next answer."""
        await self.helpdesk.notifications.failed(item, why, timedelta(0))
