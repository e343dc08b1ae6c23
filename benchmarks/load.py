"""Load benchmark: N customers at once, each linking, asking one FAQ question and filing a refund,
through the real `helpdesk run` against the stand-in Bot API server; the same number and mix of
turns against a bare python-telegram-bot echo bot (benchmarks/echo_bot.py) is the floor.

    python benchmarks/load.py [--customers 200] [--rate 1000]
    python benchmarks/load.py --workers 1 2 [--database-url postgresql://…/postgres]

Each customer plays 8 turns (4 texts, 4 button presses) and waits for the bot's reply before the
next; a turn's latency is from pushing the update to the bot's sendMessage for it. Both bots run
as subprocesses with the same PTB set-up; the outgoing rate limit (Telegram's ~30 msg/s, which
both would hit alike) is lifted to --rate for both, so the ratio shows the helpdesk's own cost.
Both use the same HTTP connection pool (--pool, default 16): with PTB's default of 256 the echo
bot puts every send in flight at once and the thread-per-connection stand-in server, not either
bot, becomes what is measured.

Prints turns/s and p50/p99 latency for both, the ratio, and requests filed vs expected; then the
helpdesk alone under Telegram's default cap of 30 messages/s (what a real bot gets), where each
turn should cost one counted call (a press is answered by editing the pressed message). Exits 1
when a target is missed (every customer filed exactly once; ratio ≥ 0.80; ≥ 28 turns/s capped).

With --workers, the same customers play against `helpdesk run --webhook-url` workers instead, as
behind a load balancer: each chat's updates go alternately to the workers (testkit/webhooks.py,
at most 40 connections per worker as Telegram keeps to), and a turn's latency is from pushing the
update to the worker's 200, which comes once the turn is stored and answered. One worker on a
SQLite file is the reference; with --database-url (a PostgreSQL server on which the benchmark
may create and drop databases) each worker count runs on a fresh PostgreSQL database, else on a
fresh SQLite file. Exits 1 unless every customer filed exactly once in every run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import customer_script, percentile, prepare  # noqa: E402
from core.calendar import system_clock  # noqa: E402
from core.storage import Database, DatabaseUrl  # noqa: E402
from core.usecases import Helpdesk  # noqa: E402
from testkit.botapi import FakeBotAPI  # noqa: E402
from testkit.process import helpdesk_env, run_argv, wait_until_polling  # noqa: E402
from testkit.webhooks import WebhookPoster, start_worker, wait_healthy  # noqa: E402

TOKEN = "123456:LOADTEST"
TELEGRAM_CAP = 30.0  # messages/s, the bot's default (HELPDESK_RATE_LIMIT_PER_SECOND)
TARGET_CAPPED = 28.0
COUNTED_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
"""Calls that carry a chat id and count against Telegram's ~30 messages/s (PTB's limiter)."""
TURN_TIMEOUT = 60.0
TARGET_RATIO = 0.80


class Replies:
    """Bot messages per chat, handed from the fake's server threads to the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queues: dict[int, asyncio.Queue[dict[str, Any]]] = {}

    def queue(self, chat_id: int) -> asyncio.Queue[dict[str, Any]]:
        return self.queues.setdefault(chat_id, asyncio.Queue())

    def listener(self, method: str, params: dict[str, Any], result: Any) -> None:
        # A press may be answered in the pressed message ("… 👉 choice\n\nanswer") or in a
        # new one; an edit that only marks the choice ("… 👉 choice") is not the answer.
        answer = method == "sendMessage" or (
            method == "editMessageText"
            and isinstance(result, dict)
            and "\n\n" in str(result.get("text", "")).rsplit("👉 ", 1)[-1]
        )
        if answer and isinstance(result, dict):
            chat_id = int(params["chat_id"])
            self.loop.call_soon_threadsafe(self.queue(chat_id).put_nowait, result)


def start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)


