"""Benchmark: import a generated organisation through Drumbeat's real importer.

Generates (streaming, into a temporary folder) a ``people.csv`` of ``--people``
people in a realistic reporting tree and a flat ``plan.csv`` giving every person
``--tasks-per-person`` tasks, then measures, each phase in its own subprocess so
that each peak RSS is its own, against PostgreSQL:

* ``import``   read_people + load_people, then read_plan + load_plan (one
  transaction each) into a fresh schema A: the figure that matters;
* ``reimport`` the same plan file again into schema A (update in place);
* ``bulk``     the baseline: bare SQLAlchemy Core ``conn.execute(insert(table), rows)``
  of the same rows (same columns, same values, precomputed ids) into schema B;
* ``export``   ``drumbeat export plan --out export.csv`` (the command itself, in
  process) of schema A: the whole plan, every item pinned by its ref;
* ``roundtrip`` that export imported back into schema A, which must change nothing.

Afterwards the row counts are checked and schema A is compared with schema B
value by value; any difference exits non-zero. The last stdout line is::

    people=… tasks=… seconds=… rows_per_s=… peak_rss_mb=… bulk_seconds=… ratio_to_bulk=…
    reimport_seconds=… export_seconds=… export_ratio=… export_peak_rss_mb=…

(on one line). Run ``.venv/bin/python bench/import_org.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, NamedTuple

from common import DEFAULT_URL, Failure, checkpoint, peak_rss_mb, progress_bar, say

TASKS_PER_PROJECT = 10
PROJECTS_PER_GOAL = 50
INITIATIVES = 10
BATCH = 5000
RATIO_TARGET = 3.0
RSS_TARGET_MB = 400.0
EXPORT_RATIO_TARGET = 2.0  # export_seconds / the import's own seconds
DOMAIN = "northwind-bench.example"
PLAN_START = date(2026, 1, 5)  # due dates spread over the year from here
AS_OF = PLAN_START + timedelta(days=150)  # earlier due dates are mostly done

PEOPLE_COLUMNS = ("email", "name", "manager_email", "timezone", "cadence", "checkin_day",
                  "checkin_time", "hr")
PLAN_COLUMNS = ("initiative", "initiative_owner", "goal", "goal_owner", "project",
                "project_owner", "task", "owner", "due", "weight", "status", "progress")

# (display name, address slug)
FIRST_NAMES = (
    ("Ana", "ana"), ("Kenji", "kenji"), ("Sanjay", "sanjay"), ("Lukáš", "lukas"),
    ("Fang", "fang"), ("Amara", "amara"), ("José", "jose"), ("Ingrid", "ingrid"),
    ("Mateo", "mateo"), ("Aisha", "aisha"), ("Oliver", "oliver"), ("Chloé", "chloe"),
    ("Wei", "wei"), ("Priya", "priya"), ("Tomasz", "tomasz"), ("Nia", "nia"),
    ("Lars", "lars"), ("Yuki", "yuki"), ("Emeka", "emeka"), ("Sofia", "sofia"),
    ("Hannah", "hannah"), ("Diego", "diego"), ("Zainab", "zainab"), ("Mikael", "mikael"),
)
LAST_NAMES = (
    ("Costa", "costa"), ("Watanabe", "watanabe"), ("Kulkarni", "kulkarni"),
    ("Novák", "novak"), ("Wang", "wang"), ("Okafor", "okafor"), ("García", "garcia"),
    ("Lindqvist", "lindqvist"), ("Rossi", "rossi"), ("Khan", "khan"), ("Smith", "smith"),
    ("Dubois", "dubois"), ("Chen", "chen"), ("Sharma", "sharma"), ("Kowalski", "kowalski"),
    ("Mensah", "mensah"), ("Jensen", "jensen"), ("Tanaka", "tanaka"), ("Adeyemi", "adeyemi"),
    ("Müller", "muller"), ("O'Brien", "obrien"), ("Silva", "silva"), ("Haddad", "haddad"),
    ("Virtanen", "virtanen"),
)
REGIONS = (
    ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Toronto"),
    ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Warsaw"),
    ("Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Asia/Shanghai", "Asia/Dubai"),
    ("America/Sao_Paulo", "America/Mexico_City"),
    ("Africa/Lagos", "Africa/Johannesburg"),
    ("Australia/Sydney", "Pacific/Auckland"),
)
CHECKIN_TIMES = (dtime(9, 0), dtime(9, 30), dtime(10, 0), dtime(11, 0), dtime(14, 0),
                 dtime(15, 30), dtime(16, 30))
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
INITIATIVE_NAMES = (
    "Win the mid-market", "Operational excellence", "Customer love", "Platform 2.0",
    "Expand into APAC", "Sustainable growth", "Data-driven decisions", "Talent density",
    "Security by default", "Partner ecosystem",
)
GOAL_VERBS = ("Grow", "Cut", "Improve", "Launch", "Double", "Halve", "Automate", "Stabilise")
GOAL_OBJECTS = ("net revenue retention", "onboarding time", "support backlog", "gross margin",
                "weekly active teams", "incident count", "partner pipeline", "NPS")
PROJECT_ADJECTIVES = ("Self-serve", "Unified", "Faster", "Regional", "Automated", "Secure")
PROJECT_NOUNS = ("billing", "onboarding", "reporting", "search", "pricing page", "data pipeline",
                 "mobile app", "partner portal", "status page", "audit log")
TASK_VERBS = ("Draft", "Review", "Ship", "Test", "Document", "Migrate", "Interview", "Measure")
TASK_OBJECTS = ("the spec", "vendor shortlist", "rollout plan", "pricing model", "API changes",
                "customer feedback", "the dashboard", "runbook", "launch email", "metrics")

MASK = (1 << 64) - 1


def mix(n: int, salt: int) -> int:
    """A deterministic 64-bit pseudo-random number for (n, salt): splitmix64's finaliser."""
    x = (n * 0x9E3779B97F4A7C15 + salt * 0xD1B54A32D192ED03 + 1) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


