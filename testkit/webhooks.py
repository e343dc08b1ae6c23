"""Telegram's side of webhook delivery, in front of one or several `helpdesk run --webhook-url`
workers: the stand-in Bot API's updates are POSTed to the workers (as a load balancer would
spread them), and an update that is not answered 200 is sent again to the next worker, as
Telegram sends an unacknowledged update again.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from testkit.botapi import FakeBotAPI
from testkit.process import run_argv

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC_URL = "https://bot.example.test/telegram"  # a TLS proxy would forward /telegram to us
PATH = "/telegram"


@dataclass
class Delivery:
    """How one update reached the workers: every worker tried, and who answered 200."""

    update_id: int
    tried: list[int] = field(default_factory=list)
    acknowledged_by: int | None = None

    @property
    def retried(self) -> bool:
        """Whether a worker failed to answer it first (died, refused the connection…)."""
        return len(self.tried) > 1


class WebhookPoster:
    """POSTs updates taken from the stand-in Bot API to workers; retries on the next worker."""

    def __init__(
        self,
        api: FakeBotAPI,
        ports: list[int],
        secret: str,
        *,
        timeout: float = 90.0,
        max_connections: int = 40,
    ) -> None:
        self.api = api
        self.urls = [f"http://127.0.0.1:{port}{PATH}" for port in ports]
        # Telegram opens at most setWebhook's max_connections (40 unless told) to a webhook.
        self._slots = [asyncio.Semaphore(max_connections) for _ in ports]
        self.secret = secret
        self.timeout = timeout
        self.delivered: list[Delivery] = []
        """Every acknowledged delivery, in the order the acknowledgements came."""
        self.after_each: Callable[[Delivery], None] | None = None
        """Called after each acknowledgement (a test kills a worker from here)."""
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        """Open the HTTP client (no proxies: the workers are on 127.0.0.1)."""
        self._client = httpx.AsyncClient(
            trust_env=False, limits=httpx.Limits(max_connections=400, max_keepalive_connections=0)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()

    async def deliver(self, update_id: int, first: int = 0, attempts: int = 8) -> Delivery:
        """POST the queued update `update_id` to worker `first`, then to the next ones until one
        answers 200; raise when none does."""
        assert self._client is not None, "use `async with WebhookPoster(...)`"
        update = self.api.take_update(update_id)
        body = json.dumps(update).encode()
        headers = {SECRET_HEADER: self.secret, "Content-Type": "application/json"}
        delivery = Delivery(update_id)
        for attempt in range(attempts):
            index = (first + attempt) % len(self.urls)
            delivery.tried.append(index)
            try:
                async with self._slots[index]:
                    response = await self._client.post(
                        self.urls[index], content=body, headers=headers, timeout=self.timeout
                    )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 200:
                delivery.acknowledged_by = index
                self.delivered.append(delivery)
                if self.after_each is not None:
                    self.after_each(delivery)
                return delivery
            await asyncio.sleep(0.05 * (attempt + 1))  # Telegram waits before sending again
        raise RuntimeError(f"update {update_id} was acknowledged by no worker: {delivery.tried}")


def start_worker(
    api: FakeBotAPI, env: dict[str, str], port: int, secret: str | None, log: Path
) -> subprocess.Popen[bytes]:
    """Start `helpdesk run --webhook-url …` serving on 127.0.0.1:`port` (with `secret` as its
    --secret-token, or else the one the workers share through their database)."""
    extra = ("--secret-token", secret) if secret is not None else ()
    with log.open("wb") as handle:
        return subprocess.Popen(
            run_argv(api, "--webhook-url", PUBLIC_URL, "--port", str(port), *extra),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )


def health(port: int) -> int | None:
    """The status of GET /healthz on a worker, or None when nothing answers."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5, trust_env=False).status_code
    except httpx.TransportError:
        return None


def wait_healthy(
    processes: list[subprocess.Popen[bytes]], ports: list[int], timeout: float = 60.0
) -> None:
    """Block until every worker answers GET /healthz with 200."""
    deadline = time.monotonic() + timeout
    for process, port in zip(processes, ports, strict=True):
        while health(port) != 200:
            if process.poll() is not None:
                raise RuntimeError(f"the worker on port {port} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker on port {port} did not become healthy")
            time.sleep(0.1)
