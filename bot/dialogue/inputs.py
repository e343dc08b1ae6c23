"""Typed answers at free-text steps: cleaned, checked, and never stored with a number in clear."""

from __future__ import annotations

import re
import unicodedata

from bot import texts
from bot.dialogue.flow import Reprompt
from bot.dialogue.turn import Turn
from core.text import mask_numbers, squash


def clean_message(text: str) -> str:
    """Strip control characters (keeping line breaks) and surrounding space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = (ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(kept).strip()


def required_text(turn: Turn, text: str) -> str | Reprompt:
    """The cleaned free text, or why it cannot be taken (blank or over the limit).

    An account number typed into free text would be stored and echoed in the clear: masked.
    """
    message = mask_numbers(clean_message(text))
    limit = turn.deps.limits.message_limit
    if not message:
        return Reprompt(texts.MESSAGE_BLANK)
    if len(message) > limit:
        return Reprompt(texts.MESSAGE_TOO_LONG.format(length=len(message), limit=limit))
    return message


# What customers type instead of pressing a button ------------------------------------------

_POLITE_TAILS = ("이에요", "입니다", "인데요", "이요", "예요", "에요", "거요", "것", "거", "요")
_NATIVE_ORDINALS = {
    "첫": 1,
    "한": 1,
    "두": 2,
    "둘": 2,
    "세": 3,
    "셋": 3,
    "네": 4,
    "넷": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
_ORDINAL = re.compile(r"^(?:(\d{1,2})|(" + "|".join(_NATIVE_ORDINALS) + r"))(?:번째|번|째|번쨰)?$")
_BANK_KEYS: dict[str, str] = {
    squash(alias): name for name, aliases in texts.BANK_NAMES.items() for alias in (name, *aliases)
}
_NAV = {
    "뒤로": "back",
    "뒤로가기": "back",
    "이전": "back",
    "이전단계": "back",
    "이전으로": "back",
    "전단계": "back",
    "앞으로": "back",
    "back": "back",
    "처음": "start",
    "처음으로": "start",
    "처음부터": "start",
    "맨처음": "start",
    "다시": "again",
    "다시요": "again",
    "다시해주세요": "again",
    "again": "again",
}
_QUESTION_END = re.compile(
    r"(\?|？|나요|까요|가요|니까|는지요|는지|냐|죠|지요|인가|일까|될까|되나|나여|까여)[\s.~!ㅠㅜ]*$"
)
_QUESTION_WORD = re.compile(r"언제|어떻게|얼마|왜(?!냐)|어디|무엇|몇\s*일|어느|어케|어떡")
_POLITE_END = re.compile(r"(요|까|나|니|냐|죠)[\s.~!ㅠㅜ]*$")
_SERVICE_ID = re.compile(r"(?i)(?:sms\s*-?\s*)?(\d{3,})")


def _bare(text: str) -> str:
    """The typed text squashed, without punctuation and a polite ending."""
    bare = re.sub(r"[^\w가-힣]", "", squash(text))
    for tail in _POLITE_TAILS:
        if bare.endswith(tail) and len(bare) > len(tail):
            return bare.removesuffix(tail)
    return bare


def nav_word(text: str) -> str | None:
    """'back', 'start' or 'again' for a typed navigation word (뒤로, 처음으로, 다시…)."""
    return _NAV.get(_bare(text)) or _NAV.get(re.sub(r"[^\w가-힣]", "", squash(text)))


def position(text: str, count: int) -> int | None:
    """A 0-based option index for "1", "1번", "첫번째", "두 번째 거요"…, if in range."""
    match = _ORDINAL.fullmatch(_bare(text))
    if match is None:
        return None
    number = int(match.group(1)) if match.group(1) else _NATIVE_ORDINALS[match.group(2)]
    return number - 1 if 1 <= number <= count else None


def label_in(text: str, labels: list[str]) -> int | None:
    """The one option whose label the text names ("서비스불만", "폐업이요"), if exactly one."""
    typed = _bare(text)
    if len(typed) < 2:
        return None
    hits = [i for i, label in enumerate(labels) if squash(label) in typed or typed in squash(label)]
    return hits[0] if len(hits) == 1 else None


def bank_named(text: str) -> str | None:
    """The full name of the bank a customer typed ("국민" → "KB국민은행"), or None."""
    typed = _bare(text)
    for key in (typed, typed.removesuffix("은행"), squash(text)):
        if key in _BANK_KEYS:
            return _BANK_KEYS[key]
    return None


def service_id_typed(text: str) -> str | None:
    """The digits of a service id the customer typed ("SMS-1001", "sms1001", "1001")."""
    match = _SERVICE_ID.fullmatch(_bare(text).replace("-", ""))
    return match.group(1) if match else None


def looks_like_question(text: str) -> bool:
    """Whether typed text reads as a question: a question mark, an interrogative ending
    ("되나요", "할까요"), or a question word with a polite ending ("언제 들어와요")."""
    stripped = text.strip()
    if _QUESTION_END.search(stripped):
        return True
    return bool(_QUESTION_WORD.search(stripped) and _POLITE_END.search(stripped))


_YES = frozenset(
    squash(word)
    for word in {
        *("네", "예", "응", "ㅇㅇ", "ㅇㅋ", "넵", "네네", "좋아", "좋습니다", "그래", "맞아"),
        *("진행", "다음", "계속", "신청", "신청할게", "신청합니다", "접수", "맞습니다"),
    }
)


def yes_word(text: str) -> bool:
    """A short yes ("네", "넵", "신청할게요", "진행해 주세요") where the step asks to go on."""
    bare = _bare(text)
    return bare in _YES or bare.removesuffix("해주세") in _YES or bare.removesuffix("할게") in _YES
