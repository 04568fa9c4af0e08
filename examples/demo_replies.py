"""Demo: reply to this week's agendas the way real mail clients do, over SMTP.

Run by ``make demo`` after the scheduler has put the agendas in ``var/maildir``.
It starts ``drumbeat smtpd`` (the real intake) on a free local port, writes a
Gmail-style and an Outlook-style reply to two employees' agendas, and has the
first employee's manager forward their 1:1 notes from Outlook to ``notes@``;
it sends them, waits for Drumbeat's answers, and prints what happened.
"""

from __future__ import annotations

import csv
import os
import smtplib
import socket
import subprocess
import sys
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, make_msgid
from pathlib import Path

MAILDIR = Path(os.environ.get("DRUMBEAT_MAILDIR", "var/maildir")) / "new"
DRUMBEAT = str(Path(sys.executable).with_name("drumbeat"))
PEOPLE = Path(__file__).parent / "northwind" / "people.csv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agendas() -> list[EmailMessage]:
    found = []
    for path in sorted(MAILDIR.iterdir()):
        message = message_from_bytes(path.read_bytes(), policy=default)
        if str(message.get("Auto-Submitted", "")) == "auto-generated" and \
                "YOUR TASKS" in text_of(message):
            found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""  # type: ignore[union-attr]


def open_tasks(agenda: EmailMessage) -> list[str]:
    return [line.split("]")[0].lstrip("[") for line in text_of(agenda).splitlines()
            if line.startswith("[T-") and "— done" not in line]


def gmail_reply(agenda: EmailMessage, ref: str) -> EmailMessage:
    quoted = "\n".join(f"> {line}" if line else ">" for line in text_of(agenda).splitlines())
    body = (f"{ref} 60% first draft is with legal\nmet: yes 30min\n\nThanks!\n\n"
            f"On {agenda['Date']}, Drumbeat <{agenda['From']}> wrote:\n{quoted}\n")
    return _reply(agenda, body)


def outlook_reply(agenda: EmailMessage, ref: str) -> EmailMessage:
    body = (f"{ref} blocked: waiting for the vendor's quote\n\nBest regards\n\n"
            "________________________________\n"
            f"From: Drumbeat <{agenda['From']}>\nSent: {agenda['Date']}\n"
            f"To: {agenda['To']}\nSubject: {agenda['Subject']}\n\n{text_of(agenda)}")
    return _reply(agenda, body)


def manager_of(employee: str) -> tuple[str, str]:
    """(name, email) of the employee's manager, from the example company's people file."""
    rows = list(csv.DictReader(PEOPLE.open(encoding="utf-8")))
    manager = next(r["manager_email"] for r in rows if r["email"] == employee)
    return next((r["name"], r["email"]) for r in rows if r["email"] == manager)


def outlook_notes(agenda: EmailMessage) -> EmailMessage:
    """The manager forwards the notes they mailed the employee after the 1:1 (Outlook)."""
    employee = str(agenda["To"])
    name, address = manager_of(employee)
    first = employee.split("@")[0].split(".")[0].title()
    sent = format_datetime(time_now())
    notes = (f"Hi {first},\n\nThanks for the good conversation today. My notes:\n\n"
             "- The launch plan looks solid; legal review is the long pole.\n"
             "- We agreed to look at hiring again in January.\n\n"
             f"ACTION: {first} to send the launch checklist to legal by Friday\n"
             f"- [ ] {name.split()[0]}: book the design review next week\n\n"
             f"Best,\n{name.split()[0]}")
    body = (f"with: {employee}\n\n________________________________\n"
            f"From: {name} <{address}>\nSent: {sent}\nTo: {employee}\n"
            f"Subject: Notes from our 1:1\n\n{notes}\n")
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = f"notes@{os.environ.get('DRUMBEAT_MAIL_DOMAIN', 'drumbeat.localhost')}"
    message["Subject"] = "FW: Notes from our 1:1"
    message["Date"] = sent
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content(body)
    return message


def _reply(agenda: EmailMessage, body: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = str(agenda["To"])
    reply["To"] = str(agenda["Reply-To"])
    reply["Subject"] = f"Re: {agenda['Subject']}"
    reply["Date"] = format_datetime(time_now())
    reply["Message-ID"] = make_msgid(domain="mail.example")
    reply["In-Reply-To"] = str(agenda["Message-ID"])
    reply["References"] = f"{agenda.get('References', '')} {agenda['Message-ID']}".strip()
    reply.set_content(body)
    return reply


def time_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> int:
    candidates = [a for a in agendas() if open_tasks(a)][:2]
    if len(candidates) < 2:
        print("demo: fewer than two agendas with open tasks in the Maildir; nothing to reply to")
        return 0
    port = free_port()
    env = {**os.environ, "DRUMBEAT_SMTPD_PORT": str(port)}
    server = subprocess.Popen([DRUMBEAT, "smtpd"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    print("demo: drumbeat smtpd did not start")
                    return 1
                time.sleep(0.2)
        before = len(list(MAILDIR.iterdir()))
        replies = [gmail_reply(candidates[0], open_tasks(candidates[0])[0]),
                   outlook_reply(candidates[1], open_tasks(candidates[1])[0]),
                   outlook_notes(candidates[0])]
        with client:
            for reply in replies:
                client.sendmail(str(reply["From"]), [str(reply["To"])],
                                reply.as_bytes(policy=SMTP))
                first_line = next(line for line in text_of(reply).splitlines() if line.strip())
                print(f"sent   {reply['From']} → {reply['To']}: {first_line}")
        deadline = time.monotonic() + 30
        while len(list(MAILDIR.iterdir())) < before + len(replies) and \
                time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for path in sorted(MAILDIR.iterdir(), key=lambda p: p.stat().st_mtime)[-len(replies):]:
        answer = message_from_bytes(path.read_bytes(), policy=default)
        done = [line.strip() for line in text_of(answer).splitlines()
                if line.strip().startswith("- ")]
        print(f"answer {answer['To']}: {'; '.join(done) or 'no changes'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
