"""A stand-in Telegram Bot API server: what the helpdesk bot uses, plus fault injection.

It answers python-telegram-bot (PTB) over real HTTP on 127.0.0.1 (a ``ThreadingHTTPServer`` in a
background thread), so it serves an in-process ``Bot`` as well as `helpdesk run --base-url` in a
subprocess. It models only the methods in `FakeBotAPI._method_table` — the ones the helpdesk and
the benchmark's echo bot call — with the checks Telegram makes that the bot could trip over
(4,096 characters, 64-byte callback data, "message is not modified", answering a query twice).
Text is plain: a ``parse_mode`` is refused, so a bot that starts sending markup fails loudly here
rather than passing unchecked. A supergroup can be made a forum (`make_forum`) with members
(`add_member`): topics are created, closed and reopened as in Telegram (each leaves a service
message), messages carry their ``message_thread_id``, and ``getChatMember`` answers from the
member list. ``sendPhoto``/``sendDocument`` take a file id or a multipart upload, whose bytes
are kept (`file_bytes`). A method not in the table answers 404 like Telegram does for an
unknown method; adding one is a new ``_m_<name>`` handler and a line in the table.

Faults are queued per method (or ``"*"``) and consumed one per call:

- `fail_next`: answer with an error instead (429 with ``retry_after``, nginx's 502 page, or any
  JSON error) without handling the call;
- `delay_next`: handle the call, but only after holding it (the client may time out first and
  never learn the message was delivered);
- `drop_next`: hold the call, then close the connection without handling it (hang-then-drop:
  the client times out or sees a dropped connection, and nothing was delivered);
- `reset_after_next`: handle the call, then reset the connection instead of answering (the
  message was delivered, the client only sees a network error).

Typical use::

    with FakeBotAPI() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...
        api.push_text(1001, "환불 문의")
        reply = api.wait_for_message_sync(1001)

Test-side methods are thread-safe. `wait_for` polls with ``asyncio.sleep`` so it never blocks
the event loop PTB runs on; the ``*_sync`` variants block the calling thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["BotAPIError", "Call", "FakeBotAPI", "Upload"]

JSONDict = dict[str, Any]
T = TypeVar("T")
Handler = Callable[[JSONDict], Any]

_LOG = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64

# PTB sends every parameter form-encoded, nested values as JSON strings; these restore the types
# a JSON body would have had, so handlers see one shape.
_JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "commands", "scope"})
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "max_connections",
        "message_thread_id",
        "user_id",
        "icon_color",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset({"drop_pending_updates", "show_alert", "disable_notification"})

MAX_CAPTION_LENGTH = 1024
MAX_TOPIC_NAME_LENGTH = 128
# Telegram's six topic icon colours; createForumTopic refuses any other.
_TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)

# Telegram's default for getUpdates when allowed_updates was never given.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# The page nginx serves in front of api.telegram.org during incidents: PTB must cope with a
# non-JSON error body.
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")


class BotAPIError(Exception):
    """An error answered to the client as ``{"ok": false, ...}`` with an HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, description: str) -> BotAPIError:
        """A 400 error with Telegram's "Bad Request: " prefix."""
        return cls(400, f"Bad Request: {description}")


class Call(NamedTuple):
    """One request received by the server (rejected and fault-injected ones included)."""

    method: str
    params: JSONDict
    timestamp: float  # time.monotonic() at arrival; only differences are meaningful


@dataclass(frozen=True)
class _Fault:
    """What to do with one call instead of simply handling and answering it."""

    kind: str  # "error" | "delay" | "drop" | "reset"
    hold: float = 0.0
    status: int = 0
    retry_after: int | None = None
    description: str | None = None

    @property
    def handles(self) -> bool:
        """Whether the call is carried out (the message delivered) despite the fault."""
        return self.kind in ("delay", "reset")


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (what ``InputFile`` sends)."""

    filename: str
    content_type: str
    data: bytes


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JSONDict]:
    """The bot_command entities Telegram's server adds to an incoming message."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: m.start()]),
            "length": _utf16_len(m.group(0)),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def _coerce(name: str, value: Any) -> Any:
    """Give a form-encoded string the type a JSON body would have had."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_FIELDS:
            return json.loads(value)
        if name in _INT_FIELDS:
            return int(value)
        if name in _FLOAT_FIELDS:
            return float(value)
    except ValueError as exc:
        raise BotAPIError.bad_request(f"can't parse parameter {name}") from exc
    if name in _BOOL_FIELDS:
        return value.lower() == "true"
    return value


def _multipart(content_type: str, body: bytes) -> JSONDict:
    """The fields of a multipart/form-data body: text as str, file parts as `Upload`."""
    message = BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BotAPIError.bad_request("can't parse multipart body")
    fields: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8")
    return fields


def _decode_request(query: str, content_type: str, body: bytes) -> JSONDict:
    """Query string plus a JSON, urlencoded or multipart body, as typed params."""
    raw: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind == "multipart/form-data":
            raw.update(_multipart(content_type, body))
        elif kind == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise BotAPIError.bad_request("can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise BotAPIError.bad_request("can't parse JSON object")
            raw.update(decoded)
        else:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return {key: _coerce(key, value) for key, value in raw.items()}


def _json_response(status: int, payload: JSONDict) -> _Response:
    return _Response(
        status, "application/json", json.dumps(payload, ensure_ascii=False).encode("utf-8")
    )


def _error_response(error: BotAPIError) -> _Response:
    """An error envelope exactly like api.telegram.org's."""
    payload: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_response(error.status, payload)


