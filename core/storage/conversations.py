"""Each chat's dialogue state, versioned so that two writers cannot overwrite each other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.crypto import FieldCipher
from core.storage.sql import Sql, instant, iso


@dataclass(frozen=True)
class ConversationRecord:
    """A chat's stored dialogue state; `version` guards against concurrent writers."""

    state: str
    data: dict[str, Any]
    version: int
    updated_at: datetime | None


NEW_CONVERSATION = ConversationRecord(state="idle", data={}, version=0, updated_at=None)


class Conversations:
    """Load and save dialogue state (encrypted whole: mid-flow it holds a refund account)."""

    def __init__(self, sql: Sql, cipher: FieldCipher) -> None:
        self._sql = sql
        self._cipher = cipher

    async def load(self, chat_id: str) -> ConversationRecord:
        """Return the chat's stored conversation (version 0 when it has none yet)."""
        row = await self._sql.one("SELECT * FROM conversations WHERE chat_id = ?", (chat_id,))
        if row is None:
            return NEW_CONVERSATION
        return ConversationRecord(
            state=row["state"],
            data=json.loads(self._cipher.decrypt(row["data"])),
            version=int(row["version"]),
            updated_at=instant(row["updated_at"]),
        )

    async def version(self, chat_id: str) -> int:
        """The stored version of the chat's conversation (0 when it has none)."""
        row = await self._sql.one("SELECT version FROM conversations WHERE chat_id = ?", (chat_id,))
        return int(row["version"]) if row else 0

    async def save(
        self, chat_id: str, state: str, data: dict[str, Any], expected_version: int, now: datetime
    ) -> bool:
        """Store a chat's conversation if nobody changed it since `expected_version`.

        Returns False on a version conflict (another process moved the conversation on), so the
        caller can roll its turn back and apply it again instead of silently overwriting.
        """
        payload = self._cipher.encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True))
        if expected_version == 0:
            changed = await self._sql.execute(
                "INSERT INTO conversations (chat_id, state, data, version, updated_at)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id) DO NOTHING",
                (chat_id, state, payload, iso(now)),
            )
        else:
            changed = await self._sql.execute(
                "UPDATE conversations SET state = ?, data = ?, version = version + 1,"
                " updated_at = ? WHERE chat_id = ? AND version = ?",
                (state, payload, iso(now), chat_id, expected_version),
            )
        return changed == 1
