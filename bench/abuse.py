"""Benchmark: legitimate replies under a hostile mix, against ``drumbeat serve`` on SQLite.

Sets up the example company (``examples/northwind``) in a temporary folder, lets one
scheduler tick send the week's agendas into the Maildir (their Reply-To addresses carry
the reply tokens), and copies that database for two phases, each against a fresh
``drumbeat serve`` (its own process, SQLite, in-process broker, answers to the Maildir):

* ``alone``   ``--legit`` replies to those agendas, paced at ``--rate`` a second from
  ``--clients`` SMTP connections; each adds one note to a task of its sender's pair;
* ``mixed``   the same replies, paced the same, while ``--hostile`` messages arrive from
  their own connections: forged From (a manager's address to updates@), made-up and
  tampered tokens, display-name tricks (``manager@company <attacker@elsewhere>``) and
  DMARC passes for the attacker's own domain, strangers, 150,000-line ``new:`` bodies
  (forged, and one from an insider whose token verifies), a message to thousands of
  recipients, reused Message-IDs sent just before the genuine reply that carries them,
  and stalled sessions that open a message and trickle a byte at a time.

Per legitimate reply the clock runs from the moment it is due in the paced schedule (the
client sends on time unless the intake holds up its connection) to the moment a poller
(every 20 ms, read-only) sees its row applied; a reply never applied counts as the
whole phase. Sends stop ``--wait-seconds`` after the window, and so does the waiting. Afterwards:

* ``changed_by_hostile``: task history rows and meeting rows written by hostile
  messages (the insider's flood may write up to ``--max-updates``; only more counts),
  plus existing tasks whose status or progress differs from the ``alone`` phase's end
  (legitimate replies only add notes, so any such difference is the mix's doing);
* ``answers_to_strangers``: outbox rows and Maildir messages to anyone not a person;
* ``legit_applied``: replies applied with their note in the task's history; ``lost``:
  the rest (refused, stored but not applied within ``--wait-seconds``);
* ``peak_rss_mb``: the peak resident memory of the service's process tree (sampled
  every 100 ms, and the kernel's high-water mark of the main process).

The last stdout line is::

    hostile=… changed_by_hostile=… answers_to_strangers=… legit_applied=…/… lost=…
    p99_legit_ms=… peak_rss_mb=… p99_legit_alone_ms=…

(on one line).
Targets: ``changed_by_hostile=0``, ``answers_to_strangers=0``, ``lost=0``,
``p99_legit_ms`` under 2000 and ``peak_rss_mb`` under 500. Run
``.venv/bin/python bench/abuse.py --help`` for the options; ``--quick`` is a small run.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import mailbox
import math
import os
import secrets
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path

from common import Failure, free_port, proc_status_mb, say

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "northwind"
DRUMBEAT = Path(sys.executable).with_name("drumbeat")
NOW = "2026-11-28T12:00:00+00:00"  # a Saturday: the coming week's agendas are all ahead
DOMAIN = "northwind.example"
SECRET = "bench-abuse-secret"
AUTHSERV = "mx.northwind.example"  # the MTA whose verdicts the service trusts
ATTACKER = "attacker@elsewhere.example"
OPEN = ("open", "in_progress", "blocked")
KINDS = ("forged_from", "forged_token", "display_name", "dmarc_other_domain", "stranger",
         "flood", "many_recipients", "reused_message_id", "stalled")
P99_TARGET_MS = 2000.0
RSS_TARGET_MB = 500.0
POLL_SECONDS = 0.02
SEND_TIMEOUT = 30.0  # seconds an SMTP client waits for one answer before trying again


# --- the company and its agendas --------------------------------------------------------


@dataclass(frozen=True)
class Agenda:
    to: str
    reply_to: str
    message_id: str
    subject: str
    employee_id: int


@dataclass(frozen=True)
class Company:
    """What the setup left: the migrated database with its agendas, and facts about it."""

    template: Path
    agendas: tuple[Agenda, ...]
    people: frozenset[str]  # every address of every person, lower-cased
    managers: dict[int, str]  # person id -> their manager's address
    open_tasks: dict[int, tuple[tuple[int, int], ...]]  # owner -> ((task id, project id), …)


def base_env(root: Path, port: int) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")}
    return {**clean, "PYTHONUNBUFFERED": "1",
            "DRUMBEAT_DATABASE_URL": f"sqlite:///{root / 'drumbeat.sqlite'}",
            "DRUMBEAT_MAILDIR": str(root / "maildir"), "DRUMBEAT_MAIL_DOMAIN": DOMAIN,
            "DRUMBEAT_SECRET_KEY": SECRET, "DRUMBEAT_TRUSTED_AUTHSERV_ID": AUTHSERV,
            "DRUMBEAT_SMTPD_PORT": str(port), "DRUMBEAT_AGENDA_LEAD_HOURS": "168",
            "DRUMBEAT_SCHEDULER_INTERVAL_SECONDS": "3600"}


def drumbeat(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(DRUMBEAT), *args], env=env, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise Failure(f"`drumbeat {' '.join(args)}` exited {done.returncode}: "
                      f"{done.stdout[-2000:]}{done.stderr[-2000:]}")


def set_up(root: Path) -> Company:
    """Import the example company and send one tick's agendas (not timed)."""
    setup = root / "setup"
    setup.mkdir()
    env = base_env(setup, 0)
    drumbeat(env, "db", "upgrade")
    drumbeat(env, "import", "people", str(EXAMPLES / "people.csv"))
    drumbeat(env, "import", "plan", str(EXAMPLES / "plan.yaml"))
    drumbeat(env, "scheduler", "--once", "--now", NOW)
    database = setup / "drumbeat.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        context = {m: json.loads(c) for m, c in db.execute(
            "SELECT message_id, context FROM outbound_message WHERE kind = 'agenda'")}
        people = {e.lower() for (e,) in db.execute("SELECT email FROM person")}
        people |= {e.lower() for (e,) in db.execute("SELECT email FROM person_alias")}
        managers = {i: e for i, e in db.execute(
            "SELECT p.id, m.email FROM person p JOIN person m ON m.id = p.manager_id")}
        open_tasks: dict[int, list[tuple[int, int]]] = {}
        for task_id, owner, project in db.execute(
                "SELECT id, owner_id, project_id FROM task WHERE status IN (?, ?, ?) "
                "ORDER BY id", OPEN):
            open_tasks.setdefault(owner, []).append((task_id, project))
    agendas = []
    for message in mailbox.Maildir(setup / "maildir", create=False):
        ctx = context.get(str(message["Message-ID"]))
        if ctx and ctx.get("manager_id") and message["Reply-To"]:
            agendas.append(Agenda(str(message["To"]).lower(), str(message["Reply-To"]),
                                  str(message["Message-ID"]),
                                  # decoded: a German or Japanese reader's subject is
                                  # an encoded word, folded over lines
                                  str(make_header(decode_header(str(message["Subject"])))),
                                  int(ctx["employee_id"])))
    agendas = [a for a in sorted(agendas, key=lambda a: a.message_id)
               if open_tasks.get(a.employee_id)]
    if not agendas:
        raise Failure("the scheduler tick sent no agendas with open tasks to reply to")
    template = root / "template.sqlite"
    shutil.copy(database, template)
    return Company(template, tuple(agendas), frozenset(people), managers,
                   {k: tuple(v) for k, v in open_tasks.items()})


