"""``drumbeat serve`` survives Ctrl-C in the middle of a burst of inbound mail.

The test sends replies over SMTP from one thread while the main thread interrupts
the server part-way; it then starts the server again and counts: every message
that got a 250 is stored once and processed once (one answer each), and the
server said nothing it did not do.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import func, select

from models import InboundMessage, OutboundMessage
from models.db import make_engine, session_factory
from tests.relay import free_port

EXAMPLES = Path(__file__).parents[1] / "examples" / "northwind"
SENDER = "grace.kim@northwind.example"


def drumbeat_path() -> str:
    return str(Path(sys.executable).with_name("drumbeat"))


OUTPUT: list[str] = []


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen([drumbeat_path(), "serve", "--drain", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # wait until it accepts mail
        OUTPUT.append(line)
        if "drumbeat serving" in line:
            threading.Thread(target=lambda: OUTPUT.extend(process.stdout),  # type: ignore[arg-type]
                             daemon=True).start()
            return process
    raise AssertionError(f"serve did not start: exit {process.wait()}: {''.join(OUTPUT)}")


def stopped(process: subprocess.Popen[str]) -> int:
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("serve did not stop; its output:\n" + "".join(OUTPUT[-40:])) from None


def reply(number: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Grace Kim <{SENDER}>"
    message["To"] = "updates@northwind.example"
    message["Subject"] = f"update {number}"
    message["Message-ID"] = f"<burst-{number}@mail.example>"
    message.set_content(f"note for the burst, number {number}\n")
    return message.as_bytes(policy=SMTP)


def test_ctrl_c_during_a_burst_loses_nothing_and_the_next_start_finishes_the_work(
        tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "drumbeat.sqlite"
    env = {**os.environ, "DRUMBEAT_DATABASE_URL": f"sqlite:///{database}",
           "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"), "DRUMBEAT_SMTPD_PORT": str(port),
           "DRUMBEAT_MAIL_DOMAIN": "northwind.example",
           # The burst comes from loopback, standing in for the company's mail server: a
           # listed relay, whose plain SMTP counts as sent by its From address.
           "DRUMBEAT_TRUSTED_RELAYS": "127.0.0.1/32"}
    env.pop("DRUMBEAT_REDIS_URL", None)  # the embedded default: in-process broker
    subprocess.run([drumbeat_path(), "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    subprocess.run([drumbeat_path(), "import", "people", str(EXAMPLES / "people.csv")],
                   env=env, check=True, capture_output=True)

    accepted: list[int] = []
    refused: list[int] = []

    def burst() -> None:
        client: smtplib.SMTP | None = None
        for number in range(300):
            try:
                client = client or smtplib.SMTP("127.0.0.1", port, timeout=10)
                client.sendmail(SENDER, ["updates@northwind.example"], reply(number))
                accepted.append(number)
            except (smtplib.SMTPException, OSError):
                refused.append(number)
                client = None
                if len(refused) > 20:
                    return
                time.sleep(0.02)

    server = start(env)
    sender = threading.Thread(target=burst)
    sender.start()
    deadline = time.monotonic() + 30
    while len(accepted) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_signal(signal.SIGINT)  # Ctrl-C in the middle of the burst
    assert stopped(server) == 0
    sender.join(timeout=60)
    assert 40 <= len(accepted) < 300 and refused  # it really was mid-burst

    engine = make_engine(f"sqlite:///{database}")
    sessions = session_factory(engine)
    with sessions() as session:
        stored = set(session.scalars(select(InboundMessage.message_id)))
    assert {f"<burst-{n}@mail.example>" for n in accepted} <= stored  # every 250 is stored

    server = start(env)  # the next start picks up where the first one stopped
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as session:
                waiting = session.scalar(select(func.count()).select_from(InboundMessage)
                                         .where(InboundMessage.status == "received"))
            if waiting == 0:
                break
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        assert stopped(server) == 0
    with sessions() as session:
        rows = list(session.scalars(select(InboundMessage)))
        answers = session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.kind == "answer"))
    assert len(rows) == len(stored) and all(row.status == "applied" for row in rows)
    assert answers == min(len(rows), 5)  # one each, within the five-an-hour limit
    engine.dispose()
