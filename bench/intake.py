"""Benchmark: replies in over SMTP, stored, applied and answered, against bare pipelines.

Imports a generated organisation of ``--people`` people (10 tasks each) into a
private PostgreSQL schema through the real importer, generates ``--messages``
replies of about 5 KB (2-3 update lines on the sender's own tasks, often
``met: yes``, a signature and a quoted agenda; one Message-ID each; sent to
``updates@`` from ``--people`` distinct senders, each in reply to an agenda we sent
them, so in our own thread) and measures, on loopback:

* ``bare``    an aiosmtpd server (own process) that only INSERTs the raw bytes into
  a table and commits, one transaction a message: the baseline for accepting;
* ``bare apply`` one process that applies and answers what ``bare`` stored with the
  project's pure functions, plain SQL and SMTP (``intake_bare``): the baseline for
  applying; the tasks and meetings are put back afterwards;
* ``accept``  ``drumbeat smtpd`` (on Redis it runs no worker of its own) with no worker
  process started: the client sends every reply over ``--connections`` reused SMTP
  connections, as for the baseline, and the nudges wait on Redis;
* ``apply``   then ``--workers`` ``drumbeat worker --threads T`` processes work the
  backlog; the clock runs until every reply is applied and its answer is at a local
  SMTP sink (the relay, its own process);
* ``steady``  a fresh ``drumbeat smtpd`` and the same workers, offered ``--rate``
  replies a second for ``--steady-seconds``; latency is from ``received_at`` (the
  smtpd's insert) to the moment the row is seen applied.

Afterwards every reply answered 250 is looked up: stored, applied, its task
history rows counted against its update lines, its answer counted at the sink.
The last stdout line (one line)::

    messages=… people=… applied_per_s=… bare_apply_per_s=… apply_ratio=… p50_ms=…
    p99_ms=… lost=… applied_twice=… accept_per_s=… bare_accept_per_s=… ratio_to_bare=…
    cpu_ms_per_reply=… apply_cpu_ms=… bare_apply_cpu_ms=…

Run ``.venv/bin/python bench/intake.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import math
import multiprocessing
import os
import queue
import quopri
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, NamedTuple

from common import (
    DEFAULT_URL,
    NAMESPACE,
    TICK,
    Failure,
    Received,
    Sink,
    StatementCounter,
    Stopwatch,
    Workers,
    checkpoint,
    clear_redis,
    drumbeat_env,
    explain,
    free_port,
    print_top_functions,
    proc_cpu_seconds,
    progress_bar,
    read_line,
    resolve,
    say,
    schema_url,
    server_cpu_seconds,
    tail,
)
from import_org import DOMAIN, Org, Shape, mix, write_people, write_plan

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
SECRET = "bench-intake-secret"
TASKS_PER_PERSON = 10
THREAD_REPLIES = 1_000  # replies a sender's agenda thread gets (In-Reply-To names it)
TARGET_BYTES = 5_000  # the size of a reply on the wire, roughly
STALL_SECONDS = 120.0  # give up waiting when nothing moved for this long
PROFILE_EXTRA = 2_500  # replies the --profile runs add after the phases' (in thread too)
PROFILE_BATCH = 13  # replies a nudge carries at the accept rate (process_inbound_batch)
APPLIED_POLL_SECONDS = 0.02  # how often the steady phase looks for newly applied rows
ACCEPT_RATIO_TARGET = 0.8
APPLY_RATIO_TARGET = 0.8  # applied and answered a second, against the bare apply pipeline
P50_TARGET_MS = 500.0
UPDATES = f"updates@{DOMAIN}"
TRUSTED = "127.0.0.1/32"  # the load generator stands in for the company's mail server


# --- the replies -----------------------------------------------------------------------------

class Person(NamedTuple):
    id: int
    email: str
    name: str
    manager: str | None  # the manager's name
    tasks: tuple[tuple[int, str, int], ...]  # (id, title, progress)


class Reply(NamedTuple):
    number: int
    message_id: str
    sender: str
    raw: bytes
    task_lines: int  # update lines on own tasks: each must add exactly one history row


BLOCKERS = ("waiting on legal", "needs the Q3 numbers from finance", "vendor has not answered",
            "blocked by the API freeze", "waiting for the security review")
NOTES = ("drafted the intro", "first pass done, reviewing with Sam", "halfway through the "
         "interviews", "numbers look better than expected", "merged the first part",
         "shared with the team for comments")
PROSE = (
    "Sorry this is late, the vendor call ran over.",
    "Short week for me, I'm out on Friday.",
    "Can we spend ten minutes on hiring next time?",
    "All good otherwise. The launch date still holds.",
    "I moved the rest to next week, see above.",
)
FILLER = (
    "Thanks for the notes from last week; I went through all of them with the team and",
    "we agreed to keep the scope as it is for now. The open question is still whether the",
    "migration should wait for the new region, which would push the cut-over by two weeks.",
    "Finance asked for a one-page summary of the costs before the review, I'll draft it.",
    "On hiring: two candidates are in the final round, decisions expected by Thursday.",
    "The customer call on Tuesday went well; they want the export feature before renewal.",
)


def reply_text(n: int, person: Person, when: datetime) -> tuple[str, int]:
    """The body of reply ``n`` (plain text) and how many task update lines it carries."""
    h = mix(n, 21)
    count = 2 + h % 2
    start = (h >> 4) % len(person.tasks)
    lines = []
    for k in range(min(count, len(person.tasks))):
        task_id, _title, progress = person.tasks[(start + k) % len(person.tasks)]
        roll = (h >> (8 + 4 * k)) % 10
        if roll < 4:
            percent = min(95, max(10, (progress // 10 + 1 + roll) * 10))
            lines.append(f"T-{task_id} {percent}% {NOTES[(h >> (20 + k)) % len(NOTES)]}")
        elif roll < 6:
            lines.append(f"T-{task_id} done")
        elif roll < 8:
            lines.append(f"T-{task_id} blocked: {BLOCKERS[(h >> 24) % len(BLOCKERS)]}")
        elif roll < 9:
            lines.append(f"T-{task_id} started")
        else:
            lines.append(f"T-{task_id} note: {NOTES[(h >> (28 + k)) % len(NOTES)]}")
    task_lines = len(lines)
    if (h >> 32) % 3:
        lines.append("met: yes 30min" if (h >> 34) % 2 else "met: yes")
    first = person.name.split()[0]
    body = [*lines, "", PROSE[(h >> 36) % len(PROSE)], "", "Thanks,", first, "", "-- ",
            person.name, "Northwind Traders | Operations", f"+44 20 7946 {n % 10_000:04d}", ""]
    agenda_day = when - timedelta(days=1)
    body.append(f"On {agenda_day:%a, %d %b %Y} at 09:00, Drumbeat <drumbeat@{DOMAIN}> wrote:")
    quoted = [f"Hi {first},", "",
              f"Your 1:1 with {person.manager or 'the board'} is tomorrow at 10:00. "
              "Here is where things stand.", "", "DUE BEFORE YOUR NEXT CHECK-IN"]
    for task_id, title, progress in person.tasks:
        quoted.append(f"  [T-{task_id}] {title} — {progress}% (due {when:%a %d %b})")
    quoted += ["", "HOW TO REPLY", "Write one update per line at the top of your reply:"]
    task_id = person.tasks[0][0]
    quoted += [f"  T-{task_id} 60% drafted the intro", f"  T-{task_id} done",
               f"  T-{task_id} blocked: waiting on legal", "  met: yes 30min", "",
               "Last week you wrote:"]
    quoted += [f"> T-{t} {p}%" for t, _title, p in person.tasks[:3]]
    quoted += ["> " + line for line in FILLER]
    text = "\n".join(body + [f"> {line}" if line else ">" for line in quoted])
    k = 0
    while len(text.encode()) < TARGET_BYTES - 1_750:  # headers and encoding take the rest
        text += f"\n> > {FILLER[k % len(FILLER)]}"
        k += 1
    return text + "\n", task_lines


def agenda_id(person_id: int, n: int) -> str:
    """The Message-ID of the agenda reply ``n`` answers: one of ours, sent to its sender
    (``seed_agendas``), so every reply is in one of our threads, as replies to agendas are."""
    return f"<agenda.{person_id}.{n // THREAD_REPLIES}@{DOMAIN}>"


def reply_bytes(n: int, run: str, person: Person, when: datetime) -> Reply:
    """One reply on the wire (CRLF line ends), as a mail client and two MTAs make it."""
    text, task_lines = reply_text(n, person, when)
    message_id = f"<{run}.{n}.{mix(n, 22) & 0xFFFFFFFF:08x}@mail.northwind-people.example>"
    date = format_datetime(when)
    host = f"mail-{n % 7}.northwind-people.example"
    headers = [
        f"Received: from {host} ({host} [198.51.100.{n % 250 + 1}])\r\n"
        f"\tby mx.{DOMAIN} (Postfix) with ESMTPS id 4Z{n:08X}\r\n"
        f"\tfor <{UPDATES}>; {date}",
        f"Received: by {host} with SMTP id q{n:x}so{mix(n, 23) % 10**9};\r\n\t{date}",
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
        "d=northwind-people.example; s=2026;\r\n\th=from:to:subject:date:message-id; "
        f"bh={'A' * 43}=;\r\n\tb={('x' * 64 + chr(13) + chr(10) + chr(9)) * 5}{'y' * 24}=",
        f"From: {formataddr((person.name, person.email), charset='utf-8')}",
        f"To: Drumbeat <{UPDATES}>",
        f"Subject: Re: Your 1:1 with {person.manager or 'the board'} tomorrow",
        f"Date: {date}",
        f"Message-ID: {message_id}",
        f"In-Reply-To: {agenda_id(person.id, n)}",
        f"References: <checkin.{person.id}@{DOMAIN}> {agenda_id(person.id, n)}",
        "MIME-Version: 1.0",
        "User-Agent: Mozilla Thunderbird",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: quoted-printable",
    ]
    body = quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")
    raw = "\r\n".join(headers).encode("utf-8") + b"\r\n\r\n" + body
    return Reply(n, message_id, person.email, raw, task_lines)


def load_people(engine: Any) -> list[Person]:
    """The imported people with their task ids, in a scattered order (the sending order)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        people = conn.execute(text(
            "SELECT p.id, p.email, p.name, m.name FROM person p "
            "LEFT JOIN person m ON m.id = p.manager_id ORDER BY p.id")).all()
        tasks: dict[int, list[tuple[int, str, int]]] = {}
        for task_id, owner, title, progress in conn.execute(text(
                "SELECT id, owner_id, title, progress FROM task ORDER BY id")):
            tasks.setdefault(owner, []).append((task_id, title, progress))
    result = [Person(pid, email, name, manager, tuple(tasks.get(pid, ())))
              for pid, email, name, manager in people if tasks.get(pid)]
    result.sort(key=lambda p: mix(p.id, 24))
    return result


