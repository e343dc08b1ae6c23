"""The stand-in Bot API (testkit/botapi.py) answers real python-telegram-bot as Telegram would,
for the methods the bot uses, and its injected faults look to PTB like the real thing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from testkit.botapi import FakeBotAPI

TOKEN = "123456:TEST-TOKEN"
CHAT = 1001
BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("환불 문의", callback_data="refund")]])


def _server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("fake-botapi")]


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A running stand-in; teardown proves no server thread survived and no handler failed."""
    server = FakeBotAPI(TOKEN).start()
    try:
        yield server
    finally:
        server.stop()
    assert _server_threads() == []
    assert server.server_errors == []


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[ExtBot[None]]:
    """An initialised PTB bot talking to the stand-in (short read timeout for fault tests)."""
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .read_timeout(0.5)
        .job_queue(None)
        .build()
    )
    async with app:
        yield app.bot


async def test_a_polling_bot_gets_text_and_presses_and_its_replies_are_recorded(api: FakeBotAPI):
    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"받았어요: {update.message.text}", reply_markup=BUTTON)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"선택: {query.data}")

    app: Application = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_press))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        api.push_command(CHAT, "start", "code123")
        first = await api.wait_for(lambda: api.messages(CHAT))
        offered = api.buttons(CHAT)
        query_id = api.push_callback(CHAT, first[0]["message_id"], "refund")
        await api.wait_for(lambda: api.answered_callbacks)
        edited = await api.wait_for(
            lambda: api.messages(CHAT)[0]["edit_date"] and api.messages(CHAT)
        )
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()

    assert first[0]["text"] == "받았어요: /start code123"
    assert offered == [("환불 문의", "refund")]
    assert edited[0]["text"] == "선택: refund"
    assert edited[0]["reply_markup"] is None  # an edit without markup drops the keyboard
    assert edited[0]["history"] == ["받았어요: /start code123", "선택: refund"]
    assert api.answered_callbacks[0]["callback_query_id"] == query_id
    # User and bot share one message-id sequence per chat: 1 in, 2 out.
    assert first[0]["message_id"] == 2
    assert api.pending_updates() == []  # the offset was confirmed on stop


async def test_telegrams_refusals_the_bot_must_handle(api: FakeBotAPI, bot: ExtBot[None]):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "가" * 4097)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(CHAT, "버튼", reply_markup=too_long_data)
    with pytest.raises(BadRequest, match=r"(?i)plain text only"):
        await bot.send_message(CHAT, "<b>굵게</b>", parse_mode="HTML")

    sent = await bot.send_message(CHAT, "확인하시겠어요?", reply_markup=BUTTON)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("확인하시겠어요?", CHAT, sent.message_id, reply_markup=BUTTON)
    query_id = api.push_callback(CHAT, sent.message_id, "refund")
    api.expire_callback(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)

    api.block(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(CHAT, "안녕하세요")
    assert [m["text"] for m in api.messages(CHAT)] == ["확인하시겠어요?"]


async def test_a_keyboard_can_be_taken_off_and_an_unchanged_one_is_refused(
    api: FakeBotAPI, bot: ExtBot[None]
):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("다음", callback_data="next")]])
    sent = await bot.send_message(CHAT, "질문", reply_markup=keyboard)
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    [message] = api.messages(CHAT)
    assert message["text"] == "질문" and message["reply_markup"] is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)


async def test_the_command_menu_and_the_webhook_are_recorded(api: FakeBotAPI, bot: ExtBot[None]):
    await bot.set_my_commands([BotCommand("help", "도움말")])
    await bot.set_webhook("https://bot.example.test/hook", secret_token="s3cret")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    webhook = api.webhook
    await bot.delete_webhook()

    assert api.commands() == [{"command": "help", "description": "도움말"}]
    assert webhook is not None and webhook["secret_token"] == "s3cret"
    assert api.webhook is None and await bot.get_updates() == ()


