"""Pacing messages into one Telegram group: at most `limit` in any `window` seconds.

Telegram allows a bot about 20 messages a minute in one group; past that it answers 429 and
makes the bot wait. The staff chat's deliverer asks for a slot before each message it posts
(topics, cards, lines, files, pins — everything that adds a message to the group) so a burst of
new cases is spread out instead of tripping flood control. A send is counted from the moment it
finished: a message that arrives at Telegram late still leaves the full window before the one
`limit` sends later, so the limit holds as Telegram counts it (on arrival).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """A sliding window: a slot is free while fewer than `limit` sends finished in `window`."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a pacer needs a limit of at least 1 and a positive window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._done: deque[float] = deque()
        self._lock = asyncio.Lock()

    def wait_needed(self) -> float:
        """Seconds until a slot is free (0 when one is free now)."""
        now = self._clock()
        while self._done and now - self._done[0] >= self.window:
            self._done.popleft()
        if len(self._done) < self.limit:
            return 0.0
        return self._done[0] + self.window - now

    async def until_free(self) -> None:
        """Wait until a slot is free (without taking it)."""
        while (wait := self.wait_needed()) > 0:
            await self._sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for one send: wait until one is free, count the send when it finishes.

        One send at a time: the deliverer posts in order, and a concurrent caller (the queue
        message) waits its turn instead of racing for the same slot.
        """
        async with self._lock:
            while (wait := self.wait_needed()) > 0:
                await self._sleep(wait)
            try:
                yield
            finally:
                self._done.append(self._clock())

    def penalise(self, seconds: float) -> None:
        """Telegram asked us to wait (429): no slot is free for `seconds` from now."""
        until = self._clock() + seconds - self.window
        self._done = deque([until] * self.limit)
