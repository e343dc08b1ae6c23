"""Fuzzy FAQ matcher: a question -> answer(intent) | clarify([2-3 intents]) | fallback.

Whole-sentence similarity fails on this FAQ (shared endings such as "…어떻게 하나요" dominate and
one jamo typo changes a whole syllable), so the decision rests on *evidence* instead:

1. a **veto** list of other hosting topics forces a fallback;
2. a **topic gate** (cancel/refund words) keeps near-misses such as "SMS 충전 방법" out;
3. per-intent **keywords** (strong) and **hints** (weak), searched on jamo with spaces removed and
   a small, typo-shaped tolerance; a stated elapsed time ("2주 전", "열흘", "8일 됐는데") counts as
   a keyword of the past-deadline intent;
4. similarity to each intent's phrasings only re-ranks intents whose evidence is equal;
5. a **margin** between the two best intents decides answer vs clarify.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from faq.kb import Intent, KnowledgeBase
from faq.normalize import Normalizer, compact, initials, to_jamo

__all__ = ["Decision", "MatchResult", "Matcher"]

Decision = Literal["answer", "clarify", "fallback"]

# Evidence levels before the intent's weight: a keyword is decisive, a hint is a clue.
_KEYWORD_LEVEL = 100.0
_HINT_LEVEL = 85.0
# "일주일 됐는데": too close to the general intent (70) to answer either way -> clarify.
_BORDERLINE_LEVEL = 75.0
# Combined score = evidence share + phrasing-similarity share (similarity only breaks ties).
_EVIDENCE_SHARE = 0.8
_SIMILARITY_SHARE = 0.2
# The best intent must lead the runner-up by this much to be answered; a keyword (100) beats the
# general intent (weighted 70) by 24 and a hint (85) beats it by 12, two keywords tie -> clarify.
_ANSWER_MARGIN = 8.0
# Runners-up within this distance of the best are offered when asking to clarify.
_CLARIFY_WINDOW = 16.0
_MAX_CANDIDATES = 3
# Very long inputs are cut so latency stays bounded; questions are short.
MAX_QUESTION_CHARS = 1000
_MAX_JAMO = 400

# Vowel pairs that are neighbouring keys on the 2-set keyboard or sound alike: "취쇼", "환뷸".
_CONFUSABLE_VOWELS: frozenset[frozenset[str]] = frozenset(
    frozenset(to_jamo(a)[1] + to_jamo(b)[1])
    for a, b in [
        ("오", "요"), ("우", "유"), ("어", "여"), ("아", "야"), ("애", "에"), ("애", "얘"),
        ("에", "예"), ("왜", "웨"), ("외", "왜"), ("외", "웨"), ("으", "우"), ("으", "의"),
    ]
)
_FINAL_CONSONANTS = frozenset(chr(c) for c in range(0x11A8, 0x11C3))
_PLACEHOLDER = "\x00"

# Elapsed-time expressions. Digits with a unit are parsed on the spaced text so "3-7일" (-> "3 7일")
# is read as 7 days, not 37.
_DIGIT_DURATION = re.compile(r"(\d{1,4})\s*(주일|주|개월|달|년|일)")
_UNIT_DAYS = {"일": 1, "주": 7, "주일": 7, "개월": 30, "달": 30, "년": 365}
_WORD_DURATIONS = {
    "하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7, "일주일": 7,
    "한주": 7, "여드레": 8, "아흐레": 9, "열흘": 10, "보름": 15, "두주": 14, "이주일": 14,
    "이주전": 14, "세주": 21, "삼주": 21, "한달": 30, "두달": 60, "세달": 90, "석달": 90,
    "넉달": 120, "반년": 180, "일년": 365,
    # Sino-Korean numerals written out ("칠일 넘으면"), as customers sometimes type them.
    "칠일": 7, "팔일": 8, "구일": 9, "십일": 10, "십사일": 14, "십오일": 15, "이십일": 20,
    "삼십일": 30, "한달반": 45,
}
_WORD_DURATION = re.compile("|".join(sorted(_WORD_DURATIONS, key=len, reverse=True)))
# What follows a duration when it means "more than that has passed".
_OVER_AFTER = re.compile(
    r"^(?:이|가|을|를|도|은|는|나|이나|째|정도|좀|조금|더|쯤|가량|훨씬)*"
    r"(?:넘|지나|지났|지난|이후|후|초과|경과|이상)"
)
_WITHIN_AFTER = re.compile(
    r"^(?:이|가|도)*(?:이내|안에|안으로|내에|내로|이전|미만)"
    # "7일 안 지났는데", "일주일도 안 됐는데", "아직 7일 못 넘었어요": not yet over.
    r"|^(?:이|가|도|은|는)*(?:안|못)(?:지났|지나|됐|되|넘)"
)
# After "N일", what makes it a length of time rather than a calendar date ("25일에 결제").
_DAYS_AS_DURATION = re.compile(
    r"^(?:이|가|을|를|도|은|는|나|이나|정도|좀|조금|더|쯤|가량|훨씬|이나)*"
    r"(?:전|째|됐|되|지나|지났|지난|넘|동안|경과|초과|이상|이내|안|내|미만|이후|후|만에)"
)
# Sentence endings shared by every phrasing; removed before similarity so content decides.
_ENDINGS = re.compile(
    r"(?:어떻게)?(?:하나요|하죠|해요|되나요|돼요|되죠|할까요|인가요|나요|까요|가요|죠|습니다|"
    r"어요|아요|세요|해주세요|주세요|싶어요|싶습니다|싶은데요|요)+$"
)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's decision for one question."""

    text: str
    normalized: str
    decision: Decision
    intent: str | None
    candidates: tuple[str, ...]
    score: float


