"""The staff chat in Telegram: agents work in a forum supergroup, one topic per case.

Delivery. The use cases write staff events to the outbox with the change that caused them
(core/usecases/staff.py). `StaffDesk` delivers them in its own loop, apart from the customers'
notifications, pacing every message into the group (`Pacer`, 20 a minute by default), the live
lane (what agents wait for) before the lane of new cases. Each event first makes sure its case
has a topic and a card — creating, reopening, posting the 확인증 files — recording each step in
the database as it is confirmed, so a retry resumes where the last attempt stopped; then it does
its own part (a decision line, a relayed message, a prompt, a reminder) and closes the topic if
every case in it has ended. An event counts as sent only when Telegram confirmed all of it.

Agents. A press on a card or a message in a topic acts only if its author is a member of the
staff chat (getChatMember, cached for a minute), the payload names the case whose topic it was
pressed in, and — for card buttons — it was pressed on that case's card. Everything else is
ignored. Decisions call the same use cases as the CLI, with the agent recorded as
`tg:<user id> (<display name>)`.

Customers. During an open hand-off that has a topic, a customer's plain messages (and photos or
files) outside any flow go to the topic instead of the dialogue engine (`relay_from_customer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.dialogue import Reply, Upload
from bot.dialogue.account import link_code_in
from bot.dialogue.flow import State
from bot.notify import LEASE, SEND_TIMEOUT_SECONDS, backoff
from bot.staff import cards
from bot.staff.pacing import Pacer
from bot.staff.stats import caption, chart_png, week_stats
from core.calendar import today_kst
from core.errors import DatabaseReplaced, HelpdeskError, IllegalTransition
from core.models import Attachment, OutboxItem
from core.storage.sql import instant
from core.usecases import Helpdesk, StaffCase
from core.usecases.staff import lane

log = logging.getLogger(__name__)

# Staff events are claimed with the outbox's lease and send cap (bot.notify): every claim
# clamps longer leases to that one, and a claim that changed is no longer ours to mark sent.

MEMBER_CACHE_SECONDS = 60.0
REMIND_SWEEP_SECONDS = 30.0
STOP_SECONDS = 10.0
ALLOWED_STATUSES = frozenset({"creator", "administrator", "member"})
QUEUE_KEY = "staff_queue_message:{chat}"

RunCall = Callable[..., Awaitable[Any]]
"""`send_with_retry`: a Bot API call retried on failures that sent nothing."""


def agent_label(user: User) -> str:
    """The agent as the audit trail records them: `tg:<id> (<display name>)`."""
    return f"tg:{user.id} ({user.full_name[:64]})"


def _markup(buttons: cards.Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


def _says(exc: TelegramError, *fragments: str) -> bool:
    message = exc.message.lower()
    return any(fragment.lower() in message for fragment in fragments)


class TopicGone(Exception):
    """The case's topic was deleted by hand; it gets a new one on the next attempt."""


