"""The use cases on a real database (a SQLite file and PostgreSQL): filing, replays, races between
connections, linking, review and the trail."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.calendar import fixed_clock
from core.errors import (
    AlreadyOpen,
    IllegalTransition,
    ImportRejected,
    InvalidAccount,
    InvalidInput,
    InvalidLinkCode,
    NotEligible,
    NotFound,
)
from core.models import Reason, RefundAccount, RefundRequest, RequestStatus, ServiceStatus
from core.policy import NotActive, PastDeadline, RequestOpen, SmsUsed
from core.storage import Database
from core.usecases import Filing, Helpdesk
from tests.conftest import OpenDb
from tests.support.databases import RawDatabase

pytestmark = pytest.mark.both_backends

# The demo services were issued on 2026-11-20 (KST), so 11-26 is the last eligible day.
DAY_3 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST on 11-22


def helpdesk_at(db: Database, instant: datetime) -> Helpdesk:
    """The use cases with the clock stopped at `instant`."""
    return Helpdesk(db, fixed_clock(instant))


async def file(
    helpdesk: Helpdesk,
    service_id: str = "SMS-1001",
    *,
    customer_id: str = "hong01",
    account: RefundAccount | None = None,
    submission_key: str | None = None,
    message: str = "사업을 정리하게 되었습니다.",
) -> tuple[RefundRequest, bool]:
    """File a request the way the chat does."""
    return await helpdesk.requests.file(
        Filing(
            customer_id=customer_id,
            service_id=service_id,
            reason=Reason.BUSINESS_ENDED,
            message=message,
            account=account,
            channel="telegram",
            chat_id="chat-1",
            submission_key=submission_key,
        )
    )


def hong_account(**changes: str) -> RefundAccount:
    """홍길동's own refund account, with `changes` applied."""
    fields = {"bank": "국민은행", "number": "123456-01-234567", "holder": "홍길동"} | changes
    return RefundAccount(**fields)


@pytest.fixture
async def desk(db: Database, demo_bytes: bytes) -> Helpdesk:
    """The demo customers imported, the clock on day 3 of their services."""
    helpdesk = helpdesk_at(db, DAY_3)
    await helpdesk.customers.import_file(demo_bytes)
    return helpdesk


# --- filing and its races ---------------------------------------------------------------------


async def test_an_eligible_mycash_service_is_filed_with_the_full_refund(desk: Helpdesk) -> None:
    request, created = await file(desk)
    assert created
    assert request.status is RequestStatus.SUBMITTED
    assert (request.service_fee, request.sms_charge, request.total) == (11000, 20000, 31000)
    assert request.account is None
    stored, _ = await desk.requests.show(request.number)
    assert stored == request


async def test_two_concurrent_filings_from_two_connections_give_one_request(
    desk: Helpdesk, open_db: OpenDb, raw_db: RawDatabase
) -> None:
    other = await open_db()
    results = await asyncio.gather(
        file(desk), file(helpdesk_at(other, DAY_3)), return_exceptions=True
    )
    filed = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(filed) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], AlreadyOpen)
    assert refused[0].number == filed[0][0].number
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(1,)]


async def test_two_concurrent_filings_on_one_connection_give_one_request(
    desk: Helpdesk, raw_db: RawDatabase
) -> None:
    results = await asyncio.gather(file(desk), file(desk), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyOpen", "tuple"]
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(1,)]


async def test_a_replayed_submission_returns_the_same_request_and_files_nothing_new(
    desk: Helpdesk, raw_db: RawDatabase
) -> None:
    first, created_first = await file(desk, submission_key="chat-1:confirm:7")
    again, created_again = await file(desk, submission_key="chat-1:confirm:7")
    assert (created_first, created_again) == (True, False)
    assert again == first
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(1,)]
    assert raw_db.rows("SELECT count(*) FROM request_events") == [(1,)]


async def test_concurrent_replays_of_one_submission_file_once(
    desk: Helpdesk, open_db: OpenDb
) -> None:
    other = await open_db()
    results = await asyncio.gather(
        file(desk, submission_key="k1"), file(helpdesk_at(other, DAY_3), submission_key="k1")
    )
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].number == results[1][0].number


async def test_a_second_filing_for_a_service_with_an_open_request_names_it(
    desk: Helpdesk,
) -> None:
    request, _ = await file(desk)
    with pytest.raises(AlreadyOpen) as info:
        await file(desk, submission_key="another")
    assert info.value.number == request.number


