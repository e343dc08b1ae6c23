"""Use cases. Each public method is one transaction: all of its changes are stored, or none.

Entrypoints (the dialogue engine, the CLI) only parse input, call one of these and turn the typed
errors of `core.errors` into replies.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.calendar import Clock, system_clock, to_kst, today_kst
from core.errors import (
    AlreadyOpen,
    IllegalTransition,
    ImportRejected,
    InvalidAccount,
    InvalidInput,
    InvalidLinkCode,
    LinkThrottled,
    NotEligible,
    NotFound,
)
from core.importing import parse_import
from core.models import (
    Attachment,
    AuditEvent,
    Customer,
    Inquiry,
    OutboxItem,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    RequestStatus,
    Service,
    ServiceStatus,
)
from core.policy import Eligibility, check_eligibility, quote
from core.storage import Database, Tx

LINK_CODE_TTL = timedelta(minutes=30)
LINK_CODE_BYTES = 16  # 128 bits of randomness
LINK_FAILURE_WINDOW = timedelta(minutes=15)
LINK_SLOW_AFTER = 3
LINK_MAX_FAILURES = 5
LINK_SLOWDOWN_SECONDS = 1.0
ACCOUNT_DIGITS_MIN = 10
ACCOUNT_DIGITS_MAX = 16
_ACCOUNT_SHAPE = re.compile(r"^[0-9]+(-[0-9]+)*$")

# Which agent actions are allowed from which state.
TRANSITIONS: dict[str, tuple[frozenset[RequestStatus], RequestStatus]] = {
    "approve": (frozenset({RequestStatus.SUBMITTED}), RequestStatus.APPROVED),
    "reject": (
        frozenset({RequestStatus.SUBMITTED, RequestStatus.APPROVED}),
        RequestStatus.REJECTED,
    ),
    "refunded": (frozenset({RequestStatus.APPROVED}), RequestStatus.REFUNDED),
}


@dataclass(frozen=True)
class LinkCode:
    """A one-time code that links a chat to a customer."""

    code: str
    customer_id: str
    expires_at: datetime


@dataclass
class ImportSummary:
    """What an import changed, by kind and outcome."""

    customers: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "updated": [], "unchanged": []}
    )
    services: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "updated": [], "unchanged": []}
    )


@dataclass(frozen=True)
class ConversationRecord:
    """A chat's stored dialogue state; `version` guards against concurrent writers."""

    state: str
    data: dict[str, Any]
    version: int
    updated_at: datetime | None


@dataclass(frozen=True)
class ServiceView:
    """A service with its eligibility today."""

    service: Service
    eligibility: Eligibility


def hash_link_code(code: str) -> str:
    """Hash a link code: only hashes are stored, so a database leak links nobody."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def same_holder(a: str, b: str) -> bool:
    """Compare account holder names the way a bank clerk would: spacing and width ignored."""

    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).split()).casefold()

    return norm(a) == norm(b) and bool(norm(a))


def normalize_account_number(raw: str) -> str:
    """Validate an account number (digits and hyphens, 10–16 digits) and return it trimmed."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if not _ACCOUNT_SHAPE.match(text):
        raise InvalidAccount("account number may contain only digits and hyphens")
    digits = sum(ch.isdigit() for ch in text)
    if not ACCOUNT_DIGITS_MIN <= digits <= ACCOUNT_DIGITS_MAX:
        raise InvalidAccount(
            f"account number must have {ACCOUNT_DIGITS_MIN}-{ACCOUNT_DIGITS_MAX} digits"
        )
    return text