def make_replies(people: list[Person], first: int, count: int, run: str) -> list[Reply]:
    when = datetime.now(UTC).replace(microsecond=0)
    return [reply_bytes(n, run, people[n % len(people)], when)
            for n in range(first, first + count)]


# --- measuring -------------------------------------------------------------------------------

def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all CPUs, from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK


OUTSIDE_PIDS: list[int] = []  # the benchmark process (the client) and the sink


class Meter:
    """CPU seconds of PostgreSQL, Redis and our server processes between start and stop;
    and, as a noise figure, the machine's busy time that neither they nor the client and
    the sink account for (``other``: some other program was running)."""

    def __init__(self, pids: Callable[[], dict[str, int]]) -> None:
        self.pids = pids
        self.marks: dict[str, float] = {}
        self.used: dict[str, float] = {}
        self.other = 0.0

    def sample(self) -> dict[str, float]:
        values = {"postgres": server_cpu_seconds("postgres"),
                  "redis": server_cpu_seconds("redis-server")}
        values.update({name: proc_cpu_seconds(pid) for name, pid in self.pids().items()})
        values["_outside"] = sum(proc_cpu_seconds(pid) for pid in OUTSIDE_PIDS)
        values["_machine"] = machine_busy_seconds()
        return values

    def start(self) -> None:
        self.marks = self.sample()

    def stop(self) -> dict[str, float]:
        now = self.sample()
        used = {name: now[name] - self.marks.get(name, 0.0) for name in now}
        machine, outside = used.pop("_machine"), used.pop("_outside")
        self.other = max(0.0, machine - outside - sum(used.values()))
        self.used = used
        return used


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


# --- the servers: run as this script with --serve, or the drumbeat command --------------------

def serve_bare(port: int, url: str) -> None:
    """The baseline: aiosmtpd, each message's bytes INSERTed and committed, then 250.

    Like ``mail.doors.smtpd.IntakeHandler`` it stores in the event loop's default executor,
    so several connections' inserts run at once; one psycopg connection per thread.
    """
    import asyncio

    import psycopg
    from aiosmtpd.controller import Controller
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    local = threading.local()

    def store(raw: bytes) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(dsn)
        row = conn.execute("INSERT INTO bare_inbound (raw) VALUES (%s) RETURNING id",
                           (raw,)).fetchone()
        conn.commit()
        return int(row[0]) if row else 0

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            raw = envelope.original_content or envelope.content or b""
            row_id = await asyncio.get_running_loop().run_in_executor(None, store, raw)
            return f"250 2.0.0 OK: queued as {row_id}"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port,
                            data_size_limit=10 * 1024 * 1024, decode_data=False,
                            enable_SMTPUTF8=True, server_hostname=DOMAIN)
    wait_for_signal(controller.start, controller.stop, f"bare intake ready on port {port}")


def wait_for_signal(start: Callable[[], None], stop: Callable[[], None], ready: str) -> None:
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    start()
    print(ready, flush=True)
    done.wait()
    stop()


