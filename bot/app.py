"""The composition root: the one place that assembles the engine and the use cases.

Telegram, the terminal chat, the CLI, tests and benchmarks all build their application here, so
a new dependency or setting is wired once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.settings import Settings
from core.calendar import Clock, system_clock
from core.storage import Database
from core.usecases import Helpdesk, LinkLimits
from core.usecases.linking import Sleep

if TYPE_CHECKING:
    from bot.dialogue import DialogueLimits, Engine
    from faq.kb import KnowledgeBase


@dataclass
class App:
    """An open database with its use cases and the dialogue engine for one channel."""

    db: Database
    helpdesk: Helpdesk
    engine: Engine

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()


def assemble(
    db: Database,
    *,
    channel: str,
    clock: Clock = system_clock,
    limits: DialogueLimits | None = None,
    link_limits: LinkLimits | None = None,
    sleep: Sleep = asyncio.sleep,
    kb: KnowledgeBase | None = None,
) -> App:
    """Build the use cases and the engine over an open database."""
    # Imported here: the agents' commands open only the use cases (open_helpdesk) and should
    # not pay for loading the dialogue engine, the knowledge base and the matcher's model.
    from bot.dialogue import Engine
    from faq.kb import load_knowledge_base
    from faq.matcher import Matcher

    helpdesk = Helpdesk(db, clock, link_limits=link_limits, sleep=sleep)
    kb = kb or load_knowledge_base()
    engine = Engine(helpdesk, kb, Matcher(kb), channel=channel, limits=limits)
    return App(db=db, helpdesk=helpdesk, engine=engine)


async def open_database(settings: Settings, *, create: bool = True) -> Database:
    """Open (and migrate) the configured database: a SQLite file or a PostgreSQL server."""
    return await Database.open(
        settings.database(),
        settings.secret_key_bytes(),
        create=create,
        pool_size=settings.database_pool_size,
    )


async def open_app(
    settings: Settings, *, channel: str, clock: Clock = system_clock, create: bool = True
) -> App:
    """Open the configured database and assemble the application for `channel`."""
    db = await open_database(settings, create=create)
    return assemble(db, channel=channel, clock=clock, limits=settings.dialogue_limits())


@asynccontextmanager
async def running(
    settings: Settings, *, channel: str, clock: Clock = system_clock, create: bool = True
) -> AsyncIterator[App]:
    """`open_app` as a context manager that closes the database afterwards."""
    app = await open_app(settings, channel=channel, clock=clock, create=create)
    try:
        yield app
    finally:
        await app.close()


@asynccontextmanager
async def open_helpdesk(
    settings: Settings, *, clock: Clock = system_clock, create: bool = False
) -> AsyncIterator[Helpdesk]:
    """The use cases alone (no engine), for the agents' and operators' commands."""
    db = await open_database(settings, create=create)
    try:
        yield Helpdesk(db, clock)
    finally:
        await db.close()
