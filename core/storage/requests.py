"""Refund requests, their append-only audit trail and readable numbers."""

from __future__ import annotations

import logging
from datetime import date, datetime

from core.crypto import CipherError, FieldCipher
from core.models import (
    AuditEvent,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    RequestStatus,
)
from core.storage.customers import OPEN_STATUSES_SQL
from core.storage.sql import Row, Sql, instant, iso

log = logging.getLogger(__name__)


class Requests:
    """Refund requests and their audit events."""

    def __init__(self, sql: Sql, cipher: FieldCipher) -> None:
        self._sql = sql
        self._cipher = cipher

    async def open_number(self, service_id: str) -> str | None:
        """Return the number of the service's open request, if any."""
        row = await self._sql.one(
            "SELECT number FROM refund_requests WHERE service_id = ?"
            f" AND status IN ({OPEN_STATUSES_SQL})",
            (service_id,),
        )
        return row["number"] if row else None

    async def insert(self, request: RefundRequest, submission_key: str | None) -> None:
        """Store a new request (the account number encrypted)."""
        account = request.account
        await self._sql.execute(
            "INSERT INTO refund_requests (number, service_id, customer_id, reason, message,"
            " service_fee, sms_charge, total, payment_method, bank, account_number,"
            " account_holder, status, channel, chat_id, submission_key, decision_note,"
            " created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request.number,
                request.service_id,
                request.customer_id,
                request.reason.value,
                request.message,
                request.service_fee,
                request.sms_charge,
                request.total,
                request.payment_method.value,
                account.bank if account else None,
                self._cipher.encrypt(account.number) if account else None,
                account.holder if account else None,
                request.status.value,
                request.channel,
                request.chat_id,
                submission_key,
                request.decision_note,
                iso(request.created_at),
                iso(request.updated_at),
            ),
        )

    async def get(self, number: str, *, for_update: bool = False) -> RefundRequest | None:
        """Return the request with this number, or None.

        `for_update`: the transaction is about to change it; another writer waits until it
        commits and then sees the change (two agents deciding at once).
        """
        lock = self._sql.dialect.lock_rows if for_update else ""
        row = await self._sql.one(
            f"SELECT * FROM refund_requests WHERE number = ?{lock}", (number,)
        )
        return self._request(row) if row else None

    async def by_submission_key(self, key: str) -> RefundRequest | None:
        """Return the request filed with this submission key (a replayed confirm), or None."""
        row = await self._sql.one("SELECT * FROM refund_requests WHERE submission_key = ?", (key,))
        return self._request(row) if row else None

    async def list(
        self, status: RequestStatus | None = None, customer_id: str | None = None
    ) -> list[RefundRequest]:
        """Return requests, oldest first, optionally filtered."""
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status.value)
        if customer_id is not None:
            clauses.append("customer_id = ?")
            params.append(customer_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._sql.all(
            f"SELECT * FROM refund_requests{where} ORDER BY created_at, number", params
        )
        requests = []
        for row in rows:
            try:
                requests.append(self._request(row))
            except CipherError:
                # One row written under another key must not block the whole queue.
                log.warning(
                    "request %s skipped: its account number cannot be decrypted with this key",
                    row["number"],
                )
        return requests

    async def update_status(
        self, number: str, status: RequestStatus, note: str | None, now: datetime
    ) -> None:
        """Move a request to `status`, keeping the decision note when one is given."""
        await self._sql.execute(
            "UPDATE refund_requests SET status = ?, decision_note = COALESCE(?, decision_note),"
            " updated_at = ? WHERE number = ?",
            (status.value, note, iso(now), number),
        )

    async def append_event(self, event: AuditEvent) -> None:
        """Append one audit event (the table refuses updates and deletes)."""
        await self._sql.execute(
            "INSERT INTO request_events (request_number, at, actor, action, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (event.request_number, iso(event.at), event.actor, event.action, event.detail),
        )

    async def events(self, number: str) -> list[AuditEvent]:
        """Return a request's audit trail in order."""
        rows = await self._sql.all(
            "SELECT * FROM request_events WHERE request_number = ? ORDER BY id", (number,)
        )
        return [event_of(r) for r in rows]

    async def events_between(self, since: datetime, until: datetime) -> list[AuditEvent]:
        """Audit events in [since, until), oldest first."""
        rows = await self._sql.all(
            "SELECT * FROM request_events WHERE at >= ? AND at < ? ORDER BY id",
            (iso(since), iso(until)),
        )
        return [event_of(r) for r in rows]

    def _request(self, row: Row) -> RefundRequest:
        account = None
        if row["account_number"] is not None:
            account = RefundAccount(
                bank=row["bank"],
                number=self._cipher.decrypt(row["account_number"]),
                holder=row["account_holder"],
            )
        return RefundRequest(
            number=row["number"],
            service_id=row["service_id"],
            customer_id=row["customer_id"],
            reason=Reason(row["reason"]),
            message=row["message"],
            service_fee=int(row["service_fee"]),
            sms_charge=int(row["sms_charge"]),
            total=int(row["total"]),
            payment_method=PaymentMethod(row["payment_method"]),
            account=account,
            status=RequestStatus(row["status"]),
            channel=row["channel"],
            chat_id=row["chat_id"],
            decision_note=row["decision_note"],
            created_at=instant(row["created_at"]),
            updated_at=instant(row["updated_at"]),
        )


async def next_number(sql: Sql, prefix: str, day: date) -> str:
    """Allocate the next readable number of a kind for `day` (KST), e.g. R-20261124-0007."""
    digits = day.strftime("%Y%m%d")
    # Requests keep the bare date as their counter key (schema 1); other kinds prefix it.
    key = digits if prefix == "R" else f"{prefix}{digits}"
    row = await sql.one(
        "INSERT INTO request_counters (day, last) VALUES (?, 1)"
        " ON CONFLICT(day) DO UPDATE SET last = request_counters.last + 1 RETURNING last",
        (key,),
    )
    assert row is not None
    return f"{prefix}-{digits}-{int(row['last']):04d}"


def event_of(row: Row) -> AuditEvent:
    """The audit event a `request_events` row stores."""
    return AuditEvent(
        request_number=row["request_number"],
        at=instant(row["at"]),
        actor=row["actor"],
        action=row["action"],
        detail=row["detail"],
    )