class Server:
    """An SMTP server process we start and stop: the bare intake or a drumbeat smtpd."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path,
                 ready: str, port: int) -> None:
        self.name = name
        self.port = port
        self.log = folder / f"{name}.log"
        with self.log.open("w") as stderr:
            self.process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                                            stderr=stderr, text=True)
        line = read_line(self.process, 120)
        if ready not in line:
            self.stop()
            raise Failure(f"{name} did not start: {line!r}\n{tail(self.log)}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


# --- the client: K reused SMTP connections ---------------------------------------------------

QUEUED_AS = re.compile(rb"queued as (\d+)")


class Sent(NamedTuple):
    number: int
    code: int
    row_id: int | None
    started: float  # time.time() before MAIL FROM
    answered: float  # time.time() at the DATA answer


def smtp_connect(port: int) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, local_hostname="client.bench", timeout=120)
    client.ehlo()
    return client


def send_one(client: smtplib.SMTP, reply: Reply) -> Sent:
    started = time.time()
    code, answer = client.mail(reply.sender)
    if code == 250:
        code, answer = client.rcpt(UPDATES)
    if code == 250:
        code, answer = client.data(reply.raw)
    else:
        client.rset()
    found = QUEUED_AS.search(answer) if code == 250 else None
    return Sent(reply.number, code, int(found.group(1)) if found else None, started,
                time.time())


def run_client(port: int, replies: Sequence[Reply], connections: int,
               rate: float | None = None, progress: Callable[[int], None] | None = None,
               on_sent: Callable[[Sent], None] | None = None
               ) -> tuple[list[Sent], float, float]:
    """Send every reply over ``connections`` connections opened beforehand; returns what
    each got and the wall-clock start and end. With ``rate``, reply k is handed to the
    connections at start + k / rate (an open loop: a slow server lets work pile up)."""
    clients = [smtp_connect(port) for _ in range(connections)]
    jobs: queue.Queue[Reply | None] = queue.Queue()
    results: list[Sent] = []
    errors: list[str] = []
    lock = threading.Lock()

    def connection(client: smtplib.SMTP) -> None:
        while (reply := jobs.get()) is not None:
            try:
                sent = send_one(client, reply)
            except (OSError, smtplib.SMTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                sent = Sent(reply.number, 0, None, time.time(), time.time())
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    client.close()
                client = smtp_connect(port)
            if on_sent is not None:
                on_sent(sent)
            with lock:
                results.append(sent)
                if progress and len(results) % 100 == 0:
                    progress(len(results))
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()

    threads = [threading.Thread(target=connection, args=(c,), daemon=True) for c in clients]
    start = time.time()
    if rate is None:
        for reply in replies:
            jobs.put(reply)
        for _ in threads:
            jobs.put(None)
    for thread in threads:
        thread.start()
    if rate is not None:
        for k, reply in enumerate(replies):
            delay = start + k / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            jobs.put(reply)
        for _ in threads:
            jobs.put(None)
    for thread in threads:
        thread.join()
    end = max((s.answered for s in results), default=time.time())
    if errors:
        say(f"  client: {len(errors)} connection errors, e.g. {errors[0]}")
    if progress:
        progress(len(results))
    return sorted(results), start, end


# --- setup -----------------------------------------------------------------------------------

def import_org(engine: Any, people: int, folder: Path) -> dict[str, float]:
    """people.csv and plan.csv from import_org's generator, through the real importer."""
    from models.db import session_factory, unit_of_work
    from models.importing.load_people import load_people as load
    from models.importing.load_plan import load_plan
    from models.importing.people_file import read_people
    from models.importing.plan_file import read_plan
    from models.importing.problems import ProblemLog

    org = Org(Shape(people, TASKS_PER_PERSON))
    write_people(org, folder / "people.csv")
    write_plan(org, folder / "plan.csv", lambda _n: None)
    factory = session_factory(engine)
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        load(session, read_people(folder / "people.csv"))
    with unit_of_work(factory) as session:
        log = ProblemLog("plan.csv")
        load_plan(session, read_plan(folder / "plan.csv", log), log)
    return {"seconds": time.perf_counter() - start}


def seed_agendas(engine: Any, people: Sequence[Person], count: int) -> int:
    """The agendas replies 0 … count-1 answer, as sent outbox rows: their Message-IDs make
    each reply one in our own thread, answered up to ``THREAD_ANSWERS_PER_HOUR`` times an
    hour (``workers/inbound.py``), where a reply outside them gets 5. Returns the rows."""
    from sqlalchemy import text

    sent = datetime.now(UTC) - timedelta(days=1)
    rows = {}
    for n in range(count):
        person = people[n % len(people)]
        message_id = agenda_id(person.id, n)
        rows[message_id] = {"key": f"bench-agenda:{message_id}", "person": person.id,
                            "address": person.email, "message_id": message_id, "at": sent}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO outbound_message (dedupe_key, kind, recipient_id, to_address, "
            "subject, message_id, status, attempts, created_at, claimed_at, sent_at) "
            "VALUES (:key, 'agenda', :person, :address, 'Your 1:1 tomorrow', :message_id, "
            "'sent', 1, :at, :at, :at)"), list(rows.values()))
    return len(rows)


def redis_backlog(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.hlen(f"{NAMESPACE}:{NAMESPACE}.msgs"))
    finally:
        client.close()


def vacuum_catalogs(admin: Any) -> int:
    """VACUUM the system catalogs that earlier runs and test suites left dead rows in
    (every private schema created and dropped leaves thousands). With autovacuum off, as
    on this project's VMs, they pile up and PostgreSQL's CPU a reply drifts up from run
    to run (measured: 3.4 → 4.1 → 4.8 ms, back to 3.5 after a VACUUM). Returns the dead
    rows found."""
    from sqlalchemy import text

    with admin.connect() as conn:
        rows = conn.execute(text(
            "SELECT relname, n_dead_tup FROM pg_stat_sys_tables "
            "WHERE schemaname = 'pg_catalog' AND n_dead_tup > 0")).all()
        conn.commit()
        if rows:
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM " + ", ".join(
                f"pg_catalog.{name}" for name, _dead in rows)))
    return sum(dead for _name, dead in rows)


