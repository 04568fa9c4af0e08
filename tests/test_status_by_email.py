"""Status and help by email, through the intake's store on both databases: ``status``
answers with the person's page, ``status @report`` with a report's, ``status @anyone
else`` exactly as an unknown name; ``help`` (and a message in which nothing was
understood) with the reply grammar, using the person's own tasks.
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.read.html_text import html_to_text
from mail.read.requests import HELP, STATUS, Request, read_request
from models import InboundMessage, OutboundMessage, Person
from tests.conftest import Database
from tests.relay import free_port
from tests.test_agendas_pipeline import Clock, make_settings, seed
from tests.test_cli_mail import NOW, company_env, drumbeat
from tests.test_cli_replies import reply_over_smtp
from tests.test_inbound import REPLY_AT, quoted, reply_to, send_agendas, task_titled
from workers.inbound import process
from workers.intake import RawStore
from workers.runtime import Runtime, configure, transport_for


@pytest.mark.parametrize(("text", "request_"), [
    ("status", Request(STATUS)),
    ("  Status?\n\n", Request(STATUS)),
    ("- help", Request(HELP)),
    ("HELP!", Request(HELP)),
    ("status @Ann", Request(STATUS, "ann")),
    ("status ann@acme.example", Request(STATUS, "ann@acme.example")),
    ("status quo", None),
    ("help me", None),
    ("status\nT-12 done", None),
    ("What is the status of T-12?", None),
    ("", None),
])
def test_only_a_message_that_is_just_the_request_is_one(text: str,
                                                        request_: Request | None) -> None:
    assert read_request(text) == request_


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int]]:
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    return configure(settings, engine=db.engine, transport=transport_for(settings),
                     clock=Clock(REPLY_AT)), ids


def ask(rt: Runtime, person_id: int, body: str, sender: str) -> tuple[str, str]:
    """Reply ``body`` (above the quoted agenda) to the person's agenda; the answer's text
    part and its HTML part as a reader sees it."""
    agenda = send_agendas(rt, person_id)
    raw = reply_to(agenda, f"{body}\n\n{quoted(agenda)}", sender=sender,
                   message_id=f"<ask-{abs(hash(body))}-{person_id}@mail.example>")
    inbound_id = RawStore(rt.engine, clock=rt.clock)(raw, None, [], None)
    [added] = process(rt, inbound_id).answers
    with rt.sessions() as session:
        answer = session.get(OutboundMessage, added.outbox_id)
        assert answer is not None and answer.body_text and answer.body_html
        assert session.scalar(select(InboundMessage.status).where(
            InboundMessage.id == inbound_id)) == "applied"
        return answer.body_text, " ".join(html_to_text(answer.body_html).split())


def test_status_answers_with_the_persons_tasks_goals_and_check_ins(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    memo, interviews = task_titled(runtime, "Draft the"), task_titled(runtime, "Interview")
    text, html = ask(runtime, ids["ann"], "status", "ann@acme.example")
    for shown in (text, html):
        assert "Your page on" in shown
        assert f"[T-{memo.id}] Draft the <b>pricing</b> memo Subject: hi — in progress, 40%" \
            in shown
        assert f"[T-{interviews.id}] Interview customers — open, 0%, due Fri 20 Nov" in shown
        assert "overdue" in shown
        assert "Revenue to €4M" in shown  # the goal her open tasks are under
        assert "With Mika Sato (manager)" in shown
        assert "Price book" not in shown  # Bob's task
    assert "Your open tasks".upper() in text


def test_a_manager_asks_for_a_reports_page(rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    with runtime.sessions() as session, session.begin():
        ann = session.get(Person, ids["ann"])
        assert ann is not None
        ann.tracking_from = date(2026, 11, 2)  # counted from then, as the CLI says
    memo = task_titled(runtime, "Draft the")
    text, html = ask(runtime, ids["mika"], "status @ann", "mika@acme.example")
    for shown in (text, html):
        assert "Ann Lee's page on" in shown
        assert f"[T-{memo.id}]" in shown and "With Mika Sato (manager)" in shown
        assert "tracked since Mon 2 Nov" in shown


def test_status_of_anyone_outside_the_line_reads_as_an_unknown_name(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    """Bob (a peer) and Mika (her manager) exist; Zed does not: Ann hears the same."""
    runtime, ids = rt
    peer, _ = ask(runtime, ids["ann"], "status @bob", "ann@acme.example")
    manager, _ = ask(runtime, ids["ann"], "status @mika", "ann@acme.example")
    stranger, _ = ask(runtime, ids["ann"], "status @zed", "ann@acme.example")
    assert "Price book" not in peer and "Bob Díaz" not in peer
    assert "I know nobody called “bob”" in peer
    arrived = [line for line in stranger.splitlines() if "arrived" in line]
    for answer, name in ((peer, "bob"), (manager, "mika")):
        same = [line for line in answer.splitlines() if "arrived" not in line]
        assert "\n".join(same).replace(name, "zed") == "\n".join(
            line for line in stranger.splitlines() if line not in arrived)


def test_help_lists_the_grammar_with_the_persons_own_tasks(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    memo, interviews = task_titled(runtime, "Draft the"), task_titled(runtime, "Interview")
    text, html = ask(runtime, ids["ann"], "help", "ann@acme.example")
    for shown in (text, html):
        assert f"T-{memo.id} 60% drafted the intro" in shown  # in progress comes first
        assert f"T-{interviews.id} done" in shown
        assert "T-12" not in shown
        for form in ("new: Call the vendor by Friday", "met: yes 30min", "skip: vacation",
                     "status", "help"):
            assert form in shown
        assert "status @" not in shown  # Ann has no reports
        assert "I found no updates" not in shown
    manager, _ = ask(runtime, ids["mika"], "help", "mika@acme.example")
    assert "status @ann" in manager


def test_a_message_with_nothing_understood_is_answered_with_the_same_help(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    memo = task_titled(runtime, "Draft the")
    text, html = ask(runtime, ids["ann"], "Thanks, see you Monday!", "ann@acme.example")
    for shown in (text, html):
        assert "I found no updates in your message, so nothing was changed." in shown
        assert f"T-{memo.id} 60% drafted the intro" in shown and "skip: vacation" in shown


def test_status_over_smtp_is_answered_with_the_page_in_text_and_html(
        db: Database, tmp_path: Path) -> None:
    """The whole path: the scheduler's agendas, ``status`` in over a real ``drumbeat
    smtpd``, the page back in the Maildir, both parts."""
    env = {**company_env(db, tmp_path), "DRUMBEAT_AGENDA_LEAD_HOURS": "72",
           "DRUMBEAT_SMTPD_PORT": str(free_port())}
    assert drumbeat(env, "scheduler", "--once", "--now", NOW).returncode == 0
    maildir = tmp_path / "maildir" / "new"
    agendas = [message_from_bytes(p.read_bytes(), policy=default) for p in maildir.iterdir()]
    agenda = next(a for a in sorted(agendas, key=lambda a: str(a["To"]))
                  if "YOUR TASKS" in part(a, "plain") and "[T-" in part(a, "plain"))
    refs = {line.split("]")[0] + "]" for line in part(agenda, "plain").splitlines()
            if line.startswith("[T-") and "— done" not in line}

    reply = EmailMessage()
    reply["From"] = str(agenda["To"])
    reply["To"] = str(agenda["Reply-To"])
    reply["Subject"] = f"Re: {agenda['Subject']}"
    reply["Message-ID"] = "<status-1@mail.example>"
    reply["In-Reply-To"] = str(agenda["Message-ID"])
    reply.set_content("Status\n\n" + "\n".join("> " + line for line in
                                               part(agenda, "plain").splitlines()))
    [answer] = reply_over_smtp(env, maildir, reply)

    assert str(answer["To"]) == str(agenda["To"])
    text = part(answer, "plain")
    html = " ".join(html_to_text(part(answer, "html")).split())
    for shown in (text, html):
        assert "Your page on" in shown and "check-ins 20" in shown.lower()
        assert all(ref in shown for ref in refs), refs


def part(message: EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content()  # type: ignore[union-attr]
