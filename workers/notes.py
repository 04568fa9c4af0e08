"""Meeting notes by email: a forwarded or pasted 1:1 note logs the meeting and its
action items become tasks.

Mail to ``notes@DOMAIN``, or a forward sent to a pair's ``checkin+TOKEN`` address,
goes through these stages, each a small function (the pure reading is in
``mail/read/notes_reading.py``, which uses ``mail/read/notes.py``,
``mail/read/forward.py`` and ``mail/read/calendar.py``):

    the notes' text → which 1:1 → which day → the meeting (found or logged, notes
    attached) → task update lines → action items as tasks → the answer

Nothing is guessed silently: when the 1:1 is ambiguous or unknown nothing is
logged and the answer lists the candidates; an action item whose owner or date is
unclear is not created and the answer says what to write instead. The notes' text
is stored on the meeting only (visible to the pair); the inbound row's outcome
keeps what was done, never the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from mail.read.calendar import meeting_attendees
from mail.read.commands import MeetingReport
from mail.read.dates import DateBudget
from mail.read.forward import Forwarded
from mail.read.message import ParsedMessage
from mail.read.notes import ActionItem, find_action_items
from mail.read.notes_people import Candidate, match_people, people_in_subject, with_line
from mail.read.notes_reading import Notes, NotesReading, understand_notes, which_day
from mail.read.own_words import SentMail
from mail.write.agenda import AgendaContext
from mail.write.answer import AnswerView, day_words, first_words
from mail.write.language import translations, worded
from models.mailbox import InboundMessage, OutboundMessage
from models.people import Person, PersonAlias
from models.plan import Goal, Initiative, Project, Task, TaskHistory, TaskStatus
from workers import outbox
from workers.apply import (
    DEFAULT_DOMAIN,
    DEFAULT_MEETING_LINES_DAYS,
    Applier,
    Pair,
    pair_from_agenda,
)
from workers.permissions import manages, no_such_project, project_open_to, reporting_line

NOTES_LOCAL_PART = "notes"
ONE_ON_ONE_KEY = "drumbeat:1on1"  # import_key prefix of the "from 1:1s" plan items
ACTION_ITEM_NOTE = "action item from 1:1 notes"  # the history note of a task made from notes
ACTIVE = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value, TaskStatus.BLOCKED.value)


def addressed_to_notes(envelope_to: Sequence[str], parsed: ParsedMessage, domain: str
                       ) -> bool:
    """True when ``notes@DOMAIN`` is among the recipients (envelope, To or Cc)."""
    wanted = f"{NOTES_LOCAL_PART}@{domain}".lower()
    return any(address.strip().strip("<>").lower() == wanted
               for address in [*envelope_to, *parsed.to, *parsed.cc])


_SENT_LOOKED_AT = 20  # stored messages compared with the forwards of one message
AGENDA_KIND = "agenda"  # OutboundMessage.kind of an agenda (workers.agendas.AGENDA)


def sent_mail_forwarded(session: Session, forwards: Sequence[Forwarded], sender_id: int
                        ) -> tuple[SentMail, ...]:
    """The stored messages that may be among a message's ``forwards``: those whose
    Message-ID a forward carries, and those we sent the sender around the forwarded
    messages' dates (an inline forward may keep only a date and the text).
    Read before the transaction; :func:`mail.read.own_words.sort_forwards` decides."""
    if not forwards:
        return ()
    ids = [forward.message_id for forward in forwards if forward.message_id]
    dates = [moment if moment.tzinfo else moment.replace(tzinfo=UTC)
             for moment in (forward.date for forward in forwards) if moment is not None]
    mine = OutboundMessage.recipient_id == sender_id
    if dates:
        mine = mine & OutboundMessage.created_at.between(
            min(dates) - timedelta(days=7), max(dates) + timedelta(days=1))
    wanted = or_(OutboundMessage.message_id.in_(ids[:_SENT_LOOKED_AT]), mine) if ids else mine
    rows = session.execute(
        select(OutboundMessage.message_id, OutboundMessage.body_text, OutboundMessage.kind,
               OutboundMessage.context)
        .where(wanted, OutboundMessage.body_text.is_not(None))
        .order_by(case((OutboundMessage.kind == AGENDA_KIND, 0), else_=1),  # answers are many
                  OutboundMessage.id.desc()).limit(_SENT_LOOKED_AT))
    return tuple(SentMail(message_id, text or "", kind, dict(context or {}))
                 for message_id, text, kind, context in rows)


def apply_notes(session: Session, row: InboundMessage, parsed: ParsedMessage, sender: Person,
                agenda: AgendaContext | None, now: datetime, *, store_text: bool = True,
                meeting_lines_days: int = DEFAULT_MEETING_LINES_DAYS, max_updates: int = 100,
                reading: NotesReading | None = None, fiscal_year_start_month: int = 1,
                mail_domain: str = DEFAULT_DOMAIN) -> tuple[dict[str, Any], AnswerView]:
    """Log the meeting, apply the task lines, create the action items; the outcome
    (for the inbound row) and the answer to the sender. ``store_text`` keeps the
    notes on the meeting (``DRUMBEAT_STORE_NOTES``); notes forwarded to an agenda's
    address log no meeting ``meeting_lines_days`` after its period closed; at most
    ``max_updates`` command lines are applied (``DRUMBEAT_MAX_UPDATES_PER_MESSAGE``).
    ``reading`` is what :func:`understand_notes` read before the transaction; the fiscal
    calendar says which period is current for ``T-12 done on DATE``."""
    if reading is None:
        reading = understand_notes(parsed, sender_name=sender.name, timezone=sender.timezone,
                                   now=now, max_updates=max_updates)
    notes, commands, dates = reading.notes, reading.commands, reading.dates
    _ = translations(sender.language).gettext  # the answer's reader
    pair, question = which_pair(session, sender, agenda, notes, parsed, now.date(), now=now,
                                meeting_lines_days=meeting_lines_days)
    if pair is None:
        view = AnswerView(sender.name, parsed.subject, (), (), (), question)
        return {"kind": "notes", "logged": False, "question": question}, view
    manager, employee = session.get(Person, pair.manager_id), session.get(Person, pair.employee_id)
    assert manager is not None and employee is not None
    reports = [c for c in commands.commands if isinstance(c, MeetingReport)]
    day = which_day(reports, notes.forwards, parsed.calendar, row.received_at or now,
                    manager.timezone, agenda_at=_agenda_meeting(notes, pair))
    others = [c for c in commands.commands if not isinstance(c, MeetingReport)]
    meeting_line = [replace(report, on=day) if report.held and report.on is None else report
                    for report in reports[:1]] or [MeetingReport(held=True, on=day,
                                                                 line="(your notes)")]
    applier = Applier(session, sender, inbound_id=row.id, now=now, pair=pair,
                      fiscal_year_start_month=fiscal_year_start_month, mail_domain=mail_domain)
    outcome = applier.apply([*meeting_line, *others])
    outbox.add_rows(session, applier.notices)  # an away: line in notes: sent by the sweeper
    outcome.not_understood.extend((e.line, e.reason) for e in commands.errors)
    meeting = applier.meeting
    if meeting is not None and store_text and notes.text.strip():
        meeting.notes = _with_notes(meeting.notes, notes.text)
        outcome.done.insert(1, _("notes stored with this 1:1: “%(words)s”") % {
            "words": first_words(notes.text)})
    items = _action_items(session, notes.text, manager, employee, sender, day, dates)
    created = [_create_task(session, item, sender, (manager, employee), row.id, now, outcome)
               for item in items]
    session.flush()
    made = [ref for ref in created if ref is not None]
    hint = (_("A wrong owner or date? Reply with one line per task, e.g. '%(ref)s due "
              "2026-12-18' or '%(ref)s dropped: not an action item'.") % {"ref": made[0]}
            if made else None)
    view = AnswerView(sender.name, parsed.subject, tuple(outcome.done), tuple(outcome.refused),
                      tuple(outcome.not_understood), hint if outcome.done else
                      _("I found nothing to log in your notes."))
    result = {"kind": "notes", "logged": meeting is not None, "manager_id": manager.id,
              "employee_id": employee.id, "day": day.isoformat(),
              "meeting_id": meeting.id if meeting is not None else None,
              "tasks_created": made,
              "done": outcome.done, "refused": outcome.refused,
              "not_understood": outcome.not_understood,
              "action_items": len(items), "forwards": len(notes.forwards),
              "ours_left_out": notes.ours}
    return result, view


def _agenda_meeting(notes: Notes, pair: Pair) -> datetime | None:
    """The 1:1 a forwarded agenda names, when it is this pair's."""
    agenda = AgendaContext.from_json(notes.agenda.context) if notes.agenda else None
    if agenda is None or agenda.pair != (pair.manager_id, pair.employee_id):
        return None
    return agenda.meeting_at


