"""Postfix from Debian's packages in front of ``drumbeat smtpd``, as a site would run it.

A private Postfix (tests/postfix.py) listens on a loopback port and relays the mail
domain to the intake over STARTTLS, which the intake requires of it (loopback is not
a trusted relay here). The intake stores into PostgreSQL through a TCP forwarder the
test can cut (tests/tcp_proxy.py), which is how "the database is stopped" looks from
the intake without stopping the server other tests share. Replies are token replies
to the agendas a scheduler tick sent, so they are vouched for by their address.

Under CI a missing Postfix fails the run (it is installed by .ci/run), as Dovecot does.
"""

from __future__ import annotations

import mailbox
import os
import re
import shutil
import smtplib
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from models import InboundMessage, Task, TaskHistory
from models.db import make_engine
from tests.certificates import self_signed
from tests.conftest import (
    EXAMPLES,
    POSTGRES_URL,
    empty_postgres_schema,
    postgres_url,
    service_missing,
)
from tests.postfix import Postfix, installed
from tests.relay import free_port
from tests.tcp_proxy import TcpProxy
from tests.test_multiprocess import Topology, wait_for
from tests.test_trust_e2e import Agenda, agendas_of, parse

pytestmark = pytest.mark.postgres

NOW = "2026-11-28T12:00:00+00:00"  # a Saturday: the coming week's check-ins are all ahead
DOMAIN = "northwind.example"
OPEN = ("open", "in_progress", "blocked")


@dataclass
class Site:
    """Postfix in front of the intake, and what the test can do to the database."""

    postfix: Postfix
    intake: Topology
    engine: Engine  # straight to the database, not through the forwarder
    database: TcpProxy
    agendas: list[Agenda]
    claimed: set[int] = field(default_factory=set)  # tasks a test already uses

    def submit(self, message: EmailMessage) -> None:
        """Hand the message to Postfix, as a sender's server would; Postfix says 250."""
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=30) as client:
            client.sendmail(str(message["From"]), [str(message["To"])],
                            message.as_bytes(policy=SMTP_POLICY))

    def stored(self, message_id: str) -> list[InboundMessage]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(InboundMessage).where(
                InboundMessage.message_id == message_id)).all())

    def updates(self, task_id: int) -> list[tuple[int | None, int | None]]:
        with self.engine.connect() as conn:
            return [(row.inbound_message_id, row.new_progress) for row in conn.execute(
                select(TaskHistory.inbound_message_id, TaskHistory.new_progress)
                .where(TaskHistory.task_id == task_id).order_by(TaskHistory.id))]

    def open_task_of(self, person_id: int) -> tuple[int, int]:
        """An open task of the person's that no other test uses, and its progress."""
        with self.engine.connect() as conn:
            row = conn.execute(select(Task.id, Task.progress).where(
                Task.owner_id == person_id, Task.status.in_(OPEN),
                Task.id.not_in(self.claimed or {0})).order_by(Task.id)).first()
        assert row is not None, f"person {person_id} has no open task left"
        self.claimed.add(int(row.id))
        return int(row.id), int(row.progress)

    def applied(self, message_id: str) -> int | None:
        """The row id once the message is applied."""
        rows = self.stored(message_id)
        return rows[0].id if len(rows) == 1 and rows[0].status == "applied" else None


