"""Agents in Telegram: the real `helpdesk run` with a staff chat, against the stand-in Bot API.

The staff chat is a forum supergroup of the stand-in where the bot is an administrator that may
manage topics; agents are its members. Each test plays customers in their private chats and
agents in the forum (presses on cards, messages in topics) and asserts what each side reads and
what the database holds. Tests that keep to their own customers share one bot process
(`desk`); those that stop the bot, need other settings or count every message into the group
get their own (`fresh`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.models import Reason
from core.storage import Database
from core.usecases import Filing, Helpdesk
from tests.e2e.conftest import WAIT, Chat, Harness, _close, _new_api

STAFF = -1001234567890
AGENT, AGENT_NAME = 7001, "김상담"
OTHER_AGENT = 7002
STRANGER = 9999  # not a member of the staff chat
GROUP_MESSAGES = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "createForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "pinChatMessage",
    }
)


def staffed(harness: Harness, **settings: str) -> Harness:
    """Give `harness` a staff chat with two agents, and the bot the settings to serve it."""
    harness.api.make_forum(STAFF, "환불 상담실")
    harness.api.add_member(STAFF, AGENT, AGENT_NAME)
    harness.api.add_member(STAFF, OTHER_AGENT, "이팀장", status="administrator")
    harness.env |= {"HELPDESK_STAFF_CHAT_ID": str(STAFF)}
    harness.env |= {f"HELPDESK_{k.upper()}": v for k, v in settings.items()}
    return harness


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One bot with a staff chat for the tests that use their own customers.

    Its pacing is raised (200 a minute): together these tests post more than 20 messages into
    the group in a minute, which the default would rightly spread over several minutes.
    """
    h = staffed(Harness(_new_api(), tmp_path_factory.mktemp("staff")), staff_rate="200")
    try:
        h.import_customers()
        h.start_bot()
        yield h
    finally:
        _close(h)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Harness]:
    """A stand-in with a staff chat and an imported database; the bot is not started."""
    h = staffed(Harness(_new_api(), tmp_path))
    try:
        h.import_customers()
        yield h
    finally:
        _close(h)


# Looking at the staff chat ------------------------------------------------------------------------


def topic(h: Harness, number: str) -> dict[str, Any]:
    """Wait for the forum topic of case `number` and return it."""

    def found() -> dict[str, Any] | None:
        return next((t for t in h.api.topics(STAFF) if t["name"].startswith(number)), None)

    return h.wait(found, f"a topic for {number}")


def in_topic(h: Harness, thread: int) -> list[dict[str, Any]]:
    """The bot's messages in a topic, in order."""
    return h.api.messages(STAFF, thread=thread)


def wait_in_topic(h: Harness, thread: int, *fragments: str) -> dict[str, Any]:
    """Wait for a bot message in the topic that contains every fragment; return it."""

    def found() -> dict[str, Any] | None:
        for message in in_topic(h, thread):
            text = message["text"] or message.get("caption") or ""
            if all(f in text for f in fragments):
                return message
        return None

    return h.wait(found, f"a message with {fragments!r} in topic {thread}")


def card(h: Harness, number: str) -> dict[str, Any]:
    """The case's card (as edited so far)."""
    thread = topic(h, number)["message_thread_id"]
    return wait_in_topic(h, thread, number, "상태:")


def card_showing(h: Harness, number: str, fragment: str) -> dict[str, Any]:
    """Wait until the case's card shows `fragment` (it is edited as the case changes)."""

    def shows() -> dict[str, Any] | None:
        found = card(h, number)
        return found if fragment in found["text"] else None

    return h.wait(shows, f"the card of {number} to show {fragment!r}")


def buttons(h: Harness, message: dict[str, Any]) -> dict[str, str]:
    """label -> callback data of a staff message's buttons."""
    return dict(h.api.buttons(STAFF, message["message_id"]))


