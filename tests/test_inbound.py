"""Replies in: a stored message is parsed, applied once, and answered (or, if automatic,
never answered). Runs on both databases with the real parser, grammar and templates.
"""

from __future__ import annotations

import time
from datetime import timedelta
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select

from models import InboundMessage, Meeting, OutboundMessage, Person, Task
from models.plan import TaskHistory
from tests.conftest import Database
from tests.relay import Relay
from tests.test_agendas_pipeline import DOMAIN, SECRET, TOKYO_ONLY, Clock, make_settings, seed
from workers.agendas import dispatch_due
from workers.inbound import process
from workers.intake import store_raw
from workers.runtime import Runtime, configure, transport_for
from workers.sending import deliver

REPLY_AT = TOKYO_ONLY + timedelta(hours=2)


@pytest.fixture
def sent_agenda(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int], OutboundMessage]:
    """Ann's agenda (and Mika's copy) sent into the Maildir; returns Ann's outbox row."""
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    return rt, ids, send_agendas(rt, ids["ann"])


def send_agendas(rt: Runtime, person_id: int) -> OutboundMessage:
    """Dispatch and send Tokyo's agendas; returns the person's outbox row."""
    with rt.sessions() as session, session.begin():
        created = dispatch_due(session, TOKYO_ONLY, timedelta(hours=24), DOMAIN,
                               timedelta(hours=48))
    for outbox_id in created:
        assert deliver(rt, outbox_id) == "sent"
    with rt.sessions() as session:
        row = session.scalar(select(OutboundMessage).where(
            OutboundMessage.recipient_id == person_id))
        assert row is not None
        return row


def reply_to(agenda: OutboundMessage, body: str, sender: str = "ann@acme.example",
             message_id: str = "<reply-1@mail.example>", **headers: str) -> bytes:
    from mail.write.tokens import reply_address

    message = EmailMessage()
    message["From"] = sender
    message["To"] = reply_address(agenda.id, SECRET, DOMAIN)
    message["Subject"] = f"Re: {agenda.subject}"
    message["Date"] = format_datetime(REPLY_AT)
    message["Message-ID"] = message_id
    message["In-Reply-To"] = agenda.message_id or ""
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def quoted(agenda: OutboundMessage) -> str:
    lines = (agenda.body_text or "").splitlines()
    return "On Sun, 29 Nov 2026 at 09:00, Drumbeat wrote:\n" + "\n".join(
        f"> {line}" if line else ">" for line in lines)


def receive(rt: Runtime, raw: bytes) -> int:
    with rt.sessions() as session, session.begin():
        row_id, _new = store_raw(session, raw, via="smtp")
        return row_id


def task_titled(rt: Runtime, title: str) -> Task:
    with rt.sessions() as session:
        found = session.scalar(select(Task).where(Task.title.startswith(title)))
        assert found is not None
        return found


def answers(rt: Runtime) -> list[OutboundMessage]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "answer").order_by(OutboundMessage.id)))


