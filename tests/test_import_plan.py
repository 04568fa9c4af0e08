"""Importing the plan (YAML, or the flat CSV form), on SQLite and PostgreSQL.

The example company's people are imported first (plans name owners by email).
Refusals are checked by the exact text the person importing reads: the file,
the YAML line (or CSV row), the path of titles down to the item, the field,
and how to fix it. The regression tests at the end reproduce bugs found while
writing these tests.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from models import Base
from models.db import unit_of_work
from models.importing import load_plan as load_plan_module
from models.importing.load_people import load_people
from models.importing.load_plan import PlanSummary, load_plan
from models.importing.people_file import read_people
from models.importing.plan_file import read_plan
from models.importing.problems import ImportFailed, ProblemLog
from models.plan import Goal, Initiative, Project, Task, TaskHistory
from tests.conftest import EXAMPLES, Database

PLAN_YAML = EXAMPLES / "plan.yaml"
DOMAIN = "@northwind.example"
LEVELS: dict[str, type[Base]] = {
    "initiative": Initiative, "goal": Goal, "project": Project, "task": Task}
EXAMPLE_COUNTS = {"initiative": 3, "goal": 9, "project": 23, "task": 113}
NOTHING = dict.fromkeys(LEVELS, 0)


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def company(db: Database) -> Database:
    """The database with the example company's 30 people in it."""
    with unit_of_work(db.sessions) as session:
        load_people(session, read_people(EXAMPLES / "people.csv"))
    return db


def write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_plan(db: Database, path: Path) -> PlanSummary:
    """What ``drumbeat import plan FILE`` does: read, check and load in one transaction."""
    log = ProblemLog(path.name)
    with unit_of_work(db.sessions) as session:
        return load_plan(session, read_plan(path, log), log)


def refused(db: Database, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        import_plan(db, path)
    return caught.value


def problems(failure: ImportFailed) -> list[str]:
    return [str(problem) for problem in failure.problems]


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in LEVELS.items()}


def snapshot(db: Database, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in primary-key order, without the ``skip`` columns."""
    with db.engine.connect() as conn:
        result = {}
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in skip]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            result[table.name] = [tuple(row) for row in rows]
        return result


def tasks(db: Database) -> dict[str, Task]:
    """Tasks by title (the example's task titles are unique), owner loaded."""
    with db.session() as session:
        rows = session.scalars(select(Task).options(selectinload(Task.owner))).all()
        return {task.title: task for task in rows}


def ids(db: Database) -> dict[str, dict[str, int]]:
    """Every imported item's id by its import key, per level: what T-/P-/G- refs show."""
    with db.session() as session:
        return {name: {key: id_ for key, id_ in session.execute(
                    select(model.import_key, model.id))}
                for name, model in LEVELS.items()}


MODEL_DUE = ("Model revenue impact of the three-tier packaging\n"
             "                owner: hannah.schmidt@northwind.example\n"
             "                due: 2026-11-20")


def example_text() -> str:
    return PLAN_YAML.read_text(encoding="utf-8")


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --- the example plan -------------------------------------------------------------------


def expected_items(text: str | None = None) -> dict[tuple[str, ...], dict[str, Any]]:
    """What plan.yaml says, read independently with plain PyYAML: path of titles → values."""
    document = yaml.safe_load(example_text() if text is None else text)
    expected: dict[tuple[str, ...], dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]], path: tuple[str, ...], children: list[str]) -> None:
        for item in items:
            status = item.get("status")
            progress = item.get("progress")
            if status is None:
                status = "done" if progress == 100 else "in_progress" if progress else "open"
            here = (*path, item["title"])
            expected[here] = {
                "owner": item["owner"].lower(), "due": item.get("due"),
                "weight": float(item.get("weight", 1)), "status": status,
                "progress": 100 if status == "done" else progress or 0,
            }
            if children:
                walk(item.get(children[0]) or [], here, children[1:])

    walk(document["initiatives"], (), ["goals", "projects", "tasks"])
    return expected


