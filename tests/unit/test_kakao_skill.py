"""The skill request/response models: recorded requests parse, and a response Kakao would
refuse (over a documented limit) cannot be built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.kakao.skill import (
    CardButton,
    Output,
    QuickReply,
    SimpleText,
    SkillRequest,
    SkillResponse,
    Template,
    TextCard,
    message_button,
    message_reply,
    simple_text,
)

RECORDED = Path(__file__).parents[1] / "data" / "kakao"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text("utf-8"))
    return data


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDED.glob("*.json")))
def test_every_recorded_request_parses_with_its_user_key_and_utterance(name: str) -> None:
    raw = recorded(name)
    request = SkillRequest.model_validate(raw)
    assert request.user_request.user.id == raw["userRequest"]["user"]["id"]
    assert request.user_request.utterance == raw["userRequest"]["utterance"]
    assert request.action.name == raw["action"]["name"]


def test_a_block_request_keeps_its_parameters_and_contexts() -> None:
    request = SkillRequest.model_validate(recorded("block_with_params.json"))
    assert request.action.params == {"service_id": "SMS-1001"}
    assert request.action.detail_params["service_id"]["value"] == "SMS-1001"
    assert request.action.client_extra == {"from": "menu"}
    assert request.contexts[0].name == "refund"
    assert request.contexts[0].lifespan == 3


def test_fields_kakao_adds_later_are_ignored() -> None:
    raw = recorded("fallback_text.json")
    raw["userRequest"]["newThing"] = {"x": 1}
    raw["somethingNew"] = []
    assert SkillRequest.model_validate(raw).user_request.lang == "ko"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("userRequest", "user", "type"), "appUserId"),
        (("userRequest", "user", "id"), ""),
        (("userRequest", "user", "id"), "x" * 300),
        (("userRequest", "user", "id"), "abc\ndef"),
        (("userRequest", "utterance"), None),
        (("userRequest",), None),
        (("action",), None),
        (("contexts",), "none"),
    ],
)
def test_a_request_without_a_usable_user_or_utterance_is_refused(
    where: tuple[str, ...], value: object
) -> None:
    raw = recorded("fallback_text.json")
    target = raw
    for key in where[:-1]:
        target = target[key]
    if value is None:
        del target[where[-1]]
    else:
        target[where[-1]] = value
    with pytest.raises(ValidationError):
        SkillRequest.model_validate(raw)


def test_a_response_serialises_in_kakaos_camel_case_without_empty_fields() -> None:
    response = SkillResponse(
        template=Template(
            outputs=[simple_text("안녕하세요")], quickReplies=[message_reply("도움말", "도움말")]
        )
    )
    assert json.loads(response.to_json()) == {
        "version": "2.0",
        "template": {
            "outputs": [{"simpleText": {"text": "안녕하세요"}}],
            "quickReplies": [{"label": "도움말", "action": "message", "messageText": "도움말"}],
        },
    }


@pytest.mark.parametrize(
    "build",
    [
        lambda: SimpleText(text="가" * 1001),
        lambda: SimpleText(text=""),
        lambda: QuickReply(label="가" * 15, action="message", messageText="가"),
        lambda: QuickReply(label="도움말", action="message"),
        lambda: QuickReply(label="도움말", action="block"),
        lambda: QuickReply(label="도움말", action="webLink", messageText="x"),  # type: ignore[arg-type]
        lambda: CardButton(label="", action="message", messageText="x"),
        lambda: TextCard(description="가" * 401),
        lambda: TextCard(title="가" * 51, description="설명"),
        lambda: TextCard(buttons=[]),
        lambda: TextCard(description="d", buttons=[message_button(str(i), "x") for i in range(4)]),
        lambda: Output(),
        lambda: Output(simpleText=SimpleText(text="a"), textCard=TextCard(title="b")),
        lambda: Template(outputs=[]),
        lambda: Template(outputs=[simple_text("a")] * 4),
        lambda: Template(
            outputs=[simple_text("a")], quickReplies=[message_reply(str(i), "x") for i in range(11)]
        ),
        lambda: SkillResponse(version="1.0", template=Template(outputs=[simple_text("a")])),  # type: ignore[arg-type]
    ],
)
def test_a_response_over_a_documented_limit_cannot_be_built(build: Any) -> None:
    with pytest.raises(ValidationError):
        build()


def test_the_limits_themselves_are_allowed() -> None:
    SkillResponse(
        template=Template(
            outputs=[
                simple_text("가" * 1000),
                Output(
                    textCard=TextCard(
                        title="가" * 50,
                        description="나" * 400,
                        buttons=[message_button("다" * 14, "x") for _ in range(3)],
                    )
                ),
                simple_text("끝"),
            ],
            quickReplies=[message_reply("라" * 14, f"{i}") for i in range(10)],
        )
    )
