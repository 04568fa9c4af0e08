"""The strategy cascade: Initiative → Goal → Project → Task, and each task's history.

Every item has an owner, a due date, a status, a progress (0–100) and a weight
(its share in the parent's roll-up). Short references (``G-3``, ``P-7``,
``T-42``) are the primary key behind a prefix, so they never change and need
no extra column. ``import_key`` identifies an item that came from a plan file,
so importing the same file again updates it in place.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.base import Base, UTCDateTime, one_of, utcnow
from models.people import Person


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    DROPPED = "dropped"


REF_PATTERN = re.compile(r"^\s*#?\[?\s*([IGPT])-?(\d+)\s*\]?\s*$", re.IGNORECASE)


def parse_ref(text: str) -> tuple[str, int] | None:
    """``"T-42"``, ``"t42"``, ``"#T-42"``, ``"[T-42]"`` → ``("T", 42)``; anything else → None."""
    match = REF_PATTERN.match(text)
    if match is None:
        return None
    return match.group(1).upper(), int(match.group(2))


def _item_checks() -> tuple[CheckConstraint, ...]:
    """The checks every level of the cascade has (new objects each: one per table)."""
    return (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("status <> 'done' OR progress = 100", name="done_is_100"),
        one_of("status", TaskStatus),
    )


class PlanItem:
    """Columns shared by every level of the cascade."""

    REF_PREFIX: ClassVar[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr
    def owner_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("person.id", ondelete="RESTRICT"), index=True)

    @declared_attr
    def owner(cls) -> Mapped[Person]:
        return relationship(Person, foreign_keys=lambda: [cls.owner_id])

    @declared_attr.directive
    def __table_args__(cls) -> tuple[CheckConstraint, ...]:
        return _item_checks()

    @property
    def ref(self) -> str:
        return f"{self.REF_PREFIX}-{self.id}"


class Initiative(PlanItem, Base):
    """A key initiative of the company; the top of the cascade."""

    __tablename__ = "initiative"
    REF_PREFIX = "I"

    goals: Mapped[list[Goal]] = relationship(
        back_populates="initiative", order_by="Goal.id", cascade="all, delete-orphan"
    )


class Goal(PlanItem, Base):
    """A measurable goal serving one initiative.

    A goal may carry a metric (``ARR`` from 2.1M to 4M, in €): its progress is then the
    measured share of the way from start to target (``models.scoring.measured_progress``),
    and its projects' roll-up is shown beside it; ``metric_value`` is the latest figure
    (the plan file's ``value``, or ``G-2 = 3.1M`` by email), None until one is given.
    """

    __tablename__ = "goal"
    REF_PREFIX = "G"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[CheckConstraint, ...]:
        return (*_item_checks(),
                CheckConstraint("metric IS NULL OR (metric_start IS NOT NULL AND "
                                "metric_target IS NOT NULL AND metric_start <> metric_target)",
                                name="metric_complete"))

    metric: Mapped[str | None] = mapped_column(String(100))
    metric_unit: Mapped[str | None] = mapped_column(String(16))
    metric_start: Mapped[float | None] = mapped_column(Float)
    metric_target: Mapped[float | None] = mapped_column(Float)
    metric_value: Mapped[float | None] = mapped_column(Float)

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    initiative: Mapped[Initiative] = relationship(back_populates="goals")
    projects: Mapped[list[Project]] = relationship(
        back_populates="goal", order_by="Project.id", cascade="all, delete-orphan"
    )


class Project(PlanItem, Base):
    """A body of work that moves one goal."""

    __tablename__ = "project"
    REF_PREFIX = "P"

    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    goal: Mapped[Goal] = relationship(back_populates="projects")
    tasks: Mapped[list[Task]] = relationship(
        back_populates="project", order_by="Task.id", cascade="all, delete-orphan"
    )


class Task(PlanItem, Base):
    """Who does what by when: the unit people update by email."""

    __tablename__ = "task"
    REF_PREFIX = "T"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    # The message that last set the status, progress or due date. Messages are stored
    # in the order they arrive, so an update from an earlier one (applied late by
    # another worker, or retried) does not undo a later one.
    set_by_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL"))
    # Who created it for its owner from 1:1 notes (None: the owner's own, or not from
    # notes): such a task its owner may drop or hand back, since they never agreed to it.
    from_notes_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship(back_populates="tasks")
    updates: Mapped[list[TaskHistory]] = relationship(
        back_populates="task", order_by="TaskHistory.id", passive_deletes=True
    )


class PlanLevel(StrEnum):
    """The levels above tasks, whose changes by email ``PlanChange`` records."""

    INITIATIVE = "initiative"
    GOAL = "goal"
    PROJECT = "project"


class PlanChange(Base):
    """One change to an initiative, goal or project by email: who, when, from which
    message, which field, and its old and new values as the answer worded them.

    Append-only like the task history (a trigger refuses UPDATE, migration 0010);
    tasks keep theirs in ``TaskHistory``. ``field`` is ``owner``, ``title``, ``due``,
    ``value`` (a measurable goal's figure) or ``created``.
    """

    __tablename__ = "plan_change"
    __table_args__ = (one_of("level", PlanLevel),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_plan_change_item", PlanChange.level, PlanChange.item_id, PlanChange.created_at)


class TaskHistory(Base):
    """One change to a task: who, when, from which message, old and new values.

    Append-only: database triggers (see the first migration) refuse UPDATE, so
    the history behind every evaluation cannot be rewritten.
    """

    __tablename__ = "task_update"
    __table_args__ = (
        CheckConstraint("new_progress IS NULL OR new_progress BETWEEN 0 AND 100",
                        name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    # RESTRICT, not SET NULL: history is never rewritten, so people and messages it
    # points at are deactivated or kept, not deleted.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="RESTRICT"), index=True
    )
    source: Mapped[str] = mapped_column(String(16), default="email")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str | None] = mapped_column(String(16))
    old_progress: Mapped[int | None] = mapped_column(Integer)
    new_progress: Mapped[int | None] = mapped_column(Integer)
    old_due: Mapped[date | None] = mapped_column(Date)
    new_due: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    task: Mapped[Task] = relationship(back_populates="updates")
    author: Mapped[Person | None] = relationship(Person)
