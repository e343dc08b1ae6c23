"""Customer-centre inquiries (hand-offs) and their append-only trail."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from core.crypto import CipherError, FieldCipher
from core.models import Attachment, Inquiry, InquiryEvent, InquiryRefund, Reason, RefundAccount
from core.storage.sql import Row, Sql, instant, iso

log = logging.getLogger(__name__)


class Inquiries:
    """Inquiries an agent answers or closes."""

    def __init__(self, sql: Sql, cipher: FieldCipher) -> None:
        self._sql = sql
        self._cipher = cipher

    async def insert(self, inquiry: Inquiry, submission_key: str | None) -> None:
        """Store a new inquiry (a refund account it carries is encrypted)."""
        refund = inquiry.refund
        account = refund.account if refund else None
        await self._sql.execute(
            "INSERT INTO inquiries (number, customer_id, service_id, topic, context, message,"
            " transcript, attachments, status, answer, handled_by, channel, chat_id,"
            " submission_key, created_at, updated_at, refund_reason, refund_message, bank,"
            " account_number, account_holder)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                inquiry.number,
                inquiry.customer_id,
                inquiry.service_id,
                inquiry.topic,
                inquiry.context,
                inquiry.message,
                json.dumps(list(inquiry.transcript), ensure_ascii=False),
                json.dumps([a.model_dump() for a in inquiry.attachments], ensure_ascii=False),
                inquiry.status,
                inquiry.answer,
                inquiry.handled_by,
                inquiry.channel,
                inquiry.chat_id,
                submission_key,
                iso(inquiry.created_at),
                iso(inquiry.updated_at),
                refund.reason.value if refund and refund.reason else None,
                refund.message if refund else None,
                account.bank if account else None,
                self._cipher.encrypt(account.number) if account else None,
                account.holder if account else None,
            ),
        )

    async def get(self, number: str, *, for_update: bool = False) -> Inquiry | None:
        """Return the inquiry with this number, or None (`for_update`: about to change it)."""
        lock = self._sql.dialect.lock_rows if for_update else ""
        row = await self._sql.one(f"SELECT * FROM inquiries WHERE number = ?{lock}", (number,))
        return self._inquiry(row) if row else None

    async def by_submission_key(self, key: str) -> Inquiry | None:
        """Return the inquiry filed with this key (a replayed submission), or None."""
        row = await self._sql.one("SELECT * FROM inquiries WHERE submission_key = ?", (key,))
        return self._inquiry(row) if row else None

    async def list(
        self, status: str | None = None, customer_id: str | None = None
    ) -> list[Inquiry]:
        """Return inquiries oldest first, optionally of one status and one customer."""
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if customer_id:
            clauses.append("customer_id = ?")
            params.append(customer_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._sql.all(
            f"SELECT * FROM inquiries{where} ORDER BY created_at, number", params
        )
        return [self._inquiry(r) for r in rows]

    async def update(
        self, number: str, status: str, answer: str | None, answered_by: str | None, now: datetime
    ) -> None:
        """Answer or close an inquiry; who answered is kept when it is closed."""
        await self._sql.execute(
            "UPDATE inquiries SET status = ?, answer = COALESCE(?, answer),"
            " handled_by = COALESCE(?, handled_by), updated_at = ? WHERE number = ?",
            (status, answer, answered_by, iso(now), number),
        )

    async def append_event(self, event: InquiryEvent) -> None:
        """Append one entry to an inquiry's trail (the table refuses updates and deletes)."""
        await self._sql.execute(
            "INSERT INTO inquiry_events (inquiry_number, at, actor, action, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (event.inquiry_number, iso(event.at), event.actor, event.action, event.detail),
        )

    async def events(self, number: str) -> list[InquiryEvent]:
        """An inquiry's trail in order."""
        rows = await self._sql.all(
            "SELECT * FROM inquiry_events WHERE inquiry_number = ? ORDER BY id", (number,)
        )
        return [
            InquiryEvent(
                inquiry_number=r["inquiry_number"],
                at=instant(r["at"]),
                actor=r["actor"],
                action=r["action"],
                detail=r["detail"],
            )
            for r in rows
        ]

    def _inquiry(self, row: Row) -> Inquiry:
        return Inquiry(
            number=row["number"],
            customer_id=row["customer_id"],
            service_id=row["service_id"],
            topic=row["topic"],
            context=row["context"],
            message=row["message"],
            transcript=tuple(json.loads(row["transcript"])),
            attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
            refund=self._refund(row),
            status=row["status"],
            answer=row["answer"],
            handled_by=row["handled_by"],
            channel=row["channel"],
            chat_id=row["chat_id"],
            created_at=instant(row["created_at"]),
            updated_at=instant(row["updated_at"]),
        )

    def _refund(self, row: Row) -> InquiryRefund | None:
        if row["refund_reason"] is None and row["refund_message"] is None:
            return None
        account = None
        if row["account_number"] is not None:
            try:
                number = self._cipher.decrypt(row["account_number"])
            except CipherError:
                # One unreadable row must not hide the inquiry from the agents.
                log.warning("inquiry %s: its refund account cannot be decrypted", row["number"])
                number = "(unreadable with this key)"
            account = RefundAccount(
                bank=row["bank"] or "", number=number, holder=row["account_holder"] or ""
            )
        return InquiryRefund(
            reason=Reason(row["refund_reason"]) if row["refund_reason"] else None,
            message=row["refund_message"],
            account=account,
        )