def press(h: Harness, message: dict[str, Any], label: str, user: int = AGENT) -> str:
    """An agent presses a button of a staff message; the query id."""
    return h.api.push_callback(STAFF, message["message_id"], buttons(h, message)[label], user)


def write(h: Harness, thread: int | None, text: str, user: int = AGENT) -> None:
    """An agent writes in a topic (None: General)."""
    h.api.push_text(STAFF, text, user_id=user, chat_type="supergroup", message_thread_id=thread)


def request(h: Harness, number: str) -> dict[str, Any]:
    """`helpdesk requests show --json`."""
    shown: dict[str, Any] = h.cli_json("requests", "show", number)
    return shown


def staff_outbox(h: Harness) -> list[dict[str, Any]]:
    return [r for r in h.outbox() if r["chat_id"].startswith("staff:")]


def file_on_the_web(h: Harness, customer_id: str, services: list[str]) -> list[str]:
    """File requests straight into the database, as another process (the web console) does."""

    async def run() -> list[str]:
        db = await Database.open(h.db, create=False)
        try:
            helpdesk = Helpdesk(db)
            numbers = []
            for service_id in services:
                filed, _ = await helpdesk.requests.file(
                    Filing(
                        customer_id=customer_id,
                        service_id=service_id,
                        reason=Reason.PRODUCT_CHANGE,
                        message="다른 상품으로 바꿉니다",
                        account=None,
                        channel="web",
                        chat_id=None,
                        submission_key=None,
                    )
                )
                numbers.append(filed.number)
            return numbers
        finally:
            await db.close()

    return asyncio.run(run())


# A request, from filing to its end ----------------------------------------------------------------


def test_a_new_request_opens_a_topic_with_its_card_and_an_approval_reaches_the_customer_once(
    desk: Harness,
):
    customer = Chat(desk, 3001)
    customer.link("hong03")
    number = customer.file_mycash_request("SMS-3001")

    found = topic(desk, number)
    assert found["name"] == f"{number} · 홍길동 · SMS-3001"
    filed = card(desk, number)
    text = filed["text"]
    for fact in (
        "접수됨(검토 대기)",
        "홍길동 (hong03)",
        "발급 2일째 신청(7일 중)",
        "SMS 발송 0건",
        "31,000원 (이용료 11,000원 + SMS 충전 20,000원)",
        "마이캐쉬 적립",
        "서비스 불만",
        "발송 기능이 필요 없어져서 해지합니다",
        "텔레그램",
    ):
        assert fact in text, (fact, text)
    assert list(buttons(desk, filed)) == ["승인", "반려"]
    queue = desk.wait(
        lambda: [
            m
            for m in desk.api.messages(STAFF)
            if number in (m["text"] or "") and "처리 대기" in m["text"]
        ],
        "the queue message to list the request",
    )[0]
    assert queue["message_thread_id"] is None and queue["message_id"] in desk.api.pinned(STAFF)

    query = press(desk, filed, "승인")
    customer.wait_new(len(customer.messages()), ("승인되었어요", number))
    approved = card_showing(desk, number, "승인됨")
    assert "✅ 승인 · tg:7001 (김상담)" in approved["text"]
    assert list(buttons(desk, approved)) == ["환불 완료", "반려"]
    wait_in_topic(desk, found["message_thread_id"], "✅ 승인", "tg:7001 (김상담)", number)
    assert query in {a["callback_query_id"] for a in desk.api.answered_callbacks}
    trail = request(desk, number)["events"]
    assert trail[-1]["actor"] == "agent:tg:7001 (김상담)" and trail[-1]["action"] == "approved"

    press(desk, approved, "환불 완료")
    desk.wait(lambda: topic(desk, number)["closed"], "the topic to close when the case ends")
    final = card(desk, number)
    assert "환불 완료" in final["text"] and buttons(desk, final) == {}
    notices = [t for t in customer.texts() if number in t and "승인되었어요" in t]
    assert len(notices) == 1


