"""The Kakao channel between skill requests and the engine: the 5-second guard, results picked up
by the next message, and notifications pulled onto answers exactly once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.dialogue import Button, Engine, Event, Reply, TextInput
from bot.kakao.channel import CHAT_PREFIX, DELIVERY, MAX_RUNNING_TURNS, KakaoChannel
from bot.kakao.skill import SkillRequest, SkillResponse
from bot.notify import Delivery, PullOutbox
from core.calendar import fixed_clock
from core.storage import Database
from core.usecases import Helpdesk
from faq.kb import load_knowledge_base
from faq.matcher import Matcher

RECORDED = Path(__file__).parents[1] / "data" / "kakao" / "fallback_text.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def skill_request(utterance: str, user: str = "user-1") -> SkillRequest:
    raw: dict[str, Any] = json.loads(RECORDED.read_text("utf-8"))
    raw["userRequest"]["utterance"] = utterance
    raw["userRequest"]["user"]["id"] = user
    return SkillRequest.model_validate(raw)


def shown(response: SkillResponse) -> str:
    return "\n".join(o.simple_text.text for o in response.template.outputs if o.simple_text)


def quick_texts(response: SkillResponse) -> list[str]:
    return [q.message_text or "" for q in response.template.quick_replies or []]


class SlowEngine:
    """Answers "echo: <text>" with one button; waits for `gate` first when it is closed."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.seen: list[tuple[str, str]] = []
        self._lock = asyncio.Lock()

    async def handle(self, chat_id: str, event: Event) -> list[Reply]:
        assert isinstance(event, TextInput)
        self.seen.append((chat_id, event.text))
        async with self._lock:  # like the engine: one chat's turns in order
            await self.gate.wait()
            return [Reply(f"echo: {event.text}", ((Button(f"btn {event.text}", "p"),),))]


class BrokenEngine:
    async def handle(self, chat_id: str, event: Event) -> list[Reply]:
        raise RuntimeError("boom")


@pytest.fixture
async def helpdesk(tmp_path: Path) -> AsyncIterator[Helpdesk]:
    db = await Database.open(tmp_path / "kakao.db")
    try:
        yield Helpdesk(db, fixed_clock(NOW))
    finally:
        await db.close()


async def enqueue(helpdesk: Helpdesk, user: str, number: str, answer: str) -> None:
    async with helpdesk.db.transaction() as tx:
        await tx.outbox.enqueue(
            CHAT_PREFIX + user, "inquiry_answer", {"number": number, "answer": answer}, NOW
        )


def test_kakao_declares_pull_delivery() -> None:
    assert DELIVERY is Delivery.PULL


async def test_a_quick_turn_is_answered_with_its_text_and_buttons():
    engine = SlowEngine()
    channel = KakaoChannel(engine, None, answer_within=1.0)
    outcome = await channel.respond(skill_request("안녕", user="abc"))
    assert shown(outcome.response) == "echo: 안녕"
    assert quick_texts(outcome.response) == ["btn 안녕"]
    assert engine.seen == [("kakao:abc", "안녕")]


async def test_a_slow_turn_gets_hold_on_in_time_and_the_next_message_gets_its_result():
    engine = SlowEngine()
    engine.gate.clear()
    channel = KakaoChannel(engine, None, answer_within=0.3)
    started = time.monotonic()
    outcome = await channel.respond(skill_request("첫 질문"))
    assert time.monotonic() - started < 0.6
    assert texts.KAKAO_HOLD_ON in shown(outcome.response)
    assert quick_texts(outcome.response) == [texts.KAKAO_BTN_RESULT]
    engine.gate.set()
    await asyncio.sleep(0.05)
    later = await channel.respond(skill_request("둘째 질문"))
    assert shown(later.response) == "echo: 첫 질문\n\necho: 둘째 질문"
    # The buttons are those of the latest turn only: the first turn's are stale now.
    assert quick_texts(later.response) == ["btn 둘째 질문"]


async def test_time_spent_before_the_answer_began_counts_against_the_budget():
    engine = SlowEngine()
    engine.gate.clear()
    channel = KakaoChannel(engine, None, answer_within=3.0)
    started = time.monotonic()
    outcome = await channel.respond(skill_request("질문"), spent=2.8)
    assert time.monotonic() - started < 0.5
    assert texts.KAKAO_HOLD_ON in shown(outcome.response)
    engine.gate.set()
    await channel.drain()


async def test_two_messages_sent_at_once_each_get_their_own_replies():
    engine = SlowEngine()
    engine.gate.clear()  # both turns finish back to back, before either answer wakes up
    channel = KakaoChannel(engine, None, answer_within=1.0)
    answers = asyncio.gather(
        channel.respond(skill_request("하나")), channel.respond(skill_request("둘"))
    )
    await asyncio.sleep(0.05)
    engine.gate.set()
    first, second = await answers
    assert shown(first.response) == "echo: 하나"
    assert shown(second.response) == "echo: 둘"


