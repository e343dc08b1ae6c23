"""Small operational values the program learns and keeps (e.g. the bot's username)."""

from __future__ import annotations

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
