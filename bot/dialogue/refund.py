"""The refund request: choose a service, see the breakdown, give reason, message and (for a
bank transfer) the account, confirm — one step object per state, in the order of its form."""

from __future__ import annotations

import secrets

from bot import texts
from bot.dialogue.events import Reply, rows
from bot.dialogue.flow import Form, GoTo, Next, Outcome, Reprompt, State, Stay, Step
from bot.dialogue.inputs import (
    bank_guess,
    clean_message,
    holder_of,
    label_in,
    position,
    reason_named,
    required_text,
    service_id_typed,
    yes_word,
)
from bot.dialogue.inquiry import start_inquiry
from bot.dialogue.menus import CONTACT, HANDOFF, NOT_LISTED, STATUS
from bot.dialogue.payloads import index
from bot.dialogue.services import blocked_lines, next_step_lines, next_steps, reason_text
from bot.dialogue.turn import Turn
from bot.dialogue.wishes import STATUS_TOPIC, named_service
from core.calendar import mycash_credit_window, today_kst
from core.errors import AlreadyOpen, InvalidAccount, NotEligible, NotFound
from core.models import PaymentMethod, Reason, RefundAccount, RefundRequest
from core.policy import quote
from core.usecases import Filing, ServiceView, normalize_account_number, same_holder

REFUND_FORMS: dict[PaymentMethod, Form] = {
    PaymentMethod.MYCASH: (
        State.CHOOSE_SERVICE,
        State.BREAKDOWN,
        State.REASON,
        State.MESSAGE,
        State.CONFIRM,
    ),
    PaymentMethod.BANK_TRANSFER: (
        State.CHOOSE_SERVICE,
        State.BREAKDOWN,
        State.REASON,
        State.MESSAGE,
        State.BANK,
        State.ACCOUNT,
        State.HOLDER,
        State.CONFIRM,
    ),
}
"""The request's steps, by how the service was paid (a bank transfer needs an account)."""

ENTRIES = (State.CHOOSE_SERVICE, State.BREAKDOWN)
"""Where a request starts: the service list, or the breakdown of a service named in words."""

REASONS: tuple[Reason, ...] = tuple(Reason)
ALL_BANKS: tuple[str, ...] = tuple(texts.BANK_NAMES)
"""Every bank a refund can go to (the guesses offered for a typo may be any of them)."""


def destination(method: PaymentMethod) -> str:
    """Where the refund goes, in words."""
    return texts.DEST_MYCASH if method is PaymentMethod.MYCASH else texts.DEST_BANK


async def start_refund(turn: Turn, service_id: str | None = None) -> Outcome:
    """Offer the customer's eligible services, or say why there are none; with `service_id`
    (named by the customer: "1001 환불해 주세요"), go straight to that service when it can be
    cancelled, or say why not."""
    if turn.customer is None:
        turn.reset()
        turn.say(texts.NOT_LINKED)
        return Stay()
    views = await turn.services()
    eligible = [v for v in views if v.eligibility.eligible]
    turn.reset()
    if not views:
        turn.say(texts.NO_SERVICES)
        return Stay()
    if not eligible:
        turn.say("\n".join([texts.NONE_ELIGIBLE, *blocked_lines(views)]), ((HANDOFF,), (CONTACT,)))
        return Stay()
    named = next((v for v in views if v.service.id == service_id), None)
    if named is not None and not named.eligibility.eligible:
        lines = next_step_lines(named)
        turn.say(
            texts.service_not_offered(reason_text(named.eligibility), lines), next_steps(named)
        )
        return Stay()
    turn.data.flow = secrets.token_urlsafe(6)
    turn.data.customer = turn.customer.id
    turn.data.options = [v.service.id for v in eligible]
    if named is not None:
        turn.data.service = named.service.id
        return GoTo(State.BREAKDOWN)
    return GoTo(State.CHOOSE_SERVICE)


