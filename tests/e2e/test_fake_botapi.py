"""Prove that real python-telegram-bot talks to the FakeBotAPI stand-in like it would to Telegram.

Every test runs a real ``telegram.Bot`` / ``Application`` over HTTP against a FakeBotAPI bound
to 127.0.0.1, so nothing here touches the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.support.fake_botapi import FakeBotAPI, parse_html

TOKEN = "123456:TEST-TOKEN"
BOT_USERNAME = "helpdesk_test_bot"
CHAT = 1001


def _fake_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("fake-botapi")]


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A running FakeBotAPI; teardown proves no server thread or connection survived."""
    server = FakeBotAPI(TOKEN, BOT_USERNAME).start()
    try:
        yield server
    finally:
        server.stop()
    assert _fake_threads() == []
    assert server.server_errors == []


def build_app(api: FakeBotAPI, builder: ApplicationBuilder | None = None) -> Application:
    """An Application wired to the fake (no job queue: keep tests lean)."""
    builder = builder or ApplicationBuilder()
    return (
        builder.token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .job_queue(None)
        .build()
    )


@contextlib.asynccontextmanager
async def polling(app: Application, poll_timeout: int = 1) -> AsyncIterator[Application]:
    """Run ``app`` with long polling for the duration of the block, then shut it down cleanly."""
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout)  # type: ignore[union-attr]
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[ExtBot[None]]:
    """An initialised bot (getMe done) for request/response tests that need no polling."""
    app = build_app(api)
    async with app:
        yield app.bot


# ---- polling & replies ------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to plain text so tests can see a round trip."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(f"받았습니다: {update.message.text}")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to /start with its deep-link argument."""
    assert update.message is not None
    await update.message.reply_html(f"<b>환영합니다</b> (인자: {' '.join(context.args or [])})")


async def test_polling_delivers_text_and_command_and_records_replies(api: FakeBotAPI) -> None:
    app = build_app(api)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    async with polling(app):
        api.push_text(CHAT, "환불 문의드립니다")
        reply = await api.wait_for_message(CHAT, "받았습니다")
        api.push_command(CHAT, "start", "abc")
        welcome = await api.wait_for_message(CHAT, "환영합니다")

    assert reply["text"] == "받았습니다: 환불 문의드립니다"
    assert reply["parse_mode"] is None
    assert welcome["text"] == "환영합니다 (인자: abc)"
    assert welcome["parse_mode"] == "HTML"
    assert welcome["entities"] == [{"offset": 0, "length": 5, "type": "bold"}]
    # User and bot share one message-id sequence per chat, as in Telegram: 1 in, 2 out, ...
    assert [m["message_id"] for m in api.messages(CHAT)] == [2, 4]
    # Updater.stop() confirms the last offset, so nothing is left pending.
    assert api.pending_updates() == []
    # PTB 22 sends plain parameters form-urlencoded (JSON-encoding only nested values).
    send = api.request_log("sendMessage")[0]
    assert send["content_type"] == "application/x-www-form-urlencoded"
    assert send["status"] == 200


async def test_group_command_with_bot_mention_reaches_command_handler(api: FakeBotAPI) -> None:
    app = build_app(api)
    app.add_handler(CommandHandler("start", start))

    async with polling(app):
        api.push_command(-100123, "start", "grp", user_id=77, chat_type="supergroup", mention=True)
        welcome = await api.wait_for_message(-100123)

    assert welcome["text"] == "환영합니다 (인자: grp)"
    assert api.updates()[0]["message"]["text"] == f"/start@{BOT_USERNAME} grp"


# ---- callback queries ------------------------------------------------------------------------


