"""Values that pass JSON but not our columns are refused by name, never with a traceback."""

from __future__ import annotations

import json

import pytest

from core.errors import ImportRejected
from core.importing import parse_import


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
