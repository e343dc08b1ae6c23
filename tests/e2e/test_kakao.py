"""`helpdesk kakao` end to end: the real skill server as a subprocess on 127.0.0.1, driven by a
stand-in Open Builder (tests/support/kakao_client.py) that posts skill requests in Kakao's
documented format and checks every answer against the documented response limits.

Most tests share one server and database (module scope) and keep to their own customers and
user keys; the ones that need their own settings or break the database start their own.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from testkit.records import import_file
from tests.e2e.conftest import bot_env, import_records
from tests.support.kakao_client import KakaoUser, SkillClient, recorded, skill_request

SECRET = "kakao-e2e-Sk1ll-secret_do-not-log"
_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/kakao/skill")
_OUR_ERRORS = re.compile(r" (?:ERROR|CRITICAL) (?:bot|core|faq|tornado)\b")
WAIT = 20.0


class KakaoServer:
    """A database with the test customers and `helpdesk kakao` serving it."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.db = workdir / "helpdesk.db"
        self.env = bot_env() | env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "kakao.log"
        self.secrets = [SECRET]
        self.port = 0
        self.client = SkillClient("http://127.0.0.1:1", SECRET)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `helpdesk ARGS --db <this database>`; it must succeed."""
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args, "--db", str(self.db)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=self.env,
            timeout=60,
        )
        assert done.returncode == 0, f"helpdesk {' '.join(args)} failed: {done.stderr}"
        return done

    def cli_json(self, *args: str) -> Any:
        """Run `helpdesk … --json` and parse what it prints."""
        return json.loads(self.cli(*args, "--json").stdout)

    def import_customers(self) -> None:
        """The e2e customers (each with a MyCash `<prefix>1` and a bank `<prefix>2` service)."""
        path = self.workdir / "customers.json"
        path.write_bytes(import_file(import_records()))
        self.cli("import", str(path))

    def code(self, customer_id: str) -> str:
        """A fresh link code (from then on a secret no log may show)."""
        issued = self.cli_json("link", customer_id)
        self.secrets.append(issued["code"])
        return str(issued["code"])

    def start(self) -> SkillClient:
        """Start the server on a free port and return a client for it."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "kakao", "--port", "0", "--secret", SECRET]
                + ["--db", str(self.db)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=self.workdir,
                env=self.env,
            )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = _LISTENING.findall(self.logs())
            if found:
                self.port = int(found[-1])
                self.client = SkillClient(f"http://127.0.0.1:{self.port}", SECRET)
                return self.client
            assert self.proc.poll() is None, f"the server exited\n{self.logs()}"
            time.sleep(0.05)
        raise AssertionError(f"the server did not start\n{self.logs()}")

    def stop(self) -> None:
        """SIGTERM; the server must exit 0 with no error of ours and no secret in its log."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the server did not stop\n{self.logs()}") from None
        assert code == 0, f"exit {code}\n{self.logs()}"
        log = self.logs()
        assert not _OUR_ERRORS.search(log), log
        leaked = [s for s in self.secrets if s in log]
        assert not leaked, f"secrets in the log: {leaked}"

    def logs(self) -> str:
        """What the server wrote to stderr."""
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def chat_state(self, user_key: str) -> str | None:
        """The stored conversation state of a Kakao user, or None."""
        with sqlite3.connect(self.db, timeout=10) as conn:
            row = conn.execute(
                "SELECT state FROM conversations WHERE chat_id = ?", (f"kakao:{user_key}",)
            ).fetchone()
        return None if row is None else str(row[0])

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox rows, straight from the file."""
        with sqlite3.connect(self.db, timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY id")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KakaoServer]:
    """One running skill server for the tests that keep to their own customers."""
    srv = KakaoServer(tmp_path_factory.mktemp("kakao"))
    srv.import_customers()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(server: KakaoServer) -> SkillClient:
    return server.client


def linked(server: KakaoServer, client: SkillClient, customer_id: str, key: str) -> KakaoUser:
    """A Kakao user who pasted a fresh link code of `customer_id`."""
    user = KakaoUser(client, key)
    user.say(server.code(customer_id), "고객님 계정이 연결되었어요")
    return user


# the fallback block: FAQ and linking ----------------------------------------------------------


def test_a_recorded_fallback_request_gets_the_faq_answer_with_quick_replies(client):
    response = client.ask(recorded("fallback_text.json"))
    text = "\n".join(o.simple_text.text for o in response.template.outputs if o.simple_text)
    assert "SMS를 사용(발송)하지 않으셨다면" in text
    labels = [q.label for q in response.template.quick_replies or []]
    assert texts.BTN_HELPFUL in labels and texts.BTN_NOT_HELPFUL in labels


def test_a_request_from_a_block_with_parameters_is_answered_too(client):
    response = client.ask(recorded("block_with_params.json"))
    assert response.template.outputs


def test_pasting_the_link_code_links_that_kakao_user_only(server, client):
    user = KakaoUser(client, "link-user-1")
    user.say("/refund", "계정 연결 후 이용할 수 있어요", "연결 코드를 이 채팅에 그대로 보내")
    user.say(server.code("hong05"), "홍길동 고객님 계정이 연결되었어요")
    user.say("/refund", "취소/환불할 서비스를 선택해 주세요", "SMS-5001")
    KakaoUser(client, "link-user-2").say("/refund", "계정 연결 후 이용할 수 있어요")


def test_link_prints_what_to_tell_a_kakao_customer(server):
    out = server.cli("link", "hong06").stdout
    assert "카카오톡 채널 채팅방에 연결 코드" in out
    issued = server.cli_json("link", "hong06")
    assert issued["code"] in issued["kakao"]


# the refund flow through quick replies --------------------------------------------------------


def test_a_mycash_refund_is_filed_through_quick_replies_as_a_kakao_request(server, client):
    user = linked(server, client, "hong03", "flow-user-3")
    user.say("환불 신청할래요", "취소/환불할 서비스를 선택해 주세요")
    shown = {label for label, sent in user.offered().items() if sent == "SMS-3001 · 31,000원"}
    assert shown and all(len(label) <= 14 for label in shown)  # shortened; the full label is sent
    user.tap("SMS-3001 · 31,000원", "합계: 31,000원", "마이캐쉬")
    user.tap("다음 진행", "사유를 선택해 주세요")
    user.tap("서비스 불만", "남기실 말씀을 입력해 주세요")
    user.say("발송 기능이 필요 없어져서 해지합니다", "신청할까요")
    user.tap("취소/환불 신청", "신청 번호: R-")
    [request] = [r for r in server.cli_json("requests", "list") if r["customer_id"] == "hong03"]
    assert request["channel"] == "kakao"
    assert request["service_id"] == "SMS-3001"


def test_a_bank_refund_with_a_long_message_and_a_bank_from_the_card(server, client):
    user = linked(server, client, "hong07", "flow-user-7")
    user.say("/refund")
    user.tap("SMS-7002 · 61,000원", "환불 방법")
    user.tap("다음 진행")
    user.tap("업무 종료", "남기실 말씀")
    banks = user.say("사업을 정리하게 되어 해지합니다. " * 52, "은행을 선택하시거나")
    assert len(banks.template.quick_replies or []) == 10
    cards = [o.text_card for o in banks.template.outputs if o.text_card]
    assert cards and all(len(c.buttons) <= 3 for c in cards)
    user.tap("우체국", "계좌번호를 입력해 주세요")
    user.say("123-456-789012", "예금주 이름")
    user.say("홍길동", "신청할까요")
    # The summary holds the ~1,000-character message: split into bubbles of at most 1,000.
    assert len(user.bubbles) >= 2 and all(len(b) <= 1000 for b in user.bubbles)
    user.tap("취소/환불 신청", "신청 번호: R-", "우체국")


# payload safety --------------------------------------------------------------------------------


def test_a_quick_reply_from_an_old_step_does_nothing_but_ask_again(server, client):
    user = linked(server, client, "hong08", "stale-user-8")
    user.say("/refund")
    user.tap("SMS-8001 · 31,000원")
    old = user.offered()
    user.tap("다음 진행", "사유를 선택해 주세요")
    assert server.chat_state("stale-user-8") == "reason"
    user.say(old["다음 진행"], "사유를 선택해 주세요")
    assert server.chat_state("stale-user-8") == "reason"
    assert not [r for r in server.cli_json("requests", "list") if r["customer_id"] == "hong08"]


def test_another_users_label_means_nothing(server, client):
    owner = linked(server, client, "hong09", "owner-9")
    owner.say("/refund")
    stranger = KakaoUser(client, "stranger-9")
    stranger.say("SMS-9001 · 31,000원")
    stranger.say("취소/환불 신청")
    assert server.chat_state("owner-9") == "choose_service"
    assert server.chat_state("stranger-9") in (None, "idle")
    assert not [r for r in server.cli_json("requests", "list") if r["customer_id"] == "hong09"]


# notifications: pulled onto the next answer ---------------------------------------------------


def test_an_agents_decision_arrives_on_top_of_the_next_answer_exactly_once(server, client):
    user = linked(server, client, "hong10", "notify-user-10")
    user.say("/refund")
    user.tap("SMS-10001 · 31,000원")
    user.tap("다음 진행")
    user.tap("폐업")
    user.say("폐업합니다")
    user.tap("취소/환불 신청", "신청 번호: R-")
    number = user.text.split("신청 번호: ", 1)[1].split()[0]
    server.cli("requests", "approve", number, "--agent", "김상담")
    user.say("안녕하세요")
    assert user.bubbles[0].startswith("🔔 ")
    assert f"취소/환불 신청({number})이 승인되었어요" in user.bubbles[0]
    assert "안녕하세요!" in user.text  # the answer to what they said follows
    user.say("/status", "승인됨")
    assert "🔔" not in user.text
    [row] = [r for r in server.outbox() if r["chat_id"] == "kakao:notify-user-10"]
    assert row["sent_at"] is not None and row["attempts"] == 1


# stats -----------------------------------------------------------------------------------------


def test_stats_split_questions_and_requests_by_channel(server, client):
    KakaoUser(client, "stats-user").say("마이캐쉬로 결제했는데 환불은 어떻게 되나요?")
    figures = server.cli_json("stats")
    kakao = figures["by_channel"]["kakao"]
    assert kakao["questions"] >= 1
    filed = [r for r in server.cli_json("requests", "list") if r["channel"] == "kakao"]
    assert sum(kakao["requests"].values()) == len(filed)


# the endpoint: secret, size, malformed input, slow clients ------------------------------------


def test_a_request_without_the_secret_is_refused_and_not_processed(server, client):
    body = json.dumps(skill_request("SMS 충전 금액도 환불되나요?", "intruder")).encode()
    for secret in ("", "wrong-secret", SECRET + "x"):
        status, data, _ = client.post_raw(body, secret=secret)
        assert status == 403
        assert json.loads(data) == {"error": "missing or wrong X-Skill-Secret header"}
    assert server.chat_state("intruder") is None


def test_the_secret_is_checked_before_the_body_is_read(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /kakao/skill HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 60000\r\n\r\n"
        )
        # No body is sent: the answer can only come from the headers.
        assert sock.recv(100).startswith(b"HTTP/1.1 403")


def test_a_body_over_the_limit_is_refused_up_front(server, client):
    status, _, _ = client.post_raw(b"x", headers={"Content-Length": str(10**7)})
    assert status == 413


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"userRequest": {}}',
        json.dumps({"userRequest": {"utterance": "안녕", "user": {"id": "x"}}}).encode(),
        json.dumps(
            skill_request("안녕", "u") | {"userRequest": {"utterance": 3, "user": {"id": "u"}}}
        ).encode(),
    ],
    ids=["empty", "text", "not-utf8", "array", "no-user", "no-action", "utterance-not-text"],
)
def test_a_malformed_skill_request_gets_400_never_500(client, body):
    status, data, _ = client.post_raw(body)
    assert status == 400, data
    assert json.loads(data)["error"].startswith("malformed skill request")


