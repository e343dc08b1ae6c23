"""What the customer's own services allow today, in words: which can be cancelled, and why not."""

from __future__ import annotations

from bot import texts
from bot.dialogue.events import Button, Rows, rows
from bot.dialogue.menus import CONTACT, HANDOFF, START_REFUND, STATUS
from bot.dialogue.payloads import MAX_PAYLOAD_BYTES, global_payload
from bot.dialogue.turn import Turn
from core.policy import Eligibility, NotActive, PastDeadline, RequestOpen, SmsUsed, quote
from core.usecases import ServiceView


def reason_text(verdict: Eligibility) -> str:
    """One service's reasons, e.g. `SMS-1002: 발급 후 9일째(…), SMS 3건 발송`."""
    parts: list[str] = []
    for reason in verdict.reasons:
        if isinstance(reason, PastDeadline):
            line = texts.past_deadline_line(verdict.service_id, reason.day, reason.last_day)
        elif isinstance(reason, SmsUsed):
            line = texts.sms_used_line(verdict.service_id, reason.sent)
        elif isinstance(reason, RequestOpen):
            line = texts.open_request_line(verdict.service_id, reason.number)
        elif isinstance(reason, NotActive):
            line = texts.not_active_line(verdict.service_id)
        else:  # pragma: no cover - the union is exhaustive
            continue
        parts.append(line if not parts else line.split(": ", 1)[1])
    return ", ".join(parts)


def next_steps(view: ServiceView) -> Rows:
    """The buttons that help with one service that cannot be cancelled in self-service."""
    if any(isinstance(r, RequestOpen) for r in view.eligibility.reasons):
        return ((STATUS,),)
    return ((HANDOFF,), (CONTACT,))


def next_step_lines(view: ServiceView) -> list[str]:
    """What to do about one service that cannot be cancelled, in words."""
    return blocked_lines([view])[1:]


def blocked_lines(blocked: list[ServiceView]) -> list[str]:
    """A bullet per service that cannot be cancelled, then the next step for each kind."""
    lines = [f"• {reason_text(v.eligibility)}" for v in blocked]
    kinds = {type(r) for v in blocked for r in v.eligibility.reasons}
    if PastDeadline in kinds:
        lines.append(texts.NEXT_STEP_PAST_DEADLINE)
    if SmsUsed in kinds:
        lines.append(texts.NEXT_STEP_SMS_USED)
    if RequestOpen in kinds:
        lines.append(texts.NEXT_STEP_OPEN)
    return lines


async def not_cancellable_text(
    turn: Turn, *, with_open: bool = False
) -> tuple[str, bool, bool]:
    """The customer's services that are not cancellable and why; with *with_open*, then those
    that still are (the customer who read the late answer may be thinking of one of them:
    "지난달에 신청한 거" on the 1st can be a service issued on the 28th). Also whether any is
    blocked and whether any can still be cancelled."""
    views = await turn.services()
    blocked = [v for v in views if not v.eligibility.eligible]
    open_ = [v for v in views if v.eligibility.eligible]
    if not views:
        return texts.NO_SERVICES, False, False
    if not blocked:
        return texts.ALL_CANCELLABLE, False, True
    lines = [texts.NOT_CANCELLABLE_HEADER, *blocked_lines(blocked)]
    if open_ and with_open:
        lines += ["", texts.STILL_CANCELLABLE_HEADER]
        for view in open_:
            q = quote(view.service)
            lines.append(
                "• "
                + texts.amount_line(
                    view.service.id, q.service_fee, q.sms_charge, view.eligibility.last_day,
                    turn.today,
                )
            )
    return "\n".join(lines), True, bool(open_) and with_open


async def service_facts(turn: Turn, view: ServiceView) -> None:
    """One service the customer asked about: what it would refund and until when, or why it
    cannot be cancelled in self-service and what to do instead."""
    if not view.eligibility.eligible:
        why = texts.service_not_offered(reason_text(view.eligibility), next_step_lines(view))
        turn.say(why, next_steps(view))
        return
    q = quote(view.service)
    line = texts.amount_line(
        view.service.id, q.service_fee, q.sms_charge, view.eligibility.last_day, turn.today
    )
    payload = global_payload("refund", view.service.id)
    if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:  # a very long id: the list instead
        payload = global_payload("refund")
    start = Button(texts.service_start_button(view.service.id), payload)
    turn.say(texts.SERVICE_CANCELLABLE + "\n• " + line, ((start,),))


async def refund_amounts_text(turn: Turn) -> str:
    """What the linked customer would get back, service by service (or why nothing)."""
    views = await turn.services()
    if not views:
        return texts.NO_SERVICES
    eligible = [v for v in views if v.eligibility.eligible]
    lines = [texts.MY_AMOUNTS_HEADER]
    for view in eligible:
        q = quote(view.service)
        lines.append(
            "• "
            + texts.amount_line(
                view.service.id, q.service_fee, q.sms_charge, view.eligibility.last_day, turn.today
            )
        )
    lines += blocked_lines([v for v in views if not v.eligibility.eligible])
    return "\n".join(lines)


async def blocked_context(turn: Turn) -> str:
    """Why self-service stops for this customer, for the agent reading a hand-off."""
    blocked = [v for v in await turn.services() if not v.eligibility.eligible]
    return "\n".join(reason_text(v.eligibility) for v in blocked) or texts.INQUIRY_CONTEXT_NONE


async def my_services(turn: Turn) -> None:
    """Every service of the customer: cancellable ones with their refund, the others with why."""
    if turn.customer is None:
        turn.say(texts.NOT_LINKED)
        return
    views = await turn.services()
    if not views:
        turn.say(texts.NO_SERVICES)
        return
    eligible = [v for v in views if v.eligibility.eligible]
    lines = [texts.MY_SERVICES_HEADER]
    for view in eligible:
        total = quote(view.service).total
        lines.append(
            "• "
            + texts.eligible_line(view.service.id, total, view.eligibility.last_day, turn.today)
        )
    lines += blocked_lines([v for v in views if not v.eligibility.eligible])
    buttons: list[Button] = []
    if eligible:
        buttons.append(START_REFUND)
    if len(eligible) < len(views):
        buttons.append(HANDOFF)
    turn.say("\n".join(lines), rows(buttons))
