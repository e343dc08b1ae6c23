"""Domain models: customers, services, refund requests and their audit trail."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from core.text import mask_digits


class PaymentMethod(StrEnum):
    """How the service was paid; it decides where the refund goes."""

    MYCASH = "mycash"
    BANK_TRANSFER = "bank_transfer"


class ServiceStatus(StrEnum):
    """Lifecycle of a hosted AlimTalk/SMS service."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


class RequestStatus(StrEnum):
    """Lifecycle of a refund request."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUNDED = "refunded"
    WITHDRAWN = "withdrawn"
    """The customer took a submitted request back; it never reaches the review queue."""

    @property
    def is_open(self) -> bool:
        """An open request blocks a second one for the same service."""
        return self in OPEN_REQUEST_STATUSES


OPEN_REQUEST_STATUSES = frozenset({RequestStatus.SUBMITTED, RequestStatus.APPROVED})
"""The one definition of an open request; the storage's queries are built from it."""


class Reason(StrEnum):
    """The eight cancellation reasons, valued with the seed's exact Korean labels."""

    BUSINESS_ENDED = "업무 종료"
    FINANCIAL_BURDEN = "경제적 부담"
    MERGER = "회사 합병"
    CLOSURE = "폐업"
    PRODUCT_CHANGE = "서비스/상품변경"
    DISSATISFIED = "서비스 불만"
    TERMINATED_BY_PROVIDER = "직권해지"
    SWITCHING = "타 서비스 전환"


class Customer(BaseModel):
    """A subscriber; `name` is the 가입자 명의 a refund account must match."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)


class Service(BaseModel):
    """One KakaoTalk AlimTalk/SMS hosting service a customer bought."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    customer_id: str
    issued_on: date
    service_fee: StrictInt = Field(ge=0)
    sms_charge: StrictInt = Field(ge=0)
    sms_sent: StrictInt = Field(ge=0)
    payment_method: PaymentMethod
    status: ServiceStatus = ServiceStatus.ACTIVE


class RefundAccount(BaseModel):
    """The bank account a bank-transfer refund is paid to."""

    model_config = ConfigDict(frozen=True)

    bank: str
    number: str
    holder: str

    @property
    def masked_number(self) -> str:
        """The account number with all but the last four digits hidden."""
        return mask_digits(self.number)


class RefundRequest(BaseModel):
    """A filed cancellation/refund request as an agent reviews it."""

    model_config = ConfigDict(frozen=True)

    number: str
    service_id: str
    customer_id: str
    reason: Reason
    message: str
    service_fee: int
    sms_charge: int
    total: int
    payment_method: PaymentMethod
    account: RefundAccount | None = None
    status: RequestStatus
    channel: str
    chat_id: str | None = None
    decision_note: str | None = None
    created_at: datetime
    updated_at: datetime


class AuditEvent(BaseModel):
    """One append-only entry in a request's trail."""

    model_config = ConfigDict(frozen=True)

    request_number: str
    at: datetime
    actor: str
    action: str
    detail: str = ""


class Attachment(BaseModel):
    """A file the customer sent in the chat, kept by the channel's file id (not downloaded)."""

    model_config = ConfigDict(frozen=True)

    file_id: str
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


class InquiryRefund(BaseModel):
    """The refund a customer could not file in self-service (another person's account), kept
    with the inquiry so that the agent does not have to ask for it again."""

    model_config = ConfigDict(frozen=True)

    reason: Reason | None = None
    message: str | None = None
    account: RefundAccount | None = None


class InquiryEvent(BaseModel):
    """One append-only entry in an inquiry's trail (answered, closed)."""

    model_config = ConfigDict(frozen=True)

    inquiry_number: str
    at: datetime
    actor: str
    action: str
    detail: str = ""


class Inquiry(BaseModel):
    """A hand-off to the customer centre, with the context an agent needs."""

    model_config = ConfigDict(frozen=True)

    number: str
    customer_id: str
    service_id: str | None
    topic: str
    context: str
    message: str
    transcript: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    refund: InquiryRefund | None = None
    status: str
    answer: str | None = None
    handled_by: str | None = None
    channel: str
    chat_id: str | None = None
    created_at: datetime
    updated_at: datetime


class OutboxItem(BaseModel):
    """A notification waiting to be delivered to a chat."""

    model_config = ConfigDict(frozen=True)

    id: int
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    claimed_until: str | None = None


class StaffTopic(BaseModel):
    """Where a case is handled in the agents' staff chat: its forum topic and summary card.

    `topic_of` names the case whose topic this one shares (the customer wrote again about an
    earlier case); the topic's own state (`topic_closed`) is kept on that owning case.
    """

    model_config = ConfigDict(frozen=True)

    chat_id: str
    case_number: str
    kind: str
    customer_id: str
    topic_of: str | None = None
    thread_id: int | None = None
    card_message_id: int | None = None
    files_sent: int = 0
    topic_closed: bool = False
    reject_by: str | None = None
    reject_asked_at: datetime | None = None
    relay_acked: bool = False
    reminded_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def owner(self) -> str:
        """The case whose topic this case is handled in (itself, unless it shares one)."""
        return self.topic_of or self.case_number
