"""One clock everywhere: ``drumbeat inbox``, ``outbox``, ``status`` and the answers show
times on Drumbeat's clock (``DRUMBEAT_CLOCK_START`` when set), in the reader's zone:
``--tz``, else ``DRUMBEAT_DEFAULT_TIMEZONE`` on the console, the person's own zone in an
answer. Driven as an operator drives it, against ``drumbeat serve`` on SQLite.

It also prints subjects as they were written: NeoMutt forwards with a subject in square
brackets, which rich would otherwise take for its own markup and print as nothing.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import time
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import func, select, update

from models import InboundMessage, OutboundMessage, Person, Task
from models.db import make_engine, session_factory
from tests.conftest import Database
from tests.relay import free_port
from tests.test_cli_mail import company_env, drumbeat
from tests.test_serve import EXAMPLES, drumbeat_path, start, stopped
from workers.intake import store_raw

NEOMUTT_SUBJECT = "[drumbeat@example.com: Your check-in]"
GRACE = "grace.kim@northwind.example"  # America/Toronto


def grace_writes(subject: str, body: str, number: int = 1) -> bytes:
    message = EmailMessage()
    message["From"] = f"Grace Kim <{GRACE}>"
    message["To"] = "updates@northwind.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<clock-{number}@mail.example>"
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def eventually(check: Callable[[], bool], seconds: float = 60) -> bool:
    """Whether ``check`` holds within ``seconds`` (asked five times a second)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def line_of(listing: str, row_id: int) -> str:
    return next(line for line in listing.splitlines() if re.match(rf"│ {row_id} ", line))


def test_serve_on_a_simulated_clock_stamps_arrivals_and_answers_on_that_clock(
        tmp_path: Path) -> None:
    database = tmp_path / "drumbeat.sqlite"
    env = {**os.environ, "DRUMBEAT_DATABASE_URL": f"sqlite:///{database}",
           "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_SMTPD_PORT": str(free_port()), "DRUMBEAT_MAIL_DOMAIN": "northwind.example",
           "DRUMBEAT_TRUSTED_RELAYS": "127.0.0.1/32",  # loopback plays the company's server
           "DRUMBEAT_CLOCK_START": "2026-10-01T15:00:00+00:00", "DRUMBEAT_CLOCK_SPEED": "1",
           "COLUMNS": "250", "TERM": "dumb"}
    env.pop("DRUMBEAT_REDIS_URL", None)
    env.pop("DRUMBEAT_DEFAULT_TIMEZONE", None)
    for command in (("db", "upgrade"), ("import", "people", str(EXAMPLES / "people.csv"))):
        subprocess.run([drumbeat_path(), *command], env=env, check=True, capture_output=True)
    server = start(env)
    try:
        with smtplib.SMTP("127.0.0.1", int(env["DRUMBEAT_SMTPD_PORT"]), timeout=10) as client:
            client.sendmail(GRACE, ["updates@northwind.example"],
                            grace_writes(NEOMUTT_SUBJECT, "met: yes 45min\n"))
        sessions = session_factory(make_engine(f"sqlite:///{database}"))

        def answered() -> bool:
            with sessions() as session:
                return bool(session.scalar(select(func.count()).select_from(OutboundMessage)
                                           .where(OutboundMessage.kind == "answer")))
        assert eventually(answered), "no answer within a minute"
    finally:
        server.send_signal(signal.SIGINT)
        assert stopped(server) == 0
    with sessions() as session:
        inbound = session.scalar(select(InboundMessage))
        answer = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "answer"))
        assert inbound is not None and answer is not None and inbound.status == "applied"
        inbound_id, answer_id = inbound.id, answer.id

    # 15:00 UTC on Drumbeat's clock is 17:00 in Berlin, whatever this machine's clock says.
    inbox = drumbeat(env, "inbox", "--tz", "Europe/Berlin")
    assert inbox.returncode == 0, inbox.stderr
    assert "received (Europe/Berlin)" in inbox.stdout
    row = line_of(inbox.stdout, inbound_id)
    assert "2026-10-01 17:00" in row and NEOMUTT_SUBJECT in row
    outbox = drumbeat(env, "outbox", "--kind", "answer", "--tz", "Europe/Berlin")
    assert outbox.returncode == 0, outbox.stderr
    row = line_of(outbox.stdout, answer_id)
    assert "2026-10-01 17:00" in row and f"Re: {NEOMUTT_SUBJECT}" in row

    shown = drumbeat(env, "inbox", "show", str(inbound_id), "--tz", "Europe/Berlin")
    assert re.search(r"Received:   2026-10-01 17:00:\d\d CEST via smtp", shown.stdout)
    assert f"Subject:    {NEOMUTT_SUBJECT}" in shown.stdout
    # The answer, as Grace reads it: her 1:1 on her day, its length, her time (Toronto).
    text = drumbeat(env, "outbox", "show", str(answer_id)).stdout
    assert f"Subject:    Re: {NEOMUTT_SUBJECT}" in text
    assert "held on Thu 01 Oct 2026, 45 min" in text
    assert "Your message arrived Thu 01 Oct 2026 at 11:00 (America/Toronto)." in text
    assert re.search(r"Created:    2026-10-01 15:00:\d\d UTC", text)  # the default zone


