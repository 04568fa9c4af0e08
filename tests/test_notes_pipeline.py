"""Meeting notes by email, end to end on both databases: a manager forwards 1:1 notes,
the meeting is logged, task lines apply, action items become owned and dated tasks,
and the answer says what was understood. Nothing is guessed silently.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.write.tokens import reply_address
from models import InboundMessage, Meeting, OutboundMessage, Project, Task
from tests.conftest import Database
from tests.test_agendas_pipeline import DOMAIN, SECRET, Clock, make_settings, seed
from tests.test_inbound import receive as store
from workers.inbound import process
from workers.runtime import Runtime, configure, transport_for

NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Thursday morning in Tokyo
# The company's mail server relays its internal mail to Drumbeat without DKIM: listed in
# DRUMBEAT_TRUSTED_RELAYS, it establishes the sender of notes sent to notes@.
COMPANY_RELAY = "192.0.2.25"


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int]]:
    ids = seed(db)
    settings = make_settings(None, tmp_path).model_copy(
        update={"trusted_relays": "192.0.2.0/24"})
    return configure(settings, engine=db.engine, transport=transport_for(settings),
                     clock=Clock(NOW)), ids


def receive(rt: Runtime, raw: bytes, peer: str | None = COMPANY_RELAY) -> int:
    """Store a message as the SMTP door would when the company's relay hands it over."""
    inbound_id = store(rt, raw)
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        row.peer_address = peer
    return inbound_id


def gmail_forward(notes: str, *, first: str = "", to: str = f"notes@{DOMAIN}",
                  sender: str = "mika@acme.example", subject: str = "1:1 notes",
                  forwarded_to: str = "Mika Sato <mika@acme.example>",
                  message_id: str = "<notes-1@mail.example>",
                  calendar: str | None = None) -> bytes:
    """Notes the manager first mailed to themself, then forwarded from Gmail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Fwd: {subject}"
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = message_id
    body = (f"{first}\n\n---------- Forwarded message ---------\n"
            f"From: Mika Sato <mika@acme.example>\nDate: Wed, Dec 2, 2026 at 10:00 AM\n"
            f"Subject: {subject}\nTo: {forwarded_to}\n\n{notes}\n") if notes else first
    message.set_content(body)
    if calendar:
        message.add_attachment(calendar.encode(), maintype="text", subtype="calendar",
                               filename="invite.ics")
    return message.as_bytes(policy=SMTP)


def run(rt: Runtime, raw: bytes) -> tuple[InboundMessage, str]:
    """Process one message; the row and the text of its answer."""
    inbound_id = receive(rt, raw)
    process(rt, inbound_id)
    with rt.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        answer = session.scalar(select(OutboundMessage).where(
            OutboundMessage.kind == "answer", OutboundMessage.in_reply_to == row.message_id))
        assert row is not None and answer is not None
        return row, answer.body_text or ""


def meetings(rt: Runtime) -> list[Meeting]:
    with rt.sessions() as session:
        return list(session.scalars(select(Meeting).order_by(Meeting.id)))


def tasks(rt: Runtime) -> dict[str, Task]:
    with rt.sessions() as session:
        return {task.title: task for task in session.scalars(select(Task))}


NOTES = """with: Ann

Pricing memo is nearly there; customers want annual plans.

