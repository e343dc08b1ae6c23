"""`/stats` in the staff chat: the last 7 days as a chart (matplotlib, Agg) and as figures.

The chart's labels are the stable ids the CLI prints (intent ids, request states, MM-DD dates) so
it renders the same on any server, with or without a Korean font; the caption says it in Korean.
matplotlib is imported only when a chart is drawn, in a worker thread (drawing takes a few
hundred milliseconds that the bot's event loop must not wait for).
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot import texts
from bot.analytics import compute_stats
from core.calendar import KST, to_kst
from core.models import RequestStatus
from core.storage.sql import instant
from core.usecases import Helpdesk

DAYS = 7
DECIDED = (RequestStatus.APPROVED.value, RequestStatus.REJECTED.value)


@dataclass(frozen=True)
class WeekStats:
    """The figures of the 7 days ending today (KST)."""

    days: tuple[date, ...]
    questions: int
    fallback_rate: float
    per_intent: dict[str, int]
    daily_fallback_rate: tuple[float | None, ...]
    requests_by_state: dict[str, int]
    median_hours_to_decision: float | None
    decisions: int
    daily_median_hours: tuple[float | None, ...]


async def week_stats(helpdesk: Helpdesk, today: date) -> WeekStats:
    """Questions per intent, fallback rate, requests by state and time to decision."""
    days = tuple(today - timedelta(days=DAYS - 1 - i) for i in range(DAYS))
    start = datetime.combine(days[0], time.min, tzinfo=KST)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=KST)
    overall = await compute_stats(helpdesk, start, end)

    asked: Counter[date] = Counter()
    fell_back: Counter[date] = Counter()
    for event in await helpdesk.faq_log.events(start, end):
        if event["kind"] in ("answer", "clarify", "fallback"):
            day = to_kst(instant(event["at"])).date()
            asked[day] += 1
            fell_back[day] += event["kind"] == "fallback"

    filed_at = {r.number: r.created_at for r in await helpdesk.requests.list()}
    first_decision: dict[str, datetime] = {}
    for event in await helpdesk.requests.events_between(start, end):
        if event.action in DECIDED and event.request_number in filed_at:
            first_decision.setdefault(event.request_number, event.at)
    waits: dict[date, list[float]] = {}
    for number, decided in first_decision.items():
        hours = (decided - filed_at[number]).total_seconds() / 3600
        waits.setdefault(to_kst(decided).date(), []).append(hours)
    every_wait = [h for hours in waits.values() for h in hours]

    return WeekStats(
        days=days,
        questions=int(overall["questions"]),
        fallback_rate=float(overall["fallback_rate"]),
        per_intent=dict(overall["per_intent"]),
        daily_fallback_rate=tuple(fell_back[d] / asked[d] if asked[d] else None for d in days),
        requests_by_state=dict(overall["requests_by_state"]),
        median_hours_to_decision=round(statistics.median(every_wait), 1) if every_wait else None,
        decisions=len(every_wait),
        daily_median_hours=tuple(
            round(statistics.median(waits[d]), 1) if d in waits else None for d in days
        ),
    )


def caption(stats: WeekStats) -> str:
    """The figures as text, sent with the chart."""
    return texts.staff_stats_caption(
        first=stats.days[0],
        last=stats.days[-1],
        questions=stats.questions,
        fallback_rate=stats.fallback_rate,
        per_intent=stats.per_intent,
        by_state=stats.requests_by_state,
        median_hours=stats.median_hours_to_decision,
        decisions=stats.decisions,
    )


def chart_png(stats: WeekStats) -> bytes:
    """The 2×2 chart as PNG bytes (call it in a worker thread)."""
    # The object API with an Agg canvas, not pyplot: no global figure state, no GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    intents, fallback, states, waits = figure.subplots(2, 2).flat
    labels = [d.strftime("%m-%d") for d in stats.days]

    ranked = sorted(stats.per_intent.items(), key=lambda kv: kv[1])
    intents.barh([k for k, _ in ranked] or ["(none)"], [v for _, v in ranked] or [0])
    intents.set_title(f"Answers per intent ({stats.questions} questions)")

    # Positions with the dates as tick labels: MM-DD strings would be parsed as dates.
    positions = list(range(len(labels)))
    rates = [r * 100 if r is not None else float("nan") for r in stats.daily_fallback_rate]
    fallback.plot(positions, rates, marker="o")
    fallback.set_ylim(0, 100)
    fallback.set_ylabel("%")
    fallback.set_title(f"Fallback rate per day (week: {stats.fallback_rate:.0%})")

    names = list(stats.requests_by_state)
    states.bar(names, [stats.requests_by_state[n] for n in names])
    states.set_title("Requests filed, by state")
    states.tick_params(axis="x", labelrotation=20)

    hours = [h if h is not None else 0.0 for h in stats.daily_median_hours]
    waits.bar(positions, hours)
    overall = stats.median_hours_to_decision
    waits.set_title(
        "Median hours to decision"
        + (f" (week: {overall:g} h, {stats.decisions})" if overall is not None else " (none)")
    )
    for axes in (fallback, waits):
        axes.set_xticks(positions, labels, rotation=45)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
