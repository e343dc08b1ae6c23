"""One skill request in, one skill response out: the engine's turn within Kakao's 5 seconds.

The customer is the chat `kakao:<botUserKey>`. Their utterance goes to the engine as typed text
(`TextInput`) — a quick reply sends its full button label, which the engine takes as the press
(see bot/kakao/render.py) — and the engine's replies are rendered as the skill response.

The 5-second guard: Open Builder gives up on a skill after 5 seconds and shows the customer an
error. A turn normally takes milliseconds, but one can wait much longer (the database locked by
another process, a slow disk). The turn therefore runs as its own task and the answer waits for
it only `answer_within` seconds (3 by default, leaving room for the network and the TLS proxy).
Past that the customer gets a short "잠시만요" with a [결과 확인] quick reply; the turn finishes in
the background and its replies are shown at the top of that chat's next answer, whatever the
customer sends next (a [결과 확인] is not handed to the engine while a result is pending). Turns
of one chat stay in order (the engine serialises them), two messages sent at once each get their
own replies, and a chat with 3 turns still running gets
"아직 처리 중" and its new message is not processed. Results wait in this process's memory for
an hour: the conversation state itself is in the database, so a restart loses at most the text
of a reply nobody came back for.

Notifications (`PullOutbox`): Kakao cannot message a user outside their turn, so a finished
answer carries the chat's oldest due notification on top; it is marked sent once the answer
has been written, and offered again on the next answer if writing failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from bot import texts
from bot.dialogue import Button, Event, Reply, TextInput
from bot.kakao.render import Answer, render
from bot.kakao.skill import SkillRequest, SkillResponse
from bot.notify import Delivery, PullOutbox
from core.models import OutboxItem

log = logging.getLogger(__name__)

CHAT_PREFIX = "kakao:"
DELIVERY = Delivery.PULL  # no Event API: notifications ride on the customer's next answer
DEFAULT_ANSWER_WITHIN = 3.0
MAX_RUNNING_TURNS = 3
KEEP_RESULTS_SECONDS = 3600.0
_RESULT_BUTTON = Button(texts.KAKAO_BTN_RESULT, "kakao:result")


class TurnHandler(Protocol):
    """The engine's public surface this channel uses."""

    async def handle(self, chat_id: str, event: Event) -> list[Reply]:
        """Process one input of one chat; return the replies."""
        ...


@dataclass
class _Turn:
    """One engine turn of a chat, possibly still running."""

    task: asyncio.Task[list[Reply]]
    finished_at: float | None = None
    waiting: bool = True  # the answer to this turn's own message is still waiting for it


@dataclass
class Outcome:
    """The response to write, and the notification it carries (to confirm once written)."""

    response: SkillResponse
    notification: OutboxItem | None = None