@dataclass(frozen=True, slots=True)
class _Term:
    """A keyword prepared for jamo search."""

    text: str
    jamo: str
    anchors: str
    max_edits: int
    strict: bool

    @property
    def cutoff(self) -> float:
        """The lowest partial_ratio a window within max_edits of the term can score."""
        return 100.0 * (1.0 - self.max_edits / len(self.jamo)) - 1e-6


def _prepare(
    normalizer: Normalizer, words: Iterable[str], *, fuzzy: bool = True
) -> tuple[_Term, ...]:
    """Normalise, compact and decompose keywords once, deciding how much typo each tolerates."""
    out: dict[str, _Term] = {}
    for word in words:
        text = compact(normalizer.normalize(word))
        if not text or text in out:
            continue
        jamo = to_jamo(text)
        n = len(jamo)
        # Short words are exact (one edit turns "이체" into "이제"); 4-6 jamo words accept only
        # typo-shaped edits; longer words one edit, very long ones two.
        max_edits = 0 if n < 4 or not fuzzy else 1 if n < 10 else 2
        out[text] = _Term(text, jamo, initials(jamo), max_edits, strict=n <= 6)
    return tuple(out.values())


def _typo_ok(term: _Term, window: str) -> bool:
    """Is *window* the term with a typo a customer would make (initial consonants intact)?"""
    if initials(window) != term.anchors:
        return False
    ops = Levenshtein.editops(term.jamo, window)
    if len(ops) > term.max_edits:
        return False
    if not term.strict:
        return True
    if len(ops) != 1:
        return len(ops) == 0
    op = ops[0]
    if op.tag == "insert":
        # An extra final consonant: "췩소" for "취소".
        return window[op.dest_pos] in _FINAL_CONSONANTS
    if op.tag == "replace":
        pair = frozenset(term.jamo[op.src_pos] + window[op.dest_pos])
        return pair in _CONFUSABLE_VOWELS
    return False


def _fuzzy_contains(term: _Term, text: str) -> bool:
    """Does *text* contain the term with an acceptable typo?"""
    n = len(term.jamo)
    if len(text) < n - term.max_edits:
        return False
    if len(text) <= n:
        return _typo_ok(term, text)
    alignment = fuzz.partial_ratio_alignment(term.jamo, text, score_cutoff=term.cutoff)
    if alignment is None:
        return False
    start, end = alignment.dest_start, alignment.dest_end
    # The alignment has the term's length; an inserted or dropped jamo needs a window ±1.
    for a in (start, start - 1, start + 1):
        for b in (end, end + 1, end - 1):
            if 0 <= a < b <= len(text) and _typo_ok(term, text[a:b]):
                return True
    return False


def _elapsed(normalized: str, limit: int) -> str | None:
    """Classify stated elapsed time as "over" the limit, "borderline" (exactly it) or None.

    "2주 전", "8일 됐는데" are over; "일주일 됐는데" is borderline because whether that is day 7 or
    day 8 depends on how the customer counts.
    """
    comp = compact(normalized)
    found: list[str | None] = []
    for match in _DIGIT_DURATION.finditer(normalized):
        tail = compact(normalized[match.end() : match.end() + 12])
        if match.group(2) == "일" and (
            normalized[: match.start()].rstrip().endswith("월")
            or not _DAYS_AS_DURATION.match(tail)
        ):
            continue  # "11월 24일", "25일에 결제했는데": a date, not days elapsed
        days = int(match.group(1)) * _UNIT_DAYS[match.group(2)]
        found.append(_classify(days, tail, limit))
    for match in _WORD_DURATION.finditer(comp):
        days = _WORD_DURATIONS[match.group(0)]
        found.append(_classify(days, comp[match.end() : match.end() + 8], limit))
    if "over" in found:
        return "over"
    return "borderline" if "borderline" in found else None


