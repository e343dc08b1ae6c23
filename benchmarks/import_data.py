"""Provider-scale import files: N customers with a few services each, written as a stream.

Used by `benchmarks/import_bench.py` and meant for scale benchmarks that fill databases: 200,000
customers with 3 services each make a file of about 100 MB. The content is deterministic for a
seed and shaped like a billing export (Korean names, mixed payment methods, issue dates over the
last two months, a few cancelled services), so parsing costs what a real file would.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민"
GIVEN = "민서준지하윤도현우예은수아연시호진영재원채유나경태성혜동규희소빈"
FEES = (11000, 22000, 33000, 55000)
CHARGES = (0, 0, 0, 10000, 20000, 50000)


def customer_record(i: int, services: int, today: date, rng: random.Random) -> dict[str, Any]:
    """One customer object of the import format, numbered `i`."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
    return {
        "id": f"cust{i:07d}",
        "name": name,
        "services": [
            {
                "id": f"SMS-{i:07d}-{j}",
                "issued_on": (today - timedelta(days=rng.randrange(60))).isoformat(),
                "service_fee": rng.choice(FEES),
                "sms_charge": rng.choice(CHARGES),
                "sms_sent": 0 if rng.random() < 0.7 else rng.randrange(1, 500),
                "payment_method": "mycash" if rng.random() < 0.6 else "bank_transfer",
                **({"status": "cancelled"} if rng.random() < 0.05 else {}),
            }
            for j in range(services)
        ],
    }


def write_import_file(
    path: Path,
    customers: int,
    *,
    services: int = 3,
    today: date,
    seed: int = 1,
) -> int:
    """Write an import file (JSON Lines if `path` ends in .jsonl, else the document); return bytes.

    Records are written one at a time, so the generator's memory stays small at any size.
    """
    rng = random.Random(seed)
    lines = path.suffix.lower() in (".jsonl", ".ndjson")
    with path.open("w", encoding="utf-8") as out:
        if not lines:
            out.write('{"customers": [\n')
        for i in range(customers):
            record = json.dumps(customer_record(i, services, today, rng), ensure_ascii=False)
            if lines:
                out.write(record + "\n")
            else:
                out.write(("" if i == 0 else ",\n") + record)
        if not lines:
            out.write("\n]}\n")
    return path.stat().st_size


def main() -> None:
    """`python benchmarks/import_data.py OUT.json[l] [--customers N]`: write one file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--services", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    size = write_import_file(args.out, args.customers, services=args.services, today=args.today)
    print(f"{args.out}: {args.customers:,} customers, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
