"""The `helpdesk` command: terminal chat, Telegram bot, import, linking, review queue, FAQ tools.

Every sub-command accepts `--db PATH` (default `$HELPDESK_DB`, else `helpdesk.db` in the working
directory) or `--database-url URL` (default `$HELPDESK_DATABASE_URL`: `sqlite:///PATH` or
`postgresql://…`) and, where it prints records, `--json`. Each may stand before or after the
sub-command; the command line wins over the environment. Errors go to stderr, one clear line,
with a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.cli.common import EXIT_ERROR
from bot.cli.customers import cmd_customers, cmd_import, cmd_link, deep_link
from bot.cli.db import cmd_db
from bot.cli.faq import cmd_faq
from bot.cli.inquiries import cmd_inquiries, inquiry_json
from bot.cli.parser import build_parser
from bot.cli.reports import cmd_stats
from bot.cli.requests import cmd_requests, request_json
from bot.cli.serve import cmd_chat, cmd_kakao, cmd_run
from bot.settings import Settings
from core.errors import HelpdeskError
from core.storage import DRIVER_ERRORS

__all__ = ["build_parser", "deep_link", "inquiry_json", "main", "request_json"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `helpdesk` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"HELPDESK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        print(f"error: bad setting in the environment: {problems}", file=sys.stderr)
        return EXIT_ERROR
    db = getattr(args, "db", None)
    url = getattr(args, "database_url", None)
    if db is not None and url is not None:
        print("error: give --db PATH or --database-url URL, not both", file=sys.stderr)
        return EXIT_ERROR
    if url is not None:
        settings = settings.model_copy(update={"database_url": url})
    elif db is not None:
        settings = settings.model_copy(update={"db": Path(db), "database_url": None})
    if db == "" or url == "" or not (settings.database_url or settings.db.name):
        print("error: the database path is empty (--db or HELPDESK_DB)", file=sys.stderr)
        return EXIT_ERROR
    args.json = getattr(args, "json", False)
    handler = _HANDLERS[args.command]
    try:
        where = settings.database().display
        return handler(args, settings)
    except HelpdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except DRIVER_ERRORS as exc:
        # Disk full, read-only file, locked for too long, not a database at all, a server
        # that went away…
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: database {where}: {message}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # The reader went away (`helpdesk faq match … | head`): stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        # A database or key file that cannot be created or read, a full disk…
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


_HANDLERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "chat": cmd_chat,
    "run": cmd_run,
    "db": cmd_db,
    "customers": cmd_customers,
    "kakao": cmd_kakao,
    "import": cmd_import,
    "link": cmd_link,
    "requests": cmd_requests,
    "faq": cmd_faq,
    "inquiries": cmd_inquiries,
    "stats": cmd_stats,
}
