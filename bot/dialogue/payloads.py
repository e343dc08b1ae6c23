"""Button payloads, which are never trusted.

A payload is `g:<action>[:arg[:arg]]` (a global action such as an FAQ topic, valid in any state)
or `f:<flow id>:<action>[:index]` (a step of one flow). Flow payloads carry an index into the
options this chat was offered, never a service id, and are honoured only while the chat is at
the step that offered them. Payloads stay far below Telegram's 64-byte callback_data limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INDEX = re.compile(r"[0-9]{1,3}")
MAX_PAYLOAD_BYTES = 64
"""Telegram's callback_data limit; every payload stays within it."""


@dataclass(frozen=True)
class GlobalPayload:
    """A button that means the same in every state."""

    action: str
    args: tuple[str, ...]

    def arg(self, position: int) -> str:
        """The argument at `position`, or '' when there is none."""
        return self.args[position] if position < len(self.args) else ""


@dataclass(frozen=True)
class FlowPayload:
    """A button of one step of one flow."""

    flow: str
    action: str
    arg: str


def global_payload(action: str, *args: str) -> str:
    """The payload of a global action."""
    return ":".join(("g", action, *args))


def flow_payload(flow: str, action: str, index: int | None = None) -> str:
    """The payload of a step's button (with an option index where it offers several)."""
    suffix = f":{index}" if index is not None else ""
    return f"f:{flow}:{action}{suffix}"


def parse(payload: str) -> GlobalPayload | FlowPayload | None:
    """What a payload claims to be; None for anything malformed."""
    parts = payload.split(":")
    if parts[0] == "g" and len(parts) >= 2:
        return GlobalPayload(parts[1], tuple(parts[2:]))
    if parts[0] == "f" and len(parts) >= 3:
        return FlowPayload(parts[1], parts[2], parts[3] if len(parts) > 3 else "")
    return None


def index(arg: str, size: int) -> int | None:
    """An option index below `size`, or None (ASCII digits only: int('²') fails)."""
    if not _INDEX.fullmatch(arg):
        return None
    value = int(arg)
    return value if value < size else None
