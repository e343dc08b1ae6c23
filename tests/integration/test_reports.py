"""The agents' figures for a period (counted by the database) and the retention policy."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.analytics import compute_stats
from core.calendar import fixed_clock
from core.models import Reason
from core.storage import Database
from core.usecases import Filing, Helpdesk

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


async def desk_at(db: Database, when: datetime) -> Helpdesk:
    return Helpdesk(db, fixed_clock(when))


def customers_as_of(days_ago: int) -> bytes:
    """The story customers with every issue date moved `days_ago` into the past,
    so that a desk whose clock stands that far back can import and file them."""
    data = json.loads(CUSTOMERS.read_text(encoding="utf-8"))
    for customer in data["customers"]:
        for service in customer["services"]:
            issued = date.fromisoformat(service["issued_on"]) - timedelta(days=days_ago)
            service["issued_on"] = issued.isoformat()
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


async def file(desk: Helpdesk, customer: str, service: str, chat: str) -> str:
    code = await desk.linking.issue_code(customer)
    await desk.linking.redeem(chat, code.code)
    request, _ = await desk.requests.file(
        Filing(
            customer_id=customer,
            service_id=service,
            reason=Reason.CLOSURE,
            message="폐업",
            account=None,
            channel=chat.split(":")[0],
            chat_id=chat,
            submission_key=None,
        )
    )
    return request.number


async def test_stats_count_only_the_period_asked_and_acts_apart_from_answers(db_path: Path):
    db = await Database.open(db_path)
    try:
        desk = await desk_at(db, NOW)
        await desk.customers.import_file(CUSTOMERS.read_bytes())
        old = await desk_at(db, NOW - timedelta(days=40))
        await old.faq_log.record(
            chat_id="tg:1", kind="answer", intent="mycash_refund", text="q", normalized="q"
        )
        for kind, intent in [
            ("answer", "mycash_refund"),
            ("answer", "mycash_refund"),
            ("act", "request_status"),
            ("fallback", None),
            ("feedback", "mycash_refund"),
        ]:
            await desk.faq_log.record(
                chat_id="kakao:u1",
                kind=kind,
                intent=intent,
                text="q",
                normalized="q",
                helpful=False if kind == "feedback" else None,
            )
        number = await file(desk, "hong01", "SMS-1001", "tg:7")
        await (await desk_at(db, NOW + timedelta(hours=3))).requests.approve(number, "kim")
        stats = await compute_stats(desk, NOW - timedelta(days=1), NOW + timedelta(days=1))
    finally:
        await db.close()
    assert stats["questions"] == 4
    assert stats["per_intent"] == {"mycash_refund": 2}
    assert stats["acts"] == {"request_status": 1}
    assert stats["fallback_rate"] == 0.25
    assert stats["feedback"] == {"mycash_refund": {"up": 0, "down": 1}}
    assert stats["requests_by_state"]["approved"] == 1
    assert stats["median_hours_to_approval"] == 3.0
    assert stats["by_channel"]["kakao"]["questions"] == 4
    assert stats["by_channel"]["tg"]["requests"] == {"approved": 1}


async def test_pruning_removes_old_events_and_sent_notices_and_keeps_requests(db_path: Path):
    db = await Database.open(db_path)
    try:
        old = await desk_at(db, NOW - timedelta(days=200))
        await old.customers.import_file(customers_as_of(200))
        await old.faq_log.record(
            chat_id="tg:1", kind="fallback", intent=None, text="q", normalized="q"
        )
        number = await file(old, "hong01", "SMS-1001", "tg:7")
        await old.requests.approve(number, "kim")
        async with db.transaction() as tx:
            [item] = await tx.outbox.claim_due("tg:", old.now(), old.now(), 5)
            await tx.outbox.mark_sent(item.id, old.now(), item.claimed_until)
        desk = await desk_at(db, NOW)
        await desk.faq_log.record(
            chat_id="tg:1", kind="fallback", intent=None, text="new", normalized="new"
        )
        removed = await desk.reports.prune(180)
    finally:
        await db.close()
    assert removed["faq_events"] == 1 and removed["notifications"] == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT text FROM faq_events").fetchall() == [("new",)]
        assert conn.execute("SELECT count(*) FROM refund_requests").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM request_events").fetchone() == (2,)
