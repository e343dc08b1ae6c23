"""The knowledge base: seed facts, structure and validation errors an editor would see."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from faq.kb import ACTIONS, KnowledgeBaseError, load_knowledge_base

PACKAGED = Path(__file__).resolve().parents[2] / "faq" / "data" / "intents.toml"

SEED_QUESTIONS = {
    "how_to_cancel": "카카오알림톡/SMS 서비스를 취소하고 싶어요.",
    "not_in_list": "취소/환불 목록에 SMS 서비스가 안 보여요.",
    "sms_charge_refund": "SMS 충전 금액도 환불되나요?",
    "mycash_refund": "마이캐쉬로 결제했는데 환불은 어떻게 되나요?",
    "bank_transfer_refund": "실시간계좌이체로 결제했는데 환불받으려면 어떻게 하나요?",
    "past_deadline": "2주 전에 신청한 SMS 서비스를 취소하고 싶어요.",
}


def test_six_intents_in_the_seed_order_with_its_questions() -> None:
    kb = load_knowledge_base()
    assert [i.id for i in kb.intents] == list(SEED_QUESTIONS)
    assert [i.number for i in kb.intents] == [1, 2, 3, 4, 5, 6]
    for intent in kb.intents:
        assert intent.question == SEED_QUESTIONS[intent.id]


def test_get_returns_the_intent_and_rejects_unknown_ids() -> None:
    kb = load_knowledge_base()
    assert kb.get("mycash_refund").title == "마이캐쉬 결제 환불"
    with pytest.raises(KeyError):
        kb.get("domain_refund")


@pytest.mark.parametrize(
    ("intent_id", "facts"),
    [
        ("how_to_cancel", ["7일 이내", "발급일 포함", "0건", "전액 환불",
                           "나의서비스관리 > 정산관리 > 취소/환불 관리"]),
        ("not_in_list", ["7일", "1건", "표시되지 않", "고객센터"]),
        ("sms_charge_refund", ["0건", "전액 환불", "1건", "부분 환불 심사", "고객센터"]),
        ("mycash_refund", ["마이캐쉬로 적립", "영업일", "3-7일", "담당자",
                           "나의서비스관리 > 정산관리 > 마이캐쉬 입출금내역"]),
        ("bank_transfer_refund", ["계좌 정보", "가입자 명의", "1:1문의게시판", "확인증"]),
        ("past_deadline", ["7일", "경과", "고객센터"]),
    ],
)
def test_answers_state_the_seed_facts(intent_id: str, facts: list[str]) -> None:
    answer = load_knowledge_base().get(intent_id).answer
    for fact in facts:
        assert fact in answer, f"{intent_id} answer lacks {fact!r}"


def test_answers_are_short_plain_text_without_invented_contacts() -> None:
    for intent in load_knowledge_base().intents:
        assert len(intent.answer.splitlines()) <= 5
        assert "<" not in intent.answer
        assert not re.search(r"\d{2,4}-\d{3,4}-\d{4}|https?://|@", intent.answer)


def test_titles_fit_a_button_and_actions_use_the_vocabulary() -> None:
    kb = load_knowledge_base()
    for intent in kb.intents:
        assert 0 < len(intent.title) <= 20
        assert intent.actions
        for action in intent.actions:
            assert action in ACTIONS or action.removeprefix("faq:") in kb.ids
    assert kb.get("how_to_cancel").actions == ("refund", "my_services")
    assert "contact" in kb.get("past_deadline").actions


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    """Serialise a small TOML subset (tables, arrays of tables, strings, numbers, lists)."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v).lower() if isinstance(v, bool) else str(v)

    lines: list[str] = []
    for key, table in data.items():
        tables = table if isinstance(table, list) else [table]
        for t in tables:
            lines.append(f"[[{key}]]" if isinstance(table, list) else f"[{key}]")
            lines += [f'"{k}" = {value(v)}' for k, v in t.items()]
    path = tmp_path / "intents.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _packaged() -> dict[str, Any]:
    return tomllib.loads(PACKAGED.read_text(encoding="utf-8"))


