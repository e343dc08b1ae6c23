"""Customers and their services: import, look-up, and which services can be cancelled today."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.calendar import today_kst
from core.errors import ImportRejected, NotFound
from core.importing import parse_import
from core.models import Customer, Service, ServiceStatus
from core.policy import Eligibility, check_eligibility
from core.storage import Tx
from core.usecases.base import UseCases


@dataclass
class ImportSummary:
    """What an import changed, by kind and outcome."""

    customers: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "updated": [], "unchanged": []}
    )
    services: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "updated": [], "unchanged": []}
    )


@dataclass(frozen=True)
class ServiceView:
    """A service with its eligibility today."""

    service: Service
    eligibility: Eligibility


class Customers(UseCases):
    """Import, look-up and the services overview."""

    async def import_file(self, raw: bytes) -> ImportSummary:
        """Validate the whole file, then upsert every customer and service in one transaction."""
        records = parse_import(raw)
        summary = ImportSummary()
        now = self.now()
        async with self.db.transaction() as tx:
            for customer, services in records:
                outcome = await tx.customers.upsert(customer, now)
                summary.customers[outcome].append(customer.id)
                for service in services:
                    existing = await tx.customers.get_service(service.id)
                    if existing is not None and existing.customer_id != customer.id:
                        raise ImportRejected(
                            [
                                f"customer {customer.id!r}: service {service.id!r} belongs to "
                                f"customer {existing.customer_id!r}; moving a service between "
                                "customers is not done by import"
                            ]
                        )
                    if existing is not None and existing.status is ServiceStatus.CANCELLED:
                        # Cancelled here by a paid refund, which the billing export does not
                        # know; reactivating it would offer the customer a second refund.
                        service = service.model_copy(update={"status": ServiceStatus.CANCELLED})
                    outcome = await tx.customers.upsert_service(service, now)
                    summary.services[outcome].append(service.id)
        return summary

    async def ids(self) -> list[str]:
        """Every customer id, in order."""
        async with self.db.reading() as tx:
            return await tx.customers.ids()

    async def any(self) -> bool:
        """Whether any customer has been imported yet."""
        async with self.db.reading() as tx:
            return await tx.customers.any()

    async def get(self, customer_id: str, *, tx: Tx | None = None) -> Customer:
        """Return a customer or raise NotFound."""
        async with self.reading(tx) as tx:
            customer = await tx.customers.get(customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id!r}")
        return customer

    async def services_overview(
        self, customer_id: str, *, tx: Tx | None = None
    ) -> list[ServiceView]:
        """Each of the customer's services with its eligibility today (KST), in one query."""
        today = today_kst(self.clock)
        async with self.reading(tx) as tx:
            rows = await tx.customers.services_with_open_request(customer_id)
        return [ServiceView(s, check_eligibility(s, number, today)) for s, number in rows]