async def test_a_second_poller_ends_the_first_with_a_conflict(api: FakeBotAPI, bot: ExtBot[None]):
    first = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
    await api.wait_for(lambda: api.calls("getUpdates"))
    async with httpx.AsyncClient() as other:
        second = await other.post(f"{api.base_url}{api.token}/getUpdates", data={"timeout": 0})

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert second.json() == {"ok": True, "result": []}


async def test_an_unknown_method_or_a_wrong_token_is_refused(api: FakeBotAPI):
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{api.base_url}{api.token}/sendVideoNote", data={"chat_id": 1})
        wrong = await client.post(f"{api.base_url}999:WRONG/getMe")
    assert unknown.status_code == 404 and "method not found" in unknown.json()["description"]
    assert wrong.status_code == 401


# ---- fault injection ---------------------------------------------------------------------------


async def test_a_429_carries_retry_after_and_sends_nothing(api: FakeBotAPI, bot: ExtBot[None]):
    api.fail_next("sendMessage", status=429, retry_after=120)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "첫 시도")
    assert "120" in str(caught.value) or "0:02:00" in str(caught.value)
    assert api.messages(CHAT) == []
    assert [(e["status"], e["fault"]) for e in api.request_log("sendMessage")] == [(429, "error")]


async def test_a_502_page_is_a_network_error_and_sends_nothing(api: FakeBotAPI, bot: ExtBot[None]):
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "실패")
    assert api.messages(CHAT) == []


async def test_a_delayed_call_times_out_but_is_delivered(api: FakeBotAPI, bot: ExtBot[None]):
    api.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "늦은 메시지")
    await api.wait_for(lambda: api.messages(CHAT))
    assert [m["text"] for m in api.messages(CHAT)] == ["늦은 메시지"]


async def test_a_hang_then_drop_times_out_and_delivers_nothing(api: FakeBotAPI, bot: ExtBot[None]):
    api.drop_next("sendMessage", after=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "사라진 메시지")
    await api.wait_for(lambda: api.request_log("sendMessage")[0]["fault"] == "drop", timeout=3)
    await asyncio.sleep(0.8)  # past the hold: the call was dropped, not carried out late
    assert api.messages(CHAT) == []
    assert api.request_log("sendMessage")[0]["status"] is None


async def test_an_immediate_drop_is_a_network_error(api: FakeBotAPI, bot: ExtBot[None]):
    api.drop_next("sendMessage")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(CHAT, "끊김")
    assert not isinstance(caught.value, TimedOut)
    assert api.messages(CHAT) == []


async def test_a_reset_after_handling_delivers_but_the_client_sees_an_error(
    api: FakeBotAPI, bot: ExtBot[None]
):
    api.reset_after_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "전달됐지만 응답 없음")
    assert [m["text"] for m in api.messages(CHAT)] == ["전달됐지만 응답 없음"]
    await bot.send_message(CHAT, "다음 메시지")  # the client recovers on a new connection
    assert len(api.messages(CHAT)) == 2


def test_stopping_closes_a_long_poll_and_every_thread() -> None:
    server = FakeBotAPI(TOKEN).start()
    url = f"{server.base_url}{server.token}/getUpdates"
    result: list[int] = []
    poller = threading.Thread(
        target=lambda: result.append(httpx.post(url, data={"timeout": 30}, timeout=40).status_code)
    )
    poller.start()
    server.wait_for_call_sync("getUpdates")
    server.stop()
    poller.join(5)
    assert not poller.is_alive() and result == [200]
    assert _server_threads() == []


# ---- forums, members and files -----------------------------------------------------------------

FORUM = -1001234567890
AGENT = 7001


async def test_forum_topics_are_created_written_in_closed_and_reopened(
    api: FakeBotAPI, bot: ExtBot[None]
):
    api.make_forum(FORUM)
    topic = await bot.create_forum_topic(FORUM, "R-20261201-0003 · 정다은 · SMS-1002")
    thread = topic.message_thread_id
    sent = await bot.send_message(FORUM, "카드", message_thread_id=thread)
    await bot.close_forum_topic(FORUM, thread)
    with pytest.raises(BadRequest, match=r"(?i)topic_not_modified"):
        await bot.close_forum_topic(FORUM, thread)
    await bot.reopen_forum_topic(FORUM, thread)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(FORUM, "없는 주제", message_thread_id=thread + 100)

    assert sent.message_thread_id == thread and sent.is_topic_message
    [listed] = api.topics(FORUM)
    assert listed["message_thread_id"] == thread and listed["name"].startswith("R-20261201")
    assert listed["history"] == ["created", "closed", "reopened"] and not listed["closed"]
    assert [m["text"] for m in api.messages(FORUM, thread=thread)] == ["카드"]
    kinds = [m["kind"] for m in api.service_messages(FORUM)]
    assert kinds == ["forum_topic_created", "forum_topic_closed", "forum_topic_reopened"]


