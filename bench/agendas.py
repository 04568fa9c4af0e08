"""Benchmark: one scheduler tick's check-in agendas for a whole organisation, end to end.

Imports a generated organisation of ``--people`` people (every one but the CEO
has a manager; 10 tasks each, due around today, mixed statuses; three in four
of this quarter's weekly 1:1s held) into a private PostgreSQL schema through the
real importer, gives every pair a weekly check-in 12 hours from ``now`` (in each
employee's own time zone), and measures against a local aiosmtpd sink (its own
process, keeping only the Message-ID and recipient of what it receives; the
dedupe key comes from the outbox row with that Message-ID):

* ``bare``  in one process, for the same (recipient, pair) combinations: render
  the agenda template from plain in-memory data, build the MIME message and
  send it over one reused SMTP connection. No database, no broker.
* ``real``  ``--workers`` ``drumbeat worker --threads T`` processes on Redis and
  PostgreSQL; one ``dispatch_due(now)`` message is sent, and the clock runs from
  that tick to the last agenda received by the sink.

Then every outbox row is checked against what the sink received (missing and
duplicated Message-IDs). The last stdout line is::

    messages=… seconds=… messages_per_s=… bare_per_s=… ratio_to_bare=… missing=…
    duplicates=… peak_rss_mb=… worker_cpu_ms=… bare_cpu_ms=… cpu_ratio=…

(on one line). Run ``.venv/bin/python bench/agendas.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from common import (
    DEFAULT_URL,
    NAMESPACE,
    Failure,
    Received,
    Sink,
    StatementCounter,
    Stopwatch,
    Workers,
    clear_redis,
    drumbeat_env,
    explain,
    peak_rss_mb,
    print_top_functions,
    progress_bar,
    resolve,
    say,
    schema_url,
    server_cpu_seconds,
)
from import_org import (
    DOMAIN,
    GOAL_OBJECTS,
    GOAL_VERBS,
    INITIATIVE_NAMES,
    PEOPLE_COLUMNS,
    PLAN_COLUMNS,
    TASK_OBJECTS,
    TASK_VERBS,
    WEEKDAYS,
    Org,
    Shape,
    mix,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET = "bench-agendas-secret"
TASKS_PER_PERSON = 10
PROJECTS_PER_TEAM = 3
INITIATIVES = 10
MEETING_AFTER = timedelta(hours=12)  # every check-in is this long after the tick
LEAD = timedelta(hours=24)  # DRUMBEAT_AGENDA_LEAD_HOURS' default
STALL_SECONDS = 90.0  # stop waiting when the sink has received nothing new for this long
RATIO_TARGET = 0.8
CPU_RATIO_TARGET = 2.0  # the workers' CPU an agenda, at most this many times the bare one's
RSS_TARGET_MB = 300.0


# --- the plan: every person's tasks, a pure function of (person, today) ------------------------

class PlanTask(NamedTuple):
    number: int  # 1-based, stands in for the task id in the bare phase
    title: str
    project: int  # project index: team manager * PROJECTS_PER_TEAM + j
    due: date
    status: str
    progress: int
    weight: float
    completed_on: date | None


class Plan:
    """Teams, projects, goals and tasks laid over the generated reporting tree.

    A team is a manager and their direct reports; it has ``PROJECTS_PER_TEAM``
    projects owned by the manager, and each member's ten tasks are spread over
    them. A goal groups the teams under one manager's manager (about 25
    projects and 600 tasks); goals spread over ten initiatives owned by the
    executives. Due dates fall from four weeks before ``today`` to six weeks
    after it; earlier ones are mostly done, later ones mostly open or in progress.
    """

    def __init__(self, org: Org, today: date) -> None:
        self.org = org
        self.today = today

    def team(self, person: int) -> int:
        manager = self.org.manager[person]
        return person if manager is None else manager

    def goal(self, team: int) -> int:
        manager = self.org.manager[team]
        return team if manager is None else manager

    def initiative(self, goal: int) -> int:
        return mix(goal, 11) % INITIATIVES

    @staticmethod
    def initiative_title(n: int) -> str:
        return f"I{n + 1:02d} {INITIATIVE_NAMES[n % len(INITIATIVE_NAMES)]}"

    @staticmethod
    def goal_title(g: int) -> str:
        h = mix(g, 3)
        verb, thing = GOAL_VERBS[h % len(GOAL_VERBS)], GOAL_OBJECTS[(h >> 8) % len(GOAL_OBJECTS)]
        return f"G{g + 1:05d} {verb} {thing}"

    def initiative_owner(self, n: int) -> int:
        return self.org.executives[n % len(self.org.executives)]

    def tasks(self, person: int) -> list[PlanTask]:
        team, today = self.team(person), self.today
        result = []
        for k in range(TASKS_PER_PERSON):
            n = person * TASKS_PER_PERSON + k
            h = mix(n, 7)
            offset = h % 70 - 28
            due = today + timedelta(days=offset)
            roll = (h >> 12) % 100
            if offset < 0:
                status = ("done" if roll < 55 else "in_progress" if roll < 70 else
                          "blocked" if roll < 78 else "open" if roll < 92 else "dropped")
            else:
                status = ("done" if roll < 8 else "open" if roll < 50 else
                          "in_progress" if roll < 82 else "blocked" if roll < 94 else "dropped")
            step = h >> 20
            progress = {"done": 100, "in_progress": 10 * (1 + step % 9),
                        "blocked": 5 * (step % 13), "dropped": 5 * (step % 11),
                        "open": 0}[status]
            completed_on = None
            if status == "done":
                completed_on = min(today, due + timedelta(days=(step >> 8) % 9 - 5))
            weight_roll = (h >> 28) % 20
            weight = 0.5 if weight_roll == 0 else 2.0 if weight_roll <= 3 else 1.0
            verb = TASK_VERBS[(h >> 36) % len(TASK_VERBS)]
            thing = TASK_OBJECTS[(h >> 44) % len(TASK_OBJECTS)]
            result.append(PlanTask(
                number=n + 1, title=f"{verb} {thing} #{person + 1}.{k + 1}",
                project=team * PROJECTS_PER_TEAM + (person + k) % PROJECTS_PER_TEAM,
                due=due, status=status, progress=progress, weight=weight,
                completed_on=completed_on))
        return result

    def project_owner(self, project: int) -> int:
        return project // PROJECTS_PER_TEAM

    def held_on(self, employee: int, checkin_day: date, window_start: date) -> list[date]:
        """Days of the pair's held 1:1s this quarter: three weeks in four, before this week."""
        days = []
        week = period_start(checkin_day) - timedelta(days=7)
        while week >= period_start(window_start):
            day = week + timedelta(days=checkin_day.weekday())
            if day >= window_start and mix(employee * 64 + week.toordinal(), 9) % 4:
                days.append(day)
            week -= timedelta(days=7)
        return sorted(days)


