"""Buttons that mean the same everywhere: FAQ topics, start a request, the customer centre."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue.events import Button, Rows, rows
from bot.dialogue.payloads import global_payload
from core.text import squash
from faq.kb import KnowledgeBase

START_REFUND = Button(texts.BTN_START_REFUND, global_payload("refund"))
MY_SERVICES = Button(texts.BTN_MY_SERVICES, global_payload("svc"))
CONTACT = Button(texts.BTN_CONTACT, global_payload("contact"))
HANDOFF = Button(texts.BTN_HANDOFF, global_payload("ho"))
OTHER_QUESTION = Button(texts.BTN_OTHER_QUESTION, global_payload("topics"))
NOT_LISTED = Button(texts.BTN_NOT_LISTED, global_payload("svc"))
STATUS = Button(texts.BTN_STATUS, global_payload("status"))
WITHDRAW = Button(texts.BTN_WITHDRAW, global_payload("wd"))
HOME = Button(texts.BTN_HOME, global_payload("home"))

GLOBAL_BUTTONS = (
    START_REFUND,
    MY_SERVICES,
    CONTACT,
    HANDOFF,
    OTHER_QUESTION,
    NOT_LISTED,
    STATUS,
    WITHDRAW,
    HOME,
)
"""Buttons that mean the same in every state, so their label typed means them anywhere."""
_SHORT_LABELS = {"신청 현황": STATUS, "신청현황 확인": STATUS, "내 서비스": MY_SERVICES}
"""What customers type for a global button when they remember it only roughly."""


def topic_button(kb: KnowledgeBase, intent_id: str) -> Button:
    """The button that asks one FAQ question."""
    return Button(kb.get(intent_id).title, global_payload("faq", intent_id))


def topic_buttons(kb: KnowledgeBase, with_refund: bool = False) -> Rows:
    """Every FAQ topic, two to a row, and optionally [취소/환불 신청하기]."""
    layout = rows([topic_button(kb, intent.id) for intent in kb.intents], 2)
    if with_refund:
        layout += ((START_REFUND,),)
    return layout


def typed_global(kb: KnowledgeBase, text: str) -> str | None:
    """The payload of the global button (or FAQ topic) whose label the text is, whether or not
    that button is on the last message ("신청 현황", "고객센터에 문의 남기기", "처음으로")."""
    typed = _label_key(text)
    if not typed:
        return None
    buttons = [*GLOBAL_BUTTONS, *(topic_button(kb, intent.id) for intent in kb.intents)]
    for button in buttons:
        if _label_key(button.label) == typed:
            return button.payload
    for label, button in _SHORT_LABELS.items():
        if _label_key(label) == typed:
            return button.payload
    return None


def _label_key(text: str) -> str:
    """A label as compared with typed text: no spaces, case or punctuation."""
    return re.sub(r"[^\w가-힣/]", "", squash(text))


def feedback_row(intent_id: str) -> tuple[Button, ...]:
    """[👍] [👎] under an answer."""
    return (
        Button(texts.BTN_HELPFUL, global_payload("fb", intent_id, "1")),
        Button(texts.BTN_NOT_HELPFUL, global_payload("fb", intent_id, "0")),
    )


def action_button(kb: KnowledgeBase, action: str) -> Button | None:
    """The button of an FAQ answer's next action (as the knowledge base names it)."""
    fixed = {"refund": START_REFUND, "my_services": MY_SERVICES, "contact": CONTACT}
    if action in fixed:
        return fixed[action]
    intent_id = action.removeprefix("faq:")
    if action.startswith("faq:") and intent_id in kb.ids:
        return topic_button(kb, intent_id)
    return None