def _classify(days: int, tail: str, limit: int) -> str | None:
    """Apply the wording after a duration: "7일 이내" is within, "7일 지났" is over."""
    if _WITHIN_AFTER.match(tail):
        return None
    if days > limit:
        return "over"
    if days == limit:
        return "over" if _OVER_AFTER.match(tail) else "borderline"
    return None


class _Probe:
    """One question's searchable forms; the fuzzy prefilter runs once, on first use."""

    __slots__ = ("_fuzzy_scores", "_fuzzy_terms", "_min_cutoff", "jamo", "masked")

    def __init__(
        self, jamo: str, masked: str, fuzzy_terms: tuple[str, ...], min_cutoff: float
    ) -> None:
        self.jamo, self.masked = jamo, masked
        self._fuzzy_terms, self._min_cutoff = fuzzy_terms, min_cutoff
        self._fuzzy_scores: dict[str, float] | None = None

    def may_contain(self, term: _Term) -> bool:
        """Cheap prefilter: could the term be in the text with a typo? (one C call for all)"""
        if len(self.masked) <= len(term.jamo):
            return True  # too short for partial matching; _fuzzy_contains checks directly
        if self._fuzzy_scores is None:
            hits = process.extract(
                self.masked, self._fuzzy_terms, scorer=fuzz.partial_ratio,
                score_cutoff=self._min_cutoff, limit=None,
            )
            self._fuzzy_scores = {choice: score for choice, score, _ in hits}
        return self._fuzzy_scores.get(term.jamo, 0.0) >= term.cutoff


@dataclass(frozen=True, slots=True)
class _IntentIndex:
    """One intent's prepared evidence."""

    intent: Intent
    keywords: tuple[_Term, ...]
    hints: tuple[_Term, ...]
    exclude: tuple[_Term, ...]
    phrasings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Scored:
    """One intent's evidence and scores for a question."""

    intent_id: str
    level: float
    weight: float
    similarity: float
    reason: str | None

    @property
    def evidence(self) -> float:
        """The evidence level after the intent's weight (used for ranking)."""
        return self.level * self.weight

    @property
    def combined(self) -> float:
        """Evidence dominates; similarity re-ranks equal evidence."""
        return _EVIDENCE_SHARE * self.evidence + _SIMILARITY_SHARE * self.similarity

    @property
    def confidence(self) -> float:
        """The reported score: evidence strength before weighting, so a seed question scores
        about 100 whichever intent it belongs to."""
        return _EVIDENCE_SHARE * self.level + _SIMILARITY_SHARE * self.similarity


