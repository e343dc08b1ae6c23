"""Customers' notifications from the outbox, delivered in a loop of their own, and the daily
prune beside it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable

from telegram.ext import Application

from bot.dialogue import Reply
from bot.maintenance import prune_daily
from bot.notify import OutboxDeliverer
from bot.settings import Settings
from bot.telegram.messages import CHAT_PREFIX, telegram_messages
from bot.telegram.sending import flood_wait, send_message, undeliverable
from core.errors import DatabaseReplaced
from core.usecases import Helpdesk

log = logging.getLogger(__package__)  # log lines read `bot.telegram:`, whichever module wrote them

OUTBOX_STOP_SECONDS = 10.0


class Notices:
    """The outbox loop and the prune task: started once the database is open, stopped together."""

    def __init__(self, settings: Settings, on_fatal: Callable[[Exception], None]) -> None:
        self.settings = settings
        self._on_fatal = on_fatal  # the database was replaced under us: the bot must stop
        self._outbox_task: asyncio.Task[None] | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        # Set to deliver customers' notifications now (an agent decided in the staff chat).
        self._wake = asyncio.Event()
        # (chat, notification text) -> how many of its parts Telegram confirmed, while a
        # notification longer than one message is only partly sent.
        self._parts: dict[tuple[int, str], int] = {}

    def deliverer(self, app: Application, helpdesk: Helpdesk) -> OutboxDeliverer:
        """The deliverer of notifications to Telegram chats."""
        return OutboxDeliverer(
            helpdesk,
            CHAT_PREFIX,
            functools.partial(self.deliver, app),
            is_permanent=undeliverable,
            asked_wait=flood_wait,
        )

    def start(self, deliverer: OutboxDeliverer, helpdesk: Helpdesk) -> None:
        """Start delivering notifications and pruning old records."""
        # Not app.create_task: the application waits for those on stop, and this one never ends.
        self._outbox_task = asyncio.create_task(self._run_outbox(deliverer))
        self._prune_task = asyncio.create_task(
            prune_daily(helpdesk, self.settings.retain_days, self._stop)
        )

    def wake(self) -> None:
        """Deliver due notifications now instead of at the next interval."""
        self._wake.set()

    async def _run_outbox(self, deliverer: OutboxDeliverer) -> None:
        """Deliver due notifications every interval until `stop` is called."""
        while not self._stop.is_set():
            try:
                await deliverer.deliver_due(self._stop)
            except DatabaseReplaced as exc:
                log.critical("%s", exc)
                self._on_fatal(exc)
                return
            except Exception:
                log.exception("outbox delivery round failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_interval_seconds)
            self._wake.clear()

    async def stop(self) -> None:
        """Stop both tasks; a delivery round in progress may finish first."""
        if self._outbox_task is not None:
            # Let a round in progress finish: cancelled between Telegram accepting a message
            # and marking it sent, the notification would be claimed and sent again later.
            self._stop.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._outbox_task), OUTBOX_STOP_SECONDS)
            except TimeoutError:
                self._outbox_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._outbox_task
            self._outbox_task = None
        if self._prune_task is not None:
            self._stop.set()
            self._prune_task.cancel()  # a prune is one transaction: cancelling rolls it back
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
            self._prune_task = None

    async def deliver(self, app: Application, chat: str, reply: Reply) -> None:
        """Send one notification; raise unless Telegram confirmed every part of it.

        A part that got no answer is not sent again here: the outbox keeps the notification due
        and tries again later. Parts Telegram confirmed are remembered, so a retry resumes after
        them instead of repeating them.
        """
        chat_id = int(chat.removeprefix(CHAT_PREFIX))
        parts = telegram_messages([reply])
        key = (chat_id, reply.text)
        try:
            for index in range(self._parts.get(key, 0), len(parts)):
                text, markup = parts[index]
                await send_message(app, chat_id, text, markup, resend_unconfirmed=0)
                self._parts[key] = index + 1
        except Exception as exc:
            if undeliverable(exc):
                self._parts.pop(key, None)
            raise
        self._parts.pop(key, None)
