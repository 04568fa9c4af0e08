"""The ledger of mail: every inbound message's raw bytes, and the outbox.

An inbound row is committed before SMTP answers 250 or IMAP marks the message
seen; an outbound row (with its unique dedupe key) exists before anything is
queued. The broker only carries ids that point here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, one_of, utcnow
from models.people import Person


class InboundStatus(StrEnum):
    RECEIVED = "received"
    APPLIED = "applied"
    REJECTED = "rejected"
    FAILED = "failed"


class OutboundStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class InboundMessage(Base):
    """One received message, exactly as it arrived, and what became of it."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        one_of("status", InboundStatus),
        # The same message delivered twice is stored once; a second message that reuses
        # a Message-ID with other content is stored and judged on its own.
        UniqueConstraint("message_id", "content_hash",
                         name="uq_inbound_message_message_id_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    # None once cleared (DRUMBEAT_RAW_RETENTION_DAYS, or notes with DRUMBEAT_STORE_NOTES off):
    # the outcome stays.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # What deduplication compares besides the Message-ID (the bytes without the trace
    # headers each hop adds, so a redelivery through another route still matches).
    content_hash: Mapped[str] = mapped_column(String(64))
    # The SMTP client's IP address (the SMTP door only): what DRUMBEAT_TRUSTED_RELAYS checks.
    peer_address: Mapped[str | None] = mapped_column(String(64))
    # How the sender was established: token, dkim, mta, relay or none
    # (see mail.read.authentication).
    authenticated_by: Mapped[str | None] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16), default="smtp")
    envelope_from: Mapped[str | None] = mapped_column(String(320))
    envelope_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    sender: Mapped[str | None] = mapped_column(String(320), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(
        String(16), default=InboundStatus.RECEIVED.value, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )

    person: Mapped[Person | None] = relationship(Person)


class OutboundMessage(Base):
    """One email we mean to send, keyed so that it is sent once whatever happens."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        one_of("status", OutboundStatus),
        # The answer limit counts one address's answers of the last hour for every
        # reply: without this it reads every answer ever sent.
        Index("ix_outbound_message_answers_by_address", "to_address", "created_at",
              postgresql_where=text("kind = 'answer'"), sqlite_where=text("kind = 'answer'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references_header: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(16), default=OutboundStatus.PENDING.value, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[Person | None] = relationship(Person)


class ImapCursor(Base):
    """How far the IMAP poller has read one mailbox folder (RFC 3501 UIDVALIDITY + UID).

    Only a speed-up: messages are deduplicated by Message-ID anyway, so a lost
    or reset cursor re-reads a folder without applying anything twice.
    """

    __tablename__ = "imap_cursor"
    __table_args__ = (
        UniqueConstraint("account", "folder", name="uq_imap_cursor_account_folder"),
        CheckConstraint("last_uid >= 0", name="last_uid_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(400))
    folder: Mapped[str] = mapped_column(String(400))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