ACTION: Ann to send the pricing memo to finance by Friday
- [ ] Bob: update the price book by 12/9
TODO @mika intro Ann to the CFO next week
T-{memo} 80% finance review pending
"""


def test_forwarded_notes_log_the_meeting_and_turn_action_items_into_tasks(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    memo = tasks(runtime)["Draft the <b>pricing</b> memo\nSubject: hi"]
    row, answer = run(runtime, gmail_forward(NOTES.format(memo=memo.id)))

    assert row.status == "applied"
    [meeting] = meetings(runtime)
    assert (meeting.manager_id, meeting.employee_id) == (ids["mika"], ids["ann"])
    assert meeting.held_on == date(2026, 12, 2)  # the forwarded message's date
    assert meeting.period_start == date(2026, 11, 30)
    assert meeting.confirmed_by_manager and not meeting.confirmed_by_employee
    assert "customers want annual plans" in (meeting.notes or "")

    made = tasks(runtime)
    sent = made["Send the pricing memo to finance"]
    assert (sent.owner_id, sent.due) == (ids["ann"], date(2026, 12, 4))
    book = made["Update the price book"]
    assert (book.owner_id, book.due) == (ids["bob"], date(2026, 12, 9))  # Mika's report
    intro = made["Intro Ann to the CFO"]
    assert (intro.owner_id, intro.due) == (ids["mika"], date(2026, 12, 11))
    with runtime.sessions() as session:
        pricing = session.scalar(select(Project).where(Project.title == "Pricing"))
        assert pricing is not None
        assert sent.project_id == pricing.id  # Ann's one active project fits
        own = session.get(Project, intro.project_id)
        assert own is not None and own.title == "From 1:1s — Mika Sato"
    assert made[memo.title].progress == 80

    for line in (f"{sent.ref} created: Send the pricing memo to finance (Ann Lee, due Fri "
                 "04 Dec 2026", f"{book.ref} created", f"{intro.ref} created",
                 "1:1 with Ann Lee", "80%"):
        assert line in answer
    assert "customers want annual plans" not in str(row.outcome)  # notes stay with the pair


def test_the_same_notes_forwarded_twice_make_one_meeting_and_no_duplicate_tasks(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, _ids = rt
    notes = "with: ann@acme.example\nACTION: Ann to send the pricing memo by Friday\n"
    run(runtime, gmail_forward(notes, message_id="<first@mail.example>"))
    _row, answer = run(runtime, gmail_forward(notes, message_id="<again@mail.example>"))
    assert len(meetings(runtime)) == 1
    assert sum(title == "Send the pricing memo" for title in tasks(runtime)) == 1
    assert "already there" in answer


def test_notes_for_a_meeting_a_reply_already_logged_attach_to_it(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    with runtime.sessions() as session, session.begin():
        session.add(Meeting(manager_id=ids["mika"], employee_id=ids["ann"],
                            period_start=date(2026, 11, 30), period_end=date(2026, 12, 6),
                            status="held", held_on=date(2026, 12, 1),
                            confirmed_by_manager=False, confirmed_by_employee=True))
    run(runtime, gmail_forward("with: Ann\nWe agreed on the annual plan.\n"))
    [meeting] = meetings(runtime)
    assert meeting.notes == "with: Ann\nWe agreed on the annual plan."
    assert meeting.confirmed_by_employee and meeting.confirmed_by_manager


def test_ambiguous_notes_log_nothing_and_the_answer_lists_the_candidates(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, _ids = rt
    row, answer = run(runtime, gmail_forward(
        "Good chat about the roadmap.\nACTION: send the memo by Friday\n",
        forwarded_to="mika@acme.example", subject="notes"))
    assert row.status == "rejected" and meetings(runtime) == []
    assert "Send the memo" not in tasks(runtime)
    assert "logged nothing" in answer
    assert "Ann Lee <ann@acme.example>" in answer and "Bob Díaz <bob@acme.example>" in answer


def test_the_participants_of_the_forwarded_message_name_the_1on1(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    run(runtime, gmail_forward("Talked about pricing.\n", forwarded_to="Bob <bob@acme.example>"))
    [meeting] = meetings(runtime)
    assert meeting.employee_id == ids["bob"]


def test_someone_outside_the_pair_cannot_log_it_and_learns_nothing(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, _ids = rt
    row, answer = run(runtime, gmail_forward("with: Ann\nAnn will send the memo by Friday\n",
                                             sender="bob@acme.example"))
    assert row.status == "rejected" and meetings(runtime) == []
    assert "'Ann' is not one of your 1:1s" in answer
    assert "ann@acme.example" not in answer  # Bob's only 1:1 is with Mika


def test_an_unclear_owner_is_reported_not_guessed(rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, _ids = rt
    _row, answer = run(runtime, gmail_forward(
        "with: Ann\nACTION: Zed to call the vendor by Friday\n"
        "ACTION: Ann to renew the certificate by yesterday\n"))
    assert not any(title.startswith(("Call the vendor", "Renew")) for title in tasks(runtime))
    assert "Zed to call the vendor" in answer and "not created" in answer
    assert "new: " in answer  # the form that fixes it


def test_the_meeting_day_comes_from_a_calendar_invitation(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    invitation = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar"
                  "//EN\r\nBEGIN:VEVENT\r\nUID:x1@google.com\r\nDTSTART:20261201T013000Z\r\n"
                  "DTEND:20261201T020000Z\r\nSUMMARY:Ann / Mika 1:1\r\n"
                  "ORGANIZER:mailto:mika@acme.example\r\nATTENDEE:mailto:ann@acme.example\r\n"
                  "END:VEVENT\r\nEND:VCALENDAR\r\n")
    run(runtime, gmail_forward("", first="Notes: shipped the pricing page.",
                               subject="1:1", calendar=invitation))
    [meeting] = meetings(runtime)
    assert (meeting.employee_id, meeting.held_on) == (ids["ann"], date(2026, 12, 1))


def test_a_forward_to_the_agenda_address_is_notes_for_that_pair(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    with runtime.sessions() as session, session.begin():
        agenda = OutboundMessage(
            dedupe_key="agenda:test", kind="agenda", recipient_id=ids["mika"],
            to_address="mika@acme.example", subject="1:1 with Bob",
            context={"manager_id": ids["mika"], "employee_id": ids["bob"],
                     "period_start": "2026-11-30"}, created_at=NOW)
        session.add(agenda)
        session.flush()
        token_address = reply_address(agenda.id, SECRET, DOMAIN)
    row, _answer = run(runtime, gmail_forward("Bob will chase legal by Friday\n",
                                              to=token_address))
    assert row.outcome and row.outcome["kind"] == "notes"
    [meeting] = meetings(runtime)
    assert (meeting.employee_id, meeting.period_start) == (ids["bob"], date(2026, 11, 30))
    assert tasks(runtime)["Chase legal"].owner_id == ids["bob"]


def test_a_wrong_guess_is_corrected_by_replying_to_the_answer(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    run(runtime, gmail_forward("with: Ann\nACTION: Ann to send the pricing memo by Friday\n"))
    memo = tasks(runtime)["Send the pricing memo"]
    with runtime.sessions() as session:
        answer = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "answer"))
        assert answer is not None
    correction = EmailMessage()
    correction["From"] = "mika@acme.example"
    correction["To"] = reply_address(answer.id, SECRET, DOMAIN)
    correction["Subject"] = f"Re: {answer.subject}"
    correction["Message-ID"] = "<fix-1@mail.example>"
    correction.set_content(f"{memo.ref} due 2026-12-18\n\n> {memo.ref} created: …")
    row, text = run(runtime, correction.as_bytes(policy=SMTP))
    assert row.status == "applied" and "Fri 18 Dec 2026" in text
    assert tasks(runtime)["Send the pricing memo"].due == date(2026, 12, 18)

    # the same answer's address used by someone else changes nothing
    correction.replace_header("From", "bob@acme.example")
    correction.replace_header("Message-ID", "<fix-2@mail.example>")
    row, _text = run(runtime, correction.as_bytes(policy=SMTP))
    assert row.status == "rejected" and ids["bob"] == row.person_id


def test_with_store_notes_off_the_meeting_is_logged_and_no_text_is_kept(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    runtime.settings = runtime.settings.model_copy(update={"store_notes": False})
    row, _answer = run(runtime, gmail_forward("with: Ann\nAnn's appraisal worries: salary.\n"
                                             "ACTION: Ann to send the memo by Friday\n"))
    [meeting] = meetings(runtime)
    assert (meeting.employee_id, meeting.notes) == (ids["ann"], None)
    assert "Send the memo" in tasks(runtime)
    with runtime.sessions() as session:
        stored = session.get(InboundMessage, row.id)
        assert stored is not None and "salary" not in str(stored.outcome)
        assert stored.raw is None  # nor a copy of the message it came in
