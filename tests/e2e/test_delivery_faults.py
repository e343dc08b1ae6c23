"""Notices and replies when the Bot API misbehaves: the bot's real Telegram channel (PTB over
HTTP) against the stand-in Bot API with injected faults, on a real SQLite file.

The red-team finding: with a Bot API that hung past PTB's read timeout and then dropped the
connection, approvals were recorded as sent and never arrived. A notice now counts as sent only
on a confirmed answer; otherwise it stays due (at-least-once), and a confirmed send is never
repeated. The outbox clock is injected, so back-off waits cost no real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import NetworkError
from telegram.ext import Application

from bot.dialogue import Reply
from bot.notify import OutboxDeliverer
from bot.settings import Settings
from bot.telegram import TelegramChannel
from core.calendar import to_kst
from core.models import Reason
from core.storage import Database
from core.usecases import Filing, Helpdesk
from testkit.botapi import FakeBotAPI
from testkit.records import customer, import_file, service

TOKEN = "424242:DELIVERY-test"
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST
FIRST_CHAT = 7001


class Clock:
    """The outbox's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Bot:
    """The Telegram channel's pieces a test drives by hand (no polling, no outbox loop)."""

    api: FakeBotAPI
    desk: Helpdesk
    clock: Clock
    channel: TelegramChannel
    app: Application
    outbox: OutboxDeliverer

    def texts(self, chat_id: int) -> list[str]:
        """What the customer in `chat_id` received."""
        return [m["text"] for m in self.api.messages(chat_id)]

    async def rows(self) -> list[dict]:
        """The outbox rows, oldest first."""
        return await self.desk.notifications.rows()

    @property
    def read_timeout(self) -> float:
        """How long PTB waits for an answer before giving up on a call."""
        return float(self.app.bot.request.read_timeout or 5.0)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """The stand-in Bot API."""
    with FakeBotAPI(TOKEN) as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
