"""The review cycle: a period's self-reviews, manager reviews and acknowledgements.

At the close of a reviewed period (``DRUMBEAT_REVIEW_PERIODS``), after the figures are
snapshotted, a ``ReviewCycle`` is opened with one ``Review`` per employee. Each review
moves through three steps, each answered by email:

1. ``self``: the employee's wins, misses, next steps and (when ratings are on) rating;
2. ``manager``: the manager's rating and comment, with the self-review in view;
3. ``acknowledge``: the employee agrees, or disputes; a dispute stays open until HR
   resolves it.

A step not answered by the cycle's deadline is recorded as ``missed``, never guessed.
Review texts stay with the pair and HR: nothing here is shown to anyone else.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
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


class StepState(StrEnum):
    """Where one step of a review stands (``self`` and ``manager``)."""

    PENDING = "pending"  # an earlier step is not done yet
    WAITING = "waiting"  # the form is out, no answer yet
    DONE = "done"
    MISSED = "missed"  # the deadline passed without an answer


class AckState(StrEnum):
    """Where the employee's acknowledgement of the manager's review stands."""

    PENDING = "pending"
    WAITING = "waiting"
    AGREED = "agreed"
    DISPUTED = "disputed"  # open until HR writes ``resolved:``
    RESOLVED = "resolved"
    MISSED = "missed"


class ReviewCycle(Base):
    """One review cycle, opened when a reviewed period closes."""

    __tablename__ = "review_cycle"
    __table_args__ = (
        UniqueConstraint("period_label", name="uq_review_cycle_period"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("deadline >= period_end", name="deadline_after_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(16))  # models.evaluations.PeriodKind
    period_label: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[date] = mapped_column(Date)  # the last day any step may be answered
    # The rating scale in force when the cycle opened, e.g. "1-5"; None: ratings are off.
    scale: Mapped[str | None] = mapped_column(String(400))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last day the scheduler moved the cycle's reviews along: steps are missed and
    # reminders owed by the day, so once a day is enough (answers move their own review).
    checked_on: Mapped[date | None] = mapped_column(Date)


class Review(Base):
    """One employee's review in one cycle: the three steps, their texts and states."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("cycle_id", "employee_id", name="uq_review_cycle_employee"),
        one_of("self_state", StepState),
        one_of("manager_state", StepState),
        one_of("ack_state", AckState),
        CheckConstraint("self_rating IS NULL OR self_rating >= 0", name="self_rating_valid"),
        CheckConstraint("manager_rating IS NULL OR manager_rating >= 0",
                        name="manager_rating_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("review_cycle.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    # The manager when the cycle opened; None for someone with no manager (no manager step).
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )

    self_state: Mapped[str] = mapped_column(String(16), default=StepState.WAITING.value)
    self_wins: Mapped[str | None] = mapped_column(Text)
    self_misses: Mapped[str | None] = mapped_column(Text)
    self_next: Mapped[str | None] = mapped_column(Text)
    self_rating: Mapped[int | None] = mapped_column(Integer)
    self_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    self_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL")
    )

    manager_state: Mapped[str] = mapped_column(String(16), default=StepState.PENDING.value)
    manager_rating: Mapped[int | None] = mapped_column(Integer)
    manager_comment: Mapped[str | None] = mapped_column(Text)
    manager_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL")
    )

    ack_state: Mapped[str] = mapped_column(String(16), default=AckState.PENDING.value)
    ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_text: Mapped[str | None] = mapped_column(Text)
    resolution_text: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cycle: Mapped[ReviewCycle] = relationship(ReviewCycle)
    employee: Mapped[Person] = relationship(Person, foreign_keys=[employee_id])
    manager: Mapped[Person | None] = relationship(Person, foreign_keys=[manager_id])