def test_a_copy_of_the_packaged_file_loads_from_a_path(tmp_path: Path) -> None:
    kb = load_knowledge_base(_write(tmp_path, _packaged()))
    assert kb.ids == tuple(SEED_QUESTIONS)


def test_missing_answer_is_reported_with_entry_and_field(tmp_path: Path) -> None:
    data = _packaged()
    del data["intent"][3]["answer"]
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(_write(tmp_path, data))
    assert str(err.value) == "intents.toml: intent 'mycash_refund': field 'answer' is missing"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["intent"][0].update(actions=["refund", "call_me"]),
         "intent 'how_to_cancel': field 'actions' has unknown action 'call_me'"),
        (lambda d: d["intent"][1].update(actions=["faq:nothing"]),
         "intent 'not_in_list': field 'actions' links an unknown intent 'nothing'"),
        (lambda d: d["intent"][2].update(title="아주 아주 긴 버튼 제목이라서 한 줄에 안 들어가요"),
         "intent 'sms_charge_refund': field 'title' must be at most 20 characters"),
        (lambda d: d["intent"][4].update(answer="<b>계좌</b> 환불"),
         "intent 'bank_transfer_refund': field 'answer' must be plain text"),
        (lambda d: d["intent"][5].update(number="6"),
         "intent 'past_deadline': field 'number' must be a whole number"),
        (lambda d: d["intent"][5].update(keywordz=["2주"]),
         "intent 'past_deadline': field 'keywordz' is not a known field"),
        (lambda d: d["intent"][0].pop("id"), "intent #1: field 'id' is missing"),
        (lambda d: d["intent"][1].update(id="how_to_cancel"), "field 'id' is duplicated"),
        (lambda d: d["matching"].pop("topic"), "[matching]: field 'topic' is missing"),
    ],
)
def test_invalid_entries_are_named_in_the_error(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    data = _packaged()
    mutate(data)
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        load_knowledge_base(_write(tmp_path, data))


def test_broken_toml_and_missing_file_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "intents.toml"
    bad.write_text('[[intent]\nid = "x"', encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not valid TOML"):
        load_knowledge_base(bad)
    with pytest.raises(KnowledgeBaseError, match="cannot read"):
        load_knowledge_base(tmp_path / "missing.toml")


ACTS = PACKAGED.with_name("acts.toml")


def test_the_four_conversation_acts_load_beside_the_intents() -> None:
    kb = load_knowledge_base()
    assert [a.id for a in kb.acts] == [
        "withdraw_request", "request_status", "human_agent", "complaint",
    ]
    assert all(a.patterns and a.phrasings for a in kb.acts)


def test_a_knowledge_base_without_an_acts_file_has_no_acts(tmp_path: Path) -> None:
    assert load_knowledge_base(_write(tmp_path, _packaged())).acts == ()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('id = "complaint"', 'id = "anger"'),
         "act 'anger': field 'id' must be one of"),
        (lambda t: t.replace('title = "상담원 연결"', 'titel = "상담원 연결"'),
         "act 'human_agent': field 'titel' is not a known field"),
        (lambda t: t.replace('"소비자원|', '"|소비자원|'),
         "act 'complaint': field 'patterns' has an empty part"),
    ],
)
def test_a_bad_acts_file_is_named_in_the_error(tmp_path: Path, edit: Any, message: str) -> None:
    _write(tmp_path, _packaged())
    (tmp_path / "acts.toml").write_text(edit(ACTS.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        load_knowledge_base(tmp_path / "intents.toml")


def test_a_pattern_with_an_empty_part_is_named_in_the_error(tmp_path: Path) -> None:
    data = _packaged()
    data["intent"][2]["patterns"] = ["충전 ~ ~ 환불"]
    with pytest.raises(KnowledgeBaseError, match="intent 'sms_charge_refund': field 'patterns'"):
        load_knowledge_base(_write(tmp_path, data))
