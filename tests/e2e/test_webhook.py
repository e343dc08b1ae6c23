"""`helpdesk run --webhook-url …`: the bot registers its webhook with a secret token and serves
the updates POSTed to it — and an unauthenticated, oversized, slow or malformed POST costs it
nothing (the red-team findings against PTB's own webhook server)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from telegram import Bot, Update

from bot.webhook import SECRET_HEADER, Acknowledgements, WebhookLimits, WebhookServer
from testkit.botapi import FakeBotAPI
from testkit.process import helpdesk_env, run_argv

TOKEN = "555:WEBHOOK-test-token"
SECRET = "s3cret-Token"
PUBLIC_URL = "https://bot.example.test/hook/telegram"  # a TLS proxy forwards the path to us
PATH = "/hook/telegram"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def text_update(update_id: int, chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "웹훅"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "웹훅"},
            "from": user,
            "text": text,
        },
    }


def nested_inside_an_update(depth: int) -> dict:
    """A text update PTB would accept, carrying an extra field nested `depth` arrays deep."""
    update = text_update(9, 4243, "/help")
    value: object = 1
    for _ in range(depth):
        value = [value]
    update["message"]["extra"] = value
    return update


def post(url: str, body: bytes, secret: str | None, content_type: str = "application/json") -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    if secret is not None:
        request.add_header(SECRET_HEADER, secret)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def answer_to_headers_only(port: int, headers: str, timeout: float = 3.0) -> bytes:
    """Send a request's headers (no body) and return what the server answers meanwhile."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(headers.encode())
        try:
            return sock.recv(1024)
        except TimeoutError:
            return b"(no answer: the server is waiting for the body)"


@dataclass
class WebhookBot:
    """`helpdesk run` in webhook mode against the stand-in Bot API."""

    api: FakeBotAPI
    port: int
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"


@pytest.fixture(scope="module")
def webhook_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookBot]:
    """The bot serving a webhook on the default address (no --listen), once per module."""
    port = free_port()
    env = helpdesk_env(TOKEN, db=str(tmp_path_factory.mktemp("webhook") / "w.db"))
    argv = [*("--webhook-url", PUBLIC_URL, "--port", str(port), "--secret-token", SECRET)]
    with FakeBotAPI(token=TOKEN) as api:
        process = subprocess.Popen(run_argv(api, *argv), env=env, stderr=subprocess.PIPE, text=True)
        try:
            api.wait_for_call_sync("setWebhook", timeout=20)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # setWebhook comes once the server listens
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield WebhookBot(api, port, process)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert TOKEN not in stderr and SECRET not in stderr
        assert "Traceback" not in stderr, stderr


def test_webhook_mode_serves_updates_with_the_secret_and_refuses_others(webhook_bot: WebhookBot):
    api = webhook_bot.api
    [call] = api.calls("setWebhook")
    assert call.params["url"] == PUBLIC_URL and call.params["secret_token"] == SECRET

    body = json.dumps(text_update(1, 4242, "/help")).encode()
    assert post(webhook_bot.url, body, SECRET) == 200
    reply = api.wait_for_message_sync(4242, "이렇게 도와드려요", timeout=20)
    assert reply["text"].startswith("이렇게 도와드려요")
    assert post(webhook_bot.url, json.dumps(text_update(2, 4242, "/help")).encode(), "wrong") == 403
    assert post(webhook_bot.url, json.dumps(text_update(3, 4242, "/help")).encode(), None) == 403
    time.sleep(0.3)
    assert len(api.messages(4242)) == 1  # the refused posts were not processed


def test_the_secret_is_checked_before_a_body_is_read(webhook_bot: WebhookBot):
    # A 95 MB post without the secret is refused from its headers: nothing is buffered.
    answer = answer_to_headers_only(
        webhook_bot.port,
        f"POST {PATH} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Length: {95 * 1024 * 1024}\r\n{SECRET_HEADER}: guess\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 403"), answer


def test_a_body_over_a_megabyte_is_refused_before_it_is_read(webhook_bot: WebhookBot):
    answer = answer_to_headers_only(
        webhook_bot.port,
        f"POST {PATH} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Length: {2 * 1024 * 1024}\r\n{SECRET_HEADER}: {SECRET}\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json at all", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),  # nested past any parser
        (json.dumps(nested_inside_an_update(40)).encode(), "application/json"),
        (b'[{"update_id": 9}]', "application/json"),
        (json.dumps(text_update(9, 4243, "/help")).encode(), "text/plain"),
    ],
    ids=["not-json", "deeply-nested", "nested-in-an-update", "array", "not-json-type"],
)
def test_bodies_telegram_would_never_send_get_400_not_500(
    webhook_bot: WebhookBot, body: bytes, content_type: str
):
    assert post(webhook_bot.url, body, SECRET, content_type) == 400
    assert webhook_bot.process.poll() is None
    assert webhook_bot.api.messages(4243) == []


# The server's limits in-process, small enough to watch them act -------------------------------

LIMITS = WebhookLimits(
    max_body_bytes=4096, header_timeout=0.5, body_timeout=0.5, max_connections=20
)