def test_a_rejection_asks_for_the_reason_and_the_customer_reads_the_typed_one(desk: Harness):
    customer = Chat(desk, 4001)
    customer.link("hong04")
    number = customer.file_mycash_request("SMS-4001")
    thread = topic(desk, number)["message_thread_id"]

    press(desk, card(desk, number), "반려")
    prompt = wait_in_topic(desk, thread, "반려 사유를 이 주제에 메시지로 보내 주세요")
    assert "SMS 발송 이력" in buttons(desk, prompt) and "반려 취소" in buttons(desk, prompt)
    write(desk, thread, "// 확인 중이에요", user=OTHER_AGENT)  # another agent's note: not a reason
    write(desk, thread, "이미 같은 달에 환불받으신 이력이 있어요")

    notice = customer.wait_new(len(customer.messages()), ("반려되었어요",))
    assert "사유: 이미 같은 달에 환불받으신 이력이 있어요" in notice[-1]["text"]
    desk.wait(lambda: topic(desk, number)["closed"], "the topic to close")
    rejected = card(desk, number)
    assert "반려됨" in rejected["text"] and "반려 사유: 이미 같은 달에" in rejected["text"]
    shown = request(desk, number)
    assert shown["status"] == "rejected"
    assert shown["events"][-1]["actor"].startswith("agent:tg:7001")

    # The customer writes again about it: the topic reopens with the hand-off's card in it.
    customer.press("고객센터 문의 안내", "고객센터로 문의해 주세요")
    customer.press("고객센터에 문의 남기기", "남기실 내용을 적어 주세요")
    customer.say("반려 사유가 이해되지 않아요", "문의 번호: Q-")
    desk.wait(lambda: not topic(desk, number)["closed"], "the topic to reopen")
    assert topic(desk, number)["history"] == ["created", "closed", "reopened"]
    wait_in_topic(desk, thread, "고객센터 문의 Q-", "반려 사유가 이해되지 않아요")


def test_a_press_by_a_non_member_or_for_another_case_does_nothing(desk: Harness):
    customer = Chat(desk, 5001)
    customer.link("hong05")
    number = customer.file_mycash_request("SMS-5001")
    filed = card(desk, number)
    before = len(customer.messages())

    forged = press(desk, filed, "승인", user=STRANGER)
    other_case = desk.api.push_callback(
        STAFF, filed["message_id"], "staff:ok:R-20000101-0001", AGENT
    )
    # The staff chat's updates are handled in order: once a later one is answered, the forged
    # presses have been handled (and would have been answered and queued a notice by now).
    thread = topic(desk, number)["message_thread_id"]
    write(desk, thread, "/close@" + desk.api.username)
    wait_in_topic(desk, thread, "진행 중인 문의가 없어요")

    assert request(desk, number)["status"] == "submitted"
    answered = {a["callback_query_id"] for a in desk.api.answered_callbacks}
    assert forged not in answered and other_case not in answered
    assert len(customer.messages()) == before
    assert "접수됨(검토 대기)" in card(desk, number)["text"]


