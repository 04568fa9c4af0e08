"""Exporting the plan and the people, and importing the export back (SQLite and PostgreSQL).

The example company is imported, then changed by email (through the real reply
applier); its export, imported again, must change nothing at all (every row of
every table equal, updated_at included), and an edited export must change the
edited values and nothing else, the pinned items keeping their refs and history.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mail.read.grammar import parse_commands
from models import Base, Goal, Person, Project, Task, TaskHistory
from models.db import unit_of_work
from models.exporting import export_people, export_plan
from models.importing.load_people import load_people
from models.importing.load_plan import PlanSummary
from models.importing.people_file import read_people
from models.importing.plan_file import import_key
from tests.conftest import REPO, Database
from tests.test_import_plan import (
    NOTHING,
    PLAN_YAML,
    company,  # noqa: F401  (a fixture)
    counts,
    import_plan,
    problems,
    refused,
    snapshot,
    write,
)
from workers.apply import Applier

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FORMS = ["yaml", "csv"]
MODEL = "Model revenue impact of the three-tier packaging"
PRICE_BOOK = "Approve the final price book"
PRICING_PAGE = "Update the pricing page and order forms"


# --- helpers ----------------------------------------------------------------------------------

def task_id(db: Database, title: str) -> int:
    with db.session() as session:
        found = session.scalar(select(Task.id).where(Task.title == title))
        assert found is not None, title
        return found


def by_email(db: Database, sender: str, text: str) -> list[str]:
    """Apply a reply's lines as the sender, as the intake does; returns what was done."""
    with unit_of_work(db.sessions) as session:
        person = session.scalar(select(Person).where(Person.email == sender))
        assert person is not None
        parsed = parse_commands(text, message_date=NOW, timezone=person.timezone)
        assert not parsed.errors, parsed.errors
        outcome = Applier(session, person, inbound_id=None, now=NOW).apply(parsed.commands)
        assert outcome.done and not outcome.refused, outcome
        return outcome.done


@pytest.fixture
def changed_company(company: Database) -> Database:  # noqa: F811
    """The example plan imported, then changed by its owners' replies."""
    import_plan(company, PLAN_YAML)
    by_email(company, "hannah.schmidt@northwind.example", f"T-{task_id(company, MODEL)} 90%")
    by_email(company, "helena.lindqvist@northwind.example",
             f"T-{task_id(company, PRICE_BOOK)} done")
    by_email(company, "felix.wagner@northwind.example",
             f"T-{task_id(company, PRICING_PAGE)} due 2027-01-22")
    with company.session() as session:
        pricing = session.scalar(select(Project.id).where(
            Project.title == "Mid-market pricing & packaging"))
    by_email(company, "grace.kim@northwind.example",
             f"new: Call the two biggest resellers P-{pricing} due 2026-12-18")
    with company.session() as session:
        arr = session.scalar(select(Goal.id).where(Goal.metric == "ARR"))
    by_email(company, "marcus.bell@northwind.example", f"G-{arr} = 3.1M")
    return company


def exported(db: Database, form: str = "yaml") -> str:
    buffer = io.StringIO()
    with db.session() as session:
        export_plan(session, buffer, form)
    return buffer.getvalue()


def reimport(db: Database, tmp_path: Path, text: str, form: str = "yaml") -> PlanSummary:
    return import_plan(db, write(tmp_path, text, name=f"export.{form}"))


def differences(before: dict[str, list[tuple[Any, ...]]],
                after: dict[str, list[tuple[Any, ...]]]) -> dict[str, set[int]]:
    """Per table, the primary keys of rows that differ (or exist on one side only)."""
    changed: dict[str, set[int]] = {}
    for table, rows in after.items():
        columns = list(Base.metadata.tables[table].columns)
        at = columns.index(Base.metadata.tables[table].c.id)
        old = {row[at]: row for row in before[table]}
        new = {row[at]: row for row in rows}
        keys = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        if keys:
            changed[table] = keys
    return changed