def period_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- generating the files ----------------------------------------------------------------------


def local_slot(meeting_at: datetime, timezone: str) -> tuple[int, dtime]:
    """The weekday and local time at which ``meeting_at`` happens in ``timezone``."""
    local = meeting_at.astimezone(ZoneInfo(timezone))
    return local.weekday(), local.time().replace(second=0, microsecond=0)


def write_people(org: Org, meeting_at: datetime, path: Path) -> None:
    """Everyone weekly, at the weekday and local time that is ``meeting_at`` in their zone."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PEOPLE_COLUMNS)
        for i in range(org.shape.people):
            person = org.person(i)
            weekday, local = local_slot(meeting_at, person.timezone)
            writer.writerow((
                person.email, person.name,
                "" if person.manager is None else org.email(person.manager),
                person.timezone, "weekly", WEEKDAYS[weekday] if weekday < 5 else
                ("Saturday", "Sunday")[weekday - 5], local.strftime("%H:%M"),
                "yes" if person.is_hr else "no"))


def write_plan(plan: Plan, path: Path) -> int:
    """One row per task; parents' owners on every row (only the first one is read)."""
    org = plan.org
    emails = [org.email(i) for i in range(org.shape.people)]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAN_COLUMNS)
        for person in range(org.shape.people):
            goal = plan.goal(plan.team(person))
            initiative = plan.initiative(goal)
            for task in plan.tasks(person):
                project_owner = plan.project_owner(task.project)
                writer.writerow((
                    plan.initiative_title(initiative),
                    emails[plan.initiative_owner(initiative)],
                    plan.goal_title(goal), emails[goal], org.project_title(task.project),
                    emails[project_owner], task.title, emails[person], task.due.isoformat(),
                    f"{task.weight:g}", task.status, str(task.progress),
                    task.completed_on.isoformat() if task.completed_on else ""))
                count += 1
    return count


# --- setup: schema, files, import (in a child process, so its memory is its own) ---------------

