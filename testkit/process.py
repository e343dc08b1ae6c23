"""Running `helpdesk run` as a subprocess against the stand-in Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from testkit.botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]

# Nothing may leak from the developer's shell or the test run into the bot: a real token, another
# database or settings, proxies (the bot must talk to 127.0.0.1 directly, never to the
# internet), and PTB options the bot sets for itself.
_DROPPED = {"TELEGRAM_BOT_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "PTB_TIMEDELTA"}


def helpdesk_env(token: str | None = None, **settings: str) -> dict[str, str]:
    """This environment without secrets, proxies or HELPDESK_*, plus `settings`.

    `token` goes in TELEGRAM_BOT_TOKEN, the way an operator passes it (never on the command
    line, where the process list shows it); `settings` are HELPDESK_<NAME> values.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in _DROPPED and not k.startswith("HELPDESK_")
    }
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whatever is installed
    env["PYTHONUNBUFFERED"] = "1"
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    env.update({f"HELPDESK_{name.upper()}": value for name, value in settings.items()})
    return env


def run_argv(api: FakeBotAPI, *extra: str) -> list[str]:
    """The command line of `helpdesk run` against `api`."""
    return [sys.executable, "-m", "bot.cli", "run", "--base-url", api.base_url, *extra]


def wait_until_polling(
    api: FakeBotAPI, process: subprocess.Popen[bytes], polls_before: int, timeout: float = 60.0
) -> None:
    """Block until `process` long-polls `api` (more getUpdates calls than `polls_before`)."""
    deadline = time.monotonic() + timeout
    while len(api.calls("getUpdates")) <= polls_before:
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited early with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not start polling")
        time.sleep(0.05)
