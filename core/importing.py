"""Reading and validating the customer/service import file (SPEC §5), before anything is written.

Two layouts are accepted (README, "Import format"): the JSON document `{"customers": [...]}` and
JSON Lines, one customer object per line. Either is read once, incrementally, so a provider's
100 MB export costs little memory:

- `check_import` validates the whole file and reports every problem with the record and field it
  is in, so an operator can fix the file in one go. It keeps only the ids that duplicate
  detection needs; the validated records go to a temporary spool file.
- the `CheckedImport` it returns replays them (`records()`, `batches()`) for a writer that stores
  them in short transactions: what is written is exactly what was checked, even if the file is
  replaced meanwhile, and a pipe needs to be read only once.
- `parse_import` is the all-in-memory form for small files.

"Today" (the bound on issue dates) is always passed in; nothing here reads the clock.
"""

from __future__ import annotations

import codecs
import io
import json
import marshal
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path, PurePath
from types import TracebackType
from typing import IO, Annotated, Any, BinaryIO, NotRequired

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from core.errors import ImportRejected
from core.models import Customer, PaymentMethod, Service, ServiceStatus

MAX_IMPORT_BYTES = 512 * 1024 * 1024
"""A larger file is refused: five times a 200k-customer export (~100 MB), so a mistake."""

MAX_RECORD_BYTES = 4 * 1024 * 1024
"""One customer with all their services; bounds the memory a single record can take."""

MAX_PROBLEMS = 100
"""Problems listed in a refusal; a file with more is usually wrong throughout."""

MAX_DAYS_AHEAD = 3
"""How far after today an issue date may lie (clock skew between billing and us), no further."""

CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 64 * 1024
SPOOL_BATCH = 1000

ImportRecord = tuple[Customer, list[Service]]
ImportSource = Path | bytes | BinaryIO
"""A file on disk, the bytes of a small one, or an open binary stream such as stdin."""

Progress = Callable[[int, int | None], None]
"""Called as `progress(done, total)`: bytes while checking, customers while replaying; total is
None when unknown (a pipe)."""


class ImportFormat(StrEnum):
    """The two accepted layouts of an import file."""

    JSON = "json"
    JSON_LINES = "jsonl"


# --- the records --------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _short(value: Any, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, so a huge bad value cannot flood the refusal."""
    if isinstance(value, dict):
        # A container is not walked: it may be large or nested deeply.
        text = "{" + ", ".join(f"{k!r}: …" for k in list(value)[:4]) + "}"
    elif isinstance(value, list):
        text = f"[… {len(value)} items]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _issue_date(value: Any, info: ValidationInfo) -> date:
    # pydantic would accept a Unix timestamp or a datetime string; a billing export that sends
    # either has a bug worth surfacing rather than a guessed date.
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"must be a date written YYYY-MM-DD, got {_short(value)}")
    try:
        issued = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"is not a real calendar date: {value!r}") from None
    # A far-future date is a typo or a placeholder (9999-12-31): it would be offered as
    # cancellable for years, and date arithmetic on it overflows at /refund.
    today: date | None = (info.context or {}).get("today")
    if today is not None and issued > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValueError(
            f"{value} is more than {MAX_DAYS_AHEAD} days after today ({today.isoformat()}); "
            "an issue date cannot lie in the future"
        )
    return issued


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Amount = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]


# TypedDicts rather than models, and enum values rather than members: at 800k objects, plain
# dicts and strings make validation a third faster and go into the spool as they are.
@with_config(ConfigDict(extra="forbid", use_enum_values=True))
class _ServiceRow(TypedDict):
    id: Id
    issued_on: Annotated[date, BeforeValidator(_issue_date)]
    service_fee: Amount
    sms_charge: Amount
    sms_sent: Amount
    payment_method: PaymentMethod
    status: NotRequired[ServiceStatus]


@with_config(ConfigDict(extra="forbid"))
class _CustomerRow(TypedDict):
    id: Id
    name: Name
    services: NotRequired[list[_ServiceRow]]


_CUSTOMER = TypeAdapter(_CustomerRow)


