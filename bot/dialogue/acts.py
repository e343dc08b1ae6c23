"""What customers say that is not an FAQ question: asking about their filed request, taking it
back, asking for a person, and anger. The matcher recognises the act (faq/data/acts.toml); this
module decides what the conversation does with it."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue import account
from bot.dialogue.flow import Outcome
from bot.dialogue.menus import HANDOFF
from bot.dialogue.turn import Turn
from bot.dialogue.withdraw import start_withdraw
from faq.dates import read_elapsed

STATUS = "request_status"
WITHDRAW = "withdraw_request"
HUMAN = "human_agent"
COMPLAINT = "complaint"

_KEEP_USING = r"(계속|그냥|다시)\s*(쓸게|쓸래|쓸께|쓰겠|쓰기로|사용할게|이용할게)"
"""Keeping the service ("그냥 쓸게요"): from someone with a request open, taking that back."""

_TAKE_BACK = re.compile(
    r"철회|없던\s*(걸로|일로)|없었던\s*(걸로|일로)|무를|무르|물러|취하|되돌|번복"
    r"|(신청|접수|요청)(한|했던|된)\s*(거|것|건)|" + _KEEP_USING
)
"""Words that, from a customer with a request waiting or approved, mean taking it back: the
matcher alone cannot tell "없던 걸로 해 주세요" about the request from cancelling the service."""

_SERVICE_NAMED = re.compile(r"알림톡|sms|문자|카톡|카카오|호스팅|서비스", re.IGNORECASE)
_REQUEST_NAMED = re.compile(r"(환불|취소|해지)\s*(을|를)?\s*(신청|요청|접수)|접수|요청|R-\d", re.I)
"""A message that names the service and no request ("지난 목요일에 알림톡 신청했어요 … 무르고
싶어요") takes back the service, whatever request is waiting: that is cancelling it."""

STARTS_FLOW = frozenset({WITHDRAW})
"""Acts that start a flow (and so, over a filled-in form, are asked about first)."""


_ONLY_FOR_REQUESTS = re.compile(r"철회|취하|번복|" + _KEEP_USING)
"""Take-back words used only of a filed request: "아 방금 그거 철회할게요" (no request named, so
the matcher falls back) from someone with a request open can only be withdrawing it."""


async def in_context(turn: Turn, text: str, act: str | None, intent: str | None) -> str | None:
    """The act, read against what the customer has: a how-to-cancel reading of "없던 걸로 해
    주세요" from someone whose request is still open is a withdrawal, and so is a bare "철회할게요"
    the matcher could not place."""
    if act is not None or turn.customer is None:
        return act
    if intent is None:
        if not _ONLY_FOR_REQUESTS.search(text) or _SERVICE_NAMED.search(text):
            return None
    elif intent != "how_to_cancel" or not _TAKE_BACK.search(text):
        return None
    if not _REQUEST_NAMED.search(text) and (
        _SERVICE_NAMED.search(text)
        # "이틀째인데 없던 걸로": the age of a service, so the service is meant
        or any(not m.about_request for m in read_elapsed(text, turn.today).mentions)
    ):
        return None
    requests = await turn.deps.helpdesk.requests.list(customer_id=turn.customer.id, tx=turn.tx)
    return WITHDRAW if any(r.status.is_open for r in requests) else None


async def handle(turn: Turn, act: str) -> Outcome | None:
    """Answer an act; the outcome when it starts a flow, else None."""
    if act == STATUS:
        await account.status(turn)
    elif act == WITHDRAW:
        return await start_withdraw(turn)
    elif act == HUMAN:
        if turn.customer is None:
            turn.say(texts.HUMAN_AGENT_NOT_LINKED)
        else:
            turn.say(texts.HUMAN_AGENT, ((HANDOFF,),))
    elif act == COMPLAINT:
        apology(turn)
    return None


def apology(turn: Turn) -> None:
    """A short apology and the way to a person: no FAQ block, no lecture."""
    if turn.customer is None:
        turn.say(texts.COMPLAINT_NOT_LINKED)
    else:
        turn.say(texts.COMPLAINT, ((HANDOFF,),))