def stop_process(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def button(message: dict[str, Any], label: str | None) -> str:
    """The callback_data of the button with `label` (or the first button)."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    for row in rows:
        for b in row:
            if label is None or b["text"] == label:
                return b["callback_data"]
    raise LookupError(f"no button {label!r} in {message.get('text', '')[:80]!r}")


async def customer(
    api: FakeBotAPI, replies: Replies, chat_id: int, code: str, echo: bool
) -> list[float]:
    """Play one customer's 8 turns; return each turn's latency in seconds."""
    service = f"LD-{chat_id - 10_000:04d}"
    script = customer_script(code, service)
    queue = replies.queue(chat_id)
    latencies: list[float] = []
    last: dict[str, Any] | None = None
    for kind, value in script:
        started = time.perf_counter()
        if kind == "text":
            api.push_text(chat_id, str(value), user_id=chat_id)
        else:
            assert last is not None
            data = button(last, None if echo else value)
            api.push_callback(chat_id, last["message_id"], data, user_id=chat_id)
        last = await asyncio.wait_for(queue.get(), TURN_TIMEOUT)
        latencies.append(time.perf_counter() - started)
    return latencies


async def run_phase(
    api: FakeBotAPI,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    codes: list[str],
    echo: bool,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    replies = Replies(loop)
    api.on_call(replies.listener)
    polls_before = len(api.calls("getUpdates"))
    calls_before = len(api.request_log())
    process = start_process(argv, env, log)
    try:
        await asyncio.to_thread(wait_until_polling, api, process, polls_before)
        started = time.perf_counter()
        per_customer = await asyncio.gather(
            *(customer(api, replies, 10_000 + i, code, echo) for i, code in enumerate(codes))
        )
        wall = time.perf_counter() - started
    finally:
        exit_code = stop_process(process)
    latencies = [x for c in per_customer for x in c]
    counted = [
        c for c in api.request_log()[calls_before:] if c["method"] in COUNTED_METHODS
    ]
    return {
        "calls_per_turn": len(counted) / max(1, len(latencies)),
        "turns": len(latencies),
        "wall": wall,
        "rate": len(latencies) / wall,
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "exit": exit_code,
    }


async def filed_once(db_path: Path, n: int) -> tuple[list[Any], int]:
    """Every request filed, and how many customers filed exactly one."""
    db = await Database.open(db_path)
    try:
        requests = await Helpdesk(db, system_clock).requests.list()
    finally:
        await db.close()
    per_customer = Counter(r.customer_id for r in requests)
    return requests, sum(1 for i in range(n) if per_customer.get(f"load{i:04d}") == 1)


async def main_async(n: int, rate: float, pool: int, capped: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-load-"))
    db_path = workdir / "load.db"
    codes = await prepare(db_path, n)
    env = helpdesk_env()
    with FakeBotAPI(token=TOKEN) as api:
        floor = await run_phase(
            api,
            [
                sys.executable,
                str(ROOT / "benchmarks" / "echo_bot.py"),
                "--base-url",
                api.base_url,
                "--token",
                TOKEN,
                "--rate",
                str(rate),
            ],
            env,
            workdir / "echo.log",
            codes,
            echo=True,
        )
        bot_env = helpdesk_env(
            TOKEN, db=str(db_path), rate_limit_per_second=str(rate), connection_pool_size=str(pool)
        )
        bot = await run_phase(
            api,
            run_argv(api),
            bot_env,
            workdir / "helpdesk.log",
            codes,
            echo=False,
        )
        capped_db = workdir / "capped.db"
        capped_codes = await prepare(capped_db, capped)
        capped_env = helpdesk_env(TOKEN, db=str(capped_db), connection_pool_size=str(pool))
        at_cap = await run_phase(
            api, run_argv(api), capped_env, workdir / "capped.log", capped_codes, echo=False
        )
    requests, exactly_once = await filed_once(db_path, n)
    ratio = bot["rate"] / floor["rate"]
    print(
        f"load: {n} customers x 8 turns (4 texts, 4 button presses) at once; "
        f"stand-in Bot API on 127.0.0.1; for both bots: rate limit {rate:g} msg/s, "
        f"{pool} HTTP connections"
    )
    print(
        f"{'':<14}{'turns':>7}{'wall s':>9}{'turns/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'calls/turn':>12}"
    )
    rows = (("echo floor", floor), ("helpdesk", bot), (f"at {TELEGRAM_CAP:g} msg/s", at_cap))
    for name, r in rows:
        print(
            f"{name:<14}{r['turns']:>7}{r['wall']:>9.2f}{r['rate']:>10.1f}"
            f"{r['p50']:>9.1f}{r['p99']:>9.1f}{r['calls_per_turn']:>12.2f}"
        )
    print(f"ratio helpdesk/floor turn rate: {ratio:.2f} (target >= {TARGET_RATIO:.2f})")
    print(
        f"under Telegram's default cap ({TELEGRAM_CAP:g} msg/s, {capped} customers): "
        f"{at_cap['rate']:.1f} turns/s (target >= {TARGET_CAPPED:g})"
    )
    print(
        f"requests filed: {len(requests)} of {n} expected; "
        f"customers with exactly one: {exactly_once}"
    )
    print(f"logs: {workdir}")
    ok = exactly_once == n and len(requests) == n and ratio >= TARGET_RATIO
    ok = ok and floor["exit"] == 0 and bot["exit"] == 0 and at_cap["exit"] == 0
    ok = ok and at_cap["rate"] >= TARGET_CAPPED
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


# --- several webhook workers on one database ---------------------------------------------------

WEBHOOK_SECRET = "load-benchmark-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database(server_url: str | None, workdir: Path, label: str) -> Iterator[str]:
    """A new, empty database: a SQLite file, or one created (and dropped) on `server_url`."""
    if server_url is None:
        yield str(workdir / f"{label}.db")
        return
    name = f"helpdesk_load_{os.getpid()}_{label}"
    parts = urlsplit(server_url)

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def play_webhook(
    api: FakeBotAPI, poster: WebhookPoster, chat_id: int, code: str, workers: int
) -> list[float]:
    """One customer's 8 turns through the workers, each to the next worker in turn."""
    service = f"LD-{chat_id - 10_000:04d}"
    latencies: list[float] = []
    for index, (kind, value) in enumerate(customer_script(code, service)):
        started = time.perf_counter()
        if kind == "text":
            update_id = api.push_text(chat_id, value, user_id=chat_id)
        else:
            last = api.messages(chat_id)[-1]
            data = button(last, value)
            query = api.push_callback(chat_id, last["message_id"], data, user_id=chat_id)
            update_id = api.update_id_of(query)
        await poster.deliver(update_id, first=(chat_id + index) % workers)
        latencies.append(time.perf_counter() - started)
    return latencies


async def run_workers_phase(
    database: str, workers: int, n: int, rate: float, pool: int, workdir: Path, label: str
) -> dict[str, Any]:
    """`n` customers against `workers` webhook workers on `database`; figures and filings."""
    key = Fernet.generate_key()
    codes = await prepare(database, n, key)
    env = helpdesk_env(
        TOKEN,
        database_url=database,  # a PostgreSQL URL, or a plain path: a SQLite file
        secret_key=key.decode(),
        rate_limit_per_second=str(rate),
        connection_pool_size=str(pool),
    )
    ports = [free_port() for _ in range(workers)]
    with FakeBotAPI(token=TOKEN) as api:
        processes = [
            start_worker(api, env, port, WEBHOOK_SECRET, workdir / f"{label}-worker{i}.log")
            for i, port in enumerate(ports)
        ]  # one --secret-token for all, as an operator may give it
        try:
            await asyncio.to_thread(wait_healthy, processes, ports)
            async with WebhookPoster(api, ports, WEBHOOK_SECRET) as poster:
                started = time.perf_counter()
                per_customer = await asyncio.gather(
                    *(
                        play_webhook(api, poster, 10_000 + i, code, workers)
                        for i, code in enumerate(codes)
                    )
                )
                wall = time.perf_counter() - started
        finally:
            exits = [stop_process(process) for process in processes]
    db = await Database.open(database, key)
    try:
        requests = await Helpdesk(db, system_clock).requests.list()
    finally:
        await db.close()
    per = Counter(r.customer_id for r in requests)
    latencies = [x for c in per_customer for x in c]
    return {
        "turns": len(latencies),
        "wall": wall,
        "rate": len(latencies) / wall,
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "filed": len(requests),
        "exactly_once": sum(1 for i in range(n) if per.get(f"load{i:04d}") == 1),
        "exits": exits,
    }


def main_workers(
    n: int, rate: float, pool: int, worker_counts: list[int], server_url: str | None
) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-load-"))
    runs: list[tuple[str, int]] = [("sqlite", 1)]
    backend = "postgresql" if server_url else "sqlite"
    runs += [(backend, count) for count in worker_counts if (backend, count) != ("sqlite", 1)]
    results: list[tuple[str, int, dict[str, Any]]] = []
    for kind, count in runs:
        label = f"{kind}-{count}"
        with fresh_database(server_url if kind == "postgresql" else None, workdir, label) as url:
            result = asyncio.run(run_workers_phase(url, count, n, rate, pool, workdir, label))
        results.append((kind, count, result))
    print(
        f"load: {n} customers x 8 turns at once through `helpdesk run --webhook-url` workers; "
        f"each chat's updates alternate between the workers; stand-in Bot API on 127.0.0.1; "
        f"rate limit {rate:g} msg/s, {pool} HTTP connections per worker"
    )
    header = f"{'database':<12}{'workers':>8}{'turns':>7}{'wall s':>9}{'turns/s':>10}"
    print(f"{header}{'p50 ms':>9}{'p99 ms':>9}{'vs sqlite':>11}")
    reference = results[0][2]["rate"]
    ok = True
    for kind, count, r in results:
        print(
            f"{kind:<12}{count:>8}{r['turns']:>7}{r['wall']:>9.2f}{r['rate']:>10.1f}"
            f"{r['p50']:>9.1f}{r['p99']:>9.1f}{r['rate'] / reference:>11.2f}"
        )
        ok = ok and r["exactly_once"] == n == r["filed"] and all(e == 0 for e in r["exits"])
    for kind, count, r in results:
        print(
            f"{kind} x{count}: requests filed {r['filed']} of {n}; "
            f"customers with exactly one: {r['exactly_once']}"
        )
    print(f"logs: {workdir}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument(
        "--capped", type=int, default=100, help="customers of the run at Telegram's default cap"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        metavar="N",
        help="webhook workers per run (e.g. 1 2), beside one worker on SQLite",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="with --workers: a PostgreSQL server URL the benchmark may create databases on",
    )
    args = parser.parse_args()
    if args.workers:
        if args.database_url and not DatabaseUrl.parse(args.database_url).is_postgres:
            parser.error("--database-url must be a postgresql:// server URL")
        raise SystemExit(
            main_workers(args.customers, args.rate, args.pool, args.workers, args.database_url)
        )
    if args.database_url:
        parser.error("--database-url needs --workers")
    raise SystemExit(asyncio.run(main_async(args.customers, args.rate, args.pool, args.capped)))


if __name__ == "__main__":
    main()
