"""Evaluation digests: snapshot a period's figures, then email HR, managers and employees.

    closed period (+ DRUMBEAT_DIGEST_DELAY_DAYS) → figures for everyone
    (``workers/evaluations.py``) → Evaluation snapshots → one outbox row per
    digest (dedupe key digest:PERIOD:KIND:PERSON) → rendered when first sent

A snapshot that was sent is kept as sent: computing the period again stores
nothing over it, and the next digest built from it lists what changed since.
The views never carry 1:1 notes (``mail/write/digest.py``); digests count meetings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from mail.write.compose import AttachedFile, InlineImage, make_message_id
from mail.write.digest import (
    CycleSummary,
    DigestView,
    InitiativeRollup,
    PersonFigures,
    TeamRollup,
)
from mail.write.digest_render import RenderedDigest, render_digest
from mail.write.render import RenderedEmail
from models.evaluations import Evaluation
from models.mailbox import OutboundMessage
from models.people import Person
from workers import outbox
from workers.evaluations import Figures, Window, closed_windows, compute_figures, gc_paused
from workers.outbox import OutboxRow
from workers.review_digest import cycle_for

if TYPE_CHECKING:  # the runtime lists this module's renderers
    from workers.runtime import Runtime

DIGEST = "digest"
ON_DEMAND = "digest-now"  # dedupe-key prefix of digests sent by hand: never the scheduler's
LOWEST_TEAMS = 5
_COMPARED = ("goal_progress_end", "tasks_due", "tasks_done", "tasks_done_on_time",
             "on_time_rate", "checkins_expected", "checkins_held", "checkins_confirmed",
             "checkins_excused", "checkins_disputed", "adherence", "longest_gap_days")
_LABELS = {"goal_progress_end": "goal progress", "tasks_due": "tasks due",
           "tasks_done": "tasks done", "tasks_done_on_time": "done on time",
           "on_time_rate": "on-time rate", "checkins_expected": "check-ins expected",
           "checkins_held": "check-ins held", "checkins_confirmed": "confirmed by both",
           "checkins_excused": "excused", "checkins_disputed": "disputed",
           "adherence": "adherence",
           "longest_gap_days": "longest gap (days)", "tracked_since": "tracked since"}
# Compared only when the sent snapshot has it: snapshots older than the field do not.
_COMPARED_WHEN_KNOWN = ("tracked_since",)


# --- snapshots ---------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The figures a digest shows: as sent where a digest went out, else as computed."""

    window: Window
    people: dict[int, PersonFigures]
    changes: dict[int, tuple[str, ...]]  # person id → what changed since it was sent


def take_snapshot(session: Session, figures: Figures, now: datetime) -> Snapshot:
    """Store every person's figures as an Evaluation row; rows already sent stay as they
    were and their changes are listed. Two statements however many people."""
    with gc_paused():  # as for the figures: 10,000 rows of JSON, no cycles
        return _take_snapshot(session, figures, now)


def _take_snapshot(session: Session, figures: Figures, now: datetime) -> Snapshot:
    window = figures.window
    stored = {row.person_id: row for row in session.scalars(
        select(Evaluation).where(Evaluation.period_label == window.label))}
    people: dict[int, PersonFigures] = {}
    changes: dict[int, tuple[str, ...]] = {}
    new_rows: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for person in figures.people:
        row = stored.get(person.person_id)
        if row is not None and row.sent_at is not None:
            sent = PersonFigures.from_json(row.figures)
            people[person.person_id] = sent
            changed = what_changed(sent, person)
            if changed:
                changes[person.person_id] = changed
            continue
        people[person.person_id] = person
        if row is None:
            new_rows.append({"person_id": person.person_id, "period_kind": window.kind,
                             "period_label": window.label, "period_start": window.start,
                             "period_end": window.end, "figures": person.to_json(),
                             "computed_at": now})
        else:
            updated.append({"row_id": row.id, "figures": person.to_json(), "computed_at": now})
    table = Evaluation.__table__
    if new_rows:  # Core, not 10,000 ORM objects: one multi-row INSERT per batch
        session.execute(insert(table), new_rows)
    if updated:
        session.execute(update(table).where(table.c.id == bindparam("row_id"))
                        .values(figures=bindparam("figures"),
                                computed_at=bindparam("computed_at")), updated)
    return Snapshot(window, people, changes)


