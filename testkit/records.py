"""Customer import records (the `helpdesk import` format) for tests and benchmarks."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

Record = dict[str, Any]


def service(
    service_id: str,
    issued_on: date,
    *,
    service_fee: int = 11000,
    sms_charge: int = 20000,
    payment_method: str = "mycash",
) -> Record:
    """A service with no SMS sent: eligible while `issued_on` is within its 7 days."""
    return {
        "id": service_id,
        "issued_on": issued_on.isoformat(),
        "service_fee": service_fee,
        "sms_charge": sms_charge,
        "sms_sent": 0,
        "payment_method": payment_method,
    }


def customer(customer_id: str, name: str, services: list[Record]) -> Record:
    """A customer record with its services."""
    return {"id": customer_id, "name": name, "services": services}


def import_file(customers: list[Record]) -> bytes:
    """The JSON document `helpdesk import` reads."""
    return json.dumps({"customers": customers}, ensure_ascii=False).encode("utf-8")