# --- the organisation, computed from indices (nothing is held but the reporting tree) ------

@dataclass(frozen=True)
class Shape:
    """How many of each thing the benchmark makes."""

    people: int
    tasks_per_person: int

    @property
    def tasks(self) -> int:
        return self.people * self.tasks_per_person

    @property
    def projects(self) -> int:
        return math.ceil(self.tasks / TASKS_PER_PROJECT)

    @property
    def goals(self) -> int:
        return math.ceil(self.projects / PROJECTS_PER_GOAL)

    @property
    def goals_per_initiative(self) -> int:
        return math.ceil(self.goals / INITIATIVES)

    @property
    def initiatives(self) -> int:
        return math.ceil(self.goals / self.goals_per_initiative)

    @property
    def plan_records(self) -> int:
        return self.initiatives + self.goals + self.projects + self.tasks

    @property
    def rows(self) -> int:
        return self.people + self.plan_records

    def counts(self) -> dict[str, int]:
        return {"person": self.people, "initiative": self.initiatives, "goal": self.goals,
                "project": self.projects, "task": self.tasks}


class PersonRow(NamedTuple):
    index: int
    email: str
    name: str
    manager: int | None
    timezone: str
    cadence: str
    weekday: int
    checkin_time: dtime
    is_hr: bool


class ItemRow(NamedTuple):
    """An initiative, goal or project: its titles from the top down, owner and parent."""

    index: int
    path: tuple[str, ...]
    owner: int
    parent: int | None


class TaskRow(NamedTuple):
    index: int
    path: tuple[str, ...]
    owner: int
    project: int
    due: date
    weight: float
    status: str
    progress: int


