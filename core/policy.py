"""The seed's cancellation policy as pure functions of (service, open request, today in KST).

- Eligible for self-service cancellation when the service is active, has no open request, is on
  day 1..7 counting the issue date as day 1, and has sent no SMS.
- The refund is the service fee in full plus the SMS charge in full, to MyCash or a bank account
  depending on how the service was paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.models import PaymentMethod, Service, ServiceStatus

WINDOW_DAYS = 7
"""Self-service window in days, the issue date being day 1 (발급일 포함 7일)."""


@dataclass(frozen=True)
class PastDeadline:
    """Too late: today is day `day` and the last eligible date was `last_day`."""

    day: int
    last_day: date


@dataclass(frozen=True)
class SmsUsed:
    """At least one SMS was sent, so only a partial-refund review is possible."""

    sent: int


@dataclass(frozen=True)
class RequestOpen:
    """A request is already open for the service."""

    number: str


@dataclass(frozen=True)
class NotActive:
    """The service is no longer active (already cancelled)."""

    status: ServiceStatus


Ineligibility = PastDeadline | SmsUsed | RequestOpen | NotActive


@dataclass(frozen=True)
class Eligibility:
    """The verdict: eligible, or each reason it is not, with its numbers."""

    service_id: str
    day: int
    last_day: date
    reasons: tuple[Ineligibility, ...]

    @property
    def eligible(self) -> bool:
        """True when nothing stands in the way of self-service cancellation."""
        return not self.reasons


@dataclass(frozen=True)
class Quote:
    """What will be refunded and where to."""

    service_fee: int
    sms_charge: int
    destination: PaymentMethod

    @property
    def total(self) -> int:
        """Fee plus charge, integer won."""
        return self.service_fee + self.sms_charge


def last_eligible_day(issued_on: date) -> date:
    """Return the last day of the window (issued 11-20 → 11-26)."""
    return issued_on + timedelta(days=WINDOW_DAYS - 1)


def day_number(issued_on: date, today: date) -> int:
    """Return which day of the service `today` is, the issue date being day 1."""
    return (today - issued_on).days + 1


def check_eligibility(
    service: Service, open_request_number: str | None, today: date
) -> Eligibility:
    """Decide whether `service` can be cancelled in self-service on `today` (a KST date).

    A service issued "in the future" relative to `today` (clock skew between the billing system
    and us) counts as day 1 rather than being refused: it is certainly inside the window.
    """
    day = max(1, day_number(service.issued_on, today))
    reasons: list[Ineligibility] = []
    if service.status is not ServiceStatus.ACTIVE:
        reasons.append(NotActive(service.status))
    if open_request_number is not None:
        reasons.append(RequestOpen(open_request_number))
    if day > WINDOW_DAYS:
        reasons.append(PastDeadline(day=day, last_day=last_eligible_day(service.issued_on)))
    if service.sms_sent > 0:
        reasons.append(SmsUsed(service.sms_sent))
    return Eligibility(
        service_id=service.id,
        day=day,
        last_day=last_eligible_day(service.issued_on),
        reasons=tuple(reasons),
    )


def quote(service: Service) -> Quote:
    """Return the full refund for an eligible service: fee + SMS charge, to its payment method."""
    return Quote(
        service_fee=service.service_fee,
        sms_charge=service.sms_charge,
        destination=service.payment_method,
    )
