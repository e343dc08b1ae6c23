"""`helpdesk stats` splits questions and filed requests by channel (Telegram, KakaoTalk…)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.analytics import channel_of, compute_stats, format_stats
from core.calendar import fixed_clock
from core.models import Reason
from core.storage import Database
from core.usecases import Filing, Helpdesk

CUSTOMERS = Path(__file__).parents[1] / "stories" / "customers.json"
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_the_channel_of_a_chat_is_its_id_prefix() -> None:
    assert channel_of("tg:123") == "telegram"
    assert channel_of("kakao:a3f9") == "kakao"
    assert channel_of("console:me") == "console"
    assert channel_of("line:9") == "line"
    assert channel_of(None) == channel_of("nochannel") == "unknown"


async def test_stats_count_questions_and_requests_per_channel(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "stats.db")
    try:
        desk = Helpdesk(db, fixed_clock(NOW))
        await desk.customers.import_file(CUSTOMERS.read_bytes())
        for chat, kind in (("kakao:u1", "answer"), ("kakao:u2", "fallback"), ("tg:7", "answer")):
            intent = "mycash_refund" if kind == "answer" else None
            await desk.faq_log.record(
                chat_id=chat, kind=kind, intent=intent, text="q", normalized="q"
            )
        await desk.requests.file(
            Filing(
                customer_id="hong01",
                service_id="SMS-1001",
                reason=Reason.DISSATISFIED,
                message="해지합니다",
                account=None,
                channel="kakao",
                chat_id="kakao:u1",
                submission_key=None,
            )
        )
        stats = await compute_stats(desk, NOW - timedelta(days=1), NOW + timedelta(days=1))
    finally:
        await db.close()
    assert stats["by_channel"] == {
        "kakao": {"questions": 2, "requests": {"submitted": 1}},
        "telegram": {"questions": 1, "requests": {}},
    }
    report = format_stats(stats)
    assert "by channel" in report and "kakao" in report and "submitted 1" in report
