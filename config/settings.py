"""Deployment settings, read from ``DRUMBEAT_*`` environment variables and ``.env``.

One typed object, built once per process with :func:`get_settings`, so that a
misspelt or malformed value fails at start-up with the variable's name rather
than deep inside a worker. Every field here is documented in the README.
"""

from __future__ import annotations

import os
from datetime import datetime, time
from email.utils import formataddr, parseaddr
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config.languages import known_language, unknown_language_hint
from config.review_scale import RatingScale, parse_scale

DEFAULT_VAR_DIR = Path("var")


class FileSettings(PydanticBaseSettingsSource):
    """``DRUMBEAT_NAME_FILE=PATH``: the setting's value is the file's content, its final
    newline dropped (Docker and Kubernetes secrets), so a password or the secret key
    need not sit in the environment, where ``ps e`` and crash reports can see it."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads them all at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        problems: list[InitErrorDetails] = []
        for name in self.settings_cls.model_fields:
            variable = f"DRUMBEAT_{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if not path:
                continue
            if variable in os.environ:
                problems.append(_problem(name, path, f"both {variable} and {variable}_FILE "
                                         "are set; keep one"))
                continue
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                problems.append(_problem(name, path, f"{variable}_FILE={path} cannot be "
                                         f"read: {reason}"))
        if problems:
            raise ValidationError.from_exception_data("Settings", problems)
        return values


def _problem(name: str, path: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("setting_file", message), loc=(name,),
                            input=path)


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
        default=SecretStr(""), description="HMAC key for reply tokens. Empty: `drumbeat "
        "serve` makes one under var/ and keeps it; every other command that signs or reads "
        "reply addresses refuses to start (drumbeat/secret_key.py).",
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
    trusted_authserv_id: str | None = Field(
        default=None, description="The authserv-id your receiving MTA writes in "
        "Authentication-Results; set, a message whose topmost Authentication-Results is "
        "that MTA's and says DMARC passed for the From domain counts as sent by its From "
        "address. Unset: no MTA's verdict is trusted (tokens, DKIM and trusted relays "
        "still vouch).",
    )
    trusted_relays: str = Field(
        default="", description="Comma-separated networks (CIDR) of mail servers that relay "
        "your company's internal mail without DKIM; a message whose SMTP client is in one of "
        "them counts as sent by its From address. Empty: no network is trusted, loopback "
        "included.",
    )
    dkim_timeout_seconds: float = Field(
        default=5, gt=0, description="The most time one message's DKIM key lookups may take.",
    )
    max_updates_per_message: int = Field(
        default=100, ge=1, description="Update lines applied from one message; the rest are "
        "answered as not read.",
    )
    message_time_limit_seconds: float = Field(
        default=120, gt=0, description="The longest a worker may spend on one nudge "
        "(a message, or a batch of them); past it the try counts as failed.",
    )
    smtpd_max_sessions: int = Field(
        default=200, ge=1, description="Concurrent SMTP sessions; more are answered 421.",
    )
    smtpd_max_recipients: int = Field(
        default=50, ge=1, description="Recipients per message; more are answered 452.",
    )
    smtpd_session_seconds: float = Field(
        default=300, gt=0, description="The longest one SMTP session may last, however busy.",
    )
    smtpd_tls_cert: Path | None = Field(
        default=None, description="PEM certificate (chain) the intake offers with STARTTLS; "
        "set with DRUMBEAT_SMTPD_TLS_KEY. Unset: no STARTTLS.",
    )
    smtpd_tls_key: Path | None = Field(
        default=None, description="PEM private key of DRUMBEAT_SMTPD_TLS_CERT.",
    )
    smtpd_require_tls: bool = Field(
        default=False, description="Clients outside DRUMBEAT_TRUSTED_RELAYS must STARTTLS "
        "before MAIL (530 otherwise); trusted relays may still send in the clear.",
    )
    meeting_lines_days: int = Field(
        default=14, ge=0, description="Days after an agenda's period closes that its met: and "
        "skip: lines still apply (its task lines keep working).",
    )
    raw_retention_days: int = Field(
        default=90, ge=0, description="Days the raw bytes of an inbound message are kept; "
        "the outcome stays. 0 keeps them forever.",
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
    default_language: str = Field(
        default="en", description="Language of imported people without one (a shipped catalog)."
    )
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
    review_periods: str = Field(
        default="none", pattern=r"^(none|quarter|year|both)$",
        description="Which closed periods open a review cycle by email (self-review, "
        "manager review, acknowledgement): none, quarter, year or both.",
    )
    review_scale: str = Field(
        default="", description="The rating scale of reviews, e.g. 1-5 or "
        "1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding; empty: no ratings.",
    )
    review_remind_days: int = Field(
        default=3, ge=1, description="Days between two reminders to whoever holds a review up.",
    )
    review_step_days: int = Field(
        default=7, ge=1, description="Days each review step has: the self-review is due this "
        "many days after the period ends, the manager review twice as many, the "
        "acknowledgement (the cycle's deadline) three times as many.",
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

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then ``DRUMBEAT_NAME_FILE`` files, then ``.env``."""
        return (init_settings, env_settings, FileSettings(settings_cls), dotenv_settings,
                file_secret_settings)

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. Europe/Berlin") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        code = known_language(value)
        if code is None:
            raise ValueError(f"no mail catalog ships for language {value!r}. "
                             f"{unknown_language_hint()}")
        return code

    @field_validator("trusted_relays")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not a network, e.g. 10.0.0.0/8 or "
                                 "2001:db8::/32") from exc
        return value

    @field_validator("smtpd_tls_cert", "smtpd_tls_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty variable (``DRUMBEAT_SMTPD_TLS_CERT=``) means no file, not ``.``."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("review_scale")
    @classmethod
    def _scale(cls, value: str) -> str:
        parse_scale(value)  # raises ValueError with the right form
        return value

    @property
    def rating_scale(self) -> RatingScale | None:
        """DRUMBEAT_REVIEW_SCALE as a scale (validated at start-up); None: ratings off."""
        return parse_scale(self.review_scale)

    @property
    def reviewed_kinds(self) -> frozenset[str]:
        """The period kinds (``quarter``, ``year``) whose close opens a review cycle."""
        return {"none": frozenset(), "both": frozenset({"quarter", "year"})}.get(
            self.review_periods, frozenset({self.review_periods}))

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """DRUMBEAT_TRUSTED_RELAYS as networks (validated at start-up)."""
        return tuple(ip_network(part.strip(), strict=False)
                     for part in self.trusted_relays.split(",") if part.strip())

    @property
    def sender_address(self) -> str:
        """The address everything we send comes from (the SMTP envelope's sender)."""
        return parseaddr(self.mail_from)[1] if self.mail_from else f"drumbeat@{self.mail_domain}"

    @property
    def from_header(self) -> str:
        """The From header: DRUMBEAT_MAIL_FROM as written when it has a display name,
        else the address shown as "Drumbeat" (a bare address reads as a robot's)."""
        if self.mail_from and parseaddr(self.mail_from)[0]:
            return self.mail_from
        return formataddr(("Drumbeat", self.sender_address))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
