"""The `helpdesk` command: terminal chat, Telegram bot, import, linking, review queue, FAQ tools.

Every sub-command accepts `--db PATH` (default `$HELPDESK_DB`, else `helpdesk.db` in the working
directory) or `--database-url URL` (default `$HELPDESK_DATABASE_URL`: `sqlite:///PATH` or
`postgresql://…`) and, where it prints records, `--json`. Each may stand before or after the
sub-command; the command line wins over the environment. Errors go to stderr, one clear line,
with a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any, TextIO

from pydantic import ValidationError

from bot import texts
from bot.app import open_database, open_helpdesk
from bot.settings import Settings
from core.calendar import KST, system_clock, today_kst
from core.errors import HelpdeskError, ImportRejected, InvalidInput
from core.importing import check_import
from core.models import (
    AuditEvent,
    Customer,
    Inquiry,
    InquiryEvent,
    RefundRequest,
    RequestStatus,
)
from core.money import format_won
from core.policy import Ineligibility, PastDeadline, RequestOpen, SmsUsed
from core.storage import DRIVER_ERRORS, DatabaseUrl
from core.usecases import Helpdesk, LinkLimits, ServiceView

EXIT_ERROR = 1


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


def _with_helpdesk(
    settings: Settings, work: Callable[[Helpdesk], Awaitable[int]], *, create: bool = False
) -> int:
    """Run `work` with the use cases over the configured database.

    Only commands that put data in (`import`, `db init`) create a missing database: a read
    command at a mistyped path says so instead of leaving an empty database and key behind.
    """

    async def runner() -> int:
        async with open_helpdesk(settings, create=create) as helpdesk:
            return await work(helpdesk)

    return asyncio.run(runner())


# import -------------------------------------------------------------------------------------


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path = None if args.file == "-" else Path(args.file)
    try:
        # Opened here so that an unreadable path is one plain error line, as for every command.
        stream = path.open("rb") if path is not None else contextlib.nullcontext(sys.stdin.buffer)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    with stream as file:
        bar = ProgressBar(f"checking {args.file}") if _shows_progress(args) else None
        try:
            checked = check_import(file, today=today_kst(system_clock), progress=bar)
        except ImportRejected as exc:
            return _import_refused(args.file, exc)
        finally:
            if bar is not None:
                bar.close()

    async def work(helpdesk: Helpdesk) -> int:
        bar = ProgressBar("writing", unit="customers") if _shows_progress(args) else None
        try:
            summary = await helpdesk.customers.import_checked(checked, progress=bar)
        except ImportRejected as exc:
            return _import_refused(args.file, exc)
        finally:
            if bar is not None:
                bar.close()
        if args.json:
            print(json.dumps({"customers": summary.customers, "services": summary.services}))
        else:
            for kind, counts in (("customers", summary.customers), ("services", summary.services)):
                parts = ", ".join(f"{len(ids)} {outcome}" for outcome, ids in counts.items())
                print(f"{kind}: {parts}")
                for outcome in ("added", "updated"):
                    if counts[outcome]:
                        print(f"  {outcome}: {_some(counts[outcome])}")
        return 0

    with checked:
        return _with_helpdesk(settings, work, create=True)


def _import_refused(file: str, exc: ImportRejected) -> int:
    print(f"error: import refused, nothing was changed ({file}):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_ERROR


def _some(ids: list[str], shown: int = 20) -> str:
    """The first ids of a list; a provider's 200k ids would bury the summary."""
    more = f" … and {len(ids) - shown:,} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _shows_progress(args: argparse.Namespace) -> bool:
    """A bar only for a person at a terminal: never in --json output, logs or pipes."""
    return not args.json and sys.stderr.isatty()


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, label: str, unit: str = "bytes", stream: TextIO | None = None) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.drawn_at: float | None = None

    def _amount(self, n: int) -> str:
        return f"{n / 1e6:.1f} MB" if self.unit == "bytes" else f"{n:,} {self.unit}"

    def __call__(self, done: int, total: int | None) -> None:
        """Show `done` of `total` units (just the count when the total is unknown)."""
        now = monotonic()
        finished = total is not None and done >= total
        if self.drawn_at is not None and now - self.drawn_at < 0.1 and not finished:
            return
        self.drawn_at = now
        if total:
            part = min(done / total, 1.0)
            filled = round(part * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"{self.label} [{bar}] {part:4.0%} {self._amount(done)} of {self._amount(total)}"
        else:
            line = f"{self.label} {self._amount(done)}"
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()

    def close(self) -> None:
        """Clear the bar's line so that what is printed next starts clean."""
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# link ---------------------------------------------------------------------------------------


def deep_link(username: str | None, code: str) -> str | None:
    """Return the Telegram deep link for a link code, when the bot's username is known."""
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None


def _cmd_link(args: argparse.Namespace, settings: Settings) -> int:
    async def work(helpdesk: Helpdesk) -> int:
        issued = await helpdesk.linking.issue_code(args.customer_id)
        username = settings.bot_username or await helpdesk.values.get("bot_username")
        url = deep_link(username, issued.code)
        expires = issued.expires_at.astimezone(KST)
        # KakaoTalk has no deep link into a skill: the customer pastes the code in the chat.
        kakao = texts.KAKAO_LINK_INSTRUCTION.format(
            code=issued.code, minutes=int(LinkLimits().code_ttl.total_seconds() // 60)
        )
        if args.json:
            out: dict[str, Any] = {
                "customer_id": issued.customer_id,
                "code": issued.code,
                "expires_at": expires.isoformat(timespec="seconds"),
                "kakao": kakao,
            }
            if url:
                out["url"] = url
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(f"code:       {issued.code}")
            print(f"customer:   {issued.customer_id}")
            print(f"expires at: {expires:%Y-%m-%d %H:%M} KST (single use)")
            print(f"chat:       /link {issued.code}")
            if url:
                print(f"deep link:  {url}")
            print(f"kakao:      {kakao}")
        return 0

    return _with_helpdesk(settings, work)


# requests -----------------------------------------------------------------------------------


def request_json(request: RefundRequest) -> dict[str, Any]:
    """The JSON object an agent's tools read for one request."""
    account = request.account
    return {
        "id": request.number,
        "customer_id": request.customer_id,
        "service_id": request.service_id,
        "reason": request.reason.value,
        "message": request.message,
        "refund_total": request.total,
        "service_fee": request.service_fee,
        "sms_charge": request.sms_charge,
        "payment_method": request.payment_method.value,
        "bank": account.bank if account else None,
        "account_number": account.number if account else None,
        "account_holder": account.holder if account else None,
        "status": request.status.value,
        "decision_note": request.decision_note,
        "channel": request.channel,
        "created_at": request.created_at.astimezone(KST).isoformat(timespec="seconds"),
        "updated_at": request.updated_at.astimezone(KST).isoformat(timespec="seconds"),
    }


def _event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.astimezone(KST).isoformat(timespec="seconds"),
        "actor": event.actor,
        "action": event.action,
        "detail": event.detail,
    }


def _table(rows: list[list[str]], headers: list[str]) -> str:
    from unicodedata import east_asian_width

    def width(text: str) -> int:
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _agent_name(args: argparse.Namespace) -> str:
    if getattr(args, "agent", None):
        return str(args.agent)
    try:
        return os.environ.get("USER") or getpass.getuser()
    except OSError:
        return "agent"


def _print_request(request: RefundRequest, events: list[AuditEvent]) -> None:
    created = request.created_at.astimezone(KST)
    print(f"request:  {request.number} ({request.status.value})")
    print(f"customer: {request.customer_id}   service: {request.service_id}")
    print(f"filed:    {created:%Y-%m-%d %H:%M} KST via {request.channel}")
    print(f"reason:   {request.reason.value}")
    print(f"message:  {request.message}")
    print(
        f"refund:   {format_won(request.total)} = fee {format_won(request.service_fee)}"
        f" + SMS charge {format_won(request.sms_charge)} → {request.payment_method.value}"
    )
    if request.account:
        acc = request.account
        print(f"account:  {acc.bank} {acc.number} ({acc.holder})")
    if request.decision_note:
        print(f"note:     {request.decision_note}")
    print("trail:")
    for event in events:
        at = event.at.astimezone(KST)
        detail = f" — {event.detail}" if event.detail else ""
        print(f"  {at:%Y-%m-%d %H:%M:%S} {event.action:<10} by {event.actor}{detail}")


def _cmd_requests(args: argparse.Namespace, settings: Settings) -> int:
    async def work(helpdesk: Helpdesk) -> int:
        if args.action == "list":
            status = RequestStatus(args.status) if args.status else None
            requests = await helpdesk.requests.list(status, args.customer)
            if args.json:
                print(json.dumps([request_json(r) for r in requests], ensure_ascii=False))
            elif not requests:
                print("no requests")
            else:
                rows = [
                    [
                        r.number,
                        r.status.value,
                        r.customer_id,
                        r.service_id,
                        format_won(r.total),
                        r.payment_method.value,
                        r.reason.value,
                        f"{r.created_at.astimezone(KST):%Y-%m-%d %H:%M}",
                    ]
                    for r in requests
                ]
                headers = [
                    "id",
                    "status",
                    "customer",
                    "service",
                    "refund",
                    "method",
                    "reason",
                    "filed (KST)",
                ]
                print(_table(rows, headers))
            return 0
        if args.action == "show":
            request, events = await helpdesk.requests.show(args.id)
        else:
            agent = _agent_name(args)
            if args.action == "approve":
                await helpdesk.requests.approve(args.id, agent)
            elif args.action == "reject":
                reason = args.reason or args.reason_text
                if not reason:
                    raise InvalidInput("a rejection needs a reason: --reason TEXT")
                await helpdesk.requests.reject(args.id, agent, reason)
            else:
                await helpdesk.requests.mark_refunded(args.id, agent)
            request, events = await helpdesk.requests.show(args.id)
        if args.json:
            out = request_json(request) | {"events": [_event_json(e) for e in events]}
            print(json.dumps(out, ensure_ascii=False))
        else:
            _print_request(request, events)
        return 0

    return _with_helpdesk(settings, work)


# faq ----------------------------------------------------------------------------------------


def _cmd_faq(args: argparse.Namespace, settings: Settings) -> int:
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
        return _cmd_faq_misses(args, settings)
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


def _period(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """[since 00:00 KST, the day after `until` 00:00 KST) as aware datetimes."""
    today = today_kst(system_clock)
    try:
        first = date.fromisoformat(since) if since else today - timedelta(days=30)
        last = date.fromisoformat(until) if until else today
    except ValueError as exc:
        raise InvalidInput(f"dates are YYYY-MM-DD: {exc}") from None
    start = datetime.combine(first, time.min, tzinfo=KST)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=KST)
    return start, end


def _cmd_faq_misses(args: argparse.Namespace, settings: Settings) -> int:
    from bot.analytics import group_misses

    async def work(helpdesk: Helpdesk) -> int:
        start, end = _period(args.since, None)
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

    return _with_helpdesk(settings, work)


def _cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.analytics import compute_stats, format_stats

    async def work(helpdesk: Helpdesk) -> int:
        start, end = _period(args.since, args.until)
        stats = await compute_stats(helpdesk, start, end)
        if args.json:
            print(json.dumps(stats, ensure_ascii=False))
        else:
            print(format_stats(stats))
        return 0

    return _with_helpdesk(settings, work)


def inquiry_json(inquiry: Inquiry, trail: list[InquiryEvent] | None = None) -> dict[str, Any]:
    """The JSON object an agent's tools read for one inquiry."""
    refund = inquiry.refund
    account = refund.account if refund else None
    out: dict[str, Any] = {
        "id": inquiry.number,
        "customer_id": inquiry.customer_id,
        "service_id": inquiry.service_id,
        "topic": inquiry.topic,
        "context": inquiry.context,
        "message": inquiry.message,
        "transcript": list(inquiry.transcript),
        "attachments": [a.model_dump() for a in inquiry.attachments],
        "status": inquiry.status,
        "answer": inquiry.answer,
        "handled_by": inquiry.handled_by,
        "channel": inquiry.channel,
        "created_at": inquiry.created_at.astimezone(KST).isoformat(timespec="seconds"),
        "updated_at": inquiry.updated_at.astimezone(KST).isoformat(timespec="seconds"),
        "refund_reason": refund.reason.value if refund and refund.reason else None,
        "refund_message": refund.message if refund else None,
        "bank": account.bank if account else None,
        "account_number": account.number if account else None,
        "account_holder": account.holder if account else None,
    }
    if trail is not None:
        out["events"] = [
            {
                "at": e.at.astimezone(KST).isoformat(timespec="seconds"),
                "actor": e.actor,
                "action": e.action,
            }
            for e in trail
        ]
    return out


def _print_inquiry(inquiry: Inquiry, trail: list[InquiryEvent]) -> None:
    created = inquiry.created_at.astimezone(KST)
    print(f"inquiry:  {inquiry.number} ({inquiry.status})")
    print(f"customer: {inquiry.customer_id}   service: {inquiry.service_id or '-'}")
    print(f"filed:    {created:%Y-%m-%d %H:%M} KST via {inquiry.channel}")
    print(f"topic:    {inquiry.topic}")
    print("context:")
    for line in inquiry.context.splitlines():
        print(f"  {line}")
    print(f"message:  {inquiry.message}")
    for attachment in inquiry.attachments:
        name = attachment.file_name or "-"
        print(
            f"attached: {attachment.kind} {name} {attachment.mime_type or ''}"
            f" file_id={attachment.file_id}"
        )
    if inquiry.refund is not None:
        refund = inquiry.refund
        print(f"refund:   {refund.reason.value if refund.reason else '-'}; {refund.message or ''}")
        if refund.account is not None:
            acc = refund.account
            print(f"account:  {acc.bank} {acc.number} ({acc.holder}) — not the subscriber's name")
    if inquiry.answer:
        print(f"answer:   {inquiry.answer} (by {inquiry.handled_by})")
    if inquiry.transcript:
        print("last turns:")
        for line in inquiry.transcript:
            print(f"  {line}")
    if trail:
        print("trail:")
        for event in trail:
            at = event.at.astimezone(KST)
            print(f"  {at:%Y-%m-%d %H:%M:%S} {event.action:<10} by {event.actor}")


def _cmd_inquiries(args: argparse.Namespace, settings: Settings) -> int:
    async def work(helpdesk: Helpdesk) -> int:
        if args.action == "list":
            inquiries = await helpdesk.inquiries.list(args.status)
            if args.json:
                print(json.dumps([inquiry_json(i) for i in inquiries], ensure_ascii=False))
            elif not inquiries:
                print("no inquiries")
            else:
                rows = [
                    [
                        i.number,
                        i.status,
                        i.customer_id,
                        i.service_id or "-",
                        i.topic,
                        str(len(i.attachments)),
                        f"{i.created_at.astimezone(KST):%Y-%m-%d %H:%M}",
                        i.message[:30],
                    ]
                    for i in inquiries
                ]
                headers = [
                    "id",
                    "status",
                    "customer",
                    "service",
                    "topic",
                    "files",
                    "filed (KST)",
                    "message",
                ]
                print(_table(rows, headers))
            return 0
        if args.action == "show":
            inquiry = await helpdesk.inquiries.show(args.id)
        elif args.action == "answer":
            inquiry = await helpdesk.inquiries.answer(args.id, _agent_name(args), args.text)
        else:
            inquiry = await helpdesk.inquiries.close(args.id, _agent_name(args))
        trail = await helpdesk.inquiries.trail(args.id)
        if args.json:
            print(json.dumps(inquiry_json(inquiry, trail), ensure_ascii=False))
        else:
            _print_inquiry(inquiry, trail)
        return 0

    return _with_helpdesk(settings, work)


def _service_json(view: ServiceView) -> dict[str, Any]:
    service, verdict = view.service, view.eligibility
    return {
        "id": service.id,
        "issued_on": service.issued_on.isoformat(),
        "service_fee": service.service_fee,
        "sms_charge": service.sms_charge,
        "sms_sent": service.sms_sent,
        "payment_method": service.payment_method.value,
        "status": service.status.value,
        "day": verdict.day,
        "last_day": verdict.last_day.isoformat(),
        "eligible": verdict.eligible,
        "why_not": [_why_not(r) for r in verdict.reasons],
    }


def _why_not(reason: Ineligibility) -> str:
    """An ineligibility in an agent's words."""
    if isinstance(reason, PastDeadline):
        return f"day {reason.day} (last day was {reason.last_day.isoformat()})"
    if isinstance(reason, SmsUsed):
        return f"{reason.sent} SMS sent"
    if isinstance(reason, RequestOpen):
        return f"open request {reason.number}"
    return "service cancelled"


def _cmd_customers(args: argparse.Namespace, settings: Settings) -> int:
    async def work(helpdesk: Helpdesk) -> int:
        if args.action == "show":
            customer = await helpdesk.customers.get(args.id)
            views = await helpdesk.customers.services_overview(args.id)
            _print_customer(customer, views, args.json)
            return 0
        ids = await helpdesk.customers.ids()
        shown = ids[: max(1, args.limit)]
        found = [
            (await helpdesk.customers.get(i), await helpdesk.customers.services_overview(i))
            for i in shown
        ]
        if args.json:
            out = [
                {"id": c.id, "name": c.name, "services": [_service_json(v) for v in views]}
                for c, views in found
            ]
            print(json.dumps(out, ensure_ascii=False))
            return 0
        if not found:
            print("no customers (import some with: helpdesk import FILE.json)")
            return 0
        rows = [
            [c.id, c.name, str(len(views)), str(sum(v.eligibility.eligible for v in views))]
            for c, views in found
        ]
        print(_table(rows, ["id", "name", "services", "cancellable now"]))
        if len(ids) > len(shown):
            print(f"… and {len(ids) - len(shown)} more (--limit N)")
        return 0

    return _with_helpdesk(settings, work)


def _print_customer(customer: Customer, views: list[ServiceView], as_json: bool) -> None:
    if as_json:
        services = [_service_json(v) for v in views]
        print(json.dumps({"id": customer.id, "name": customer.name, "services": services}))
        return
    print(f"customer: {customer.id} ({customer.name})")
    if not views:
        print("services: none")
    rows = [
        [
            v.service.id,
            v.service.issued_on.isoformat(),
            str(v.eligibility.day),
            format_won(v.service.service_fee + v.service.sms_charge),
            v.service.payment_method.value,
            "cancellable"
            if v.eligibility.eligible
            else "; ".join(_why_not(r) for r in v.eligibility.reasons),
        ]
        for v in views
    ]
    if rows:
        print(_table(rows, ["service", "issued", "day", "refund", "method", "today"]))


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "prune":
        return _cmd_db_prune(args, settings)
    if args.action == "copy":
        return _cmd_db_copy(args, settings)

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

    return _with_helpdesk(settings, work, create=True)


def _cmd_db_prune(args: argparse.Namespace, settings: Settings) -> int:
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

    return _with_helpdesk(settings, work)


def _cmd_db_copy(args: argparse.Namespace, settings: Settings) -> int:
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


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    return run_console(settings, user=args.user, customer_id=args.customer)


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram import run_telegram

    return run_telegram(settings, args)


def _cmd_kakao(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kakao.server import run_kakao

    return run_kakao(settings, args)


_HANDLERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "chat": _cmd_chat,
    "run": _cmd_run,
    "db": _cmd_db,
    "customers": _cmd_customers,
    "kakao": _cmd_kakao,
    "import": _cmd_import,
    "link": _cmd_link,
    "requests": _cmd_requests,
    "faq": _cmd_faq,
    "inquiries": _cmd_inquiries,
    "stats": _cmd_stats,
}

