"""docker-compose.yml's topology for real, without Docker: each role its own OS process.

``drumbeat smtpd``, two ``drumbeat worker --threads 2`` and ``drumbeat scheduler`` run
as separate processes on PostgreSQL (a private schema) and Redis (a spare database),
sending through a recording SMTP relay, exactly as the compose services do. The test
sends the week's agendas of the example company, replies to two of them over SMTP,
then kills one worker with SIGKILL in the middle of a second burst of replies, and
counts: every agenda and every answer reached the relay once, every reply was applied
once, and the sweeper (``DRUMBEAT_OUTBOX_STALE_MINUTES``) finished what the dead
worker held.

The scheduler runs as ``drumbeat scheduler --once --now NOW`` (a cron-style tick at a
fixed moment, so the agendas do not depend on today's date); each tick also runs the
sweeper. The relay can hold every sender at RCPT: the worker is killed while its
answer waits there, before any data was handed over, so the one case the README
allows a duplicate in (a worker dying after the relay accepted a message but before
recording it) cannot happen by accident here.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, func, select

from models import InboundMessage, OutboundMessage, Person, Task, TaskHistory
from models.db import make_engine
from tests.conftest import (
    EXAMPLES,
    POSTGRES_URL,
    empty_postgres_schema,
    postgres_url,
    spare_redis_db,
)
from tests.relay import RecordingHandler, Relay, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DRUMBEAT = Path(sys.executable).with_name("drumbeat")
NOW = "2026-11-28T12:00:00+00:00"  # a Saturday: the coming week's check-ins are all ahead
DOMAIN = "northwind.example"
STALE_MINUTES = 0.05  # the sweeper takes over a dead worker's rows after 3 s
FIRST_REPLIES, BURST, PER_SENDER = 2, 10, 2
APPLIED = re.compile(r"inbound message (\d+): (\w+)")
T = TypeVar("T")


# --- the pieces: a relay that can hold senders, processes with their logs ------------------


@dataclass
class HoldingHandler(RecordingHandler):
    """The test relay's handler; while ``held`` is set, every sender waits at RCPT.

    aiosmtpd cancels a session's handler when its client disconnects, so a sender
    killed while waiting here has handed nothing over.
    """

    held: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        while self.held.is_set():
            await asyncio.sleep(0.01)
        envelope.rcpt_tos.append(address)
        return "250 OK"


def holding_relay() -> tuple[Relay, HoldingHandler]:
    relay = Relay()
    handler = HoldingHandler()
    relay.handler = handler
    relay.controller.handler = handler
    return relay.start(), handler


@dataclass
class Role:
    """One running ``drumbeat`` process, its output going to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def applied(self) -> set[int]:
        return {int(m[1]) for m in APPLIED.finditer(self.output())}


