"""Deployment settings, read from ``DRUMBEAT_*`` environment variables and ``.env``.

One typed object, built once per process with :func:`get_settings`, so that a
misspelt or malformed value fails at start-up with the variable's name rather
than deep inside a worker. Every field here is documented in the README.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything a Drumbeat deployment can be told; defaults give the embedded setup."""

    model_config = SettingsConfigDict(
        env_prefix="DRUMBEAT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR / 'drumbeat.sqlite'}",
        description="SQLAlchemy URL; the default is a SQLite file under var/.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL for dramatiq; unset means the in-process broker."
    )
    mail_domain: str = Field(default="drumbeat.localhost", description="Domain of our addresses.")
    secret_key: SecretStr = Field(
        default=SecretStr("change-me"), description="HMAC key for reply tokens."
    )
    smtp_host: str | None = Field(default=None, description="Outgoing relay; unset: Maildir.")
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str | None = Field(default=None, description="From address of outgoing mail.")
    maildir: Path = Field(default=DEFAULT_VAR_DIR / "maildir", description="Local outbox.")
    smtpd_host: str = Field(default="127.0.0.1", description="Where `drumbeat smtpd` listens.")
    smtpd_port: int = Field(default=8025, description="Its port.")
    max_message_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Larger inbound messages are refused (552)."
    )
    imap_host: str | None = None
    imap_port: int = 993
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_ssl: bool = True
    imap_after: str = Field(
        default="seen", pattern=r"^(seen|delete|move:.+)$",
        description="What to do with a stored message: seen, delete, or move:FOLDER.",
    )
    imap_interval_seconds: float = Field(default=30, gt=0, description="Polling interval.")
    default_timezone: str = "UTC"
    default_cadence: str = "weekly"
    default_checkin_day: str = "monday"
    default_checkin_time: time = time(10, 0)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    agenda_lead_hours: float = Field(
        default=24, gt=0, description="How long before a check-in its agenda is sent."
    )
    scheduler_interval_seconds: float = Field(default=60, gt=0, description="Scheduler tick.")
    outbox_stale_minutes: float = Field(
        default=10, gt=0, description="Queued or claimed rows older than this are re-enqueued."
    )
    send_max_attempts: int = Field(default=8, ge=1, description="Tries before giving up.")
    send_retry_min_seconds: float = Field(
        default=15, gt=0, description="First retry delay after a temporary failure (doubles)."
    )
    digest_delay_days: int = Field(
        default=3, ge=0, description="Days after a quarter or year closes that its "
        "evaluation digests go out.",
    )
    digest_employee_summaries: bool = Field(
        default=True, description="Also send each employee their own figures.",
    )
    clock_start: datetime | None = Field(
        default=None, description="Run on a simulated clock from this moment (demos and "
        "tests of a whole quarter); unset: the real clock.",
    )
    clock_speed: float = Field(
        default=1.0, gt=0, description="With DRUMBEAT_CLOCK_START: simulated seconds per "
        "real second.",
    )
    store_notes: bool = Field(
        default=True, description="Keep forwarded 1:1 notes' text on the meeting, for the pair "
        "only (never in digests or inbox outcomes); false logs meetings and action items only.",
    )
    nudge_within_hours: float = Field(
        default=48, gt=0, description="A period that closed this recently without a meeting "
        "gets one reminder.",
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="Serve /healthz and /metrics over HTTP on "
        "this port in each long-running command; unset: off. One port per process.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Where /healthz and /metrics "
                              "listen (0.0.0.0 for every interface).")
    log_format: str = Field(
        default="text", pattern=r"^(text|json)$",
        description="text: one readable line per event; json: one JSON object per line.",
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. Europe/Berlin") from exc
        return value

    @property
    def sender_address(self) -> str:
        """The From address of everything we send."""
        return self.mail_from or f"drumbeat@{self.mail_domain}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