class ChooseService(Step):
    """Which eligible service to cancel: a button, its list number, or the service id typed."""

    state = State.CHOOSE_SERVICE

    async def _offered(self, turn: Turn) -> list[tuple[int, ServiceView]]:
        """(option index, view) of the listed services still eligible, in list order."""
        views = {v.service.id: v for v in await turn.services()}
        offered = []
        for option, service_id in enumerate(turn.data.options):
            view = views.get(service_id)
            if view is not None and view.eligibility.eligible:  # else the day ended meanwhile
                offered.append((option, view))
        return offered

    async def prompt(self, turn: Turn) -> Reply:
        lines = [texts.CHOOSE_SERVICE]
        buttons = []
        for option, view in await self._offered(turn):
            total = quote(view.service).total
            last_day = view.eligibility.last_day
            lines.append("• " + texts.eligible_line(view.service.id, total, last_day, turn.today))
            label = texts.service_button(view.service.id, total)
            buttons.append(turn.flow_button(label, "svc", option))
        layout = rows(buttons)
        if any(not v.eligibility.eligible for v in await turn.services()):
            layout += ((NOT_LISTED,),)
        return Reply("\n".join(lines), (*layout, turn.nav(back=False)))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        option = index(arg, len(turn.data.options)) if action == "svc" else None
        if option is None:
            return None
        data = turn.data
        data.service = data.options[option]
        data.bank = data.account = data.holder = data.typed_holder = None
        view = await turn.service()
        if view is None or not view.eligibility.eligible:
            data.service = None
            turn.say(texts.NO_LONGER_ELIGIBLE)
            return await start_refund(turn)
        return Next()

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        offered = await self._offered(turn)
        listed = position(text, len(offered))
        if listed is not None:
            return await self.on_press(turn, "svc", str(offered[listed][0]))
        named = await named_service(turn, text)
        if named is None:
            return Reprompt(texts.UNKNOWN_SERVICE) if service_id_typed(text) else None
        for option, view in offered:
            if view.service.id == named.service.id:
                return await self.on_press(turn, "svc", str(option))
        # Theirs, but not cancellable: say why (day 8, SMS sent, open request).
        why = texts.service_not_offered(reason_text(named.eligibility), next_step_lines(named))
        turn.say(why)
        turn.replies.append(await self.prompt(turn))
        return Stay()


class Breakdown(Step):
    """The refund breakdown and [다음 진행]."""

    state = State.BREAKDOWN
    exits = frozenset({State.MESSAGE})  # a reason typed ahead

    async def prompt(self, turn: Turn) -> Reply:
        view = await turn.service()
        assert view is not None, "the service was checked when it was chosen"
        service = view.service
        text = texts.breakdown(
            service.id,
            service.service_fee,
            service.sms_charge,
            destination(service.payment_method),
            view.eligibility.last_day,
            turn.today,
        )
        return Reply(text, ((turn.flow_button(texts.BTN_NEXT, "next"),), turn.nav()))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        return Next() if action == "next" else None

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        if yes_word(text):
            return Next()
        # The next step's answer typed ahead ("타 서비스 전환이요"): take it and ask the message.
        labels = [r.value for r in REASONS]
        chosen = label_in(text, labels)
        chosen = chosen if chosen is not None else reason_named(text, labels)
        if chosen is None:
            return None
        turn.data.reason = REASONS[chosen]
        return GoTo(State.MESSAGE)


class ReasonStep(Step):
    """One of the eight reasons."""

    state = State.REASON

    async def prompt(self, turn: Turn) -> Reply:
        reasons = [turn.flow_button(r.value, "reason", i) for i, r in enumerate(REASONS)]
        return Reply(texts.ASK_REASON, (*rows(reasons, 2), turn.nav()))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        chosen = index(arg, len(REASONS)) if action == "reason" else None
        if chosen is None:
            return None
        turn.data.reason = REASONS[chosen]
        return Next()

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        labels = [r.value for r in REASONS]
        chosen = position(text, len(REASONS))
        chosen = chosen if chosen is not None else label_in(text, labels)
        chosen = chosen if chosen is not None else reason_named(text, labels)
        return await self.on_press(turn, "reason", str(chosen)) if chosen is not None else None


