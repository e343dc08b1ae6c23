"""Customers and their services."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from core.models import OPEN_REQUEST_STATUSES, Customer, PaymentMethod, Service, ServiceStatus
from core.storage.sql import Row, Sql, iso

IN_LIST = 500
"""Ids per `IN (...)` look-up: far below either database's limit on parameters."""

ServiceValues = tuple[str, str, int, int, int, str, str]
"""A service's stored values but its id, in the column order of `_SERVICE_COLUMNS`."""

_SERVICE_COLUMNS = (
    "customer_id, issued_on, service_fee, sms_charge, sms_sent, payment_method, status"
)

OPEN_STATUSES_SQL = ", ".join(f"'{status.value}'" for status in sorted(OPEN_REQUEST_STATUSES))
"""The open request states as an SQL list, from the one definition in core.models."""


class Customers:
    """Customers and services."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def any(self) -> bool:
        """Whether the customers table has any row."""
        return await self._sql.one("SELECT 1 FROM customers LIMIT 1") is not None

    async def ids(self) -> list[str]:
        """Every customer id, in order."""
        return [r["id"] for r in await self._sql.all("SELECT id FROM customers ORDER BY id")]

    async def get(self, customer_id: str) -> Customer | None:
        """Return the customer with this id, or None."""
        row = await self._sql.one("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        return Customer(id=row["id"], name=row["name"]) if row else None

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

    # Bulk forms for imports: one look-up per IN_LIST ids, one statement per kind of change.

    async def names(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored name of each of these customers that exists."""
        found: dict[str, str] = {}
        for chunk, marks in _chunks(ids):
            rows = await self._sql.all(
                f"SELECT id, name FROM customers WHERE id IN ({marks})", chunk
            )
            found.update((r["id"], r["name"]) for r in rows)
        return found

    async def service_owners(self, ids: Sequence[str]) -> dict[str, str]:
        """The customer id of each of these services that exists."""
        found: dict[str, str] = {}
        for chunk, marks in _chunks(ids):
            rows = await self._sql.all(
                f"SELECT id, customer_id FROM services WHERE id IN ({marks})", chunk
            )
            found.update((r["id"], r["customer_id"]) for r in rows)
        return found

    async def service_values(self, ids: Sequence[str]) -> dict[str, ServiceValues]:
        """The stored values of each of these services that exists (see `values_of`)."""
        found: dict[str, ServiceValues] = {}
        for chunk, marks in _chunks(ids):
            rows = await self._sql.all(
                f"SELECT id, {_SERVICE_COLUMNS} FROM services WHERE id IN ({marks})", chunk
            )
            for r in rows:
                found[r["id"]] = (
                    r["customer_id"],
                    r["issued_on"],
                    int(r["service_fee"]),
                    int(r["sms_charge"]),
                    int(r["sms_sent"]),
                    r["payment_method"],
                    r["status"],
                )
        return found

    async def add_many(self, customers: Sequence[Customer], now: datetime) -> None:
        """Insert customers that do not exist yet."""
        stamp = iso(now)
        await self._sql.execute_many(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(c.id, c.name, stamp, stamp) for c in customers],
        )

    async def rename_many(self, customers: Sequence[Customer], now: datetime) -> None:
        """Store new names for customers that exist."""
        stamp = iso(now)
        await self._sql.execute_many(
            "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
            [(c.name, stamp, c.id) for c in customers],
        )

    async def add_services(self, services: Sequence[Service], now: datetime) -> None:
        """Insert services that do not exist yet."""
        stamp = iso(now)
        await self._sql.execute_many(
            f"INSERT INTO services ({_SERVICE_COLUMNS}, id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*values_of(s), s.id, stamp, stamp) for s in services],
        )

    async def update_services(self, services: Sequence[Service], now: datetime) -> None:
        """Store new values for services that exist."""
        stamp = iso(now)
        await self._sql.execute_many(
            "UPDATE services SET customer_id = ?, issued_on = ?, service_fee = ?, sms_charge = ?,"
            " sms_sent = ?, payment_method = ?, status = ?, updated_at = ? WHERE id = ?",
            [(*values_of(s), stamp, s.id) for s in services],
        )

    async def analyze(self) -> None:
        """Refresh the planner's statistics of both tables (after a large import)."""
        await self._sql.execute("ANALYZE customers")
        await self._sql.execute("ANALYZE services")

    async def set_service_status(
        self, service_id: str, status: ServiceStatus, now: datetime
    ) -> None:
        """Change a service's lifecycle status."""
        await self._sql.execute(
            "UPDATE services SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, iso(now), service_id),
        )


def values_of(service: Service) -> ServiceValues:
    """What a services row stores for this service, but its id and timestamps."""
    return (
        service.customer_id,
        service.issued_on.isoformat(),
        service.service_fee,
        service.sms_charge,
        service.sms_sent,
        service.payment_method.value,
        service.status.value,
    )


def _chunks(ids: Sequence[str]) -> Iterator[tuple[Sequence[str], str]]:
    """The ids in look-ups of IN_LIST, each with its placeholders."""
    for start in range(0, len(ids), IN_LIST):
        chunk = ids[start : start + IN_LIST]
        yield chunk, ", ".join("?" * len(chunk))


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