class Matcher:
    """Matches customer questions against the knowledge base; build once, reuse (thread-safe)."""

    def __init__(self, kb: KnowledgeBase, normalizer: Normalizer | None = None) -> None:
        self.kb = kb
        self._normalizer = normalizer or Normalizer(kb.synonyms, kb.chosung)
        norm = self._normalizer
        self._topic = _prepare(norm, kb.matching.topic)
        self._veto = _prepare(norm, kb.matching.veto)
        self._protected = tuple(t.jamo for t in _prepare(norm, kb.matching.protected))
        self._ambiguous = frozenset(compact(norm.normalize(a)) for a in kb.matching.ambiguous)
        self._intents = tuple(
            _IntentIndex(
                intent=intent,
                keywords=_prepare(norm, intent.keywords),
                # Hints are weak, often short clues: exact only, so typos cannot invent them.
                hints=_prepare(norm, intent.hints, fuzzy=False),
                exclude=_prepare(norm, intent.exclude),
                phrasings=tuple(
                    dict.fromkeys(
                        self._content(norm.normalize(p))
                        for p in (intent.question, *intent.phrasings)
                    )
                ),
            )
            for intent in kb.intents
        )
        fuzzy = {
            t.jamo: t.cutoff
            for terms in (
                self._topic, self._veto,
                *(getattr(ix, name) for ix in self._intents for name in ("keywords", "exclude")),
            )
            for t in terms
            if t.max_edits
        }
        self._fuzzy_terms = tuple(fuzzy)
        self._min_cutoff = min(fuzzy.values(), default=100.0)

    def normalize(self, text: str) -> str:
        """The normalised form of *text* used for matching."""
        return self._normalizer.normalize(text)

    def match(self, text: str) -> MatchResult:
        """Decide answer / clarify / fallback for one customer question."""
        result, _ = self._run(text)
        return result

    def explain(self, text: str) -> dict[str, Any]:
        """The decision plus the evidence behind it (for debugging and the eval report)."""
        result, details = self._run(text)
        return {"result": result, **details}

    def _run(self, text: str) -> tuple[MatchResult, dict[str, Any]]:
        """Shared implementation of match() and explain()."""
        # A question is a few sentences; a pasted document must not cost seconds to normalise.
        normalized = self._normalizer.normalize(text[:MAX_QUESTION_CHARS])
        comp = compact(normalized)
        jamo = to_jamo(comp)[:_MAX_JAMO]
        probe = _Probe(jamo, self._mask_protected(jamo), self._fuzzy_terms, self._min_cutoff)
        details: dict[str, Any] = {"veto": None, "topic": None, "scores": {}}
        if not comp:
            return self._result(text, normalized, "fallback", (), 0.0), details

        scored = sorted(
            (self._score(index, normalized, probe) for index in self._intents),
            key=lambda s: (s.combined, s.similarity),
            reverse=True,
        )
        details["scores"] = {
            s.intent_id: {"evidence": s.evidence, "similarity": round(s.similarity, 1),
                          "combined": round(s.combined, 1), "reason": s.reason}
            for s in scored
        }
        top_score = scored[0].confidence

        veto = self._first_hit(self._veto, probe)
        details["veto"] = veto
        if veto is not None:
            return self._result(text, normalized, "fallback", (), top_score), details
        topic = self._first_hit(self._topic, probe)
        details["topic"] = topic
        if topic is None:
            return self._result(text, normalized, "fallback", (), top_score), details

        if comp in self._ambiguous:
            ids = tuple(s.intent_id for s in scored[:_MAX_CANDIDATES])
            return self._result(text, normalized, "clarify", ids, top_score), details

        ranked = [s for s in scored if s.evidence > 0] or scored
        best = ranked[0]
        runner_up = ranked[1].combined if len(ranked) > 1 else 0.0
        if best.evidence > 0 and best.combined - runner_up >= _ANSWER_MARGIN:
            return self._result(
                text, normalized, "answer", (best.intent_id,), best.confidence
            ), details
        close = [s.intent_id for s in ranked if s.combined >= best.combined - _CLARIFY_WINDOW]
        if len(close) < 2:
            close = [s.intent_id for s in ranked[:2]]
        return self._result(
            text, normalized, "clarify", tuple(close[:_MAX_CANDIDATES]), best.confidence
        ), details

    def _score(self, index: _IntentIndex, normalized: str, probe: _Probe) -> _Scored:
        """Evidence (keyword / hint / elapsed time) and phrasing similarity for one intent."""
        intent = index.intent
        similarity = self._similarity(index, normalized)
        if self._first_hit(index.exclude, probe) is not None:
            return _Scored(intent.id, 0.0, intent.weight, similarity, "excluded")
        level, reason = 0.0, None
        elapsed = (
            _elapsed(normalized, intent.elapsed_days_over)
            if intent.elapsed_days_over is not None
            else None
        )
        if elapsed == "over":
            level, reason = _KEYWORD_LEVEL, "elapsed"
        else:
            keyword = self._first_hit(index.keywords, probe)
            if keyword is not None:
                level, reason = _KEYWORD_LEVEL, keyword
            else:
                hint = self._first_hit(index.hints, probe)
                if hint is not None:
                    level, reason = _HINT_LEVEL, f"hint:{hint}"
                elif elapsed == "borderline":
                    level, reason = _BORDERLINE_LEVEL, "elapsed:borderline"
        return _Scored(intent.id, level, intent.weight, similarity, reason)

    def _similarity(self, index: _IntentIndex, normalized: str) -> float:
        """Best similarity between the question's content and the intent's phrasings (jamo)."""
        content = self._content(normalized)
        if not content:
            return 0.0
        return max(fuzz.ratio(content, p) for p in index.phrasings)

    @staticmethod
    def _content(normalized: str) -> str:
        """Compact jamo with the shared sentence endings removed."""
        comp = compact(normalized)
        return to_jamo(_ENDINGS.sub("", comp) or comp)

    @staticmethod
    def _first_hit(terms: tuple[_Term, ...], probe: _Probe) -> str | None:
        """The first term found exactly, else the first found with an acceptable typo."""
        for term in terms:
            if term.jamo in probe.jamo:
                return term.text
        for term in terms:
            if term.max_edits and probe.may_contain(term) and _fuzzy_contains(term, probe.masked):
                return f"~{term.text}"
        return None

    def _mask_protected(self, jamo: str) -> str:
        """Hide real words that look like typos of keywords from the fuzzy search."""
        for word in self._protected:
            if word in jamo:
                jamo = jamo.replace(word, _PLACEHOLDER * len(word))
        return jamo

    @staticmethod
    def _result(
        text: str, normalized: str, decision: Decision, candidates: tuple[str, ...], score: float
    ) -> MatchResult:
        """Build a MatchResult; the intent is set only for an answer."""
        return MatchResult(
            text=text,
            normalized=normalized,
            decision=decision,
            intent=candidates[0] if decision == "answer" else None,
            candidates=candidates,
            score=round(max(0.0, min(100.0, score)), 1),
        )
