"""Customers and their services: import, look-up, and which services can be cancelled today."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from core.calendar import today_kst
from core.errors import ImportRejected, ImportStopped, NotFound
from core.importing import MAX_PROBLEMS, CheckedImport, ImportRecord, Progress, check_import
from core.models import Customer, Service, ServiceStatus
from core.policy import Eligibility, check_eligibility
from core.storage import Tx
from core.storage.customers import values_of
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


IMPORT_BATCH = 500
"""Customers per write transaction of an import: tens of milliseconds of the write lock."""

_T = TypeVar("_T")


def _sort(new: bool, same: bool, item: _T, added: list[_T], updated: list[_T]) -> str:
    """File an imported record as added, updated or unchanged; return the outcome."""
    if new:
        added.append(item)
        return "added"
    if same:
        return "unchanged"
    updated.append(item)
    return "updated"


async def _moved_services(tx: Tx, pairs: list[tuple[str, str]]) -> list[str]:
    """A problem line for each (customer id, service id) stored under another customer."""
    owners = await tx.customers.service_owners([service_id for _, service_id in pairs])
    return [
        f"customer {customer_id!r}: service {service_id!r} belongs to customer "
        f"{owners[service_id]!r}; moving a service between customers is not done by import"
        for customer_id, service_id in pairs
        if service_id in owners and owners[service_id] != customer_id
    ]


@dataclass(frozen=True)
class ServiceView:
    """A service with its eligibility today."""

    service: Service
    eligibility: Eligibility


class Customers(UseCases):
    """Import, look-up and the services overview."""

    async def import_file(self, raw: bytes) -> ImportSummary:
        """Check a small file held in memory, then write it (see `import_checked`)."""
        with check_import(raw, today=today_kst(self.clock)) as checked:
            return await self.import_checked(checked)

    async def import_checked(
        self, checked: CheckedImport, *, progress: Progress | None = None
    ) -> ImportSummary:
        """Write a checked file in short transactions, so that the bot's turns barely wait.

        A service that already belongs to another customer refuses the file whole: every
        service id is looked up first, in read-only snapshots, before anything is written.
        Then each batch of IMPORT_BATCH customers is one write transaction that reads what is
        stored and writes only what differs, so an unchanged record costs a read. A service
        cancelled here (by a paid refund, which the billing export does not know) stays
        cancelled: reactivating it would offer the customer a second refund.

        `progress(customers written, customers in the file)` is called after each batch.
        Batches are committed one by one. Another import running at the same time could give
        one of this file's services to another customer between the look-up and its batch;
        that batch is then refused with ImportStopped, which says how many customers were
        already written (running the import again finishes it once the files agree).
        """
        await self._refuse_moved_services(checked)
        summary = ImportSummary()
        written = 0
        for batch in checked.batches(IMPORT_BATCH):
            async with self.db.transaction() as tx:
                await self._write_batch(tx, batch, summary, written)
            written += len(batch)
            if progress is not None:
                progress(written, checked.customers)  # between transactions: nothing held
        async with self.db.transaction() as tx:
            await tx.customers.analyze()
        return summary

    async def _refuse_moved_services(self, checked: CheckedImport) -> None:
        problems: list[str] = []
        for pairs in checked.service_owners(IMPORT_BATCH):
            async with self.db.reading() as tx:
                problems += await _moved_services(tx, pairs)
            if len(problems) >= MAX_PROBLEMS:
                break
        if problems:
            raise ImportRejected(problems[:MAX_PROBLEMS])

    async def _write_batch(
        self, tx: Tx, batch: list[ImportRecord], summary: ImportSummary, written: int
    ) -> None:
        moved = await _moved_services(
            tx, [(customer.id, service.id) for customer, services in batch for service in services]
        )
        if moved:
            raise ImportStopped(
                f"import stopped after {written:,} customers were written: another import "
                f"changed a service's customer meanwhile; {moved[0]}"
            )
        now = self.now()
        names = await tx.customers.names([customer.id for customer, _ in batch])
        stored = await tx.customers.service_values(
            [service.id for _, services in batch for service in services]
        )
        added: list[Customer] = []
        renamed: list[Customer] = []
        new_services: list[Service] = []
        changed_services: list[Service] = []
        for customer, services in batch:
            name = names.get(customer.id)
            outcome = _sort(name is None, name == customer.name, customer, added, renamed)
            summary.customers[outcome].append(customer.id)
            for service in services:
                values = stored.get(service.id)
                if values is not None and values[-1] == ServiceStatus.CANCELLED.value:
                    service = service.model_copy(update={"status": ServiceStatus.CANCELLED})
                same = values is not None and values == values_of(service)
                outcome = _sort(values is None, same, service, new_services, changed_services)
                summary.services[outcome].append(service.id)
        # Parents first: a service's customer must exist when the service is inserted.
        await tx.customers.add_many(added, now)
        await tx.customers.rename_many(renamed, now)
        await tx.customers.add_services(new_services, now)
        await tx.customers.update_services(changed_services, now)

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
