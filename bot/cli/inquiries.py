"""`helpdesk inquiries`: customer-centre hand-offs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.common import agent_name, table, with_helpdesk
from bot.settings import Settings
from core.calendar import KST
from core.models import Inquiry, InquiryEvent
from core.usecases import Helpdesk


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


def cmd_inquiries(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk inquiries list|show|answer|close`: hand-offs to the customer centre."""
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
                print(table(rows, headers))
            return 0
        if args.action == "show":
            inquiry = await helpdesk.inquiries.show(args.id)
        elif args.action == "answer":
            inquiry = await helpdesk.inquiries.answer(args.id, agent_name(args), args.text)
        else:
            inquiry = await helpdesk.inquiries.close(args.id, agent_name(args))
        trail = await helpdesk.inquiries.trail(args.id)
        if args.json:
            print(json.dumps(inquiry_json(inquiry, trail), ensure_ascii=False))
        else:
            _print_inquiry(inquiry, trail)
        return 0

    return with_helpdesk(settings, work)