async def test_topics_need_a_forum_and_the_right_to_manage_them(
    api: FakeBotAPI, bot: ExtBot[None]
):
    await bot.send_message(-100555, "일반 그룹")  # a plain supergroup, not a forum
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(-100555, "주제")
    api.make_forum(FORUM, can_manage_topics=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.create_forum_topic(FORUM, "주제")
    me = await bot.get_chat_member(FORUM, api.bot_id)
    assert me.status == "administrator" and me.can_manage_topics is False  # type: ignore[attr-defined]


async def test_get_chat_member_answers_from_the_member_list(api: FakeBotAPI, bot: ExtBot[None]):
    api.make_forum(FORUM)
    api.add_member(FORUM, AGENT, "상담", "김")
    api.add_member(FORUM, AGENT + 1, "팀장", status="creator")

    member = await bot.get_chat_member(FORUM, AGENT)
    owner = await bot.get_chat_member(FORUM, AGENT + 1)
    api.remove_member(FORUM, AGENT)
    gone = await bot.get_chat_member(FORUM, AGENT)
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(FORUM, 424242)

    assert member.status == "member" and member.user.full_name == "상담 김"
    assert owner.status == "creator"
    assert gone.status == "left"


async def test_a_member_writes_in_a_topic_and_presses_a_button_under_their_own_name(
    api: FakeBotAPI, bot: ExtBot[None]
):
    api.make_forum(FORUM)
    api.add_member(FORUM, AGENT, "상담")
    thread = (await bot.create_forum_topic(FORUM, "Q-20261201-0001")).message_thread_id
    card = await bot.send_message(FORUM, "카드", message_thread_id=thread, reply_markup=BUTTON)
    api.push_text(FORUM, "/close", user_id=AGENT, chat_type="supergroup", message_thread_id=thread)
    api.push_callback(FORUM, card.message_id, "refund", user_id=AGENT)

    updates = await bot.get_updates()
    message, press = updates[0].message, updates[1].callback_query
    assert message is not None and press is not None
    assert message.message_thread_id == thread and message.is_topic_message
    assert message.from_user is not None and message.from_user.first_name == "상담"
    assert message.chat.is_forum and message.text == "/close"
    assert press.from_user.id == AGENT and press.message.message_thread_id == thread  # type: ignore[union-attr]


async def test_photos_are_uploaded_as_multipart_or_sent_again_by_file_id(
    api: FakeBotAPI, bot: ExtBot[None]
):
    api.make_forum(FORUM)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    uploaded = await bot.send_photo(FORUM, png, caption="지난 7일 통계")
    again = await bot.send_photo(FORUM, uploaded.photo[-1].file_id)
    document = await bot.send_document(FORUM, "BQACAgUAAx-doc-1", caption="확인증")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(FORUM, png, caption="가" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)no text in the message"):
        await bot.edit_message_text("글", chat_id=FORUM, message_id=uploaded.message_id)
    await bot.pin_chat_message(FORUM, uploaded.message_id, disable_notification=True)

    calls = api.request_log("sendPhoto")
    assert calls[0]["params"]["photo"].content_type  # a multipart file part
    assert api.file_bytes(uploaded.photo[-1].file_id) == png
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    assert document.document is not None and document.document.file_id == "BQACAgUAAx-doc-1"
    assert [m["caption"] for m in api.messages(FORUM)] == ["지난 7일 통계", None, "확인증"]
    assert api.pinned(FORUM) == [uploaded.message_id]
