"""A stand-in for Kakao i Open Builder calling a skill: it posts skill requests as Kakao sends them
(built from the recorded requests in tests/data/kakao, utterance and user key filled in) and
checks every answer against the documented response format and limits (bot/kakao/skill.py),
including Kakao's 5-second deadline.

`KakaoUser` is one KakaoTalk user of the channel: `say` types a message, `tap` taps a quick
reply or a card button — by its full label or what it shows — and sends its `messageText`, as
the KakaoTalk client does.
"""

from __future__ import annotations

import copy
import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.kakao.skill import ANSWER_DEADLINE_SECONDS, SkillResponse

RECORDED = Path(__file__).parents[1] / "data" / "kakao"
SKILL_PATH = "/kakao/skill"


def recorded(name: str = "fallback_text.json") -> dict[str, Any]:
    """A recorded skill request."""
    data: dict[str, Any] = json.loads((RECORDED / name).read_text("utf-8"))
    return data


def skill_request(
    utterance: str, user_key: str, template: str = "fallback_text.json"
) -> dict[str, Any]:
    """The recorded request `template` with this utterance from this user."""
    body = copy.deepcopy(recorded(template))
    body["userRequest"]["utterance"] = utterance
    body["userRequest"]["user"]["id"] = user_key
    body["userRequest"]["user"]["properties"] = {"botUserKey": user_key}
    return body


class SkillClient:
    """Posts to one skill server the way Open Builder does."""

    def __init__(self, base_url: str, secret: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.secret = secret
        self.latencies: list[float] = []

    def post_raw(
        self,
        body: bytes,
        *,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = SKILL_PATH,
        method: str = "POST",
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request; `secret=None` sends the right one."""
        sent = {"Content-Type": "application/json; charset=utf-8"}
        if secret != "":
            sent["X-Skill-Secret"] = self.secret if secret is None else secret
        sent.update(headers or {})
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, data, time.monotonic() - started

    def ask(self, body: dict[str, Any]) -> SkillResponse:
        """Post a skill request; require a valid answer within Kakao's deadline."""
        status, data, seconds = self.post_raw(json.dumps(body, ensure_ascii=False).encode())
        assert status == 200, (status, data)
        assert seconds < ANSWER_DEADLINE_SECONDS, f"answered after {seconds:.2f} s"
        self.latencies.append(seconds)
        raw = json.loads(data)
        # Exactly the documented keys: the strict model refuses unknown ones and every limit.
        return SkillResponse.model_validate(raw)


class KakaoUser:
    """One KakaoTalk user talking to the channel."""

    def __init__(self, client: SkillClient, user_key: str) -> None:
        self.client = client
        self.key = user_key
        self.last: SkillResponse | None = None

    def say(self, utterance: str, *expect: str) -> SkillResponse:
        """Send a message; the answer must hold every fragment of `expect`."""
        self.last = self.client.ask(skill_request(utterance, self.key))
        shown = self.text
        for fragment in expect:
            assert fragment in shown, f"{fragment!r} not in the answer:\n{shown}"
        return self.last

    def offered(self) -> dict[str, str]:
        """Every quick reply and card button of the last answer: shown label → messageText."""
        assert self.last is not None
        found = {q.label: q.message_text or "" for q in self.last.template.quick_replies or []}
        for output in self.last.template.outputs:
            if output.text_card is not None:
                for button in output.text_card.buttons:
                    found[button.label] = button.message_text or ""
        return found

    def tap(self, label: str, *expect: str) -> SkillResponse:
        """Tap the quick reply or card button with this label (full or as shown)."""
        offered = self.offered()
        for shown, message in offered.items():
            if label in (shown, message):
                return self.say(message, *expect)
        raise AssertionError(f"no quick reply {label!r} in {offered}")

    @property
    def text(self) -> str:
        """The text of every output of the last answer."""
        assert self.last is not None
        parts = []
        for output in self.last.template.outputs:
            if output.simple_text is not None:
                parts.append(output.simple_text.text)
            if output.text_card is not None:
                parts.append(output.text_card.description or output.text_card.title or "")
        return "\n".join(parts)

    @property
    def bubbles(self) -> list[str]:
        """The simpleText bubbles of the last answer."""
        assert self.last is not None
        return [o.simple_text.text for o in self.last.template.outputs if o.simple_text]