def test_a_top_posted_reply_updates_tasks_logs_the_meeting_and_is_answered(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    body = f"T-{memo.id} 60% intro drafted\nmet: yes 30min\n\nThanks!\nAnn\n\n{quoted(agenda)}"
    inbound_id = receive(rt, reply_to(agenda, body))

    processed = process(rt, inbound_id)
    status, answer_ids = processed.status, processed.answer_ids

    assert status == "applied" and len(answer_ids) == 1
    assert (task_titled(rt, "Draft the").progress, task_titled(rt, "Draft the").status) == (
        60, "in_progress")
    with rt.sessions() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert (meeting.manager_id, meeting.employee_id, meeting.duration_minutes) == (
            ids["mika"], ids["ann"], 30)
        assert meeting.confirmed_by_employee and not meeting.confirmed_by_manager
    [answer] = answers(rt)
    assert answer.to_address == "ann@acme.example"
    assert answer.in_reply_to == "<reply-1@mail.example>"
    assert f"T-{memo.id}" in (answer.body_text or "") and "60%" in (answer.body_text or "")
    assert answer.subject.startswith("Re: ")
    assert deliver(rt, answer.id) == "sent"
    sent = next(p for p in (Path(rt.settings.maildir) / "new").iterdir()
                if b"auto-replied" in p.read_bytes())
    assert b"Auto-Submitted: auto-replied" in sent.read_bytes()


def test_the_quoted_agenda_is_never_applied(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    before = task_titled(rt, "Draft the").progress
    status = process(rt, receive(rt, reply_to(agenda, "Thanks, see you!\n\n" +
                                              quoted(agenda)))).status
    assert status == "applied"
    assert task_titled(rt, "Draft the").progress == before
    with rt.sessions() as session:
        row = session.scalar(select(InboundMessage))
        assert row is not None and row.outcome is not None
        assert row.outcome["commands"]["commands"] == []
        assert row.outcome["done"] == []


def test_an_answer_written_under_a_quoted_agenda_line_applies_to_that_task(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    lines = []
    for line in (agenda.body_text or "").splitlines():
        lines.append(f"> {line}")
        if line.startswith(f"[T-{memo.id}]"):
            lines.append("80%, nearly there")
    status = process(rt, receive(rt, reply_to(agenda, "\n".join(lines)))).status
    assert status == "applied"
    assert task_titled(rt, "Draft the").progress == 80


def test_the_same_message_is_applied_once(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    raw = reply_to(agenda, f"T-{memo.id} 10%")
    first = receive(rt, raw)
    assert receive(rt, raw) == first
    process(rt, first)
    again = process(rt, first)
    assert (again.status, again.answer_ids) == ("applied", [])
    with rt.sessions() as session:
        assert len(session.scalars(select(Task).where(Task.id == memo.id)).one().updates) == 1
    assert len(answers(rt)) == 1


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"X_Autoreply": "yes"},
    {"Precedence": "bulk"},
])
def test_auto_replies_are_recorded_and_never_answered(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage],
        headers: dict[str, str]) -> None:
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    processed = process(rt, receive(rt, reply_to(agenda, f"T-{memo.id} done",
                                                 **headers)))
    status, answer_ids = processed.status, processed.answer_ids
    assert (status, answer_ids) == ("rejected", [])
    assert task_titled(rt, "Draft the").status != "done"
    assert answers(rt) == []


