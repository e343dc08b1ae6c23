"""`helpdesk import`, `helpdesk link` and `helpdesk customers`: who the customers are."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from bot import texts
from bot.cli.common import EXIT_ERROR, ProgressBar, shows_progress, some, table, with_helpdesk
from bot.settings import Settings
from core.calendar import KST, system_clock, today_kst
from core.errors import ImportRejected
from core.importing import check_import
from core.models import Customer
from core.money import format_won
from core.policy import Ineligibility, PastDeadline, RequestOpen, SmsUsed
from core.usecases import Helpdesk, LinkLimits, ServiceView

# import -------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk import FILE`: check the whole file, then upsert customers and services."""
    path = None if args.file == "-" else Path(args.file)
    try:
        # Opened here so that an unreadable path is one plain error line, as for every command.
        stream = path.open("rb") if path is not None else contextlib.nullcontext(sys.stdin.buffer)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    with stream as file:
        bar = ProgressBar(f"checking {args.file}") if shows_progress(args) else None
        try:
            checked = check_import(file, today=today_kst(system_clock), progress=bar)
        except ImportRejected as exc:
            return _import_refused(args.file, exc)
        finally:
            if bar is not None:
                bar.close()

    async def work(helpdesk: Helpdesk) -> int:
        bar = ProgressBar("writing", unit="customers") if shows_progress(args) else None
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
                        print(f"  {outcome}: {some(counts[outcome])}")
        return 0

    with checked:
        return with_helpdesk(settings, work, create=True)


def _import_refused(file: str, exc: ImportRejected) -> int:
    print(f"error: import refused, nothing was changed ({file}):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_ERROR


# link ---------------------------------------------------------------------------------------


def deep_link(username: str | None, code: str) -> str | None:
    """Return the Telegram deep link for a link code, when the bot's username is known."""
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None


def cmd_link(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk link CUSTOMER_ID`: issue a one-time link code and say how to use it."""
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

    return with_helpdesk(settings, work)


# customers ----------------------------------------------------------------------------------


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


def cmd_customers(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk customers list|show`: customers, their services and eligibility today."""
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
        print(table(rows, ["id", "name", "services", "cancellable now"]))
        if len(ids) > len(shown):
            print(f"… and {len(ids) - len(shown)} more (--limit N)")
        return 0

    return with_helpdesk(settings, work)


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
        print(table(rows, ["service", "issued", "day", "refund", "method", "today"]))
