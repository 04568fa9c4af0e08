"""Attacks on the real intake: nothing a forger sends changes data, no stranger gets mail,
and the legitimate replies sent in the same burst all apply.

Each attack runs against both ways Drumbeat is deployed:

* ``postgres+redis``: ``drumbeat smtpd`` and a ``drumbeat worker`` as their own processes
  on PostgreSQL (a private schema) and Redis (a spare database), answers going out
  through a recording SMTP relay, as docker-compose runs them;
* ``serve+sqlite``: ``drumbeat serve`` on a SQLite file, answers going to its Maildir.

The example company is imported and one scheduler tick sends the week's agendas, whose
Reply-To addresses carry the tokens the legitimate replies use. Every test sends its
attack over SMTP mixed with legitimate replies from several connections at once, then
looks at what a user would see: task states and history, meeting rows, the outbox and
what reached the relay or the Maildir.
"""

from __future__ import annotations

import mailbox
import os
import secrets
import smtplib
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models import InboundMessage, Meeting, OutboundMessage, Person, Task, TaskHistory
from models.db import make_engine
from models.people import PersonAlias
from tests.conftest import EXAMPLES
from tests.relay import Relay, free_port
from tests.test_multiprocess import DRUMBEAT, Topology, wait_for

NOW = "2026-11-28T12:00:00+00:00"  # a Saturday: the coming week's check-ins are all ahead
DOMAIN = "northwind.example"
SECRET = "trust-e2e-secret"
AUTHSERV = "mx.northwind.example"  # the MTA whose Authentication-Results Drumbeat trusts
ATTACKER = "attacker@elsewhere.example"
MAX_UPDATES = 100  # DRUMBEAT_MAX_UPDATES_PER_MESSAGE's default
MAX_RECIPIENTS = 50  # DRUMBEAT_SMTPD_MAX_RECIPIENTS's default
MAX_SESSIONS = 8  # small, so a test can fill the door
SESSION_SECONDS = 8.0
SETTLE_SECONDS = 90.0
OPEN = ("open", "in_progress", "blocked")
UNVOUCHED_NOTE = "could not confirm that it came from you, so nothing was changed"



# --- the running service ------------------------------------------------------------------


@dataclass(frozen=True)
class Agenda:
    """One agenda as it arrived: who it went to, its Reply-To (the token), its pair."""

    to: str
    reply_to: str
    message_id: str
    subject: str
    employee_id: int
    manager_id: int


@dataclass
class Service:
    """A running intake, its database and what it has sent."""

    kind: str
    engine: Engine
    port: int
    delivered: Callable[[], list[tuple[list[str], EmailMessage]]]  # (recipients, message)
    agendas: list[Agenda]
    alive: Callable[[], None]
    claimed: set[int] = field(default_factory=set)  # tasks a test already uses
    used_agendas: dict[str, int] = field(default_factory=dict)  # message id: tests using it

    def rows(self, query: Any) -> list[Any]:
        return rows(self.engine, query)

    def task(self, owner_id: int | None = None) -> TaskState:
        """An open task no other test touches (of ``owner_id`` when given)."""
        query = select(Task.id, Task.owner_id, Task.project_id, Task.status, Task.progress) \
            .where(Task.status.in_(OPEN)).order_by(Task.id)
        if owner_id is not None:
            query = query.where(Task.owner_id == owner_id)
        for row in self.rows(query):
            if row.id not in self.claimed:
                self.claimed.add(row.id)
                return TaskState(*row)
        raise AssertionError(f"no open task left (owner {owner_id})")

    def agenda(self) -> Agenda:
        """An agenda sent to an employee whose open tasks are not all claimed yet, the
        least used one first; each serves at most AGENDA_USES tests, so its recipient
        stays well under the answers-per-hour limit."""
        owners = {row.owner_id for row in self.rows(select(Task.owner_id).where(
            Task.status.in_(OPEN), Task.id.not_in(self.claimed or {0})))}
        usable = [agenda for agenda in self.agendas
                  if self.used_agendas.get(agenda.message_id, 0) < AGENDA_USES
                  and agenda.employee_id in owners
                  and self.email_of(agenda.employee_id) == agenda.to]
        if not usable:
            raise AssertionError("no unused agenda left")
        agenda = min(usable, key=lambda a: self.used_agendas.get(a.message_id, 0))
        self.used_agendas[agenda.message_id] = self.used_agendas.get(agenda.message_id, 0) + 1
        return agenda

    def email_of(self, person_id: int) -> str:
        [(email,)] = self.rows(select(Person.email).where(Person.id == person_id))
        return str(email)

    def legit(self, count: int, tag: str) -> list[Legit]:
        """``count`` replies to agendas, each setting one fresh task of its sender."""
        replies = []
        for n in range(count):
            agenda = self.agenda()
            task = self.task(agenda.employee_id)
            percent = 11 + (task.progress + 7 * n) % 80
            replies.append(Legit(agenda, task, percent, token_reply(
                agenda, f"T-{task.id} {percent}% legit {tag} {n}", tag=f"{tag}-{n}")))
        return replies

    def people(self) -> set[str]:
        emails = {str(e).lower() for (e,) in self.rows(select(Person.email))}
        return emails | {str(e).lower() for (e,) in self.rows(select(PersonAlias.email))}


