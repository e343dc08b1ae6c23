"""The webhook server of `helpdesk run --webhook-url`: Telegram's update POSTs, defended.

It replaces python-telegram-bot's own webhook server, which buffers a whole body before it looks
at the secret token (four unauthenticated 95 MB posts took the process from 72 MB to 614 MB),
keeps connections that never finish their headers open (300 of 300 after 40 s, until legitimate
posts timed out) and answers malformed JSON with 500. It is built on the same tornado server,
with these limits:

- the secret token is compared (in constant time) from the headers, before any of the body is
  read: a wrong or missing one gets 403 and the connection is closed;
- a body over `WebhookLimits.max_body_bytes` (1 MiB; an update is a few KiB) gets 413 from its
  Content-Length before it is read, and a chunked one is cut off at the limit;
- headers must arrive within `header_timeout`, a body within `body_timeout`; an idle keep-alive
  connection is closed after `header_timeout` too;
- at most `max_connections` connections are open; a connection over the cap is closed at once;
- a body that is not an update Telegram could have sent — not JSON, not an object, nested deeper
  than `max_depth`, not an Update — gets 400.

The update goes to the application's update queue, as PTB does it, and the answer is 200 with
an empty body — in `helpdesk run` only once the update has been processed (`Acknowledgements`):
its turn stored and its replies sent. Telegram sends an update again, to whichever worker the
load balancer picks, until it gets a 200, so a worker killed mid-update loses nothing it had
acknowledged. On shutdown the server stops accepting, lets updates in progress finish and
answer, and only then closes its connections.

`GET /healthz` (no secret, no body) answers 200 when a trivial database query succeeds and 503
otherwise, for the load balancer in front of several workers.

The server speaks plain HTTP and `helpdesk run` binds it to 127.0.0.1 by default: a TLS-
terminating reverse proxy on the same host must front it (Telegram only calls https URLs).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot, Updater
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"

# Runs a Bot API call (the argument) named by the string, retrying as the channel does.
CallRunner = Callable[[Callable[[], Awaitable[Any]], str], Awaitable[Any]]
# Whether the worker can serve (its database answers), for GET /healthz.
HealthCheck = Callable[[], Awaitable[bool]]


async def _call_once(make_call: Callable[[], Awaitable[Any]], what: str) -> Any:
    return await make_call()


@dataclass(frozen=True)
class WebhookLimits:
    """What one client may cost the webhook server."""

    max_body_bytes: int = 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 100
    max_depth: int = 32
    drain_timeout: float = 60.0
    """On shutdown, how long updates in progress may take to finish and be answered."""


class Acknowledgements:
    """Webhook POSTs waiting for their update to be processed, so that 200 means done.

    The update processor reports each update when it is finished with it (handled, refused by
    the flood guard, or failed and apologised for); the POST that brought it is answered then.
    The same update posted again while it is still being processed here is not queued twice.
    """

    def __init__(self) -> None:
        self._pending: dict[int, asyncio.Future[None]] = {}

    def expect(self, update_id: int) -> tuple[asyncio.Future[None], bool]:
        """The future that completes when `update_id` is processed, and whether it is new."""
        pending = self._pending.get(update_id)
        if pending is not None:
            return pending, False
        pending = asyncio.get_running_loop().create_future()
        self._pending[update_id] = pending
        return pending, True

    def done(self, update: object) -> None:
        """An update has been processed: answer the POST that brought it."""
        update_id = getattr(update, "update_id", None)
        pending = self._pending.pop(update_id, None) if isinstance(update_id, int) else None
        if pending is not None and not pending.done():
            pending.set_result(None)

    async def drained(self, within: float) -> None:
        """Wait until no update is in progress, or for `within` seconds."""
        if self._pending:
            await asyncio.wait(list(self._pending.values()), timeout=within)

    def __len__(self) -> int:
        """How many updates are being processed."""
        return len(self._pending)


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON data nests more than `limit` objects/arrays deep (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """One POST from Telegram: secret first, then a bounded body, then the update queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret_token: str,
        limits: WebhookLimits,
        acks: Acknowledgements | None,
    ) -> None:
        """Per request: what tornado passes from the route."""
        self.bot = bot
        self.update_queue = update_queue
        self.secret_token = secret_token.encode()
        self.limits = limits
        self.acks = acks
        self.chunks: list[bytes] = []

    def prepare(self) -> None:
        """Refuse before the body is read: a wrong secret (403) or a declared size too big (413)."""
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret_token):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        length = self.request.headers.get("Content-Length")
        if length is not None:
            if not length.isdigit():
                raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
            if int(length) > self.limits.max_body_bytes:
                raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        # A chunked body has no declared size: tornado cuts it off at the limit.
        self.request.connection.set_max_body_size(self.limits.max_body_bytes)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        """Collect the (bounded) body."""
        self.chunks.append(chunk)

    async def post(self) -> None:
        """Queue the update, or refuse what Telegram would never send with 400."""
        content_type = self.request.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if content_type.lower() != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        try:
            data = json.loads(b"".join(self.chunks))
        except (ValueError, RecursionError) as exc:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        if not isinstance(data, dict) or nested_deeper_than(data, self.limits.max_depth):
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            # Valid JSON that is no Update. Not logged with its body (PTB's handler does, at
            # CRITICAL): a body can hold anything, account numbers included.
            log.warning("webhook: refused a POST that is not an update (%s)", type(exc).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)  # as PTB's handler does
        if self.acks is None:
            await self.update_queue.put(update)
            return
        processed, new = self.acks.expect(update.update_id)
        if new:
            await self.update_queue.put(update)
        await processed  # 200 only once the update's turn is stored and answered

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer a refusal with the status alone (no page that echoes anything)."""
        self.finish()


@tornado.web.stream_request_body
class _HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 when the worker's database answers, 503 when it does not."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, health: HealthCheck) -> None:
        """Per request: the check to run."""
        self.health = health

    def prepare(self) -> None:
        """A health check carries no body: one that declares one is refused unread."""
        headers = self.request.headers
        if headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in headers:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)

    def data_received(self, chunk: bytes) -> None:
        """Never called: a body was refused in prepare()."""

    async def get(self) -> None:
        """Run the check and answer with its outcome."""
        healthy = await self.health()
        self.set_status(HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish("ok\n" if healthy else "database unavailable\n")

    async def head(self) -> None:
        """As GET, without the body."""
        healthy = await self.health()
        self.set_status(HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer a refusal with the status alone."""
        self.finish()