class Org:
    """The generated organisation; every row is a pure function of its index."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        n = shape.people
        # Breadth-first tree: the CEO, then each manager takes 6-10 reports (8 on average).
        self.manager: list[int | None] = [None] * n
        self.depth = [0] * n
        self.branch = [0] * n  # the executive (depth 1) each person works under
        boss, left = 0, 8
        for i in range(1, n):
            if left == 0:
                boss += 1
                left = 6 + mix(boss, 1) % 5
            left -= 1
            self.manager[i] = boss
            self.depth[i] = self.depth[boss] + 1
            self.branch[i] = i if boss == 0 else self.branch[boss]
        self.executives = [i for i in range(n) if self.depth[i] == 1] or [0]

    # people
    def person(self, i: int) -> PersonRow:
        h = mix(i, 2)
        first, first_slug = FIRST_NAMES[h % len(FIRST_NAMES)]
        last, last_slug = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        zones = REGIONS[self.branch[i] % len(REGIONS)]
        cadence_roll = (h >> 24) % 10
        return PersonRow(
            index=i,
            email=f"{first_slug}.{last_slug}.{i + 1}@{DOMAIN}",
            name=f"{first} {last}",
            manager=self.manager[i],
            timezone=zones[(h >> 16) % len(zones)],
            cadence="weekly" if cadence_roll < 6 else "biweekly" if cadence_roll < 9 else "monthly",
            weekday=(h >> 32) % len(WEEKDAYS),
            checkin_time=CHECKIN_TIMES[(h >> 40) % len(CHECKIN_TIMES)],
            is_hr=i % 97 == 5,
        )

    def email(self, i: int) -> str:
        return self.person(i).email

    # the cascade
    @staticmethod
    def initiative_title(i: int) -> str:
        return f"I{i + 1:02d} {INITIATIVE_NAMES[i % len(INITIATIVE_NAMES)]}"

    @staticmethod
    def goal_title(g: int) -> str:
        h = mix(g, 3)
        verb, thing = GOAL_VERBS[h % len(GOAL_VERBS)], GOAL_OBJECTS[(h >> 8) % len(GOAL_OBJECTS)]
        return f"G{g + 1:04d} {verb} {thing}"

    @staticmethod
    def project_title(p: int) -> str:
        h = mix(p, 4)
        adjective = PROJECT_ADJECTIVES[h % len(PROJECT_ADJECTIVES)]
        return f"P{p + 1:05d} {adjective} {PROJECT_NOUNS[(h >> 8) % len(PROJECT_NOUNS)]}"

    @staticmethod
    def task_title(t: int) -> str:
        h = mix(t, 5)
        verb, thing = TASK_VERBS[h % len(TASK_VERBS)], TASK_OBJECTS[(h >> 8) % len(TASK_OBJECTS)]
        return f"{verb} {thing} #{t + 1}"

    def initiative(self, i: int) -> ItemRow:
        return ItemRow(i, (self.initiative_title(i),),
                       self.executives[i % len(self.executives)], None)

    def goal(self, g: int) -> ItemRow:
        i = g // self.shape.goals_per_initiative
        owner = (g * PROJECTS_PER_GOAL * TASKS_PER_PROJECT) % self.shape.people
        while self.depth[owner] > 2:
            owner = self.manager[owner]  # type: ignore[assignment]
        return ItemRow(g, (*self.initiative(i).path, self.goal_title(g)), owner, i)

    def project(self, p: int) -> ItemRow:
        g = p // PROJECTS_PER_GOAL
        first_task_owner = (p * TASKS_PER_PROJECT) % self.shape.people
        manager = self.manager[first_task_owner]
        owner = first_task_owner if manager is None else manager
        return ItemRow(p, (*self.goal(g).path, self.project_title(p)), owner, g)

    def task(self, t: int, project: ItemRow) -> TaskRow:
        h = mix(t, 6)
        due = PLAN_START + timedelta(days=h % 365)
        roll = (h >> 12) % 100
        if due < AS_OF:
            status = ("done" if roll < 65 else "in_progress" if roll < 80 else
                      "blocked" if roll < 87 else "dropped" if roll < 92 else "open")
        else:
            status = ("open" if roll < 50 else "in_progress" if roll < 85 else
                      "blocked" if roll < 95 else "dropped")
        step = h >> 20
        progress = {"done": 100, "in_progress": 5 * (1 + step % 18), "blocked": 5 * (step % 13),
                    "dropped": 5 * (step % 11), "open": 0}[status]
        weight_roll = (h >> 28) % 20
        weight = 0.5 if weight_roll == 0 else 2.0 if weight_roll <= 3 else 1.0
        return TaskRow(t, (*project.path, self.task_title(t)), t % self.shape.people,
                       project.index, due, weight, status, progress)

    def tasks(self, start: int = 0, stop: int | None = None) -> Iterator[TaskRow]:
        """Tasks in file order: project by project, so parents come before children."""
        stop = self.shape.tasks if stop is None else stop
        project: ItemRow | None = None
        for t in range(start, stop):
            p = t // TASKS_PER_PROJECT
            if project is None or project.index != p:
                project = self.project(p)
            yield self.task(t, project)


# --- writing the two files -----------------------------------------------------------------

def write_people(org: Org, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PEOPLE_COLUMNS)
        for i in range(org.shape.people):
            person = org.person(i)
            writer.writerow((
                person.email, person.name,
                "" if person.manager is None else org.email(person.manager),
                person.timezone, person.cadence, WEEKDAYS[person.weekday],
                person.checkin_time.strftime("%H:%M"), "yes" if person.is_hr else "no",
            ))


def write_plan(org: Org, path: Path, advance: Callable[[int], None]) -> None:
    """One row per task; a parent's owner only on the first row where the parent appears."""
    shape = org.shape
    emails = [org.email(i) for i in range(shape.people)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAN_COLUMNS)
        for task in org.tasks():
            t = task.index
            new_project = t % TASKS_PER_PROJECT == 0
            p = task.project
            new_goal = new_project and p % PROJECTS_PER_GOAL == 0
            g = p // PROJECTS_PER_GOAL
            new_initiative = new_goal and g % shape.goals_per_initiative == 0
            i = g // shape.goals_per_initiative
            initiative, goal, project, title = task.path
            writer.writerow((
                initiative, emails[org.initiative(i).owner] if new_initiative else "",
                goal, emails[org.goal(g).owner] if new_goal else "",
                project, emails[org.project(p).owner] if new_project else "",
                title, emails[task.owner], task.due.isoformat(), f"{task.weight:g}",
                task.status, str(task.progress),
            ))
            if (t + 1) % BATCH == 0 or t + 1 == shape.tasks:
                advance(t + 1)


