"""The import reader under a fuzzer: damaged files are refused by name, wherever chunks fall.

A good file (both layouts) gets a few random bytes deleted, inserted or replaced. Whatever
results, checking it either accepts it or raises ImportRejected (never another exception), and
reading it in chunks of 1-17 bytes gives the same records or the same problems as reading it
whole, as a 1 MiB chunk of a 100 MB file would: an incremental reader that loses track at a
chunk boundary shows up here. The one allowed difference is which of two problems is met first
when one of them is bad UTF-8, since the text is decoded chunk by chunk.

`FUZZ_EXAMPLES=500 pytest tests/fuzz` runs longer.
"""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import importing
from core.errors import ImportRejected
from core.importing import check_import

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

CUSTOMERS = [
    {
        "id": "hong01",
        "name": "홍길동",
        "services": [
            {
                "id": "SMS-1001",
                "issued_on": "2026-11-20",
                "service_fee": 11000,
                "sms_charge": 20000,
                "sms_sent": 0,
                "payment_method": "mycash",
            },
            {
                "id": "SMS-1002",
                "issued_on": "2026-11-20",
                "service_fee": 33000,
                "sms_charge": 0,
                "sms_sent": 0,
                "payment_method": "bank_transfer",
                "status": "cancelled",
            },
        ],
    },
    {"id": "kim02", "name": "김철수", "services": []},
]
DOCUMENT = json.dumps({"customers": CUSTOMERS}, ensure_ascii=False, indent=1).encode()
LINES = b"\n".join(json.dumps(c, ensure_ascii=False).encode() for c in CUSTOMERS)
BYTES = b'{}[]",:0123456789 \n\\ue-' + "홍".encode()


def outcome(raw: bytes) -> tuple[str, Any]:
    """The records a writer would get, or the problems the operator would read."""
    try:
        checked = check_import(raw, today=date(2026, 11, 28))
    except ImportRejected as refusal:
        return "refused", refusal.problems
    return "accepted", [(c, services) for c, services in checked.records()]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from([DOCUMENT, LINES])))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        byte = draw(st.sampled_from(BYTES))
        if action == "delete":
            del raw[at]
        elif action == "insert":
            raw.insert(at, byte)
        else:
            raw[at] = byte
    return bytes(raw)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=damaged(), chunk=st.integers(1, 17))
def test_a_damaged_file_reads_the_same_in_any_chunks(
    monkeypatch: pytest.MonkeyPatch, raw: bytes, chunk: int
) -> None:
    whole = outcome(raw)
    with monkeypatch.context() as patched:
        patched.setattr(importing, "CHUNK_BYTES", chunk)
        pieces = outcome(raw)
    if any(
        "UTF-8" in problem
        for kind, found in (whole, pieces)
        if kind == "refused"
        for problem in found
    ):
        assert whole[0] == pieces[0] == "refused"
    else:
        assert pieces == whole
