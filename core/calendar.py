"""KST dates, an injectable clock and Korean business-day arithmetic.

Every policy decision is made on the calendar date in Asia/Seoul, whatever the server's own time
zone is: a customer in Seoul at 00:30 on the 25th is on the 25th even when the server's clock says
23:30 UTC on the 24th.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

KST = ZoneInfo("Asia/Seoul")

WEEKDAYS_KO = ("월", "화", "수", "목", "금", "토", "일")

Clock = Callable[[], datetime]
"""A clock returns the current instant as a timezone-aware datetime."""


def system_clock() -> datetime:
    """Return the current instant (UTC, timezone-aware)."""
    return datetime.now(UTC)


def fixed_clock(instant: datetime) -> Clock:
    """Return a clock frozen at `instant` (for tests and replays)."""
    if instant.tzinfo is None:
        raise ValueError("fixed_clock needs a timezone-aware datetime")
    return lambda: instant


def to_kst(instant: datetime) -> datetime:
    """Convert an aware instant to Seoul time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return instant.astimezone(KST)


def today_kst(clock: Clock) -> date:
    """Return today's calendar date in Seoul according to `clock`."""
    return to_kst(clock()).date()


@functools.lru_cache(maxsize=64)
def _korean_holidays(year: int) -> holidays.HolidayBase:
    # The `holidays` package knows the lunar holidays (Seollal, Chuseok, Buddha's Birthday) and
    # the substitute-holiday rules, which we would otherwise have to re-derive every year.
    return holidays.country_holidays("KR", years=year)


def is_public_holiday(day: date) -> bool:
    """Return True when `day` is a Korean public holiday (lunar and substitute ones included)."""
    return day in _korean_holidays(day.year)


def is_business_day(day: date) -> bool:
    """Return True for a weekday that is not a Korean public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def add_business_days(start: date, count: int) -> date:
    """Return the date `count` business days after `start` (`start` itself is not counted)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def mycash_credit_window(review_day: date) -> tuple[date, date]:
    """Return the MyCash credit window: 3 to 7 business days after the agent's review."""
    return add_business_days(review_day, 3), add_business_days(review_day, 7)


def format_date_ko(day: date) -> str:
    """Format a date as customers read it, e.g. `11월 26일(목)`."""
    return f"{day.month}월 {day.day}일({WEEKDAYS_KO[day.weekday()]})"