def import_main(url: str, work: str, people: int, now_iso: str, result: Connection) -> None:
    """Child process: people and plan through the real importer, then the held 1:1s."""
    from sqlalchemy import insert, select

    from models import Meeting, Person
    from models.db import make_engine, session_factory, unit_of_work
    from models.importing.load_people import load_people
    from models.importing.load_plan import load_plan
    from models.importing.people_file import read_people
    from models.importing.plan_file import read_plan
    from models.importing.problems import ProblemLog
    from models.scoring import quarter_window

    folder = Path(work)
    engine = make_engine(url)
    factory = session_factory(engine)
    figures: dict[str, Any] = {}
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        summary = load_people(session, read_people(folder / "people.csv"))
    figures["people_created"] = len(summary.created)
    figures["people_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        log = ProblemLog("plan.csv")
        plan_summary = load_plan(session, read_plan(folder / "plan.csv", log), log)
    figures["plan_created"] = plan_summary.created
    figures["plan_seconds"] = time.perf_counter() - start

    # The 1:1s held this quarter (the importer has no meetings; bare Core rows).
    start = time.perf_counter()
    org = Org(Shape(people, TASKS_PER_PERSON))
    now = datetime.fromisoformat(now_iso)
    plan = Plan(org, now.date())
    meeting_at = now + MEETING_AFTER
    rows = []
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Person.email, Person.id)).all())
        for employee in range(1, people):
            person = org.person(employee)
            local = meeting_at.astimezone(ZoneInfo(person.timezone))
            window = quarter_window(local.date())
            manager_id = ids[org.email(org.manager[employee])]  # type: ignore[index]
            for day in plan.held_on(employee, local.date(), window[0]):
                rows.append({"manager_id": manager_id, "employee_id": ids[person.email],
                             "period_start": period_start(day),
                             "period_end": period_start(day) + timedelta(days=6),
                             "status": "held", "held_on": day, "duration_minutes": 30,
                             "confirmed_by_manager": True, "confirmed_by_employee": True,
                             "created_at": now, "updated_at": now})
        for first in range(0, len(rows), 5000):
            conn.execute(insert(Meeting.__table__), rows[first:first + 5000])
        conn.commit()
    figures["meetings"] = len(rows)
    figures["meetings_seconds"] = time.perf_counter() - start
    figures["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    result.send(figures)


def run_import(context: Any, url: str, work: Path, people: int, now: datetime
               ) -> dict[str, Any]:
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=import_main, args=(url, str(work), people, now.isoformat(),
                                                      send), name="agenda-import")
    child.start()
    send.close()
    figures = receive.recv() if receive.poll(3600) else None
    child.join()
    if child.exitcode != 0 or figures is None:
        raise Failure(f"the import exited with status {child.exitcode}")
    return figures  # type: ignore[no-any-return]


# --- the bare pipeline: render, build, send; no database, no broker ----------------------------

def bare_views(org: Org, plan: Plan, meeting_at: datetime, now: datetime
               ) -> Iterator[tuple[Any, str, int, int]]:
    """(view, recipient address, manager, employee) for every agenda of the tick, built from
    the same generated data the database holds, by the rules of ``workers.agendas``."""
    from mail.write.agenda import AgendaView, GoalLine, TaskLine
    from models.scoring import Cadence, adherence, quarter_window
    from workers.agendas import period_label

    def line(task: PlanTask) -> TaskLine:
        return TaskLine(ref=f"T-{task.number}", title=task.title, due=task.due,
                        status=task.status, progress=task.progress,
                        project=f"P-{task.project + 1} {org.project_title(task.project)}")

    last_slot = meeting_at - timedelta(days=7)
    for employee in range(1, org.shape.people):
        manager = org.manager[employee]
        assert manager is not None
        staff, boss = org.person(employee), org.person(manager)
        zone = ZoneInfo(staff.timezone)
        local = meeting_at.astimezone(zone)
        following = (meeting_at + timedelta(days=7)).astimezone(zone).date()
        tasks = sorted((t for t in plan.tasks(employee) if t.status != "dropped"),
                       key=lambda t: (t.due, t.number))
        today = now.astimezone(zone).date()
        open_ = [t for t in tasks if t.status in ("open", "in_progress")]
        done = [t for t in tasks if t.status == "done" and t.completed_on
                and datetime.combine(t.completed_on, dtime(12), UTC) >= last_slot]
        goal = plan.goal(plan.team(employee))
        weights = sum(t.weight for t in tasks) or 1.0
        window = quarter_window(today)
        record = adherence(window_start=window[0], window_end=window[1],
                           cadence=Cadence.WEEKLY, as_of=today,
                           held_on=plan.held_on(employee, local.date(), window[0]))
        view = AgendaView(
            role="employee", recipient_name=staff.name, employee_name=staff.name,
            manager_name=boss.name, meeting_at=local,
            period_label=period_label(_weekly(local.date()), Cadence.WEEKLY),
            overdue=tuple(line(t) for t in open_ if t.due < today),
            due_soon=tuple(line(t) for t in open_ if today <= t.due < following),
            blocked=tuple(line(t) for t in tasks if t.status == "blocked"),
            in_progress_later=tuple(line(t) for t in open_
                                    if t.due >= following and t.status == "in_progress"),
            not_started_later=tuple(line(t) for t in open_
                                    if t.due >= following and t.status == "open"),
            done_recently=tuple(map(line, done)),
            goals=(GoalLine(f"G-{goal + 1}", plan.goal_title(goal),
                            sum(t.progress * t.weight for t in tasks) / weights),),
            last_meeting=record.last_held, quarter_label=window[2], held=record.held,
            expected=record.expected, adherence=record.rate, today=today)
        yield view, staff.email, manager, employee
        boss_zone = ZoneInfo(boss.timezone)
        yield (replace(view, role="manager", recipient_name=boss.name,
                       meeting_at=meeting_at.astimezone(boss_zone),
                       today=now.astimezone(boss_zone).date()),
               boss.email, manager, employee)


