"""What every area of use cases shares: the database, the clock and joining a unit of work.

A use case called on its own (by the CLI) is one transaction. Called with `tx=` (by the dialogue
engine, inside the turn's unit of work), it joins that transaction instead, so that everything a
turn does is stored together or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Protocol, TypeVar

from core.calendar import Clock
from core.errors import NotFound
from core.storage import Database, Tx


class UseCases:
    """Base of one area's use cases: a database and a clock."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def now(self) -> datetime:
        """The current instant from the injected clock."""
        return self.clock()

    @asynccontextmanager
    async def writing(self, tx: Tx | None) -> AsyncIterator[Tx]:
        """Join the caller's unit of work, or run as one write transaction of its own."""
        if tx is not None:
            yield tx
            return
        async with self.db.transaction() as own:
            yield own

    @asynccontextmanager
    async def reading(self, tx: Tx | None) -> AsyncIterator[Tx]:
        """Join the caller's unit of work, or read from one consistent snapshot."""
        if tx is not None:
            yield tx
            return
        async with self.db.reading() as own:
            yield own


class _Owned(Protocol):
    @property
    def customer_id(self) -> str: ...


Record = TypeVar("Record", bound=_Owned)


def replayed(existing: Record | None, customer_id: str) -> Record | None:
    """The record a replayed submission already filed, or None for a first submission.

    A key that filed another customer's record is answered as if nothing existed (NotFound),
    never with that record.
    """
    if existing is None:
        return None
    if existing.customer_id != customer_id:
        raise NotFound("that submission belongs to another customer")
    return existing


async def customer_chat(tx: Tx, customer_id: str, preferred: str | None) -> str | None:
    """The chat that should hear about a customer's case: `preferred` (the chat it came from)
    while it is still linked to that customer, else their most recently linked chat, else None.

    A chat that was unlinked, or relinked to someone else, never gets another customer's news.
    """
    if preferred is not None and await tx.links.customer_of(preferred) == customer_id:
        return preferred
    chats = await tx.links.chats_of(customer_id)
    return chats[0] if chats else None
