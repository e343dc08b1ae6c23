"""Shared set-up for the benchmarks: customers with one eligible service each."""

from __future__ import annotations

from pathlib import Path

from core.calendar import system_clock, today_kst
from core.storage import Database
from core.usecases import Helpdesk
from testkit.records import customer, import_file, service

QUESTION = "SMS 충전 금액도 환불되나요?"
MESSAGE = "더 이상 사용하지 않아 해지합니다"


def customers_file(n: int) -> bytes:
    """An import file with `n` customers, each with one MyCash service issued today (KST)."""
    today = today_kst(system_clock)
    return import_file(
        [
            customer(f"load{i:04d}", f"고객{i:04d}", [service(f"LD-{i:04d}", today)])
            for i in range(n)
        ]
    )


async def prepare(db_path: Path, n: int) -> list[str]:
    """Create the database with `n` customers; return one link code per customer."""
    db = await Database.open(db_path)
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


def customer_script(code: str, service_id: str) -> list[tuple[str, str]]:
    """One customer's 8 turns: link, ask, start, choose, next, reason, message, confirm.

    Each turn is ("text", what is typed) or ("press", the label of the button pressed).
    """
    return [
        ("text", f"/start {code}"),
        ("text", QUESTION),
        ("text", "/refund"),
        ("press", f"{service_id} · 31,000원"),
        ("press", "다음 진행"),
        ("press", "서비스 불만"),
        ("text", MESSAGE),
        ("press", "취소/환불 신청"),
    ]
