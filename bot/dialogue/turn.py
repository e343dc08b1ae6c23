"""One turn: what it reads (the chat's state and customer), what it changes, what it says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from bot import texts
from bot.dialogue.data import ConversationData
from bot.dialogue.events import Button, Reply, Rows
from bot.dialogue.flow import State
from bot.dialogue.payloads import flow_payload
from core.calendar import today_kst
from core.models import Customer
from core.storage import Tx
from core.usecases import Helpdesk, ServiceView
from faq.kb import KnowledgeBase
from faq.matcher import Matcher


@dataclass(frozen=True)
class DialogueLimits:
    """The conversation's tunables (from settings)."""

    idle_timeout: timedelta = timedelta(minutes=30)
    message_limit: int = 1000
    max_strikes: int = 3
    max_match_chars: int = 300
    transcript_turns: int = 10
    save_attempts: int = 5
    resume_after: timedelta = timedelta(minutes=10)
    """A customer silent this long in a flow is greeted as coming back to it."""


TEXT_ONLY_CHANNELS = frozenset({"console", "kakao"})
"""Channels whose customers cannot send a photo or a file."""


@dataclass(frozen=True)
class Deps:
    """What every turn of one engine works with."""

    helpdesk: Helpdesk
    kb: KnowledgeBase
    matcher: Matcher
    channel: str
    limits: DialogueLimits

    @property
    def accepts_files(self) -> bool:
        """Whether a customer can send this channel a photo or a file (the 확인증): not the
        terminal chat, and not KakaoTalk, whose skill server receives text only."""
        return self.channel not in TEXT_ONLY_CHANNELS


@dataclass
class Turn:
    """Everything one turn reads and changes, inside one unit of work (`tx`)."""

    chat_id: str
    customer: Customer | None
    state: State
    data: ConversationData
    tx: Tx
    deps: Deps
    replies: list[Reply] = field(default_factory=list)
    returning: bool = False
    """The customer comes back to this flow after a pause (or a new session)."""
    pending: str | None = None
    """The flow this turn may start over a filled-in form (asked for in the previous turn)."""
    held: str | None = None
    """Question-like text the previous turn asked about keeping as the message."""
    _views: list[ServiceView] | None = None

    @property
    def today(self) -> date:
        """Today's date in Seoul, from the injected clock."""
        return today_kst(self.deps.helpdesk.clock)

    def say(self, text: str, buttons: Rows = ()) -> None:
        """Queue a reply."""
        self.replies.append(Reply(text, buttons))

    def reset(self) -> None:
        """Leave any flow; remember only what outlives it."""
        self.state = State.IDLE
        self.data = self.data.cleared()

    async def services(self) -> list[ServiceView]:
        """The linked customer's services with their eligibility, read once per turn."""
        assert self.customer is not None
        if self._views is None:
            self._views = await self.deps.helpdesk.customers.services_overview(
                self.customer.id, tx=self.tx
            )
        return self._views

    def services_changed(self) -> None:
        """Forget the services read so far (after filing, which changes eligibility)."""
        self._views = None

    async def service(self, service_id: str | None = None) -> ServiceView | None:
        """The view of `service_id` (default: the flow's chosen service), if it is theirs."""
        wanted = service_id or self.data.service
        for view in await self.services():
            if view.service.id == wanted:
                return view
        return None

    def flow_button(self, label: str, action: str, index: int | None = None) -> Button:
        """A button of the current flow's step."""
        assert self.data.flow is not None
        return Button(label, flow_payload(self.data.flow, action, index))

    def nav(self, back: bool = True) -> tuple[Button, ...]:
        """The step's [이전 단계] [그만하기] row."""
        buttons = [self.flow_button(texts.BTN_BACK, "back")] if back else []
        buttons.append(self.flow_button(texts.BTN_STOP, "stop"))
        return tuple(buttons)