def token_reply(agenda: Agenda, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = agenda.to
    message["To"] = agenda.reply_to
    message["Subject"] = f"Re: {agenda.subject}"
    message["Message-ID"] = f"<postfix-{uuid.uuid4().hex[:12]}@mail.{DOMAIN}>"
    message["In-Reply-To"] = agenda.message_id
    message.set_content(body + "\n")
    return message


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    if not installed():
        service_missing("Postfix", FileNotFoundError("/usr/lib/postfix/sbin/master"))
    if os.geteuid() != 0:
        service_missing("Postfix", PermissionError("a private Postfix runs as root"))
    # Not under pytest's tmp_path (0700): Postfix's daemons run as the postfix user, who
    # must reach the queue.
    root = Path(tempfile.mkdtemp(prefix="drumbeat-postfix-"))
    root.chmod(0o755)
    intake_port = free_port()
    certificate = self_signed(root, (f"mx.{DOMAIN}", DOMAIN))
    try:
        with empty_postgres_schema("drumbeat_postfix") as schema:
            direct = postgres_url(schema)
            database = TcpProxy((make_url(POSTGRES_URL).host or "127.0.0.1",
                                 make_url(POSTGRES_URL).port or 5432)).start()
            through_proxy = make_url(direct).set(host="127.0.0.1", port=database.port)
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")},
                   "PYTHONUNBUFFERED": "1", "DRUMBEAT_MAIL_DOMAIN": DOMAIN,
                   "DRUMBEAT_SECRET_KEY": "postfix-test-secret",
                   "DRUMBEAT_DATABASE_URL": direct, "DRUMBEAT_MAILDIR": str(root / "maildir"),
                   "DRUMBEAT_AGENDA_LEAD_HOURS": "168", "DRUMBEAT_SMTPD_PORT": str(intake_port),
                   "DRUMBEAT_SMTPD_TLS_CERT": str(certificate.cert),
                   "DRUMBEAT_SMTPD_TLS_KEY": str(certificate.key),
                   "DRUMBEAT_SMTPD_REQUIRE_TLS": "true"}
            intake = Topology(env, root)
            engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
            postfix = Postfix(root / "postfix", free_port(), DOMAIN, intake_port, tls_to_next=True)
            try:
                intake.run("migrate", "db", "upgrade")
                intake.run("import-people", "import", "people", str(EXAMPLES / "people.csv"))
                intake.run("import-plan", "import", "plan", str(EXAMPLES / "plan.yaml"))
                intake.run("scheduler", "scheduler", "--once", "--now", NOW)  # into the Maildir
                intake.env = {**env, "DRUMBEAT_DATABASE_URL":
                              through_proxy.render_as_string(hide_password=False)}
                smtpd = intake.start("smtpd", "smtpd")
                wait_for("the intake", lambda: "with STARTTLS" in smtpd.output(), intake, 60)
                try:
                    postfix.start()
                except RuntimeError as exc:
                    service_missing("Postfix", exc)
                sent = [parse(m.as_bytes()) for m in mailbox.Maildir(root / "maildir",
                                                                     create=False)]
                yield Site(postfix, intake, engine, database, agendas_of(engine, sent))
            except BaseException:
                print(intake.report(), "\n----- postfix -----\n", postfix.tail())
                raise
            finally:
                postfix.stop()
                intake.stop()
                database.stop()
                engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def delivered_lines(site: Site, message_id: str) -> list[str]:
    """Postfix's log lines about the message, found by its queue id."""
    log = site.postfix.tail(2000)
    found = re.search(rf"(\w+): message-id={re.escape(message_id)}", log)
    if found is None:
        return []
    return [line for line in log.splitlines() if f"{found.group(1)}:" in line]


def test_mail_through_postfix_is_applied_once_over_starttls(site: Site) -> None:
    agenda = site.agendas[0]
    task_id, progress = site.open_task_of(agenda.employee_id)
    percent = 11 + (progress + 17) % 80
    reply = token_reply(agenda, f"T-{task_id} {percent}% through postfix")
    site.submit(reply)

    row_id = wait_for("the reply to be applied", lambda: site.applied(str(reply["Message-ID"])),
                      site.intake, 60)
    assert site.updates(task_id) == [(row_id, percent)]
    lines = delivered_lines(site, str(reply["Message-ID"]))
    assert any(f"status=sent (250 2.0.0 OK: queued as {row_id})" in line for line in lines)
    assert "TLS connection established to 127.0.0.1" in site.postfix.tail(2000)
    assert site.postfix.queued() == 0


def test_with_the_database_stopped_postfix_keeps_the_mail_and_delivers_it_once_later(
        site: Site) -> None:
    agenda = site.agendas[-1]
    task_id, progress = site.open_task_of(agenda.employee_id)
    before = site.updates(task_id)
    percent = 11 + (progress + 29) % 80
    reply = token_reply(agenda, f"T-{task_id} {percent}% while the database was down")
    message_id = str(reply["Message-ID"])

    site.database.cut()
    try:
        site.submit(reply)  # Postfix takes it; the intake cannot store it: 451
        wait_for("Postfix to be told 451", lambda: any(
            "status=deferred" in line and "said: 451 4.3.0" in line
            for line in delivered_lines(site, message_id)), site.intake, 60)
        assert site.postfix.queued() == 1
        assert site.stored(message_id) == []
    finally:
        site.database.restore()

    time.sleep(2)  # back, but Postfix waits for its next try; nothing came in meanwhile
    assert site.postfix.queued() == 1 and site.stored(message_id) == []
    site.postfix.flush()
    row_id = wait_for("the queued reply to be applied", lambda: site.applied(message_id),
                      site.intake, 60)
    wait_for("Postfix's queue to empty", lambda: site.postfix.queued() == 0, site.intake, 30)
    assert len(site.stored(message_id)) == 1
    assert site.updates(task_id) == [*before, (row_id, percent)]
    sent = [line for line in delivered_lines(site, message_id) if "status=sent" in line]
    assert len(sent) == 1 and f"queued as {row_id}" in sent[0]
