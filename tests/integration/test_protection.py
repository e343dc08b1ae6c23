"""Account numbers are encrypted at rest and shown whole only to agents."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.calendar import fixed_clock
from core.crypto import CipherError, key_file_for
from core.models import Customer, Reason, RefundAccount
from core.storage import Database
from core.usecases import Filing, Helpdesk
from tests.conftest import OpenDb
from tests.support.databases import RawDatabase

pytestmark = pytest.mark.both_backends

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
ACCOUNT = "110-123-456789"


async def file_bank_request(db: Database) -> str:
    helpdesk = Helpdesk(db, fixed_clock(NOW))
    await helpdesk.customers.import_file(CUSTOMERS.read_bytes())
    await helpdesk.conversations.save("tg:1", "holder", {"account": ACCOUNT}, 0)
    request, _ = await helpdesk.requests.file(
        Filing(
            customer_id="hong01",
            service_id="SMS-1002",
            reason=Reason.CLOSURE,
            message="폐업",
            account=RefundAccount(bank="신한은행", number=ACCOUNT, holder="홍길동"),
            channel="telegram",
            chat_id="tg:1",
            submission_key=None,
        )
    )
    return request.number


def raw_dump(raw_db: RawDatabase) -> str:
    """Every stored row of the tables that could hold an account number."""
    tables = ("refund_requests", "request_events", "conversations", "inquiries", "outbox")
    return "\n".join(str(row) for table in tables for row in raw_db.rows(f"SELECT * FROM {table}"))


async def test_account_numbers_are_not_stored_in_plain_text(db: Database, raw_db: RawDatabase):
    number = await file_bank_request(db)
    request, _ = await Helpdesk(db, fixed_clock(NOW)).requests.show(number)
    assert request.account is not None and request.account.number == ACCOUNT
    dump = raw_dump(raw_db)
    assert "110-123" not in dump and "456789" not in dump
    assert "enc1:" in dump


@pytest.mark.sqlite_only
async def test_the_local_key_file_is_created_once_and_private(tmp_path: Path):
    path = tmp_path / "p.db"
    db = await Database.open(path)
    await db.close()
    key_file = key_file_for(path)
    mode = stat.S_IMODE(key_file.stat().st_mode)
    assert mode == 0o600
    first = key_file.read_bytes()
    db = await Database.open(path)
    await db.close()
    assert key_file.read_bytes() == first


async def test_a_wrong_key_is_a_clear_error_not_garbage(db: Database, database_url: str):
    from cryptography.fernet import Fernet

    number = await file_bank_request(db)
    other = await Database.open(database_url, Fernet.generate_key())
    try:
        with pytest.raises(CipherError, match="cannot be decrypted"):
            await Helpdesk(other, fixed_clock(NOW)).requests.show(number)
    finally:
        await other.close()


async def test_repeated_wrong_link_codes_are_slowed_and_then_refused(open_db: OpenDb):
    from core.errors import InvalidLinkCode, LinkThrottled
    from core.usecases import LinkLimits

    waits: list[float] = []

    async def no_real_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def attempt(helpdesk: Helpdesk, chat: str, code: str) -> Customer:
        # As the engine does: the slow-down first, outside the unit of work that redeems.
        await helpdesk.linking.slow_down(chat)
        return await helpdesk.linking.redeem(chat, code)

    db = await open_db()
    try:
        helpdesk = Helpdesk(db, fixed_clock(NOW), sleep=no_real_sleep)
        await helpdesk.customers.import_file(CUSTOMERS.read_bytes())
        for _ in range(5):
            with pytest.raises(InvalidLinkCode):
                await attempt(helpdesk, "tg:666", "guess")
        assert waits == [1.0, 2.0]  # the 4th and 5th guesses were slowed down
        good = await helpdesk.linking.issue_code("hong01")
        with pytest.raises(LinkThrottled):
            await attempt(helpdesk, "tg:666", good.code)  # refused, even a good code
        assert waits == [1.0, 2.0]  # a refused chat is not kept waiting
        assert await helpdesk.linking.customer_of("tg:666") is None
        # Another chat is not affected, and the good code was not used up by the refusal.
        assert (await attempt(helpdesk, "tg:7", good.code)).id == "hong01"
        later = Helpdesk(db, fixed_clock(NOW + LinkLimits().failure_window), sleep=no_real_sleep)
        other = await later.linking.issue_code("hong01")
        assert (await attempt(later, "tg:666", other.code)).id == "hong01"
    finally:
        await db.close()
