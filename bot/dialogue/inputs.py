"""Typed answers at free-text steps: cleaned, checked, and never stored with a number in clear."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot import texts
from bot.dialogue.flow import Reprompt
from bot.dialogue.turn import Turn
from core.text import mask_numbers, squash
from faq.normalize import to_jamo


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
# "이번" says "this time" more often than "number two": 이 is left out.
_SINO = {"일": 1, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9, "십": 10}
_ORDINAL = re.compile(
    r"^(?:(\d{1,2})|(" + "|".join(_NATIVE_ORDINALS) + r")|(" + "|".join(_SINO) + r")(?=번))"
    r"(?:번째|번|째|번쨰)?(?:서비스|거|것)?$"
)
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
    "처음": "home",
    "처음으로": "home",
    "맨처음": "home",
    "맨처음으로": "home",
    "처음화면": "home",
    "홈": "home",
    "home": "home",
    "처음부터": "start",
    "다시": "again",
    "다시요": "again",
    "다시해주세요": "again",
    "again": "again",
}
_QUESTION_END = re.compile(
    r"(\?|？|나요|까요|(?:건|는|인|은|던|할|될|한|된)가요|니까|는지요|는지|냐|죠|지요|인가|일까"
    r"|될까|되나|나여|까여)[\s.~!ㅠㅜ]*$"
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
    """'back', 'home', 'start' or 'again' for a typed navigation word: 뒤로, 처음으로 (leave
    for the first menu), 처음부터 (the form's first step, keeping what was typed), 다시."""
    return _NAV.get(_bare(text)) or _NAV.get(re.sub(r"[^\w가-힣]", "", squash(text)))


def position(text: str, count: int) -> int | None:
    """A 0-based option index for "1", "1번", "첫번째", "두 번째 거요"…, if in range."""
    bare = re.sub(r"[ㄱ-ㅎㅏ-ㅣ\u1100-\u11ff]+$", "", _bare(text))  # "1번ㅇ": a stray jamo
    match = _ORDINAL.fullmatch(bare)
    if match is None:
        return None
    if match.group(1):
        number = int(match.group(1))
    elif match.group(2):
        number = _NATIVE_ORDINALS[match.group(2)]
    else:
        number = _SINO[match.group(3)]
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


@dataclass(frozen=True)
class BankGuess:
    """What a typed bank name reads as: the bank when sure, else the closest banks to offer."""

    bank: str | None
    candidates: tuple[str, ...] = ()


_BANK_FUZZY_KEYS: dict[str, tuple[str, ...]] = {
    name: tuple(
        {squash(a) for a in (name, *aliases)}
        | {squash(a).removesuffix("은행") for a in (name, *aliases) if len(squash(a)) > 3}
    )
    for name, aliases in texts.BANK_NAMES.items()
}
_BANK_WORDS = {
    key: name
    for name, keys in _BANK_FUZZY_KEYS.items()
    for key in keys
    if len(key) >= 3 and key != "은행" and key.endswith(("은행", "뱅크", "금고", "우체국"))
}
_SURE = 85
"""Jamo similarity from which a typo is read as that bank ("신한은헹", "토스벵크")."""
_CLOSE = 70
"""Jamo similarity from which a bank is offered as a guess ("국밍", "신한카드")."""


def bank_guess(text: str) -> BankGuess:
    """The bank a customer typed: its exact name or a common short name ("토뱅", "국민"), a
    sentence naming one ("신한은행으로 해 주세요"), or a small typo ("우채국"); when it is only
    close to some banks ("국밍", "카카오페이"), those are the candidates to ask about."""
    exact = bank_named(text)
    if exact is not None:
        return BankGuess(exact)
    typed = squash(text)
    named = {name for word, name in _BANK_WORDS.items() if word in typed}
    if len(named) == 1:
        return BankGuess(named.pop())
    key = _bare(text).removesuffix("은행")
    if not 2 <= len(key) <= 12 or named:
        return BankGuess(None, tuple(sorted(named)))
    jamo = to_jamo(key)
    scored = sorted(
        (
            (max(fuzz.ratio(jamo, to_jamo(k)) for k in keys if len(k) >= 2), name)
            for name, keys in _BANK_FUZZY_KEYS.items()
        ),
        reverse=True,
    )
    (best, bank), (second, _) = scored[0], scored[1]
    if best >= _SURE and (second < _CLOSE or best - second >= 15):
        return BankGuess(bank)
    close = [name for score, name in scored[:3] if score >= max(_CLOSE, best - 15)]
    return BankGuess(None, tuple(close))


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


_YES_START = tuple(
    squash(w) for w in ("네", "넵", "예", "응", "좋아", "그래", "맞아", "ㅇㅇ", "ok")
)
_GO_ON_WORDS = ("진행", "다음", "계속", "넘어가", "신청할게", "신청해", "고고", "ㄱㄱ")
_GO_ON = re.compile("|".join(squash(w) for w in _GO_ON_WORDS))
_NO = re.compile(r"안\s*할|안해|말고|아니|그만|취소|잠깐|나중")


def yes_word(text: str) -> bool:
    """A yes where the step asks to go on: "네", "넵", "네 진행해 주세요", "다음이요"."""
    bare = _bare(text)
    if len(bare) > 15 or _NO.search(bare):
        return False
    if bare in _YES or bare.removesuffix("해주세") in _YES or bare.removesuffix("할게") in _YES:
        return True
    return bare.startswith(_YES_START) or _GO_ON.search(bare) is not None


def yes_to_withdraw(text: str) -> bool:
    """A yes to "신청을 철회할까요?": "네", "넵", "철회할게요". Not the refund form's go-on words
    ("환불 신청할게요", "진행해 주세요"): there they mean the opposite of taking it back."""
    bare = _bare(text)
    if len(bare) > 15 or _NO.search(bare) or ("신청" in bare and "철회" not in bare):
        return False
    return bare in _YES or bare.startswith(_YES_START) or "철회" in bare


_HOLDER_FILLER = re.compile(
    r"예금주|가입자|본인|명의|이름|성함|제|저|그럼|으로|로|할게|할께|이에요|예요|입니다|이요|"
    r"이름은|님|은|는|이|가|요|네|맞아|맞습니다|통장|계좌|입금|해주세|해 주세"
)


def holder_of(text: str, subscriber: str) -> str:
    """The holder name typed, read the way people type it: "김하늘(본인)", "예금주 김하늘",
    "김하늘이요", "본인 명의요" are the subscriber; anything else is taken as written."""
    typed = clean_message(text).replace("\n", " ")
    rest = re.sub(r"[^\w가-힣]", "", squash(typed))
    name = squash(subscriber)
    if name and name in rest:
        rest = rest.replace(name, "", 1)
    elif not re.search(r"본인|제\s*명의|저\s*명의|제\s*이름|내\s*명의", typed):
        return typed
    return subscriber if not _HOLDER_FILLER.sub("", rest) else typed


_NOT_A_MESSAGE = frozenset(
    squash(word)
    for word in (
        "잠깐",
        "잠깐만",
        "잠시만",
        "잠시만요",
        "잠깐만요",
        "기다려",
        "아니",
        "아니요",
        "아뇨",
        "모르겠어요",
        "모르겠다",
        "몰라",
        "몰라요",
        "네",
        "예",
        "응",
        "ㅇㅇ",
        "ㅇㅋ",
        "음",
        "음...",
        "글쎄",
        "글쎄요",
        "뭐라고",
        "뭐라고요",
        "뭐",
        "ㅎㅎ",
        "ㅋㅋ",
        "ㅠㅠ",
        "?",
    )
)


def too_short(text: str) -> bool:
    """Fewer than two letters or digits ("ㅇ", "?", "."): nothing an agent could act on."""
    return len(re.sub(r"[^\w가-힣ㄱ-ㅎ]", "", squash(clean_message(text)))) < 2


def not_a_message(text: str) -> bool:
    """A word that cannot be the 남기실 말씀 (잠깐만요, 아니요, 모르겠어요, "."): the customer
    is hesitating or answering something else, not giving the reason for cancelling."""
    bare = re.sub(r"[^\w가-힣ㄱ-ㅎ?]", "", squash(text))
    return len(re.sub(r"[^\w가-힣]", "", bare)) < 2 or bare in _NOT_A_MESSAGE


def is_bare_cancel(text: str) -> bool:
    """A bare "취소" (or 취소요, 취소할래요) inside a form: stop, or cancel the service?"""
    return _bare(text) in {"취소", "취소할래", "취소할게", "취소해", "취소해주세", "cancel"}


_REASON_CUES: dict[str, tuple[str, ...]] = {
    "업무 종료": (
        "업무종료",
        "업무가끝",
        "사업정리",
        "안쓰게",
        "더이상필요",
        "필요없",
        "사용안",
        "그만쓰",
    ),
    "경제적 부담": ("돈이", "돈없", "비용", "형편", "부담", "비싸", "경제", "여유가없", "예산"),
    "회사 합병": ("합병", "인수", "통합"),
    "폐업": ("폐업", "문닫", "가게접", "사업접", "장사접"),
    "서비스/상품변경": ("상품변경", "서비스변경", "요금제", "다른상품", "상품을바꾸"),
    "서비스 불만": ("불만", "별로", "불편", "느려", "느리", "오류", "품질", "만족스럽지"),
    "직권해지": ("직권",),
    "타 서비스 전환": (
        "다른업체",
        "다른회사",
        "타사",
        "옮기",
        "옮겨",
        "갈아타",
        "전환",
        "다른서비스",
    ),
}
"""What customers write for each of the eight reasons (keys are the seed's labels)."""


def reason_named(text: str, labels: list[str]) -> int | None:
    """The one reason a typed sentence names ("돈이 없어서" → 경제적 부담), if exactly one."""
    typed = squash(text)
    hits = {label for label, cues in _REASON_CUES.items() if any(cue in typed for cue in cues)}
    if len(hits) != 1:
        return None
    [label] = hits
    return labels.index(label) if label in labels else None
