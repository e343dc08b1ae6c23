"""Customers and their services."""

from __future__ import annotations

from datetime import date, datetime

from core.models import OPEN_REQUEST_STATUSES, Customer, PaymentMethod, Service, ServiceStatus
from core.storage.sql import Row, Sql, iso

UpsertOutcome = str
"""'added', 'updated' or 'unchanged'."""

OPEN_STATUSES_SQL = ", ".join(f"'{status.value}'" for status in sorted(OPEN_REQUEST_STATUSES))
"""The open request states as an SQL list, from the one definition in core.models."""


class Customers:
    """Customers and services."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def any(self) -> bool:
        """Whether the customers table has any row."""
        return await self._sql.one("SELECT 1 FROM customers LIMIT 1") is not None

    async def get(self, customer_id: str) -> Customer | None:
        """Return the customer with this id, or None."""
        row = await self._sql.one("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        return Customer(id=row["id"], name=row["name"]) if row else None

    async def upsert(self, customer: Customer, now: datetime) -> UpsertOutcome:
        """Insert or update a customer; return 'added', 'updated' or 'unchanged'."""
        existing = await self.get(customer.id)
        if existing is None:
            await self._sql.execute(
                "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (customer.id, customer.name, iso(now), iso(now)),
            )
            return "added"
        if existing == customer:
            return "unchanged"
        await self._sql.execute(
            "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
            (customer.name, iso(now), customer.id),
        )
        return "updated"

    async def get_service(self, service_id: str, *, for_update: bool = False) -> Service | None:
        """Return the service with this id, or None.

        `for_update`: the transaction is about to file against it, and no other writer may
        do so before it commits (two workers filing for one service at once).
        """
        lock = self._sql.dialect.lock_rows if for_update else ""
        row = await self._sql.one(f"SELECT * FROM services WHERE id = ?{lock}", (service_id,))
        return service_of(row) if row else None

    async def services_with_open_request(
        self, customer_id: str
    ) -> list[tuple[Service, str | None]]:
        """The customer's services, oldest issue first, each with its open request's number."""
        rows = await self._sql.all(
            "SELECT services.*, open.number AS open_number FROM services"
            " LEFT JOIN refund_requests AS open ON open.service_id = services.id"
            f" AND open.status IN ({OPEN_STATUSES_SQL})"
            " WHERE services.customer_id = ? ORDER BY services.issued_on, services.id",
            (customer_id,),
        )
        return [(service_of(r), r["open_number"]) for r in rows]

    async def upsert_service(self, service: Service, now: datetime) -> UpsertOutcome:
        """Insert or update a service; return 'added', 'updated' or 'unchanged'."""
        existing = await self.get_service(service.id)
        values = (
            service.customer_id,
            service.issued_on.isoformat(),
            service.service_fee,
            service.sms_charge,
            service.sms_sent,
            service.payment_method.value,
            service.status.value,
        )
        if existing is None:
            await self._sql.execute(
                "INSERT INTO services (customer_id, issued_on, service_fee, sms_charge, sms_sent,"
                " payment_method, status, id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, service.id, iso(now), iso(now)),
            )
            return "added"
        if existing == service:
            return "unchanged"
        await self._sql.execute(
            "UPDATE services SET customer_id = ?, issued_on = ?, service_fee = ?, sms_charge = ?,"
            " sms_sent = ?, payment_method = ?, status = ?, updated_at = ? WHERE id = ?",
            (*values, iso(now), service.id),
        )
        return "updated"

    async def set_service_status(
        self, service_id: str, status: ServiceStatus, now: datetime
    ) -> None:
        """Change a service's lifecycle status."""
        await self._sql.execute(
            "UPDATE services SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, iso(now), service_id),
        )


def service_of(row: Row) -> Service:
    """The service a `services` row stores."""
    return Service(
        id=row["id"],
        customer_id=row["customer_id"],
        issued_on=date.fromisoformat(row["issued_on"]),
        service_fee=int(row["service_fee"]),
        sms_charge=int(row["sms_charge"]),
        sms_sent=int(row["sms_sent"]),
        payment_method=PaymentMethod(row["payment_method"]),
        status=ServiceStatus(row["status"]),
    )
