"""Red-team findings about data at rest: the key file, file modes, a vanished database, text
kept in the clear, and clocks that jumped."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import assemble
from bot.dialogue import Press, Reply, TextInput
from core.calendar import fixed_clock
from core.crypto import key_file_for
from core.errors import KeyFileMissing
from core.storage import Database
from core.text import mask_numbers, redact
from core.usecases import Helpdesk

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = ROOT / "tests" / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def press(replies: list[Reply], label: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return Press(button.payload)
    raise AssertionError(label)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        timeout=60,
    )


# --- the key file ----------------------------------------------------------------------------


async def test_an_existing_database_without_its_key_file_is_refused_not_given_a_new_key(
    tmp_path: Path,
):
    path = tmp_path / "h.db"
    db = await Database.open(path)
    await db.close()
    key_file = key_file_for(path)
    key_file.unlink()
    with pytest.raises(KeyFileMissing, match=str(key_file)):
        await Database.open(path)
    assert not key_file.exists()


def test_a_read_command_names_the_missing_key_file_in_one_line(tmp_path: Path):
    assert cli("db", "init", "--db", "h.db", cwd=tmp_path).returncode == 0
    (tmp_path / "h.db.key").unlink()
    result = cli("requests", "list", "--db", "h.db", cwd=tmp_path)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "h.db.key" in line and "missing" in line
    assert not (tmp_path / "h.db.key").exists()


def test_a_read_command_at_a_mistyped_path_creates_nothing(tmp_path: Path):
    result = cli("requests", "list", "--db", "typo/nope.db", cwd=tmp_path)
    assert result.returncode != 0
    assert "no database at typo/nope.db" in result.stderr
    assert list(tmp_path.iterdir()) == []


async def test_a_conversation_written_under_another_key_resets_that_chat_only(tmp_path: Path):
    path = tmp_path / "h.db"
    first = await Database.open(path, Fernet.generate_key())
    app = assemble(first, channel="test", clock=fixed_clock(NOW))
    await app.helpdesk.customers.import_file(CUSTOMERS.read_bytes())
    code = await app.helpdesk.linking.issue_code("hong01")
    await app.engine.handle("t:1", TextInput(f"/start {code.code}"))
    await app.engine.handle("t:1", TextInput("/refund"))
    await first.close()
    second = await Database.open(path, Fernet.generate_key())  # the key was changed
    try:
        app = assemble(second, channel="test", clock=fixed_clock(NOW))
        replies = await app.engine.handle("t:1", TextInput("/refund"))
        assert "취소/환불할 서비스를 선택해 주세요" in text_of(replies)
    finally:
        await second.close()


# --- files readable by others ----------------------------------------------------------------


async def test_a_new_database_and_its_wal_are_private_whatever_the_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        db = await Database.open(tmp_path / "h.db")
        await Helpdesk(db, fixed_clock(NOW)).customers.import_file(CUSTOMERS.read_bytes())
        files = [tmp_path / n for n in ("h.db", "h.db-wal", "h.db-shm", "h.db.key")]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files if p.exists()}
        await db.close()
    finally:
        os.umask(old)
    assert {"h.db", "h.db-wal", "h.db.key"} <= set(modes)
    assert all(mode == 0o600 for mode in modes.values()), modes


# --- the database deleted or replaced while running ------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_vanished_database_stops_the_channel_and_files_nothing(tmp_path: Path, how: str):
    path = tmp_path / "h.db"
    db = await Database.open(path)
    app = assemble(db, channel="test", clock=fixed_clock(NOW))
    fatal: list[Exception] = []
    app.engine.on_fatal = fatal.append
    try:
        await app.helpdesk.customers.import_file(CUSTOMERS.read_bytes())
        code = await app.helpdesk.linking.issue_code("hong01")
        await app.engine.handle("t:1", TextInput(f"/start {code.code}"))
        replies = await app.engine.handle("t:1", TextInput("/refund"))
        for label in ("SMS-1001 · 31,000원", "다음 진행", "폐업"):
            replies = await app.engine.handle("t:1", press(replies, label))
        summary = await app.engine.handle("t:1", TextInput("폐업합니다"))
        path.unlink()
        if how == "replaced":
            sqlite3.connect(path).close()
        replies = await app.engine.handle("t:1", press(summary, "취소/환불 신청"))
        assert "접수된 신청은 없어요" in text_of(replies)
        assert fatal and "deleted or replaced" in str(fatal[0])
    finally:
        await db.close()


# --- text kept in the clear ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["110.123.456789", "110/123/456789", "110_123_456789", "110 123 456789", "110-123-456789"],
)
def test_account_numbers_with_any_separator_are_masked(typed: str):
    masked = mask_numbers(f"계좌는 {typed} 이에요")
    assert "456789" not in masked and masked.endswith("6789 이에요")


def test_a_link_code_is_hidden_before_it_is_normalised():
    code = "AM8fiifussm7IIyb6sphqX"
    assert redact(f"제 연결코드는 {code} 이에요") == "제 연결코드는 [코드] 이에요"


async def test_a_link_code_in_a_question_is_in_no_form_in_the_faq_log(tmp_path: Path):
    db = await Database.open(tmp_path / "h.db")
    try:
        app = assemble(db, channel="test", clock=fixed_clock(NOW))
        code = "AM8fiifussm7IIyb6sphqX"
        await app.engine.handle("t:5", TextInput(f"제 연결코드는 {code} 이에요 왜 안되나요"))
        events = await app.helpdesk.faq_log.events(NOW - timedelta(days=1), NOW + timedelta(1))
        assert events
        stored = " ".join(f"{e['text']} {e['normalized']}" for e in events).casefold()
        for piece in ("am8fiifussm7iiyb6sphqx", "fiifussm", "iiyb", "sphq"):
            assert piece not in stored.replace(" ", ""), stored
    finally:
        await db.close()


async def test_digits_typed_at_the_holder_step_are_kept_nowhere_in_the_clear(tmp_path: Path):
    db = await Database.open(tmp_path / "h.db")
    try:
        app = assemble(db, channel="test", clock=fixed_clock(NOW))
        await app.helpdesk.customers.import_file(CUSTOMERS.read_bytes())
        code = await app.helpdesk.linking.issue_code("hong01")
        await app.engine.handle("t:1", TextInput(f"/start {code.code}"))
        replies = await app.engine.handle("t:1", TextInput("/refund"))
        for label in ("SMS-1002 · 61,000원", "다음 진행", "폐업"):
            replies = await app.engine.handle("t:1", press(replies, label))
        for typed in ("폐업합니다", "신한은행", "110-987-654321", "110 987 654321"):
            replies = await app.engine.handle("t:1", TextInput(typed))
        assert "예금주 이름만" in text_of(replies)
        replies = await app.engine.handle("t:1", TextInput("김아무개"))
        replies = await app.engine.handle("t:1", press(replies, "확인증 첨부해 문의 남기기"))
        replies = await app.engine.handle("t:1", TextInput("남편 계좌 110.987.654321 로요"))
        await app.engine.handle("t:1", press(replies, "확인증 없이 접수하기"))
        [inquiry] = await app.helpdesk.inquiries.list()
        public = " ".join([inquiry.context, inquiry.message, *inquiry.transcript])
        assert "654321" not in public.replace(" ", "").replace(".", "").replace("-", "")
        # The account itself reaches the agent, encrypted at rest like a request's.
        assert inquiry.refund is not None and inquiry.refund.account is not None
        assert inquiry.refund.account.number == "110-987-654321"
        with sqlite3.connect(tmp_path / "h.db") as conn:
            dump = "\n".join(conn.iterdump())
        assert "987-654321" not in dump
    finally:
        await db.close()


# --- clocks that jumped ------------------------------------------------------------------------


async def test_wrong_codes_written_by_a_fast_clock_lock_a_chat_for_one_window_at_most(
    tmp_path: Path,
):
    from core.errors import InvalidLinkCode, LinkThrottled

    async def no_sleep(seconds: float) -> None:
        return None

    async def guess_five_times(helpdesk: Helpdesk, chat: str) -> None:
        for _ in range(5):
            with pytest.raises(InvalidLinkCode):
                await helpdesk.linking.redeem(chat, "guess")

    db = await Database.open(tmp_path / "h.db")
    try:
        corrected = Helpdesk(db, fixed_clock(NOW), sleep=no_sleep)
        await corrected.customers.import_file(CUSTOMERS.read_bytes())
        # Written while the clock ran a day fast: too far ahead to count at all.
        await guess_five_times(Helpdesk(db, fixed_clock(NOW + timedelta(days=1))), "tg:1")
        good = await corrected.linking.issue_code("hong01")
        assert (await corrected.linking.redeem("tg:1", good.code)).id == "hong01"
        # Written ten minutes fast: they count as now, and the lock-out is one window at most.
        await guess_five_times(Helpdesk(db, fixed_clock(NOW + timedelta(minutes=10))), "tg:2")
        with pytest.raises(LinkThrottled) as refused:
            await corrected.linking.redeem("tg:2", "guess")
        assert refused.value.retry_after <= timedelta(minutes=15)
    finally:
        await db.close()


async def test_a_retry_time_written_by_a_fast_clock_holds_a_notice_back_an_hour_at_most(
    tmp_path: Path,
):
    db = await Database.open(tmp_path / "h.db")
    try:
        desk = Helpdesk(db, fixed_clock(NOW))
        await desk.customers.import_file(CUSTOMERS.read_bytes())
        async with db.transaction() as tx:
            item = await tx.outbox.enqueue(
                "tg:1", "inquiry_answer", {"number": "Q", "answer": "a"}, NOW
            )
            await tx.outbox.mark_retry(item, "boom", NOW + timedelta(days=1), None)
            await tx.sql.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                ((NOW + timedelta(days=1)).isoformat(), item),
            )
        assert await desk.notifications.claim("tg:", timedelta(minutes=2)) == []
        later = Helpdesk(db, fixed_clock(NOW + timedelta(hours=1, minutes=1)))
        [claimed] = await later.notifications.claim("tg:", timedelta(minutes=2))
        assert claimed.id == item
    finally:
        await db.close()