class Helpdesk:
    """The application's use cases over one database and one clock."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    def now(self) -> datetime:
        """The current instant from the injected clock."""
        return self.clock()

    # import ---------------------------------------------------------------------------------

    async def import_customers(self, raw: bytes) -> ImportSummary:
        """Validate the whole file, then upsert every customer and service in one transaction."""
        records = parse_import(raw)
        summary = ImportSummary()
        now = self.now()
        async with self.db.transaction() as tx:
            for customer, services in records:
                outcome = await tx.upsert_customer(customer, now)
                summary.customers[outcome].append(customer.id)
                for service in services:
                    existing = await tx.get_service(service.id)
                    if existing is not None and existing.customer_id != customer.id:
                        raise ImportRejected(
                            [
                                f"customer {customer.id!r}: service {service.id!r} belongs to "
                                f"customer {existing.customer_id!r}; moving a service between "
                                "customers is not done by import"
                            ]
                        )
                    if existing is not None and existing.status is ServiceStatus.CANCELLED:
                        # Cancelled here by a paid refund, which the billing export does not
                        # know; reactivating it would offer the customer a second refund.
                        service = service.model_copy(update={"status": ServiceStatus.CANCELLED})
                    outcome = await tx.upsert_service(service, now)
                    summary.services[outcome].append(service.id)
        return summary

    # operational values ---------------------------------------------------------------------

    async def get_setting(self, key: str) -> str | None:
        """Return a stored operational value (e.g. `bot_username`), or None."""
        async with self.db.reading() as tx:
            return await tx.get_value(key)

    async def set_setting(self, key: str, value: str) -> None:
        """Store an operational value."""
        async with self.db.transaction() as tx:
            await tx.set_value(key, value)

    # customers and services -----------------------------------------------------------------

    async def has_customers(self) -> bool:
        """Whether any customer has been imported yet."""
        async with self.db.reading() as tx:
            return await tx.has_customers()

    async def get_customer(self, customer_id: str) -> Customer:
        """Return a customer or raise NotFound."""
        async with self.db.reading() as tx:
            customer = await tx.get_customer(customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id!r}")
        return customer

    async def services_overview(self, customer_id: str) -> list[ServiceView]:
        """Return each of the customer's services with its eligibility today (KST)."""
        today = today_kst(self.clock)
        async with self.db.reading() as tx:
            services = await tx.list_services(customer_id)
            views = []
            for service in services:
                open_number = await tx.open_request_number(service.id)
                views.append(ServiceView(service, check_eligibility(service, open_number, today)))
        return views

    # linking --------------------------------------------------------------------------------

    async def issue_link_code(self, customer_id: str) -> LinkCode:
        """Issue a random, single-use code that links one chat to `customer_id` for 30 minutes."""
        now = self.now()
        code = secrets.token_urlsafe(LINK_CODE_BYTES)
        expires_at = now + LINK_CODE_TTL
        async with self.db.transaction() as tx:
            if await tx.get_customer(customer_id) is None:
                raise NotFound(f"no customer {customer_id!r}")
            await tx.insert_link_code(hash_link_code(code), customer_id, now, expires_at)
        return LinkCode(code=code, customer_id=customer_id, expires_at=expires_at)

    async def redeem_link_code(self, chat_id: str, code: str) -> Customer:
        """Link `chat_id` to the code's customer; unknown, used and expired codes all fail alike.

        Guessing is slowed down and then refused: after LINK_SLOW_AFTER wrong codes within
        LINK_FAILURE_WINDOW each further try waits a little longer, and after LINK_MAX_FAILURES
        the chat is refused (without the code even being looked at) until the window has passed.
        """
        now = self.now()
        async with self.db.reading() as tx:
            failures = await tx.link_failures_since(chat_id, now - LINK_FAILURE_WINDOW)
        if len(failures) >= LINK_MAX_FAILURES:
            raise LinkThrottled(failures[-LINK_MAX_FAILURES] + LINK_FAILURE_WINDOW - now)
        if len(failures) >= LINK_SLOW_AFTER:
            await asyncio.sleep(LINK_SLOWDOWN_SECONDS * (len(failures) - LINK_SLOW_AFTER + 1))
        customer = None
        async with self.db.transaction() as tx:
            customer_id = await tx.consume_link_code(hash_link_code(code.strip()), chat_id, now)
            if customer_id is None:
                await tx.record_link_failure(chat_id, now)
            else:
                await tx.link_chat(chat_id, customer_id, now)
                customer = await tx.get_customer(customer_id)
        if customer is None:
            raise InvalidLinkCode("link code is unknown, used or expired")
        return customer

    async def unlink(self, chat_id: str) -> bool:
        """Remove the chat's link; return whether there was one."""
        async with self.db.transaction() as tx:
            return await tx.unlink_chat(chat_id)

    async def linked_customer(self, chat_id: str) -> Customer | None:
        """Return the customer this chat is linked to, or None."""
        async with self.db.reading() as tx:
            customer_id = await tx.linked_customer_id(chat_id)
            return await tx.get_customer(customer_id) if customer_id else None

    # refund requests ------------------------------------------------------------------------

    async def file_request(
        self,
        *,
        customer_id: str,
        service_id: str,
        reason: Reason,
        message: str,
        account: RefundAccount | None,
        channel: str,
        chat_id: str | None,
        submission_key: str | None,
    ) -> tuple[RefundRequest, bool]:
        """File a refund request; return (request, created).

        Eligibility is checked again inside the transaction, at the moment of filing. A replayed
        submission (same `submission_key`) returns the request it already created, with
        created=False, instead of filing twice.
        """
        if not message.strip():
            raise InvalidInput("message is required")
        now = self.now()
        async with self.db.transaction() as tx:
            if submission_key is not None:
                existing = await tx.request_by_submission_key(submission_key)
                if existing is not None and existing.customer_id == customer_id:
                    return existing, False
                if existing is not None:
                    # Someone else's key: never hand back another customer's request.
                    raise NotFound(f"no service {service_id!r} for customer {customer_id!r}")
            customer = await tx.get_customer(customer_id)
            service = await tx.get_service(service_id)
            if customer is None or service is None or service.customer_id != customer_id:
                # The same answer whether the service does not exist or is someone else's.
                raise NotFound(f"no service {service_id!r} for customer {customer_id!r}")
            open_number = await tx.open_request_number(service_id)
            if open_number is not None:
                raise AlreadyOpen(open_number)
            verdict = check_eligibility(service, None, to_kst(now).date())
            if not verdict.eligible:
                raise NotEligible(service_id, verdict.reasons)
            if service.payment_method is PaymentMethod.BANK_TRANSFER:
                if account is None:
                    raise InvalidAccount("a bank-transfer refund needs a refund account")
                account = RefundAccount(
                    bank=account.bank.strip(),
                    number=normalize_account_number(account.number),
                    holder=account.holder.strip(),
                )
                if not account.bank:
                    raise InvalidAccount("bank is required")
                if not same_holder(account.holder, customer.name):
                    raise InvalidAccount("account holder must be the subscriber")
            else:
                account = None
            q = quote(service)
            request = RefundRequest(
                number=await tx.next_request_number(to_kst(now).date()),
                service_id=service_id,
                customer_id=customer_id,
                reason=reason,
                message=message.strip(),
                service_fee=q.service_fee,
                sms_charge=q.sms_charge,
                total=q.total,
                payment_method=service.payment_method,
                account=account,
                status=RequestStatus.SUBMITTED,
                channel=channel,
                chat_id=chat_id,
                created_at=now,
                updated_at=now,
            )
            await tx.insert_request(request, submission_key)
            await tx.append_event(
                AuditEvent(
                    request_number=request.number,
                    at=now,
                    actor=f"customer:{channel}:{chat_id}" if chat_id else f"customer:{channel}",
                    action="submitted",
                    detail=f"{reason.value}; {q.total:,}원",
                )
            )
        return request, True

    async def list_requests(
        self, status: RequestStatus | None = None, customer_id: str | None = None
    ) -> list[RefundRequest]:
        """Return requests, oldest first."""
        async with self.db.reading() as tx:
            return await tx.list_requests(status, customer_id)

    async def show_request(self, number: str) -> tuple[RefundRequest, list[AuditEvent]]:
        """Return a request and its audit trail, or raise NotFound."""
        async with self.db.reading() as tx:
            request = await tx.get_request(number)
            if request is None:
                raise NotFound(f"no request {number!r}")
            return request, await tx.events(number)

    async def approve(self, number: str, agent: str) -> RefundRequest:
        """Approve a submitted request."""
        return await self._transition(number, "approve", agent, None)

    async def reject(self, number: str, agent: str, reason: str) -> RefundRequest:
        """Reject a submitted or approved request, with the reason the customer will read."""
        if not reason.strip():
            raise InvalidInput("a rejection needs a reason")
        return await self._transition(number, "reject", agent, reason.strip())

    async def mark_refunded(self, number: str, agent: str) -> RefundRequest:
        """Record that the money was paid out; the service is then cancelled."""
        return await self._transition(number, "refunded", agent, None)

    async def _transition(
        self, number: str, action: str, agent: str, note: str | None
    ) -> RefundRequest:
        allowed_from, target = TRANSITIONS[action]
        now = self.now()
        async with self.db.transaction() as tx:
            request = await tx.get_request(number)
            if request is None:
                raise NotFound(f"no request {number!r}")
            if request.status not in allowed_from:
                raise IllegalTransition(
                    f"request {number} is {request.status.value}; cannot {action} it"
                )
            await tx.update_request_status(number, target, note, now)
            await self._notify_customer(tx, request, target, note, now)
            if target is RequestStatus.REFUNDED:
                await tx.set_service_status(request.service_id, ServiceStatus.CANCELLED, now)
            await tx.append_event(
                AuditEvent(
                    request_number=number,
                    at=now,
                    actor=f"agent:{agent}",
                    action=target.value,
                    detail=note or "",
                )
            )
            updated = await tx.get_request(number)
        assert updated is not None
        return updated

    async def _notify_customer(
        self,
        tx: Tx,
        request: RefundRequest,
        status: RequestStatus,
        note: str | None,
        now: datetime,
    ) -> None:
        """Queue the customer's notification in the same transaction as the decision.

        It goes to the chat the request was filed from; a request filed elsewhere (the web
        console) goes to the customer's most recently linked chat, if any.
        """
        chat_id = request.chat_id
        if chat_id is None:
            chats = await tx.linked_chats(request.customer_id)
            chat_id = chats[0] if chats else None
        if chat_id is None:
            return
        account = request.account
        payload: dict[str, Any] = {
            "number": request.number,
            "service_id": request.service_id,
            "total": request.total,
            "payment_method": request.payment_method.value,
            "decided_on": to_kst(now).date().isoformat(),
            "note": note,
            "bank": account.bank if account else None,
            "account_last4": "".join(ch for ch in account.number if ch.isdigit())[-4:]
            if account
            else None,
        }
        await tx.enqueue(chat_id, f"request_{status.value}", payload, now)

    # inquiries (hand-off to the customer centre) --------------------------------------------

    async def file_inquiry(
        self,
        *,
        customer_id: str,
        service_id: str | None,
        topic: str,
        context: str,
        message: str,
        transcript: list[str],
        attachments: list[Attachment],
        channel: str,
        chat_id: str | None,
        submission_key: str | None,
    ) -> tuple[Inquiry, bool]:
        """File an inquiry for an agent; a replayed submission returns the first one."""
        if not message.strip():
            raise InvalidInput("an inquiry needs a message")
        now = self.now()
        async with self.db.transaction() as tx:
            if submission_key is not None:
                existing = await tx.inquiry_by_submission_key(submission_key)
                if existing is not None and existing.customer_id == customer_id:
                    return existing, False
            if await tx.get_customer(customer_id) is None:
                raise NotFound(f"no customer {customer_id!r}")
            inquiry = Inquiry(
                number=await tx.next_inquiry_number(to_kst(now).date()),
                customer_id=customer_id,
                service_id=service_id,
                topic=topic,
                context=context,
                message=message.strip(),
                transcript=tuple(transcript),
                attachments=tuple(attachments),
                status="open",
                channel=channel,
                chat_id=chat_id,
                created_at=now,
                updated_at=now,
            )
            await tx.insert_inquiry(inquiry, submission_key)
        return inquiry, True

    async def list_inquiries(self, status: str | None = None) -> list[Inquiry]:
        """Return inquiries, oldest first."""
        async with self.db.reading() as tx:
            return await tx.list_inquiries(status)

    async def show_inquiry(self, number: str) -> Inquiry:
        """Return one inquiry or raise NotFound."""
        async with self.db.reading() as tx:
            inquiry = await tx.get_inquiry(number)
        if inquiry is None:
            raise NotFound(f"no inquiry {number!r}")
        return inquiry

    async def answer_inquiry(self, number: str, agent: str, answer: str) -> Inquiry:
        """Answer an inquiry; the answer reaches the customer's chat through the outbox."""
        if not answer.strip():
            raise InvalidInput("an answer needs text")
        now = self.now()
        async with self.db.transaction() as tx:
            inquiry = await tx.get_inquiry(number)
            if inquiry is None:
                raise NotFound(f"no inquiry {number!r}")
            if inquiry.status == "closed":
                raise IllegalTransition(f"inquiry {number} is closed; cannot answer it")
            await tx.update_inquiry(number, "answered", answer.strip(), agent, now)
            if inquiry.chat_id:
                await tx.enqueue(
                    inquiry.chat_id,
                    "inquiry_answer",
                    {"number": number, "answer": answer.strip()},
                    now,
                )
            updated = await tx.get_inquiry(number)
        assert updated is not None
        return updated

    async def close_inquiry(self, number: str, agent: str) -> Inquiry:
        """Close an inquiry (no message is sent)."""
        now = self.now()
        async with self.db.transaction() as tx:
            inquiry = await tx.get_inquiry(number)
            if inquiry is None:
                raise NotFound(f"no inquiry {number!r}")
            if inquiry.status == "closed":
                raise IllegalTransition(f"inquiry {number} is already closed")
            await tx.update_inquiry(number, "closed", None, agent, now)
            updated = await tx.get_inquiry(number)
        assert updated is not None
        return updated

    # outbox delivery ------------------------------------------------------------------------

    async def claim_notifications(
        self, chat_prefix: str, lease: timedelta, limit: int = 20, *, exact: bool = False
    ) -> list[OutboxItem]:
        """Claim due notifications of chats starting with `chat_prefix` (or equal to it)."""
        now = self.now()
        async with self.db.transaction() as tx:
            return await tx.claim_due(chat_prefix, now, now + lease, limit, exact=exact)

    async def notification_sent(self, item: OutboxItem) -> None:
        """Record that a notification was delivered (under the claim it was sent with)."""
        async with self.db.transaction() as tx:
            await tx.mark_sent(item.id, self.now(), item.claimed_until)

    async def notification_failed(
        self, item: OutboxItem, error: str, retry_in: timedelta | None
    ) -> None:
        """Record a failed delivery: retry after `retry_in`, or give up when it is None."""
        now = self.now()
        async with self.db.transaction() as tx:
            if retry_in is None:
                await tx.mark_failed(item.id, error, now, item.claimed_until)
            else:
                await tx.mark_retry(item.id, error, now + retry_in, item.claimed_until)

    async def outbox(self) -> list[dict[str, Any]]:
        """Every outbox row (operators, tests)."""
        async with self.db.reading() as tx:
            return await tx.outbox_rows()

    # FAQ events -----------------------------------------------------------------------------

    async def log_faq_event(
        self,
        *,
        chat_id: str | None,
        kind: str,
        intent: str | None,
        text: str,
        normalized: str,
        helpful: bool | None = None,
    ) -> None:
        """Record an FAQ outcome or a 👍/👎 for later analysis."""
        async with self.db.transaction() as tx:
            await tx.log_faq_event(
                at=self.now(),
                chat_id=chat_id,
                kind=kind,
                intent=intent,
                text=text,
                normalized=normalized,
                helpful=helpful,
            )

    async def faq_events(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """FAQ events in a period."""
        async with self.db.reading() as tx:
            return await tx.faq_events(since, until)

    async def request_events_between(self, since: datetime, until: datetime) -> list[AuditEvent]:
        """Request audit events in a period."""
        async with self.db.reading() as tx:
            return await tx.request_events_between(since, until)

    # dialogue state -------------------------------------------------------------------------

    async def load_conversation(self, chat_id: str) -> ConversationRecord:
        """Return the chat's stored conversation (version 0 when it has none yet)."""
        async with self.db.reading() as tx:
            row = await tx.load_conversation(chat_id)
        if row is None:
            return ConversationRecord(state="idle", data={}, version=0, updated_at=None)
        state, data, version, updated_at = row
        return ConversationRecord(state=state, data=data, version=version, updated_at=updated_at)

    async def save_conversation(
        self, chat_id: str, state: str, data: dict[str, Any], version: int
    ) -> bool:
        """Store the chat's conversation unless it changed since `version` (then False)."""
        async with self.db.transaction() as tx:
            return await tx.save_conversation(chat_id, state, data, version, self.now())
