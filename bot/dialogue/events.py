"""What a channel hands the engine (events) and what it gets back (replies with buttons)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class TextInput:
    """Something the customer typed."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button the customer pressed (its opaque payload)."""

    payload: str


@dataclass(frozen=True)
class Upload:
    """A photo or file the customer sent (kept by the channel's file id, never downloaded)."""

    file_id: str
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Opened:
    """The customer opened the chat again (a new terminal session): remind them of a flow in
    progress, if any. Channels that cannot tell a new session from a pause never send it."""


Event = TextInput | Press | Upload | Opened


@dataclass(frozen=True)
class Button:
    """A button: what the customer reads, and the payload the engine gets back."""

    label: str
    payload: str


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """One message to the customer: text and rows of buttons."""

    text: str
    buttons: Rows = ()
    continues_press: bool = False
    """This reply answers a button of the menu the customer had in front of them, so a channel
    that can edit messages may put it into the pressed message (one call instead of two)."""

    def flat_buttons(self) -> list[Button]:
        """All buttons, row by row."""
        return [b for row in self.buttons for b in row]


def rows(buttons: list[Button], per_row: int = 1) -> Rows:
    """Lay buttons out `per_row` to a row."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def iter_payloads(replies: list[Reply]) -> Iterator[str]:
    """Every payload in a list of replies (for channels and tests)."""
    for reply in replies:
        for button in reply.flat_buttons():
            yield button.payload


def _utf8(text: str) -> str:
    # Lone surrogates (from a broken terminal or client) cannot be stored or sent; replace them.
    return text.encode("utf-8", "replace").decode("utf-8")


def valid_unicode(event: Event) -> Event:
    """The event with every string made valid UTF-8."""
    if isinstance(event, TextInput):
        return TextInput(_utf8(event.text))
    if isinstance(event, Press):
        return Press(_utf8(event.payload))
    if isinstance(event, Opened):
        return event
    return Upload(
        file_id=_utf8(event.file_id),
        kind=_utf8(event.kind),
        file_name=_utf8(event.file_name) if event.file_name else None,
        mime_type=_utf8(event.mime_type) if event.mime_type else None,
        size=event.size,
    )
