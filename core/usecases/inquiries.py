"""Customer-centre inquiries: the hand-off where self-service stops, answered by an agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.calendar import to_kst
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.models import Attachment, Inquiry, InquiryEvent, InquiryRefund
from core.storage import Tx
from core.usecases.base import UseCases, customer_chat, replayed
from core.usecases.staff import case_changed, case_filed


@dataclass(frozen=True)
class InquiryFiling:
    """What the customer hands over: why self-service stopped, their message and files."""

    customer_id: str
    service_id: str | None
    topic: str
    context: str
    message: str
    transcript: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    channel: str
    chat_id: str | None
    submission_key: str | None
    refund: InquiryRefund | None = None


class Inquiries(UseCases):
    """Filing, listing, answering and closing inquiries."""

    async def file(self, filing: InquiryFiling, *, tx: Tx | None = None) -> tuple[Inquiry, bool]:
        """File an inquiry for an agent; a replayed submission returns the first one."""
        if not filing.message.strip():
            raise InvalidInput("an inquiry needs a message")
        now = self.now()
        async with self.writing(tx) as tx:
            if filing.submission_key is not None:
                existing = await tx.inquiries.by_submission_key(filing.submission_key)
                if replayed(existing, filing.customer_id) is not None:
                    assert existing is not None
                    return existing, False
            if await tx.customers.get(filing.customer_id) is None:
                raise NotFound(f"no customer {filing.customer_id!r}")
            inquiry = Inquiry(
                number=await tx.next_number("Q", to_kst(now).date()),
                customer_id=filing.customer_id,
                service_id=filing.service_id,
                topic=filing.topic,
                context=filing.context,
                message=filing.message.strip(),
                transcript=filing.transcript,
                attachments=filing.attachments,
                refund=filing.refund,
                status="open",
                channel=filing.channel,
                chat_id=filing.chat_id,
                created_at=now,
                updated_at=now,
            )
            await tx.inquiries.insert(inquiry, filing.submission_key)
            await case_filed(tx, "inquiry", inquiry.number, inquiry.customer_id, now)
        return inquiry, True

    async def list(
        self, status: str | None = None, customer_id: str | None = None, *, tx: Tx | None = None
    ) -> list[Inquiry]:
        """Return inquiries, oldest first."""
        async with self.reading(tx) as tx:
            return await tx.inquiries.list(status, customer_id)

    async def show(self, number: str) -> Inquiry:
        """Return one inquiry or raise NotFound."""
        async with self.db.reading() as tx:
            inquiry = await tx.inquiries.get(number)
        if inquiry is None:
            raise NotFound(f"no inquiry {number!r}")
        return inquiry

    async def trail(self, number: str) -> list[InquiryEvent]:
        """Who answered and who closed an inquiry, and when."""
        async with self.db.reading() as tx:
            return await tx.inquiries.events(number)

    async def answer(self, number: str, agent: str, answer: str) -> Inquiry:
        """Answer an inquiry; the answer reaches the customer's chat through the outbox."""
        if not answer.strip():
            raise InvalidInput("an answer needs text")
        now = self.now()
        async with self.db.transaction() as tx:
            inquiry = await self._open(tx, number, "answered")
            await tx.inquiries.update(number, "answered", answer.strip(), agent, now)
            await _trail(tx, number, now, agent, "answered")
            await case_changed(
                tx,
                "inquiry",
                number,
                inquiry.customer_id,
                "answered",
                f"agent:{agent}",
                answer.strip(),
                now,
            )
            chat_id = await customer_chat(tx, inquiry.customer_id, inquiry.chat_id)
            if chat_id is not None:
                payload = {
                    "number": number,
                    "answer": answer.strip(),
                    "customer_id": inquiry.customer_id,
                }
                await tx.outbox.enqueue(chat_id, "inquiry_answer", payload, now)
            updated = await tx.inquiries.get(number)
        assert updated is not None
        return updated

    async def close(self, number: str, agent: str) -> Inquiry:
        """Close an inquiry (no message is sent)."""
        now = self.now()
        async with self.db.transaction() as tx:
            inquiry = await self._open(tx, number, "closed")
            # Who answered stays who answered; the closer is in the trail.
            await tx.inquiries.update(number, "closed", None, None, now)
            await _trail(tx, number, now, agent, "closed")
            await case_changed(
                tx, "inquiry", number, inquiry.customer_id, "closed", f"agent:{agent}", "", now
            )
            updated = await tx.inquiries.get(number)
        assert updated is not None
        return updated

    @staticmethod
    async def _open(tx: Tx, number: str, target: str) -> Inquiry:
        inquiry = await tx.inquiries.get(number, for_update=True)
        if inquiry is None:
            raise NotFound(f"no inquiry {number!r}")
        if inquiry.status == "closed":
            raise IllegalTransition(f"inquiry {number} is already closed, so it cannot be {target}")
        return inquiry


async def _trail(tx: Tx, number: str, now: datetime, agent: str, action: str) -> None:
    event = InquiryEvent(inquiry_number=number, at=now, actor=f"agent:{agent}", action=action)
    await tx.inquiries.append_event(event)
