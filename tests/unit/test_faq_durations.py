"""Elapsed time written with Sino-Korean numerals tells "cancel now" from "past the deadline"."""

from __future__ import annotations

from datetime import date

import pytest

from faq.dates import read_elapsed
from faq.kb import load_knowledge_base
from faq.matcher import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge_base())


@pytest.mark.parametrize(
    "question",
    ["팔일째인데 해지 가능해요?", "구일 지난 문자 서비스 취소할래요", "이십일 전에 산 알림톡 환불"],
)
def test_a_written_out_duration_past_seven_days_is_past_deadline(matcher, question):
    result = matcher.match(question)
    assert (result.decision, result.intent) == ("answer", "past_deadline")


def test_a_written_out_duration_within_seven_days_is_not_past_deadline(matcher):
    result = matcher.match("칠일 이내면 취소되나요")
    assert result.intent != "past_deadline"


@pytest.mark.parametrize(
    "question",
    [
        "25일에 결제했는데 환불되나요",
        "11월 24일에 신청했는데 취소 가능한가요?",
        "아직 7일 안 지났는데 환불 가능해요?",
        "일주일도 안 됐는데 취소 되나요",
    ],
)
def test_a_calendar_date_or_a_time_not_yet_passed_is_not_past_deadline(matcher, question):
    """Told "past the deadline", a customer inside the 7 days would not cancel themselves."""
    assert matcher.match(question).intent != "past_deadline"


@pytest.mark.parametrize(
    "question",
    [
        "기간 하루 지났는데 취소 봐주실수 없나요",
        "취소 기한 넘겼는데 환불 방법 있나요",
        "취소 기간 놓쳤어요 ㅠ 알림톡 환불 안 되나요",
        "취소 가능 기간 지난 서비스 해지 절차가 궁금해요",
    ],
)
def test_the_period_said_to_be_over_is_past_deadline_whatever_number_follows(matcher, question):
    """"기간 하루 지났는데" is a day past the 7 days, not a service one day old."""
    result = matcher.match(question)
    assert (result.decision, result.intent) == ("answer", "past_deadline")


@pytest.mark.parametrize(
    "question", ["취소 기간 지나면 어떻게 돼요?", "기간 안 지났는데 취소 돼요?", "기간 지났나요?"]
)
def test_asking_about_the_period_is_not_a_statement_that_it_is_over(question):
    """A condition, a denial or a question leaves the age to the rest of the message."""
    assert read_elapsed(question, date(2026, 12, 1)).verdict != "over"
