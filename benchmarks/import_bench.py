"""Time and peak memory of reading a provider-scale import file (no database writes).

    python benchmarks/import_bench.py [--customers 200000] [--format json|jsonl|both]

Writes the file into a temporary directory (`benchmarks/import_data.py`), then, in a fresh
process per file so that the peak RSS is its own, times the two halves a writer goes through:
`check` (`check_import`: the validation pass over the whole file, records spooled) and `replay`
(`CheckedImport.batches`: the domain records in batches of 500, counted and dropped).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.import_data import write_import_file  # noqa: E402
from core.importing import check_import  # noqa: E402


def measure(path: Path, today: date) -> dict[str, float]:
    """Check and replay one file in this process; return both wall times and the peak RSS."""
    started = time.perf_counter()
    with check_import(path, today=today) as checked:
        checked_at = time.perf_counter()
        replayed = sum(len(batch) for batch in checked.batches(500))
        replayed_at = time.perf_counter()
    assert replayed == checked.customers
    return {
        "customers": checked.customers,
        "services": checked.services,
        "check_s": round(checked_at - started, 2),
        "replay_s": round(replayed_at - checked_at, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    """Generate the file(s), measure each in its own process, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--format", choices=("json", "jsonl", "both"), default="both")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    today = date.today()
    if args.measure:
        print(json.dumps(measure(args.measure, today)))
        return
    formats = ("json", "jsonl") if args.format == "both" else (args.format,)
    print(
        f"{'file':<16} {'MB':>6} {'customers':>10} {'services':>9} {'check s':>8} "
        f"{'replay s':>9} {'peak RSS MB':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = Path(tmp) / f"customers.{fmt}"
            size = write_import_file(path, args.customers, today=today)
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout)
            print(
                f"{path.name:<16} {size / 1e6:>6.1f} {r['customers']:>10,} {r['services']:>9,} "
                f"{r['check_s']:>8.2f} {r['replay_s']:>9.2f} {r['peak_rss_mb']:>12.1f}"
            )


if __name__ == "__main__":
    main()
