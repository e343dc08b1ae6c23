"""The Telegram channel: python-telegram-bot 22 driving the dialogue engine.

An adapter only: updates become engine input, engine replies become `sendMessage` (plain text,
so customer text can never break markup) with inline keyboards. A pressed button is answered
(`answerCallbackQuery`) at once so the client's spinner stops, and its message is edited to show
what was chosen and to drop the old keyboard.

Ordering and throughput: updates of different chats run concurrently; updates of one chat run
in arrival order (`ChatOrderedProcessor`; across several webhook workers, the engine's unit of
work per chat takes over). Outbound calls go through PTB's `AIORateLimiter`
(overall and group limits) and `send_with_retry`, which waits out a `RetryAfter` and retries
network failures instead of dropping a reply; a send counts only when Telegram confirms it.
Several replies of one turn are merged into one message where they read well together, which
also keeps to Telegram's ~1 message/s per chat. Webhooks are served by `bot.webhook`.

With a staff chat (`HELPDESK_STAFF_CHAT_ID`), agents work in a forum supergroup, one topic per
case (`bot.staff`): its updates go to the `StaffDesk`, which delivers staff events in a loop of
its own with the group's pacing, so customers' replies never wait behind it.

The package: `channel` (the application and its lifecycle), `handlers` (what each update does),
`messages` (replies to messages and back), `sending` (confirmed Bot API calls), `notices` (the
outbox loop), `updates` (ordering and the flood guard), `run` (`helpdesk run`).
"""

from bot.telegram.channel import COMMANDS, TelegramChannel
from bot.telegram.messages import (
    CHAT_PREFIX,
    keyboard,
    merge_replies,
    split_text,
    telegram_messages,
)
from bot.telegram.run import RedactingFilter, configure_logging, run_telegram
from bot.telegram.sending import retry_after_seconds, send_with_retry, unconfirmed
from bot.telegram.updates import ChatOrderedProcessor, FloodGuard

__all__ = [
    "CHAT_PREFIX",
    "COMMANDS",
    "ChatOrderedProcessor",
    "FloodGuard",
    "RedactingFilter",
    "TelegramChannel",
    "configure_logging",
    "keyboard",
    "merge_replies",
    "retry_after_seconds",
    "run_telegram",
    "send_with_retry",
    "split_text",
    "telegram_messages",
    "unconfirmed",
]
