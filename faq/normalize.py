"""Korean-aware text normalisation for the FAQ matcher.

The pipeline turns what customers type (typos, no spacing, slang, English words, chosung-only
abbreviations, emoji) into a canonical spaced string, and offers the two derived forms the
matcher compares on: the *compact* form (all spaces removed, because customers space
arbitrarily) and its *jamo* decomposition (because a one-jamo typo changes a whole syllable).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

__all__ = [
    "DEFAULT_CHOSUNG",
    "DEFAULT_SYNONYMS",
    "Normalizer",
    "compact",
    "default_normalizer",
    "initials",
    "normalize",
    "to_jamo",
]

# Spelling variants, typos, slang and abbreviations -> canonical form. Applied as substrings on
# the spaced text, longest variant first, in a single pass (so replacements never chain).
# The knowledge base may add domain entries on top of these (see faq/data/intents.toml).
DEFAULT_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {
        # MyCash spellings ("캐쉬" is the seed's spelling).
        "마이캐시": "마이캐쉬",
        "마이케시": "마이캐쉬",
        "마이케쉬": "마이캐쉬",
        "마이 캐시": "마이캐쉬",
        "마이 캐쉬": "마이캐쉬",
        "마캐": "마이캐쉬",
        "캐시": "캐쉬",
        "케시": "캐쉬",
        "케쉬": "캐쉬",
        # Common misspellings of payment / transfer words.
        "결재": "결제",
        "겔제": "결제",
        "이채": "이체",
        "게좌": "계좌",
        "계쫘": "계좌",
        # Product names and their nicknames.
        "알람톡": "알림톡",
        "알림 톡": "알림톡",
        "알톡": "알림톡",
        "문자메시지": "sms",
        "문자메세지": "sms",
        "문자": "sms",
        "에스엠에스": "sms",
        "메세지": "메시지",
        "나서관": "나의서비스관리",
        "나의 서비스 관리": "나의서비스관리",
        "나의 서비스관리": "나의서비스관리",
        # Slang for "how".
        "어케": "어떻게",
        "어캐": "어떻게",
        "어떻케": "어떻게",
        "어떡게": "어떻게",
        "어떠케": "어떻게",
        "어뜨케": "어떻게",
        "어덯게": "어떻게",
        # Konglish.
        "캔슬": "취소",
        "리펀드": "환불",
        "리펀": "환불",
        "리스트": "목록",
        # Frequent verb-ending misspellings.
        "됬": "됐",
        "되요": "돼요",
        "나여": "나요",
        "가여": "가요",
        "해여": "해요",
        "젼": "전",
    }
)

# English words customers mix in -> Korean. Matched as whole ASCII words (case-folded).
_ENGLISH: Mapping[str, str] = MappingProxyType(
    {
        "refund": "환불",
        "refunds": "환불",
        "refunded": "환불",
        "refunding": "환불",
        "cancel": "취소",
        "cancels": "취소",
        "canceled": "취소",
        "cancelled": "취소",
        "canceling": "취소",
        "cancelling": "취소",
        "cancellation": "취소",
        "terminate": "해지",
        "termination": "해지",
        "alimtalk": "알림톡",
        "alimtok": "알림톡",
        "kakao": "카카오",
        "kakaotalk": "카카오톡",
        "mycash": "마이캐쉬",
        "charge": "충전",
        "charged": "충전",
        "topup": "충전",
        "list": "목록",
        "account": "계좌",
        "bank": "은행",
        "transfer": "이체",
        "domain": "도메인",
        "email": "이메일",
        "mail": "메일",
        "password": "비밀번호",
        "hosting": "호스팅",
        "service": "서비스",
        "ago": "전",
        "day": "일",
        "days": "일",
        "week": "주",
        "weeks": "주",
        "month": "달",
        "months": "달",
        "year": "년",
        "years": "년",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
        "ten": "10",
    }
)

# Multi-word English phrases, applied before single words.
_ENGLISH_PHRASES: tuple[tuple[str, str], ...] = (
    ("bank transfer", "계좌이체"),
    ("wire transfer", "계좌이체"),
    ("my cash", "마이캐쉬"),
    ("alim talk", "알림톡"),
    ("top up", "충전"),
    ("not showing", "안 보여요"),
    ("not shown", "안 보여요"),
    ("not visible", "안 보여요"),
    ("can't see", "안 보여요"),
    ("cannot see", "안 보여요"),
    ("how to", "어떻게"),
)

# Chosung-only abbreviations (typed with compatibility jamo) -> words.
DEFAULT_CHOSUNG: Mapping[str, str] = MappingProxyType(
    {
        "ㅎㅂ": "환불",
        "ㅊㅅ": "취소",
        "ㅎㅈ": "해지",
        "ㄱㄴ": "가능",
        "ㅂㅂ": "방법",
        "ㅇㄸㄱ": "어떻게",
        "ㅊㅈ": "충전",
        "ㅁㄹ": "목록",
        "ㅇㅊ": "이체",
        "ㄱㅈ": "계좌",
        "ㄱㅈㅇㅊ": "계좌이체",
        "ㅁㅇㅋㅅ": "마이캐쉬",
        "ㅇㄹㅌ": "알림톡",
        "ㅁㅈ": "sms",
        "ㄱㅅ": "감사",
        "ㅈㅅ": "죄송",
    }
)

# Runs of these compatibility jamo are laughter / crying / filler, not content.
_NOISE_JAMO = frozenset("ㅋㅎㅠㅜㄷㅡㅇㄱ")

# English puts the preposition first ("after 2 weeks"); Korean puts it last ("2주 후").
_ENGLISH_DURATION = re.compile(
    r"\b(after|over|more than|within|in)\s+(\d+|a|one|two|three|ten)\s+"
    r"(days?|weeks?|months?)(?![a-z])"
)
_ENGLISH_ONE_UNIT = re.compile(r"\b(a|an|one)\s+(day|week|month|year)\b")
# "it's been like 2 weeks": the age stated, as "2 weeks 됐".
_ENGLISH_BEEN = re.compile(
    r"\bbeen\s+(?:like|about|around|almost|nearly|over|more than)?\s*(\d+)\s+"
    r"(days?|weeks?|months?)(?![a-z])"
)
_ENGLISH_DURATION_SUFFIX = {"after": "후", "over": "넘게", "more than": "넘게", "within": "이내",
                            "in": "이내"}

_COMPAT_JAMO_RUN = re.compile(r"[\u3131-\u318e]+")
_ASCII_WORD = re.compile(r"[a-z]+")
# Anything that is not Hangul, an ASCII letter/digit or whitespace is punctuation or emoji.
_NOT_CONTENT = re.compile(r"[^0-9a-z\uac00-\ud7a3\u3131-\u318e\u1100-\u11ff\s]+")
# A character repeated 3+ times ("요오오오", "ㅠㅠㅠ", "???") carries no meaning beyond one.
_REPEATS = re.compile(r"([^\d])\1{2,}")
_SPACES = re.compile(r"\s+")

# NFKC maps compatibility jamo (ㅎ U+314E) to conjoining jamo (U+1112); map stray ones back so
# chosung input stays recognisable and readable.
_CONJOINING_TO_COMPAT: Mapping[str, str] = MappingProxyType(
    {
        unicodedata.normalize("NFKC", chr(code)): chr(code)
        for code in range(0x3131, 0x318F)
        if len(unicodedata.normalize("NFKC", chr(code))) == 1
        and unicodedata.normalize("NFKC", chr(code)) != chr(code)
    }
)


def _alternation(keys: list[str]) -> re.Pattern[str]:
    """Compile a longest-first alternation so overlapping variants pick the longest."""
    ordered = sorted(keys, key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in ordered)) if ordered else re.compile(r"(?!)")


class Normalizer:
    """Canonicalises Korean customer text; immutable after construction."""

    __slots__ = ("_chosung", "_english_phrases", "_synonym_re", "_synonyms")

    def __init__(
        self,
        synonyms: Mapping[str, str] | None = None,
        chosung: Mapping[str, str] | None = None,
    ) -> None:
        merged = dict(DEFAULT_SYNONYMS)
        if synonyms:
            merged.update({k.lower(): v.lower() for k, v in synonyms.items() if k})
        self._synonyms: Mapping[str, str] = MappingProxyType(merged)
        self._synonym_re = _alternation(list(merged))
        chos = dict(DEFAULT_CHOSUNG)
        if chosung:
            chos.update(chosung)
        self._chosung: Mapping[str, str] = MappingProxyType(chos)
        self._english_phrases = tuple(
            (re.compile(rf"(?<![a-z]){re.escape(src)}(?![a-z])"), dst)
            for src, dst in _ENGLISH_PHRASES
        )

    def normalize(self, text: str) -> str:
        """Return the canonical spaced form of *text* (lower-case, variants unified)."""
        s = unicodedata.normalize("NFKC", text)
        s = "".join(_CONJOINING_TO_COMPAT.get(ch, ch) for ch in s)
        s = s.lower().replace("’", "'")
        if _ASCII_WORD.search(s):  # every English rule needs a letter: most messages skip them
            s = _ENGLISH_ONE_UNIT.sub(r" 1 \2 ", s)
            s = _ENGLISH_BEEN.sub(r" \1 \2 됐 ", s)
            s = _ENGLISH_DURATION.sub(_english_duration, s)
            for pattern, dst in self._english_phrases:
                s = pattern.sub(f" {dst} ", s)
            s = _ASCII_WORD.sub(self._english_word, s)
        s = _NOT_CONTENT.sub(" ", s)
        s = _REPEATS.sub(r"\1", s)
        s = _COMPAT_JAMO_RUN.sub(self._chosung_run, s)
        s = _SPACES.sub(" ", s).strip()
        # Synonyms run on the spaced text so variants written with a space ("마이 캐시") match,
        # and again on nothing else: one pass keeps replacements from chaining.
        s = self._synonym_re.sub(lambda m: self._synonyms[m.group(0)], s)
        return _SPACES.sub(" ", s).strip()

    def _english_word(self, match: re.Match[str]) -> str:
        """Translate one ASCII word if known; pad with spaces so it never glues to Hangul."""
        word = match.group(0)
        translated = _ENGLISH.get(word)
        return f" {translated} " if translated is not None else f" {word} "

    def _chosung_run(self, match: re.Match[str]) -> str:
        """Expand a chosung abbreviation, drop laughter/crying runs, keep anything else."""
        run = match.group(0)
        if run in self._chosung:
            return f" {self._chosung[run]} "
        if set(run) <= _NOISE_JAMO and len(set(run)) == 1:
            return " "
        # A known abbreviation followed by noise ("ㅎㅂㅠ") is still the abbreviation.
        stripped = run.rstrip("ㅋㅎㅠㅜ")
        if stripped in self._chosung:
            return f" {self._chosung[stripped]} "
        return f" {run} "


def _english_duration(match: re.Match[str]) -> str:
    """ "after 2 weeks" -> "2 weeks 후" so the Korean duration reader sees the usual order."""
    amount = "1" if match.group(2) == "a" else match.group(2)
    return f" {amount} {match.group(3)} {_ENGLISH_DURATION_SUFFIX[match.group(1)]} "


def compact(text: str) -> str:
    """Remove all whitespace (customers space words arbitrarily)."""
    return _SPACES.sub("", text)


def to_jamo(text: str) -> str:
    """Decompose Hangul into conjoining jamo (NFD): a typo then costs one jamo, not a syllable."""
    return unicodedata.normalize("NFD", text)


_NOT_INITIAL = re.compile(r"[^\u1100-\u1112A-Za-z0-9]+")


def initials(jamo: str) -> str:
    """The skeleton of a jamo string: syllable-initial consonants plus ASCII letters and digits."""
    return _NOT_INITIAL.sub("", jamo)


@lru_cache(maxsize=1)
def default_normalizer() -> Normalizer:
    """A shared normaliser with the built-in rules only (immutable, so caching is safe)."""
    return Normalizer()


def normalize(text: str) -> str:
    """Normalise *text* with the built-in rules."""
    return default_normalizer().normalize(text)
