"""The Telegram channel end to end: the real `helpdesk run` process against a stand-in Bot API.

Each test plays a customer (or an agent at the `helpdesk` command line) and asserts what the
customer reads in the chat and what the database holds. Tests that keep to their own chat and
customer share one bot process (`shared`); those that stop, restart or starve the bot get their
own server, database and process (`harness` / `running`). Nothing here reaches the internet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.e2e.conftest import BOT_USERNAME, OUTBOX_INTERVAL, Chat, Harness, bot_env

Q_MYCASH = "마이캐쉬로 결제했는데 환불은 어떻게 되나요?"
Q_SMS = "SMS 충전 금액도 환불되나요?"
Q_BANK = "실시간계좌이체로 결제했는데 환불받으려면 어떻게 하나요?"
# A fragment only the answer to each question contains.
ANSWERS = {
    Q_MYCASH: "마이캐쉬로 적립돼요",
    Q_SMS: "충전 금액도 전액 환불",
    Q_BANK: "환불받을 계좌 정보",
}
ACCOUNT = "302-1234-5678-91"  # not the example the prompt shows


def _mine(requests: list[dict], customer_id: str) -> list[dict]:
    return [r for r in requests if r["customer_id"] == customer_id]


# Linking and the FAQ ----------------------------------------------------------------------------


def test_a_deep_link_code_links_the_chat_and_greets_the_customer(harness: Harness):
    before = harness.link("hong01")
    assert "url" not in before  # the bot never ran: its username is not known yet

    harness.start_bot()
    issued = harness.link("hong01")
    code = issued["code"]
    assert issued["url"] == f"https://t.me/{BOT_USERNAME}?start={code}"

    chat = Chat(harness, 1001)
    reply = chat.command("start", code, "홍길동 고객님 계정이 연결되었어요")
    assert "취소/환불 신청하기" in [label for label, _ in harness.api.buttons(1001)]
    assert code not in reply[-1]["text"]

    # Single use: the same code from another chat links nothing.
    Chat(harness, 1002).command("start", code, "연결 코드가 올바르지 않거나 이미 사용·만료")
    Chat(harness, 1002).command("refund", "", "계정 연결 후 이용할 수 있어요")
    harness.stop_bot()
    harness.assert_logs_clean()


def test_an_faq_question_gets_its_answer_with_feedback_buttons(shared: Harness):
    chat = Chat(shared, 2001)
    reply = chat.say(Q_MYCASH, "영업일")
    assert len(reply) == 1
    labels = [label for label, _ in shared.api.buttons(2001)]
    assert "👍 도움이 됐어요" in labels and "👎 아쉬워요" in labels
    chat.press("👍 도움이 됐어요", "의견 감사해요")


# The refund flow ---------------------------------------------------------------------------------


def test_a_mycash_refund_through_buttons_files_one_request(shared: Harness):
    chat = Chat(shared, 3001)
    chat.link("hong03")
    number = chat.file_mycash_request("SMS-3001")

    completion = chat.texts()[-1]
    assert number.startswith("R-") and "31,000원 (마이캐쉬 적립)" in completion
    assert "마이캐쉬 입출금내역" in completion
    filed = _mine(shared.requests(), "hong03")
    assert [r["id"] for r in filed] == [number]
    assert filed[0]["service_id"] == "SMS-3001" and filed[0]["refund_total"] == 31000
    assert filed[0]["reason"] == "서비스 불만" and filed[0]["status"] == "submitted"
    assert filed[0]["channel"] == "telegram"

    # Every pressed message shows the choice, and the last one (the completion) no step's
    # keyboard, only [신청 현황 보기]: each press turned the pressed message into the next step,
    # so only the current step's buttons were ever live. (A question answered by typing keeps
    # its [이전 단계]/[그만하기]; pressed later, they only get the step asked again.)
    for message_id, label in chat.pressed:
        pressed = shared.api.message(3001, message_id)
        assert f"👉 {label}" in pressed["text"], pressed["text"]
    markup = shared.api.message(3001, chat.pressed[-1][0])["reply_markup"]
    status_button = {"callback_data": "g:status", "text": "신청 현황 보기"}
    assert markup == {"inline_keyboard": [[status_button]]}
    # One counted call per turn: a press is answered by editing the pressed message.
    counted = [
        e
        for e in shared.api.request_log()
        if e["method"] in ("sendMessage", "editMessageText")
        and e["params"].get("chat_id") in (3001, "3001")
    ]
    turns = 1 + len(chat.pressed) + 1  # /refund, the presses, the typed message (after /start)
    assert len(counted) == turns + 1, [e["method"] for e in counted]  # + the link greeting
    answered = {a["callback_query_id"] for a in shared.api.answered_callbacks}
    assert set(chat.queries) <= answered

    chat.command("status", "", number)
    assert "접수됨" in chat.texts()[-1]


def test_a_bank_refund_to_someone_elses_account_becomes_an_inquiry_with_the_document(
    shared: Harness,
):
    shared.secrets += [ACCOUNT, ACCOUNT.replace("-", "")]
    chat = Chat(shared, 4001)
    chat.link("hong04")
    chat.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    chat.press("SMS-4002 · 61,000원", "합계: 61,000원", "가입자 명의")
    chat.press("다음 진행", "사유를 선택해 주세요")
    chat.press("폐업", "남기실 말씀을 입력해 주세요")
    chat.say("폐업으로 더 이상 사용하지 않습니다.", "은행을 선택하시거나")
    chat.press("신한은행", "계좌번호를 입력해 주세요")
    chat.say(ACCOUNT, "예금주 이름을 입력해 주세요")
    refused = chat.say("김철수", "가입자 명의와 달라요", "1:1문의게시판")
    assert "확인증" in refused[-1]["text"]

    chat.press("확인증 첨부해 문의 남기기", "고객센터에 남기실 내용을 적어 주세요")
    chat.say("어머니 명의 계좌로 받고 싶어요", "확인증을 사진이나 파일로")
    file_id = "BQACAgUAAxkBAAIB-doc-4001"
    chat.send_document(file_id, "확인증.pdf", "application/pdf", "문의 번호: Q-")
    assert "첨부: 1개" in chat.texts()[-1]

    assert _mine(shared.requests(), "hong04") == []  # refused in self-service: nothing filed
    inquiries = [i for i in shared.inquiries() if i["customer_id"] == "hong04"]
    assert len(inquiries) == 1
    inquiry = inquiries[0]
    assert inquiry["id"] in chat.texts()[-1]
    assert [a["file_id"] for a in inquiry["attachments"]] == [file_id]
    assert inquiry["message"] == "어머니 명의 계좌로 받고 싶어요"
    assert "타인 명의 계좌 환불 요청" in inquiry["context"] and "김철수" in inquiry["context"]
    assert ACCOUNT not in inquiry["context"] and ACCOUNT not in "\n".join(chat.texts())
    shared.assert_logs_clean()


def test_a_double_tapped_confirm_files_one_request(shared: Harness):
    chat = Chat(shared, 5001)
    chat.link("hong05")
    chat.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    chat.press("SMS-5001 · 31,000원", "합계: 31,000원")
    chat.press("다음 진행", "사유를 선택해 주세요")
    chat.press("업무 종료", "남기실 말씀을 입력해 주세요")
    chat.say("사업을 정리합니다", "신청할까요")

    message_id, data = chat.button("취소/환불 신청")
    since = len(chat.messages())
    first = shared.api.push_callback(5001, message_id, data)
    second = shared.api.push_callback(5001, message_id, data)
    # The first press turns the summary into the completion; the second gets its own note.
    [again] = chat.wait_new(since, ("이미 접수된 신청이에요",))
    completion = shared.api.message(5001, message_id)["text"]

    filed = _mine(shared.requests(), "hong05")
    assert len(filed) == 1
    assert "취소/환불 신청이 접수되었어요" in completion and filed[0]["id"] in completion
    assert filed[0]["id"] in again["text"]
    shared.wait(
        lambda: {first, second} <= {a["callback_query_id"] for a in shared.api.answered_callbacks},
        "both presses to be answered",
    )


def test_another_chats_replayed_button_reveals_and_files_nothing(shared: Harness):
    victim = Chat(shared, 6001)
    victim.link("hong06")
    victim.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    _, choose_service = victim.button("SMS-6001 · 31,000원")
    victim.press("SMS-6001 · 31,000원", "합계: 31,000원")
    victim.press("다음 진행", "사유를 선택해 주세요")
    victim.press("서비스 불만", "남기실 말씀을 입력해 주세요")
    victim.say("비밀스러운 해지 사유입니다", "신청할까요")
    _, confirm = victim.button("취소/환불 신청")

    # Another linked customer in the middle of their own flow replays the victim's buttons.
    attacker = Chat(shared, 6002)
    attacker.link("kim06", "김철수")
    attacker.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    own = attacker.messages()[-1]["message_id"]
    for data in (choose_service, confirm):
        attacker.press_data(own, data, "지금 단계의 버튼이 아니에요", "SMS-6101")
    # An unlinked chat replays the confirm.
    stranger = Chat(shared, 6003)
    stranger.command("start", "", "취소·환불 도우미")
    replay = stranger.messages()[-1]["message_id"]
    stranger.press_data(replay, confirm, "지금은 사용할 수 없는 버튼이에요")

    seen = "\n".join(attacker.texts() + stranger.texts())
    for secret in ("SMS-600", "홍길동", "비밀스러운", "신청 번호"):
        assert secret not in seen
    requests = shared.requests()
    assert _mine(requests, "hong06") == [] and _mine(requests, "kim06") == []

    # The victim's own flow is untouched.
    victim.press("취소/환불 신청", "신청 번호: R-")
    assert len(_mine(shared.requests(), "hong06")) == 1


# Restarts, shutdown and notifications -----------------------------------------------------------


def test_a_restart_mid_flow_resumes_at_the_same_step(running: Harness):
    chat = Chat(running, 7001)
    chat.link("hong01")
    chat.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    chat.press("SMS-1001 · 31,000원", "합계: 31,000원")
    chat.press("다음 진행", "사유를 선택해 주세요")

    running.stop_bot()
    running.start_bot()

    # The reason buttons sent before the restart still work, and the flow goes on from there.
    chat.press("경제적 부담", "남기실 말씀을 입력해 주세요")
    chat.say("비용이 부담돼요", "신청할까요", "경제적 부담")
    chat.press("취소/환불 신청", "신청 번호: R-")
    filed = running.requests()
    assert len(filed) == 1 and filed[0]["reason"] == "경제적 부담"


def test_sigterm_during_traffic_loses_and_repeats_nothing(running: Harness):
    api = running.api
    chats = [8001, 8002, 8003]
    questions = [Q_MYCASH, Q_SMS, Q_BANK]
    asked: dict[int, list[str]] = {c: [] for c in chats}

    def push_round(offset: int) -> None:
        for i, chat_id in enumerate(chats):
            for j in range(len(questions)):
                question = questions[(i + j + offset) % len(questions)]
                api.push_text(chat_id, question)
                asked[chat_id].append(question)

    # 1. Updates the bot has fetched (and whose replies are slow to send) finish before exit.
    api.delay_next("sendMessage", 0.3, count=3)
    push_round(0)
    running.wait(lambda: not api.pending_updates(), "the bot to fetch every update")
    running.stop_bot()
    for chat_id in chats:
        assert len(api.messages(chat_id)) == len(asked[chat_id])

    # 2. Updates pushed right before SIGTERM: answered before exit, or else after the restart.
    running.start_bot()
    push_round(1)
    running.stop_bot()
    before_restart = {c: len(api.messages(c)) for c in chats}
    running.start_bot()
    for chat_id in chats:
        running.wait(
            lambda chat_id=chat_id: len(api.messages(chat_id)) >= len(asked[chat_id]),
            f"chat {chat_id} to get every reply",
        )
        # Chats are processed in order, so a duplicate would arrive before this reply.
        Chat(running, chat_id).command("help", "", "이렇게 도와드려요")

    for chat_id in chats:
        texts = [m["text"] for m in api.messages(chat_id)]
        assert len(texts) == len(asked[chat_id]) + 1, (chat_id, before_restart, texts)
        for question, text in zip(asked[chat_id], texts, strict=False):
            assert ANSWERS[question] in text, (question, text)
    assert api.pending_updates() == []


def test_an_approval_made_while_the_bot_is_stopped_is_delivered_once(running: Harness):
    chat = Chat(running, 9001)
    chat.link("hong01")
    number = chat.file_mycash_request("SMS-1001")
    running.stop_bot()

    running.cli("requests", "approve", number, "--agent", "kim")
    running.start_bot()
    chat.wait_new(0, (f"취소/환불 신청({number})이 승인되었어요",))
    running.wait(lambda: all(r["sent_at"] for r in running.outbox()), "the outbox to be sent")
    time.sleep(3 * OUTBOX_INTERVAL)  # a few more delivery rounds: nothing may be sent again

    approved = [t for t in chat.texts() if "승인되었어요" in t]
    assert len(approved) == 1 and "마이캐쉬 31,000원" in approved[0]
    (row,) = running.outbox()
    assert row["attempts"] == 1 and row["chat_id"] == "tg:9001"
    chat.command("status", "", "승인")


def test_sigterm_while_a_notification_is_being_sent_marks_it_sent(running: Harness):
    chat = Chat(running, 9501)
    chat.link("hong01")
    number = chat.file_mycash_request("SMS-1001")

    running.api.delay_next("sendMessage", 0.5)  # the notification is in flight at SIGTERM
    running.cli("requests", "approve", number, "--agent", "kim")
    running.wait(lambda: running.outbox()[0]["attempts"] == 1, "the notification to be claimed")
    running.stop_bot()

    # Delivered and recorded as sent: a restart will not send it a second time.
    (row,) = running.outbox()
    assert row["sent_at"] is not None, row
    assert len([t for t in chat.texts() if "승인되었어요" in t]) == 1


def test_a_failed_notification_delivery_is_retried_and_arrives_once(shared: Harness):
    chat = Chat(shared, 10001)
    chat.link("hong10")
    number = chat.file_mycash_request("SMS-10001")

    shared.api.fail_next("sendMessage", status=502)
    shared.cli("requests", "approve", number, "--agent", "kim")
    chat.wait_new(0, (f"취소/환불 신청({number})이 승인되었어요",))
    shared.wait(
        lambda: all(r["sent_at"] for r in shared.outbox() if r["chat_id"] == "tg:10001"),
        "the notification to be marked sent",
    )
    time.sleep(3 * OUTBOX_INTERVAL)

    approved = [t for t in chat.texts() if "승인되었어요" in t]
    assert len(approved) == 1
    failed = [
        e
        for e in shared.api.request_log("sendMessage")
        if e["fault"] and e["params"].get("chat_id") == 10001
    ]
    assert [e["status"] for e in failed] == [502]


def test_a_reply_hit_by_flood_control_still_arrives(shared: Harness):
    chat = Chat(shared, 11001)
    shared.api.fail_next("sendMessage", status=429, retry_after=1)
    chat.say(Q_SMS, "충전 금액도 전액 환불")
    limited = [
        e
        for e in shared.api.request_log("sendMessage")
        if e["fault"] and e["params"].get("chat_id") == 11001
    ]
    assert [e["status"] for e in limited] == [429]
    assert len(chat.messages()) == 1
    assert "PTBDeprecationWarning" not in shared.logs()  # retry_after read either way, quietly


# Process and Telegram specifics -----------------------------------------------------------------


def test_run_without_a_token_exits_with_one_clear_line(tmp_path):
    env = bot_env()
    assert "TELEGRAM_BOT_TOKEN" not in env
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--db", str(tmp_path / "h.db")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert os.listdir(tmp_path) == []  # nothing created either


def test_run_with_a_rejected_token_exits_with_a_clear_line_and_never_prints_it(harness: Harness):
    wrong = "987654:revoked-Secret-token"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--base-url", harness.api.base_url]
        + ["--token", wrong, "--db", str(harness.db)],
        capture_output=True,
        text=True,
        cwd=harness.workdir,
        env=harness.env,
        timeout=60,
    )
    assert done.returncode != 0
    assert wrong not in done.stderr and "revoked-Secret" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "token" in last


def test_a_token_on_the_command_line_is_warned_about_and_the_environment_is_not(
    harness: Harness,
):
    # --token is visible to every local user in the process list; TELEGRAM_BOT_TOKEN is not.
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--base-url", harness.api.base_url]
        + ["--token", "987654:revoked-Secret-token", "--db", str(harness.db)],
        capture_output=True,
        text=True,
        cwd=harness.workdir,
        env=harness.env,
        timeout=60,
    )
    first = done.stderr.splitlines()[0]
    assert first.startswith("warning: --token") and "TELEGRAM_BOT_TOKEN" in first
    assert "process list" in first

    harness.start_bot()  # the harness passes the token in TELEGRAM_BOT_TOKEN
    harness.stop_bot()
    assert "warning: --token" not in harness.logs()


def test_the_command_menu_is_korean(shared: Harness):
    menu = {c["command"]: c["description"] for c in shared.api.commands()}
    assert menu == {
        "help": "도움말",
        "refund": "취소/환불 신청",
        "status": "신청 현황",
        "unlink": "연결 해제",
        "cancel": "그만",
    }


def test_group_messages_get_one_private_only_note(shared: Harness):
    api, group = shared.api, -1001400
    api.push_text(group, "환불 문의드려요", user_id=14001, chat_type="group")
    shared.wait(lambda: api.messages(group), "the group note")
    api.push_text(group, "/refund", user_id=14002, chat_type="group")
    # A private message after it: once its reply is there, the group message was handled too.
    Chat(shared, 14001).command("help", "", "이렇게 도와드려요")
    texts = [m["text"] for m in api.messages(group)]
    assert len(texts) == 1 and "1:1 채팅에서만" in texts[0]


def test_a_button_whose_answer_telegram_refuses_as_too_old_still_works(shared: Harness):
    chat = Chat(shared, 16001)
    chat.say(Q_SMS, ANSWERS[Q_SMS])
    message_id, data = chat.button("👍 도움이 됐어요")
    # Hold the bot's answerCallbackQuery long enough to expire the query meanwhile, as a press
    # from before a restart would be.
    shared.api.delay_next("answerCallbackQuery", 0.5)
    query_id = shared.api.push_callback(16001, message_id, data)
    shared.api.expire_callback(query_id)
    shared.wait(
        lambda: any("의견 감사해요" in text for text in chat.texts()), "the press to be answered"
    )
    shared.wait(lambda: "callback answer refused" in shared.logs(), "the refusal to be logged")


def test_a_press_is_handled_even_when_answering_it_fails(shared: Harness):
    chat = Chat(shared, 16002)
    chat.say(Q_SMS, ANSWERS[Q_SMS])
    shared.api.fail_next("answerCallbackQuery", status=502)
    chat.press("👍 도움이 됐어요", "의견 감사해요")


def test_a_reply_longer_than_telegram_allows_is_split(shared: Harness):
    # A customer with 80 eligible services: the service list is longer than 4,096 characters.
    chat = Chat(shared, 15001)
    chat.link("many15", "이다수")
    replies = chat.command("refund", "", "SMS-15000:", "SMS-15079:")
    assert len(replies) >= 2
    assert all(len(m["text"]) <= 4096 for m in replies)
    assert all(m["reply_markup"] is None for m in replies[:-1])
    joined = "\n".join(m["text"] for m in replies)
    assert all(joined.count(f"SMS-15{i:03d}:") == 1 for i in range(80))
    chat.press("SMS-15079 · 31,000원", "SMS-15079 환불 예상 금액이에요")
    chat.command("cancel", "", "신청을 그만두었어요")


def test_logs_never_contain_the_token_a_link_code_or_an_account_number(shared: Harness):
    # Gives the bot each kind of secret itself, so that it checks something whichever tests ran
    # before it on the shared bot, or none.
    assert shared.api.token in shared.secrets
    shared.secrets += [ACCOUNT, ACCOUNT.replace("-", "")]
    chat = Chat(shared, 17001)
    chat.link("hong07")  # a link code, now among the secrets
    chat.command("refund", "", "취소/환불할 서비스를 선택해 주세요")
    chat.press("SMS-7002 · 61,000원", "합계: 61,000원")
    chat.press("다음 진행", "사유를 선택해 주세요")
    chat.press("폐업", "남기실 말씀을 입력해 주세요")
    chat.say("폐업으로 더 이상 사용하지 않습니다.", "은행을 선택하시거나")
    chat.press("신한은행", "계좌번호를 입력해 주세요")
    chat.say(ACCOUNT, "예금주 이름을 입력해 주세요")
    chat.command("cancel", "", "신청을 그만두었어요")
    shared.assert_logs_clean()
    assert "ready" in shared.logs()
