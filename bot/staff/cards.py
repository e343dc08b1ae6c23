"""What a case looks like in the staff chat: its topic's name, its card and the card's buttons.

Pure functions of a `StaffCase` (read from the database when the card is posted or edited, so a
late card shows the case as it is now). Plain text only: customer text can never break markup.
Button payloads are `staff:<action>:<case>[:<arg>]`; the bot trusts none of them (see desk.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from core.calendar import to_kst
from core.models import AuditEvent, InquiryEvent, PaymentMethod, RequestStatus
from core.policy import day_number
from core.storage.staff import OpenCase
from core.usecases import StaffCase

PAYLOAD_PREFIX = "staff:"
MAX_CARD = 4000  # characters: under Telegram's 4,096 per message
MAX_QUEUE_LINES = 40

# Card buttons act on the card they are on; the others on a prompt in the case's topic.
APPROVE, REJECT, REFUNDED, CLOSE = "ok", "no", "paid", "close"
REASON, CANCEL = "rr", "rx"
CARD_ACTIONS = frozenset({APPROVE, REJECT, REFUNDED, CLOSE})
ALL_ACTIONS = CARD_ACTIONS | {REASON, CANCEL}

DECISIONS = ("approved", "rejected", "refunded", "withdrawn", "answered", "closed")

Buttons = tuple[tuple[tuple[str, str], ...], ...]
"""Rows of (label, callback data)."""


@dataclass(frozen=True)
class Press:
    """A staff button press, parsed (not yet trusted)."""

    action: str
    number: str
    arg: int | None = None


def payload(action: str, number: str, arg: int | None = None) -> str:
    """The callback data of a staff button."""
    tail = f":{arg}" if arg is not None else ""
    return f"{PAYLOAD_PREFIX}{action}:{number}{tail}"


def parse(data: str) -> Press | None:
    """A staff button's callback data, or None when it is not one."""
    if not data.startswith(PAYLOAD_PREFIX):
        return None
    parts = data[len(PAYLOAD_PREFIX) :].split(":")
    if len(parts) not in (2, 3) or parts[0] not in ALL_ACTIONS or not parts[1]:
        return None
    arg = None
    if len(parts) == 3:
        if not parts[2].isdigit():
            return None
        arg = int(parts[2])
    return Press(parts[0], parts[1], arg)


def topic_name(case: StaffCase) -> str:
    """`R-20261201-0003 · 정다은 · SMS-1002`."""
    customer = case.customer.name if case.customer else case.topic.customer_id
    subject = case.service.id if case.service else None
    if case.request is not None:
        subject = case.request.service_id
    return texts.staff_topic_name(case.number, customer, subject or texts.STAFF_TOPIC_INQUIRY)


def last_decision(trail: tuple[AuditEvent | InquiryEvent, ...]) -> str | None:
    """Who decided last and when, as the card shows it."""
    for event in reversed(trail):
        if event.action in DECISIONS:
            return texts.staff_decision(event.action, event.actor, event.at)
    return None


def card(case: StaffCase) -> tuple[str, Buttons]:
    """The case's card and the buttons its state allows."""
    if case.request is not None:
        text, buttons = _request_card(case)
    elif case.inquiry is not None:
        text, buttons = _inquiry_card(case)
    else:
        return f"{case.number}: 기록을 찾을 수 없어요.", ()
    if len(text) > MAX_CARD:
        text = text[: MAX_CARD - 1] + "…"
    return text, buttons