def stored_items(db: Database) -> dict[tuple[str, ...], dict[str, Any]]:
    """The same picture, read back from the database through the relationships."""
    with db.session() as session:
        initiatives = session.scalars(select(Initiative).options(
            selectinload(Initiative.owner),
            selectinload(Initiative.goals).selectinload(Goal.owner),
            selectinload(Initiative.goals).selectinload(Goal.projects).selectinload(Project.owner),
            selectinload(Initiative.goals).selectinload(Goal.projects)
            .selectinload(Project.tasks).selectinload(Task.owner),
        )).all()
        stored: dict[tuple[str, ...], dict[str, Any]] = {}

        def keep(path: tuple[str, ...], item: Any) -> None:
            stored[path] = {"owner": item.owner.email, "due": item.due, "weight": item.weight,
                            "status": item.status, "progress": item.progress}

        for initiative in initiatives:
            keep((initiative.title,), initiative)
            for goal in initiative.goals:
                keep((initiative.title, goal.title), goal)
                for project in goal.projects:
                    keep((initiative.title, goal.title, project.title), project)
                    for task in project.tasks:
                        keep((initiative.title, goal.title, project.title, task.title), task)
        return stored


def test_example_plan_imports_the_whole_cascade(company: Database) -> None:
    summary = import_plan(company, PLAN_YAML)

    assert summary.created == EXAMPLE_COUNTS
    assert summary.matched == NOTHING
    assert summary.records == 148
    assert counts(company) == EXAMPLE_COUNTS
    assert stored_items(company) == expected_items()


