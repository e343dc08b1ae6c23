"""The import file is checked whole, and every problem names its record and field."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from core import importing
from core.errors import ImportRejected
from core.importing import parse_import
from core.models import PaymentMethod, ServiceStatus

HONG_SMS = "customers[0] (id 'hong01').services[0] (id 'SMS-1001')"


def encode(records: dict[str, Any]) -> bytes:
    """The file as an operator hands it over."""
    return json.dumps(records, ensure_ascii=False).encode("utf-8")


def problems_of(raw: bytes) -> list[str]:
    """Parse a file that must be refused and return what the operator is told."""
    with pytest.raises(ImportRejected) as info:
        parse_import(raw)
    return info.value.problems


def with_first_service(records: dict[str, Any], **changes: Any) -> bytes:
    """The demo file with hong01's first service changed (`None` removes the field)."""
    service = records["customers"][0]["services"][0]
    for key, value in changes.items():
        if value is None:
            service.pop(key)
        else:
            service[key] = value
    return encode(records)


# --- a good file ------------------------------------------------------------------------------


def test_a_good_file_gives_every_customer_with_their_services(demo_bytes: bytes) -> None:
    parsed = parse_import(demo_bytes)
    assert [(c.id, c.name, [s.id for s in ss]) for c, ss in parsed] == [
        ("hong01", "홍길동", ["SMS-1001", "SMS-1002", "SMS-1003", "SMS-1004"]),
        ("kim02", "김철수", ["SMS-2001"]),
    ]
    first = parsed[0][1][0]
    assert first.customer_id == "hong01"
    assert first.issued_on == date(2026, 11, 20)
    assert (first.service_fee, first.sms_charge, first.sms_sent) == (11000, 20000, 0)
    assert first.payment_method is PaymentMethod.MYCASH
    assert first.status is ServiceStatus.ACTIVE


def test_names_and_ids_are_trimmed(demo_records: dict[str, Any]) -> None:
    demo_records["customers"][0]["name"] = "  홍길동 "
    parsed = parse_import(encode(demo_records))
    assert parsed[0][0].name == "홍길동"


def test_a_customer_without_services_is_accepted() -> None:
    parsed = parse_import(encode({"customers": [{"id": "lee03", "name": "이영희"}]}))
    assert parsed[0][1] == []


# --- bad records, named by record and field ---------------------------------------------------


@pytest.mark.parametrize(
    "issued_on", ["2026-11-31", "2026/11/20", "20-11-2026", "2026-11-20T10:00"]
)
def test_a_bad_issue_date_is_refused_naming_the_service(
    demo_records: dict[str, Any], issued_on: str
) -> None:
    problems = problems_of(with_first_service(demo_records, issued_on=issued_on))
    assert len(problems) == 1
    assert problems[0].startswith(f"{HONG_SMS}.issued_on: ")
    assert issued_on in problems[0]


def test_a_unix_timestamp_is_not_taken_for_a_date(demo_records: dict[str, Any]) -> None:
    problems = problems_of(with_first_service(demo_records, issued_on=1763596800))
    assert problems[0].startswith(f"{HONG_SMS}.issued_on: ")


def test_a_negative_amount_is_refused_naming_the_field(demo_records: dict[str, Any]) -> None:
    problems = problems_of(with_first_service(demo_records, service_fee=-5))
    assert len(problems) == 1
    assert problems[0].startswith(f"{HONG_SMS}.service_fee: ")
    assert "-5" in problems[0]


@pytest.mark.parametrize("charge", [1.5, 20000.0, "20000", True])
def test_an_amount_that_is_not_integer_won_is_refused(
    demo_records: dict[str, Any], charge: object
) -> None:
    problems = problems_of(with_first_service(demo_records, sms_charge=charge))
    assert problems[0].startswith(f"{HONG_SMS}.sms_charge: ")