def _weekly(day: date) -> Any:
    from models.scoring import Cadence, period_containing

    return period_containing(day, Cadence.WEEKLY)


SKIPPED_BARE = {"messages": 1, "seconds": 0.0, "prepare_seconds": 0.0, "cpu_seconds": 0.0,
                "sink_cpu_seconds": 0.0, "received": 0, "distinct": 0, "per_s": 0.0}


def run_bare(org: Org, plan: Plan, meeting_at: datetime, now: datetime, sink: Sink,
             expected: int) -> dict[str, Any]:
    from mail.doors.transport import RelayConfig, SmtpTransport
    from mail.write.compose import build_message, make_message_id, thread_root_id
    from mail.write.render import render_agenda
    from mail.write.tokens import reply_address

    sender = f"drumbeat@{DOMAIN}"
    transport = SmtpTransport(RelayConfig(host="127.0.0.1", port=sink.port, starttls=False))
    views = bare_views(org, plan, meeting_at, now)
    prepare = prepare_cpu = 0.0  # building the plain views: the database's stand-in, not counted
    sent = 0
    with progress_bar() as bar:
        job = bar.add_task("bare pipeline", total=expected)
        cpu = time.process_time()
        start = time.perf_counter()
        while True:
            mark, mark_cpu = time.perf_counter(), time.process_time()
            item = next(views, None)
            prepare += time.perf_counter() - mark
            prepare_cpu += time.process_time() - mark_cpu
            if item is None:
                break
            view, to_addr, manager, employee = item
            root = thread_root_id(manager + 1, employee + 1, DOMAIN)
            rendered = render_agenda(view)
            message = build_message(
                rendered=rendered, from_addr=sender, to_addr=to_addr,
                reply_to=reply_address(sent + 1, SECRET, DOMAIN),
                message_id=make_message_id(DOMAIN, "agenda"), in_reply_to=root,
                references=[root], date=datetime.now(UTC))
            transport.send(message, sender, [to_addr])
            sent += 1
            if sent % 200 == 0:
                bar.update(job, completed=sent)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu - prepare_cpu
        bar.update(job, completed=sent)
    transport.close()
    at_sink = sink.take()
    seconds = wall - prepare
    return {"messages": sent, "seconds": seconds, "prepare_seconds": prepare,
            "cpu_seconds": cpu, "sink_cpu_seconds": at_sink.cpu_seconds,
            "received": at_sink.received,
            "distinct": len({r.header for r in at_sink.records}), "per_s": sent / seconds}


# --- the real pipeline: workers on Redis and PostgreSQL ----------------------------------------

def outbox_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return dict(conn.execute(text(  # type: ignore[arg-type]
            "SELECT status, count(*) FROM outbound_message WHERE kind = 'agenda' "
            "GROUP BY status")).all())


