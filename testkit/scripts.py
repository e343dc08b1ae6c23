"""What one customer does in the tests and benchmarks that play many at once: link, ask, file."""

from __future__ import annotations

QUESTION = "SMS 충전 금액도 환불되나요?"
MESSAGE = "더 이상 사용하지 않아 해지합니다"


def customer_script(code: str, service_id: str) -> list[tuple[str, str]]:
    """One customer's 8 turns: link, ask, start, choose, next, reason, message, confirm.

    Each turn is ("text", what is typed) or ("press", the label of the button pressed).
    """
    return [
        ("text", f"/start {code}"),
        ("text", QUESTION),
        ("text", "/refund"),
        ("press", f"{service_id} · 31,000원"),
        ("press", "다음 진행"),
        ("press", "서비스 불만"),
        ("text", MESSAGE),
        ("press", "취소/환불 신청"),
    ]
