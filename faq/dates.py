"""Reading how long ago a customer's service was issued, from what they wrote.

The 7-day rule counts the issue date as day 1 (issued 11-20 → last day 11-26, day 8 on 11-27). A
customer states the age of a service in many ways: a duration ("열흘 됐는데", "8일째", "2주 전에",
"열하루 지났는데"), a calendar date ("11월 3일에 신청", "11/21 신청 건", "10월 말에 결제"), a
relative day ("어제", "엊그제") or a weekday ("지난주 목요일에"). Durations need no calendar;
dates and weekdays are compared with *today* (the KST date), and are ignored when it is unknown.

Each mention becomes a range of day numbers (day 1 = the issue date) and, against the limit,
a verdict: ``over`` (past the deadline), ``within`` or ``borderline`` (it depends on how the
customer counts, e.g. "일주일 됐는데" is day 7 or 8). A time that belongs to a *refund request*
("환불 신청한 지 3일 됐는데", "금요일에 취소 접수했어요") says nothing about the deadline and is
reported separately.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

__all__ = ["Elapsed", "Mention", "Verdict", "names_a_date", "read_elapsed"]

Verdict = Literal["over", "within", "borderline"]
Kind = Literal["statement", "belief", "conditional"]

_OPEN = 10_000  # "more than N days": no upper bound

# Native and Sino-Korean numerals written out, as customers type them ("열하루 지났는데").
_WORD_DAYS: dict[str, int] = {
    "하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7, "여드레": 8,
    "아흐레": 9, "열흘": 10, "열하루": 11, "열이틀": 12, "열사흘": 13, "열나흘": 14, "보름": 15,
    "열닷새": 15, "열엿새": 16, "열이레": 17,
    "스무날": 20, "일주일": 7, "한주": 7, "두주": 14, "이주": 14, "이주일": 14, "세주": 21,
    "삼주": 21,
    "한달": 30, "두달": 60, "세달": 90, "석달": 90, "넉달": 120, "반년": 180, "일년": 365,
    "한달반": 45, "일주일하고하루": 8, "일주일하고이틀": 9, "일주일하고사흘": 10,
    "칠일": 7, "팔일": 8, "구일": 9, "십일": 10, "십사일": 14, "십오일": 15, "이십일": 20,
    "삼십일": 30,
    # Native cardinals, read only with a tail that makes them days ("일곱째 날", "여덟째").
    "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
}
_UNIT_DAYS = {"일": 1, "주": 7, "주일": 7, "개월": 30, "달": 30, "년": 365}

# Words that can sit between a duration and what it means ("2주쯤 전에", "일주일도 안 됐는데").
_FILL = (
    r"(?:이|가|을|를|도|은|는|이나|나|정도|좀|조금|쯤|가량|여|남짓|가까이|거의|다|딱|벌써|이미|훨씬"
    r"|좀더|더|이상이|째가)*"
)
_TAILS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(_FILL + pattern))
    for name, pattern in (
        # "7일 지나면", "일주일 넘은 경우": a question about the rule, not their case.
        ("cond_over", r"(?:지나면|지나서도|지나도|넘으면|넘기면|넘어가면|넘어도|초과하면|경과하면"
                      r"|지난경우|넘은경우|넘긴경우|초과한경우|경과한경우|지났으면|넘었으면"
                      r"|이후에는|이후엔|후에는|후엔|뒤에는|뒤엔|지난건|넘긴건|넘은건|지난거|넘은거)"),
        ("cond_within", r"(?:이내|안이면|안에|내에|내로|안쪽|전이면|안에는)"),
        # "아직 7일 안 지났는데", "일주일도 안 됐는데": the customer's belief.
        ("belief_within", r"(?:안지났|안지난|안지나|안됐|안된|안되|못넘|안넘|미만|못됐|안돼)"),
        ("almost", r"(?:다돼가|다되가|되어가|돼가|되가|다되어가)"),
        ("ago", r"전"),
        ("nth", r"(?:째|차(?!이))"),  # "8일째", "9일차"
        ("over", r"(?:지났|지나|지난|지남|넘었|넘어|넘게|넘은|넘긴|넘겼|넘음|넘|초과|경과|이상"
                 r"|하고도|이후|후|뒤)"),
        ("been", r"(?:됐|되었|돼|된|되어|됨|되는데|되네|되고)"),
    )
)
# The cancellation period itself said to be over, with or without by how much: "기간 하루
# 지났는데", "취소 기한 넘겼어요", "마감 이미 지나서". (A question whether it has passed, "기간
# 지났나요?", or a condition, "기간 지나면", is not a statement about their service.)
_PERIOD_PASSED = re.compile(
    r"(?:기간|기한|마감)(?:이|을|은|도)?"
    r"(?:이미|벌써|좀|조금|살짝|약간|며칠|몇일|하루|이틀|사흘|나흘|\d+일)?"
    r"(?:지났|지남|지나서|지나버|넘었|넘어서|넘겼|넘김|넘긴|초과했|초과됐|초과돼|초과해서|경과했|경과해서"
    r"|경과된|경과한(?!경우)|놓쳤|놓친|지난(?=서비스|건|거|알림톡|sms|문자|상태))"
    r"(?!나|는지|을까|으면|는지|다면)"
)
# After a duration, a wait ("일주일 넘게 걸리나요", "3일 소요"): not the service's age.
_WAITING = re.compile(r"걸리|걸려|걸릴|걸린|걸렸|소요|기다")
# "오늘" as the point counted to ("오늘로 9일차", "오늘이 8일째", "오늘 기준"), not a date.
_TODAY_AS_REFERENCE = re.compile(r"(?:로|부로|이|은|기준|날짜로|자로)")
# Before a bare count of days up to today: "신청한 날부터 오늘까지 딱 8일".
_COUNT_HEAD = re.compile(r"(?:부터|로부터)오늘까지(?:딱|벌써|이미|정확히|꼭|총)?$")
# The issue date left out of the count: "신청한 날 빼고 세면 딱 7일 됐어요" is day 8.
_EXCLUSIVE_HEAD = re.compile(
    r"(?:날|당일|발급일|신청일|첫날)(?:은|을|는)?(?:빼고|제외하고|빼면|제외하면)"
    r"(?:세면|세서|세니까|계산하면|계산해서|치면|쳐서)?(?:딱|벌써|이미|정확히|꼭|총)?$"
)
# Before a bare duration: "신청한 지 20일", "가입하고 열흘".
_SINCE_HEAD = re.compile(
    r"(?:신청|가입|결제|결재|구매|발급|이용|사용)(?:한지|하고|한|된지|일로부터)"
    r"(?:벌써|이미|거의|딱|약|대략|근)*$"
)

# An event a time can belong to, looked for right after (or before) the time.
_REQUEST_EVENT = re.compile(
    r"(?:환불|취소|철회)(?:를|을|도)?(?:신청|요청|접수|넣|냈)|접수"
    r"|(?:신청|요청)(?:을|서를|서|건을)?(?:넣|냈|제출)|취소했|환불받았|취소눌|^(?:에)?(?:신청한|넣은)(?:환불|취소)"
)
_SERVICE_EVENT = re.compile(
    r"신청|가입|결제|결재|구매|구입|샀|산거|산건|발급|개통|이용시작|쓰기시작|시작했|등록(?:했|한|하|됐|된)|생성(?:했|한|하|됐|된)|만든|만들었"
    r"|한거|한건"
    r"|^(?:에|쯤에|경에|께)?(?:산|들인|들여놓은)(?=[가-힣])"
    # "11월10일꺼 cancel 가능?", "어제 건": the thing from that day.
    r"|^(?:에|에한|에산)?(?:꺼|거|건|것)(?=$|[^가-힣]|[은는도을를이요]|취소|환불|해지|무르|물리|돌려|캔슬)"
)
# Where a time's clause ends: a conjunction, a past tense joined by 고 ("충전해뒀고 … 28일에
# 신청"), or the next date, which owns what follows it.
_CLAUSE_END = re.compile(r"는데|다가|지만|(?:했|됐|뒀|놨|었|았|였)고|\d{1,2}[월일/.]")
_REQUEST_BEFORE = re.compile(
    r"(?:(?:환불|취소)(?:신청|요청|접수)|접수|신청넣|요청)"
    r"(?:한|하고|했고|한게|하고나서)?(?:지|후|뒤|하고)?$"
)
_SERVICE_BEFORE = re.compile(
    r"(?:신청|가입|결제|결재|구매|발급)(?:일|일은|일이|한게|한건|한거|은|이)?$"
)

# A month or part of one ("이번 달 초", "12월에"): a range, even when today cuts it to one day.
_VAGUE_END = re.compile(r"(?:초순|초|중순|중|하순|말경|말|달|월|주말|쯤|경|에)$")
# The service's own date named as the subject: "발급일이 11월 24일", "가입일은 25일".
_SERVICE_DATE_NOUN = re.compile(
    r"(?:신청|가입|결제|결재|구매|발급|개통)(?:일|날짜|일자)"
    r"(?:이|은|는|:|(?:을|를)?(?:보니|보니까|보면|확인하니|확인해보니|찾아보니))?$"
)

_DIGIT_DURATION = re.compile(r"(?<![\d/.\-~월])(\d{1,3})(주일|주|개월|달|년|일|시간)")
_WORD_DURATION = re.compile("|".join(sorted(_WORD_DAYS, key=len, reverse=True)))
_ISO = re.compile(r"(20\d\d)[-./년](\d{1,2})[-./월](\d{1,2})")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})월(\d{1,2})일")
_SLASH_DATE = re.compile(r"(?<![\d/.\-])(\d{1,2})[/.](\d{1,2})(?![\d/.]|만|천|원|%|배|건|통)")
_MONTH_PART = re.compile(
    r"(?<![\d/.\-])(\d{1,2})월(마지막날|말일|초순|초|중순|중|하순|말경|말|쯤|경|에|달)?(?!\d)"
)
_REL_MONTH = re.compile(
    r"(지난달|저번달|지난해|작년|이번달|이달)"
    r"(마지막날|말일|월초|월말|초순|초|중순|중|하순|말경|말|(\d{1,2})월|(\d{1,2})일)?"
)
_BARE_MONTHS = frozenset({"지난달", "저번달"})
# "지난달 둘째 주": the month named relative to today, then a week of it (see _WEEK_OF_MONTH).
_REL_MONTH_WEEK = re.compile(
    r"(지난달|저번달|이번달)(?=(?:첫|둘|셋|넷|다섯|마지막|[1-5])(?:째|번째)?주)"
)
_DAY_OF_MONTH = re.compile(
    r"(?<![\d/.\-~월그])(\d{1,2})일(?=에|날|자|꺼|신청|결제|가입|구매|발급|개통|등록|\)|인데|이었|쯤|경|께"
    r"|[월화수목금토일]요일)"
)
_RELATIVE_DAY = re.compile(r"엊그저께|엊그제|그저께|그제|어제|어저께|오늘")
_RELATIVE_DAYS = {"오늘": 0, "어제": 1, "어저께": 1, "그제": 2, "그저께": 2, "엊그제": 2,
                  "엊그저께": 2}
# "목욜", "금욜": the weekday as customers shorten it.
_WEEKDAY = re.compile(
    r"(지지난주|저저번주|지난주|저번주|이번주|지난|저번)?([월화수목금토일])(?:요일|욜)"
)
# "지난 주말에", "주말에 가입했는데": the latest Saturday-Sunday (this one only if it has begun).
_WEEKEND = re.compile(r"(지난|저번|이번|지지난|지지난주)?주말")
# "11월 둘째 주", "11월 첫 주 금요일": a week of a month, or one day of it.
_WEEK_OF_MONTH = re.compile(
    r"(?<![\d/.\-])(\d{1,2})월(첫|둘|셋|넷|다섯|마지막|[1-5])(?:째|번째)?주(?:차)?(?:([월화수목금토일])요일)?"
)
_NTH_WEEK = {"첫": 1, "둘": 2, "셋": 3, "넷": 4, "다섯": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
# Days customers date things by. Fixed ones as (month, day); lunar ones from the `holidays`
# package; 수능 is a Thursday in mid-November (the exact one varies by year).
_FIXED_DAYS: dict[str, tuple[int, int]] = {
    "빼빼로데이": (11, 11), "할로윈": (10, 31), "핼러윈": (10, 31), "할로윈데이": (10, 31),
    "크리스마스이브": (12, 24), "크리스마스": (12, 25), "성탄절": (12, 25), "한글날": (10, 9),
    "개천절": (10, 3), "광복절": (8, 15), "삼일절": (3, 1), "어린이날": (5, 5), "현충일": (6, 6),
    "제헌절": (7, 17), "신정": (1, 1), "새해첫날": (1, 1), "발렌타인데이": (2, 14),
    "화이트데이": (3, 14), "광군제": (11, 11),
}
_LUNAR_DAYS = {"추석": "추석", "한가위": "추석", "설날": "설날", "구정": "설날", "설연휴": "설날"}
_NAMED_DAY = re.compile(
    "("
    + "|".join(
        sorted([*_FIXED_DAYS, *_LUNAR_DAYS, "블랙프라이데이", "블프", "수능"], key=len,
               reverse=True)
    )
    + r")(?:날|당일|연휴)?"
    + r"(전주|전\s?주|전날|전에|전|직전|쯤|즈음|무렵|때|에|기간|끝나고|지나고|이후|후|다음날|직후)?"
)
_WEEKDAYS = "월화수목금토일"


@dataclass(frozen=True, slots=True)
class Mention:
    """One time expression read from the question."""

    text: str
    kind: Kind
    first_day: int
    last_day: int
    about_request: bool
    # Read from the calendar: "day" for one named day ("11월 25일", "지난 목요일"), "range"
    # for a span ("지난달 말"); "" for a count of days ("8일째").
    calendar: Literal["", "day", "range"] = ""
    # A whole month named bare ("지난달에 신청한 거"): read by where most of it falls.
    bare_month: bool = False

    def verdict(self, limit: int) -> Verdict:
        """Compare the day range with the last eligible day.

        A bare "지난달" said on the 1st covers days 2-31, and 24 of those 30 days are past the
        limit. Someone who applied days ago says "지난주" or "며칠 전"; the writers of every
        corpus read "지난달에 신청한 거" on the 1st as late. So a bare month at least three
        quarters past the limit is over; "지난달 말" (days 2-11) still asks.
        """
        if self.first_day > limit:
            return "over"
        if self.last_day <= limit:
            return "within"
        span = self.last_day - self.first_day + 1
        if self.bare_month and (self.last_day - limit) >= 0.75 * span:
            return "over"
        return "borderline"


@dataclass(frozen=True, slots=True)
class Elapsed:
    """Everything said about time in one question, and the verdict against the limit."""

    verdict: Verdict | None
    mentions: tuple[Mention, ...]

    @property
    def about_request(self) -> bool:
        """Some time in the question belongs to a filed refund request ("신청한 지 3일")."""
        return any(m.about_request for m in self.mentions)


_ENGLISH_MONTHS = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# "Nov 2에 생성한", "oct. 28th": an English month name before a day.
_ENGLISH_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?!\d)"
)


def _compact(text: str) -> str:
    """NFKC, lower case, no spaces; keep /, ., -, ~ only between digits (dates, ranges);
    months and days written as Sino-Korean numerals in digits ("십일월 이십 사 일" → 11월24일)."""
    s = unicodedata.normalize("NFKC", text).lower().replace("욜", "요일")
    s = _ENGLISH_DATE.sub(lambda m: f"{_ENGLISH_MONTHS[m.group(1)[:3]]}월{m.group(2)}일", s)
    # "어 제가 신청한 지 …": a filler and 제가, which without the space would read as 어제.
    s = re.sub(r"(?<![가-힣])어\s+제(?=가|는|게|꺼|거|가요)", "어(제", s)
    s = re.sub(r"(?<=\d)\s*([/.\-~])\s*(?=\d)", r"\1", s)
    s = re.sub(r"(?<!\d)[/.\-~]|[/.\-~](?!\d)", " ", s)
    return _digits_for_numerals(re.sub(r"[^0-9a-z가-힣/.\-~()]", "", s))


# Sino-Korean numerals customers type for dates ("시월 말", "이십 사 일 날", "십일월 이십일 일에").
# Only where they can only be a date: a month before a day, 초/중순/말 or 에, a month name no
# word shares (시월, 유월, 십일월, 십이월), and a day number with 십 in it before what a calendar
# day takes (에, 날, 자, 신청 ...) or right after a month. Single-digit days stand alone only
# after a month ("오일" is also oil, "이일" this work); "십일 지났어요" stays a duration.
_SINO_DIGIT = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_SINO_MONTH = re.compile(
    r"(?<![가-힣])(십이|십일|시|유|일|이|삼|사|오|칠|팔|구)월"
    r"(?=(?:\d|[이삼]?십|[일이삼사오육칠팔구]일)|초|중순|중|하순|말|에)"
    r"|(십이|십일|시|유)월(?!요일)"
)
_SINO_DAY_NUMBER = r"(?:([이삼])?십([일이삼사오육칠팔구])?|([일이삼사오육칠팔구]))"
_SINO_DAY_AFTER_MONTH = re.compile(r"(?<=\d월)" + _SINO_DAY_NUMBER + "일")
_SINO_DAY = re.compile(
    r"(?<![가-힣])(?:([이삼])?십([일이삼사오육칠팔구])?)일(?=에|날|자|신청|결제|가입|구매|인데|이었"
    r"|[월화수목금토일]요일)"
)
_SINO_MONTHS = {"십이": 12, "십일": 11, "시": 10, "유": 6}


def _sino_month(m: re.Match[str]) -> str:
    word = m.group(1) or m.group(2)
    return f"{_SINO_MONTHS.get(word) or _SINO_DIGIT[word]}월"


def _sino_day(m: re.Match[str]) -> str:
    tens, ones = m.group(1), m.group(2)
    single = m.group(3) if m.re is _SINO_DAY_AFTER_MONTH else None
    if single:
        return f"{_SINO_DIGIT[single]}일"
    n = 10 * (_SINO_DIGIT[tens] if tens else 1) + (_SINO_DIGIT[ones] if ones else 0)
    return f"{n}일" if n <= 31 else m.group(0)


def _digits_for_numerals(comp: str) -> str:
    """Months and days written as Sino-Korean numerals, in digits (see _SINO_MONTH)."""
    if "월" not in comp and "일" not in comp:
        return comp
    comp = _SINO_MONTH.sub(_sino_month, comp)
    comp = _SINO_DAY_AFTER_MONTH.sub(_sino_day, comp)
    return _SINO_DAY.sub(_sino_day, comp)


def _event(comp: str, start: int, end: int) -> str | None:
    """'request' or 'service': which event the time at comp[start:end] belongs to."""
    if _SERVICE_DATE_NOUN.search(comp[max(0, start - 8) : start]):
        return "service"  # "발급일이 11월 24일인데 … 취소 신청": the date is the issue date
    # Only the time's own clause: "오늘 정산하다가 발견했는데 신청일 보니 …" is when it was
    # noticed, and "열흘 지났는데 환불 신청 가능한가요" asks about a request not yet filed.
    after = _CLAUSE_END.split(comp[end : end + 24], maxsplit=1)[0]
    request = _REQUEST_EVENT.search(after)
    service = _SERVICE_EVENT.search(after)
    if request and (not service or request.start() <= service.start()):
        return "request"
    if service:
        return "service"
    before = comp[max(0, start - 12) : start]
    if _REQUEST_BEFORE.search(before):
        return "request"
    if _SERVICE_BEFORE.search(before) or _SINCE_HEAD.search(before):
        return "service"
    return None


def _tail_kind(tail: str) -> str | None:
    """The meaning of what follows a duration (see _TAILS), or None."""
    for name, pattern in _TAILS:
        if pattern.match(tail):
            return name
    return None


def _durations(comp: str) -> Iterator[Mention]:
    """Durations with what follows them; calendar days ("25일에") are left to _dates."""
    found: list[tuple[int, int, int]] = []
    for m in _DIGIT_DURATION.finditer(comp):
        if m.group(2) == "시간":  # "24시간도 안 됐는데": hours, as whole days (at least one)
            n = max(1, round(int(m.group(1)) / 24))
        else:
            n = int(m.group(1)) * _UNIT_DAYS[m.group(2)]
        if n:
            found.append((m.start(), m.end(), n))
    for m in _WORD_DURATION.finditer(comp):
        if not any(s <= m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), _WORD_DAYS[m.group(0)]))
    for start, end, n in found:
        if _WAITING.search(comp[end : end + 12]):
            continue  # "일주일 넘게 걸리기도 해요?": how long something takes, not the age
        kind = _tail_kind(comp[end : end + 12])
        before = comp[max(0, start - 8) : start]
        if kind is None and _SINCE_HEAD.search(before):
            kind = "been"
        if kind is None and _COUNT_HEAD.search(before):
            kind = "nth"  # "신청한 날부터 오늘까지 딱 8일이네요": day 8, counted inclusively
        if kind is None:
            continue  # "두 달 정도 가게를 닫아서": not the age of the service
        about_request = _event(comp, start, end) == "request"
        text = comp[start:end]
        if kind in ("been", "nth") and _EXCLUSIVE_HEAD.search(comp[max(0, start - 16) : start]):
            yield Mention(text, "statement", n + 1, n + 1, about_request)
            continue
        if kind == "cond_over":
            yield Mention(text, "conditional", n + 1, _OPEN, about_request)
        elif kind == "cond_within":
            yield Mention(text, "conditional", 1, n, about_request)
        elif kind == "belief_within":
            yield Mention(text, "belief", 1, n, about_request)
        elif kind == "almost":
            yield Mention(text, "statement", max(1, n - 1), n, about_request)
        elif kind == "ago":
            yield Mention(text, "statement", n + 1, n + 1, about_request)
        elif kind == "nth":
            yield Mention(text, "statement", n, n, about_request)
        elif kind == "over":
            # "3일 지났는데" is about day 4; a customer past the limit names a larger number.
            yield Mention(text, "statement", n + 1, n + 1, about_request)
        else:
            yield Mention(text, "statement", n, n + 1, about_request)


def _month_range(year: int, month: int, part: str | None) -> tuple[date, date]:
    """First and last date of a month or of its 초/중순/말 part."""
    last = calendar.monthrange(year, month)[1]
    part = {"월초": "초", "월말": "말"}.get(part or "", part)
    if part in ("초", "초순"):
        return date(year, month, 1), date(year, month, 10)
    if part in ("중", "중순"):
        return date(year, month, 11), date(year, month, 20)
    if part in ("말", "말경", "하순"):
        return date(year, month, 21), date(year, month, last)
    if part in ("마지막날", "말일"):
        return date(year, month, last), date(year, month, last)
    return date(year, month, 1), date(year, month, last)


def _past_year(today: date, month: int, day: int = 1) -> int | None:
    """The year of the latest (month, day) not after today; None for an impossible date."""
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        return None
    if candidate <= today:
        return today.year
    if (candidate - today).days <= 62:
        return None  # a date just ahead is a deadline ("12월 3일까지"), not last year's
    try:
        date(today.year - 1, month, day)
    except ValueError:
        return None
    return today.year - 1


@lru_cache(maxsize=8)
def _lunar_days(year: int) -> dict[str, tuple[date, ...]]:
    """추석 and 설날 of one year (the three-day holidays), from the `holidays` package."""
    import holidays  # a dependency of the bot; imported only when a customer names one

    days: dict[str, list[date]] = {"추석": [], "설날": []}
    for day, name in holidays.country_holidays("KR", years=year, language="ko").items():
        for key in days:
            if key in name:
                days[key].append(day)
    return {k: tuple(sorted(v)) for k, v in days.items()}


def _named_day(name: str, year: int) -> tuple[date, date] | None:
    """The first and last date a named day covers in *year*."""
    if name in _FIXED_DAYS:
        month, day = _FIXED_DAYS[name]
        return date(year, month, day), date(year, month, day)
    if name in _LUNAR_DAYS:
        days = _lunar_days(year).get(_LUNAR_DAYS[name])
        return (days[0], days[-1]) if days else None
    if name == "수능":
        return date(year, 11, 8), date(year, 11, 20)
    # 블랙프라이데이: the day after the fourth Thursday of November.
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + timedelta(days=1), thursday + timedelta(days=1)


def _named_days(comp: str, today: date) -> Iterator[tuple[int, int, date, date]]:
    """Named days ("빼빼로데이 때", "추석 전에") as the latest occurrence not after today."""
    for m in _NAMED_DAY.finditer(comp):
        span = None
        for year in (today.year, today.year - 1):
            span = _named_day(m.group(1), year)
            if span is not None and span[0] <= today:
                break
            span = None
        if span is None:
            continue
        first, last = span
        when = m.group(2) or ""
        if when == "전주":  # the calendar week before the one the day falls in
            monday = first - timedelta(days=first.weekday() + 7)
            first, last = monday, monday + timedelta(days=6)
        elif when.startswith(("전", "직전")):
            first, last = first - timedelta(days=14), first - timedelta(days=1)
        elif when in ("끝나고", "지나고", "이후", "후", "다음날", "직후"):
            first, last = last + timedelta(days=1), min(today, last + timedelta(days=14))
        elif when in ("쯤", "즈음", "무렵"):
            first, last = first - timedelta(days=3), last + timedelta(days=3)
        yield m.start(), m.end(), first, min(last, today)


def _week_of_month(
    m: re.Match[str], today: date
) -> tuple[date, date] | None:
    """The dates of "11월 둘째 주" (days 8-14) or of one weekday in it."""
    month = int(m.group(1))
    if not 1 <= month <= 12:
        return None
    year = _past_year(today, month)
    if year is None:
        return None
    last_day = calendar.monthrange(year, month)[1]
    if m.group(2) == "마지막":
        first, last = date(year, month, last_day - 6), date(year, month, last_day)
    else:
        n = _NTH_WEEK[m.group(2)]
        first = date(year, month, min(last_day, (n - 1) * 7 + 1))
        last = date(year, month, min(last_day, n * 7))
    if m.group(3):
        target = _WEEKDAYS.index(m.group(3))
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        matching = [d for d in days if d.weekday() == target]
        if matching:
            first = last = matching[0]
    return first, min(last, today)


def _dates(comp: str, today: date) -> Iterator[tuple[int, int, date, date]]:
    """Calendar expressions as (start, end, earliest, latest) issue dates."""
    taken: list[tuple[int, int]] = []

    def free(m: re.Match[str]) -> bool:
        return not any(s < m.end() and m.start() < e for s, e in taken)

    for m in _ISO.finditer(comp):
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
        taken.append(m.span())
        yield m.start(), m.end(), d, d
    # The month written as digits of the same length, so every span still points into comp.
    this_month = today.replace(day=1)
    months = {"이번달": this_month, "지난달": (this_month - timedelta(days=1)).replace(day=1)}
    months["저번달"] = months["지난달"]
    weeks = _REL_MONTH_WEEK.sub(lambda m: f"{months[m.group(1)].month:02d}월", comp)
    for m in _WEEK_OF_MONTH.finditer(weeks):
        span = _week_of_month(m, today)
        taken.append(m.span())
        if span is not None and span[0] <= today:
            yield m.start(), m.end(), span[0], span[1]
    for start, end, first, last in _named_days(comp, today):
        taken.append((start, end))
        yield start, end, first, last
    for pattern in (_MONTH_DAY, _SLASH_DATE):
        for m in pattern.finditer(comp):
            if not free(m):
                continue
            month, day = int(m.group(1)), int(m.group(2))
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            year = _past_year(today, month, day)
            taken.append(m.span())
            if year is not None:
                d = date(year, month, day)
                yield m.start(), m.end(), d, d
    for m in _REL_MONTH.finditer(comp):
        if not free(m):
            continue
        word, part, month_s, day_s = m.group(1), m.group(2), m.group(3), m.group(4)
        taken.append(m.span())
        if word in ("지난해", "작년"):
            year = today.year - 1
            if month_s and 1 <= int(month_s) <= 12:
                first, last = _month_range(year, int(month_s), None)
            elif part in ("말", "말경", "하순"):
                first, last = date(year, 12, 1), date(year, 12, 31)
            elif part in ("초", "초순"):
                first, last = date(year, 1, 1), date(year, 3, 31)
            else:
                first, last = date(year, 1, 1), date(year, 12, 31)
        else:
            anchor = today.replace(day=1)
            if word in ("지난달", "저번달"):
                anchor = (anchor - timedelta(days=1)).replace(day=1)
            if day_s:
                try:
                    first = last = anchor.replace(day=int(day_s))
                except ValueError:
                    continue
            else:
                first, last = _month_range(anchor.year, anchor.month, part if not month_s else None)
                last = min(last, today)
        yield m.start(), m.end(), first, last
    for m in _MONTH_PART.finditer(comp):
        if not free(m) or m.group(2) == "달":
            continue
        month = int(m.group(1))
        if not 1 <= month <= 12:
            continue
        year = _past_year(today, month)
        taken.append(m.span())
        if year is not None:
            first, last = _month_range(year, month, m.group(2))
            yield m.start(), m.end(), first, min(last, today)
    for m in _DAY_OF_MONTH.finditer(comp):
        if not free(m):
            continue
        day = int(m.group(1))
        if not 1 <= day <= 31 or _tail_kind(comp[m.end() : m.end() + 12]):
            continue
        anchor = today if day <= today.day else today.replace(day=1) - timedelta(days=1)
        try:
            d = anchor.replace(day=day)
        except ValueError:
            continue
        end = m.end()
        if comp[end + 1 : end + 3] == "요일":
            end += 3  # "22일 일요일": the weekday names the same date
        taken.append((m.start(), end))
        yield m.start(), end, d, d
    for m in _RELATIVE_DAY.finditer(comp):
        if not free(m) or comp[m.end() : m.end() + 2] in ("까지", "부터"):
            continue
        if m.group(0) == "오늘" and (
            _TODAY_AS_REFERENCE.match(comp, m.end()) or comp[: m.start()].endswith("전")
        ):
            # "오늘로 9일차", "오늘이 8일째": the day counted to; "일주일 전 오늘": a week ago.
            continue
        d = today - timedelta(days=_RELATIVE_DAYS[m.group(0)])
        yield m.start(), m.end(), d, d
    for m in _WEEKDAY.finditer(comp):
        if not free(m):
            continue
        which, target = m.group(1), _WEEKDAYS.index(m.group(2))
        monday = today - timedelta(days=today.weekday())
        if which in ("지난주", "저번주"):
            d = monday - timedelta(days=7) + timedelta(days=target)
        elif which in ("지지난주", "저저번주"):
            d = monday - timedelta(days=14) + timedelta(days=target)
        elif which == "이번주":
            d = monday + timedelta(days=target)
            if d > today:
                continue
        else:  # "지난 금요일", "금요일에": the latest one before today
            back = (today.weekday() - target) % 7 or 7
            d = today - timedelta(days=back)
        yield m.start(), m.end(), d, d
    for m in _WEEKEND.finditer(comp):
        if not free(m):
            continue
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if m.group(1) in ("지지난", "지지난주") or (
            m.group(1) in ("지난", "저번") and today.weekday() >= 5
        ):
            saturday -= timedelta(days=7)  # on a weekend, "지난 주말" is the one before
        elif m.group(1) == "이번" and today.weekday() < 5:
            continue  # this weekend is still ahead
        yield m.start(), m.end(), saturday, min(today, saturday + timedelta(days=1))


def read_elapsed(
    text: str, today: date | None = None, limit: int = 7, *, normalized: str | None = None
) -> Elapsed:
    """Read the age of the service the customer writes about and judge it against *limit*.

    *today* is the KST date; without it calendar dates and weekdays are not read, durations are.
    *normalized* is the matcher's normalised text, read too for durations that only its typo
    and English rules reveal ("2주젼에", "two weeks ago").
    """
    mentions = _mentions(text, today)
    if normalized is not None:
        seen = {(m.text, m.first_day, m.last_day) for m in mentions}
        mentions += [
            m for m in _mentions(normalized, None) if (m.text, m.first_day, m.last_day) not in seen
        ]
    own = _settled(m for m in mentions if not m.about_request)
    verdict: Verdict | None = None
    for kind in ("statement", "conditional", "belief"):
        verdicts = {m.verdict(limit) for m in own if m.kind == kind}
        for v in ("over", "borderline", "within"):
            if v in verdicts:
                verdict = v  # type: ignore[assignment]
                break
        if verdict is not None:
            break
    return Elapsed(verdict, tuple(mentions))


def _settled(mentions: Iterable[Mention]) -> list[Mention]:
    """The statements that count when several disagree.

    A calendar date is the fact and a count the customer's arithmetic: "25일에 신청했으니까
    7일 이미 넘었죠?" is day 7 (the bot checks the real service anyway). And a vague range that
    holds a precise day ("지난달 말, 28일쯤") is only the frame of that day.
    """
    mentions = list(mentions)
    days = [m for m in mentions if m.kind == "statement" and m.calendar == "day"]
    if not days:
        return mentions
    return [
        m
        for m in mentions
        if m.kind != "statement"
        or m in days
        or (
            m.calendar == "range"
            and not any(m.first_day <= d.first_day <= m.last_day for d in days)
        )
    ]


def _mentions(text: str, today: date | None) -> list[Mention]:
    """Every duration, and with *today* every date, weekday and relative day, in *text*."""
    comp = _compact(text)
    mentions = list(_durations(comp))
    passed = _PERIOD_PASSED.search(comp)
    if passed:
        # Whatever the number in it ("기간 하루 지났는데"), the customer is past the period.
        mentions = [m for m in mentions if not passed.start() <= comp.find(m.text) < passed.end()]
        mentions.append(Mention(passed.group(0), "statement", _OPEN, _OPEN, False))
    if today is not None:
        for start, end, earliest, latest in _dates(comp, today):
            event = _event(comp, start, end)
            if event is None or latest > today or comp[end : end + 2] in ("까지", "부터"):
                continue  # "어제까진 있었는데", "12월 3일까지": not when the service was issued
            first_day = (today - latest).days + 1
            last_day = (today - earliest).days + 1
            mentions.append(
                Mention(
                    comp[start:end],
                    "statement",
                    first_day,
                    last_day,
                    event == "request",
                    calendar="day"
                    if first_day == last_day and not _VAGUE_END.search(comp[start:end])
                    else "range",
                    bare_month=comp[start:end] in _BARE_MONTHS,
                )
            )
    return mentions


_DAY_PRECISE = (
    _ISO, _MONTH_DAY, _SLASH_DATE, _MONTH_PART, _DAY_OF_MONTH, _WEEKDAY, _WEEK_OF_MONTH,
    _NAMED_DAY, _WEEKEND,
)


def names_a_date(text: str) -> bool:
    """Does *text* name a calendar date or weekday ("25일에", "11월 초", "지난주 목요일")?

    Without today's date such a mention cannot be judged against the deadline. ("지난달",
    "작년" and durations can: they are read without a calendar.)
    """
    comp = _compact(text)
    return any(pattern.search(comp) for pattern in _DAY_PRECISE)
