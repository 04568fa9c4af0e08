"""A measurable goal moving by email, as people read it: in agendas, the status page (by
email and ``drumbeat status``) and the digests, on SQLite and PostgreSQL.

The example company's goal "Revenue to €4M" is given a metric (ARR from €2.1M to €4M);
its owner sends figures through the real intake on two days of the quarter. Its progress
is then the measured share of the way, with its tasks' roll-up shown beside it; a goal
without a metric keeps the roll-up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.console import Console
from sqlalchemy import select

from drumbeat.status import render_cascade, render_person
from mail.write.render import render_agenda
from models import Person
from models.plan import Goal
from models.queries import goal_figures
from tests.test_meeting_record import write
from tests.test_plan_by_email import goal_ref
from tests.test_project_rights import Company, company, send
from workers.agendas import agenda_view
from workers.evaluations import compute_figures, window_named

__all__ = ["company"]

NOVEMBER = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)
UPDATES = "updates@acme.example"


def measurable(company: Company) -> str:
    """The goal given ARR from €2.1M (where it stands at the start) to €4M; its ref."""
    with company.rt.sessions() as session, session.begin():
        goal = session.scalar(select(Goal).where(Goal.title == "Revenue to €4M"))
        assert goal is not None
        goal.metric, goal.metric_unit = "ARR", "€"
        goal.metric_start, goal.metric_target, goal.metric_value = 2.1e6, 4e6, 2.1e6
    return goal_ref(company)


def figure_at(company: Company, who: str, body: str, at: datetime) -> str:
    company.rt.clock.now = at  # type: ignore[attr-defined]
    return write(company.rt, who, UPDATES, body, at)


def moved(company: Company) -> str:
    """The owner's two figures, in November and December; the goal's ref."""
    ref = measurable(company)
    assert "ARR €2.1M → €2.5M, 21.1% of the way" in figure_at(company, "mika", f"{ref} 2.5M",
                                                               NOVEMBER)
    assert "ARR €2.5M → €3.1M, 52.6% of the way" in figure_at(company, "mika",
                                                               f"{ref} = 3.1M", DECEMBER)
    return ref


def rolled_up(company: Company, ref: str) -> float | None:
    with company.rt.sessions() as session:
        return goal_figures(session, {int(ref[2:])}, TODAY)[int(ref[2:])].rolled


def test_the_agenda_shows_the_measured_progress_and_the_tasks_beside_it(
        company: Company) -> None:
    ref = moved(company)
    rolled = rolled_up(company, ref)
    assert rolled is not None and round(rolled) == 13  # Ann's 40%, two open tasks: 13.3%
    with company.rt.sessions() as session:
        mika = session.get(Person, company.people["mika"])
        ann = session.get(Person, company.people["ann"])
        assert mika is not None and ann is not None
        view = agenda_view(session, mika, ann, "employee",
                           datetime(2026, 12, 7, 0, 0, tzinfo=UTC), TODAY)
    [line] = [goal for goal in view.goals if goal.ref == ref]
    assert line.progress == 52.6 and line.rolled == rolled
    text = render_agenda(view).text
    assert f"[{ref}] Revenue to €4M\n    █████░░░░░ 53%\n" in text
    assert "    ARR €3.1M of €4M (from €2.1M) · tasks 13%\n" in text
    assert "ARR €3.1M of €4M (from €2.1M) · tasks 13%" in render_agenda(view).html


def test_the_status_page_by_email_and_on_the_command_line(company: Company) -> None:
    ref = moved(company)
    page = send(company, "mika", "status")
    assert (f"[{ref}] Revenue to €4M: █████░░░░░ 53% · ARR €3.1M of €4M (from €2.1M) · "
            "tasks 13%") in page
    console = Console(record=True, width=200)
    with company.rt.sessions() as session:
        mika = session.get(Person, company.people["mika"])
        assert mika is not None
        console.print(render_person(session, mika, TODAY))
        console.print(render_cascade(session, TODAY))
    shown = console.export_text()
    assert "ARR €3.1M of €4M (from €2.1M), tasks 13%" in shown
    assert shown.count(" 53%") >= 2  # the goal's bar on the page and in the cascade


def test_the_digest_judges_the_figure_each_edge_of_the_window_had(company: Company) -> None:
    ref = moved(company)

    def progress(as_of: date) -> tuple[float | None, float | None]:
        with company.rt.sessions() as session:
            window = window_named("2026-Q4", 1, as_of)
            figures = compute_figures(session, window, DECEMBER)
        mika = next(p for p in figures.people if p.person_id == company.people["mika"])
        [line] = [goal for goal in mika.goals if goal.ref == ref]
        return line.progress_start, line.progress_end

    assert progress(date(2027, 1, 4)) == (0.0, 52.6)  # €2.1M on 1 Oct, €3.1M at the end
    assert progress(date(2026, 11, 15)) == (0.0, 21.1)  # judged mid-November: €2.5M


def test_a_goal_without_a_metric_keeps_its_tasks_roll_up(company: Company) -> None:
    ref = goal_ref(company)
    with company.rt.sessions() as session:
        figure = goal_figures(session, {int(ref[2:])}, TODAY)[int(ref[2:])]
    assert figure.measure is None and figure.progress == figure.rolled
    assert figure.rolled is not None and round(figure.rolled) == 13
    page = send(company, "mika", "status")
    assert f"[{ref}] Revenue to €4M: █░░░░░░░░░ 13% CHECK-INS" in page  # no measure shown


def test_a_measurable_goal_without_a_figure_yet_is_not_measured_yet(company: Company) -> None:
    ref = measurable(company)
    with company.rt.sessions() as session, session.begin():
        goal = session.get(Goal, int(ref[2:]))
        assert goal is not None
        goal.metric_value = None
    page = send(company, "mika", "status")
    assert (f"[{ref}] Revenue to €4M: not measured yet · ARR not measured yet (from €2.1M to "
            "€4M) · tasks 13%") in page
