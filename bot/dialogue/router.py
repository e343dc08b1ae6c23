"""Where an input goes: a command, a button (global or a step's), a navigation or stop word, a
typed button label, small talk, a link code, a request to start, a question for the FAQ, or the
current step's answer.

Inside a flow, one menu is live at a time: an aside (an answer, /help, /status) is said without
its buttons and the step asks again with its own; an aside that is a menu itself (a clarifying
question, the topic list) carries [이어서 작성하기] instead of the step's buttons. Starting a new
flow over a filled-in form asks first.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot import texts
from bot.dialogue import account, acts, faq, machine, wishes
from bot.dialogue.events import Event, Opened, Press, Reply, Upload
from bot.dialogue.flow import Outcome, State
from bot.dialogue.inputs import (
    clean_message,
    is_bare_cancel,
    looks_like_question,
    nav_word,
    not_a_message,
    too_short,
)
from bot.dialogue.inquiry import on_upload, start_inquiry
from bot.dialogue.menus import HANDOFF, START_REFUND, WITHDRAW, topic_buttons, typed_global
from bot.dialogue.payloads import FlowPayload, GlobalPayload, parse
from bot.dialogue.refund import start_refund
from bot.dialogue.services import my_services, service_facts
from bot.dialogue.turn import Turn
from bot.dialogue.withdraw import start_withdraw
from core.models import RequestStatus
from core.text import squash
from faq.dates import read_elapsed

_STOP_WORDS = ("그만", "중단", "멈춰", "stop")
_STOP_COMMANDS = frozenset(
    {"그만", "그만하기", "그만할래요", "중단", "멈춰", "stop", "취소할래요그만"}
)
_THUMBS = {"👍": "1", "👎": "0"}
_HELD_STATES = frozenset({State.MESSAGE, State.INQUIRY_MESSAGE})
_NEEDS_MORE = {
    State.MESSAGE: texts.MESSAGE_NEEDS_REASON,
    State.INQUIRY_MESSAGE: texts.INQUIRY_HOW_TO_WRITE,
}
"""What to write, for a hesitation (잠깐만요, 네, 모르겠어요) typed where a message is expected."""
_STEP_LABELS = frozenset(
    squash(label)
    for label in (
        texts.BTN_NEXT,
        texts.BTN_CONTINUE,
        texts.BTN_RETRY_HOLDER,
        texts.BTN_RETRY_ACCOUNT,
        texts.BTN_OTHER_QUESTION,
        texts.BTN_NO_ATTACHMENT,
        texts.BTN_FILE_INQUIRY,
        texts.BTN_KEEP,
        texts.BTN_RESUME,
        texts.BTN_DISCARD,
        texts.BTN_KEEP_WRITING,
        texts.BTN_KEEP_TEXT,
        texts.BTN_RETYPE,
    )
)
"""Labels of step buttons that only mean pressing that button; typed where it is not shown,
they are a stale press, not text for the step or a question."""
_DIVERTED_AT_TEXT_STEPS = frozenset({acts.HUMAN, acts.STATUS})
"""Acts that are never an answer at a step that takes text."""
_ACT_ACTIONS = {acts.WITHDRAW: "wd"}
"""Free-text steps whose answer could read like a question (a message, not a bank name)."""
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


async def dispatch(turn: Turn, event: Event) -> None:
    """Handle one input at the chat's current state."""
    if isinstance(event, Press):
        await on_press(turn, event.payload)
    elif isinstance(event, Upload):
        if await _apply(turn, await on_upload(turn, event)) is None and _in_flow(turn):
            await machine.continue_flow(turn)
    elif isinstance(event, Opened):
        if _in_flow(turn):
            turn.returning = True
            await machine.continue_flow(turn)
    else:
        await on_text(turn, event.text.strip())


def _in_flow(turn: Turn) -> bool:
    return turn.state in machine.FLOW_STATES


