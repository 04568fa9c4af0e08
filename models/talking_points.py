"""What a pair brings to its next 1:1: talking points, and the time either side is away.

A talking point belongs to a pair (manager, employee) and stays open until a meeting
of the pair held on or after the day it was raised is logged (``closed_by_meeting_id``)
or someone of the pair closes it by name (``closed_by_id``). Time away belongs to one
person: each of their pairs' check-ins in it is excused (a ``meeting`` row with
``excused_by_id`` = that person) and its agendas are not sent.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class TalkingPoint(Base):
    """One topic for a pair's next 1:1, raised by either side."""

    __tablename__ = "talking_point"
    __table_args__ = (
        CheckConstraint("manager_id <> employee_id", name="two_people"),
        Index("ix_talking_point_pair_open", "manager_id", "employee_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    raised_on: Mapped[date] = mapped_column(Date)  # the raiser's local day
    source_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(  # "topic done:" from this person
        ForeignKey("person.id", ondelete="SET NULL"))
    closed_by_meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL"))


class TimeAway(Base):
    """A stretch of days (both included) one person is away, and the message that said so."""

    __tablename__ = "time_away"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="days_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL"))
