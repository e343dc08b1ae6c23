"""The age of a service as customers state it, read against an injected KST date."""

from __future__ import annotations

from datetime import date

import pytest

from faq.dates import read_elapsed
from faq.kb import load_knowledge_base
from faq.matcher import Matcher

TODAY = date(2026, 12, 1)  # a Tuesday; issued 11-25 is day 7 (the last day), 11-24 is day 8


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge_base())


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("11월 3일에 신청했는데", "over"),
        ("11/24에 신청했어요", "over"),  # day 8
        ("11월 25일에 신청했어요", "within"),  # day 7: still the last day
        ("신청일 11.15 인데", "over"),
        ("10월 말에 결제한 건데", "over"),
        ("11월 초에 가입했어요", "over"),
        ("지난달 30일에 신청했는데", "within"),
        ("작년 12월에 신청한 건데", "over"),
        ("지난주 월요일에 신청했는데", "over"),  # 11-23, day 9
        ("지난주 목요일에 신청한 거", "within"),  # 11-26, day 6
        ("지지난주 목요일에 신청한 알림톡", "over"),  # 11-19
        ("지난 목욜 가입한거 무르고 싶어요", "within"),  # 11-26
        ("저번주 월욜에 신청함", "over"),  # 11-23
        ("엊그제 결제했는데", "within"),
        ("오늘 아침에 신청했는데", "within"),
        # A week of a month, or one day of it.
        ("11월 첫째 주에 가입했어요", "over"),
        ("11월 넷째 주 목요일에 결제했는데", "within"),  # 11-26, day 6
        ("11월 마지막 주에 신청했어요", "borderline"),  # 11-24..11-30
        # Days customers date things by: fixed, lunar (the holidays package) and Black Friday.
        ("빼빼로데이에 결제한 건", "over"),
        ("한가위 연휴 때 가입한 건데", "over"),
        ("블프 때 산 건데", "within"),  # 2026-11-27
        # Months and days written as Sino-Korean numerals, spaced as they are spoken.
        ("십일월 이십일 일에 신청한 거", "over"),  # 11-21
        ("이십 사 일 날 신청 했는데", "over"),  # 11-24, day 8
        ("이십 오 일 에 가입 했는데", "within"),  # 11-25, day 7
        ("시월 말에 결제 한 거", "over"),
        # Weekends, and a service that was bought ("산").
        ("지난 주말에 가입했는데", "within"),  # 11-28..29
        ("지지난 주말에 신청한 건", "over"),
        ("11월 중순에 산 알림톡", "over"),
        # A day with its weekday is one date; a month's last day; a day a range frames.
        ("22일 일요일 신청 취소 가능할까요", "over"),  # 11-22, not last Sunday (11-29)
        ("11월 마지막 날 신청한 알림톡", "within"),
        ("지난달 말, 28일쯤 신청한 문자 서비스", "within"),  # not all of 11-21..30
        ("광군제 때 신청했어요", "over"),
        # The issue date named as the subject, whatever the message goes on to ask.
        ("발급일이 11월 24일인데 오늘 취소 신청 가능해요?", "over"),
        # A named date is the fact, the customer's count their arithmetic.
        ("25일에 신청했으니까 7일 이미 넘었죠?", "within"),
        ("27일에 신청했는데 벌써 8일째라 안 되죠?", "within"),
        # A week of last month, its first days, the week before a named day.
        ("지난달 둘째 주에 신청했던 SMS 서비스", "over"),  # 11-08..14
        ("지난달 월초에 신청했던 문자서비스", "over"),
        ("블랙프라이데이 전 주에 신청한 sms 서비스", "over"),  # 11-16..22
        # "N일차", a count up to today, "오늘로" as the day counted to, a wait that is no age.
        ("신청 9일차입니다", "over"),
        ("오늘로 신청 9일차입니다", "over"),
        ("일주일 전 오늘 신청한 거 없던 일로 돌릴 수 있어요?", "over"),  # 11-24, day 8
        ("달력 보니까 신청한 날부터 오늘까지 딱 8일이네요", "over"),
        # A month cut short by today is still a month, not one named day.
        ("이번 달 초에 신청했는데 벌써 3주나 됐네요", "over"),
        # A time belongs to its own clause: "오늘" here is when it was noticed, not applied for.
        ("오늘 정산하다가 발견했는데 신청일 보니 열흘 지났네요. 발송도 안 했고요", "over"),
        ("열흘 지났는데 환불 신청 가능한가요", "over"),  # a request not yet filed
        # A date with its weekday before 등록한; a bare day before 발급; "그 7일" is the period.
        ("사장님이 11월 18일 수요일에 등록한 SMS 서비스가 있는데", "over"),
        ("그 7일에 발급일도 들어가요? 저는 26일 발급이고 발송은 안 했어요", "within"),
        # The thing from that day; a Sino-Korean month word wherever it stands.
        ("11월10일꺼 cancel 가능?", "over"),
        ("예식장 사무실입니다. 시월에 알림톡 서비스를 신청했는데", "over"),
        ("아버지가 지난달 마지막 날에 문자 서비스를 신청하셨는데", "within"),  # 11-30
        # The verb after a long object: "11월 15일쯤 독자 이벤트 문자용으로 서비스를 신청".
        ("11월 15일쯤 독자 이벤트 문자용으로 서비스를 신청했어요", "over"),
        # A bare "last month" on the 1st is mostly past the 7 days; its end is not.
        ("지난달에 신청한 문자 서비스 취소", "over"),
        ("지난달 말에 신청한 문자 서비스 취소", "borderline"),
        # Hours, an English month name, a service created.
        ("신청한 지 24시간도 안 됐는데 취소 가능한가요?", "within"),
        ("Nov 2에 생성한 SMS 인스턴스 terminate하고 싶은데", "over"),
        # The issue date left out of the customer's count: their 7 days is day 8.
        ("신청한 날 빼고 세면 딱 7일 됐어요. 아직 되는 거죠?", "over"),
        ("신청일 제외하면 6일째예요", "within"),
        # Another event's date ends at its own clause; the next date owns what follows it.
        ("마이캐쉬는 11월 10일에 미리 충전해뒀고 알림톡 서비스는 11월 28일에 신청했어요", "within"),
        ("11/10 충전, 11/28 신청", "within"),
        ("11월 3일에 결제했고 환불하려고요", "over"),
        ("열닷새 전에 넣은 문자 서비스를 물러 주실 수 있습니까", "over"),
        # Dictated: a filler before 제가 is no 어제; a Sino-Korean day before its weekday.
        ("어 제가 알림톡 신청한 지 구 일 됐는데 아직 취소 가능해요", "over"),
        ("이십삼일 월요일에 신청한 에스엠에스 서비스 환불 가능한가요", "over"),
    ],
)
def test_calendar_dates_and_weekdays_are_read_against_today(text: str, verdict: str) -> None:
    assert read_elapsed(text, TODAY).verdict == verdict


