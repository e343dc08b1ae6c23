"""`helpdesk faq misses` groups: what the knowledge-base keeper reads, and that it scales."""

from __future__ import annotations

from typing import Any

from bot import analytics
from bot.analytics import group_misses


def fallbacks(*questions: str, normalized: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Fallback events as the engine logs them."""
    normalized = normalized or {}
    return [
        {
            "kind": "fallback",
            "text": q,
            "normalized": normalized.get(q, q),
            "helpful": None,
            "intent": None,
        }
        for q in questions
    ]


def grouped(groups: list[analytics.MissGroup]) -> list[set[str]]:
    return [set(g.variants) for g in groups]


def test_texts_without_a_letter_are_left_out() -> None:
    # What the normaliser leaves of "???" or "😭😭" is empty, so the raw text is grouped: none
    # of these is a question the knowledge base could learn to answer.
    events = fallbacks(
        "???",
        "😭😭",
        "12345",
        "010-1234-5678",
        "!!",
        "SMS 2건 보냈어요",
        "도메인 연장",
        normalized={"???": "", "😭😭": "", "!!": ""},
    )
    assert grouped(group_misses(events)) == [{"SMS 2건 보냈어요"}, {"도메인 연장"}]
