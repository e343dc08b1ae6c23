"""The agents' figures for a period, and the retention policy."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.usecases.base import UseCases

KEPT_FOREVER = ("requests", "audit trails", "inquiries", "customers", "services")
"""What retention never removes."""


@dataclass
class PeriodFigures:
    """What happened in a period, counted by the database."""

    answers: Counter[str] = field(default_factory=Counter)
    acts: Counter[str] = field(default_factory=Counter)
    clarified: int = 0
    fell_back: int = 0
    votes: dict[str, dict[str, int]] = field(default_factory=dict)
    questions_per_chat: list[tuple[str, int]] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    approval_hours: list[float] = field(default_factory=list)

    @property
    def questions(self) -> int:
        """Every question asked (answered, clarified, fallen back or an act)."""
        return (
            sum(self.answers.values()) + sum(self.acts.values()) + self.clarified + self.fell_back
        )

    @property
    def median_hours_to_approval(self) -> float | None:
        """The median time from filing to approval, in hours."""
        return round(statistics.median(self.approval_hours), 1) if self.approval_hours else None


class Reports(UseCases):
    """Period figures and pruning."""

    async def period(self, since: datetime, until: datetime) -> PeriodFigures:
        """The figures of [since, until), aggregated by the database."""
        figures = PeriodFigures()
        async with self.db.reading() as tx:
            for row in await tx.reports.faq_counts(since, until):
                kind, intent, n = row["kind"], row["intent"], int(row["n"])
                if kind == "answer":
                    figures.answers[intent] += n
                elif kind == "act":
                    figures.acts[intent] += n
                elif kind == "clarify":
                    figures.clarified += n
                elif kind == "fallback":
                    figures.fell_back += n
                elif kind == "feedback":
                    votes = figures.votes.setdefault(intent, {"up": 0, "down": 0})
                    votes["up" if row["helpful"] else "down"] += n
            figures.questions_per_chat = await tx.reports.questions_per_chat(since, until)
            figures.requests = await tx.reports.requests_filed(since, until)
            figures.approval_hours = await tx.reports.approval_waits(since, until)
        return figures

    async def prune(self, keep_days: int) -> dict[str, int]:
        """Remove FAQ events, delivered notifications and spent link codes older than
        `keep_days` days; what is in KEPT_FOREVER is never removed."""
        before = self.now() - timedelta(days=keep_days)
        async with self.db.transaction() as tx:
            return await tx.reports.prune(before)