# --- the messages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One SMTP transaction."""

    kind: str
    mail_from: str
    rcpts: tuple[str, ...]
    raw: bytes
    message_id: str
    twin: int | None = None  # for a reused Message-ID: the legit reply it goes before

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def message(sender: str, to: str, body: str, *, subject: str = "Re: your 1:1",
            message_id: str | None = None, **headers: str) -> EmailMessage:
    built = EmailMessage()
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    built["From"] = sender
    built["To"] = to
    built["Subject"] = subject
    built["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.{DOMAIN}>"
    built.set_content(body + "\n")
    return built


def outgoing(kind: str, built: EmailMessage, mail_from: str,
             rcpts: Sequence[str] | None = None, **fields: object) -> Outgoing:
    raw = built.as_bytes(policy=SMTP_POLICY)
    rcpts = tuple(rcpts or [a for _n, a in getaddresses([str(built["To"])])])
    return Outgoing(kind, mail_from, rcpts, raw, str(built["Message-ID"]), **fields)  # type: ignore[arg-type]


def replace_from(item: Outgoing, value: str) -> Outgoing:
    """The same message with a From line the email package would not write."""
    head, _, body = item.raw.partition(b"\r\n\r\n")
    lines = [f"From: {value}".encode() if line.lower().startswith(b"from:") else line
             for line in head.split(b"\r\n")]
    return Outgoing(item.kind, item.mail_from, item.rcpts,
                    b"\r\n".join(lines) + b"\r\n\r\n" + body, item.message_id, item.twin)


def legit_replies(company: Company, count: int) -> list[Outgoing]:
    """Replies to the agendas in turn, each adding a note to one of the employee's tasks
    (a note never changes status or progress, so the end state does not depend on the
    order in which concurrent replies are applied)."""
    replies = []
    for n, agenda in zip(range(count), itertools.cycle(company.agendas), strict=False):
        tasks = company.open_tasks[agenda.employee_id]
        task_id, _project = tasks[n % len(tasks)]
        built = message(agenda.to, agenda.reply_to, f"T-{task_id} note: legit {n}",
                        subject=f"Re: {agenda.subject}",
                        message_id=f"<legit-{n}-{uuid.uuid4().hex[:12]}@mail.{DOMAIN}>",
                        In_Reply_To=agenda.message_id)
        replies.append(outgoing("legit", built, agenda.to))
    return replies


def hostile_mix(company: Company, count: int, legit: Sequence[Outgoing], flood_lines: int,
                recipients: int) -> list[Outgoing | None]:
    """``count`` hostile items, the kinds in turn; None stands for a stalled session."""
    agendas = company.agendas
    targets = [t for tasks in company.open_tasks.values() for t in tasks]
    managed = [owner for owner in company.open_tasks if owner in company.managers]
    items: list[Outgoing | None] = []
    insider_sent = False
    for n, kind in zip(range(count), itertools.cycle(KINDS), strict=False):
        owner = managed[n % len(managed)]
        task_id, project = company.open_tasks[owner][0]
        manager = company.managers[owner]
        target, _p = targets[n % len(targets)]
        spoof = f"T-{task_id} dropped: spoofed\nT-{target} 3%\nmet: yes\nnew: Spoof P-{project}"
        agenda = agendas[n % len(agendas)]
        if kind == "forged_from":
            items.append(outgoing(kind, message(manager, f"updates@{DOMAIN}", spoof), ATTACKER))
        elif kind == "forged_token":
            token = agenda.reply_to.split("+", 1)[1].split("@", 1)[0]
            fake = token[:-13] + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567")
                                         for _ in range(13))
            items.append(outgoing(kind, message(agenda.to, f"checkin+{fake}@{DOMAIN}", spoof),
                                  ATTACKER))
        elif kind == "display_name":
            verdict = (f"{AUTHSERV}; dkim=pass header.d=elsewhere.example; "
                       "dmarc=pass header.from=elsewhere.example")
            item = outgoing(kind, message(ATTACKER, f"updates@{DOMAIN}", spoof,
                                          Authentication_Results=verdict), ATTACKER)
            items.append(replace_from(item, f"{manager} <{ATTACKER}>"))
        elif kind == "dmarc_other_domain":
            verdict = (f"{AUTHSERV}; spf=pass smtp.mailfrom={ATTACKER}; dkim=pass "
                       "header.d=elsewhere.example; dmarc=pass header.from=elsewhere.example")
            items.append(outgoing(kind, message(manager, f"updates@{DOMAIN}", spoof,
                                                Authentication_Results=verdict), ATTACKER))
        elif kind == "stranger":
            stranger = f"victim-{n}@elsewhere.example"
            items.append(outgoing(kind, message(
                stranger, f"updates@{DOMAIN}", spoof,
                subject="You won! Call +1 555 0100 to claim your prize"), stranger))
        elif kind == "flood":
            lines = "\n".join(f"new: Flood item {k} P-{project}" for k in range(flood_lines))
            if not insider_sent:  # a real token: only the per-message cap bounds it
                insider_sent = True
                items.append(outgoing("insider_flood", message(
                    agenda.to, agenda.reply_to, lines, subject=f"Re: {agenda.subject}"),
                    agenda.to))
            else:
                items.append(outgoing(kind, message(manager, f"updates@{DOMAIN}", lines),
                                      ATTACKER))
        elif kind == "many_recipients":
            rcpts = [f"checkin+{secrets.token_hex(8)}@{DOMAIN}" for _ in range(recipients)]
            items.append(outgoing(kind, message(manager, f"updates@{DOMAIN}", spoof),
                                  ATTACKER, rcpts=[f"updates@{DOMAIN}", *rcpts]))
        elif kind == "reused_message_id":
            twin = (n * 7919) % len(legit)
            victim = legit[twin]
            sender = str(BytesParser(policy=default_policy).parsebytes(victim.raw)["From"])
            items.append(outgoing(kind, message(sender, f"updates@{DOMAIN}", spoof,
                                                message_id=victim.message_id), ATTACKER,
                                  twin=twin))
        else:
            items.append(None)
    return items