# --- which 1:1 -----------------------------------------------------------------------


def _candidate(person: Person) -> Candidate:
    return Candidate(person.id, person.name, person.email,
                     tuple(alias.email for alias in getattr(person, "aliases", ()) or ()))


def _still_active(today: date) -> ColumnElement[bool]:
    return or_(Person.active_until.is_(None), Person.active_until >= today)


def counterparts(session: Session, sender: Person, today: date) -> list[Person]:
    """The people the sender has 1:1s with: their direct reports and their manager."""
    people = list(session.scalars(select(Person).where(
        Person.manager_id == sender.id, _still_active(today)).order_by(Person.id)))
    if sender.manager_id is not None:
        manager = session.get(Person, sender.manager_id)
        if manager is not None:
            people.append(manager)
    return people


def which_pair(session: Session, sender: Person, agenda: AgendaContext | None,
               notes: Notes, parsed: ParsedMessage, today: date, *,
               now: datetime | None = None,
               meeting_lines_days: int = DEFAULT_MEETING_LINES_DAYS
               ) -> tuple[Pair | None, str]:
    """The 1:1 the notes are about: the agenda's token, then a ``with:`` line, a
    forwarded agenda of the sender's, the forwarded messages' people, the subject, a
    calendar invitation, or the only pair the sender has. Ambiguous or unknown: None
    and the question to ask."""
    moment = now or datetime.combine(today, time.min, UTC)
    if agenda is not None:
        return pair_from_agenda(agenda, moment, meeting_lines_days=meeting_lines_days), ""
    forwarded = AgendaContext.from_json(notes.agenda.context) if notes.agenda else None
    if forwarded is not None and not with_line(notes.own) and forwarded.names(sender.id):
        return pair_from_agenda(forwarded, moment, meeting_lines_days=meeting_lines_days), ""
    people = counterparts(session, sender, today)
    if not people:
        return None, translations(sender.language).gettext(
            "I couldn't log these notes: you have no 1:1s in Drumbeat (no reports and no "
            "manager).")
    candidates = [_candidate(person) for person in people]
    named = with_line(notes.own) or with_line(notes.text)
    if named:
        found = match_people(named, candidates)
        if len(found) != 1:
            return None, _ask(named, found, candidates, sender.language)
        return _pair_of(sender, people, found[0].key), ""
    for found in (_in_forwards(notes.forwards, candidates, sender),
                  _in_subjects(parsed, notes.forwards, candidates),
                  _in_calendar(parsed.calendar, candidates, sender)):
        if len(found) == 1:
            return _pair_of(sender, people, found[0].key), ""
        if len(found) > 1:
            return None, _ask(None, found, candidates, sender.language)
    if len(people) == 1:
        return _pair_of(sender, people, people[0].id), ""
    return None, _ask(None, (), candidates, sender.language)