class Message(Step):
    """남기실 말씀: required free text."""

    state = State.MESSAGE
    free_text = True

    async def prompt(self, turn: Turn) -> Reply:
        limit = turn.deps.limits.message_limit
        chosen = texts.REASON_CHOSEN.format(reason=turn.data.reason.value) + "\n"
        ask = texts.ASK_MESSAGE.format(limit=limit)
        return Reply((chosen if turn.data.reason else "") + ask, (turn.nav(),))

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        message = required_text(turn, text)
        if isinstance(message, Reprompt):
            return message
        turn.data.message = message
        return Next()


class Bank(Step):
    """The refund account's bank: a button or a typed name."""

    state = State.BANK
    free_text = True

    async def prompt(self, turn: Turn) -> Reply:
        banks = [turn.flow_button(b, "bank", i) for i, b in enumerate(texts.BANKS)]
        return Reply(texts.ASK_BANK, (*rows(banks, 3), turn.nav()))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        if action == "bank_any":  # one of the guesses, which may be a bank without a button
            guessed = index(arg, len(ALL_BANKS))
            if guessed is None:
                return None
            turn.data.bank = ALL_BANKS[guessed]
            return Next()
        chosen = index(arg, len(texts.BANKS)) if action == "bank" else None
        if chosen is None:
            return None
        turn.data.bank = texts.BANKS[chosen]
        return Next()

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        typed = clean_message(text).replace("\n", " ")
        # Digits mean an account number typed with the bank ("신한 110…"): the bank field is
        # neither masked nor encrypted, so the number must go to its own step.
        if any(ch.isdigit() for ch in typed):
            return Reprompt(texts.BANK_INVALID)
        chosen = position(typed, len(texts.BANKS))
        if chosen is not None:
            turn.data.bank = texts.BANKS[chosen]
            return Next()
        guess = bank_guess(typed)
        if guess.bank is not None:
            turn.data.bank = guess.bank
            return Next()
        if not guess.candidates:
            return Reprompt(texts.BANK_UNKNOWN)
        # Close to a bank, not sure which: the guesses as buttons (typing again works too).
        buttons = [
            turn.flow_button(name, "bank_any", ALL_BANKS.index(name)) for name in guess.candidates
        ]
        turn.say(texts.bank_which(guess.candidates), (*rows(buttons, 1), turn.nav()))
        return Stay()


class Account(Step):
    """The account number (digits and hyphens)."""

    state = State.ACCOUNT
    free_text = True

    async def prompt(self, turn: Turn) -> Reply:
        return Reply(texts.ASK_ACCOUNT, (turn.nav(),))

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        try:
            turn.data.account = normalize_account_number(text)
        except InvalidAccount:
            return Reprompt(texts.ACCOUNT_INVALID)
        return Next()


class Holder(Step):
    """The account holder, who must be the subscriber; another name leads to the hand-off."""

    state = State.HOLDER
    free_text = True
    exits = frozenset({State.INQUIRY_MESSAGE})

    async def prompt(self, turn: Turn) -> Reply:
        return Reply(texts.ASK_HOLDER, (turn.nav(),))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        if action == "retry_holder":
            turn.replies.append(await self.prompt(turn))
            return Stay()
        if action == "retry_account":
            return GoTo(State.ACCOUNT)
        if action == "handoff":
            return await start_inquiry(turn, topic="other_name_account")
        return None

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        assert turn.customer is not None
        holder = holder_of(text, turn.customer.name)
        if not holder:
            return Reprompt(texts.HOLDER_BLANK)
        if sum(ch.isdigit() for ch in holder) >= 3:
            # A number is not a name (and must not be kept as one): ask for the name again.
            return Reprompt(texts.HOLDER_LOOKS_LIKE_NUMBER)
        if same_holder(holder, turn.customer.name):
            turn.data.holder = holder
            return Next()
        turn.data.holder = None
        turn.data.strikes += 1
        turn.data.typed_holder = holder[:50]
        turn.say(
            texts.HOLDER_MISMATCH,
            (
                (turn.flow_button(texts.BTN_RETRY_HOLDER, "retry_holder"),),
                (turn.flow_button(texts.BTN_RETRY_ACCOUNT, "retry_account"),),
                (turn.flow_button(texts.BTN_HANDOFF_OTHER_NAME, "handoff"),),
                (turn.flow_button(texts.BTN_STOP, "stop"),),
            ),
        )
        return Stay()