async def _apply(turn: Turn, outcome: Outcome | None) -> Outcome | None:
    if outcome is not None:
        await machine.apply(turn, outcome)
    return outcome


def _without_buttons(turn: Turn, since: int) -> None:
    """Say the replies from `since` on without their buttons (the step's menu follows)."""
    turn.replies[since:] = [Reply(r.text) for r in turn.replies[since:]]


# Text ----------------------------------------------------------------------------------------


def is_stop_phrase(text: str, state: State) -> bool:
    """ "그만", "취소할래요 그만"… stop a flow; at a free-text step only the bare command does,
    because "사업 중단합니다" there is the customer's message, not a command."""
    squashed = re.sub(r"[^\w]", "", squash(text))
    if state in machine.FREE_TEXT_STATES:
        return squashed in _STOP_COMMANDS
    return len(squashed) <= 12 and any(word in squashed for word in _STOP_WORDS)


def pressed_label(turn: Turn, text: str) -> str | None:
    """The payload of the last shown button whose label was typed (customers type what they
    see; KakaoTalk's quick replies arrive this way), or of 👍/👎 under an answer."""
    typed = squash(text)
    if not typed:
        return None
    thumb = _THUMBS.get(_SKIN_TONES.sub("", text.strip()))
    found = None
    for payload, label in turn.data.shown.items():
        parsed = parse(payload)
        is_vote = isinstance(parsed, GlobalPayload) and parsed.action == "fb"
        if squash(label) == typed or (thumb and is_vote and payload.endswith(f":{thumb}")):
            found = payload  # the latest of equal labels: shown is in display order
    return found


async def on_text(turn: Turn, text: str) -> None:
    """Typed text: a command, a stop or navigation word, a label, or what the state makes of it."""
    if not text:
        await _blank(turn)
        return
    if text.startswith("/"):
        await on_command(turn, text)
        return
    if _in_flow(turn) and is_stop_phrase(text, turn.state):
        machine.stop(turn)
        return
    payload = pressed_label(turn, text)
    if payload is None or _of_an_ended_flow(turn, payload):
        # A global button's label means it anywhere, even when not on the last message.
        payload = typed_global(turn.deps.kb, text) or payload
    if payload is not None:
        await on_press(turn, payload)
        return
    if squash(text) in _STEP_LABELS:
        # "다음 진행" typed where that button is not shown: a press of a button that is not
        # live (asked again), never a question for the FAQ.
        await machine.stale(turn)
        return
    move = nav_word(text)
    if move is not None:
        await _navigate(turn, move)
        return
    if turn.state is State.IDLE:
        await _idle_text(turn, text)
        return
    await _step_text(turn, text)


def _of_an_ended_flow(turn: Turn, payload: str) -> bool:
    """Whether a shown button belongs to a flow that is over (expired, stopped, filed)."""
    parsed = parse(payload)
    live = _in_flow(turn) and isinstance(parsed, FlowPayload) and parsed.flow == turn.data.flow
    return isinstance(parsed, FlowPayload) and not live


async def _blank(turn: Turn) -> None:
    """An empty line: the step again (a step that needs text says so first)."""
    if turn.state in machine.FREE_TEXT_STATES:
        await _apply(turn, await machine.STEPS[turn.state].on_text(turn, ""))
    elif _in_flow(turn):
        turn.replies.append(await machine.prompt(turn))
    else:
        turn.say(texts.WHAT_CAN_I_DO, topic_buttons(turn.deps.kb, with_refund=True))


async def _navigate(turn: Turn, move: str) -> None:
    """뒤로 / 처음으로 / 처음부터 / 다시, typed: what the buttons do, and never a strike."""
    if move == "home":
        await on_global(turn, GlobalPayload("home", ()))
    elif not _in_flow(turn):
        turn.say(texts.WHAT_CAN_I_DO, topic_buttons(turn.deps.kb, with_refund=True))
    elif move == "back":
        await machine.back(turn)
    elif move == "start":
        await machine.first_step(turn)
    else:
        turn.data.strikes = 0
        turn.replies.append(await machine.prompt(turn))


