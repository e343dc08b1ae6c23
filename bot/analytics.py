"""What customers asked that the bot could not answer well, and the figures of a period.

`group_misses` gathers fallbacks and 👎 feedback into groups of similar questions so whoever keeps
the knowledge base sees the most frequent gaps first. Two questions are grouped when, with spaces
removed, the shorter one is (almost) contained in the longer one, or their words overlap almost
completely; very short questions need a near-exact match so that a bare "환불" does not swallow
every question that mentions refunds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
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
    return fuzz.partial_ratio(sa, sb) >= SIMILAR or _words_cover(a, b)


def _words_cover(a: str, b: str) -> bool:
    """Whether the words two texts share make up almost all of one of them.

    That is rapidfuzz's `token_set_ratio` without its third comparison, which also joins texts
    whose *differing* words are spelled alike ("관리 계정 화면 오류" / "오류 화면 설정 관리").
    """
    words_a, words_b = set(a.split()), set(b.split())
    common = words_a & words_b
    if not common:
        return False
    shared = sum(map(len, common)) + len(common) - 1  # the shared words, joined by spaces
    for words in (words_a, words_b):
        length = sum(map(len, words)) + len(words) - 1
        if (200 - SIMILAR) * shared >= SIMILAR * length:  # fuzz.ratio(shared, all) >= SIMILAR
            return True
    return False


# A letter of any script: what a question needs to be one ("???", "12345", "😭" are not).
_LETTER = re.compile(r"[^\W\d_]")


def group_misses(events: list[dict[str, Any]]) -> list[MissGroup]:
    """Group fallbacks and unhelpful answers by similarity, most frequent group first.

    Questions are taken most frequent first; each joins the first group whose representative
    (its first, most frequent question) it is `similar` to, or starts a new group. Texts without
    a letter are left out: they are not something the knowledge base could answer.
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
    index = _Representatives(misses)
    for question, count in misses.most_common():
        text = index.text(question)
        at = index.find(text)
        if at is None:
            at = len(groups)
            groups.append(MissGroup())
            index.add(text, at)
        group = groups[at]
        group.variants[question] += count
        group.kinds.update(kinds[question])
    groups.sort(key=lambda g: (-g.count, g.example))
    return groups


# Chat ids start with their channel's prefix (bot/telegram, bot/kakao, bot/console.py).
_CHANNEL_OF_PREFIX = {"tg": "telegram", "kakao": "kakao", "console": "console"}


def channel_of(chat_id: str | None) -> str:
    """The channel a chat belongs to, from its chat id's prefix."""
    if not chat_id or ":" not in chat_id:
        return "unknown"
    prefix = chat_id.split(":", 1)[0]
    return _CHANNEL_OF_PREFIX.get(prefix, prefix)


class _Representatives:
    """The groups' representatives, indexed so that a question is compared with few of them.

    Short questions (under SHORT letters without spaces) are only `similar` to the same letters
    spaced differently, so they are looked up by those letters. A longer pair is `similar` in
    two ways, and each has a necessary condition that an index can find:

    - the shorter text is almost contained in the longer one (`partial_ratio` of the letters): a
      ratio of 90 allows one inserted or dropped letter per five, and each costs at most two of
      the shorter text's letter pairs (bigrams), so the longer text has all the others;
    - the words they share make up almost all of one of them (`_words_cover`): the words of
      that one that are not shared weigh (letters + 1 each) at most 2/11 of its length.

    So a partner lacks at most m of a text's features (bigrams or words), and prefix filtering
    turns that into a lookup: it has at least HITS of the text's m + HITS rarest ones. The
    candidates whose shared bigrams or words reach the counts are checked with `similar`
    itself, in the order the groups were made, so the groups are those of comparing each
    question with every representative.
    """

    def __init__(self, questions: Counter[str]) -> None:
        self.short: dict[str, int] = {}
        self.reps: list[_Text] = []
        # Per kind of feature (bigrams, words): representatives by every feature they have,
        # and by their rarest ones, apart per number of hits a partner has among those.
        self.every: tuple[_Index, _Index] = ({}, {})
        self.rarest: tuple[dict[int, _Index], dict[int, _Index]] = ({}, {})
        # Features ordered by how many questions have them, rarest first; ties by text, so that
        # the order does not depend on hash seeds.
        counts: Counter[str] = Counter()
        for question in questions:
            counts.update(_bigrams("".join(question.split())))
            counts.update(set(question.split()))
        self.rank = {f: i for i, (f, _) in enumerate(sorted(counts.items(), key=_by_count))}

    def text(self, question: str) -> _Text:
        """The question's features, for `find` and `add`."""
        return _Text(question, "".join(question.split()), self.rank)

    def find(self, text: _Text) -> int | None:
        """The first group (by creation) whose representative is similar, or None."""
        if text.letters < SHORT:
            return self.short.get(text.compact)
        candidates: set[int] = set()
        for kind, (features, rarest, hits) in enumerate(text.kinds()):
            # A partner has `hits` of this question's rarest features, or this question has
            # enough of the partner's rarest.
            candidates |= _in_at_least(self.every[kind], rarest, hits)
            for needed, index in self.rarest[kind].items():
                candidates |= _in_at_least(index, features, needed)
        bigrams, words, size = text.bigrams, text.words, text.letters
        covered = text.length + 1 - text.spare
        for at in sorted(candidates):
            rep = self.reps[at]
            shared = len(bigrams & rep.bigrams)
            if shared < (text.bigrams_needed if size <= rep.letters else rep.bigrams_needed):
                common = words & rep.words
                weight = sum(map(len, common)) + len(common)
                if weight < covered and weight < rep.length + 1 - rep.spare:
                    continue
            if similar(text.question, rep.question):
                return at
        return None

    def add(self, text: _Text, at: int) -> None:
        """Index a new group's representative; groups are added in order, `at` = their number."""
        self.reps.append(text)
        if text.letters < SHORT:
            self.short[text.compact] = at
            return
        for kind, (features, rarest, hits) in enumerate(text.kinds()):
            for feature in features:
                self.every[kind].setdefault(feature, set()).add(at)
            index = self.rarest[kind].setdefault(hits, {})
            for feature in rarest:
                index.setdefault(feature, set()).add(at)


