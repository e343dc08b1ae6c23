"""The record of what customers asked, for the misses report and the statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.storage import Tx
from core.text import redact
from core.usecases.base import UseCases


class FaqLog(UseCases):
    """Log FAQ outcomes and 👍/👎; read them back for a period."""

    async def record(
        self,
        *,
        chat_id: str | None,
        kind: str,
        intent: str | None,
        text: str,
        normalized: str,
        helpful: bool | None = None,
        tx: Tx | None = None,
    ) -> None:
        """Record an FAQ outcome; both texts are redacted here, whatever the caller passed."""
        async with self.writing(tx) as tx:
            await tx.faq_events.log(
                at=self.now(),
                chat_id=chat_id,
                kind=kind,
                intent=intent,
                text=redact(text),
                normalized=redact(normalized),
                helpful=helpful,
            )

    async def events(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """FAQ events in a period."""
        async with self.db.reading() as tx:
            return await tx.faq_events.between(since, until)