AGENDA_USES = 2  # tests an agenda serves: its recipient stays well under the answer caps
# (60 an hour for replies in our threads, THREAD_ANSWERS_PER_HOUR; 5 for other mail)


@dataclass(frozen=True)
class TaskState:
    id: int
    owner_id: int
    project_id: int
    status: str
    progress: int


@dataclass(frozen=True)
class Legit:
    agenda: Agenda
    task: TaskState
    percent: int
    message: EmailMessage


def rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def agendas_of(engine: Engine, messages: Sequence[EmailMessage]) -> list[Agenda]:
    with engine.connect() as conn:
        context = {str(m): c for m, c in conn.execute(
            select(OutboundMessage.message_id, OutboundMessage.context)
            .where(OutboundMessage.kind == "agenda"))}
    found = []
    for message in messages:
        ctx = context.get(str(message["Message-ID"]))
        if ctx and message["Reply-To"] and ctx.get("manager_id"):
            found.append(Agenda(str(message["To"]).lower(), str(message["Reply-To"]),
                                str(message["Message-ID"]), str(message["Subject"]),
                                int(ctx["employee_id"]), int(ctx["manager_id"])))
    return sorted(found, key=lambda a: (a.to, a.message_id))


def base_env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")}
    return {**base, "PYTHONUNBUFFERED": "1", "COLUMNS": "120",
            "DRUMBEAT_MAIL_DOMAIN": DOMAIN, "DRUMBEAT_SECRET_KEY": SECRET,
            "DRUMBEAT_TRUSTED_AUTHSERV_ID": AUTHSERV,
            "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
            "DRUMBEAT_AGENDA_LEAD_HOURS": "168",  # the whole coming week, as `make demo`
            "DRUMBEAT_SCHEDULER_INTERVAL_SECONDS": "3600",
            "DRUMBEAT_SMTPD_MAX_SESSIONS": str(MAX_SESSIONS),
            "DRUMBEAT_SMTPD_SESSION_SECONDS": str(SESSION_SECONDS)}


def intake_up(port: int) -> bool:
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
    except (OSError, smtplib.SMTPException):
        return False
    return True