async def test_an_open_request_is_shown_in_the_customers_overview(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    views = {v.service.id: v.eligibility for v in await desk.customers.services_overview("hong01")}
    assert views["SMS-1001"].reasons == (RequestOpen(request.number),)
    assert views["SMS-1004"].eligible
    assert views["SMS-1003"].reasons == (SmsUsed(3),)


async def test_a_blank_message_is_refused_and_nothing_is_filed(
    desk: Helpdesk, raw_db: RawDatabase
) -> None:
    with pytest.raises(InvalidInput):
        await file(desk, message="  \n ")
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(0,)]


async def test_the_message_is_stored_without_surrounding_whitespace(desk: Helpdesk) -> None:
    request, _ = await file(desk, message="  그만 쓸게요 \n")
    assert request.message == "그만 쓸게요"


# --- eligibility at the moment of filing ------------------------------------------------------


async def test_filing_on_day_seven_at_a_minute_to_midnight_in_seoul_succeeds(
    db: Database, demo_bytes: bytes
) -> None:
    helpdesk = helpdesk_at(db, datetime(2026, 11, 26, 14, 59, tzinfo=UTC))  # 23:59 KST 11-26
    await helpdesk.customers.import_file(demo_bytes)
    request, created = await file(helpdesk)
    assert created
    assert request.number.startswith("R-20261126-")


async def test_filing_half_an_hour_after_midnight_in_seoul_is_too_late(
    db: Database, demo_bytes: bytes
) -> None:
    helpdesk = helpdesk_at(db, datetime(2026, 11, 26, 15, 30, tzinfo=UTC))  # 00:30 KST 11-27
    await helpdesk.customers.import_file(demo_bytes)
    with pytest.raises(NotEligible) as info:
        await file(helpdesk)
    assert info.value.reasons == (PastDeadline(day=8, last_day=date(2026, 11, 26)),)


async def test_filing_for_a_service_that_sent_sms_is_refused(desk: Helpdesk) -> None:
    with pytest.raises(NotEligible) as info:
        await file(desk, "SMS-1003")
    assert info.value.reasons == (SmsUsed(3),)


async def test_another_customers_service_is_not_found(desk: Helpdesk, raw_db: RawDatabase) -> None:
    with pytest.raises(NotFound):
        await file(desk, "SMS-2001", customer_id="hong01")
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(0,)]


@pytest.mark.parametrize(
    ("customer_id", "service_id"), [("hong01", "SMS-9999"), ("nobody", "SMS-1001")]
)
async def test_an_unknown_service_or_customer_is_not_found(
    desk: Helpdesk, customer_id: str, service_id: str
) -> None:
    with pytest.raises(NotFound):
        await file(desk, service_id, customer_id=customer_id)


# --- request numbers --------------------------------------------------------------------------


async def test_request_numbers_carry_the_seoul_date_and_count_up(
    db: Database, demo_bytes: bytes
) -> None:
    helpdesk = helpdesk_at(db, datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # 08:30 KST 11-25
    await helpdesk.customers.import_file(demo_bytes)
    first, _ = await file(helpdesk, "SMS-1001")
    second, _ = await file(helpdesk, "SMS-1004")
    third, _ = await file(helpdesk, "SMS-2001", customer_id="kim02")
    assert [r.number for r in (first, second, third)] == [
        "R-20261125-0001",
        "R-20261125-0002",
        "R-20261125-0003",
    ]
    assert all(re.fullmatch(r"R-\d{8}-\d{4}", r.number) for r in (first, second, third))


async def test_a_refused_filing_does_not_use_up_a_request_number(desk: Helpdesk) -> None:
    with pytest.raises(InvalidAccount):
        await file(desk, "SMS-1002", account=hong_account(holder="김철수"))
    request, _ = await file(desk, "SMS-1001")
    assert request.number == "R-20261122-0001"


# --- bank-transfer refund accounts ------------------------------------------------------------


async def test_a_bank_transfer_refund_is_paid_to_the_subscribers_own_account(
    desk: Helpdesk,
) -> None:
    request, _ = await file(desk, "SMS-1002", account=hong_account())
    assert request.account == hong_account()
    assert request.total == 33000
    stored, _ = await desk.requests.show(request.number)
    assert stored.account == hong_account()


async def test_spaces_in_the_holder_name_do_not_matter(desk: Helpdesk) -> None:
    request, _ = await file(desk, "SMS-1002", account=hong_account(holder=" 홍 길동 "))
    assert request.account is not None
    assert request.account.holder == "홍 길동"


async def test_another_persons_account_is_refused(desk: Helpdesk, raw_db: RawDatabase) -> None:
    with pytest.raises(InvalidAccount, match="subscriber"):
        await file(desk, "SMS-1002", account=hong_account(holder="김철수"))
    assert raw_db.rows("SELECT count(*) FROM refund_requests") == [(0,)]


async def test_a_bank_transfer_refund_without_an_account_is_refused(desk: Helpdesk) -> None:
    with pytest.raises(InvalidAccount):
        await file(desk, "SMS-1002", account=None)


async def test_a_blank_bank_name_is_refused(desk: Helpdesk) -> None:
    with pytest.raises(InvalidAccount):
        await file(desk, "SMS-1002", account=hong_account(bank="  "))


@pytest.mark.parametrize(
    "number",
    [
        "123456789",  # 9 digits
        "12345678901234567",  # 17 digits
        "1234-5678-90ab",  # letters
        "123456--7890123",  # doubled hyphen
        "-1234567890",  # leading hyphen
        "",
    ],
)
async def test_an_invalid_account_number_is_refused(desk: Helpdesk, number: str) -> None:
    with pytest.raises(InvalidAccount):
        await file(desk, "SMS-1002", account=hong_account(number=number))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1234567890", "1234567890"),  # 10 digits
        ("1234-5678-9012-3456", "1234-5678-9012-3456"),  # 16 digits
        (" 110 123 456789 ", "110123456789"),
    ],
)
async def test_a_valid_account_number_is_stored_tidied(
    desk: Helpdesk, given: str, stored: str
) -> None:
    request, _ = await file(desk, "SMS-1002", account=hong_account(number=given))
    assert request.account is not None
    assert request.account.number == stored