def test_an_unknown_sender_changes_nothing_and_gets_no_mail(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """An answer to a stranger would be backscatter: anyone could make Drumbeat mail any
    address with a text of their choosing. The message is kept, and says why, in the inbox."""
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    row_id = receive(rt, reply_to(agenda, f"T-{memo.id} done",
                                  sender="stranger@elsewhere.example"))
    processed = process(rt, row_id)
    status, answer_ids = processed.status, processed.answer_ids
    assert status == "rejected" and answer_ids == []
    assert task_titled(rt, "Draft the").status != "done"
    assert answers(rt) == []
    with rt.sessions() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and row.authenticated_by == "none"
        assert "not answered" in row.outcome["reason"]


def test_a_forged_from_of_a_known_person_changes_nothing_and_they_are_told_once_a_day(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """Mail to updates@ in Ann's name that nothing vouches for: Ann hears once a day how to
    send updates that count, and the answer repeats no more than a short, cleaned subject."""
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    prize = "\x1b[2J call +1 555 0100 now to claim your prize " * 4
    for n in range(3):
        forged = to_updates(reply_to(agenda, f"T-{memo.id} dropped: spoofed",
                                     message_id=f"<f{n}@x.example>"))
        forged = forged.replace(f"Re: {agenda.subject}".encode(), prize.encode(), 1)
        status = process(rt, receive(rt, forged)).status
        assert status == "rejected"
    assert task_titled(rt, "Draft the").status != "dropped"
    [answer] = answers(rt)
    assert answer.to_address == "ann@acme.example"
    body = " ".join((answer.body_text or "").split())
    assert "could not confirm that it came from you, so nothing was changed" in body
    assert "spoofed" not in body and "\x1b" not in answer.subject
    assert len(answer.subject) <= len("Re: ") + 60


def test_replies_applied_out_of_order_end_with_the_later_ones_word(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """Two workers may apply Ann's two replies in either order; the task ends as her
    later reply says, and the earlier one's answer says why its line changed nothing."""
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    earlier = receive(rt, reply_to(agenda, f"T-{memo.id} 50%\nT-{memo.id} note: call legal",
                                   message_id="<earlier@mail.example>"))
    later = receive(rt, reply_to(agenda, f"T-{memo.id} 70%", message_id="<later@mail.example>"))
    assert process(rt, later).status == "applied"
    assert process(rt, earlier).status == "applied"
    task = task_titled(rt, "Draft the")
    assert (task.status, task.progress, task.set_by_message_id) == ("in_progress", 70, later)
    with rt.sessions() as session:
        history = session.scalars(select(TaskHistory).where(TaskHistory.task_id == memo.id)
                                  .order_by(TaskHistory.id)).all()
        assert [(h.inbound_message_id, h.new_progress, h.note) for h in history] == [
            (later, 70, None), (earlier, 70, "call legal")]   # the note still counts
    earlier_answer = next(a for a in answers(rt) if a.in_reply_to == "<earlier@mail.example>")
    body = " ".join((earlier_answer.body_text or "").split())
    assert f"T-{memo.id} was not changed: a message that arrived after this one already " \
        "set it (in progress, 70%, due Wed 02 Dec 2026)" in body


def test_someone_whose_dates_have_ended_changes_nothing_and_is_told_why(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    with rt.sessions() as session, session.begin():
        ann = session.get(Person, ids["ann"])
        assert ann is not None
        ann.active_until = REPLY_AT.date() - timedelta(days=2)
    processed = process(rt, receive(rt, reply_to(agenda, f"T-{memo.id} done")))
    status, answer_ids = processed.status, processed.answer_ids
    assert status == "rejected" and len(answer_ids) == 1
    assert task_titled(rt, "Draft the").status == "in_progress"
    body = " ".join((answers(rt)[0].body_text or "").split())
    assert f"Your Drumbeat account ended on {ann.active_until:%a %d %b %Y}, so nothing " \
        "was changed" in body


def test_with_a_trusted_mta_only_its_dmarc_pass_for_the_from_domain_vouches(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """DRUMBEAT_TRUSTED_AUTHSERV_ID: mail to updates@ with a forged From (DMARC failed at
    our MTA) changes nothing; Ann's genuine mail, which our MTA vouched for, is applied."""
    from dataclasses import replace

    rt, _ids, agenda = sent_agenda
    rt = replace(rt, settings=rt.settings.model_copy(
        update={"trusted_authserv_id": "mx.acme.example"}), cache={})
    memo = task_titled(rt, "Draft the")
    forged = to_updates(reply_to(
        agenda, f"T-{memo.id} done", message_id="<forged@mail.example>",
        Authentication_Results="mx.acme.example; dmarc=fail "
        "header.from=acme.example; spf=pass smtp.mailfrom=eve@evil.example"))
    status = process(rt, receive(rt, forged)).status
    assert status == "rejected"
    assert task_titled(rt, "Draft the").status == "in_progress"
    genuine = to_updates(reply_to(
        agenda, f"T-{memo.id} done", message_id="<genuine@mail.example>",
        Authentication_Results="mx.acme.example; dkim=pass "
        "header.d=acme.example; dmarc=pass header.from=acme.example"))
    assert process(rt, receive(rt, genuine)).status == "applied"
    assert task_titled(rt, "Draft the").status == "done"


def to_updates(raw: bytes) -> bytes:
    """The same message addressed to updates@ instead of the agenda's own address."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [f"To: updates@{DOMAIN}".encode() if line.lower().startswith(b"to:") else line
             for line in head.split(b"\r\n")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_a_reply_to_someone_elses_agenda_is_not_vouched_for_by_its_token(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """A token vouches for the person its agenda was sent to, not for the pair."""
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    row_id = receive(rt, reply_to(agenda, f"T-{memo.id} done", sender="bob@acme.example"))
    status = process(rt, row_id).status
    assert status == "rejected"
    assert task_titled(rt, "Draft the").status != "done"
    [answer] = answers(rt)
    assert answer.to_address == "bob@acme.example"
    assert "could not confirm" in " ".join((answer.body_text or "").split())


def test_replies_in_our_thread_are_capped_only_at_the_robots_ceiling(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reply to an agenda is answered (tests/test_receipts.py) up to a ceiling only a
    robot reaches; lowered here to five, the sixth to eighth replies are applied, unanswered."""
    monkeypatch.setattr("workers.inbound.THREAD_ANSWERS_PER_HOUR", 5)
    rt, _ids, agenda = sent_agenda
    for n in range(8):
        process(rt, receive(rt, reply_to(agenda, "hello", message_id=f"<r{n}@mail.example>")))
    assert len(answers(rt)) == 5
    with rt.sessions() as session:
        statuses = set(session.scalars(select(InboundMessage.status)))
    assert statuses == {"applied"}


def test_a_line_that_cannot_be_applied_is_answered_with_the_reason(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    process(rt, receive(rt, reply_to(agenda, f"T-{memo.id} sixty\nT-99999 done")))
    body = answers(rt)[0].body_text or ""
    assert f"T-{memo.id} sixty" in body and "Not understood" in body
    assert "T-99999" in body and "Not done" in body


def test_processing_time_is_the_clock_not_the_wall(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    process(rt, receive(rt, reply_to(agenda, f"T-{memo.id} done")))
    assert task_titled(rt, "Draft the").completed_at == REPLY_AT


class RefusingRelay:
    """A relay that answers 451 (a temporary failure), as a busy server does."""

    def send(self, message: object, sender: str, recipients: list[str]) -> None:
        from mail.doors.transport import TemporaryFailure
        raise TemporaryFailure("451 4.3.0 try again later")


def test_the_worker_sends_the_answer_itself_right_after_the_commit(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    from workers.sending import claimed_message, send_claimed

    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    processed = process(rt, receive(rt, reply_to(agenda, f"T-{memo.id} 60%")), send_now=True)
    status, [answer_id] = processed.status, processed.answer_ids
    [ready] = processed.to_send
    assert status == "applied" and ready.outbox_id == answer_id
    [answer] = answers(rt)
    assert (answer.status, answer.attempts) == ("claimed", 1)  # committed with the changes
    message, address = claimed_message(rt, ready), ready.row.to_address
    assert (message["In-Reply-To"], address) == ("<reply-1@mail.example>", "ann@acme.example")
    assert message["From"] == "Drumbeat <drumbeat@acme.example>"   # a name, not a bare address
    assert send_claimed(rt, ready) == "sent"
    assert deliver(rt, answer_id) == "sent"  # a retry or the sweeper sends nothing more
    sent = [p for p in (Path(rt.settings.maildir) / "new").iterdir()
            if b"auto-replied" in p.read_bytes()]
    assert len(sent) == 1


def test_a_batch_on_one_connection_applies_each_reply_and_marks_each_answer_sent(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """process_inbound_batch's way: one connection, a transaction per reply, each answer
    handed over and marked sent before the next reply is read."""
    from workers.actors import process_inbound_batch
    from workers.runtime import one_connection

    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    replies = [receive(rt, reply_to(agenda, f"T-{memo.id} {percent}%",
                                    message_id=f"<batch-{percent}@mail.example>"))
               for percent in (20, 40, 60)]
    with one_connection(rt) as bound:
        assert bound.connection is not None and bound.cache is rt.cache
    process_inbound_batch(replies)
    assert task_titled(rt, "Draft the").progress == 60
    assert [(a.status, a.in_reply_to) for a in answers(rt)] == [
        ("sent", f"<batch-{percent}@mail.example>") for percent in (20, 40, 60)]
    with rt.sessions() as session:
        statuses = session.scalars(select(InboundMessage.status).where(
            InboundMessage.id.in_(replies)))
        assert sorted(statuses) == ["applied"] * 3


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_answers_are_marked_sent_even_when_the_database_connection_drops_meanwhile(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay takes each answer, then the database cuts every idle connection (what a
    restart does): the answers are still marked sent, so the sweeper sends none again,
    and the batch's next reply is applied on a new connection."""
    import psycopg

    from workers import sending
    from workers.actors import process_inbound_batch

    monkeypatch.setattr(sending, "MARK_RETRY_SECONDS", (0.0, 0.1, 0.5))
    rt, _ids, agenda = sent_agenda
    relay = rt.transport
    dsn = rt.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    class TheDatabaseRestartsAsTheRelayTakesIt:
        def send(self, message: Message, sender: str, recipients: list[str]) -> None:
            relay.send(message, sender, recipients)
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE pid <> pg_backend_pid() AND state = 'idle' "
                              "AND datname = current_database()")

    monkeypatch.setattr(rt, "transport", TheDatabaseRestartsAsTheRelayTakesIt())
    memo = task_titled(rt, "Draft the")
    replies = [receive(rt, reply_to(agenda, f"T-{memo.id} {percent}%",
                                    message_id=f"<cut-{percent}@mail.example>"))
               for percent in (30, 50)]
    process_inbound_batch(replies)
    assert task_titled(rt, "Draft the").progress == 50
    assert [(a.status, a.in_reply_to) for a in answers(rt)] == [
        ("sent", "<cut-30@mail.example>"), ("sent", "<cut-50@mail.example>")]
    for answer in answers(rt):
        assert deliver(rt, answer.id) == "sent"  # a retry or the sweeper sends nothing more
    sent = [p for p in (Path(rt.settings.maildir) / "new").iterdir()
            if b"auto-replied" in p.read_bytes()]
    assert len(sent) == 2


def test_an_answer_the_relay_refuses_for_now_goes_back_to_the_queue(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    from workers.sending import RetryLater, send_claimed

    rt, _ids, agenda = sent_agenda
    processed = process(rt, receive(rt, reply_to(agenda, "met: yes")), send_now=True)
    [ready] = processed.to_send
    answer_id = ready.outbox_id
    working = rt.transport
    rt.transport = RefusingRelay()
    with pytest.raises(RetryLater):
        send_claimed(rt, ready)
    [answer] = answers(rt)
    assert answer.status == "queued" and "451" in (answer.last_error or "")
    rt.transport = working
    assert deliver(rt, answer_id) == "sent"  # the retry (send_email) delivers it


def test_an_answer_left_claimed_by_a_lost_worker_is_swept_and_sent(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    from workers import outbox

    rt, _ids, agenda = sent_agenda
    processed = process(rt, receive(rt, reply_to(agenda, "met: yes")), send_now=True)
    _status, [answer_id] = processed.status, processed.answer_ids
    stale = timedelta(minutes=rt.settings.outbox_stale_minutes)
    with rt.sessions() as session:
        assert answer_id not in outbox.stale_ids(session, rt.clock(), stale)
        assert answer_id in outbox.stale_ids(session, rt.clock() + stale * 2, stale)
    rt.clock = Clock(REPLY_AT + stale * 2)
    assert deliver(rt, answer_id) == "sent"


def test_a_batch_nudge_on_real_redis_applies_and_answers_each_reply_once(
        db: Database, relay: Relay, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    """The SMTP door's path at scale: batched nudges through Redis to a real worker,
    answers sent by the worker that applied them, through a relay that first says 451."""
    from workers import actors

    broker = redis_broker
    ids = seed(db)
    settings = make_settings(relay.port, tmp_path).model_copy(
        update={"send_retry_min_seconds": 0.05})
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    actors.bind(broker, settings)
    agenda = send_agendas(rt, ids["ann"])
    memo = task_titled(rt, "Draft the")
    stored = [receive(rt, reply_to(agenda, f"T-{memo.id} note: reply {n}",
                                   message_id=f"<batch-{n}@mail.example>"))
              for n in (1, 2, 3)]  # notes: concurrent workers may apply them in any order
    relay.fail_next("451 4.3.0 busy, try again")
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        actors.process_inbound_batch.send(stored)
        actors.process_inbound_batch.send(stored)  # a nudge delivered twice
        broker.join(actors.QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()
    with rt.sessions() as session:
        statuses = [session.get(InboundMessage, i).status for i in stored]  # type: ignore[union-attr]
    assert statuses == ["applied"] * 3
    with rt.sessions() as session:
        notes = sorted(session.scalars(select(TaskHistory.note).where(
            TaskHistory.task_id == memo.id)))
    assert notes == ["reply 1", "reply 2", "reply 3"]  # each applied exactly once
    answered = sorted(str(m["In-Reply-To"]) for m in relay.messages()
                      if m["Auto-Submitted"] == "auto-replied")
    assert answered == [f"<batch-{n}@mail.example>" for n in (1, 2, 3)]
    assert {a.status for a in answers(rt)} == {"sent"}


def test_a_dkim_signed_mail_to_updates_applies_and_a_tampered_copy_changes_nothing(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """Ann's company signs her mail: Drumbeat verifies the signature itself (the key comes
    through dkimpy's DNS hook, as DNS would serve it) and applies her update to updates@.
    The same message with its update line changed by someone on the way changes nothing."""
    from dataclasses import replace

    import dkim

    from mail.read.authentication import SenderPolicy

    keys = Path(__file__).parent / "fixtures" / "dkim"
    public = b"".join(line.strip() for line in (keys / "test-only-public.pem").read_bytes()
                      .splitlines() if not line.startswith(b"-----"))

    def dns(name: bytes, timeout: float = 5) -> bytes | None:
        return b"v=DKIM1; k=rsa; p=" + public if name == b"s1._domainkey.acme.example." \
            else None

    rt, _ids, agenda = sent_agenda
    rt = replace(rt, cache={SenderPolicy: SenderPolicy(dns=dns, dkim_timeout=2.0)})
    memo = task_titled(rt, "Draft the")

    def signed(body: str, message_id: str) -> bytes:
        raw = to_updates(reply_to(agenda, body, message_id=message_id))
        return dkim.sign(raw, b"s1", b"acme.example", (keys / "test-only-private.pem")
                         .read_bytes(), include_headers=[b"from", b"to", b"subject"]) + raw

    tampered = signed(f"T-{memo.id} 40%", "<tampered@mail.example>").replace(
        f"T-{memo.id} 40%".encode(), f"T-{memo.id} dropped".encode())
    assert process(rt, receive(rt, tampered)).status == "rejected"
    assert task_titled(rt, "Draft the").status == "in_progress"
    row_id = receive(rt, signed(f"T-{memo.id} done", "<signed@mail.example>"))
    assert process(rt, row_id).status == "applied"
    assert task_titled(rt, "Draft the").status == "done"
    with rt.sessions() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and row.authenticated_by == "dkim"


def test_a_signed_mail_whose_key_lookup_times_out_waits_for_a_later_try(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    """DNS slow for a moment must not turn Ann's genuine signed update into "could not
    confirm": the message waits (received, with the reason) and applies on a later try;
    on its last try it is judged without the signature."""
    from dataclasses import replace

    import dkim

    from mail.read.authentication import SenderPolicy
    from workers.inbound import MAX_ATTEMPTS, SenderCheckDelayed, record_failure

    keys = Path(__file__).parent / "fixtures" / "dkim"
    public = b"".join(line.strip() for line in (keys / "test-only-public.pem").read_bytes()
                      .splitlines() if not line.startswith(b"-----"))

    def slow_dns(name: bytes, timeout: float = 5) -> bytes | None:
        time.sleep(1.0)
        return None

    def dns(name: bytes, timeout: float = 5) -> bytes | None:
        return b"v=DKIM1; k=rsa; p=" + public if name == b"s1._domainkey.acme.example." \
            else None

    rt, _ids, agenda = sent_agenda
    memo = task_titled(rt, "Draft the")
    raw = to_updates(reply_to(agenda, f"T-{memo.id} done", message_id="<slow@mail.example>"))
    raw = dkim.sign(raw, b"s1", b"acme.example", (keys / "test-only-private.pem").read_bytes(),
                    include_headers=[b"from", b"to", b"subject"]) + raw
    row_id = receive(rt, raw)
    slow = replace(rt, cache={SenderPolicy: SenderPolicy(dns=slow_dns, dkim_timeout=0.2)})
    with pytest.raises(SenderCheckDelayed):
        process(slow, row_id)
    record_failure(slow, row_id, "waiting: a DKIM key lookup took too long")
    with rt.sessions() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and (row.status, row.attempts) == ("received", 1)
    assert answers(rt) == []
    answered = replace(rt, cache={SenderPolicy: SenderPolicy(dns=dns, dkim_timeout=2.0)})
    assert process(answered, row_id).status == "applied"
    assert task_titled(rt, "Draft the").status == "done"

    last = receive(rt, raw.replace(b"<slow@mail.example>", b"<slow-2@mail.example>"))
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, last)
        assert row is not None
        row.attempts = MAX_ATTEMPTS - 1  # this is its last try
    slower = replace(rt, cache={SenderPolicy: SenderPolicy(dns=slow_dns, dkim_timeout=0.2)})
    assert process(slower, last).status == "rejected"


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_meeting_another_worker_logged_meanwhile_still_applies_the_reply_at_once(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ``met: yes`` of one pair applied at the same moment both find no meeting and
    both insert one: the later commit fails on the meeting's unique key. The worker tries
    that reply again at once, finds the other's meeting and applies the reply to it, so
    nothing waits minutes for the sweeper (PostgreSQL: SQLite writes one at a time)."""
    from workers import apply
    from workers.actors import process_inbound_batch

    rt, ids, agenda = sent_agenda
    original = apply.Applier._meeting_row
    raced: list[int] = []

    def the_other_worker_commits_first(self: apply.Applier, manager_id: int,
                                       employee_id: int, period: object) -> Meeting:
        meeting = original(self, manager_id, employee_id, period)  # type: ignore[arg-type]
        if meeting.id is None and not raced:  # new here: Mika's reply commits its row now
            with rt.engine.begin() as other:
                other.execute(Meeting.__table__.insert().values(
                    manager_id=manager_id, employee_id=employee_id,
                    period_start=meeting.period_start, period_end=meeting.period_end,
                    status="held", manager_says="held", confirmed_by_manager=True,
                    confirmed_by_employee=False, created_at=REPLY_AT, updated_at=REPLY_AT))
            raced.append(employee_id)
        return meeting

    monkeypatch.setattr(apply.Applier, "_meeting_row", the_other_worker_commits_first)
    inbound_id = receive(rt, reply_to(agenda, "met: yes"))
    process_inbound_batch([inbound_id])
    assert raced == [ids["ann"]]
    with rt.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None and (row.status, row.attempts) == ("applied", 2)
        meeting = session.scalar(select(Meeting).where(Meeting.employee_id == ids["ann"]))
        assert meeting is not None
        assert (meeting.manager_says, meeting.employee_says) == ("held", "held")
    assert [a.in_reply_to for a in answers(rt)] == ["<reply-1@mail.example>"]
