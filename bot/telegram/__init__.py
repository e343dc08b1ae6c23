"""The Telegram channel: python-telegram-bot 22 driving the dialogue engine.

An adapter only: updates become engine input, engine replies become `sendMessage` (plain text,
so customer text can never break markup) with inline keyboards. A pressed button is answered
(`answerCallbackQuery`) at once so the client's spinner stops, and its message is edited to show
what was chosen and to drop the old keyboard.

Ordering and throughput: updates of different chats run concurrently; updates of one chat run
in arrival order (`ChatOrderedProcessor`; across several webhook workers, the engine's unit of
work per chat takes over). Outbound calls go through PTB's `AIORateLimiter`
(overall and group limits) and `send_with_retry`, which waits out a `RetryAfter` and retries
network failures instead of dropping a reply; a send counts only when Telegram confirms it.
Several replies of one turn are merged into one message where they read well together, which
also keeps to Telegram's ~1 message/s per chat. Webhooks are served by `bot.webhook`.

With a staff chat (`HELPDESK_STAFF_CHAT_ID`), agents work in a forum supergroup, one topic per
case (`bot.staff`): its updates go to the `StaffDesk`, which delivers staff events in a loop of
its own with the group's pacing, so customers' replies never wait behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import inspect
import logging
import os
import secrets
import sys
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot import texts
from bot.app import App, open_app
from bot.concurrency import KeyedLocks
from bot.dialogue import Engine, Press, Reply, TextInput, Upload
from bot.maintenance import prune_daily
from bot.notify import OutboxDeliverer
from bot.settings import Settings
from bot.staff import Pacer, StaffDesk
from bot.webhook import Acknowledgements, HelpdeskUpdater
from core.errors import AlreadyRunning, DatabaseReplaced
from core.usecases import Helpdesk

log = logging.getLogger(__name__)

CHAT_PREFIX = "tg:"
SEND_ATTEMPTS = 6
SEND_DEADLINE = 60.0
FLOOD_WINDOW_SECONDS = 10.0
FLOOD_MAX_UPDATES = 20
FLOOD_MAX_TRACKED_USERS = 10_000
OUTBOX_STOP_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
COMMANDS = (
    ("help", "도움말"),
    ("refund", "취소/환불 신청"),
    ("status", "신청 현황"),
    ("unlink", "연결 해제"),
    ("cancel", "그만"),
)


# Pure helpers ---------------------------------------------------------------------------------


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split text into chunks of at most `limit` characters, at line breaks where possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit]]


def merge_replies(replies: list[Reply]) -> list[Reply]:
    """Merge consecutive replies into one message where only the last has buttons."""
    merged: list[Reply] = []
    for reply in replies:
        if merged and not merged[-1].buttons:
            merged[-1] = Reply(merged[-1].text + "\n\n" + reply.text, reply.buttons)
        else:
            merged.append(reply)
    return merged


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a reply, or None."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
            for row in reply.buttons
        ]
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long flood control asked to wait, whether PTB gives seconds or a timedelta."""
    # PTB 22 warns on reading retry_after unless PTB_TIMEDELTA opts into timedelta (what
    # `helpdesk run` does); both types are handled here, so neither warning is useful.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# Failures that prove the request never (completely) reached Telegram, so sending again cannot
# show a message twice. A write timeout means the request was still being written.
_SENT_NOTHING = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.LocalProtocolError,
)


def unconfirmed(exc: Exception) -> bool:
    """The request may have reached Telegram, but no answer came back.

    A read timeout, or a connection dropped or reset after the request went out: Telegram may
    or may not have sent the message. An HTTP error answer (a 502 page) or a failure before the
    request was written is not ambiguous: nothing was sent.
    """
    cause = exc.__cause__
    return isinstance(cause, httpx.TransportError) and not isinstance(cause, _SENT_NOTHING)