def run_ok(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([str(DRUMBEAT), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, f"`drumbeat {' '.join(args)}`: {done.stdout}{done.stderr}"
    return done.stdout


def start_postgres_redis(root: Path) -> Iterator[Service]:
    """smtpd and a worker as processes on PostgreSQL and Redis, sending through a relay."""
    from tests.conftest import POSTGRES_URL, empty_postgres_schema, postgres_url, spare_redis_db

    relay = Relay().start()
    port = free_port()
    with spare_redis_db() as redis_url, empty_postgres_schema("drumbeat_trust") as schema:
        engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        env = {**base_env(root), "DRUMBEAT_DATABASE_URL": postgres_url(schema),
               "DRUMBEAT_REDIS_URL": redis_url, "DRUMBEAT_SMTP_HOST": "127.0.0.1",
               "DRUMBEAT_SMTP_PORT": str(relay.port), "DRUMBEAT_SMTP_STARTTLS": "false",
               "DRUMBEAT_SMTPD_PORT": str(port), "DRUMBEAT_SEND_RETRY_MIN_SECONDS": "0.5"}
        topology = Topology(env, root)
        try:
            topology.run("migrate", "db", "upgrade")
            topology.run("import-people", "import", "people", str(EXAMPLES / "people.csv"))
            topology.run("import-plan", "import", "plan", str(EXAMPLES / "plan.yaml"))
            topology.start("smtpd", "smtpd")
            worker = topology.start("worker", "worker", "--threads", "2")
            wait_for("the intake", lambda: intake_up(port), topology, 30)
            wait_for("the worker", lambda: "worker running" in worker.output(), topology, 30)
            topology.run("scheduler", "scheduler", "--once", "--now", NOW)

            def agendas_sent() -> bool:
                statuses = [s for (s,) in rows(engine, select(OutboundMessage.status)
                    .where(OutboundMessage.kind == "agenda"))]
                return bool(statuses) and set(statuses) == {"sent"}

            wait_for("the agendas to reach the relay", agendas_sent, topology, 60)

            def delivered() -> list[tuple[list[str], EmailMessage]]:
                return [(rcpts, parse(data)) for rcpts, data in list(relay.handler.received)]

            yield Service("postgres+redis", engine, port, delivered,
                          agendas_of(engine, [m for _r, m in delivered()]),
                          lambda: topology.alive())
        except BaseException:
            print(topology.report())
            raise
        finally:
            topology.stop()
            relay.stop()
            engine.dispose()


def start_serve_sqlite(root: Path, **settings: str) -> Iterator[Service]:
    """``drumbeat serve`` on SQLite, its outgoing mail in a Maildir."""
    port = free_port()
    database = root / "drumbeat.sqlite"
    env = {**base_env(root), "DRUMBEAT_DATABASE_URL": f"sqlite:///{database}",
           "DRUMBEAT_SMTPD_PORT": str(port), **settings}
    run_ok(env, root, "db", "upgrade")
    run_ok(env, root, "import", "people", str(EXAMPLES / "people.csv"))
    run_ok(env, root, "import", "plan", str(EXAMPLES / "plan.yaml"))
    run_ok(env, root, "scheduler", "--once", "--now", NOW)  # the agendas, into the Maildir
    engine = make_engine(f"sqlite:///{database}")
    topology = Topology(env, root)
    try:
        topology.start("serve", "serve", "--drain", "2")
        wait_for("drumbeat serve", lambda: intake_up(port), topology, 60)

        def delivered() -> list[tuple[list[str], EmailMessage]]:
            found = []
            for message in mailbox.Maildir(root / "maildir", create=False):
                parsed = parse(message.as_bytes())
                rcpts = [a for _n, a in getaddresses(
                    [str(v) for v in parsed.get_all("To", []) + parsed.get_all("Cc", [])])]
                found.append((rcpts, parsed))
            return found

        yield Service("serve+sqlite", engine, port, delivered,
                      agendas_of(engine, [m for _r, m in delivered()]), lambda: topology.alive())
    except BaseException:
        print(topology.report())
        raise
    finally:
        topology.stop()
        engine.dispose()


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=default_policy).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture(scope="module", params=[
    pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    "serve+sqlite"])
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp(request.param.replace("+", "-"))
    start = start_postgres_redis if request.param == "postgres+redis" else start_serve_sqlite
    yield from start(root)


# --- mail --------------------------------------------------------------------------------


def message_id(tag: str) -> str:
    return f"<trust-{tag}-{uuid.uuid4().hex[:10]}@mail.{DOMAIN}>"


def token_reply(agenda: Agenda, body: str, tag: str) -> EmailMessage:
    """What a person writes to their agenda: updates on top, to its Reply-To."""
    message = EmailMessage()
    message["From"] = agenda.to
    message["To"] = agenda.reply_to
    message["Subject"] = f"Re: {agenda.subject}"
    message["Message-ID"] = message_id(tag)
    message["In-Reply-To"] = agenda.message_id
    message.set_content(body + "\n")
    return message


def plain(sender: str, to: str, body: str, tag: str, subject: str = "update",
          **headers: str) -> EmailMessage:
    message = EmailMessage()
    for name, value in headers.items():  # trace headers go on top, as an MTA adds them
        message[name.replace("_", "-")] = value
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id(tag)
    message.set_content(body + "\n")
    return message


@dataclass(frozen=True)
class Outgoing:
    """One SMTP transaction: envelope and bytes."""

    mail_from: str
    rcpts: tuple[str, ...]
    raw: bytes

    @property
    def message_id(self) -> str:
        return str(parse(self.raw)["Message-ID"])


def wire(message: EmailMessage, mail_from: str | None = None) -> Outgoing:
    rcpts = tuple(a for _n, a in getaddresses([str(message["To"])]))
    return Outgoing(mail_from or str(message["From"]), rcpts,
                    message.as_bytes(policy=SMTP_POLICY))


def with_header(out: Outgoing, name: str, value: str) -> Outgoing:
    """The same transaction with one header replaced byte for byte (what a forger can
    write that the email package would refuse to build)."""
    head, _, body = out.raw.partition(b"\r\n\r\n")
    lines = [f"{name}: {value}".encode() if line.lower().startswith(name.lower().encode()
                                                                       + b":") else line
             for line in head.split(b"\r\n")]
    return Outgoing(out.mail_from, out.rcpts, b"\r\n".join(lines) + b"\r\n\r\n" + body)


def send_burst(port: int, items: Sequence[Outgoing], connections: int = 4) -> list[str]:
    """Send from ``connections`` SMTP connections at once; each item's outcome ("250" or the
    error). A refused or cut connection is opened again, as a sending MTA retries."""
    outcomes = ["not sent"] * len(items)

    def sender(first: int) -> None:
        client: smtplib.SMTP | None = None
        for index in range(first, len(items), connections):
            item = items[index]
            for _attempt in range(5):
                try:
                    client = client or smtplib.SMTP("127.0.0.1", port, timeout=120)
                    client.sendmail(item.mail_from, list(item.rcpts), item.raw)
                    outcomes[index] = "250"
                    break
                except (smtplib.SMTPException, OSError) as error:
                    outcomes[index] = repr(error)
                    with_closed(client)
                    client = None
                    time.sleep(0.5)
        with_closed(client)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def with_closed(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def interleave(*groups: Sequence[Outgoing]) -> list[Outgoing]:
    mixed: list[Outgoing] = []
    for k in range(max(len(g) for g in groups)):
        mixed.extend(g[k] for g in groups if k < len(g))
    return mixed


# --- what a user sees -----------------------------------------------------------------------


def settle(service: Service, items: Sequence[Outgoing], timeout: float = SETTLE_SECONDS) -> None:
    """Wait until every message sent is stored and judged, and every answer handed over."""
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.message_id] = wanted.get(item.message_id, 0) + 1
    deadline = time.monotonic() + timeout
    while True:
        service.alive()
        found = service.rows(select(InboundMessage.message_id, InboundMessage.status)
                             .where(InboundMessage.message_id.in_(list(wanted))))
        stored: dict[str, int] = {}
        for mid, _status in found:
            stored[mid] = stored.get(mid, 0) + 1
        waiting = service.rows(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.status.in_(("pending", "queued", "claimed"))))[0][0]
        if stored == wanted and all(s != "received" for _m, s in found) and not waiting:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout} s: stored {stored}, wanted "
                                 f"{wanted}, statuses {sorted({s for _m, s in found})}, "
                                 f"{waiting} outgoing still waiting")
        time.sleep(0.1)


