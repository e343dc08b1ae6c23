"""One unit of work per turn: a conversation conflict rolls the whole turn back, and the retry
does everything once — the link, the filing, the FAQ event, the inquiry — with the right reply."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, assemble
from bot.dialogue import Press, Reply, TextInput
from core.calendar import fixed_clock
from core.models import OPEN_REQUEST_STATUSES
from core.storage import Database
from core.storage.conversations import Conversations
from core.storage.customers import OPEN_STATUSES_SQL

pytestmark = pytest.mark.both_backends

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST


@pytest.fixture
async def app(db: Database) -> App:
    app = assemble(db, channel="test", clock=fixed_clock(NOW))
    await app.helpdesk.customers.import_file(CUSTOMERS.read_bytes())
    return app


def conflict_next_save(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the next save of a conversation finds it moved on by another writer."""
    conflicts: list[str] = []
    original = Conversations.save

    async def save(self: Conversations, chat_id: str, *args: Any) -> bool:
        if not conflicts:
            conflicts.append(chat_id)
            return False
        return await original(self, chat_id, *args)

    monkeypatch.setattr(Conversations, "save", save)
    return conflicts


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def press(replies: list[Reply], label: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return Press(button.payload)
    raise AssertionError(label)


async def link(app: App, chat: str = "t:1") -> None:
    code = await app.helpdesk.linking.issue_code("hong01")
    await app.engine.handle(chat, TextInput(f"/start {code.code}"))


async def test_a_link_retried_after_a_conflict_links_once_and_greets(app, raw_db, monkeypatch):
    code = await app.helpdesk.linking.issue_code("hong01")
    conflict_once = conflict_next_save(monkeypatch)
    replies = await app.engine.handle("t:1", TextInput(f"/start {code.code}"))
    assert conflict_once == ["t:1"]
    assert "홍길동 고객님 계정이 연결되었어요" in text_of(replies)
    assert raw_db.rows("SELECT count(*) FROM link_failures") == [(0,)]
    assert raw_db.rows("SELECT count(*) FROM link_codes WHERE used_by = 't:1'") == [(1,)]


async def test_a_confirm_retried_after_a_conflict_files_once_and_says_filed(
    app, raw_db, monkeypatch
):
    await link(app)
    replies = await app.engine.handle("t:1", TextInput("/refund"))
    for label in ("SMS-1001 · 31,000원", "다음 진행", "폐업"):
        replies = await app.engine.handle("t:1", press(replies, label))
    summary = await app.engine.handle("t:1", TextInput("폐업합니다"))
    seen = conflict_next_save(monkeypatch)
    replies = await app.engine.handle("t:1", press(summary, "취소/환불 신청"))
    assert seen == ["t:1"]
    assert "취소/환불 신청이 접수되었어요" in text_of(replies)
    assert "이미 접수된 신청" not in text_of(replies)
    assert raw_db.rows("SELECT number, status FROM refund_requests") == [
        ("R-20261128-0001", "submitted")
    ]
    assert raw_db.rows("SELECT count(*) FROM request_events") == [(1,)]


async def test_a_question_retried_after_a_conflict_is_logged_once(app, raw_db, monkeypatch):
    conflict_once = conflict_next_save(monkeypatch)
    replies = await app.engine.handle("t:9", TextInput("SMS 충전 금액도 환불되나요?"))
    assert conflict_once == ["t:9"]
    assert "충전 금액" in text_of(replies)
    assert raw_db.rows("SELECT kind, intent FROM faq_events") == [("answer", "sms_charge_refund")]


async def test_an_inquiry_retried_after_a_conflict_is_filed_once(app, raw_db, monkeypatch):
    await link(app)
    replies = await app.engine.handle("t:1", TextInput("/refund"))
    replies = await app.engine.handle("t:1", press(replies, "목록에 없는 서비스가 있어요"))
    replies = await app.engine.handle("t:1", press(replies, "고객센터에 문의 남기기"))
    seen = conflict_next_save(monkeypatch)
    replies = await app.engine.handle("t:1", TextInput("9일째인데 취소하고 싶어요"))
    assert seen == ["t:1"]
    assert "고객센터 문의가 접수되었어요" in text_of(replies)
    assert raw_db.rows("SELECT count(*) FROM inquiries") == [(1,)]


async def test_the_one_open_request_index_uses_the_one_definition_of_open(app, raw_db, backend):
    if backend == "postgresql":
        query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'one_open_request_per_service'"
    else:
        query = "SELECT sql FROM sqlite_master WHERE name = 'one_open_request_per_service'"
    [(sql,)] = raw_db.rows(query)
    indexed = set(re.findall(r"'(\w+)'", sql.rsplit("WHERE", 1)[1]))
    assert indexed == {status.value for status in OPEN_REQUEST_STATUSES}
    assert set(re.findall(r"'(\w+)'", OPEN_STATUSES_SQL)) == indexed
