"""The agents' staff chat: what happens to a case is written for it in the same transaction.

When a staff chat is set up (`Staff.enable`, by the Telegram bot at start), filing a request or
an inquiry, every decision on it (from the CLI, the staff chat or the customer withdrawing) and
a customer's message during an open hand-off each write a staff event to the outbox, in the
transaction that made the change. The Telegram channel delivers them to the staff chat with its
own pacing; nothing is lost while the bot is down, and the CLI and the staff chat mirror each
other because both go through the same use cases.

Two outbox lanes per staff chat keep agents' work snappy under a burst of new cases: new cases
queue in `staff:<chat>` in filing order; everything an agent waits for (decisions, relayed
messages, prompts, reminders, /stats) goes in `staff:<chat>:live`, which is delivered first.
Delivery makes sure the case's topic and card exist before anything else, so the lanes may
overtake each other safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.models import (
    Attachment,
    AuditEvent,
    Customer,
    Inquiry,
    InquiryEvent,
    RefundRequest,
    RequestStatus,
    Service,
    StaffTopic,
)
from core.storage import Tx
from core.storage.sql import iso
from core.storage.staff import OpenCase
from core.usecases.base import UseCases

STAFF_CHAT_KEY = "staff_chat"
STAFF_PREFIX = "staff:"
SHARE_WINDOW = timedelta(days=14)
"""An inquiry from a customer with a case this recent is handled in that case's topic."""
REJECT_REASON_WAIT = timedelta(minutes=30)
"""How long the agent's next message in the topic is taken as the rejection reason."""

ENDED_REQUEST_STATES = frozenset(
    {RequestStatus.REJECTED, RequestStatus.REFUNDED, RequestStatus.WITHDRAWN}
)


def lane(chat: str, *, live: bool) -> str:
    """The outbox chat id of a staff chat's lane: new cases, or what agents wait for."""
    return f"{STAFF_PREFIX}{chat}:live" if live else f"{STAFF_PREFIX}{chat}"


async def staff_chat_of(tx: Tx) -> str | None:
    """The staff chat the bot serves, or None when agents work with the CLI only."""
    return await tx.values.get(STAFF_CHAT_KEY) or None


async def case_filed(tx: Tx, kind: str, number: str, customer_id: str, now: datetime) -> None:
    """A new request or inquiry: it is to get a topic and a card (called in the filing's tx)."""
    chat = await staff_chat_of(tx)
    if chat is not None:
        await _adopt(tx, chat, kind, number, customer_id, now)


async def case_changed(
    tx: Tx,
    kind: str,
    number: str,
    customer_id: str,
    action: str,
    actor: str,
    detail: str,
    now: datetime,
) -> None:
    """A decision, answer, closing or withdrawal: its card is to show it (called in its tx)."""
    chat = await staff_chat_of(tx)
    if chat is None:
        return
    if await tx.staff.get(chat, number) is None:
        await _adopt(tx, chat, kind, number, customer_id, now)
    # A decision ends any wait for a typed rejection reason; an answer means the customer's
    # next message is acknowledged again.
    fields: dict[str, Any] = {"reject_by": None, "reject_asked_at": None}
    if action == "answered":
        fields["relay_acked"] = False
    await tx.staff.update(chat, number, now, **fields)
    payload = {
        "event": "changed",
        "case": number,
        "action": action,
        "actor": actor,
        "detail": detail,
        "at": iso(now),
    }
    await tx.outbox.enqueue(lane(chat, live=True), "staff_changed", payload, now)


async def _adopt(
    tx: Tx, chat: str, kind: str, number: str, customer_id: str, now: datetime
) -> StaffTopic:
    topic_of = None
    if kind == "inquiry":
        # The customer writes again about a recent case: same topic (reopened if closed).
        latest = await tx.staff.latest_of_customer(chat, customer_id, now - SHARE_WINDOW)
        topic_of = latest.owner if latest is not None else None
    topic = StaffTopic(
        chat_id=chat,
        case_number=number,
        kind=kind,
        customer_id=customer_id,
        topic_of=topic_of,
        created_at=now,
        updated_at=now,
    )
    await tx.staff.insert(topic)
    await tx.outbox.enqueue(
        lane(chat, live=False), "staff_opened", {"event": "opened", "case": number}, now
    )
    return topic