def _pair_of(sender: Person, people: Sequence[Person], other_id: int) -> Pair:
    other = next(person for person in people if person.id == other_id)
    if other.manager_id == sender.id:
        return Pair(sender.id, other.id)
    return Pair(other.id, sender.id)


def _in_forwards(forwards: Sequence[Forwarded], candidates: Sequence[Candidate],
                 sender: Person) -> tuple[Candidate, ...]:
    addresses = {address for forward in forwards
                 for address in (forward.from_addr, *forward.to, *forward.cc) if address}
    addresses.discard(sender.email)
    return tuple(c for c in candidates if c.email in addresses or addresses & set(c.aliases))


def _in_subjects(parsed: ParsedMessage, forwards: Sequence[Forwarded],
                 candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    for subject in (parsed.subject, *(forward.subject or "" for forward in forwards)):
        found = people_in_subject(subject, candidates)
        if found:
            return found
    return ()


def _in_calendar(calendar: Sequence[str], candidates: Sequence[Candidate], sender: Person
                 ) -> tuple[Candidate, ...]:
    attendees = set(meeting_attendees(calendar)) - {sender.email}
    return tuple(c for c in candidates if c.email in attendees)


def _ask(named: str | None, found: Sequence[Candidate], candidates: Sequence[Candidate],
         language: str) -> str:
    """The question the answer asks; it lists only the sender's own 1:1 partners."""
    _ = translations(language).gettext
    listed = found or candidates
    names = "; ".join(f"{c.name} <{c.email}>" for c in listed[:20])
    if named and found:
        start = _("'%(name)s' could be more than one person") % {"name": named}
    elif named:
        start = _("'%(name)s' is not one of your 1:1s") % {"name": named}
    elif found:
        start = _("these notes mention more than one of your 1:1s")
    else:
        start = _("I couldn't tell whose 1:1 these notes are about")
    return _("I logged nothing: %(why)s. Forward them again with a first line 'with: NAME "
             "or EMAIL'. Your 1:1s: %(names)s.") % {"why": start, "names": names}


def _with_notes(existing: str | None, text: str) -> str:
    if not existing:
        return text
    if text in existing:
        return existing
    return f"{existing}\n\n---\n\n{text}"


# --- action items ------------------------------------------------------------------


def _action_items(session: Session, text: str, manager: Person, employee: Person,
                  sender: Person, day: date, dates: DateBudget | None = None
                  ) -> list[ActionItem]:
    """Owners are looked up in the pair first; a name the pair doesn't know is looked
    up once more in the whole directory (it must be unambiguous there too)."""
    pair = [_candidate(manager), _candidate(employee)]
    items = list(find_action_items(text, candidates=pair, meeting_date=day,
                                   timezone=manager.timezone, author=sender.id,
                                   date_budget=dates))
    directory: list[Candidate] | None = None
    for index, item in enumerate(items):
        if item.owner is None and item.owner_text and item.problem:
            directory = directory if directory is not None else _directory(session, day)
            again = find_action_items(item.line, candidates=directory, meeting_date=day,
                                      timezone=manager.timezone, author=sender.id,
                                      date_budget=dates)
            if len(again) == 1 and again[0].owner is not None:
                items[index] = again[0]
    return items


def _directory(session: Session, today: date) -> list[Candidate]:
    aliases: dict[int, list[str]] = {}
    for person_id, email in session.execute(select(PersonAlias.person_id, PersonAlias.email)):
        aliases.setdefault(person_id, []).append(email)
    return [Candidate(person_id, name, email, tuple(aliases.get(person_id, ())))
            for person_id, name, email in session.execute(
                select(Person.id, Person.name, Person.email).where(_still_active(today)))]


def _create_task(session: Session, item: ActionItem, sender: Person,
                 pair: tuple[Person, Person], inbound_id: int, now: datetime,
                 outcome: Any) -> str | None:
    """One action item as a task, or the reason it was not created (in the answer)."""
    language = sender.language  # the answer's reader
    _ = translations(language).gettext
    fix = _("reply with '%(example)s' to add it") % {
        "example": f"new: {item.what or 'TITLE'} @OWNER by DATE"}
    if item.problem or item.owner is None:
        reason = worded(item.problem, language) if item.problem else _("no owner named")
        outcome.refused.append((item.line, _("not created: %(why)s") % {"why": reason}
                                + f"; {fix}"))
        return None
    owner = session.get(Person, item.owner)
    if owner is None or not (owner in pair or manages(session, sender.id, owner.id)):
        outcome.refused.append((item.line, _(
            "not created: you can give tasks to the people of this 1:1 and your own reports "
            "only")))
        return None
    existing = session.scalar(select(Task).where(
        Task.owner_id == owner.id, func.lower(Task.title) == item.what.lower(),
        Task.status.in_(ACTIVE)).limit(1))
    if existing is not None:
        outcome.done.append(_("%(ref)s already there: %(title)s (%(name)s)") % {
            "ref": existing.ref, "title": existing.title, "name": owner.name})
        return existing.ref
    project = _project_for(session, item, owner, sender)
    if project is None:
        outcome.refused.append((item.line, _("not created: %(why)s") % {
            "why": no_such_project(item.project, language)}))
        return None
    task = Task(title=item.what[:500], owner_id=owner.id, project_id=project.id, due=item.due,
                status=TaskStatus.OPEN.value, progress=0, weight=1.0, created_at=now,
                updated_at=now, from_notes_by_id=sender.id if owner.id != sender.id else None)
    session.add(task)
    session.flush()
    session.add(TaskHistory(task_id=task.id, author_id=sender.id, inbound_message_id=inbound_id,
                            source="email", created_at=now, new_status=task.status,
                            new_progress=0, new_due=task.due, note=ACTION_ITEM_NOTE))
    due = (_("due %(day)s") % {"day": day_words(task.due, language)} + _as_written(item, language)
           if task.due else _("no due date"))
    outcome.done.append(_("%(ref)s created: %(title)s (%(who)s, %(project)s)") % {
        "ref": task.ref, "title": task.title, "who": f"{owner.name}, {due}",
        "project": f"{project.ref} {project.title}"})
    return task.ref


def _as_written(item: ActionItem, language: str) -> str:
    """`` as read from “by Friday”``: the words a due date was read from, so a wrong
    reading shows at a glance (nothing when they were the date itself)."""
    written = (item.due_text or "").strip()
    if not written or item.due is None or item.due.isoformat() in written:
        return ""
    return " " + translations(language).gettext("as read from “%(words)s”") % {
        "words": first_words(written)}


def _project_for(session: Session, item: ActionItem, owner: Person, sender: Person
                 ) -> Project | None:
    """The project named with P-n (one of the sender's reporting line), else the owner's
    only active project, else their "From 1:1s" project (made on first use)."""
    if item.project:
        return project_open_to(session, item.project, reporting_line(session, sender))
    projects = set(session.scalars(select(Task.project_id).where(
        Task.owner_id == owner.id, Task.status.in_(ACTIVE))).all())
    projects.discard(None)
    if len(projects) == 1:
        return session.get(Project, projects.pop())
    return one_on_one_project(session, owner, sender)


def one_on_one_project(session: Session, owner: Person, creator: Person) -> Project:
    """The owner's "From 1:1s" project, under one "Outside the plan" initiative and
    goal (created on first use, owned by whoever first needed them)."""
    key = f"{ONE_ON_ONE_KEY}:project:{owner.id}"
    project = session.scalar(select(Project).where(Project.import_key == key))
    if project is not None:
        return project
    initiative = session.scalar(select(Initiative).where(
        Initiative.import_key == f"{ONE_ON_ONE_KEY}:initiative"))
    if initiative is None:
        initiative = Initiative(title="Outside the plan", owner_id=creator.id,
                                import_key=f"{ONE_ON_ONE_KEY}:initiative",
                                description="Action items agreed in 1:1s")
        session.add(initiative)
        session.flush()
    goal = session.scalar(select(Goal).where(Goal.import_key == f"{ONE_ON_ONE_KEY}:goal"))
    if goal is None:
        goal = Goal(title="Action items from 1:1s", owner_id=creator.id,
                    initiative_id=initiative.id, import_key=f"{ONE_ON_ONE_KEY}:goal")
        session.add(goal)
        session.flush()
    project = Project(title=f"From 1:1s — {owner.name}", owner_id=owner.id, goal_id=goal.id,
                      import_key=key)
    session.add(project)
    session.flush()
    return project
