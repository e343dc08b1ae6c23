"""The import reader under a fuzzer: damaged files are refused by name, wherever chunks fall.

The demo file (both layouts) gets a few random bytes deleted, inserted or replaced. Whatever
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

BYTES = b'{}[]",:0123456789 \n\\ue-' + "홍".encode()


def outcome(raw: bytes) -> tuple[str, Any]:
    """The records a writer would get, or the problems the operator would read."""
    try:
        checked = check_import(raw, today=date(2026, 11, 28))
    except ImportRejected as refusal:
        return "refused", refusal.problems
    return "accepted", [(c, services) for c, services in checked.records()]


Damage = list[tuple[str, float, int]]
"""Edits as (delete | insert | replace, where in the file as a fraction, byte)."""


def damage(raw: bytes, edits: Damage) -> bytes:
    damaged = bytearray(raw)
    for action, where, byte in edits:
        at = min(int(where * len(damaged)), len(damaged) - 1)
        if action == "delete":
            del damaged[at]
        elif action == "insert":
            damaged.insert(at, byte)
        else:
            damaged[at] = byte
    return bytes(damaged)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "replace"]),
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(BYTES),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.booleans(), edits=EDITS, chunk=st.integers(1, 17))
def test_a_damaged_file_reads_the_same_in_any_chunks(
    monkeypatch: pytest.MonkeyPatch,
    demo_records: dict[str, Any],
    lines: bool,
    edits: Damage,
    chunk: int,
) -> None:
    customers = demo_records["customers"]
    if lines:
        good = b"\n".join(json.dumps(c, ensure_ascii=False).encode() for c in customers)
    else:
        good = json.dumps(demo_records, ensure_ascii=False, indent=1).encode()
    raw = damage(good, edits)
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