async def test_callback_query_is_answered_and_message_edited(api: FakeBotAPI) -> None:
    seen_texts: list[str | None] = []

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("환불 문의", callback_data="refund")],
                [InlineKeyboardButton("상담원 연결", callback_data="agent")],
            ]
        )
        await update.message.reply_text("무엇을 도와드릴까요?", reply_markup=keyboard)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        seen_texts.append(getattr(query.message, "text", None))
        await query.answer("확인했습니다")
        await query.edit_message_text(f"선택: {query.data}")

    app = build_app(api)
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(on_button))

    async with polling(app):
        api.push_command(CHAT, "menu")
        prompt = await api.wait_for_message(CHAT, "무엇을")
        assert api.buttons(CHAT) == [("환불 문의", "refund"), ("상담원 연결", "agent")]

        query_id = api.push_callback(CHAT, prompt["message_id"], "refund")
        answer = await api.wait_for_answer(query_id)
        edited = await api.wait_for(
            lambda: (
                api.message(CHAT, prompt["message_id"])["edit_count"] == 1
                and api.message(CHAT, prompt["message_id"])
            )
        )

        # A second answer to the same query is rejected like Telegram does.
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(query_id)

    assert seen_texts == ["무엇을 도와드릴까요?"]  # the callback carried the live message
    assert answer["text"] == "확인했습니다"
    assert answer["data"] == "refund"
    assert answer["show_alert"] is False
    assert edited["text"] == "선택: refund"
    # editMessageText without reply_markup drops the keyboard, as on Telegram.
    assert edited["reply_markup"] is None
    assert api.buttons(CHAT) == []
    assert [v["text"] for v in edited["history"]] == ["무엇을 도와드릴까요?", "선택: refund"]
    assert [c.method for c in api.calls("editMessageText")] == ["editMessageText"]


async def test_expired_or_unknown_callback_query_is_rejected(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    sent = await bot.send_message(
        CHAT,
        "버튼",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    query_id = api.push_callback(CHAT, sent.message_id, "a")
    api.expire_callback(query_id)

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await bot.answer_callback_query("999")
    assert api.answered_callbacks == []


async def test_edit_reply_markup_and_not_modified(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("예", callback_data="yes")]])
    sent = await bot.send_message(CHAT, "확인하시겠어요?", reply_markup=keyboard)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("확인하시겠어요?", CHAT, sent.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 9999)

    record = api.message(CHAT, sent.message_id)
    assert record["reply_markup"] is None
    assert record["text"] == "확인하시겠어요?"
    assert record["edit_count"] == 1


# ---- fault injection ---------------------------------------------------------------------------


