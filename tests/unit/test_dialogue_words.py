"""How the dialogue reads a customer's words: pure functions, no engine, no database."""

from __future__ import annotations

import pytest

from bot.dialogue.wishes import cancels_a_request


@pytest.mark.parametrize(
    "text",
    ["신청 취소할게요", "접수 취소", "접수 취소할게요", "신청취소요", "신청을 취소하고 싶어요"],
)
def test_cancelling_a_bare_request_word_is_ambiguous(text: str) -> None:
    assert cancels_a_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "신청 철회할게요",  # 철회 is only said of a filed request
        "접수한 거 취소해 주세요",  # "the one I filed"
        "환불 신청 취소할게요",  # the refund request itself
        "R-20261128-0001 신청 취소",
        "알림톡 신청 취소할게요",  # the service named
        "1001 신청 취소",
        "취소 신청할게요",  # filing a cancellation
        "신청 취소 가능한가요?",  # a question goes to the FAQ
    ],
)
def test_words_that_say_which_are_not_ambiguous(text: str) -> None:
    assert not cancels_a_request(text)