class MemberCache:
    """Who may act in the staff chat, remembered for a short time."""

    def __init__(
        self, ttl: float = MEMBER_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self._clock = clock
        self._known: dict[int, tuple[bool, float]] = {}

    def get(self, user_id: int) -> bool | None:
        """The remembered answer, or None when there is none (or it is too old)."""
        known = self._known.get(user_id)
        if known is None or self._clock() - known[1] > self.ttl:
            return None
        return known[0]

    def put(self, user_id: int, allowed: bool) -> None:
        """Remember an answer (the cache stays small: old answers are dropped first)."""
        if len(self._known) > 1000:
            now = self._clock()
            self._known = {u: k for u, k in self._known.items() if now - k[1] <= self.ttl}
        self._known[user_id] = (allowed, self._clock())


class StaffDesk:
    """The staff chat: delivering staff events, and what agents do there."""

    def __init__(
        self,
        helpdesk: Helpdesk,
        app: Application,
        chat_id: int,
        *,
        run_call: RunCall,
        pacer: Pacer,
        remind_after: timedelta,
        interval: float,
        asked_wait: Callable[[Exception], timedelta | None] = lambda exc: None,
        wake_customers: Callable[[], None] = lambda: None,
        on_fatal: Callable[[Exception], None] = lambda exc: None,
    ) -> None:
        self.helpdesk = helpdesk
        self.app = app
        self.chat_id = chat_id
        self.chat = str(chat_id)
        self.run_call = run_call
        self.pacer = pacer
        self.remind_after = remind_after
        self.interval = interval
        self.asked_wait = asked_wait
        self.wake_customers = wake_customers
        self.on_fatal = on_fatal
        self.members = MemberCache()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._queue_text: str | None = None
        self._queue_dirty = True
        self._queue_edited = -math.inf
        self._swept = -math.inf

    # lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the staff chat: queue the open cases it lacks, check rights, start delivering."""
        queued = await self.helpdesk.staff.enable(self.chat)
        if queued:
            log.info("staff chat %s: %d open cases queued for topics", self.chat, queued)
        await self._check_rights()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop delivering; a message being sent is finished and recorded first."""
        if self._task is None:
            return
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        """Deliver now rather than at the next interval (an agent is waiting)."""
        self._wake.set()

    async def _check_rights(self) -> None:
        try:
            me = await self.run_call(
                lambda: self.app.bot.get_chat_member(self.chat_id, self.app.bot.id),
                "getChatMember",
                deadline=15.0,
                resend_unconfirmed=1,
            )
        except TelegramError as exc:
            log.warning("staff chat %s: cannot check the bot's rights: %s", self.chat, exc)
            return
        if me.status != "administrator" or not getattr(me, "can_manage_topics", False):
            log.warning(
                "staff chat %s: the bot must be an administrator with Manage Topics "
                "(status %s); topics cannot be created until it is",
                self.chat,
                me.status,
            )

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self.deliver_due()
                if not self._stop.is_set():
                    await self._sweep()
            except DatabaseReplaced as exc:
                log.critical("%s", exc)
                self.on_fatal(exc)
                return
            except Exception:
                log.exception("staff chat delivery round failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    # delivery -------------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Deliver due staff events, the live lane first, one at a time; how many were sent."""
        sent = 0
        while not self._stop.is_set():
            # Wait for a free slot before claiming, so the claim's time goes to sending (and a
            # shutdown does not wait for the window).
            wait = self.pacer.wait_needed()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)
                continue
            item = await self._claim()
            if item is None:
                return sent
            try:
                await asyncio.wait_for(self._deliver(item), SEND_TIMEOUT_SECONDS)
            except Exception as exc:
                await self._failed(item, exc)
                continue
            await self.helpdesk.notifications.sent(item)
            self._queue_dirty = True
            sent += 1
        return sent

    async def _claim(self) -> OutboxItem | None:
        for live in (True, False):
            items = await self.helpdesk.notifications.claim(
                lane(self.chat, live=live), LEASE, limit=1, exact=True
            )
            if items:
                return items[0]
        return None

    async def _failed(self, item: OutboxItem, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ValueError | KeyError) and not isinstance(exc, TelegramError):
            # A row no code can deliver would hold back every later one of its lane.
            log.warning("staff event %s cannot be delivered: %s", item.id, error)
            await self.helpdesk.notifications.failed(item, error, None)
            return
        wait = backoff(item.attempts)
        asked = self.asked_wait(exc)
        if asked is not None:
            # Flood control despite the pacing (another bot process, a lower real limit).
            self.pacer.penalise(asked.total_seconds())
            wait = max(wait, asked)
        if isinstance(exc, TopicGone):
            wait = timedelta(0)
        log.warning(
            "staff event %s failed (attempt %d), retry in %ss: %s",
            item.id,
            item.attempts,
            int(wait.total_seconds()),
            error,
        )
        await self.helpdesk.notifications.failed(item, error, wait)

    async def _deliver(self, item: OutboxItem) -> None:
        p = item.payload
        event = str(p["event"])
        if event == "stats":
            await self._send_stats(p.get("thread"))
            return
        case = await self.helpdesk.staff.case(self.chat, str(p["case"]))
        if case is None:
            log.info("staff event %s: case %s has no topic here; skipped", item.id, p["case"])
            return
        thread = await self._ensure(case, refresh=event == "changed")
        case = await self.helpdesk.staff.case(self.chat, case.number) or case
        if event == "changed":
            await self._post_change(thread, case, p)
        elif event == "relay":
            await self._post_relay(thread, case, p)
        elif event == "remind":
            if case.awaiting_decision:
                hours = self.remind_after.total_seconds() / 3600
                await self._send(thread, texts.staff_reminder(case.number, round(hours, 2)))
        elif event == "reject_prompt":
            if case.request is not None and case.topic.reject_by is not None:
                await self._send(
                    thread,
                    texts.staff_reject_prompt(case.number, str(p.get("agent") or "")),
                    cards.reject_prompt_buttons(case.number),
                )
        elif event == "note":
            await self._send(thread, str(p["text"]))
        elif event != "opened":
            raise ValueError(f"unknown staff event {event!r}")
        await self._settle(case.topic.owner)

    async def _ensure(self, case: StaffCase, *, refresh: bool) -> int:
        """The case's topic (created or reopened as needed), card and files; the thread id."""
        cases = await self.helpdesk.staff.topic_cases(self.chat, case.topic.owner)
        owner = cases[0] if cases and cases[0].number == case.topic.owner else case
        thread = owner.topic.thread_id
        if thread is None:
            name = cards.topic_name(owner)
            topic = await self._paced(
                lambda: self.app.bot.create_forum_topic(self.chat_id, name), "createForumTopic"
            )
            thread = int(topic.message_thread_id)
            await self.helpdesk.staff.record(
                self.chat, owner.number, thread_id=thread, topic_closed=False
            )
            case = await self.helpdesk.staff.case(self.chat, case.number) or case
        elif owner.topic.topic_closed and any(not c.ended for c in cases):
            # The customer wrote again about a case whose topic was closed.
            await self._set_topic_closed(owner.number, thread, closed=False)
        await self._ensure_card(case, thread, refresh=refresh)
        inquiry = case.inquiry
        if inquiry is not None:
            for index in range(case.topic.files_sent, len(inquiry.attachments)):
                attachment = inquiry.attachments[index]
                await self._send_file(thread, attachment, None)
                await self.helpdesk.staff.record(self.chat, case.number, files_sent=index + 1)
        return thread

    async def _ensure_card(self, case: StaffCase, thread: int, *, refresh: bool) -> None:
        text, buttons = cards.card(case)
        card_id = case.topic.card_message_id
        if card_id is not None:
            if not refresh:
                return
            try:
                await self.run_call(
                    lambda: self.app.bot.edit_message_text(
                        text,
                        chat_id=self.chat_id,
                        message_id=card_id,
                        reply_markup=_markup(buttons),
                    ),
                    "editMessageText",
                    resend_unconfirmed=1,  # editing twice to the same text is harmless
                )
                return
            except BadRequest as exc:
                if _says(exc, "not modified"):
                    return
                if not _says(exc, "message to edit not found"):
                    raise
                log.info("card of %s was deleted; posting it again", case.number)
        message = await self._send(thread, text, buttons)
        await self.helpdesk.staff.record(self.chat, case.number, card_message_id=message.message_id)

    async def _settle(self, owner: str) -> None:
        """Close the topic when every case in it has ended (reopening is done by _ensure)."""
        cases = await self.helpdesk.staff.topic_cases(self.chat, owner)
        if not cases or cases[0].number != owner:
            return
        topic = cases[0].topic
        if topic.thread_id is None or topic.topic_closed:
            return
        if all(c.ended for c in cases):
            await self._set_topic_closed(owner, topic.thread_id, closed=True)

    async def _set_topic_closed(self, owner: str, thread: int, *, closed: bool) -> None:
        if closed:
            call = lambda: self.app.bot.close_forum_topic(self.chat_id, thread)  # noqa: E731
        else:
            call = lambda: self.app.bot.reopen_forum_topic(self.chat_id, thread)  # noqa: E731
        try:
            await self._paced(call, "closeForumTopic" if closed else "reopenForumTopic")
        except BadRequest as exc:
            if _says(exc, "topic_id_invalid", "thread not found"):
                await self.helpdesk.staff.forget_topic(self.chat, owner)
                raise TopicGone(owner) from exc
            if not _says(exc, "topic_not_modified"):
                raise
        await self.helpdesk.staff.record(self.chat, owner, topic_closed=closed)

    async def _post_change(self, thread: int, case: StaffCase, p: dict[str, Any]) -> None:
        action, actor = str(p["action"]), str(p["actor"])
        if action == "answered" and actor.startswith("agent:tg:"):
            return  # the agent wrote it in this topic: it is already there
        line = texts.staff_change_line(
            action, actor, instant(str(p["at"])), str(p.get("detail") or ""), case.number
        )
        await self._send(thread, line)

    async def _post_relay(self, thread: int, case: StaffCase, p: dict[str, Any]) -> None:
        customer = case.customer.name if case.customer else case.topic.customer_id
        stored = p.get("text")
        if stored:
            text = self.helpdesk.staff.relayed_text(str(stored))
            await self._send(thread, texts.staff_relay(customer, text))
        if p.get("attachment"):
            attachment = Attachment.model_validate(p["attachment"])
            kind = texts.STAFF_FILE_KINDS.get(attachment.kind, attachment.kind)
            await self._send_file(thread, attachment, texts.STAFF_CUSTOMER_FILE.format(kind=kind))

    async def _send_stats(self, thread: Any) -> None:
        stats = await week_stats(self.helpdesk, today_kst(self.helpdesk.clock))
        png = await asyncio.to_thread(chart_png, stats)
        text = caption(stats)
        thread_id = int(thread) if thread is not None else None
        try:
            await self._paced(
                lambda: self.app.bot.send_photo(
                    self.chat_id, png, caption=text, message_thread_id=thread_id
                ),
                "sendPhoto",
            )
        except BadRequest as exc:
            if not _says(exc, "thread not found"):
                raise
            await self._paced(
                lambda: self.app.bot.send_photo(self.chat_id, png, caption=text), "sendPhoto"
            )

    # Telegram calls -------------------------------------------------------------------------

    async def _paced(self, make_call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """A call that adds a message to the group: wait for a pacing slot, then make it.

        A call that got no answer is not made again here: the event stays due and is retried
        (Telegram may then show a message twice; it is never lost).
        """
        async with self.pacer.slot():
            return await self.run_call(make_call, what, resend_unconfirmed=0)

    async def _send(self, thread: int | None, text: str, buttons: cards.Buttons = ()) -> Message:
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            # A long relayed message or CLI answer: the whole text is in the database.
            text = text[: MessageLimit.MAX_TEXT_LENGTH - 1] + "…"
        try:
            message: Message = await self._paced(
                lambda: self.app.bot.send_message(
                    self.chat_id, text, message_thread_id=thread, reply_markup=_markup(buttons)
                ),
                "sendMessage",
            )
        except BadRequest as exc:
            if thread is not None and _says(exc, "thread not found", "topic_deleted"):
                owner = await self.helpdesk.staff.thread_owner(self.chat, thread)
                if owner is not None:
                    await self.helpdesk.staff.forget_topic(self.chat, owner)
                raise TopicGone(str(thread)) from exc
            raise
        return message

    async def _send_file(self, thread: int, attachment: Attachment, note: str | None) -> None:
        """A customer's photo or file, by its Telegram file id (nothing is downloaded)."""
        if attachment.kind == "photo":
            call = lambda: self.app.bot.send_photo(  # noqa: E731
                self.chat_id, attachment.file_id, caption=note, message_thread_id=thread
            )
            await self._paced(call, "sendPhoto")
        else:
            call = lambda: self.app.bot.send_document(  # noqa: E731
                self.chat_id, attachment.file_id, caption=note, message_thread_id=thread
            )
            await self._paced(call, "sendDocument")

    # reminders and the queue message --------------------------------------------------------

    async def _sweep(self) -> None:
        now = time.monotonic()
        every = min(REMIND_SWEEP_SECONDS, self.remind_after.total_seconds() / 4)
        if now - self._swept >= every:
            self._swept = now
            if await self.helpdesk.staff.remind_due(self.chat, self.remind_after):
                self.wake()
        # Edits of the queue are not counted by the pacer; they are kept to 4 per window.
        if self._queue_dirty and now - self._queue_edited >= self.pacer.window / 4:
            try:
                await self._refresh_queue()
            except TelegramError as exc:
                log.warning("staff chat: queue message not updated: %s", exc)
            else:
                self._queue_dirty = False
                self._queue_edited = now

    async def _refresh_queue(self) -> None:
        """The pinned message in General listing the open cases, oldest first."""
        text = cards.queue_text(await self.helpdesk.staff.open_cases(self.chat), self.chat_id)
        if text == self._queue_text:
            return
        key = QUEUE_KEY.format(chat=self.chat)
        stored = await self.helpdesk.values.get(key)
        if stored:
            try:
                await self.run_call(
                    lambda: self.app.bot.edit_message_text(
                        text, chat_id=self.chat_id, message_id=int(stored)
                    ),
                    "editMessageText",
                    resend_unconfirmed=1,
                )
                self._queue_text = text
                return
            except BadRequest as exc:
                if _says(exc, "not modified"):
                    self._queue_text = text
                    return
                if not _says(exc, "message to edit not found"):
                    raise
        message = await self._send(None, text)
        await self.helpdesk.values.set(key, str(message.message_id))
        self._queue_text = text
        await self._paced(
            lambda: self.app.bot.pin_chat_message(
                self.chat_id, message.message_id, disable_notification=True
            ),
            "pinChatMessage",
        )

    # agents ---------------------------------------------------------------------------------

    async def is_member(self, user: User) -> bool:
        """Whether `user` may act in the staff chat (getChatMember, cached for a minute)."""
        known = self.members.get(user.id)
        if known is not None:
            return known
        try:
            member = await self.run_call(
                lambda: self.app.bot.get_chat_member(self.chat_id, user.id),
                "getChatMember",
                deadline=10.0,
                resend_unconfirmed=1,
            )
        except BadRequest:
            self.members.put(user.id, False)  # "user not found": never was a member
            return False
        except TelegramError as exc:
            log.info("membership of a staff user unknown (%s); not acting", exc)
            return False  # not remembered: ask again next time
        allowed = member.status in ALLOWED_STATUSES or (
            member.status == "restricted" and bool(getattr(member, "is_member", False))
        )
        self.members.put(user.id, allowed)
        return allowed

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button pressed in the staff chat; anything not provably an agent's is ignored."""
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        press = cards.parse(query.data or "")
        if press is None or not await self.is_member(query.from_user):
            log.info("staff chat: press ignored (not a staff button, or not a member)")
            return
        case = await self._case_of_press(press, query.message)
        if case is None:
            log.info("staff chat: press for %s outside its topic or card ignored", press.number)
            return
        reply = await self._act(press, case, query.from_user)
        with contextlib.suppress(TelegramError):
            await query.answer(reply or None, show_alert=reply.startswith("⚠️"))
        self.wake()
        self.wake_customers()

    async def _case_of_press(self, press: cards.Press, message: Message) -> StaffCase | None:
        """The case a press acts on, if it was pressed where that case's buttons are."""
        if message.chat_id != self.chat_id or message.message_thread_id is None:
            return None
        case = await self.helpdesk.staff.case(self.chat, press.number)
        if case is None:
            return None
        owner = await self.helpdesk.staff.thread_owner(self.chat, message.message_thread_id)
        if owner != case.topic.owner:
            return None
        if press.action in cards.CARD_ACTIONS and message.message_id != case.topic.card_message_id:
            return None
        return case

    async def _act(self, press: cards.Press, case: StaffCase, user: User) -> str:
        agent = agent_label(user)
        requests, inquiries = self.helpdesk.requests, self.helpdesk.inquiries
        try:
            if press.action == cards.APPROVE:
                await requests.approve(case.number, agent)
                return texts.STAFF_DONE.format(what=texts.STAFF_BTN_APPROVE)
            if press.action == cards.REFUNDED:
                await requests.mark_refunded(case.number, agent)
                return texts.STAFF_DONE.format(what=texts.STAFF_BTN_REFUNDED)
            if press.action == cards.REJECT:
                if case.request is None or case.ended:
                    raise IllegalTransition(f"{case.number} has ended")
                await self.helpdesk.staff.ask_reject_reason(
                    self.chat, case.number, str(user.id), user.full_name[:64]
                )
                return texts.STAFF_ASK_REASON
            if press.action == cards.REASON:
                reason = cards.canned_reason(press.arg)
                if reason is None:
                    return ""
                await requests.reject(case.number, agent, reason)
                return texts.STAFF_DONE.format(what=texts.STAFF_BTN_REJECT)
            if press.action == cards.CANCEL:
                await self.helpdesk.staff.cancel_reject(self.chat, case.number)
                return texts.STAFF_REJECT_CANCELLED
            if press.action == cards.CLOSE:
                await inquiries.close(case.number, agent)
                return texts.STAFF_DONE.format(what=texts.STAFF_BTN_CLOSE)
        except HelpdeskError as exc:
            return await self._refusal(case.number, exc)
        return ""

    async def _refusal(self, number: str, exc: HelpdeskError) -> str:
        """Why an agent's action was refused, in Korean (the case's state as it is now)."""
        if isinstance(exc, IllegalTransition):
            now = await self.helpdesk.staff.case(self.chat, number)
            if now is not None and now.request is not None:
                state = texts.STATUS_LABELS[now.request.status]
            elif now is not None and now.inquiry is not None:
                state = texts.INQUIRY_STATUS_LABELS.get(now.inquiry.status, now.inquiry.status)
            else:
                state = "-"
            return texts.staff_refused_state(number, state)
        return texts.staff_refused(str(exc))

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in the staff chat: /stats, /close, a typed rejection reason, or an answer."""
        message = update.effective_message
        user = message.from_user if message else None
        if message is None or user is None or user.is_bot or message.sender_chat is not None:
            return  # the bot itself, an anonymous admin or a channel: nobody to check
        text = message.text
        if text is None or not await self.is_member(user):
            return
        command = self._command(text)
        thread = message.message_thread_id if message.is_topic_message else None
        if command == "stats":
            await self.helpdesk.staff.post(self.chat, "stats", thread=thread)
            self.wake()
            return
        if thread is None:
            return  # talk in General
        owner = await self.helpdesk.staff.thread_owner(self.chat, thread)
        if owner is None:
            return
        agent = agent_label(user)
        try:
            if command == "close":
                inquiry = await self._open_inquiry(owner)
                if inquiry is None:
                    await self._note(owner, texts.STAFF_NO_OPEN_INQUIRY)
                else:
                    await self.helpdesk.inquiries.close(inquiry, agent)
            elif command is None:
                await self._on_topic_text(owner, user, agent, text)
        except HelpdeskError as exc:
            await self._note(owner, await self._refusal(owner, exc))
        self.wake()
        self.wake_customers()

    async def _on_topic_text(self, owner: str, user: User, agent: str, text: str) -> None:
        pending = await self.helpdesk.staff.pending_reject(self.chat, owner, str(user.id))
        if pending is not None:
            await self.helpdesk.requests.reject(pending, agent, text)
            return
        if text.lstrip().startswith("//"):
            return  # a note among agents
        inquiry = await self._open_inquiry(owner)
        if inquiry is not None:
            await self.helpdesk.inquiries.answer(inquiry, agent, text)

    async def _open_inquiry(self, owner: str) -> str | None:
        """The newest inquiry in the topic that is not closed."""
        cases = await self.helpdesk.staff.topic_cases(self.chat, owner)
        for case in reversed(cases):
            if case.inquiry is not None and not case.ended:
                return case.number
        return None

    async def _note(self, owner: str, text: str) -> None:
        await self.helpdesk.staff.post(self.chat, "note", case=owner, text=text)

    def _command(self, text: str) -> str | None:
        """`stats` for `/stats` or `/stats@thisbot`; None for text that is not a command."""
        if not text.startswith("/"):
            return None
        head = text.split(maxsplit=1)[0][1:]
        name, _, bot = head.partition("@")
        if bot and bot.lower() != (self.app.bot.username or "").lower():
            return "other"
        return name.lower() or "other"

    # customers ------------------------------------------------------------------------------

    async def relay_from_customer(
        self, chat_key: str, text: str | None, upload: Upload | None
    ) -> list[Reply] | None:
        """Pass a customer's message to their open hand-off's topic; None to let the engine
        answer it as usual (no open hand-off, a command, or a flow in progress)."""
        if text is not None and (text.lstrip().startswith("/") or link_code_in(text)):
            return None  # commands and link codes are the engine's (a code is a secret)
        if not await self.helpdesk.staff.has_open_hand_off(chat_key):
            return None
        record = await self.helpdesk.conversations.load(chat_key)
        if record.state != State.IDLE.value:
            return None  # they are filling in a form: the text is an answer to it
        attachment = None
        if upload is not None:
            attachment = Attachment(
                file_id=upload.file_id,
                kind=upload.kind,
                file_name=upload.file_name,
                mime_type=upload.mime_type,
                size=upload.size,
            )
        relayed = await self.helpdesk.staff.relay_customer_message(chat_key, text, attachment)
        if relayed is None:
            return None
        self.wake()
        if relayed.acknowledge:
            return [Reply(texts.RELAYED_TO_AGENT.format(number=relayed.number))]
        return []