async def send_with_retry(
    make_call: Any, what: str, deadline: float = SEND_DEADLINE, *, resend_unconfirmed: int = 0
) -> Any:
    """Run a Bot API call, waiting out RetryAfter and retrying failures that sent nothing.

    A call is done only when Telegram confirms it. One that got no answer (`unconfirmed`) may
    have been carried out: it is made again at most `resend_unconfirmed` times (a duplicate is
    possible, a silent loss is not), and otherwise raised so that the caller keeps it due.
    Everything gives up after `deadline` seconds, so flood control cannot hold a turn (or a
    shutdown) for minutes.
    """
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + deadline
    delay = 0.5
    resends = resend_unconfirmed
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await make_call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if loop.time() + wait > give_up_at or attempt == SEND_ATTEMPTS:
                raise
            log.warning("%s: flood control, retrying after %.1fs", what, wait)
            await asyncio.sleep(wait)
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest) or attempt == SEND_ATTEMPTS:
                raise
            if unconfirmed(exc):
                if resends <= 0:
                    raise
                resends -= 1
                log.warning("%s: no answer (%s); sending again", what, _cause_name(exc))
                continue
            if loop.time() + delay > give_up_at:
                raise
            log.warning("%s: %s, retry %d in %.1fs", what, _cause_name(exc), attempt, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    raise TimedOut(f"{what}: gave up after {SEND_ATTEMPTS} attempts")


def _cause_name(exc: Exception) -> str:
    """The exception's name, or the httpx error under PTB's TimedOut/NetworkError."""
    return type(exc.__cause__ or exc).__name__


class RedactingFilter(logging.Filter):
    """Replace secrets (the bot token) in every log record before it is written."""

    def __init__(self, secrets_to_hide: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets_to_hide if s]

    def redact(self, text: str) -> str:
        """The text with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) with the secrets masked."""
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            # Handlers format tracebacks after filters run, and PTB's InvalidToken message
            # quotes the token: format it here so the handler uses the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Process updates of different chats concurrently and those of one chat in order."""

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        gate: Callable[[Update], Awaitable[bool]] | None = None,
        on_done: Callable[[object], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks = KeyedLocks()
        self._gate = gate
        self._on_done = on_done  # told of every update once it is finished with

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's coroutine while holding its chat's lock."""
        try:
            await self._process(update, coroutine)
        finally:
            if self._on_done is not None:
                self._on_done(update)

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        # The gate (flood guard) runs before the chat lock: a flooding chat's backlog must not
        # hold every processing slot while it waits for its own lock.
        if self._gate is not None and isinstance(update, Update) and not await self._gate(update):
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._locks.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


class FloodGuard:
    """Per-user sliding window: past the limit, updates are answered with a short note only."""

    def __init__(self, window: float = FLOOD_WINDOW_SECONDS, limit: int = FLOOD_MAX_UPDATES):
        self.window = window
        self.limit = limit
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> str:
        """Return 'ok', 'warn' (first refusal in a window) or 'drop'."""
        now = time.monotonic() if now is None else now
        if len(self._seen) > FLOOD_MAX_TRACKED_USERS:
            self._forget_quiet_users(now)
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            return "ok"
        if now - self._warned.get(user_id, -self.window) > self.window:
            self._warned[user_id] = now
            return "warn"
        return "drop"

    def _forget_quiet_users(self, now: float) -> None:
        """Drop users with nothing in the window, so memory does not grow with every user."""
        for user_id in [
            u for u, seen in self._seen.items() if not seen or now - seen[-1] > self.window
        ]:
            del self._seen[user_id]
            self._warned.pop(user_id, None)


# The channel ----------------------------------------------------------------------------------


class TelegramChannel:
    """Handlers and lifecycle of the bot; holds the engine (no module-level state).

    `polling=True`: long polling, which only one process per database may do (Telegram hands
    each update to one getUpdates caller; several workers are webhook workers).
    """

    def __init__(self, settings: Settings, *, polling: bool = False) -> None:
        self.settings = settings
        self.polling = polling
        self.acks = Acknowledgements()
        self._held = contextlib.AsyncExitStack()
        self.engine: Engine | None = None
        self.app_parts: App | None = None
        self.fatal: Exception | None = None
        self.flood = FloodGuard()
        self._outbox_task: asyncio.Task[None] | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self.app: Application | None = None
        self._outbox_stop = asyncio.Event()
        # Set to deliver customers' notifications now (an agent decided in the staff chat).
        self._outbox_wake = asyncio.Event()
        self.staff: StaffDesk | None = None
        # (chat, notification text) -> how many of its parts Telegram confirmed, while a
        # notification longer than one message is only partly sent.
        self._notice_parts: dict[tuple[int, str], int] = {}

    # lifecycle ------------------------------------------------------------------------------

    async def post_init(self, app: Application) -> None:
        """Open the database, build the engine, publish the command menu, learn our username."""
        self.app_parts = await open_app(self.settings, channel="telegram")
        if self.polling:
            await self._only_poller(self.app_parts)
        helpdesk = self.app_parts.helpdesk
        self.engine = self.app_parts.engine
        self.engine.on_fatal = functools.partial(self._stop_for, app)
        try:
            await send_with_retry(
                lambda: app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS]),
                "setMyCommands",
                deadline=15.0,
                resend_unconfirmed=1,  # setting the same menu twice is harmless
            )
        except TelegramError as exc:
            # The menu is a convenience; a Bot API hiccup at start-up must not stop the bot.
            log.warning("could not set the command menu: %s", exc)
        if app.bot.username:
            await helpdesk.values.set("bot_username", app.bot.username)

        deliverer = self.outbox_deliverer(app, helpdesk)
        # Not app.create_task: the application waits for those on stop, and this one never ends.
        self._outbox_task = asyncio.create_task(self._run_outbox(deliverer))
        self._prune_task = asyncio.create_task(
            prune_daily(helpdesk, self.settings.retain_days, self._outbox_stop)
        )
        if self.settings.staff_chat_id is not None:
            self.staff = self.staff_desk(app, helpdesk, self.settings.staff_chat_id)
            await self.staff.start()
        else:
            # CLI only: the use cases stop writing staff events nobody would deliver.
            await helpdesk.staff.enable(None)
        log.info("bot @%s ready (database %s)", app.bot.username, self.settings.database().display)

    async def _only_poller(self, parts: App) -> None:
        """Hold the database's polling lock until shutdown, or refuse to start."""
        try:
            await self._held.enter_async_context(parts.db.exclusive("polling"))
        except AlreadyRunning:
            raise AlreadyRunning(
                "another `helpdesk run` is already long-polling "
                f"{parts.db.url.display}; long polling is one process only "
                "(several workers: helpdesk run --webhook-url)"
            ) from None

    async def webhook_secret(self) -> str:
        """The webhook's secret token when none was given: random, made once and kept in the
        database, so that every worker on it sets and checks the same one."""
        assert self.app_parts is not None, "post_init opens the database first"
        return await self.app_parts.helpdesk.values.shared(
            "webhook_secret_token", lambda: secrets.token_urlsafe(32)
        )

    async def healthy(self) -> bool:
        """Whether this worker's database answers now (GET /healthz)."""
        parts = self.app_parts
        if parts is None:
            return False
        try:
            await asyncio.wait_for(parts.db.ping(), HEALTH_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("health check: the database does not answer (%s)", type(exc).__name__)
            return False
        return True

    def outbox_deliverer(self, app: Application, helpdesk: Helpdesk) -> OutboxDeliverer:
        """The deliverer of notifications to Telegram chats."""
        return OutboxDeliverer(
            helpdesk,
            CHAT_PREFIX,
            functools.partial(self.deliver_notice, app),
            is_permanent=_undeliverable,
            asked_wait=_flood_wait,
        )

    def staff_desk(self, app: Application, helpdesk: Helpdesk, chat_id: int) -> StaffDesk:
        """The staff chat's desk, paced as the settings say."""
        return StaffDesk(
            helpdesk,
            app,
            chat_id,
            run_call=send_with_retry,
            pacer=Pacer(self.settings.staff_rate, self.settings.staff_rate_window_seconds),
            remind_after=timedelta(hours=self.settings.remind_hours),
            interval=self.settings.outbox_interval_seconds,
            asked_wait=_flood_wait,
            wake_customers=self._outbox_wake.set,
            on_fatal=functools.partial(self._stop_for, app),
        )

    def _stop_for(self, app: Application, error: Exception) -> None:
        """Stop the bot after a fatal storage error (the database file vanished)."""
        self.fatal = error
        app.stop_running()

    async def _run_outbox(self, deliverer: OutboxDeliverer) -> None:
        """Deliver due notifications every interval until post_stop asks to stop."""
        while not self._outbox_stop.is_set():
            try:
                await deliverer.deliver_due(self._outbox_stop)
            except DatabaseReplaced as exc:
                log.critical("%s", exc)
                if self.app is not None:
                    self._stop_for(self.app, exc)
                return
            except Exception:
                log.exception("outbox delivery round failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._outbox_wake.wait(), self.settings.outbox_interval_seconds
                )
            self._outbox_wake.clear()

    async def post_stop(self, app: Application) -> None:
        """Stop delivering notifications (in-flight updates have finished by now)."""
        await self._stop_outbox()

    async def _stop_outbox(self) -> None:
        if self.staff is not None:
            await self.staff.stop()
        if self._outbox_task is not None:
            # Let a round in progress finish: cancelled between Telegram accepting a message
            # and marking it sent, the notification would be claimed and sent again later.
            self._outbox_stop.set()
            self._outbox_wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._outbox_task), OUTBOX_STOP_SECONDS)
            except TimeoutError:
                self._outbox_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._outbox_task
            self._outbox_task = None
        if self._prune_task is not None:
            self._outbox_stop.set()
            self._prune_task.cancel()  # a prune is one transaction: cancelling rolls it back
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
            self._prune_task = None

    async def post_shutdown(self, app: Application) -> None:
        """Close the database after every in-flight update has finished."""
        # A start that failed after post_init (e.g. setWebhook refused) never calls post_stop.
        await self._stop_outbox()
        await self._held.aclose()
        if self.app_parts is not None:
            await self.app_parts.close()
            self.app_parts = None

    def build(self, token: str, base_url: str | None) -> Application:
        """Build the PTB application with our handlers."""
        builder = (
            ApplicationBuilder()
            .token(token)
            .rate_limiter(
                # max_retries=0: send_with_retry waits out RetryAfter, within one deadline;
                # nested retries here multiplied the waits (minutes on shutdown). No group
                # limit: it would also hold getChatMember and edits behind the staff chat's
                # cards; the StaffDesk paces what it posts there itself (the only group the
                # bot writes to beyond one "1:1 only" note).
                AIORateLimiter(
                    overall_max_rate=self.settings.rate_limit_per_second,
                    group_max_rate=0,
                    max_retries=0,
                )
            )
            .concurrent_updates(ChatOrderedProcessor(gate=self._admit, on_done=self.acks.done))
            .connection_pool_size(self.settings.connection_pool_size)
            .post_init(self.post_init)
            .post_stop(self.post_stop)
            .post_shutdown(self.post_shutdown)
        )
        if base_url:
            builder = builder.base_url(base_url)
            if base_url.rstrip("/").endswith("/bot"):
                builder = builder.base_file_url(base_url.rstrip("/")[: -len("bot")] + "file/bot")
        app = builder.build()
        # PTB's webhook server reads whole bodies before checking the secret and keeps slow
        # connections open; this updater serves webhooks with bot.webhook's instead.
        app.updater = HelpdeskUpdater(
            app.bot,
            app.update_queue,
            # Setting the same webhook twice is harmless.
            run_call=functools.partial(send_with_retry, resend_unconfirmed=1),
            acks=self.acks,
            health=self.healthy,
            shared_secret=self.webhook_secret,
        )
        self.app = app
        # New messages only: an edited old message is not a new answer to the current step,
        # so edits in private chats match no handler and are ignored.
        private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        if self.settings.staff_chat_id is not None:
            staff_chat = filters.Chat(chat_id=self.settings.staff_chat_id)
            app.add_handler(
                MessageHandler(staff_chat & filters.UpdateType.MESSAGE, self.on_staff_message)
            )
            # Edits, joins and other updates of the staff chat: nothing to say there.
            app.add_handler(MessageHandler(staff_chat, self.on_nothing))
        app.add_handler(MessageHandler(~filters.ChatType.PRIVATE, self.on_group_message))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(private_new & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(private_new & ~filters.TEXT, self.on_other))
        app.add_error_handler(self.on_error)
        return app

    # handlers -------------------------------------------------------------------------------

    async def _admit(self, update: Update) -> bool:
        """Per-user flood guard, before any work: past the limit, one note and then silence."""
        user = update.effective_user
        verdict = self.flood.check(user.id) if user else "ok"
        if verdict == "warn" and update.effective_chat is not None and self.app is not None:
            try:
                await self.deliver_replies(self.app, update.effective_chat.id, [Reply(texts.FLOOD)])
            except TelegramError as exc:
                log.info("could not send the flood note: %s", exc)
        return verdict == "ok"

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private text message (commands included)."""
        message = update.effective_message
        if message is None or message.text is None or self.engine is None:
            return
        chat_key = f"{CHAT_PREFIX}{message.chat_id}"
        if self.staff is not None:
            relayed = await self.staff.relay_from_customer(chat_key, message.text, None)
            if relayed is not None:
                await self._send(context, message.chat_id, relayed)
                return
        replies = await self.engine.handle(chat_key, TextInput(message.text))
        await self._send(context, message.chat_id, replies)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button."""
        query = update.callback_query
        if query is None or self.engine is None:
            return
        message = query.message
        if (
            self.staff is not None
            and isinstance(message, Message)
            and message.chat_id == self.staff.chat_id
        ):
            # Answered there, with what was done (or not at all: a press by a non-member).
            await self.staff.on_callback(update, context)
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # Best effort: pressed long ago or before a restart ("query is too old"), or the
            # Bot API hiccuped. The spinner stops by itself; the press must still be handled.
            log.info("callback answer refused (update %s): %s", update.update_id, exc.message)
        if not isinstance(message, Message) or message.chat.type != "private":
            return
        payload = query.data or ""
        replies = await self.engine.handle(f"{CHAT_PREFIX}{message.chat_id}", Press(payload))
        messages = telegram_messages(replies)
        if not (replies and replies[0].continues_press):
            # Not the live menu (an older message, or a second tap after the first answered):
            # its text may be out of date, so only its keyboard is taken away.
            await self._drop_keyboard(message)
        elif await self._answer_in_place(message, payload, messages[0]):
            messages = messages[1:]
        else:
            await self._mark_chosen(message, payload)
        try:
            await self.deliver_messages(context.application, message.chat_id, messages)
        except Forbidden:
            log.info("chat blocked the bot; reply dropped")

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos and files go to the engine (a 확인증 for an inquiry); the rest is refused."""
        message = update.effective_message
        if message is None or self.engine is None:
            return
        upload = _upload_of(message)
        if upload is None:
            await self._send(context, message.chat_id, [Reply(texts.TEXT_ONLY)])
            return
        chat_key = f"{CHAT_PREFIX}{message.chat_id}"
        if self.staff is not None:
            relayed = await self.staff.relay_from_customer(chat_key, None, upload)
            if relayed is not None:
                await self._send(context, message.chat_id, relayed)
                return
        replies = await self.engine.handle(chat_key, upload)
        await self._send(context, message.chat_id, replies)

    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in the staff chat (agents at work)."""
        if self.staff is not None:
            await self.staff.on_message(update, context)

    async def on_nothing(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update that needs no answer."""

    async def on_group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot works in 1:1 chats only; say so once per group."""
        chat = update.effective_chat
        if chat is None or self.engine is None:
            return
        # Remembered in the database so a restart does not repeat the note in every group.
        key = f"group_told:{chat.id}"
        if await self.engine.helpdesk.values.get(key) is not None:
            return
        await self.engine.helpdesk.values.set(key, "1")
        await self._send(context, chat.id, [Reply(texts.PRIVATE_ONLY)])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update (never the token) and apologise to the customer."""
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        log.error(
            "update %s failed: %s: %s",
            update_id,
            type(error).__name__,
            error,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            if update.effective_chat.type != "private":
                return
            try:
                await context.bot.send_message(
                    update.effective_chat.id, texts.ERROR.format(filed=texts.ERROR_CHECK_STATUS)
                )
            except TelegramError:
                log.warning("could not deliver the apology for update %s", update_id)

    # output ---------------------------------------------------------------------------------

    async def _answer_in_place(
        self, message: Message, payload: str, first: tuple[str, InlineKeyboardMarkup | None]
    ) -> bool:
        """Edit the pressed message into the choice and the first answer (one counted call).

        The transcript keeps the question, `👉 <choice>` and the next step in that message, and
        the old keyboard is replaced by the next step's, so no older button stays pressable.
        False when it does not fit one message (the caller marks the choice and sends).
        """
        label = _pressed_label(message, payload)
        if label is None or not message.text:
            return False
        answer, markup = first
        text = f"{message.text}\n\n👉 {label}\n\n{answer}"
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            return False
        try:
            await send_with_retry(
                lambda: message.edit_text(text, reply_markup=markup),
                "editMessageText",
                resend_unconfirmed=1,  # the same edit twice shows the same message
            )
        except TelegramError as exc:
            log.info("could not answer in the pressed message: %s", exc)
            return False
        return True

    async def _drop_keyboard(self, message: Message) -> None:
        """Take the keyboard off a message whose buttons are no longer for the current step."""
        if message.reply_markup is None:
            return
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:
            log.info("could not take the old keyboard away: %s", exc)

    async def _mark_chosen(self, message: Message, payload: str) -> None:
        """Edit the pressed message: show the choice and drop the old keyboard."""
        label = _pressed_label(message, payload)
        if label is None or not message.text:
            return
        text = f"{message.text}\n\n👉 {label}"
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            return
        try:
            await message.edit_text(text)
        except TelegramError as exc:
            log.info("could not mark the chosen button: %s", exc)

    async def _send(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]
    ) -> None:
        try:
            await self.deliver_replies(context.application, chat_id, replies)
        except Forbidden:
            log.info("chat blocked the bot; reply dropped")

    @classmethod
    async def deliver_replies(cls, app: Application, chat_id: int, replies: list[Reply]) -> None:
        """Send a turn's replies, retrying failures; one that got no answer is sent once more."""
        await cls.deliver_messages(app, chat_id, telegram_messages(replies))

    @staticmethod
    async def deliver_messages(
        app: Application, chat_id: int, messages: list[tuple[str, InlineKeyboardMarkup | None]]
    ) -> None:
        """Send prepared messages in order (see `deliver_replies`)."""
        # Once more, not never: a customer would rather read a reply twice than miss it.
        for text, markup in messages:
            await _send_message(app, chat_id, text, markup, resend_unconfirmed=1)

    async def deliver_notice(self, app: Application, chat: str, reply: Reply) -> None:
        """Send one notification; raise unless Telegram confirmed every part of it.

        A part that got no answer is not sent again here: the outbox keeps the notification due
        and tries again later. Parts Telegram confirmed are remembered, so a retry resumes after
        them instead of repeating them.
        """
        chat_id = int(chat.removeprefix(CHAT_PREFIX))
        parts = telegram_messages([reply])
        key = (chat_id, reply.text)
        try:
            for index in range(self._notice_parts.get(key, 0), len(parts)):
                text, markup = parts[index]
                await _send_message(app, chat_id, text, markup, resend_unconfirmed=0)
                self._notice_parts[key] = index + 1
        except Exception as exc:
            if _undeliverable(exc):
                self._notice_parts.pop(key, None)
            raise
        self._notice_parts.pop(key, None)


def _pressed_label(message: Message, payload: str) -> str | None:
    """The label of the button with `payload` on a message, if it is there."""
    if message.reply_markup:
        for row in message.reply_markup.inline_keyboard:
            for button in row:
                if button.callback_data == payload:
                    return button.text
    return None


def telegram_messages(replies: list[Reply]) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The messages replies become: merged, split at 4,096 characters, buttons on the last."""
    messages: list[tuple[str, InlineKeyboardMarkup | None]] = []
    for reply in merge_replies(replies):
        chunks = split_text(reply.text)
        for index, chunk in enumerate(chunks):
            messages.append((chunk, keyboard(reply) if index == len(chunks) - 1 else None))
    return messages


async def _send_message(
    app: Application,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    resend_unconfirmed: int,
) -> None:
    await send_with_retry(
        lambda: app.bot.send_message(chat_id, text, reply_markup=markup),
        "sendMessage",
        resend_unconfirmed=resend_unconfirmed,
    )


def _flood_wait(exc: Exception) -> timedelta | None:
    """How long Telegram's flood control asked us to wait, if that is why a send failed."""
    return timedelta(seconds=retry_after_seconds(exc)) if isinstance(exc, RetryAfter) else None


def _undeliverable(exc: Exception) -> bool:
    """Failures that retrying cannot fix: blocked bot, deleted or unknown chat."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
    )


def _upload_of(message: Message) -> Upload | None:
    """A photo or document as engine input (by Telegram file id; nothing is downloaded)."""
    if message.document is not None:
        doc = message.document
        return Upload(
            file_id=doc.file_id,
            kind="document",
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            size=doc.file_size,
        )
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return Upload(
            file_id=largest.file_id, kind="photo", mime_type="image/jpeg", size=largest.file_size
        )
    return None


def configure_logging(token: str) -> None:
    """Log to stderr at INFO, with the token redacted and httpx's URL logging quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([token]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # matplotlib (the /stats chart) reports its font cache and unit guesses at INFO.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)


def run_telegram(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point of `helpdesk run`."""
    token = args.token or (
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    if not token:
        print(
            "error: no Telegram bot token: set TELEGRAM_BOT_TOKEN or pass --token "
            "(create a bot with @BotFather)",
            file=sys.stderr,
        )
        return 2
    if args.token:
        print(
            "warning: --token shows the bot token to every user of this machine in the process "
            "list; set TELEGRAM_BOT_TOKEN in the environment instead",
            file=sys.stderr,
        )
    if args.webhook_url and not args.webhook_url.startswith("https://"):
        print(
            "error: --webhook-url must be an https:// URL (Telegram only calls https; "
            "terminate TLS in a reverse proxy that forwards to --listen/--port)",
            file=sys.stderr,
        )
        return 2
    if args.staff_chat is not None:
        settings = settings.model_copy(update={"staff_chat_id": args.staff_chat})
    configure_logging(token)
    # Opt into PTB 23's timedelta time periods now: PTB 22 warns on every RetryAfter otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    channel = TelegramChannel(settings, polling=not args.webhook_url)
    app = channel.build(token, args.base_url)
    try:
        if args.webhook_url:
            app.run_webhook(
                listen=args.listen,
                port=args.port,
                # Serve on the same path Telegram is told to call (a reverse proxy keeps it).
                url_path=urlsplit(args.webhook_url).path.lstrip("/"),
                webhook_url=args.webhook_url,
                secret_token=args.secret_token,  # None: the one shared by every worker
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        # PTB's message quotes the token; say what to check instead.
        print(
            "error: the Bot API rejected the token: check TELEGRAM_BOT_TOKEN or --token",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        # E.g. the Bot API cannot be reached at start-up: one line, never a traceback.
        print(
            f"error: cannot start the bot: {exc.message.replace(token, '<redacted>')}",
            file=sys.stderr,
        )
        return 1
    if channel.fatal is not None:
        print(f"error: {channel.fatal}", file=sys.stderr)
        return 1
    return 0
