"""Check-in agendas: which are due (dispatch), and what each one says (render).

``dispatch_due`` is the scheduler's whole job. From the database alone it finds the
slots whose agenda is due now (``models.checkins``), leaves out pairs on leave (an
excused period, or a slot's day in time away of either side), and adds two outbox rows
per slot, employee's and manager's, keyed by person + pair + period. It also adds one
reminder per person for a period that just closed without a meeting. Running it twice,
or from two schedulers, adds nothing twice. A pair nobody set a tracking start for (no
import gave one) is tracked from the period of its first agenda.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from mail.write.agenda import AgendaContext, AgendaView, NudgeView
from mail.write.compose import make_message_id, thread_root_id
from mail.write.language import DEFAULT, month_text, translations
from mail.write.render import RenderedEmail, render_agenda, render_nudge
from models.checkins import (
    PairSchedule,
    Slot,
    closed_periods,
    due_agendas,
    next_slot,
    previous_slot,
)
from models.mailbox import OutboundMessage
from models.meetings import Meeting, MeetingStatus
from models.people import Person
from models.plan import TaskStatus
from models.queries import goal_figures, goal_progress, record_of
from models.scoring import ActiveSpan, Cadence, Period, period_containing, quarter_window
from models.talking_points import TimeAway
from workers import outbox
from workers.agenda_reads import AgendaReads, goals_at_risk, group_tasks, read_agendas
from workers.outbox import OutboxRow
from workers.status_page import goal_line

if TYPE_CHECKING:  # the runtime lists this module's renderers
    from workers.runtime import Runtime

AGENDA = "agenda"
NUDGE = "nudge"


def pair_schedules(session: Session) -> tuple[list[PairSchedule], dict[int, str]]:
    """Every reporting pair's check-in schedule (the employee's), and everyone's address."""
    manager = aliased(Person)
    rows = session.execute(
        select(Person.id, Person.manager_id, Person.cadence, Person.checkin_weekday,
               Person.checkin_time, Person.timezone, Person.active_from, Person.active_until,
               manager.active_from, manager.active_until)
        .join(manager, Person.manager_id == manager.id)
    ).all()
    schedules = [
        PairSchedule(manager_id=row[1], employee_id=row[0], cadence=Cadence(row[2]),
                     weekday=row[3], local_time=row[4], timezone=row[5],
                     employee_active=ActiveSpan(row[6], row[7]),
                     manager_active=ActiveSpan(row[8], row[9]))
        for row in rows
    ]
    emails = dict(session.execute(select(Person.id, Person.email)).all())
    return schedules, emails


def dedupe_key(kind: str, recipient_id: int, slot_pair: tuple[int, int], period: Period) -> str:
    manager_id, employee_id = slot_pair
    return f"{kind}:{recipient_id}:{manager_id}-{employee_id}:{period.key}"


def dispatch_due(session: Session, now: datetime, lead: timedelta, domain: str,
                 nudge_within: timedelta) -> list[int]:
    """Add the outbox rows due at ``now``; returns the ids of rows it created."""
    return outbox.add_rows(session, due_rows(session, now, lead, domain, nudge_within))


def due_rows(session: Session, now: datetime, lead: timedelta, domain: str,
             nudge_within: timedelta) -> list[OutboxRow]:
    """The outbox rows due at ``now`` (a pair's two agendas next to each other), for the
    caller to add; untracked pairs start being tracked in ``session``."""
    schedules, emails = pair_schedules(session)
    slots = _not_away(session, _not_on_leave(session, due_agendas(now, schedules, lead)))
    _start_tracking(session, slots)
    rows = [row for slot in slots for row in _agenda_rows(slot, emails, domain, now)]
    rows += _nudge_rows(session, now, schedules, emails, domain, nudge_within)
    return rows


def _meetings_in(session: Session, keys: set[tuple[int, int, date]],
                 status: str | None = None) -> set[tuple[int, int, date]]:
    """Of (manager, employee, period start) keys, those with a meeting row (of ``status``).

    Asked by period start (a handful of distinct dates) and filtered here: a row-value
    IN list with one entry per pair grows past PostgreSQL's stack limit at 10,000 pairs.
    """
    if not keys:
        return set()
    query = select(Meeting.manager_id, Meeting.employee_id, Meeting.period_start).where(
        Meeting.period_start.in_({start for _m, _e, start in keys}))
    if status is not None:
        query = query.where(Meeting.status == status)
    return {key for key in (tuple(row) for row in session.execute(query)) if key in keys}


