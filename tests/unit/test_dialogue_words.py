"""How the dialogue reads a customer's words: pure functions, no engine, no database."""

from __future__ import annotations

import pytest

from bot.dialogue.inputs import BankGuess, bank_guess, too_short
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


@pytest.mark.parametrize(
    ("typed", "bank"),
    [
        ("토뱅", "토스뱅크"),
        ("국민", "KB국민은행"),
        ("농협", "NH농협은행"),
        ("카뱅", "카카오뱅크"),
        ("신한", "신한은행"),
        ("우리", "우리은행"),
        ("하나", "하나은행"),
        ("기업", "IBK기업은행"),
        ("IBK", "IBK기업은행"),
        ("새마을", "새마을금고"),
        ("우체국", "우체국"),
        ("케뱅", "케이뱅크"),
        ("SC제일", "SC제일은행"),
        ("sc제일", "SC제일은행"),
        ("국민은행이요", "KB국민은행"),
        ("신한은행으로 해주세요", "신한은행"),
        # one-jamo typos in a longer name
        ("신한은헹", "신한은행"),
        ("우채국", "우체국"),
        ("카카오벵크", "카카오뱅크"),
        ("토스벵크", "토스뱅크"),
        ("새마을금꼬", "새마을금고"),
    ],
)
def test_banks_typed_the_way_customers_type_them(typed: str, bank: str) -> None:
    assert bank_guess(typed) == BankGuess(bank)


@pytest.mark.parametrize(
    ("typed", "candidates"),
    [
        ("국밍", ("KB국민은행",)),  # a typo in a two-letter name could be anything: asked
        ("신한카드", ("신한은행",)),  # a card company is not its bank
        ("카카오페이", ("카카오뱅크",)),
        ("수엽", ("수협은행",)),  # a bank without a button
        ("우리은행 아니면 하나은행", ("우리은행", "하나은행")),
    ],
)
def test_a_bank_that_is_only_close_is_asked_about(typed: str, candidates: tuple[str, ...]) -> None:
    assert bank_guess(typed) == BankGuess(None, candidates)


@pytest.mark.parametrize("typed", ["잘 모르겠어요", "신청 철회할게요", "삼성증권", "토스증권"])
def test_what_is_not_a_bank_is_not_guessed(typed: str) -> None:
    assert bank_guess(typed) == BankGuess(None)


@pytest.mark.parametrize("typed", ["ㅇ", "?", ".", "a", "네", " 1 ", "!!"])
def test_fewer_than_two_letters_is_too_short_to_act_on(typed: str) -> None:
    assert too_short(typed)


@pytest.mark.parametrize("typed", ["환불", "SMS-3001 취소", "ok"])
def test_two_letters_or_more_is_not_too_short(typed: str) -> None:
    assert not too_short(typed)