def edit_yaml(text: str, ref: str, key: str, value: str) -> str:
    """Set ``key`` of the item pinned ``ref`` (the line after its ref, or added after it)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- ref: {ref}")
    indent = lines[start].index("-") + 2
    end = next((i for i in range(start + 1, len(lines))
                if len(lines[i]) - len(lines[i].lstrip()) <= indent - 2), len(lines))
    for i in range(start + 1, end):
        if lines[i].strip().startswith(f"{key}:"):
            lines[i] = f"{' ' * indent}{key}: {value}\n"
            return "".join(lines)
    lines.insert(start + 2, f"{' ' * indent}{key}: {value}\n")
    return "".join(lines)


def edit_csv(text: str, ref: str, column: str, value: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    [row] = [row for row in rows if row["ref"] == ref]
    row[column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def edit(form: str, text: str, ref: str, key: str, value: str) -> str:
    if form == "yaml":
        return edit_yaml(text, ref, key, value)
    return edit_csv(text, ref, "task" if key == "title" else key, value)


# --- the round trip ---------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_importing_the_export_changes_nothing(changed_company: Database, tmp_path: Path,
                                              form: str) -> None:
    before = snapshot(changed_company)

    summary = reimport(changed_company, tmp_path, exported(changed_company, form), form)

    assert summary.created == NOTHING and summary.changed == NOTHING
    assert sum(summary.matched.values()) == 149  # the example's 148 and the one by email
    assert snapshot(changed_company) == before


@pytest.mark.parametrize("form", FORMS)
def test_the_export_holds_the_changes_made_by_email(changed_company: Database,
                                                    form: str) -> None:
    text = exported(changed_company, form)
    model, book = task_id(changed_company, MODEL), task_id(changed_company, PRICE_BOOK)
    if form == "yaml":
        assert f"- ref: T-{model}\n" in text and "progress: 90\n" in text
        assert f"- ref: T-{book}\n                title: {PRICE_BOOK}\n" in text
        assert "title: Call the two biggest resellers\n" in text
        assert "due: 2027-01-22\n" in text
        assert ("        metric: ARR\n        start: 2100000\n        target: 4000000\n"
                "        unit: €\n        value: 3100000\n") in text
    else:
        rows = {row["ref"]: row for row in csv.DictReader(io.StringIO(text))}
        assert (rows[f"T-{model}"]["status"], rows[f"T-{model}"]["progress"]) \
            == ("in_progress", "90")
        assert rows[f"T-{book}"]["status"] == "done"
        assert rows[f"T-{task_id(changed_company, PRICING_PAGE)}"]["due"] == "2027-01-22"
        [arr] = [row for row in rows.values() if row["goal_metric"] == "ARR"]
        assert (arr["goal_start"], arr["goal_target"], arr["goal_unit"], arr["goal_value"]) \
            == ("2100000", "4000000", "€", "3100000")


@pytest.mark.parametrize("form", FORMS)
def test_editing_the_export_changes_exactly_what_was_edited(
    changed_company: Database, tmp_path: Path, form: str
) -> None:
    model, page = task_id(changed_company, MODEL), task_id(changed_company, PRICE_BOOK)
    late = task_id(changed_company, PRICING_PAGE)
    with changed_company.session() as session:
        history = session.scalars(select(TaskHistory.id).where(TaskHistory.task_id == model)
                                  ).all()
        ana = session.scalar(select(Person.id).where(Person.email == "ana.costa@northwind.example"))
    assert history  # the 90% by email
    text = exported(changed_company, form)
    text = edit(form, text, f"T-{model}", "title", "Model the revenue of three tiers")
    text = edit(form, text, f"T-{page}", "owner", "ana.costa@northwind.example")
    text = edit(form, text, f"T-{late}", "due", "2027-02-05")
    before = snapshot(changed_company)

    summary = reimport(changed_company, tmp_path, text, form)

    assert summary.created == NOTHING
    assert summary.changed == {**NOTHING, "task": 3}
    after = snapshot(changed_company)
    assert differences(before, after) == {"task": {model, page, late}}
    with changed_company.session() as session:
        renamed = session.get(Task, model)
        assert renamed is not None and renamed.title == "Model the revenue of three tiers"
        assert [h.id for h in renamed.updates] == list(history)
        assert renamed.import_key == import_key([
            "Win the mid-market", "Grow mid-market ARR from €2.1M to €4M",
            "Mid-market pricing & packaging", "Model the revenue of three tiers"])
        assert session.get(Task, page).owner_id == ana  # type: ignore[union-attr]
        assert session.get(Task, late).due == date(2027, 2, 5)  # type: ignore[union-attr]

    # The renamed task is now found by its new path of titles too.
    plan = PLAN_YAML.read_text(encoding="utf-8").replace(
        f"- title: {MODEL}", "- title: Model the revenue of three tiers")
    again = import_plan(changed_company, write(tmp_path, plan))
    assert again.created == NOTHING


def test_a_pinned_task_moved_under_another_project_keeps_its_ref_and_history(
    changed_company: Database, tmp_path: Path
) -> None:
    model = task_id(changed_company, MODEL)
    text = exported(changed_company)
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- ref: T-{model}")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("- "))
    block = lines[start:end]
    del lines[start:end]
    outbound = next(i for i, line in enumerate(lines)
                    if "title: Outbound pipeline for EMEA and North America" in line)
    tasks_line = next(i for i in range(outbound, len(lines)) if lines[i].strip() == "tasks:")
    lines[tasks_line + 1:tasks_line + 1] = block

    summary = reimport(changed_company, tmp_path, "".join(lines))

    assert summary.created == NOTHING and summary.changed == {**NOTHING, "task": 1}
    with changed_company.session() as session:
        moved = session.get(Task, model)
        assert moved is not None and moved.project.title.startswith("Outbound pipeline")
        assert moved.progress == 90 and len(moved.updates) == 1


def test_two_pinned_siblings_may_swap_titles(changed_company: Database, tmp_path: Path) -> None:
    model, book = task_id(changed_company, MODEL), task_id(changed_company, PRICE_BOOK)
    text = exported(changed_company)
    text = edit_yaml(text, f"T-{model}", "title", PRICE_BOOK)
    text = edit_yaml(text, f"T-{book}", "title", MODEL)

    summary = reimport(changed_company, tmp_path, text)

    assert summary.changed == {**NOTHING, "task": 2}
    assert (task_id(changed_company, PRICE_BOOK), task_id(changed_company, MODEL)) \
        == (model, book)


def test_empty_parents_and_awkward_titles_survive_the_round_trip(
    changed_company: Database, tmp_path: Path
) -> None:
    titles = ["010", "yes", "null", "Ship it: now", "#1 priority", "- dashed", "two  spaces",
              'Say "hi"', "王芳's 1:1", "tab\there", "a\u2028b", "ends with:"]
    with unit_of_work(changed_company.sessions) as session:
        owner = session.scalar(select(Person).where(Person.email.like("helena%")))
        goal = session.scalar(select(Goal).order_by(Goal.id))
        assert owner is not None and goal is not None
        empty = Project(title="Nothing here yet", owner=owner, goal=goal,
                        description="two\nlines")
        odd = Project(title="Odd titles", owner=owner, goal=goal)
        session.add_all([empty, odd, *(Task(title=title, owner=owner, project=odd, weight=0.5)
                                       for title in titles)])
    for form in FORMS:
        before = snapshot(changed_company)
        summary = reimport(changed_company, tmp_path, exported(changed_company, form), form)
        assert summary.created == NOTHING and summary.changed == NOTHING, form
        assert snapshot(changed_company) == before, form


# --- refusals ---------------------------------------------------------------------------------

SMALL = """\
initiatives:
  - title: Win
    ref: {initiative}
    owner: helena.lindqvist@northwind.example
    goals:
      - title: Grow ARR
        owner: marcus.bell@northwind.example
        projects:
          - title: Pricing
            owner: grace.kim@northwind.example
            tasks:
              - title: Draft the memo
                ref: {first}
                owner: marcus.bell@northwind.example
              - title: Price book
                ref: {second}
                owner: helena.lindqvist@northwind.example