def _not_on_leave(session: Session, slots: list[Slot]) -> list[Slot]:
    keys = {(s.schedule.manager_id, s.schedule.employee_id, s.period.start) for s in slots}
    excused = _meetings_in(session, keys, MeetingStatus.EXCUSED.value)
    return [s for s in slots
            if (s.schedule.manager_id, s.schedule.employee_id, s.period.start) not in excused]


def _not_away(session: Session, slots: list[Slot]) -> list[Slot]:
    """Leave out a slot whose local day (the employee's clock) lies in time away of
    either side (``away:``); one query for the days the slots span."""
    if not slots:
        return slots
    days = [s.local_at.date() for s in slots]
    away: dict[int, list[tuple[date, date]]] = {}
    for person_id, starts_on, ends_on in session.execute(
            select(TimeAway.person_id, TimeAway.starts_on, TimeAway.ends_on).where(
                TimeAway.ends_on >= min(days), TimeAway.starts_on <= max(days))):
        away.setdefault(person_id, []).append((starts_on, ends_on))
    if not away:
        return slots
    return [slot for slot, day in zip(slots, days, strict=True)
            if not any(start <= day <= end
                       for person in (slot.schedule.manager_id, slot.schedule.employee_id)
                       for start, end in away.get(person, ()))]


def _start_tracking(session: Session, slots: list[Slot]) -> None:
    """Untracked pairs are tracked from the period of their first agenda: that period
    counts, none before it does."""
    by_start: dict[date, list[int]] = defaultdict(list)
    for slot in slots:
        by_start[slot.period.start].append(slot.schedule.employee_id)
    for start, employees in sorted(by_start.items()):
        for first in range(0, len(employees), 1000):
            session.execute(update(Person).where(
                Person.id.in_(employees[first:first + 1000]), Person.tracking_from.is_(None))
                .values(tracking_from=start).execution_options(synchronize_session=False))


def _rows(kind: str, context: AgendaContext, period: Period, emails: dict[int, str],
          domain: str, now: datetime) -> list[OutboxRow]:
    """The pair's two rows of one kind: the employee's copy, then the manager's."""
    root = thread_root_id(context.manager_id, context.employee_id, domain)
    return [OutboxRow(
        dedupe_key=dedupe_key(kind, recipient_id, context.pair, period), kind=kind,
        recipient_id=recipient_id, to_address=emails[recipient_id],
        subject=f"1:1 check-in {kind}", message_id=make_message_id(domain, kind),
        in_reply_to=root, references_header=root,
        context=replace(context, role=role).to_json(),
        created_at=now)  # the scheduler's clock, which the sweeper also reads
        for recipient_id, role in ((context.employee_id, "employee"),
                                   (context.manager_id, "manager"))]


def _agenda_rows(slot: Slot, emails: dict[int, str], domain: str, now: datetime
                 ) -> list[OutboxRow]:
    context = AgendaContext(slot.schedule.manager_id, slot.schedule.employee_id,
                            slot.period.start, slot.period.end, period_key=slot.period.key,
                            meeting_at=slot.at)
    return _rows(AGENDA, context, slot.period, emails, domain, now)


def _nudge_rows(session: Session, now: datetime, schedules: Iterable[PairSchedule],
                emails: dict[int, str], domain: str, within: timedelta) -> list[OutboxRow]:
    """One reminder each for an announced period that closed with no meeting logged."""
    closed = [(schedule, period) for schedule in schedules
              for period in closed_periods(now, schedule, within)]
    if not closed:
        return []
    wanted = [dedupe_key(AGENDA, s.employee_id, (s.manager_id, s.employee_id), p)
              for s, p in closed]
    announced: set[str] = set()
    for start in range(0, len(wanted), 1000):
        announced.update(session.scalars(select(OutboundMessage.dedupe_key).where(
            OutboundMessage.dedupe_key.in_(wanted[start:start + 1000]))))
    logged = _meetings_in(session, {(s.manager_id, s.employee_id, p.start) for s, p in closed})
    rows: list[OutboxRow] = []
    for schedule, period in closed:
        pair = (schedule.manager_id, schedule.employee_id)
        if dedupe_key(AGENDA, pair[1], pair, period) not in announced:
            continue  # we never announced this check-in: nothing to remind anyone of
        if (*pair, period.start) in logged:
            continue
        context = AgendaContext(*pair, period.start, period.end, period_key=period.key)
        rows += _rows(NUDGE, context, period, emails, domain, now)
    return rows


# --- what an agenda says ---------------------------------------------------------------

