"""`helpdesk db`: create, migrate, prune and copy the database itself."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.app import open_database
from bot.cli.common import EXIT_ERROR, with_helpdesk
from bot.settings import Settings
from core.errors import InvalidInput
from core.storage import DatabaseUrl
from core.usecases import Helpdesk


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk db init|migrate|prune|copy`: the database itself."""
    if args.action == "prune":
        return _prune(args, settings)
    if args.action == "copy":
        return _copy(args, settings)

    async def work(helpdesk: Helpdesk) -> int:
        db = helpdesk.db
        if args.action == "init":
            print(f"database ready: {db.url.display}")
        elif db.migrated_from == db.schema_version:
            print(f"database {db.url.display}: schema version {db.schema_version}, up to date")
        else:
            print(
                f"database {db.url.display}: schema version {db.schema_version}"
                f" (migrated from {db.migrated_from})"
            )
        return 0

    return with_helpdesk(settings, work, create=True)


def _prune(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.retain_days if args.days is None else args.days
    if days <= 0:
        raise InvalidInput("retention is off (0 days keeps everything); pass --days N")

    async def work(helpdesk: Helpdesk) -> int:
        removed = await helpdesk.reports.prune(days)
        if args.json:
            print(json.dumps({"kept_days": days, "removed": removed}))
        else:
            parts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in removed.items())
            print(f"removed what is older than {days} days: {parts}")
            print("kept: requests, their audit trails, inquiries, customers and services")
        return 0

    return with_helpdesk(settings, work)


def _copy(args: argparse.Namespace, settings: Settings) -> int:
    from core.storage.copy import copy_database

    target_url = DatabaseUrl.parse(args.to)
    if target_url.is_postgres and settings.secret_key is None:
        print(
            "error: set HELPDESK_SECRET_KEY to the source database's key before copying to "
            f"{target_url.display} (a server database has no key file; for a SQLite file the "
            "key is the content of its key file, e.g. helpdesk.db.key)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    target_settings = settings.model_copy(update={"database_url": args.to})

    async def run() -> int:
        source = await open_database(settings, create=False)
        try:
            target = await open_database(target_settings, create=True)
            try:
                copied = await copy_database(source, target)
            finally:
                await target.close()
        finally:
            await source.close()
        if args.json:
            print(json.dumps({"to": target_url.display, "tables": copied}))
            return 0
        print(f"copied {settings.database().display} -> {target_url.display}")
        for table, count in copied.items():
            print(f"  {table:<18}{count:>8}")
        print("verified: every table on the target holds as many rows as the source")
        return 0

    return asyncio.run(run())