def load_snapshot(session: Session, window: Window, person_ids: Sequence[int] | None = None
                  ) -> Snapshot:
    """The stored figures of a period (all, or some people's)."""
    query = select(Evaluation).where(Evaluation.period_label == window.label)
    if person_ids is not None:
        query = query.where(Evaluation.person_id.in_(list(person_ids)))
    people = {row.person_id: PersonFigures.from_json(row.figures)
              for row in session.scalars(query)}
    return Snapshot(window, people, {})


def what_changed(sent: PersonFigures, now: PersonFigures) -> tuple[str, ...]:
    """Readable differences between the figures as sent and as computed now."""
    lines = []
    for name in _COMPARED:
        before, after = getattr(sent, name), getattr(now, name)
        if before != after:
            lines.append(f"{sent.name}: {_LABELS[name]} {_show(before)} → {_show(after)}")
    for name in _COMPARED_WHEN_KNOWN:
        before, after = getattr(sent, name), getattr(now, name)
        if before is not None and before != after:  # a back-fill moved the start
            lines.append(f"{sent.name}: {_LABELS[name]} {before} → {_show(after)}")
    return tuple(lines)


def _show(value: Any) -> str:
    return "–" if value is None else str(value)


def freeze_shown_snapshots(session: Session, label: str, person_ids: Sequence[int],
                           now: datetime) -> None:
    """The snapshots a digest showed are kept as they were from now on (their
    ``sent_at`` is stamped; a later computation leaves them alone)."""
    session.execute(update(Evaluation).where(
        Evaluation.period_label == label, Evaluation.person_id.in_(list(person_ids)),
        Evaluation.sent_at.is_(None)).values(sent_at=now)
        .execution_options(synchronize_session=False))


# --- views (pure) -----------------------------------------------------------------


def teams_of(people: Sequence[PersonFigures], managers: dict[int, int | None]
             ) -> list[TeamRollup]:
    """Direct reports taken together, by manager (``managers``: person → manager id)."""
    by_id = {p.person_id: p for p in people}
    members: dict[int, list[PersonFigures]] = defaultdict(list)
    for person in people:
        manager_id = managers.get(person.person_id)
        if manager_id in by_id:
            members[manager_id].append(person)  # type: ignore[index]
    teams = []
    for manager_id, team in members.items():
        manager = by_id[manager_id]
        expected = sum(p.checkins_expected for p in team)
        due = sum(p.tasks_due for p in team)
        ends = [p.goal_progress_end for p in team if p.goal_progress_end is not None]
        teams.append(TeamRollup(
            manager.name, manager.email, len(team),
            round(sum(p.checkins_held for p in team) / expected * 100, 1) if expected else None,
            round(sum(p.tasks_done_on_time for p in team) / due * 100, 1) if due else None,
            round(sum(ends) / len(ends), 1) if ends else None,
            sum(len([g for g in p.goals if g.owned and g.at_risk]) for p in team),
            sum(1 for p in team if p.checkins_expected and (
                p.days_since_checkin is None or p.days_since_checkin >= 28))))
    return sorted(teams, key=lambda t: t.manager_name)


def hr_view(snapshot: Snapshot, recipient: str, managers: dict[int, int | None],
            initiatives: Sequence[InitiativeRollup], cycle: CycleSummary | None = None
            ) -> DigestView:
    people = sorted(snapshot.people.values(), key=lambda p: p.name)
    teams = teams_of(people, managers)
    lowest = sorted((t for t in teams if t.adherence is not None),
                    key=lambda t: (t.adherence, t.manager_name))[:LOWEST_TEAMS]
    changes = tuple(line for lines in snapshot.changes.values() for line in lines)
    window = snapshot.window
    return DigestView("hr", window.label, window.start, window.end, window.as_of, recipient,
                      tuple(people), tuple(teams), tuple(initiatives), None, tuple(lowest),
                      changes, cycle=cycle)


