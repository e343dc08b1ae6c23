"""Withdrawing a filed request: the customer names it (or it is the only one) and confirms.

Only a request still waiting for review (`submitted`) can be withdrawn in the chat; an approved
one is already being paid out and goes to the customer centre.
"""

from __future__ import annotations

import secrets

from bot import texts
from bot.dialogue.events import Reply, rows
from bot.dialogue.flow import Form, GoTo, Outcome, State, Stay, Step
from bot.dialogue.inputs import position, yes_to_withdraw
from bot.dialogue.menus import HANDOFF, START_REFUND
from bot.dialogue.payloads import index
from bot.dialogue.turn import Turn
from bot.dialogue.wishes import service_digits_in
from core.calendar import to_kst
from core.errors import IllegalTransition, NotFound
from core.models import RefundRequest, RequestStatus
from core.policy import check_eligibility

WITHDRAW_FORMS: dict[str, Form] = {"withdraw": (State.WITHDRAW,)}
"""One step: which request (when there are several) and the confirmation, together."""


async def start_withdraw(turn: Turn) -> Outcome:
    """Offer the customer's submitted requests for withdrawal, or say why there are none."""
    if turn.customer is None:
        turn.reset()
        turn.say(texts.NOT_LINKED)
        return Stay()
    requests = await turn.deps.helpdesk.requests.list(customer_id=turn.customer.id, tx=turn.tx)
    submitted = [r.number for r in requests if r.status is RequestStatus.SUBMITTED]
    customer_id = turn.customer.id
    turn.reset()
    if not submitted:
        approved = [r.number for r in requests if r.status is RequestStatus.APPROVED]
        if approved:
            turn.say(texts.cannot_withdraw_approved(approved[-1]), ((HANDOFF,),))
        else:
            turn.say(texts.NOTHING_TO_WITHDRAW)
        return Stay()
    turn.data.flow = secrets.token_urlsafe(6)
    turn.data.customer = customer_id
    turn.data.options = submitted
    return GoTo(State.WITHDRAW)


class Withdraw(Step):
    """[R-… 철회하기] for each submitted request (one: the question and one button)."""

    state = State.WITHDRAW

    async def prompt(self, turn: Turn) -> Reply:
        numbers = turn.data.options
        keep = turn.flow_button(texts.BTN_KEEP, "stop")
        if len(numbers) == 1:
            request = await turn.deps.helpdesk.requests.get(numbers[0], tx=turn.tx)
            question = texts.withdraw_question(request.number, request.service_id, request.total)
            confirm = turn.flow_button(texts.BTN_WITHDRAW, "wd", 0)
            return Reply(question, ((confirm,), (keep,)))
        lines, buttons = [texts.WITHDRAW_CHOOSE], []
        for i, request in enumerate(await _requests(turn)):
            filed = to_kst(request.created_at).date()
            number, service_id, total = request.number, request.service_id, request.total
            lines.append(texts.withdraw_line(number, service_id, total, filed))
            label = texts.withdraw_button(service_id, total)
            buttons.append(turn.flow_button(label, "wd", i))
        lines.append(texts.WITHDRAW_TYPE_HINT)
        return Reply("\n".join(lines), (*rows(buttons, 1), (keep,)))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        chosen = index(arg, len(turn.data.options)) if action == "wd" else None
        if chosen is None:
            return None
        assert turn.customer is not None
        number = turn.data.options[chosen]
        try:
            request = await turn.deps.helpdesk.requests.withdraw(
                number,
                customer_id=turn.customer.id,
                channel=turn.deps.channel,
                chat_id=turn.chat_id,
                tx=turn.tx,
            )
        except (IllegalTransition, NotFound):
            # Decided by an agent while the question was open: start again from the facts.
            turn.reset()
            return await start_withdraw(turn)
        turn.services_changed()
        view = await turn.service(request.service_id)
        refile = None
        if view is not None:
            verdict = check_eligibility(view.service, None, turn.today)
            refile = texts.until(verdict.last_day, turn.today) if verdict.eligible else None
        turn.reset()
        turn.say(texts.withdrawn(number, refile), ((START_REFUND,),) if refile else ())
        return Stay()

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        numbers = turn.data.options
        if len(numbers) == 1 and yes_to_withdraw(text):
            return await self.on_press(turn, "wd", "0")
        chosen = position(text, len(numbers))
        typed = "".join(text.split()).upper()
        services = service_digits_in(text)
        for i, request in enumerate(await _requests(turn)):
            digits = "".join(ch for ch in request.service_id if ch.isdigit())
            if request.number in typed or (digits and digits in services):
                chosen = i  # its request number, or its service's id ("1005", "SMS-1005")
        return await self.on_press(turn, "wd", str(chosen)) if chosen is not None else None


async def _requests(turn: Turn) -> list[RefundRequest]:
    """The requests offered for withdrawal, in the order of their buttons."""
    helpdesk = turn.deps.helpdesk
    return [await helpdesk.requests.get(number, tx=turn.tx) for number in turn.data.options]


STEPS: tuple[Step, ...] = (Withdraw(),)
