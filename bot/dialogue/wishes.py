"""What a customer asks the bot to do, in words, beyond the FAQ: file a request now ("1001
환불해 주세요", "환불신청할께요"), ask about one of their own services ("1003는요?"), or about
their filed requests ("접수 됐나요?", "R-20261201-0001 어떻게 됐나요").

These read the customer's own situation (their service ids, whether they have filed anything),
which the FAQ matcher does not know; a typo in the refund word ("췩소 신청 ㄱㄱ") is forgiven.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from bot.dialogue.inputs import looks_like_question
from bot.dialogue.turn import Turn
from core.text import squash
from core.usecases import ServiceView
from faq.normalize import to_jamo

_REFUND_WORDS = tuple(to_jamo(w) for w in ("환불", "취소", "해지"))
_ENGLISH_REFUND = re.compile(r"(?i)refund|cancel")
_FILE_NOW = re.compile(
    r"(신청|접수|진행)\s*(좀\s*)?(할게|할께|할래|할꼐|해줘|해\s*주세요|해주십시오|부탁|ㄱㄱ|ㄱ$|합니다|하겠)"
    r"|(환불|취소|해지)\s*(좀\s*)?(해\s*주세요|해줘|해\s*주십시오|할래요|할게요|할께요|진행해)"
    r"|다시\s*신청"
)
_NOT_AN_ID = r"(?!\d|\s*(?:년|월|일|원|건|개|시|분|만|천|%|-\d))"
_SERVICE_ID = re.compile(
    rf"(?i)sms\s*-?\s*(\d{{3,6}}){_NOT_AN_ID}|(?<![\d-])(\d{{3,6}}){_NOT_AN_ID}"
)
_REQUEST_NUMBER = re.compile(r"(?i)\bR-?\d{8}-?\d{4}\b")
_ASKS_STATUS = re.compile(
    r"(접수|신청|환불|입금|적립|처리)\s*(이|가|은|는|도)?\s*"
    r"(됐|되었|된\s*거|된건|안\s*됐|안됐|안\s*되|내역|목록|현황|상태|어케|어떻게\s*됐|결과|확인)"
    r"|^(된|됐|접수\s*됐|처리\s*됐)"
)
_CANCELS_A_REQUEST = re.compile(r"(신청|접수)(을|를|은|는|도|좀|건|것)?(취소|캔슬|취쇼)")
_NAMES_THE_FILED_ONE = re.compile(
    r"철회|취하|(환불|취소)(신청|접수|요청)|(신청|접수|요청)(한|했던|했|된|해둔|해놓은)"
    r"|넣은|낸|r-?\d{8}"
)
_NAMES_THE_SERVICE = re.compile(r"서비스|알림톡|sms|호스팅|카톡|\d{3,}")
_STATUS_FOLLOW_UP = re.compile(r"언제|어떻게|됐|되나|되었|맞죠|맞나|입금|적립|들어와|들어오")
STATUS_TOPIC = "request_status"
"""The last answer was about the customer's own requests (a filing, /status, a notice)."""


def mentions_refund(text: str) -> bool:
    """Whether the text names a refund or cancellation (one-jamo typos forgiven)."""
    jamo = to_jamo(squash(text))
    if _ENGLISH_REFUND.search(text):
        return True
    return any(fuzz.partial_ratio(word, jamo) >= 80 for word in _REFUND_WORDS)


def wants_to_file(text: str) -> bool:
    """A clear request to file now ("환불 신청할게요", "1001 취소해 주세요"), not a question."""
    if len(text) > 40 or looks_like_question(text):
        return False
    squashed = squash(text)
    spaced = re.sub(r"\s+", " ", text.strip())
    return bool(_FILE_NOW.search(spaced) or _FILE_NOW.search(squashed)) and (
        mentions_refund(text) or "신청" in squashed
    )


def cancels_a_request(text: str) -> bool:
    """ "신청 취소할게요", "접수 취소": cancelling a 신청/접수 without saying which one — the
    request already filed (withdraw it) or the service itself (file a cancellation). A question
    ("신청 취소 가능한가요?") is left to the FAQ."""
    if looks_like_question(text):
        return False
    squashed = re.sub(r"[^\w가-힣-]", "", squash(text))
    if len(squashed) > 25 or not _CANCELS_A_REQUEST.search(squashed):
        return False
    return not (_NAMES_THE_FILED_ONE.search(squashed) or _NAMES_THE_SERVICE.search(squashed))


def service_digits_in(text: str) -> set[str]:
    """The digits of every service id the text names ("SMS-1001", "1001"), request numbers
    (R-20261201-0001) and amounts or dates aside."""
    text = _REQUEST_NUMBER.sub(" ", text)
    return {m.group(1) or m.group(2) for m in _SERVICE_ID.finditer(text)}


async def named_service(turn: Turn, text: str) -> ServiceView | None:
    """The customer's own service the text names by its id ("SMS-1001", "1001"), if any."""
    if turn.customer is None:
        return None
    wanted = service_digits_in(text)
    if not wanted:
        return None
    for view in await turn.services():
        digits = "".join(ch for ch in view.service.id if ch.isdigit())
        if digits and digits in wanted:
            return view
    return None


def request_number_in(text: str) -> bool:
    """Whether the text quotes a request number (R-20261201-0001)."""
    return _REQUEST_NUMBER.search(text) is not None


def asks_status(turn: Turn, text: str) -> bool:
    """A question about their filed requests, read with what they have just seen."""
    if _ASKS_STATUS.search(text.strip()) or request_number_in(text):
        return True
    short_question = len(text) <= 25 and looks_like_question(text)
    after_status = turn.data.last_intent == STATUS_TOPIC
    return after_status and short_question and _STATUS_FOLLOW_UP.search(text) is not None
