"""Several workers on one database: two `helpdesk run --webhook-url` processes on one PostgreSQL,
fed the stand-in Bot API's updates the way a load balancer in front of them would — each chat's
updates alternately to both — and one of them killed with SIGKILL in the middle of a burst. And
long polling, which stays one process per database and says so when started twice."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.calendar import system_clock, today_kst
from core.storage import Database
from core.usecases import Helpdesk
from testkit.botapi import FakeBotAPI
from testkit.process import helpdesk_env, run_argv, wait_until_polling
from testkit.records import customer, import_file, service
from testkit.scripts import customer_script
from testkit.webhooks import Delivery, WebhookPoster, health, start_worker, wait_healthy
from tests.support.databases import TEST_KEY, RawDatabase, with_database

TOKEN = "424242:WORKERS-test-Tok3n"
WAIT = 60.0
# What each of the 8 turns of `customer_script` answers, in order.
MARKERS = (
    "계정이 연결되었어요",
    "충전 금액",
    "취소/환불할 서비스를 선택해 주세요",
    "합계: 31,000원",
    "사유를 선택해 주세요",
    "남기실 말씀",
    "신청할까요",
    "신청 번호: R-",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(url: str, prefix: str, count: int) -> list[tuple[str, str, str]]:
    """`count` customers, each with a service eligible today; (customer, service, link code)."""
    issued = today_kst(system_clock)
    people = [(f"{prefix}{i:02d}", f"{prefix.upper()}-{i:02d}") for i in range(count)]
    db = await Database.open(url, TEST_KEY)
    try:
        desk = Helpdesk(db, system_clock)
        await desk.customers.import_file(
            import_file([customer(cid, "고객", [service(sid, issued)]) for cid, sid in people])
        )
        return [(cid, sid, (await desk.linking.issue_code(cid)).code) for cid, sid in people]
    finally:
        await db.close()


@dataclass
class Turn:
    """One update of a customer's script: how it was delivered and what the chat got for it."""

    index: int
    delivery: Delivery
    replies: list[str]


def said_to(api: FakeBotAPI, chat_id: int) -> list[str]:
    """The texts the bot sent to a chat, in order: new messages and edits (a press is answered
    by editing the pressed message)."""
    return [
        e["params"]["text"]
        for e in api.request_log()
        if e["method"] in ("sendMessage", "editMessageText")
        and str(e["params"].get("chat_id")) == str(chat_id)
    ]


def newest_button(api: FakeBotAPI, chat_id: int, label: str) -> tuple[int, str]:
    """(message id, callback data) of the newest bot message offering `label`."""
    for message in reversed(api.messages(chat_id)):
        for text, data in api.buttons(chat_id, message["message_id"]):
            if text == label:
                return message["message_id"], data
    raise AssertionError(f"chat {chat_id}: no button {label!r}")


async def play(
    api: FakeBotAPI, poster: WebhookPoster, chat_id: int, code: str, service_id: str
) -> list[Turn]:
    """One customer's 8 turns, each posted to the other worker than the one before."""
    turns: list[Turn] = []
    for index, (kind, value) in enumerate(customer_script(code, service_id)):
        before = len(said_to(api, chat_id))
        if kind == "text":
            update_id = api.push_text(chat_id, value, user_id=chat_id)
        else:
            message_id, data = newest_button(api, chat_id, value)
            query_id = api.push_callback(chat_id, message_id, data, user_id=chat_id)
            update_id = api.update_id_of(query_id)
        delivery = await poster.deliver(update_id, first=(chat_id + index) % 2)
        # Acknowledged means processed: its replies were sent before the 200.
        replies = said_to(api, chat_id)[before:]
        turns.append(Turn(index, delivery, replies))
    return turns


def requests_per_customer(raw: RawDatabase, prefix: str) -> dict[str, int]:
    rows = raw.rows(
        "SELECT customer_id, count(*) FROM refund_requests WHERE customer_id LIKE ?"
        " GROUP BY customer_id",
        (f"{prefix}%",),
    )
    return {cid: int(n) for cid, n in rows}


def assert_answered_in_order(turns: list[Turn], chat_id: int) -> None:
    """Each turn acknowledged at the first try got its own answer, after the previous one's."""
    for turn in turns:
        if not turn.delivery.retried:
            assert any(MARKERS[turn.index] in text for text in turn.replies), (
                f"chat {chat_id} turn {turn.index}: {turn.replies}"
            )


