"""`helpdesk kakao`: the skill endpoint `POST /kakao/skill` on tornado.

Why tornado: it is already installed (python-telegram-bot's webhook extra runs on it), it is
typed, and it gives every protection this endpoint needs without extra code — a handler that
streams its body runs `prepare` after the headers and *before* the body is read, so a request
without the right `X-Skill-Secret` is refused with 403 and its body is never read; a
`Content-Length` over 64 KiB is refused with 413 up front (a chunked body over it is cut off);
`idle_connection_timeout` and `body_timeout` close connections whose headers or body dribble in.

The server binds to 127.0.0.1 by default: Open Builder only calls https URLs, so a TLS proxy
(nginx, a load balancer) fronts it and forwards `/kakao/skill`. Malformed or non-JSON requests
get 400 with a short JSON reason, never 500; a failure while answering still gets a valid skill
response (the apology), because Kakao shows the customer an error for anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr, ValidationError
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler, stream_request_body

from bot.app import open_app
from bot.dialogue import Reply
from bot.kakao.channel import CHAT_PREFIX, KakaoChannel, TurnHandler
from bot.kakao.skill import SkillRequest
from bot.maintenance import prune_daily
from bot.notify import OutboxDeliverer, PullOutbox
from bot.settings import Settings
from core.usecases import Helpdesk

log = logging.getLogger(__name__)

SKILL_PATH = "/kakao/skill"
SECRET_HEADER = "X-Skill-Secret"
MAX_BODY_BYTES = 64 * 1024  # a skill request is a few KB; Kakao caps an utterance far below
MAX_HEADER_BYTES = 16 * 1024
STOP_SECONDS = 10.0
PUSH_INTERVAL_SECONDS = 2.0

Send = Callable[[str, Reply], Awaitable[None]]


class _JsonErrors(RequestHandler):
    """Errors as a short JSON object, never an HTML page or a traceback."""

    error_note = ""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write `{"error": what was wrong}` (the HTTPError's message, else the reason)."""
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": self.error_note or self._reason}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """A refusal is noted on the access log line; anything else is logged with its trace."""
        if isinstance(value, HTTPError):
            if value.log_message:
                note = value.log_message % value.args if value.args else value.log_message
                self.error_note = note
            return
        super().log_exception(typ, value, tb)

    def compute_etag(self) -> None:
        """Answers are never cached."""
        return None


class NotFound(_JsonErrors):
    """Any path but the skill's."""

    def prepare(self) -> None:
        """404 for everything."""
        raise HTTPError(404)