def run_real(args: argparse.Namespace, url: str, now: datetime, sink: Sink, expected: int,
             engine: Any, folder: Path) -> dict[str, Any]:
    from config.settings import Settings
    from workers import actors
    from workers.broker import make_broker

    if args.pg_max_stack_depth:  # appended to the workers' libpq options
        url += f"%20-cmax_stack_depth%3D{args.pg_max_stack_depth}"
    env = drumbeat_env(url, args.redis_url, sink.port, DOMAIN, SECRET)
    settings = Settings(database_url=url, redis_url=args.redis_url, smtp_host="127.0.0.1",
                        smtp_port=sink.port, smtp_starttls=False, mail_domain=DOMAIN,
                        secret_key=SECRET)  # type: ignore[arg-type]
    clear_redis(args.redis_url, starting=True)
    say(f"starting {args.workers} worker processes × {args.threads} threads …")
    workers = Workers(args.workers, args.threads, env, folder)
    broker = make_broker(args.redis_url, NAMESPACE)
    figures: dict[str, Any] = {}
    try:
        actors.bind(broker, settings)
        time.sleep(1.0)  # let the consumers connect to Redis
        pg_cpu, redis_cpu = server_cpu_seconds("postgres"), server_cpu_seconds("redis-server")
        worker_cpu = workers.cpu_seconds()
        start = time.time()  # the sink's arrival times are time.time() too
        actors.dispatch_due.send(now.isoformat())
        received, changed, dispatched_at = 0, start, None
        with progress_bar() as bar:
            job = bar.add_task("real pipeline", total=expected)
            while received < expected:
                time.sleep(0.2)
                count = sink.count().received
                moment = time.time()
                if dispatched_at is None and outbox_counts(engine):
                    dispatched_at = moment
                if count != received:
                    received, changed = count, moment
                    bar.update(job, completed=count)
                if not workers.alive():
                    raise Failure(f"a worker process exited during the run:\n{workers.tails()}")
                if moment - changed > STALL_SECONDS:
                    say(f"nothing received for {STALL_SECONDS:.0f} s: giving up waiting; "
                        f"the workers' logs end with:\n{workers.tails()}")
                    break
        at_sink = sink.count()
        figures["seconds"] = (at_sink.last if at_sink.received else time.time()) - start
        figures["first_seconds"] = at_sink.first - start if at_sink.received else None
        figures["dispatch_seconds"] = (dispatched_at - start) if dispatched_at else None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the last rows are marked sent after the 250 OK
            counts = outbox_counts(engine)
            if not set(counts) & {"pending", "queued", "claimed"}:
                break
            time.sleep(0.2)
        figures["outbox"] = outbox_counts(engine)
        figures["worker_cpu_seconds"] = [after - before for before, after in
                                         zip(worker_cpu, workers.cpu_seconds(), strict=True)]
        figures["postgres_cpu_seconds"] = server_cpu_seconds("postgres") - pg_cpu
        figures["redis_cpu_seconds"] = server_cpu_seconds("redis-server") - redis_cpu
        figures["worker_rss_mb"] = workers.peak_rss_mb()
    finally:
        workers.stop()
        broker.close()
        with contextlib.suppress(Exception):
            clear_redis(args.redis_url)
    at_sink = sink.take()
    figures["records"] = at_sink.records
    figures["sink_cpu_seconds"] = at_sink.cpu_seconds
    return figures


# --- verification ------------------------------------------------------------------------------

def verify(engine: Any, org: Org, records: list[Received]) -> dict[str, Any]:
    """Every agenda of the tick received once: by (recipient, pair) and by Message-ID."""
    from sqlalchemy import text

    with engine.connect() as conn:
        emails = dict(conn.execute(text("SELECT id, email FROM person")).all())  # type: ignore
        rows = conn.execute(text(
            "SELECT message_id, to_address, recipient_id, context, dedupe_key, status "
            "FROM outbound_message WHERE kind = 'agenda'")).all()
    expected = set()
    for employee in range(1, org.shape.people):
        manager = org.manager[employee]
        assert manager is not None
        pair = (org.email(manager), org.email(employee))
        expected |= {(org.email(employee), *pair), (org.email(manager), *pair)}
    received = Counter(r.header for r in records)
    rcpts = {r.header: r.recipient for r in records}
    by_mid = {row.message_id: row for row in rows}
    delivered = set()
    wrong_recipient = 0
    for row in rows:
        context = row.context or {}
        triple = (emails.get(row.recipient_id), emails.get(context.get("manager_id")),
                  emails.get(context.get("employee_id")))
        if received.get(row.message_id):
            delivered.add(triple)
            if rcpts[row.message_id] != row.to_address:
                wrong_recipient += 1
    return {
        "rows": len(rows),
        "dedupe_keys": len({row.dedupe_key for row in rows}),
        "missing": len(expected - delivered),
        "unexpected_rows": len({(emails.get(r.recipient_id),
                                 emails.get((r.context or {}).get("manager_id")),
                                 emails.get((r.context or {}).get("employee_id")))
                                for r in rows} - expected),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "unknown": sum(1 for mid in received if mid not in by_mid),
        "wrong_recipient": wrong_recipient,
        "not_sent": sum(1 for row in rows if row.status != "sent"),
    }


# --- profiling one worker's deliver() ----------------------------------------------------------

def reset_rows(engine: Any, count: int, offset: int) -> list[int]:
    from sqlalchemy import text

    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(text(
            "SELECT id FROM outbound_message WHERE kind = 'agenda' ORDER BY id "
            "LIMIT :n OFFSET :o"), {"n": count, "o": offset})]
        conn.execute(text(
            "UPDATE outbound_message SET status = 'queued', attempts = 0, body_text = NULL, "
            "body_html = NULL, claimed_at = NULL, sent_at = NULL WHERE id = ANY(:ids)"),
            {"ids": ids})
    return ids


class InlinerProxy:
    """css_inline's inliner is a native object: time it through a Python stand-in."""

    def __init__(self, inliner: Any) -> None:
        self._inliner = inliner

    def inline(self, html: str) -> str:
        return self._inliner.inline(html)  # type: ignore[no-any-return]


