"""Several processes on one database, as several webhook workers run: each holds its own
connections (its own `Database`), and they race. Notifications go out once and in order per
chat, a link code links one chat, request numbers stay unique and gapless, and two agents
deciding at once make one decision. On SQLite (one writer at a time) and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.dialogue import Reply
from bot.notify import OutboxDeliverer
from core.calendar import fixed_clock
from core.errors import IllegalTransition, InvalidLinkCode
from core.models import Reason
from core.usecases import Filing, Helpdesk
from testkit.records import customer, import_file, service
from tests.conftest import OpenDb
from tests.support.databases import RawDatabase

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST
WORKERS = 3
CUSTOMERS = 12


async def workers(open_db: OpenDb, count: int = WORKERS) -> list[Helpdesk]:
    """`count` processes' use cases, each over connections of its own."""
    return [Helpdesk(await open_db(), fixed_clock(NOW)) for _ in range(count)]


async def customers(desk: Helpdesk) -> None:
    """CUSTOMERS customers with two services each, each customer linked to its own chat
    (notices go only to a chat still linked to the customer)."""
    issued = NOW.date()
    await desk.customers.import_file(
        import_file(
            [
                customer(
                    f"c{i:02d}",
                    "고객",
                    [service(f"S-{i:02d}", issued), service(f"S-{i:02d}b", issued)],
                )
                for i in range(CUSTOMERS)
            ]
        )
    )
    for i in range(CUSTOMERS):
        code = await desk.linking.issue_code(f"c{i:02d}")
        await desk.linking.redeem(f"tg:{i}", code.code)


def filing(i: int, *, second: bool = False) -> Filing:
    return Filing(
        customer_id=f"c{i:02d}",
        service_id=f"S-{i:02d}" + ("b" if second else ""),
        reason=Reason.CLOSURE,
        message="폐업합니다",
        account=None,
        channel="telegram",
        chat_id=f"tg:{i}",
        submission_key=None,
    )


async def test_every_notification_is_sent_once_and_in_order_per_chat_across_workers(
    open_db: OpenDb, raw_db: RawDatabase
) -> None:
    desks = await workers(open_db)
    await customers(desks[0])
    for i in range(CUSTOMERS):
        for second in (False, True):
            request, _ = await desks[i % WORKERS].requests.file(filing(i, second=second))
            await desks[0].requests.approve(request.number, "kim")
            await desks[0].requests.reject(request.number, "kim", "다시 확인해 주세요")
    sent: list[tuple[str, str]] = []

    async def send(chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(0)  # let the other workers claim meanwhile
        sent.append((chat_id, reply.text))

    delivered = await asyncio.gather(
        *(OutboxDeliverer(desk, "tg:", send).deliver_due() for desk in desks)
    )
    assert sum(delivered) == len(sent) == 4 * CUSTOMERS
    assert Counter(text for _, text in sent).most_common(1)[0][1] == 1  # none twice
    assert raw_db.rows("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]
    # Each chat got its notifications in the order they were written.
    rows = raw_db.rows("SELECT chat_id, payload FROM outbox ORDER BY id")
    for chat in {chat for chat, _ in rows}:
        written = [json.loads(p)["number"] for c, p in rows if c == chat]
        received = [
            next(n for n in written if n in text) for c, text in sent if c == chat
        ]  # fmt: skip
        assert received == written


async def test_a_link_code_links_exactly_one_chat_when_two_workers_redeem_it(
    open_db: OpenDb,
) -> None:
    desks = await workers(open_db, 2)
    await customers(desks[0])
    code = await desks[0].linking.issue_code("c00")
    results = await asyncio.gather(
        desks[0].linking.redeem("tg:new-1", code.code),
        desks[1].linking.redeem("tg:new-2", code.code),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Customer", InvalidLinkCode.__name__]
    linked = [await desks[0].linking.customer_of(chat) for chat in ("tg:new-1", "tg:new-2")]
    assert sum(c is not None for c in linked) == 1


async def test_request_numbers_are_unique_and_gapless_across_workers(
    open_db: OpenDb, raw_db: RawDatabase
) -> None:
    desks = await workers(open_db)
    await customers(desks[0])
    filed = await asyncio.gather(
        *(desks[i % WORKERS].requests.file(filing(i)) for i in range(CUSTOMERS))
    )
    numbers = sorted(request.number for request, _ in filed)
    assert numbers == [f"R-20261128-{n:04d}" for n in range(1, CUSTOMERS + 1)]
    assert raw_db.rows("SELECT last FROM request_counters") == [(CUSTOMERS,)]


async def test_two_agents_deciding_at_once_make_one_decision(
    open_db: OpenDb, raw_db: RawDatabase
) -> None:
    desks = await workers(open_db, 2)
    await customers(desks[0])
    request, _ = await desks[0].requests.file(filing(0))
    results = await asyncio.gather(
        desks[0].requests.approve(request.number, "kim"),
        desks[1].requests.approve(request.number, "lee"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == [
        IllegalTransition.__name__,
        "RefundRequest",
    ]
    _, events = await desks[0].requests.show(request.number)
    assert [e.action for e in events] == ["submitted", "approved"]
    assert raw_db.count("outbox") == 1  # the customer is told once
