"""The channel-free dialogue engine.

Input: a chat id plus text or a button press. Output: replies (text + rows of buttons). The engine
knows nothing of Telegram or terminals; state lives in the database (see bot/flow.py for the
states), so a restart resumes every conversation where it was and several processes can serve
the same chats.

Button payloads are never trusted. A payload is `g:<action>[:arg]` (global actions such as an
FAQ topic) or `f:<flow id>:<action>[:index]` (a step of one refund flow). Flow payloads carry an
index into the options this chat was offered, never a service id, and are honoured only while
the chat is at the step that offered them; anything else gets a polite re-prompt that reveals
nothing. Payloads stay far below Telegram's 64-byte callback_data limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot import texts
from bot.flow import FLOW_STATES, FREE_TEXT_STATES, State, allowed
from core.calendar import mycash_credit_window, today_kst
from core.errors import (
    AlreadyOpen,
    InvalidAccount,
    InvalidLinkCode,
    LinkThrottled,
    NotEligible,
    NotFound,
)
from core.models import (
    Attachment,
    Customer,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    mask_account_number,
)
from core.money import format_won
from core.policy import Eligibility, NotActive, PastDeadline, RequestOpen, SmsUsed, quote
from core.service import (
    ACCOUNT_DIGITS_MIN,
    ConversationRecord,
    Helpdesk,
    ServiceView,
    normalize_account_number,
    same_holder,
)
from faq.kb import KnowledgeBase
from faq.matcher import Matcher

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 1000
MAX_STRIKES = 3
MAX_MATCH_CHARS = 300
MAX_SAVE_ATTEMPTS = 5
REASONS: tuple[Reason, ...] = tuple(Reason)
TRANSCRIPT_TURNS = 10
_KEPT_ACROSS_FLOWS = (
    "filed_flow",
    "filed_number",
    "filed_inquiry",
    "recent",
    "last_q",
    "shown",
)
_INDEX = re.compile(r"[0-9]{1,3}")
# A link code as `helpdesk link` issues it (secrets.token_urlsafe(16): 22 url-safe characters).
_LINK_CODE = re.compile(r"[A-Za-z0-9_-]{22}")
_CODE_LIKE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
_LONG_NUMBER = re.compile(r"\d[\d\- ]{6,}\d")
_STOP_WORDS = ("그만", "중단", "멈춰", "stop")
_STOP_COMMANDS = frozenset(
    {"그만", "그만하기", "그만할래요", "중단", "멈춰", "stop", "취소할래요그만"}
)
_START_REFUND = re.compile(
    r"(환불|취소|해지)\s*(신청|접수|진행)\s*(할래|할게|하고\s*싶|해\s*주|하겠|부탁|ㄱ|요$|$)"
    r"|^(환불|취소|해지)\s*(해\s*주세요|해줘|할래요|할게요)$"
)


# Events and replies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextInput:
    """Something the customer typed."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button the customer pressed (its opaque payload)."""

    payload: str


@dataclass(frozen=True)
class Upload:
    """A photo or file the customer sent (kept by the channel's file id, never downloaded)."""

    file_id: str
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


Event = TextInput | Press | Upload


@dataclass(frozen=True)
class Button:
    """A button: what the customer reads, and the payload the engine gets back."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the customer: text and rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()

    def flat_buttons(self) -> list[Button]:
        """All buttons, row by row."""
        return [b for row in self.buttons for b in row]


def _rows(buttons: list[Button], per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# Turn state -----------------------------------------------------------------------------------


@dataclass
class Turn:
    """Everything one turn reads and changes; saved at the end of the turn."""

    chat_id: str
    customer: Customer | None
    state: State
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    filed: str | None = None

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Queue a reply."""
        self.replies.append(Reply(text, buttons))

    def go(self, state: State) -> None:
        """Move to `state`, refusing a move the flow declaration does not allow."""
        if not allowed(self.state, state):
            raise RuntimeError(f"undeclared transition {self.state} -> {state}")
        if state is not self.state:
            self.data["strikes"] = 0
        self.state = state

    def reset(self) -> None:
        """Leave any flow; remember only what a replayed confirm needs."""
        keep = {k: self.data[k] for k in _KEPT_ACROSS_FLOWS if k in self.data}
        self.state = State.IDLE
        self.data = keep


