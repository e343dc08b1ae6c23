"""Refund requests: filing them from the chat, and the agents' review decisions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.calendar import to_kst
from core.errors import (
    AlreadyOpen,
    IllegalTransition,
    InvalidAccount,
    InvalidInput,
    NotEligible,
    NotFound,
)
from core.models import (
    AuditEvent,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    RequestStatus,
    ServiceStatus,
)
from core.policy import check_eligibility, quote
from core.storage import Tx
from core.text import squash
from core.usecases.base import UseCases, customer_chat, replayed
from core.usecases.staff import case_changed, case_filed

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
class Filing:
    """What the customer filled in: the service, reason, message and (bank transfer) account."""

    customer_id: str
    service_id: str
    reason: Reason
    message: str
    account: RefundAccount | None
    channel: str
    chat_id: str | None
    submission_key: str | None


def same_holder(a: str, b: str) -> bool:
    """Compare account holder names the way a bank clerk would: spacing and width ignored."""
    return squash(a) == squash(b) and bool(squash(a))


def normalize_account_number(raw: str) -> str:
    """Validate an account number (digits and hyphens, 10–16 digits) and return it trimmed."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if not _ACCOUNT_SHAPE.match(text):
        raise InvalidAccount("an account number may contain only digits and hyphens")
    digits = sum(ch.isdigit() for ch in text)
    if not ACCOUNT_DIGITS_MIN <= digits <= ACCOUNT_DIGITS_MAX:
        raise InvalidAccount(
            f"an account number must have {ACCOUNT_DIGITS_MIN}-{ACCOUNT_DIGITS_MAX} digits"
        )
    return text


def customer_actor(channel: str, chat_id: str | None) -> str:
    """The audit actor of a customer in a chat: `customer:console:alice`, `customer:tg:42`.

    Chat ids of the channels already start with their channel's prefix; it is not repeated.
    """
    if chat_id is None:
        return f"customer:{channel}"
    if chat_id.startswith(f"{channel}:") or ":" in chat_id:
        return f"customer:{chat_id}"
    return f"customer:{channel}:{chat_id}"