def test_a_hand_off_is_relayed_both_ways_until_an_agent_closes_it(desk: Harness):
    customer = Chat(desk, 6001)
    customer.link("hong06")
    customer.say("알림톡 요금제 비교해 주세요", "고객센터")
    customer.press("고객센터 문의 안내", "고객센터로 문의해 주세요")
    customer.press("고객센터에 문의 남기기", "남기실 내용을 적어 주세요")
    filed = customer.say("SMS를 2건 보냈는데 부분 환불을 받고 싶어요", "문의 번호: Q-")
    number = filed[-1]["text"].split("문의 번호: ", 1)[1].split()[0]

    found = topic(desk, number)
    thread = found["message_thread_id"]
    assert found["name"] == f"{number} · 홍길동 · 문의"
    inquiry_card = card(desk, number)
    assert "SMS를 2건 보냈는데 부분 환불을" in inquiry_card["text"]
    assert "최근 대화:" in inquiry_card["text"]
    assert list(buttons(desk, inquiry_card)) == ["문의 종료"]

    write(desk, thread, "안녕하세요, 발송 내역을 확인해 볼게요.")
    answer = customer.wait_new(len(customer.messages()), ("안녕하세요, 발송 내역을 확인해 볼게요",))
    assert number in answer[-1]["text"]

    ack = customer.say("네 기다릴게요. 언제쯤 될까요?", "담당자에게 전달했어요")
    assert "죄송해요" not in "\n".join(m["text"] for m in ack)  # not answered as an FAQ
    wait_in_topic(desk, thread, "👤 홍길동: 네 기다릴게요. 언제쯤 될까요?")
    photo = {"file_id": "AgAC-receipt", "file_unique_id": "U1", "width": 800, "height": 600}
    desk.api.push_message(6001, {"photo": [photo]})
    desk.wait(
        lambda: any(
            (m.get("photo") or {}).get("file_id") == "AgAC-receipt" for m in in_topic(desk, thread)
        ),
        "the customer's photo in the topic",
    )
    acks = [t for t in customer.texts() if "담당자에게 전달했어요" in t]
    assert len(acks) == 1  # once until the agent writes again, not for every message

    write(desk, thread, "/close")
    desk.wait(lambda: topic(desk, number)["closed"], "the topic to close")
    closed = card(desk, number)
    assert "종료" in closed["text"] and buttons(desk, closed) == {}
    after = customer.say("하나 더 물어볼게요", "죄송해요")  # the engine answers again
    assert "담당자에게 전달했어요" not in after[-1]["text"]
    relayed = [m for m in in_topic(desk, thread) if "하나 더 물어볼게요" in (m["text"] or "")]
    assert relayed == []
    shown = desk.cli_json("inquiries", "show", number)
    assert shown["status"] == "closed" and shown["handled_by"] == "tg:7001 (김상담)"


# Restarts, the CLI, reminders, /stats and a burst -------------------------------------------------


def test_a_request_filed_while_the_bot_is_down_gets_its_card_after_start_and_cli_decisions_show(
    fresh: Harness,
):
    fresh.start_bot()
    fresh.stop_bot()
    [waiting] = file_on_the_web(fresh, "hong07", ["SMS-7001"])
    [decided] = file_on_the_web(fresh, "hong09", ["SMS-9001"])
    fresh.cli("requests", "approve", decided, "--agent", "park")
    assert fresh.api.topics(STAFF) == []

    # Telegram hiccups as the bot comes back: a 502 page, then a card whose send is dropped.
    fresh.api.fail_next("createForumTopic", status=502)
    fresh.api.drop_next("sendMessage")
    fresh.start_bot()
    assert "접수됨(검토 대기)" in card(fresh, waiting)["text"]
    mirrored = card_showing(fresh, decided, "승인됨")
    assert "✅ 승인 · park" in mirrored["text"]
    fresh.wait(
        lambda: all(r["sent_at"] for r in staff_outbox(fresh)), "every staff event sent", WAIT * 2
    )
    for number in (waiting, decided):  # retried until confirmed, and sent once
        thread = topic(fresh, number)["message_thread_id"]
        cards_posted = [m for m in in_topic(fresh, thread) if "상태:" in (m["text"] or "")]
        assert len(cards_posted) == 1
    assert len(fresh.api.topics(STAFF)) == 2
    assert fresh.api.request_log("createForumTopic")[0]["fault"] == "error"
    assert "drop" in [e["fault"] for e in fresh.api.request_log("sendMessage")]
    fresh.stop_bot()


