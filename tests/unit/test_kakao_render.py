"""Engine replies laid out as a skill response: within every documented limit, whatever comes in,
and every button still reachable (as a quick reply, a card button or a label to type)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts
from bot.dialogue import Button
from bot.kakao.render import (
    Answer,
    display_labels,
    pack,
    render,
    shorten_label,
    split_text,
    squeeze,
)
from bot.kakao.skill import LABEL_MAX, SkillResponse


def outputs_text(response: SkillResponse) -> list[str]:
    return [o.simple_text.text for o in response.template.outputs if o.simple_text]


def quick(response: SkillResponse) -> dict[str, str]:
    return {q.label: q.message_text or "" for q in response.template.quick_replies or []}


def card_buttons(response: SkillResponse) -> dict[str, str]:
    return {
        b.label: b.message_text or ""
        for o in response.template.outputs
        if o.text_card
        for b in o.text_card.buttons
    }


def bank_rows() -> tuple[tuple[Button, ...], ...]:
    banks = [Button(b, f"f:x:bank:{i}") for i, b in enumerate(texts.BANKS)]
    rows = tuple(tuple(banks[i : i + 3]) for i in range(0, len(banks), 3))
    return rows + ((Button(texts.BTN_BACK, "f:x:back"), Button(texts.BTN_STOP, "f:x:stop")),)


def test_a_short_label_is_shown_as_it_is_and_sent_as_it_is() -> None:
    response = render(Answer(("고르세요",), ((Button("다음 진행", "f:a:next"),),)))
    assert quick(response) == {"다음 진행": "다음 진행"}


def test_a_long_label_is_shown_shortened_but_sends_the_full_label() -> None:
    response = render(Answer(("고르세요",), ((Button("SMS-1001 · 31,000원", "f:a:svc:0"),),)))
    [(label, sent)] = quick(response).items()
    assert len(label) <= LABEL_MAX and label.endswith("…")
    assert label.startswith("SMS-1001")
    assert sent == "SMS-1001 · 31,000원"


def test_shortening_keeps_whole_words() -> None:
    assert shorten_label("목록에 없는 서비스가 있어요") == "목록에 없는 서비스가…"
    assert shorten_label("확인증 첨부해 문의 남기기") == "확인증 첨부해 문의 남기기"


def test_labels_that_shorten_alike_stay_distinct() -> None:
    labels = display_labels(["SMS-1001 · 31,000원", "SMS-1001 · 61,000원", "가" * 30, "가" * 31])
    assert len(set(labels)) == 4
    assert all(len(label) <= LABEL_MAX for label in labels)


def test_a_text_over_1000_characters_is_split_at_line_breaks() -> None:
    lines = [f"• R-2026112{i % 10}-{i:04d} · SMS-{i:04d} · 31,000원" for i in range(60)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1
    assert all(len(p) <= 1000 for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)


def test_a_text_without_line_breaks_is_split_at_spaces_then_anywhere() -> None:
    assert all(len(p) <= 1000 for p in split_text("단어 " * 700))
    assert "".join(split_text("가" * 2500)) == "가" * 2500


def test_short_replies_share_one_bubble() -> None:
    assert pack(["첫 번째", "두 번째"]) == ["첫 번째\n\n두 번째"]


def test_more_than_three_bubbles_keep_the_last_two_whole_and_shorten_the_front() -> None:
    bubbles = ["a" * 900, "b" * 900, "c" * 900, "d" * 900]
    squeezed = squeeze(bubbles, 3)
    assert squeezed[1:] == ["c" * 900, "d" * 900]
    assert len(squeezed[0]) <= 1000 and squeezed[0].endswith(texts.KAKAO_SHORTENED)


def test_the_bank_step_keeps_its_navigation_as_quick_replies_and_the_rest_in_a_card() -> None:
    response = render(Answer((texts.ASK_BANK,), bank_rows()))
    offered = quick(response)
    assert len(offered) == 10
    assert {texts.BTN_BACK, texts.BTN_STOP} <= set(offered)
    in_cards = card_buttons(response)
    assert set(offered.values()) | set(in_cards.values()) == {*texts.BANKS, "이전 단계", "그만하기"}


def test_a_notification_comes_first_and_is_marked() -> None:
    response = render(Answer(("무엇을 도와드릴까요?",), (), notice="신청이 승인되었어요."))
    assert outputs_text(response) == ["🔔 신청이 승인되었어요.", "무엇을 도와드릴까요?"]


def test_a_notification_is_never_dropped_by_a_long_answer() -> None:
    response = render(Answer(("가" * 3500,), (), notice="신청이 승인되었어요."))
    shown = outputs_text(response)
    assert shown[0] == "🔔 신청이 승인되었어요."
    assert len(response.template.outputs) == 3


def test_overflow_without_room_for_cards_is_named_in_the_text() -> None:
    response = render(Answer(("가" * 1900, "나" * 900), bank_rows(), notice="알림"))
    assert card_buttons(response) == {}
    joined = "\n".join(outputs_text(response))
    assert "목록에 없는 항목은 그대로 입력해 주세요" in joined
    named = set(quick(response).values()) | {b for b in texts.BANKS if b in joined}
    assert set(texts.BANKS) <= named


def test_an_empty_answer_still_has_an_output() -> None:
    assert outputs_text(render(Answer(()))) == [texts.KAKAO_EMPTY]


labels = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P", "So")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())
button_rows = st.lists(
    st.lists(st.builds(Button, labels, st.just("p")), min_size=1, max_size=4), max_size=8
)
reply_texts = st.lists(
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P", "So", "Cc")),
        max_size=2500,
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(reply_texts, button_rows, st.one_of(st.none(), st.text(min_size=1, max_size=2500)))
def test_any_replies_render_as_a_valid_response_with_every_button_reachable(
    parts: list[str], rows: list[list[Button]], notice: str | None
) -> None:
    answer = Answer(tuple(parts), tuple(tuple(r) for r in rows), notice=notice)
    response = render(answer)
    # Round trip through JSON and the strict model: every documented limit holds.
    SkillResponse.model_validate_json(response.to_json())
    text = "\n".join(outputs_text(response))
    reachable = set(quick(response).values()) | set(card_buttons(response).values())
    for row in rows:
        for button in row:
            label = button.label.strip()
            assert label in reachable or label in text, label
    if notice and notice.strip():
        assert outputs_text(response)[0].startswith("🔔")


def test_the_response_json_is_what_kakao_reads() -> None:
    body = json.loads(render(Answer(("안녕하세요",), ((Button("도움말", "g:x"),),))).to_json())
    assert body["version"] == "2.0"
    assert body["template"]["outputs"] == [{"simpleText": {"text": "안녕하세요"}}]