@pytest.mark.postgres_only
async def test_two_webhook_workers_share_one_postgresql_and_survive_a_sigkill(
    database_url: str, tmp_path: Path
) -> None:
    raw = RawDatabase(database_url)
    first_group = await prepare(database_url, "a", 10)
    second_group = await prepare(database_url, "b", 12)
    env = helpdesk_env(
        TOKEN,
        database_url=database_url,
        secret_key=TEST_KEY.decode(),
        outbox_interval_seconds="0.2",
    )
    ports = [free_port(), free_port()]
    with FakeBotAPI(TOKEN) as api:
        logs = [tmp_path / f"worker{i}.log" for i in range(2)]
        workers = [
            start_worker(api, env, port, None, log) for port, log in zip(ports, logs, strict=True)
        ]
        try:
            await asyncio.to_thread(wait_healthy, workers, ports)
            # No --secret-token: the workers share one through the database, as they must
            # (Telegram sends one secret to whichever worker the load balancer picks).
            [secret] = {call.params["secret_token"] for call in api.calls("setWebhook")}
            assert len(api.calls("setWebhook")) == 2
            async with WebhookPoster(api, ports, secret) as poster:
                # 1. Both workers up: every chat's updates alternate between them.
                chats = {1000 + i: person for i, person in enumerate(first_group)}
                played = await asyncio.gather(
                    *(play(api, poster, chat, code, sid) for chat, (_, sid, code) in chats.items())
                )
                for chat, turns in zip(chats, played, strict=True):
                    assert not any(t.delivery.retried for t in turns)
                    assert {t.delivery.acknowledged_by for t in turns} == {0, 1}
                    assert_answered_in_order(turns, chat)
                assert requests_per_customer(raw, "a") == {cid: 1 for cid, _, _ in first_group}

                # 2. The agents approve: both workers' outboxes race; each message goes once.
                db = await Database.open(database_url, TEST_KEY)
                try:
                    desk = Helpdesk(db, system_clock)
                    for request in await desk.requests.list():
                        await desk.requests.approve(request.number, "kim")
                finally:
                    await db.close()

                def all_sent() -> bool:
                    return raw.rows("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]

                await api.wait_for(all_sent, WAIT)
                for chat in chats:
                    notices = [t for t in (m["text"] for m in api.messages(chat)) if "승인" in t]
                    assert len(notices) == 1, notices
                approvals = [c for c in api.calls("sendMessage") if "승인" in c.params["text"]]
                assert len(approvals) == len(chats)

                # 3. A burst, and worker 1 killed with SIGKILL in the middle of it.
                chats = {2000 + i: person for i, person in enumerate(second_group)}
                already = len(poster.delivered)
                kill_after = already + len(chats) * len(MARKERS) * 2 // 5

                def kill_worker_1_mid_burst(delivery: Delivery) -> None:
                    if len(poster.delivered) == kill_after:
                        workers[1].send_signal(signal.SIGKILL)

                poster.after_each = kill_worker_1_mid_burst
                played = await asyncio.gather(
                    *(play(api, poster, chat, code, sid) for chat, (_, sid, code) in chats.items())
                )
                burst = poster.delivered[already:]
            assert workers[1].wait(WAIT) == -signal.SIGKILL
            assert any(d.retried for d in burst), "the kill should have cut into the burst"
            assert len(burst) == len(chats) * len(MARKERS)  # every update acknowledged in the end
            # Nothing acknowledged was lost: every customer filed exactly once, and each turn
            # acknowledged at the first try — by either worker, before or after the kill — had
            # its answer, in order.
            assert requests_per_customer(raw, "b") == {cid: 1 for cid, _, _ in second_group}
            for chat, turns in zip(chats, played, strict=True):
                assert_answered_in_order(turns, chat)
                assert any("신청 번호: R-" in text or "이미" in text for text in turns[-1].replies)

            # 4. GET /healthz follows the database: 503 while it refuses connections, then 200.
            name = database_url.rsplit("/", 1)[1]
            admin = RawDatabase(with_database(database_url, "postgres"))
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            try:
                admin.rows(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?",
                    (name,),
                )
                await api.wait_for(lambda: health(ports[0]) == 503, WAIT)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            await api.wait_for(lambda: health(ports[0]) == 200, WAIT)

            workers[0].send_signal(signal.SIGTERM)
            assert workers[0].wait(WAIT) == 0, logs[0].read_text()
        finally:
            for process in workers:  # whatever failed above, leave no worker running
                if process.poll() is None:
                    process.kill()
                    process.wait()
    text = "\n".join(log.read_text("utf-8", "replace") for log in logs)
    password = urlsplit(database_url).password
    assert password and password not in text  # the logs name the database as user:***@host
    assert TOKEN.split(":")[1] not in text and secret not in text


@pytest.mark.both_backends
def test_a_second_long_polling_process_on_one_database_is_refused(
    database_url: str, secret_key: bytes | None, tmp_path: Path
) -> None:
    settings = {"database_url": database_url}
    if secret_key is not None:
        settings["secret_key"] = secret_key.decode()
    env = helpdesk_env(TOKEN, **settings)
    with FakeBotAPI(TOKEN) as api:
        log = (tmp_path / "first.log").open("wb")
        first = subprocess.Popen(run_argv(api), env=env, stderr=log, stdout=subprocess.DEVNULL)
        try:
            wait_until_polling(api, first, 0)
            second = subprocess.run(
                run_argv(api), env=env, capture_output=True, text=True, timeout=WAIT
            )
            assert second.returncode == 1
            errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, second.stderr
            assert "already long-polling" in errors[0] and "--webhook-url" in errors[0]
            assert "Traceback" not in second.stderr
            password = urlsplit(database_url).password
            assert not password or password not in second.stderr
            assert first.poll() is None  # the first one polls on, undisturbed
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(WAIT) == 0
            log.close()