def test_an_undecided_case_gets_one_reminder(fresh: Harness):
    staffed(fresh, remind_hours="0.0005")  # 1.8 s
    fresh.start_bot()
    [number] = file_on_the_web(fresh, "hong08", ["SMS-8001"])
    thread = topic(fresh, number)["message_thread_id"]
    wait_in_topic(fresh, thread, "⏰", number, "아직 처리되지 않았어요")
    # A case filed after that one's reminder gets its own: the sweeps went on meanwhile.
    [later] = file_on_the_web(fresh, "hong09", ["SMS-9001"])
    wait_in_topic(fresh, topic(fresh, later)["message_thread_id"], "⏰", later)
    reminders = [m for m in in_topic(fresh, thread) if "⏰" in (m["text"] or "")]
    assert len(reminders) == 1


def test_stats_answers_with_a_chart_and_the_figures(desk: Harness):
    Chat(desk, 6101).say("SMS 충전 금액도 환불되나요?", "충전 금액도 전액 환불")
    since = len(desk.api.messages(STAFF))
    write(desk, None, "/stats")

    chart = desk.wait(
        lambda: next((m for m in desk.api.messages(STAFF)[since:] if m.get("photo")), None),
        "the /stats chart",
        timeout=WAIT * 2,
    )
    png = desk.api.file_bytes(chart["photo"]["file_id"])
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "📊 지난 7일" in chart["caption"] and "sms_charge_refund" in chart["caption"]
    assert "결정(승인/반려)까지 중앙값" in chart["caption"]


def test_a_burst_of_60_requests_is_paced_in_order_loses_none_and_never_holds_customers(
    fresh: Harness,
):
    # 20 messages per 1-second window: the default's pacing (20 a minute) at 60 times the speed.
    staffed(fresh, staff_rate="20", staff_rate_window_seconds="1")
    fresh.start_bot()
    services = [f"SMS-15{i:03d}" for i in range(60)]
    numbers = file_on_the_web(fresh, "many15", services)
    customer = Chat(fresh, 1501)
    asked = time.monotonic()
    customer.say("SMS 충전 금액도 환불되나요?", "충전 금액도 전액 환불")
    answered_in = time.monotonic() - asked
    topics_when_answered = len(fresh.api.topics(STAFF))

    fresh.wait(
        lambda: len(fresh.api.topics(STAFF)) == 60
        and all(r["sent_at"] for r in staff_outbox(fresh)),
        "60 topics and every staff event sent",
        timeout=60,
    )
    names = [t["name"].split(" · ")[0] for t in fresh.api.topics(STAFF)]
    assert names == numbers  # created in filing order
    for t in fresh.api.topics(STAFF):
        [posted] = in_topic(fresh, t["message_thread_id"])
        assert t["name"].split(" · ")[0] in posted["text"]
    # Answered while the burst was still going out, without waiting behind it.
    assert topics_when_answered < 60 and answered_in < 5.0

    arrivals = [
        c.timestamp
        for c in fresh.api.calls()
        if c.method in GROUP_MESSAGES and c.params.get("chat_id") == STAFF
    ]
    assert len(arrivals) >= 120
    for first, twenty_first in zip(arrivals, arrivals[20:], strict=False):
        assert twenty_first - first >= 1.0  # never more than 20 in a window
    span = arrivals[-1] - arrivals[0]
    assert span >= len(arrivals) / 20 - 1  # paced, not sent at once


def test_the_pending_staff_messages_of_an_old_staff_chat_are_given_up(fresh: Harness):
    fresh.start_bot()
    fresh.stop_bot()
    file_on_the_web(fresh, "hong09", ["SMS-9001"])
    fresh.env.pop("HELPDESK_STAFF_CHAT_ID")
    fresh.start_bot()
    fresh.wait(lambda: all(r["failed_at"] for r in staff_outbox(fresh)), "the old rows given up")
    with sqlite3.connect(fresh.db) as conn:
        assert conn.execute("SELECT value FROM kv WHERE key = 'staff_chat'").fetchone() == ("",)
    assert fresh.api.topics(STAFF) == []
