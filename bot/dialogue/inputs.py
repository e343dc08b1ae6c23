"""Typed answers at free-text steps: cleaned, checked, and never stored with a number in clear."""

from __future__ import annotations

import unicodedata

from bot import texts
from bot.dialogue.flow import Reprompt
from bot.dialogue.turn import Turn
from core.text import mask_numbers


def clean_message(text: str) -> str:
    """Strip control characters (keeping line breaks) and surrounding space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = (ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(kept).strip()


def required_text(turn: Turn, text: str) -> str | Reprompt:
    """The cleaned free text, or why it cannot be taken (blank or over the limit).

    An account number typed into free text would be stored and echoed in the clear: masked.
    """
    message = mask_numbers(clean_message(text))
    limit = turn.deps.limits.message_limit
    if not message:
        return Reprompt(texts.MESSAGE_BLANK)
    if len(message) > limit:
        return Reprompt(texts.MESSAGE_TOO_LONG.format(length=len(message), limit=limit))
    return message
