"""Provider-scale imports: JSON Lines, reading in chunks, progress, and what is written later."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core import importing
from core.errors import ImportRejected
from core.importing import (
    CheckedImport,
    ImportFormat,
    check_import,
    detect_format,
    parse_import,
)

TODAY = date(2026, 11, 28)


def as_lines(records: dict[str, Any]) -> bytes:
    """The same customers as JSON Lines, one object per line."""
    return "".join(
        json.dumps(customer, ensure_ascii=False) + "\n" for customer in records["customers"]
    ).encode("utf-8")


def summary(checked: CheckedImport) -> list[tuple[str, str, list[tuple[str, int, str]]]]:
    """What a writer would store: customers with their services' ids, fees and methods."""
    return [
        (c.id, c.name, [(s.id, s.service_fee, s.payment_method.value) for s in services])
        for c, services in checked.records()
    ]


def refused(source: importing.ImportSource) -> list[str]:
    with pytest.raises(ImportRejected) as refusal:
        check_import(source, today=TODAY)
    return refusal.value.problems


# --- the two layouts ------------------------------------------------------------------------------


def test_json_lines_gives_the_same_customers_as_the_document(
    demo_records: dict[str, Any], demo_bytes: bytes
) -> None:
    lines = check_import(as_lines(demo_records), today=TODAY)
    document = check_import(demo_bytes, today=TODAY)
    assert lines.format is ImportFormat.JSON_LINES and document.format is ImportFormat.JSON
    assert summary(lines) == summary(document)
    assert (lines.customers, lines.services) == (2, 5)


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("customers.jsonl", b'{"customers": []}', ImportFormat.JSON_LINES),
        ("CUSTOMERS.NDJSON", b"", ImportFormat.JSON_LINES),
        ("customers.json", b'{"id": "c1"}', ImportFormat.JSON),
        (None, b'\xef\xbb\xbf  {"id": "c1", "name": "a"}\n', ImportFormat.JSON_LINES),
        (None, b'{\n  "name": "a"', ImportFormat.JSON_LINES),
        (None, b'{"customers": [', ImportFormat.JSON),
        ("<stdin>", b'{"clients": []}', ImportFormat.JSON),
    ],
)
def test_the_extension_decides_the_layout_and_else_the_first_key(
    name: str | None, head: bytes, expected: ImportFormat
) -> None:
    assert detect_format(name, head) is expected


def test_json_lines_problems_name_the_line(demo_records: dict[str, Any]) -> None:
    demo_records["customers"][1]["services"][0]["payment_method"] = "card"
    demo_records["customers"].append({"id": "hong01", "name": "홍길순"})
    raw = b"\n" + as_lines(demo_records) + b"not json\n"
    problems = refused(raw)
    assert problems[0].startswith(
        "line 3 (id 'kim02').services[0] (id 'SMS-2001').payment_method: "
    )
    assert problems[1] == "line 4 (id 'hong01').id: duplicate customer id, also line 2"
    assert problems[2] == "line 5: not valid JSON: Expecting value (column 1)"


def test_json_lines_accepts_crlf_a_bom_and_blank_lines(demo_records: dict[str, Any]) -> None:
    raw = b"\xef\xbb\xbf" + as_lines(demo_records).replace(b"\n", b"\r\n\r\n")
    assert check_import(raw, today=TODAY).customers == 2


def test_a_json_document_of_lines_is_told_to_use_jsonl(
    tmp_path: Path, demo_records: dict[str, Any]
) -> None:
    path = tmp_path / "customers.json"
    path.write_bytes(as_lines(demo_records))
    [problem] = refused(path)
    assert problem.startswith('file: starts with a customer, not {"customers": [...]}')
    assert "name it .jsonl" in problem


def test_a_file_on_disk_and_an_open_stream_are_read_too(
    tmp_path: Path, demo_records: dict[str, Any]
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_bytes(as_lines(demo_records))
    assert check_import(path, today=TODAY).customers == 2
    assert check_import(io.BytesIO(as_lines(demo_records)), today=TODAY).customers == 2


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    [problem] = refused(tmp_path / "nope.json")
    assert problem.startswith("cannot read ") and "nope.json" in problem


# --- reading in chunks ----------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("layout", ["document", "lines"])
def test_chunk_boundaries_anywhere_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
    demo_records: dict[str, Any],
    demo_bytes: bytes,
    chunk: int,
    layout: str,
) -> None:
    # Korean names are 3 bytes a letter and amounts several digits: a chunk of 1-7 bytes cuts
    # through both, which a 1 MiB chunk of a 100 MB file does too.
    expected = summary(check_import(demo_bytes, today=TODAY))
    monkeypatch.setattr(importing, "CHUNK_BYTES", chunk)
    raw = demo_bytes if layout == "document" else as_lines(demo_records)
    assert summary(check_import(raw, today=TODAY)) == expected


