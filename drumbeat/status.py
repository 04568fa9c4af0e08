"""Rendering ``drumbeat status``: the cascade as a tree, or one person's page.

Only presentation lives here; the figures come from ``models.queries`` (and so
from ``models.scoring``), the same numbers every email will show. Names and titles
came from imports and email, so they go through ``drumbeat.display`` like a subject.
"""

from __future__ import annotations

from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from sqlalchemy.orm import Session

from drumbeat.display import clean_text, safe_text
from mail.write.agenda import measure_words
from models.people import Person
from models.plan import TaskStatus
from models.queries import (
    Measure,
    Node,
    cascade,
    checkin_pairs,
    checkin_record,
    goals_of,
    tasks_of,
)
from models.scoring import quarter_window

BAR_WIDTH = 20
TITLE_CHARS = 500  # a task title's longest
STATUS_STYLE = {
    TaskStatus.OPEN: "white", TaskStatus.IN_PROGRESS: "cyan", TaskStatus.BLOCKED: "bold red",
    TaskStatus.DONE: "green", TaskStatus.DROPPED: "dim",
}


def bar(progress: float | None, width: int = BAR_WIDTH) -> Text:
    """``███████░░░░░  60%``: readable without colour, coloured when the terminal allows."""
    if progress is None:
        return Text("░" * width + "   – ", style="dim")
    filled = round(progress / 100 * width)
    style = "green" if progress >= 70 else "yellow" if progress >= 30 else "red"
    text = Text("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {progress:3.0f}%")
    return text


def _label(node: Node, today: date) -> Text:
    text = Text()
    text.append(f"{node.ref:<6} ", style="bold")
    text.append_text(bar(node.progress))
    text.append(f"  {clean_text(node.title, TITLE_CHARS)}")
    text.append(f"  · {clean_text(node.owner)}", style="dim")
    if node.due:
        late = node.due < today and node.status != TaskStatus.DONE
        text.append(f" · due {node.due.isoformat()}", style="red" if late else "dim")
    if node.measure is not None:
        text.append(f" · {clean_text(_measured(node.measure, node.rolled))}", style="cyan")
    if node.tasks:
        text.append(f" · {node.done}/{node.tasks} tasks done", style="dim")
    if node.overdue:
        text.append(f" · {node.overdue} overdue", style="bold red")
    if node.blocked:
        text.append(f" · {node.blocked} blocked", style="red")
    return text


def _measured(measure: Measure, rolled: float | None) -> str:
    """``ARR €3.1M of €4M (from €2.1M), tasks 63%``: a measured goal and its roll-up."""
    tasks = "–" if rolled is None else f"{rolled:.0f}%"
    return (measure_words(measure.metric, measure.unit, measure.start, measure.target,
                          measure.value) + f", tasks {tasks}")


def render_cascade(session: Session, today: date) -> Tree | Text:
    """Every initiative, goal and project with its progress bar."""
    nodes = cascade(session, today)
    if not nodes:
        return Text("No plan yet: import one with `drumbeat import plan FILE.yaml`.")
    root = Tree(Text("Strategy cascade", style="bold"), guide_style="dim")
    for initiative in nodes:
        branch = root.add(_label(initiative, today))
        for goal in initiative.children:
            goal_branch = branch.add(_label(goal, today))
            for project in goal.children:
                goal_branch.add(_label(project, today))
    return root


def render_person(session: Session, person: Person, today: date,
                  fiscal_year_start_month: int = 1) -> Group:
    """One person's tasks, goals and their check-in record this quarter (the page the
    ``status`` reply mails, from the same queries), each pair's counted from the day
    Drumbeat started tracking it ("tracked since")."""
    window = quarter_window(today, fiscal_year_start_month)
    parts: list[Text | Table] = [_person_header(person)]
    parts.append(_tasks_table(session, person, today))
    parts.append(_goals_table(session, person, today))
    parts.append(_checkins_table(session, person, today, window))
    return Group(*parts)


def _person_header(person: Person) -> Text:
    text = Text(clean_text(f"{person.name} <{person.email}>"), style="bold")
    manager = person.manager
    text.append("\n" + (clean_text(f"reports to {manager.name} <{manager.email}>")
                         if manager else "reports to nobody"), style="dim")
    text.append(
        f"\ncheck-ins {person.cadence}, {person.weekday_name} {person.checkin_time:%H:%M} "
        f"({person.timezone})", style="dim")
    if person.is_hr:
        text.append("\nHR", style="magenta")
    return text


def _tasks_table(session: Session, person: Person, today: date) -> Table:
    table = Table(title="Tasks", title_justify="left", expand=False)
    for column in ("ref", "task", "project", "due", "status", "progress"):
        table.add_column(column, no_wrap=column in ("ref", "due"))
    tasks = tasks_of(session, person)
    for task in tasks:
        open_ = task.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
        overdue = bool(open_ and task.due and task.due < today)
        due = Text(task.due.isoformat() if task.due else "–", style="bold red" if overdue else "")
        if overdue:
            due.append(" overdue")
        table.add_row(task.ref, safe_text(task.title, TITLE_CHARS), Text(task.project.ref), due,
                      Text(task.status.replace("_", " "),
                           style=STATUS_STYLE[TaskStatus(task.status)]),
                      bar(float(task.progress), 10))
    if not tasks:
        table.add_row("", "no tasks", "", "", "", "")
    return table


def _goals_table(session: Session, person: Person, today: date) -> Table:
    """The goals the person owns or has open tasks under."""
    table = Table(title="Goals", title_justify="left", expand=False)
    for column in ("ref", "goal", "progress", "measured"):
        table.add_column(column, no_wrap=column == "ref")
    goals = goals_of(session, person, today)
    for goal, figure in goals:
        measured = (safe_text(_measured(figure.measure, figure.rolled))
                    if figure.measure is not None else "")
        table.add_row(goal.ref, safe_text(goal.title, TITLE_CHARS), bar(figure.progress, 10),
                      measured)
    if not goals:
        table.add_row("", "no goals", "", "")
    return table


def _checkins_table(session: Session, person: Person, today: date,
                    window: tuple[date, date, str]) -> Table:
    start, end, label = window
    table = Table(title=f"Check-ins {label} ({start} – {end}, so far)", title_justify="left")
    for column in ("with", "role", "tracked since", "held / expected", "adherence", "disputed",
                   "excused", "longest gap", "last met"):
        table.add_column(column)
    pairs = checkin_pairs(session, person)
    for manager, employee, role in pairs:
        record = checkin_record(session, manager, employee, window, today)
        score = record.score
        other = manager if role == "manager" else employee
        rate = "–" if score.rate is None else f"{score.rate * 100:.1f}%"  # as digests show it
        gap = "–" if score.longest_gap_days is None else f"{score.longest_gap_days} days"
        since = record.tracked_since
        table.add_row(safe_text(other.name), role, since.isoformat() if since else "–",
                      f"{score.held} / {score.expected}", rate,
                      str(record.disputed), str(score.excused), gap,
                      score.last_held.isoformat() if score.last_held else "never")
    if not pairs:
        table.add_row("nobody", "", "", "", "", "", "", "", "")
    return table
