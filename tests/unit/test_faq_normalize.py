"""Korean-aware normalisation: what the matcher reads for what customers type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faq.normalize import Normalizer, compact, initials, normalize, to_jamo


def test_fullwidth_and_upper_case_are_folded() -> None:
    assert normalize("ＳＭＳ　Refund") == "sms 환불"


def test_punctuation_and_emoji_are_dropped() -> None:
    assert normalize("환불 절차 알려주세요!!! 😢🙏") == "환불 절차 알려주세요"


def test_repeated_characters_collapse_but_numbers_do_not() -> None:
    assert normalize("취소해주세요오오오오 ㅠㅠㅠㅠ") == "취소해주세요오"
    assert normalize("10000원 충전") == "10000원 충전"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("마이캐시", "마이캐쉬"),
        ("마이케시로 결재", "마이캐쉬로 결제"),
        ("계좌이채", "계좌이체"),
        ("어케 해요", "어떻게 해요"),
        ("마캐로", "마이캐쉬로"),
        ("나서관", "나의서비스관리"),
        ("문자 충전", "sms 충전"),
        ("충젼", "충전"),
    ],
)
def test_spelling_variants_and_slang_become_canonical(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SMS refund", "sms 환불"),
        ("cancel 하고 싶어요", "취소 하고 싶어요"),
        ("alimtalk 취소", "알림톡 취소"),
        ("bank transfer로 결제", "계좌이체 로 결제"),
        ("two weeks ago 신청", "2 주 전 신청"),
        ("refund after 2 weeks", "환불 2 주 후"),
        ("it's been like 2 weeks인데", "it s 2 주 됐 인데"),  # Hangul right after the unit
        ("within 3 days인데", "3 일 이내 인데"),
    ],
)
def test_english_words_are_translated(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


def test_chosung_abbreviations_expand_and_laughter_disappears() -> None:
    assert normalize("알림톡 ㅎㅂ 어케함") == "알림톡 환불 어떻게함"
    assert normalize("환불ㄱㄴ?") == "환불 가능"
    assert normalize("ㅋㅋㅋㅋ") == ""
    # Unknown consonant runs are kept (they are not laughter) and stay readable.
    assert normalize("ㅁㄴㅇㄹ") == "ㅁㄴㅇㄹ"


def test_extra_synonyms_from_the_knowledge_base_are_applied() -> None:
    normalizer = Normalizer(synonyms={"반품": "환불"})
    assert normalizer.normalize("반품 할래요") == "환불 할래요"


def test_compact_removes_all_spacing() -> None:
    assert compact("알림톡 취소 하는 법") == compact("알림톡취소하는법") == "알림톡취소하는법"


def test_jamo_makes_a_one_jamo_typo_a_one_character_difference() -> None:
    right, typo = to_jamo("환불"), to_jamo("환뷸")
    assert len(right) == len(typo) == 6
    assert sum(a != b for a, b in zip(right, typo, strict=True)) == 1
    assert initials(right) == initials(typo)


@given(st.text(max_size=80))
def test_normalised_text_is_trimmed_single_spaced_and_punctuation_free(text: str) -> None:
    out = normalize(text)
    assert out == out.strip()
    assert "  " not in out
    assert not any(ch in out for ch in "!?.,~()[]{}<>\"'")
    assert out == out.lower()