STAGES = (  # (owner path, attribute, label, depth); times are inclusive
    ("workers.sending", "deliver_batch", "deliver_batch (whole)", 0),
    ("workers.sending", "_render", "read the rows, render them", 1),
    ("RENDERERS", "agenda", "agenda_renderer (the batch's people)", 2),
    ("workers.agendas", "read_agendas", "read_agendas (the batch's work)", 3),
    ("workers.agendas", "agenda_view", "agenda_view (a pair's view)", 2),
    ("workers.agendas", "record_of", "record_of (the check-in record)", 3),
    ("workers.agendas", "_goal_progress_cached", "goal progress (cached)", 3),
    ("workers.agendas", "render_agenda", "render_agenda (Jinja2 + css-inline)", 2),
    ("inliner", "inline", "css-inline", 3),
    ("workers.outbox", "claim", "outbox.claim with the words (UPDATE)", 1),
    ("workers.sending", "build_message", "build_message (MIME tree)", 1),
    ("transport", "send", "transport.send", 1),
    ("smtplib.SMTP", "sendmail", "smtplib sendmail (wire)", 2),
    ("workers.sending", "_record_sent", "mark sent (UPDATE, a group of rows)", 1),
    ("sqlalchemy.orm.session.SessionTransaction", "commit", "commits (with flush)", 1),
    ("dialect", "do_ping", "pool pre-ping (SELECT 1)", 1),
)


def profile_deliver(args: argparse.Namespace, url: str, sink: Sink, engine: Any) -> None:
    """Send agenda rows again in this process (one thread), in batches as the workers
    do: first with stopwatches and a SQL statement counter, then under cProfile; EXPLAIN
    ANALYZE one batch's SELECTs."""
    from config.settings import Settings
    from mail.write import render as mail_render
    from workers import sending
    from workers.actors import SEND_BATCH
    from workers.runtime import configure, one_connection

    def send(ids: list[int]) -> None:
        for start in range(0, len(ids), SEND_BATCH):
            with one_connection(rt) as batch_rt:
                sending.deliver_batch(batch_rt, ids[start:start + SEND_BATCH])

    n = args.profile_rows
    ids = reset_rows(engine, 2 * n + SEND_BATCH, 0)
    settings = Settings(database_url=url, smtp_host="127.0.0.1", smtp_port=sink.port,
                        smtp_starttls=False, mail_domain=DOMAIN,
                        secret_key=SECRET)  # type: ignore[arg-type]
    rt = configure(settings)
    send(ids[:SEND_BATCH])  # warm up: templates, connection pool, prepared statements
    ids = ids[SEND_BATCH:]

    watch = Stopwatch()
    inliner = InlinerProxy(mail_render.css_inliner())
    owners: dict[str, Any] = {"RENDERERS": rt.renderers.words, "transport": rt.transport,
                              "dialect": rt.engine.dialect, "inliner": inliner}
    for path, attribute, label, _depth in STAGES:
        watch.wrap(owners.get(path) or resolve(path), attribute, label)
    original_inliner = mail_render.css_inliner
    mail_render.css_inliner = lambda: inliner  # type: ignore[assignment]
    with StatementCounter([rt.engine]) as sql:
        wall, cpu = time.perf_counter(), time.thread_time()
        for start in range(0, n, SEND_BATCH):
            sql.capture = start + SEND_BATCH >= n
            send(ids[start:min(start + SEND_BATCH, n)])
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    watch.restore()
    mail_render.css_inliner = original_inliner  # type: ignore[assignment]

    print(f"Profile of deliver_batch(), one thread in the benchmark process, {n} agenda rows "
          f"in batches of {SEND_BATCH} (stopwatches, no profiler):")
    print(f"  per message: {wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU; "
          f"{sum(sql.count.values()) / n:.2f} SQL statements, {sql.checkouts / n:.2f} "
          f"connection checkouts (each one a pre-ping round trip)")
    print(f"  {'stage (inclusive)':<42} {'wall ms':>8} {'CPU ms':>8}")
    for _path, _attribute, label, depth in STAGES:
        if watch.calls[label]:
            print(f"  {'  ' * depth + label:<42} {watch.wall[label] / n * 1000:8.2f} "
                  f"{watch.cpu[label] / n * 1000:8.2f}")
    sql.print_table(n, "a msg", 42)
    explain(rt.engine, sql.captured, "one batch")

    profiler = cProfile.Profile()
    profiler.enable()
    send(ids[n:])
    profiler.disable()
    rt.engine.dispose()
    sink.take()
    print_top_functions(profiler, Path(args.profile) / "deliver.prof",
                        f"{len(ids) - n} more rows")


# --- the parent: set up, run both phases, verify, report ---------------------------------------