class _RepeatedKeys(dict[str, Any]):
    """A JSON object in which a key appeared more than once (the dict keeps the last value)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        self.repeated = {key: vs for key, vs in values.items() if len(vs) > 1}


class _Decoder:
    """The stdlib JSON decoder (C speed) noticing repeated keys, which it would silently drop."""

    def __init__(self) -> None:
        self.repeats = 0
        self.json = json.JSONDecoder(object_pairs_hook=self._object)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.repeats += 1
        return _RepeatedKeys(pairs)


class _Refused(Exception):
    """A problem after which the rest of the file cannot be read (broken JSON, too large…)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


# --- reading bytes and text ----------------------------------------------------------------------


class _Bytes:
    """The file in chunks: reports progress and enforces the size limit."""

    def __init__(
        self, head: bytes, stream: IO[bytes], total: int | None, progress: Progress | None
    ) -> None:
        self.head = head
        self.stream = stream
        self.total = total
        self.progress = progress
        self.done = 0

    def read(self) -> bytes:
        """The next chunk, b"" at the end."""
        if self.head:
            chunk, self.head = self.head[:CHUNK_BYTES], self.head[CHUNK_BYTES:]
        else:
            chunk = self.stream.read(CHUNK_BYTES)
        self.done += len(chunk)
        if self.done > MAX_IMPORT_BYTES:
            raise _Refused(_too_large())
        if self.progress is not None and chunk:
            self.progress(self.done, self.total)
        return chunk


def _too_large(size: int | None = None) -> str:
    shown = f"{size:,} bytes" if size is not None else f"over {MAX_IMPORT_BYTES:,} bytes"
    return f"file is {shown}; the limit is {MAX_IMPORT_BYTES:,}"


_WS = re.compile(r"[ \t\n\r]*")


class _Text:
    """The decoded text of a JSON document with a cursor; read on demand, consumed text dropped."""

    def __init__(self, source: _Bytes, decoder: _Decoder) -> None:
        self.source = source
        self.decoder = decoder
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.column = 0
        """Line number and 0-based column of `buf[0]`, for error messages."""
        self.eof = False
        self.started = False

    def more(self) -> bool:
        """Read the next chunk onto the buffer; False when the file has ended."""
        if self.eof:
            return False
        pending = self.utf8.getstate()[0]
        chunk = self.source.read()
        try:
            text = self.utf8.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            at = self.source.done - len(chunk) - len(pending) + exc.start
            raise _Refused(f"file is not UTF-8 text: {exc.reason} at byte {at}") from None
        if not self.started:
            # Spreadsheet tools write a byte-order mark; it carries no data.
            text = text.removeprefix("\ufeff")
            self.started = bool(text)
        self.eof = not chunk
        if text:  # at the end, the consumed text stays: it places errors at the last line
            newlines = self.buf.count("\n", 0, self.pos)
            self.line += newlines
            if newlines:
                self.column = self.pos - (self.buf.rfind("\n", 0, self.pos) + 1)
            else:
                self.column += self.pos
            self.buf = self.buf[self.pos :] + text
            self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space, "" at the end of the file."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def where(self, pos: int | None = None) -> str:
        """`line L, column C` of a position in the buffer."""
        pos = self.pos if pos is None else pos
        line = self.line + self.buf.count("\n", 0, pos)
        newline = self.buf.rfind("\n", 0, pos)
        column = pos - newline if newline >= 0 else self.column + pos + 1
        return f"line {line}, column {column}"

    def broken(self, message: str, pos: int | None = None) -> _Refused:
        """The refusal for JSON that cannot be read past this point."""
        return _Refused(f"file is not valid JSON: {message} ({self.where(pos)})")

    def value(self, what: str) -> Any:
        """Decode the JSON value at the cursor (at most about MAX_RECORD_BYTES long)."""
        self.peek()
        while True:
            try:
                # `scan_once` is what `raw_decode` calls, minus a Python frame per record.
                value, end = self.decoder.json.scan_once(self.buf, self.pos)
            except StopIteration as exc:  # what `raw_decode` turns into "Expecting value"
                error, at = "Expecting value", exc.value
            except json.JSONDecodeError as exc:
                error, at = exc.msg, exc.pos
            except RecursionError:
                raise _Refused(
                    f"{what}: nested too deeply to be a customer record ({self.where()})"
                ) from None
            except ValueError as exc:  # a number of more than 4,300 digits
                reason = str(exc).split(":")[0]
                raise _Refused(f"{what}: {reason} ({self.where()})") from None
            else:
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if number and end == len(self.buf) and self._grow(what, end, ""):
                    continue  # a number cut at the end of a chunk may have more digits
                self.pos = end
                return value
            # Most often the value just goes on past what has been read so far.
            if not self._grow(what, at, error):
                raise self.broken(error, at)

    def _grow(self, what: str, error_at: int, error: str) -> bool:
        """Read more for a value that may be incomplete; False when that cannot help."""
        if len(self.buf) - self.pos > MAX_RECORD_BYTES:
            if error_at >= len(self.buf) - 8 or error.startswith("Unterminated string"):
                raise _Refused(
                    f"{what} ({self.where()}) is larger than {MAX_RECORD_BYTES:,} bytes "
                    "or never closed"
                )
            return False
        return self.more()

    def expect(self, char: str, message: str) -> None:
        """Step over `char`, or refuse the file with json's own wording."""
        if self.peek() != char:
            raise self.broken(message)
        self.pos += 1