HITS = 2
"""Rarest features a partner must share to be a candidate: more hits, fewer candidates, but a
longer prefix of ever more common features to look up."""

_Index = dict[str, set[int]]


def _in_at_least(index: _Index, features: Iterable[str], hits: int) -> set[int]:
    """The representatives that have at least `hits` of `features`."""
    postings = [index[f] for f in features if f in index]
    if hits == 1:
        return set().union(*postings)
    if hits == 2:
        # Pairwise intersections of small sets run in C; counting would run in Python.
        found: set[int] = set()
        for i, first in enumerate(postings):
            for second in postings[i + 1 :]:
                found |= first & second
        return found
    counts: Counter[int] = Counter()
    for posting in postings:
        counts.update(posting)
    return {at for at, n in counts.items() if n >= hits}


class _Text:
    """A question's features for `_Representatives`."""

    __slots__ = (
        "bigrams",
        "bigrams_needed",
        "compact",
        "hits",
        "length",
        "letters",
        "question",
        "rare_bigrams",
        "rare_words",
        "spare",
        "word_hits",
        "words",
    )

    def __init__(self, question: str, letters: str, rank: dict[str, int]) -> None:
        self.question = question
        self.compact = letters
        self.letters = len(letters)
        self.bigrams = _bigrams(letters)
        # Each inserted or dropped letter removes at most two bigrams of the shorter text.
        edits = (self.letters * 2 * (100 - SIMILAR)) // 100
        self.bigrams_needed = len(self.bigrams) - 2 * edits
        self.rare_bigrams, self.hits = _rarest(self.bigrams, 2 * edits, rank)
        self.words = frozenset(question.split())
        self.length = sum(len(w) + 1 for w in self.words) - 1
        self.spare = (self.length * 2 * (100 - SIMILAR)) // (200 - SIMILAR)
        # The most words a covering partner can lack: the lightest that fit in `spare`.
        lacking, weight = 0, 0
        for size in sorted(len(w) + 1 for w in self.words):
            weight += size
            if weight > self.spare:
                break
            lacking += 1
        self.rare_words, self.word_hits = _rarest(self.words, lacking, rank)

    def kinds(self) -> tuple[tuple[Iterable[str], list[str], int], ...]:
        """(every feature, the rarest, hits a partner has among the rarest) per kind."""
        return (
            (self.bigrams, self.rare_bigrams, self.hits),
            (self.words, self.rare_words, self.word_hits),
        )


def _rarest(features: frozenset[str], lacking: int, rank: dict[str, int]) -> tuple[list[str], int]:
    """The rarest features among which a partner lacking at most `lacking` has (up to) HITS."""
    prefix = min(len(features), lacking + HITS)
    return sorted(features, key=rank.__getitem__)[:prefix], max(1, prefix - lacking)


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def _bigrams(letters: str) -> frozenset[str]:
    return frozenset(letters[i : i + 2] for i in range(len(letters) - 1))


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
