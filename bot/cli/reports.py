"""`helpdesk stats` and `helpdesk faq misses`: what customers asked and how it went."""

from __future__ import annotations

import argparse
import json

from bot.cli.common import period, with_helpdesk
from bot.settings import Settings
from core.usecases import Helpdesk


def cmd_faq_misses(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk faq misses`: the most frequent unanswered or unhelpful questions."""
    from bot.analytics import group_misses

    async def work(helpdesk: Helpdesk) -> int:
        start, end = period(args.since, None)
        events = await helpdesk.faq_log.events(start, end)
        groups = group_misses(events)[: max(1, args.limit)]
        if args.json:
            print(json.dumps([g.as_json() for g in groups], ensure_ascii=False))
        elif not groups:
            print(f"no unanswered questions since {start:%Y-%m-%d}")
        else:
            print(f"unanswered or unhelpful questions since {start:%Y-%m-%d}, most frequent first")
            for group in groups:
                kinds = ", ".join(f"{k} {n}" for k, n in sorted(group.kinds.items()))
                print(f"{group.count:>4}  {group.example}   ({kinds})")
                for other in group.variant_list[1:4]:
                    print(f"        ~ {other}")
        return 0

    return with_helpdesk(settings, work)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk stats`: questions, feedback and requests over a period."""
    from bot.analytics import compute_stats, format_stats

    async def work(helpdesk: Helpdesk) -> int:
        start, end = period(args.since, args.until)
        stats = await compute_stats(helpdesk, start, end)
        if args.json:
            print(json.dumps(stats, ensure_ascii=False))
        else:
            print(format_stats(stats))
        return 0

    return with_helpdesk(settings, work)