# --- the two layouts ----------------------------------------------------------------------------

_CUSTOMER_KEYS = ("id", "name", "services")
_CUSTOMER_FIRST = re.compile(
    rb'^(?:\xef\xbb\xbf)?[ \t\r\n]*\{[ \t\r\n]*"(?:' + "|".join(_CUSTOMER_KEYS).encode() + rb')"'
)


def detect_format(name: str | None, head: bytes) -> ImportFormat:
    """`.jsonl`/`.ndjson` are JSON Lines, `.json` the document; otherwise the first key decides."""
    suffix = PurePath(name).suffix.lower() if name else ""
    if suffix in (".jsonl", ".ndjson"):
        return ImportFormat.JSON_LINES
    if suffix == ".json":
        return ImportFormat.JSON
    # Without a telling name (stdin), text that starts like a customer object is JSON Lines;
    # anything else is read as the document, whose errors then say what is expected.
    return ImportFormat.JSON_LINES if _CUSTOMER_FIRST.match(head) else ImportFormat.JSON


# A layout yields (position, data, repeated keys?) per customer; position is the index in the
# `customers` list or the line number. Problems of the layout itself go to `problems`.
_Raw = tuple[int, Any, bool]


def _document(source: _Bytes, decoder: _Decoder, problems: list[str]) -> Iterator[_Raw]:
    """The customers of a `{"customers": [...]}` document, one at a time."""
    text = _Text(source, decoder)
    first = text.peek()
    if first == "":
        raise _Refused("file is empty")
    if first != "{":
        text.value("file")  # broken JSON is reported as such
        raise _Refused('file: must be a JSON object {"customers": [...]}')
    text.pos += 1
    keys: set[str] = set()
    unknown: list[str] = []
    if text.peek() == "}":
        text.pos += 1
    else:
        while True:
            if text.peek() != '"':
                raise text.broken("Expecting property name enclosed in double quotes")
            key = text.value("file")
            if not keys and key in _CUSTOMER_KEYS:
                raise _Refused(
                    'file: starts with a customer, not {"customers": [...]}; a file of one '
                    "customer per line is JSON Lines: name it .jsonl"
                )
            text.expect(":", "Expecting ':' delimiter")
            if key in keys:
                problems.append(f"{key}: appears more than once in the file")
            keys.add(key)
            if key == "customers" and text.peek() == "[":
                yield from _customer_list(text)
            elif key == "customers":
                value = text.value("customers")
                problems.append(f"customers: must be a list of customers (got {_short(value)})")
            else:
                text.value(key)
                unknown.append(f"{key}: is not a known field")
            if text.peek() == "}":
                text.pos += 1
                break
            text.expect(",", "Expecting ',' delimiter")
    if "customers" not in keys:
        problems.append("customers: is required but missing")
    problems.extend(unknown)
    if text.peek() != "":
        raise text.broken("Extra data")


def _customer_list(text: _Text) -> Iterator[_Raw]:
    """The elements of the `customers` array, the cursor standing on its `[`."""
    text.pos += 1
    if text.peek() == "]":
        text.pos += 1
        return
    index = 0
    while True:
        repeats = text.decoder.repeats
        data = text.value(f"customers[{index}]")
        yield index, data, text.decoder.repeats != repeats
        index += 1
        if text.peek() == "]":
            text.pos += 1
            return
        text.expect(",", "Expecting ',' delimiter")


