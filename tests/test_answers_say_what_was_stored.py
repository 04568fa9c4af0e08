"""Answers say what was stored, in words a person checks at a glance: a meeting's
length, a note's first words, a due date with its weekday (and the words it was read
from), and when the message arrived, in the reader's time zone on Drumbeat's clock.

Read as the person reads them: the text part, and the HTML part as a mail client
shows it. Messages go in through the intake's store, on the runtime's clock.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.read.html_text import html_to_text
from mail.write.answer import duration_words, first_words
from models import InboundMessage, Meeting, OutboundMessage, Task
from models.plan import TaskHistory
from tests.conftest import Database
from tests.test_agendas_pipeline import Clock, make_settings, seed
from tests.test_inbound import REPLY_AT, reply_to, send_agendas, task_titled
from tests.test_notes_pipeline import COMPANY_RELAY, gmail_forward
from tests.test_notes_pipeline import rt as notes_rt  # noqa: F401 (a fixture, by this name)
from workers.inbound import process
from workers.intake import RawStore
from workers.runtime import Runtime, configure, transport_for


def arrive(rt: Runtime, raw: bytes, peer: str | None = None) -> int:
    """Stored as the SMTP door stores it, with the arrival on the runtime's clock."""
    return RawStore(rt.engine, clock=rt.clock)(raw, None, [], peer)


def answer_to(rt: Runtime, inbound_id: int) -> tuple[str, str]:
    """The answer's text part, and its HTML part as a reader sees it."""
    with rt.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        answer = session.scalar(select(OutboundMessage).where(
            OutboundMessage.kind == "answer", OutboundMessage.in_reply_to == row.message_id))
        assert answer is not None and answer.body_text and answer.body_html
        return answer.body_text, " ".join(html_to_text(answer.body_html).split())


@pytest.fixture
def replied(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int]]:
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    return rt, ids


def test_a_reply_is_answered_with_the_meeting_length_the_note_and_the_due_date(
        replied: tuple[Runtime, dict[str, int]]) -> None:
    rt, ids = replied
    agenda = send_agendas(rt, ids["ann"])
    memo, interviews = task_titled(rt, "Draft the"), task_titled(rt, "Interview")
    body = (f"T-{memo.id} 60% drafted the intro and the pricing table for the finance "
            f"review\nT-{interviews.id} due 2026-12-11\nmet: yes 45min\n")
    inbound_id = arrive(rt, reply_to(agenda, body))

    assert process(rt, inbound_id).status == "applied"

    with rt.sessions() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert meeting.duration_minutes == 45
        assert session.get(Task, interviews.id).due == date(2026, 12, 11)  # type: ignore[union-attr]
    text, html = answer_to(rt, inbound_id)
    # Ann is in Tokyo: 14:00 UTC on Sun 29 Nov is 23:00 there, the day she met; the
    # meeting counts for the agenda's week.
    for shown in (text, html):
        assert "1:1 with Mika Sato, 2026-W49: held on Sun 29 Nov 2026, 45 min" in shown
        assert (f"T-{memo.id} Draft the <b>pricing</b> memo Subject: hi: "
                "40% → 60%, note “drafted the intro and the pricing table for…”") in shown
        assert f"T-{interviews.id} Interview customers: due Fri 11 Dec 2026" in shown
        assert "Your message arrived Sun 29 Nov 2026 at 23:00 (Asia/Tokyo)." in shown


def test_a_line_that_changes_nothing_says_the_task_is_as_it_was(
        replied: tuple[Runtime, dict[str, int]]) -> None:
    rt, ids = replied
    agenda = send_agendas(rt, ids["ann"])
    memo = task_titled(rt, "Draft the")
    inbound_id = arrive(rt, reply_to(agenda, f"T-{memo.id} 40%\n"))
    process(rt, inbound_id)
    text, _html = answer_to(rt, inbound_id)
    assert (f"T-{memo.id} Draft the <b>pricing</b> memo Subject: hi: no change (in progress, "
            "40%, due Wed 02 Dec 2026)") in text
    assert "note added" not in text


def test_a_completion_day_is_answered_and_kept_with_who_set_it_and_from_which_message(
        replied: tuple[Runtime, dict[str, int]]) -> None:
    rt, ids = replied
    agenda = send_agendas(rt, ids["ann"])
    interviews = task_titled(rt, "Interview")
    # Sun 29 Nov 23:00 in Tokyo, where Ann is: last Friday is the 27th
    inbound_id = arrive(rt, reply_to(agenda, f"T-{interviews.id} done on last Friday\n"))

    assert process(rt, inbound_id).status == "applied"

    text, html = answer_to(rt, inbound_id)
    for shown in (text, html):
        assert f"T-{interviews.id} Interview customers: marked done on Fri 27 Nov 2026" in shown
    with rt.sessions() as session:
        done = session.get(Task, interviews.id)
        assert done is not None and done.completed_at is not None
        assert (done.status, done.completed_at.date()) == ("done", date(2026, 11, 27))
        [history] = session.scalars(select(TaskHistory).where(
            TaskHistory.task_id == interviews.id)).all()
        assert (history.author_id, history.inbound_message_id, history.note,
                history.new_status) == (ids["ann"], inbound_id, "completed on 2026-11-27", "done")


def test_forwarded_notes_are_answered_with_what_was_stored(
        notes_rt: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, _ids = notes_rt
    notes = ("with: Ann\n\nWe talked about the launch plan and the pricing memo for the "
             "finance review.\nmet: yes 90min\n"
             "ACTION: Ann to send the pricing memo to finance by Friday\n")
    inbound_id = arrive(runtime, gmail_forward(notes), peer=COMPANY_RELAY)

    assert process(runtime, inbound_id).status == "applied"

    with runtime.sessions() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert meeting.duration_minutes == 90
        stored = meeting.notes or ""
        sent = session.scalar(select(Task).where(Task.title == "Send the pricing memo to finance"))
        assert sent is not None and sent.due == date(2026, 12, 4)
    assert stored.startswith("with: Ann\n\nWe talked about the launch plan")
    text, html = answer_to(runtime, inbound_id)
    # Mika (Tokyo) reads it: 01:00 UTC on Thu 3 Dec is 10:00 there.
    for shown in (text, html):
        assert ", 1 h 30 min" in shown
        assert "notes stored with this 1:1: “with: Ann We talked about the launch plan…”" in shown
        assert (f"{sent.ref} created: Send the pricing memo to finance (Ann Lee, due Fri 04 Dec "
                "2026 as read from “by Friday”") in shown
        assert "Your message arrived Thu 03 Dec 2026 at 10:00 (Asia/Tokyo)." in shown


@pytest.mark.parametrize(("minutes", "words"), [
    (45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (125, "2 h 5 min")])
def test_a_meeting_length_reads_as_a_person_would_write_it(minutes: int, words: str) -> None:
    assert duration_words(minutes) == words


def test_first_words_are_one_line_and_say_when_there_is_more() -> None:
    assert first_words("Called the vendor") == "Called the vendor"
    assert first_words("one two three\nfour\tfive six seven eight nine") == (
        "one two three four five six seven eight…")
    assert first_words("\x1b[31mred\u202e text") == "[31mred text"
    long = first_words("x" * 500)
    assert len(long) <= 80 and long.endswith("…")


def test_the_arrival_is_stamped_on_drumbeats_clock_not_the_machines(
        replied: tuple[Runtime, dict[str, int]]) -> None:
    rt, ids = replied
    agenda = send_agendas(rt, ids["ann"])
    inbound_id = arrive(rt, reply_to(agenda, "met: yes\n"))
    with rt.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None and row.received_at == REPLY_AT
