"""A measurable goal in the plan file (YAML and CSV), and migration 0010, on SQLite and
PostgreSQL: ``metric``, ``start``, ``target``, ``unit`` and ``value`` are stored on the
goal, refusals name the field and the fix, and a figure sent by email survives a
re-import of a file that does not give one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from models.importing.plan_file import METRIC_FIELDS, GoalMetric
from models.migrate import downgrade, upgrade
from models.plan import Goal
from tests.conftest import Database
from tests.test_import_plan import company, import_plan, problems, refused, write

__all__ = ["company"]

M = "@northwind.example"
PLAN = f"""initiatives:
  - title: Win the mid-market
    owner: helena.lindqvist{M}
    goals:
      - title: Grow mid-market ARR
        owner: marcus.bell{M}
        metric: ARR
        start: 2.1M
        target: €4M
{{extra}}        projects:
          - title: Pricing
            owner: grace.kim{M}
            tasks:
              - title: Draft the memo
                owner: marcus.bell{M}
"""


def the_goal(db: Database) -> Goal:
    with db.session() as session:
        goal = session.scalar(select(Goal).where(Goal.title == "Grow mid-market ARR"))
        assert goal is not None
        return goal


def test_a_goal_metric_is_stored(company: Database, tmp_path: Path) -> None:
    import_plan(company, write(tmp_path, PLAN.format(extra="        value: 2.6M\n")))
    goal = the_goal(company)
    assert (goal.metric, goal.metric_unit, goal.metric_start, goal.metric_target,
            goal.metric_value) == ("ARR", "€", 2.1e6, 4e6, 2.6e6)


def test_a_figure_sent_by_email_survives_a_re_import_without_one(
        company: Database, tmp_path: Path) -> None:
    path = write(tmp_path, PLAN.format(extra=""))
    import_plan(company, path)
    assert the_goal(company).metric_value is None
    with company.session() as session, session.begin():
        session.execute(text("UPDATE goal SET metric_value = 3100000"))
    import_plan(company, path)
    assert the_goal(company).metric_value == 3.1e6
    import_plan(company, write(tmp_path, PLAN.format(extra="        value: 3.3M\n")))
    assert the_goal(company).metric_value == 3.3e6


@pytest.mark.parametrize(("extra", "expected"), [
    ("        target: 2.1M\n", None),  # replaced below: the same key twice is YAML's
    ("        unit: $\n", "unit: the figures name $ and €. Give one unit"),
    ("        value: lots\n", "value: 'lots' is not a figure. Write a number"),
    ("        unit: " + "x" * 17 + "\n", "unit: is longer than 16 characters"),
])
def test_a_wrong_metric_is_refused_with_its_fix(company: Database, tmp_path: Path,
                                                extra: str, expected: str | None) -> None:
    if expected is None:
        plan = PLAN.format(extra="").replace("target: €4M", "target: 2.1M")
        expected = "target: equals the start. The target is where the goal ends"
    else:
        plan = PLAN.format(extra=extra)
    [problem] = problems(refused(company, write(tmp_path, plan)))
    assert "goal 'Grow mid-market ARR' " + expected in problem


def test_figures_without_a_metric_are_refused(company: Database, tmp_path: Path) -> None:
    plan = PLAN.format(extra="").replace("        metric: ARR\n", "")
    [problem] = problems(refused(company, write(tmp_path, plan)))
    assert "goal 'Grow mid-market ARR' metric: is missing. A goal with start, target, unit or " \
           "value needs a metric" in problem
    plan = PLAN.format(extra="").replace("        start: 2.1M\n", "")
    [problem] = problems(refused(company, write(tmp_path, plan)))
    assert "goal 'Grow mid-market ARR' start: is missing" in problem


def test_the_csv_plan_gives_goal_metrics_in_goal_columns(company: Database,
                                                         tmp_path: Path) -> None:
    header = ("initiative,initiative_owner,goal,goal_owner,goal_metric,goal_start,"
              "goal_target,goal_unit,project,project_owner,task,owner\n")
    row = (f"Win,helena.lindqvist{M},Grow mid-market ARR,marcus.bell{M},ARR,2.1M,4M,€,"
           f"Pricing,grace.kim{M},Draft the memo,marcus.bell{M}\n")
    import_plan(company, write(tmp_path, header + row, name="plan.csv"))
    goal = the_goal(company)
    assert (goal.metric, goal.metric_unit, goal.metric_start, goal.metric_target) == (
        "ARR", "€", 2.1e6, 4e6)


def test_the_metric_fields_are_one_typed_list() -> None:
    assert METRIC_FIELDS == ("metric", "start", "target", "unit", "value")
    assert set(GoalMetric.COLUMNS) == set(METRIC_FIELDS)
    assert all(column in Goal.__table__.columns for column in GoalMetric.COLUMNS.values())


def test_migration_0010_keeps_goals_and_adds_an_empty_metric(db: Database) -> None:
    downgrade(db.engine, "0009")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO person (email, name, is_hr, timezone, cadence, checkin_weekday, "
            "checkin_time, created_at, updated_at) VALUES ('a@x.example', 'A', FALSE, 'UTC', "
            "'weekly', 0, '10:00:00', '2026-12-01 00:00:00', '2026-12-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO initiative (title, status, progress, weight, owner_id, created_at, "
            "updated_at) VALUES ('I', 'open', 0, 1, 1, '2026-12-01', '2026-12-01')"))
        connection.execute(text(
            "INSERT INTO goal (title, status, progress, weight, owner_id, initiative_id, "
            "created_at, updated_at) VALUES ('G', 'open', 40, 1, 1, 1, '2026-12-01', "
            "'2026-12-01')"))
    upgrade(db.engine)
    with db.engine.begin() as connection:
        row = connection.execute(text(
            "SELECT title, progress, metric, metric_start, metric_value FROM goal")).one()
        assert tuple(row) == ("G", 40, None, None, None)
        connection.execute(text(
            "INSERT INTO plan_change (level, item_id, field, old_value, new_value, author_id, "
            "created_at) VALUES ('goal', 1, 'value', NULL, '3', 1, '2026-12-02 00:00:00')"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE plan_change SET new_value = '4'"))
    with pytest.raises(Exception, match="metric_complete"), db.engine.begin() as connection:
        connection.execute(text("UPDATE goal SET metric = 'ARR'"))  # no start or target