def inbound_ids(service: Service, items: Sequence[Outgoing]) -> list[int]:
    """The stored rows of exactly these bytes (a reused Message-ID has several rows)."""
    import hashlib

    ids = []
    for item in items:
        found = service.rows(select(InboundMessage.id).where(
            InboundMessage.message_id == item.message_id,
            InboundMessage.sha256 == hashlib.sha256(item.raw).hexdigest()))
        assert len(found) == 1, (item.message_id, found)
        ids.append(found[0][0])
    return ids


def assert_applied(service: Service, legit: Sequence[Legit]) -> None:
    """Every legitimate reply applied, its task set as it said, by that message."""
    for reply, row_id in zip(legit, inbound_ids(service, [wire(r.message) for r in legit]),
                             strict=True):
        [(status, how)] = service.rows(select(InboundMessage.status,
                                              InboundMessage.authenticated_by)
                                       .where(InboundMessage.id == row_id))
        assert (status, how) == ("applied", "token"), (reply.agenda.to, status, how)
        [(progress,)] = service.rows(select(Task.progress).where(Task.id == reply.task.id))
        assert progress == reply.percent, (reply.task.id, progress, reply.percent)
        updates = service.rows(select(TaskHistory.new_progress).where(
            TaskHistory.task_id == reply.task.id, TaskHistory.inbound_message_id == row_id))
        assert updates == [(reply.percent,)], (reply.task.id, updates)


