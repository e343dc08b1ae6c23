"""A stand-in Telegram Bot API HTTP server for offline end-to-end tests.

The server speaks enough of https://core.telegram.org/bots/api for python-telegram-bot (PTB) to
run unmodified against it: long polling, sending and editing messages, inline keyboards,
callback queries, the command menu, and a few media/hand-off methods. It is a real socket server
(stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a background thread), so it works both for an
in-process ``Application`` and for the bot running as a subprocess (``helpdesk run --base-url``).

Typical use::

    with FakeBotAPI() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...
        api.push_text(1001, "환불 문의")
        reply = await api.wait_for_message(1001)

All test-side methods are thread-safe. Async wait helpers poll with ``asyncio.sleep`` so they
never block the event loop that PTB runs on; the ``*_sync`` variants block on a condition
variable and are meant for plain threads.

Deliberate deviations from Telegram are documented where they happen; the main ones: HTML
parsing is stricter about ``&`` (see ``strict_html_entities``), Markdown parse modes are stored
verbatim (not validated), webhooks can be set but are never delivered, and there is no
rate limiting unless a test injects it with :meth:`FakeBotAPI.fail_next`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import html
import itertools
import json
import logging
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["BotAPIError", "Call", "FakeBotAPI", "HTMLParseError", "parse_html"]

JSONDict = dict[str, Any]
T = TypeVar("T")

_LOG = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# Telegram's documented default for getUpdates when allowed_updates was never given.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

# Form-encoded requests (what PTB sends) carry every value as a string; these tables restore
# the types a JSON body would have had so handlers see one shape regardless of encoding.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "menu_button",
    }
)
_INT_FIELDS = frozenset(
    {
        "offset",
        "limit",
        "message_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_CHAT_ID_FIELDS = frozenset({"chat_id", "from_chat_id", "user_id"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)

# Message fields that copyMessage/forwardMessage carry over to the new message.
_COPYABLE = frozenset({"text", "entities", "document", "photo", "caption", "caption_entities"})

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Same page nginx serves in front of api.telegram.org during incidents: PTB must cope with a
# non-JSON error body, which is the point of injecting 502s.
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class BotAPIError(Exception):
    """An error answered to the client as ``{"ok": false, ...}`` with an HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, description: str) -> BotAPIError:
        """Build a 400 error, prefixing Telegram's "Bad Request: " if missing."""
        if not description.startswith("Bad Request: "):
            description = f"Bad Request: {description}"
        return cls(400, description)


class Call(NamedTuple):
    """One request received by the server (including rejected and fault-injected ones)."""

    method: str
    params: JSONDict
    timestamp: float  # time.monotonic() at arrival; only differences are meaningful


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | None
    description: str | None


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------


class HTMLParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording (without the outer prefix)."""


_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "span", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[a-zA-Z]{1,10});")
_ATTR_VALUE_RE = re.compile(r"[^\s>]*")


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of ``text[index]``, as quoted in Telegram's parse errors."""
    return len(text[:index].encode("utf-8"))


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text
    language: str | None = None


def _decode_entity(raw: str) -> str | None:
    """Decode one ``&...;`` body the way Telegram does: numeric or lt/gt/amp/quot only."""
    if raw.startswith("#"):
        try:
            code = int(raw[2:], 16) if raw[1:2] in ("x", "X") else int(raw[1:])
        except ValueError:
            return None
        if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code)
    return _NAMED_ENTITIES.get(raw.lower())


