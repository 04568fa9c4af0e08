"""The answers to ``status`` and ``help`` (``mail.read.requests``): a person's page, and
the reply grammar with their own tasks in the examples.

Plain frozen views in, words out, like the agenda: the worker fills the views from the
database (``workers.status_page``); nothing here knows about tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from mail.write.agenda import OPEN_STATUSES, GoalLine, TaskLine
from mail.write.answer import answer_subject
from mail.write.language import DEFAULT, translations
from mail.write.render import RenderedEmail, css_inliner, environment

__all__ = ["CheckinLine", "HelpLine", "HelpView", "StatusView", "help_lines", "render_help",
           "render_status"]


@dataclass(frozen=True)
class CheckinLine:
    """One pair's check-ins this quarter, as ``drumbeat status --person`` lists them."""

    other: str  # the other side's name
    role: str  # theirs: "manager" or "report"
    held: int
    expected: int
    adherence: float | None  # 0..1
    last_met: date | None
    tracked_since: date | None = None  # periods before it are not expected


@dataclass(frozen=True)
class StatusView:
    """A person's page: their tasks (open first), goals and check-ins this quarter."""

    recipient_name: str
    subject: str  # of the message we answer
    person_name: str  # whose page: the recipient's own, or a report's
    own: bool
    tasks: tuple[TaskLine, ...]
    goals: tuple[GoalLine, ...]
    checkins: tuple[CheckinLine, ...]
    quarter_label: str  # "2026-Q4"
    today: date
    locale: str = DEFAULT  # the reader's language

    @property
    def open_tasks(self) -> tuple[TaskLine, ...]:
        return tuple(task for task in self.tasks if task.status in OPEN_STATUSES)

    @property
    def finished_tasks(self) -> tuple[TaskLine, ...]:
        return tuple(task for task in self.tasks if task.status not in OPEN_STATUSES)


@dataclass(frozen=True)
class HelpLine:
    line: str  # what to write, e.g. "T-42 60% drafted the intro"
    meaning: str


@dataclass(frozen=True)
class HelpView:
    """The reply grammar for one person; ``note`` says why it is sent unasked."""

    recipient_name: str
    subject: str
    lines: tuple[HelpLine, ...]
    note: str | None = None
    locale: str = DEFAULT  # the reader's language


FINISHED_SHOWN = 10  # done and dropped tasks on a page: the latest few are enough


def render_status(view: StatusView) -> RenderedEmail:
    return _render("status", view)


def render_help(view: HelpView) -> RenderedEmail:
    return _render("help", view)


def _render(name: str, view: StatusView | HelpView) -> RenderedEmail:
    env = environment(view.locale)
    context = {"view": view, "finished_shown": FINISHED_SHOWN}
    return RenderedEmail(
        subject=answer_subject(view.subject),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=css_inliner().inline(env.get_template(f"{name}.html.j2").render(context)),
    )


def help_lines(tasks: Sequence[TaskLine], today: date, *,
               report: str | None = None, language: str = DEFAULT) -> tuple[HelpLine, ...]:
    """Every kind of line the grammar reads, each once, with the person's own open tasks
    in the examples (in progress first), so an example can be copied and edited; the
    generic ``T-12`` only for someone with no open task. ``report`` (a report's @name)
    adds the manager's ``status @name``. The meanings and the examples' notes are in
    ``language``; the keywords stay the grammar's."""
    tr = translations(language)
    _ = tr.gettext
    done = tr.pgettext("reply command", "done")
    open_ = sorted((t for t in tasks if t.status in OPEN_STATUSES),
                   key=lambda t: OPEN_STATUSES.index(t.status))
    refs = [t.ref for t in open_] or ["T-12"]

    def ref(n: int) -> str:
        return refs[n % len(refs)]

    friday = today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    quarter_end = date(today.year + 1, 3, 31)
    yesterday = today - timedelta(days=1)
    away_from, away_to = friday + timedelta(days=3), friday + timedelta(days=7)
    lines = [
        HelpLine(f"{ref(0)} 60% " + _("drafted the intro"), _("progress, with an optional note")),
        HelpLine(f"{ref(1)} {done}", _("done (also ✓ or 100%)")),
        HelpLine(f"{ref(2)} blocked: " + _("waiting on legal"), _("blocked, and why")),
        HelpLine(f"{ref(0)} started", _("in progress")),
        HelpLine(f"{ref(1)} due {friday.isoformat()}", _("a new due date (also: due Friday)")),
        HelpLine(f"{ref(2)} note: " + _("called the vendor"), _("a note")),
        HelpLine(f"{ref(0)} done on {yesterday.isoformat()}", _("the day it was done")),
        HelpLine(f"{ref(1)} dropped: " + _("no longer needed"), _("dropped, and why")),
        HelpLine(f"{ref(2)} handed back", _("back to whoever gave it to you from 1:1 notes")),
        HelpLine("new: " + _("Call the vendor by Friday"),
                 _("a new task (P-3 for its project, @name for its owner)")),
        HelpLine(f"{ref(0)} owner @name",
                 _("hands it over (also P-3 and G-2; the new owner is told)")),
        HelpLine(f"{ref(1)} title: " + _("A clearer title"),
                 _("renames it (also P-3 and G-2)")),
        HelpLine(f"P-3 due {quarter_end.isoformat()}",
                 _("a project's new due date (G-2 for a goal's)")),
        HelpLine("G-2 due end of Q2", _("a goal's new due date (Q1-Q4 of the fiscal year)")),
        HelpLine("new project: " + _("Pricing page") + f" under G-2 @name by "
                 f"{quarter_end.isoformat()}", _("a new project under a goal")),
        HelpLine("G-2 = 3.1M", _("a measurable goal's latest figure (k, M, €, % as you like)")),
        HelpLine("met: yes 30min", _("the 1:1 was held (met: %(day)s 45min for another day)")
                 % {"day": yesterday.isoformat()}),
        HelpLine("met: no, " + _("moved to Thursday"), _("the 1:1 was not held, and why")),
        HelpLine("skip: " + _("vacation"), _("the 1:1 is excused this time")),
        HelpLine("topic: " + _("the hiring plan"),
                 _("a talking point on both agendas of your next 1:1, until it is held "
                   "(topic @name: for a report's)")),
        HelpLine("topic done: " + _("the hiring plan"),
                 _("takes a talking point off (its first words will do)")),
        HelpLine(f"away: {away_from:%d %b} - {away_to:%d %b}",
                 _("time away: your 1:1s in it are excused and the other side is told")),
        HelpLine("status", _("your tasks, goals and check-ins (on its own in a message)")),
    ]
    if report is not None:
        lines.append(HelpLine(f"status @{report}",
                              _("the same page for someone who reports to you")))
    lines.append(HelpLine("help", _("this list (on its own in a message)")))
    return tuple(lines)
