"""The Telegram adapter's pure parts: splitting, merging, pacing, retrying, redacting."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import httpx
import pytest
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.dialogue import Button, Reply
from bot.telegram import (
    FloodGuard,
    RedactingFilter,
    merge_replies,
    send_with_retry,
    split_text,
)


def test_long_text_is_split_at_line_breaks_within_the_limit():
    text = "\n".join(f"{i:04d} " + "가" * 50 for i in range(200))
    chunks = split_text(text, 4096)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text


def test_a_single_line_longer_than_the_limit_is_cut_hard():
    chunks = split_text("가" * 10_000, 4096)
    assert [len(c) for c in chunks] == [4096, 4096, 1808]


def test_replies_without_buttons_merge_into_the_next_one():
    merged = merge_replies(
        [Reply("a"), Reply("b", ((Button("x", "g:x"),),)), Reply("c"), Reply("d")]
    )
    assert [m.text for m in merged] == ["a\n\nb", "c\n\nd"]
    assert merged[0].buttons[0][0].label == "x"


def test_the_flood_guard_warns_once_then_drops_until_the_window_passes():
    guard = FloodGuard(window=10, limit=3)
    assert [guard.check(1, now=t) for t in (0, 1, 2)] == ["ok", "ok", "ok"]
    assert guard.check(1, now=3) == "warn"
    assert guard.check(1, now=4) == "drop"
    assert guard.check(2, now=4) == "ok"  # another user is not affected
    assert guard.check(1, now=12.5) == "ok"


async def test_retry_after_is_waited_out_and_the_message_sent(monkeypatch):
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    outcomes: list[Exception | str] = [RetryAfter(3), TimedOut(), NetworkError("502"), "sent"]

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await send_with_retry(call, "sendMessage") == "sent"
    assert waits[0] == 3 and len(waits) == 3


async def test_a_blocked_chat_is_not_retried():
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise Forbidden("bot was blocked by the user")

    with pytest.raises(Forbidden):
        await send_with_retry(call, "sendMessage")
    assert calls == 1


def test_the_token_never_reaches_the_log(caplog):
    token = "123456:SECRET-TOKEN"
    logger = logging.getLogger("redaction-test")
    handler = logging.Handler()
    seen: list[str] = []
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter([token]))
    logger.addHandler(handler)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getMe failed", token)
    finally:
        logger.removeHandler(handler)
    assert seen == ["POST https://api.telegram.org/bot<redacted>/getMe failed"]


def _failing_call(*errors: Exception) -> tuple[Any, list[int]]:
    """A Bot API call that raises `errors` in turn, then succeeds; and its call counter."""
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return "sent"

    return call, calls


def _ptb_error(kind: type[NetworkError], cause: Exception) -> NetworkError:
    """The error PTB raises for an httpx failure (TimedOut or NetworkError from the cause)."""
    try:
        raise kind("Timed out" if kind is TimedOut else f"httpx.{type(cause).__name__}") from cause
    except NetworkError as exc:
        return exc


NO_ANSWER = [
    _ptb_error(TimedOut, httpx.ReadTimeout("no answer")),
    _ptb_error(NetworkError, httpx.RemoteProtocolError("Server disconnected")),
    _ptb_error(NetworkError, httpx.ReadError("Connection reset by peer")),
]


@pytest.mark.parametrize("lost", NO_ANSWER, ids=["read-timeout", "disconnected", "reset"])
async def test_a_send_without_an_answer_is_not_taken_as_sent(lost: NetworkError):
    call, calls = _failing_call(lost)
    with pytest.raises(NetworkError):
        await send_with_retry(call, "sendMessage")
    assert calls == [1]


@pytest.mark.parametrize("lost", NO_ANSWER, ids=["read-timeout", "disconnected", "reset"])
async def test_a_reply_without_an_answer_is_sent_again_once(lost: NetworkError):
    call, calls = _failing_call(lost)
    assert await send_with_retry(call, "sendMessage", resend_unconfirmed=1) == "sent"
    assert calls == [2]

    call, calls = _failing_call(lost, lost, lost)
    with pytest.raises(NetworkError):
        await send_with_retry(call, "sendMessage", resend_unconfirmed=1)
    assert calls == [2]  # never a third copy


@pytest.mark.parametrize(
    "unsent",
    [
        _ptb_error(TimedOut, httpx.WriteTimeout("still writing")),
        _ptb_error(TimedOut, httpx.PoolTimeout("no free connection")),
        _ptb_error(NetworkError, httpx.ConnectError("refused")),
        NetworkError("Bad Gateway"),  # an HTTP error answer: Telegram did not send it
    ],
    ids=["write-timeout", "pool-timeout", "connect", "502"],
)
async def test_a_send_that_never_reached_telegram_is_retried(monkeypatch, unsent: NetworkError):
    async def no_sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    call, calls = _failing_call(unsent, unsent)
    assert await send_with_retry(call, "sendMessage") == "sent"
    assert calls == [3]


def test_the_flood_guard_forgets_quiet_users_but_not_a_flooding_one():
    guard = FloodGuard(window=10, limit=2, max_tracked=2)
    guard.check(2, now=0)  # quiet since long before t=100
    assert [guard.check(1, now=t) for t in (100, 100.5, 101)] == ["ok", "ok", "warn"]
    guard.check(3, now=101)
    assert guard.tracked == 3

    guard.check(4, now=101)  # past max_tracked: the quiet user is forgotten as 4 is added
    assert guard.tracked == 3
    assert guard.check(1, now=102) == "drop"  # the flooding user is still held back


@pytest.mark.parametrize("ptb_timedelta", ["true", "false"])
async def test_a_flood_wait_is_honoured_in_either_ptb_mode_without_a_warning(
    monkeypatch, ptb_timedelta: str
):
    # PTB 22 gives retry_after in seconds and warns on reading it, unless PTB_TIMEDELTA opts
    # into PTB 23's timedelta; the bot must wait the same in both modes and warn in neither.
    monkeypatch.setenv("PTB_TIMEDELTA", ptb_timedelta)
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's own constructor warns in seconds mode
        flood = RetryAfter(3)
    call, _ = _failing_call(flood)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert await send_with_retry(call, "sendMessage") == "sent"
    assert waits == [3]
    assert [w.message for w in caught if issubclass(w.category, PTBDeprecationWarning)] == []
