"""The Telegram channel's lifecycle: the PTB application, the database it opens on start, and
the collaborators it runs — update handlers, customers' notifications, the staff desk."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from datetime import timedelta

from telegram import BotCommand, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import texts
from bot.app import App, open_app
from bot.dialogue import Engine, Reply
from bot.notify import OutboxDeliverer
from bot.settings import Settings
from bot.staff import Pacer, StaffDesk
from bot.telegram import sending
from bot.telegram.handlers import UpdateHandlers
from bot.telegram.notices import Notices
from bot.telegram.sending import flood_wait, send_with_retry
from bot.telegram.updates import ChatOrderedProcessor, FloodGuard
from bot.webhook import Acknowledgements, HelpdeskUpdater
from core.errors import AlreadyRunning
from core.usecases import Helpdesk

log = logging.getLogger(__package__)  # log lines read `bot.telegram:`, whichever module wrote them

HEALTH_TIMEOUT_SECONDS = 2.0
COMMANDS = (
    ("help", "도움말"),
    ("refund", "취소/환불 신청"),
    ("status", "신청 현황"),
    ("unlink", "연결 해제"),
    ("cancel", "그만"),
)


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
        self.app_parts: App | None = None
        self.fatal: Exception | None = None
        self.flood = FloodGuard()
        self.app: Application | None = None
        self.updates = UpdateHandlers()
        self.notices = Notices(settings, on_fatal=self._stop_on_fatal)

    @property
    def engine(self) -> Engine | None:
        """The dialogue engine, once post_init has built it."""
        return self.updates.engine

    @property
    def staff(self) -> StaffDesk | None:
        """The staff chat's desk, when there is a staff chat and the bot has started."""
        return self.updates.staff

    # lifecycle ------------------------------------------------------------------------------

    async def post_init(self, app: Application) -> None:
        """Open the database, build the engine, publish the command menu, learn our username."""
        self.app_parts = await open_app(self.settings, channel="telegram")
        if self.polling:
            await self._only_poller(self.app_parts)
        helpdesk = self.app_parts.helpdesk
        engine = self.updates.engine = self.app_parts.engine
        engine.on_fatal = functools.partial(self._stop_for, app)
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

        self.notices.start(self.outbox_deliverer(app, helpdesk), helpdesk)
        if self.settings.staff_chat_id is not None:
            staff = self.updates.staff = self.staff_desk(app, helpdesk, self.settings.staff_chat_id)
            await staff.start()
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
        return self.notices.deliverer(app, helpdesk)

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
            asked_wait=flood_wait,
            wake_customers=self.notices.wake,
            on_fatal=functools.partial(self._stop_for, app),
        )

    def _stop_for(self, app: Application, error: Exception) -> None:
        """Stop the bot after a fatal storage error (the database file vanished)."""
        self.fatal = error
        app.stop_running()

    def _stop_on_fatal(self, error: Exception) -> None:
        """Stop the bot after a fatal error in a background loop, once it is built."""
        if self.app is not None:
            self._stop_for(self.app, error)

    async def post_stop(self, app: Application) -> None:
        """Stop delivering notifications (in-flight updates have finished by now)."""
        await self._stop_background()

    async def _stop_background(self) -> None:
        if self.staff is not None:
            await self.staff.stop()
        await self.notices.stop()

    async def post_shutdown(self, app: Application) -> None:
        """Close the database after every in-flight update has finished."""
        # A start that failed after post_init (e.g. setWebhook refused) never calls post_stop.
        await self._stop_background()
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
        self.updates.add_to(app, self.settings.staff_chat_id)
        return app

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

    # output ---------------------------------------------------------------------------------

    @staticmethod
    async def deliver_replies(app: Application, chat_id: int, replies: list[Reply]) -> None:
        """Send a turn's replies, retrying failures; one that got no answer is sent once more."""
        await sending.deliver_replies(app, chat_id, replies)

    @staticmethod
    async def deliver_messages(
        app: Application, chat_id: int, messages: list[tuple[str, InlineKeyboardMarkup | None]]
    ) -> None:
        """Send prepared messages in order (see `deliver_replies`)."""
        await sending.deliver_messages(app, chat_id, messages)

    async def deliver_notice(self, app: Application, chat: str, reply: Reply) -> None:
        """Send one notification; raise unless Telegram confirmed every part of it."""
        await self.notices.deliver(app, chat, reply)
