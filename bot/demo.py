"""Demo customers for `helpdesk chat` on a fresh machine, dated relative to today (KST).

The first demo customer's services cover every path of the conversation: an eligible MyCash
service (listed first), an eligible bank-transfer service, one on day 8, one with SMS sent and
one with an open request. Because dates are relative to the day the database is created, a demo
database left for a week ages like real data would.
"""

from __future__ import annotations

import json
from datetime import timedelta

from core.calendar import today_kst
from core.models import Reason
from core.usecases import Filing, Helpdesk

DEMO_CUSTOMER = "demo01"


def demo_import(helpdesk: Helpdesk) -> bytes:
    """Return the demo data as an import file (SPEC format)."""
    today = today_kst(helpdesk.clock)

    def day(n: int) -> str:
        return (today - timedelta(days=n - 1)).isoformat()

    def service(sid: str, n: int, fee: int, charge: int, sent: int, method: str) -> dict:
        return {
            "id": sid,
            "issued_on": day(n),
            "service_fee": fee,
            "sms_charge": charge,
            "sms_sent": sent,
            "payment_method": method,
        }

    data = {
        "customers": [
            {
                "id": DEMO_CUSTOMER,
                "name": "김하늘",
                "services": [
                    service("SMS-1001", 3, 11000, 20000, 0, "mycash"),
                    service("SMS-1002", 2, 11000, 50000, 0, "bank_transfer"),
                    service("SMS-1003", 8, 11000, 10000, 0, "mycash"),
                    service("SMS-1004", 4, 11000, 30000, 3, "mycash"),
                    service("SMS-1005", 2, 11000, 0, 0, "mycash"),
                ],
            },
            {
                "id": "demo02",
                "name": "이바다",
                "services": [service("SMS-2001", 1, 22000, 10000, 0, "mycash")],
            },
        ]
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


async def load_demo(helpdesk: Helpdesk) -> None:
    """Import the demo customers and file the one open request the demo needs.

    That request is filed "yesterday" (from the web console), so the first request a demo user
    files in the chat is today's first, R-<today>-0001.
    """
    await helpdesk.customers.import_file(demo_import(helpdesk))
    clock = helpdesk.clock
    yesterday = Helpdesk(helpdesk.db, lambda: clock() - timedelta(days=1))
    await yesterday.requests.file(
        Filing(
            customer_id=DEMO_CUSTOMER,
            service_id="SMS-1005",
            reason=Reason.PRODUCT_CHANGE,
            message="다른 요금제로 바꾸려고 합니다.",
            account=None,
            channel="web",
            chat_id=None,
            submission_key="demo:SMS-1005",
        )
    )
