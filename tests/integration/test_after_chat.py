"""After the chat: notifications through the outbox, inquiries, misses and stats (on both
databases)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.analytics import group_misses
from bot.dialogue import Reply
from bot.notify import OutboxDeliverer
from core.models import Reason, RefundAccount
from core.storage import Database
from core.usecases import Filing, Helpdesk, InquiryFiling

pytestmark = pytest.mark.both_backends

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST Saturday


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def desk(db: Database) -> Helpdesk:
    clock = Clock()
    helpdesk = Helpdesk(db, clock)
    await helpdesk.customers.import_file(CUSTOMERS.read_bytes())
    return helpdesk


async def link(helpdesk: Helpdesk, chat: str, customer_id: str = "hong01") -> None:
    """Link the chat, as a customer filing in it has done."""
    code = await helpdesk.linking.issue_code(customer_id)
    await helpdesk.linking.redeem(chat, code.code)


async def file_mycash(helpdesk: Helpdesk, chat: str = "tg:42") -> str:
    await link(helpdesk, chat)
    request, _ = await helpdesk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1001",
            reason=Reason.DISSATISFIED,
            message="해지합니다",
            account=None,
            channel="telegram",
            chat_id=chat,
            submission_key=None,
        )
    )
    return request.number


class Inbox:
    """A channel that records what it was asked to send, failing on demand."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.failures = failures
        self.error = error or ConnectionError("Bad Gateway")

    async def __call__(self, chat_id: str, reply: Reply) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append((chat_id, reply))


async def test_an_approval_made_while_the_bot_is_down_is_delivered_once_when_it_starts(desk):
    number = await file_mycash(desk)
    await desk.requests.approve(number, "kim")  # no bot running: it only lands in the outbox
    inbox = Inbox()
    deliverer = OutboxDeliverer(desk, "tg:", inbox)
    assert await deliverer.deliver_due() == 1
    assert await deliverer.deliver_due() == 0
    [(chat, reply)] = inbox.sent
    assert chat == "tg:42"
    # Approved on Saturday 11-28: 3-7 business days later is 12-2 (Wed) to 12-8 (Tue).
    assert f"취소/환불 신청({number})이 승인되었어요" in reply.text
    assert "12월 2일(수)~12월 8일(화)" in reply.text


async def test_a_failed_delivery_is_retried_after_a_back_off_not_lost(desk):
    number = await file_mycash(desk)
    await desk.requests.reject(number, "kim", "SMS 발송 이력이 확인되었어요")
    inbox = Inbox(failures=1)
    deliverer = OutboxDeliverer(desk, "tg:", inbox)
    assert await deliverer.deliver_due() == 0
    assert await deliverer.deliver_due() == 0  # too early: backing off
    desk.clock.now += timedelta(seconds=6)
    assert await deliverer.deliver_due() == 1
    [(_, reply)] = inbox.sent
    assert "반려되었어요" in reply.text and "사유: SMS 발송 이력이 확인되었어요" in reply.text
    [row] = await desk.notifications.rows()
    assert row["attempts"] == 2 and row["sent_at"] is not None


async def test_a_blocked_chat_is_given_up_on_instead_of_retried_forever(desk):
    number = await file_mycash(desk)
    await desk.requests.approve(number, "kim")
    deliverer = OutboxDeliverer(
        desk, "tg:", Inbox(failures=5), is_permanent=lambda exc: isinstance(exc, ConnectionError)
    )
    assert await deliverer.deliver_due() == 0
    [row] = await desk.notifications.rows()
    assert row["failed_at"] is not None and "Bad Gateway" in row["last_error"]


async def test_other_channels_do_not_claim_telegram_notifications(desk):
    number = await file_mycash(desk)
    await desk.requests.approve(number, "kim")
    inbox = Inbox()
    assert await OutboxDeliverer(desk, "console:", inbox).deliver_due() == 0
    assert inbox.sent == []


async def test_a_bank_refund_notification_names_only_the_last_four_digits(desk):
    await link(desk, "tg:42")
    request, _ = await desk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1002",
            reason=Reason.CLOSURE,
            message="폐업",
            account=RefundAccount(bank="신한은행", number="110-123-456789", holder="홍길동"),
            channel="telegram",
            chat_id="tg:42",
            submission_key=None,
        )
    )
    await desk.requests.approve(request.number, "kim")
    await desk.requests.mark_refunded(request.number, "kim")
    inbox = Inbox()
    await OutboxDeliverer(desk, "tg:", inbox).deliver_due()
    texts = [reply.text for _, reply in inbox.sent]
    assert "신한은행 끝자리 6789 계좌로 환불해 드릴 예정이에요" in texts[0]
    assert "환불이 완료되었어요" in texts[1] and "61,000원" in texts[1]
    assert all("110-123" not in t for t in texts)