def orchestrate(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from models.db import make_engine
    from models.migrate import upgrade
    from workers import actors  # noqa: F401  (fail now, not after the setup, if it is broken)

    context = multiprocessing.get_context("spawn")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    meeting_at = now + MEETING_AFTER
    org = Org(Shape(args.people, TASKS_PER_PERSON))
    plan = Plan(org, now.date())
    expected = 2 * (args.people - 1)
    schema = f"bench_{uuid.uuid4().hex[:8]}_agendas"
    url = schema_url(args.database_url, schema)
    admin = make_engine(args.database_url)
    engine = None
    sink: Sink | None = None
    created = False
    figures: dict[str, Any] = {}
    try:
        clear_redis(args.redis_url, starting=True)  # a spare database, and no other run on it
        with admin.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        created = True
        engine = make_engine(url)
        upgrade(engine)
        with tempfile.TemporaryDirectory(prefix="drumbeat-agendas-") as tmp:
            work = Path(tmp)
            say(f"generating {args.people:,} people and "
                f"{args.people * TASKS_PER_PERSON:,} tasks; check-ins at "
                f"{meeting_at.isoformat()} …")
            write_people(org, meeting_at, work / "people.csv")
            figures["tasks"] = write_plan(plan, work / "plan.csv")
            say("importing …")
            figures["import"] = run_import(context, url, work, args.people, now)
            with admin.connect() as conn:  # what autovacuum would have done by now
                conn.execute(text(f'SET search_path TO "{schema}"'))
                conn.execute(text("ANALYZE"))
                conn.commit()
                conn.execute(text("CHECKPOINT"))
            sink = Sink(context, "Message-ID", "agenda-sink")
            say(f"bare pipeline: {expected:,} agendas to the sink on port {sink.port} …")
            figures["bare"] = (run_bare(org, plan, meeting_at, now, sink, expected)
                               if not args.skip_bare else SKIPPED_BARE)
            figures["real"] = run_real(args, url, now, sink, expected, engine, work)
            figures["check"] = verify(engine, org, figures["real"].pop("records"))
            if args.profile and figures["check"]["rows"] > 2 * args.profile_rows + 32:
                profile_deliver(args, url, sink, engine)
            figures["sink_rss_mb"] = sink.peak_rss_mb()
    except Failure as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        print(f"VERIFICATION FAILED: {exc}")
        return 1
    finally:
        if sink is not None:
            sink.stop()
        if engine is not None:
            engine.dispose()
        if created and args.keep:
            say(f"kept schema: {schema}")
        elif created:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    figures["self_rss_mb"] = peak_rss_mb()
    report(args, server, expected, figures)
    return 0


def report(args: argparse.Namespace, server: str, expected: int,
           figures: dict[str, Any]) -> None:
    imp, bare, real, check = (figures["import"], figures["bare"], figures["real"],
                              figures["check"])
    received = real["outbox"].get("sent", 0)
    messages = check["rows"] - check["missing"] if check["rows"] else 0
    messages = min(messages, expected)
    seconds = real["seconds"]
    per_s = messages / seconds if seconds > 0 else 0.0
    ratio = per_s / bare["per_s"] if bare["per_s"] else 0.0
    rss = {"benchmark": figures["self_rss_mb"], "sink": figures["sink_rss_mb"],
           **{f"worker {n + 1}": mb for n, mb in enumerate(real["worker_rss_mb"])}}
    peak = max(rss.values())
    worker_cpu = sum(real["worker_cpu_seconds"])
    worker_cpu_ms = worker_cpu / max(messages, 1) * 1000
    bare_cpu_ms = bare["cpu_seconds"] / max(bare["messages"], 1) * 1000
    cpu_ratio = worker_cpu_ms / bare_cpu_ms if bare_cpu_ms else 0.0
    per_message = {"workers": worker_cpu, "postgres": real["postgres_cpu_seconds"],
                   "redis": real["redis_cpu_seconds"], "sink": real["sink_cpu_seconds"]}
    cpu_line = ", ".join(f"{name} {value / max(messages, 1) * 1000:.2f}"
                         for name, value in per_message.items())
    dispatch = real["dispatch_seconds"]
    first = real["first_seconds"]
    lines = [
        f"Drumbeat agenda benchmark: {args.people:,} people, {figures['tasks']:,} tasks, "
        f"{expected:,} agendas expected; PostgreSQL {server}, {os.cpu_count()} CPUs; "
        f"{args.workers} workers × {args.threads} threads"
        + (f"; workers' max_stack_depth {args.pg_max_stack_depth}"
           if args.pg_max_stack_depth else ""),
        f"  setup import       {imp['people_seconds'] + imp['plan_seconds']:8.2f} s  (people "
        f"{imp['people_seconds']:.2f} s, plan {imp['plan_seconds']:.2f} s, "
        f"{imp['meetings']:,} held 1:1s {imp['meetings_seconds']:.2f} s; peak RSS "
        f"{imp['peak_rss_mb']:.1f} MB; not counted)",
        f"  bare pipeline      {bare['seconds']:8.2f} s  {bare['messages']:,} messages, "
        f"{bare['per_s']:.1f}/s; {bare_cpu_ms:.2f} ms CPU "
        f"and sink {bare['sink_cpu_seconds'] / bare['messages'] * 1000:.2f} ms CPU a message"
        f" (building the plain views, {bare['prepare_seconds']:.2f} s, not counted in either)",
        f"  real pipeline      {seconds:8.2f} s  {messages:,} messages, {per_s:.1f}/s; "
        f"outbox rows after "
        f"{'-' if dispatch is None else f'{dispatch:.2f} s'}, first message after "
        f"{'-' if first is None else f'{first:.2f} s'}",
        f"  CPU ms a message   {cpu_line} (workers "
        + ", ".join(f"{value:.1f}" for value in real["worker_cpu_seconds"]) + " s)",
        f"  ratio real/bare    {ratio:8.2f}  (CPU a message: workers {worker_cpu_ms:.2f} ms / "
        f"bare {bare_cpu_ms:.2f} ms = {cpu_ratio:.2f})",
        "  peak RSS MB        " + ", ".join(f"{name} {mb:.1f}" for name, mb in rss.items()),
        f"  verified: {check['rows']:,} agenda rows ({check['dedupe_keys']:,} dedupe keys), "
        f"{received:,} marked sent, outbox {dict(sorted(real['outbox'].items()))}; "
        f"missing {check['missing']}, duplicates {check['duplicates']}, unknown Message-IDs "
        f"{check['unknown']}, wrong recipient {check['wrong_recipient']}, unexpected rows "
        f"{check['unexpected_rows']}; bare: {bare['received']:,} received, "
        f"{bare['distinct']:,} distinct",
    ]
    missed = []
    if check["missing"] or check["duplicates"]:
        missed.append(f"TARGET MISSED: every agenda exactly once (missing={check['missing']} "
                      f"duplicates={check['duplicates']})")
    if check["unknown"] or check["wrong_recipient"] or check["unexpected_rows"]:
        missed.append("TARGET MISSED: the sink received messages the outbox does not explain")
    if ratio < RATIO_TARGET:
        missed.append(f"TARGET MISSED: ratio_to_bare {ratio:.2f} < {RATIO_TARGET}")
    if cpu_ratio > CPU_RATIO_TARGET:
        missed.append(f"TARGET MISSED: cpu_ratio {cpu_ratio:.2f} > {CPU_RATIO_TARGET}")
    if peak >= RSS_TARGET_MB:
        missed.append(f"TARGET MISSED: peak_rss_mb {peak:.1f} >= {RSS_TARGET_MB:.0f}")
    lines.append(f"Targets: missing=0 duplicates=0 "
                 f"{'met' if not (check['missing'] or check['duplicates']) else 'MISSED'}; "
                 f"ratio_to_bare >= {RATIO_TARGET} {'met' if ratio >= RATIO_TARGET else 'MISSED'}"
                 f"; cpu_ratio <= {CPU_RATIO_TARGET} "
                 f"{'met' if cpu_ratio <= CPU_RATIO_TARGET else 'MISSED'}"
                 f"; peak_rss_mb < {RSS_TARGET_MB:.0f} "
                 f"{'met' if peak < RSS_TARGET_MB else 'MISSED'}")
    lines += missed
    lines.append(
        f"messages={messages} seconds={seconds:.2f} messages_per_s={per_s:.1f} "
        f"bare_per_s={bare['per_s']:.1f} ratio_to_bare={ratio:.2f} missing={check['missing']} "
        f"duplicates={check['duplicates']} peak_rss_mb={peak:.1f} "
        f"worker_cpu_ms={worker_cpu_ms:.2f} bare_cpu_ms={bare_cpu_ms:.2f} "
        f"cpu_ratio={cpu_ratio:.2f}")
    print("\n".join(lines), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the organisation")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per worker process (default 2)")
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"PostgreSQL URL (default {DEFAULT_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"Redis URL of a spare database (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--keep", action="store_true", help="do not drop the bench_* schema")
    parser.add_argument("--pg-max-stack-depth", metavar="SIZE",
                        help="set max_stack_depth (e.g. 7MB; needs a superuser) in the workers' "
                             "sessions: a work-around for dispatch_due's row-value IN lists, "
                             "which exceed PostgreSQL's default 2MB from about 5,000 pairs")
    parser.add_argument("--profile", metavar="DIR",
                        help="afterwards, send 300 agendas again through deliver_batch() in "
                             "this process with stopwatches and a SQL statement count, then "
                             "300 more under cProfile (written to DIR/deliver.prof)")
    parser.add_argument("--profile-rows", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--skip-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.people < 2 or args.workers < 1 or args.threads < 1:
        parser.error("--people must be at least 2, --workers and --threads at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return orchestrate(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
