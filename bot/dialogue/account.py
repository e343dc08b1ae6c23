"""The customer's account in the chat: linking with a one-time code, unlinking, and status."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue.menus import WITHDRAW, topic_buttons
from bot.dialogue.turn import Turn
from bot.dialogue.wishes import STATUS_TOPIC
from core.calendar import to_kst
from core.errors import InvalidLinkCode, LinkThrottled
from core.models import RequestStatus

# A link code as `helpdesk link` issues it (secrets.token_urlsafe(16): 22 url-safe characters).
LINK_CODE = re.compile(r"[A-Za-z0-9_-]{22}")


def link_code_in(text: str) -> str | None:
    """The link code a message carries (`/start CODE`, `/link CODE` or the bare code), if any."""
    text = text.strip()
    head, _, rest = text.partition(" ")
    command = head.split("@", 1)[0].casefold()
    if command in ("/start", "/link") and rest.strip():
        return rest.strip()
    return text if LINK_CODE.fullmatch(text) else None


async def link(turn: Turn, code: str) -> None:
    """Redeem a link code for this chat."""
    try:
        customer = await turn.deps.helpdesk.linking.redeem(turn.chat_id, code, tx=turn.tx)
    except InvalidLinkCode:
        turn.say(texts.LINK_FAILED)
        return
    except LinkThrottled as exc:
        minutes = max(1, int(exc.retry_after.total_seconds() // 60) + 1)
        turn.say(texts.LINK_THROTTLED.format(minutes=minutes))
        return
    turn.customer = customer
    turn.services_changed()
    turn.reset()
    turn.say(texts.LINKED.format(name=customer.name), topic_buttons(turn.deps.kb, with_refund=True))


async def unlink(turn: Turn) -> None:
    """Remove this chat's link (and leave any flow: it belonged to that customer)."""
    removed = await turn.deps.helpdesk.linking.unlink(turn.chat_id, tx=turn.tx)
    turn.reset()
    turn.say(texts.UNLINKED if removed else texts.NOT_LINKED_UNLINK)


async def status(turn: Turn) -> None:
    """The customer's requests and inquiries with their states (and a way to withdraw)."""
    if turn.customer is None:
        turn.say(texts.NOT_LINKED)
        return
    helpdesk = turn.deps.helpdesk
    requests = await helpdesk.requests.list(customer_id=turn.customer.id, tx=turn.tx)
    inquiries = await helpdesk.inquiries.list(customer_id=turn.customer.id, tx=turn.tx)
    if not requests and not inquiries:
        turn.say(texts.NO_REQUESTS_OR_INQUIRIES)
        return
    lines: list[str] = []
    if requests:
        lines += [texts.STATUS_HEADER, *(texts.status_line(r) for r in requests)]
    if inquiries:
        if lines:
            lines.append("")
        lines.append(texts.STATUS_INQUIRIES_HEADER)
        lines += [
            texts.inquiry_status_line(i.number, i.status, to_kst(i.created_at).date())
            for i in inquiries
        ]
    turn.data.last_intent = STATUS_TOPIC  # "언제 들어와요?" next is about these requests
    withdrawable = any(r.status is RequestStatus.SUBMITTED for r in requests)
    turn.say("\n".join(lines), ((WITHDRAW,),) if withdrawable else ())