def scalar(engine: Any, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


# --- the phases ------------------------------------------------------------------------------

def run_accept(name: str, server: Server, replies: Sequence[Reply], connections: int
               ) -> dict[str, Any]:
    meter = Meter(lambda: {"server": server.pid})
    with progress_bar() as bar:
        job = bar.add_task(name, total=len(replies))
        meter.start()
        cpu = time.process_time()
        sent, start, end = run_client(server.port, replies, connections,
                                      progress=lambda n: bar.update(job, completed=n))
        client_cpu = time.process_time() - cpu
        used = meter.stop()
    accepted = [s for s in sent if s.code == 250]
    seconds = end - start
    return {"sent": sent, "accepted": len(accepted), "refused": len(sent) - len(accepted),
            "seconds": seconds, "per_s": len(accepted) / seconds if seconds > 0 else 0.0,
            "cpu": used, "client_cpu": client_cpu, "other": meter.other}


def bare_apply_main(dsn: str, row_ids: list[int], sink_port: int, control: Any) -> None:
    """The bare apply pipeline's process (``intake_bare.run``): its figures go back on
    ``control``."""
    import intake_bare

    control.send(intake_bare.run(dsn, row_ids, sink_port, DOMAIN, SECRET))


def run_bare_apply(context: Any, engine: Any, admin: Any, url: str, sink: Sink,
                   replies: Sequence[Reply], sent: Sequence[Sent]) -> dict[str, Any]:
    """The bare apply pipeline on the rows the bare accept stored, in its own process;
    then its history rows and answers are checked, and the tasks and meetings put back
    as they were, so the real pipeline starts from the same data."""
    import intake_bare
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with engine.connect() as conn:
        row_ids = list(conn.execute(text("SELECT id FROM bare_inbound ORDER BY id")).scalars())
    with engine.begin() as conn:
        last_meeting = intake_bare.snapshot(conn)
    checkpoint(admin)
    sink.ask("take")  # nothing of this phase goes to the verified records
    control, child = context.Pipe()
    process = context.Process(target=bare_apply_main, args=(dsn, row_ids, sink.port, child),
                              name="bare-apply")
    meter = Meter(lambda: {})
    meter.start()
    process.start()
    say(f"bare apply pipeline: {len(row_ids):,} replies, one process …")
    deadline = time.monotonic() + 3_600
    while not control.poll(1.0):
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            raise Failure(f"the bare apply pipeline stopped (exit status {process.exitcode})")
    figures: Any = control.recv()
    process.join()
    used = meter.stop()
    time.sleep(0.5)  # the last answer is at the sink (each was sent before the next)
    at_sink = sink.ask("take")
    expected_rows = sum(r.task_lines for r, s in zip(replies, sent, strict=True)
                        if s.code == 250)
    if figures.replies != len(row_ids) or at_sink.received != len(row_ids) \
            or figures.history_rows != expected_rows:
        raise Failure(f"the bare apply pipeline applied {figures.replies:,} of "
                      f"{len(row_ids):,} replies ({figures.history_rows:,} history rows of "
                      f"{expected_rows:,}; {at_sink.received:,} answers at the sink); "
                      f"{figures.skipped[:3]}")
    with engine.begin() as conn:
        restored = intake_bare.restore(conn, last_meeting)
    with engine.connect() as conn:  # the dead rows of both passes over the tasks
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE task, meeting"))
    used["bare apply"] = figures.cpu_seconds
    return {"replies": figures.replies, "seconds": figures.seconds,
            "per_s": figures.replies / figures.seconds if figures.seconds > 0 else 0.0,
            "cpu": used, "other": max(0.0, meter.other - figures.cpu_seconds),
            "restored": restored, "history_rows": figures.history_rows}


def run_apply(engine: Any, sink: Sink, workers: Workers, expected: int,
              meter: Meter) -> dict[str, Any]:
    """Wait for the backlog to be applied and answered; the clock starts when the first
    worker says it runs."""
    start = min(workers.ready_at.values())
    applied_at: float | None = None
    last_change, last_seen = time.time(), (-1, -1)
    with progress_bar() as bar:
        applied_job = bar.add_task("applied", total=expected)
        answered_job = bar.add_task("answered (at the sink)", total=expected)
        while True:
            time.sleep(0.5)
            left = scalar(engine, "SELECT count(*) FROM inbound_message "
                                  "WHERE status = 'received'")
            answered = sink.total()
            now = time.time()
            bar.update(applied_job, completed=expected - left)
            bar.update(answered_job, completed=answered)
            if left == 0 and applied_at is None:
                applied_at = now
            if (left, answered) != last_seen:
                last_seen, last_change = (left, answered), now
            if applied_at is not None and answered >= expected:
                break
            if applied_at is not None and not scalar(
                    engine, "SELECT count(*) FROM outbound_message WHERE kind = 'answer' "
                            "AND status IN ('pending', 'queued', 'claimed')"):
                time.sleep(1.0)  # the last answers on the wire
                break
            if not workers.alive():
                raise Failure(f"a worker died\n{tail(workers.logs[0])}")
            if now - last_change > STALL_SECONDS:  # what is missing is reported as lost
                say(f"  the apply phase stalled for {STALL_SECONDS:.0f} s: {left} replies not "
                    f"applied, {answered} answers at the sink; going on")
                applied_at = applied_at or now
                break
    records = sink.take().records
    answered_at = max((r.at for r in records), default=time.time())
    used = meter.stop()
    for n, process in enumerate(workers.processes):  # the CPU since each said it runs
        used[f"worker {n + 1}"] = proc_cpu_seconds(process.pid) - workers.ready_cpu[n]
    return {"start": start, "applied_seconds": (applied_at or start) - start,
            "seconds": max(answered_at, applied_at or 0) - start, "answered": len(records),
            "cpu": used, "other": meter.other}


def run_steady(args: argparse.Namespace, engine: Any, server: Server, sink: Sink,
               workers: Workers, replies: Sequence[Reply]) -> dict[str, Any]:
    """Offer ``--rate`` replies a second; note when each row is first seen applied."""
    from sqlalchemy import text

    seen: dict[int, float] = {}
    pending: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()
    polls = [0]

    def watch() -> None:
        with engine.connect() as conn:
            while not stop.is_set():
                with lock:
                    ids = list(pending)
                if ids:
                    done = conn.execute(text(
                        "SELECT id FROM inbound_message WHERE id = ANY(:ids) "
                        "AND status <> 'received'"), {"ids": ids}).scalars().all()
                    conn.rollback()
                    now = time.time()
                    polls[0] += 1
                    with lock:
                        for row_id in done:
                            seen.setdefault(row_id, now)
                            pending.discard(row_id)
                time.sleep(APPLIED_POLL_SECONDS)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    meter = Meter(lambda: {"smtpd": server.pid, **workers.pids()})

    def track(sent: Sent) -> None:
        if sent.row_id is not None:
            with lock:
                pending.add(sent.row_id)

    say(f"steady load: {len(replies):,} replies at {args.rate:g}/s over "
        f"{args.connections} connections …")
    meter.start()
    sent, start, end = run_client(server.port, replies, args.connections, rate=args.rate,
                                  on_sent=track)
    accepted = {s.row_id for s in sent if s.row_id is not None}
    deadline = time.time() + STALL_SECONDS
    while time.time() < deadline:
        with lock:
            left = len(accepted - set(seen))
        if not left and sink.count().received >= len(accepted):
            break
        time.sleep(0.2)
    time.sleep(1.0)
    stop.set()
    watcher.join()
    used = meter.stop()
    records = sink.take().records
    return {"sent": sent, "start": start, "end": end, "seen": seen, "records": records,
            "cpu": used, "polls": polls[0], "other": meter.other,
            "message_ids": {r.number: r.message_id for r in replies}}


# --- verification ----------------------------------------------------------------------------

def verify(engine: Any, replies: Sequence[Reply], sent: Sequence[Sent],
           records: Sequence[Received]) -> dict[str, Any]:
    """Every reply answered 250: stored, applied, its history rows and its answer."""
    from sqlalchemy import text

    by_number = {r.number: r for r in replies}
    accepted = {by_number[s.number].message_id: by_number[s.number]
                for s in sent if s.code == 250}
    with engine.connect() as conn:
        rows = {mid: (row_id, status) for mid, row_id, status in conn.execute(text(
            "SELECT message_id, id, status FROM inbound_message"))}
        history = dict(conn.execute(text(  # type: ignore[arg-type]
            "SELECT inbound_message_id, count(*) FROM task_update "
            "WHERE inbound_message_id IS NOT NULL GROUP BY inbound_message_id")).all())
        answers = Counter(irt for (irt,) in conn.execute(text(
            "SELECT in_reply_to FROM outbound_message WHERE kind = 'answer'")))
        outbox = dict(conn.execute(text(  # type: ignore[arg-type]
            "SELECT status, count(*) FROM outbound_message WHERE kind = 'answer' "
            "GROUP BY status")).all())
        statuses = dict(conn.execute(text(  # type: ignore[arg-type]
            "SELECT status, count(*) FROM inbound_message GROUP BY status")).all())
    at_sink = Counter(r.header for r in records)
    check: Counter[str] = Counter()
    for mid, reply in accepted.items():
        row = rows.get(mid)
        if row is None:
            check["not_stored"] += 1
            continue
        if row[1] != "applied":
            check[f"status_{row[1]}"] += 1
            continue
        count = history.get(row[0], 0)
        if count > reply.task_lines:
            check["history_excess"] += 1
        elif count < reply.task_lines:
            check["history_short"] += 1
        if answers[mid] > 1:
            check["answer_rows_twice"] += 1
        if at_sink[mid] == 0:
            check["answer_missing"] += 1
        elif at_sink[mid] > 1:
            check["answer_twice"] += 1
    unknown = sum(n for irt, n in at_sink.items() if irt not in accepted)
    if unknown:
        check["unknown_at_sink"] = unknown
    lost = check["not_stored"] + sum(v for k, v in check.items() if k.startswith("status_"))
    twice = check["history_excess"] + check["answer_rows_twice"] + check["answer_twice"]
    return {"accepted": len(accepted), "lost": lost, "applied_twice": twice,
            "check": dict(check), "outbox": outbox, "statuses": statuses,
            "stored": len(rows)}


# --- the profile: the worker's path for one reply, in this process ---------------------------

STAGES = (  # (module, attribute, label, depth); times are inclusive
    ("bench", "store", "smtpd: RawStore (prepared INSERT, commit)", 0),
    ("workers.intake", "row_values", "row_values", 1),
    ("workers.intake", "first_headers", "first_headers (Message-ID, From, Subject)", 2),
    ("workers.intake", "message_id_of", "message_id_of", 2),
    ("workers.intake", "content_hash", "content_hash (dedupe without trace fields)", 2),
    ("bench", "nudge", "smtpd: process_inbound_batch.send (Redis; batched in the smtpd)", 0),
    ("workers.inbound", "process", "worker: inbound.process", 0),
    ("workers.failures", "begin_inbound_try", "the try counted (one statement)", 1),
    ("workers.inbound", "parse_message", "parse_message", 1),
    ("workers.inbound", "classify", "classify", 1),
    ("workers.inbound", "person_by_address", "person_by_address", 1),
    ("workers.inbound", "_agenda_named", "_agenda_named (token)", 1),
    ("workers.inbound", "extract_reply", "extract_reply", 1),
    ("workers.inbound", "parse_commands", "parse_commands (grammar)", 1),
    ("workers.apply.Applier", "apply", "Applier.apply", 1),
    ("workers.inbound", "_answer", "_answer", 1),
    ("workers.inbound", "render_answer", "render_answer (Jinja2 + css-inline)", 2),
    ("workers.outbox", "add_rows", "outbox.add_rows (INSERT)", 2),
    ("workers.outbox", "add_capped", "outbox.add_capped (the capped INSERT)", 2),
    ("workers.sending", "build_for", "worker: build_for (the answer's MIME tree)", 0),
    ("workers.sending", "hand_over", "worker: hand_over (the answer)", 0),
    ("smtplib.SMTP", "sendmail", "smtplib sendmail (wire)", 1),
    ("workers.sending", "_record_sent", "mark it sent (UPDATE, one round trip)", 1),
    ("dialect", "do_commit", "every COMMIT round trip (all of the above)", 0),
    ("dialect", "do_ping", "every pool pre-ping (all of the above)", 0),
)


def profile_process(args: argparse.Namespace, url: str, sink: Sink,
                    replies: Sequence[Reply]) -> None:
    """One reply at a time through the smtpd's store and nudge, the worker's process and
    hand-over, in this process (one thread; PROFILE_BATCH replies a connection, as
    ``process_inbound_batch`` does): first with stopwatches, SQL statement and pool
    checkout counters, then under cProfile. The clock is two hours on, past every
    sender's answer limit; the nudges go to the benchmark's Redis database."""
    from config.settings import Settings
    from models.db import make_engine
    from workers import actors, inbound, intake, sending
    from workers.broker import make_broker
    from workers.runtime import configure, one_connection

    settings = Settings(database_url=url, redis_url=args.redis_url, smtp_host="127.0.0.1",
                        smtp_port=sink.port, smtp_starttls=False, mail_domain=DOMAIN,
                        secret_key=SECRET, trusted_relays=TRUSTED)  # type: ignore[arg-type]
    later = datetime.now(UTC) + timedelta(hours=2)
    rt = configure(settings, clock=lambda: later)
    plain = dataclasses.replace(rt)
    actors.bind(make_broker(args.redis_url), settings)
    raw_store = intake.RawStore(make_engine(url, pre_ping=False))  # as cli_mail.smtpd's
    bench = sys.modules[__name__]

    def store(raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> int:
        return raw_store(raw, mail_from, rcpt_tos, "127.0.0.1")  # as from the trusted relay

    def nudge(row_id: int) -> None:
        actors.process_inbound_batch.send([row_id])

    bench.store, bench.nudge = store, nudge  # type: ignore[attr-defined]

    def one(reply: Reply) -> None:  # actors._process_and_answer, without the broker
        row_id = bench.store(reply.raw, reply.sender, [UPDATES])
        bench.nudge(row_id)
        for answer in inbound.process(rt, row_id, send_now=True).to_send:
            sending.send_claimed(rt, answer)

    for reply in replies[:2]:  # warm up: templates, pools, prepared statements
        one(reply)
    watch = Stopwatch()
    engines = (rt.engine, raw_store.engine)
    for path, attribute, label, _depth in STAGES:
        owners = ([bench] if path == "bench" else [e.dialect for e in engines]
                  if path == "dialect" else [resolve(path)])
        for owner in owners:
            if hasattr(owner, attribute):  # the product may have moved on: skip what is gone
                watch.wrap(owner, attribute, label)
    half = len(replies) // 2
    measured = replies[2:half]
    n = len(measured)
    with StatementCounter(engines) as sql:
        wall, cpu = time.perf_counter(), time.thread_time()
        postgres = server_cpu_seconds("postgres")
        for start in range(0, n, PROFILE_BATCH):  # as process_inbound_batch: a connection each
            with one_connection(plain) as bound:
                rt.sessions, rt.connection = bound.sessions, bound.connection
                for number, reply in enumerate(measured[start:start + PROFILE_BATCH], start):
                    sql.capture = number == n - 1
                    one(reply)
        rt.sessions, rt.connection = plain.sessions, None
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        postgres = server_cpu_seconds("postgres") - postgres
    watch.restore()
    print(f"Profile: the smtpd's store and nudge, then the worker's process and hand-over, "
          f"one thread in the benchmark process, {n} replies (stopwatches, no profiler):")
    print(f"  per reply: {wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU here and "
          f"{postgres / n * 1000:.2f} ms in postgres (all of its processes); "
          f"{sum(sql.count.values()) / n:.1f} SQL statements, {sql.checkouts / n:.1f} pool "
          f"checkouts, {watch.calls[STAGES[-1][2]] / n:.1f} pre-pings, "
          f"{watch.calls[STAGES[-2][2]] / n:.1f} commits")
    print(f"  {'stage (inclusive)':<50} {'wall ms':>8} {'CPU ms':>8}")
    for _path, _attribute, label, depth in STAGES:
        if watch.calls[label]:
            print(f"  {'  ' * depth + label:<50} {watch.wall[label] / n * 1000:8.2f} "
                  f"{watch.cpu[label] / n * 1000:8.2f}")
    sql.print_table(n, "a reply", 50)
    explain(rt.engine, sql.captured, "one reply")

    profiler = cProfile.Profile()
    profiler.enable()
    for start in range(half, len(replies), PROFILE_BATCH):
        with one_connection(plain) as bound:
            rt.sessions, rt.connection = bound.sessions, bound.connection
            for reply in replies[start:start + PROFILE_BATCH]:
                one(reply)
    rt.sessions, rt.connection = plain.sessions, None
    profiler.disable()
    rt.engine.dispose()
    raw_store.engine.dispose()
    print_top_functions(profiler, Path(args.profile) / "intake.prof",
                        f"{len(replies) - half} more replies")


def profile_accept(args: argparse.Namespace, url: str, batches: Sequence[Sequence[Reply]]
                   ) -> None:
    """The smtpd's per-message work without aiosmtpd, one thread, variant by variant (each
    on fresh replies): the baseline's insert, ``drumbeat smtpd``'s store() as it is, the
    same without the pool's pre-ping, the same row inserted with Core on a Connection,
    the Redis nudge, and the INFO log line."""
    import hashlib
    import logging

    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.engine import make_url

    from config.settings import Settings
    from models.base import utcnow
    from models.db import make_engine, session_factory
    from models.mailbox import InboundMessage
    from workers import actors, intake
    from workers.broker import make_broker

    settings = Settings(database_url=url, redis_url=args.redis_url, mail_domain=DOMAIN,
                        secret_key=SECRET)  # type: ignore[arg-type]
    actors.bind(make_broker(args.redis_url), settings)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(dsn)
    pinging, plain = make_engine(url), create_engine(url)  # the second without pre-ping
    sessions, quiet = session_factory(pinging), session_factory(plain)
    log = logging.getLogger("drumbeat.smtpd.bench")
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    log.addHandler(handler)
    ids: list[int] = []

    def bare(reply: Reply) -> None:
        conn.execute("INSERT INTO bare_inbound (raw) VALUES (%s) RETURNING id",
                     (reply.raw,)).fetchone()
        conn.commit()

    def store_with(factory: Any) -> Callable[[Reply], None]:
        def store(reply: Reply) -> None:
            with factory() as session, session.begin():
                ids.append(intake.store_raw(session, reply.raw, via="smtp",
                                            envelope_from=reply.sender,
                                            envelope_to=[UPDATES])[0])
        return store

    table = InboundMessage.__table__
    statement = postgresql.insert(table).on_conflict_do_nothing(
        index_elements=[table.c.message_id, table.c.content_hash]).returning(table.c.id)

    def core(reply: Reply) -> None:
        values = {"message_id": intake.message_id_of(reply.raw), "raw": reply.raw,
                  "sha256": hashlib.sha256(reply.raw).hexdigest(),
                  "content_hash": intake.content_hash(reply.raw), "via": "smtp",
                  "envelope_from": reply.sender, "envelope_to": [UPDATES],
                  "sender": reply.sender, "subject": "Re: …", "received_at": utcnow(),
                  "status": "received", "attempts": 0}
        with plain.begin() as connection:
            ids.append(connection.execute(statement, values).scalar_one())

    raw_store = intake.RawStore(make_engine(url, pre_ping=False))

    def prepared(reply: Reply) -> None:
        ids.append(raw_store(reply.raw, reply.sender, [UPDATES]))

    def nudge(_reply: Reply) -> None:
        actors.process_inbound_batch.send([ids[len(ids) // 2]])

    def log_line(reply: Reply) -> None:
        log.info("stored message %s from %s", 12345, reply.sender)

    variants = (
        ("baseline: psycopg INSERT + COMMIT", bare),
        ("drumbeat smtpd: RawStore (prepared INSERT)", prepared),
        ("store_raw in a Session, pre-ping (IMAP door)", store_with(sessions)),
        ("  the same, pool_pre_ping=False", store_with(quiet)),
        ("  Core INSERT on engine.begin(), no pre-ping", core),
        ("one nudge unbatched (dramatiq on Redis)", nudge),
        ("log.info('stored message …') per message", log_line),
    )
    print(f"Profile of the smtpd's work a message, one thread, {len(batches[0])} messages "
          "each (no aiosmtpd; each variant on fresh replies):")
    print(f"  {'variant':<50} {'wall ms':>8} {'CPU ms':>8}")
    for (label, work), batch in zip(variants, batches, strict=False):
        work(batch[0])  # warm up
        wall, cpu = time.perf_counter(), time.thread_time()
        for reply in batch[1:]:
            work(reply)
        n = len(batch) - 1
        print(f"  {label:<50} {(time.perf_counter() - wall) / n * 1000:8.3f} "
              f"{(time.thread_time() - cpu) / n * 1000:8.3f}")
    conn.close()
    pinging.dispose()
    plain.dispose()
    raw_store.engine.dispose()
    handler.close()


# --- the parent: set up, run the phases, verify, report --------------------------------------

def environment(url: str, redis_url: str, sink: Sink, smtpd_port: int) -> dict[str, str]:
    # The load generator stands in for the company's mail server: a listed relay, so
    # its plain SMTP from loopback counts as sent by each reply's From address.
    return drumbeat_env(url, redis_url, sink.port, DOMAIN, SECRET, smtpd_host="127.0.0.1",
                        smtpd_port=str(smtpd_port), trusted_relays=TRUSTED)


class Running:
    """The processes of a run, so that every one of them is stopped whatever happens."""

    def __init__(self) -> None:
        self.servers: list[Server] = []
        self.workers: Workers | None = None
        self.sink: Sink | None = None

    def server(self, name: str, command: list[str], env: dict[str, str], folder: Path,
               ready: str, port: int) -> Server:
        server = Server(name, command, env, folder, ready, port)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.workers is not None:
            self.workers.stop()
        if self.sink is not None:
            self.sink.stop()


def orchestrate(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from models.db import make_engine
    from models.migrate import upgrade

    context = multiprocessing.get_context("spawn")
    schema = f"bench_{uuid.uuid4().hex[:8]}_intake"
    url = schema_url(args.database_url, schema)
    run = uuid.uuid4().hex[:10]
    steady_count = round(args.rate * args.steady_seconds)
    admin = make_engine(args.database_url)
    engine = None
    running = Running()
    created = False
    figures: dict[str, Any] = {}
    me = [sys.executable, str(Path(__file__).resolve())]
    try:
        clear_redis(args.redis_url, starting=True)
        dead = vacuum_catalogs(admin)
        if dead:
            say(f"vacuumed the system catalogs ({dead:,} dead rows from earlier runs)")
        with admin.connect() as conn:
            figures["server"] = conn.execute(text("SHOW server_version")).scalar_one()
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        created = True
        engine = make_engine(url)
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bare_inbound (id bigserial PRIMARY KEY, "
                              "raw bytea NOT NULL, received_at timestamptz DEFAULT now(), "
                              "applied_at timestamptz)"))
            for statement in args.what_if_sql:  # a schema change to try, in this schema only
                say(f"what-if: {statement}")
                conn.execute(text(statement))
        with tempfile.TemporaryDirectory(prefix="drumbeat-intake-") as tmp:
            folder = Path(tmp)
            say(f"importing {args.people:,} people and {args.people * TASKS_PER_PERSON:,} "
                "tasks …")
            figures["import"] = import_org(engine, args.people, folder)
            with admin.connect() as conn:
                conn.execute(text(f'SET search_path TO "{schema}"'))
                conn.execute(text("ANALYZE"))
                conn.commit()
            people = load_people(engine)
            seed_agendas(engine, people, args.messages + steady_count + PROFILE_EXTRA)
            say(f"generating {args.messages + steady_count:,} replies …")
            replies = make_replies(people, 0, args.messages, run)
            steady = make_replies(people, args.messages, steady_count, run)
            figures["sizes"] = [len(r.raw) for r in replies]
            figures["senders"] = min(len(people), args.messages + steady_count)
            figures["people"] = args.people
            running.sink = sink = Sink(context, "In-Reply-To", "intake-sink")
            OUTSIDE_PIDS[:] = [os.getpid(), sink.process.pid]
            port = free_port()
            env = environment(url, args.redis_url, sink, port)

            # 1. The baseline: bare aiosmtpd + INSERT + COMMIT.
            checkpoint(admin)
            bare = running.server("bare", [*me, "--serve", "bare", "--port", str(port),
                                           "--database-url", url], env, folder, "ready", port)
            say(f"bare intake: {args.messages:,} replies over {args.connections} connections …")
            figures["bare"] = run_accept("bare accept", bare, replies, args.connections)
            bare.stop()
            figures["bare"]["stored"] = scalar(engine, "SELECT count(*) FROM bare_inbound")
            if not args.accept_only:  # 1b. The bare apply pipeline on what the bare stored.
                figures["bare_apply"] = run_bare_apply(context, engine, admin, url, sink,
                                                       replies, figures["bare"]["sent"])

            # 2. drumbeat smtpd, no worker running: the nudges wait on Redis.
            checkpoint(admin)
            port = free_port()
            env = environment(url, args.redis_url, sink, port)
            drumbeat = str(Path(sys.executable).with_name("drumbeat"))
            smtpd = running.server("smtpd-accept", [drumbeat, "smtpd", "--port", str(port)],
                                   env, folder, "receiving mail", port)
            say(f"drumbeat smtpd, workers stopped: {args.messages:,} replies …")
            figures["accept"] = run_accept("drumbeat smtpd accept", smtpd, replies,
                                           args.connections)
            smtpd.stop()
            figures["accept"]["backlog"] = redis_backlog(args.redis_url)
            figures["accept"]["still_received"] = scalar(
                engine, "SELECT count(*) FROM inbound_message WHERE status = 'received'")
            if args.accept_only:
                report_accept(figures)
                return 0

            # 3. The workers take the backlog.
            checkpoint(admin)
            meter = Meter(lambda: running.workers.pids() if running.workers else {})
            meter.start()
            say(f"starting {args.workers} workers × {args.threads} threads on the backlog …")
            running.workers = workers = Workers(args.workers, args.threads, env, folder)
            figures["apply"] = run_apply(engine, sink, workers, figures["accept"]["accepted"],
                                         meter)

            # 4. The real drumbeat smtpd (its own worker too) under a steady load.
            port = free_port()
            env = environment(url, args.redis_url, sink, port)
            live = running.server("smtpd", [drumbeat, "smtpd", "--port", str(port)], env,
                                  folder, "receiving mail", port)
            time.sleep(2.0)  # its worker connects to Redis
            figures["steady"] = run_steady(args, engine, live, sink, workers, steady)
            live.stop()
            workers.stop()
            running.workers = None
            figures["steady"]["rows"] = steady_rows(engine, figures["steady"]["sent"])
            figures["check"] = verify(
                engine, [*replies, *steady],
                [*figures["accept"]["sent"], *figures["steady"]["sent"]], sink.kept)
            if figures["check"]["lost"]:  # why, from the workers' logs (gone with the folder)
                for log in workers.logs:
                    errors = [line for line in log.read_text(errors="replace").splitlines()
                              if "Error" in line or "failed" in line]
                    say(f"--- {log.name}: {len(errors)} error lines\n" + "\n".join(errors[:8]))
            if args.profile:
                first = args.messages + steady_count
                extra = make_replies(people, first, args.profile_rows, run + "p")
                profile_process(args, url, sink, extra)
                batches = [make_replies(people, first, 301, f"{run}a{k}") for k in range(7)]
                profile_accept(args, url, batches)
    except Failure as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        print(f"VERIFICATION FAILED: {exc}")
        return 1
    finally:
        running.stop()
        if engine is not None:
            engine.dispose()
        if created and args.keep:
            say(f"kept schema: {schema}")
        elif created:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        with contextlib.suppress(Exception):
            clear_redis(args.redis_url)
    report(args, figures)
    return 0


def steady_rows(engine: Any, sent: Sequence[Sent]) -> dict[int, tuple[float, float | None]]:
    """received_at and processed_at (epoch seconds) of the steady phase's rows."""
    from sqlalchemy import text

    ids = [s.row_id for s in sent if s.row_id is not None]
    with engine.connect() as conn:
        return {row_id: (received.timestamp(), processed.timestamp() if processed else None)
                for row_id, received, processed in conn.execute(text(
                    "SELECT id, received_at, processed_at FROM inbound_message "
                    "WHERE id = ANY(:ids)"), {"ids": ids})}


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    bare, accept, apply, steady, check = (figures["bare"], figures["accept"], figures["apply"],
                                          figures["steady"], figures["check"])
    messages = accept["accepted"]
    sizes = figures["sizes"]
    ratio = accept["per_s"] / bare["per_s"] if bare["per_s"] else 0.0
    applied_per_s = messages / apply["seconds"] if apply["seconds"] > 0 else 0.0
    applied_only = messages / apply["applied_seconds"] if apply["applied_seconds"] > 0 else 0.0
    backlog_cpu = {**{f"accept {k}": v for k, v in accept["cpu"].items()},
                   **{f"apply {k}": v for k, v in apply["cpu"].items()}}
    cpu_ms = sum(backlog_cpu.values()) / max(messages, 1) * 1000
    rows, seen = steady["rows"], steady["seen"]
    answer_at: dict[str, float] = {}
    for record in steady["records"]:
        answer_at.setdefault(record.header, record.at)
    to_applied, to_started, to_answer = [], [], []
    for sent in steady["sent"]:
        received, processed = rows.get(sent.row_id, (None, None))
        if received is None:
            continue
        if sent.row_id in seen:
            to_applied.append((seen[sent.row_id] - received) * 1000)
        if processed is not None:
            to_started.append((processed - received) * 1000)
        message_id = steady["message_ids"][sent.number]
        if message_id in answer_at:
            to_answer.append((answer_at[message_id] - received) * 1000)
    p50, p99 = percentile(to_applied, 50), percentile(to_applied, 99)
    bare_apply = figures["bare_apply"]
    apply_ratio = applied_per_s / bare_apply["per_s"] if bare_apply["per_s"] else 0.0
    workers_cpu = sum(v for k, v in apply["cpu"].items() if k.startswith("worker"))
    apply_cpu = apply_cpu_ms(apply["cpu"], messages)
    bare_cpu = apply_cpu_ms(bare_apply["cpu"], bare_apply["replies"])
    steady_accepted = len(rows)
    offered_seconds = steady["end"] - steady["start"]

    def cpu_line(used: dict[str, float], n: int) -> str:
        return ", ".join(f"{name} {value / max(n, 1) * 1000:.2f}" for name, value in
                         sorted(used.items()))

    def other(phase: dict[str, Any], n: int) -> str:
        return f"other programs {phase['other'] / max(n, 1) * 1000:.2f}"

    lines = [
        f"Drumbeat intake benchmark: {messages:,} replies ({min(sizes):,}–{max(sizes):,} "
        f"bytes, mean {sum(sizes) / len(sizes):,.0f}) from {figures['senders']:,} senders; "
        f"PostgreSQL {figures['server']}, {os.cpu_count()} CPUs; {args.connections} client "
        f"connections; {args.workers} workers × {args.threads} threads"
        + "".join(f"; what-if: {statement}" for statement in args.what_if_sql),
        f"  bare accept        {bare['seconds']:8.2f} s  {bare['per_s']:7.1f}/s  "
        f"({bare['stored']:,} rows)",
        f"                     CPU ms a reply: {cpu_line(bare['cpu'], bare['accepted'])}; "
        f"client {bare['client_cpu'] / max(bare['accepted'], 1) * 1000:.2f}; "
        f"{other(bare, bare['accepted'])}",
        f"  smtpd accept       {accept['seconds']:8.2f} s  {accept['per_s']:7.1f}/s  "
        f"(refused {accept['refused']}; {accept['backlog']:,} nudges waiting on Redis, "
        f"{accept['still_received']:,} rows received)",
        f"                     CPU ms a reply: {cpu_line(accept['cpu'], messages)}; client "
        f"{accept['client_cpu'] / max(messages, 1) * 1000:.2f}; {other(accept, messages)}",
        f"  bare apply         {bare_apply['seconds']:8.2f} s  {bare_apply['per_s']:7.1f}/s "
        f"applied and answered (one process, plain SQL, no broker; "
        f"{bare_apply['history_rows']:,} history rows, {bare_apply['restored']:,} tasks put "
        "back afterwards)",
        f"                     CPU ms a reply: {cpu_line(bare_apply['cpu'], bare_apply['replies'])}"
        f"; {other(bare_apply, bare_apply['replies'])}",
        f"  apply backlog      {apply['seconds']:8.2f} s  {applied_per_s:7.1f}/s applied and "
        f"answered ({apply['applied_seconds']:.2f} s to the last one applied, "
        f"{applied_only:.1f}/s; {apply['answered']:,} answers at the sink)",
        f"                     CPU ms a reply: {cpu_line(apply['cpu'], messages)}; "
        f"{other(apply, messages)}",
        f"  CPU ms a reply     {cpu_ms:8.2f}     (accept + apply: smtpd, workers, every "
        "postgres and redis-server process; not the client, not the sink)",
        f"  apply CPU a reply  {apply_cpu:8.2f} ms (workers {workers_cpu / messages * 1000:.2f} "
        f"+ PostgreSQL {apply['cpu']['postgres'] / messages * 1000:.2f}); bare apply "
        f"{bare_cpu:.2f} ms ({figures['people']:,} people)",
        f"  steady load        {steady_accepted:,} replies offered at {args.rate:g}/s over "
        f"{offered_seconds:.1f} s; received → seen applied p50 {p50:.0f} ms, p90 "
        f"{percentile(to_applied, 90):.0f} ms, p99 {p99:.0f} ms, max "
        f"{max(to_applied, default=float('nan')):.0f} ms (polled every "
        f"{APPLIED_POLL_SECONDS * 1000:.0f} ms)",
        f"                     received → processing started p50 "
        f"{percentile(to_started, 50):.0f} ms, p99 {percentile(to_started, 99):.0f} ms; "
        f"received → answer at the sink p50 {percentile(to_answer, 50):.0f} ms, p99 "
        f"{percentile(to_answer, 99):.0f} ms",
        f"                     CPU ms a reply: {cpu_line(steady['cpu'], steady_accepted)}; "
        f"{other(steady, steady_accepted)}",
        f"  verified: {check['accepted']:,} replies answered 250, {check['stored']:,} rows "
        f"stored, inbound {dict(sorted(check['statuses'].items()))}, answers "
        f"{dict(sorted(check['outbox'].items()))}; problems {check['check'] or 'none'}",
    ]
    busy = sum(phase["other"] for phase in (bare, accept, apply, steady))
    span = bare["seconds"] + accept["seconds"] + apply["seconds"] + offered_seconds
    if busy > 0.05 * span:
        lines.append(f"  NOTE: other programs kept {busy / span * 100:.0f}% of a CPU busy during "
                     "the phases: the figures are skewed, run again on a quiet machine")
    missed = []
    if accept["still_received"] < messages:
        lines.append(f"  NOTE: {messages - accept['still_received']:,} replies were processed "
                     "during the accept phase: something consumed the queue (the smtpd's own "
                     "worker?), so accept_per_s is not accept alone")
    if check["lost"] or check["applied_twice"]:
        missed.append(f"TARGET MISSED: lost=0 and applied_twice=0 (lost={check['lost']} "
                      f"applied_twice={check['applied_twice']})")
    if ratio < ACCEPT_RATIO_TARGET:
        missed.append(f"TARGET MISSED: ratio_to_bare {ratio:.2f} < {ACCEPT_RATIO_TARGET}")
    if apply_ratio < APPLY_RATIO_TARGET:
        missed.append(f"TARGET MISSED: apply_ratio {apply_ratio:.2f} < {APPLY_RATIO_TARGET} "
                      f"(applied_per_s {applied_per_s:.1f}, bare_apply_per_s "
                      f"{bare_apply['per_s']:.1f})")
    if not p50 < P50_TARGET_MS:
        missed.append(f"TARGET MISSED: p50_ms {p50:.0f} >= {P50_TARGET_MS:.0f}")
    lines += missed
    lines.append(
        f"messages={messages} people={figures['people']} applied_per_s={applied_per_s:.1f} "
        f"bare_apply_per_s={bare_apply['per_s']:.1f} apply_ratio={apply_ratio:.2f} "
        f"p50_ms={p50:.0f} p99_ms={p99:.0f} lost={check['lost']} "
        f"applied_twice={check['applied_twice']} accept_per_s={accept['per_s']:.1f} "
        f"bare_accept_per_s={bare['per_s']:.1f} ratio_to_bare={ratio:.2f} "
        f"cpu_ms_per_reply={cpu_ms:.2f} apply_cpu_ms={apply_cpu:.2f} "
        f"bare_apply_cpu_ms={bare_cpu:.2f}")
    print("\n".join(lines), flush=True)


def apply_cpu_ms(used: dict[str, float], replies: int) -> float:
    """CPU ms a reply of the applying processes and PostgreSQL (not Redis, not the sink)."""
    return sum(v for k, v in used.items() if k != "redis") / max(replies, 1) * 1000


def report_accept(figures: dict[str, Any]) -> None:
    """The accept phases alone (``--accept-only``): rates, CPU and the ratio."""
    bare, accept = figures["bare"], figures["accept"]
    for name, phase in (("bare", bare), ("smtpd", accept)):
        n = max(phase["accepted"], 1)
        cpu = ", ".join(f"{k} {v / n * 1000:.2f}" for k, v in sorted(phase["cpu"].items()))
        print(f"  {name:<6} accept {phase['seconds']:7.2f} s {phase['per_s']:7.1f}/s; CPU ms a "
              f"reply: {cpu}; client {phase['client_cpu'] / n * 1000:.2f}; other programs "
              f"{phase['other'] / n * 1000:.2f}")
    ratio = accept["per_s"] / bare["per_s"] if bare["per_s"] else 0.0
    print(f"accept_per_s={accept['per_s']:.1f} bare_accept_per_s={bare['per_s']:.1f} "
          f"ratio_to_bare={ratio:.2f}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000,
                        help="replies in the backlog (default 10000)")
    parser.add_argument("--people", type=int, default=3_000,
                        help="people in the organisation, every one a sender (default 3000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per worker process (default 2)")
    parser.add_argument("--connections", type=int, default=4,
                        help="client SMTP connections, each reused (default 4)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="replies a second offered in the steady phase (default 20)")
    parser.add_argument("--steady-seconds", type=float, default=60.0,
                        help="length of the steady phase (default 60)")
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"PostgreSQL URL (default {DEFAULT_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"a spare Redis database: dramatiq's keys are deleted, others refused "
                             f"(default {DEFAULT_REDIS_URL})")
    parser.add_argument("--keep", action="store_true", help="do not drop the bench_* schema")
    parser.add_argument("--what-if-sql", metavar="SQL", action="append", default=[],
                        help="run this statement in the private schema after the migrations, "
                             "e.g. an index to try (repeatable; the result says so)")
    parser.add_argument("--accept-only", action="store_true",
                        help="run the bare and smtpd accept phases only and print their "
                             "figures (quick, for work on the accept ratio)")
    parser.add_argument("--profile", metavar="DIR",
                        help="afterwards, store, process and answer --profile-rows more replies "
                             "in this process, counting SQL statements; write DIR/intake.prof")
    parser.add_argument("--profile-rows", type=int, default=400, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=("bare",), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return args
    total = args.messages + round(args.rate * args.steady_seconds)
    if args.messages < 1 or args.people < 2 or args.workers < 1 or args.threads < 1 \
            or args.connections < 1 or args.rate <= 0 or args.steady_seconds <= 0:
        parser.error("--messages, --workers, --threads and --connections must be at least 1, "
                     "--people at least 2, --rate and --steady-seconds positive")
    from workers.inbound import THREAD_ANSWERS_PER_HOUR as CAP

    if math.ceil(total / args.people) > CAP:
        parser.error(f"{total:,} replies from {args.people:,} people is more than {CAP} a "
                     "sender, the hourly limit of answers in our threads: use --people "
                     f"{math.ceil(total / CAP)} or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve == "bare":
        serve_bare(args.port, args.database_url)
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
