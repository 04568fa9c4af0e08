"""The answers to ``status`` and ``help`` by email, filled from the database.

``status`` shows the page ``drumbeat status --person`` shows (the same queries, from
``models.queries``): tasks, goals, and this quarter's check-ins. ``status @ana`` shows
Ana's page to someone above her in the reporting line; for anyone else (a peer, a
manager, a name nobody has) the answer is the same "nobody by that name", so the
question cannot be used to learn who works here or on what.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mail.read.requests import Request
from mail.write.agenda import GoalLine, TaskLine, measure_words
from mail.write.language import DEFAULT, translations
from mail.write.status import CheckinLine, HelpView, StatusView, help_lines
from models.people import Person
from models.plan import Goal, Task
from models.queries import GoalFigure, checkin_pairs, checkin_record, goals_of, tasks_of
from models.scoring import quarter_window
from workers.permissions import manages, person_named


def task_line(task: Task) -> TaskLine:
    return TaskLine(ref=task.ref, title=task.title, due=task.due, status=task.status,
                    progress=task.progress, project=f"{task.project.ref} {task.project.title}",
                    blocked_reason=task.blocked_reason)


def goal_line(goal: Goal, figure: GoalFigure | None, progress: float | None = None
              ) -> GoalLine:
    """A goal's line: its progress and, for a measurable goal, its figure worded and its
    tasks' roll-up beside it. ``progress`` serves when no ``figure`` was read."""
    if figure is None or figure.measure is None:
        return GoalLine(goal.ref, goal.title, figure.progress if figure else progress)
    m = figure.measure
    return GoalLine(goal.ref, goal.title, figure.progress,
                    measure_words(m.metric, m.unit, m.start, m.target, m.value), figure.rolled)


def whose_page(session: Session, sender: Person, request: Request) -> Person | None:
    """The person a ``status`` asks about: the sender, or someone below them in the
    reporting line; None for anyone else, known or not."""
    if request.about is None:
        return sender
    found = person_named(session, request.about)
    if found is None or found.id == sender.id:
        return found
    return found if manages(session, sender.id, found.id) else None


def nobody_named(about: str, language: str = DEFAULT) -> str:
    """The answer to ``status @name`` for an unknown name and a forbidden one alike."""
    return translations(language).gettext(
        "I know nobody called “%(name)s” among the people who report to you, so there is "
        "no page to show. Write status on its own for your own page, or status @name for "
        "someone in your reporting line.") % {"name": about}


def status_view(session: Session, sender: Person, person: Person, subject: str,
                today: date, fiscal_year_start_month: int = 1) -> StatusView:
    """``person``'s page, for ``sender`` to read."""
    window = quarter_window(today, fiscal_year_start_month)
    checkins = []
    for manager, employee, role in checkin_pairs(session, person):
        record = checkin_record(session, manager, employee, window, today)
        score = record.score
        other = manager if role == "manager" else employee
        checkins.append(CheckinLine(other.name, role, score.held, score.expected, score.rate,
                                    score.last_held, record.tracked_since))
    return StatusView(
        recipient_name=sender.name, subject=subject, person_name=person.name,
        own=person.id == sender.id,
        tasks=tuple(task_line(task) for task in tasks_of(session, person)),
        goals=tuple(goal_line(goal, figure) for goal, figure in goals_of(session, person, today)),
        checkins=tuple(checkins), quarter_label=window[2], today=today,
        locale=sender.language)


def help_view(session: Session, sender: Person, subject: str, today: date,
              note: str | None = None) -> HelpView:
    """The reply grammar with the sender's own open tasks (and, for a manager, a
    report's @name) in the examples."""
    report = next((other for _m, other, role in checkin_pairs(session, sender)
                   if role == "report"), None)
    tasks = [task_line(task) for task in tasks_of(session, sender)[:20]]
    return HelpView(sender.name, subject,
                    help_lines(tasks, today, report=_at_name(report) if report else None,
                               language=sender.language),
                    note, locale=sender.language)


def _at_name(person: Person) -> str:
    return person.email.split("@")[0]