def manager_view(snapshot: Snapshot, manager_id: int, managers: dict[int, int | None],
                 cycle: CycleSummary | None = None) -> DigestView:
    team = sorted((p for p in snapshot.people.values()
                   if managers.get(p.person_id) == manager_id), key=lambda p: p.name)
    me = snapshot.people[manager_id]
    changes = tuple(line for p in team for line in snapshot.changes.get(p.person_id, ()))
    window = snapshot.window
    return DigestView("manager", window.label, window.start, window.end, window.as_of,
                      me.name, tuple(team), tuple(teams_of([*team, me], managers)), (), me,
                      (), changes, cycle=cycle)


def employee_view(snapshot: Snapshot, person_id: int, cycle: CycleSummary | None = None
                  ) -> DigestView:
    me = snapshot.people[person_id]
    window = snapshot.window
    return DigestView("employee", window.label, window.start, window.end, window.as_of,
                      me.name, (me,), changes=snapshot.changes.get(person_id, ()), cycle=cycle)


def view_of(session: Session, kind: str, snapshot: Snapshot, recipient_id: int | None,
            recipient: str, managers: dict[int, int | None],
            initiatives: Sequence[InitiativeRollup] = ()) -> DigestView:
    """One digest's view with the period's review cycle, if it has one (one more query;
    ``workers/review_digest.py`` decides what of it each copy shows)."""
    cycle = cycle_for(session, kind, snapshot.window.label, snapshot.people, recipient_id)
    if kind == "hr":
        return hr_view(snapshot, recipient, managers, initiatives, cycle)
    assert recipient_id is not None
    if kind == "manager":
        return manager_view(snapshot, recipient_id, managers, cycle)
    return employee_view(snapshot, recipient_id, cycle)


# --- dispatch ------------------------------------------------------------------------


def managers_map(session: Session) -> dict[int, int | None]:
    return {person_id: manager_id for person_id, manager_id in
            session.execute(select(Person.id, Person.manager_id))}


def digest_rows(session: Session, figures: Figures, snapshot: Snapshot, now: datetime,
                domain: str, employee_summaries: bool) -> list[OutboxRow]:
    """The outbox rows of one period's digests: every HR person, every manager with
    reports, and (if on) every employee with a manager."""
    window = figures.window
    managers = managers_map(session)
    people = {p.id: p for p in session.scalars(select(Person).where(
        Person.id.in_(list(snapshot.people))))}
    initiatives = [vars(i) for i in figures.initiatives]
    rows: list[OutboxRow] = []

    def add(kind: str, person: Person, extra: dict[str, Any] | None = None) -> None:
        rows.append(OutboxRow(
            dedupe_key=f"{DIGEST}:{window.label}:{kind}:{person.id}", kind=DIGEST,
            recipient_id=person.id, to_address=person.email,
            subject=f"{window.label} evaluation", created_at=now,
            message_id=make_message_id(domain, DIGEST),
            context=digest_context(window, kind, extra)))

    with_reports = {m for m in managers.values() if m is not None}
    for person in people.values():
        if person.is_hr:
            add("hr", person, {"initiatives": initiatives})
        if person.id in with_reports:
            add("manager", person)
        if employee_summaries and person.manager_id is not None:
            add("employee", person)
    return rows