class Requests(UseCases):
    """Filing, listing and reviewing refund requests."""

    async def file(self, filing: Filing, *, tx: Tx | None = None) -> tuple[RefundRequest, bool]:
        """File a refund request; return (request, created).

        Eligibility is checked again inside the transaction, at the moment of filing. A replayed
        submission (same key) returns the request it already created, with created=False.
        """
        if not filing.message.strip():
            raise InvalidInput("a request needs a message")
        now = self.now()
        async with self.writing(tx) as tx:
            if filing.submission_key is not None:
                existing = await tx.requests.by_submission_key(filing.submission_key)
                if replayed(existing, filing.customer_id) is not None:
                    assert existing is not None
                    return existing, False
            try:
                request = await self._new_request(tx, filing, now)
            except AlreadyOpen:
                # Another process filed this very submission while we waited for the service.
                if filing.submission_key is not None:
                    existing = await tx.requests.by_submission_key(filing.submission_key)
                    if replayed(existing, filing.customer_id) is not None:
                        assert existing is not None
                        return existing, False
                raise
            await tx.requests.insert(request, filing.submission_key)
            await tx.requests.append_event(
                AuditEvent(
                    request_number=request.number,
                    at=now,
                    actor=customer_actor(filing.channel, filing.chat_id),
                    action=RequestStatus.SUBMITTED.value,
                    detail=f"{filing.reason.value}; {request.total:,}원",
                )
            )
            await case_filed(tx, "request", request.number, request.customer_id, now)
        return request, True

    async def _new_request(self, tx: Tx, filing: Filing, now: datetime) -> RefundRequest:
        customer = await tx.customers.get(filing.customer_id)
        # Locked: a filing for the same service in another process waits, then sees this one.
        service = await tx.customers.get_service(filing.service_id, for_update=True)
        if customer is None or service is None or service.customer_id != filing.customer_id:
            # The same answer whether the service does not exist or is someone else's.
            raise NotFound(f"no service {filing.service_id!r} for customer {filing.customer_id!r}")
        open_number = await tx.requests.open_number(service.id)
        if open_number is not None:
            raise AlreadyOpen(open_number)
        verdict = check_eligibility(service, None, to_kst(now).date())
        if not verdict.eligible:
            raise NotEligible(service.id, verdict.reasons)
        account = None
        if service.payment_method is PaymentMethod.BANK_TRANSFER:
            account = _checked_account(filing.account, customer.name)
        q = quote(service)
        return RefundRequest(
            number=await tx.next_number("R", to_kst(now).date()),
            service_id=service.id,
            customer_id=customer.id,
            reason=filing.reason,
            message=filing.message.strip(),
            service_fee=q.service_fee,
            sms_charge=q.sms_charge,
            total=q.total,
            payment_method=service.payment_method,
            account=account,
            status=RequestStatus.SUBMITTED,
            channel=filing.channel,
            chat_id=filing.chat_id,
            created_at=now,
            updated_at=now,
        )

    async def list(
        self,
        status: RequestStatus | None = None,
        customer_id: str | None = None,
        *,
        tx: Tx | None = None,
    ) -> list[RefundRequest]:
        """Return requests, oldest first."""
        async with self.reading(tx) as tx:
            return await tx.requests.list(status, customer_id)

    async def get(self, number: str, *, tx: Tx | None = None) -> RefundRequest:
        """Return one request, or raise NotFound."""
        async with self.reading(tx) as tx:
            request = await tx.requests.get(number)
        if request is None:
            raise NotFound(f"no request {number!r}")
        return request

    async def show(self, number: str) -> tuple[RefundRequest, list[AuditEvent]]:
        """Return a request and its audit trail, or raise NotFound."""
        async with self.db.reading() as tx:
            request = await tx.requests.get(number)
            if request is None:
                raise NotFound(f"no request {number!r}")
            return request, await tx.requests.events(number)

    async def events_between(self, since: datetime, until: datetime) -> list[AuditEvent]:
        """Request audit events in a period."""
        async with self.db.reading() as tx:
            return await tx.requests.events_between(since, until)

    async def approve(self, number: str, agent: str) -> RefundRequest:
        """Approve a submitted request."""
        return await self._decide(number, "approve", agent, None)

    async def reject(self, number: str, agent: str, reason: str) -> RefundRequest:
        """Reject a submitted or approved request, with the reason the customer will read."""
        if not reason.strip():
            raise InvalidInput("a rejection needs a reason")
        return await self._decide(number, "reject", agent, reason.strip())

    async def mark_refunded(self, number: str, agent: str) -> RefundRequest:
        """Record that the money was paid out; the service is then cancelled."""
        return await self._decide(number, "refunded", agent, None)

    async def withdraw(
        self,
        number: str,
        *,
        customer_id: str,
        channel: str,
        chat_id: str | None,
        tx: Tx | None = None,
    ) -> RefundRequest:
        """The customer takes back their own submitted request (before any review).

        Only `submitted` can be withdrawn this way: an approved request is already being paid
        out and goes through the customer centre. Another customer's number is NotFound.
        """
        now = self.now()
        async with self.writing(tx) as tx:
            request = await tx.requests.get(number, for_update=True)
            if request is None or request.customer_id != customer_id:
                raise NotFound(f"no request {number!r} for customer {customer_id!r}")
            if request.status is not RequestStatus.SUBMITTED:
                raise IllegalTransition(
                    f"request {number} is {request.status.value}, so it cannot be withdrawn"
                )
            await tx.requests.update_status(number, RequestStatus.WITHDRAWN, None, now)
            await tx.requests.append_event(
                AuditEvent(
                    request_number=number,
                    at=now,
                    actor=customer_actor(channel, chat_id),
                    action=RequestStatus.WITHDRAWN.value,
                )
            )
            await case_changed(
                tx,
                "request",
                number,
                customer_id,
                RequestStatus.WITHDRAWN.value,
                customer_actor(channel, chat_id),
                "",
                now,
            )
            updated = await tx.requests.get(number)
        assert updated is not None
        return updated

    async def _decide(
        self, number: str, action: str, agent: str, note: str | None
    ) -> RefundRequest:
        allowed_from, target = TRANSITIONS[action]
        now = self.now()
        async with self.db.transaction() as tx:
            # Locked: a second agent deciding at once waits, then finds the new status.
            request = await tx.requests.get(number, for_update=True)
            if request is None:
                raise NotFound(f"no request {number!r}")
            if request.status not in allowed_from:
                raise IllegalTransition(
                    f"request {number} is {request.status.value}, so it cannot be {target.value}"
                )
            await tx.requests.update_status(number, target, note, now)
            await _notify_customer(tx, request, target, note, now)
            if target is RequestStatus.REFUNDED:
                await tx.customers.set_service_status(
                    request.service_id, ServiceStatus.CANCELLED, now
                )
            await tx.requests.append_event(
                AuditEvent(
                    request_number=number,
                    at=now,
                    actor=f"agent:{agent}",
                    action=target.value,
                    detail=note or "",
                )
            )
            await case_changed(
                tx,
                "request",
                number,
                request.customer_id,
                target.value,
                f"agent:{agent}",
                note or "",
                now,
            )
            updated = await tx.requests.get(number)
        assert updated is not None
        return updated


def _checked_account(account: RefundAccount | None, subscriber: str) -> RefundAccount:
    """The refund account tidied, or InvalidAccount when self-service cannot accept it."""
    if account is None:
        raise InvalidAccount("a bank-transfer refund needs a refund account")
    checked = RefundAccount(
        bank=account.bank.strip(),
        number=normalize_account_number(account.number),
        holder=account.holder.strip(),
    )
    if not checked.bank:
        raise InvalidAccount("a refund account needs its bank")
    if not same_holder(checked.holder, subscriber):
        raise InvalidAccount("the account holder must be the subscriber")
    return checked


async def _notify_customer(
    tx: Tx, request: RefundRequest, status: RequestStatus, note: str | None, now: datetime
) -> None:
    """Queue the customer's notification in the same transaction as the decision.

    It goes to the chat the request was filed from while that chat is still linked to the
    customer, else to their most recently linked chat (a request filed on the web, a chat that
    unlinked); with no linked chat there is nobody to tell (the decision shows in /status).
    """
    chat_id = await customer_chat(tx, request.customer_id, request.chat_id)
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
        "customer_id": request.customer_id,
    }
    if status is RequestStatus.REJECTED:
        # Rejected inside the 7 days: the customer may file again, and is told until when.
        service = await tx.customers.get_service(request.service_id)
        if service is not None:
            verdict = check_eligibility(service, None, to_kst(now).date())
            if verdict.eligible:
                payload["refile_until"] = verdict.last_day.isoformat()
    await tx.outbox.enqueue(chat_id, f"request_{status.value}", payload, now)
