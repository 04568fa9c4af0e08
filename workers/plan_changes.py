"""Changing the plan by email: hand-overs, titles, due dates, new projects, goal figures.

``apply_plan_command`` applies one of ``mail.read.commands.PlanCommand`` inside the
caller's transaction (``workers.apply.Applier`` calls it) and says what it did or why
not. The scope is ``workers.permissions.may_change_item``: an item outside it is answered
exactly like an unknown one. Every change keeps its history: a task's in ``TaskHistory``
(its note says what changed), an initiative's, goal's or project's in ``PlanChange``;
both name the author, the moment and the message. A new owner other than the sender is
told by a notice in the outbox (one per item, owner and message: the dedupe key), and
only a known, active person of the sender's team (``handover_line``) can be one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.amounts import amount_words
from mail.read.commands import GoalValue, ItemDue, ItemOwner, ItemTitle, NewProject, PlanCommand
from mail.write.answer import day_words
from mail.write.compose import make_message_id
from mail.write.handover import HandoverView, render_handover
from models.people import Person
from models.plan import (
    Goal,
    PlanChange,
    PlanLevel,
    Project,
    Task,
    TaskHistory,
    TaskStatus,
    parse_ref,
)
from models.scoring import measured_progress
from workers.outbox import OutboxRow
from workers.permissions import (
    PlanItemRow,
    handover_line,
    may_change_item,
    new_owner,
    no_such_item,
    no_such_owner,
)

__all__ = ["HANDOVER", "PlanOutcome", "apply_plan_command", "handover_dedupe_key"]

HANDOVER = "handover"  # the outbox kind of a new owner's notice
_MODELS: dict[str, type[Task] | type[Project] | type[Goal]] = {"T": Task, "P": Project,
                                                               "G": Goal}
_KIND = {"T": "task", "P": "project", "G": "goal"}


@dataclass
class PlanOutcome:
    """What one plan line did: done (with the answer's words) or refused (why), and the
    notices for the caller to add to the outbox."""

    ok: bool
    words: str
    notices: list[OutboxRow] = field(default_factory=list)


def handover_dedupe_key(ref: str, owner_id: int, inbound_id: int | None, now: datetime) -> str:
    """One notice per item, new owner and message: a message applied twice tells nobody
    twice, a later hand-over back and forth tells again."""
    source = f"m{inbound_id}" if inbound_id is not None else now.isoformat()
    return f"{HANDOVER}:{ref}:{owner_id}:{source}"


class _Change:
    """One plan line applied for one sender."""

    def __init__(self, session: Session, sender: Person, *, inbound_id: int | None,
                 now: datetime, today: date, domain: str) -> None:
        self.session, self.sender, self.inbound_id = session, sender, inbound_id
        self.now, self.today, self.domain = now, today, domain

    def item(self, ref: str) -> PlanItemRow | None:
        """The task, project or goal ``ref`` names, locked, if the sender's scope holds it."""
        parsed = parse_ref(ref)
        model = _MODELS.get(parsed[0]) if parsed else None
        if parsed is None or model is None:
            return None
        found = self.session.get(model, parsed[1], with_for_update=True)
        if found is None or not may_change_item(self.session, self.sender, found):
            return None
        return found

    def record(self, item: PlanItemRow, name: str, old: str | None, new: str | None,
               note: str) -> None:
        """The change's history: the task's own, or a ``PlanChange`` row."""
        if isinstance(item, Task):
            self.session.add(TaskHistory(
                task_id=item.id, author_id=self.sender.id, inbound_message_id=self.inbound_id,
                source="email", created_at=self.now, old_status=item.status,
                new_status=item.status, old_progress=item.progress,
                new_progress=item.progress, old_due=item.due, new_due=item.due, note=note))
        else:
            self.session.add(PlanChange(
                level=_level(item).value, item_id=item.id, field=name, old_value=old,
                new_value=new, author_id=self.sender.id,
                inbound_message_id=self.inbound_id, created_at=self.now))
        item.updated_at = self.now

    def superseded(self, item: PlanItemRow, name: str) -> PlanOutcome | None:
        """The refusal when a message that arrived after this one already changed this
        field of a project or goal (two workers, or a late retry): the later word stands,
        as for tasks. None when nothing later did."""
        if isinstance(item, Task) or self.inbound_id is None:
            return None
        later = self.session.scalar(select(func.max(PlanChange.inbound_message_id)).where(
            PlanChange.level == _level(item).value, PlanChange.item_id == item.id,
            PlanChange.field == name))
        if later is None or later <= self.inbound_id:
            return None
        return PlanOutcome(False, f"{item.ref} was not changed: a message that arrived after "
                                  f"this one already set its {name}; send the line again if "
                                  "it still holds")

    def owner(self, name: str) -> Person | None:
        return new_owner(self.session, self.sender, name,
                         handover_line(self.session, self.sender), self.today)

    def notice(self, item: PlanItemRow, owner: Person, previous: Person | None
               ) -> list[OutboxRow]:
        """The new owner's notice; none when the sender takes the item themself."""
        if owner.id == self.sender.id:
            return []
        parent = _parent(item)
        words = render_handover(HandoverView(
            owner.name, item.ref, _KIND[item.ref[0]], item.title, self.sender.name,
            previous.name if previous is not None else None, item.due,
            f"{parent.ref} {parent.title}" if parent is not None else None, self.today))
        return [OutboxRow(
            dedupe_key=handover_dedupe_key(item.ref, owner.id, self.inbound_id, self.now),
            kind=HANDOVER, to_address=owner.email, subject=words.subject,
            body_text=words.text, body_html=words.html,
            message_id=make_message_id(self.domain, HANDOVER), recipient_id=owner.id,
            created_at=self.now, context={"item": item.ref, "by": self.sender.id,
                                          "from": previous.id if previous else None})]

    # --- the commands ------------------------------------------------------------------

    def hand_over(self, command: ItemOwner) -> PlanOutcome:
        item = self.item(command.item)
        if item is None:
            return PlanOutcome(False, no_such_item(command.item))
        owner = self.owner(command.owner)
        if owner is None:
            return PlanOutcome(False, no_such_owner(command.owner))
        if (later := self.superseded(item, "owner")) is not None:
            return later
        previous = self.session.get(Person, item.owner_id)
        assert previous is not None
        if owner.id == previous.id:
            return PlanOutcome(True, f"{item.ref} {item.title}: no change ({owner.name} "
                                     "owns it already)")
        self.record(item, "owner", previous.email, owner.email,
                    f"owner: {previous.name} → {owner.name}")
        item.owner_id = owner.id
        if isinstance(item, Task):
            item.from_notes_by_id = None  # handed over: no longer a task to hand back
        notices = self.notice(item, owner, previous)
        told = f"; {owner.name} is told" if notices else ""
        return PlanOutcome(True, f"{item.ref} {item.title}: owner {previous.name} → "
                                 f"{owner.name}{told}", notices)

    def retitle(self, command: ItemTitle) -> PlanOutcome:
        item = self.item(command.item)
        if item is None:
            return PlanOutcome(False, no_such_item(command.item))
        if (later := self.superseded(item, "title")) is not None:
            return later
        old = item.title
        if old == command.title:
            return PlanOutcome(True, f"{item.ref} {old}: no change (the title is that already)")
        self.record(item, "title", old, command.title, f"title: “{old}” → “{command.title}”")
        item.title = command.title
        return PlanOutcome(True, f"{item.ref}: title “{old}” → “{command.title}”")

    def move_due(self, command: ItemDue) -> PlanOutcome:
        item = self.item(command.item)
        if item is None:
            return PlanOutcome(False, no_such_item(command.item))
        if (later := self.superseded(item, "due")) is not None:
            return later
        old = item.due
        was = f" (was {day_words(old)})" if old is not None and old != command.due else ""
        self.record(item, "due", old.isoformat() if old else None, command.due.isoformat(),
                    f"due {command.due.isoformat()}")
        item.due = command.due
        return PlanOutcome(True, f"{item.ref} {item.title}: due {day_words(command.due)}{was}")

    def new_project(self, command: NewProject) -> PlanOutcome:
        goal = self.item(command.goal)
        if not isinstance(goal, Goal):
            return PlanOutcome(False, no_such_item(command.goal))
        owner = self.sender if command.owner is None else self.owner(command.owner)
        if owner is None:
            return PlanOutcome(False, no_such_owner(command.owner or ""))
        taken = self.session.scalar(select(Project.id).where(
            Project.goal_id == goal.id,
            func.lower(Project.title) == command.title.lower()).limit(1))
        if taken is not None:
            return PlanOutcome(False, f"{goal.ref} already has a project called "
                                      f"“{command.title}”: P-{taken}")
        project = Project(title=command.title, owner_id=owner.id, goal_id=goal.id,
                          due=command.due, status=TaskStatus.OPEN.value, progress=0,
                          weight=1.0, created_at=self.now, updated_at=self.now)
        self.session.add(project)
        self.session.flush()
        self.record(project, "created", None, command.title, "created by email")
        due = f", due {day_words(project.due)}" if project.due else ""
        notices = self.notice(project, owner, None)
        told = f"; {owner.name} is told" if notices else ""
        return PlanOutcome(True, f"{project.ref} created: {project.title} ({owner.name}{due}, "
                                 f"under {goal.ref} {goal.title}){told}", notices)

    def measure(self, command: GoalValue) -> PlanOutcome:
        goal = self.item(command.goal)
        if not isinstance(goal, Goal):
            return PlanOutcome(False, no_such_item(command.goal))
        if goal.metric is None or goal.metric_start is None or goal.metric_target is None:
            return PlanOutcome(False, f"{goal.ref} has no metric to measure; its progress "
                                      "comes from its projects' tasks (a plan file can give "
                                      "it metric:, start: and target:)")
        unit = goal.metric_unit
        if command.unit is not None and unit is not None and command.unit != unit:
            return PlanOutcome(False, f"{goal.ref} is measured in {unit}, not "
                                      f"{command.unit}; write e.g. {goal.ref} = "
                                      f"{amount_words(command.value, unit)}")
        if (later := self.superseded(goal, "value")) is not None:
            return later
        old = goal.metric_value
        self.record(goal, "value", None if old is None else repr(old), repr(command.value),
                    "measured")
        goal.metric_value = command.value
        share = measured_progress(goal.metric_start, goal.metric_target, command.value)
        was = f"{amount_words(old, unit)} → " if old is not None else ""
        return PlanOutcome(True, (
            f"{goal.ref} {goal.title}: {goal.metric} {was}{amount_words(command.value, unit)}"
            f", {share or 0:g}% of the way from {amount_words(goal.metric_start, unit)} to "
            f"{amount_words(goal.metric_target, unit)}"))


def _level(item: Project | Goal | PlanItemRow) -> PlanLevel:
    return PlanLevel.PROJECT if isinstance(item, Project) else (
        PlanLevel.GOAL if isinstance(item, Goal) else PlanLevel.INITIATIVE)


def _parent(item: PlanItemRow) -> PlanItemRow | None:
    if isinstance(item, Task):
        return item.project
    if isinstance(item, Project):
        return item.goal
    if isinstance(item, Goal):
        return item.initiative
    return None


def apply_plan_command(session: Session, sender: Person, command: PlanCommand, *,
                       inbound_id: int | None, now: datetime, today: date,
                       domain: str) -> PlanOutcome:
    """Apply one plan line for ``sender`` (module docstring): done or refused, and the
    notices to add."""
    change = _Change(session, sender, inbound_id=inbound_id, now=now, today=today,
                     domain=domain)
    if isinstance(command, ItemOwner):
        return change.hand_over(command)
    if isinstance(command, ItemTitle):
        return change.retitle(command)
    if isinstance(command, ItemDue):
        return change.move_due(command)
    if isinstance(command, NewProject):
        return change.new_project(command)
    return change.measure(command)