async def test_a_request_filed_on_the_web_notifies_the_customers_linked_chat(desk):
    code = await desk.linking.issue_code("hong01")
    await desk.linking.redeem("tg:77", code.code)
    request, _ = await desk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1001",
            reason=Reason.SWITCHING,
            message="이전합니다",
            account=None,
            channel="web",
            chat_id=None,
            submission_key=None,
        )
    )
    await desk.requests.approve(request.number, "kim")
    [row] = await desk.notifications.rows()
    assert row["chat_id"] == "tg:77"


async def test_an_inquiry_answer_reaches_the_chat_it_came_from(desk):
    await link(desk, "tg:9", "late03")
    inquiry, created = await desk.inquiries.file(
        InquiryFiling(
            customer_id="late03",
            service_id=None,
            topic="not_eligible",
            context="SMS-3001: 발급 후 19일째",
            message="부분 환불 가능할까요",
            transcript=["고객: /refund"],
            attachments=[],
            channel="telegram",
            chat_id="tg:9",
            submission_key="tg:9:abc",
        )
    )
    assert created and inquiry.number == "Q-20261128-0001"
    await desk.inquiries.answer(inquiry.number, "lee", "부분 환불 심사를 진행할게요.")
    inbox = Inbox()
    await OutboxDeliverer(desk, "tg:", inbox).deliver_due()
    [(chat, reply)] = inbox.sent
    assert chat == "tg:9" and "부분 환불 심사를 진행할게요." in reply.text


async def test_a_decision_after_unlink_goes_to_the_chat_now_linked_never_the_old_one(desk):
    number = await file_mycash(desk, chat="tg:42")
    await desk.linking.unlink("tg:42")
    await link(desk, "tg:43")  # the customer linked another chat since
    await desk.requests.approve(number, "kim")
    inbox = Inbox()
    await OutboxDeliverer(desk, "tg:", inbox).deliver_due()
    assert [chat for chat, _ in inbox.sent] == ["tg:43"]


async def test_a_notice_waiting_when_the_chat_unlinks_is_not_sent_to_it(desk):
    number = await file_mycash(desk, chat="tg:42")
    await desk.requests.approve(number, "kim")  # queued for tg:42 while it was linked
    await desk.linking.unlink("tg:42")
    inbox = Inbox()
    assert await OutboxDeliverer(desk, "tg:", inbox).deliver_due() == 0
    [row] = await desk.notifications.rows()
    assert row["failed_at"] is not None and inbox.sent == []
    await link(desk, "tg:44")  # nobody left to tell: it is not delivered later either
    assert await OutboxDeliverer(desk, "tg:", inbox).deliver_due() == 0


async def test_a_notice_waiting_when_the_chat_relinks_elsewhere_goes_to_the_new_chat(desk):
    number = await file_mycash(desk, chat="tg:42")
    await desk.requests.approve(number, "kim")
    await link(desk, "tg:42", "kim02")  # the chat now belongs to someone else
    await link(desk, "console:hong")  # and the customer uses the terminal
    inbox = Inbox()
    assert await OutboxDeliverer(desk, "tg:", inbox).deliver_due() == 0
    assert await OutboxDeliverer(desk, "console:hong", inbox, exact=True).deliver_due() == 1
    assert [chat for chat, _ in inbox.sent] == ["console:hong"]


async def test_a_rejection_inside_the_seven_days_offers_to_file_again(desk):
    number = await file_mycash(desk)
    await desk.requests.reject(number, "kim", "사유를 더 적어 주세요")
    inbox = Inbox()
    await OutboxDeliverer(desk, "tg:", inbox).deliver_due()
    [(_, reply)] = inbox.sent
    assert "다시 신청하실 수 있어요" in reply.text
    assert "취소/환불 신청하기" in [b.label for b in reply.flat_buttons()]


def test_similar_misses_are_grouped_and_counted():
    events = [
        {"kind": "fallback", "normalized": q, "text": q, "helpful": None, "intent": None}
        for q in [
            "도메인 연장",
            "도메인 연장 어떻게 해요",
            "도메인연장 어떻게해요",
            "세금계산서 발행",
        ]
    ] + [
        {"kind": "feedback", "normalized": "환불", "text": "환불", "helpful": 0, "intent": "x"},
        {"kind": "answer", "normalized": "환불", "text": "환불", "helpful": None, "intent": "x"},
    ]
    groups = group_misses(events)
    assert groups[0].count == 3 and "도메인 연장" in groups[0].variant_list
    assert {g.example for g in groups[1:]} == {"세금계산서 발행", "환불"}


