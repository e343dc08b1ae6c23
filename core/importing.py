"""Validation of the customer/service import file (SPEC §5), before anything is written.

Everything is checked first and every problem is reported with the record and field it is in, so
an operator can fix the file in one go; the caller then writes it in one transaction.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError

from core.errors import ImportRejected
from core.models import Customer, PaymentMethod, Service, ServiceStatus

MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""A larger file is refused: it is not a customer list but a mistake (or an attack)."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _strict_date(value: Any) -> date:
    # pydantic would accept a Unix timestamp or a datetime string; a billing export that sends
    # either has a bug worth surfacing rather than a guessed date.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"is not a real calendar date: {value!r}") from None


def _non_blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
    return value


Text = Annotated[str, BeforeValidator(_non_blank), Field(max_length=100)]
Id = Annotated[str, BeforeValidator(_non_blank), Field(max_length=64)]


class _ServiceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    issued_on: Annotated[date, BeforeValidator(_strict_date)]
    service_fee: StrictInt = Field(ge=0, le=1_000_000_000)
    sms_charge: StrictInt = Field(ge=0, le=1_000_000_000)
    sms_sent: StrictInt = Field(ge=0, le=1_000_000_000)
    payment_method: PaymentMethod
    status: ServiceStatus = ServiceStatus.ACTIVE


class _CustomerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    name: Text
    services: list[_ServiceRecord] = Field(default_factory=list)


class _ImportFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[_CustomerRecord]


def parse_import(raw: bytes) -> list[tuple[Customer, list[Service]]]:
    """Parse and validate an import file; raise ImportRejected listing every problem."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ImportRejected([f"file is {len(raw):,} bytes; the limit is {MAX_IMPORT_BYTES:,}"])
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"file is not UTF-8 text: {exc.reason} at byte {exc.start}"
        raise ImportRejected([problem]) from None
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            [f"file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
        ) from None
    try:
        parsed = _ImportFile.model_validate(data)
    except ValidationError as exc:
        raise ImportRejected([_describe(err, data) for err in exc.errors()]) from None

    problems: list[str] = []
    seen_customers: dict[str, int] = {}
    seen_services: dict[str, str] = {}
    result: list[tuple[Customer, list[Service]]] = []
    for ci, rec in enumerate(parsed.customers):
        where = f"customers[{ci}] (id {rec.id!r})"
        if rec.id in seen_customers:
            problems.append(
                f"{where}.id: duplicate customer id, also customers[{seen_customers[rec.id]}]"
            )
        seen_customers.setdefault(rec.id, ci)
        services = []
        for si, srv in enumerate(rec.services):
            if srv.id in seen_services:
                problems.append(
                    f"{where}.services[{si}] (id {srv.id!r}).id: duplicate service id, "
                    f"also {seen_services[srv.id]}"
                )
            seen_services.setdefault(srv.id, f"{where}.services[{si}]")
            services.append(Service(customer_id=rec.id, **srv.model_dump()))
        result.append((Customer(id=rec.id, name=rec.name), services))
    if problems:
        raise ImportRejected(problems)
    return result


def _describe(err: Any, data: Any) -> str:
    """Turn one pydantic error into `customers[0] (id 'hong01').services[1].field: message`."""
    parts: list[str] = []
    node = data
    for key in err["loc"]:
        if isinstance(key, int):
            label = f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f" (id {node['id']!r})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    where = "".join(parts) or "file"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is required but missing"
    elif err["type"] == "extra_forbidden":
        message = "is not a known field"
    elif "input" in err and err["type"] not in ("value_error",):
        message += f" (got {err['input']!r})"
    return f"{where}: {message}"
