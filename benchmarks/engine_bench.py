"""Engine-only benchmark: the same 8-turn customer script as benchmarks/load.py, straight into
the dialogue engine (no HTTP), with N customers at once on one SQLite file.

    python benchmarks/engine_bench.py [--customers 200]

Prints turns/s and per-turn p50/p99: the cost of matching, policy and SQLite per turn.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import QUESTION, customer_script, percentile, prepare  # noqa: E402
from bot.app import assemble  # noqa: E402
from bot.dialogue import Engine, Press, Reply, TextInput  # noqa: E402
from core.storage import Database  # noqa: E402


def payload(replies: list[Reply], label: str) -> str:
    """The payload of the button with this label."""
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label == label:
                return button.payload
    raise LookupError(label)


async def customer(engine: Engine, index: int, code: str) -> list[float]:
    """Play one customer's turns; return their latencies in seconds."""
    chat = f"bench:{index}"
    service = f"LD-{index:04d}"
    steps = customer_script(code, service)
    replies: list[Reply] = []
    latencies = []
    for kind, value in steps:
        event = TextInput(value) if kind == "text" else Press(payload(replies, value))
        started = time.perf_counter()
        replies = await engine.handle(chat, event)
        latencies.append(time.perf_counter() - started)
    assert "신청 번호" in replies[0].text, replies[0].text
    return latencies


async def main_async(n: int) -> None:
    """Run the benchmark and print its figures."""
    db_path = Path(tempfile.mkdtemp(prefix="helpdesk-engine-")) / "bench.db"
    codes = await prepare(db_path, n)
    db = await Database.open(db_path)
    try:
        engine = assemble(db, channel="bench").engine
        started = time.perf_counter()
        results = await asyncio.gather(*(customer(engine, i, c) for i, c in enumerate(codes)))
        wall = time.perf_counter() - started
    finally:
        await db.close()
    latencies = [x for r in results for x in r]
    print(f"engine only: {n} customers x 8 turns at once, one SQLite file")
    print(
        f"turns: {len(latencies)}  wall: {wall:.2f} s  turns/s: {len(latencies) / wall:.0f}  "
        f"p50: {percentile(latencies, 50) * 1000:.1f} ms  "
        f"p99: {percentile(latencies, 99) * 1000:.1f} ms (under {n} concurrent customers)"
    )
    single = await single_turn_latency(db_path)
    print(f"one customer alone: p50 {single[0]:.2f} ms, p99 {single[1]:.2f} ms per turn")


async def single_turn_latency(db_path: Path) -> tuple[float, float]:
    """Per-turn latency with no concurrency: FAQ question turns by one customer."""
    db = await Database.open(db_path)
    try:
        engine = assemble(db, channel="bench").engine
        samples = []
        for _ in range(300):
            started = time.perf_counter()
            await engine.handle("bench:solo", TextInput(QUESTION))
            samples.append(time.perf_counter() - started)
        return percentile(samples, 50) * 1000, percentile(samples, 99) * 1000
    finally:
        await db.close()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main_async(args.customers))


if __name__ == "__main__":
    main()