@dataclass(frozen=True)
class StaffCase:
    """A case as its card shows it: the staff row, the case, its customer, service and trail."""

    topic: StaffTopic
    customer: Customer | None
    request: RefundRequest | None
    inquiry: Inquiry | None
    service: Service | None
    trail: tuple[AuditEvent | InquiryEvent, ...]

    @property
    def number(self) -> str:
        """The request or inquiry number."""
        return self.topic.case_number

    @property
    def ended(self) -> bool:
        """Nothing is left to do on the case (its topic may close)."""
        if self.request is not None:
            return self.request.status in ENDED_REQUEST_STATES
        if self.inquiry is not None:
            return self.inquiry.status == "closed"
        return True  # the case is gone (a restored backup): nothing to do

    @property
    def awaiting_decision(self) -> bool:
        """No agent has decided or answered yet."""
        if self.request is not None:
            return self.request.status is RequestStatus.SUBMITTED
        return self.inquiry is not None and self.inquiry.status == "open"


@dataclass(frozen=True)
class Relayed:
    """A customer's message passed on to their open hand-off's topic."""

    number: str
    acknowledge: bool
    """The first message since the agent last wrote: tell the customer it was passed on."""


class Staff(UseCases):
    """The staff chat's set-up and bookkeeping, for the Telegram channel."""

    async def enable(self, chat: str | None) -> int:
        """Serve `chat` (None: no staff chat); return how many open cases were queued for it.

        Open cases without a topic there (filed before the staff chat was set up) are queued
        like new ones; messages still pending for another staff chat are given up.
        """
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.values.set(STAFF_CHAT_KEY, chat or "")
            keep = (lane(chat, live=False), lane(chat, live=True)) if chat else ()
            await tx.outbox.give_up_prefix(
                STAFF_PREFIX, keep, "the bot no longer serves this staff chat", now
            )
            if chat is None:
                return 0
            missing = await tx.staff.without_topic(chat)
            for kind, number, customer_id, _ in missing:
                await _adopt(tx, chat, kind, number, customer_id, now)
        return len(missing)

    async def case(self, chat: str, number: str) -> StaffCase | None:
        """One case as its card shows it, or None when it has no row in this staff chat."""
        async with self.db.reading() as tx:
            topic = await tx.staff.get(chat, number)
            return await _view(tx, topic) if topic is not None else None

    async def topic_cases(self, chat: str, owner: str) -> list[StaffCase]:
        """Every case handled in `owner`'s topic, the owner first."""
        async with self.db.reading() as tx:
            return [await _view(tx, t) for t in await tx.staff.sharing(chat, owner)]

    async def thread_owner(self, chat: str, thread_id: int) -> str | None:
        """The case that owns a forum topic, or None."""
        async with self.db.reading() as tx:
            owner = await tx.staff.owner_of_thread(chat, thread_id)
        return owner.case_number if owner is not None else None

    async def record(self, chat: str, number: str, **fields: Any) -> None:
        """Remember what was done in Telegram for a case (its topic, card, files, state)."""
        async with self.db.transaction() as tx:
            await tx.staff.update(chat, number, self.now(), **fields)

    async def forget_topic(self, chat: str, owner: str) -> None:
        """The topic was deleted by hand: its cases get a new topic and card."""
        async with self.db.transaction() as tx:
            await tx.staff.forget_topic(chat, owner, self.now())

    async def ask_reject_reason(self, chat: str, number: str, agent_id: str, agent: str) -> None:
        """An agent pressed 반려: their next message in the topic is the reason (or a button)."""
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.staff.update(chat, number, now, reject_by=agent_id, reject_asked_at=now)
            payload = {"event": "reject_prompt", "case": number, "agent": agent}
            await tx.outbox.enqueue(lane(chat, live=True), "staff_reject_prompt", payload, now)

    async def cancel_reject(self, chat: str, number: str) -> None:
        """Stop waiting for a typed rejection reason."""
        await self.record(chat, number, reject_by=None, reject_asked_at=None)

    async def pending_reject(self, chat: str, owner: str, agent_id: str) -> str | None:
        """The case in `owner`'s topic whose rejection reason this agent is to type, if any."""
        since = self.now() - REJECT_REASON_WAIT
        async with self.db.reading() as tx:
            for topic in await tx.staff.sharing(chat, owner):
                asked = topic.reject_asked_at
                if topic.reject_by == agent_id and asked is not None and asked >= since:
                    return topic.case_number
        return None

    async def has_open_hand_off(self, customer_chat: str) -> bool:
        """Whether a customer's chat has an unclosed inquiry with a topic (a cheap read first,
        so that customers without one never take the write lock for this)."""
        async with self.db.reading() as tx:
            chat = await staff_chat_of(tx)
            if chat is None:
                return False
            return await tx.staff.open_inquiry_of_chat(chat, customer_chat) is not None

    async def relay_customer_message(
        self, customer_chat: str, text: str | None, attachment: Attachment | None
    ) -> Relayed | None:
        """Pass a customer's message on to their open hand-off's topic; None when there is none.

        The text is stored encrypted in the outbox (`relayed_text` reads it back).
        """
        now = self.now()
        async with self.db.transaction() as tx:
            chat = await staff_chat_of(tx)
            if chat is None:
                return None
            topic = await tx.staff.open_inquiry_of_chat(chat, customer_chat)
            if topic is None:
                return None
            # Encrypted like conversation data: a customer may type an account number.
            payload = {
                "event": "relay",
                "case": topic.case_number,
                "text": self.db.cipher.encrypt(text) if text else None,
                "attachment": attachment.model_dump() if attachment else None,
            }
            await tx.outbox.enqueue(lane(chat, live=True), "staff_relay", payload, now)
            if not topic.relay_acked:
                await tx.staff.update(chat, topic.case_number, now, relay_acked=True)
        return Relayed(topic.case_number, acknowledge=not topic.relay_acked)

    def relayed_text(self, stored: str) -> str:
        """The customer's text of a relay event, decrypted."""
        return self.db.cipher.decrypt(stored)

    async def post(self, chat: str, event: str, **payload: Any) -> None:
        """Queue something agents asked for in the staff chat (/stats, a note in a topic)."""
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.outbox.enqueue(
                lane(chat, live=True), f"staff_{event}", {"event": event, **payload}, now
            )

    async def remind_due(self, chat: str, after: timedelta) -> int:
        """Queue one reminder for each case still undecided `after` its filing; how many."""
        now = self.now()
        async with self.db.transaction() as tx:
            due = await tx.staff.awaiting_reminder(chat, now - after)
            for topic in due:
                await tx.staff.update(chat, topic.case_number, now, reminded_at=now)
                payload = {"event": "remind", "case": topic.case_number}
                await tx.outbox.enqueue(lane(chat, live=True), "staff_remind", payload, now)
        return len(due)

    async def open_cases(self, chat: str) -> list[OpenCase]:
        """Every open case, oldest first (the queue message)."""
        async with self.db.reading() as tx:
            return await tx.staff.open_cases(chat)


async def _view(tx: Tx, topic: StaffTopic) -> StaffCase:
    customer = await tx.customers.get(topic.customer_id)
    request = inquiry = None
    service = None
    trail: tuple[AuditEvent | InquiryEvent, ...]
    if topic.kind == "request":
        request = await tx.requests.get(topic.case_number)
        trail = tuple(await tx.requests.events(topic.case_number))
        if request is not None:
            service = await tx.customers.get_service(request.service_id)
    else:
        inquiry = await tx.inquiries.get(topic.case_number)
        trail = tuple(await tx.inquiries.events(topic.case_number))
        if inquiry is not None and inquiry.service_id:
            service = await tx.customers.get_service(inquiry.service_id)
    return StaffCase(topic, customer, request, inquiry, service, trail)