class _KeyedLocks:
    """One asyncio.Lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> Any:
        """Hold the lock of `key` for the duration of the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _norm_label(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def clean_message(text: str) -> str:
    """Strip control characters (keeping line breaks) and surrounding space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = (ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(kept).strip()


class Engine:
    """Turns one customer input into replies, with the conversation stored in the database."""

    def __init__(
        self,
        helpdesk: Helpdesk,
        kb: KnowledgeBase,
        matcher: Matcher,
        *,
        channel: str,
        idle_timeout: timedelta = timedelta(minutes=30),
    ) -> None:
        self.helpdesk = helpdesk
        self.kb = kb
        self.matcher = matcher
        self.channel = channel
        self.idle_timeout = idle_timeout
        self._locks = _KeyedLocks()

    async def handle(self, chat_id: str, event: Event) -> list[Reply]:
        """Process one input of one chat; inputs of the same chat are applied in order.

        Never raises for a failure inside the turn: the failure is logged and the customer is
        told that something went wrong and whether anything was filed, so one broken
        conversation cannot stop a channel.
        """
        event = _valid_unicode(event)
        async with self._locks.hold(chat_id):
            turn: Turn | None = None
            try:
                for _ in range(MAX_SAVE_ATTEMPTS):
                    record = await self.helpdesk.load_conversation(chat_id)
                    turn = await self._begin(chat_id, record)
                    await self._dispatch(turn, event)
                    self._record(turn, event)
                    saved = await self.helpdesk.save_conversation(
                        chat_id, turn.state.value, turn.data, record.version
                    )
                    if saved:
                        return turn.replies
                    log.info("conversation changed concurrently; applying the turn again")
                raise RuntimeError("conversation kept changing concurrently")
            except Exception:
                log.exception("turn failed (chat %s, %s)", chat_id, type(event).__name__)
                filed = turn.filed if turn is not None else None
                note = (
                    texts.ERROR_FILED.format(number=filed) if filed else texts.ERROR_NOTHING_FILED
                )
                return [Reply(texts.ERROR.format(filed=note))]

    async def _begin(self, chat_id: str, record: ConversationRecord) -> Turn:
        try:
            state = State(record.state)
        except ValueError:
            state = State.IDLE
        turn = Turn(
            chat_id=chat_id,
            customer=await self.helpdesk.linked_customer(chat_id),
            state=state,
            data=dict(record.data),
        )
        if turn.state in FLOW_STATES and record.updated_at is not None:
            if self.helpdesk.now() - record.updated_at > self.idle_timeout:
                minutes = int(self.idle_timeout.total_seconds() // 60)
                turn.reset()
                turn.say(texts.EXPIRED.format(minutes=minutes))
        if turn.state in FLOW_STATES and (
            turn.customer is None or turn.data.get("customer") != turn.customer.id
        ):
            # The chat was unlinked or relinked elsewhere: the flow is not theirs any more.
            turn.reset()
        return turn

    @staticmethod
    def _record(turn: Turn, event: Event) -> None:
        """Keep the last turns for a hand-off (account numbers masked)."""
        shown = dict(turn.data.get("shown", {}))
        if isinstance(event, TextInput):
            said = event.text.strip()[:200]
        elif isinstance(event, Press):
            # The label the customer saw, so the agent reads "[서비스 불만]", not a payload.
            label = shown.get(event.payload)
            said = f"[{label}]" if label else "(버튼 선택)"
        else:
            said = f"({event.kind} 첨부)"
        recent = list(turn.data.get("recent", []))
        recent.append(f"고객: {_redact(said)}")
        if turn.replies:
            first_line = turn.replies[0].text.strip().split("\n", 1)[0][:120]
            recent.append(f"봇: {_mask_numbers(first_line)}")
        turn.data["recent"] = recent[-TRANSCRIPT_TURNS:]
        buttons = {b.payload: b.label for r in turn.replies for b in r.flat_buttons()}
        if buttons:
            turn.data["shown"] = buttons

    # dispatch ---------------------------------------------------------------------------------

    async def _dispatch(self, turn: Turn, event: Event) -> None:
        if isinstance(event, Press):
            await self._on_press(turn, event.payload)
            return
        if isinstance(event, Upload):
            await self._on_upload(turn, event)
            return
        text = event.text.strip()
        if text.startswith("/"):
            await self._on_command(turn, text)
            return
        if turn.state in FLOW_STATES and self._is_stop_phrase(text, turn.state):
            self._stop(turn)
            return
        if turn.state is State.IDLE:
            small_talk = _small_talk(text)
            if small_talk == "greeting":
                turn.say(texts.WELCOME, self._topic_buttons(with_refund=True))
            elif small_talk == "thanks":
                turn.say(texts.YOU_ARE_WELCOME)
            elif _LINK_CODE.fullmatch(text):
                await self._link(turn, text)  # a pasted code without "/link"
            elif _START_REFUND.search(_squash(text)) and len(text) <= 30:
                await self._start_refund(turn)
            else:
                await self._faq(turn, text)
            return
        await self._on_flow_text(turn, text)

    @staticmethod
    def _is_stop_phrase(text: str, state: State) -> bool:
        """ "그만", "취소할래요 그만"… stop a flow; at a free-text step only the bare command does,
        because "사업 중단합니다" there is the customer's message, not a command."""
        squashed = re.sub(r"[^\w]", "", _squash(text).casefold())
        if state in FREE_TEXT_STATES:
            return squashed in _STOP_COMMANDS
        return len(squashed) <= 12 and any(word in squashed for word in _STOP_WORDS)

    async def _on_command(self, turn: Turn, text: str) -> None:
        head, _, rest = text.partition(" ")
        command = head[1:].split("@", 1)[0].casefold()
        argument = rest.strip()
        in_flow = turn.state in FLOW_STATES
        if command in ("cancel", "stop"):
            if in_flow:
                self._stop(turn)
            else:
                turn.say(texts.NOTHING_TO_CANCEL, self._topic_buttons())
            return
        if command == "start" and argument:
            await self._link(turn, argument)
            return
        if command == "link":
            if argument:
                await self._link(turn, argument)
            else:
                turn.say(texts.LINK_USAGE)
            return
        if command == "refund":
            await self._start_refund(turn)
            return
        if command == "start":
            turn.say(texts.WELCOME, self._topic_buttons(with_refund=True))
        elif command == "help":
            turn.say(texts.HELP, self._topic_buttons(with_refund=True))
        elif command == "unlink":
            removed = await self.helpdesk.unlink(turn.chat_id)
            turn.reset()
            turn.say(texts.UNLINKED if removed else texts.NOT_LINKED_UNLINK)
            return
        elif command == "status":
            await self._status(turn)
        else:
            turn.say(texts.NOT_UNDERSTOOD + "\n" + texts.HELP)
        if in_flow:
            await self._continue(turn)

    async def _on_press(self, turn: Turn, payload: str) -> None:
        parts = payload.split(":")
        if parts[0] == "g" and len(parts) >= 2:
            await self._on_global(
                turn,
                parts[1],
                parts[2] if len(parts) > 2 else "",
                parts[3] if len(parts) > 3 else "",
            )
            return
        if parts[0] == "f" and len(parts) >= 3:
            flow, action = parts[1], parts[2]
            arg = parts[3] if len(parts) > 3 else ""
            if turn.state in FLOW_STATES and flow == turn.data.get("flow"):
                await self._on_step(turn, action, arg, None)
                return
            if action == "confirm" and flow and flow == turn.data.get("filed_flow"):
                turn.say(texts.ALREADY_FILED.format(number=turn.data["filed_number"]))
                return
        await self._stale(turn)

    async def _on_global(self, turn: Turn, action: str, arg: str, payload_tail: str = "") -> None:
        in_flow = turn.state in FLOW_STATES
        if action == "refund":
            await self._start_refund(turn)
            return
        if action == "faq" and arg in self._intent_ids():
            await self._answer(turn, arg)
        elif action == "svc":
            await self._my_services(turn)
        elif action == "contact":
            turn.say(texts.CONTACT, self._handoff_row(turn))
        elif action == "ho":
            await self._start_inquiry(turn, topic="not_eligible")
            return
        elif action == "fb" and arg in self._intent_ids():
            await self._feedback(turn, arg, helpful=payload_tail == "1")
        elif action == "topics":
            turn.say(texts.TOPICS_INTRO, self._topic_buttons(with_refund=True))
        else:
            await self._stale(turn)
            return
        if in_flow:
            await self._continue(turn)

    async def _stale(self, turn: Turn) -> None:
        if turn.state in FLOW_STATES:
            turn.say(texts.STALE_BUTTON)
            turn.replies.append(await self._prompt(turn))
        else:
            turn.say(texts.STALE_BUTTON_IDLE, self._topic_buttons(with_refund=True))

    def _stop(self, turn: Turn) -> None:
        inquiry = turn.state in (State.INQUIRY_MESSAGE, State.INQUIRY_ATTACH)
        turn.reset()
        turn.say(texts.INQUIRY_STOPPED if inquiry else texts.STOPPED)

    async def _continue(self, turn: Turn) -> None:
        prompt = await self._prompt(turn)
        turn.say(texts.CONTINUE_PROMPT + "\n\n" + prompt.text, prompt.buttons)

    # linking and status ------------------------------------------------------------------------

    async def _link(self, turn: Turn, code: str) -> None:
        try:
            customer = await self.helpdesk.redeem_link_code(turn.chat_id, code)
        except InvalidLinkCode:
            turn.say(texts.LINK_FAILED)
            return
        except LinkThrottled as exc:
            minutes = max(1, int(exc.retry_after.total_seconds() // 60) + 1)
            turn.say(texts.LINK_THROTTLED.format(minutes=minutes))
            return
        turn.customer = customer
        turn.reset()
        turn.say(texts.LINKED.format(name=customer.name), self._topic_buttons(with_refund=True))

    async def _status(self, turn: Turn) -> None:
        if turn.customer is None:
            turn.say(texts.NOT_LINKED)
            return
        requests = await self.helpdesk.list_requests(customer_id=turn.customer.id)
        if not requests:
            turn.say(texts.NO_REQUESTS)
            return
        lines = [texts.STATUS_HEADER]
        for request in requests:
            lines.append(texts.status_line(request))
        turn.say("\n".join(lines))

    # FAQ ------------------------------------------------------------------------------------

    def _intent_ids(self) -> set[str]:
        return {intent.id for intent in self.kb.intents}

    def _topic_buttons(self, with_refund: bool = False) -> tuple[tuple[Button, ...], ...]:
        buttons = [Button(i.title, f"g:faq:{i.id}") for i in self.kb.intents]
        rows = _rows(buttons, 2)
        if with_refund:
            rows += ((Button(texts.BTN_START_REFUND, "g:refund"),),)
        return rows

    def _action_button(self, action: str) -> Button | None:
        if action == "refund":
            return Button(texts.BTN_START_REFUND, "g:refund")
        if action == "my_services":
            return Button(texts.BTN_MY_SERVICES, "g:svc")
        if action == "contact":
            return Button(texts.BTN_CONTACT, "g:contact")
        if action.startswith("faq:"):
            intent_id = action.removeprefix("faq:")
            if intent_id in self._intent_ids():
                return Button(self.kb.get(intent_id).title, f"g:faq:{intent_id}")
        return None

    async def _faq(self, turn: Turn, text: str) -> bool:
        """Answer free text from the knowledge base; return False when nothing fitted."""
        result = self.matcher.match(text[:MAX_MATCH_CHARS])
        turn.data["last_q"] = _redact(text[:MAX_MATCH_CHARS])
        await self.helpdesk.log_faq_event(
            chat_id=turn.chat_id,
            kind=result.decision,
            intent=result.intent,
            text=turn.data["last_q"],
            normalized=_redact(result.normalized[:MAX_MATCH_CHARS]),
        )
        if result.decision == "answer" and result.intent:
            await self._answer(turn, result.intent, asked=True)
            return True
        if result.decision == "clarify" and result.candidates:
            buttons = [
                Button(self.kb.get(c).title, f"g:faq:{c}")
                for c in result.candidates
                if c in self._intent_ids()
            ]
            buttons.append(Button(texts.BTN_OTHER_QUESTION, "g:topics"))
            turn.say(texts.CLARIFY, _rows(buttons))
            return True
        if turn.state is State.IDLE:
            turn.say(texts.FALLBACK, self._topic_buttons() + ((self._contact_button(),),))
        return False

    @staticmethod
    def _contact_button() -> Button:
        return Button(texts.BTN_CONTACT, "g:contact")

    async def _answer(self, turn: Turn, intent_id: str, asked: bool = False) -> None:
        intent = self.kb.get(intent_id)
        text = intent.answer.strip()
        buttons = [b for b in (self._action_button(a) for a in intent.actions) if b]
        if not asked:
            turn.data["last_q"] = f"[{intent.title}]"
        if turn.customer is not None and intent_id in ("not_in_list", "past_deadline"):
            personal, blocked = await self._not_cancellable_text(turn.customer)
            if personal:
                text += "\n\n" + personal
            if blocked:
                buttons.append(self._handoff_button())
        rows = _rows(buttons) + (
            (
                Button(texts.BTN_HELPFUL, f"g:fb:{intent_id}:1"),
                Button(texts.BTN_NOT_HELPFUL, f"g:fb:{intent_id}:0"),
            ),
        )
        turn.say(text, rows)

    async def _feedback(self, turn: Turn, intent_id: str, helpful: bool) -> None:
        question = str(turn.data.get("last_q", ""))
        await self.helpdesk.log_faq_event(
            chat_id=turn.chat_id,
            kind="feedback",
            intent=intent_id,
            text=question,
            normalized=self.matcher.match(question).normalized if question else "",
            helpful=helpful,
        )
        if helpful:
            turn.say(texts.THANKS_HELPFUL)
        else:
            turn.say(texts.THANKS_NOT_HELPFUL, self._topic_buttons() + ((self._contact_button(),),))

    @staticmethod
    def _handoff_button() -> Button:
        return Button(texts.BTN_HANDOFF, "g:ho")

    def _handoff_row(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        return ((self._handoff_button(),),) if turn.customer is not None else ()

    # services overview ----------------------------------------------------------------------

    async def _not_cancellable_text(self, customer: Customer) -> tuple[str, bool]:
        """The customer's services that are not cancellable and why; and whether any are."""
        views = await self.helpdesk.services_overview(customer.id)
        blocked = [v for v in views if not v.eligibility.eligible]
        if not views:
            return texts.NO_SERVICES, False
        if not blocked:
            return texts.ALL_CANCELLABLE, False
        lines = [texts.NOT_CANCELLABLE_HEADER, *self._blocked_lines(blocked)]
        return "\n".join(lines), True

    def _blocked_lines(self, blocked: list[ServiceView]) -> list[str]:
        lines = [f"• {self._reason_text(v.eligibility)}" for v in blocked]
        kinds = {type(r) for v in blocked for r in v.eligibility.reasons}
        if PastDeadline in kinds:
            lines.append(texts.NEXT_STEP_PAST_DEADLINE)
        if SmsUsed in kinds:
            lines.append(texts.NEXT_STEP_SMS_USED)
        if RequestOpen in kinds:
            lines.append(texts.NEXT_STEP_OPEN)
        return lines

    @staticmethod
    def _reason_text(verdict: Eligibility) -> str:
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

    async def _my_services(self, turn: Turn) -> None:
        if turn.customer is None:
            turn.say(texts.NOT_LINKED)
            return
        views = await self.helpdesk.services_overview(turn.customer.id)
        if not views:
            turn.say(texts.NO_SERVICES)
            return
        lines = [texts.MY_SERVICES_HEADER]
        eligible = [v for v in views if v.eligibility.eligible]
        for view in eligible:
            total = quote(view.service).total
            lines.append(
                "• " + texts.eligible_line(view.service.id, total, view.eligibility.last_day)
            )
        lines += self._blocked_lines([v for v in views if not v.eligibility.eligible])
        buttons: list[Button] = []
        if eligible:
            buttons.append(Button(texts.BTN_START_REFUND, "g:refund"))
        if len(eligible) < len(views):
            buttons.append(self._handoff_button())
        turn.say("\n".join(lines), _rows(buttons))

    # the refund flow --------------------------------------------------------------------------

    async def _start_refund(self, turn: Turn) -> None:
        if turn.customer is None:
            turn.reset()
            turn.say(texts.NOT_LINKED)
            return
        views = await self.helpdesk.services_overview(turn.customer.id)
        eligible = [v for v in views if v.eligibility.eligible]
        if not views:
            turn.reset()
            turn.say(texts.NO_SERVICES)
            return
        if not eligible:
            turn.reset()
            lines = [texts.NONE_ELIGIBLE, *self._blocked_lines(views)]
            turn.say("\n".join(lines), ((self._handoff_button(),), (self._contact_button(),)))
            return
        turn.reset()
        turn.data.update(
            flow=secrets.token_urlsafe(6),
            customer=turn.customer.id,
            options=[v.service.id for v in eligible],
        )
        turn.go(State.CHOOSE_SERVICE)
        turn.replies.append(await self._prompt(turn))

    def _flow_button(self, turn: Turn, label: str, action: str, arg: int | None = None) -> Button:
        suffix = f":{arg}" if arg is not None else ""
        return Button(label, f"f:{turn.data['flow']}:{action}{suffix}")

    def _nav(self, turn: Turn, back: bool = True) -> list[Button]:
        buttons = [self._flow_button(turn, texts.BTN_BACK, "back")] if back else []
        buttons.append(self._flow_button(turn, texts.BTN_STOP, "stop"))
        return buttons

    async def _service(self, turn: Turn) -> ServiceView | None:
        assert turn.customer is not None
        for view in await self.helpdesk.services_overview(turn.customer.id):
            if view.service.id == turn.data.get("service"):
                return view
        return None

    async def _prompt(self, turn: Turn) -> Reply:
        """The question of the current step, with its buttons."""
        state = turn.state
        if state is State.CHOOSE_SERVICE:
            assert turn.customer is not None
            views = {
                v.service.id: v for v in await self.helpdesk.services_overview(turn.customer.id)
            }
            lines = [texts.CHOOSE_SERVICE]
            buttons = []
            for index, service_id in enumerate(turn.data["options"]):
                view = views.get(service_id)
                if view is None or not view.eligibility.eligible:
                    continue  # e.g. the day ended while the list was open
                total = quote(view.service).total
                lines.append(
                    "• " + texts.eligible_line(service_id, total, view.eligibility.last_day)
                )
                buttons.append(
                    self._flow_button(turn, texts.service_button(service_id, total), "svc", index)
                )
            rows = _rows(buttons)
            if any(not v.eligibility.eligible for v in views.values()):
                rows += ((Button(texts.BTN_NOT_LISTED, "g:svc"),),)
            return Reply("\n".join(lines), rows + (tuple(self._nav(turn, back=False)),))
        if state is State.INQUIRY_MESSAGE:
            return Reply(
                texts.ASK_INQUIRY.format(limit=MESSAGE_LIMIT),
                (tuple(self._nav(turn, back=False)),),
            )
        if state is State.INQUIRY_ATTACH:
            skip = self._flow_button(turn, texts.BTN_NO_ATTACHMENT, "no_attachment")
            return Reply(texts.ASK_ATTACHMENT, ((skip,), tuple(self._nav(turn))))
        view = await self._service(turn)
        if view is None:  # pragma: no cover - guarded by the steps that set "service"
            return Reply(texts.NO_LONGER_ELIGIBLE)
        service = view.service
        if state is State.BREAKDOWN:
            text = texts.breakdown(
                service.id,
                service.service_fee,
                service.sms_charge,
                self._destination(service.payment_method),
                view.eligibility.last_day,
            )
            next_button = self._flow_button(turn, texts.BTN_NEXT, "next")
            return Reply(text, ((next_button,), tuple(self._nav(turn))))
        if state is State.REASON:
            reasons = [self._flow_button(turn, r.value, "reason", i) for i, r in enumerate(REASONS)]
            return Reply(texts.ASK_REASON, _rows(reasons, 2) + (tuple(self._nav(turn)),))
        if state is State.MESSAGE:
            return Reply(texts.ASK_MESSAGE.format(limit=MESSAGE_LIMIT), (tuple(self._nav(turn)),))
        if state is State.BANK:
            banks = [self._flow_button(turn, b, "bank", i) for i, b in enumerate(texts.BANKS)]
            return Reply(texts.ASK_BANK, _rows(banks, 3) + (tuple(self._nav(turn)),))
        if state is State.ACCOUNT:
            return Reply(texts.ASK_ACCOUNT, (tuple(self._nav(turn)),))
        if state is State.HOLDER:
            return Reply(texts.ASK_HOLDER, (tuple(self._nav(turn)),))
        # CONFIRM
        account_line = None
        if service.payment_method is PaymentMethod.BANK_TRANSFER:
            account = RefundAccount(
                bank=turn.data["bank"], number=turn.data["account"], holder=turn.data["holder"]
            )
            account_line = f"{account.bank} {account.masked_number} ({account.holder})"
        text = texts.summary(
            service.id,
            service.service_fee,
            service.sms_charge,
            turn.data["reason"],
            turn.data["message"],
            account_line,
            self._destination(service.payment_method),
        )
        confirm = self._flow_button(turn, texts.BTN_CONFIRM, "confirm")
        return Reply(text, ((confirm,), tuple(self._nav(turn))))

    @staticmethod
    def _destination(method: PaymentMethod) -> str:
        return texts.DEST_MYCASH if method is PaymentMethod.MYCASH else texts.DEST_BANK

    async def _on_flow_text(self, turn: Turn, text: str) -> None:
        # A typed button label counts as pressing it (customers often type what they see).
        prompt = await self._prompt(turn)
        typed = _norm_label(text)
        for button in prompt.flat_buttons():
            if typed and _norm_label(button.label) == typed:
                await self._on_press(turn, button.payload)
                return
        if turn.state in FREE_TEXT_STATES:
            await self._on_step(turn, "text", "", text)
            return
        # Buttons were expected: a question still gets its answer, then the step again.
        if await self._faq(turn, text):
            await self._continue(turn)
        else:
            await self._unusable(turn, texts.NOT_UNDERSTOOD)

    async def _unusable(self, turn: Turn, problem: str) -> None:
        strikes = int(turn.data.get("strikes", 0)) + 1
        turn.data["strikes"] = strikes
        if strikes >= MAX_STRIKES:
            buttons = (
                (self._flow_button(turn, texts.BTN_CONTINUE, "resume"),),
                (self._contact_button(),),
                (self._flow_button(turn, texts.BTN_STOP, "stop"),),
            )
            turn.say(problem + "\n" + texts.LADDER, buttons)
            return
        prompt = await self._prompt(turn)
        turn.say(problem + "\n\n" + prompt.text, prompt.buttons)

    async def _step_to(self, turn: Turn, state: State) -> None:
        turn.go(state)
        turn.replies.append(await self._prompt(turn))

    async def _on_step(self, turn: Turn, action: str, arg: str, text: str | None) -> None:
        """Handle a button press (or, for text steps, the text) at the current step."""
        if action == "stop":
            self._stop(turn)
            return
        if action == "resume":
            turn.data["strikes"] = 0
            turn.replies.append(await self._prompt(turn))
            return
        if action == "back":
            await self._back(turn)
            return
        handler = {
            State.CHOOSE_SERVICE: self._step_choose_service,
            State.BREAKDOWN: self._step_breakdown,
            State.REASON: self._step_reason,
            State.MESSAGE: self._step_message,
            State.BANK: self._step_bank,
            State.ACCOUNT: self._step_account,
            State.HOLDER: self._step_holder,
            State.CONFIRM: self._step_confirm,
            State.INQUIRY_MESSAGE: self._step_inquiry_message,
            State.INQUIRY_ATTACH: self._step_inquiry_attach,
        }[turn.state]
        if not await handler(turn, action, arg, text):
            await self._stale(turn)

    async def _back(self, turn: Turn) -> None:
        previous = {
            State.BREAKDOWN: State.CHOOSE_SERVICE,
            State.REASON: State.BREAKDOWN,
            State.MESSAGE: State.REASON,
            State.BANK: State.MESSAGE,
            State.ACCOUNT: State.BANK,
            State.HOLDER: State.ACCOUNT,
            State.INQUIRY_ATTACH: State.INQUIRY_MESSAGE,
        }
        if turn.state is State.CONFIRM:
            view = await self._service(turn)
            bank = view is not None and view.service.payment_method is PaymentMethod.BANK_TRANSFER
            target = State.HOLDER if bank else State.MESSAGE
        elif turn.state in previous:
            target = previous[turn.state]
        else:
            turn.replies.append(await self._prompt(turn))
            return
        await self._step_to(turn, target)

    @staticmethod
    def _index(arg: str, size: int) -> int | None:
        # ASCII digits only: "²".isdigit() is True but int("²") fails.
        if not _INDEX.fullmatch(arg):
            return None
        index = int(arg)
        return index if index < size else None

    async def _step_choose_service(
        self, turn: Turn, action: str, arg: str, text: str | None
    ) -> bool:
        options: list[str] = turn.data["options"]
        index = self._index(arg, len(options)) if action == "svc" else None
        if index is None:
            return False
        turn.data["service"] = options[index]
        for stale in ("bank", "account", "holder", "typed_holder"):
            turn.data.pop(stale, None)
        view = await self._service(turn)
        if view is None or not view.eligibility.eligible:
            turn.data.pop("service", None)
            turn.say(texts.NO_LONGER_ELIGIBLE)
            await self._start_refund(turn)
            return True
        await self._step_to(turn, State.BREAKDOWN)
        return True

    async def _step_breakdown(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if action != "next":
            return False
        await self._step_to(turn, State.REASON)
        return True

    async def _step_reason(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        index = self._index(arg, len(REASONS)) if action == "reason" else None
        if index is None:
            return False
        turn.data["reason"] = REASONS[index].value
        await self._step_to(turn, State.MESSAGE)
        return True

    async def _required_text(self, turn: Turn, text: str) -> str | None:
        """The cleaned message, or None after re-prompting for a blank or over-long one."""
        # An account number typed into free text would be stored and echoed in the clear.
        message = _mask_numbers(clean_message(text))
        if not message:
            await self._unusable(turn, texts.MESSAGE_BLANK)
            return None
        if len(message) > MESSAGE_LIMIT:
            await self._unusable(
                turn, texts.MESSAGE_TOO_LONG.format(length=len(message), limit=MESSAGE_LIMIT)
            )
            return None
        return message

    async def _step_message(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if text is None:
            return False
        message = await self._required_text(turn, text)
        if message is None:
            return True
        turn.data["message"] = message
        view = await self._service(turn)
        bank = view is not None and view.service.payment_method is PaymentMethod.BANK_TRANSFER
        await self._step_to(turn, State.BANK if bank else State.CONFIRM)
        return True

    async def _step_bank(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if action == "bank":
            index = self._index(arg, len(texts.BANKS))
            if index is None:
                return False
            bank = texts.BANKS[index]
        elif text is not None:
            bank = clean_message(text).replace("\n", " ")
            # Digits mean an account number typed with the bank ("신한 110…"): the bank field is
            # neither masked nor encrypted, so the number must go to its own step.
            if not 2 <= len(bank) <= 20 or any(ch.isdigit() for ch in bank):
                await self._unusable(turn, texts.BANK_INVALID)
                return True
        else:
            return False
        turn.data["bank"] = bank
        await self._step_to(turn, State.ACCOUNT)
        return True

    async def _step_account(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if text is None:
            return False
        try:
            turn.data["account"] = normalize_account_number(text)
        except InvalidAccount:
            await self._unusable(turn, texts.ACCOUNT_INVALID)
            return True
        await self._step_to(turn, State.HOLDER)
        return True

    async def _step_holder(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if action == "retry_holder":
            turn.replies.append(await self._prompt(turn))
            return True
        if action == "retry_account":
            await self._step_to(turn, State.ACCOUNT)
            return True
        if action == "handoff":
            await self._start_inquiry(turn, topic="other_name_account")
            return True
        if text is None:
            return False
        holder = clean_message(text).replace("\n", " ")
        assert turn.customer is not None
        if not same_holder(holder, turn.customer.name):
            turn.data.pop("holder", None)
            strikes = int(turn.data.get("strikes", 0)) + 1
            turn.data["strikes"] = strikes
            buttons = (
                (self._flow_button(turn, texts.BTN_RETRY_HOLDER, "retry_holder"),),
                (self._flow_button(turn, texts.BTN_RETRY_ACCOUNT, "retry_account"),),
                (self._flow_button(turn, texts.BTN_HANDOFF_OTHER_NAME, "handoff"),),
                (self._flow_button(turn, texts.BTN_STOP, "stop"),),
            )
            turn.data["typed_holder"] = holder[:50]
            turn.say(texts.HOLDER_MISMATCH, buttons)
            return True
        turn.data["holder"] = holder
        await self._step_to(turn, State.CONFIRM)
        return True

    async def _step_confirm(self, turn: Turn, action: str, arg: str, text: str | None) -> bool:
        if action != "confirm":
            return False
        assert turn.customer is not None
        account = None
        if "account" in turn.data:
            account = RefundAccount(
                bank=turn.data["bank"], number=turn.data["account"], holder=turn.data["holder"]
            )
        flow = turn.data["flow"]
        try:
            request, created = await self.helpdesk.file_request(
                customer_id=turn.customer.id,
                service_id=turn.data["service"],
                reason=Reason(turn.data["reason"]),
                message=turn.data["message"],
                account=account,
                channel=self.channel,
                chat_id=turn.chat_id,
                submission_key=f"{turn.chat_id}:{flow}",
            )
        except AlreadyOpen as exc:
            turn.reset()
            turn.say(texts.ALREADY_OPEN.format(number=exc.number))
            return True
        except (NotEligible, NotFound) as exc:
            turn.reset()
            lines = [texts.NO_LONGER_ELIGIBLE]
            if isinstance(exc, NotEligible):
                view = await self._service_by_id(turn.customer, exc.service_id)
                if view is not None:
                    lines += self._blocked_lines([view])
            turn.say("\n".join(lines), ((self._contact_button(),),))
            return True
        except InvalidAccount:
            # The customer's name or the service's payment method changed since the account
            # was entered (a re-import): take the account details again from the bank.
            turn.say(texts.ACCOUNT_RECHECK)
            await self._step_to(turn, State.BANK)
            return True
        turn.reset()
        turn.data.update(filed_flow=flow, filed_number=request.number)
        turn.filed = request.number
        if not created:
            turn.say(texts.ALREADY_FILED.format(number=request.number))
            return True
        turn.say(self._filed_text(request))
        return True

    # hand-off to the customer centre ---------------------------------------------------------

    async def _start_inquiry(self, turn: Turn, topic: str) -> None:
        if turn.customer is None:
            turn.reset()
            turn.say(texts.NOT_LINKED)
            return
        if topic == "other_name_account" and turn.state is State.HOLDER:
            service_id = turn.data.get("service")
            masked = RefundAccount(
                bank=turn.data.get("bank", ""), number=turn.data.get("account", ""), holder=""
            ).masked_number
            context = texts.inquiry_context_other_name(
                str(service_id),
                str(turn.data.get("bank", "")),
                masked,
                str(turn.data.get("typed_holder", "")),
                turn.customer.name,
            )
        else:
            service_id = None
            views = await self.helpdesk.services_overview(turn.customer.id)
            blocked = [v for v in views if not v.eligibility.eligible]
            context = "\n".join(f"{self._reason_text(v.eligibility)}" for v in blocked)
            context = context or texts.INQUIRY_CONTEXT_NONE
        customer_id = turn.customer.id
        turn.reset()
        turn.data.update(
            flow=secrets.token_urlsafe(6),
            customer=customer_id,
            inquiry={"topic": topic, "service": service_id, "context": context},
        )
        turn.go(State.INQUIRY_MESSAGE)
        turn.replies.append(await self._prompt(turn))

    async def _step_inquiry_message(
        self, turn: Turn, action: str, arg: str, text: str | None
    ) -> bool:
        if text is None:
            return False
        message = await self._required_text(turn, text)
        if message is None:
            return True
        turn.data["inquiry"] = dict(turn.data["inquiry"], message=message)
        if turn.data["inquiry"]["topic"] == "other_name_account":
            await self._step_to(turn, State.INQUIRY_ATTACH)
        else:
            await self._file_inquiry(turn, [])
        return True

    async def _step_inquiry_attach(
        self, turn: Turn, action: str, arg: str, text: str | None
    ) -> bool:
        if action == "no_attachment":
            await self._file_inquiry(turn, [])
            return True
        if text is not None:
            await self._unusable(turn, texts.ATTACHMENT_EXPECTED)
            return True
        return False

    async def _on_upload(self, turn: Turn, upload: Upload) -> None:
        if turn.state is State.INQUIRY_ATTACH:
            attachment = Attachment(
                file_id=upload.file_id,
                kind=upload.kind,
                file_name=upload.file_name,
                mime_type=upload.mime_type,
                size=upload.size,
            )
            await self._file_inquiry(turn, [attachment])
            return
        turn.say(texts.TEXT_ONLY)
        if turn.state in FLOW_STATES:
            await self._continue(turn)

    async def _file_inquiry(self, turn: Turn, attachments: list[Attachment]) -> None:
        assert turn.customer is not None
        inquiry = turn.data["inquiry"]
        flow = turn.data["flow"]
        filed, _ = await self.helpdesk.file_inquiry(
            customer_id=turn.customer.id,
            service_id=inquiry.get("service"),
            topic=inquiry["topic"],
            context=inquiry["context"],
            message=inquiry["message"],
            transcript=list(turn.data.get("recent", [])),
            attachments=attachments,
            channel=self.channel,
            chat_id=turn.chat_id,
            submission_key=f"{turn.chat_id}:{flow}",
        )
        turn.reset()
        turn.data["filed_inquiry"] = filed.number
        turn.say(texts.inquiry_filed(filed.number, len(filed.attachments)))

    async def _service_by_id(self, customer: Customer, service_id: str) -> ServiceView | None:
        for view in await self.helpdesk.services_overview(customer.id):
            if view.service.id == service_id:
                return view
        return None

    def _filed_text(self, request: RefundRequest) -> str:
        if request.payment_method is PaymentMethod.MYCASH:
            first, last = mycash_credit_window(today_kst(self.helpdesk.clock))
            return texts.filed_mycash(request.number, request.total, first, last)
        assert request.account is not None
        return texts.filed_bank(
            request.number, request.total, request.account.bank, request.account.masked_number
        )


_GREETINGS = ("안녕", "하이", "hi", "hello", "반가워", "반갑습니다", "헬로")
_THANKS = ("감사", "고마워", "고맙습니다", "땡큐", "thx", "thanks", "thankyou", "ㄱㅅ")


def _small_talk(text: str) -> str | None:
    """'greeting' or 'thanks' for a short message that is only that, else None."""
    squashed = re.sub(r"[^\w가-힣ㄱ-ㅎ]", "", _squash(text).casefold())
    squashed = re.sub(r"(요|용|여|합니다|해요|드려요|드립니다)$", "", squashed)
    if not squashed or len(squashed) > 8:
        return None
    # NFKC turns compatibility jamo (ㄱㅅ) into conjoining ones: compare like with like.
    if any(squashed.startswith(_squash(word)) for word in _GREETINGS):
        return "greeting"
    if any(squashed.startswith(_squash(word)) for word in _THANKS):
        return "thanks"
    return None


def _redact(text: str) -> str:
    """Text safe to keep for agents and analysis: long numbers masked, code-like tokens hidden."""
    return _CODE_LIKE.sub("[코드]", _mask_numbers(text))


def _mask_numbers(text: str) -> str:
    """Mask every run of 10 or more digits (account, card or phone numbers) but its last four."""

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = sum(ch.isdigit() for ch in run)
        return mask_account_number(run) if digits >= ACCOUNT_DIGITS_MIN else run

    return _LONG_NUMBER.sub(mask, text)


def _utf8(text: str) -> str:
    # Lone surrogates (from a broken terminal or client) cannot be stored or sent; replace them.
    return text.encode("utf-8", "replace").decode("utf-8")


def _valid_unicode(event: Event) -> Event:
    """The event with every string made valid UTF-8."""
    if isinstance(event, TextInput):
        return TextInput(_utf8(event.text))
    if isinstance(event, Press):
        return Press(_utf8(event.payload))
    return Upload(
        file_id=_utf8(event.file_id),
        kind=_utf8(event.kind),
        file_name=_utf8(event.file_name) if event.file_name else None,
        mime_type=_utf8(event.mime_type) if event.mime_type else None,
        size=event.size,
    )


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def iter_payloads(replies: list[Reply]) -> Iterator[str]:
    """Every payload in a list of replies (for channels and tests)."""
    for reply in replies:
        for button in reply.flat_buttons():
            yield button.payload


__all__ = [
    "Button",
    "Engine",
    "Event",
    "Press",
    "Reply",
    "TextInput",
    "Upload",
    "format_won",
]
