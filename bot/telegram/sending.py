"""Bot API calls that count only when Telegram confirms them: retries, flood waits, deadlines."""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta
from typing import Any

import httpx
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.dialogue import Reply
from bot.telegram.messages import telegram_messages

log = logging.getLogger(__package__)  # log lines read `bot.telegram:`, whichever module wrote them

SEND_ATTEMPTS = 6
SEND_DEADLINE = 60.0


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


async def deliver_replies(app: Application, chat_id: int, replies: list[Reply]) -> None:
    """Send a turn's replies, retrying failures; one that got no answer is sent once more."""
    await deliver_messages(app, chat_id, telegram_messages(replies))


async def deliver_messages(
    app: Application, chat_id: int, messages: list[tuple[str, InlineKeyboardMarkup | None]]
) -> None:
    """Send prepared messages in order (see `deliver_replies`)."""
    # Once more, not never: a customer would rather read a reply twice than miss it.
    for text, markup in messages:
        await send_message(app, chat_id, text, markup, resend_unconfirmed=1)


async def send_message(
    app: Application,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    resend_unconfirmed: int,
) -> None:
    """Send one message, resending it at most `resend_unconfirmed` times when unanswered."""
    await send_with_retry(
        lambda: app.bot.send_message(chat_id, text, reply_markup=markup),
        "sendMessage",
        resend_unconfirmed=resend_unconfirmed,
    )


def flood_wait(exc: Exception) -> timedelta | None:
    """How long Telegram's flood control asked us to wait, if that is why a send failed."""
    return timedelta(seconds=retry_after_seconds(exc)) if isinstance(exc, RetryAfter) else None


def undeliverable(exc: Exception) -> bool:
    """Failures that retrying cannot fix: blocked bot, deleted or unknown chat."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
    )
