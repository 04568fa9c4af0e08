"""People and their reporting line, check-in rhythm and mail addresses.

Emails are stored lower-cased and the database checks it, so the unique
constraint is case-insensitive on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, UTCDateTime, one_of, utcnow
from models.scoring import ActiveSpan, Cadence


class ActiveDates(Protocol):
    """A person, or a row selected with a person's two date columns."""

    active_from: date | None
    active_until: date | None


def active_span(person: ActiveDates) -> ActiveSpan:
    """The days someone is active (both ends inclusive): the one place the two
    columns become a span, for a loaded Person and a selected row alike."""
    return ActiveSpan(person.active_from, person.active_until)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Person(Base):
    """Someone who owns work, has 1:1s, or reads digests."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="not_own_manager"),
        CheckConstraint("checkin_weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(
            "active_until IS NULL OR active_from IS NULL OR active_until >= active_from",
            name="active_dates_ordered",
        ),
        one_of("cadence", Cadence),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    is_hr: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The language Drumbeat writes to this person in: a shipped catalog (config.languages).
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    cadence: Mapped[str] = mapped_column(String(16), default=Cadence.WEEKLY.value)
    checkin_weekday: Mapped[int] = mapped_column(Integer, default=0)
    checkin_time: Mapped[time] = mapped_column(Time, default=time(10, 0))
    active_from: Mapped[date | None] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)
    # The day Drumbeat began tracking this person's 1:1s with their manager: the import
    # (or manager change) that formed the pair, the file's tracking_from, or the pair's
    # first agenda; moved back by back-filled meetings. None: not tracked yet (no limit).
    tracking_from: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    manager: Mapped[Person | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[Person]] = relationship(back_populates="manager")
    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    @validates("email")
    def _lowercase_email(self, _key: str, value: str) -> str:
        return value.strip().lower()

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.checkin_weekday].capitalize()

    @property
    def active_span(self) -> ActiveSpan:
        return active_span(self)

    def is_active_on(self, day: date) -> bool:
        """True when ``day`` lies within the person's active dates."""
        return self.active_span.covers(day)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


class PersonAlias(Base):
    """Another address that is the same person (old name, second domain)."""

    __tablename__ = "person_alias"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)

    person: Mapped[Person] = relationship(back_populates="aliases")

    @validates("email")
    def _lowercase_email(self, _key: str, value: str) -> str:
        return value.strip().lower()
