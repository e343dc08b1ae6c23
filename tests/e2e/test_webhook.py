"""`helpdesk run --webhook-url …`: the bot registers its webhook with a secret token and serves
updates POSTed to it; a POST without the secret is refused."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from testkit.botapi import FakeBotAPI

REPO = Path(__file__).resolve().parents[2]
TOKEN = "555:WEBHOOK-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: dict, secret: str | None) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    if secret is not None:
        request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def text_update(update_id: int, chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "웹훅"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "웹훅"},
            "from": user,
            "text": text,
        },
    }


def test_webhook_mode_serves_updates_with_the_secret_and_refuses_others(tmp_path: Path):
    port = free_port()
    # Telegram only calls https URLs; a TLS-terminating proxy forwards the path to us.
    public_url = "https://bot.example.test/hook/telegram"
    url = f"http://127.0.0.1:{port}/hook/telegram"
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"PYTHONPATH": str(REPO), "HELPDESK_DB": str(tmp_path / "w.db")}
    with FakeBotAPI(token=TOKEN) as api:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--base-url",
                api.base_url,
                "--token",
                TOKEN,
                "--webhook-url",
                public_url,
                "--listen",
                "127.0.0.1",
                "--port",
                str(port),
                "--secret-token",
                "s3cret-Token",
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            [call] = api.wait_for_call_sync("setWebhook", timeout=20)
            assert call.params["url"] == public_url
            assert call.params["secret_token"] == "s3cret-Token"
            deadline = time.monotonic() + 20
            status = None
            while time.monotonic() < deadline:
                try:
                    status = post(url, text_update(1, 4242, "/help"), "s3cret-Token")
                    break
                except (ConnectionError, urllib.error.URLError):
                    time.sleep(0.1)  # the webhook server is still starting
            assert status == 200
            reply = api.wait_for_message_sync(4242, "이렇게 도와드려요", timeout=20)
            assert reply["text"].startswith("이렇게 도와드려요")
            assert post(url, text_update(2, 4242, "/help"), "wrong") == 403
            assert post(url, text_update(3, 4242, "/help"), None) == 403
            time.sleep(0.3)
            assert len(api.messages(4242)) == 1  # the refused posts were not processed
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert TOKEN not in stderr
