"""`helpdesk run`: check the options, log with the token redacted, run the application."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.settings import Settings
from bot.telegram.channel import TelegramChannel


class RedactingFilter(logging.Filter):
    """Replace secrets (the bot token) in every log record before it is written."""

    def __init__(self, secrets_to_hide: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets_to_hide if s]

    def redact(self, text: str) -> str:
        """The text with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) with the secrets masked."""
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            # Handlers format tracebacks after filters run, and PTB's InvalidToken message
            # quotes the token: format it here so the handler uses the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(token: str) -> None:
    """Log to stderr at INFO, with the token redacted and httpx's URL logging quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([token]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # matplotlib (the /stats chart) reports its font cache and unit guesses at INFO.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)


def run_telegram(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point of `helpdesk run`."""
    token = args.token or (
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    if not token:
        print(
            "error: no Telegram bot token: set TELEGRAM_BOT_TOKEN or pass --token "
            "(create a bot with @BotFather)",
            file=sys.stderr,
        )
        return 2
    if args.token:
        print(
            "warning: --token shows the bot token to every user of this machine in the process "
            "list; set TELEGRAM_BOT_TOKEN in the environment instead",
            file=sys.stderr,
        )
    if args.webhook_url and not args.webhook_url.startswith("https://"):
        print(
            "error: --webhook-url must be an https:// URL (Telegram only calls https; "
            "terminate TLS in a reverse proxy that forwards to --listen/--port)",
            file=sys.stderr,
        )
        return 2
    if args.staff_chat is not None:
        settings = settings.model_copy(update={"staff_chat_id": args.staff_chat})
    configure_logging(token)
    # Opt into PTB 23's timedelta time periods now: PTB 22 warns on every RetryAfter otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    channel = TelegramChannel(settings, polling=not args.webhook_url)
    app = channel.build(token, args.base_url)
    try:
        if args.webhook_url:
            app.run_webhook(
                listen=args.listen,
                port=args.port,
                # Serve on the same path Telegram is told to call (a reverse proxy keeps it).
                url_path=urlsplit(args.webhook_url).path.lstrip("/"),
                webhook_url=args.webhook_url,
                secret_token=args.secret_token,  # None: the one shared by every worker
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        # PTB's message quotes the token; say what to check instead.
        print(
            "error: the Bot API rejected the token: check TELEGRAM_BOT_TOKEN or --token",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        # E.g. the Bot API cannot be reached at start-up: one line, never a traceback.
        print(
            f"error: cannot start the bot: {exc.message.replace(token, '<redacted>')}",
            file=sys.stderr,
        )
        return 1
    if channel.fatal is not None:
        print(f"error: {channel.fatal}", file=sys.stderr)
        return 1
    return 0