async def test_429_raises_retry_after_and_retry_is_recorded(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    api.fail_next("sendMessage", status=429, retry_after=2)

    with pytest.raises(RetryAfter, match=r"Retry in (2 seconds|0:00:02)"):
        await bot.send_message(CHAT, "첫 시도")
    await bot.send_message(CHAT, "재시도")

    log = api.request_log("sendMessage")
    assert [(e["status"], e["injected"]) for e in log] == [(429, True), (200, False)]
    assert [c.params["text"] for c in api.calls("sendMessage")] == ["첫 시도", "재시도"]
    assert [m["text"] for m in api.messages(CHAT)] == ["재시도"]


async def test_429_is_retried_by_aioratelimiter_after_retry_after(api: FakeBotAPI) -> None:
    app = build_app(api, ApplicationBuilder().rate_limiter(AIORateLimiter(max_retries=1)))
    async with app:
        api.fail_next("sendMessage", status=429, retry_after=1)
        sent = await app.bot.send_message(CHAT, "한 번만 전달")

    first, second = api.calls("sendMessage")
    assert second.timestamp - first.timestamp >= 1.0  # waited retry_after before retrying
    assert [e["status"] for e in api.request_log("sendMessage")] == [429, 200]
    assert [m["text"] for m in api.messages(CHAT)] == ["한 번만 전달"]
    assert sent.message_id == api.last_message(CHAT)["message_id"]  # type: ignore[index]


async def test_502_html_body_surfaces_as_network_error(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    api.fail_next("sendMessage", status=502)

    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)") as excinfo:
        await bot.send_message(CHAT, "실패")
    assert not isinstance(excinfo.value, BadRequest)
    await bot.send_message(CHAT, "성공")

    assert [e["status"] for e in api.request_log("sendMessage")] == [502, 200]
    assert [m["text"] for m in api.messages(CHAT)] == ["성공"]


@pytest.mark.parametrize("status", [502, 429])
async def test_polling_recovers_from_get_updates_failure(api: FakeBotAPI, status: int) -> None:
    app = build_app(api)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    api.fail_next("getUpdates", status=status, retry_after=1)

    async with polling(app):
        api.push_text(CHAT, "장애 후에도")
        reply = await api.wait_for_message(CHAT, timeout=4.5)

    assert reply["text"] == "받았습니다: 장애 후에도"
    statuses = [e["status"] for e in api.request_log("getUpdates")]
    assert statuses[0] == status
    assert 200 in statuses[1:]


async def test_delay_makes_client_time_out_but_message_is_still_delivered(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    api.delay_next("sendMessage", 0.8)

    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "지연된 메시지", read_timeout=0.2)
    delivered = await api.wait_for_message(CHAT, "지연된")

    # The classic duplicate-send hazard: Telegram delivered it although the client gave up.
    assert delivered["text"] == "지연된 메시지"


async def test_blocked_user_gives_forbidden(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    api.block(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CHAT, "안녕하세요")
    assert api.messages(CHAT) == []


# ---- long polling semantics --------------------------------------------------------------------


async def test_long_poll_returns_promptly_when_update_is_pushed(api: FakeBotAPI) -> None:
    app = build_app(api)
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async with polling(app, poll_timeout=10):
        # Let PTB park in its 10 s long poll (the call is logged on arrival) before pushing.
        await api.wait_for_call("getUpdates")
        await asyncio.sleep(0.2)
        pushed_at = time.monotonic()
        api.push_text(CHAT, "빨리")
        await api.wait_for_message(CHAT, "빨리")
        latency = time.monotonic() - pushed_at

    assert latency < 1.0
    long_polls = [c for c in api.calls("getUpdates") if c.params.get("timeout") == 10]
    assert long_polls, "PTB should have sent timeout=10"


async def test_get_updates_honours_offset_limit_and_timeout(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    ids = [api.push_text(CHAT, f"메시지 {n}") for n in range(3)]

    first = await bot.get_updates(limit=2)
    again = await bot.get_updates()  # unconfirmed updates are redelivered
    rest = await bot.get_updates(offset=ids[1] + 1)
    started = time.monotonic()
    empty = await bot.get_updates(offset=ids[2] + 1, timeout=1)
    waited = time.monotonic() - started

    assert [u.update_id for u in first] == ids[:2]
    assert [u.update_id for u in again] == ids
    assert [u.message.text for u in rest if u.message] == ["메시지 2"]
    assert empty == ()
    assert 0.9 <= waited < 3.0
    assert api.pending_updates() == []


async def test_second_poller_terminates_the_first_with_conflict(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for_call("getUpdates")
    # A second bot process polling with the same token (PTB's own getUpdates pool holds one
    # connection, so the competitor uses its own client).
    async with httpx.AsyncClient() as other:
        second = await other.post(f"{api.base_url}{api.token}/getUpdates", data={"timeout": 0})

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert second.json() == {"ok": True, "result": []}


# ---- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"text": "가" * 4097}, "message is too long"),
        ({"text": "   "}, "message text is empty"),
        ({"text": "<b>굵게", "parse_mode": ParseMode.HTML}, "can't find end tag"),
        ({"text": "<b>x</i>", "parse_mode": ParseMode.HTML}, "unmatched end tag"),
        ({"text": "줄<br>바꿈", "parse_mode": ParseMode.HTML}, 'unsupported start tag "br"'),
        ({"text": "1 < 2", "parse_mode": ParseMode.HTML}, 'unsupported start tag ""'),
        ({"text": "A&B", "parse_mode": ParseMode.HTML}, "unsupported html entity"),
        (
            {
                "text": "버튼",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("긴 데이터", callback_data="x" * 65)]]
                ),
            },
            "button_data_invalid",
        ),
    ],
)
async def test_send_message_validation_matches_telegram(
    api: FakeBotAPI, bot: ExtBot[None], kwargs: dict[str, object], expected: str
) -> None:
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(CHAT, **kwargs)  # type: ignore[arg-type]
    assert expected in excinfo.value.message.lower()
    assert api.messages(CHAT) == []


