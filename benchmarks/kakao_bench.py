"""Kakao skill benchmark: answer times of `helpdesk kakao` against Kakao's 5-second limit.

    python benchmarks/kakao_bench.py [--customers 200] [--lock-seconds 8]

Starts the real skill server as a subprocess on a fresh database and plays, for N customers at
once, the same 8-turn script as benchmarks/load.py (paste the link code, ask one FAQ question,
/refund, choose, next, reason, message, confirm) as skill requests, a quick reply sending its
full label. A turn's time is the HTTP round trip of its skill request. Then, while another
process holds the database's write lock for --lock-seconds, every customer asks one more
question: those answers must still come within the limit (as "잠시만요"), and each customer's
next message must bring the result.

Prints p50/p99/max per phase and exits 1 when any answer took 5 seconds or more, a customer
did not file exactly one request, or a held answer's result did not come on the next message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import QUESTION, customer_script, percentile, prepare  # noqa: E402
from bot import texts  # noqa: E402
from bot.kakao.skill import ANSWER_DEADLINE_SECONDS, SkillResponse  # noqa: E402
from tests.support.kakao_client import skill_request  # noqa: E402

SECRET = "kakao-bench-secret"
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/kakao/skill")


def start_server(db: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`helpdesk kakao` on a free port; return the process and the port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "kakao", "--port", "0", "--secret", SECRET]
            + ["--db", str(db)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=out,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = LISTENING.findall(log.read_text("utf-8", "replace"))
        if found:
            return proc, int(found[-1])
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text('utf-8', 'replace')}")
        time.sleep(0.05)
    raise SystemExit("the server did not start")


class Customer:
    """One KakaoTalk user on one keep-alive connection: sends utterances, times each answer.

    A bare HTTP/1.1 client on asyncio streams: with 200 customers in one process a full HTTP
    client library costs enough CPU (on the same two cores as the server) to show up in the
    figures as server latency.
    """

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.last = ""
        self.raw = b""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def say(self, utterance: str) -> tuple[float, str]:
        """Send a message; return the seconds the answer took and its text."""
        body = json.dumps(skill_request(utterance, self.key), ensure_ascii=False).encode()
        head = (
            f"POST /kakao/skill HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Skill-Secret: {SECRET}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        started = time.perf_counter()
        self._writer.write(head + body)
        status = await self._reader.readline()
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self._reader.readexactly(length)
        seconds = time.perf_counter() - started
        if b" 200 " not in status:
            raise RuntimeError(f"{status!r} {data!r}")
        outputs = json.loads(data)["template"]["outputs"]
        self.last = "\n".join(o["simpleText"]["text"] for o in outputs if "simpleText" in o)
        self.raw = data
        return seconds, self.last

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()


async def play(customer: Customer, code: str, service: str) -> list[float]:
    """The 8-turn script; return the answer times."""
    times = []
    for index, (_, value) in enumerate(customer_script(code, service)):
        # Kakao has no /start deep link: the customer pastes the code.
        seconds, _ = await customer.say(code if index == 0 else value)
        times.append(seconds)
    assert "신청 번호" in customer.last, customer.last
    SkillResponse.model_validate_json(customer.raw)  # every documented limit holds
    return times


def hold_lock(db: Path, seconds: float, held: threading.Event) -> None:
    """Hold the database's write lock for `seconds`, as a long import or a backup would."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def report(name: str, times: list[float]) -> None:
    """One line of figures."""
    print(
        f"{name:<30} {len(times):>7} {percentile(times, 50) * 1000:>9.1f}"
        f" {percentile(times, 99) * 1000:>9.1f} {max(times) * 1000:>9.1f}"
    )


async def main_async(n: int, lock_seconds: float) -> int:
    """Run both phases; return the exit code."""
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-kakao-"))
    db = workdir / "bench.db"
    codes = await prepare(db, n)
    proc, port = start_server(db, workdir / "kakao.log")
    failures: list[str] = []
    customers = [Customer(port, f"bench-{i:04d}") for i in range(n)]
    solo = Customer(port, "bench-solo")
    try:
        started = time.perf_counter()
        pairs = enumerate(zip(customers, codes, strict=True))
        runs = await asyncio.gather(*(play(c, code, f"LD-{i:04d}") for i, (c, code) in pairs))
        wall = time.perf_counter() - started
        flow = [t for run in runs for t in run]
        alone = [(await solo.say(QUESTION))[0] for _ in range(200)]

        held = threading.Event()
        locker = threading.Thread(target=hold_lock, args=(db, lock_seconds, held))
        locker.start()
        held.wait()
        locked = await asyncio.gather(*(c.say(QUESTION) for c in customers))
        locker.join()
        after = await asyncio.gather(*(c.say(texts.KAKAO_BTN_RESULT) for c in customers))
    finally:
        for customer in [*customers, solo]:
            await customer.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    holds = sum(texts.KAKAO_HOLD_ON in text for _, text in locked)
    missing = sum(
        "SMS를 사용(발송)하지 않으셨다면" not in text
        for (_, held_text), (_, text) in zip(locked, after, strict=True)
        if texts.KAKAO_HOLD_ON in held_text
    )

    print(f"kakao skill: {n} customers at once, 8 turns each, one SQLite file")
    print(f"{'':<30} {'answers':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    report("refund script (concurrent)", flow)
    report("one customer alone", alone)
    report(f"db locked {lock_seconds:.0f} s (concurrent)", [t for t, _ in locked])
    report("next message after the lock", [t for t, _ in after])
    print(f"turns/s (refund script): {len(flow) / wall:.0f}")
    print(f"held answers (잠시만요) while locked: {holds} of {n}; results missing next: {missing}")
    slowest = max(flow + alone + [t for t, _ in locked] + [t for t, _ in after])
    if slowest >= ANSWER_DEADLINE_SECONDS:
        failures.append(f"an answer took {slowest:.2f} s (limit {ANSWER_DEADLINE_SECONDS} s)")
    if missing:
        failures.append(f"{missing} held results did not come with the next message")
    with sqlite3.connect(db) as conn:
        filed = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM refund_requests"
        ).fetchone()
    print(f"requests filed: {filed[0]} of {n} expected; customers with one: {filed[1]}")
    if tuple(filed) != (n, n):
        failures.append("not every customer filed exactly one request")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--lock-seconds", type=float, default=8.0)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(args.customers, args.lock_seconds)))


if __name__ == "__main__":
    main()
