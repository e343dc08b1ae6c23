"""Properties of eligibility, quotes and dates that must hold for every input, not just examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import KST, add_business_days, fixed_clock, is_business_day, today_kst
from core.models import PaymentMethod, Service, ServiceStatus
from core.policy import PastDeadline, SmsUsed, check_eligibility, quote

# Per-test settings rather than a global profile, so other modules keep their own.
examples = settings(max_examples=150, deadline=None)

issue_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
amounts = st.integers(min_value=0, max_value=1_000_000_000)
methods = st.sampled_from(list(PaymentMethod))
open_numbers = st.none() | st.from_regex(r"R-2026\d{4}-\d{4}", fullmatch=True)
statuses = st.sampled_from(list(ServiceStatus))


def service_issued(
    issued_on: date,
    *,
    sms_sent: int = 0,
    fee: int = 11000,
    charge: int = 0,
    method: PaymentMethod = PaymentMethod.MYCASH,
    status: ServiceStatus = ServiceStatus.ACTIVE,
) -> Service:
    """A service with the given facts."""
    return Service(
        id="SMS-1",
        customer_id="c1",
        issued_on=issued_on,
        service_fee=fee,
        sms_charge=charge,
        sms_sent=sms_sent,
        payment_method=method,
        status=status,
    )


@examples
@given(
    issued_on=issue_dates,
    days_late=st.integers(min_value=7, max_value=5000),
    sms_sent=st.integers(min_value=0, max_value=10_000),
    open_number=open_numbers,
    status=statuses,
)
def test_never_eligible_after_day_seven(
    issued_on: date, days_late: int, sms_sent: int, open_number: str | None, status: ServiceStatus
) -> None:
    today = issued_on + timedelta(days=days_late)
    verdict = check_eligibility(
        service_issued(issued_on, sms_sent=sms_sent, status=status), open_number, today
    )
    assert not verdict.eligible
    assert PastDeadline(day=days_late + 1, last_day=issued_on + timedelta(days=6)) in (
        verdict.reasons
    )


@examples
@given(
    issued_on=issue_dates,
    offset=st.integers(min_value=-3, max_value=5000),
    sms_sent=st.integers(min_value=1, max_value=10_000),
    charge=amounts,
)
def test_never_eligible_once_an_sms_was_sent(
    issued_on: date, offset: int, sms_sent: int, charge: int
) -> None:
    today = issued_on + timedelta(days=offset)
    verdict = check_eligibility(
        service_issued(issued_on, sms_sent=sms_sent, charge=charge), None, today
    )
    assert not verdict.eligible
    assert SmsUsed(sent=sms_sent) in verdict.reasons


@examples
@given(
    issued_on=issue_dates,
    day=st.integers(min_value=1, max_value=7),
    fee=amounts,
    charge=amounts,
    method=methods,
)
def test_eligible_on_every_day_one_to_seven_when_nothing_else_stands_in_the_way(
    issued_on: date, day: int, fee: int, charge: int, method: PaymentMethod
) -> None:
    today = issued_on + timedelta(days=day - 1)
    service = service_issued(issued_on, fee=fee, charge=charge, method=method)
    verdict = check_eligibility(service, None, today)
    assert verdict.eligible
    assert verdict.day == day
    assert today <= verdict.last_day == issued_on + timedelta(days=6)


@examples
@given(issued_on=issue_dates, offset=st.integers(min_value=-3, max_value=30), number=open_numbers)
def test_an_open_request_always_blocks_and_nothing_else_is_needed_to_block(
    issued_on: date, offset: int, number: str | None
) -> None:
    verdict = check_eligibility(service_issued(issued_on), number, issued_on + timedelta(offset))
    if number is not None:
        assert not verdict.eligible
    else:
        assert verdict.eligible is (offset < 7)


@examples
@given(fee=amounts, charge=amounts, method=methods)
def test_the_quote_total_is_always_fee_plus_charge_in_integer_won(
    fee: int, charge: int, method: PaymentMethod
) -> None:
    q = quote(service_issued(date(2026, 11, 20), fee=fee, charge=charge, method=method))
    assert q.total == fee + charge
    assert type(q.total) is int
    assert (q.service_fee, q.sms_charge, q.destination) == (fee, charge, method)


@examples
@given(
    instant=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_the_seoul_date_does_not_depend_on_the_zone_an_instant_is_written_in(
    instant: datetime, offset_minutes: int
) -> None:
    elsewhere = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert today_kst(fixed_clock(elsewhere)) == today_kst(fixed_clock(instant))
    assert today_kst(fixed_clock(instant)) == instant.astimezone(KST).date()


@examples
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    count=st.integers(min_value=1, max_value=30),
)
def test_adding_business_days_lands_on_a_business_day_after_exactly_that_many(
    start: date, count: int
) -> None:
    end = add_business_days(start, count)
    assert is_business_day(end)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_business_day(d) for d in between) == count
