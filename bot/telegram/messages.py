"""Between engine and Telegram: replies become messages (merged, split, with inline keyboards),
and a customer's photo or document becomes engine input."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit

from bot.dialogue import Reply, Upload

CHAT_PREFIX = "tg:"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split text into chunks of at most `limit` characters, at line breaks where possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit]]


def merge_replies(replies: list[Reply]) -> list[Reply]:
    """Merge consecutive replies into one message where only the last has buttons."""
    merged: list[Reply] = []
    for reply in replies:
        if merged and not merged[-1].buttons:
            merged[-1] = Reply(merged[-1].text + "\n\n" + reply.text, reply.buttons)
        else:
            merged.append(reply)
    return merged


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a reply, or None."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
            for row in reply.buttons
        ]
    )


def telegram_messages(replies: list[Reply]) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The messages replies become: merged, split at 4,096 characters, buttons on the last."""
    messages: list[tuple[str, InlineKeyboardMarkup | None]] = []
    for reply in merge_replies(replies):
        chunks = split_text(reply.text)
        for index, chunk in enumerate(chunks):
            messages.append((chunk, keyboard(reply) if index == len(chunks) - 1 else None))
    return messages


def pressed_label(message: Message, payload: str) -> str | None:
    """The label of the button with `payload` on a message, if it is there."""
    if message.reply_markup:
        for row in message.reply_markup.inline_keyboard:
            for button in row:
                if button.callback_data == payload:
                    return button.text
    return None


def upload_of(message: Message) -> Upload | None:
    """A photo or document as engine input (by Telegram file id; nothing is downloaded)."""
    if message.document is not None:
        doc = message.document
        return Upload(
            file_id=doc.file_id,
            kind="document",
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            size=doc.file_size,
        )
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return Upload(
            file_id=largest.file_id, kind="photo", mime_type="image/jpeg", size=largest.file_size
        )
    return None