def period_label(period: Period, cadence: Cadence, language: str = DEFAULT) -> str:
    """How people name the period, in the reader's language: "week 49", "weeks 49–50",
    "December" ("KW 49", "第49週", "Dezember")."""
    if cadence == Cadence.MONTHLY:
        return month_text(period.start, language)
    tr = translations(language)
    first, last = period.start.isocalendar().week, period.end.isocalendar().week
    if first == last:
        return tr.gettext("week %(week)d") % {"week": first}
    return tr.gettext("weeks %(first)d–%(last)d") % {"first": first, "last": last}


def agenda_view(session: Session, manager: Person, employee: Person, role: str,
                meeting_at: datetime, today: date, fiscal_year_start_month: int = 1,
                goal_cache: GoalCache | None = None, reads: AgendaReads | None = None
                ) -> AgendaView:
    """Everything one agenda shows, as of ``today``: from its batch's ``reads``, or read
    for this pair alone (a batch of one)."""
    recipient = employee if role == "employee" else manager
    schedule = _schedule_of(manager, employee)
    following = next_slot(schedule, meeting_at).at.astimezone(ZoneInfo(employee.timezone))
    last_slot = _last_slot(schedule, meeting_at)
    pair = (manager.id, employee.id)
    if reads is None:
        reads = read_agendas(session, [pair], last_slot)
    tasks = reads.tasks_of(employee.id, last_slot)
    groups = group_tasks(tasks, today, following.date(), last_slot)
    goal_ids = {t.project.goal_id for t in tasks if t.status != TaskStatus.DONE.value}
    progress = _goal_progress_cached(session, goal_ids, today, goal_cache)
    goals = sorted({t.project.goal for t in tasks if t.project.goal_id in goal_ids},
                   key=lambda g: g.id)
    at_risk = goals_at_risk(employee.id, tasks, reads.goals, today, fiscal_year_start_month,
                            lambda ids: _goal_progress_cached(session, ids, today, goal_cache))
    measured = goal_figures(session, {g.id for g in goals if g.metric is not None}, today)
    met = reads.meetings[pair]
    window = quarter_window(today, fiscal_year_start_month)
    record = record_of(met.meetings, manager, employee, window, today).score
    tracked = employee.tracking_from
    return AgendaView(
        # who reads it (role, recipient_name, meeting_at, locale): in step with ``addressed``
        role=role, recipient_name=recipient.name, employee_name=employee.name,
        manager_name=manager.name,
        meeting_at=meeting_at.astimezone(ZoneInfo(recipient.timezone)),
        period_label=period_label(_period_of(schedule, meeting_at), schedule.cadence,
                                  recipient.language),
        due_soon=groups.due_soon, overdue=groups.overdue, blocked=groups.blocked,
        done_recently=groups.done_recently, in_progress_later=groups.in_progress_later,
        not_started_later=groups.not_started_later,
        action_items=reads.action_items(pair, today),
        action_items_on=met.last_held_on, goals_at_risk=at_risk,
        goals=tuple(goal_line(g, measured.get(g.id), progress.get(g.id), recipient.language)
                    for g in goals),
        last_meeting=record.last_held, quarter_label=window[2], held=record.held,
        expected=record.expected, adherence=record.rate, today=today,
        tracked_since=tracked if tracked and tracked > window[0] else None,
        talking_points=reads.points.get(pair, ()), locale=recipient.language)


def addressed(view: AgendaView, manager: Person, employee: Person, role: str) -> AgendaView:
    """The pair's agenda as ``role``'s side reads it: everything else in it is the
    pair's, the same for both sides on the same day in the same language."""
    recipient = employee if role == "employee" else manager
    return replace(view, role=role, recipient_name=recipient.name,
                   meeting_at=view.meeting_at.astimezone(ZoneInfo(recipient.timezone)),
                   locale=recipient.language)


def _schedule_of(manager: Person, employee: Person) -> PairSchedule:
    return PairSchedule(manager_id=manager.id, employee_id=employee.id,
                        cadence=Cadence(employee.cadence), weekday=employee.checkin_weekday,
                        local_time=employee.checkin_time, timezone=employee.timezone)


def _last_slot(schedule: PairSchedule, meeting_at: datetime) -> datetime:
    """The pair's check-in before this one: tasks done since then are "done recently"."""
    previous = previous_slot(schedule, meeting_at - timedelta(microseconds=1))
    return previous.at if previous else meeting_at - timedelta(days=7)


GOAL_PROGRESS_TTL = timedelta(seconds=60)
GoalCache = dict[tuple[int, date], tuple[datetime, float | None]]