def test_a_bare_month_is_read_by_where_most_of_it_falls() -> None:
    """"이번 달에" on the 20th: 13 of its 20 days are past the limit, not enough to say so."""
    assert read_elapsed("이번 달에 신청한 알림톡", date(2026, 12, 20)).verdict == "borderline"
    assert read_elapsed("지난달에 신청한 알림톡", date(2026, 12, 9)).verdict == "over"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("열하루 지났는데", "over"),
        ("신청하고 아흐레 됐어요", "over"),
        ("8일째인데요", "over"),
        ("7일 전에 신청했어요", "over"),  # issued 7 days ago: today is day 8
        ("엿새 전에 신청했어요", "within"),  # day 7
        ("이틀째인데", "within"),
        ("일주일 하고 하루 지났어요", "over"),
        ("신청한 지 일주일 됐는데", "borderline"),  # day 7 or 8, depending on who counts
        ("아직 7일 안 지났는데", "within"),
        ("7일 지나면 취소 안 돼요?", "over"),  # the rule itself
    ],
)
def test_durations_need_no_calendar(text: str, verdict: str) -> None:
    assert read_elapsed(text).verdict == verdict
    assert read_elapsed(text, TODAY).verdict == verdict


@pytest.mark.parametrize(
    "text",
    [
        "충전금 이월돼요?",
        "십일 동안 고민했어요",
        "회사일이 바빠서 못 봤어요",
        "주말에도 처리되나요",
    ],
)
def test_words_that_only_look_like_numerals_or_days_are_not_dates(text: str) -> None:
    assert read_elapsed(text, TODAY).verdict is None


def test_without_today_calendar_dates_say_nothing() -> None:
    assert read_elapsed("11월 3일에 신청했는데").verdict is None
    assert read_elapsed("지난주 월요일에 신청했는데").verdict is None


@pytest.mark.parametrize(
    "text",
    [
        "환불 신청한 지 10일 됐는데 아직이에요",
        "지난주 월요일에 취소 접수했는데",
        "금요일에 환불 넣었어요",
    ],
)
def test_the_age_of_a_refund_request_is_not_the_age_of_the_service(text: str) -> None:
    elapsed = read_elapsed(text, TODAY)
    assert elapsed.verdict is None
    assert elapsed.about_request


@pytest.mark.parametrize(
    "text",
    ["두 달 정도 가게 문을 닫아서요", "어제까진 목록에 있었는데", "12월 3일까지 신청 가능하대요"],
)
def test_times_that_are_not_the_service_age_are_ignored(text: str) -> None:
    assert read_elapsed(text, TODAY).verdict is None


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("11월 3일에 신청한 SMS 서비스 지금 취소하면 환불되나요?", "past_deadline"),
        ("10일 된 서비스 취소할래요", "past_deadline"),
        ("지난주 월요일에 가입한 알림톡 해지하고 싶어요", "past_deadline"),
        ("11월 28일에 알림톡 신청했는데 취소하려면 어디서 해요", "how_to_cancel"),
        ("지난주 목요일에 신청한 알림톡 물릴 수 있어요?", "how_to_cancel"),
    ],
)
def test_the_matcher_judges_dates_with_the_injected_today(
    matcher: Matcher, text: str, intent_id: str
) -> None:
    result = matcher.match(text, today=TODAY)
    assert (result.decision, result.intent) == ("answer", intent_id)


def test_the_same_date_is_judged_by_the_day_it_is_read_on(matcher: Matcher) -> None:
    text = "11월 26일에 신청한 알림톡 취소하고 싶어요"
    assert matcher.match(text, today=date(2026, 11, 30)).intent == "how_to_cancel"
    assert matcher.match(text, today=date(2026, 12, 10)).intent == "past_deadline"


def test_a_wait_is_not_the_age_of_the_service() -> None:
    """"일주일 넘게 걸리기도 해요?" asks how long the refund takes, not whether it is late."""
    assert read_elapsed("마이캐쉬 환불 받는데 일주일 넘게 걸리기도 해요?", TODAY).verdict is None
