"""Use cases, by area. Each is one transaction when called alone, or joins the caller's unit
of work when given `tx=` (the dialogue engine runs a whole turn as one unit of work).

Entrypoints (the dialogue engine, the CLI) only parse input, call a use case and turn the typed
errors of `core.errors` into replies.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from core.calendar import Clock, system_clock
from core.storage import Database
from core.usecases.conversations import Conversations
from core.usecases.customers import Customers, ImportSummary, ServiceView
from core.usecases.faq_log import FaqLog
from core.usecases.inquiries import Inquiries, InquiryFiling
from core.usecases.linking import LinkCode, Linking, LinkLimits, Sleep, hash_link_code
from core.usecases.outbox import Notifications
from core.usecases.reports import PeriodFigures, Reports
from core.usecases.requests import (
    Filing,
    Requests,
    customer_actor,
    normalize_account_number,
    same_holder,
)
from core.usecases.staff import Relayed, Staff, StaffCase
from core.usecases.values import Values


class Helpdesk:
    """Every area's use cases over one database and one clock."""

    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        link_limits: LinkLimits | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.db = db
        self.clock = clock
        self.customers = Customers(db, clock)
        self.requests = Requests(db, clock)
        self.linking = Linking(db, clock, link_limits, sleep)
        self.inquiries = Inquiries(db, clock)
        self.notifications = Notifications(db, clock)
        self.faq_log = FaqLog(db, clock)
        self.conversations = Conversations(db, clock)
        self.values = Values(db, clock)
        self.reports = Reports(db, clock)
        self.staff = Staff(db, clock)

    def now(self) -> datetime:
        """The current instant from the injected clock."""
        return self.clock()


__all__ = [
    "Filing",
    "Helpdesk",
    "ImportSummary",
    "InquiryFiling",
    "LinkCode",
    "LinkLimits",
    "PeriodFigures",
    "Relayed",
    "ServiceView",
    "Staff",
    "StaffCase",
    "customer_actor",
    "hash_link_code",
    "normalize_account_number",
    "same_holder",
]
