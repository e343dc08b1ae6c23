"""The conversation's states and transitions, declared once (diagram: bot/flow.mmd).

The engine refuses any move that is not listed here, and a test checks that the Mermaid diagram
shows exactly these edges, so the picture can be trusted.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a chat is in the conversation."""

    IDLE = "idle"
    CHOOSE_SERVICE = "choose_service"
    BREAKDOWN = "breakdown"
    REASON = "reason"
    MESSAGE = "message"
    BANK = "bank"
    ACCOUNT = "account"
    HOLDER = "holder"
    CONFIRM = "confirm"
    INQUIRY_MESSAGE = "inquiry_message"
    INQUIRY_ATTACH = "inquiry_attach"


# Forward and back moves of the refund flow. Every state may also go to IDLE (stop, /cancel,
# expiry, filing), restart at CHOOSE_SERVICE (/refund) and start a customer-centre inquiry at
# INQUIRY_MESSAGE ([고객센터에 문의 남기기]), which are not repeated on each line.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.IDLE: frozenset({State.CHOOSE_SERVICE}),
    State.CHOOSE_SERVICE: frozenset({State.BREAKDOWN}),
    State.BREAKDOWN: frozenset({State.REASON, State.CHOOSE_SERVICE}),
    State.REASON: frozenset({State.MESSAGE, State.BREAKDOWN}),
    State.MESSAGE: frozenset({State.BANK, State.CONFIRM, State.REASON}),
    State.BANK: frozenset({State.ACCOUNT, State.MESSAGE}),
    State.ACCOUNT: frozenset({State.HOLDER, State.BANK}),
    State.HOLDER: frozenset({State.CONFIRM, State.ACCOUNT, State.INQUIRY_MESSAGE}),
    State.CONFIRM: frozenset({State.HOLDER, State.MESSAGE, State.BANK}),
    State.INQUIRY_MESSAGE: frozenset({State.INQUIRY_ATTACH}),
    State.INQUIRY_ATTACH: frozenset({State.INQUIRY_MESSAGE}),
}

FLOW_STATES = frozenset(TRANSITIONS) - {State.IDLE}
"""States inside a flow (refund or inquiry), where /cancel and the back button mean something."""

FREE_TEXT_STATES = frozenset(
    {State.MESSAGE, State.BANK, State.ACCOUNT, State.HOLDER, State.INQUIRY_MESSAGE}
)
"""Steps whose answer is typed text, so a typed sentence is an answer, not a question."""


def allowed(source: State, target: State) -> bool:
    """Return True when the conversation may move from `source` to `target`."""
    if target in (State.IDLE, State.CHOOSE_SERVICE, State.INQUIRY_MESSAGE, source):
        return True
    return target in TRANSITIONS[source]