@stream_request_body
class SkillHandler(_JsonErrors):
    """`POST /kakao/skill`: the secret before the body, a bounded body, a skill response."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: KakaoApp) -> None:
        """Per request: the app this endpoint serves."""
        self.app = app
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        """Refuse before the body is read: no secret (403), a declared body too large (413)."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8"), self.app.secret.encode("utf-8")):
            raise HTTPError(403, "missing or wrong %s header", SECRET_HEADER)
        declared = self.request.headers.get("Content-Length")
        if declared is not None and not (declared.isascii() and declared.isdigit()):
            raise HTTPError(400, "bad Content-Length")
        if declared is not None and int(declared) > MAX_BODY_BYTES:
            raise HTTPError(413, "body over %d bytes", MAX_BODY_BYTES)
        self.app.enter()
        self._counted = True

    def data_received(self, chunk: bytes) -> None:
        """Collect the body, at most MAX_BODY_BYTES of it (tornado cuts a longer one off)."""
        self._size += len(chunk)
        if self._size <= MAX_BODY_BYTES:
            self._chunks.append(chunk)

    async def post(self) -> None:
        """Parse the skill request, answer it, then record whether the answer went out."""
        self._posting = True
        try:
            await self._answer()
        finally:
            self._count_out()

    async def _answer(self) -> None:
        if self._size > MAX_BODY_BYTES:
            raise HTTPError(413, "body over %d bytes", MAX_BODY_BYTES)
        try:
            request = SkillRequest.model_validate_json(b"".join(self._chunks))
        except ValidationError as exc:
            # Field names and our own messages only, never input: the body holds utterances
            # (link codes) and user keys.
            fields = sorted(_problem(e) for e in exc.errors(include_input=False))
            raise HTTPError(400, "malformed skill request: %s", ", ".join(fields)) from None
        outcome = await self.app.channel.respond(request, spent=self.request.request_time())
        self.set_header("Content-Type", "application/json; charset=utf-8")
        try:
            await self.finish(outcome.response.to_json())
            written = True
        except StreamClosedError:
            written = False
        await self.app.channel.written(outcome, written)

    def on_connection_close(self) -> None:
        """The client went away (or was cut off as too slow) before the answer was written."""
        self.client_gone = True
        super().on_connection_close()
        if not getattr(self, "_posting", False):
            self._count_out()  # the body never came: post will not run

    def _count_out(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self.app.leave()


def _problem(error: Any) -> str:
    """Where a skill request is malformed: the field, or our validator's own words."""
    where = ".".join(str(p) for p in error["loc"])
    if where:
        return where
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return "body"


class KakaoApp:
    """The skill endpoint around one engine: HTTP server, channel and notification delivery."""

    def __init__(
        self,
        channel: KakaoChannel,
        secret: str,
        client_timeout: float,
        pusher: OutboxDeliverer | None = None,
    ) -> None:
        self.channel = channel
        self.secret = secret
        self.client_timeout = client_timeout
        self.pusher = pusher
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.application = Application(
            [(SKILL_PATH, SkillHandler, {"app": self})],
            default_handler_class=NotFound,
            log_function=_log_request,
        )
        self._server: HTTPServer | None = None
        self._push_task: asyncio.Task[None] | None = None
        self._push_stop = asyncio.Event()

    def enter(self) -> None:
        """A request is being answered."""
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        """A request has been answered (or its client went away)."""
        self.in_flight -= 1
        if self.in_flight <= 0:
            self._idle.set()

    async def start(self, listen: str, port: int) -> int:
        """Listen on `listen:port` (0 picks a free port); return the port."""
        sockets = bind_sockets(port, listen)
        self._server = HTTPServer(
            self.application,
            idle_connection_timeout=self.client_timeout,
            body_timeout=self.client_timeout,
            max_body_size=MAX_BODY_BYTES,
            max_header_size=MAX_HEADER_BYTES,
        )
        self._server.add_sockets(sockets)
        if self.pusher is not None:
            self._push_task = asyncio.create_task(self._push_loop(self.pusher))
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting, let answers in progress go out, then let running turns finish."""
        if self._server is None:
            return
        self._server.stop()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + STOP_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), STOP_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.channel.drain(), max(0.1, give_up - loop.time()))
        self._push_stop.set()
        if self._push_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._push_task), STOP_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.close_all_connections(), 1.0)
        self._server = None

    async def _push_loop(self, pusher: OutboxDeliverer) -> None:
        while not self._push_stop.is_set():
            try:
                await pusher.deliver_due(self._push_stop)
            except Exception:
                log.exception("outbox delivery round failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._push_stop.wait(), PUSH_INTERVAL_SECONDS)


def _log_request(handler: RequestHandler) -> None:
    """The access log line; a client that went away is no server error."""
    status = handler.get_status()
    gone = getattr(handler, "client_gone", False)
    note = getattr(handler, "error_note", "")
    level = logging.INFO if status < 400 else logging.WARNING
    if status >= 500 and not gone:
        level = logging.ERROR
    request = handler.request
    log.log(
        level,
        "%d %s %s %.1fms%s",
        status,
        request.method,
        request.path,  # never the query or the headers: nothing secret is logged
        1000.0 * request.request_time(),
        (f": {note}" if note else "")
        + (" (client went away)" if gone else ""),
    )


def build_kakao_app(
    settings: Settings, engine: TurnHandler, helpdesk: Helpdesk, *, push: Send | None = None
) -> KakaoApp:
    """The Kakao channel around `engine` (the composition root passes it in).

    Notifications are pulled onto the customer's next answer; pass `push` (a sender through
    Kakao's Event API or AlimTalk, given a `kakao:` chat id and the message) to deliver them as
    soon as they are written instead.
    """
    secret = settings.kakao_secret.get_secret_value() if settings.kakao_secret else ""
    if not secret:
        raise ValueError("the Kakao skill needs a secret (HELPDESK_KAKAO_SECRET or --secret)")
    channel = KakaoChannel(
        engine,
        None if push is not None else PullOutbox(helpdesk),
        answer_within=settings.kakao_answer_seconds,
    )
    pusher = OutboxDeliverer(helpdesk, CHAT_PREFIX, push) if push is not None else None
    return KakaoApp(channel, secret, settings.kakao_client_timeout_seconds, pusher)


# `helpdesk kakao` -------------------------------------------------------------------------------


def run_kakao(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point of `helpdesk kakao`."""
    if args.secret:
        settings = settings.model_copy(update={"kakao_secret": SecretStr(args.secret)})
    if not settings.kakao_secret or not settings.kakao_secret.get_secret_value():
        print(
            "error: set the skill secret with HELPDESK_KAKAO_SECRET or --secret (the value of "
            f"the {SECRET_HEADER} header configured for the skill in Open Builder)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(_serve(settings, args.listen, args.port))


async def _serve(settings: Settings, listen: str, port: int) -> int:
    parts = await open_app(settings, channel="kakao")
    try:
        app = build_kakao_app(settings, parts.engine, parts.helpdesk)
        bound = await app.start(listen, port)
        log.info("kakao skill listening on http://%s:%d%s", listen, bound, SKILL_PATH)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        housekeeping = asyncio.create_task(
            prune_daily(parts.helpdesk, settings.retain_days, stop)
        )
        await stop.wait()
        log.info("stopping: finishing answers in progress")
        housekeeping.cancel()
        await app.stop()
    finally:
        await parts.close()
    return 0