class _CappedHTTPServer(HTTPServer):
    """tornado's HTTP server, closing connections beyond a cap at once."""

    def initialize(self, *args: Any, max_connections: int, **kwargs: Any) -> None:  # type: ignore[override]
        """tornado's settings plus the connection cap."""
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.open_connections = 0

    def handle_stream(self, stream: IOStream, address: tuple[str, int]) -> None:
        """Serve the connection, unless the cap is reached."""
        if self.open_connections >= self.max_connections:
            stream.close()
            return
        self.open_connections += 1
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        """A served connection closed: its slot is free."""
        self.open_connections -= 1
        super().on_close(server_conn)  # type: ignore[arg-type]


class WebhookServer:
    """Serves Telegram's webhook POSTs at `path`, feeding the application's update queue."""

    def __init__(
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        path: str,
        secret_token: str,
        limits: WebhookLimits | None = None,
        *,
        acks: Acknowledgements | None = None,
        health: HealthCheck | None = None,
    ) -> None:
        if not secret_token:
            raise ValueError("the webhook server needs a secret token")
        self.limits = limits or WebhookLimits()
        self.acks = acks
        route = "/" + path.strip("/")
        routes: list[Any] = []
        if health is not None:
            routes.append((HEALTH_PATH, _HealthHandler, {"health": health}))
        routes.append(
            (
                rf"{route}/?" if route != "/" else r"/",
                _UpdateHandler,
                {
                    "bot": bot,
                    "update_queue": update_queue,
                    "secret_token": secret_token,
                    "limits": self.limits,
                    "acks": acks,
                },
            )
        )
        app = tornado.web.Application(
            routes,
            # Every update would be an INFO line otherwise (PTB silences it the same way).
            log_function=lambda handler: None,
        )
        self._http = _CappedHTTPServer(
            app,
            max_connections=self.limits.max_connections,
            idle_connection_timeout=self.limits.header_timeout,
            body_timeout=self.limits.body_timeout,
            max_body_size=self.limits.max_body_bytes,
            max_buffer_size=self.limits.max_body_bytes + 64 * 1024,
        )
        self.port: int | None = None

    async def start(self, listen: str, port: int) -> None:
        """Bind `listen`:`port` (0 picks a free port, see `self.port`) and serve."""
        sockets = bind_sockets(port, address=listen)
        self.port = int(sockets[0].getsockname()[1])
        self._http.add_sockets(sockets)
        log.info("webhook server listening on %s:%s", listen, self.port)

    async def stop(self) -> None:
        """Stop accepting, let updates in progress be answered, then close every connection."""
        self._http.stop()
        if self.acks is not None and len(self.acks):
            log.info("webhook: waiting for %d update(s) in progress", len(self.acks))
            await self.acks.drained(self.limits.drain_timeout)
        await self._http.close_all_connections()