"""


def small(initiative: str = "I-1", first: str = "T-1", second: str = "T-2") -> str:
    return SMALL.format(initiative=initiative, first=first, second=second)


@pytest.mark.parametrize(("plan", "expected"), [
    (small(first="T-999"),
     ["plan.yaml, line 12, task 'Draft the memo' ref: there is no T-999. Use the reference "
      "of an existing task (drumbeat export plan shows them all), or remove the ref to create "
      "a new one."]),
    (small(initiative="I-77"),
     ["plan.yaml, line 2, initiative 'Win' ref: there is no I-77. Use the reference of an "
      "existing initiative (drumbeat export plan shows them all), or remove the ref to "
      "create a new one."]),
    (small(first="G-1"),
     ["plan.yaml, line 12, task 'Draft the memo' ref: G-1 is a goal's reference, not a "
      "task's. A task's reference starts with T-, e.g. T-12."]),
    (small(second="T-1"),
     ["plan.yaml, line 15, initiative 'Win' › goal 'Grow ARR' › project 'Pricing' › task "
      "'Price book' ref: T-1 is already given to the task on line 12. Each reference pins "
      "one item: remove it from one of the two."]),
    (small(first="soon"),
     ["plan.yaml, line 12, initiative 'Win' › goal 'Grow ARR' › project 'Pricing' › task "
      "'Draft the memo' ref: 'soon' is not a reference. Write a task's reference as "
      "Drumbeat shows it, e.g. T-12."]),
], ids=["no such task", "no such initiative", "wrong kind", "same ref twice", "not a ref"])
def test_bad_pins_are_refused_with_file_line_and_fix(
    company: Database, tmp_path: Path, plan: str, expected: list[str]  # noqa: F811
) -> None:
    import_plan(company, PLAN_YAML)
    before = snapshot(company)

    failure = refused(company, write(tmp_path, plan))

    assert [p.replace("initiative 'Win' › goal 'Grow ARR' › project 'Pricing' › ", "")
            for p in problems(failure)] == [
        e.replace("initiative 'Win' › goal 'Grow ARR' › project 'Pricing' › ", "")
        for e in expected]
    assert snapshot(company) == before


def test_renaming_a_pinned_task_onto_a_sibling_title_is_refused(
    company: Database, tmp_path: Path  # noqa: F811
) -> None:
    import_plan(company, PLAN_YAML)
    model, book = task_id(company, MODEL), task_id(company, PRICE_BOOK)
    before = snapshot(company)
    plan = exported(company)
    plan = edit_yaml(plan, f"T-{model}", "title", PRICE_BOOK.upper())
    line = plan.splitlines().index(f"              - ref: T-{model}") + 1

    failure = refused(company, write(tmp_path, plan))

    assert problems(failure) == [
        f"plan.yaml, line {line}, initiative 'Win the mid-market' › goal 'Grow mid-market ARR "
        "from €2.1M to €4M' › project 'Mid-market pricing & packaging' › task "
        f"'{PRICE_BOOK.upper()}': T-{model} would have the same title as T-{book} under one "
        "parent. Titles must be unique within their parent: rename one of them."]
    assert snapshot(company) == before


def test_bad_pins_in_a_csv_plan_name_the_row(company: Database, tmp_path: Path) -> None:  # noqa: F811
    import_plan(company, PLAN_YAML)
    text = exported(company, "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    first, second, last = table[0], table[1], table[-1]
    rows = text.splitlines(keepends=True)
    rows[2] = rows[2].replace(f",{second['ref']},", f",{first['ref']},")
    rows = [row.replace(f",{last['goal_ref']},", ",T-777777,") for row in rows]
    goal = next(i for i, row in enumerate(rows) if ",T-777777," in row)

    failure = refused(company, write(tmp_path, "".join(rows), name="plan.csv"))

    assert problems(failure) == [
        f"plan.csv, row 3, task {second['task']!r} ref: {first['ref']} is already given to "
        "the task on row 2. Each reference pins one item: remove it from one of the two.",
        f"plan.csv, row {goal + 1}, goal {last['goal']!r} ref: T-777777 is a task's reference, "
        "not a goal's. A goal's reference starts with G-, e.g. G-12.",
    ]
    rows = text.splitlines(keepends=True)
    rows[4] = rows[4].replace(f",{table[3]['ref']},", ",T-100000,")
    failure = refused(company, write(tmp_path, "".join(rows), name="plan.csv"))
    assert problems(failure) == [
        f"plan.csv, row 5, task {table[3]['task']!r} ref: there is no T-100000. "
        "Use the reference of an existing task (drumbeat export plan shows them all), or "
        "remove the ref to create a new one."]


# --- people -----------------------------------------------------------------------------------

def people_csv(db: Database) -> str:
    buffer = io.StringIO()
    with db.session() as session:
        export_people(session, buffer)
    return buffer.getvalue()


def test_people_export_round_trips_and_an_edit_changes_that_person(
    company: Database, tmp_path: Path  # noqa: F811
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(people_csv(company), encoding="utf-8")
    before = snapshot(company)

    with unit_of_work(company.sessions) as session:
        summary = load_people(session, read_people(path))

    assert (summary.created, summary.updated, summary.unchanged) == ([], [], 30)
    assert snapshot(company) == before
    text = path.read_text(encoding="utf-8")
    assert "fang.wang@northwind.example,王芳," in text
    assert "sanjay.k@northwind.example" in text  # an alias
    assert text.splitlines()[0].endswith(",tracking_from,language")
    path.write_text(text.replace("fang.wang@northwind.example,王芳,",
                                 "fang.wang@northwind.example,Wang Fang,"), encoding="utf-8")
    with unit_of_work(company.sessions) as session:
        summary = load_people(session, read_people(path))
    assert summary.updated == ["fang.wang@northwind.example"] and summary.unchanged == 29
    assert set(differences(before, snapshot(company))) == {"person"}
    assert counts(company) == NOTHING


# --- a large company --------------------------------------------------------------------------

@pytest.mark.slow
def test_a_ten_thousand_person_plan_round_trips(db: Database, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 people with two tasks each (20,000 tasks under 2,000 projects), generated as
    bench/import_org.py generates its organisation: the export imports back unchanged, and
    one edited task is the only change. About 11 s on SQLite and 18 s on PostgreSQL on
    the project's two-core VM when quiet (35 s and 60 s while shared)."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import import_org  # type: ignore[import-not-found]

    org = import_org.Org(import_org.Shape(people=10_000, tasks_per_person=2))
    import_org.write_people(org, tmp_path / "people.csv")
    import_org.write_plan(org, tmp_path / "plan.csv", lambda _done: None)
    with unit_of_work(db.sessions) as session:
        load_people(session, read_people(tmp_path / "people.csv"))
    first = import_plan(db, tmp_path / "plan.csv")
    assert first.created == {"initiative": 10, "goal": 40, "project": 2000, "task": 20_000}

    people = tmp_path / "people-export.csv"
    people.write_text(people_csv(db), encoding="utf-8")
    with unit_of_work(db.sessions) as session:
        summary = load_people(session, read_people(people))
    assert (len(summary.created), len(summary.updated), summary.unchanged) == (0, 0, 10_000)

    before = snapshot(db)
    text = exported(db, "csv")
    assert len(text.splitlines()) == 20_001
    again = reimport(db, tmp_path, text, "csv")
    assert again.created == NOTHING and again.changed == NOTHING
    assert snapshot(db) == before

    rows = list(csv.DictReader(io.StringIO(text)))
    ref, title = rows[12_345]["ref"], rows[12_345]["task"]
    edited = reimport(db, tmp_path, edit_csv(text, ref, "task", f"{title} (renamed)"), "csv")
    assert edited.created == NOTHING and edited.changed == {**NOTHING, "task": 1}
    assert differences(before, snapshot(db)) == {"task": {int(ref[2:])}}
