"""A hosting provider's volume: fill a database through the use cases, then time what is slow.

    python benchmarks/scale.py [--customers 100000] [--import-customers 200000] [--quick]

Fills one SQLite file the way a year of a busy helpdesk would: `--customers` customers with 3
services each (imported with `helpdesk import`), each linked to a chat, one refund request per
customer with its audit trail (60% decided: approved, refunded or rejected, which queues a
notice to the customer), those notices delivered but the last tenth, and as many FAQ events as
customers of which 31% are misses (phrased as benchmarks/misses_bench.py phrases them). Links,
filings, decisions and FAQ events go through the use cases; delivered notices are marked sent
in batches of 500 through the outbox repository (one claim of 500, one transaction).

Then it prints, with wall time and peak memory (RSS) of each command in its own process:

- `helpdesk import` of a provider's export (`--import-customers`, JSON Lines) into the filled
  database, while 20 customers keep talking to the bot in this process: every turn's latency
  and any turn that got the error apology;
- the same file again (every record unchanged), with the turns again;
- `helpdesk faq misses`, `helpdesk stats`, `helpdesk requests list --status submitted`,
  `helpdesk requests show`;
- claiming due notifications (20 per claim, as the delivery loops do) among the delivered ones.

`--quick` is 10,000 customers and a 20,000-customer import, for trying the script out.
`--keep DIR` builds in DIR and keeps the filled database; `--keep DIR --reuse` measures again
on it without filling (the fill of 100,000 customers takes most of an hour).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import percentile  # noqa: E402
from benchmarks.import_data import write_import_file  # noqa: E402
from benchmarks.misses_bench import miss_texts  # noqa: E402
from bot import texts  # noqa: E402
from bot.app import assemble  # noqa: E402
from bot.dialogue import TextInput  # noqa: E402
from core.calendar import system_clock, today_kst  # noqa: E402
from core.models import Reason  # noqa: E402
from core.storage import Database  # noqa: E402
from core.usecases import Filing, Helpdesk  # noqa: E402
from faq.normalize import normalize  # noqa: E402

BATCH = 500
TALKERS = 20
TALK_PAUSE = 1.0
"""Customers talking to the bot during an import, each a turn a second once answered: about
20 turns a second in all, two thirds of the messages Telegram lets one bot send."""

QUESTIONS = (
    "SMS 충전 금액도 환불되나요?",
    "환불은 언제 들어와요?",
    "제 서비스 취소 가능한가요?",
    "신청한 거 어떻게 됐어요?",
)
ANSWERED = (
    ("refund_scope", "SMS 충전 금액도 환불되나요?"),
    ("refund_timing", "마이캐시 환불은 언제 들어오나요"),
    ("cancel_deadline", "며칠 안에 취소해야 하나요"),
)


@dataclass
class Run:
    """One command's figures."""

    seconds: float
    peak_mb: float


# Runs `helpdesk` in the child and reports the child's own peak RSS on its last stderr line.
_MEASURED = """
import resource, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak_rss_kb={peak}", file=sys.stderr)
raise SystemExit(code)
"""


async def helpdesk(db: Path, *args: str) -> Run:
    """Run `helpdesk ARGS` on the database in its own process; its time and peak RSS."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _MEASURED,
        *args,
        env={**os.environ, "HELPDESK_DB": str(db)},
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    started = time.perf_counter()
    _, err = await proc.communicate()
    seconds = time.perf_counter() - started
    lines = err.decode().strip().splitlines()
    if proc.returncode or not lines or not lines[-1].startswith("peak_rss_kb="):
        raise SystemExit(f"helpdesk {' '.join(args)} failed: {err.decode()[-2000:]}")
    return Run(seconds, int(lines[-1].split("=")[1]) / 1024)


def fill_file(path: Path, customers: int) -> None:
    """The filled database's customers: the first service of each can be cancelled today."""
    today = today_kst(system_clock)
    with path.open("w", encoding="utf-8") as out:
        for i in range(customers):
            services = [
                {
                    "id": f"F{i:07d}-{k}",
                    "issued_on": (today - timedelta(days=0 if k == 0 else 30 + k)).isoformat(),
                    "service_fee": 11000,
                    "sms_charge": 20000 if k == 0 else 0,
                    "sms_sent": 0,
                    "payment_method": "mycash",
                }
                for k in range(3)
            ]
            record = {"id": f"f{i:07d}", "name": f"고객{i}", "services": services}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