def helpdesk_cli(
    args: list[str], db: Database, key: bytes | None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "HELPDESK_DATABASE_URL": db.url.target,
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    if key is not None:
        env["HELPDESK_SECRET_KEY"] = key.decode()
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


async def test_agents_work_inquiries_misses_and_stats_from_the_command_line(desk, secret_key):
    for question in ("도메인 연장", "도메인 연장 어떻게 해요", "SSL 인증서 설치"):
        await desk.faq_log.record(
            chat_id="tg:1", kind="fallback", intent=None, text=question, normalized=question
        )
    await desk.faq_log.record(
        chat_id="tg:1", kind="answer", intent="mycash_refund", text="q", normalized="q"
    )
    number = await file_mycash(desk)
    desk.clock.now += timedelta(hours=5)
    await desk.requests.approve(number, "kim")
    await desk.inquiries.file(
        InquiryFiling(
            customer_id="hong01",
            service_id="SMS-1002",
            topic="other_name_account",
            context="SMS-1002: 타인 명의 계좌 환불 요청",
            message="어머니 계좌로",
            transcript=[],
            attachments=[],
            channel="telegram",
            chat_id="tg:42",
            submission_key=None,
        )
    )
    since = ["--since", "2026-11-01"]
    misses = helpdesk_cli(["faq", "misses", *since, "--json"], desk.db, secret_key)
    assert misses.returncode == 0, misses.stderr
    groups = json.loads(misses.stdout)
    assert groups[0]["count"] == 2 and set(groups[0]["variants"]) == {
        "도메인 연장",
        "도메인 연장 어떻게 해요",
    }
    stats = helpdesk_cli(["stats", *since, "--until", "2026-11-30", "--json"], desk.db, secret_key)
    figures = json.loads(stats.stdout)
    assert figures["questions"] == 4 and figures["fallback_rate"] == 0.75
    assert figures["requests_by_state"]["approved"] == 1
    assert figures["median_hours_to_approval"] == 5.0
    listed = json.loads(helpdesk_cli(["inquiries", "list", "--json"], desk.db, secret_key).stdout)
    assert [i["id"] for i in listed] == ["Q-20261128-0001"]
    answered = helpdesk_cli(
        [
            "inquiries",
            "answer",
            "Q-20261128-0001",
            "--text",
            "확인증을 보내 주세요",
            "--agent",
            "lee",
        ],
        desk.db,
        secret_key,
    )
    assert answered.returncode == 0 and "answered" in answered.stdout
    closed = helpdesk_cli(["inquiries", "close", "Q-20261128-0001"], desk.db, secret_key)
    assert closed.returncode == 0
    again = helpdesk_cli(
        ["inquiries", "answer", "Q-20261128-0001", "--text", "x"], desk.db, secret_key
    )
    assert again.returncode != 0 and "closed" in again.stderr


async def test_a_terminal_user_claims_only_its_own_notifications(desk):
    number = await file_mycash(desk, chat="console:alice")
    await desk.requests.approve(number, "kim")
    other = Inbox()
    assert await OutboxDeliverer(desk, "console:al", other, exact=True).deliver_due() == 0
    mine = Inbox()
    assert await OutboxDeliverer(desk, "console:alice", mine, exact=True).deliver_due() == 1
    assert other.sent == [] and mine.sent[0][0] == "console:alice"


async def test_a_chats_notifications_arrive_in_the_order_they_were_written(desk):
    number = await file_mycash(desk)
    await desk.requests.approve(number, "kim")
    await desk.requests.mark_refunded(number, "kim")
    inbox = Inbox(failures=1)  # the approval's first send fails
    deliverer = OutboxDeliverer(desk, "tg:", inbox)
    assert await deliverer.deliver_due() == 0  # the refund note waits behind the approval
    desk.clock.now += timedelta(seconds=6)
    assert await deliverer.deliver_due() == 2
    texts = [reply.text for _, reply in inbox.sent]
    assert "승인되었어요" in texts[0] and "환불이 완료되었어요" in texts[1]


async def test_a_claim_whose_lease_ran_out_cannot_overwrite_the_next_claim(desk):
    number = await file_mycash(desk)
    await desk.requests.approve(number, "kim")
    [stale] = await desk.notifications.claim("tg:", timedelta(minutes=2), limit=1)
    desk.clock.now += timedelta(minutes=3)  # the first process hung past its lease
    [fresh] = await desk.notifications.claim("tg:", timedelta(minutes=2), limit=1)
    assert fresh.id == stale.id and fresh.claimed_until != stale.claimed_until
    await desk.notifications.failed(stale, "late failure", timedelta(minutes=5))
    await desk.notifications.sent(fresh)
    [row] = await desk.notifications.rows()
    assert row["sent_at"] is not None and row["last_error"] is None