def test_a_problem_is_placed_at_its_line_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK_BYTES", 5)
    raw = b'{"customers": [\n  {"id": "c1", "name": "a"},\n  {"id": "c2" "name": "b"}\n]}'
    assert refused(raw) == ["file is not valid JSON: Expecting ',' delimiter (line 3, column 15)"]


def test_a_record_larger_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK_BYTES", 16)
    monkeypatch.setattr(importing, "MAX_RECORD_BYTES", 64)
    big = {"id": "c1", "name": "a" * 90}
    [problem] = refused(json.dumps({"customers": [big]}).encode())
    assert problem.startswith("customers[0] (line 1, column 16) is larger than 64 bytes")
    [problem] = refused(json.dumps(big).encode() + b"\n")
    assert problem == "line 1: longer than 64 bytes"


def test_a_file_larger_than_the_limit_is_refused_while_streaming(
    monkeypatch: pytest.MonkeyPatch, demo_bytes: bytes
) -> None:
    monkeypatch.setattr(importing, "CHUNK_BYTES", 64)
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 100)
    # A pipe does not tell its size up front; the limit still holds as it is read.
    pipe = io.BufferedReader(io.BytesIO(demo_bytes))
    pipe.fileno = lambda: (_ for _ in ()).throw(io.UnsupportedOperation())  # type: ignore
    [problem] = refused(pipe)
    assert "the limit is 100" in problem


# --- many problems --------------------------------------------------------------------------


def test_a_file_bad_throughout_lists_the_first_problems_and_counts_the_rest() -> None:
    lines = [json.dumps({"id": f"c{i}", "name": "a", "age": i}) for i in range(250)]
    problems = refused(("\n".join(lines)).encode())
    assert len(problems) == importing.MAX_PROBLEMS + 1
    assert problems[0] == "line 1 (id 'c0').age: is not a known field"
    assert problems[-1] == f"… and {250 - importing.MAX_PROBLEMS} more problems"


def test_a_long_bad_value_is_cut_in_the_message() -> None:
    raw = json.dumps({"customers": [{"id": "c1", "name": "가" * 5000}]}).encode()
    [problem] = refused(raw)
    assert problem.startswith("customers[0] (id 'c1').name: String should have at most 100")
    assert len(problem) < 200


# --- progress and the records a writer gets ------------------------------------------------------


def test_progress_reports_bytes_read_up_to_the_size(
    monkeypatch: pytest.MonkeyPatch, demo_bytes: bytes
) -> None:
    monkeypatch.setattr(importing, "CHUNK_BYTES", 100)
    seen: list[tuple[int, int | None]] = []
    checked = check_import(demo_bytes, today=TODAY, progress=lambda d, t: seen.append((d, t)))
    assert len(seen) > 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (len(demo_bytes), len(demo_bytes))
    replayed: list[tuple[int, int | None]] = []
    list(checked.records(progress=lambda d, t: replayed.append((d, t))))
    assert replayed[-1] == (2, 2)


def test_batches_give_every_customer_once_in_file_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "SPOOL_BATCH", 7)
    lines = [json.dumps({"id": f"c{i:02d}", "name": "a"}) for i in range(23)]
    checked = check_import("\n".join(lines).encode(), today=TODAY)
    batches = list(checked.batches(size=10))
    assert [len(b) for b in batches] == [10, 10, 3]
    assert [c.id for b in batches for c, _ in b] == [f"c{i:02d}" for i in range(23)]
    assert [c.id for c, _ in checked.records()][:2] == ["c00", "c01"]  # can be replayed


def test_what_is_written_is_what_was_checked_even_if_the_file_changes(
    tmp_path: Path, demo_records: dict[str, Any], demo_bytes: bytes
) -> None:
    path = tmp_path / "customers.json"
    path.write_bytes(demo_bytes)
    with check_import(path, today=TODAY) as checked:
        demo_records["customers"][0]["services"][0]["service_fee"] = -1
        path.write_text(json.dumps(demo_records), encoding="utf-8")
        fees = [s.service_fee for _, services in checked.records() for s in services]
    assert fees[0] == 11000


def test_parse_import_still_returns_every_record(demo_bytes: bytes) -> None:
    assert [c.id for c, _ in parse_import(demo_bytes)] == ["hong01", "kim02"]