def dispatch_due(session: Session, now: datetime, domain: str, fiscal_year_start_month: int,
                 delay_days: int, employee_summaries: bool) -> list[int]:
    """The digests of every period closed ``delay_days`` ago, once (outbox dedupe key);
    the figures are computed only while a period has none of its rows yet, and a
    period that ended before the first person was added (a new install) is skipped."""
    created: list[int] = []
    for window in closed_windows(now.date(), fiscal_year_start_month, delay_days):
        exists = session.scalar(select(OutboundMessage.id).where(
            OutboundMessage.dedupe_key.like(f"{DIGEST}:{window.label}:%")).limit(1))
        if exists is not None:
            continue
        first = session.scalar(select(func.min(Person.created_at)))
        if first is None or first.date() > window.end:
            continue  # a period that closed before anyone was in Drumbeat: nothing to tell
        figures = compute_figures(session, window, now)
        snapshot = take_snapshot(session, figures, now)
        created += outbox.add_rows(session, digest_rows(session, figures, snapshot, now,
                                                        domain, employee_summaries))
        freeze_shown_snapshots(session, window.label, list(snapshot.people), now)
    return created


# --- rendering when sent ---------------------------------------------------------------


def digest_context(window: Window, kind: str, extra: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """What a digest row carries to be rendered when it is sent (``window_of`` reads it)."""
    return {"digest": kind, "period": window.label, "window_kind": window.kind,
            "start": window.start.isoformat(), "end": window.end.isoformat(),
            "as_of": window.as_of.isoformat(),
            "fiscal_year_start_month": window.fiscal_year_start_month, **(extra or {})}


def audience_of(context: Mapping[str, Any]) -> str:
    """Whom a digest row's context says it is for: "hr", "manager" or "employee"."""
    return str(context["digest"])


def window_of(row: OutboundMessage) -> Window:
    context = row.context or {}
    return Window(context["window_kind"], context["period"],
                  date.fromisoformat(context["start"]), date.fromisoformat(context["end"]),
                  date.fromisoformat(context["as_of"]),
                  int(context.get("fiscal_year_start_month", 1)))


def view_for_row(session: Session, row: OutboundMessage) -> DigestView:
    """The view a digest row shows, rebuilt from the stored snapshots."""
    context = row.context or {}
    window, kind = window_of(row), audience_of(context)
    managers = managers_map(session)
    recipient = session.get(Person, row.recipient_id) if row.recipient_id else None
    if kind == "hr":
        initiatives = [InitiativeRollup(**item) for item in context.get("initiatives", ())]
        return view_of(session, kind, load_snapshot(session, window), row.recipient_id,
                       recipient.name if recipient else "HR", managers, initiatives)
    assert row.recipient_id is not None
    if kind == "manager":
        ids = [p for p, m in managers.items() if m == row.recipient_id] + [row.recipient_id]
        snapshot = load_snapshot(session, window, ids)
    else:
        snapshot = load_snapshot(session, window, [row.recipient_id])
    return view_of(session, kind, snapshot, row.recipient_id, "", managers)


def _rendered(session: Session, row: OutboundMessage, rt: Runtime) -> RenderedDigest:
    """Rendered once per row and process: the text and the pictures come from one view."""
    return rt.rendered_once(DIGEST, row.id, lambda: render_digest(
        _in_readers_language(session, row, view_for_row(session, row))))


def _in_readers_language(session: Session, row: OutboundMessage, view: DigestView
                         ) -> DigestView:
    """An employee's own summary is written in their language (team and HR digests,
    reports over many people, stay English)."""
    reader = session.get(Person, row.recipient_id) if row.recipient_id else None
    return replace(view, locale=reader.language) if reader is not None else view


def render_digest_row(session: Session, row: OutboundMessage, rt: Runtime) -> RenderedEmail:
    """A digest row's words, when it is first sent."""
    digest = _rendered(session, row, rt)
    return RenderedEmail(digest.subject, digest.text, digest.html)


def digest_parts(session: Session, row: OutboundMessage, rt: Runtime
                 ) -> tuple[tuple[InlineImage, ...], tuple[AttachedFile, ...]]:
    """A digest row's charts and CSV, made on every try from the same snapshots."""
    digest = _rendered(session, row, rt)
    return digest.images, (AttachedFile(digest.csv_name, "text/csv; charset=utf-8",
                                      digest.csv),)