def _json_lines(source: _Bytes, decoder: _Decoder, problems: list[str]) -> Iterator[_Raw]:
    """The customers of a JSON Lines file, one per non-blank line."""
    pending = b""
    number = 0
    skipping = False  # inside a line too long to keep
    while True:
        chunk = source.read()
        data = pending + chunk
        if skipping:
            cut = data.find(b"\n")
            if cut < 0 and chunk:
                pending = b""
                continue
            number += 1
            data = data[cut + 1 :] if cut >= 0 else b""
            skipping = False
        lines = data.split(b"\n")
        pending = lines.pop() if chunk else b""
        for raw in lines:
            number += 1
            record = _line(number, raw, decoder, problems)
            if record is not None:
                yield record
        if len(pending) > MAX_RECORD_BYTES:
            problems.append(f"line {number + 1}: longer than {MAX_RECORD_BYTES:,} bytes")
            pending = b""
            skipping = True
        if not chunk:
            return


def _line(number: int, raw: bytes, decoder: _Decoder, problems: list[str]) -> _Raw | None:
    """One line of a JSON Lines file, or None (blank, or its problem noted)."""
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    raw = raw.strip(b" \t\r")
    if not raw:
        return None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"line {number}: not UTF-8 text: {exc.reason} at byte {exc.start + 1}")
        return None
    repeats = decoder.repeats
    try:
        data = decoder.json.decode(line)
    except json.JSONDecodeError as exc:
        problems.append(f"line {number}: not valid JSON: {exc.msg} (column {exc.colno})")
        return None
    except RecursionError:
        problems.append(f"line {number}: nested too deeply to be a customer record")
        return None
    except ValueError as exc:  # a number of more than 4,300 digits
        problems.append(f"line {number}: {str(exc).split(':')[0]}")
        return None
    return number, data, decoder.repeats != repeats


# --- checking -------------------------------------------------------------------------------------


class CheckedImport:
    """A file that passed `check_import`: its counts, and its records ready to be written."""

    def __init__(
        self,
        fmt: ImportFormat,
        customers: int,
        services: int,
        size: int,
        spool: IO[bytes],
    ) -> None:
        self.format = fmt
        self.customers = customers
        self.services = services
        self.size = size
        """Bytes read."""
        self._spool = spool

    def records(self, progress: Progress | None = None) -> Iterator[ImportRecord]:
        """Every customer with their services, in file order; `progress(customers done, total)`.

        Each call replays from the start; one replay at a time, as they share the spool file.
        """
        self._spool.seek(0)
        done = 0
        while done < self.customers:
            rows = _unspool(self._spool)
            for row in rows:
                yield _domain(row)
            done += len(rows)
            if progress is not None:
                progress(done, self.customers)

    def service_owners(self, size: int = 500) -> Iterator[list[tuple[str, str]]]:
        """(customer id, service id) of every service, for about `size` customers at a time.

        The cheap replay for look-ups that need only the ids: no domain models are built.
        """
        self._spool.seek(0)
        done = 0
        pairs: list[tuple[str, str]] = []
        customers = 0
        while done < self.customers:
            rows = _unspool(self._spool)
            for customer_id, _name, services in rows:
                pairs.extend((customer_id, service[0]) for service in services)
                customers += 1
                if customers >= size:
                    yield pairs
                    pairs, customers = [], 0
            done += len(rows)
        if pairs:
            yield pairs

    def batches(
        self, size: int = 500, progress: Progress | None = None
    ) -> Iterator[list[ImportRecord]]:
        """`records()` in lists of `size` customers, one short write transaction each."""
        batch: list[ImportRecord] = []
        for record in self.records(progress):
            batch.append(record)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def close(self) -> None:
        """Drop the spooled records."""
        self._spool.close()

    def __enter__(self) -> CheckedImport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# Looked up rather than called: `PaymentMethod("mycash")` costs as much as building the Service.
_METHODS = {m.value: m for m in PaymentMethod}
_STATUSES = {s.value: s for s in ServiceStatus}


def _domain(row: tuple[Any, ...]) -> ImportRecord:
    """The domain models of one spooled row.

    Built without validating again (`model_construct`): every value was validated by the
    check that spooled it, and validating 600,000 services twice costs seconds.
    """
    customer_id, name, services = row
    return Customer.model_construct(id=customer_id, name=name), [
        Service.model_construct(
            id=service_id,
            customer_id=customer_id,
            issued_on=date.fromordinal(issued),
            service_fee=fee,
            sms_charge=charge,
            sms_sent=sent,
            payment_method=_METHODS[method],
            status=_STATUSES[status],
        )
        for service_id, issued, fee, charge, sent, method, status in services
    ]