def test_an_unknown_payment_method_is_refused_naming_the_value(
    demo_records: dict[str, Any],
) -> None:
    problems = problems_of(with_first_service(demo_records, payment_method="cash"))
    assert problems[0].startswith(f"{HONG_SMS}.payment_method: ")
    assert "'cash'" in problems[0]


def test_a_missing_name_is_refused_naming_the_customer(demo_records: dict[str, Any]) -> None:
    del demo_records["customers"][1]["name"]
    problems = problems_of(encode(demo_records))
    assert problems == ["customers[1] (id 'kim02').name: is required but missing"]


def test_a_blank_name_is_refused(demo_records: dict[str, Any]) -> None:
    demo_records["customers"][1]["name"] = "   "
    problems = problems_of(encode(demo_records))
    assert problems == ["customers[1] (id 'kim02').name: must not be empty"]


def test_a_missing_field_of_a_service_is_named(demo_records: dict[str, Any]) -> None:
    problems = problems_of(with_first_service(demo_records, sms_sent=None))
    assert problems == [f"{HONG_SMS}.sms_sent: is required but missing"]


def test_an_unknown_field_is_refused_rather_than_ignored(demo_records: dict[str, Any]) -> None:
    problems = problems_of(with_first_service(demo_records, sms_sent_count=0))
    assert problems == [f"{HONG_SMS}.sms_sent_count: is not a known field"]


def test_a_duplicate_customer_id_names_both_records(demo_records: dict[str, Any]) -> None:
    demo_records["customers"].append({"id": "hong01", "name": "홍길순"})
    problems = problems_of(encode(demo_records))
    assert len(problems) == 1
    assert problems[0].startswith("customers[2] (id 'hong01').id: duplicate customer id")
    assert "customers[0]" in problems[0]


def test_a_service_id_used_by_two_customers_is_refused(demo_records: dict[str, Any]) -> None:
    demo_records["customers"][1]["services"][0]["id"] = "SMS-1001"
    problems = problems_of(encode(demo_records))
    assert len(problems) == 1
    assert problems[0].startswith(
        "customers[1] (id 'kim02').services[0] (id 'SMS-1001').id: duplicate service id"
    )
    assert problems[0].endswith("also customers[0] (id 'hong01').services[0]")


def test_every_problem_in_a_file_is_reported_at_once(demo_records: dict[str, Any]) -> None:
    demo_records["customers"][0]["services"][0]["issued_on"] = "2026-02-30"
    demo_records["customers"][0]["services"][1]["payment_method"] = "card"
    del demo_records["customers"][1]["name"]
    problems = problems_of(encode(demo_records))
    assert len(problems) == 3
    assert any(".services[0] (id 'SMS-1001').issued_on:" in p for p in problems)
    assert any(".services[1] (id 'SMS-1002').payment_method:" in p for p in problems)
    assert any(p.startswith("customers[1] (id 'kim02').name:") for p in problems)


# --- files that are not customer lists --------------------------------------------------------


def test_a_file_without_a_customer_list_is_refused() -> None:
    assert problems_of(b'{"clients": []}') == [
        "customers: is required but missing",
        "clients: is not a known field",
    ]


def test_a_file_that_is_not_json_is_refused_with_the_line() -> None:
    problems = problems_of(b'{"customers": [\n  {"id": "hong01",}\n]}')
    assert len(problems) == 1
    assert problems[0].startswith("file is not valid JSON")
    assert "line 2" in problems[0]


def test_a_file_that_is_not_utf8_is_refused() -> None:
    raw = json.dumps({"customers": [{"id": "hong01", "name": "홍길동"}]}, ensure_ascii=False)
    problems = problems_of(raw.encode("euc-kr"))
    assert problems[0].startswith("file is not UTF-8 text")


def test_an_oversized_file_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 1000)
    problems = problems_of(b" " * 1001)
    assert len(problems) == 1
    assert "limit" in problems[0]


def test_the_refusal_says_nothing_was_changed(demo_records: dict[str, Any]) -> None:
    with pytest.raises(ImportRejected, match="nothing was changed"):
        parse_import(with_first_service(demo_records, service_fee=-1))
