"""KST dates, business days around Korean holidays, and how dates read in Korean."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.calendar import (
    KST,
    add_business_days,
    fixed_clock,
    format_date_ko,
    is_business_day,
    is_public_holiday,
    mycash_credit_window,
    system_clock,
    to_kst,
    today_kst,
)
from core.models import PaymentMethod, Service
from core.policy import check_eligibility

LOCAL_DAY_AT_2330_UTC_ON_THE_24TH = {
    "Asia/Seoul": date(2026, 11, 25),
    "America/Anchorage": date(2026, 11, 24),
    "UTC": date(2026, 11, 24),
    "Pacific/Kiritimati": date(2026, 11, 25),
}


@pytest.fixture(params=sorted(LOCAL_DAY_AT_2330_UTC_ON_THE_24TH))
def server_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the process's local time zone set to each of several zones."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


# --- today in Seoul ---------------------------------------------------------------------------


def test_half_past_eleven_utc_on_the_24th_is_already_the_25th_in_seoul() -> None:
    clock = fixed_clock(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    assert today_kst(clock) == date(2026, 11, 25)


def test_one_minute_before_seoul_midnight_is_still_the_24th() -> None:
    clock = fixed_clock(datetime(2026, 11, 24, 14, 59, tzinfo=UTC))
    assert today_kst(clock) == date(2026, 11, 24)


def test_the_same_instant_written_in_another_zone_is_the_same_seoul_day() -> None:
    instant = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    anchorage = instant.astimezone(timezone(timedelta(hours=-9)))  # still the 24th there
    assert anchorage.date() == date(2026, 11, 24)
    assert today_kst(fixed_clock(anchorage)) == date(2026, 11, 25)


def test_the_servers_own_time_zone_never_decides_the_date(server_time_zone: str) -> None:
    # 23:30 UTC on the 24th: the 24th in Anchorage and UTC, the 25th in Seoul and Kiritimati.
    clock = fixed_clock(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    local_day = datetime.fromtimestamp(clock().timestamp()).date()  # what a naive server sees
    assert local_day == LOCAL_DAY_AT_2330_UTC_ON_THE_24TH[server_time_zone]
    assert today_kst(clock) == date(2026, 11, 25)
    assert to_kst(clock()).hour == 8


def test_the_servers_time_zone_never_decides_eligibility(server_time_zone: str) -> None:
    service = Service(
        id="SMS-1",
        customer_id="hong01",
        issued_on=date(2026, 11, 19),  # last eligible day 11-25
        service_fee=11000,
        sms_charge=0,
        sms_sent=0,
        payment_method=PaymentMethod.MYCASH,
    )
    late_evening_utc = fixed_clock(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))  # KST 11-26
    verdict = check_eligibility(service, None, today_kst(late_evening_utc))
    assert not verdict.eligible
    assert verdict.day == 8


def test_the_system_clock_gives_an_aware_instant() -> None:
    assert system_clock().utcoffset() is not None


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    naive = datetime(2026, 11, 24, 23, 30)
    with pytest.raises(ValueError):
        fixed_clock(naive)
    with pytest.raises(ValueError):
        to_kst(naive)


def test_kst_is_nine_hours_ahead_of_utc() -> None:
    assert datetime(2026, 11, 24, tzinfo=KST).utcoffset() == timedelta(hours=9)


# --- business days ----------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18)])
def test_seollal_days_are_not_business_days(day: date) -> None:
    assert day.weekday() < 5  # all three fall on weekdays in 2026
    assert is_public_holiday(day)
    assert not is_business_day(day)


@pytest.mark.parametrize("day", [date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26)])
def test_chuseok_days_are_public_holidays(day: date) -> None:
    assert is_public_holiday(day)
    assert not is_business_day(day)


def test_the_substitute_holiday_for_gaecheonjeol_on_a_saturday_is_the_monday_after() -> None:
    assert date(2026, 10, 3).weekday() == 5
    assert not is_business_day(date(2026, 10, 5))
    assert is_business_day(date(2026, 10, 6))


def test_weekends_are_not_business_days_and_ordinary_weekdays_are() -> None:
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert not is_business_day(date(2026, 11, 29))  # Sunday
    assert is_business_day(date(2026, 11, 30))  # Monday


def test_one_business_day_after_the_friday_before_seollal_is_the_thursday_after() -> None:
    assert add_business_days(date(2026, 2, 13), 1) == date(2026, 2, 19)


def test_business_days_across_chuseok_skip_the_holidays_and_the_weekend() -> None:
    assert add_business_days(date(2026, 9, 23), 1) == date(2026, 9, 28)


def test_zero_business_days_after_a_day_is_that_day() -> None:
    assert add_business_days(date(2026, 9, 24), 0) == date(2026, 9, 24)


def test_a_negative_number_of_business_days_is_refused() -> None:
    with pytest.raises(ValueError):
        add_business_days(date(2026, 9, 24), -1)


def test_mycash_window_for_a_review_on_2026_09_23_is_9_30_to_10_07() -> None:
    # Chuseok (9/24–26), a weekend and the 개천절 substitute holiday (10/5) are all skipped.
    assert mycash_credit_window(date(2026, 9, 23)) == (date(2026, 9, 30), date(2026, 10, 7))


def test_mycash_window_for_a_review_just_before_seollal_is_2_20_to_2_26() -> None:
    assert mycash_credit_window(date(2026, 2, 12)) == (date(2026, 2, 20), date(2026, 2, 26))


def test_mycash_window_in_an_ordinary_week_is_three_to_seven_weekdays_later() -> None:
    # Review on Monday 11-30: Thursday 12-03 to Wednesday 12-09.
    assert mycash_credit_window(date(2026, 11, 30)) == (date(2026, 12, 3), date(2026, 12, 9))


# --- how dates read ---------------------------------------------------------------------------


def test_a_date_reads_as_month_day_and_weekday_in_korean() -> None:
    assert format_date_ko(date(2026, 11, 26)) == "11월 26일(목)"


def test_single_digit_months_and_days_have_no_leading_zero() -> None:
    assert format_date_ko(date(2026, 2, 1)) == "2월 1일(일)"


def test_every_weekday_has_its_korean_name() -> None:
    week = [format_date_ko(date(2026, 11, 23) + timedelta(days=i))[-2] for i in range(7)]
    assert week == ["월", "화", "수", "목", "금", "토", "일"]