class KakaoChannel:
    """Answers skill requests with the engine, within a time budget, notifications on top."""

    def __init__(
        self,
        engine: TurnHandler,
        outbox: PullOutbox | None,
        *,
        answer_within: float = DEFAULT_ANSWER_WITHIN,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.answer_within = answer_within
        self._turns: dict[str, deque[_Turn]] = {}
        self._background: set[asyncio.Task[object]] = set()
        self._last_sweep = time.monotonic()

    @staticmethod
    def chat_id(request: SkillRequest) -> str:
        """The chat id of the customer who sent `request`."""
        return CHAT_PREFIX + request.user_request.user.id

    async def respond(self, request: SkillRequest, spent: float = 0.0) -> Outcome:
        """The skill response to `request`, ready `answer_within` seconds after it arrived.

        `spent` is how long ago the request arrived (reading and parsing it). Never raises: a
        failure is logged and answered with the usual apology.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.answer_within - spent
        chat_id = self.chat_id(request)
        notification: OutboxItem | None = None
        try:
            self._sweep()
            answer, idle = await self._turn_answer(chat_id, request, deadline)
            if idle and self.outbox is not None:
                taken = await self._take_notification(chat_id, deadline - loop.time())
                if taken is not None:
                    notification, reply = taken
                    answer = Answer(answer.texts, answer.rows, notice=reply.text)
            return Outcome(render(answer), notification)
        except Exception:
            log.exception("kakao answer failed")
            if notification is not None:
                await self._release(notification, "answer failed")
            apology = texts.ERROR.format(filed=texts.ERROR_CHECK_STATUS)
            return Outcome(render(Answer((apology,))))

    async def written(self, outcome: Outcome, ok: bool) -> None:
        """Record whether the response (and so its notification) reached Kakao."""
        item = outcome.notification
        if item is None or self.outbox is None:
            return
        try:
            if ok:
                await self.outbox.delivered(item)
            else:
                await self.outbox.not_delivered(item, "the skill response could not be written")
        except Exception:
            # The claim runs out and the notification comes again: a repeat, never a loss.
            log.exception("could not record notification %s", item.id)

    async def drain(self) -> None:
        """Wait for running turns and notification hand-backs (at shutdown; caller bounds it)."""
        running: list[asyncio.Future[Any]] = [
            t.task for q in self._turns.values() for t in q if not t.task.done()
        ]
        running += [t for t in self._background if not t.done()]
        if running:
            await asyncio.wait(running)

    # turns ---------------------------------------------------------------------------------

    async def _turn_answer(
        self, chat_id: str, request: SkillRequest, deadline: float
    ) -> tuple[Answer, bool]:
        """The replies this answer shows, and whether its own turn is done (not held)."""
        loop = asyncio.get_running_loop()
        utterance = request.user_request.utterance
        turns = self._turns.setdefault(chat_id, deque())
        mine: _Turn | None = None
        extra: list[str] = []
        if not utterance.strip():
            extra.append(texts.TEXT_ONLY)  # a photo or an emoticon: no text for the engine
        elif not (utterance.strip() == texts.KAKAO_BTN_RESULT and turns):
            if sum(not t.task.done() for t in turns) >= MAX_RUNNING_TURNS:
                return Answer((texts.KAKAO_STILL_BUSY,), ((_RESULT_BUTTON,),)), False
            mine = self._start(chat_id, TextInput(utterance))
            turns.append(mine)
        target = mine or (turns[-1] if turns else None)
        try:
            if target is not None:
                await asyncio.wait({target.task}, timeout=max(0.0, deadline - loop.time()))
            finished = await self._collect(turns, mine, deadline)
        finally:
            if mine is not None:
                mine.waiting = False  # if it is still running, the next message shows it
        if not turns:
            self._turns.pop(chat_id, None)
        held = mine in turns if mine is not None else bool(turns)
        shown = [r.text for replies in finished for r in replies] + extra
        if held:
            return Answer((*shown, texts.KAKAO_HOLD_ON), ((_RESULT_BUTTON,),)), False
        rows = tuple(row for r in finished[-1] for row in r.buttons) if finished else ()
        return Answer(tuple(shown), rows), True

    @staticmethod
    async def _collect(
        turns: deque[_Turn], mine: _Turn | None, deadline: float
    ) -> list[list[Reply]]:
        """Take the finished turns from the front of the chat's queue, up to this answer's own.

        A finished turn whose own answer is still waiting for it is left to that answer (which
        runs next), so two messages sent at once each get their own replies.
        """
        loop = asyncio.get_running_loop()
        finished: list[list[Reply]] = []
        while turns and turns[0].task.done():
            front = turns[0]
            if front.waiting and front is not mine:
                if loop.time() >= deadline:
                    break
                await asyncio.sleep(0)  # let that answer take it
                continue
            finished.append(turns.popleft().task.result())
            if front is mine:
                break
        return finished

    def _start(self, chat_id: str, event: Event) -> _Turn:
        turn = _Turn(asyncio.create_task(self._run(chat_id, event)))

        def finished(_: object) -> None:
            turn.finished_at = time.monotonic()

        turn.task.add_done_callback(finished)
        return turn

    async def _run(self, chat_id: str, event: Event) -> list[Reply]:
        try:
            return await self.engine.handle(chat_id, event)
        except Exception:
            # The engine answers its own failures; this is for one that escaped it.
            log.exception("turn failed (chat %s)", chat_id)
            return [Reply(texts.ERROR.format(filed=texts.ERROR_CHECK_STATUS))]

    def _sweep(self) -> None:
        """Forget results nobody came back for within KEEP_RESULTS_SECONDS."""
        now = time.monotonic()
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for chat_id, turns in list(self._turns.items()):
            if all(
                t.finished_at is not None and now - t.finished_at > KEEP_RESULTS_SECONDS
                for t in turns
            ):
                del self._turns[chat_id]

    # notifications -------------------------------------------------------------------------

    async def _take_notification(
        self, chat_id: str, remaining: float
    ) -> tuple[OutboxItem, Reply] | None:
        """The chat's due notification, if one can be claimed in the time left."""
        assert self.outbox is not None
        if remaining <= 0:
            return None
        take = asyncio.ensure_future(self.outbox.take(chat_id))
        done, _ = await asyncio.wait({take}, timeout=remaining)
        if take not in done:
            # The claim may still succeed after we answered: hand it back when it does.
            take.add_done_callback(self._release_late_claim)
            self._background.add(take)
            take.add_done_callback(self._background.discard)
            return None
        try:
            return take.result()
        except Exception:
            log.exception("could not claim the notifications of a chat")
            return None

    def _release_late_claim(self, take: asyncio.Future[tuple[OutboxItem, Reply] | None]) -> None:
        if take.cancelled() or take.exception() is not None or take.result() is None:
            return
        result = take.result()
        assert result is not None
        release = asyncio.ensure_future(self._release(result[0], "claimed after the answer left"))
        self._background.add(release)
        release.add_done_callback(self._background.discard)

    async def _release(self, item: OutboxItem, why: str) -> None:
        assert self.outbox is not None
        try:
            await self.outbox.not_delivered(item, why)
        except Exception:
            log.exception("could not hand back notification %s", item.id)
