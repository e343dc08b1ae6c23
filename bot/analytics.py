"""What customers asked that the bot could not answer well, and the figures of a period.

`group_misses` gathers fallbacks and 👎 feedback into groups of similar questions so whoever keeps
the knowledge base sees the most frequent gaps first. Two questions are grouped when, with spaces
removed, the shorter one is (almost) contained in the longer one, or their words overlap almost
completely; very short questions need a near-exact match so that a bare "환불" does not swallow
every question that mentions refunds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from core.models import RequestStatus
from core.usecases import Helpdesk

SIMILAR = 90
SHORT = 4


@dataclass
class MissGroup:
    """Similar unanswered questions."""

    variants: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        """How many times questions of this group were asked."""
        return sum(self.variants.values())

    @property
    def example(self) -> str:
        """The most frequent wording."""
        return self.variants.most_common(1)[0][0]

    @property
    def variant_list(self) -> list[str]:
        """Every wording, most frequent first."""
        return [text for text, _ in self.variants.most_common()]

    def as_json(self) -> dict[str, Any]:
        """The object `faq misses --json` prints."""
        return {
            "example": self.example,
            "count": self.count,
            "variants": self.variant_list,
            "kinds": dict(self.kinds),
        }


def similar(a: str, b: str) -> bool:
    """Whether two normalised questions ask the same thing, for grouping."""
    sa, sb = "".join(a.split()), "".join(b.split())
    if not sa or not sb:
        return sa == sb
    if min(len(sa), len(sb)) < SHORT:
        return fuzz.ratio(sa, sb) >= SIMILAR
    return max(fuzz.partial_ratio(sa, sb), fuzz.token_set_ratio(a, b)) >= SIMILAR


def group_misses(events: list[dict[str, Any]]) -> list[MissGroup]:
    """Group fallbacks and unhelpful answers by similarity, most frequent group first."""
    misses: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    for event in events:
        if event["kind"] == "fallback":
            kind = "fallback"
        elif event["kind"] == "feedback" and event["helpful"] == 0:
            kind = f"👎 {event['intent']}"
        else:
            continue
        question = (event["normalized"] or event["text"] or "").strip()
        if not question:
            continue
        misses[question] += 1
        kinds.setdefault(question, Counter())[kind] += 1
    groups: list[MissGroup] = []
    for question, count in misses.most_common():
        for group in groups:
            if any(similar(question, v) for v in group.variants):
                break
        else:
            group = MissGroup()
            groups.append(group)
        group.variants[question] += count
        group.kinds.update(kinds[question])
    groups.sort(key=lambda g: (-g.count, g.example))
    return groups


# Chat ids start with their channel's prefix (bot/telegram.py, bot/kakao, bot/console.py).
_CHANNEL_OF_PREFIX = {"tg": "telegram", "kakao": "kakao", "console": "console"}


def channel_of(chat_id: str | None) -> str:
    """The channel a chat belongs to, from its chat id's prefix."""
    if not chat_id or ":" not in chat_id:
        return "unknown"
    prefix = chat_id.split(":", 1)[0]
    return _CHANNEL_OF_PREFIX.get(prefix, prefix)


async def compute_stats(helpdesk: Helpdesk, start: datetime, end: datetime) -> dict[str, Any]:
    """Questions per intent and act, clarify/fallback rates, feedback, requests by state and by
    channel, time to approval — counted by the database for the period only."""
    figures = await helpdesk.reports.period(start, end)
    total = figures.questions

    def rate(count: int) -> float:
        return round(count / total, 4) if total else 0.0

    by_state: Counter[str] = Counter()
    by_channel: dict[str, dict[str, Any]] = {}
    for chat_id, count in figures.questions_per_chat:
        entry = by_channel.setdefault(channel_of(chat_id), {"questions": 0, "requests": {}})
        entry["questions"] += count
    for status, channel, count in figures.requests:
        by_state[status] += count
        entry = by_channel.setdefault(channel, {"questions": 0, "requests": {}})
        entry["requests"][status] = entry["requests"].get(status, 0) + count
    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "questions": total,
        "per_intent": dict(figures.answers),
        "acts": dict(figures.acts),
        "clarify_rate": rate(figures.clarified),
        "fallback_rate": rate(figures.fell_back),
        "feedback": figures.votes,
        "requests_by_state": {s.value: by_state.get(s.value, 0) for s in RequestStatus},
        "median_hours_to_approval": figures.median_hours_to_approval,
        "approvals": len(figures.approval_hours),
        "by_channel": dict(sorted(by_channel.items())),
    }


def format_stats(stats: dict[str, Any]) -> str:
    """The human-readable `helpdesk stats` report."""
    lines = [
        f"period: {stats['since'][:10]} .. {stats['until'][:10]} (KST, end exclusive)",
        f"questions: {stats['questions']}",
        f"  clarify rate:  {stats['clarify_rate']:.1%}",
        f"  fallback rate: {stats['fallback_rate']:.1%}",
        "answers per intent (👍/👎):",
    ]
    intents = sorted(set(stats["per_intent"]) | set(stats["feedback"]))
    for intent in intents:
        votes = stats["feedback"].get(intent, {"up": 0, "down": 0})
        lines.append(
            f"  {intent:<22} {stats['per_intent'].get(intent, 0):>5}"
            f"   👍 {votes['up']}  👎 {votes['down']}"
        )
    if not intents:
        lines.append("  (none)")
    if stats["acts"]:
        lines.append("conversation acts (not FAQ questions):")
        for act, count in sorted(stats["acts"].items()):
            lines.append(f"  {act:<22} {count:>5}")
    lines.append("requests filed in the period, by state:")
    for state, count in stats["requests_by_state"].items():
        lines.append(f"  {state:<10} {count:>5}")
    lines.append("by channel (questions; requests filed in the period):")
    for channel, figures in stats["by_channel"].items():
        filed = ", ".join(f"{state} {n}" for state, n in sorted(figures["requests"].items()))
        lines.append(f"  {channel:<10} {figures['questions']:>5}   {filed or '-'}")
    if not stats["by_channel"]:
        lines.append("  (none)")
    median = stats["median_hours_to_approval"]
    lines.append(
        "median time from filing to approval: "
        + (f"{median} h over {stats['approvals']} approvals" if median is not None else "-")
    )
    return "\n".join(lines)