# --- measuring ---------------------------------------------------------------------------------

def phase_engine(url: str, schema: str) -> Any:
    from models.db import make_engine

    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def table_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("person", "initiative", "goal", "project", "task")}


# --- the phases, each run in its own process ---------------------------------------------------

def phase_import(args: argparse.Namespace, shape: Shape, work: Path) -> dict[str, Any]:
    from models.db import session_factory, unit_of_work
    from models.importing.load_people import load_people
    from models.importing.load_plan import load_plan
    from models.importing.people_file import read_people
    from models.importing.plan_file import read_plan
    from models.importing.problems import ProblemLog

    engine = phase_engine(args.database_url, args.schema)
    factory = session_factory(engine)
    result: dict[str, Any] = {"baseline_rss_mb": peak_rss_mb()}

    say("importing people.csv …")
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        people = read_people(work / "people.csv")
        result["people_read_seconds"] = time.perf_counter() - start
        people_summary = load_people(session, people)
        del people
    result["people_seconds"] = time.perf_counter() - start
    result["people_load_seconds"] = result["people_seconds"] - result["people_read_seconds"]
    result["people_created"] = len(people_summary.created)
    result["people_rss_mb"] = peak_rss_mb()
    say(f"  {len(people_summary.created):,} people in {result['people_seconds']:.2f} s")

    with progress_bar() as bar:
        job = bar.add_task("importing plan.csv", total=shape.plan_records)
        start = time.perf_counter()
        with unit_of_work(factory) as session:
            log = ProblemLog("plan.csv")
            summary = load_plan(session, read_plan(work / "plan.csv", log), log,
                                progress=lambda n: bar.update(job, completed=n))
        result["plan_seconds"] = time.perf_counter() - start
    result["plan_created"] = summary.created
    result["plan_matched"] = summary.matched
    result["seconds"] = result["people_seconds"] + result["plan_seconds"]
    result["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return result


def phase_reimport(args: argparse.Namespace, shape: Shape, work: Path) -> dict[str, Any]:
    from models.db import session_factory, unit_of_work
    from models.importing.load_plan import load_plan
    from models.importing.plan_file import read_plan
    from models.importing.problems import ProblemLog

    engine = phase_engine(args.database_url, args.schema)
    factory = session_factory(engine)
    result: dict[str, Any] = {"baseline_rss_mb": peak_rss_mb()}
    with progress_bar() as bar:
        job = bar.add_task("re-importing plan.csv", total=shape.plan_records)
        start = time.perf_counter()
        with unit_of_work(factory) as session:
            log = ProblemLog("plan.csv")
            summary = load_plan(session, read_plan(work / "plan.csv", log), log,
                                progress=lambda n: bar.update(job, completed=n))
        result["seconds"] = time.perf_counter() - start
    result["plan_created"] = summary.created
    result["plan_matched"] = summary.matched
    result["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return result


def batched(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_rows(org: Org) -> dict[str, Callable[[], Iterator[dict[str, Any]]]]:
    """Per table, the parameter dicts the importer would end up writing (ids precomputed).

    Plan items leave status, progress and weight to the column defaults when the
    file does not give them, exactly as the importer's rows do.
    """
    from models.base import utcnow
    from models.importing.plan_file import import_key

    shape = org.shape

    def people() -> Iterator[dict[str, Any]]:
        for i in range(shape.people):
            person, now = org.person(i), utcnow()
            yield {"id": i + 1, "email": person.email, "name": person.name,
                   "manager_id": None if person.manager is None else person.manager + 1,
                   "is_hr": person.is_hr, "timezone": person.timezone,
                   "cadence": person.cadence, "checkin_weekday": person.weekday,
                   "checkin_time": person.checkin_time, "created_at": now, "updated_at": now}

    def items(make: Callable[[int], ItemRow], count: int, parent_column: str | None
              ) -> Callable[[], Iterator[dict[str, Any]]]:
        def rows() -> Iterator[dict[str, Any]]:
            for n in range(count):
                item, now = make(n), utcnow()
                row = {"id": n + 1, "import_key": import_key(list(item.path)),
                       "title": item.path[-1], "owner_id": item.owner + 1,
                       "created_at": now, "updated_at": now}
                if parent_column:
                    row[parent_column] = item.parent + 1  # type: ignore[operator]
                yield row
        return rows

    def tasks() -> Iterator[dict[str, Any]]:
        for task in org.tasks():
            now = utcnow()
            yield {"import_key": import_key(list(task.path)), "title": task.path[-1],
                   "owner_id": task.owner + 1, "created_at": now, "updated_at": now,
                   "due": task.due, "weight": task.weight, "status": task.status,
                   "progress": task.progress,
                   "completed_at": now if task.status == "done" else None,
                   "project_id": task.project + 1}

    return {
        "person": people,
        "initiative": items(org.initiative, shape.initiatives, None),
        "goal": items(org.goal, shape.goals, "initiative_id"),
        "project": items(org.project, shape.projects, "goal_id"),
        "task": tasks,
    }


def phase_bulk(args: argparse.Namespace, shape: Shape, work: Path) -> dict[str, Any]:
    from sqlalchemy import insert, text

    from models import Goal, Initiative, Person, Project, Task

    tables = {"person": Person.__table__, "initiative": Initiative.__table__,
              "goal": Goal.__table__, "project": Project.__table__, "task": Task.__table__}
    engine = phase_engine(args.database_url, args.schema)
    org = Org(shape)
    result: dict[str, Any] = {"baseline_rss_mb": peak_rss_mb()}
    timings = {name: 0.0 for name in tables}
    build = 0.0
    with progress_bar() as bar:
        job = bar.add_task("bulk insert", total=shape.rows)
        # Two transactions, as the importer uses: people, then the plan.
        for group in (("person",), ("initiative", "goal", "project", "task")):
            with engine.connect() as conn:
                for name in group:
                    rows = batched(bulk_rows(org)[name]())
                    while True:
                        start = time.perf_counter()
                        batch = next(rows, None)  # building the dicts is not counted
                        build += time.perf_counter() - start
                        if batch is None:
                            break
                        start = time.perf_counter()
                        conn.execute(insert(tables[name]), batch)
                        timings[name] += time.perf_counter() - start
                        bar.advance(job, len(batch))
                    if name != "task":
                        # Precomputed ids: move the sequence past them, as the DB would have.
                        start = time.perf_counter()
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"))
                        timings[name] += time.perf_counter() - start
                start = time.perf_counter()
                conn.commit()
                timings[group[-1]] += time.perf_counter() - start
    result["table_seconds"] = timings
    result["seconds"] = sum(timings.values())
    result["build_seconds"] = build
    result["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return result


def schema_url(url: str, schema: str) -> str:
    """``url`` with the schema as the search path, as a DRUMBEAT_DATABASE_URL."""
    from sqlalchemy.engine import make_url

    with_path = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_path.render_as_string(hide_password=False)


def phase_export(args: argparse.Namespace, shape: Shape, work: Path) -> dict[str, Any]:
    """``drumbeat export plan --out export.csv``, run as the command line runs it."""
    os.environ["DRUMBEAT_DATABASE_URL"] = schema_url(args.database_url, args.schema)
    from config.settings import get_settings
    from drumbeat.cli import app

    get_settings.cache_clear()
    result: dict[str, Any] = {"baseline_rss_mb": peak_rss_mb()}
    target = work / "export.csv"
    say("drumbeat export plan --out export.csv …")
    start = time.perf_counter()
    code = app(["export", "plan", "--out", str(target)], standalone_mode=False)
    result["seconds"] = time.perf_counter() - start
    if code not in (None, 0):
        raise Failure(f"drumbeat export plan exited with status {code}")
    result["peak_rss_mb"] = peak_rss_mb()
    result["megabytes"] = target.stat().st_size / 1e6
    with target.open(encoding="utf-8") as handle:
        result["rows"] = sum(1 for _ in handle) - 1
    return result


def phase_roundtrip(args: argparse.Namespace, shape: Shape, work: Path) -> dict[str, Any]:
    """The export imported back: every item pinned, nothing may change."""
    from models.db import session_factory, unit_of_work
    from models.importing.load_plan import load_plan
    from models.importing.plan_file import read_plan
    from models.importing.problems import ProblemLog

    engine = phase_engine(args.database_url, args.schema)
    result: dict[str, Any] = {"baseline_rss_mb": peak_rss_mb()}
    with progress_bar() as bar:
        job = bar.add_task("importing export.csv", total=shape.plan_records)
        start = time.perf_counter()
        with unit_of_work(session_factory(engine)) as session:
            log = ProblemLog("export.csv")
            summary = load_plan(session, read_plan(work / "export.csv", log), log,
                                progress=lambda n: bar.update(job, completed=n))
        result["seconds"] = time.perf_counter() - start
    result["plan_created"] = summary.created
    result["plan_changed"] = summary.changed
    result["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return result


PHASES = {"import": phase_import, "reimport": phase_reimport, "bulk": phase_bulk,
          "export": phase_export, "roundtrip": phase_roundtrip}


def run_phase(args: argparse.Namespace) -> None:
    """Child process: run one phase, print its figures as one JSON line on stdout."""
    shape = Shape(args.people, args.tasks_per_person)
    work = Path(args.workdir)
    phase = PHASES[args.phase]
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(phase, args, shape, work)
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(Path(args.profile) / f"{args.phase}.prof")
    else:
        try:
            result = phase(args, shape, work)
        except Exception as exc:
            report = getattr(exc, "report", None)
            say(report() if callable(report) else repr(exc))
            raise
    print(json.dumps(result))


# --- the parent: generate, run the phases, verify, report ---------------------------------

def spawn(phase: str, schema: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase,
               "--schema", schema, "--workdir", str(work), "--people", str(args.people),
               "--tasks-per-person", str(args.tasks_per_person),
               "--database-url", args.database_url]
    if args.profile:
        command += ["--profile", args.profile]
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if completed.returncode != 0:
        raise Failure(f"the {phase} phase exited with status {completed.returncode}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def check_counts(engine: Any, shape: Shape, what: str) -> dict[str, int]:
    counts = table_counts(engine)
    expected = shape.counts()
    wrong = [f"{name}: {counts[name]:,} rows, expected {expected[name]:,}"
             for name in expected if counts[name] != expected[name]]
    if wrong:
        raise Failure(f"after {what}: " + "; ".join(wrong))
    return counts


COMPARE = {
    "person": "SELECT p.email, p.name, m.email, p.timezone, p.cadence, p.checkin_weekday, "
              "p.checkin_time, p.is_hr, p.active_from, p.active_until "
              "FROM {s}.person p LEFT JOIN {s}.person m ON m.id = p.manager_id",
    "initiative": "SELECT i.import_key, i.title, o.email, i.status, i.progress, i.weight, i.due "
                  "FROM {s}.initiative i JOIN {s}.person o ON o.id = i.owner_id",
    "goal": "SELECT g.import_key, g.title, o.email, g.status, g.progress, g.weight, g.due, "
            "i.import_key FROM {s}.goal g JOIN {s}.person o ON o.id = g.owner_id "
            "JOIN {s}.initiative i ON i.id = g.initiative_id",
    "project": "SELECT p.import_key, p.title, o.email, p.status, p.progress, p.weight, p.due, "
               "g.import_key FROM {s}.project p JOIN {s}.person o ON o.id = p.owner_id "
               "JOIN {s}.goal g ON g.id = p.goal_id",
    "task": "SELECT t.import_key, t.title, o.email, t.status, t.progress, t.weight, t.due, "
            "t.description, t.completed_at IS NULL, p.import_key "
            "FROM {s}.task t JOIN {s}.person o ON o.id = t.owner_id "
            "JOIN {s}.project p ON p.id = t.project_id",
}


def compare_schemas(admin: Any, a: str, b: str) -> None:
    """The importer's rows and the baseline's rows must hold the same values."""
    from sqlalchemy import text

    differences = []
    with admin.connect() as conn:
        for name, query in COMPARE.items():
            for left, right in ((a, b), (b, a)):
                sql = f"SELECT count(*) FROM ({query.format(s=left)} EXCEPT " \
                      f"{query.format(s=right)}) AS d"
                missing = conn.execute(text(sql)).scalar_one()
                if missing:
                    differences.append(f"{name}: {missing:,} rows of {left} not in {right}")
    if differences:
        raise Failure("the importer and the baseline wrote different values: "
                      + "; ".join(differences))


def generate(org: Org, work: Path) -> float:
    start = time.perf_counter()
    say(f"generating {org.shape.people:,} people and {org.shape.tasks:,} tasks in {work} …")
    write_people(org, work / "people.csv")
    with progress_bar() as bar:
        job = bar.add_task("writing plan.csv", total=org.shape.tasks)
        write_plan(org, work / "plan.csv", lambda n: bar.update(job, completed=n))
    return time.perf_counter() - start


def orchestrate(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from models.db import make_engine
    from models.migrate import upgrade

    shape = Shape(args.people, args.tasks_per_person)
    tag = uuid.uuid4().hex[:8]
    schemas = {"import": f"bench_{tag}_import", "bulk": f"bench_{tag}_bulk"}
    admin = make_engine(args.database_url)
    created: list[str] = []
    figures: dict[str, dict[str, Any]] = {}
    try:
        with admin.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
        for schema in schemas.values():
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            created.append(schema)
            engine = phase_engine(args.database_url, schema)
            upgrade(engine)
            engine.dispose()
        with tempfile.TemporaryDirectory(prefix="drumbeat-bench-") as tmp:
            work = Path(tmp)
            generate_seconds = generate(Org(shape), work)
            sizes = {name: (work / name).stat().st_size / 1e6 for name in ("people.csv",
                                                                            "plan.csv")}
            a_engine = phase_engine(args.database_url, schemas["import"])
            b_engine = phase_engine(args.database_url, schemas["bulk"])

            checkpoint(admin)
            figures["import"] = spawn("import", schemas["import"], work, args)
            check_counts(a_engine, shape, "the import")
            created_counts = {"person": figures["import"]["people_created"],
                              **figures["import"]["plan_created"]}
            if created_counts != shape.counts():
                raise Failure(f"the import reported creating {created_counts}")

            checkpoint(admin)
            figures["reimport"] = spawn("reimport", schemas["import"], work, args)
            check_counts(a_engine, shape, "the re-import")
            if any(figures["reimport"]["plan_created"].values()):
                raise Failure(f"the re-import created rows: {figures['reimport']['plan_created']}")

            checkpoint(admin)
            figures["export"] = spawn("export", schemas["import"], work, args)
            if figures["export"]["rows"] != shape.tasks:
                raise Failure(f"the export has {figures['export']['rows']:,} rows, "
                              f"expected one per task ({shape.tasks:,})")
            figures["roundtrip"] = spawn("roundtrip", schemas["import"], work, args)
            touched = {level: figures["roundtrip"][key][level] for key in
                       ("plan_created", "plan_changed") for level in shape.counts()
                       if level != "person" and figures["roundtrip"][key][level]}
            if touched:
                raise Failure(f"importing the export created or changed items: {touched}")
            check_counts(a_engine, shape, "importing the export")

            checkpoint(admin)
            figures["bulk"] = spawn("bulk", schemas["bulk"], work, args)
            check_counts(b_engine, shape, "the bulk insert")
            say("comparing the imported rows with the baseline's …")
            compare_schemas(admin, schemas["import"], schemas["bulk"])
            a_engine.dispose()
            b_engine.dispose()
    except Failure as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        print(f"VERIFICATION FAILED: {exc}")
        return 1
    finally:
        if args.keep:
            say(f"kept schemas: {', '.join(created)}")
        elif created:
            with admin.begin() as conn:
                for schema in created:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    report(args, shape, server, generate_seconds, sizes, figures)
    return 0


def report(args: argparse.Namespace, shape: Shape, server: str, generate_seconds: float,
           sizes: dict[str, float], figures: dict[str, dict[str, Any]]) -> None:
    imp, again, bulk = figures["import"], figures["reimport"], figures["bulk"]
    export, roundtrip = figures["export"], figures["roundtrip"]
    export_ratio = export["seconds"] / imp["seconds"]
    export_peak = export["peak_rss_mb"]
    seconds, bulk_seconds = imp["seconds"], bulk["seconds"]
    ratio = seconds / bulk_seconds
    peak = imp["peak_rss_mb"]
    table_seconds = ", ".join(f"{name} {value:.2f}" for name, value in
                              bulk["table_seconds"].items())
    lines = [
        f"Drumbeat import benchmark: {shape.people:,} people, {shape.tasks:,} tasks; "
        f"{shape.rows:,} rows ({shape.initiatives} initiatives, {shape.goals:,} goals, "
        f"{shape.projects:,} projects); PostgreSQL {server}, {os.cpu_count()} CPUs",
        f"  generate files     {generate_seconds:8.2f} s  (people.csv {sizes['people.csv']:.1f} MB,"
        f" plan.csv {sizes['plan.csv']:.1f} MB; not counted)",
        f"  import people      {imp['people_seconds']:8.2f} s  (read "
        f"{imp['people_read_seconds']:.2f} s, load+commit {imp['people_load_seconds']:.2f} s)",
        f"  import plan        {imp['plan_seconds']:8.2f} s  (read_plan + load_plan + commit)",
        f"  import total       {seconds:8.2f} s  {shape.rows / seconds:,.0f} rows/s; peak RSS "
        f"{peak:.1f} MB (after people {imp['people_rss_mb']:.1f} MB, at start "
        f"{imp['baseline_rss_mb']:.1f} MB)",
        f"  re-import plan     {again['seconds']:8.2f} s  (update in place; peak RSS "
        f"{again['peak_rss_mb']:.1f} MB)",
        f"  bulk Core insert   {bulk_seconds:8.2f} s  ({table_seconds}); building the dicts "
        f"{bulk['build_seconds']:.2f} s not counted; peak RSS {bulk['peak_rss_mb']:.1f} MB",
        f"  ratio import/bulk  {ratio:8.2f}",
        f"  export plan        {export['seconds']:8.2f} s  (drumbeat export plan --out "
        f"export.csv: {export['rows']:,} rows, {export['megabytes']:.1f} MB; peak RSS "
        f"{export_peak:.1f} MB, at start {export['baseline_rss_mb']:.1f} MB)",
        f"  ratio export/import{export_ratio:8.2f}",
        f"  import the export  {roundtrip['seconds']:8.2f} s  (every item pinned by ref: "
        f"0 created, 0 changed; peak RSS {roundtrip['peak_rss_mb']:.1f} MB)",
        "  verified: row counts, and the imported values equal the baseline's",
        "  verified: the export has one row per task, and importing it changed nothing",
    ]
    missed = []
    if ratio > RATIO_TARGET:
        missed.append(f"TARGET MISSED: ratio_to_bulk {ratio:.2f} > {RATIO_TARGET}")
    if peak >= RSS_TARGET_MB:
        missed.append(f"TARGET MISSED: peak_rss_mb {peak:.1f} >= {RSS_TARGET_MB:.0f}")
    if export_ratio > EXPORT_RATIO_TARGET:
        missed.append(f"TARGET MISSED: export_ratio {export_ratio:.2f} > {EXPORT_RATIO_TARGET}")
    if export_peak >= RSS_TARGET_MB:
        missed.append(f"TARGET MISSED: export_peak_rss_mb {export_peak:.1f} >= "
                      f"{RSS_TARGET_MB:.0f}")
    lines.append(f"Targets: ratio_to_bulk <= {RATIO_TARGET} "
                 f"{'met' if ratio <= RATIO_TARGET else 'MISSED'}; peak_rss_mb < "
                 f"{RSS_TARGET_MB:.0f} {'met' if peak < RSS_TARGET_MB else 'MISSED'}; "
                 f"export_ratio <= {EXPORT_RATIO_TARGET} "
                 f"{'met' if export_ratio <= EXPORT_RATIO_TARGET else 'MISSED'}; "
                 f"export_peak_rss_mb < {RSS_TARGET_MB:.0f} "
                 f"{'met' if export_peak < RSS_TARGET_MB else 'MISSED'}")
    lines += missed
    lines.append(
        f"people={shape.people} tasks={shape.tasks} seconds={seconds:.2f} "
        f"rows_per_s={shape.rows / seconds:.0f} peak_rss_mb={peak:.1f} "
        f"bulk_seconds={bulk_seconds:.2f} ratio_to_bulk={ratio:.2f} "
        f"reimport_seconds={again['seconds']:.2f} export_seconds={export['seconds']:.2f} "
        f"export_ratio={export_ratio:.2f} export_peak_rss_mb={export_peak:.1f}")
    print("\n".join(lines), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the organisation")
    parser.add_argument("--tasks-per-person", type=int, default=50, help="tasks each person owns")
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"PostgreSQL URL (default {DEFAULT_URL})")
    parser.add_argument("--keep", action="store_true", help="do not drop the bench_* schemas")
    parser.add_argument("--profile", metavar="DIR",
                        help="write a cProfile file per phase (<phase>.prof) into DIR")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.people < 1 or args.tasks_per_person < 1:
        parser.error("--people and --tasks-per-person must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        run_phase(args)
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