async def test_asking_for_the_result_is_not_handed_to_the_engine_while_one_is_pending():
    engine = SlowEngine()
    engine.gate.clear()
    channel = KakaoChannel(engine, None, answer_within=0.2)
    await channel.respond(skill_request("질문"))
    still = await channel.respond(skill_request(texts.KAKAO_BTN_RESULT))
    assert texts.KAKAO_HOLD_ON in shown(still.response)
    engine.gate.set()
    done = await channel.respond(skill_request(texts.KAKAO_BTN_RESULT))
    assert shown(done.response) == "echo: 질문"
    assert [text for _, text in engine.seen] == ["질문"]
    # With nothing pending, the same words are just text for the engine.
    await channel.respond(skill_request(texts.KAKAO_BTN_RESULT))
    assert [text for _, text in engine.seen] == ["질문", texts.KAKAO_BTN_RESULT]


async def test_a_chat_with_turns_piling_up_is_told_to_wait_and_its_message_is_not_processed():
    engine = SlowEngine()
    engine.gate.clear()
    channel = KakaoChannel(engine, None, answer_within=0.05)
    for n in range(MAX_RUNNING_TURNS):
        await channel.respond(skill_request(f"메시지 {n}"))
    refused = await channel.respond(skill_request("하나 더"))
    assert texts.KAKAO_STILL_BUSY in shown(refused.response)
    assert "하나 더" not in [text for _, text in engine.seen]
    # Another customer is not affected by it.
    engine.gate.set()
    other = await channel.respond(skill_request("안녕", user="other"))
    assert "echo: 안녕" in shown(other.response)


async def test_a_blank_utterance_is_not_handed_to_the_engine():
    engine = SlowEngine()
    channel = KakaoChannel(engine, None, answer_within=1.0)
    outcome = await channel.respond(skill_request("   "))
    assert shown(outcome.response) == texts.TEXT_ONLY
    assert engine.seen == []


async def test_a_failure_that_escapes_the_engine_still_gets_a_valid_apology():
    channel = KakaoChannel(BrokenEngine(), None, answer_within=1.0)
    outcome = await channel.respond(skill_request("안녕"))
    assert "문제가 생겼어요" in shown(outcome.response)


async def test_a_notification_rides_on_top_of_the_next_answer_exactly_once(helpdesk):
    await enqueue(helpdesk, "user-1", "Q-20261128-0001", "부분 환불이 가능합니다.")
    channel = KakaoChannel(SlowEngine(), PullOutbox(helpdesk), answer_within=1.0)
    first = await channel.respond(skill_request("안녕"))
    outputs = first.response.template.outputs
    assert outputs[0].simple_text is not None
    assert outputs[0].simple_text.text.startswith("🔔 고객센터 문의(Q-20261128-0001)")
    assert "echo: 안녕" in shown(first.response)
    await channel.written(first, True)
    second = await channel.respond(skill_request("또"))
    assert "🔔" not in shown(second.response)
    rows = await helpdesk.notifications.rows()
    assert rows[0]["sent_at"] is not None


async def test_a_notification_whose_answer_was_not_written_comes_with_the_next_one(helpdesk):
    await enqueue(helpdesk, "user-1", "Q-1", "답변")
    channel = KakaoChannel(SlowEngine(), PullOutbox(helpdesk), answer_within=1.0)
    first = await channel.respond(skill_request("안녕"))
    await channel.written(first, False)
    second = await channel.respond(skill_request("다시"))
    assert "🔔 고객센터 문의(Q-1)" in shown(second.response)


async def test_notifications_wait_while_a_turn_is_still_running(helpdesk):
    await enqueue(helpdesk, "user-1", "Q-1", "답변")
    engine = SlowEngine()
    engine.gate.clear()
    channel = KakaoChannel(engine, PullOutbox(helpdesk), answer_within=0.2)
    held = await channel.respond(skill_request("질문"))
    assert "🔔" not in shown(held.response) and held.notification is None
    engine.gate.set()
    done = await channel.respond(skill_request(texts.KAKAO_BTN_RESULT))
    assert "🔔 고객센터 문의(Q-1)" in shown(done.response)


async def test_another_users_notification_is_not_shown(helpdesk):
    await enqueue(helpdesk, "someone-else", "Q-9", "답변")
    channel = KakaoChannel(SlowEngine(), PullOutbox(helpdesk), answer_within=1.0)
    outcome = await channel.respond(skill_request("안녕"))
    assert "🔔" not in shown(outcome.response)


async def test_a_locked_database_gets_hold_on_and_the_result_comes_after_it_is_released(
    tmp_path: Path,
):
    """The real engine on a database another process holds the write lock of."""
    path = tmp_path / "locked.db"
    db = await Database.open(path)
    try:
        helpdesk = Helpdesk(db, fixed_clock(NOW))
        kb = load_knowledge_base()
        engine = Engine(helpdesk, kb, Matcher(kb), channel="kakao")
        channel = KakaoChannel(engine, PullOutbox(helpdesk), answer_within=0.5)
        other = sqlite3.connect(path, timeout=1, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            held = await channel.respond(skill_request("SMS 충전 금액도 환불되나요?"))
            assert time.monotonic() - started < 1.5
            assert texts.KAKAO_HOLD_ON in shown(held.response)
        finally:
            other.execute("ROLLBACK")
            other.close()
        result = await channel.respond(skill_request(texts.KAKAO_BTN_RESULT))
        assert "SMS를 사용(발송)하지 않으셨다면" in shown(result.response)
        await channel.drain()
    finally:
        await db.close()