def _goal_progress_cached(session: Session, goal_ids: set[int], today: date,
                          cache: GoalCache | None) -> dict[int, float | None]:
    """Goal progress, remembered for a minute in the worker's runtime.

    Every agenda shows its person's goals, and a goal is shared by the dozens of
    people working on it; within one scheduler tick the figure cannot usefully
    change, so a worker works it out once instead of once per email.
    """
    if cache is None:
        return goal_progress(session, goal_ids, today)
    now = datetime.now(UTC)
    known: dict[int, float | None] = {}
    for goal_id in goal_ids:
        hit = cache.get((goal_id, today))
        if hit is not None and now - hit[0] < GOAL_PROGRESS_TTL:
            known[goal_id] = hit[1]
    missing = goal_ids - known.keys()
    if missing:
        if len(cache) > 100_000:
            cache.clear()
        for goal_id, value in goal_progress(session, missing, today).items():
            cache[(goal_id, today)] = (now, value)
            known[goal_id] = value
    return known


def _period_of(schedule: PairSchedule, meeting_at: datetime) -> Period:
    local_day = meeting_at.astimezone(ZoneInfo(schedule.timezone)).date()
    return period_containing(local_day, schedule.cadence)


def _pair_of(session: Session, row: OutboundMessage
             ) -> tuple[AgendaContext, Person, Person, Person]:
    """An agenda or nudge row's context, its manager and employee, and its reader."""
    context = AgendaContext.from_json(row.context)
    assert context is not None, f"outbox {row.id} names no pair"
    people = {p.id: p for p in session.scalars(  # both in one statement
        select(Person).where(Person.id.in_(context.pair)))}
    manager, employee = people.get(context.manager_id), people.get(context.employee_id)
    assert manager is not None and employee is not None
    return context, manager, employee, employee if context.role == "employee" else manager


def agenda_renderer(session: Session, rows: Sequence[OutboundMessage], rt: Runtime
                    ) -> Callable[[OutboundMessage], RenderedEmail]:
    """Read what a batch's agendas show, for all of them at once (their people, then
    ``read_agendas``: a fixed number of queries however many rows), and return the
    renderer of one of them. A pair's two agendas of one day share one view, addressed
    to each side (when both read the same language)."""
    contexts = [context for context in map(_readable_context, rows) if context]
    people = {p.id: p for p in session.scalars(select(Person).where(
        Person.id.in_({i for c in contexts for i in c.pair})))}
    slots = {c.pair: _last_slot(_schedule_of(people[c.manager_id], people[c.employee_id]),
                                c.meeting_at) for c in contexts if set(c.pair) <= people.keys()}
    reads = read_agendas(session, list(slots), min(slots.values())) if slots else None
    clock = rt.clock()
    views: dict[tuple[tuple[int, int], datetime, date, str], AgendaView] = {}

    def render(row: OutboundMessage) -> RenderedEmail:
        context = _agenda_context(row)  # a malformed row fails here, alone
        manager, employee = people.get(context.manager_id), people.get(context.employee_id)
        assert manager is not None and employee is not None, f"agenda {row.id}: no such pair"
        recipient = employee if context.role == "employee" else manager
        today = clock.astimezone(ZoneInfo(recipient.timezone)).date()
        # the other side's view is this one when they read the same language on the same day
        pair_day = (context.pair, context.meeting_at, today, recipient.language)
        if pair_day not in views:
            views[pair_day] = agenda_view(
                session, manager, employee, context.role, context.meeting_at, today,
                rt.settings.fiscal_year_start_month, rt.cache, reads)
        return render_agenda(addressed(views[pair_day], manager, employee, context.role))
    return render


def render_agenda_row(session: Session, row: OutboundMessage, rt: Runtime) -> RenderedEmail:
    """One agenda row's words: a batch of one."""
    return agenda_renderer(session, [row], rt)(row)


def _readable_context(row: OutboundMessage) -> AgendaContext | None:
    """The row's context, or None when it is malformed: its own rendering then fails and
    is recorded on it, while the batch's reads go on for the others."""
    try:
        return _agenda_context(row)
    except Exception:
        return None


def _agenda_context(row: OutboundMessage) -> AgendaContext:
    context = AgendaContext.from_json(row.context)
    assert context is not None, f"outbox {row.id} names no pair"
    assert context.meeting_at is not None, f"agenda {row.id} names no meeting"
    return context


def render_nudge_row(session: Session, row: OutboundMessage, rt: Runtime) -> RenderedEmail:
    context, manager, employee, recipient = _pair_of(session, row)
    assert context.period_end is not None, f"nudge {row.id} names no period end"
    period = Period(context.period_start, context.period_end)
    return render_nudge(NudgeView(
        role=context.role, recipient_name=recipient.name, employee_name=employee.name,
        manager_name=manager.name,
        period_label=period_label(period, Cadence(employee.cadence), recipient.language),
        period_start=period.start, period_end=period.end, locale=recipient.language))