@dataclass
class Topology:
    env: dict[str, str]
    cwd: Path
    roles: list[Role] = field(default_factory=list)
    ticks: list[Role] = field(default_factory=list)  # finished one-shot commands

    def start(self, name: str, *args: str) -> Role:
        log = self.cwd / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(DRUMBEAT), *args], env=self.env, cwd=self.cwd,
                                       stdout=out, stderr=subprocess.STDOUT)
        role = Role(name, process, log)
        self.roles.append(role)
        return role

    def run(self, name: str, *args: str, timeout: float = 120) -> Role:
        """A one-shot command (migrate, import, a scheduler tick); it must succeed."""
        log = self.cwd / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(DRUMBEAT), *args], env=self.env, cwd=self.cwd,
                                       stdout=out, stderr=subprocess.STDOUT)
        role = Role(name, process, log)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"`drumbeat {' '.join(args)}` took over {timeout} s:\n"
                                 f"{role.output()[-3000:]}") from None
        assert code == 0, f"`drumbeat {' '.join(args)}` exited {code}:\n{role.output()[-3000:]}"
        self.ticks.append(role)
        return role

    def alive(self, *but: Role) -> None:
        for role in self.roles:
            if role not in but and role.process.poll() is not None:
                raise AssertionError(f"{role.name} exited with {role.process.returncode}")

    def report(self) -> str:
        parts = []
        for role in [*self.roles, *self.ticks[-3:]]:
            state = role.process.poll()
            lines = role.output().splitlines()[-40:]
            parts.append(f"----- {role.name} (exit {state}) -----\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        for role in self.roles:
            if role.process.poll() is None:
                role.process.terminate()
        for role in self.roles:
            try:
                role.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                role.process.kill()
                role.process.wait(timeout=10)


def wait_for(what: str, condition: Callable[[], T | None], topology: Topology,
             timeout: float = 60, every: float = 0.1, *, but: tuple[Role, ...] = ()) -> T:
    deadline = time.monotonic() + timeout
    while True:
        topology.alive(*but)
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(every)


# --- fixtures: a private schema, a spare Redis database ---------------------------------


@pytest.fixture
def schema_url() -> Iterator[tuple[str, Engine]]:
    with empty_postgres_schema("drumbeat_mp") as schema:
        engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            yield postgres_url(schema), engine
        finally:
            engine.dispose()


@pytest.fixture
def spare_redis() -> Iterator[str]:
    with spare_redis_db() as url:
        yield url


# --- mail ------------------------------------------------------------------------------------


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def reply_to(agenda: EmailMessage, task_ref: str, percent: int, number: int) -> EmailMessage:
    """What a person writes: one update line on top, the agenda quoted below."""
    reply = EmailMessage()
    reply["From"] = str(agenda["To"])
    reply["To"] = str(agenda["Reply-To"])
    reply["Subject"] = f"Re: {agenda['Subject']}"
    reply["Message-ID"] = f"<mp-reply-{number}-{uuid.uuid4().hex[:8]}@mail.example>"
    reply["In-Reply-To"] = str(agenda["Message-ID"])
    reply["References"] = str(agenda["Message-ID"])
    reply.set_content(f"{task_ref} {percent}% getting there\n\n"
                      + "\n".join("> " + line for line in body(agenda).splitlines()))
    return reply


def send(port: int, replies: list[EmailMessage]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for reply in replies:
            client.sendmail(str(reply["From"]), [str(reply["To"])],
                            reply.as_bytes(policy=SMTP_POLICY))


@dataclass
class Plan:
    """One reply to send: to which agenda, which task, what progress."""

    agenda: EmailMessage
    task_id: int
    percent: int
    reply: EmailMessage


def plan_replies(engine: Engine, agendas: list[EmailMessage], count: int) -> list[Plan]:
    """Up to ``count`` replies, each to one agenda, updating an open task of the agenda's
    employee (the sender's own, or a direct report's when the sender is the manager) that
    no other reply touches; at most PER_SENDER from one person, well under the five
    answers an hour each gets. Chosen from the database, not from what the agenda lists
    (which depends on the day the test runs)."""
    context = {message_id: (ctx["role"], ctx["employee_id"]) for message_id, ctx in rows(
        engine, select(OutboundMessage.message_id, OutboundMessage.context)
        .where(OutboundMessage.kind == "agenda"))}
    open_tasks: dict[int, list[tuple[int, int]]] = {}
    for task_id, owner, progress in rows(engine, select(Task.id, Task.owner_id, Task.progress)
                                         .where(Task.status.in_(("open", "in_progress")))
                                         .order_by(Task.id)):
        open_tasks.setdefault(owner, []).append((task_id, progress))
    plans: list[Plan] = []
    senders: Counter[str] = Counter()
    for agenda in sorted(agendas, key=lambda a: (str(a["To"]), str(a["Subject"]))):
        sender = str(agenda["To"])
        _role, employee = context[str(agenda["Message-ID"])]
        used = {p.task_id for p in plans}
        task = next((t for t in open_tasks.get(employee, []) if t[0] not in used), None)
        if len(plans) == count or senders[sender] == PER_SENDER or task is None:
            continue
        (task_id, progress), number = task, len(plans)
        percent = 61 + number if progress != 61 + number else 42
        senders[sender] += 1
        plans.append(Plan(agenda, task_id, percent,
                          reply_to(agenda, f"T-{task_id}", percent, number)))
    return plans


def settled(engine: Engine, relay: Relay, plans: list[Plan]) -> bool:
    """Every reply applied, and its answer received by the relay and recorded as sent."""
    if len(answers_to(relay.messages(), plans)) < len(plans):
        return False
    ids = inbound_ids(engine, plans).values()
    answers = rows(engine, select(OutboundMessage.status).where(
        OutboundMessage.dedupe_key.in_([f"answer:{i}" for i in ids])))
    return len(answers) == len(plans) and all(status == "sent" for (status,) in answers)


def answers_to(messages: list[EmailMessage], plans: list[Plan]) -> dict[str, int]:
    wanted = {str(p.reply["Message-ID"]) for p in plans}
    counts = Counter(str(m["In-Reply-To"]) for m in messages
                     if str(m["In-Reply-To"]) in wanted)
    return dict(counts)


# --- the database ------------------------------------------------------------------------


def rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def inbound_ids(engine: Engine, plans: list[Plan]) -> dict[str, int]:
    ids = {str(p.reply["Message-ID"]) for p in plans}
    found = rows(engine, select(InboundMessage.message_id, InboundMessage.id)
                 .where(InboundMessage.message_id.in_(ids)))
    return {message_id: row_id for message_id, row_id in found}


def check_applied_once(engine: Engine, plans: list[Plan]) -> dict[str, int]:
    """Every reply stored once, applied, its task changed once, by that message."""
    ids = inbound_ids(engine, plans)
    assert len(ids) == len(plans)
    for plan in plans:
        inbound = ids[str(plan.reply["Message-ID"])]
        status = rows(engine, select(InboundMessage.status).where(InboundMessage.id == inbound))
        assert status == [("applied",)], (plan.reply["From"], status)
        progress = rows(engine, select(Task.progress).where(Task.id == plan.task_id))
        assert progress == [(plan.percent,)], (plan.task_id, progress, plan.percent)
        updates = rows(engine, select(TaskHistory.new_progress).where(
            TaskHistory.task_id == plan.task_id, TaskHistory.inbound_message_id == inbound))
        assert updates == [(plan.percent,)], (plan.task_id, updates)
        answer = rows(engine, select(OutboundMessage.status).where(
            OutboundMessage.dedupe_key == f"answer:{inbound}"))
        assert answer == [("sent",)], (inbound, answer)
    return ids


# --- the test ------------------------------------------------------------------------------


def test_the_compose_roles_as_processes_deliver_and_apply_everything_exactly_once(
        tmp_path: Path, schema_url: tuple[str, Engine], spare_redis: str) -> None:
    url, engine = schema_url
    relay, handler = holding_relay()
    intake_port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")}
    env = {**base, "PYTHONUNBUFFERED": "1", "COLUMNS": "120",
           "DRUMBEAT_DATABASE_URL": url, "DRUMBEAT_REDIS_URL": spare_redis,
           "DRUMBEAT_MAIL_DOMAIN": DOMAIN, "DRUMBEAT_SECRET_KEY": "multiprocess-test-secret",
           "DRUMBEAT_SMTP_HOST": "127.0.0.1", "DRUMBEAT_SMTP_PORT": str(relay.port),
           "DRUMBEAT_SMTP_STARTTLS": "false", "DRUMBEAT_SMTPD_PORT": str(intake_port),
           "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_AGENDA_LEAD_HOURS": "168",  # the whole coming week, as `make demo`
           "DRUMBEAT_OUTBOX_STALE_MINUTES": str(STALE_MINUTES),
           "DRUMBEAT_SEND_RETRY_MIN_SECONDS": "0.5"}
    topology = Topology(env, tmp_path)
    started = time.monotonic()
    try:
        # The migrate service, then the operator's imports.
        topology.run("migrate", "db", "upgrade")
        topology.run("import-people", "import", "people", str(EXAMPLES / "people.csv"))
        topology.run("import-plan", "import", "plan", str(EXAMPLES / "plan.yaml"))

        topology.start("smtpd", "smtpd")
        workers = [topology.start(f"worker-{n}", "worker", "--threads", "2") for n in "ab"]

        def intake_up() -> bool:
            try:
                smtplib.SMTP("127.0.0.1", intake_port, timeout=2).quit()
            except OSError:
                return False
            return True

        wait_for("the smtpd process to accept connections", intake_up, topology, 30)
        wait_for("the workers to start", lambda: all(
            "worker running" in w.output() for w in workers), topology, 30)

        # 1. One scheduler tick sends the week's agendas: each reaches the relay once.
        topology.run("scheduler-1", "scheduler", "--once", "--now", NOW)

        def agendas_delivered() -> list[Any] | None:
            agendas = rows(engine, select(OutboundMessage.message_id, OutboundMessage.status)
                           .where(OutboundMessage.kind == "agenda"))
            received = Counter(str(m["Message-ID"]) for m in relay.messages())
            if agendas and all(s == "sent" and received[m] for m, s in agendas):
                return agendas
            return None

        agendas = wait_for("every agenda to reach the relay", agendas_delivered, topology)
        messages = relay.messages()
        assert len(messages) == len(agendas), "mail other than the agendas, or one twice"
        assert {str(m["Message-ID"]) for m in messages} == {m for m, _ in agendas}
        weekly_pairs = rows(engine, select(Person.email).where(
            Person.manager_id.is_not(None), Person.cadence == "weekly"))
        got = Counter(str(m["To"]) for m in messages)
        assert weekly_pairs and all(got[email] >= 1 for (email,) in weekly_pairs), got
        assert not (tmp_path / "maildir").exists()  # all of it went through the relay

        # 2. Two people reply over SMTP to the smtpd process; the workers apply and answer.
        plans = plan_replies(engine, messages, FIRST_REPLIES + BURST)
        assert len(plans) == FIRST_REPLIES + BURST, f"only {len(plans)} tasks to update"
        first, burst = plans[:FIRST_REPLIES], plans[FIRST_REPLIES:]
        send(intake_port, [p.reply for p in first])
        wait_for("the answers to the first replies", lambda: settled(engine, relay, first),
                 topology, 60)
        check_applied_once(engine, first)

        # 3. A burst of replies; the first worker to apply one of them is killed while its
        # answer waits at the relay (held at RCPT), with more of the burst still queued.
        handler.held.set()
        send(intake_port, [p.reply for p in burst])
        burst_ids = set(inbound_ids(engine, burst).values())
        assert len(burst_ids) == len(burst)  # stored before the 250, each once

        def a_worker_in_the_middle() -> Role | None:
            return next((w for w in workers if w.applied() & burst_ids), None)

        victim = wait_for("a worker to apply a reply of the burst", a_worker_in_the_middle,
                          topology, 60, every=0.02)
        time.sleep(0.3)  # let its other thread take work too
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        held_by_victim = victim.applied() & burst_ids
        survivor = next(w for w in workers if w is not victim)
        handler.held.clear()

        # The scheduler keeps ticking (each tick sweeps) until the burst is done.
        tick = iter(range(2, 1000))

        def burst_done() -> bool:
            if settled(engine, relay, burst):
                return True
            topology.run(f"scheduler-{next(tick)}", "scheduler", "--once", "--now", NOW)
            return False

        wait_for("the burst to be applied and answered after the kill", burst_done, topology,
                 120, every=0.2, but=(victim,))
        assert survivor.process.poll() is None, "the surviving worker died"

        # Every reply applied once and answered once; no email of any kind sent twice.
        ids = check_applied_once(engine, plans)
        messages = relay.messages()
        assert answers_to(messages, plans) == {str(p.reply["Message-ID"]): 1 for p in plans}
        twice = [m for m, n in Counter(str(m["Message-ID"]) for m in messages).items() if n > 1]
        assert not twice, f"sent twice: {twice}"
        assert len(messages) == len(agendas) + len(plans)
        statuses = rows(engine, select(OutboundMessage.kind, OutboundMessage.status, func.count())
                        .group_by(OutboundMessage.kind, OutboundMessage.status))
        assert sorted(statuses) == [("agenda", "sent", len(agendas)),
                                    ("answer", "sent", len(plans))], statuses

        # The dead worker's answer was claimed by it and sent again by the sweeper; each
        # message was applied by exactly one process, the rest by those still running.
        taken_over = rows(engine, select(OutboundMessage.dedupe_key, OutboundMessage.attempts)
                          .where(OutboundMessage.dedupe_key.in_(
                              [f"answer:{i}" for i in held_by_victim])))
        assert taken_over and all(attempts == 2 for _key, attempts in taken_over), taken_over
        appliers = Counter(i for role in [*topology.roles, *topology.ticks]
                           for i in role.applied())
        assert all(appliers[i] <= 1 for i in ids.values()), appliers
        who = {role.name: sorted(role.applied() & burst_ids)
               for role in [*topology.roles, *topology.ticks] if role.applied() & burst_ids}
        print(f"\nmultiprocess: {len(agendas)} agendas, {len(plans)} replies; {victim.name} "
              f"killed holding {sorted(held_by_victim)}; the burst applied by {who}; "
              f"{len(topology.ticks) - 3} scheduler ticks; {time.monotonic() - started:.1f} s")
    except BaseException:
        print(topology.report())
        raise
    finally:
        handler.held.clear()
        topology.stop()
        relay.stop()