class _Problems:
    """The refusal being assembled: the first MAX_PROBLEMS lines, and a count of the rest."""

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.hidden = 0

    def add(self, problems: list[str]) -> None:
        """Note problems (only the first MAX_PROBLEMS are kept)."""
        for problem in problems:
            if len(self.listed) < MAX_PROBLEMS:
                self.listed.append(problem)
            else:
                self.hidden += 1

    def refusal(self) -> ImportRejected:
        """The error that lists them."""
        more = [f"… and {self.hidden:,} more problems"] if self.hidden else []
        return ImportRejected(self.listed + more)


def check_import(
    source: ImportSource, *, today: date, progress: Progress | None = None
) -> CheckedImport:
    """Validate a whole import file; raise ImportRejected naming every problem (up to a cap)."""
    return _check(source, today, progress)


def _check(source: ImportSource, today: date | None, progress: Progress | None) -> CheckedImport:
    stream, total, name = _open(source)
    try:
        return _Check(today).run(stream, total, name, progress)
    finally:
        if stream is not source:
            stream.close()


class _Check:
    """One pass over a file: validate each customer, find repeated ids, spool what is valid."""

    def __init__(self, today: date | None) -> None:
        self.context = {"today": today}
        self.decoder = _Decoder()
        self.problems = _Problems()
        self.layout_problems: list[str] = []
        self.format = ImportFormat.JSON
        self.customer_at: dict[str, int] = {}
        # A service's first holder as `ordinal << 32 | index`: an int costs less than a label.
        self.service_at: dict[str, int] = {}
        self.ids: list[str] = []
        self.positions: list[int] = []
        self.services = 0

    def run(
        self, stream: IO[bytes], total: int | None, name: str | None, progress: Progress | None
    ) -> CheckedImport:
        """Read and check everything; return the spooled result or raise ImportRejected."""
        spool = tempfile.TemporaryFile()
        try:
            source = self._read(stream, total, name, progress, spool)
        except BaseException:
            spool.close()
            raise
        return CheckedImport(self.format, len(self.ids), self.services, source.done, spool)

    def _read(
        self,
        stream: IO[bytes],
        total: int | None,
        name: str | None,
        progress: Progress | None,
        spool: IO[bytes],
    ) -> _Bytes:
        if total is not None and total > MAX_IMPORT_BYTES:
            raise ImportRejected([_too_large(total)])
        head = stream.read(SNIFF_BYTES)
        self.format = detect_format(name, head)
        source = _Bytes(head, stream, total, progress)
        layout = _json_lines if self.format is ImportFormat.JSON_LINES else _document
        rows: list[tuple[Any, ...]] = []
        try:
            for position, data, repeated in layout(source, self.decoder, self.layout_problems):
                self._flush_layout_problems()
                row = self._record(position, data, repeated)
                if row is not None and not self.problems.listed:
                    rows.append(row)
                    if len(rows) >= SPOOL_BATCH:
                        _spool(rows, spool)
                        rows = []
            self._flush_layout_problems()
        except _Refused as exc:
            self._flush_layout_problems()
            self.problems.add([exc.problem])
        if self.problems.listed:
            raise self.problems.refusal()
        if rows:
            _spool(rows, spool)
        spool.flush()
        return source

    def _flush_layout_problems(self) -> None:
        if self.layout_problems:
            self.problems.add(self.layout_problems)
            self.layout_problems.clear()

    def label(self, position: int) -> str:
        """How an operator finds a record: `customers[3]` or `line 4`."""
        if self.format is ImportFormat.JSON_LINES:
            return f"line {position}"
        return f"customers[{position}]"

    def _record(self, position: int, data: Any, repeated: bool) -> tuple[Any, ...] | None:
        """Check one customer; return its spool row, or None when it has problems."""
        ordinal = len(self.ids)
        self.positions.append(position)
        problems = _repeated_keys(data, self.label(position)) if repeated else []
        try:
            valid = _CUSTOMER.validate_python(data, context=self.context)
        except ValidationError as exc:
            self.ids.append("")
            self.problems.add(problems)
            self.problems.add([_describe(e, data, self.label(position)) for e in exc.errors()])
            return None
        customer_id = valid["id"]
        self.ids.append(customer_id)
        first = self.customer_at.setdefault(customer_id, ordinal)
        if first != ordinal:
            problems.append(
                f"{self._where(ordinal)}.id: duplicate customer id, "
                f"also {self.label(self.positions[first])}"
            )
        row = []
        for index, service in enumerate(valid.get("services", ())):
            self.services += 1
            here = ordinal << 32 | index
            first = self.service_at.setdefault(service["id"], here)
            if first != here:
                owner, at = first >> 32, first & 0xFFFFFFFF
                problems.append(
                    f"{self._where(ordinal)}.services[{index}] (id {service['id']!r}).id: "
                    f"duplicate service id, also {self._where(owner)}.services[{at}]"
                )
            row.append(
                (
                    service["id"],
                    service["issued_on"].toordinal(),
                    service["service_fee"],
                    service["sms_charge"],
                    service["sms_sent"],
                    service["payment_method"],
                    service.get("status", "active"),
                )
            )
        if problems:
            self.problems.add(problems)
            return None
        return customer_id, valid["name"], tuple(row)

    def _where(self, ordinal: int) -> str:
        return f"{self.label(self.positions[ordinal])} (id {self.ids[ordinal]!r})"