def assert_changed_nothing(service: Service, hostile: Sequence[Outgoing],
                           targets: Sequence[TaskState]) -> list[int]:
    """The hostile messages are stored, changed nothing, and their target tasks are as
    they were; returns their row ids."""
    ids = inbound_ids(service, hostile)
    statuses = service.rows(select(InboundMessage.status).where(InboundMessage.id.in_(ids)))
    assert {s for (s,) in statuses} == {"rejected"}, statuses
    assert service.rows(select(TaskHistory.task_id, TaskHistory.note).where(
        TaskHistory.inbound_message_id.in_(ids))) == []
    assert service.rows(select(Meeting.id).where(Meeting.source_message_id.in_(ids))) == []
    for target in targets:
        now = service.rows(select(Task.status, Task.progress).where(Task.id == target.id))
        assert now == [(target.status, target.progress)], (target, now)
    return ids


def answers_to(service: Service, items: Sequence[Outgoing]) -> list[tuple[str, str]]:
    """(address, text) of every answer to these messages."""
    found = service.rows(select(OutboundMessage.to_address, OutboundMessage.body_text).where(
        OutboundMessage.in_reply_to.in_([i.message_id for i in items])))
    return [(str(a).lower(), " ".join(str(t or "").split())) for a, t in found]


def assert_no_mail_to_strangers(service: Service) -> None:
    """Every outbox row and every message that left goes to someone in the company."""
    people = service.people()
    outbox = {str(a).lower() for (a,) in service.rows(select(OutboundMessage.to_address))}
    assert outbox <= people, outbox - people
    delivered = {r.lower() for rcpts, _m in service.delivered() for r in rcpts}
    assert delivered and delivered <= people, delivered - people


def manager_of(service: Service, person_id: int) -> tuple[int, str]:
    [(manager_id,)] = service.rows(select(Person.manager_id).where(Person.id == person_id))
    assert manager_id is not None
    return int(manager_id), service.email_of(manager_id)


def managed_task(service: Service) -> TaskState:
    """An open task whose owner has a manager (the forger plays that manager)."""
    with_manager = {i for (i,) in service.rows(select(Person.id).where(
        Person.manager_id.is_not(None)))}
    while True:
        task = service.task()
        if task.owner_id in with_manager:
            return task


# --- the attacks -------------------------------------------------------------------------


def test_a_forged_from_of_the_manager_changes_nothing_and_only_the_real_manager_hears(
        service: Service) -> None:
    """Plain SMTP, the manager's address in From, ``T-n dropped: spoofed``: nothing
    changes; the real manager gets at most the one daily "could not confirm" note (never
    the forged text), the forger nothing."""
    target = managed_task(service)
    _manager_id, manager = manager_of(service, target.owner_id)
    forged = [wire(plain(manager, f"updates@{DOMAIN}",
                         f"T-{target.id} dropped: spoofed\nmet: yes\nT-{target.id} 5%",
                         f"forged-{n}", subject="Re: your 1:1"), mail_from=ATTACKER)
              for n in range(3)]
    legit = service.legit(4, "forged-from")
    mixed = interleave(forged, [wire(r.message) for r in legit])
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, mixed)
    assert_applied(service, legit)
    assert_changed_nothing(service, forged, [target])
    answers = answers_to(service, forged)
    assert len(answers) <= 1, answers
    for address, text in answers:
        assert address == manager and UNVOUCHED_NOTE in text and "spoofed" not in text
    assert_no_mail_to_strangers(service)


