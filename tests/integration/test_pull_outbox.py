"""Pull delivery (bot/notify.py `PullOutbox`): a channel that can only answer takes a chat's
notifications one at a time, in order, exactly once — and gets one back if its answer failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.notify import PullOutbox
from core.calendar import fixed_clock
from core.storage import Database
from core.usecases import Helpdesk

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
CHAT = "kakao:user-1"


@pytest.fixture
async def helpdesk(db: Database) -> Helpdesk:
    return Helpdesk(db, fixed_clock(NOW))


async def enqueue(helpdesk: Helpdesk, chat_id: str, number: str, answer: str) -> None:
    async with helpdesk.db.transaction() as tx:
        payload = {"number": number, "answer": answer}
        await tx.outbox.enqueue(chat_id, "inquiry_answer", payload, NOW)


async def test_the_oldest_notification_of_the_chat_is_taken_with_its_message(helpdesk):
    await enqueue(helpdesk, CHAT, "Q-1", "첫 답변")
    await enqueue(helpdesk, CHAT, "Q-2", "둘째 답변")
    await enqueue(helpdesk, "kakao:someone-else", "Q-3", "남의 답변")
    outbox = PullOutbox(helpdesk)
    taken = await outbox.take(CHAT)
    assert taken is not None
    item, reply = taken
    assert item.chat_id == CHAT
    assert "Q-1" in reply.text and "첫 답변" in reply.text


async def test_a_taken_notification_is_not_taken_again_by_a_concurrent_answer(helpdesk):
    await enqueue(helpdesk, CHAT, "Q-1", "답변")
    outbox = PullOutbox(helpdesk)
    assert await outbox.take(CHAT) is not None
    assert await outbox.take(CHAT) is None


async def test_once_delivered_the_next_one_comes_and_the_first_never_again(helpdesk):
    await enqueue(helpdesk, CHAT, "Q-1", "첫 답변")
    await enqueue(helpdesk, CHAT, "Q-2", "둘째 답변")
    outbox = PullOutbox(helpdesk)
    first = await outbox.take(CHAT)
    assert first is not None
    await outbox.delivered(first[0])
    second = await outbox.take(CHAT)
    assert second is not None and "Q-2" in second[1].text
    await outbox.delivered(second[0])
    assert await outbox.take(CHAT) is None
    rows = await helpdesk.notifications.rows()
    assert all(r["sent_at"] for r in rows if r["chat_id"] == CHAT)


async def test_an_answer_that_did_not_go_out_gives_its_notification_back(helpdesk):
    await enqueue(helpdesk, CHAT, "Q-1", "답변")
    outbox = PullOutbox(helpdesk)
    taken = await outbox.take(CHAT)
    assert taken is not None
    await outbox.not_delivered(taken[0], "connection closed")
    again = await outbox.take(CHAT)
    assert again is not None and again[0].id == taken[0].id


async def test_a_claim_that_ran_out_is_offered_again(db: Database):
    early = Helpdesk(db, fixed_clock(NOW))
    await enqueue(early, CHAT, "Q-1", "답변")
    assert await PullOutbox(early, lease=timedelta(minutes=2)).take(CHAT) is not None
    later = Helpdesk(db, fixed_clock(NOW + timedelta(minutes=3)))
    assert await PullOutbox(later).take(CHAT) is not None


async def test_a_notification_no_code_can_render_is_set_aside_and_the_next_one_comes(helpdesk):
    async with helpdesk.db.transaction() as tx:
        await tx.outbox.enqueue(CHAT, "from_the_future", {}, NOW)
    await enqueue(helpdesk, CHAT, "Q-2", "답변")
    taken = await PullOutbox(helpdesk).take(CHAT)
    assert taken is not None and "Q-2" in taken[1].text
    rows = {r["kind"]: r for r in await helpdesk.notifications.rows()}
    assert rows["from_the_future"]["failed_at"] is not None