async def _step_text(turn: Turn, text: str) -> None:
    """Typed text at a step: its answer, or something else said before the step asks again.

    At a step that takes free text, what is clearly not an answer is never stored as the
    reason, message, bank or holder: a clear question about the policy is answered, asking for
    a person or about a request gets its reply, a greeting or a hesitation gets the step again.
    """
    step = machine.STEPS[turn.state]
    if is_bare_cancel(text):
        await _ask_to_stop(turn)
        return
    if step.free_text and await _not_an_answer(turn, text):
        return
    outcome = await step.on_text(turn, text)
    if outcome is not None:
        await machine.apply(turn, outcome)
        return
    mark = len(turn.replies)
    service = await wishes.named_service(turn, text)
    if service is not None:
        # "1003는요?" in the middle of the form: that service's facts, then the step again.
        await service_facts(turn, service)
        _without_buttons(turn, mark)
        await machine.continue_flow(turn)
        return
    decision, act = await faq.answer_question(turn, text)
    if decision == "act" and act is not None:
        await _act_in_flow(turn, act)
    elif decision == "answer":
        # Buttons were expected: a question still gets its answer, then the step again.
        _without_buttons(turn, mark)
        await machine.continue_flow(turn)
    elif decision == "clarify":
        machine.resume_in_menu(turn, texts.CLARIFY_IN_FLOW)
    else:
        await machine.unusable(turn, texts.NOT_UNDERSTOOD)


async def _not_an_answer(turn: Turn, text: str) -> bool:
    """Handle text at a free-text step that is not its answer; False when it may be one."""
    if turn.state is State.INQUIRY_MESSAGE and clean_message(text) and too_short(text):
        return False  # "?" or "ㅇ" is not a question: the step says what to write
    act = faq.act_of(turn, text)
    # "신청 철회할게요" is never a bank, a number or a name; at a message step it may be the
    # message itself ("없던 걸로 해 주세요"), so it stays there.
    withdraws = act == acts.WITHDRAW and turn.state not in _HELD_STATES
    if (
        act in _DIVERTED_AT_TEXT_STEPS
        or withdraws
        or (act == acts.COMPLAINT and len(text) <= 20)
    ):
        # "상담원 연결해 주세요" or "아 짜증나 진짜" is not a message, a bank or a name.
        await _act_in_flow(turn, act)
        return True
    if looks_like_question(text):
        mark = len(turn.replies)
        if await faq.answer_if_confident(turn, text):
            _without_buttons(turn, mark)
            turn.say(texts.QUESTION_ANSWERED_IN_FLOW)
            await machine.continue_flow(turn)
            return True
        if turn.state in _HELD_STATES:
            # A question no FAQ answers, where a message is expected: ask before keeping it.
            turn.data.held = text
            keep = turn.flow_button(texts.BTN_KEEP_TEXT, "keep_text")
            retype = turn.flow_button(texts.BTN_RETYPE, "resume")
            turn.say(texts.HELD_QUESTION, ((keep,), (retype,), turn.nav()))
            return True
    if turn.state in _HELD_STATES and faq.greets(text):
        turn.returning = True  # "안녕하세요 어제 하던 거요": back to the form, not its message
        await machine.continue_flow(turn)
        return True
    if turn.state in _HELD_STATES and clean_message(text) and not_a_message(text):
        step_prompt = await machine.prompt(turn)
        turn.say(_NEEDS_MORE[turn.state] + "\n\n" + step_prompt.text, step_prompt.buttons)
        return True
    return False