def test_a_made_up_token_is_never_downgraded_to_trusting_from(service: Service) -> None:
    """``checkin+<made-up token>@`` with a real person's From: changes nothing (a token
    that does not verify vouches for nobody), and the impostor hears nothing."""
    victim = service.agenda()
    target = service.task(victim.employee_id)
    token = victim.reply_to.split("+", 1)[1].split("@", 1)[0]
    tampered = token[:-13] + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567")
                                     for _ in range(13))
    made_up = [f"checkin+{tampered}@{DOMAIN}", f"checkin+zz{secrets.token_hex(7)[:13]}@{DOMAIN}",
               f"checkin+{secrets.token_hex(4)}@{DOMAIN}"]
    forged = []
    for n, address in enumerate(made_up):
        message = token_reply(victim, f"T-{target.id} done\nmet: yes 45min", f"token-{n}")
        message.replace_header("To", address)
        forged.append(wire(message, mail_from=ATTACKER))
    legit = service.legit(4, "made-up-token")
    mixed = interleave(forged, [wire(r.message) for r in legit])
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, mixed)
    assert_applied(service, legit)
    ids = assert_changed_nothing(service, forged, [target])
    assert service.rows(select(InboundMessage.authenticated_by).where(
        InboundMessage.id.in_(ids))) == [("none",)] * len(ids)  # as `drumbeat inbox` shows
    for address, text in answers_to(service, forged):  # at most the daily note, to the victim
        assert address == victim.to and UNVOUCHED_NOTE in text, (address, text)
    assert_no_mail_to_strangers(service)


def test_a_display_name_that_looks_like_the_manager_vouches_for_nobody(
        service: Service) -> None:
    """``From: manager@company <attacker@elsewhere>``, with a DMARC pass for the
    attacker's own domain in a topmost Authentication-Results by the trusted MTA: read as
    nobody, so nothing changes and no mail goes out for it."""
    target = managed_task(service)
    _manager_id, manager = manager_of(service, target.owner_id)
    verdict = (f"{AUTHSERV}; dkim=pass header.d=elsewhere.example; "
               "dmarc=pass header.from=elsewhere.example")
    forged = []
    for n, sender in enumerate([f"{manager} <{ATTACKER}>", f'"{manager}" <{ATTACKER}>',
                                f"{manager} <{ATTACKER}>, {manager}"]):
        out = wire(plain(ATTACKER, f"updates@{DOMAIN}", f"T-{target.id} dropped: spoofed",
                         f"display-{n}", Authentication_Results=verdict), mail_from=ATTACKER)
        forged.append(with_header(out, "From", sender))
    legit = service.legit(3, "display-name")
    mixed = interleave(forged, [wire(r.message) for r in legit])
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, mixed)
    assert_applied(service, legit)
    assert_changed_nothing(service, forged, [target])
    assert answers_to(service, forged) == []
    assert_no_mail_to_strangers(service)


def test_a_dmarc_pass_for_another_domain_does_not_vouch_for_the_from_address(
        service: Service) -> None:
    """The manager's own address in From, and the trusted MTA's topmost verdict a DMARC
    pass, but for the attacker's domain (``header.from``): that vouches for nobody."""
    target = managed_task(service)
    _manager_id, manager = manager_of(service, target.owner_id)
    verdict = (f"{AUTHSERV}; spf=pass smtp.mailfrom={ATTACKER}; "
               "dkim=pass header.d=elsewhere.example; dmarc=pass header.from=elsewhere.example")
    forged = [wire(plain(manager, f"updates@{DOMAIN}", f"T-{target.id} dropped: spoofed",
                         f"dmarc-{n}", Authentication_Results=verdict), mail_from=ATTACKER)
              for n in range(2)]
    legit = service.legit(3, "dmarc-other-domain")
    mixed = interleave(forged, [wire(r.message) for r in legit])
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, mixed)
    assert_applied(service, legit)
    assert_changed_nothing(service, forged, [target])
    assert_no_mail_to_strangers(service)


