"""`helpdesk chat` through a pipe, as a newcomer would first try it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ACCEPTANCE = [
    "SMS 충전 금액도 환불되나요?",
    "/refund",
    "1",
    "다음 진행",
    "서비스 불만",
    "해지합니다",
    "취소/환불 신청",
    "/status",
]


def helpdesk(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HELPDESK_DB"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env | {"PYTHONPATH": str(Path(__file__).parents[2])},
        timeout=60,
    )


def test_a_piped_conversation_on_a_fresh_machine_files_one_request(tmp_path: Path):
    chat = helpdesk(["chat"], tmp_path, "\n".join(ACCEPTANCE) + "\n")
    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert "전액 환불" in out  # the FAQ answer
    assert "[1] SMS-1001 · 31,000원" in out  # the eligible MyCash service is listed first
    assert "합계: 31,000원" in out
    assert "Traceback" not in out + chat.stderr
    filed_number = out.split("신청 번호: ")[1].split()[0]
    status = out.split("> /status")[1]
    assert filed_number in status and "접수됨" in status
    listed = json.loads(helpdesk(["requests", "list", "--json"], tmp_path).stdout)
    mine = [r for r in listed if r["id"] == filed_number]
    assert mine and mine[0]["service_id"] == "SMS-1001" and mine[0]["refund_total"] == 31000
    assert mine[0]["reason"] == "서비스 불만" and mine[0]["status"] == "submitted"
    assert len([r for r in listed if r["channel"] == "console"]) == 1


def test_the_printed_numbers_press_their_buttons_however_they_are_typed(tmp_path: Path):
    """Customers type "1번" or "[1]" for the number printed beside a button, as well as "1"."""
    chat = helpdesk(["chat"], tmp_path, "/refund\n2번\n[1]\n1 번\n")
    out = chat.stdout
    assert "SMS-1002 환불 예상 금액이에요" in out  # 2번: the second button
    assert "취소/환불 사유를 선택해 주세요" in out  # [1]: 다음 진행
    assert "선택하신 사유: 업무 종료" in out  # 1 번: the first reason
    assert "이해하지 못했어요" not in out


def test_the_demo_customer_covers_every_path(tmp_path: Path):
    chat = helpdesk(["chat"], tmp_path, "/refund\n목록에 없는 서비스가 있어요\n")
    out = chat.stdout
    assert "SMS-1002 · 61,000원" in out  # eligible bank transfer
    assert "SMS-1003: 발급 후 8일째" in out  # day 8
    assert "SMS-1004: SMS를 3건 보내셨어요" in out  # SMS used
    assert "SMS-1005: 이미 취소/환불 신청이 접수되어 있어요" in out  # open request


def test_nonsense_and_quit_end_cleanly_without_a_traceback(tmp_path: Path):
    chat = helpdesk(
        ["chat"], tmp_path, "\x00\x01 ㅋㅋ\n' OR 1=1 --\n<b>hi</b>\n²\n/quit\n/status\n"
    )
    assert chat.returncode == 0
    assert "Traceback" not in chat.stdout + chat.stderr
    assert "> /status" not in chat.stdout  # nothing is read after /quit


def test_chat_with_an_unknown_customer_exits_with_one_clear_line(tmp_path: Path):
    chat = helpdesk(["chat", "--customer", "nobody"], tmp_path, "")
    assert chat.returncode != 0
    assert "no customer 'nobody'" in chat.stderr
    assert "Traceback" not in chat.stderr