async def _ask_to_stop(turn: Turn) -> None:
    """A bare "취소" in a form: stop the request, or go on? (Never filed, never guessed.)"""
    stop = turn.flow_button(texts.BTN_STOP, "stop")
    resume = turn.flow_button(texts.BTN_RESUME, "resume")
    question = texts.STOP_QUESTION_BY_FLOW[machine.flow_kind(turn.state, turn.data)]
    turn.say(question, ((stop,), (resume,)))


async def _act_in_flow(turn: Turn, act: str) -> None:
    """An act in the middle of a flow: one that starts a flow asks over a filled-in form; a
    status is an aside; a person or an apology offers the hand-off beside [이어서 작성하기]."""
    if act in acts.STARTS_FLOW:
        await on_global(turn, GlobalPayload(_ACT_ACTIONS[act], ()))
        return
    mark = len(turn.replies)
    await acts.handle(turn, act)
    if act == acts.STATUS:
        _without_buttons(turn, mark)
        await machine.continue_flow(turn)
    else:
        machine.resume_in_menu(turn)


async def _idle_text(turn: Turn, text: str) -> None:
    kind = faq.small_talk(text)
    code = account.link_code_in(text)
    if kind == "greeting":
        turn.say(texts.WELCOME, topic_buttons(turn.deps.kb, with_refund=True))
    elif kind == "thanks":
        turn.say(texts.YOU_ARE_WELCOME)
    elif kind == "ack":
        turn.say(texts.ANYTHING_ELSE)
    elif code is not None:
        await account.link(turn, code)  # a pasted code without "/link"
    elif not await _own_matters(turn, text):
        decision, act = await faq.answer_question(turn, text)
        if decision == "act" and act is not None:
            await _apply(turn, await acts.handle(turn, act))


async def _own_matters(turn: Turn, text: str) -> bool:
    """Words about the customer's own services and requests, which the FAQ does not know:
    "1001 환불해 주세요" files, "1003는요?" gets that service's facts, "접수 됐나요?" the status,
    and "신청 취소할게요" from someone with a request waiting for review asks which they mean."""
    if wishes.cancels_a_request(text):
        if not await _ask_which_cancel(turn):
            # Nothing is waiting for review, so it can only be the service (whatever act the
            # matcher reads into "신청 취소"): start the cancellation.
            await _apply(turn, await start_refund(turn))
        return True
    if faq.act_of(turn, text) is not None:
        return False  # "접수한 거 취소해 주세요" is about a filed request: the acts handle it
    service = await wishes.named_service(turn, text)
    if service is not None:
        if wishes.wants_to_file(text) or (
            wishes.mentions_refund(text) and not looks_like_question(text)
        ):
            await _apply(turn, await start_refund(turn, service.service.id))
        else:
            await service_facts(turn, service)
        return True
    if await acts.in_context(turn, text, None, None) == acts.WITHDRAW:
        # "아 그거 취소할래요 그냥 쓸게요" with a request open: keeping the service is taking the
        # request back, whatever cancel word it has.
        await _apply(turn, await acts.handle(turn, acts.WITHDRAW))
        return True
    if wishes.wants_to_file(text) and read_elapsed(text, turn.today).verdict != "over":
        # "10일 된 서비스 취소할래요" is the past-deadline question (answered with their
        # services' facts), not a wish to file for whatever is still cancellable.
        await _apply(turn, await start_refund(turn))
        return True
    if turn.customer is not None and wishes.asks_status(turn, text):
        filed = await turn.deps.helpdesk.requests.list(customer_id=turn.customer.id, tx=turn.tx)
        if filed:
            await account.status(turn)
            return True
    return False


async def _ask_which_cancel(turn: Turn) -> bool:
    """ "신청 취소할게요" with a request waiting for review: withdraw that request, or cancel a
    service? Asked with both as buttons; False (today's reading) when nothing is waiting."""
    if turn.customer is None:
        return False
    filed = await turn.deps.helpdesk.requests.list(customer_id=turn.customer.id, tx=turn.tx)
    waiting = [r.number for r in filed if r.status is RequestStatus.SUBMITTED]
    if not waiting:
        return False
    turn.say(texts.which_cancel(waiting), ((WITHDRAW,), (START_REFUND,)))
    return True