def test_mail_from_an_unknown_address_gets_no_mail_at_all(service: Service) -> None:
    """A stranger (to updates@, to a made-up token, to notes@) is stored and never
    answered: an answer would be backscatter with a text of the stranger's choosing."""
    target = service.task()
    prize = "You won! Call +1 555 0100 to claim your prize"
    strangers = [f"victim-{n}@elsewhere.example" for n in range(3)]
    hostile = [
        wire(plain(strangers[0], f"updates@{DOMAIN}", f"T-{target.id} done", "stranger-0",
                   subject=prize)),
        wire(plain(strangers[1], f"checkin+{secrets.token_hex(8)}@{DOMAIN}",
                   f"T-{target.id} dropped: {prize}", "stranger-1", subject=prize)),
        wire(plain(strangers[2], f"notes@{DOMAIN}", f"Action: T-{target.id} done. {prize}",
                   "stranger-2", subject=prize)),
    ]
    legit = service.legit(3, "stranger")
    mixed = interleave(hostile, [wire(r.message) for r in legit])
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, mixed)
    assert_applied(service, legit)
    assert_changed_nothing(service, hostile, [target])
    assert answers_to(service, hostile) == []
    sent_to = {r.lower() for rcpts, _m in service.delivered() for r in rcpts}
    assert not sent_to & set(strangers)
    assert_no_mail_to_strangers(service)


def test_a_reused_message_id_with_other_bytes_is_stored_and_judged_on_its_own(
        service: Service) -> None:
    """Junk sent first with the Message-ID a genuine reply will carry does not win: both
    are stored, the junk changes nothing, the genuine reply applies."""
    [genuine] = service.legit(1, "reused-id")
    target = service.task()
    junk = plain(genuine.agenda.to, f"updates@{DOMAIN}", f"T-{target.id} dropped: junk\n"
                 f"T-{genuine.task.id} dropped: junk", "junk")
    junk.replace_header("Message-ID", str(genuine.message["Message-ID"]))
    first = wire(junk, mail_from=ATTACKER)
    assert send_burst(service.port, [first], connections=1) == ["250"]
    settle(service, [first])
    others = service.legit(3, "reused-id-burst")
    mixed = [wire(genuine.message), *[wire(r.message) for r in others]]
    assert send_burst(service.port, mixed) == ["250"] * len(mixed)
    settle(service, [first, *mixed])
    assert len(service.rows(select(InboundMessage.id).where(
        InboundMessage.message_id == first.message_id))) == 2
    assert_applied(service, [genuine, *others])
    assert_changed_nothing(service, [first], [target])
    assert_no_mail_to_strangers(service)


def read_reply(sock: socket.socket) -> bytes:
    """One whole SMTP reply (every line of a multi-line one)."""
    buffer = b""
    while not any(len(line) >= 4 and line[:3].isdigit() and line[3:4] == b" "
                  for line in buffer.split(b"\r\n")[:-1]):
        chunk = sock.recv(4096)
        if not chunk:
            break
        buffer += chunk
    return buffer


