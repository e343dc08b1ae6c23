"""One transaction's view of the database: a repository per area, over one connection."""

from __future__ import annotations

from datetime import date

from core.crypto import FieldCipher
from core.storage.conversations import Conversations
from core.storage.customers import Customers
from core.storage.faq_events import FaqEvents
from core.storage.inquiries import Inquiries
from core.storage.links import Links, Values
from core.storage.outbox import Outbox
from core.storage.reports import Reports
from core.storage.requests import Requests, next_number
from core.storage.sql import Sql
from core.storage.staff import StaffTopics


class Tx:
    """The repositories available inside one transaction (a unit of work)."""

    def __init__(self, sql: Sql, cipher: FieldCipher) -> None:
        self.sql = sql
        self.customers = Customers(sql)
        self.requests = Requests(sql, cipher)
        self.inquiries = Inquiries(sql, cipher)
        self.links = Links(sql)
        self.values = Values(sql)
        self.outbox = Outbox(sql)
        self.faq_events = FaqEvents(sql)
        self.conversations = Conversations(sql, cipher)
        self.reports = Reports(sql)
        self.staff = StaffTopics(sql)

    async def next_number(self, prefix: str, day: date) -> str:
        """Allocate the next readable number (`R` requests, `Q` inquiries) for a KST day."""
        return await next_number(self.sql, prefix, day)
