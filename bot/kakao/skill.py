"""Kakao i Open Builder skill request and response, as pydantic models of the documented format.

Open Builder POSTs a *skill request* (JSON) to the skill server for every utterance that reaches
a block using the skill, and shows the *skill response* (version "2.0") it gets back. The request
models are lenient (unknown fields are ignored: Kakao adds fields over time); the response models
are strict and carry the documented limits as validators, so a response that Kakao would refuse
cannot be built, and the tests check every answer against them.

Documented limits this module relies on (Kakao i Open Builder skill guide, "응답 타입별 JSON
포맷" and "스킬 개발 가이드"):

- the skill server must answer within 5 seconds, otherwise the user sees an error;
- `version` is "2.0"; `template.outputs` holds 1 to 3 outputs;
- `simpleText.text`: at most 1,000 characters;
- `textCard`: `title` at most 50 characters, `description` at most 400 characters, at least one
  of them present, at most 3 `buttons`;
- a card button's `label`: at most 14 characters (8 when two buttons sit side by side, which we
  never ask for: the default vertical layout is used);
- `template.quickReplies`: at most 10; `label` at most 14 characters; `action` "message" sends
  `messageText` as the user's utterance, "block" calls the block `blockId`;
- the request's `userRequest.user.id` is the bot-scoped user key when `user.type` is
  "botUserKey": stable for one user of one bot, and the only identity a skill gets.

Characters are counted as Python counts them (code points), which is how the limits read; every
label the helpdesk uses is Hangul, Latin or a single-code-point emoji.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

VERSION: Literal["2.0"] = "2.0"
MAX_OUTPUTS = 3
SIMPLE_TEXT_MAX = 1000
CARD_TITLE_MAX = 50
CARD_DESCRIPTION_MAX = 400
CARD_BUTTONS_MAX = 3
QUICK_REPLIES_MAX = 10
LABEL_MAX = 14
ANSWER_DEADLINE_SECONDS = 5.0
USER_KEY_TYPE = "botUserKey"
USER_ID_MAX = 256

# Request ---------------------------------------------------------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class SkillUser(_Lenient):
    """`userRequest.user`: who is talking (the bot-scoped user key)."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=USER_ID_MAX)]
    type: str
    properties: dict[str, Any] = Field(default_factory=dict)


class SkillUserRequest(_Lenient):
    """`userRequest`: the utterance and its user."""

    utterance: str
    user: SkillUser
    timezone: str = "Asia/Seoul"
    lang: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    block: dict[str, Any] | None = None


class SkillAction(_Lenient):
    """`action`: the skill being called and the parameters the block extracted."""

    id: str = ""
    name: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    detail_params: dict[str, Any] = Field(default_factory=dict, alias="detailParams")
    client_extra: dict[str, Any] | None = Field(default=None, alias="clientExtra")


class SkillIntent(_Lenient):
    """`intent`: the block that matched (the fallback block for free text)."""

    id: str = ""
    name: str = ""


class SkillBot(_Lenient):
    """`bot`: which bot is calling."""

    id: str = ""
    name: str = ""


class SkillContext(_Lenient):
    """One entry of `contexts` (we keep no state in Kakao contexts: it lives in the database)."""

    name: str
    lifespan: int | None = Field(default=None, alias="lifeSpan")
    ttl: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class SkillRequest(_Lenient):
    """A skill request as Open Builder sends it."""

    user_request: SkillUserRequest = Field(alias="userRequest")
    action: SkillAction
    intent: SkillIntent | None = None
    bot: SkillBot | None = None
    contexts: list[SkillContext] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bot_user_key(self) -> SkillRequest:
        # Another kind of id would not be stable per user of this bot: refuse it rather than
        # link a customer's account to an identity that may change.
        if self.user_request.user.type != USER_KEY_TYPE:
            raise ValueError(f"userRequest.user.type must be {USER_KEY_TYPE!r}")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in self.user_request.user.id):
            raise ValueError("userRequest.user.id has control characters")
        return self


# Response --------------------------------------------------------------------------------------

Label = Annotated[str, StringConstraints(min_length=1, max_length=LABEL_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class _Action(_Strict):
    label: Label
    action: Literal["message", "block"]
    message_text: str | None = Field(default=None, alias="messageText", min_length=1)
    block_id: str | None = Field(default=None, alias="blockId", min_length=1)
    extra: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _target(self) -> _Action:
        if self.action == "message" and self.message_text is None:
            raise ValueError("a message action needs messageText")
        if self.action == "block" and self.block_id is None:
            raise ValueError("a block action needs blockId")
        return self


class QuickReply(_Action):
    """A quick reply under the answer."""


class CardButton(_Action):
    """A button of a card."""


class SimpleText(_Strict):
    """A speech bubble of plain text."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=SIMPLE_TEXT_MAX)]


class TextCard(_Strict):
    """A card with a title and/or description and up to three buttons."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=CARD_TITLE_MAX)] | None = None
    description: (
        Annotated[str, StringConstraints(min_length=1, max_length=CARD_DESCRIPTION_MAX)] | None
    ) = None
    buttons: list[CardButton] = Field(default_factory=list, max_length=CARD_BUTTONS_MAX)

    @model_validator(mode="after")
    def _some_text(self) -> TextCard:
        if self.title is None and self.description is None:
            raise ValueError("a textCard needs a title or a description")
        return self


class Output(_Strict):
    """One output: exactly one of the component kinds the helpdesk uses."""

    simple_text: SimpleText | None = Field(default=None, alias="simpleText")
    text_card: TextCard | None = Field(default=None, alias="textCard")

    @model_validator(mode="after")
    def _exactly_one(self) -> Output:
        if (self.simple_text is None) == (self.text_card is None):
            raise ValueError("an output holds exactly one component")
        return self


class Template(_Strict):
    """`template`: the outputs and the quick replies."""

    outputs: list[Output] = Field(min_length=1, max_length=MAX_OUTPUTS)
    quick_replies: list[QuickReply] | None = Field(
        default=None, alias="quickReplies", max_length=QUICK_REPLIES_MAX
    )


class SkillResponse(_Strict):
    """A skill response, version 2.0."""

    version: Literal["2.0"] = VERSION
    template: Template
    context: dict[str, Any] | None = None
    data: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        """The body Kakao reads: camelCase keys, absent fields left out, UTF-8."""
        return self.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")


def simple_text(text: str) -> Output:
    """A simpleText output."""
    return Output(simpleText=SimpleText(text=text))


def message_reply(label: str, message_text: str) -> QuickReply:
    """A quick reply that sends `message_text` as the user's utterance."""
    return QuickReply(label=label, action="message", messageText=message_text)


def message_button(label: str, message_text: str) -> CardButton:
    """A card button that sends `message_text` as the user's utterance."""
    return CardButton(label=label, action="message", messageText=message_text)
