"""The floor for benchmarks/load.py: a bare python-telegram-bot echo bot.

It makes the same Bot API calls per turn as the helpdesk bot (text → sendMessage with an inline
button; button → answerCallbackQuery + editMessageText + sendMessage) with the same PTB setup
(concurrent updates, AIORateLimiter), and does nothing else, so the difference between the two
is the helpdesk's own work: matching, policy and SQLite.

    python benchmarks/echo_bot.py --base-url http://127.0.0.1:PORT/bot --token 123:TEST
"""

from __future__ import annotations

import argparse

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("다음", callback_data="echo:next")]])


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text back with one button."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(message.chat_id, message.text, reply_markup=MARKUP)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press, mark the pressed message and send a new one."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await context.bot.edit_message_text(
        "눌렀어요", chat_id=query.message.chat.id, message_id=query.message.message_id
    )
    await context.bot.send_message(query.message.chat.id, "다음 단계", reply_markup=MARKUP)


def main() -> None:
    """Run the echo bot by long polling until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, default=30.0, help="overall messages per second")
    parser.add_argument("--pool", type=int, default=256, help="HTTP connection pool size")
    args = parser.parse_args()
    app = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(args.base_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=args.rate, max_retries=3))
        .concurrent_updates(256)
        .connection_pool_size(args.pool)
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_press))
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
