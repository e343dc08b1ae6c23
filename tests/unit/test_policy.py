"""The seed's cancellation policy at its edges: the 7-day window, SMS use, open requests, money."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from core.calendar import fixed_clock, today_kst
from core.models import (
    PaymentMethod,
    Reason,
    RequestStatus,
    Service,
    ServiceStatus,
)
from core.money import format_won
from core.policy import (
    NotActive,
    PastDeadline,
    RequestOpen,
    SmsUsed,
    check_eligibility,
    last_eligible_day,
    quote,
)
from core.text import mask_digits

ISSUED = date(2026, 11, 20)


def make_service(**changes: Any) -> Service:
    """A service issued 2026-11-20 that nothing disqualifies, with `changes` applied."""
    fields: dict[str, Any] = {
        "id": "SMS-1001",
        "customer_id": "hong01",
        "issued_on": ISSUED,
        "service_fee": 11000,
        "sms_charge": 20000,
        "sms_sent": 0,
        "payment_method": PaymentMethod.MYCASH,
    }
    fields.update(changes)
    return Service(**fields)


# --- the 7-day window -------------------------------------------------------------------------


def test_issued_on_the_20th_the_last_eligible_day_is_the_26th() -> None:
    assert last_eligible_day(ISSUED) == date(2026, 11, 26)


def test_day_seven_is_still_eligible() -> None:
    verdict = check_eligibility(make_service(), None, date(2026, 11, 26))
    assert verdict.eligible
    assert verdict.day == 7
    assert verdict.last_day == date(2026, 11, 26)


def test_day_eight_is_past_the_deadline() -> None:
    verdict = check_eligibility(make_service(), None, date(2026, 11, 27))
    assert not verdict.eligible
    assert verdict.reasons == (PastDeadline(day=8, last_day=date(2026, 11, 26)),)


def test_a_service_two_weeks_old_says_which_day_it_is_and_when_the_window_closed() -> None:
    verdict = check_eligibility(make_service(), None, date(2026, 12, 4))
    assert verdict.reasons == (PastDeadline(day=15, last_day=date(2026, 11, 26)),)


def test_a_service_issued_today_is_on_day_one_and_eligible() -> None:
    verdict = check_eligibility(
        make_service(issued_on=date(2026, 11, 28)), None, date(2026, 11, 28)
    )
    assert verdict.eligible
    assert verdict.day == 1
    assert verdict.last_day == date(2026, 12, 4)


def test_a_service_issued_tomorrow_by_clock_skew_counts_as_day_one() -> None:
    verdict = check_eligibility(
        make_service(issued_on=date(2026, 11, 29)), None, date(2026, 11, 28)
    )
    assert verdict.eligible
    assert verdict.day == 1


def test_the_window_closes_at_midnight_in_seoul_not_at_midnight_utc() -> None:
    service = make_service(issued_on=date(2026, 11, 19))  # last eligible day 11-25
    seoul_2359 = fixed_clock(datetime(2026, 11, 25, 14, 59, tzinfo=UTC))
    seoul_0830_next_day = fixed_clock(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))

    assert check_eligibility(service, None, today_kst(seoul_2359)).eligible
    late = check_eligibility(service, None, today_kst(seoul_0830_next_day))
    assert late.reasons == (PastDeadline(day=8, last_day=date(2026, 11, 25)),)


def test_a_window_spanning_the_month_end_counts_calendar_days() -> None:
    assert last_eligible_day(date(2026, 11, 28)) == date(2026, 12, 4)
    assert last_eligible_day(date(2026, 2, 25)) == date(2026, 3, 3)


# --- SMS use ----------------------------------------------------------------------------------


def test_no_sms_sent_with_a_charge_is_eligible_and_the_charge_is_refunded() -> None:
    service = make_service(sms_charge=20000, sms_sent=0)
    assert check_eligibility(service, None, date(2026, 11, 22)).eligible
    assert quote(service).sms_charge == 20000


def test_no_sms_sent_without_a_charge_is_eligible() -> None:
    service = make_service(sms_charge=0, sms_sent=0)
    assert check_eligibility(service, None, date(2026, 11, 22)).eligible
    assert quote(service).total == 11000


def test_one_sms_sent_with_a_charge_is_not_eligible_and_says_how_many() -> None:
    verdict = check_eligibility(
        make_service(sms_charge=20000, sms_sent=1), None, date(2026, 11, 22)
    )
    assert verdict.reasons == (SmsUsed(sent=1),)


def test_one_sms_sent_without_a_charge_is_still_not_eligible() -> None:
    verdict = check_eligibility(make_service(sms_charge=0, sms_sent=1), None, date(2026, 11, 22))
    assert verdict.reasons == (SmsUsed(sent=1),)


# --- open requests and cancelled services -----------------------------------------------------


def test_an_open_request_blocks_the_service_and_names_the_request() -> None:
    verdict = check_eligibility(make_service(), "R-20261121-0001", date(2026, 11, 22))
    assert verdict.reasons == (RequestOpen(number="R-20261121-0001"),)


def test_a_cancelled_service_is_not_eligible() -> None:
    verdict = check_eligibility(
        make_service(status=ServiceStatus.CANCELLED), None, date(2026, 11, 22)
    )
    assert verdict.reasons == (NotActive(status=ServiceStatus.CANCELLED),)


def test_every_reason_a_service_is_not_eligible_is_given_with_its_numbers() -> None:
    service = make_service(sms_sent=3, status=ServiceStatus.CANCELLED)
    verdict = check_eligibility(service, "R-20261121-0001", date(2026, 11, 30))
    assert set(verdict.reasons) == {
        NotActive(status=ServiceStatus.CANCELLED),
        RequestOpen(number="R-20261121-0001"),
        PastDeadline(day=11, last_day=date(2026, 11, 26)),
        SmsUsed(sent=3),
    }


@pytest.mark.parametrize(
    ("status", "is_open"),
    [
        (RequestStatus.SUBMITTED, True),
        (RequestStatus.APPROVED, True),
        (RequestStatus.REJECTED, False),
        (RequestStatus.REFUNDED, False),
    ],
)
def test_only_submitted_and_approved_requests_are_open(
    status: RequestStatus, is_open: bool
) -> None:
    assert status.is_open is is_open


# --- money ------------------------------------------------------------------------------------


def test_the_refund_is_the_fee_plus_the_sms_charge_to_the_won() -> None:
    q = quote(make_service(service_fee=11000, sms_charge=20000))
    assert (q.service_fee, q.sms_charge, q.total) == (11000, 20000, 31000)
    assert format_won(q.total) == "31,000원"


def test_odd_amounts_are_refunded_exactly() -> None:
    q = quote(make_service(service_fee=9999, sms_charge=1))
    assert q.total == 10000
    assert all(type(v) is int for v in (q.service_fee, q.sms_charge, q.total))


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_the_refund_goes_back_the_way_it_was_paid(method: PaymentMethod) -> None:
    assert quote(make_service(payment_method=method)).destination is method


@pytest.mark.parametrize("fee", [1.5, 11000.0, "11000", True])
def test_a_service_fee_that_is_not_integer_won_is_refused(fee: object) -> None:
    with pytest.raises(ValidationError):
        make_service(service_fee=fee)


def test_a_negative_sms_charge_is_refused() -> None:
    with pytest.raises(ValidationError):
        make_service(sms_charge=-1)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(31000, "31,000원"), (0, "0원"), (999, "999원"), (1234567, "1,234,567원")],
)
def test_amounts_read_with_thousands_separators_and_won(amount: int, shown: str) -> None:
    assert format_won(amount) == shown


@pytest.mark.parametrize("amount", [31000.0, 1.5, True, "31000"])
def test_formatting_refuses_anything_but_integer_won(amount: object) -> None:
    with pytest.raises(TypeError):
        format_won(amount)  # type: ignore[arg-type]


# --- reasons and account numbers --------------------------------------------------------------


def test_the_eight_cancellation_reasons_are_the_seeds_labels() -> None:
    assert [r.value for r in Reason] == [
        "업무 종료",
        "경제적 부담",
        "회사 합병",
        "폐업",
        "서비스/상품변경",
        "서비스 불만",
        "직권해지",
        "타 서비스 전환",
    ]


def test_a_masked_account_number_shows_only_the_last_four_digits() -> None:
    assert mask_digits("110-123-456789") == "***-***-**6789"