# Commands ------------------------------------------------------------------------------------


async def on_command(turn: Turn, text: str) -> None:
    """A /command; one that is only information lets a flow continue afterwards."""
    head, _, rest = text.partition(" ")
    command = head[1:].split("@", 1)[0].casefold()
    argument = rest.strip()
    if command in ("cancel", "stop"):
        if _in_flow(turn):
            machine.stop(turn)
        else:
            turn.say(texts.NOTHING_TO_CANCEL, topic_buttons(turn.deps.kb))
    elif command in ("start", "link") and argument:
        await account.link(turn, argument)
    elif command == "link":
        turn.say(texts.LINK_USAGE)
    elif command == "refund":
        await on_global(turn, GlobalPayload("refund", ()))
    elif command == "unlink":
        await account.unlink(turn)
    elif _in_flow(turn):
        mark = len(turn.replies)
        await _informational(turn, command)
        _without_buttons(turn, mark)
        await machine.continue_flow(turn)
    else:
        await _informational(turn, command)


async def _informational(turn: Turn, command: str) -> None:
    if command == "start":
        turn.say(texts.WELCOME, topic_buttons(turn.deps.kb, with_refund=True))
    elif command == "help":
        turn.say(texts.HELP, topic_buttons(turn.deps.kb, with_refund=True))
    elif command == "status":
        await account.status(turn)
    else:
        turn.say(texts.NOT_UNDERSTOOD + "\n" + texts.HELP)


# Buttons -------------------------------------------------------------------------------------


async def on_press(turn: Turn, payload: str) -> None:
    """A button: global ones work anywhere; a step's only at that step of that flow."""
    parsed = parse(payload)
    if isinstance(parsed, GlobalPayload):
        await on_global(turn, parsed)
    elif isinstance(parsed, FlowPayload) and _in_flow(turn) and parsed.flow == turn.data.flow:
        await on_step(turn, parsed.action, parsed.arg)
    elif (
        isinstance(parsed, FlowPayload)
        and parsed.action == "confirm"
        and parsed.flow
        and parsed.flow == turn.data.filed_flow
    ):
        turn.say(texts.ALREADY_FILED.format(number=turn.data.filed_number))
    else:
        await machine.stale(turn)


async def on_step(turn: Turn, action: str, arg: str) -> None:
    """A button of the current step (or the moves every step has)."""
    pending, held = turn.pending, turn.held
    if action == "stop":
        machine.stop(turn)
    elif action == "resume":
        turn.data.strikes = 0
        turn.replies.append(await machine.prompt(turn))
    elif action == "back":
        await machine.back(turn)
    elif action == "home":
        _go_home(turn)
    elif action == "keep_text" and held is not None and turn.state in _HELD_STATES:
        await _apply(turn, await machine.STEPS[turn.state].on_text(turn, held))
    elif action == "discard" and pending in _STARTS_FLOW:
        turn.reset()
        await _apply(turn, await GLOBAL_ACTIONS[pending](turn, GlobalPayload(pending, ())))
    elif await _apply(turn, await machine.STEPS[turn.state].on_press(turn, action, arg)) is None:
        await machine.stale(turn)


GlobalAction = Callable[[Turn, GlobalPayload], Awaitable[Outcome | None]]


async def _refund(turn: Turn, p: GlobalPayload) -> Outcome | None:
    return await start_refund(turn, p.arg(0) or None)


async def _handoff(turn: Turn, p: GlobalPayload) -> Outcome | None:
    return await start_inquiry(turn, topic="not_eligible")


async def _withdraw(turn: Turn, p: GlobalPayload) -> Outcome | None:
    return await start_withdraw(turn)