def test_plan_written_in_many_small_chunks_is_the_same(
    company: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Big plans are upserted in chunks; a chunk boundary must not lose a parent's id.
    monkeypatch.setattr(load_plan_module, "CHUNK_SIZE", 7)

    summary = import_plan(company, PLAN_YAML)

    assert summary.created == EXAMPLE_COUNTS
    assert stored_items(company) == expected_items()
    assert import_plan(company, PLAN_YAML).matched == EXAMPLE_COUNTS


def test_example_plan_values(company: Database) -> None:
    import_plan(company, PLAN_YAML)
    by_title = tasks(company)

    model = by_title["Model revenue impact of the three-tier packaging"]
    assert (model.owner.email, model.due) == ("hannah.schmidt" + DOMAIN, date(2026, 11, 20))
    assert (model.status, model.progress, model.weight) == ("in_progress", 70, 1.0)
    hire = by_title["Close the second AE hire"]
    assert (hire.status, hire.progress, hire.weight) == ("in_progress", 30, 2.0)
    blocked = by_title["Write the objection-handling guide for security reviews"]
    assert (blocked.status, blocked.progress) == ("blocked", 40)
    assert by_title["Server-side render the dashboard shell"].status == "dropped"
    assert by_title["Write the AE job description & scorecard"].owner.email == (
        "amara.mensah" + DOMAIN)
    statuses: dict[str, int] = {}
    for task in by_title.values():
        statuses[task.status] = statuses.get(task.status, 0) + 1
    assert statuses == {"open": 49, "in_progress": 23, "blocked": 3, "done": 37, "dropped": 1}

    with company.session() as session:
        initiative = session.scalar(select(Initiative).where(
            Initiative.title == "Win the mid-market"))
        assert initiative is not None
        assert initiative.due == date(2027, 6, 30)
        assert initiative.description is not None
        assert initiative.description.startswith("Move from selling mostly to 10-50 person")
        goal = session.scalar(select(Goal).where(Goal.title.startswith("Grow mid-market ARR")))
        assert goal is not None
        assert (goal.initiative_id, goal.weight, goal.title) == (
            initiative.id, 2.0, "Grow mid-market ARR from €2.1M to €4M")


def test_done_tasks_get_a_completed_at_and_others_do_not(company: Database) -> None:
    import_plan(company, PLAN_YAML)

    by_title = tasks(company)
    done = [t for t in by_title.values() if t.status == "done"]
    assert len(done) == 37
    assert all(t.completed_at is not None and t.progress == 100 for t in done)
    assert all(t.completed_at is None for t in by_title.values() if t.status != "done")


def test_reimport_creates_nothing_and_keeps_every_id(company: Database) -> None:
    import_plan(company, PLAN_YAML)
    before_ids = ids(company)
    refs = {title: task.ref for title, task in tasks(company).items()}
    before = snapshot(company, skip=("updated_at",))

    summary = import_plan(company, PLAN_YAML)

    assert summary.created == NOTHING
    assert summary.matched == EXAMPLE_COUNTS
    assert counts(company) == EXAMPLE_COUNTS
    assert ids(company) == before_ids
    assert {title: task.ref for title, task in tasks(company).items()} == refs
    # Everything else identical too, including the first completed_at of done tasks.
    assert snapshot(company, skip=("updated_at",)) == before


def test_editing_a_due_date_updates_the_same_task(company: Database, tmp_path: Path) -> None:
    import_plan(company, PLAN_YAML)
    task = tasks(company)["Model revenue impact of the three-tier packaging"]
    edited = edit(example_text(), MODEL_DUE, MODEL_DUE.replace("2026-11-20", "2026-12-18"))

    summary = import_plan(company, write(tmp_path, edited))

    assert summary.created == NOTHING
    again = tasks(company)["Model revenue impact of the three-tier packaging"]
    assert (again.id, again.due) == (task.id, date(2026, 12, 18))
    assert (again.status, again.progress) == ("in_progress", 70)


def test_title_matching_ignores_case_and_spacing(company: Database, tmp_path: Path) -> None:
    import_plan(company, PLAN_YAML)
    task = tasks(company)["Draft the pricing memo"]
    edited = edit(example_text(), "- title: Draft the pricing memo",
                  "- title: '  draft  THE pricing memo'")

    summary = import_plan(company, write(tmp_path, edited))

    assert summary.created == NOTHING
    renamed = tasks(company)["draft  THE pricing memo"]
    assert renamed.id == task.id  # same task; the stored title follows the file


def test_renaming_a_task_in_the_file_creates_a_new_task_and_keeps_the_old_one(
    company: Database, tmp_path: Path
) -> None:
    # An item's identity is its path of titles: a new title is a new task. The old one
    # stays (with its history); nothing is deleted by an import.
    import_plan(company, PLAN_YAML)
    old = tasks(company)["Approve the final price book"]
    edited = edit(example_text(), "- title: Approve the final price book",
                  "- title: Approve the 2027 price book")

    summary = import_plan(company, write(tmp_path, edited))

    assert summary.created == {**NOTHING, "task": 1}
    by_title = tasks(company)
    assert by_title["Approve the final price book"].id == old.id
    new = by_title["Approve the 2027 price book"]
    assert new.id != old.id
    assert (new.project_id, new.owner_id, new.due) == (old.project_id, old.owner_id, old.due)
    assert counts(company)["task"] == 114


def set_by_email(db: Database, title: str, **values: Any) -> None:
    """A later change, as an emailed update would make it."""
    with unit_of_work(db.sessions) as session:
        task = session.scalar(select(Task).where(Task.title == title))
        assert task is not None
        for name, value in values.items():
            setattr(task, name, value)


def test_status_changed_later_survives_a_reimport_that_gives_no_status(
    company: Database,
) -> None:
    import_plan(company, PLAN_YAML)
    # Neither task has a status or progress in plan.yaml.
    set_by_email(company, "Approve the final price book", status="blocked", progress=20)
    finished_at = tasks(company)["Draft the pricing memo"].completed_at
    set_by_email(company, "Brief Sales and CS on the new packaging", status="done",
                 progress=100, completed_at=finished_at)

    import_plan(company, PLAN_YAML)

    by_title = tasks(company)
    price_book = by_title["Approve the final price book"]
    assert (price_book.status, price_book.progress) == ("blocked", 20)
    brief = by_title["Brief Sales and CS on the new packaging"]
    assert (brief.status, brief.progress, brief.completed_at) == ("done", 100, finished_at)


def test_status_changed_later_is_overwritten_when_the_file_gives_one(
    company: Database,
) -> None:
    import_plan(company, PLAN_YAML)
    # plan.yaml: "status: open" (no progress) and "status: in_progress, progress: 70".
    set_by_email(company, "Update the pricing page and order forms", status="blocked",
                 progress=30)
    set_by_email(company, "Model revenue impact of the three-tier packaging", status="done",
                 progress=100, completed_at=tasks(company)["Draft the pricing memo"].completed_at)

    import_plan(company, PLAN_YAML)

    by_title = tasks(company)
    page = by_title["Update the pricing page and order forms"]
    assert (page.status, page.progress) == ("open", 30)  # a status alone keeps the progress
    model = by_title["Model revenue impact of the three-tier packaging"]
    assert (model.status, model.progress, model.completed_at) == ("in_progress", 70, None)


def write_flat_csv(document: dict[str, Any], path: Path) -> Path:
    """The plan as one row per task, the way a spreadsheet export would carry it."""
    parents = ("initiative", "goal", "project")
    header = [f"{level}{suffix}" for level in parents
              for suffix in ("", "_owner", "_due", "_weight", "_description")]
    header += ["task", "owner", "due", "weight", "status", "progress", "description"]
    metric = ("metric", "start", "target", "unit", "value")  # a measurable goal's
    header += [f"goal_{name}" for name in metric]

    def values(item: dict[str, Any]) -> list[Any]:
        return [item.get(k, "") for k in ("owner", "due", "weight", "description")]

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        seen: set[tuple[str, ...]] = set()
        for initiative in document["initiatives"]:
            for goal in initiative["goals"]:
                for project in goal["projects"]:
                    for task in project["tasks"]:
                        row: list[Any] = []
                        chain = (initiative, goal, project)
                        new_goal = (initiative["title"], goal["title"]) not in seen
                        for depth, item in enumerate(chain):
                            key = tuple(i["title"] for i in chain[:depth + 1])
                            # Parent values only the first time the parent appears.
                            row += [item["title"], *(values(item) if key not in seen
                                                     else ["", "", "", ""])]
                            seen.add(key)
                        row += [task["title"], task["owner"], task.get("due", ""),
                                task.get("weight", ""), task.get("status", ""),
                                task.get("progress", ""), task.get("description", "")]
                        row += [goal.get(name, "") if new_goal else "" for name in metric]
                        writer.writerow(row)
    return path


def test_flat_csv_plan_imports_the_same_structure(company: Database, tmp_path: Path) -> None:
    text = example_text()
    yaml_path = write(tmp_path, text)
    csv_path = write_flat_csv(yaml.safe_load(text), tmp_path / "plan.csv")

    summary = import_plan(company, csv_path)

    assert summary.created == EXAMPLE_COUNTS
    assert stored_items(company) == expected_items(text)
    from_csv = snapshot(company, skip=("updated_at",))
    # The YAML finds every item the CSV made: same keys, same rows.
    summary = import_plan(company, yaml_path)
    assert (summary.created, summary.matched) == (NOTHING, EXAMPLE_COUNTS)
    assert snapshot(company, skip=("updated_at",)) == from_csv


def test_flat_csv_plan_with_quotes_in_a_title(company: Database, tmp_path: Path) -> None:
    csv_path = write_flat_csv(yaml.safe_load(example_text()), tmp_path / "plan.csv")
    assert '"Write the ""Setting up SSO"" admin guide"' in csv_path.read_text(encoding="utf-8")

    import_plan(company, csv_path)

    assert 'Write the "Setting up SSO" admin guide' in tasks(company)
    assert stored_items(company) == expected_items()


# --- refusals: the message each one shows -----------------------------------------------

HELENA, MARCUS, GRACE = (f"{name}{DOMAIN}" for name in ("helena.lindqvist", "marcus.bell",
                                                        "grace.kim"))
SMALL_PLAN = f"""\
initiatives:
  - title: Win the mid-market
    owner: {HELENA}
    goals:
      - title: Grow ARR
        owner: {MARCUS}
        projects:
          - title: Pricing
            owner: {GRACE}
            tasks:
              - title: Draft the memo
                owner: {MARCUS}
                due: 2026-11-13
"""
PATH = "initiative 'Win the mid-market' › goal 'Grow ARR' › project 'Pricing'"


def with_task(*lines: str) -> str:
    """SMALL_PLAN plus one task whose first line (``- title: …``) is line 14."""
    first, *rest = lines
    return SMALL_PLAN + f"              - {first}\n" + "".join(f"                {line}\n"
                                                            for line in rest)


def test_the_small_plan_itself_imports(company: Database, tmp_path: Path) -> None:
    path = write(tmp_path, with_task("title: Approve the price book", f"owner: {HELENA}"))
    assert import_plan(company, path).created == {
        "initiative": 1, "goal": 1, "project": 1, "task": 2}


REFUSALS = {
    "date that is not a date": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "due: next friday"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' due: 'next friday' is not "
        "a date. Write dates as YYYY-MM-DD, e.g. 2026-12-04.",
    ),
    "progress 120": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "progress: 120"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' progress: 120 is not a "
        "whole number from 0 to 100. Write a number from 0 to 100, e.g. 60.",
    ),
    "done with progress 50": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "status: done",
                  "progress: 50"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' progress: is 50 but the "
        "status is done. A done item is 100%: remove the progress or fix the status.",
    ),
    "open with progress 100": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "status: open",
                  "progress: 100"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' status: is open but the "
        "progress is 100. Mark it done, or lower the progress.",
    ),
    "completed_on without done": (
        with_task("title: Approve the price book", f"owner: {HELENA}",
                  "completed_on: 2026-11-02"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' completed_on: is set but "
        "the status is not done. Give completed_on only for done items.",
    ),
    "bad status": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "status: finished"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' status: 'finished' is not "
        "a status. Use one of: open, in_progress, blocked, done, dropped.",
    ),
    "zero weight": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "weight: 0"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' weight: 0 is not a "
        "positive weight. Write a positive number, e.g. 1 or 2.5.",
    ),
    "unknown field with a did-you-mean": (
        with_task("title: Approve the price book", f"owner: {HELENA}", "dew: 2026-12-11"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book': has an unknown field "
        "'dew'. Did you mean 'due'?",
    ),
    "duplicate title under one parent (case and spacing ignored)": (
        with_task("title: '  draft THE  memo'", f"owner: {HELENA}"),
        f"plan.yaml, line 14, {PATH} › task 'draft THE  memo': the same task title appears "
        "twice under one parent. Titles must be unique within their parent.",
    ),
    "missing title": (
        with_task(f"owner: {HELENA}", "due: 2026-12-11"),
        f"plan.yaml, line 14, {PATH} › task 2 title: is missing. Every task needs a title.",
    ),
    "missing owner": (
        with_task("title: Approve the price book", "due: 2026-12-11"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' owner: is missing. "
        "Every task needs an owner: a person's email from the people file.",
    ),
    "owner that is not an address": (
        with_task("title: Approve the price book", "owner: helena"),
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' owner: 'helena' is not "
        "an email address",
    ),
    "children at the wrong level": (
        SMALL_PLAN.replace("    goals:", "    tasks: []\n    goals:"),
        "plan.yaml, line 2, initiative 'Win the mid-market': has an unknown field 'tasks'. "
        "Allowed: completed_on, description, due, goals, owner, progress, ref, status, title, "
        "weight.",
    ),
    "empty file": (
        "",
        "plan.yaml: has no initiatives. Start the file with 'initiatives:' and a list of "
        "initiatives under it.",
    ),
    "only comments": (
        "# the plan will go here\n",
        "plan.yaml: has no initiatives. Start the file with 'initiatives:' and a list of "
        "initiatives under it.",
    ),
    "no initiatives key": (
        "goals:\n  - title: Grow ARR\n",
        "plan.yaml: has no initiatives. Start the file with 'initiatives:' and a list of "
        "initiatives under it.",
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_refusal_names_file_line_path_field_and_fix(
    company: Database, tmp_path: Path, text: str, expected: str
) -> None:
    failure = refused(company, write(tmp_path, text))

    assert len(failure.problems) == 1, problems(failure)
    assert str(failure.problems[0]).startswith(expected)
    assert failure.report().endswith(
        "1 problem(s); nothing was imported. Fix them and run it again.")
    assert counts(company) == NOTHING


def test_task_owner_who_is_not_a_person(company: Database, tmp_path: Path) -> None:
    path = write(tmp_path, with_task("title: Approve the price book",
                                     "owner: nobody@northwind.example"))

    failure = refused(company, path)

    assert len(failure.problems) == 1
    problem = failure.problems[0]
    assert (problem.file, problem.row) == ("plan.yaml", 14)
    assert problem.field is not None
    assert problem.field.endswith("task 'Approve the price book' owner")
    assert problem.message == "no person has the address nobody@northwind.example"
    assert problem.hint == "Import the people file first, or correct the address."
    assert counts(company) == NOTHING


def test_task_owner_who_is_not_a_person_names_the_path(company: Database, tmp_path: Path) -> None:
    path = write(tmp_path, with_task("title: Approve the price book",
                                     "owner: nobody@northwind.example"))

    failure = refused(company, path)

    assert problems(failure) == [
        f"plan.yaml, line 14, {PATH} › task 'Approve the price book' owner: no person has the "
        "address nobody@northwind.example. Import the people file first, or correct the "
        "address."]


def test_owner_matched_by_alias_and_any_case(company: Database, tmp_path: Path) -> None:
    path = write(tmp_path, with_task("title: Approve the price book",
                                     "owner: Sarah.Klein@Northwind.example"))

    import_plan(company, path)

    owner = tasks(company)["Approve the price book"].owner
    assert owner.email == "sarah.goldberg" + DOMAIN


def test_invalid_yaml_is_refused_with_its_line(company: Database, tmp_path: Path) -> None:
    text = SMALL_PLAN.replace("        owner: " + MARCUS, "         owner: " + MARCUS)

    failure = refused(company, write(tmp_path, text))

    assert len(failure.problems) == 1
    problem = failure.problems[0]
    assert (problem.file, problem.row, problem.field) == ("plan.yaml", 6, None)
    assert problem.message.startswith("is not valid YAML (")
    assert problem.hint == "Check the indentation, and quote titles containing ': ' or '#'."
    assert counts(company) == NOTHING


def test_every_problem_in_a_plan_is_reported_at_once(company: Database, tmp_path: Path) -> None:
    text = edit(example_text(), "due: 2026-11-20\n                status: in_progress\n"
                "                progress: 70",
                "due: end of month\n                status: in_progress\n"
                "                progress: 170")
    text = edit(text, "owner: felix.wagner@northwind.example\n                due: 2027-01-15",
                "owner: felix@northwind.example\n                dew: 2027-01-15")

    failure = refused(company, write(tmp_path, text))

    assert failure.total == 4
    lines = failure.report().splitlines()
    assert len(lines) == 5
    assert "task 'Model revenue impact of the three-tier packaging' due: 'end of month'" in (
        lines[0])
    assert "task 'Model revenue impact of the three-tier packaging' progress: 170" in lines[1]
    assert "task 'Update the pricing page and order forms': has an unknown field 'dew'" in (
        lines[2])
    assert "owner: no person has the address felix@northwind.example" in lines[3]
    assert all(line.startswith("plan.yaml, line ") for line in lines[:4])
    assert counts(company) == NOTHING


# --- the flat CSV form: refusals ----------------------------------------------------------

CSV_HEADER = "initiative,initiative_owner,goal,goal_owner,project,project_owner,task,owner,due\n"
CSV_PARENTS = f"Win,{HELENA},Grow ARR,{MARCUS},Pricing,{GRACE}"


def test_csv_plan_problems_name_the_row(company: Database, tmp_path: Path) -> None:
    text = (CSV_HEADER
            + f"{CSV_PARENTS},Draft the memo,{MARCUS},2026-11-13\n"
            + f"{CSV_PARENTS},Price book,nobody{DOMAIN},2026-12-11\n"
            + f"{CSV_PARENTS},Draft the memo,{MARCUS},2026-11-20\n"
            + f"{CSV_PARENTS},Pricing page,{GRACE},13/01/2027\n")

    failure = refused(company, write(tmp_path, text, name="plan.csv"))

    assert problems(failure) == [
        "plan.csv, row 3, task 'Price book' owner: no person has the address "
        f"nobody{DOMAIN}. Import the people file first, or correct the address.",
        "plan.csv, row 4, task: the task 'Draft the memo' is already on row 2. "
        "Titles must be unique within their project.",
        "plan.csv, row 5, task 'Pricing page' due: '13/01/2027' is not a date. "
        "Write dates as YYYY-MM-DD, e.g. 2026-12-04.",
    ]
    assert counts(company) == NOTHING


def test_csv_plan_parent_problem_is_told_once(company: Database, tmp_path: Path) -> None:
    bad_parent = f"Win,{HELENA},Grow ARR,marcus,Pricing,{GRACE}"
    text = (CSV_HEADER
            + f"{bad_parent},Draft the memo,{MARCUS},2026-11-13\n"
            + f"{bad_parent},Price book,{HELENA},2026-12-11\n")

    failure = refused(company, write(tmp_path, text, name="plan.csv"))

    assert len(failure.problems) == 1
    assert str(failure.problems[0]).startswith(
        "plan.csv, row 2, goal 'Grow ARR' owner: 'marcus' is not an email address")


def test_csv_plan_missing_columns(company: Database, tmp_path: Path) -> None:
    failure = refused(company, write(tmp_path, "initiative,goal,project,title\nA,B,C,D\n",
                                     name="plan.csv"))

    assert problems(failure) == [
        "plan.csv, row 1: the header lacks owner. "
        "A plan CSV needs the columns: initiative, goal, project, task, owner."]


# --- all or nothing -----------------------------------------------------------------------

LAST_TASK_BROKEN = "\n".join([
    "              - title: One last thing",
    "                owner: nobody@northwind.example",
    "",
])


@pytest.mark.parametrize("chunk_size", [5000, 7], ids=["one chunk", "many chunks written"])
def test_error_in_the_last_task_writes_nothing(
    company: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    # With small chunks, most of the plan has been INSERTed before the error is found:
    # the transaction still has to take it all back.
    monkeypatch.setattr(load_plan_module, "CHUNK_SIZE", chunk_size)
    before = snapshot(company)

    failure = refused(company, write(tmp_path, example_text() + LAST_TASK_BROKEN))

    assert problems(failure)[0].startswith("plan.yaml, line 662, initiative 'Keep every customer")
    assert "› task 'One last thing' owner: no person has the address" in problems(failure)[0]
    assert counts(company) == NOTHING
    assert snapshot(company) == before


@pytest.mark.parametrize("chunk_size", [5000, 7], ids=["one chunk", "many chunks written"])
def test_failed_reimport_leaves_the_earlier_plan_exactly_as_it_was(
    company: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    import_plan(company, PLAN_YAML)
    monkeypatch.setattr(load_plan_module, "CHUNK_SIZE", chunk_size)
    before = snapshot(company)
    edited = edit(example_text(), "- title: Approve the final price book",
                  "- title: Approve the 2027 price book")
    edited = edit(edited, MODEL_DUE, MODEL_DUE.replace("2026-11-20", "2026-12-18"))

    refused(company, write(tmp_path, edited + LAST_TASK_BROKEN))

    assert snapshot(company) == before


# --- the history table is append-only -----------------------------------------------------


def test_database_refuses_update_on_task_update(company: Database) -> None:
    import_plan(company, PLAN_YAML)
    task = tasks(company)["Approve the final price book"]
    with unit_of_work(company.sessions) as session:
        update = TaskHistory(task_id=task.id, author_id=task.owner_id, source="email",
                            old_status="open", new_status="in_progress", new_progress=10,
                            note="started")
        session.add(update)
    with company.session() as session:
        assert session.scalar(select(func.count()).select_from(TaskHistory)) == 1

    with pytest.raises(DBAPIError, match="append-only"), \
            unit_of_work(company.sessions) as session:
        row = session.get(TaskHistory, update.id)
        assert row is not None
        row.note = "rewritten history"

    with company.session() as session:
        stored = session.get(TaskHistory, update.id)
        assert stored is not None
        assert (stored.note, stored.new_progress) == ("started", 10)


# --- regressions: bugs found while writing these tests ------------------------------------


@pytest.mark.parametrize("due", ["2026-02-30", "2026-13-01"])
def test_yaml_date_shaped_non_date_is_refused(
    company: Database, tmp_path: Path, due: str
) -> None:
    path = write(tmp_path, with_task("title: Approve the price book", f"owner: {HELENA}",
                                     f"due: {due}"))

    failure = refused(company, path)

    assert problems(failure)[0].startswith(f"plan.yaml, line 14, {PATH} › task ")
    assert f"{due!r} is not a date" in problems(failure)[0]


@pytest.mark.parametrize("shape", ["bare string", "not a list"])
def test_wrongly_shaped_items_are_refused_with_their_line(
    company: Database, tmp_path: Path, shape: str
) -> None:
    text = SMALL_PLAN + "              - Approve the price book\n" if shape == "bare string" \
        else SMALL_PLAN.split("            tasks:\n")[0] + "            tasks: Draft the memo\n"

    failure = refused(company, write(tmp_path, text))

    problem = failure.problems[0]
    assert problem.row is not None
    assert problem.field is not None
    assert not problem.field.endswith("›")


def test_problems_under_a_refused_parent_are_reported_too(
    company: Database, tmp_path: Path
) -> None:
    text = edit(SMALL_PLAN, f"owner: {MARCUS}\n        projects:",
                f"owner: {MARCUS}\n        due: soon\n        projects:")
    text += "              - title: Approve the price book\n"
    text += f"                owner: {HELENA}\n                progress: 120\n"

    failure = refused(company, write(tmp_path, text))

    assert len(failure.problems) == 2, problems(failure)
    assert "goal 'Grow ARR' due: 'soon' is not a date" in problems(failure)[0]
    assert "task 'Approve the price book' progress: 120" in problems(failure)[1]


def test_progress_without_status_in_the_file_keeps_a_later_status(
    company: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, with_task("title: Approve the price book", f"owner: {HELENA}",
                                     "progress: 40"))
    import_plan(company, path)
    set_by_email(company, "Approve the price book", status="blocked", progress=40,
                 blocked_reason="waiting on legal")

    import_plan(company, path)

    task = tasks(company)["Approve the price book"]
    assert (task.status, task.progress, task.blocked_reason) == (
        "blocked", 40, "waiting on legal")


def test_reopening_a_done_task_from_the_file_does_not_leave_it_at_100(
    company: Database,
) -> None:
    import_plan(company, PLAN_YAML)
    # plan.yaml gives "status: open" and no progress for this task.
    set_by_email(company, "Update the pricing page and order forms", status="done",
                 progress=100, completed_at=tasks(company)["Draft the pricing memo"].completed_at)

    import_plan(company, PLAN_YAML)

    task = tasks(company)["Update the pricing page and order forms"]
    assert task.status == "open"
    assert task.progress < 100