def test_a_user_key_of_another_type_is_refused(client):
    body = skill_request("안녕", "u-x")
    body["userRequest"]["user"]["type"] = "appUserId"
    status, _, _ = client.post_raw(json.dumps(body).encode())
    assert status == 400


def test_other_methods_and_paths_are_refused(client):
    assert client.post_raw(b"", method="GET")[0] == 405
    assert client.post_raw(b"{}", path="/kakao/other")[0] == 404


def test_a_slow_client_is_cut_off(tmp_path: Path):
    server = KakaoServer(tmp_path, HELPDESK_KAKAO_CLIENT_TIMEOUT_SECONDS="1")
    server.import_customers()
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /kakao/skill HTTP/1.1\r\nHost: x\r\n")  # headers never end
            started = time.monotonic()
            assert sock.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /kakao/skill HTTP/1.1\r\nHost: x\r\nX-Skill-Secret: "
                + SECRET.encode()
                + b"\r\nContent-Length: 500\r\n\r\n{"  # the body never ends
            )
            assert sock.recv(100) == b""
    finally:
        server.stop()


# the 5-second guard ----------------------------------------------------------------------------


def test_a_locked_database_is_answered_within_five_seconds_and_the_result_comes_next(
    tmp_path: Path,
):
    server = KakaoServer(tmp_path)
    server.import_customers()
    client = server.start()
    try:
        user = KakaoUser(client, "guard-user")
        user.say("안녕", "안녕하세요")  # the server is warm
        other = sqlite3.connect(server.db, timeout=5, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            user.say("SMS 충전 금액도 환불되나요?", "잠시만요")  # ask() requires < 5 s
            assert client.latencies[-1] > 2.0  # it did wait for the turn first
            assert list(user.offered()) == [texts.KAKAO_BTN_RESULT]
        finally:
            other.execute("ROLLBACK")
            other.close()
        user.tap(texts.KAKAO_BTN_RESULT, "SMS를 사용(발송)하지 않으셨다면")
        assert texts.BTN_HELPFUL in user.offered()
    finally:
        server.stop()


def test_without_a_secret_the_server_does_not_start_and_it_listens_on_loopback_by_default(
    tmp_path: Path,
):
    from bot.cli import build_parser

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kakao", "--port", "0", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        env=bot_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "HELPDESK_KAKAO_SECRET" in done.stderr and "Traceback" not in done.stderr
    assert build_parser().parse_args(["kakao"]).listen == "127.0.0.1"


# the engine contract these quick replies rely on ----------------------------------------------
#
# A quick reply sends its button's full label as text. The engine takes any text equal to a
# label of the buttons it last showed that chat as that press, the idle menu included.


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (texts.BTN_START_REFUND, "취소/환불할 서비스를 선택해 주세요"),
        (texts.BTN_HELPFUL, texts.THANKS_HELPFUL),
        (texts.BTN_CONTACT, texts.CONTACT.split("\n", 1)[0]),
    ],
    ids=["start-refund", "helpful", "contact"],
)
def test_a_quick_reply_of_the_idle_menu_counts_as_its_press(server, client, label, expected):
    user = linked(server, client, "hong04", f"contract-{len(label)}-{label[:2]}")
    user.say("SMS 충전 금액도 환불되나요?")
    if label not in user.offered():
        user.say("회원가입은 어떻게 하나요?")  # the fallback offers 고객센터 문의 안내
    user.tap(label, expected)

