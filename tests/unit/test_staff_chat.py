"""The staff chat's pure parts: button payloads, cards by state, the queue, members, /stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.staff import cards
from bot.staff.desk import MemberCache
from core.models import (
    AuditEvent,
    Customer,
    Inquiry,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    RequestStatus,
    Service,
    StaffTopic,
)
from core.storage.staff import OpenCase
from core.usecases import StaffCase
from tests.support.fake_time import FakeTime

FILED = datetime(2026, 12, 1, 5, 3, tzinfo=UTC)  # 14:03 KST


# Button payloads ---------------------------------------------------------------------------------


def test_payloads_round_trip_and_fit_telegrams_64_bytes():
    data = cards.payload(cards.REASON, "R-20261201-0003", 2)
    assert cards.parse(data) == cards.Press(cards.REASON, "R-20261201-0003", 2)
    assert cards.parse(cards.payload(cards.APPROVE, "R-20261201-0003")) == cards.Press(
        "ok", "R-20261201-0003"
    )
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    "data",
    ["", "g:refund", "staff:", "staff:ok", "staff:drop:R-1", "staff:ok:", "staff:rr:R-1:x"],
)
def test_anything_else_is_not_a_staff_press(data: str):
    assert cards.parse(data) is None


# Cards -------------------------------------------------------------------------------------------


def _topic(number: str, kind: str = "request", **fields: object) -> StaffTopic:
    return StaffTopic(
        chat_id="-100123",
        case_number=number,
        kind=kind,
        customer_id="jung01",
        created_at=FILED,
        updated_at=FILED,
        **fields,  # type: ignore[arg-type]
    )


def _request(status: RequestStatus, **fields: object) -> RefundRequest:
    values: dict[str, object] = {
        "number": "R-20261201-0003",
        "service_id": "SMS-1002",
        "customer_id": "jung01",
        "reason": Reason.DISSATISFIED,
        "message": "발송 기능이 필요 없어요",
        "service_fee": 33000,
        "sms_charge": 28000,
        "total": 61000,
        "payment_method": PaymentMethod.BANK_TRANSFER,
        "account": RefundAccount(bank="신한은행", number="110-123-456789", holder="정다은"),
        "status": status,
        "channel": "telegram",
        "chat_id": "tg:1001",
        "created_at": FILED,
        "updated_at": FILED,
    } | fields
    return RefundRequest(**values)  # type: ignore[arg-type]


def _case(request: RefundRequest, trail: tuple[AuditEvent, ...] = ()) -> StaffCase:
    service = Service(
        id="SMS-1002",
        customer_id="jung01",
        issued_on=date(2026, 11, 28),
        service_fee=33000,
        sms_charge=28000,
        sms_sent=0,
        payment_method=PaymentMethod.BANK_TRANSFER,
    )
    customer = Customer(id="jung01", name="정다은")
    return StaffCase(_topic(request.number), customer, request, None, service, trail)


def test_a_submitted_requests_card_has_the_facts_the_account_masked_and_two_buttons():
    case = _case(_request(RequestStatus.SUBMITTED))
    text, buttons = cards.card(case)

    assert cards.topic_name(case) == "R-20261201-0003 · 정다은 · SMS-1002"
    for fact in (
        "정다은 (jung01)",
        "발급 4일째 신청(7일 중)",
        "SMS 발송 0건",
        "61,000원 (이용료 33,000원 + SMS 충전 28,000원)",
        "신한은행 ***-***-**6789 (예금주 정다은)",
        "12월 1일(화) 14:03",
    ):
        assert fact in text, fact
    assert "110-123-456789" not in text
    assert [label for label, _ in buttons[0]] == ["승인", "반려"]


def test_the_buttons_follow_the_state_and_the_card_says_who_decided():
    approved_at = FILED + timedelta(hours=2)
    trail = (
        AuditEvent(
            request_number="R-20261201-0003",
            at=approved_at,
            actor="agent:tg:7001 (김상담)",
            action="approved",
        ),
    )
    text, buttons = cards.card(_case(_request(RequestStatus.APPROVED), trail))
    assert "처리: ✅ 승인 · tg:7001 (김상담) · 12월 1일(화) 16:03" in text
    assert [label for label, _ in buttons[0]] == ["환불 완료", "반려"]

    for ended in (RequestStatus.REJECTED, RequestStatus.REFUNDED, RequestStatus.WITHDRAWN):
        assert cards.card(_case(_request(ended, decision_note="중복 신청")))[1] == ()
    rejected, _ = cards.card(_case(_request(RequestStatus.REJECTED, decision_note="중복 신청")))
    assert "반려 사유: 중복 신청" in rejected


def test_an_inquiry_card_shows_why_self_service_stopped_and_the_last_turns():
    inquiry = Inquiry(
        number="Q-20261201-0001",
        customer_id="jung01",
        service_id=None,
        topic="not_eligible",
        context="SMS-1003: SMS를 3건 보내셨어요",
        message="부분 환불 받고 싶어요",
        transcript=("고객: 환불", "봇: 7일이 지난 서비스예요"),
        status="open",
        channel="kakao",
        chat_id="kakao:abc",
        created_at=FILED,
        updated_at=FILED,
    )
    case = StaffCase(
        _topic(inquiry.number, "inquiry"), Customer(id="jung01", name="정다은"), None, inquiry,
        None, (),
    )
    text, buttons = cards.card(case)
    assert cards.topic_name(case) == "Q-20261201-0001 · 정다은 · 문의"
    for fact in ("SMS를 3건 보내셨어요", "부분 환불 받고 싶어요", "봇: 7일이 지난", "카카오톡"):
        assert fact in text
    assert [label for label, _ in buttons[0]] == ["문의 종료"]


def test_the_queue_lists_open_cases_oldest_first_and_stays_under_telegrams_limit():
    cases = [
        OpenCase(
            number=f"R-20261201-{i:04d}",
            kind="request",
            status="submitted",
            customer_id="many",
            customer_name="이다수",
            service_id=f"SMS-15{i:03d}",
            created_at=FILED + timedelta(minutes=i),
            thread_id=100 + i,
        )
        for i in range(100)
    ]
    text = cards.queue_text(cases, -1001234567890)
    assert text.startswith("📋 처리 대기 100건 (오래된 순)")
    assert "https://t.me/c/1234567890/100" in text
    assert text.index("R-20261201-0000") < text.index("R-20261201-0001")
    assert len(text) <= 4096 and text.endswith("건")
    assert cards.queue_text([], -1001234567890) == "📋 처리 대기 중인 건이 없어요."


# Membership --------------------------------------------------------------------------------------


def test_membership_is_remembered_for_a_short_time():
    t = FakeTime()
    cache = MemberCache(ttl=60.0, clock=t.clock)
    cache.put(7001, True)
    cache.put(9999, False)
    assert cache.get(7001) is True and cache.get(9999) is False and cache.get(1) is None
    t.now += 61
    assert cache.get(7001) is None  # asked again: an agent who left loses access


# /stats ------------------------------------------------------------------------------------------


def test_the_chart_is_drawn_for_a_quiet_week_too():
    from bot.staff.stats import WeekStats, caption, chart_png

    days = tuple(date(2026, 11, 25) + timedelta(days=i) for i in range(7))
    quiet = WeekStats(
        days=days,
        questions=0,
        fallback_rate=0.0,
        per_intent={},
        daily_fallback_rate=(None,) * 7,
        requests_by_state={s.value: 0 for s in RequestStatus},
        median_hours_to_decision=None,
        decisions=0,
        daily_median_hours=(None,) * 7,
    )
    assert chart_png(quiet).startswith(b"\x89PNG")
    text = caption(quiet)
    assert "11월 25일(수)~12월 1일(화)" in text and "중앙값: -" in text