def test_inbox_prints_a_neomutt_forward_subject_as_written(db: Database, tmp_path: Path
                                                            ) -> None:
    env = {**company_env(db, tmp_path), "COLUMNS": "250", "TERM": "dumb"}
    with db.session() as session, session.begin():
        row_id, _new = store_raw(session, grace_writes(f"Fwd: {NEOMUTT_SUBJECT}", "hi\n"),
                                 via="smtp")
        other_id, _new = store_raw(session, grace_writes(NEOMUTT_SUBJECT, "hi\n", 2),
                                   via="smtp")

    listing = drumbeat(env, "inbox")
    assert listing.returncode == 0, listing.stderr
    assert f"Fwd: {NEOMUTT_SUBJECT}" in line_of(listing.stdout, row_id)
    assert NEOMUTT_SUBJECT in line_of(listing.stdout, other_id)
    shown = drumbeat(env, "inbox", "show", str(other_id))
    assert f"Subject:    {NEOMUTT_SUBJECT}" in shown.stdout


def test_status_reads_today_on_drumbeats_clock_in_the_readers_zone(db: Database,
                                                                   tmp_path: Path) -> None:
    env = {**company_env(db, tmp_path), "COLUMNS": "250", "TERM": "dumb",
           # 23:30 UTC on New Year's Eve: already 1 January in Berlin, not yet in Toronto.
           "DRUMBEAT_CLOCK_START": "2026-12-31T23:30:00+00:00"}
    title = "[urgent] Fix the build"
    with db.session() as session, session.begin():
        grace = session.scalar(select(Person.id).where(Person.email == GRACE))
        task_id = session.scalar(select(Task.id).where(Task.owner_id == grace).limit(1))
        session.execute(update(Task).where(Task.id == task_id).values(
            title=title, due=date(2026, 12, 31), status="open", progress=0))

    def task_line(*options: str, **more_env: str) -> str:
        result = drumbeat({**env, **more_env}, "status", "--person", GRACE, *options)
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if title in line)

    assert "overdue" in task_line("--tz", "Europe/Berlin")
    assert "overdue" not in task_line("--tz", "America/Toronto")
    assert "overdue" in task_line(DRUMBEAT_DEFAULT_TIMEZONE="Asia/Tokyo")
    assert "overdue" not in task_line(DRUMBEAT_DEFAULT_TIMEZONE="UTC")
    assert "overdue" in task_line("--today", "2027-01-01")  # --today still wins


def test_an_unknown_time_zone_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    env = company_env(db, tmp_path)
    for command in (("inbox",), ("outbox",), ("status",), ("inbox", "show", "1"),
                    ("outbox", "show", "1")):
        result = drumbeat(env, *command, "--tz", "Mars/Olympus")
        assert result.returncode == 1, command
        assert "unknown time zone 'Mars/Olympus'" in result.stderr, command
        assert "Traceback" not in result.stderr