async def test_an_account_given_for_a_mycash_refund_is_not_kept(desk: Helpdesk) -> None:
    request, _ = await file(desk, "SMS-1001", account=hong_account())
    assert request.account is None


# --- review: approve, reject, refunded --------------------------------------------------------


async def test_approve_then_refunded_moves_the_request_along_and_cancels_the_service(
    desk: Helpdesk,
) -> None:
    request, _ = await file(desk)
    assert (await desk.requests.approve(request.number, "kim")).status is RequestStatus.APPROVED
    assert (
        await desk.requests.mark_refunded(request.number, "kim")
    ).status is RequestStatus.REFUNDED
    views = {v.service.id: v for v in await desk.customers.services_overview("hong01")}
    assert views["SMS-1001"].service.status is ServiceStatus.CANCELLED
    assert views["SMS-1001"].eligibility.reasons == (NotActive(ServiceStatus.CANCELLED),)


async def test_a_refunded_service_cannot_be_filed_again(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    await desk.requests.mark_refunded(request.number, "kim")
    with pytest.raises(NotEligible) as info:
        await file(desk, submission_key="later")
    assert info.value.reasons == (NotActive(ServiceStatus.CANCELLED),)


async def test_a_rejection_keeps_the_reason_the_customer_will_read(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    rejected = await desk.requests.reject(request.number, "kim", "  이미 사용 이력이 있습니다. ")
    assert rejected.status is RequestStatus.REJECTED
    assert rejected.decision_note == "이미 사용 이력이 있습니다."


async def test_an_approved_request_can_still_be_rejected(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    assert (await desk.requests.reject(request.number, "kim", "확인 필요")).status is (
        RequestStatus.REJECTED
    )


async def test_a_rejected_request_no_longer_blocks_a_new_one(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.reject(request.number, "kim", "메시지 확인 필요")
    again, created = await file(desk, submission_key="second try")
    assert created
    assert again.number != request.number


async def test_a_rejection_without_a_reason_is_refused(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    with pytest.raises(InvalidInput):
        await desk.requests.reject(request.number, "kim", "   ")
    assert (await desk.requests.show(request.number))[0].status is RequestStatus.SUBMITTED


async def test_approving_twice_is_an_illegal_transition(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    with pytest.raises(IllegalTransition):
        await desk.requests.approve(request.number, "lee")


async def test_rejecting_a_refunded_request_is_an_illegal_transition(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    await desk.requests.mark_refunded(request.number, "kim")
    with pytest.raises(IllegalTransition):
        await desk.requests.reject(request.number, "lee", "취소")
    assert (await desk.requests.show(request.number))[0].status is RequestStatus.REFUNDED


async def test_a_request_cannot_be_refunded_before_it_is_approved(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    with pytest.raises(IllegalTransition):
        await desk.requests.mark_refunded(request.number, "kim")
    views = {v.service.id: v for v in await desk.customers.services_overview("hong01")}
    assert views["SMS-1001"].service.status is ServiceStatus.ACTIVE


async def test_a_rejected_request_cannot_be_approved(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.reject(request.number, "kim", "확인 필요")
    with pytest.raises(IllegalTransition):
        await desk.requests.approve(request.number, "kim")


@pytest.mark.parametrize("action", ["approve", "mark_refunded", "show"])
async def test_an_unknown_request_number_is_not_found(desk: Helpdesk, action: str) -> None:
    args = ("R-20261122-9999",) if action == "show" else ("R-20261122-9999", "kim")
    with pytest.raises(NotFound):
        await getattr(desk.requests, action)(*args)


# --- the audit trail --------------------------------------------------------------------------


async def test_every_change_appends_to_the_trail_with_who_and_when(
    db: Database, demo_bytes: bytes
) -> None:
    filed_at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    await helpdesk_at(db, filed_at).customers.import_file(demo_bytes)
    request, _ = await file(helpdesk_at(db, filed_at))
    await helpdesk_at(db, filed_at + timedelta(hours=1)).requests.approve(request.number, "kim")
    later = helpdesk_at(db, filed_at + timedelta(hours=2))
    await later.requests.mark_refunded(request.number, "lee")

    _, events = await helpdesk_at(db, filed_at).requests.show(request.number)
    assert [(e.action, e.actor) for e in events] == [
        ("submitted", "customer:telegram:chat-1"),
        ("approved", "agent:kim"),
        ("refunded", "agent:lee"),
    ]
    assert [e.at for e in events] == [
        filed_at,
        filed_at + timedelta(hours=1),
        filed_at + timedelta(hours=2),
    ]
    assert events[0].detail == "업무 종료; 31,000원"


async def test_a_rejection_reason_is_in_the_trail(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.reject(request.number, "kim", "사용 이력 확인")
    _, events = await desk.requests.show(request.number)
    assert (events[-1].action, events[-1].detail) == ("rejected", "사용 이력 확인")


async def test_a_refused_transition_leaves_no_trace_in_the_trail(desk: Helpdesk) -> None:
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    with pytest.raises(IllegalTransition):
        await desk.requests.approve(request.number, "kim")
    _, events = await desk.requests.show(request.number)
    assert [e.action for e in events] == ["submitted", "approved"]


# --- import -----------------------------------------------------------------------------------


async def test_an_import_reports_what_it_added_changed_and_left_alone(
    db: Database, demo_records: dict[str, Any]
) -> None:
    helpdesk = helpdesk_at(db, DAY_3)
    first = await helpdesk.customers.import_file(json.dumps(demo_records).encode())
    assert first.customers["added"] == ["hong01", "kim02"]
    assert len(first.services["added"]) == 5

    demo_records["customers"][1]["name"] = "김철수B"
    demo_records["customers"][0]["services"][0]["sms_sent"] = 2
    second = await helpdesk.customers.import_file(json.dumps(demo_records).encode())
    assert second.customers == {"added": [], "updated": ["kim02"], "unchanged": ["hong01"]}
    assert second.services["updated"] == ["SMS-1001"]
    assert len(second.services["unchanged"]) == 4
    assert (await helpdesk.customers.get("kim02")).name == "김철수B"


def snapshot(raw_db: RawDatabase) -> list[list[tuple[Any, ...]]]:
    """Every customer and service row, to compare before and after."""
    return [
        raw_db.rows("SELECT * FROM customers ORDER BY id"),
        raw_db.rows("SELECT * FROM services ORDER BY id"),
    ]


async def test_an_import_with_one_bad_record_changes_nothing(
    desk: Helpdesk, raw_db: RawDatabase, demo_records: dict[str, Any]
) -> None:
    before = snapshot(raw_db)
    demo_records["customers"][0]["name"] = "홍길동(변경)"
    demo_records["customers"].append({"id": "lee03", "name": "이영희", "services": []})
    demo_records["customers"][1]["services"][0]["sms_charge"] = -100
    with pytest.raises(ImportRejected):
        await desk.customers.import_file(json.dumps(demo_records).encode())
    assert snapshot(raw_db) == before


async def test_an_import_that_fails_half_way_through_writing_changes_nothing(
    desk: Helpdesk, raw_db: RawDatabase, demo_records: dict[str, Any]
) -> None:
    # The file itself is valid, but its second customer claims hong01's service; the first
    # customer's rename has already been written in the transaction when that is discovered.
    before = snapshot(raw_db)
    demo_records["customers"][0]["name"] = "홍길동(변경)"
    demo_records["customers"][1]["services"][0]["id"] = "SMS-9000"
    demo_records["customers"].append(
        {
            "id": "lee03",
            "name": "이영희",
            "services": [demo_records["customers"][0]["services"].pop(0)],
        }
    )
    with pytest.raises(ImportRejected, match="SMS-1001"):
        await desk.customers.import_file(json.dumps(demo_records).encode())
    assert snapshot(raw_db) == before


async def test_reimporting_after_a_refund_does_not_bring_the_service_back(
    desk: Helpdesk, demo_bytes: bytes
) -> None:
    # The billing export knows nothing of our refunds; the same file loaded again must not
    # reactivate a refunded service and so offer the customer a second refund.
    request, _ = await file(desk)
    await desk.requests.approve(request.number, "kim")
    await desk.requests.mark_refunded(request.number, "kim")
    await desk.customers.import_file(demo_bytes)
    views = {v.service.id: v for v in await desk.customers.services_overview("hong01")}
    assert views["SMS-1001"].service.status is ServiceStatus.CANCELLED
    assert not views["SMS-1001"].eligibility.eligible


# --- account linking --------------------------------------------------------------------------


async def test_a_link_code_links_the_chat_to_its_customer(desk: Helpdesk) -> None:
    issued = await desk.linking.issue_code("hong01")
    customer = await desk.linking.redeem("chat-1", issued.code)
    assert customer.id == "hong01"
    assert (await desk.linking.customer_of("chat-1")) == customer
    assert issued.expires_at == DAY_3 + timedelta(minutes=30)


async def test_link_codes_are_long_random_and_url_safe(desk: Helpdesk) -> None:
    codes = {(await desk.linking.issue_code("hong01")).code for _ in range(5)}
    assert len(codes) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", c) for c in codes)


async def test_a_used_code_links_nobody(desk: Helpdesk) -> None:
    issued = await desk.linking.issue_code("hong01")
    await desk.linking.redeem("chat-1", issued.code)
    with pytest.raises(InvalidLinkCode):
        await desk.linking.redeem("chat-2", issued.code)
    assert await desk.linking.customer_of("chat-2") is None


async def test_an_expired_code_links_nobody(db: Database, desk: Helpdesk) -> None:
    issued = await desk.linking.issue_code("hong01")
    later = helpdesk_at(db, DAY_3 + timedelta(minutes=31))
    with pytest.raises(InvalidLinkCode):
        await later.linking.redeem("chat-1", issued.code)
    assert await later.linking.customer_of("chat-1") is None


async def test_a_code_still_works_a_minute_before_it_expires(db: Database, desk: Helpdesk) -> None:
    issued = await desk.linking.issue_code("hong01")
    later = helpdesk_at(db, DAY_3 + timedelta(minutes=29))
    assert (await later.linking.redeem("chat-1", issued.code)).id == "hong01"


async def test_an_unknown_code_links_nobody(desk: Helpdesk) -> None:
    with pytest.raises(InvalidLinkCode):
        await desk.linking.redeem("chat-1", "not-a-code-anybody-issued")
    assert await desk.linking.customer_of("chat-1") is None


async def test_a_third_code_for_another_customer_relinks_the_chat(
    db: Database, desk: Helpdesk
) -> None:
    first = await desk.linking.issue_code("hong01")
    await desk.linking.redeem("chat-1", first.code)
    with pytest.raises(InvalidLinkCode):
        await desk.linking.redeem("chat-1", first.code)
    expired = await desk.linking.issue_code("hong01")
    with pytest.raises(InvalidLinkCode):
        await helpdesk_at(db, DAY_3 + timedelta(minutes=31)).linking.redeem("chat-1", expired.code)
    third = await desk.linking.issue_code("kim02")
    assert (await desk.linking.redeem("chat-1", third.code)).id == "kim02"
    customer = await desk.linking.customer_of("chat-1")
    assert customer is not None
    assert customer.id == "kim02"


async def test_a_code_for_an_unknown_customer_is_not_issued(
    desk: Helpdesk, raw_db: RawDatabase
) -> None:
    with pytest.raises(NotFound):
        await desk.linking.issue_code("nobody")
    assert raw_db.rows("SELECT count(*) FROM link_codes") == [(0,)]


async def test_unlinking_removes_the_link_once(desk: Helpdesk) -> None:
    issued = await desk.linking.issue_code("hong01")
    await desk.linking.redeem("chat-1", issued.code)
    assert await desk.linking.unlink("chat-1")
    assert not await desk.linking.unlink("chat-1")
    assert await desk.linking.customer_of("chat-1") is None