def _request_card(case: StaffCase) -> tuple[str, Buttons]:
    request = case.request
    assert request is not None
    service = case.service
    filed_on = to_kst(request.created_at).date()
    if request.payment_method is PaymentMethod.MYCASH or request.account is None:
        route = texts.STAFF_ROUTE_MYCASH
    else:
        account = request.account
        route = texts.staff_route_bank(account.bank, account.masked_number, account.holder)
    text = texts.staff_request_card(
        number=request.number,
        status=request.status,
        customer=case.customer.name if case.customer else "-",
        customer_id=request.customer_id,
        service_id=request.service_id,
        day=max(1, day_number(service.issued_on, filed_on)) if service else None,
        sms_sent=service.sms_sent if service else None,
        fee=request.service_fee,
        charge=request.sms_charge,
        route=route,
        reason=request.reason.value,
        message=request.message,
        filed=request.created_at,
        channel=request.channel,
        decision=last_decision(case.trail),
        note=request.decision_note,
    )
    number = request.number
    if request.status is RequestStatus.SUBMITTED:
        row = ((texts.STAFF_BTN_APPROVE, payload(APPROVE, number)),)
        row += ((texts.STAFF_BTN_REJECT, payload(REJECT, number)),)
        return text, (row,)
    if request.status is RequestStatus.APPROVED:
        row = ((texts.STAFF_BTN_REFUNDED, payload(REFUNDED, number)),)
        row += ((texts.STAFF_BTN_REJECT, payload(REJECT, number)),)
        return text, (row,)
    return text, ()


def _inquiry_card(case: StaffCase) -> tuple[str, Buttons]:
    inquiry = case.inquiry
    assert inquiry is not None
    refund = None
    if inquiry.refund is not None:
        parts = []
        if inquiry.refund.reason:
            parts.append(inquiry.refund.reason.value)
        if inquiry.refund.account:
            account = inquiry.refund.account
            parts.append(
                texts.staff_route_bank(account.bank, account.masked_number, account.holder)
            )
        if inquiry.refund.message:
            parts.append(inquiry.refund.message)
        refund = " · ".join(parts) or None
    text = texts.staff_inquiry_card(
        number=inquiry.number,
        status=inquiry.status,
        customer=case.customer.name if case.customer else "-",
        customer_id=inquiry.customer_id,
        service_id=inquiry.service_id,
        context=inquiry.context,
        message=inquiry.message,
        refund=refund,
        transcript=inquiry.transcript,
        files=len(inquiry.attachments),
        filed=inquiry.created_at,
        channel=inquiry.channel,
        decision=last_decision(case.trail),
    )
    if inquiry.status == "closed":
        return text, ()
    return text, (((texts.STAFF_BTN_CLOSE, payload(CLOSE, inquiry.number)),),)


def reject_prompt_buttons(number: str) -> Buttons:
    """The canned reasons (two per row) and a way to take the 반려 back."""
    reasons = [
        (label, payload(REASON, number, index))
        for index, (label, _) in enumerate(texts.STAFF_CANNED_REASONS)
    ]
    rows = tuple(tuple(reasons[i : i + 2]) for i in range(0, len(reasons), 2))
    return (*rows, ((texts.STAFF_BTN_CANCEL, payload(CANCEL, number)),))


def canned_reason(index: int | None) -> str | None:
    """The reason the customer reads for a canned-reason button, or None."""
    if index is None or not 0 <= index < len(texts.STAFF_CANNED_REASONS):
        return None
    return texts.STAFF_CANNED_REASONS[index][1]


def topic_link(chat_id: int, thread_id: int) -> str:
    """A t.me link that opens a topic of a supergroup (for members)."""
    internal = str(chat_id).removeprefix("-100")
    return f"https://t.me/c/{internal}/{thread_id}"


def queue_text(cases: list[OpenCase], chat_id: int) -> str:
    """The pinned queue message: open cases oldest first, each with a link to its topic."""
    if not cases:
        return texts.STAFF_QUEUE_EMPTY
    lines = [texts.staff_queue_header(len(cases))]
    size = len(lines[0])
    shown = 0
    for case in cases[:MAX_QUEUE_LINES]:
        if case.kind == "request":
            state = texts.STATUS_LABELS[RequestStatus(case.status)]
        else:
            state = texts.INQUIRY_STATUS_LABELS.get(case.status, case.status)
        subject = case.service_id or texts.STAFF_TOPIC_INQUIRY
        line = texts.staff_queue_line(
            case.number, case.customer_name, subject, state, case.created_at
        )
        if case.thread_id is not None:
            line += f"\n  {topic_link(chat_id, case.thread_id)}"
        if size + len(line) + 1 > MAX_CARD:
            break
        lines.append(line)
        size += len(line) + 1
        shown += 1
    if shown < len(cases):
        lines.append(texts.STAFF_QUEUE_MORE.format(count=len(cases) - shown))
    return "\n".join(lines)
