"""Which updates are processed, and in what order: per-chat ordering and the flood guard."""

from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.concurrency import KeyedLocks

FLOOD_WINDOW_SECONDS = 10.0
FLOOD_MAX_UPDATES = 20
FLOOD_MAX_TRACKED_USERS = 10_000


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

    def __init__(
        self,
        window: float = FLOOD_WINDOW_SECONDS,
        limit: int = FLOOD_MAX_UPDATES,
        max_tracked: int = FLOOD_MAX_TRACKED_USERS,
    ) -> None:
        self.window = window
        self.limit = limit
        self.max_tracked = max_tracked  # past this many users, quiet ones are forgotten
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> str:
        """Return 'ok', 'warn' (first refusal in a window) or 'drop'."""
        now = time.monotonic() if now is None else now
        if len(self._seen) > self.max_tracked:
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

    @property
    def tracked(self) -> int:
        """How many users the guard remembers updates of."""
        return len(self._seen)

    def _forget_quiet_users(self, now: float) -> None:
        """Drop users with nothing in the window, so memory does not grow with every user."""
        for user_id in [
            u for u, seen in self._seen.items() if not seen or now - seen[-1] > self.window
        ]:
            del self._seen[user_id]
            self._warned.pop(user_id, None)
