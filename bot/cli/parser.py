"""The `helpdesk` command line: every sub-command and its options."""

from __future__ import annotations

import argparse
from typing import Any

from core.models import RequestStatus


def _common() -> argparse.ArgumentParser:
    # SUPPRESS lets the same option appear before or after the sub-command without the later
    # parser resetting what the earlier one read.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        help="SQLite database file (default: $HELPDESK_DB or helpdesk.db)",
    )
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="sqlite:///PATH or postgresql://user:pass@host:port/db "
        "(default: $HELPDESK_DATABASE_URL, else --db)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    return common


def _record_actions(
    sub: Any,
    common: argparse.ArgumentParser,
    id_help: str,
    actions: tuple[tuple[str, str], ...],
) -> dict[str, argparse.ArgumentParser]:
    """Add `show` and the agent actions on one record (ID, and --agent except for show)."""
    parsers = {}
    for name, text in actions:
        parser = sub.add_parser(name, parents=[common], help=text)
        parser.add_argument("id", help=id_help)
        if name != "show":
            parser.add_argument("--agent", help="your name for the audit trail (default: $USER)")
        parsers[name] = parser
    return parsers


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every sub-command."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="helpdesk",
        description="AlimTalk/SMS refund helpdesk: chat, Telegram bot and review tools.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", parents=[common], help="chat with the bot in this terminal")
    chat.add_argument("--customer", help="link the terminal user to this customer id")
    chat.add_argument("--user", default="console", help="chat user id (default: console)")

    run = sub.add_parser("run", parents=[common], help="run the Telegram bot")
    run.add_argument(
        "--token",
        help="bot token; prefer $TELEGRAM_BOT_TOKEN (the process list shows arguments)",
    )
    run.add_argument("--base-url", help="Bot API base URL, as python-telegram-bot's base_url")
    run.add_argument("--webhook-url", help="serve a webhook at this public URL instead of polling")
    run.add_argument(
        "--listen",
        default="127.0.0.1",
        help="webhook listen address (default 127.0.0.1: a TLS proxy on this host fronts it)",
    )
    run.add_argument("--port", type=int, default=8443, help="webhook listen port")
    run.add_argument("--secret-token", help="webhook secret token (default: random)")
    run.add_argument(
        "--staff-chat",
        type=int,
        help="forum supergroup id where agents work (default: $HELPDESK_STAFF_CHAT_ID)",
    )

    dbp = sub.add_parser("db", parents=[common], help="the database itself")
    dsub = dbp.add_subparsers(dest="action", required=True, metavar="ACTION")
    dsub.add_parser("init", parents=[common], help="create an empty database (and its key file)")
    prune = dsub.add_parser("prune", parents=[common], help="apply the retention policy now")
    prune.add_argument(
        "--days", type=int, help="keep this many days (default: $HELPDESK_RETAIN_DAYS, 180)"
    )
    dsub.add_parser(
        "migrate", parents=[common], help="bring the database's schema up to this version"
    )
    dcopy = dsub.add_parser(
        "copy", parents=[common], help="copy everything into a new, empty database"
    )
    dcopy.add_argument(
        "--to", required=True, metavar="URL", help="the target, e.g. postgresql://…/helpdesk"
    )
    kakao = sub.add_parser("kakao", parents=[common], help="serve the KakaoTalk skill endpoint")
    kakao.add_argument("--listen", default="127.0.0.1", help="listen address (default: loopback)")
    kakao.add_argument("--port", type=int, default=8080, help="listen port (default 8080)")
    kakao.add_argument("--secret", help="X-Skill-Secret value (default: $HELPDESK_KAKAO_SECRET)")

    imp = sub.add_parser(
        "import", parents=[common], help="import customers and services (JSON or JSON Lines)"
    )
    imp.add_argument("file", help="FILE.json, FILE.jsonl (one customer per line) or - for stdin")

    link = sub.add_parser("link", parents=[common], help="issue a one-time account-link code")
    link.add_argument("customer_id")

    req = sub.add_parser("requests", parents=[common], help="the refund review queue")
    rsub = req.add_subparsers(dest="action", required=True, metavar="ACTION")
    rlist = rsub.add_parser("list", parents=[common], help="list requests")
    rlist.add_argument("--status", choices=[s.value for s in RequestStatus])
    rlist.add_argument("--customer", help="only this customer's requests")
    actions = _record_actions(
        rsub,
        common,
        "request number, e.g. R-20261124-0007",
        (
            ("show", "show a request and its audit trail"),
            ("approve", "approve a submitted request"),
            ("reject", "reject a request with a reason the customer reads"),
            ("refunded", "record that the refund was paid"),
        ),
    )
    actions["reject"].add_argument("reason_text", nargs="?", metavar="REASON", help="as --reason")
    actions["reject"].add_argument("--reason", help="why, in Korean: the customer reads it")

    inq = sub.add_parser("inquiries", parents=[common], help="customer-centre hand-offs")
    isub = inq.add_subparsers(dest="action", required=True, metavar="ACTION")
    ilist = isub.add_parser("list", parents=[common], help="list inquiries")
    ilist.add_argument("--status", choices=["open", "answered", "closed"])
    actions = _record_actions(
        isub,
        common,
        "inquiry number, e.g. Q-20261124-0001",
        (
            ("show", "show an inquiry with its context, transcript and attachments"),
            ("answer", "answer an inquiry; the customer gets it in the chat"),
            ("close", "close an inquiry"),
        ),
    )
    actions["answer"].add_argument("--text", required=True, help="the answer, in Korean")

    cust = sub.add_parser("customers", parents=[common], help="customers and their services")
    csub = cust.add_subparsers(dest="action", required=True, metavar="ACTION")
    clist = csub.add_parser("list", parents=[common], help="list customers (id, name, services)")
    clist.add_argument("--limit", type=int, default=100, help="customers to show (default 100)")
    cshow = csub.add_parser("show", parents=[common], help="one customer: services, eligibility")
    cshow.add_argument("id", help="customer id, e.g. hong01")

    stats = sub.add_parser("stats", parents=[common], help="questions, feedback and requests")
    stats.add_argument("--since", help="first day, YYYY-MM-DD (KST; default: 30 days ago)")
    stats.add_argument("--until", help="last day, YYYY-MM-DD (KST; default: today)")

    faq = sub.add_parser("faq", parents=[common], help="FAQ matcher tools")
    fsub = faq.add_subparsers(dest="action", required=True, metavar="ACTION")
    fmatch = fsub.add_parser("match", parents=[common], help="match questions (args or stdin)")
    fmatch.add_argument("text", nargs="*", help="question; without it, one per line from stdin")
    fmatch.add_argument(
        "--today", help="the KST date dates in the questions are read against (default: today)"
    )
    fmatch.add_argument(
        "--previous", metavar="INTENT", help="intent of the answer just read (for follow-ups)"
    )
    fmatch.add_argument(
        "--all", action="store_true", help="one result per question in a message (at most two)"
    )
    feval = fsub.add_parser("eval", parents=[common], help="score a labelled TSV file")
    feval.add_argument(
        "file",
        help="TSV: text<TAB>intent id, act id or none; a '# today: YYYY-MM-DD' header sets "
        "the date the questions' dates are read against (default: today, KST)",
    )
    feval.add_argument(
        "--explain", action="store_true", help="show the evidence behind each miss"
    )
    ftrain = fsub.add_parser(
        "train",
        parents=[common],
        help="retrain the matcher's model (faq/data/classifier.json) from faq/data/training/",
    )
    ftrain.add_argument(
        "--check", action="store_true", help="only say whether the shipped model is up to date"
    )
    fmiss = fsub.add_parser("misses", parents=[common], help="most frequent unanswered questions")
    fmiss.add_argument("--since", help="first day, YYYY-MM-DD (KST; default: 30 days ago)")
    fmiss.add_argument("--limit", type=int, default=20, help="groups to show (default 20)")
    return parser