def stall(port: int, until: float, cut: list[float]) -> None:
    """An SMTP client that opens a message and trickles one byte every half second."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            read_reply(sock)
            for line in (b"EHLO slow.example\r\n", f"MAIL FROM:<{ATTACKER}>\r\n".encode(),
                         f"RCPT TO:<updates@{DOMAIN}>\r\n".encode(), b"DATA\r\n"):
                sock.sendall(line)
                read_reply(sock)
            while time.monotonic() < until:
                sock.sendall(b"X")
                sock.settimeout(0.5)
                try:
                    if sock.recv(1024) == b"":
                        break
                except TimeoutError:
                    continue
                break  # the server spoke (421) or closed: the session is over
    except OSError:
        pass
    cut.append(time.monotonic() - started)


def test_the_door_caps_recipients_sessions_and_session_time(service: Service) -> None:
    """Beyond 50 recipients: 452; beyond the session cap: 421; a session that trickles is
    cut at its deadline; and legitimate replies in the same burst apply."""
    with smtplib.SMTP("127.0.0.1", service.port, timeout=30) as client:
        client.ehlo("many.example")
        client.mail(ATTACKER)
        codes = [client.rcpt(f"checkin+{secrets.token_hex(8)}@{DOMAIN}")[0]
                 for _ in range(MAX_RECIPIENTS + 20)]
        client.rset()
    assert codes == [250] * MAX_RECIPIENTS + [452] * 20

    cut: list[float] = []
    until = time.monotonic() + 4 * SESSION_SECONDS
    stalled = [threading.Thread(target=stall, args=(service.port, until, cut))
               for _ in range(MAX_SESSIONS)]
    for thread in stalled:
        thread.start()
    time.sleep(1.0)
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP("127.0.0.1", service.port, timeout=10)
    assert refused.value.smtp_code == 421
    for thread in stalled:
        thread.join(timeout=6 * SESSION_SECONDS)
    assert len(cut) == MAX_SESSIONS and max(cut) < SESSION_SECONDS + 5, cut

    legit = service.legit(4, "door")
    items = [wire(r.message) for r in legit]
    assert send_burst(service.port, items) == ["250"] * len(items)
    settle(service, items)
    assert_applied(service, legit)
    assert_no_mail_to_strangers(service)


def test_a_listed_relay_vouches_for_its_mail_and_the_default_trusts_no_network(
        tmp_path: Path) -> None:
    """A company mail server that relays internal mail without DKIM, listed in
    DRUMBEAT_TRUSTED_RELAYS: its plain mail to updates@ applies. (The other tests run
    with the default, under which the same mail from loopback changes nothing.)"""
    with contextmanager(start_serve_sqlite)(tmp_path,
                                            DRUMBEAT_TRUSTED_RELAYS="127.0.0.0/8") as service:
        target = managed_task(service)
        owner = service.email_of(target.owner_id)
        relayed = wire(plain(owner, f"updates@{DOMAIN}", f"T-{target.id} 77% via the relay",
                             "relayed"))
        legit = service.legit(2, "relay")
        items = [relayed, *[wire(r.message) for r in legit]]
        assert send_burst(service.port, items) == ["250"] * len(items)
        settle(service, items)
        assert_applied(service, legit)
        [row_id] = inbound_ids(service, [relayed])
        assert service.rows(select(InboundMessage.status, InboundMessage.authenticated_by)
                            .where(InboundMessage.id == row_id)) == [("applied", "relay")]
        assert service.rows(select(Task.progress).where(Task.id == target.id)) == [(77,)]
        assert_no_mail_to_strangers(service)


def test_one_reply_with_150000_new_lines_applies_at_most_100_and_the_burst_still_applies(
        service: Service) -> None:
    """A genuine reply (its token verifies) with 150,000 ``new:`` lines: at most 100 are
    applied, and the replies that arrive with it are not held up. Runs last: on a branch
    without the cap it keeps a worker busy for a long time."""
    agenda = service.agenda()
    own = service.task(agenda.employee_id)
    lines = "\n".join(f"new: Flood item {n} P-{own.project_id}" for n in range(150_000))
    flood = wire(token_reply(agenda, lines, "flood"))
    legit = service.legit(5, "flood-burst")
    items = [flood, *[wire(r.message) for r in legit]]
    assert send_burst(service.port, items, connections=3) == ["250"] * len(items)
    settle(service, items, timeout=120)
    assert_applied(service, legit)
    [flood_id] = inbound_ids(service, [flood])
    [(status,)] = service.rows(select(InboundMessage.status).where(InboundMessage.id == flood_id))
    assert status == "applied"
    created = service.rows(select(func.count()).select_from(TaskHistory).where(
        TaskHistory.inbound_message_id == flood_id))[0][0]
    assert 0 < created <= MAX_UPDATES
    assert_no_mail_to_strangers(service)
