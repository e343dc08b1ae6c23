"""The `helpdesk` command as an operator or agent runs it: a real subprocess on a real file."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.calendar import fixed_clock
from core.models import Reason, RefundAccount
from core.storage import Database
from core.usecases import Filing, Helpdesk, InquiryFiling

HELPDESK = shutil.which("helpdesk") or "helpdesk"
FILED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST, day 3 of the demo services
UNKNOWN_ID = "R-20991231-0001"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any helpdesk settings, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HELPDESK_") and k != "TELEGRAM_BOT_TOKEN"
    }
    env.update(extra)
    return env


def helpdesk(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `helpdesk ARGS...` and capture what it printed."""
    result = subprocess.run(
        [HELPDESK, *map(str, args)],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one line on stderr and nothing on stdout."""
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def sqlite_rows(path: Path, sql: str, *params: str) -> list[tuple[Any, ...]]:
    """Rows straight from the file, bypassing the code under test."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot(path: Path) -> list[list[tuple[Any, ...]]]:
    """Every customer and service row, to compare before and after."""
    return [
        sqlite_rows(path, "SELECT * FROM customers ORDER BY id"),
        sqlite_rows(path, "SELECT * FROM services ORDER BY id"),
    ]


async def _prepare(db_path: Path, demo_bytes: bytes, file_requests: bool) -> dict[str, str]:
    db = await Database.open(db_path)
    try:
        desk = Helpdesk(db, fixed_clock(FILED_AT))
        await desk.customers.import_file(demo_bytes)
        if not file_requests:
            return {}
        common: dict[str, Any] = {
            "customer_id": "hong01",
            "channel": "telegram",
            "chat_id": "chat-1",
            "submission_key": None,
        }
        mycash, _ = await desk.requests.file(
            Filing(
                service_id="SMS-1001",
                reason=Reason.BUSINESS_ENDED,
                message="사업을 정리합니다.",
                account=None,
                **common,
            )
        )
        bank, _ = await desk.requests.file(
            Filing(
                service_id="SMS-1002",
                reason=Reason.SWITCHING,
                message="다른 서비스로 옮겨요.",
                account=RefundAccount(bank="국민은행", number="123456-01-234567", holder="홍 길동"),
                **common,
            )
        )
        return {"mycash": mycash.number, "bank": bank.number}
    finally:
        await db.close()


def review(db_path: Path, action: str, number: str, *args: str) -> None:
    """Take an agent action in-process (setup for a test of a later command)."""

    async def act() -> None:
        db = await Database.open(db_path)
        try:
            desk = Helpdesk(db, fixed_clock(FILED_AT + timedelta(hours=1)))
            await getattr(desk.requests, action)(number, *args)
        finally:
            await db.close()

    asyncio.run(act())


@pytest.fixture
def imported(db_path: Path, demo_bytes: bytes) -> Path:
    """A database file holding the demo customers and nothing else."""
    asyncio.run(_prepare(db_path, demo_bytes, file_requests=False))
    return db_path


@pytest.fixture
def filed(db_path: Path, demo_bytes: bytes) -> dict[str, str]:
    """A database file with a MyCash and a bank-transfer request, both submitted."""
    return asyncio.run(_prepare(db_path, demo_bytes, file_requests=True))


@pytest.fixture
def good_file(tmp_path: Path, demo_bytes: bytes) -> Path:
    """The demo import file on disk."""
    path = tmp_path / "customers.json"
    path.write_bytes(demo_bytes)
    return path


# --- import -----------------------------------------------------------------------------------


def test_importing_a_good_file_says_what_was_added(
    tmp_path: Path, db_path: Path, good_file: Path
) -> None:
    result = helpdesk("import", good_file, "--db", db_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "customers: 2 added, 0 updated, 0 unchanged" in result.stdout
    assert "added: hong01, kim02" in result.stdout
    assert "services: 5 added, 0 updated, 0 unchanged" in result.stdout
    assert [row[0] for row in snapshot(db_path)[0]] == ["hong01", "kim02"]


def test_importing_the_same_file_again_says_nothing_changed(
    tmp_path: Path, imported: Path, good_file: Path
) -> None:
    result = helpdesk("import", good_file, "--db", imported, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "customers: 0 added, 0 updated, 2 unchanged",
        "services: 0 added, 0 updated, 5 unchanged",
    ]


def test_importing_a_changed_file_names_what_was_updated(
    tmp_path: Path, imported: Path, demo_records: dict[str, Any]
) -> None:
    demo_records["customers"][1]["services"][0]["sms_sent"] = 4
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(demo_records, ensure_ascii=False), encoding="utf-8")
    result = helpdesk("import", changed, "--db", imported, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "services: 0 added, 1 updated, 4 unchanged" in result.stdout
    assert "updated: SMS-2001" in result.stdout


def test_an_import_can_be_read_from_stdin(tmp_path: Path, db_path: Path, demo_bytes: bytes) -> None:
    result = helpdesk("import", "-", "--db", db_path, cwd=tmp_path, stdin=demo_bytes)
    assert result.returncode == 0, result.stderr
    assert "customers: 2 added" in result.stdout


def _bad_date(records: dict[str, Any]) -> None:
    records["customers"][0]["services"][0]["issued_on"] = "2026-13-01"


def _negative_amount(records: dict[str, Any]) -> None:
    records["customers"][0]["services"][1]["sms_charge"] = -1000


def _unknown_payment_method(records: dict[str, Any]) -> None:
    records["customers"][1]["services"][0]["payment_method"] = "card"


def _duplicate_id(records: dict[str, Any]) -> None:
    records["customers"].append({"id": "hong01", "name": "홍길순", "services": []})


def _missing_name(records: dict[str, Any]) -> None:
    del records["customers"][1]["name"]


@pytest.mark.parametrize(
    ("spoil", "where"),
    [
        (_bad_date, "customers[0] (id 'hong01').services[0] (id 'SMS-1001').issued_on: "),
        (_negative_amount, "customers[0] (id 'hong01').services[1] (id 'SMS-1002').sms_charge: "),
        (_unknown_payment_method, "customers[1] (id 'kim02').services[0] (id 'SMS-2001')"),
        (_duplicate_id, "customers[2] (id 'hong01').id: duplicate customer id"),
        (_missing_name, "customers[1] (id 'kim02').name: is required but missing"),
    ],
    ids=["bad date", "negative amount", "unknown payment method", "duplicate id", "missing name"],
)
def test_a_bad_file_is_refused_whole_naming_the_record_and_field(
    tmp_path: Path, imported: Path, demo_records: dict[str, Any], spoil: Any, where: str
) -> None:
    before = snapshot(imported)
    demo_records["customers"][0]["name"] = "홍길동(개명)"  # a change that must not slip through
    demo_records["customers"][0]["services"][0]["service_fee"] = 99000
    spoil(demo_records)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(demo_records, ensure_ascii=False), encoding="utf-8")

    result = helpdesk("import", bad, "--db", imported, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stdout == ""
    assert "nothing was changed" in result.stderr
    assert where in result.stderr
    assert snapshot(imported) == before


def test_a_file_that_cannot_be_read_is_a_one_line_error(tmp_path: Path, db_path: Path) -> None:
    result = helpdesk("import", tmp_path / "missing.json", "--db", db_path, cwd=tmp_path)
    assert "missing.json" in one_line_error(result)


def test_a_json_lines_file_is_imported_like_the_document(
    tmp_path: Path, db_path: Path, demo_records: dict[str, Any]
) -> None:
    lines = tmp_path / "customers.jsonl"
    lines.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in demo_records["customers"]),
        encoding="utf-8",
    )
    result = helpdesk("import", lines, "--db", db_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "customers: 2 added" in result.stdout and "services: 5 added" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_an_issue_date_in_the_future_is_refused_from_the_command_line(
    tmp_path: Path, db_path: Path, demo_records: dict[str, Any]
) -> None:
    demo_records["customers"][1]["services"][0]["issued_on"] = "9999-12-31"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(demo_records, ensure_ascii=False), encoding="utf-8")
    result = helpdesk("import", bad, "--db", db_path, cwd=tmp_path)
    assert result.returncode != 0
    assert "customers[1] (id 'kim02').services[0] (id 'SMS-2001').issued_on: 9999-12-31 is" in (
        result.stderr
    )
    assert not db_path.exists() or snapshot(db_path)[0] == []