class HelpdeskUpdater(Updater):
    """PTB's Updater with its webhook server replaced by `WebhookServer`; polling unchanged.

    `Application.run_webhook` calls `start_webhook` and, on shutdown, `stop`, as with PTB's own,
    so the application's lifecycle (signals, post_init/post_stop, draining updates) is PTB's.
    """

    def __init__(
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        limits: WebhookLimits | None = None,
        run_call: CallRunner = _call_once,
        *,
        acks: Acknowledgements | None = None,
        health: HealthCheck | None = None,
        shared_secret: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        super().__init__(bot, update_queue)
        self.limits = limits or WebhookLimits()
        self.run_call = run_call  # how setWebhook is retried
        self.acks = acks  # answer each POST once its update is processed
        self.health = health  # GET /healthz
        # The secret token when none is given: the same for every worker on the database.
        self.shared_secret = shared_secret
        self._webhook: WebhookServer | None = None

    @property
    def running(self) -> bool:
        """Whether polling or the webhook server is running."""
        return self._webhook is not None or super().running

    async def start_webhook(  # type: ignore[override]
        self,
        listen: str = "127.0.0.1",
        port: int = 8443,
        url_path: str = "",
        cert: object = None,
        key: object = None,
        bootstrap_retries: int = 0,
        webhook_url: str | None = None,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: object = None,
    ) -> asyncio.Queue[object]:
        """Serve the webhook, then tell Telegram where it is (with the secret token)."""
        if cert is not None or key is not None or unix is not None:
            raise ValueError("TLS and unix sockets belong to the reverse proxy in front")
        if not secret_token and self.shared_secret is not None:
            secret_token = await self.shared_secret()
        if not webhook_url or not secret_token:
            raise ValueError("the webhook needs its public URL and a secret token")
        if self.running:
            raise RuntimeError("this updater is already running")
        server = WebhookServer(
            self.bot,
            self.update_queue,
            url_path,
            secret_token,
            self.limits,
            acks=self.acks,
            health=self.health,
        )
        # Listening before setWebhook: Telegram may post as soon as it knows the URL.
        await server.start(listen, port)
        try:
            await self.run_call(
                lambda: self.bot.set_webhook(
                    url=webhook_url,
                    allowed_updates=allowed_updates,
                    drop_pending_updates=drop_pending_updates,
                    ip_address=ip_address,
                    max_connections=min(max_connections, self.limits.max_connections),
                    secret_token=secret_token,
                ),
                "setWebhook",
            )
        except BaseException:
            await server.stop()
            raise
        self._webhook = server
        return self.update_queue

    async def stop(self) -> None:
        """Stop the webhook server, or polling."""
        if self._webhook is not None:
            server, self._webhook = self._webhook, None
            await server.stop()
            return
        await super().stop()
