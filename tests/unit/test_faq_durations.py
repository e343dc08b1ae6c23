"""Elapsed time written with Sino-Korean numerals tells "cancel now" from "past the deadline"."""

from __future__ import annotations

import pytest

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