@pytest.fixture
async def server() -> AsyncIterator[tuple[WebhookServer, asyncio.Queue[object]]]:
    """A webhook server on a free loopback port with LIMITS, and its update queue."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    webhook = WebhookServer(Bot("555:in-process"), queue, PATH, SECRET, LIMITS)
    await webhook.start("127.0.0.1", 0)
    try:
        yield webhook, queue
    finally:
        await webhook.stop()


async def legitimate_post(port: int, update_id: int) -> int:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{port}{PATH}",
            json=text_update(update_id, 4244, "안녕하세요"),
            headers={SECRET_HEADER: SECRET},
            timeout=5,
        )
    return response.status_code


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the server closes the connection within `within` seconds."""
    try:
        return await asyncio.wait_for(reader.read(), within) == b""
    except (TimeoutError, ConnectionError):
        return False


async def test_connections_that_never_finish_their_headers_are_closed(server):
    webhook, queue = server
    slow = [await asyncio.open_connection("127.0.0.1", webhook.port) for _ in range(60)]
    for _, writer in slow:
        writer.write(f"POST {PATH} HTTP/1.1\r\nHost: bot\r\n".encode())  # never finished
    closed = await asyncio.gather(*(closed_by_server(r, 3.0) for r, _ in slow))
    assert all(closed)  # over the cap at once, the rest after the header timeout

    assert await legitimate_post(webhook.port, 1) == 200
    update = queue.get_nowait()
    assert isinstance(update, Update) and update.update_id == 1
    for _, writer in slow:
        writer.close()


async def test_connections_over_the_cap_are_closed_at_once(server):
    webhook, _ = server
    idle = [await asyncio.open_connection("127.0.0.1", webhook.port) for _ in range(20)]
    await asyncio.sleep(0.05)
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    assert await closed_by_server(reader, 0.3)  # well before the header timeout
    writer.close()
    for _, idle_writer in idle:
        idle_writer.close()
    await asyncio.sleep(0.1)
    assert await legitimate_post(webhook.port, 2) == 200  # their slots are free again


async def test_a_body_that_stalls_is_cut_off_and_nothing_is_queued(server):
    webhook, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    writer.write(
        f"POST {PATH} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f'Content-Length: 100\r\n{SECRET_HEADER}: {SECRET}\r\n\r\n{{"update_id"'.encode()
    )
    assert await closed_by_server(reader, 2.0)
    writer.close()
    assert queue.empty()


async def test_a_chunked_body_over_the_limit_is_not_taken(server):
    webhook, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    chunk = b"x" * 3000
    writer.write(
        f"POST {PATH} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\n{SECRET_HEADER}: {SECRET}\r\n\r\n".encode()
        + b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
        + b"0\r\n\r\n"
    )
    answer = await asyncio.wait_for(reader.read(), 3.0)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413"))
    writer.close()
    assert queue.empty()


def test_the_webhook_listens_on_loopback_unless_told_otherwise():
    # The server speaks plain HTTP: only a TLS proxy on the same host should reach it.
    from bot.cli import build_parser

    assert build_parser().parse_args(["run"]).listen == "127.0.0.1"


# Answering once the update is processed, and the health check -------------------------------


Acked = tuple[WebhookServer, asyncio.Queue[object], Acknowledgements, dict[str, bool]]


@pytest.fixture
async def acked_server() -> AsyncIterator[Acked]:
    """A webhook server that answers a POST only once its update has been processed, with a
    health check that says what `healthy["now"]` says."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    acks = Acknowledgements()
    healthy = {"now": True}

    async def health() -> bool:
        return healthy["now"]

    webhook = WebhookServer(
        Bot("555:in-process"), queue, PATH, SECRET, LIMITS, acks=acks, health=health
    )
    await webhook.start("127.0.0.1", 0)
    try:
        yield webhook, queue, acks, healthy
    finally:
        await webhook.stop()


async def test_a_post_is_answered_only_once_its_update_was_processed(acked_server):
    webhook, queue, acks, _ = acked_server
    post = asyncio.create_task(legitimate_post(webhook.port, 7))
    update = await asyncio.wait_for(queue.get(), 5)
    again = asyncio.create_task(legitimate_post(webhook.port, 7))  # Telegram sends it again
    await asyncio.sleep(0.2)
    assert not post.done() and not again.done()  # still being processed: no 200 yet
    assert queue.empty()  # the repeat is not processed a second time
    acks.done(update)
    assert await post == 200 and await again == 200


async def test_stopping_lets_updates_in_progress_finish_and_be_answered(acked_server):
    webhook, queue, acks, _ = acked_server
    post = asyncio.create_task(legitimate_post(webhook.port, 8))
    update = await asyncio.wait_for(queue.get(), 5)
    stopping = asyncio.create_task(webhook.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()
    acks.done(update)
    assert await post == 200
    await stopping


async def test_healthz_follows_the_database_and_needs_no_secret(acked_server):
    webhook, _, _, healthy = acked_server
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{webhook.port}/healthz"
        assert (await client.get(url)).status_code == 200
        healthy["now"] = False
        response = await client.get(url)
        assert response.status_code == 503 and "database" in response.text
        assert (await client.post(url, content=b"{}")).status_code in (404, 405)


async def test_healthz_refuses_a_body_without_reading_it(acked_server):
    webhook, _, _, _ = acked_server
    answer = await asyncio.to_thread(
        answer_to_headers_only,
        webhook.port,
        f"GET /healthz HTTP/1.1\r\nHost: bot\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer


def test_the_webhook_bot_answers_healthz(webhook_bot: WebhookBot):
    with urllib.request.urlopen(f"http://127.0.0.1:{webhook_bot.port}/healthz", timeout=10) as r:
        assert r.status == 200 and r.read() == b"ok\n"
