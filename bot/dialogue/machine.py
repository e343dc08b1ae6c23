"""The steps put together: which step serves which state, the moves they declare, and applying
a step's outcome (moving on, back, to an exit, or asking again)."""

from __future__ import annotations

from itertools import pairwise

from bot import texts
from bot.dialogue import inquiry, refund, withdraw
from bot.dialogue.data import ConversationData
from bot.dialogue.events import Reply
from bot.dialogue.flow import (
    Form,
    GoTo,
    Next,
    Outcome,
    Reprompt,
    State,
    Step,
    following,
    preceding,
)
from bot.dialogue.menus import CONTACT, topic_buttons
from bot.dialogue.turn import Turn
from core.models import PaymentMethod

REFUND_FORMS = refund.REFUND_FORMS
INQUIRY_FORMS = inquiry.INQUIRY_FORMS
WITHDRAW_FORMS = withdraw.WITHDRAW_FORMS
FORMS: tuple[Form, ...] = (
    *REFUND_FORMS.values(),
    *INQUIRY_FORMS.values(),
    *WITHDRAW_FORMS.values(),
)
STEPS: dict[State, Step] = {
    step.state: step for step in (*refund.STEPS, *inquiry.STEPS, *withdraw.STEPS)
}
STARTS = frozenset(form[0] for form in FORMS) | frozenset(refund.ENTRIES)
"""Where a flow starts: reachable from any state (a new flow replaces the one in progress)."""
assert {state for form in FORMS for state in form} == set(STEPS), "a form step without a Step"


def _declared() -> dict[State, frozenset[State]]:
    moves: dict[State, set[State]] = {state: set() for state in State}
    moves[State.IDLE] |= STARTS
    for form in FORMS:
        for earlier, later in pairwise(form):
            moves[earlier].add(later)
            moves[later].add(earlier)  # back
    for state, step in STEPS.items():
        moves[state] |= step.exits
    return {state: frozenset(targets) for state, targets in moves.items()}


TRANSITIONS: dict[State, frozenset[State]] = _declared()
"""Every move between states: the start of each flow, the forms' next and back, and the steps'
exits. Any state may also go to IDLE (stop, /cancel, expiry, filing) and start a flow (which
replaces the one in progress); those are not repeated on each line."""

FLOW_STATES = frozenset(STEPS)
"""States inside a flow (refund or inquiry), where /cancel and the back button mean something."""

FREE_TEXT_STATES = frozenset(state for state, step in STEPS.items() if step.free_text)
"""Steps whose answer is typed text, so a typed sentence is an answer, not a question."""

_ANYWHERE = STARTS | {State.IDLE}


def allowed(source: State, target: State) -> bool:
    """Whether the conversation may move from `source` to `target`."""
    return target in _ANYWHERE or target is source or target in TRANSITIONS[source]


async def form_of(turn: Turn) -> Form:
    """The form the chat is filling in (by the chosen service's payment method, or topic)."""
    if turn.data.inquiry is not None and turn.state in INQUIRY_FORMS[turn.data.inquiry.topic]:
        return INQUIRY_FORMS[turn.data.inquiry.topic]
    view = await turn.service() if turn.data.service else None
    method = view.service.payment_method if view is not None else PaymentMethod.MYCASH
    return REFUND_FORMS[method]


async def prompt(turn: Turn) -> Reply:
    """The question of the current step."""
    return await STEPS[turn.state].prompt(turn)


async def move(turn: Turn, target: State) -> None:
    """Move to `target` (refusing an undeclared move) and ask its question."""
    if not allowed(turn.state, target):
        raise RuntimeError(f"undeclared transition {turn.state} -> {target}")
    if target is not turn.state:
        turn.data.strikes = 0
    turn.state = target
    turn.replies.append(await prompt(turn))


async def apply(turn: Turn, outcome: Outcome) -> None:
    """Carry out what a step decided."""
    if isinstance(outcome, Next):
        target = following(await form_of(turn), turn.state)
        assert target is not None, f"{turn.state} is the last step of its form"
        await move(turn, target)
    elif isinstance(outcome, GoTo):
        await move(turn, outcome.state)
    elif isinstance(outcome, Reprompt):
        await unusable(turn, outcome.problem)