async def test_valid_html_and_64_byte_callback_data_are_accepted(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    text = (
        '<b>굵게</b> <a href="https://example.com/?a=1&amp;b=2">링크</a> '
        '<span class="tg-spoiler">비밀</span> <pre><code class="language-py">x &lt; 1</code></pre>'
    )
    data = "환" * 21 + "x"  # 64 UTF-8 bytes: the limit counts bytes, not characters
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("확인", callback_data=data)]])
    await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML, reply_markup=markup)

    record = api.last_message(CHAT)
    assert record is not None
    assert record["text"] == "굵게 링크 비밀 x < 1"
    assert [e["type"] for e in record["entities"]] == ["bold", "text_link", "spoiler", "pre"]
    assert record["entities"][3]["language"] == "py"
    assert api.buttons(CHAT) == [("확인", data)]


def test_parse_html_offsets_are_utf16() -> None:
    plain, entities = parse_html("😀 <b>한글</b>")
    assert plain == "😀 한글"
    assert entities == [{"offset": 3, "length": 2, "type": "bold"}]


# ---- misc methods -----------------------------------------------------------------------------


async def test_command_menu_is_recorded_per_scope(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    await bot.set_my_commands([BotCommand("start", "시작하기"), BotCommand("help", "도움말")])
    await bot.set_my_commands(
        [BotCommand("refund", "환불 문의")], scope=BotCommandScopeAllPrivateChats()
    )
    fetched = await bot.get_my_commands()
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())

    assert [(c.command, c.description) for c in fetched] == [
        ("start", "시작하기"),
        ("help", "도움말"),
    ]
    assert api.commands() == [
        {"command": "start", "description": "시작하기"},
        {"command": "help", "description": "도움말"},
    ]
    assert api.commands({"type": "all_private_chats"}) == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_wrong_token_and_unknown_method(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    # When initialize() fails PTB never shuts its HTTP clients down (shutdown() is a no-op for
    # an uninitialised bot), so the test owns the request objects and closes them itself.
    requests = [HTTPXRequest(), HTTPXRequest()]
    wrong = Bot(
        "999:WRONG", base_url=api.base_url, request=requests[0], get_updates_request=requests[1]
    )
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        for request in requests:
            await request.shutdown()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("definitelyNotAMethod")

    statuses = {(e["method"], e["status"]) for e in api.request_log()}
    assert ("getMe", 401) in statuses
    assert ("definitelyNotAMethod", 404) in statuses


async def test_webhook_blocks_get_updates_until_deleted(api: FakeBotAPI, bot: ExtBot[None]) -> None:
    await bot.set_webhook("https://example.invalid/hook")
    info = await bot.get_webhook_info()
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()

    assert info.url == "https://example.invalid/hook"
    assert await bot.get_updates() == ()
    assert api.webhook is None


async def test_documents_photos_and_file_download(api: FakeBotAPI) -> None:
    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        doc = update.message.document
        await update.message.reply_text(
            f"{doc.file_name} ({doc.mime_type}) {update.message.caption}"
        )

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        content = await file.download_as_bytearray()
        await update.message.reply_text(f"사진 {len(content)}바이트: {bytes(content).decode()}")

    app = build_app(api)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))

    async with polling(app):
        api.push_document(CHAT, "DOC1", "영수증.pdf", "application/pdf", caption="환불 증빙")
        doc_reply = await api.wait_for_message(CHAT, "영수증")
        api.push_photo(CHAT, "PHOTO1", content=b"jpeg-bytes")
        photo_reply = await api.wait_for_message(CHAT, "사진")

    assert doc_reply["text"] == "영수증.pdf (application/pdf) 환불 증빙"
    assert photo_reply["text"] == "사진 10바이트: jpeg-bytes"


