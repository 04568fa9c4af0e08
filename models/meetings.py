"""Check-in meetings: one row per manager–employee pair and cadence period.

The unique (pair, period) constraint is what makes a reply, a second reply and
forwarded notes for the same 1:1 land on one meeting instead of three.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, one_of, utcnow
from models.people import Person


class MeetingStatus(StrEnum):
    HELD = "held"
    NOT_HELD = "not_held"
    EXCUSED = "excused"
    DISPUTED = "disputed"  # one side says held, the other not held


class Says(StrEnum):
    """What one side of the pair logged for the period (the record keeps both)."""

    HELD = "held"
    NOT_HELD = "not_held"


def meeting_status(manager_says: str | None, employee_says: str | None, *, excused: bool
                   ) -> MeetingStatus:
    """The status the two sides' words add up to: held and not held is ``disputed``;
    one side's "held" (the other silent) is held; an excuse stands unless someone
    says it was held; else not held. An excuse is a "not held" with a reason."""
    said = {manager_says, employee_says} - {None}
    if Says.HELD.value in said and (Says.NOT_HELD.value in said or excused):
        return MeetingStatus.DISPUTED
    if Says.HELD.value in said:
        return MeetingStatus.HELD
    if excused:
        return MeetingStatus.EXCUSED
    return MeetingStatus.NOT_HELD


class Meeting(Base):
    """What happened to one pair's check-in in one cadence period."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("manager_id", "employee_id", "period_start", name="uq_meeting_period"),
        CheckConstraint("manager_id <> employee_id", name="two_people"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes > 0", name="duration_positive"
        ),
        one_of("status", MeetingStatus),
        one_of("manager_says", Says, "manager_says_valid"),
        one_of("employee_says", Says, "employee_says_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.HELD.value)
    held_on: Mapped[date | None] = mapped_column(Date)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    confirmed_by_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_employee: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # Who said what: each side's last word on whether it was held (None: said nothing).
    manager_says: Mapped[str | None] = mapped_column(String(16))
    employee_says: Mapped[str | None] = mapped_column(String(16))
    excused_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    source_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    manager: Mapped[Person] = relationship(Person, foreign_keys=[manager_id])
    employee: Mapped[Person] = relationship(Person, foreign_keys=[employee_id])
