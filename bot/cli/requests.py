"""`helpdesk requests`: the refund review queue."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.common import agent_name, table, with_helpdesk
from bot.settings import Settings
from core.calendar import KST
from core.errors import InvalidInput
from core.models import AuditEvent, RefundRequest, RequestStatus
from core.money import format_won
from core.usecases import Helpdesk


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


def cmd_requests(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk requests list|show|approve|reject|refunded`: the review queue."""
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
                print(table(rows, headers))
            return 0
        if args.action == "show":
            request, events = await helpdesk.requests.show(args.id)
        else:
            agent = agent_name(args)
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

    return with_helpdesk(settings, work)
