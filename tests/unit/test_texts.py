"""What customers read about money and timing says what the help-centre page says."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import texts
from core.models import PaymentMethod, Reason, RefundRequest, RequestStatus
from faq.kb import load_knowledge_base

SEED_MYCASH_WINDOW = "영업일 기준 약 3-7일"
"""The help-centre page (seed 000, FAQ ④): "영업일 기준 약 3-7일 정도 소요됩니다"."""


def _mycash_request() -> RefundRequest:
    at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    return RefundRequest(
        number="R-20261128-0001",
        customer_id="hong01",
        service_id="SMS-1001",
        reason=Reason("업무 종료"),
        message="정리합니다",
        service_fee=11000,
        sms_charge=20000,
        total=31000,
        payment_method=PaymentMethod.MYCASH,
        channel="story",
        status=RequestStatus.SUBMITTED,
        created_at=at,
        updated_at=at,
    )


MYCASH_TIMING_TEXTS = {
    "breakdown and summary": texts.DEST_MYCASH,
    "filed": texts.filed_mycash("R-1", 31000, date(2026, 12, 2), date(2026, 12, 8)),
    "status": texts.status_line(_mycash_request()),
    "approved notice": texts.notify_approved_mycash(
        "R-1", 31000, date(2026, 12, 2), date(2026, 12, 8)
    ),
    "FAQ answer": load_knowledge_base().get("mycash_refund").answer,
}


@pytest.mark.parametrize("where", MYCASH_TIMING_TEXTS)
def test_every_mycash_timing_uses_the_seed_wording(where: str) -> None:
    text = MYCASH_TIMING_TEXTS[where]
    assert SEED_MYCASH_WINDOW in text
    assert "3~7" not in text and "3–7" not in text


def test_both_filing_confirmations_say_where_to_follow_progress() -> None:
    mycash = texts.filed_mycash("R-1", 31000, date(2026, 12, 2), date(2026, 12, 8))
    bank = texts.filed_bank("R-1", 61000, "신한은행", "***-***-**6789")
    for text in (mycash, bank):
        assert "/status" in text and f"[{texts.BTN_STATUS}]" in text