class Confirm(Step):
    """The summary and [취소/환불 신청]: eligibility is checked again as the request is filed."""

    state = State.CONFIRM
    exits = frozenset({State.BANK})

    async def prompt(self, turn: Turn) -> Reply:
        view = await turn.service()
        assert view is not None, "the service was checked when it was chosen"
        service = view.service
        data = turn.data
        account_line = None
        if service.payment_method is PaymentMethod.BANK_TRANSFER:
            masked = RefundAccount(bank=data.bank or "", number=data.account or "", holder="")
            account_line = f"{data.bank} {masked.masked_number} ({data.holder})"
        assert data.reason is not None and data.message is not None
        text = texts.summary(
            service.id,
            service.service_fee,
            service.sms_charge,
            data.reason.value,
            data.message,
            account_line,
            destination(service.payment_method),
        )
        return Reply(text, ((turn.flow_button(texts.BTN_CONFIRM, "confirm"),), turn.nav()))

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        return await self.on_press(turn, "confirm", "") if yes_word(text) else None

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        if action != "confirm":
            return None
        assert turn.customer is not None
        data = turn.data
        assert data.flow and data.service and data.reason and data.message
        account = None
        if data.account is not None:
            account = RefundAccount(
                bank=data.bank or "", number=data.account, holder=data.holder or ""
            )
        flow = data.flow
        try:
            request, created = await turn.deps.helpdesk.requests.file(
                Filing(
                    customer_id=turn.customer.id,
                    service_id=data.service,
                    reason=data.reason,
                    message=data.message,
                    account=account,
                    channel=turn.deps.channel,
                    chat_id=turn.chat_id,
                    submission_key=f"{turn.chat_id}:{flow}",
                ),
                tx=turn.tx,
            )
        except AlreadyOpen as exc:
            turn.reset()
            turn.say(texts.ALREADY_OPEN.format(number=exc.number))
            return Stay()
        except (NotEligible, NotFound) as exc:
            turn.reset()
            lines = [texts.NO_LONGER_ELIGIBLE]
            if isinstance(exc, NotEligible):
                view = await turn.service(exc.service_id)
                if view is not None:
                    lines += blocked_lines([view])
            turn.say("\n".join(lines), ((CONTACT,),))
            return Stay()
        except InvalidAccount:
            # The customer's name or the service's payment method changed since the account
            # was entered (a re-import): take the account details again from the bank.
            turn.say(texts.ACCOUNT_RECHECK)
            return GoTo(State.BANK)
        turn.reset()
        turn.services_changed()
        turn.data.filed_flow, turn.data.filed_number = flow, request.number
        turn.data.last_intent = STATUS_TOPIC  # "언제 들어와요?" next is about this request
        if created:
            turn.say(filed_text(turn, request), ((STATUS,),))
        else:
            turn.say(texts.ALREADY_FILED.format(number=request.number))
        return Stay()


def filed_text(turn: Turn, request: RefundRequest) -> str:
    """What the customer reads once the request is filed."""
    if request.payment_method is PaymentMethod.MYCASH:
        first, last = mycash_credit_window(today_kst(turn.deps.helpdesk.clock))
        return texts.filed_mycash(request.number, request.total, first, last)
    assert request.account is not None
    return texts.filed_bank(
        request.number, request.total, request.account.bank, request.account.masked_number
    )


STEPS: tuple[Step, ...] = (
    ChooseService(),
    Breakdown(),
    ReasonStep(),
    Message(),
    Bank(),
    Account(),
    Holder(),
    Confirm(),
)
