"""Settings, read once from the environment (pydantic-settings) and passed down explicitly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.storage import DatabaseUrl

if TYPE_CHECKING:
    from bot.dialogue.turn import DialogueLimits

DEFAULT_DB = Path("helpdesk.db")


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by an environment variable."""

    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    db: Path = Field(default=DEFAULT_DB, description="SQLite file (HELPDESK_DB)")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql://user:pass@host:port/db "
        "(HELPDESK_DATABASE_URL); default: the SQLite file HELPDESK_DB",
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="Connections each process keeps to a PostgreSQL server"
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "HELPDESK_TELEGRAM_BOT_TOKEN"),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key encrypting account numbers at rest (HELPDESK_SECRET_KEY); "
        "default: a key file beside the database, created on first use",
    )
    bot_username: str | None = Field(
        default=None, description="Telegram bot username for deep links (HELPDESK_BOT_USERNAME)"
    )
    outbox_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often the bot looks for notifications to deliver"
    )
    rate_limit_per_second: float = Field(
        default=30.0,
        gt=0,
        description="Overall outgoing messages per second (Telegram allows about 30)",
    )
    connection_pool_size: int = Field(
        default=256, ge=1, description="Concurrent HTTP connections to the Bot API"
    )
    retain_days: int = Field(
        default=180,
        ge=0,
        description="FAQ events and delivered notifications older than this are removed once "
        "a day (requests, their audit trails and inquiries are kept); 0 keeps everything",
    )
    idle_minutes: int = Field(
        default=30, ge=1, description="An unfinished flow expires after this idle time"
    )
    staff_chat_id: int | None = Field(
        default=None,
        description="Forum supergroup where agents work, one topic per case "
        "(HELPDESK_STAFF_CHAT_ID; `helpdesk run --staff-chat` overrides); unset: CLI only",
    )
    remind_hours: float = Field(
        default=4.0, gt=0, description="A case undecided this long gets one reminder in its topic"
    )
    staff_rate: int = Field(
        default=20,
        ge=1,
        description="Messages the bot posts into the staff chat per pacing window "
        "(Telegram allows about 20 a minute in one group)",
    )
    staff_rate_window_seconds: float = Field(
        default=60.0, gt=0, description="The staff chat's pacing window (tests shorten it)"
    )
    kakao_secret: SecretStr | None = Field(
        default=None,
        description="X-Skill-Secret header value the Open Builder skill sends "
        "(HELPDESK_KAKAO_SECRET)",
    )
    kakao_answer_seconds: float = Field(
        default=3.0,
        gt=0,
        lt=5,
        description="A Kakao turn taking longer is answered '잠시만요' (Kakao waits 5 s at most)",
    )
    kakao_client_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Kakao endpoint: cut clients slower than this to send"
    )

    def database(self) -> DatabaseUrl:
        """The database to use: HELPDESK_DATABASE_URL, else the SQLite file HELPDESK_DB."""
        return DatabaseUrl.parse(self.database_url or self.db)

    def dialogue_limits(self) -> DialogueLimits:
        """The conversation's tunables."""
        from bot.dialogue.turn import DialogueLimits  # only channels load the dialogue engine

        return DialogueLimits(idle_timeout=timedelta(minutes=self.idle_minutes))

    def secret_key_bytes(self) -> bytes | None:
        """The configured encryption key, or None to use the key file beside the database."""
        return self.secret_key.get_secret_value().encode("ascii") if self.secret_key else None