def parse_html(text: str, *, strict_entities: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into (plain text, MessageEntity dicts) or raise."""
    # Mirrors tdlib's parse_html closely enough that error messages match what the real API
    # returns; the one intentional difference is strict_entities (Telegram keeps an unknown
    # '&' literally, we reject it so that missing html.escape() calls surface in tests).
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i, n = 0, len(text)

    def emit(chunk: str) -> None:
        nonlocal pos16
        out.append(chunk)
        pos16 += _utf16_len(chunk)

    while i < n:
        ch = text[i]
        if ch == "&":
            match = _ENTITY_RE.match(text, i)
            decoded = _decode_entity(match.group(1)) if match else None
            if match and decoded is not None:
                emit(decoded)
                i = match.end()
                continue
            if strict_entities:
                raise HTMLParseError(
                    f"Unsupported HTML entity at byte offset {_byte_offset(text, i)} "
                    "(FakeBotAPI is strict here: escape '&' as &amp;)"
                )
            emit("&")
            i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            emit(text[i:j])
            i = j
            continue

        begin = i
        if text.startswith("</", i):
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise HTMLParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            top = stack[-1]
            if end_name and end_name != top.name:
                raise HTMLParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{end_name}>"'
                )
            stack.pop()
            _close_tag(top, pos16, stack, entities)
            i = j + 1
            continue

        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise HTMLParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i + 1 : j].lower()
        if name not in _ALLOWED_TAGS:
            raise HTMLParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, j = _parse_attributes(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HTMLParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append(_OpenTag(name=name, attrs=attrs, start=pos16))
        i = j + 1

    if stack:
        raise HTMLParseError(f"Can't find end tag corresponding to start tag {stack[-1].name}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(text: str, j: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs from ``text[j:]`` up to '>'; return them and the '>' index."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise HTMLParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[j] == ">":
            return attrs, j
        k = j
        while k < n and not text[k].isspace() and text[k] not in "=>":
            k += 1
        attr = text[j:k].lower()
        while k < n and text[k].isspace():
            k += 1
        if k < n and text[k] != "=":
            # Telegram allows exactly one value-less attribute: <blockquote expandable>.
            if tag == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                j = k
                continue
            raise HTMLParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        k += 1
        while k < n and text[k].isspace():
            k += 1
        if k < n and text[k] in "'\"":
            quote = text[k]
            end = text.find(quote, k + 1)
            if end < 0:
                raise HTMLParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            value = text[k + 1 : end]
            j = end + 1
        else:
            match = _ATTR_VALUE_RE.match(text, k)
            value = match.group(0) if match else ""
            j = k + len(value)
        attrs[attr] = html.unescape(value)


def _close_tag(tag: _OpenTag, pos16: int, stack: list[_OpenTag], out: list[JSONDict]) -> None:
    """Turn a closed tag into a MessageEntity (Telegram drops empty ones)."""
    length = pos16 - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is how Telegram expresses a pre block's language.
        css = tag.attrs.get("class", "")
        if css.startswith("language-"):
            stack[-1].language = css.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: JSONDict = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        if tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "a":
        href = tag.attrs.get("href")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user.group(1)), "is_bot": False, "first_name": "User"}
        else:
            entity["type"] = "text_link"
            entity["url"] = href
    elif tag.name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id")
        if not emoji_id:
            return
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = emoji_id
    out.append(entity)


def _strip_formatted(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace like Telegram does, shifting/clipping entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead16 = _utf16_len(text[: len(text) - len(text.lstrip())])
    total16 = _utf16_len(stripped)
    fixed: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead16)
        end = min(total16, entity["offset"] + entity["length"] - lead16)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return stripped, fixed


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")


def _command_entities(text: str) -> list[JSONDict]:
    """Find bot commands the way Telegram's server marks them in incoming messages."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: m.start()]),
            "length": _utf16_len(m.group(0)),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


# --------------------------------------------------------------------------------------------
# Request decoding
# --------------------------------------------------------------------------------------------


def _coerce(name: str, value: Any) -> Any:
    """Give a form-encoded string value the type a JSON body would have had."""
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
    if name in _CHAT_ID_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in _BOOL_FIELDS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[JSONDict, dict[str, JSONDict]]:
    """Split a multipart/form-data body into plain fields and uploaded files."""
    # Hand-rolled rather than via the email package: it must round-trip arbitrary binary
    # uploads byte-for-byte, and the stdlib cgi module is gone in 3.13.
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise BotAPIError.bad_request("multipart boundary is missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: JSONDict = {}
    files: dict[str, JSONDict] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, val = line.partition(":")
            headers[key.strip().lower()] = val.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not name_match:
            continue
        name = name_match.group(1)
        file_match = re.search(r'filename="([^"]*)"', disposition)
        if file_match:
            files[name] = {
                "filename": file_match.group(1),
                "content_type": headers.get("content-type", "application/octet-stream"),
                "content": content,
            }
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


def _decode_request(query: str, content_type: str, body: bytes) -> JSONDict:
    """Decode query string plus a JSON/urlencoded/multipart body into typed params."""
    raw: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    uploads: dict[str, JSONDict] = {}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise BotAPIError.bad_request("can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise BotAPIError.bad_request("can't parse JSON object")
            raw.update(decoded)
        elif ctype == "multipart/form-data":
            fields, uploads = _parse_multipart(body, content_type)
            raw.update(fields)
        else:
            # Telegram treats an unlabelled body as urlencoded too.
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    params = {key: _coerce(key, value) for key, value in raw.items()}
    # PTB uploads a single file under the parameter's own name; media groups and thumbnails
    # use "attach://<field>" references instead. Both end up as a file dict in params.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is not None:
                params[key] = _upload_summary(upload)
    for key, upload in uploads.items():
        params.setdefault(key, _upload_summary(upload))
    return params


def _upload_summary(upload: JSONDict) -> JSONDict:
    """Represent an uploaded file as a param value (the call log drops ``content``)."""
    return {
        "upload": True,
        "filename": upload["filename"],
        "content_type": upload["content_type"],
        "size": len(upload["content"]),
        "content": upload["content"],
    }


def _json_response(status: int, payload: JSONDict) -> _Response:
    """Serialise a Bot API envelope."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Response(status, "application/json", body)


def _error_response(error: BotAPIError) -> _Response:
    """Serialise an error envelope exactly like api.telegram.org."""
    payload: JSONDict = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_response(error.status, payload)


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads one HTTP request at a time from a keep-alive connection and dispatches it."""

    protocol_version = "HTTP/1.1"  # httpx keeps connections alive; 1.0 would close each one
    server: _Server

    def do_GET(self) -> None:
        """Handle GET (Telegram accepts GET for every method)."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Route the access log to logging instead of stderr noise in test output."""
        _LOG.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            response = self.server.api._handle_http(
                self.command, self.path, self.headers.get("Content-Type", ""), body
            )
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:
            # The client gave up (timeout, cancelled long poll, or the server is stopping).
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can forcibly close live connections and join its threads."""

    daemon_threads = True
    # A burst of hundreds of concurrent clients (benchmarks/load.py) must queue, not be reset.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: FakeBotAPI):
        self.api = api
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        # Every connection thread not yet known to be finished; a thread can only be joined
        # from outside, so it is never removed by itself (it would still be alive right then).
        self._conn_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve each connection in a tracked thread so stop() can join them all."""
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
        """Shut down every open client socket so blocked readers return immediately."""
        with self._conn_lock:
            sockets = list(self._conns)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_connections(self, timeout: float) -> list[threading.Thread]:
        """Wait for connection threads to finish; return those still alive."""
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            threads = list(self._conn_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t for t in threads if t.is_alive()]


# --------------------------------------------------------------------------------------------
# The fake API
# --------------------------------------------------------------------------------------------


class FakeBotAPI:
    """In-memory Telegram Bot API served over HTTP on 127.0.0.1 for tests."""

    def __init__(
        self,
        token: str = "123:TEST",
        username: str = "helpdesk_test_bot",
        *,
        first_name: str = "Helpdesk Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        callback_query_ttl: float | None = None,
        strict_html_entities: bool = True,
        known_chats_only: bool = False,
    ):
        """Configure the fake; nothing listens until start()."""
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.username = username
        self.first_name = first_name
        self.bot_id = int(bot_id)
        self.host = host
        self.port = port
        # None means a query never expires by age (expire_callback() still works); Telegram's
        # real limit is "a few seconds", too tight for slow CI machines.
        self.callback_query_ttl = callback_query_ttl
        self.strict_html_entities = strict_html_entities
        # When True, sending to a chat that never wrote to the bot (and was not add_chat()-ed)
        # fails with "chat not found", like a staff group the bot was never added to.
        self.known_chats_only = known_chats_only

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        # Counters survive reset(): a PTB app that remembered an offset must keep working.
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._next_message_id: dict[int, int] = {}
        self._poll_generation = 0

        self._methods: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}
        for name, handler in self._method_table().items():
            self._methods[name.lower()] = (name, handler)
        self._init_state()

    # ---- lifecycle -------------------------------------------------------------------------

    def _init_state(self) -> None:
        self._pending: list[JSONDict] = []
        self._pushed: list[JSONDict] = []
        self._allowed_updates: list[str] | None = None
        self._chats: dict[int, JSONDict] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._bot_messages: dict[int, list[JSONDict]] = {}
        self._bot_index: dict[tuple[int, int], JSONDict] = {}
        self._log: list[JSONDict] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._callbacks: dict[str, JSONDict] = {}
        self._answered: list[JSONDict] = []
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: JSONDict | None = None
        self._blocked: set[int] = set()
        self._actions: dict[int, list[str]] = {}
        self._files: dict[str, JSONDict] = {}
        self._bot_settings: dict[str, JSONDict] = {}
        self._errors: list[str] = []
        self._listeners: list[Callable[[str, JSONDict, Any], None]] = []

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
        """Stop serving, close all connections and join every server thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()  # wake long polls and delayed requests
        server.shutdown()
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
        """Stop on leaving an ``async with`` block without blocking the event loop."""
        await asyncio.to_thread(self.stop)

    @property
    def running(self) -> bool:
        """Whether the server is currently serving."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder().base_url(); PTB appends the token itself."""
        self._require_running()
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder().base_file_url()."""
        self._require_running()
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _require_running(self) -> None:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running; call start() first")

    def reset(self) -> None:
        """Forget all chats, messages, calls, faults and settings (ids keep increasing)."""
        with self._cond:
            self._init_state()
            self._cond.notify_all()

    # ---- test-side: pushing updates --------------------------------------------------------

    def push_text(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "테스트",
        chat_type: str = "private",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "ko",
        reply_to_message_id: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> int:
        """Queue an incoming text message; commands in it get bot_command entities."""
        content: JSONDict = {"text": text}
        found = entities if entities is not None else _command_entities(text)
        if found:
            content["entities"] = found
        return self._push_message(
            chat_id,
            content,
            user_id=user_id,
            first_name=first_name,
            chat_type=chat_type,
            username=username,
            last_name=last_name,
            language_code=language_code,
            reply_to_message_id=reply_to_message_id,
        )

    def push_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        user_id: int | None = None,
        first_name: str = "테스트",
        chat_type: str = "private",
        *,
        mention: bool = False,
        language_code: str | None = "ko",
    ) -> int:
        """Queue "/command[@bot] args" with the bot_command entity CommandHandler expects."""
        head = "/" + command.lstrip("/")
        if mention:
            head += f"@{self.username}"
        text = f"{head} {args}" if args else head
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(head)}
        return self.push_text(
            chat_id,
            text,
            user_id,
            first_name,
            chat_type,
            language_code=language_code,
            entities=[entity],
        )

    def push_document(
        self,
        chat_id: int,
        file_id: str,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "테스트",
        chat_type: str = "private",
        content: bytes | None = None,
    ) -> int:
        """Queue an incoming document; its bytes become downloadable via getFile."""
        data = content if content is not None else f"fake document {file_id}".encode()
        info = self.add_file(file_id, data, file_path=f"documents/{file_name}")
        document = {
            "file_id": file_id,
            "file_unique_id": info["file_unique_id"],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        body: JSONDict = {"document": document}
        if caption is not None:
            body["caption"] = caption
        return self._push_message(
            chat_id, body, user_id=user_id, first_name=first_name, chat_type=chat_type
        )

    def push_photo(
        self,
        chat_id: int,
        file_id: str,
        caption: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "테스트",
        chat_type: str = "private",
        content: bytes | None = None,
    ) -> int:
        """Queue an incoming photo (two sizes; the largest carries ``file_id``)."""
        data = content if content is not None else f"fake photo {file_id}".encode()
        big = self.add_file(file_id, data, file_path=f"photos/{file_id}.jpg")
        thumb_id = f"{file_id}-thumb"
        small = self.add_file(thumb_id, data[:64], file_path=f"photos/{thumb_id}.jpg")
        sizes = [
            {
                "file_id": thumb_id,
                "file_unique_id": small["file_unique_id"],
                "width": 90,
                "height": 67,
                "file_size": small["file_size"],
            },
            {
                "file_id": file_id,
                "file_unique_id": big["file_unique_id"],
                "width": 1280,
                "height": 960,
                "file_size": big["file_size"],
            },
        ]
        body: JSONDict = {"photo": sizes}
        if caption is not None:
            body["caption"] = caption
        return self._push_message(
            chat_id, body, user_id=user_id, first_name=first_name, chat_type=chat_type
        )

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        *,
        first_name: str = "테스트",
    ) -> str:
        """Press an inline button on bot message ``message_id``; returns the query id."""
        with self._cond:
            record = self._bot_index.get((chat_id, message_id))
            if record is None or record["deleted"]:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}")
            chat = self._chats[chat_id]
            user = self._make_user(
                self._default_user_id(chat_id, chat["type"], user_id), first_name
            )
            query_id = str(next(self._callback_ids))
            query: JSONDict = {
                "id": query_id,
                "from": user,
                # Telegram sends the message as it is *now*, including earlier edits.
                "message": self._message_json(record),
                "chat_instance": str(abs(chat_id) * 7919 + 13),
                "data": data,
            }
            self._callbacks[query_id] = {
                "id": query_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "data": data,
                "issued_at": time.monotonic(),
                "expired": False,
                "answered": False,
            }
            self._enqueue({"callback_query": query})
            return query_id

    def push_update(self, update: JSONDict) -> int:
        """Queue a raw update (an ``update_id`` is assigned); for shapes not covered above."""
        with self._cond:
            return self._enqueue(copy.deepcopy(update))

    def expire_callback(self, query_id: str | None = None) -> None:
        """Make one (or every) callback query too old to answer."""
        with self._cond:
            targets = [query_id] if query_id is not None else list(self._callbacks)
            for qid in targets:
                if qid not in self._callbacks:
                    raise LookupError(f"unknown callback query {qid}")
                self._callbacks[qid]["expired"] = True

    def add_chat(self, chat_id: int, chat_type: str = "group", title: str | None = None) -> None:
        """Register a chat the bot is a member of (matters with known_chats_only)."""
        with self._cond:
            self._chats[chat_id] = self._make_chat(chat_id, chat_type, title=title)

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> JSONDict:
        """Make ``file_id`` known to getFile/sendDocument and downloadable via the file URL."""
        with self._cond:
            info = {
                "file_id": file_id,
                "file_unique_id": f"U{next(self._file_ids):08d}",
                "file_size": len(content),
                "file_path": file_path or f"documents/{file_id}",
            }
            self._files[file_id] = {**info, "content": content}
            return info

    def block(self, chat_id: int) -> None:
        """Make sends to ``chat_id`` fail with 403 "bot was blocked by the user"."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo block()."""
        with self._cond:
            self._blocked.discard(chat_id)

    # ---- test-side: fault injection ---------------------------------------------------------

    def on_call(self, listener: Callable[[str, JSONDict, Any], None]) -> None:
        """Call ``listener(method, params, result)`` after every successful Bot API call.

        It runs on the server's thread; an asyncio user hands over with
        ``loop.call_soon_threadsafe``. Benchmarks use it to time replies without polling.
        """
        with self._cond:
            self._listeners.append(listener)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("*" = any) with an error."""
        # 429 carries parameters.retry_after like Telegram's flood control; 502 is nginx's HTML
        # page; anything else is a JSON error envelope with the given description.
        fault = _Fault(status, retry_after if status == 429 else None, description)
        with self._cond:
            self._faults.setdefault(method.lower(), deque()).extend([fault] * count)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``method`` ("*" = any) before handling them."""
        # The request is still processed after the delay even if the client timed out, which
        # is exactly the "Telegram delivered it but we never saw the answer" case.
        with self._cond:
            self._delays.setdefault(method.lower(), deque()).extend([seconds] * count)

    # ---- test-side: inspection --------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """All requests received (optionally only ``method``), oldest first."""
        wanted = method.lower() if method else None
        with self._cond:
            return [
                Call(e["method"], copy.deepcopy(e["params"]), e["timestamp"])
                for e in self._log
                if wanted is None or e["method"].lower() == wanted
            ]

    def request_log(self, method: str | None = None) -> list[JSONDict]:
        """Like calls() but with HTTP details: status, content_type, http_method, injected."""
        wanted = method.lower() if method else None
        with self._cond:
            return [
                copy.deepcopy(e)
                for e in self._log
                if wanted is None or e["method"].lower() == wanted
            ]

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[JSONDict]:
        """Bot messages in ``chat_id`` in send order, with edits applied and ``history``."""
        with self._cond:
            return [
                self._public_record(r)
                for r in self._bot_messages.get(chat_id, [])
                if include_deleted or not r["deleted"]
            ]

    def last_message(self, chat_id: int) -> JSONDict | None:
        """The most recent (non-deleted) bot message in ``chat_id``, or None."""
        found = self.messages(chat_id)
        return found[-1] if found else None

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """One bot message by id (raises LookupError if the bot never sent it)."""
        with self._cond:
            record = self._bot_index.get((chat_id, message_id))
            if record is None:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}")
            return self._public_record(record)

    def buttons(self, chat_id: int, message_id: int | None = None) -> list[tuple[str, str | None]]:
        """Inline buttons of a bot message (default: the last one) as (text, callback_data)."""
        record = (
            self.last_message(chat_id) if message_id is None else self.message(chat_id, message_id)
        )
        markup = (record or {}).get("reply_markup") or {}
        return [
            (button["text"], button.get("callback_data"))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def updates(self) -> list[JSONDict]:
        """Every update pushed so far (confirmed or not), oldest first."""
        with self._cond:
            return copy.deepcopy(self._pushed)

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._pending)

    @property
    def answered_callbacks(self) -> list[JSONDict]:
        """Successful answerCallbackQuery calls with the query's chat/message/data."""
        with self._cond:
            return copy.deepcopy(self._answered)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command menu last set for ``scope`` (default scope) and language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def chat_actions(self, chat_id: int) -> list[str]:
        """Actions sent with sendChatAction to ``chat_id``, in order."""
        with self._cond:
            return list(self._actions.get(chat_id, []))

    @property
    def webhook(self) -> JSONDict | None:
        """Parameters of the active webhook, or None."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    @property
    def bot_settings(self) -> dict[str, JSONDict]:
        """Last params of setMyDescription/setMyShortDescription/setMyName/setChatMenuButton."""
        with self._cond:
            return copy.deepcopy(self._bot_settings)

    @property
    def server_errors(self) -> list[str]:
        """Exceptions (repr) raised by bugs inside the fake itself, answered as HTTP 500."""
        with self._cond:
            return list(self._errors)

    # ---- test-side: waiting -----------------------------------------------------------------

    # The async waiters take ``timeout`` (ASYNC109) on purpose: the same signature as the
    # *_sync variants, and a TimeoutError message that lists the calls the fake saw.
    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109
        interval: float = 0.01,
    ) -> T:
        """Await until ``predicate()`` is truthy and return it; TimeoutError otherwise."""
        # Polling keeps the event loop free for PTB, which runs in the same loop as the test.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                raise TimeoutError(self._timeout_message(timeout))
            await asyncio.sleep(interval)

    def wait_for_sync(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block the calling thread until ``predicate()`` is truthy and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                # Bounded wait: the predicate may also depend on state outside the fake.
                self._cond.wait(min(remaining, 0.05))

    def _message_predicate(
        self, chat_id: int, contains: str | None, since: int
    ) -> Callable[[], JSONDict | None]:
        def find() -> JSONDict | None:
            for record in self.messages(chat_id)[since:]:
                if contains is None or contains in (record["text"] or ""):
                    return record
            return None

        return find

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """Await the first bot message at index >= ``since`` whose text contains ``contains``."""
        return await self.wait_for(self._message_predicate(chat_id, contains, since), timeout)

    def wait_for_message_sync(
        self, chat_id: int, contains: str | None = None, *, since: int = 0, timeout: float = 5.0
    ) -> JSONDict:
        """Blocking variant of wait_for_message()."""
        return self.wait_for_sync(self._message_predicate(chat_id, contains, since), timeout)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Call]:
        """Await until ``method`` was called at least ``count`` times; return those calls."""
        return await self.wait_for(lambda: self._calls_if(method, count), timeout)

    def wait_for_call_sync(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Blocking variant of wait_for_call()."""
        return self.wait_for_sync(lambda: self._calls_if(method, count), timeout)

    async def wait_for_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """Await the answerCallbackQuery for ``query_id`` and return its record."""
        return await self.wait_for(lambda: self._answer_for(query_id), timeout)

    def wait_for_answer_sync(self, query_id: str, timeout: float = 5.0) -> JSONDict:
        """Blocking variant of wait_for_answer()."""
        return self.wait_for_sync(lambda: self._answer_for(query_id), timeout)

    def _calls_if(self, method: str, count: int) -> list[Call]:
        found = self.calls(method)
        return found if len(found) >= count else []

    def _answer_for(self, query_id: str) -> JSONDict | None:
        answers = self.answered_callbacks
        return next((a for a in answers if a["callback_query_id"] == query_id), None)

    def _timeout_message(self, timeout: float) -> str:
        with self._cond:
            recent = [f"{e['method']}->{e['status']}" for e in self._log[-10:]]
            errors = self._errors[-1:]
        msg = f"condition not met within {timeout}s; last calls: {recent}"
        return msg + (f"; fake server error: {errors[0]}" if errors else "")

    # ---- request handling -------------------------------------------------------------------

    def _handle_http(self, verb: str, raw_path: str, content_type: str, body: bytes) -> _Response:
        """Route one HTTP request; runs on a connection thread."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        if path.startswith("/file/bot"):
            return self._serve_file(path)
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)/?", path)
        if match is None:
            return _error_response(BotAPIError(404, "Not Found"))
        token, method_name = match.groups()

        entry = self._methods.get(method_name.lower())
        method = entry[0] if entry else method_name
        # Decode before logging so a waiter never sees a logged call with params missing.
        params: JSONDict = {}
        decode_error: BotAPIError | None = None
        try:
            params = _decode_request(parts.query, content_type, body)
        except BotAPIError as exc:
            decode_error = exc
        log_entry: JSONDict = {
            "method": method,
            # Upload bytes stay out of the log; tests see the file's name, type and size.
            "params": {
                k: (
                    {kk: vv for kk, vv in v.items() if kk != "content"}
                    if isinstance(v, dict) and v.get("upload")
                    else v
                )
                for k, v in params.items()
            },
            "timestamp": time.monotonic(),
            "status": None,
            "content_type": content_type.split(";", 1)[0].strip(),
            "http_method": verb,
            "injected": False,
        }
        with self._cond:
            self._log.append(log_entry)
            self._cond.notify_all()
        if token != self.token:
            response = _error_response(BotAPIError(401, "Unauthorized"))
        elif decode_error is not None:
            response = _error_response(decode_error)
        else:
            response = self._respond(method, entry, params, log_entry)
        with self._cond:
            log_entry["status"] = response.status
            self._cond.notify_all()
        return response

    def _respond(
        self,
        method: str,
        entry: tuple[str, Callable[[JSONDict], Any]] | None,
        params: JSONDict,
        log_entry: JSONDict,
    ) -> _Response:
        with self._cond:
            delay = self._pop(self._delays, method)
            fault = self._pop(self._faults, method)
            log_entry["injected"] = fault is not None
        if delay:
            self._stopping.wait(delay)
        if fault is not None:
            return self._fault_response(fault)
        if entry is None:
            return _error_response(BotAPIError(404, "Not Found: method not found"))
        try:
            with self._cond:
                result = entry[1](params)
                self._cond.notify_all()
                listeners = list(self._listeners)
        except BotAPIError as exc:
            return _error_response(exc)
        except Exception as exc:
            # A bug in the fake must not look like a Telegram error; record it so tests see it.
            _LOG.exception("FakeBotAPI failed handling %s", method)
            with self._cond:
                self._errors.append(f"{method}: {exc!r}")
            return _error_response(BotAPIError(500, f"Internal Server Error: {exc!r}"))
        # Outside the lock: a listener may call back into the fake (e.g. to read messages).
        for listener in listeners:
            listener(method, params, result)
        return _json_response(200, {"ok": True, "result": result})

    @staticmethod
    def _pop(queues: dict[str, deque[Any]], method: str) -> Any:
        for key in (method.lower(), "*"):
            queue = queues.get(key)
            if queue:
                return queue.popleft()
        return None

    @staticmethod
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

    def _serve_file(self, path: str) -> _Response:
        prefix = f"/file/bot{self.token}/"
        if not path.startswith(prefix):
            return _error_response(BotAPIError(401, "Unauthorized"))
        wanted = path.removeprefix(prefix)
        with self._cond:
            for info in self._files.values():
                if info["file_path"] == wanted:
                    return _Response(200, "application/octet-stream", info["content"])
        return _error_response(BotAPIError(404, "Not Found"))

    # ---- Bot API methods (called with the lock held) ---------------------------------------

    def _method_table(self) -> dict[str, Callable[[JSONDict], Any]]:
        return {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            **{
                name: functools.partial(self._store_setting, name)
                for name in ("setMyDescription", "setMyShortDescription", "setMyName")
            },
            "setChatMenuButton": functools.partial(self._store_setting, "setChatMenuButton"),
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "getFile": self._m_get_file,
            "close": self._m_ok,
            "logOut": self._m_ok,
        }

    def _m_ok(self, params: JSONDict) -> bool:
        return True

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

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
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed) or None
        self._confirm(offset)

        # Like Telegram, a newer getUpdates terminates an older one still waiting: this frees
        # the thread of a long poll PTB cancelled, and flags two bot instances polling at once.
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
            batch = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._stopping.is_set():
                return batch
            self._cond.wait(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[JSONDict]:
        if self._allowed_updates is None:
            keep = [u for u in self._pending if _update_type(u) not in _DEFAULT_EXCLUDED_UPDATES]
        else:
            keep = [u for u in self._pending if _update_type(u) in self._allowed_updates]
        # Telegram never stores updates of types the bot did not ask for.
        self._pending = keep
        return copy.deepcopy(keep[:limit])

    def _m_set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        if not url:
            self._webhook = None
            return True
        if not str(url).startswith("https://"):
            raise BotAPIError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = {k: v for k, v in params.items() if k != "certificate"}
        self._cond.notify_all()  # let a waiting getUpdates fail with 409 on its next check
        return True

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook and self._webhook.get("allowed_updates"):
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(scope: JSONDict | None, language_code: str | None) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise BotAPIError.bad_request("parameter commands is required")
        if len(commands) > 100:
            raise BotAPIError.bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise BotAPIError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise BotAPIError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _m_delete_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _store_setting(self, method: str, params: JSONDict) -> bool:
        self._bot_settings[method] = copy.deepcopy(params)
        return True

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        record = self._store_bot_message(
            "sendMessage", chat_id, "text", content, params, markup, reply_to
        )
        return self._message_json(record)

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        return self._send_media(params, "document", "sendDocument")

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_media(params, "photo", "sendPhoto")

    def _send_media(self, params: JSONDict, kind: str, method: str) -> JSONDict:
        chat_id = self._target_chat(params)
        file_info = self._resolve_input_file(params.get(kind))
        content: JSONDict
        if kind == "photo":
            content = {
                "photo": [
                    {
                        "file_id": file_info["file_id"],
                        "file_unique_id": file_info["file_unique_id"],
                        "width": 1280,
                        "height": 960,
                        "file_size": file_info["file_size"],
                    }
                ]
            }
        else:
            content = {
                "document": {
                    "file_id": file_info["file_id"],
                    "file_unique_id": file_info["file_unique_id"],
                    "file_name": file_info.get("file_name")
                    or file_info["file_path"].rsplit("/", 1)[-1],
                    "mime_type": file_info.get("mime_type", "application/octet-stream"),
                    "file_size": file_info["file_size"],
                }
            }
        if params.get("caption"):
            caption, entities = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION_LENGTH, allow_empty=True
            )
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        record = self._store_bot_message(method, chat_id, kind, content, params, markup, reply_to)
        return self._message_json(record)

    def _resolve_input_file(self, value: Any) -> JSONDict:
        if isinstance(value, dict) and value.get("upload"):
            file_id = f"BQACAgUAAx{next(self._file_ids):06d}"
            info = self.add_file(file_id, value["content"], f"documents/{value['filename']}")
            return {**info, "file_name": value["filename"], "mime_type": value["content_type"]}
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            file_id = f"BQACAgUAAx{next(self._file_ids):06d}"
            return self.add_file(file_id, b"", f"documents/{value.rsplit('/', 1)[-1]}")
        if isinstance(value, str) and value in self._files:
            info = self._files[value]
            return {k: v for k, v in info.items() if k != "content"}
        raise BotAPIError.bad_request("wrong file identifier/HTTP URL specified")

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict:
        record = self._editable(params)
        if record["kind"] != "text":
            raise BotAPIError.bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        # Telegram removes the inline keyboard when an edit omits reply_markup.
        markup = self._validate_markup(params.get("reply_markup"))
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        if content == record["content"] and markup == record["reply_markup"]:
            raise BotAPIError.bad_request(_NOT_MODIFIED)
        self._apply_edit(record, "editMessageText", content, markup, params)
        return self._message_json(record)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        record = self._editable(params)
        markup = self._validate_markup(params.get("reply_markup"))
        if markup == record["reply_markup"]:
            raise BotAPIError.bad_request(_NOT_MODIFIED)
        self._apply_edit(record, "editMessageReplyMarkup", record["content"], markup, params)
        return self._message_json(record)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id_param(params)
        message_id = int(params.get("message_id") or 0)
        record = self._bot_index.get((chat_id, message_id))
        if record is not None and not record["deleted"]:
            record["deleted"] = True
            return True
        if self._user_messages.pop((chat_id, message_id), None) is not None:
            return True
        raise BotAPIError.bad_request("message to delete not found")

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._callbacks.get(query_id)
        too_old = (
            query is None
            or query["expired"]
            or query["answered"]
            or (
                self.callback_query_ttl is not None
                and time.monotonic() - query["issued_at"] > self.callback_query_ttl
            )
        )
        if query is None or too_old:
            raise BotAPIError.bad_request(_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise BotAPIError.bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self._answered.append(
            {
                "callback_query_id": query_id,
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "data": query["data"],
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
                "timestamp": time.monotonic(),
            }
        )
        return True

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise BotAPIError.bad_request("wrong parameter action in request")
        self._actions.setdefault(chat_id, []).append(action)
        return True

    def _m_copy_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        source = self._source_message(params, "copy")
        content = {k: v for k, v in source.items() if k in _COPYABLE}
        if "caption" in params:
            caption, entities = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION_LENGTH, allow_empty=True
            )
            content["caption"] = caption
            content.pop("caption_entities", None)
            if entities:
                content["caption_entities"] = entities
        kind = _content_kind(content)
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        record = self._store_bot_message(
            "copyMessage", chat_id, kind, content, params, markup, reply_to
        )
        record["copied_from"] = (params["from_chat_id"], params.get("message_id"))
        return {"message_id": record["message_id"]}

    def _m_forward_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        source = self._source_message(params, "forward")
        content = {k: v for k, v in source.items() if k in _COPYABLE}
        sender = source.get("from") or self.bot_user
        content["forward_origin"] = {"type": "user", "date": source["date"], "sender_user": sender}
        record = self._store_bot_message(
            "forwardMessage", chat_id, _content_kind(content), content, params, None, None
        )
        record["forwarded_from"] = (params["from_chat_id"], params.get("message_id"))
        return self._message_json(record)

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        info = self._files.get(str(params.get("file_id") or ""))
        if info is None:
            raise BotAPIError.bad_request("wrong file_id or the file is temporarily unavailable")
        return {k: v for k, v in info.items() if k != "content"}

    # ---- helpers (lock held) ----------------------------------------------------------------

    def _chat_id_param(self, params: JSONDict, name: str = "chat_id") -> int:
        value = params.get(name)
        if value is None or value == "":
            raise BotAPIError.bad_request(f"{name} is empty")
        if not isinstance(value, int):
            # "@channelusername" targets are not modelled.
            raise BotAPIError.bad_request("chat not found")
        return value

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = self._chat_id_param(params)
        if chat_id in self._blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self._chats:
            if self.known_chats_only:
                raise BotAPIError.bad_request("chat not found")
            self._chats[chat_id] = self._make_chat(
                chat_id, "private" if chat_id > 0 else "supergroup"
            )
        return chat_id

    def _formatted(
        self,
        params: JSONDict,
        field: str,
        entities_field: str,
        max_length: int,
        *,
        allow_empty: bool = False,
    ) -> tuple[str, list[JSONDict]]:
        raw = params.get(field)
        raw = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        entities: list[JSONDict] = list(params.get(entities_field) or [])
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    raw, entities = parse_html(raw, strict_entities=self.strict_html_entities)
                except HTMLParseError as exc:
                    raise BotAPIError.bad_request(f"can't parse entities: {exc}") from exc
            elif mode not in ("markdown", "markdownv2"):
                raise BotAPIError.bad_request(f"unsupported parse_mode {parse_mode}")
        text, entities = _strip_formatted(raw, entities)
        empty_message = "message text is empty" if field == "text" else "message caption is empty"
        if not text and not allow_empty:
            raise BotAPIError.bad_request(empty_message)
        if len(text) > max_length:
            too_long = "message is too long" if field == "text" else "message caption is too long"
            raise BotAPIError.bad_request(too_long)
        return text, entities

    def _validate_markup(self, markup: Any) -> JSONDict | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise BotAPIError.bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return copy.deepcopy(markup)  # reply keyboards / ForceReply / remove: stored as-is
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise BotAPIError.bad_request("can't parse inline keyboard button: array expected")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise BotAPIError.bad_request("BUTTON_TEXT_INVALID")
                if not any(action in button for action in _BUTTON_ACTIONS):
                    raise BotAPIError.bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (
                    1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise BotAPIError.bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not str(button["url"]).startswith(
                    ("http://", "https://", "tg://")
                ):
                    raise BotAPIError.bad_request("BUTTON_URL_INVALID")
        # An empty inline keyboard is how bots remove one; Telegram then reports no markup.
        if not any(rows):
            return None
        return copy.deepcopy(markup)

    def _reply_target(self, chat_id: int, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        if self._find_message(chat_id, int(message_id)) is None:
            if allow_missing:
                return None
            raise BotAPIError.bad_request("message to be replied not found")
        return int(message_id)

    def _find_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        record = self._bot_index.get((chat_id, message_id))
        if record is not None and not record["deleted"]:
            return self._message_json(record, with_reply=False)
        return self._user_messages.get((chat_id, message_id))

    def _source_message(self, params: JSONDict, verb: str) -> JSONDict:
        from_chat = self._chat_id_param(params, "from_chat_id")
        found = self._find_message(from_chat, int(params.get("message_id") or 0))
        if found is None:
            raise BotAPIError.bad_request(f"message to {verb} not found")
        return found

    def _editable(self, params: JSONDict) -> JSONDict:
        if params.get("inline_message_id"):
            raise BotAPIError.bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id_param(params)
        message_id = int(params.get("message_id") or 0)
        record = self._bot_index.get((chat_id, message_id))
        if record is None or record["deleted"]:
            if (chat_id, message_id) in self._user_messages:
                raise BotAPIError.bad_request("message can't be edited")
            raise BotAPIError.bad_request("message to edit not found")
        return record

    def _store_bot_message(
        self,
        method: str,
        chat_id: int,
        kind: str,
        content: JSONDict,
        params: JSONDict,
        markup: JSONDict | None,
        reply_to: int | None,
    ) -> JSONDict:
        now = int(time.time())
        record: JSONDict = {
            "message_id": self._alloc_message_id(chat_id),
            "chat_id": chat_id,
            "kind": kind,
            "method": method,
            "content": content,
            "reply_markup": markup,
            "parse_mode": params.get("parse_mode"),
            "raw_text": params.get("text", params.get("caption")),
            "reply_to_message_id": reply_to,
            "date": now,
            "edit_date": None,
            "deleted": False,
            "params": {
                k: v for k, v in params.items() if not (isinstance(v, dict) and v.get("upload"))
            },
            "history": [],
        }
        record["history"].append(self._version(record, method))
        self._bot_messages.setdefault(chat_id, []).append(record)
        self._bot_index[(chat_id, record["message_id"])] = record
        return record

    def _apply_edit(
        self,
        record: JSONDict,
        method: str,
        content: JSONDict,
        markup: JSONDict | None,
        params: JSONDict,
    ) -> None:
        record["content"] = content
        record["reply_markup"] = markup
        if method == "editMessageText":
            record["parse_mode"] = params.get("parse_mode")
            record["raw_text"] = params.get("text")
        record["edit_date"] = int(time.time())
        record["history"].append(self._version(record, method))

    @staticmethod
    def _version(record: JSONDict, method: str) -> JSONDict:
        content = record["content"]
        return copy.deepcopy(
            {
                "method": method,
                "text": content.get("text", content.get("caption")),
                "raw_text": record["raw_text"],
                "parse_mode": record["parse_mode"],
                "entities": content.get("entities", content.get("caption_entities", [])),
                "reply_markup": record["reply_markup"],
                "timestamp": time.monotonic(),
            }
        )

    def _public_record(self, record: JSONDict) -> JSONDict:
        content = record["content"]
        public = {k: v for k, v in record.items() if k != "content"}
        public["text"] = content.get("text", content.get("caption"))
        public["entities"] = content.get("entities", content.get("caption_entities", []))
        for key in ("document", "photo", "forward_origin"):
            if key in content:
                public[key] = content[key]
        public["edit_count"] = len(record["history"]) - 1
        return copy.deepcopy(public)

    def _message_json(self, record: JSONDict, *, with_reply: bool = True) -> JSONDict:
        message: JSONDict = {
            "message_id": record["message_id"],
            "from": self.bot_user,
            "chat": self._chats[record["chat_id"]],
            "date": record["date"],
            **record["content"],
        }
        if record["edit_date"] is not None:
            message["edit_date"] = record["edit_date"]
        if record["reply_markup"] and "inline_keyboard" in record["reply_markup"]:
            message["reply_markup"] = record["reply_markup"]
        if with_reply and record["reply_to_message_id"] is not None:
            replied = self._find_message(record["chat_id"], record["reply_to_message_id"])
            if replied is not None:
                message["reply_to_message"] = {
                    k: v for k, v in replied.items() if k != "reply_to_message"
                }
        return copy.deepcopy(message)

    def _alloc_message_id(self, chat_id: int) -> int:
        # Telegram numbers messages per private chat, shared by both sides of the chat.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    @staticmethod
    def _default_user_id(chat_id: int, chat_type: str, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        # In a private chat the chat id *is* the user id.
        return chat_id if chat_type == "private" else 1_000_001

    @staticmethod
    def _make_user(
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def _make_chat(
        chat_id: int, chat_type: str, user: JSONDict | None = None, title: str | None = None
    ) -> JSONDict:
        if chat_type == "private":
            chat: JSONDict = {
                "id": chat_id,
                "type": "private",
                "first_name": (user or {}).get("first_name", f"User{chat_id}"),
            }
            for key in ("last_name", "username"):
                if user and key in user:
                    chat[key] = user[key]
            return chat
        return {"id": chat_id, "type": chat_type, "title": title or f"테스트 그룹 {chat_id}"}

    def _push_message(
        self,
        chat_id: int,
        content: JSONDict,
        *,
        user_id: int | None,
        first_name: str,
        chat_type: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "ko",
        reply_to_message_id: int | None = None,
    ) -> int:
        with self._cond:
            user = self._make_user(
                self._default_user_id(chat_id, chat_type, user_id),
                first_name,
                username,
                last_name,
                language_code,
            )
            existing = self._chats.get(chat_id)
            title = existing.get("title") if existing else None
            self._chats[chat_id] = self._make_chat(chat_id, chat_type, user, title)
            message: JSONDict = {
                "message_id": self._alloc_message_id(chat_id),
                "from": user,
                "chat": self._chats[chat_id],
                "date": int(time.time()),
                **copy.deepcopy(content),
            }
            if reply_to_message_id is not None:
                replied = self._find_message(chat_id, reply_to_message_id)
                if replied is None:
                    raise LookupError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = replied
            self._user_messages[(chat_id, message["message_id"])] = message
            return self._enqueue({"message": message})

    def _enqueue(self, update: JSONDict) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        self._pending.append(update)
        self._pushed.append(copy.deepcopy(update))
        self._cond.notify_all()
        return update_id


def _update_type(update: JSONDict) -> str:
    """The Update field that carries the payload (message, callback_query, ...)."""
    return next((k for k in update if k != "update_id"), "")


def _content_kind(content: JSONDict) -> str:
    """Classify stored message content for records."""
    for kind in ("document", "photo"):
        if kind in content:
            return kind
    return "text"


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C; stdin lines become user messages, bot replies are printed."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_botapi", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default="123:TEST")
    parser.add_argument("--username", default="helpdesk_test_bot")
    parser.add_argument("--chat-id", type=int, default=1001, help="chat used for stdin lines")
    args = parser.parse_args(argv)

    api = FakeBotAPI(args.token, args.username, host=args.host, port=args.port).start()
    print(f"Fake Bot API: {api.base_url}  (token {api.token})", flush=True)
    print(
        f"Type a line to send it from chat {args.chat_id}; '!cb <message_id> <data>' presses a "
        "button. Ctrl-C stops.",
        flush=True,
    )

    def read_stdin() -> None:
        for line in sys.stdin:
            line = line.rstrip("\n")
            try:
                if line.startswith("!cb "):
                    _, message_id, data = line.split(" ", 2)
                    api.push_callback(args.chat_id, int(message_id), data)
                elif line:
                    api.push_text(args.chat_id, line)
            except (LookupError, ValueError) as exc:
                print(f"! {exc}", flush=True)

    # Daemon: a blocked stdin read must not keep the process alive after Ctrl-C.
    threading.Thread(target=read_stdin, name="fake-botapi-stdin", daemon=True).start()
    shown = 0
    try:
        while True:
            time.sleep(0.2)
            log = api.request_log()
            for entry in log[shown:]:
                if entry["method"] != "getUpdates":
                    params = {k: v for k, v in entry["params"].items() if k != "reply_markup"}
                    print(f"<- {entry['method']} [{entry['status']}] {params}", flush=True)
            shown = len(log)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