async def fill(db_path: Path, customers: int) -> dict[str, int]:
    """Links, requests, decisions, notices and FAQ events for the imported customers."""
    db = await Database.open(db_path)
    desk = Helpdesk(db, system_clock)
    rng = random.Random(3)
    try:
        for start in range(0, customers, BATCH):
            ids = range(start, min(start + BATCH, customers))
            codes = [await desk.linking.issue_code(f"f{i:07d}") for i in ids]
            async with db.transaction() as tx:
                for i, code in zip(ids, codes, strict=True):
                    await desk.linking.redeem(f"tg:{i}", code.code, tx=tx)
                    await desk.requests.file(_filing(i), tx=tx)
        numbers = await _numbers(db)
        for number in numbers:
            roll = rng.random()
            if roll < 0.4:
                await desk.requests.approve(number, "bench")
                if roll < 0.2:
                    await desk.requests.mark_refunded(number, "bench")
            elif roll < 0.6:
                await desk.requests.reject(number, "bench", "확인증이 필요해요")
        notices = await _deliver_all_but(db, desk, keep=0.1)
        misses = miss_texts(customers * 31 // 100)
        for start in range(0, customers, BATCH):
            async with db.transaction() as tx:
                for n in range(start, min(start + BATCH, customers)):
                    if n < len(misses):
                        text, kind, intent = misses[n], "fallback", None
                    else:
                        intent, text = ANSWERED[n % len(ANSWERED)]
                        kind = "answer"
                    await desk.faq_log.record(
                        chat_id=f"tg:{n}",
                        kind=kind,
                        intent=intent,
                        text=text,
                        normalized=normalize(text),
                        tx=tx,
                    )
        return {
            "customers": customers,
            "services": customers * 3,
            "requests": len(numbers),
            "notices": notices,
            "faq events": customers,
            "misses": len(misses),
        }
    finally:
        await db.close()


def _filing(i: int) -> Filing:
    return Filing(
        customer_id=f"f{i:07d}",
        service_id=f"F{i:07d}-0",
        reason=Reason.BUSINESS_ENDED,
        message="더 이상 사용하지 않아요",
        account=None,
        channel="telegram",
        chat_id=f"tg:{i}",
        submission_key=None,
    )


async def _numbers(db: Database) -> list[str]:
    async with db.reading() as tx:
        return [r.number for r in await tx.requests.list(None, None)]


async def _deliver_all_but(db: Database, desk: Helpdesk, keep: float) -> int:
    """Mark the notices sent, oldest first, but the last `keep` of them; return how many."""
    total = len(await desk.notifications.rows())
    to_send = int(total * (1 - keep))
    sent = 0
    while sent < to_send:
        items = await desk.notifications.claim("tg:", timedelta(minutes=5), BATCH)
        items = items[: to_send - sent]
        if not items:
            break
        async with db.transaction() as tx:
            for item in items:
                await tx.outbox.mark_sent(item.id, desk.now(), item.claimed_until)
        sent += len(items)
    # What was claimed but not marked is released for the claim benchmark below.
    async with db.transaction() as tx:
        await tx.outbox.clamp_future(desk.now(), desk.now())
    return total


async def import_while_talking(db_path: Path, file: Path) -> tuple[Run, list[float], int]:
    """Run `helpdesk import FILE` while TALKERS customers talk; its run, turn latencies, errors."""
    db = await Database.open(db_path)
    engine = assemble(db, channel="bench").engine
    latencies: list[float] = []
    failures = 0
    done = asyncio.Event()
    apology = texts.ERROR.split("{")[0].strip()

    async def talk(who: int) -> None:
        nonlocal failures
        turn = 0
        while not done.is_set():
            started = time.perf_counter()
            replies = await engine.handle(f"talk:{who}", TextInput(QUESTIONS[turn % 4]))
            latencies.append(time.perf_counter() - started)
            failures += any(apology in r.text for r in replies)
            turn += 1
            await asyncio.sleep(TALK_PAUSE)

    try:
        talkers = [asyncio.create_task(talk(i)) for i in range(TALKERS)]
        try:
            run = await helpdesk(db_path, "import", str(file))
        finally:
            done.set()
            await asyncio.gather(*talkers)
    finally:
        await db.close()
    return run, latencies, failures


async def claim_cost(db_path: Path) -> tuple[float, int]:
    """Milliseconds per claim of up to 20 due notices among the delivered ones; notices claimed."""
    db = await Database.open(db_path)
    desk = Helpdesk(db, system_clock)
    try:
        samples: list[float] = []
        claimed = 0
        while True:
            started = time.perf_counter()
            items = await desk.notifications.claim("tg:", timedelta(minutes=5), 20)
            samples.append(time.perf_counter() - started)
            if not items:
                break
            claimed += len(items)
            for item in items:
                await desk.notifications.sent(item)
        return percentile(samples, 50) * 1000, claimed
    finally:
        await db.close()


def main() -> None:
    """Fill, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--import-customers", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="10k customers, a 20k import")
    parser.add_argument("--keep", type=Path, help="build in this directory and keep it")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: measure again on the database an earlier run filled there",
    )
    args = parser.parse_args()
    if args.quick:
        args.customers, args.import_customers = 10_000, 20_000
    if args.reuse and args.keep is None:
        parser.error("--reuse needs --keep DIR (the directory of the earlier run)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="helpdesk-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "scale.db"
    filled = work / "filled.db"  # the filled database before any measurement, for --reuse
    for stale in work.glob("scale.db*"):
        stale.unlink()
    rows: list[tuple[str, str, str]] = []

    if args.reuse:
        if not (filled.exists() and (work / "filled.json").exists()):
            parser.error(f"{filled} is missing: run once with --keep {work} first")
        shutil.copyfile(filled, db)
        shutil.copyfile(work / "filled.db.key", work / "scale.db.key")
        counts = json.loads((work / "filled.json").read_text())
        print(f"reusing the database filled earlier in {work}", flush=True)
    else:
        fill_path = work / "fill.jsonl"
        fill_file(fill_path, args.customers)
        started = time.perf_counter()
        first = asyncio.run(helpdesk(db, "import", str(fill_path)))
        print(
            f"filling: imported {args.customers:,} customers in {first.seconds:.1f} s",
            flush=True,
        )
        counts = asyncio.run(fill(db, args.customers))
        print(
            "filled in {:.0f} s: {}".format(
                time.perf_counter() - started,
                ", ".join(f"{v:,} {k}" for k, v in counts.items()),
            ),
            flush=True,
        )
        if args.keep is not None:
            shutil.copyfile(db, filled)  # closed and checkpointed: the file is the database
            shutil.copyfile(work / "scale.db.key", work / "filled.db.key")
            (work / "filled.json").write_text(json.dumps(counts))

    export = work / "export.jsonl"
    write_import_file(export, args.import_customers, today=today_kst(system_clock))
    size_mb = export.stat().st_size / 1e6
    for label in ("import", "re-import, unchanged"):
        run, latencies, failures = asyncio.run(import_while_talking(db, export))
        rows.append(
            (
                f"`helpdesk import` {args.import_customers:,} customers "
                f"({size_mb:.0f} MB), {label}",
                f"{run.seconds:.1f} s",
                f"{run.peak_mb:.0f} MB peak",
            )
        )
        rows.append(
            (
                f"a turn during that import ({len(latencies):,} turns by {TALKERS} customers)",
                f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
                f"p99 {percentile(latencies, 99) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms",
                f"{failures} got the error apology",
            )
        )
    since = (today_kst(system_clock) - timedelta(days=30)).isoformat()
    number = asyncio.run(_any_number(db))
    for label, argv in (
        ("`helpdesk faq misses`", ("faq", "misses", "--since", since)),
        ("`helpdesk stats`", ("stats",)),
        (
            "`helpdesk requests list --status submitted`",
            ("requests", "list", "--status", "submitted"),
        ),
        ("`helpdesk requests show`", ("requests", "show", number)),
    ):
        run = asyncio.run(helpdesk(db, *argv))
        rows.append((label, f"{run.seconds:.1f} s", f"{run.peak_mb:.0f} MB peak"))
    per_claim, claimed = asyncio.run(claim_cost(db))
    rows.append(
        (
            f"claiming due notifications ({claimed:,} due among {counts['notices']:,})",
            f"{per_claim:.1f} ms per claim of 20",
            "",
        )
    )
    print()
    print(f"| what ({args.customers:,} customers filled) | time | |")
    print("|---|---|---|")
    for what, figure, note in rows:
        print(f"| {what} | {figure} | {note} |")
    if not args.keep:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()


async def _any_number(db_path: Path) -> str:
    db = await Database.open(db_path)
    try:
        numbers = await _numbers(db)
        return numbers[len(numbers) // 2]
    finally:
        await db.close()


if __name__ == "__main__":
    main()
