"""Small operational values the program learns and keeps (e.g. the bot's username)."""

from __future__ import annotations

from collections.abc import Callable

from core.usecases.base import UseCases


class Values(UseCases):
    """Read and write operational values."""

    async def get(self, key: str) -> str | None:
        """Return a stored value, or None."""
        async with self.db.reading() as tx:
            return await tx.values.get(key)

    async def set(self, key: str, value: str) -> None:
        """Store a value."""
        async with self.db.transaction() as tx:
            await tx.values.set(key, value)

    async def shared(self, key: str, new: Callable[[], str]) -> str:
        """The value every process on this database uses for `key`, made with `new()` by the
        first one that asks."""
        async with self.db.transaction() as tx:
            return await tx.values.set_default(key, new())