def _fault_response(fault: _Fault) -> _Response:
    if fault.status == 502:
        return _Response(502, "text/html", _BAD_GATEWAY_HTML)
    if fault.status == 429:
        retry_after = fault.retry_after or 1
        return _error_response(
            BotAPIError(
                429,
                fault.description or f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        )
    return _error_response(BotAPIError(fault.status, fault.description or "Injected error"))


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads requests from a keep-alive connection and dispatches each one."""

    protocol_version = "HTTP/1.1"  # httpx keeps connections alive; 1.0 would close each one
    server: _Server

    def do_POST(self) -> None:
        """Every Bot API call PTB makes is a POST."""
        with self.server.answering():
            self._answer()

    def _answer(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            response = self.server.api._handle_http(
                self.path, self.headers.get("Content-Type", ""), body
            )
            if response is None:
                self._reset()
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:
            # The client gave up (timeout, cancelled long poll, or the server is stopping).
            self.close_connection = True

    def _reset(self) -> None:
        """Close the connection with a TCP reset instead of an answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the access log out of test output."""
        _LOG.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    """A thread per connection, all tracked so that stop() can close and join them."""

    daemon_threads = True
    # A burst of hundreds of clients (benchmarks/load.py) must queue, not be refused.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: FakeBotAPI):
        self.api = api
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._conn_threads: list[threading.Thread] = []
        self._busy = 0
        self._idle = threading.Condition()
        super().__init__(address, _Handler)

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Count a request being answered, so that stop() lets it finish first."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_answered(self, timeout: float) -> None:
        """Wait (at most `timeout`) until no request is half answered."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a tracked thread."""
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"fake-botapi-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
            self._conn_threads.append(thread)
            self._conns.add(request)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            _LOG.debug("connection from %s failed", client_address, exc_info=True)
        finally:
            with self._conn_lock:
                self._conns.discard(request)
            self.shutdown_request(request)

    def close_connections(self) -> None:
        """Shut every client socket down so that blocked readers return at once."""
        with self._conn_lock:
            sockets = list(self._conns)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_connections(self, timeout: float) -> list[threading.Thread]:
        """Wait for the connection threads; return those still alive."""
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            threads = list(self._conn_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t for t in threads if t.is_alive()]


# --------------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------------


class FakeBotAPI:
    """The Bot API methods the helpdesk uses, in memory, over HTTP on 127.0.0.1."""

    def __init__(
        self,
        token: str = "123:TEST",
        username: str = "helpdesk_test_bot",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        """Configure the server; nothing listens until start()."""
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.username = username
        self.bot_id = int(bot_id)
        self.host = host
        self.port = port

        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._methods = {name.lower(): (name, h) for name, h in self._method_table().items()}

        self._pending: list[JSONDict] = []
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: JSONDict | None = None
        self._chats: dict[int, JSONDict] = {}
        self._next_message_id: dict[int, int] = {}
        self._user_messages: set[tuple[int, int]] = set()
        self._bot_messages: dict[int, list[JSONDict]] = {}
        self._bot_index: dict[tuple[int, int], JSONDict] = {}
        self._callbacks: dict[str, JSONDict] = {}
        self._answered: list[JSONDict] = []
        self._commands: dict[str, list[JSONDict]] = {}
        self._blocked: set[int] = set()
        self._log: list[JSONDict] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._errors: list[str] = []
        self._listeners: list[Callable[[str, JSONDict, Any], None]] = []
        # Forums: the bot's rights there, members, topics, service messages and pins.
        self._forums: dict[int, JSONDict] = {}
        self._members: dict[int, dict[int, JSONDict]] = {}
        self._topics: dict[tuple[int, int], JSONDict] = {}
        self._service_messages: list[JSONDict] = []
        self._pinned: dict[int, list[int]] = {}
        self._files: dict[str, bytes] = {}
        self._file_ids = itertools.count(1)

    def _method_table(self) -> dict[str, Handler]:
        """Bot API method name -> handler; a handler runs with the lock held."""
        return {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "setMyCommands": self._m_set_my_commands,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "pinChatMessage": self._m_pin_chat_message,
            "createForumTopic": self._m_create_forum_topic,
            "closeForumTopic": self._m_close_forum_topic,
            "reopenForumTopic": self._m_reopen_forum_topic,
            "getChatMember": self._m_get_chat_member,
        }

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind the socket and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("FakeBotAPI is already running")
        self._stopping.clear()
        server = _Server((self.host, self.port), self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-botapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close every connection and join every server thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()  # wake long polls
        server.shutdown()
        # Woken long polls answer first; only then are the connections cut.
        server.wait_answered(min(timeout, 2.0))
        server.close_connections()
        server.server_close()
        thread.join(timeout)
        alive = server.join_connections(timeout)
        self._server = None
        self._thread = None
        if thread.is_alive() or alive:
            raise RuntimeError(f"FakeBotAPI threads did not stop: {[t.name for t in alive]}")

    def __enter__(self) -> Self:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a ``with`` block."""
        self.stop()

    async def __aenter__(self) -> Self:
        """Start on entering an ``async with`` block."""
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop without blocking the event loop."""
        await asyncio.to_thread(self.stop)

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The value for PTB's base_url (PTB appends the token)."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running; call start() first")
        return f"http://{self.host}:{self.port}/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Helpdesk Test Bot",
            "username": self.username,
        }

    # ---- test side: what users do ----------------------------------------------------------

    def push_text(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        *,
        message_thread_id: int | None = None,
    ) -> int:
        """Queue an incoming text message (commands get bot_command entities); its update id.

        In a forum, `message_thread_id` names the topic it is written in (None: General).
        """
        content: JSONDict = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        return self.push_message(
            chat_id,
            content,
            user_id=user_id,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
        )

    def push_command(self, chat_id: int, command: str, args: str = "") -> int:
        """Queue "/command args" as a Telegram client sends it."""
        head = "/" + command.lstrip("/")
        return self.push_text(chat_id, f"{head} {args}" if args else head)

    def push_document(self, chat_id: int, file_id: str, file_name: str, mime_type: str) -> int:
        """Queue an incoming document (the bot keeps its file id; nothing is downloadable)."""
        document = {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 1024,
        }
        return self.push_message(chat_id, {"document": document})

    def push_message(
        self,
        chat_id: int,
        content: JSONDict,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
    ) -> int:
        """Queue an incoming message with `content` (text, document, photo …) from a user."""
        with self._cond:
            # In a private chat the chat id is the user id.
            uid = user_id if user_id is not None else chat_id
            user = {**self._user(chat_id, uid), "language_code": "ko"}
            chat = self._chats.setdefault(chat_id, self._make_chat(chat_id, chat_type))
            message_id = self._alloc_message_id(chat_id)
            self._user_messages.add((chat_id, message_id))
            message = {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": int(time.time()),
                **copy.deepcopy(content),
            }
            if message_thread_id is not None:
                if (chat_id, message_thread_id) not in self._topics:
                    raise LookupError(f"no topic {message_thread_id} in chat {chat_id}")
                message["message_thread_id"] = message_thread_id
                message["is_topic_message"] = True
            return self._enqueue({"message": message})

    def push_callback(
        self, chat_id: int, message_id: int, data: str, user_id: int | None = None
    ) -> str:
        """Press an inline button of bot message `message_id`; returns the query id."""
        with self._cond:
            record = self._bot_index.get((chat_id, message_id))
            if record is None:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}")
            uid = user_id if user_id is not None else chat_id
            user = self._user(chat_id, uid)
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = {
                "chat_id": chat_id,
                "message_id": message_id,
                "data": data,
                "expired": False,
                "answered": False,
            }
            query = {
                "id": query_id,
                "from": user,
                # Telegram sends the message as it is now, edits included.
                "message": self._message_json(record),
                "chat_instance": str(abs(chat_id) * 7919 + 13),
                "data": data,
            }
            self._enqueue({"callback_query": query})
            return query_id

    def push_update(self, update: JSONDict) -> int:
        """Queue a raw update (an ``update_id`` is assigned) for shapes not covered above."""
        with self._cond:
            return self._enqueue(copy.deepcopy(update))

    def take_update(self, update_id: int) -> JSONDict:
        """Remove a queued update and return it, for a test to POST to a webhook itself.

        That is what Telegram does once a webhook is set: the update is posted to the bot
        instead of waiting for getUpdates (testkit/webhooks.py posts it to the workers).
        """
        with self._cond:
            for index, update in enumerate(self._pending):
                if update["update_id"] == update_id:
                    return copy.deepcopy(self._pending.pop(index))
        raise LookupError(f"no queued update {update_id}")

    def update_id_of(self, query_id: str) -> int:
        """The id of the queued update that carries callback query `query_id`."""
        with self._cond:
            for update in self._pending:
                if update.get("callback_query", {}).get("id") == query_id:
                    return int(update["update_id"])
        raise LookupError(f"no queued update with callback query {query_id}")

    def expire_callback(self, query_id: str) -> None:
        """Make a callback query too old to answer."""
        with self._cond:
            self._callbacks[query_id]["expired"] = True

    def block(self, chat_id: int) -> None:
        """Make sends to `chat_id` fail with 403 "bot was blocked by the user"."""
        with self._cond:
            self._blocked.add(chat_id)

    # ---- test side: forums and members -----------------------------------------------------

    def make_forum(
        self, chat_id: int, title: str = "고객센터 상담실", *, can_manage_topics: bool = True
    ) -> None:
        """Make `chat_id` a forum supergroup where the bot is an administrator.

        Without `can_manage_topics` the bot may not create, close or reopen topics (nor write
        in a closed one), as in Telegram.
        """
        if chat_id >= 0:
            raise ValueError("a supergroup's chat id is negative")
        with self._cond:
            chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
            self._chats[chat_id] = chat
            self._forums[chat_id] = {"can_manage_topics": can_manage_topics}
            self._members.setdefault(chat_id, {})[self.bot_id] = {
                "user": self.bot_user,
                "status": "administrator",
            }

    def add_member(
        self,
        chat_id: int,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        status: str = "member",
    ) -> None:
        """Add a user to a group ("member", "administrator" or "creator")."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        with self._cond:
            self._members.setdefault(chat_id, {})[user_id] = {"user": user, "status": status}

    def remove_member(self, chat_id: int, user_id: int) -> None:
        """The user left the group (getChatMember then says "left")."""
        with self._cond:
            self._members[chat_id][user_id]["status"] = "left"

    def topics(self, chat_id: int) -> list[JSONDict]:
        """The forum's topics in creation order: thread id, name, closed, and their history."""
        with self._cond:
            return copy.deepcopy(
                [
                    {"message_thread_id": thread, **topic}
                    for (chat, thread), topic in sorted(self._topics.items())
                    if chat == chat_id
                ]
            )

    def service_messages(self, chat_id: int) -> list[JSONDict]:
        """Service messages the bot caused in a chat (topic created/closed/reopened, pins)."""
        with self._cond:
            return copy.deepcopy([m for m in self._service_messages if m["chat_id"] == chat_id])

    def pinned(self, chat_id: int) -> list[int]:
        """Ids of the bot messages pinned in a chat, in pinning order."""
        with self._cond:
            return list(self._pinned.get(chat_id, []))

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of a file the bot uploaded (sendPhoto/sendDocument with a multipart file)."""
        with self._cond:
            return self._files[file_id]

    # ---- test side: faults -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` ("*" = any) with an error, unhandled."""
        fault = _Fault("error", status=status, retry_after=retry_after, description=description)
        self._add_fault(method, fault, count)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Handle the next `count` calls of `method` only after holding them `seconds`."""
        self._add_fault(method, _Fault("delay", hold=seconds), count)

    def drop_next(self, method: str, after: float = 0.0, count: int = 1) -> None:
        """Hold the next `count` calls for `after` seconds, then drop them unhandled."""
        self._add_fault(method, _Fault("drop", hold=after), count)

    def reset_after_next(self, method: str, count: int = 1) -> None:
        """Handle the next `count` calls, then reset the connection instead of answering."""
        self._add_fault(method, _Fault("reset"), count)

    def _add_fault(self, method: str, fault: _Fault, count: int) -> None:
        with self._cond:
            self._faults.setdefault(method.lower(), deque()).extend([fault] * count)

    def on_call(self, listener: Callable[[str, JSONDict, Any], None]) -> None:
        """Call ``listener(method, params, result)`` after every handled call.

        It runs on a server thread; an asyncio user hands over with
        ``loop.call_soon_threadsafe``. The benchmark times replies with it.
        """
        with self._cond:
            self._listeners.append(listener)

    # ---- test side: inspection -------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request received (optionally only `method`'s), oldest first."""
        return [Call(e["method"], e["params"], e["timestamp"]) for e in self.request_log(method)]

    def request_log(self, method: str | None = None) -> list[JSONDict]:
        """Like calls(), with the answer's ``status`` (None when dropped) and ``fault``."""
        wanted = method.lower() if method else None
        with self._cond:
            return [
                copy.deepcopy(e)
                for e in self._log
                if wanted is None or e["method"].lower() == wanted
            ]

    def messages(self, chat_id: int, thread: int | None = None) -> list[JSONDict]:
        """The bot's messages in `chat_id` in send order, edits applied, with ``history``.

        With `thread`, only those in that forum topic. A photo or document has ``text`` None
        and its ``caption``.
        """
        with self._cond:
            found = self._bot_messages.get(chat_id, [])
            if thread is not None:
                found = [m for m in found if m.get("message_thread_id") == thread]
            return copy.deepcopy(found)

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """One bot message by id."""
        with self._cond:
            record = self._bot_index.get((chat_id, message_id))
            if record is None:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}")
            return copy.deepcopy(record)

    def buttons(self, chat_id: int, message_id: int | None = None) -> list[tuple[str, str]]:
        """(label, callback data) of a bot message's buttons (default: the last message's)."""
        if message_id is None:
            found = self.messages(chat_id)
            record = found[-1] if found else {}
        else:
            record = self.message(chat_id, message_id)
        markup = record.get("reply_markup") or {}
        return [
            (button["text"], button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def pending_updates(self) -> list[JSONDict]:
        """Updates the bot has not confirmed with a getUpdates offset yet."""
        with self._cond:
            return copy.deepcopy(self._pending)

    @property
    def answered_callbacks(self) -> list[JSONDict]:
        """Successful answerCallbackQuery calls, with the query's chat, message and data."""
        with self._cond:
            return copy.deepcopy(self._answered)

    def commands(self) -> list[JSONDict]:
        """The command menu last set for the default scope."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key({}), []))

    @property
    def webhook(self) -> JSONDict | None:
        """The parameters of the webhook set, or None."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    @property
    def server_errors(self) -> list[str]:
        """Bugs in the stand-in itself (answered as HTTP 500); tests require none."""
        with self._cond:
            return list(self._errors)

    # ---- test side: waiting ----------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for_sync
    ) -> T:
        """Await until ``predicate()`` is truthy and return it; TimeoutError otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (value := predicate()):
            if loop.time() >= deadline:
                raise TimeoutError(self._timeout_message(timeout))
            await asyncio.sleep(0.01)
        return value

    def wait_for_sync(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block the calling thread until ``predicate()`` is truthy and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                # Bounded: the predicate may depend on state outside the stand-in.
                self._cond.wait(min(remaining, 0.05))
            return value

    def wait_for_message_sync(
        self, chat_id: int, contains: str | None = None, timeout: float = 5.0
    ) -> JSONDict:
        """Block until a bot message in `chat_id` contains `contains` (any, when None)."""

        def find() -> JSONDict | None:
            return next(
                (
                    m
                    for m in self.messages(chat_id)
                    if contains is None or contains in (m["text"] or m.get("caption") or "")
                ),
                None,
            )

        return self.wait_for_sync(find, timeout)

    def wait_for_call_sync(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `method` was called `count` times; return those calls."""

        def enough() -> list[Call]:
            found = self.calls(method)
            return found if len(found) >= count else []

        return self.wait_for_sync(enough, timeout)

    def _timeout_message(self, timeout: float) -> str:
        with self._cond:
            recent = [f"{e['method']}->{e['status']}" for e in self._log[-10:]]
            errors = self._errors[-1:]
        message = f"condition not met within {timeout}s; last calls: {recent}"
        return message + (f"; stand-in error: {errors[0]}" if errors else "")

    # ---- request handling (connection threads) ---------------------------------------------

    def _handle_http(self, raw_path: str, content_type: str, body: bytes) -> _Response | None:
        """Answer one request, or None to reset the connection instead."""
        parts = urlsplit(raw_path)
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)/?", unquote(parts.path))
        if match is None:
            return _error_response(BotAPIError(404, "Not Found"))
        token, name = match.groups()
        method, handler = self._methods.get(name.lower(), (name, None))
        params: JSONDict = {}
        error: BotAPIError | None = None
        try:
            params = _decode_request(parts.query, content_type, body)
        except BotAPIError as exc:
            error = exc
        with self._cond:
            fault = self._pop_fault(method) if error is None and token == self.token else None
            entry: JSONDict = {
                "method": method,
                "params": params,
                "timestamp": time.monotonic(),
                "status": None,
                "fault": fault.kind if fault else None,
            }
            # Logged on arrival, so a test can wait for a call that is being held.
            self._log.append(entry)
            self._cond.notify_all()
        if token != self.token:
            response: _Response | None = _error_response(BotAPIError(401, "Unauthorized"))
        elif error is not None:
            response = _error_response(error)
        elif fault is None:
            response = self._call(method, handler, params)
        else:
            if fault.hold:
                self._stopping.wait(fault.hold)
            if fault.kind == "error":
                response = _fault_response(fault)
            elif fault.handles:
                response = self._call(method, handler, params)
            else:
                response = None
            if fault.kind == "reset":
                response = None
        with self._cond:
            entry["status"] = response.status if response else None
            self._cond.notify_all()
        return response

    def _pop_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _call(self, method: str, handler: Handler | None, params: JSONDict) -> _Response:
        if handler is None:
            return _error_response(BotAPIError(404, "Not Found: method not found"))
        try:
            with self._cond:
                result = handler(params)
                self._cond.notify_all()
                listeners = list(self._listeners)
        except BotAPIError as exc:
            return _error_response(exc)
        except Exception as exc:
            # A bug in the stand-in must not pass for a Telegram error; tests check for these.
            _LOG.exception("FakeBotAPI failed handling %s", method)
            with self._cond:
                self._errors.append(f"{method}: {exc!r}")
            return _error_response(BotAPIError(500, f"Internal Server Error: {exc!r}"))
        # Outside the lock: a listener may read the stand-in.
        for listener in listeners:
            listener(method, params, result)
        return _json_response(200, {"ok": True, "result": result})

    # ---- Bot API methods (lock held) -------------------------------------------------------

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {**self.bot_user, "can_join_groups": True, "supports_inline_queries": False}

    def _m_get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook is not None:
            raise BotAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"]) or None
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        # Like Telegram, a newer getUpdates ends an older one still waiting: this frees the
        # thread of a long poll PTB cancelled, and flags two bot processes polling at once.
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotAPIError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = [u for u in self._pending if self._wanted(u)][:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._stopping.is_set():
                return copy.deepcopy(batch)
            self._cond.wait(remaining)

    def _wanted(self, update: JSONDict) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _m_set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise BotAPIError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = dict(params) if url else None
        self._cond.notify_all()  # a waiting getUpdates fails with 409 on its next check
        return True

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotAPIError.bad_request("parameter commands is invalid")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise BotAPIError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotAPIError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        thread = self._thread_of(chat_id, params)
        text = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        return self._store(chat_id, thread, {"text": text, "reply_markup": markup})

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "photo")

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "document")

    def _send_file(self, params: JSONDict, kind: str) -> JSONDict:
        chat_id = self._target_chat(params)
        thread = self._thread_of(chat_id, params)
        if params.get("parse_mode") or params.get("caption_entities"):
            raise BotAPIError.bad_request("the stand-in Bot API accepts plain text only")
        caption = str(params.get("caption") or "").strip() or None
        if caption is not None and len(caption) > MAX_CAPTION_LENGTH:
            raise BotAPIError.bad_request("message caption is too long")
        value = params.get(kind)
        if isinstance(value, Upload):
            if not value.data:
                raise BotAPIError.bad_request("file must be non-empty")
            file_id = f"{kind}-{next(self._file_ids)}"
            self._files[file_id] = value.data
            media: JSONDict = {"file_id": file_id, "file_size": len(value.data)}
            if kind == "document":
                media.update(file_name=value.filename, mime_type=value.content_type)
        elif isinstance(value, str) and value and not value.startswith("attach://"):
            media = {"file_id": value}  # a file Telegram already has, sent again by its id
        else:
            raise BotAPIError.bad_request(f"there is no {kind} in the request")
        media["file_unique_id"] = f"U{media['file_id']}"
        if kind == "photo":
            media.update(width=1280, height=960)
        markup = self._markup(params.get("reply_markup"))
        content = {"text": None, "caption": caption, kind: media, "reply_markup": markup}
        return self._store(chat_id, thread, content)

    def _store(self, chat_id: int, thread: int | None, content: JSONDict) -> JSONDict:
        """Record a bot message (text or media) and answer it as a Message."""
        record: JSONDict = {
            "message_id": self._alloc_message_id(chat_id),
            "chat_id": chat_id,
            "message_thread_id": thread,
            "date": int(time.time()),
            "edit_date": None,
            "history": [content["text"]] if content.get("text") is not None else [],
            **content,
        }
        self._bot_messages.setdefault(chat_id, []).append(record)
        self._bot_index[(chat_id, record["message_id"])] = record
        return self._message_json(record)

    def _m_pin_chat_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        if (chat_id, message_id) not in self._bot_index and (
            chat_id,
            message_id,
        ) not in self._user_messages:
            raise BotAPIError.bad_request("message to pin not found")
        if chat_id in self._forums and self._member_status(chat_id, self.bot_id) != (
            "administrator"
        ):
            raise BotAPIError.bad_request("not enough rights to manage pinned messages in the chat")
        self._pinned.setdefault(chat_id, []).append(message_id)
        self._service(chat_id, None, "pinned_message", message_id=message_id)
        return True

    def _m_create_forum_topic(self, params: JSONDict) -> JSONDict:
        chat_id = self._forum(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= MAX_TOPIC_NAME_LENGTH:
            raise BotAPIError.bad_request("TOPIC_NAME_INVALID")
        color = params.get("icon_color")
        if color is not None and color not in _TOPIC_COLORS:
            raise BotAPIError.bad_request("TOPIC_COLOR_INVALID")
        # The topic is the service message that created it: its id is the thread id.
        thread = self._service(chat_id, None, "forum_topic_created", name=name)
        self._topics[(chat_id, thread)] = {
            "name": name,
            "icon_color": color or _TOPIC_COLORS[0],
            "closed": False,
            "history": ["created"],
        }
        return {"message_thread_id": thread, "name": name, "icon_color": color or _TOPIC_COLORS[0]}

    def _m_close_forum_topic(self, params: JSONDict) -> bool:
        return self._set_topic_closed(params, closed=True)

    def _m_reopen_forum_topic(self, params: JSONDict) -> bool:
        return self._set_topic_closed(params, closed=False)

    def _set_topic_closed(self, params: JSONDict, *, closed: bool) -> bool:
        chat_id = self._forum(params)
        thread = int(params.get("message_thread_id") or 0)
        topic = self._topics.get((chat_id, thread))
        if topic is None:
            raise BotAPIError.bad_request("TOPIC_ID_INVALID")
        if topic["closed"] == closed:
            raise BotAPIError.bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        topic["history"].append("closed" if closed else "reopened")
        self._service(chat_id, thread, "forum_topic_closed" if closed else "forum_topic_reopened")
        return True

    def _m_get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise BotAPIError.bad_request("invalid user_id specified")
        member = self._members.get(chat_id, {}).get(user_id)
        if member is None:
            if chat_id not in self._chats:
                raise BotAPIError.bad_request("chat not found")
            raise BotAPIError.bad_request("user not found")
        return self._chat_member_json(chat_id, member)

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        record = self._bot_index.get((chat_id, message_id))
        if record is None:
            if (chat_id, message_id) in self._user_messages:
                raise BotAPIError.bad_request("message can't be edited")
            raise BotAPIError.bad_request("message to edit not found")
        if record["text"] is None:
            raise BotAPIError.bad_request("there is no text in the message to edit")
        text = self._text(params)
        # Telegram drops the inline keyboard when an edit leaves reply_markup out.
        markup = self._markup(params.get("reply_markup"))
        if text == record["text"] and markup == record["reply_markup"]:
            raise BotAPIError(400, _NOT_MODIFIED)
        record.update(text=text, reply_markup=markup, edit_date=int(time.time()))
        record["history"].append(text)
        return self._message_json(record)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        record = self._bot_index.get((chat_id, message_id))
        if record is None:
            raise BotAPIError.bad_request("message to edit not found")
        markup = self._markup(params.get("reply_markup"))
        if markup == record["reply_markup"]:
            raise BotAPIError(400, _NOT_MODIFIED)
        record.update(reply_markup=markup, edit_date=int(time.time()))
        return self._message_json(record)

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._callbacks.get(query_id)
        if query is None or query["expired"] or query["answered"]:
            raise BotAPIError(400, _QUERY_TOO_OLD)
        query["answered"] = True
        self._answered.append(
            {
                "callback_query_id": query_id,
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "data": query["data"],
                "text": params.get("text"),
                "show_alert": bool(params.get("show_alert", False)),
            }
        )
        return True

    # ---- helpers (lock held) ---------------------------------------------------------------

    @staticmethod
    def _chat_id(params: JSONDict) -> int:
        value = params.get("chat_id")
        if not isinstance(value, int):
            raise BotAPIError.bad_request("chat not found")  # "@channel" targets not modelled
        return value

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = self._chat_id(params)
        if chat_id in self._blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        self._chats.setdefault(
            chat_id, self._make_chat(chat_id, "private" if chat_id > 0 else "supergroup")
        )
        return chat_id

    def _thread_of(self, chat_id: int, params: JSONDict) -> int | None:
        """The forum topic a message goes to (None: General, or not a forum)."""
        thread = params.get("message_thread_id")
        if thread is None or chat_id not in self._forums:
            return None
        topic = self._topics.get((chat_id, thread))
        if topic is None:
            raise BotAPIError.bad_request("message thread not found")
        if topic["closed"] and not self._forums[chat_id]["can_manage_topics"]:
            raise BotAPIError.bad_request("TOPIC_CLOSED")
        return int(thread)

    def _forum(self, params: JSONDict) -> int:
        """The forum a topic method names, where the bot must be allowed to manage topics."""
        chat_id = self._chat_id(params)
        if chat_id not in self._chats:
            raise BotAPIError.bad_request("chat not found")
        if chat_id not in self._forums:
            raise BotAPIError.bad_request("the chat is not a forum")
        if not self._forums[chat_id]["can_manage_topics"]:
            raise BotAPIError.bad_request("not enough rights to manage topics")
        return chat_id

    def _service(self, chat_id: int, thread: int | None, kind: str, **extra: Any) -> int:
        """Record a service message the bot's action left in a chat; its message id."""
        message_id = self._alloc_message_id(chat_id)
        self._service_messages.append(
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "message_thread_id": thread,
                "kind": kind,
                "at": time.monotonic(),
                **extra,
            }
        )
        return message_id

    def _member_status(self, chat_id: int, user_id: int) -> str:
        member = self._members.get(chat_id, {}).get(user_id)
        return str(member["status"]) if member else "left"

    def _user(self, chat_id: int, user_id: int) -> JSONDict:
        """The User object of `user_id`: as a member of the chat was added, else a stranger."""
        member = self._members.get(chat_id, {}).get(user_id)
        if member is not None:
            return copy.deepcopy(member["user"])
        return {"id": user_id, "is_bot": False, "first_name": "테스트"}

    def _chat_member_json(self, chat_id: int, member: JSONDict) -> JSONDict:
        """A ChatMember object with the fields Telegram sends for its status."""
        status = member["status"]
        found: JSONDict = {"status": status, "user": copy.deepcopy(member["user"])}
        if status == "creator":
            found["is_anonymous"] = False
        elif status == "administrator":
            rights = self._forums.get(chat_id, {"can_manage_topics": False})
            found.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=False,
                can_restrict_members=False,
                can_promote_members=False,
                can_change_info=False,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
                can_manage_topics=bool(rights["can_manage_topics"]),
            )
        elif status == "kicked":
            found["until_date"] = 0
        return found

    @staticmethod
    def _text(params: JSONDict) -> str:
        if params.get("parse_mode") or params.get("entities"):
            # The bot sends plain text so that customer text can never break markup.
            raise BotAPIError.bad_request("the stand-in Bot API accepts plain text only")
        text = str(params.get("text") or "").strip()  # Telegram trims, then checks
        if not text:
            raise BotAPIError.bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise BotAPIError.bad_request("message is too long")
        return text

    @staticmethod
    def _markup(markup: Any) -> JSONDict | None:
        if markup in (None, ""):
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise BotAPIError.bad_request("the stand-in Bot API accepts inline keyboards only")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise BotAPIError.bad_request("BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                size = len(str(data).encode("utf-8")) if data is not None else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise BotAPIError.bad_request("BUTTON_DATA_INVALID")
        # An empty keyboard is how a bot removes one; Telegram then reports no markup.
        return copy.deepcopy(markup) if any(rows) else None

    def _message_json(self, record: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": record["message_id"],
            "from": self.bot_user,
            "chat": self._chats[record["chat_id"]],
            "date": record["date"],
        }
        if record["text"] is not None:
            message["text"] = record["text"]
        for media in ("photo", "document"):
            if media in record:
                message[media] = [record[media]] if media == "photo" else record[media]
        if record.get("caption"):
            message["caption"] = record["caption"]
        if record.get("message_thread_id") is not None:
            message["message_thread_id"] = record["message_thread_id"]
            message["is_topic_message"] = True
        if record["edit_date"] is not None:
            message["edit_date"] = record["edit_date"]
        if record["reply_markup"]:
            message["reply_markup"] = record["reply_markup"]
        return copy.deepcopy(message)

    def _alloc_message_id(self, chat_id: int) -> int:
        # Telegram numbers messages per private chat, shared by both sides.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    @staticmethod
    def _make_chat(chat_id: int, chat_type: str) -> JSONDict:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "테스트"}
        return {"id": chat_id, "type": chat_type, "title": f"테스트 그룹 {chat_id}"}

    def _enqueue(self, update: JSONDict) -> int:
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **update})
        self._cond.notify_all()
        return update_id