def _spool(rows: list[tuple[Any, ...]], spool: IO[bytes]) -> None:
    # Length-prefixed blobs: `marshal.load` on a file reads in tiny pieces, `loads` does not.
    blob = marshal.dumps(rows)
    spool.write(len(blob).to_bytes(8, "little"))
    spool.write(blob)


def _unspool(spool: IO[bytes]) -> list[tuple[Any, ...]]:
    size = int.from_bytes(spool.read(8), "little")
    return marshal.loads(spool.read(size))  # type: ignore[no-any-return]


def _open(source: ImportSource) -> tuple[IO[bytes], int | None, str | None]:
    """The stream to read, its size when known, and its name (for the format)."""
    if isinstance(source, bytes):
        return io.BytesIO(source), len(source), None
    if isinstance(source, Path):
        try:
            stream: IO[bytes] = source.open("rb")
        except OSError as exc:
            raise ImportRejected([f"cannot read {source}: {exc.strerror}"]) from None
    else:
        stream = source
    try:
        info = os.fstat(stream.fileno())
        total = info.st_size if stat.S_ISREG(info.st_mode) else None
    except (OSError, io.UnsupportedOperation):
        total = None
    name = getattr(stream, "name", None)
    return stream, total, name if isinstance(name, str) else None


def parse_import(raw: bytes, today: date | None = None) -> list[ImportRecord]:
    """Parse and validate a whole file in memory; raise ImportRejected listing every problem.

    Without `today`, issue dates are not bounded; callers that know the date should pass it.
    """
    with _check(raw, today, None) as checked:
        return list(checked.records())


# --- naming problems ------------------------------------------------------------------------------


def _repeated_keys(data: Any, label: str) -> list[str]:
    """One problem per key that appears more than once in an object of this record."""
    found: list[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, _RepeatedKeys):
            for key, values in node.repeated.items():
                shown = ", then ".join(_short(v, 30) for v in values)
                found.append(f"{where}.{key}: appears {len(values)} times ({shown})")
        if isinstance(node, dict):
            for key, child in node.items():
                if isinstance(child, dict | list):
                    visit(child, f"{where}.{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                visit(child, f"{where}[{index}]{_id_of(child)}")

    visit(data, label + _id_of(data))
    return found


def _id_of(node: Any) -> str:
    if isinstance(node, dict) and isinstance(node.get("id"), str):
        return f" (id {node['id'].strip()!r})"
    return ""


_MESSAGES = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known field",
}


def _describe(err: Any, data: Any, label: str) -> str:
    """Turn one pydantic error into `customers[0] (id 'hong01').services[1].field: message`."""
    parts: list[str] = [label + _id_of(data)]
    node = data
    for key in err["loc"]:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
            parts.append(f"[{key}]{_id_of(node)}")
        else:
            parts.append(f".{key}")
            node = node.get(key) if isinstance(node, dict) else None
    where = "".join(parts)
    kind = err["type"]
    got = f" (got {_short(err.get('input'))})"
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
    elif kind == "string_too_short":
        message = "must not be empty"
    elif kind in ("dict_type", "model_type"):
        message = "must be a JSON object" + got
    elif kind == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    else:
        message = err["msg"] + got
    return f"{where}: {message}"
