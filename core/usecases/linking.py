"""Linking a chat to a customer account with one-time codes, and guarding against guessing."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.calendar import Clock
from core.errors import InvalidLinkCode, LinkThrottled, NotFound
from core.models import Customer
from core.storage import Database, Tx
from core.usecases.base import UseCases

LINK_CODE_BYTES = 16  # 128 bits of randomness

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class LinkLimits:
    """How long a code lives and how wrong codes are slowed down and then refused."""

    code_ttl: timedelta = timedelta(minutes=30)
    failure_window: timedelta = timedelta(minutes=15)
    slow_after: int = 3
    max_failures: int = 5
    slowdown: timedelta = timedelta(seconds=1)


@dataclass(frozen=True)
class LinkCode:
    """A one-time code that links a chat to a customer."""

    code: str
    customer_id: str
    expires_at: datetime


def hash_link_code(code: str) -> str:
    """Hash a link code: only hashes are stored, so a database leak links nobody."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class Linking(UseCases):
    """Issue and redeem link codes; unlink; who a chat belongs to."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        limits: LinkLimits | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(db, clock)
        self.limits = limits or LinkLimits()
        self._sleep = sleep

    async def issue_code(self, customer_id: str) -> LinkCode:
        """Issue a random, single-use code that links one chat to `customer_id`."""
        now = self.now()
        code = secrets.token_urlsafe(LINK_CODE_BYTES)
        expires_at = now + self.limits.code_ttl
        async with self.db.transaction() as tx:
            if await tx.customers.get(customer_id) is None:
                raise NotFound(f"no customer {customer_id!r}")
            await tx.links.insert_code(hash_link_code(code), customer_id, now, expires_at)
        return LinkCode(code=code, customer_id=customer_id, expires_at=expires_at)

    async def slow_down(self, chat_id: str) -> None:
        """Wait before a code from a chat that guessed wrong several times.

        Called before the unit of work that redeems the code, never inside it: a write
        transaction must not be held open while a guesser waits.
        """
        async with self.db.reading() as tx:
            failures = await self._recent_failures(tx, chat_id)
        extra = len(failures) - self.limits.slow_after + 1
        if len(failures) < self.limits.max_failures and extra > 0:
            await self._sleep(self.limits.slowdown.total_seconds() * extra)

    async def redeem(self, chat_id: str, code: str, *, tx: Tx | None = None) -> Customer:
        """Link `chat_id` to the code's customer; unknown, used and expired codes fail alike.

        After `max_failures` wrong codes within the window the chat is refused, without the
        code even being looked at, until the window has passed.
        """
        now = self.now()
        async with self.writing(tx) as tx:
            failures = await self._recent_failures(tx, chat_id)
            if len(failures) >= self.limits.max_failures:
                oldest_counted = failures[-self.limits.max_failures]
                raise LinkThrottled(oldest_counted + self.limits.failure_window - now)
            customer_id = await tx.links.consume_code(hash_link_code(code.strip()), chat_id, now)
            if customer_id is None:
                await tx.links.record_failure(chat_id, now)
                raise_after = True
            else:
                await tx.links.link(chat_id, customer_id, now)
                customer = await tx.customers.get(customer_id)
                raise_after = customer is None
        if raise_after:
            raise InvalidLinkCode("link code is unknown, used or expired")
        assert customer is not None
        return customer

    async def _recent_failures(self, tx: Tx, chat_id: str) -> list[datetime]:
        now = self.now()
        window = self.limits.failure_window
        failures = await tx.links.failures_between(chat_id, now - window, now + window)
        # A failure written while the clock ran fast counts as happening now (and one from
        # further ahead than a window not at all), so a corrected clock never locks a chat out
        # for longer than one window.
        return [min(at, now) for at in failures]

    async def unlink(self, chat_id: str, *, tx: Tx | None = None) -> bool:
        """Remove the chat's link; return whether there was one."""
        async with self.writing(tx) as tx:
            return await tx.links.unlink(chat_id)

    async def customer_of(self, chat_id: str, *, tx: Tx | None = None) -> Customer | None:
        """Return the customer this chat is linked to, or None."""
        async with self.reading(tx) as tx:
            customer_id = await tx.links.customer_of(chat_id)
            return await tx.customers.get(customer_id) if customer_id else None
