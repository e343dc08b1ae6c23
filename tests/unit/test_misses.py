"""`helpdesk faq misses` groups: what the knowledge-base keeper reads, and that it scales."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from bot import analytics
from bot.analytics import group_misses, similar


def fallbacks(*questions: str, normalized: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Fallback events as the engine logs them."""
    normalized = normalized or {}
    return [
        {
            "kind": "fallback",
            "text": q,
            "normalized": normalized.get(q, q),
            "helpful": None,
            "intent": None,
        }
        for q in questions
    ]


def grouped(groups: list[analytics.MissGroup]) -> list[set[str]]:
    return [set(g.variants) for g in groups]


def test_texts_without_a_letter_are_left_out() -> None:
    # What the normaliser leaves of "???" or "😭😭" is empty, so the raw text is grouped: none
    # of these is a question the knowledge base could learn to answer.
    events = fallbacks(
        "???",
        "😭😭",
        "12345",
        "010-1234-5678",
        "!!",
        "SMS 2건 보냈어요",
        "도메인 연장",
        normalized={"???": "", "😭😭": "", "!!": ""},
    )
    assert grouped(group_misses(events)) == [{"SMS 2건 보냈어요"}, {"도메인 연장"}]


def test_a_bare_short_word_does_not_swallow_longer_questions() -> None:
    groups = group_misses(fallbacks("환불", "환불", "환불 신청 방법", "환 불"))
    assert grouped(groups) == [{"환불", "환 불"}, {"환불 신청 방법"}]
    assert groups[0].count == 3


def test_a_question_joins_the_first_group_it_is_similar_to() -> None:
    # "도메인 연장 이전" is similar to both representatives; the more frequent group came first.
    events = fallbacks(*["도메인 연장"] * 3, *["도메인 이전"] * 2, "도메인 연장 이전")
    groups = group_misses(events)
    assert grouped(groups) == [{"도메인 연장", "도메인 연장 이전"}, {"도메인 이전"}]
    assert [g.count for g in groups] == [4, 2]


TOPICS = ["도메인 연장", "세금계산서 발행", "ssl 인증서 설치", "발신번호 등록", "메일 용량 추가"]
FRAMES = ["{t}", "{t} 어떻게 해요", "{t} 방법", "{t} 문의", "혹시 {t} 가능한가요", "{t} 안 돼요"]
WORDS = "서비스 계정 관리 화면 설정 변경 오류 확인 요청 결제 번호 주소 시간 금액 접속 문의".split()


def questions(n: int, seed: int, made_up_words: int = 0) -> list[str]:
    """Near-duplicates of a few topics (spacing dropped, one-letter typos) and a long tail."""
    rng = random.Random(seed)
    syllables = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조"
    words = WORDS + ["".join(rng.sample(syllables, 2)) for _ in range(made_up_words)]
    out = []
    for _ in range(n):
        if rng.random() < 0.6:
            text = rng.choice(FRAMES).format(t=rng.choice(TOPICS))
            if rng.random() < 0.3:
                text = text.replace(" ", "", 1)
            if rng.random() < 0.2:
                i = rng.randrange(len(text))
                text = text[:i] + rng.choice("가요서비") + text[i + 1 :]
        else:
            text = " ".join(rng.sample(words, rng.randint(2, 6)))
        out.append(text)
    return out


def compared_with_every_representative(texts: list[str]) -> list[set[str]]:
    """The reference: each question, most frequent first, against every group's first one."""
    firsts: list[str] = []
    groups: list[set[str]] = []
    for question, _ in Counter(texts).most_common():
        for first, group in zip(firsts, groups, strict=True):
            if similar(question, first):
                group.add(question)
                break
        else:
            firsts.append(question)
            groups.append({question})
    return groups


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_finds_the_groups_of_comparing_with_every_representative(seed: int) -> None:
    texts = questions(1500, seed)
    expected = compared_with_every_representative(texts)
    assert sorted(map(sorted, grouped(group_misses(fallbacks(*texts))))) == sorted(
        map(sorted, expected)
    )


def test_each_question_is_compared_with_a_few_groups_not_all_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Comparing with every group took 543 s at 100k misses; the index keeps comparisons per
    # question bounded instead of growing with the number of groups.
    calls = 0

    def counted(a: str, b: str) -> bool:
        nonlocal calls
        calls += 1
        return similar(a, b)

    monkeypatch.setattr(analytics, "similar", counted)
    texts = questions(6000, seed=4, made_up_words=300)
    groups = group_misses(fallbacks(*texts))
    distinct = len(set(texts))
    assert len(groups) > 1000  # a long tail: comparing with every group would be quadratic
    assert calls < 2 * distinct