def test_the_summary_names_the_first_ids_and_counts_the_rest(tmp_path: Path, db_path: Path) -> None:
    many = tmp_path / "many.jsonl"
    many.write_text("".join(f'{{"id": "c{i:03d}", "name": "고객"}}\n' for i in range(125)))
    result = helpdesk("import", many, "--db", db_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  added: c000, c001, " in result.stdout
    assert "c019 … and 105 more" in result.stdout and "c020" not in result.stdout


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run `helpdesk ARGS...` with stderr on a pseudo-terminal; return code, stdout, stderr."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [HELPDESK, *args],
            cwd=cwd,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not piece:
                break
            shown += piece
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return process.returncode, process.stdout.decode(), shown.decode()


def test_a_terminal_shows_a_progress_bar_that_json_output_does_not(
    tmp_path: Path, db_path: Path, good_file: Path
) -> None:
    code, out, shown = run_on_a_terminal(["import", str(good_file), "--db", str(db_path)], tmp_path)
    assert code == 0 and "customers: 2 added" in out
    assert f"checking {good_file} [" in shown and "100%" in shown
    assert shown.endswith("\r\x1b[K")  # the bar's line is cleared again
    code, out, shown = run_on_a_terminal(
        ["import", str(good_file), "--db", str(db_path), "--json"], tmp_path
    )
    assert code == 0 and json.loads(out)["customers"]["unchanged"] == ["hong01", "kim02"]
    assert shown == ""


# --- link -------------------------------------------------------------------------------------


def test_link_json_gives_a_long_url_safe_code_valid_for_thirty_minutes(
    tmp_path: Path, imported: Path
) -> None:
    before = datetime.now(UTC)
    result = helpdesk("link", "hong01", "--json", "--db", imported, cwd=tmp_path)
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr

    out = json.loads(result.stdout)
    assert out["customer_id"] == "hong01"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", out["code"])
    expires = datetime.fromisoformat(out["expires_at"])
    assert expires.utcoffset() is not None
    assert before + timedelta(minutes=29) <= expires <= after + timedelta(minutes=31)


def test_the_printed_code_links_a_chat_to_the_customer(tmp_path: Path, imported: Path) -> None:
    result = helpdesk("link", "kim02", "--json", "--db", imported, cwd=tmp_path)
    code = json.loads(result.stdout)["code"]

    async def redeem() -> str:
        db = await Database.open(imported)
        try:
            desk = Helpdesk(db, fixed_clock(datetime.now(UTC)))
            return (await desk.linking.redeem("chat-9", code)).id
        finally:
            await db.close()

    assert asyncio.run(redeem()) == "kim02"


def test_link_prints_the_deep_link_when_the_bots_username_is_known(
    tmp_path: Path, imported: Path
) -> None:
    env = clean_env(HELPDESK_BOT_USERNAME="alimtalk_help_bot")
    result = helpdesk("link", "hong01", "--json", "--db", imported, cwd=tmp_path, env=env)
    out = json.loads(result.stdout)
    assert out["url"] == f"https://t.me/alimtalk_help_bot?start={out['code']}"


def test_link_for_an_unknown_customer_is_a_one_line_error(tmp_path: Path, imported: Path) -> None:
    result = helpdesk("link", "nobody", "--json", "--db", imported, cwd=tmp_path)
    assert "nobody" in one_line_error(result)


# --- requests list ----------------------------------------------------------------------------


def test_requests_list_json_gives_every_field_an_agent_needs(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    # The server runs in Alaska; the agent still reads Seoul times.
    env = clean_env(TZ="America/Anchorage")
    result = helpdesk("requests", "list", "--json", "--db", db_path, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {filed["mycash"], filed["bank"]}

    mycash = rows[filed["mycash"]]
    assert mycash["id"] == "R-20261122-0001"
    assert {
        k: mycash[k]
        for k in (
            "customer_id",
            "service_id",
            "reason",
            "message",
            "refund_total",
            "service_fee",
            "sms_charge",
            "payment_method",
            "status",
            "created_at",
        )
    } == {
        "customer_id": "hong01",
        "service_id": "SMS-1001",
        "reason": "업무 종료",
        "message": "사업을 정리합니다.",
        "refund_total": 31000,
        "service_fee": 11000,
        "sms_charge": 20000,
        "payment_method": "mycash",
        "status": "submitted",
        "created_at": "2026-11-22T12:00:00+09:00",
    }

    bank = rows[filed["bank"]]
    assert (bank["reason"], bank["refund_total"], bank["payment_method"]) == (
        "타 서비스 전환",
        33000,
        "bank_transfer",
    )
    assert (bank["bank"], bank["account_number"], bank["account_holder"]) == (
        "국민은행",
        "123456-01-234567",
        "홍 길동",
    )


def test_requests_list_filters_by_status(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    review(db_path, "approve", filed["bank"], "kim")
    result = helpdesk(
        "requests", "list", "--status", "approved", "--json", "--db", db_path, cwd=tmp_path
    )
    assert [r["id"] for r in json.loads(result.stdout)] == [filed["bank"]]


def test_requests_list_as_a_table_shows_amounts_in_won(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    result = helpdesk("requests", "list", "--db", db_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith(filed["mycash"]))
    assert "31,000원" in line
    assert "2026-11-22 12:00" in line


def test_an_empty_queue_is_an_empty_array(tmp_path: Path, imported: Path) -> None:
    result = helpdesk("requests", "list", "--json", "--db", imported, cwd=tmp_path)
    assert json.loads(result.stdout) == []


# --- requests show / approve / reject / refunded ----------------------------------------------


@pytest.mark.parametrize(
    "action",
    [["show"], ["approve"], ["reject", "--reason", "확인 불가"], ["refunded"]],
    ids=["show", "approve", "reject", "refunded"],
)
def test_an_unknown_request_id_is_a_one_line_error(
    tmp_path: Path, imported: Path, action: list[str]
) -> None:
    result = helpdesk(
        "requests", action[0], UNKNOWN_ID, *action[1:], "--db", imported, cwd=tmp_path
    )
    assert UNKNOWN_ID in one_line_error(result)


def test_approving_twice_is_refused_with_a_clear_error(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    number = filed["mycash"]
    review(db_path, "approve", number, "kim")
    again = helpdesk("requests", "approve", number, "--agent", "kim", "--db", db_path, cwd=tmp_path)
    error = one_line_error(again)
    assert number in error
    assert "approved" in error


def test_rejecting_a_refunded_request_is_refused_and_changes_nothing(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    number = filed["mycash"]
    review(db_path, "approve", number, "kim")
    paid = helpdesk("requests", "refunded", number, "--json", "--db", db_path, cwd=tmp_path)
    assert paid.returncode == 0, paid.stderr
    assert json.loads(paid.stdout)["status"] == "refunded"

    result = helpdesk(
        "requests", "reject", number, "--reason", "취소", "--json", "--db", db_path, cwd=tmp_path
    )
    assert "refunded" in one_line_error(result)
    assert sqlite_rows(db_path, "SELECT status FROM refund_requests WHERE number = ?", number) == [
        ("refunded",)
    ]
    assert sqlite_rows(db_path, "SELECT status FROM services WHERE id = 'SMS-1001'") == [
        ("cancelled",)
    ]


def test_a_rejection_needs_a_reason(tmp_path: Path, db_path: Path, filed: dict[str, str]) -> None:
    result = helpdesk("requests", "reject", filed["mycash"], "--db", db_path, cwd=tmp_path)
    assert result.returncode != 0
    assert "--reason" in result.stderr


def test_a_blank_rejection_reason_is_a_one_line_error(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    number = filed["mycash"]
    result = helpdesk(
        "requests", "reject", number, "--reason", "   ", "--db", db_path, cwd=tmp_path
    )
    assert "reason" in one_line_error(result)
    assert sqlite_rows(db_path, "SELECT status FROM refund_requests WHERE number = ?", number) == [
        ("submitted",)
    ]


def test_show_prints_the_trail_with_the_agent_named_by_agent(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    number = filed["mycash"]
    helpdesk(
        "requests",
        "reject",
        number,
        "--reason",
        "SMS 사용 이력이 확인되었습니다.",
        "--agent",
        "김상담",
        "--db",
        db_path,
        cwd=tmp_path,
    )
    result = helpdesk("requests", "show", number, "--db", db_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"request:  {number} (rejected)" in result.stdout
    assert "31,000원" in result.stdout
    assert "note:     SMS 사용 이력이 확인되었습니다." in result.stdout
    trail = result.stdout.split("trail:\n", 1)[1].splitlines()
    assert len(trail) == 2
    assert "submitted" in trail[0]
    assert "by customer:telegram:chat-1" in trail[0]
    assert "rejected" in trail[1]
    assert "by agent:김상담" in trail[1]


def test_the_agent_defaults_to_the_login_user(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    env = clean_env(USER="operator7")
    number = filed["bank"]
    result = helpdesk("requests", "approve", number, "--db", db_path, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"request:  {number} (approved)" in result.stdout
    assert "by agent:operator7" in result.stdout.split("trail:\n", 1)[1]
    assert "account:  국민은행 123456-01-234567 (홍 길동)" in result.stdout


def test_show_json_includes_the_trail(tmp_path: Path, db_path: Path, filed: dict[str, str]) -> None:
    number = filed["mycash"]
    review(db_path, "approve", number, "lee")
    result = helpdesk("requests", "show", number, "--json", "--db", db_path, cwd=tmp_path)
    out = json.loads(result.stdout)
    assert out["status"] == "approved"
    assert [(e["action"], e["actor"]) for e in out["events"]] == [
        ("submitted", "customer:telegram:chat-1"),
        ("approved", "agent:lee"),
    ]


# --- where the database is --------------------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        ["--json", "--db", "{db}", "requests", "list"],
        ["requests", "--db", "{db}", "list", "--json"],
        ["requests", "list", "--json", "--db", "{db}"],
    ],
    ids=["before", "between", "after"],
)
def test_db_and_json_work_before_and_after_the_sub_command(
    tmp_path: Path, db_path: Path, filed: dict[str, str], order: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = [a.replace("{db}", str(db_path)) for a in order]
    result = helpdesk(*args, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2
    assert list(elsewhere.iterdir()) == []


def test_helpdesk_db_from_the_environment_is_used(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(HELPDESK_DB=str(db_path))
    result = helpdesk("requests", "list", "--json", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == set(filed.values())
    assert list(elsewhere.iterdir()) == []


def test_db_on_the_command_line_wins_over_the_environment(
    tmp_path: Path, db_path: Path, filed: dict[str, str]
) -> None:
    other = tmp_path / "other.db"
    env = clean_env(HELPDESK_DB=str(db_path))
    assert helpdesk("db", "init", "--db", other, cwd=tmp_path, env=env).returncode == 0
    result = helpdesk("requests", "list", "--json", "--db", other, cwd=tmp_path, env=env)
    assert json.loads(result.stdout) == []


def test_bad_settings_and_an_empty_database_path_are_one_line_errors(tmp_path):
    import sys

    root = str(Path(__file__).resolve().parents[2])
    env = os.environ | {"PYTHONPATH": root, "HELPDESK_IDLE_MINUTES": "abc"}
    bad = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", str(tmp_path / "x.db"), "requests", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode != 0 and "HELPDESK_IDLE_MINUTES" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    empty = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", "", "requests", "list"],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": root},
        timeout=60,
    )
    assert empty.returncode != 0
    assert empty.stderr.strip() == "error: the database path is empty (--db or HELPDESK_DB)"


# --- customers, inquiries' trail ---------------------------------------------------------------


def test_customers_list_gives_every_id_with_its_services(tmp_path: Path, imported: Path) -> None:
    table = helpdesk("customers", "list", "--db", imported, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["id", "name", "services", "cancellable", "now"]
    listed = json.loads(
        helpdesk("customers", "list", "--json", "--db", imported, cwd=tmp_path).stdout
    )
    assert [(c["id"], len(c["services"])) for c in listed] == [("hong01", 4), ("kim02", 1)]


def test_customers_show_says_which_services_can_be_cancelled_today_and_why_not(
    tmp_path: Path, imported: Path
) -> None:
    shown = json.loads(
        helpdesk("customers", "show", "hong01", "--json", "--db", imported, cwd=tmp_path).stdout
    )
    services = {s["id"]: s for s in shown["services"]}
    assert shown["name"] == "홍길동"
    # The demo services were issued on 2026-11-20: by today they are all past day 7.
    assert services["SMS-1003"]["sms_sent"] == 3
    assert any("SMS sent" in why for why in services["SMS-1003"]["why_not"])
    assert all(not s["eligible"] for s in services.values())
    text = helpdesk("customers", "show", "hong01", "--db", imported, cwd=tmp_path).stdout
    assert "SMS-1003" in text and "3 SMS sent" in text


def test_customers_show_for_an_unknown_id_is_a_one_line_error(tmp_path: Path, imported: Path):
    result = helpdesk("customers", "show", "nosuch", "--db", imported, cwd=tmp_path)
    assert one_line_error(result) == "error: no customer 'nosuch'"


def test_closing_an_inquiry_keeps_who_answered_and_records_who_closed(
    tmp_path: Path, imported: Path
) -> None:
    async def file_inquiry() -> str:
        db = await Database.open(imported)
        try:
            desk = Helpdesk(db, fixed_clock(FILED_AT))
            inquiry, _ = await desk.inquiries.file(
                InquiryFiling(
                    customer_id="hong01",
                    service_id=None,
                    topic="not_eligible",
                    context="SMS-1003: SMS를 3건 보내셨어요",
                    message="부분 환불 가능할까요",
                    transcript=(),
                    attachments=(),
                    channel="telegram",
                    chat_id=None,
                    submission_key=None,
                )
            )
            return inquiry.number
        finally:
            await db.close()

    number = asyncio.run(file_inquiry())
    answer = ("inquiries", "answer", number, "--text", "심사해 드릴게요", "--agent", "김상담")
    assert helpdesk(*answer, "--db", imported, cwd=tmp_path).returncode == 0
    closed = helpdesk(
        "inquiries", "close", number, "--agent", "이팀장", "--db", imported, cwd=tmp_path
    )
    assert closed.returncode == 0, closed.stderr
    shown = json.loads(
        helpdesk("inquiries", "show", number, "--json", "--db", imported, cwd=tmp_path).stdout
    )
    assert shown["status"] == "closed" and shown["handled_by"] == "김상담"
    assert [(e["action"], e["actor"]) for e in shown["events"]] == [
        ("answered", "agent:김상담"),
        ("closed", "agent:이팀장"),
    ]
