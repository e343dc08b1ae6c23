"""Shared set-up for the benchmarks: customers with one eligible service each."""

from __future__ import annotations

from pathlib import Path

from core.calendar import system_clock, today_kst
from core.storage import Database
from core.usecases import Helpdesk
from testkit.records import customer, import_file, service
from testkit.scripts import MESSAGE, QUESTION, customer_script

__all__ = ["MESSAGE", "QUESTION", "customer_script", "customers_file", "percentile", "prepare"]


def customers_file(n: int) -> bytes:
    """An import file with `n` customers, each with one MyCash service issued today (KST)."""
    today = today_kst(system_clock)
    return import_file(
        [
            customer(f"load{i:04d}", f"고객{i:04d}", [service(f"LD-{i:04d}", today)])
            for i in range(n)
        ]
    )


async def prepare(database: str | Path, n: int, secret_key: bytes | None = None) -> list[str]:
    """Fill the database (a path or URL) with `n` customers; return a link code per customer."""
    db = await Database.open(database, secret_key)
    try:
        helpdesk = Helpdesk(db, system_clock)
        await helpdesk.customers.import_file(customers_file(n))
        return [(await helpdesk.linking.issue_code(f"load{i:04d}")).code for i in range(n)]
    finally:
        await db.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
