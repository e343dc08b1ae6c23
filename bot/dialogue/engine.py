"""The turn runner: one input of one chat becomes replies, as one unit of work.

A turn loads the chat's conversation, works out the customer, lets the router handle the input
and saves the conversation — all in one database transaction together with every side effect
(a filed request, a link, FAQ events, an inquiry). If another writer moved the conversation on
meanwhile (another process serving the same chat), the whole turn is rolled back and applied
again from the start, so nothing it did is done twice. Inputs of one chat are applied in order.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from bot import texts
from bot.concurrency import KeyedLocks
from bot.dialogue import router
from bot.dialogue.account import link_code_in
from bot.dialogue.data import ConversationData
from bot.dialogue.events import Event, Opened, Press, Reply, TextInput, valid_unicode
from bot.dialogue.flow import State
from bot.dialogue.machine import EXPIRED_TEXTS, FLOW_STATES, flow_kind
from bot.dialogue.turn import Deps, DialogueLimits, Turn
from core.errors import ConversationConflict, DatabaseReplaced
from core.storage import ConversationRecord, Tx
from core.text import mask_numbers, redact
from core.usecases import Helpdesk
from faq.kb import KnowledgeBase
from faq.matcher import Matcher

log = logging.getLogger(__name__)


class Engine:
    """Turns one customer input into replies, with the conversation stored in the database."""

    def __init__(
        self,
        helpdesk: Helpdesk,
        kb: KnowledgeBase,
        matcher: Matcher,
        *,
        channel: str,
        limits: DialogueLimits | None = None,
    ) -> None:
        self.helpdesk = helpdesk
        self.deps = Deps(helpdesk, kb, matcher, channel, limits or DialogueLimits())
        self._locks = KeyedLocks()
        self.on_fatal: Callable[[Exception], None] | None = None
        """Called when the channel must stop (the database file was deleted or replaced)."""

    async def handle(self, chat_id: str, event: Event) -> list[Reply]:
        """Process one input of one chat; inputs of the same chat are applied in order.

        Never raises for a failure inside the turn: the failure is logged and the customer is
        told that something went wrong and that nothing was filed (the turn's unit of work was
        rolled back), so one broken conversation cannot stop a channel.
        """
        event = valid_unicode(event)
        async with self._locks.hold(chat_id):
            try:
                if isinstance(event, TextInput) and link_code_in(event.text):
                    # Outside the write transaction: a guesser waits without holding it.
                    await self.helpdesk.linking.slow_down(chat_id)
                for _ in range(self.deps.limits.save_attempts):
                    try:
                        return await self._turn(chat_id, event)
                    except ConversationConflict:
                        log.info("conversation changed concurrently; applying the turn again")
                raise RuntimeError("conversation kept changing concurrently")
            except DatabaseReplaced as exc:
                # Nothing more may be written into a file nobody will read: stop the channel.
                log.critical("%s", exc)
                if self.on_fatal is not None:
                    self.on_fatal(exc)
                return [Reply(texts.ERROR.format(filed=texts.ERROR_NOTHING_FILED))]
            except Exception:
                log.exception("turn failed (chat %s, %s)", chat_id, type(event).__name__)
                return [Reply(texts.ERROR.format(filed=texts.ERROR_NOTHING_FILED))]

    async def _turn(self, chat_id: str, event: Event) -> list[Reply]:
        # Keyed by the chat: its turns in other processes wait for this one (PostgreSQL).
        async with self.helpdesk.db.transaction(key=chat_id) as tx:
            record = await self.helpdesk.conversations.load(chat_id, tx=tx)
            turn = await self._begin(chat_id, record, tx)
            live_press = isinstance(event, Press) and event.payload in turn.data.shown
            await router.dispatch(turn, event)
            if live_press and turn.replies:
                turn.replies[0] = dataclasses.replace(turn.replies[0], continues_press=True)
            self._remember(turn, event)
            await self.helpdesk.conversations.save(
                chat_id,
                turn.state.value,
                turn.data.model_dump(mode="json", exclude_defaults=True),
                record.version,
                tx=tx,
            )
        return turn.replies

    async def _begin(self, chat_id: str, record: ConversationRecord, tx: Tx) -> Turn:
        try:
            state = State(record.state)
        except ValueError:
            state = State.IDLE
        turn = Turn(
            chat_id=chat_id,
            customer=await self.helpdesk.linking.customer_of(chat_id, tx=tx),
            state=state,
            data=ConversationData.model_validate(record.data),
            tx=tx,
            deps=self.deps,
        )
        # A confirmation asked for (start another flow, keep a question-like message) is good
        # for the very next input only.
        turn.pending, turn.data.pending = turn.data.pending, None
        turn.held, turn.data.held = turn.data.held, None
        if turn.state in FLOW_STATES and record.updated_at is not None:
            limits = self.deps.limits
            silent = self.helpdesk.now() - record.updated_at
            if silent > limits.idle_timeout:
                expired = EXPIRED_TEXTS[flow_kind(turn.state, turn.data)]
                turn.reset()
                minutes = int(limits.idle_timeout.total_seconds() // 60)
                turn.say(expired.format(minutes=minutes))
            elif silent >= limits.resume_after:
                turn.returning = True
        if turn.state in FLOW_STATES and (
            turn.customer is None or turn.data.customer != turn.customer.id
        ):
            # The chat was unlinked or relinked elsewhere: the flow is not theirs any more.
            turn.reset()
        return turn

    def _remember(self, turn: Turn, event: Event) -> None:
        """Keep the last turns for a hand-off (redacted) and the buttons now shown."""
        data = turn.data
        if isinstance(event, Opened):
            said = None
        elif isinstance(event, TextInput):
            said = event.text.strip()[:200]
        elif isinstance(event, Press):
            # The label the customer saw, so the agent reads "[서비스 불만]", not a payload.
            label = data.shown.get(event.payload)
            said = f"[{label}]" if label else "(버튼 선택)"
        else:
            said = f"({event.kind} 첨부)"
        recent = [*data.recent, f"고객: {redact(said)}"] if said is not None else list(data.recent)
        if turn.replies:
            first_line = turn.replies[0].text.strip().split("\n", 1)[0][:120]
            recent.append(f"봇: {mask_numbers(first_line)}")
        data.recent = recent[-self.deps.limits.transcript_turns :]
        data.shown = {b.payload: b.label for r in turn.replies for b in r.flat_buttons()}
