"""Withdrawing a filed request (customer only, submitted only), and what agents see of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.calendar import fixed_clock
from core.errors import IllegalTransition, NotFound
from core.models import Reason, RequestStatus
from core.storage import Database
from core.usecases import Filing, Helpdesk
from tests.support.databases import RawDatabase

pytestmark = pytest.mark.both_backends

DAY_3 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST on day 3 of the demo services


@pytest.fixture
async def desk(db: Database, demo_bytes: bytes) -> Helpdesk:
    helpdesk = Helpdesk(db, fixed_clock(DAY_3))
    await helpdesk.customers.import_file(demo_bytes)
    return helpdesk


async def file(desk: Helpdesk, key: str = "chat-1:flow-1") -> str:
    request, _ = await desk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1001",
            reason=Reason.BUSINESS_ENDED,
            message="사업을 정리합니다",
            account=None,
            channel="telegram",
            chat_id="tg:1",
            submission_key=key,
        )
    )
    return request.number


async def withdraw(desk: Helpdesk, number: str, customer_id: str = "hong01"):
    return await desk.requests.withdraw(
        number, customer_id=customer_id, channel="telegram", chat_id="tg:1"
    )


async def test_a_submitted_request_is_withdrawn_by_its_customer_with_the_chat_in_the_trail(desk):
    number = await file(desk)
    withdrawn = await withdraw(desk, number)
    assert withdrawn.status is RequestStatus.WITHDRAWN
    _, events = await desk.requests.show(number)
    assert [(e.action, e.actor) for e in events] == [
        ("submitted", "customer:tg:1"),
        ("withdrawn", "customer:tg:1"),
    ]


async def test_a_withdrawn_request_never_reaches_the_review_queue(desk):
    number = await file(desk)
    await withdraw(desk, number)
    assert await desk.requests.list(RequestStatus.SUBMITTED) == []
    assert [r.status for r in await desk.requests.list()] == [RequestStatus.WITHDRAWN]


async def test_the_service_can_be_filed_again_after_a_withdrawal(desk, raw_db: RawDatabase):
    first = await file(desk)
    await withdraw(desk, first)
    overview = {v.service.id: v for v in await desk.customers.services_overview("hong01")}
    assert overview["SMS-1001"].eligibility.eligible
    second = await file(desk, key="chat-1:flow-2")
    assert second != first
    rows = raw_db.rows("SELECT status FROM refund_requests ORDER BY number")
    assert rows == [("withdrawn",), ("submitted",)]


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_only_a_submitted_request_can_be_withdrawn(desk, decision: str):
    number = await file(desk)
    if decision == "approve":
        await desk.requests.approve(number, "kim")
    else:
        await desk.requests.reject(number, "kim", "SMS 발송 이력")
    with pytest.raises(IllegalTransition, match="cannot be withdrawn"):
        await withdraw(desk, number)


async def test_a_withdrawn_request_cannot_be_approved_or_withdrawn_again(desk):
    number = await file(desk)
    await withdraw(desk, number)
    with pytest.raises(IllegalTransition):
        await desk.requests.approve(number, "kim")
    with pytest.raises(IllegalTransition):
        await withdraw(desk, number)


async def test_another_customers_request_is_not_found(desk):
    number = await file(desk)
    with pytest.raises(NotFound):
        await withdraw(desk, number, customer_id="kim02")
    assert (await desk.requests.show(number))[0].status is RequestStatus.SUBMITTED
