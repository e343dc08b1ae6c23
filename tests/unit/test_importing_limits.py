"""Values that pass JSON but not our columns are refused by name, never with a traceback."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core.errors import ImportRejected
from core.importing import MAX_DAYS_AHEAD, parse_import


def one_service(**overrides: object) -> bytes:
    service = {
        "id": "S-1",
        "issued_on": "2026-11-20",
        "service_fee": 11000,
        "sms_charge": 0,
        "sms_sent": 0,
        "payment_method": "mycash",
    } | overrides
    return json.dumps(
        {"customers": [{"id": "c1", "name": "홍길동", "services": [service]}]}
    ).encode()


def test_an_id_longer_than_64_characters_is_named():
    with pytest.raises(ImportRejected) as refused:
        parse_import(one_service(id="S" * 65))
    assert refused.value.problems[0].startswith("customers[0] (id 'c1').services[0]")
    assert ".id:" in refused.value.problems[0]


def test_an_absurd_sms_count_is_named_not_overflowed():
    with pytest.raises(ImportRejected) as refused:
        parse_import(one_service(sms_sent=10**20))
    assert "sms_sent" in refused.value.problems[0]


# --- red-team findings: every bad file is refused by name, never a traceback or a silent guess ---

TODAY = date(2026, 11, 28)


def refused(raw: bytes, today: date | None = TODAY) -> list[str]:
    """What the operator is told about a file that must be refused."""
    with pytest.raises(ImportRejected) as refusal:
        parse_import(raw, today=today)
    return refusal.value.problems


@pytest.mark.parametrize("issued_on", ["9999-12-31", "2099-01-01", "2026-12-02"])
def test_an_issue_date_in_the_future_is_refused(issued_on: str) -> None:
    # 9999-12-31 overflowed at /refund; 2099-01-01 was offered as cancellable "1월 7일까지".
    problems = refused(one_service(issued_on=issued_on))
    assert len(problems) == 1
    assert problems[0].startswith("customers[0] (id 'c1').services[0] (id 'S-1').issued_on: ")
    assert issued_on in problems[0] and "2026-11-28" in problems[0]


def test_an_issue_date_a_few_days_ahead_is_clock_skew_and_accepted() -> None:
    ahead = (TODAY + timedelta(days=MAX_DAYS_AHEAD)).isoformat()
    [(_, [service])] = parse_import(one_service(issued_on=ahead), today=TODAY)
    assert service.issued_on.isoformat() == ahead


def test_the_future_bound_follows_the_date_passed_in() -> None:
    later = TODAY + timedelta(days=400)
    parse_import(one_service(issued_on="2027-12-01"), today=later)
    assert refused(one_service(issued_on="2027-12-01"))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"customers": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        b'{"customers": [{"id": "c1", "name": "x", "services": ['
        + b"[" * 100_000
        + b"]" * 100_000
        + b"]}]}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "c1", "name": "x", "services": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    ],
    ids=["customer", "service", "whole file", "json lines"],
)
def test_a_deeply_nested_file_is_refused_not_a_recursion_error(raw: bytes) -> None:
    problems = refused(raw)
    assert len(problems) == 1
    assert "nested too deeply" in problems[0]


def test_a_repeated_key_is_refused_naming_both_values() -> None:
    # The last value used to win silently: bank_transfer became mycash.
    raw = one_service(payment_method="bank_transfer").replace(
        b'"payment_method": "bank_transfer"',
        b'"payment_method": "bank_transfer", "payment_method": "mycash"',
    )
    assert refused(raw) == [
        "customers[0] (id 'c1').services[0] (id 'S-1').payment_method: "
        "appears 2 times ('bank_transfer', then 'mycash')"
    ]


def test_a_repeated_customer_list_is_refused() -> None:
    raw = b'{"customers": [{"id": "c1", "name": "a"}], "customers": [{"id": "c2", "name": "b"}]}'
    assert refused(raw) == ["customers: appears more than once in the file"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"customers": [{"id": "c1", "name": "a"}', "file is not valid JSON: Expecting ','"),
        (b'{"customers": [{"id": "c1", "name": "a"},]}', "file is not valid JSON: Expecting value"),
        (b'{"customers": []} {"customers": []}', "file is not valid JSON: Extra data"),
        (b"", "file is empty"),
        (b'{"customers": [{"id": "c1", "name": "a", "n": ' + b"1" * 5000 + b"}]}", "4300 digits"),
        (b'{"customers": [{"id": "\\ud800", "name": "a"}]}', "customers[0] (id '\\ud800').id: "),
        (b'{"customers": [{"id": "c1", "name": "a", "services": [5]}]}', "must be a JSON object"),
        (b'{"customers": {"id": "c1"}}', "customers: must be a list of customers"),
        (b'["c1"]', 'file: must be a JSON object {"customers": [...]}'),
    ],
    ids=[
        "cut short",
        "trailing comma",
        "two documents",
        "empty",
        "huge number",
        "lone surrogate",
        "service not an object",
        "customers not a list",
        "a list",
    ],
)
def test_every_parse_error_is_an_import_refusal(raw: bytes, expected: str) -> None:
    problems = refused(raw)
    assert len(problems) == 1
    assert problems[0].startswith(expected) or expected in problems[0]
