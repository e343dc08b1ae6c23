"""What a conversation remembers between turns, typed.

Stored (encrypted) as JSON with the conversation row. Field names are the keys earlier versions
stored, so a flow that was in progress across an upgrade resumes where it was.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.models import InquiryRefund, Reason


class InquiryDraft(BaseModel):
    """A customer-centre inquiry being written."""

    model_config = ConfigDict(extra="ignore")

    topic: str
    service: str | None = None
    context: str = ""
    message: str | None = None
    refund: InquiryRefund | None = None
    """The refund the customer could not file themselves (another person's account)."""


class ConversationData(BaseModel):
    """One chat's memory: the flow in progress, and what outlives flows."""

    model_config = ConfigDict(extra="ignore")

    # The flow in progress (refund or inquiry); cleared when it ends.
    flow: str | None = None
    """Random id of the flow; its buttons carry it, so older flows' buttons are stale."""
    customer: str | None = None
    """The customer the flow was started for (a relinked chat does not inherit it)."""
    strikes: int = 0
    """Unusable inputs in a row at the current step."""
    options: list[str] = Field(default_factory=list)
    """Service ids offered at the service choice, in button order."""
    service: str | None = None
    reason: Reason | None = None
    message: str | None = None
    bank: str | None = None
    account: str | None = None
    holder: str | None = None
    typed_holder: str | None = None
    """A holder name that was refused (another person's account), for the hand-off."""
    inquiry: InquiryDraft | None = None
    held: str | None = None
    """Text that read like a question at a free-text step, kept until the customer says."""
    pending: str | None = None
    """A flow the customer asked to start over a filled-in form, waiting for their yes."""

    # Kept across flows.
    filed_flow: str | None = None
    """The flow whose confirm filed the last request, so a replayed confirm is recognised."""
    filed_number: str | None = None
    recent: list[str] = Field(default_factory=list)
    """The last turns, redacted, for an agent reading a hand-off."""
    last_q: str | None = None
    """The last FAQ question (redacted), which 👍/👎 refers to."""
    shown: dict[str, str] = Field(default_factory=dict)
    """Payload → label of the buttons shown last; typing a label presses that button."""
    last_intent: str | None = None
    """The FAQ answer the customer read last, which a short follow-up refers to."""

    def filled_in(self) -> bool:
        """Whether the flow holds answers the customer would lose by starting another."""
        typed_inquiry = self.inquiry is not None and self.inquiry.message is not None
        typed_account = self.bank is not None or self.account is not None
        return self.reason is not None or self.message is not None or typed_inquiry or typed_account

    def cleared(self) -> ConversationData:
        """The memory after leaving any flow: only what outlives flows."""
        return ConversationData(
            filed_flow=self.filed_flow,
            filed_number=self.filed_number,
            recent=self.recent,
            last_q=self.last_q,
            shown=self.shown,
            last_intent=self.last_intent,
        )