async def back(turn: Turn) -> None:
    """Return one step, or ask again at the first step."""
    target = preceding(await form_of(turn), turn.state)
    if target is None:
        turn.replies.append(await prompt(turn))
    else:
        await move(turn, target)


async def unusable(turn: Turn, problem: str) -> None:
    """Say what was wrong and ask again; after a few in a row, offer a way out instead."""
    turn.data.strikes += 1
    if turn.data.strikes >= turn.deps.limits.max_strikes:
        buttons = (
            (turn.flow_button(texts.BTN_CONTINUE, "resume"),),
            (CONTACT,),
            (turn.flow_button(texts.BTN_STOP, "stop"),),
        )
        ladder = texts.LADDER_BY_FLOW[flow_kind(turn.state, turn.data)]
        turn.say(problem + "\n" + ladder, buttons)
        return
    step_prompt = await prompt(turn)
    turn.say(problem + "\n\n" + step_prompt.text, step_prompt.buttons)


async def first_step(turn: Turn) -> None:
    """처음으로: the first step of the form, keeping what was filled in."""
    start = (await form_of(turn))[0]
    if start is turn.state:
        turn.replies.append(await prompt(turn))
    else:
        await move(turn, start)


async def continue_flow(turn: Turn) -> None:
    """After an aside (a question, a command) in a flow: the step's question again.

    A customer coming back after a pause is first told what is in progress.
    """
    step_prompt = await prompt(turn)
    kind = flow_kind(turn.state, turn.data)
    if kind == "withdraw":
        numbers = turn.data.options
        header = texts.resume_withdraw(numbers) if turn.returning else texts.CONTINUE_WITHDRAW
    elif kind == "inquiry":
        header = texts.RESUME_INQUIRY if turn.returning else texts.CONTINUE_INQUIRY
    else:
        header = texts.resume_notice(turn.data.service) if turn.returning else texts.CONTINUE_PROMPT
    turn.say(header + "\n\n" + step_prompt.text, step_prompt.buttons)


def flow_kind(state: State, data: ConversationData) -> str:
    """Which flow a state belongs to: 'refund', 'inquiry' or 'withdraw' (what to call it)."""
    if state is State.WITHDRAW:
        return "withdraw"
    if data.inquiry is not None and state in (State.INQUIRY_MESSAGE, State.INQUIRY_ATTACH):
        return "inquiry"
    return "refund"


EXPIRED_TEXTS = {
    "refund": texts.EXPIRED,
    "inquiry": texts.EXPIRED_INQUIRY,
    "withdraw": texts.EXPIRED_WITHDRAW,
}
"""What a customer coming back after the idle timeout reads, by the flow that expired."""


def resume_in_menu(turn: Turn, text: str | None = None) -> None:
    """Make the last reply (a menu itself) the one live menu, with [이어서 작성하기] in it."""
    last = turn.replies[-1]
    resume = (turn.flow_button(texts.BTN_RESUME, "resume"),)
    turn.replies[-1] = Reply(text or last.text, (*last.buttons, resume))


async def stale(turn: Turn) -> None:
    """A button that is not for this step (older, replayed or someone else's)."""
    if turn.state in FLOW_STATES:
        turn.say(texts.STALE_BUTTON)
        turn.replies.append(await prompt(turn))
    else:
        turn.say(texts.STALE_BUTTON_IDLE, topic_buttons(turn.deps.kb, with_refund=True))


def stop(turn: Turn) -> None:
    """Leave the flow; nothing is filed (or withdrawn)."""
    if turn.state is State.WITHDRAW:
        said = texts.WITHDRAW_KEPT
    elif turn.state in (State.INQUIRY_MESSAGE, State.INQUIRY_ATTACH):
        said = texts.INQUIRY_STOPPED
    else:
        said = texts.STOPPED
    turn.reset()
    turn.say(said)