async def _faq(turn: Turn, p: GlobalPayload) -> Outcome | None:
    await faq.answer(turn, p.arg(0))
    return None


async def _feedback(turn: Turn, p: GlobalPayload) -> Outcome | None:
    await faq.feedback(turn, p.arg(0), helpful=p.arg(1) == "1")
    return None


async def _services(turn: Turn, p: GlobalPayload) -> Outcome | None:
    await my_services(turn)
    return None


async def _status(turn: Turn, p: GlobalPayload) -> Outcome | None:
    await account.status(turn)
    return None


async def _contact(turn: Turn, p: GlobalPayload) -> Outcome | None:
    turn.say(texts.CONTACT, ((HANDOFF,),) if turn.customer is not None else ())
    return None


async def _home(turn: Turn, p: GlobalPayload) -> Outcome | None:
    """처음으로: the first menu. Leaving a filled-in form is asked first (it would be lost)."""
    if _in_flow(turn) and turn.data.filled_in():
        home = turn.flow_button(texts.BTN_HOME, "home")
        keep = turn.flow_button(texts.BTN_KEEP_WRITING, "resume")
        turn.say(texts.HOME_QUESTION, ((home,), (keep,)))
    else:
        _go_home(turn)
    return None


def _go_home(turn: Turn) -> None:
    """Leave any flow (saying that nothing was filed) and show the first menu."""
    if _in_flow(turn):
        machine.stop(turn)
    turn.say(texts.WHAT_CAN_I_DO, topic_buttons(turn.deps.kb, with_refund=True))


async def _topics(turn: Turn, p: GlobalPayload) -> Outcome | None:
    turn.say(texts.TOPICS_INTRO, topic_buttons(turn.deps.kb, with_refund=True))
    return None


GLOBAL_ACTIONS: dict[str, GlobalAction] = {
    "refund": _refund,
    "ho": _handoff,
    "wd": _withdraw,
    "faq": _faq,
    "fb": _feedback,
    "svc": _services,
    "status": _status,
    "contact": _contact,
    "topics": _topics,
    "home": _home,
}
"""Buttons that work in every state. Some start a flow; the others are asides, after which a
flow in progress asks its question again."""

_STARTS_FLOW = frozenset({"refund", "ho", "wd"})
_LEAVES_FLOW = frozenset({"home"})
"""Actions that end the flow themselves (or ask first): no step question after them."""
_MENUS = frozenset({"contact", "topics", "svc", "status"})
"""Asides that are menus themselves: in a flow they offer [이어서 작성하기] instead of the step."""


async def on_global(turn: Turn, payload: GlobalPayload) -> None:
    """A global button; an unknown action or an FAQ id that does not exist is stale."""
    handler = GLOBAL_ACTIONS.get(payload.action)
    needs_intent = payload.action in ("faq", "fb")
    if handler is None or (needs_intent and payload.arg(0) not in turn.deps.kb.ids):
        await machine.stale(turn)
        return
    in_flow = _in_flow(turn)
    if in_flow and payload.action in _STARTS_FLOW and turn.data.filled_in():
        # A new flow would throw the filled-in form away: ask first.
        turn.data.pending = payload.action
        keep = turn.flow_button(texts.BTN_RESUME, "resume")
        discard = turn.flow_button(texts.BTN_DISCARD, "discard")
        question = texts.DISCARD_QUESTION_BY_FLOW[machine.flow_kind(turn.state, turn.data)]
        turn.say(question, ((discard,), (keep,)))
        return
    mark = len(turn.replies)
    await _apply(turn, await handler(turn, payload))
    if not in_flow or payload.action in _STARTS_FLOW | _LEAVES_FLOW:
        return
    if payload.action in _MENUS:
        machine.resume_in_menu(turn)
    else:
        _without_buttons(turn, mark)
        await machine.continue_flow(turn)


__all__ = ["dispatch"]