# --- the service --------------------------------------------------------------------------


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    root: Path
    port: int
    log: Path

    @property
    def database(self) -> Path:
        return self.root / "drumbeat.sqlite"


def start(company: Company, root: Path) -> Running:
    root.mkdir()
    shutil.copy(company.template, root / "drumbeat.sqlite")
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(DRUMBEAT), "serve", "--drain", "5"],
                                   env=base_env(root, port), stdout=out,
                                   stderr=subprocess.STDOUT)
    running = Running(process, root, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failure(f"serve exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return running
        except (OSError, smtplib.SMTPException):
            time.sleep(0.2)
    stop(running)
    raise Failure("serve did not accept connections within 60 s")


def stop(running: Running) -> None:
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            say("serve did not stop within 30 s of SIGTERM; killed")
            running.process.kill()
            running.process.wait(timeout=10)


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def high_water_kb(pid: int) -> int:
    return round(proc_status_mb(pid) * 1024)


# --- one phase ----------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured."""

    sent_at: dict[int, float] = field(default_factory=dict)  # legit index -> monotonic
    applied_at: dict[int, float] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    hostile_outcomes: dict[str, int] = field(default_factory=dict)
    peak_rss_kb: int = 0
    ended: float = 0.0


def send_one(client: smtplib.SMTP | None, port: int, item: Outgoing, give_up_at: float
             ) -> tuple[smtplib.SMTP | None, str | None]:
    """Send one transaction, as an MTA would (a new connection after any error, three
    tries, none begun after ``give_up_at``); returns the connection to reuse and the
    error, if the last try failed."""
    error = "not sent: the intake took nothing more before the phase's deadline"
    for _attempt in range(3):
        if time.monotonic() > give_up_at:
            break
        try:
            client = client or smtplib.SMTP("127.0.0.1", port, timeout=SEND_TIMEOUT)
            client.sendmail(item.mail_from, list(item.rcpts), item.raw)
            return client, None
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
            close(client)
            client = None
            time.sleep(0.2)
    return client, error


def close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def read_reply(sock: socket.socket) -> bytes:
    """One whole SMTP reply (all lines of a multi-line one); its last line."""
    buffer = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        buffer += chunk
        lines = buffer.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[:3].isdigit() and line[3:4] == b" ":
                return line


def stalled_session(port: int, until: float) -> str:
    """Open a message and trickle a byte every half second until ``until`` or the server
    ends the session; returns how it ended."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            read_reply(sock)
            for line in (b"EHLO slow.example\r\n", f"MAIL FROM:<{ATTACKER}>\r\n".encode(),
                         f"RCPT TO:<updates@{DOMAIN}>\r\n".encode(), b"DATA\r\n"):
                sock.sendall(line)
                if not read_reply(sock).startswith((b"2", b"3")):
                    return "refused"
            sock.settimeout(0.5)
            while time.monotonic() < until:
                sock.sendall(b"X")
                try:
                    answer = sock.recv(1024)
                except TimeoutError:
                    continue
                return "cut by the server" if answer == b"" or answer.startswith(b"421") \
                    else "answered"
            return "held to the end"
    except OSError as error:
        return f"refused: {type(error).__name__}"


def run_phase(company: Company, root: Path, legit: Sequence[Outgoing],
              hostile: Sequence[Outgoing | None], args: argparse.Namespace) -> Phase:
    running = start(company, root)
    phase = Phase()
    done = threading.Event()
    try:
        phase = drive(running, legit, hostile, args, phase, done)
    finally:
        done.set()
        stop(running)
    return phase


def drive(running: Running, legit: Sequence[Outgoing], hostile: Sequence[Outgoing | None],
          args: argparse.Namespace, phase: Phase, done: threading.Event) -> Phase:
    window = len(legit) / args.rate
    t0 = time.monotonic() + 0.5
    give_up_at = t0 + window + args.wait_seconds
    lock = threading.Lock()
    twins_sent = {item.twin: threading.Event() for item in hostile
                  if item is not None and item.twin is not None}

    def sampler() -> None:
        while not done.is_set():
            phase.peak_rss_kb = max(phase.peak_rss_kb, tree_rss_kb(running.process.pid),
                                    high_water_kb(running.process.pid))
            done.wait(0.1)

    def poller() -> None:
        wanted = {item.sha256: index for index, item in enumerate(legit)}
        db = sqlite3.connect(f"file:{running.database}?mode=ro", uri=True, timeout=30)
        try:
            while not done.is_set() and len(phase.applied_at) < len(legit):
                pending = [h for h, i in wanted.items() if i not in phase.applied_at]
                marks = ",".join("?" * len(pending))
                for (digest,) in db.execute(
                        f"SELECT sha256 FROM inbound_message WHERE status = 'applied' "
                        f"AND sha256 IN ({marks})", pending):
                    phase.applied_at.setdefault(wanted[digest], time.monotonic())
                done.wait(POLL_SECONDS)
        finally:
            db.close()

    def legit_client(first: int) -> None:
        client = None
        for index in range(first, len(legit), args.clients):
            due = t0 + index / args.rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            if index in twins_sent:  # the hostile copy of its Message-ID goes first
                twins_sent[index].wait(timeout=10)
            with lock:  # the clock runs from when it was due: a late send counts against it
                phase.sent_at[index] = min(due, time.monotonic())
            client, error = send_one(client, running.port, legit[index], give_up_at)
            if error:
                phase.refused[index] = error
        close(client)

    def hostile_client(first: int) -> None:
        client = None
        for index in range(first, len(hostile), args.clients):
            item = hostile[index]
            if item is not None and item.twin is not None:
                continue  # sent on time by twin_client, not queued behind a flood
            due = t0 + window * index / max(1, len(hostile))
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if item is None:
                threading.Thread(target=stalled_outcome, daemon=True).start()
                continue
            client, error = send_one(client, running.port, item, give_up_at)
            with lock:
                key = f"{item.kind}:{'refused' if error else 'accepted'}"
                phase.hostile_outcomes[key] = phase.hostile_outcomes.get(key, 0) + 1
            if item.twin is not None:
                twins_sent[item.twin].set()
        close(client)

    def twin_client() -> None:
        """The reused Message-IDs, each 0.3 s before the genuine reply that carries it
        (its own connection, so the genuine reply never waits on the bench's queue)."""
        client = None
        twins = sorted((item for item in hostile if item is not None and item.twin is not None),
                       key=lambda item: item.twin)
        for item in twins:
            delay = t0 + item.twin / args.rate - 0.3 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            client, error = send_one(client, running.port, item, give_up_at)
            with lock:
                key = f"{item.kind}:{'refused' if error else 'accepted'}"
                phase.hostile_outcomes[key] = phase.hostile_outcomes.get(key, 0) + 1
            twins_sent[item.twin].set()
        close(client)

    def stalled_outcome() -> None:
        outcome = stalled_session(running.port, t0 + window + args.stall_seconds)
        with lock:
            key = f"stalled:{outcome}"
            phase.hostile_outcomes[key] = phase.hostile_outcomes.get(key, 0) + 1

    background = [threading.Thread(target=sampler, daemon=True),
                  threading.Thread(target=poller, daemon=True)]
    senders = [threading.Thread(target=legit_client, args=(k,), daemon=True)
               for k in range(args.clients)]
    if hostile:
        senders += [threading.Thread(target=hostile_client, args=(k,), daemon=True)
                    for k in range(min(args.clients, len(hostile)))]
        senders.append(threading.Thread(target=twin_client, daemon=True))
    for thread in [*background, *senders]:
        thread.start()
    for thread in senders:  # a sender still waiting on the intake's answer is left behind
        thread.join(timeout=max(0.0, give_up_at + 3 * SEND_TIMEOUT - time.monotonic()))
    deadline = max(time.monotonic(), give_up_at)
    while time.monotonic() < deadline and len(phase.applied_at) + len(phase.refused) \
            < len(legit):
        if running.process.poll() is not None:
            say(f"serve exited {running.process.returncode} during the run")
            break
        time.sleep(0.1)
    phase.ended = time.monotonic()
    done.set()
    for thread in background:
        thread.join(timeout=10)
    return phase


# --- the verdict ----------------------------------------------------------------------------


def p99_ms(phase: Phase, count: int) -> float:
    """The 99th percentile of send-to-applied; a reply never applied counts as the whole
    wait (it was still not applied when the phase ended)."""
    latencies = sorted(
        (phase.applied_at.get(i, phase.ended) - phase.sent_at.get(i, phase.ended)) * 1000
        for i in range(count))
    if not latencies:
        return 0.0
    return latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]


@dataclass(frozen=True)
class Verdict:
    changed_by_hostile: int
    answers_to_strangers: int
    legit_applied: int
    details: str


def judge(company: Company, alone: Path, mixed: Path, legit: Sequence[Outgoing],
          hostile: Sequence[Outgoing | None], max_updates: int) -> Verdict:
    """Compare the mixed phase's database with the alone phase's, and count."""
    with sqlite3.connect(f"file:{alone / 'drumbeat.sqlite'}?mode=ro", uri=True) as db:
        expected = dict(((i, (s, p)) for i, s, p in db.execute(
            "SELECT id, status, progress FROM task")))
    db = sqlite3.connect(f"file:{mixed / 'drumbeat.sqlite'}?mode=ro", uri=True)
    try:
        rows = {(m, h): (i, s) for i, m, h, s in db.execute(
            "SELECT id, message_id, sha256, status FROM inbound_message")}
        sent = [item for item in hostile if item is not None]
        insider = {rows[(i.message_id, i.sha256)][0] for i in sent
                   if i.kind == "insider_flood" and (i.message_id, i.sha256) in rows}
        hostile_ids = {rows[(i.message_id, i.sha256)][0] for i in sent
                       if (i.message_id, i.sha256) in rows} - insider
        marks = ",".join("?" * len(hostile_ids)) or "NULL"
        history = db.execute(f"SELECT count(*) FROM task_update WHERE inbound_message_id "
                             f"IN ({marks})", sorted(hostile_ids)).fetchone()[0]
        meetings = db.execute(f"SELECT count(*) FROM meeting WHERE source_message_id "
                              f"IN ({marks})", sorted(hostile_ids)).fetchone()[0]
        over_cap = 0
        for row_id in insider:
            written = db.execute("SELECT count(*) FROM task_update WHERE "
                                 "inbound_message_id = ?", (row_id,)).fetchone()[0]
            over_cap += max(0, written - max_updates)
        drifted = sum(1 for i, s, p in db.execute("SELECT id, status, progress FROM task")
                      if i in expected and expected[i] != (s, p))
        outbox = [a.lower() for (a,) in db.execute("SELECT to_address FROM outbound_message")]
        applied = 0
        for index, item in enumerate(legit):
            found = rows.get((item.message_id, item.sha256))
            if found is None or found[1] != "applied":
                continue
            note = db.execute("SELECT count(*) FROM task_update WHERE inbound_message_id = ? "
                              "AND note = ?", (found[0], f"legit {index}")).fetchone()[0]
            applied += note == 1
    finally:
        db.close()
    delivered = []
    for stored in mailbox.Maildir(mixed / "maildir", create=False):
        delivered += [a.lower() for _n, a in getaddresses(
            [str(v) for v in stored.get_all("To", []) + stored.get_all("Cc", [])])]
    strangers = sum(1 for a in outbox if a not in company.people) \
        + sum(1 for a in delivered if a not in company.people)
    details = (f"hostile history rows {history}, insider flood rows over the cap {over_cap}, "
               f"hostile meeting rows {meetings}, tasks whose state moved {drifted}; "
               f"outbox rows {len(outbox)}, Maildir recipients {len(delivered)}")
    return Verdict(history + over_cap + meetings + drifted, strangers, applied, details)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--legit", type=int, default=200, help="legitimate replies (N)")
    parser.add_argument("--hostile", type=int, default=90, help="hostile items (M)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="legitimate replies a second (both phases)")
    parser.add_argument("--clients", type=int, default=4,
                        help="SMTP connections for legitimate mail, and as many for hostile")
    parser.add_argument("--flood-lines", type=int, default=150_000)
    parser.add_argument("--recipients", type=int, default=3_000,
                        help="recipients of the many-recipients message")
    parser.add_argument("--max-updates", type=int, default=100,
                        help="DRUMBEAT_MAX_UPDATES_PER_MESSAGE the insider's flood may use")
    parser.add_argument("--stall-seconds", type=float, default=30.0,
                        help="how long after the sending window stalled sessions trickle on")
    parser.add_argument("--wait-seconds", type=float, default=120.0,
                        help="how long after the last send to wait for legitimate replies")
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 40 legitimate, 18 hostile, 20,000-line floods, "
                        "300 recipients, short waits (about a minute)")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="keep both phases' folders (databases, Maildirs, logs) here")
    args = parser.parse_args(argv)
    if args.quick:
        args.legit, args.hostile, args.flood_lines, args.recipients = 40, 18, 20_000, 300
        args.stall_seconds, args.wait_seconds = 5.0, 60.0
    root = Path(tempfile.mkdtemp(prefix="drumbeat-abuse-"))
    try:
        say(f"setting up the example company in {root} …")
        company = set_up(root)
        legit = legit_replies(company, args.legit)
        hostile = hostile_mix(company, args.hostile, legit, args.flood_lines, args.recipients)
        say(f"alone: {len(legit)} legitimate replies at {args.rate:g}/s …")
        alone = run_phase(company, root / "alone", legit, [], args)
        p99_alone = p99_ms(alone, len(legit))
        say(f"alone: {len(alone.applied_at)}/{len(legit)} applied, p99 {p99_alone:.0f} ms")
        say(f"mixed: the same with {len(hostile)} hostile items …")
        mixed = run_phase(company, root / "mixed", legit, hostile, args)
        p99_mixed = p99_ms(mixed, len(legit))
        verdict = judge(company, root / "alone", root / "mixed", legit, hostile,
                        args.max_updates)
        say(f"mixed: {len(mixed.applied_at)}/{len(legit)} applied, p99 {p99_mixed:.0f} ms; "
            f"{verdict.details}")
        say("hostile outcomes: " + ", ".join(f"{k} {v}" for k, v in
                                             sorted(mixed.hostile_outcomes.items())))
        for index, error in sorted(mixed.refused.items())[:5]:
            say(f"legitimate reply {index} refused: {error}")
        lost = len(legit) - verdict.legit_applied
        peak_mb = mixed.peak_rss_kb / 1024
        misses = [text for failed, text in (
            (verdict.changed_by_hostile > 0, "hostile messages changed data"),
            (verdict.answers_to_strangers > 0, "mail went to strangers"),
            (lost > 0, f"{lost} legitimate replies lost"),
            (p99_mixed >= P99_TARGET_MS, f"p99 {p99_mixed:.0f} ms >= {P99_TARGET_MS:.0f}"),
            (peak_mb >= RSS_TARGET_MB, f"peak RSS {peak_mb:.0f} MB >= {RSS_TARGET_MB:.0f}"))
            if failed]
        for text in misses:
            print(f"TARGET MISSED: {text}")
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        print(f"hostile={len(hostile)} changed_by_hostile={verdict.changed_by_hostile} "
              f"answers_to_strangers={verdict.answers_to_strangers} "
              f"legit_applied={verdict.legit_applied}/{len(legit)} lost={lost} "
              f"p99_legit_ms={p99_mixed:.0f} peak_rss_mb={peak_mb:.0f} "
              f"p99_legit_alone_ms={p99_alone:.0f}", flush=True)
        return 0
    except Failure as failure:
        print(f"FAILED: {failure}", flush=True)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
