"""What every `helpdesk` command shares: the exit code, opening the use cases, tables, dates,
the agent's name and the progress bar."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import TextIO

from bot.app import open_helpdesk
from bot.settings import Settings
from core.calendar import KST, system_clock, today_kst
from core.errors import InvalidInput
from core.usecases import Helpdesk

EXIT_ERROR = 1


def with_helpdesk(
    settings: Settings, work: Callable[[Helpdesk], Awaitable[int]], *, create: bool = False
) -> int:
    """Run `work` with the use cases over the configured database.

    Only commands that put data in (`import`, `db init`) create a missing database: a read
    command at a mistyped path says so instead of leaving an empty database and key behind.
    """

    async def runner() -> int:
        async with open_helpdesk(settings, create=create) as helpdesk:
            return await work(helpdesk)

    return asyncio.run(runner())


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Rows aligned under their headers; wide (Korean) characters take two columns."""
    from unicodedata import east_asian_width

    def width(text: str) -> int:
        if text.isascii():  # ids, amounts, dates: most cells, and one C call
            return len(text)
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)

    every = [headers, *rows]
    measured = [[width(cell) for cell in row] for row in every]  # once per cell: 40k rows
    widths = [max(m[i] for m in measured) for i in range(len(headers))]
    lines = []
    for row, sizes in zip(every, measured, strict=True):
        cells = [cell + " " * (w - n) for cell, n, w in zip(row, sizes, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def agent_name(args: argparse.Namespace) -> str:
    """The name for the audit trail: --agent, else the login name."""
    if getattr(args, "agent", None):
        return str(args.agent)
    try:
        return os.environ.get("USER") or getpass.getuser()
    except OSError:
        return "agent"


def period(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """[since 00:00 KST, the day after `until` 00:00 KST) as aware datetimes."""
    today = today_kst(system_clock)
    try:
        first = date.fromisoformat(since) if since else today - timedelta(days=30)
        last = date.fromisoformat(until) if until else today
    except ValueError as exc:
        raise InvalidInput(f"dates are YYYY-MM-DD: {exc}") from None
    start = datetime.combine(first, time.min, tzinfo=KST)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=KST)
    return start, end


def some(ids: list[str], shown: int = 20) -> str:
    """The first ids of a list; a provider's 200k ids would bury the summary."""
    more = f" … and {len(ids) - shown:,} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def shows_progress(args: argparse.Namespace) -> bool:
    """A bar only for a person at a terminal: never in --json output, logs or pipes."""
    return not args.json and sys.stderr.isatty()


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, label: str, unit: str = "bytes", stream: TextIO | None = None) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.drawn_at: float | None = None

    def _amount(self, n: int) -> str:
        return f"{n / 1e6:.1f} MB" if self.unit == "bytes" else f"{n:,} {self.unit}"

    def __call__(self, done: int, total: int | None) -> None:
        """Show `done` of `total` units (just the count when the total is unknown)."""
        now = monotonic()
        finished = total is not None and done >= total
        if self.drawn_at is not None and now - self.drawn_at < 0.1 and not finished:
            return
        self.drawn_at = now
        if total:
            part = min(done / total, 1.0)
            filled = round(part * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"{self.label} [{bar}] {part:4.0%} {self._amount(done)} of {self._amount(total)}"
        else:
            line = f"{self.label} {self._amount(done)}"
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()

    def close(self) -> None:
        """Clear the bar's line so that what is printed next starts clean."""
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
