"""A manager forwards her own agenda to notes@ with her notes on top, inline and as
an attached message: only her words count. The agenda's task lines and its "how to
reply" example change nothing and are never reported as not understood, its text is
not stored as the meeting's notes, and the meeting is logged on the 1:1 day the
agenda names (not the day it was sent) unless a ``met:`` line says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from sqlalchemy import select

from models import OutboundMessage, Task, TaskHistory
from tests.test_agendas_pipeline import DOMAIN
from tests.test_notes_pipeline import meetings, rt, run, tasks  # noqa: F401 (fixture)
from workers.agendas import render_agenda_row
from workers.runtime import Runtime

SENT_AT = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sun 29 Nov, 09:00 in Tokyo
MEETING_AT = "2026-11-30T10:00:00+09:00"  # the 1:1 the agenda names: Mon 30 Nov
AGENDA_ID = "<agenda-mika-ann@acme.example>"
HER_WORDS = "with: Ann\nACTION: Ann to send the pricing memo by Friday\n"


def send_agenda(runtime: Runtime, ids: dict[str, int]) -> str:
    """The agenda Mika got for her 1:1 with Ann, rendered and stored as the outbox does."""
    with runtime.sessions() as session, session.begin():
        row = OutboundMessage(
            dedupe_key="agenda:mika:ann", kind="agenda", recipient_id=ids["mika"],
            to_address="mika@acme.example", subject="1:1 check-in agenda",
            message_id=AGENDA_ID, status="sent", created_at=SENT_AT, sent_at=SENT_AT,
            context={"manager_id": ids["mika"], "employee_id": ids["ann"],
                     "meeting_at": MEETING_AT, "period_start": "2026-11-30",
                     "period_end": "2026-12-06", "role": "manager"})
        session.add(row)
        session.flush()
        rendered = render_agenda_row(session, row, runtime)
        row.body_text, row.body_html = rendered.text, rendered.html
        return rendered.text


def inline_forward(agenda: str, words: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Mika Sato <mika@acme.example>"
    message["To"] = f"notes@{DOMAIN}"
    message["Subject"] = "Fwd: 1:1 check-in agenda"
    message["Date"] = format_datetime(datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
    message["Message-ID"] = message_id
    message.set_content(
        f"{words}\n---------- Forwarded message ---------\n"
        f"From: Drumbeat <drumbeat@{DOMAIN}>\nDate: Sun, Nov 29, 2026 at 9:00 AM\n"
        f"Subject: 1:1 check-in agenda\nTo: Mika Sato <mika@acme.example>\n\n{agenda}\n")
    return message.as_bytes(policy=SMTP)


def attached_forward(agenda: str, words: str, message_id: str) -> bytes:
    original = EmailMessage()
    original["From"] = f"Drumbeat <drumbeat@{DOMAIN}>"
    original["To"] = "Mika Sato <mika@acme.example>"
    original["Subject"] = "1:1 check-in agenda"
    original["Date"] = format_datetime(SENT_AT)
    original["Message-ID"] = AGENDA_ID
    original.set_content(agenda)
    message = EmailMessage()
    message["From"] = "Mika Sato <mika@acme.example>"
    message["To"] = f"notes@{DOMAIN}"
    message["Subject"] = "Fwd: 1:1 check-in agenda"
    message["Message-ID"] = message_id
    message.set_content(words)
    message.add_attachment(original)
    return message.as_bytes(policy=SMTP)


def history_of(runtime: Runtime, task: Task) -> list[TaskHistory]:
    with runtime.sessions() as session:
        return list(session.scalars(select(TaskHistory).where(TaskHistory.task_id == task.id)))


def test_a_forwarded_agenda_applies_none_of_its_own_lines(
        rt: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811
    runtime, ids = rt
    agenda = send_agenda(runtime, ids)
    memo = tasks(runtime)["Draft the <b>pricing</b> memo\nSubject: hi"]
    example = next(line.strip() for line in agenda.splitlines()
                   if line.strip().startswith(f"{memo.ref} ") and "%" in line)
    assert example.endswith("drafted the intro")  # the agenda's own "how to reply" line

    for raw in (inline_forward(agenda, HER_WORDS, "<fwd-inline@acme.example>"),
                attached_forward(agenda, HER_WORDS, "<fwd-attached@acme.example>")):
        row, answer = run(runtime, raw)
        assert row.status == "applied"
        assert "Not understood" not in answer and example not in answer
        assert row.outcome is not None and row.outcome["ours_left_out"] == 1

    after = tasks(runtime)
    assert (after[memo.title].progress, after[memo.title].status) == (40, "in_progress")
    assert history_of(runtime, memo) == []
    assert after["Send the pricing memo"].owner_id == ids["ann"]  # her ACTION: line counts
    [meeting] = meetings(runtime)
    assert (meeting.manager_id, meeting.employee_id) == (ids["mika"], ids["ann"])
    assert meeting.held_on == date(2026, 11, 30)  # the 1:1 day, not the day it was sent
    assert meeting.notes == HER_WORDS.strip()  # her words only, once


def test_a_forwarded_agenda_alone_names_the_1on1_and_a_met_line_names_the_day(
        rt: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811
    runtime, ids = rt
    agenda = send_agenda(runtime, ids)
    run(runtime, attached_forward(agenda, "met: 2026-12-01 45min\nGood talk about pricing.",
                                  "<fwd-met@acme.example>"))
    [meeting] = meetings(runtime)
    assert (meeting.employee_id, meeting.held_on) == (ids["ann"], date(2026, 12, 1))
    assert "HOW TO REPLY" not in (meeting.notes or "")


def test_an_agenda_in_older_words_is_known_by_the_text_stored_in_the_outbox(
        rt: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811
    runtime, ids = rt
    agenda = send_agenda(runtime, ids)
    older = agenda.split("HOW TO REPLY")[0] + "\nAnswer with T-1 20% drafted the intro\n"
    with runtime.sessions() as session, session.begin():
        row = session.scalar(select(OutboundMessage).where(
            OutboundMessage.message_id == AGENDA_ID))
        assert row is not None
        row.body_text = older  # what we sent then, before the templates' wording changed
    raw = inline_forward(older, "met: yes\nGood talk.", "<fwd-older@acme.example>").replace(
        f"From: Drumbeat <drumbeat@{DOMAIN}>".encode(), b"From: Check-ins <old@acme.example>")
    row, answer = run(runtime, raw)
    assert row.outcome is not None and row.outcome["ours_left_out"] == 1
    assert "Not understood" not in answer
    memo = tasks(runtime)["Draft the <b>pricing</b> memo\nSubject: hi"]
    assert memo.progress == 40 and history_of(runtime, memo) == []
    [meeting] = meetings(runtime)
    assert (meeting.employee_id, meeting.held_on) == (ids["ann"], date(2026, 11, 30))
