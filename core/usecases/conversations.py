"""Dialogue state per chat, as the engine stores it between turns."""

from __future__ import annotations

import logging
from typing import Any

from core.crypto import CipherError
from core.errors import ConversationConflict
from core.storage import ConversationRecord, Tx
from core.usecases.base import UseCases

log = logging.getLogger(__name__)


class Conversations(UseCases):
    """Load and save a chat's conversation inside the turn's unit of work."""

    async def load(self, chat_id: str, *, tx: Tx | None = None) -> ConversationRecord:
        """The chat's conversation; one that cannot be decrypted starts afresh (and is logged)."""
        async with self.reading(tx) as tx:
            try:
                return await tx.conversations.load(chat_id)
            except CipherError:
                log.warning("conversation of %s cannot be decrypted; its flow is reset", chat_id)
                version = await tx.conversations.version(chat_id)
                return ConversationRecord(state="idle", data={}, version=version, updated_at=None)

    async def save(
        self,
        chat_id: str,
        state: str,
        data: dict[str, Any],
        version: int,
        *,
        tx: Tx | None = None,
    ) -> None:
        """Store the conversation; ConversationConflict when it changed since `version`."""
        async with self.writing(tx) as tx:
            saved = await tx.conversations.save(chat_id, state, data, version, self.now())
        if not saved:
            raise ConversationConflict(f"conversation of {chat_id} changed during the turn")
