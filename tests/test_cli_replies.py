"""Replies through the real commands: agendas out, a reply in over SMTP, the answer back."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

from tests.conftest import REPO, Database
from tests.relay import free_port
from tests.test_cli_mail import NOW, company_env, drumbeat

FIXTURES = REPO / "tests" / "fixtures" / "mime"


def test_inspect_prints_the_contract(tmp_path: Path) -> None:
    result = drumbeat({}, "inspect", str(FIXTURES / "reply_apple_mail.eml"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["message_id", "from", "subject", "date", "kind", "reply_text",
                          "forwarded", "commands", "errors", "notes"]
    assert data["kind"] == "reply" and data["forwarded"] == [] and data["notes"] is None
    assert {"type": "task_update", "task": "T-12", "percent": 100, "status": "done",
            "due": None, "note": None} in data["commands"]
    missing = drumbeat({}, "inspect", str(tmp_path / "nope.eml"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_inspect_previews_a_forward_and_leaves_out_the_sent_agenda(tmp_path: Path) -> None:
    agenda = (REPO / "tests" / "fixtures" / "replies" / "agenda.txt").read_text(encoding="utf-8")
    old_agenda = agenda.split("HOW TO REPLY")[0]  # no template phrase: only --sent tells
    (tmp_path / "agenda.txt").write_text(old_agenda, encoding="utf-8")
    forward = EmailMessage()
    forward["From"], forward["To"] = "ben@northwind.example", "notes@drumbeat.example"
    forward["Subject"], forward["Date"] = "Fwd: agenda", "Wed, 02 Dec 2026 18:30:00 +0100"
    forward.set_content("with: José\nACTION: Ben to send the memo by Friday\n\n"
                        "---------- Forwarded message ---------\nFrom: Drumbeat "
                        "<drumbeat@x.example>\nDate: Wed, Dec 2, 2026 at 8:00 AM\n"
                        f"Subject: agenda\nTo: ben@northwind.example\n\n{old_agenda}")
    (tmp_path / "fwd.eml").write_bytes(forward.as_bytes(policy=SMTP))

    blind = drumbeat({}, "inspect", str(tmp_path / "fwd.eml"), "--json")
    knowing = drumbeat({}, "inspect", str(tmp_path / "fwd.eml"), "--json",
                       "--sent", str(tmp_path / "agenda.txt"))
    assert blind.returncode == knowing.returncode == 0, knowing.stderr
    assert json.loads(blind.stdout)["notes"]["errors"]  # the agenda's task lines, misread
    notes = json.loads(knowing.stdout)["notes"]
    assert (notes["commands"], notes["errors"], notes["drumbeat_wrote"]) == ([], [], 1)
    assert [item["what"] for item in notes["action_items"]] == ["Send the memo"]
    assert notes["day"] == "2026-12-02"


def reply_over_smtp(env: dict[str, str], maildir: Path, reply: EmailMessage
                    ) -> list[EmailMessage]:
    """Send ``reply`` (to its To address) through a real ``drumbeat smtpd``; the answers
    in the Maildir once one more message arrived there."""
    process = subprocess.Popen([str(Path(sys.executable).with_name("drumbeat")), "smtpd"],
                               env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        port = int(env["DRUMBEAT_SMTPD_PORT"])
        deadline = time.monotonic() + 20
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "smtpd did not start"
                time.sleep(0.1)
        before = len(list(maildir.iterdir()))
        with client:
            client.sendmail(str(reply["From"]), [str(reply["To"])],
                            reply.as_bytes(policy=SMTP))
        deadline = time.monotonic() + 20
        while len(list(maildir.iterdir())) == before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return [message_from_bytes(p.read_bytes(), policy=default)
            for p in maildir.iterdir() if b"auto-replied" in p.read_bytes()]


def test_a_reply_over_smtp_is_applied_and_answered(db: Database, tmp_path: Path) -> None:
    env = {**company_env(db, tmp_path), "DRUMBEAT_AGENDA_LEAD_HOURS": "72",
           "DRUMBEAT_SMTPD_PORT": str(free_port())}
    assert drumbeat(env, "scheduler", "--once", "--now", NOW).returncode == 0
    maildir = tmp_path / "maildir" / "new"
    agendas = [message_from_bytes(p.read_bytes(), policy=default) for p in maildir.iterdir()]

    def text_of(message: EmailMessage) -> str:
        return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    def open_tasks(message: EmailMessage) -> list[str]:
        return [line.split("]")[0].strip("[") for line in text_of(message).splitlines()
                if line.startswith("[T-") and "— done" not in line]

    # an employee's own agenda that lists at least one open task
    agenda = next(a for a in sorted(agendas, key=lambda a: str(a["To"]))
                  if "YOUR TASKS" in text_of(a) and open_tasks(a))
    text = text_of(agenda)
    ref = open_tasks(agenda)[0]
    sender = str(agenda["To"])

    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(agenda["Reply-To"])
    reply["Subject"] = f"Re: {agenda['Subject']} (réponse)"   # sent as an encoded word
    reply["Message-ID"] = "<grace-reply-1@mail.example>"
    reply["In-Reply-To"] = str(agenda["Message-ID"])
    reply.set_content(f"{ref} 70% nearly there\n\n" + "\n".join(
        "> " + line for line in text.splitlines()))

    answers = reply_over_smtp(env, maildir, reply)
    assert len(answers) == 1
    answer = answers[0]
    assert str(answer["To"]) == sender
    assert str(answer["In-Reply-To"]) == "<grace-reply-1@mail.example>"
    body = answer.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert ref in body and "70%" in body

    listing = drumbeat(env, "inbox")
    assert listing.returncode == 0 and "applied" in listing.stdout
    assert "1 done" in listing.stdout
    assert "réponse" in listing.stdout and "=?utf-8?" not in listing.stdout