async def test_upload_is_multipart_and_copy_message_hands_off(
    api: FakeBotAPI, bot: ExtBot[None]
) -> None:
    staff_chat = -1009999
    api.push_document(CHAT, "DOC9", "통장사본.jpg", "image/jpeg", caption="계좌 확인")
    user_message_id = api.updates()[-1]["message"]["message_id"]

    sent = await bot.send_document(CHAT, b"%PDF-1.4 fake", filename="안내.pdf", caption="안내문")
    copied = await bot.copy_message(staff_chat, CHAT, user_message_id)

    upload = api.request_log("sendDocument")[0]
    assert upload["content_type"] == "multipart/form-data"
    assert upload["params"]["document"]["filename"] == "안내.pdf"
    assert sent.document is not None and sent.document.file_size == len(b"%PDF-1.4 fake")
    assert api.message(CHAT, sent.message_id)["text"] == "안내문"
    handed_off = api.message(staff_chat, copied.message_id)
    assert handed_off["document"]["file_id"] == "DOC9"
    assert handed_off["text"] == "계좌 확인"


@pytest.mark.parametrize("encoding", ["json", "form", "multipart", "query"])
def test_all_request_encodings_are_understood(api: FakeBotAPI, encoding: str) -> None:
    url = f"{api.base_url}{api.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    form = {"chat_id": str(CHAT), "text": "인코딩", "reply_markup": json.dumps(markup)}
    with httpx.Client() as client:
        if encoding == "json":
            response = client.post(url, json={**form, "chat_id": CHAT, "reply_markup": markup})
        elif encoding == "form":
            response = client.post(url, data=form)
        elif encoding == "multipart":
            response = client.post(url, data=form, files={"thumb": ("t.jpg", b"\x00\xff")})
        else:
            response = client.get(url, params=form)

    assert response.json()["ok"] is True
    assert response.json()["result"]["reply_markup"] == markup
    record = api.last_message(CHAT)
    assert record is not None
    assert (record["text"], record["reply_markup"]) == ("인코딩", markup)


def test_sync_waiters_work_from_a_plain_thread(api: FakeBotAPI) -> None:
    found: list[str] = []

    def waiter() -> None:
        found.append(api.wait_for_message_sync(CHAT, "스레드", timeout=3)["text"])

    thread = threading.Thread(target=waiter)
    thread.start()
    with httpx.Client() as client:
        client.post(
            f"{api.base_url}{api.token}/sendMessage", data={"chat_id": CHAT, "text": "스레드 OK"}
        )
    thread.join(3)

    assert found == ["스레드 OK"]
    assert api.wait_for_call_sync("sendMessage")[0].params["text"] == "스레드 OK"


def test_another_process_can_poll_and_reply(api: FakeBotAPI) -> None:
    # The real bot will run as `helpdesk run --base-url ...`; prove a separate process sees
    # pushed updates and its replies land in the test's FakeBotAPI.
    child = textwrap.dedent(
        """
        import json, sys, urllib.parse, urllib.request
        base = sys.argv[1]
        with urllib.request.urlopen(base + "/getUpdates?timeout=3", timeout=5) as resp:
            message = json.load(resp)["result"][0]["message"]
        body = urllib.parse.urlencode(
            {"chat_id": message["chat"]["id"], "text": "자식: " + message["text"]}
        ).encode()
        urllib.request.urlopen(base + "/sendMessage", data=body, timeout=5).close()
        """
    )
    api.push_text(CHAT, "다른 프로세스")
    result = subprocess.run(
        [sys.executable, "-c", child, f"{api.base_url}{api.token}"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert api.last_message(CHAT)["text"] == "자식: 다른 프로세스"  # type: ignore[index]


def test_reset_keeps_update_ids_increasing(api: FakeBotAPI) -> None:
    first = api.push_text(CHAT, "하나")
    api.reset()
    second = api.push_text(CHAT, "둘")

    assert second > first
    assert [u["update_id"] for u in api.pending_updates()] == [second]
    assert api.calls() == []


def test_context_manager_stops_server() -> None:
    with FakeBotAPI() as server:
        url = f"{server.base_url}{server.token}/getMe"
        assert httpx.get(url).json()["result"]["username"] == "helpdesk_test_bot"
    assert not server.running
    assert _fake_threads() == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)
