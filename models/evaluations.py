"""Evaluation snapshots: one person's figures for one quarter or year.

The figures are computed by ``models.scoring`` and stored as JSON, so the
digest that was sent can always be shown again exactly as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, one_of, utcnow
from models.people import Person


class PeriodKind(StrEnum):
    QUARTER = "quarter"
    YEAR = "year"


class Evaluation(Base):
    """A person's goal progress and check-in record over one period."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("person_id", "period_label", name="uq_evaluation_person_period"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        one_of("period_kind", PeriodKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    period_kind: Mapped[str] = mapped_column(String(16))
    period_label: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(Person)
