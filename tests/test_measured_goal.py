"""A measurable goal moving by email, as people read it: in agendas, the status page (by
email and ``drumbeat status``) and the digests, on SQLite and PostgreSQL.

The example company's goal "Revenue to €4M" is given a metric (ARR from €2.1M to €4M);
its owner sends figures through the real intake on two days of the quarter. Its progress
is then the measured share of the way, with its tasks' roll-up shown beside it (in the
digests too: text, HTML and the CSV's last column); a goal without a metric keeps the
roll-up.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from rich.console import Console
from sqlalchemy import select, update

from drumbeat.status import render_cascade, render_person
from mail.write.digest import DigestView, GoalLine
from mail.write.digest_render import RenderedDigest, render_digest
from mail.write.render import render_agenda
from models import Evaluation, Person
from models.plan import Goal, Task
from models.queries import goal_figures
from tests.test_agenda_render import visible
from tests.test_digest_render import person
from tests.test_meeting_record import write
from tests.test_plan_by_email import goal_ref
from tests.test_project_rights import Company, company, send
from workers import digests
from workers.agendas import agenda_view
from workers.evaluations import compute_figures, window_named

__all__ = ["company"]

NOVEMBER = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)
UPDATES = "updates@acme.example"
TASKS_MADE = datetime(2026, 10, 15, tzinfo=UTC)  # in the quarter: none at its start


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

    def progress(as_of: date) -> tuple[float | None, float | None, float | None]:
        with company.rt.sessions() as session:
            window = window_named("2026-Q4", 1, as_of)
            figures = compute_figures(session, window, DECEMBER)
        mika = next(p for p in figures.people if p.person_id == company.people["mika"])
        [line] = [goal for goal in mika.goals if goal.ref == ref]
        return line.progress_start, line.progress_end, line.value_end

    # €2.1M on 1 Oct, €3.1M at the end; judged mid-November: €2.5M
    assert progress(date(2027, 1, 4)) == (0.0, 52.6, 3.1e6)
    assert progress(date(2026, 11, 15)) == (0.0, 21.1, 2.5e6)


def quarter_digests(company: Company) -> tuple[str, dict[str, RenderedDigest]]:
    """The quarter's HR digest, Cleo's (Mika's manager's) and Mika's own, rendered from
    the snapshot as stored (Evaluation rows read back), after Mika's two figures."""
    ref = moved(company)
    window = window_named("2026-Q4", 1, date(2027, 1, 4))
    with company.rt.sessions() as session, session.begin():
        session.execute(update(Task).values(created_at=TASKS_MADE))
        digests.take_snapshot(session, compute_figures(session, window, DECEMBER), DECEMBER)
    with company.rt.sessions() as session:
        snapshot = digests.load_snapshot(session, window)
        managers = digests.managers_map(session)
        views = {"hr": digests.hr_view(snapshot, "Hana", managers, ()),
                 "cleo": digests.manager_view(snapshot, company.people["cleo"], managers),
                 "mika": digests.employee_view(snapshot, company.people["mika"])}
    return ref, {who: render_digest(view, show_charts=False) for who, view in views.items()}


def under(text: str, row_start: str) -> str:
    """The line under the plain-text table row that starts with ``row_start``."""
    lines = text.split("\n")
    [row] = [i for i, line in enumerate(lines) if line.startswith(row_start)]
    return lines[row + 1]


def test_the_digests_show_the_measure_and_the_tasks_beside_the_measured_progress(
        company: Company) -> None:
    ref, rendered = quarter_digests(company)
    rolled = rolled_up(company, ref)
    assert rolled == 13.3  # the tasks' roll-up, as status shows it beside the measure
    beside = "ARR €3.1M of €4M (from €2.1M) · tasks 0% → 13.3%"  # no task on 1 Oct
    mika = rendered["mika"]
    assert f"{ref}     Revenue to €4M            owner      0%→52.6%" in mika.text
    assert under(mika.text, f"{ref}     Revenue to €4M") == f"        {beside}"
    # HTML: the measure under the title, the tasks under the measured share (cells joined)
    cells = "ARR €3.1M of €4M (from €2.1M){}\ntasks 0% → 13.3%"
    assert f"\n{cells.format('0% → 52.6%')}––\n" in "\n".join(visible(mika.html))
    for who in ("hr", "cleo"):  # the measurable goals, each once under its owner
        text = rendered[who].text
        section = text[text.index("MEASURABLE GOALS"):]
        section = section[:section.index("\n\n", section.index("------"))]
        assert f"{ref}     Revenue to €4M            Mika Sato            0%→52.6%" in section
        assert under(section, ref) == f"        {beside}"
        assert "Enter a new market" not in section  # Cleo's goal has no metric
        html = "\n".join(visible(rendered[who].html))
        assert f"\nMeasurable goals\nGoalOwnerStart → end\n[{ref}] Revenue to €4M\n" \
            f"{cells.format('Mika Sato0% → 52.6%')}\n" in html


def test_the_csv_gives_the_goal_progress_with_the_tasks_rolled_up_last(
        company: Company) -> None:
    ref, rendered = quarter_digests(company)
    header, *rows = list(csv.reader(io.StringIO(rendered["hr"].csv.decode("utf-8-sig"))))
    assert header[-1] == "Goal tasks rolled up at end (%)"
    by_email = {row[header.index("Email")]: dict(zip(header, row, strict=True))
                for row in rows}
    progress, tasks = "Goal progress at end (%)", "Goal tasks rolled up at end (%)"
    mika = by_email["mika@acme.example"]
    assert (mika[progress], mika[tasks]) == ("52.6", f"{rolled_up(company, ref):.1f}")
    zed = by_email["zed@acme.example"]  # works under Cleo's goal, which has no metric
    assert zed[tasks] == zed[progress] != ""
    olga = by_email["olga@acme.example"]  # no goals: nothing to judge
    assert olga[tasks] == olga[progress] == ""
    with company.rt.sessions() as session:  # a goal without a metric stored as before
        stored = session.scalar(select(Evaluation.figures).where(
            Evaluation.person_id == company.people["zed"]))
    assert stored is not None and [len(line) for line in stored["goals"]] == [8]


def test_a_digest_says_when_a_measurable_goal_had_no_figure_yet() -> None:
    line = GoalLine("G-4", "Churn under 2%", "Zoë", True, None, None, None, False,
                    metric="Churn", unit="%", metric_start=3.5, metric_target=2.0,
                    rolled_start=10.0, rolled_end=40.0)
    me = person(4, "Zoë", goals=(line,), goals_owned=1, goal_progress_start=None,
                goal_progress_end=None)
    view = DigestView("employee", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31),
                      date(2026, 12, 31), "Zoë", (me,))
    text = render_digest(view, show_charts=False).text
    assert under(text, "G-4") == ("        Churn not measured yet (from 3.5% to 2%) · tasks "
                                  "10% → 40%")


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
