"""The dialogue engine against a real database (SQLite and PostgreSQL): linking, validation,
payload limits, and two engines (as two processes would) sharing one database."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import assemble
from bot.dialogue import Engine, Press, Reply, TextInput, iter_payloads
from bot.dialogue.flow import State
from bot.dialogue.machine import TRANSITIONS
from core.calendar import fixed_clock
from core.storage import Database
from core.usecases import Helpdesk
from tests.conftest import OpenDb

pytestmark = pytest.mark.both_backends

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST


@pytest.fixture
async def db(open_db: OpenDb) -> Database:
    database = await open_db()
    await Helpdesk(database, fixed_clock(NOW)).customers.import_file(CUSTOMERS.read_bytes())
    return database


def make_engine(db: Database) -> Engine:
    return assemble(db, channel="test", clock=fixed_clock(NOW)).engine


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def press(replies: list[Reply], label: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return Press(button.payload)
    raise AssertionError(
        f"no button {label!r} in {[b.label for r in replies for b in r.flat_buttons()]}"
    )


async def link(engine: Engine, chat: str, customer: str) -> list[Reply]:
    code = await engine.helpdesk.linking.issue_code(customer)
    return await engine.handle(chat, TextInput(f"/start {code.code}"))


async def test_start_with_a_code_links_the_chat_and_greets_the_customer_by_name(db):
    engine = make_engine(db)
    replies = await link(engine, "t:1", "hong01")
    assert "홍길동 고객님 계정이 연결되었어요" in text_of(replies)
    assert (await engine.helpdesk.linking.customer_of("t:1")).id == "hong01"


async def test_a_used_link_code_links_nobody_else(db):
    engine = make_engine(db)
    code = await engine.helpdesk.linking.issue_code("hong01")
    await engine.handle("t:1", TextInput(f"/link {code.code}"))
    replies = await engine.handle("t:2", TextInput(f"/link {code.code}"))
    assert "연결 코드가 올바르지 않거나" in text_of(replies)
    assert await engine.helpdesk.linking.customer_of("t:2") is None


async def test_unlink_ends_access_to_refunds(db):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")
    assert "연결을 해제했어요" in text_of(await engine.handle("t:1", TextInput("/unlink")))
    assert "계정 연결" in text_of(await engine.handle("t:1", TextInput("/refund")))


async def walk_to_message_step(engine: Engine, chat: str) -> list[Reply]:
    replies = await engine.handle(chat, TextInput("/refund"))
    replies = await engine.handle(chat, press(replies, "SMS-1001 · 31,000원"))
    replies = await engine.handle(chat, press(replies, "다음 진행"))
    return await engine.handle(chat, press(replies, "서비스 불만"))


async def test_a_message_over_the_limit_is_refused_and_one_at_the_limit_is_taken(db):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")
    await walk_to_message_step(engine, "t:1")
    refused = await engine.handle("t:1", TextInput("가" * 1001))
    assert "너무 길어요(1,001자)" in text_of(refused)
    taken = await engine.handle("t:1", TextInput("나" * 1000))
    assert "신청할까요" in text_of(taken)


async def test_control_characters_are_stripped_from_the_stored_message(db):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")
    await walk_to_message_step(engine, "t:1")
    summary = await engine.handle("t:1", TextInput("해지\x00합니다\x1b[31m"))
    filed = await engine.handle("t:1", press(summary, "취소/환불 신청"))
    assert "신청 번호" in text_of(filed)
    [request] = await engine.helpdesk.requests.list()
    assert request.message == "해지합니다[31m"


async def test_every_button_payload_fits_telegram_callback_data(db):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")
    seen: list[str] = []
    replies = await engine.handle("t:1", TextInput("/refund"))
    seen += iter_payloads(replies)
    for step in ("SMS-1002 · 61,000원", "다음 진행", "타 서비스 전환"):
        replies = await engine.handle("t:1", press(replies, step))
        seen += iter_payloads(replies)
    replies = await engine.handle("t:1", TextInput("옮깁니다"))
    seen += iter_payloads(replies)
    replies = await engine.handle("t:1", press(replies, "새마을금고"))
    replies = await engine.handle("t:1", TextInput("9002-1234-5678-90"))
    replies = await engine.handle("t:1", TextInput("홍길동"))
    seen += iter_payloads(replies)
    assert seen and all(len(p.encode("utf-8")) <= 64 for p in seen)


async def test_two_engines_sharing_the_database_apply_one_chat_in_order(db, open_db: OpenDb):
    """Two processes serving the same chat: no turn is lost, no flow is corrupted."""
    first, second = make_engine(db), make_engine(await open_db())
    await link(first, "t:1", "hong01")
    replies = await first.handle("t:1", TextInput("/refund"))
    choose = press(replies, "SMS-1001 · 31,000원")
    results = await asyncio.gather(first.handle("t:1", choose), second.handle("t:1", choose))
    texts = [text_of(r) for r in results]
    # Exactly one of them moved the flow on; the other saw a step that had passed.
    assert sum("합계: 31,000원" in t and "지금 단계의 버튼이 아니에요" not in t for t in texts) == 1
    record = await first.helpdesk.conversations.load("t:1")
    assert record.state == State.BREAKDOWN.value


async def test_a_burst_of_one_chat_over_two_engines_loses_no_turn(db, open_db: OpenDb):
    """Messages of one chat handed alternately to two processes at once: each is one turn."""
    engines = [make_engine(db), make_engine(await open_db())]
    questions = ["SMS 충전 금액도 환불되나요?", "마이캐쉬로 결제했는데 환불은 어떻게 되나요?"] * 4
    replies = await asyncio.gather(
        *(engines[i % 2].handle("t:9", TextInput(q)) for i, q in enumerate(questions))
    )
    assert all("처리 중 문제가 생겼어요" not in text_of(r) for r in replies)
    record = await engines[0].helpdesk.conversations.load("t:9")
    assert record.version == len(questions)  # every turn saved once, none overwritten
    logged = await engines[0].helpdesk.faq_log.events(NOW - timedelta(days=1), NOW + timedelta(1))
    assert len([e for e in logged if e["kind"] == "answer"]) == len(questions)


async def test_a_failure_inside_a_turn_apologises_and_says_nothing_was_filed(db, monkeypatch):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine.helpdesk.customers, "services_overview", broken)
    replies = await engine.handle("t:1", TextInput("/refund"))
    assert "처리 중 문제가 생겼어요" in text_of(replies)
    assert "접수된 신청은 없어요" in text_of(replies)
    monkeypatch.undo()
    assert "취소/환불할 서비스를 선택해 주세요" in text_of(
        await engine.handle("t:1", TextInput("/refund"))
    )


def test_the_mermaid_diagram_shows_exactly_the_declared_transitions():
    diagram = (Path(__file__).parents[2] / "bot" / "dialogue" / "flow.mmd").read_text(
        encoding="utf-8"
    )
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+)", diagram, flags=re.MULTILINE))
    declared = {(s.value, t.value) for s, targets in TRANSITIONS.items() for t in targets}
    assert drawn == declared


async def test_a_pasted_code_without_link_links_and_is_never_logged(db):
    engine = make_engine(db)
    code = await engine.helpdesk.linking.issue_code("kim02")
    replies = await engine.handle("t:9", TextInput(code.code))
    assert "김철수 고객님 계정이 연결되었어요" in text_of(replies)
    await engine.handle("t:9", TextInput(f"이거 코드예요 {code.code} 맞나요"))
    events = await engine.helpdesk.faq_log.events(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert events and all(code.code not in e["text"] for e in events)
    assert all(code.code not in e["normalized"] for e in events)


async def test_a_renamed_subscriber_at_confirm_is_asked_for_the_account_again(db):
    engine = make_engine(db)
    await link(engine, "t:1", "hong01")
    replies = await engine.handle("t:1", TextInput("/refund"))
    for label in ("SMS-1002 · 61,000원", "다음 진행", "폐업"):
        replies = await engine.handle("t:1", press(replies, label))
    for typed in ("폐업합니다", "신한은행", "110-987-654321", "홍길동"):
        replies = await engine.handle("t:1", TextInput(typed))
    assert "신청할까요" in text_of(replies)
    renamed = CUSTOMERS.read_text(encoding="utf-8").replace("홍길동", "홍길순")
    await engine.helpdesk.customers.import_file(renamed.encode("utf-8"))
    replies = await engine.handle("t:1", press(replies, "취소/환불 신청"))
    assert "계좌를 다시 입력해 주세요" in text_of(replies)
    assert "은행을 선택하시거나" in text_of(replies)
    assert await engine.helpdesk.requests.list() == []
