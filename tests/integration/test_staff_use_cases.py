"""The staff chat's side of the use cases on a real SQLite file: events written with the change
that caused them, the case ↔ topic rows, relays, reminders and a change of staff chat."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.models import Attachment, Reason
from core.storage import Database
from core.usecases import Filing, Helpdesk, InquiryFiling

STAFF = "-1001234567890"
LIVE = f"staff:{STAFF}:live"
BULK = f"staff:{STAFF}"
START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # day 3 of the demo services


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def desk(db: Database, demo_bytes: bytes, clock: Clock) -> Helpdesk:
    """The demo customers imported; no staff chat yet."""
    helpdesk = Helpdesk(db, clock)
    await helpdesk.customers.import_file(demo_bytes)
    return helpdesk


async def file_request(helpdesk: Helpdesk, service_id: str = "SMS-1001") -> str:
    request, _ = await helpdesk.requests.file(
        Filing(
            customer_id="hong01",
            service_id=service_id,
            reason=Reason.DISSATISFIED,
            message="해지합니다",
            account=None,
            channel="telegram",
            chat_id="tg:1001",
            submission_key=None,
        )
    )
    return request.number


async def file_inquiry(helpdesk: Helpdesk, customer_id: str = "hong01", chat: str = "tg:1001"):
    inquiry, _ = await helpdesk.inquiries.file(
        InquiryFiling(
            customer_id=customer_id,
            service_id=None,
            topic="not_eligible",
            context="SMS-1003: SMS를 3건 보내셨어요",
            message="부분 환불 받을 수 있나요?",
            transcript=("고객: 환불", "봇: 안내"),
            attachments=(),
            channel="telegram",
            chat_id=chat,
            submission_key=None,
        )
    )
    return inquiry.number


def staff_rows(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute("SELECT * FROM outbox WHERE chat_id LIKE 'staff:%' ORDER BY id")
        ]
    finally:
        conn.close()


def events(path: Path) -> list[tuple[str, str]]:
    """(lane, event kind) of every staff outbox row."""
    return [(r["chat_id"], r["kind"]) for r in staff_rows(path)]


async def test_without_a_staff_chat_nothing_is_written_for_agents(desk: Helpdesk, db_path: Path):
    number = await file_request(desk)
    await desk.requests.approve(number, "kim")
    assert staff_rows(db_path) == []


async def test_a_filed_request_and_its_decisions_are_written_in_their_own_transaction(
    desk: Helpdesk, db_path: Path
):
    await desk.staff.enable(STAFF)
    number = await file_request(desk)
    await desk.requests.approve(number, "tg:7001 (김상담)")
    await desk.requests.mark_refunded(number, "lee")

    assert events(db_path) == [
        (BULK, "staff_opened"),
        (LIVE, "staff_changed"),
        (LIVE, "staff_changed"),
    ]
    changed = [r["payload"] for r in staff_rows(db_path)[1:]]
    assert '"actor": "agent:tg:7001 (김상담)"' in changed[0]
    assert '"action": "approved"' in changed[0]
    assert '"customer_id"' not in "".join(changed)  # staff rows are not customer notices
    case = await desk.staff.case(STAFF, number)
    assert case is not None and case.ended and case.request is not None
    assert [e.action for e in case.trail] == ["submitted", "approved", "refunded"]


async def test_a_failed_decision_writes_no_staff_event(desk: Helpdesk, db_path: Path):
    await desk.staff.enable(STAFF)
    number = await file_request(desk)
    with pytest.raises(Exception, match="cannot be refunded"):
        await desk.requests.mark_refunded(number, "lee")
    assert events(db_path) == [(BULK, "staff_opened")]


async def test_enabling_queues_the_open_cases_filed_before_oldest_first(
    desk: Helpdesk, db_path: Path, clock: Clock
):
    first = await file_request(desk, "SMS-1001")
    clock.now += timedelta(minutes=5)
    inquiry = await file_inquiry(desk)
    clock.now += timedelta(minutes=5)
    ended = await file_request(desk, "SMS-1004")
    await desk.requests.reject(ended, "kim", "중복 신청")

    assert await desk.staff.enable(STAFF) == 2
    assert await desk.staff.enable(STAFF) == 0  # a restart queues nothing twice
    payloads = [r["payload"] for r in staff_rows(db_path)]
    assert [first in payloads[0], inquiry in payloads[1]] == [True, True]
    queue = await desk.staff.open_cases(STAFF)
    assert [c.number for c in queue] == [first, inquiry]
    assert queue[0].customer_name == "홍길동" and queue[0].service_id == "SMS-1001"


async def test_a_new_staff_chat_gives_up_the_old_ones_pending_messages(
    desk: Helpdesk, db_path: Path
):
    await desk.staff.enable(STAFF)
    await file_request(desk)
    await desk.staff.enable("-100999")
    await desk.staff.enable(None)
    await file_request(desk, "SMS-1004")

    rows = staff_rows(db_path)
    assert all(r["failed_at"] is not None for r in rows)
    assert {r["chat_id"] for r in rows} == {BULK, "staff:-100999"}


async def test_an_inquiry_from_a_customer_with_a_recent_case_shares_its_topic(
    desk: Helpdesk, clock: Clock
):
    await desk.staff.enable(STAFF)
    request = await file_request(desk)
    clock.now += timedelta(days=3)
    inquiry = await file_inquiry(desk)
    other = await file_inquiry(desk, customer_id="kim02", chat="tg:2002")
    clock.now += timedelta(days=20)
    late = await file_inquiry(desk)

    shared = await desk.staff.case(STAFF, inquiry)
    assert shared is not None and shared.topic.owner == request
    assert [c.number for c in await desk.staff.topic_cases(STAFF, request)] == [request, inquiry]
    for number in (other, late):
        own = await desk.staff.case(STAFF, number)
        assert own is not None and own.topic.owner == number


async def test_a_customer_message_is_relayed_only_while_their_hand_off_is_open(
    desk: Helpdesk, db_path: Path
):
    await desk.staff.enable(STAFF)
    assert await desk.staff.relay_customer_message("tg:1001", "여보세요", None) is None
    number = await file_inquiry(desk)

    first = await desk.staff.relay_customer_message("tg:1001", "추가로 말씀드려요", None)
    photo = Attachment(file_id="AgAC-1", kind="photo")
    second = await desk.staff.relay_customer_message("tg:1001", None, photo)
    await desk.inquiries.answer(number, "tg:7001 (김상담)", "확인해 볼게요")
    after_answer = await desk.staff.relay_customer_message("tg:1001", "감사합니다", None)
    await desk.inquiries.close(number, "tg:7001 (김상담)")
    closed = await desk.staff.relay_customer_message("tg:1001", "또 있어요", None)
    elsewhere = await desk.staff.relay_customer_message("tg:2002", "다른 채팅", None)

    assert first is not None and first.number == number and first.acknowledge
    assert second is not None and not second.acknowledge
    assert after_answer is not None and after_answer.acknowledge
    assert closed is None and elsewhere is None
    kinds = [k for _, k in events(db_path)]
    assert kinds == [
        "staff_opened",
        "staff_relay",
        "staff_relay",
        "staff_changed",
        "staff_relay",
        "staff_changed",
    ]


async def test_an_undecided_case_is_reminded_once(desk: Helpdesk, db_path: Path, clock: Clock):
    await desk.staff.enable(STAFF)
    waiting = await file_request(desk, "SMS-1001")
    decided = await file_request(desk, "SMS-1004")
    await desk.requests.approve(decided, "kim")
    inquiry = await file_inquiry(desk)

    clock.now += timedelta(hours=3)
    assert await desk.staff.remind_due(STAFF, timedelta(hours=4)) == 0
    clock.now += timedelta(hours=2)
    assert await desk.staff.remind_due(STAFF, timedelta(hours=4)) == 2
    assert await desk.staff.remind_due(STAFF, timedelta(hours=4)) == 0

    reminded = [r["payload"] for r in staff_rows(db_path) if r["kind"] == "staff_remind"]
    assert sorted(reminded) == sorted(
        f'{{"event": "remind", "case": "{number}"}}' for number in (waiting, inquiry)
    )


async def test_a_typed_rejection_reason_is_awaited_from_the_agent_who_asked_for_a_while(
    desk: Helpdesk, clock: Clock
):
    await desk.staff.enable(STAFF)
    number = await file_request(desk)
    await desk.staff.ask_reject_reason(STAFF, number, "7001", "김상담")

    assert await desk.staff.pending_reject(STAFF, number, "7001") == number
    assert await desk.staff.pending_reject(STAFF, number, "7002") is None
    clock.now += timedelta(hours=1)
    assert await desk.staff.pending_reject(STAFF, number, "7001") is None
    await desk.staff.ask_reject_reason(STAFF, number, "7001", "김상담")
    await desk.requests.reject(number, "tg:7001 (김상담)", "SMS 발송 이력이 확인됐어요")
    assert await desk.staff.pending_reject(STAFF, number, "7001") is None


async def test_the_schema_keeps_the_topic_after_a_restart(db_path: Path, demo_bytes: bytes):
    db = await Database.open(db_path)
    helpdesk = Helpdesk(db, Clock(START))
    await helpdesk.customers.import_file(demo_bytes)
    await helpdesk.staff.enable(STAFF)
    number = await file_request(helpdesk)
    await helpdesk.staff.record(STAFF, number, thread_id=77, card_message_id=78)
    await db.close()

    again = await Database.open(db_path)
    try:
        helpdesk = Helpdesk(again, Clock(START))
        assert await helpdesk.staff.thread_owner(STAFF, 77) == number
        case = await helpdesk.staff.case(STAFF, number)
        assert case is not None and case.topic.card_message_id == 78
    finally:
        await again.close()
