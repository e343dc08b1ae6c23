"""`helpdesk faq`: the FAQ matcher's tools (match, eval, train, misses)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from bot.cli.common import EXIT_ERROR
from bot.cli.reports import cmd_faq_misses
from bot.settings import Settings
from core.calendar import system_clock, today_kst
from core.errors import InvalidInput


def cmd_faq(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk faq match|eval|train|misses`: try, score and retrain the matcher."""
    from faq.evaluate import (
        baseline_predict,
        evaluate,
        format_report,
        match_result_json,
        read_labelled_tsv,
        read_today,
    )
    from faq.kb import load_knowledge_base
    from faq.matcher import Matcher

    if args.action == "misses":
        return cmd_faq_misses(args, settings)
    if args.action == "train":
        from faq.train import run

        return run(check=args.check)
    kb = load_knowledge_base()
    matcher = Matcher(kb)
    if args.action == "match":
        try:
            today = date.fromisoformat(args.today) if args.today else today_kst(system_clock)
        except ValueError as exc:
            raise InvalidInput(f"--today is YYYY-MM-DD: {exc}") from None
        if args.previous is not None and args.previous not in kb.ids:
            raise InvalidInput(f"--previous must be one of {', '.join(kb.ids)}")
        lines = args.text if args.text else (line.rstrip("\n") for line in sys.stdin)
        for text in lines:
            if args.all:
                results = matcher.match_all(text, today=today, previous=args.previous)
            else:
                results = [matcher.match(text, today=today, previous=args.previous)]
            for result in results:
                if args.json:
                    print(json.dumps(match_result_json(result), ensure_ascii=False), flush=True)
                else:
                    shown = result.intent or ",".join(result.candidates) or "-"
                    act = f"\t[{result.act}]" if result.act else ""
                    print(
                        f"{result.decision}\t{shown}\t{result.score:.1f}\t{result.text}{act}",
                        flush=True,
                    )
        return 0
    try:
        rows = read_labelled_tsv(args.file)
        today = read_today(args.file) or today_kst(system_clock)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    report = evaluate(lambda text: matcher.match(text, today=today), rows, name="matcher")
    baseline = evaluate(baseline_predict, rows)
    print(format_report(report, baseline))
    if args.explain:
        print("\nEvidence behind each miss (intent: evidence, similarity, reason, opens gate)")
        for row in report.rows:
            if not row.correct:
                why = matcher.explain(row.text, today=today)
                print(f"  {row.text}  (expected {row.expected})")
                print(
                    f"    elapsed {why['elapsed']}, topic {why['topic']}, veto {why['veto']}, "
                    f"act {row.act}"
                )
                if why.get("model"):
                    print(f"    model: {why['model']}")
                scores = why["scores"]
                assert isinstance(scores, dict)
                for intent_id, evidence in scores.items():
                    if evidence[0] or evidence[2]:
                        print(f"    {intent_id}: {evidence}")
    return 0
