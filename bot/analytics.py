"""What customers asked that the bot could not answer well, and the figures of a period.

`group_misses` gathers fallbacks and 👎 feedback into groups of similar questions so whoever keeps
the knowledge base sees the most frequent gaps first. Two questions are grouped when, with spaces
removed, the shorter one is (almost) contained in the longer one, or their words overlap almost
completely; very short questions need a near-exact match so that a bare "환불" does not swallow
every question that mentions refunds.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from core.models import RequestStatus
from core.service import Helpdesk

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


# A letter of any script: what a question needs to be one ("???", "12345", "😭" are not).
_LETTER = re.compile(r"[^\W\d_]")


def group_misses(events: list[dict[str, Any]]) -> list[MissGroup]:
    """Group fallbacks and unhelpful answers by similarity, most frequent group first.

    Texts without a letter are left out: they are not something the knowledge base could answer.
    """
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
        if not _LETTER.search(question):
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


async def compute_stats(helpdesk: Helpdesk, start: datetime, end: datetime) -> dict[str, Any]:
    """Questions per intent, clarify/fallback rates, feedback, requests by state, approval time."""
    events = await helpdesk.faq_events(start, end)
    asked = [e for e in events if e["kind"] in ("answer", "clarify", "fallback")]
    per_intent = Counter(e["intent"] for e in asked if e["kind"] == "answer")
    feedback: dict[str, dict[str, int]] = {}
    for e in events:
        if e["kind"] == "feedback":
            votes = feedback.setdefault(e["intent"], {"up": 0, "down": 0})
            votes["up" if e["helpful"] else "down"] += 1
    total = len(asked)

    def rate(kind: str) -> float:
        return round(sum(e["kind"] == kind for e in asked) / total, 4) if total else 0.0

    requests = [r for r in await helpdesk.list_requests() if start <= r.created_at < end]
    by_state = Counter(r.status.value for r in requests)
    filed_at = {r.number: r.created_at for r in await helpdesk.list_requests()}
    waits = [
        (event.at - filed_at[event.request_number]).total_seconds() / 3600
        for event in await helpdesk.request_events_between(start, end)
        if event.action == RequestStatus.APPROVED.value and event.request_number in filed_at
    ]
    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "questions": total,
        "per_intent": dict(per_intent),
        "clarify_rate": rate("clarify"),
        "fallback_rate": rate("fallback"),
        "feedback": feedback,
        "requests_by_state": {s.value: by_state.get(s.value, 0) for s in RequestStatus},
        "median_hours_to_approval": round(statistics.median(waits), 1) if waits else None,
        "approvals": len(waits),
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
    lines.append("requests filed in the period, by state:")
    for state, count in stats["requests_by_state"].items():
        lines.append(f"  {state:<10} {count:>5}")
    median = stats["median_hours_to_approval"]
    lines.append(
        "median time from filing to approval: "
        + (f"{median} h over {stats['approvals']} approvals" if median is not None else "-")
    )
    return "\n".join(lines)