async def bot(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot's channel on a fresh database with five customers, one eligible service each."""
    db = await Database.open(tmp_path / "delivery.db")
    clock = Clock()
    desk = Helpdesk(db, clock)
    issued = to_kst(START).date()
    await desk.customers.import_file(
        import_file([customer(f"c{i}", "홍길동", [service(f"S-{i}", issued)]) for i in range(5)])
    )
    for i in range(5):  # each customer's chat is linked, as filing in the chat requires
        code = await desk.linking.issue_code(f"c{i}")
        await desk.linking.redeem(f"tg:{FIRST_CHAT + i}", code.code)
    channel = TelegramChannel(Settings(db=tmp_path / "delivery.db"))
    app = channel.build(TOKEN, api.base_url)
    try:
        async with app:  # getMe; no polling and no outbox loop: the test drives delivery
            yield Bot(api, desk, clock, channel, app, channel.outbox_deliverer(app, desk))
    finally:
        await db.close()


async def approve(bot: Bot, index: int) -> str:
    """File customer `index`'s request from chat FIRST_CHAT + index and approve it."""
    request, _ = await bot.desk.requests.file(
        Filing(
            customer_id=f"c{index}",
            service_id=f"S-{index}",
            reason=Reason.DISSATISFIED,
            message="해지합니다",
            account=None,
            channel="telegram",
            chat_id=f"tg:{FIRST_CHAT + index}",
            submission_key=None,
        )
    )
    await bot.desk.requests.approve(request.number, "kim")
    return request.number


def approvals(bot: Bot, index: int) -> int:
    """How many approval notices chat FIRST_CHAT + index received."""
    return sum("승인되었어요" in t for t in bot.texts(FIRST_CHAT + index))


async def test_a_notice_whose_send_hung_and_was_dropped_stays_due_and_arrives_later(bot: Bot):
    await approve(bot, 0)
    bot.api.drop_next("sendMessage", after=bot.read_timeout + 0.5)

    assert await bot.outbox.deliver_due() == 0
    [row] = await bot.rows()
    assert row["sent_at"] is None and "TimedOut" in row["last_error"]
    assert bot.texts(FIRST_CHAT) == []  # never arrived, and not recorded as sent

    bot.clock.now += timedelta(seconds=6)  # past the first back-off
    assert await bot.outbox.deliver_due() == 1
    assert approvals(bot, 0) == 1
    [row] = await bot.rows()
    assert row["sent_at"] is not None and row["attempts"] == 2


async def test_every_notice_recorded_as_sent_arrived_whatever_the_bot_api_did(bot: Bot):
    for index in range(5):
        await approve(bot, index)
    # In claim order: dropped at once, answered, carried out but reset, dropped, answered.
    bot.api.drop_next("sendMessage")
    bot.api.delay_next("sendMessage", 0)
    bot.api.reset_after_next("sendMessage")
    bot.api.drop_next("sendMessage")
    bot.api.delay_next("sendMessage", 0)
    for _ in range(4):
        await bot.outbox.deliver_due()
        for row in await bot.rows():
            if row["sent_at"] is not None:  # recorded as sent means the customer has it
                assert approvals(bot, int(row["chat_id"].removeprefix("tg:")) - FIRST_CHAT)
        bot.clock.now += timedelta(seconds=6)

    assert all(row["sent_at"] is not None for row in await bot.rows())
    assert [approvals(bot, i) for i in range(5)] == [1, 1, 2, 1, 1]
    # Chat 2's notice was carried out although its answer was lost, so it was sent again:
    # at-least-once. No notice whose send was confirmed went out twice.


async def test_a_notice_held_back_by_a_long_flood_wait_is_sent_after_it_not_before(bot: Bot):
    await approve(bot, 0)
    bot.api.fail_next("sendMessage", status=429, retry_after=120)

    assert await bot.outbox.deliver_due() == 0  # gave up at once rather than waiting 2 minutes
    bot.clock.now += timedelta(seconds=60)
    assert await bot.outbox.deliver_due() == 0  # Telegram asked for 120 s, not the 5 s back-off
    bot.clock.now += timedelta(seconds=61)
    assert await bot.outbox.deliver_due() == 1
    assert approvals(bot, 0) == 1
    assert [e["status"] for e in bot.api.request_log("sendMessage")] == [429, 200]


async def test_a_long_notice_resumes_after_the_parts_telegram_confirmed(bot: Bot):
    request, _ = await bot.desk.requests.file(
        Filing(
            customer_id="c0",
            service_id="S-0",
            reason=Reason.DISSATISFIED,
            message="해지합니다",
            account=None,
            channel="telegram",
            chat_id=f"tg:{FIRST_CHAT}",
            submission_key=None,
        )
    )
    await bot.desk.requests.reject(request.number, "kim", "확인 결과 " + "가" * 5000)

    def drop_the_second_part(method: str, params: dict, result: object) -> None:
        if len(bot.api.messages(FIRST_CHAT)) == 1:
            bot.api.drop_next("sendMessage")

    bot.api.on_call(drop_the_second_part)
    assert await bot.outbox.deliver_due() == 0
    assert len(bot.texts(FIRST_CHAT)) == 1
    bot.clock.now += timedelta(seconds=6)
    assert await bot.outbox.deliver_due() == 1

    texts = bot.texts(FIRST_CHAT)
    assert "반려되었어요" in texts[0]
    assert len(texts) == len(set(texts)) >= 2  # no part repeated
    assert sum(t.count("가") for t in texts) == 5000  # and none missing


async def test_a_reply_that_got_no_answer_is_sent_again_once(bot: Bot):
    hang = bot.read_timeout + 0.5
    bot.api.drop_next("sendMessage", after=hang)
    await bot.channel.deliver_replies(bot.app, FIRST_CHAT, [Reply("무엇을 도와드릴까요?")])
    assert bot.texts(FIRST_CHAT) == ["무엇을 도와드릴까요?"]  # not lost to the hang

    # Answers lost again and again: the reply goes out at most twice, then the turn fails.
    bot.api.reset_after_next("sendMessage", count=3)
    with pytest.raises(NetworkError):
        await bot.channel.deliver_replies(bot.app, FIRST_CHAT + 1, [Reply("한 번 더")])
    assert bot.texts(FIRST_CHAT + 1) == ["한 번 더", "한 번 더"]
