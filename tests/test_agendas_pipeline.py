"""Agendas end to end on the real parts: the database, Redis with a real dramatiq worker,
and a real SMTP relay (aiosmtpd on loopback) that the tests read, under a controllable clock.
"""

from __future__ import annotations

import threading
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import dramatiq
from pydantic import SecretStr
from sqlalchemy import func, select

from config.settings import Settings
from mail.doors.transport import MaildirTransport
from mail.write.tokens import read_token, token_from_address
from models import Goal, Initiative, Meeting, OutboundMessage, Person, Project, Task
from models.meetings import MeetingStatus
from tests.conftest import Database
from tests.relay import Relay, free_port
from workers import actors
from workers.actors import QUEUE
from workers.broker import make_broker
from workers.runtime import Runtime, configure, transport_for
from workers.sending import deliver

SECRET = "test-secret"
DOMAIN = "acme.example"
# Monday 2026-11-30 09:00 in Tokyo is 00:00 UTC; in Los Angeles (UTC-8) it is 17:00 UTC.
TOKYO_ONLY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)   # Ann's window opened at 11-29 00:00
BOTH = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)         # Bob's window opened at 11-29 17:00


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_settings(relay_port: int | None, tmp_path: Path) -> Settings:
    return Settings(
        database_url="sqlite://", mail_domain=DOMAIN, secret_key=SecretStr(SECRET),
        smtp_host="127.0.0.1" if relay_port else None, smtp_port=relay_port or 25,
        smtp_starttls=False, maildir=tmp_path / "maildir", send_retry_min_seconds=0.05,
        send_max_attempts=4, agenda_lead_hours=24,
    )


def seed(db: Database) -> dict[str, int]:
    """A manager in Tokyo with two reports: Ann in Tokyo, Bob in Los Angeles."""
    with db.session() as session, session.begin():
        mika = Person(email="mika@acme.example", name="Mika Sato", timezone="Asia/Tokyo")
        ann = Person(email="ann@acme.example", name="Ann Lee", timezone="Asia/Tokyo",
                     manager=mika, checkin_weekday=0, checkin_time=time(9, 0))
        bob = Person(email="bob@acme.example", name="Bob Díaz",
                     timezone="America/Los_Angeles", manager=mika, checkin_weekday=0,
                     checkin_time=time(9, 0))
        initiative = Initiative(title="Grow", owner=mika)
        goal = Goal(title="Revenue to €4M", owner=mika, initiative=initiative)
        project = Project(title="Pricing", owner=ann, goal=goal)
        session.add_all([mika, ann, bob, initiative, goal, project])
        session.add_all([
            Task(title="Draft the <b>pricing</b> memo\nSubject: hi", owner=ann, project=project,
                 due=date(2026, 12, 2), status="in_progress", progress=40),
            Task(title="Interview customers", owner=ann, project=project,
                 due=date(2026, 11, 20)),
            Task(title="Price book", owner=bob, project=project, due=date(2026, 12, 1)),
        ])
        session.flush()
        return {"mika": mika.id, "ann": ann.id, "bob": bob.id}


def outbox_rows(db: Database) -> list[OutboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def run_worker(broker: dramatiq.Broker, work: list[tuple[str, tuple[object, ...]]]) -> None:
    """Send messages, run a real worker until the queue (with retries) is drained."""
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        for name, args in work:
            getattr(actors, name).send(*args)
        broker.join(QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def runtime_for(db: Database, settings: Settings, clock: Clock) -> Runtime:
    return configure(settings, engine=db.engine, transport=transport_for(settings), clock=clock)


def by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(message["To"]): message for message in messages}


def test_each_person_gets_the_agenda_at_their_own_local_time_exactly_once(
        db: Database, relay: Relay, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    ids = seed(db)
    settings = make_settings(relay.port, tmp_path)
    clock = Clock(TOKYO_ONLY)
    runtime_for(db, settings, clock)
    actors.bind(redis_broker, settings)

    # Two schedulers tick at the same minute, and one tick is delivered twice.
    run_worker(redis_broker, [("dispatch_due", (TOKYO_ONLY.isoformat(),))] * 3)
    first = by_recipient(relay.messages())
    assert set(first) == {"ann@acme.example", "mika@acme.example"}

    clock.now = BOTH
    run_worker(redis_broker, [("dispatch_due", (BOTH.isoformat(),))] * 2)
    messages = relay.messages()
    recipients = sorted(str(m["To"]) for m in messages)
    assert len(messages) == 4, recipients           # Ann, Mika for Ann, Bob, Mika for Bob
    assert sum("mika@" in r for r in recipients) == 2
    rows = outbox_rows(db)
    assert len(rows) == 4 and {row.status for row in rows} == {"sent"}
    assert all(row.attempts == 1 for row in rows)

    for message in messages:
        assert message["Auto-Submitted"] == "auto-generated"
        token = token_from_address(str(message["Reply-To"]))
        assert token is not None
        row_id = read_token(token, SECRET)
        row = next(r for r in rows if r.id == row_id)
        assert row.message_id == message["Message-ID"]
        pair = f"{ids['mika']}.{row.context['employee_id']}"  # type: ignore[index]
        assert f"<checkin.{pair}@{DOMAIN}>" in str(message["References"])
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None

    ann = next(m for m in messages if "ann@" in str(m["To"]))
    text = ann.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = ann.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Draft the <b>pricing</b> memo Subject: hi" in text   # one line, shown as text
    assert "&lt;b&gt;pricing&lt;/b&gt;" in html and "<b>pricing</b>" not in html
    assert "Subject: hi" not in [str(v) for k, v in ann.items() if k != "Subject"]
    assert "Interview customers" in text                         # overdue
    assert "Price book" not in text                              # Bob's task


def test_a_relay_that_refuses_then_recovers_gets_the_message_once(
        db: Database, relay: Relay, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(relay.port, tmp_path)
    runtime_for(db, settings, Clock(TOKYO_ONLY))
    actors.bind(redis_broker, settings)
    relay.fail_next("451 4.3.0 try again later", "421 4.7.0 busy")

    run_worker(redis_broker, [("dispatch_due", (TOKYO_ONLY.isoformat(),))])

    assert len(relay.messages()) == 2
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"sent"}
    assert sorted(row.attempts for row in rows) in ([1, 3], [2, 2])   # two refusals in all


def test_a_permanent_refusal_is_recorded_and_not_retried(
        db: Database, relay: Relay, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(relay.port, tmp_path)
    runtime_for(db, settings, Clock(TOKYO_ONLY))
    actors.bind(redis_broker, settings)
    relay.fail_next("550 5.1.1 mailbox unavailable")

    run_worker(redis_broker, [("dispatch_due", (TOKYO_ONLY.isoformat(),))])

    rows = outbox_rows(db)
    failed = [row for row in rows if row.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 1
    assert failed[0].last_error == "550 5.1.1 mailbox unavailable"
    assert len(relay.messages()) == 1


def test_an_unreachable_relay_is_retried_with_backoff_until_it_answers(
        db: Database, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    seed(db)
    relay = Relay()   # not started yet: connections are refused
    settings = make_settings(relay.port, tmp_path).model_copy(
        update={"send_retry_min_seconds": 1.0})
    runtime_for(db, settings, Clock(TOKYO_ONLY))
    actors.bind(redis_broker, settings)
    worker = dramatiq.Worker(redis_broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        actors.dispatch_due.send(TOKYO_ONLY.isoformat())
        deadline = time_module.monotonic() + 20
        while time_module.monotonic() < deadline:   # wait for the first refusals
            rows = outbox_rows(db)
            if len(rows) == 2 and all(row.status == "queued" for row in rows):
                break
            time_module.sleep(0.05)
        assert all("cannot reach" in (row.last_error or "") for row in rows)
        relay.start()                                 # the relay comes back before the retry
        redis_broker.join(QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()
        relay.stop()
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"sent"}
    assert all(row.attempts == 2 for row in rows)
    assert len(relay.messages()) == 2


def test_giving_up_after_the_last_try_is_recorded(db: Database, redis_broker: dramatiq.Broker,
                                                  tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(free_port(), tmp_path).model_copy(update={"send_max_attempts": 2})
    runtime_for(db, settings, Clock(TOKYO_ONLY))
    actors.bind(redis_broker, settings)
    run_worker(redis_broker, [("dispatch_due", (TOKYO_ONLY.isoformat(),))])
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"failed"}
    assert all((row.last_error or "").startswith("gave up after 2 tries: cannot reach")
               for row in rows)


def test_a_lost_broker_message_is_found_by_the_sweeper(
        db: Database, relay: Relay, redis_broker: dramatiq.Broker, tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(relay.port, tmp_path)
    clock = Clock(TOKYO_ONLY)
    rt = runtime_for(db, settings, clock)
    actors.bind(redis_broker, settings)
    from workers.agendas import dispatch_due

    with rt.sessions() as session, session.begin():   # rows written, broker message "lost"
        ids = dispatch_due(session, TOKYO_ONLY, timedelta(hours=24), DOMAIN, timedelta(hours=48))
    assert len(ids) == 2

    run_worker(redis_broker, [("sweep_outbox", ())])   # too early: not stale yet
    assert relay.messages() == []
    clock.now = TOKYO_ONLY + timedelta(minutes=11)
    run_worker(redis_broker, [("sweep_outbox", ()), ("sweep_outbox", ())])
    assert len(relay.messages()) == 2
    assert {row.status for row in outbox_rows(db)} == {"sent"}


def test_a_sent_row_is_never_sent_again(db: Database, relay: Relay, tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(relay.port, tmp_path)
    rt = runtime_for(db, settings, Clock(TOKYO_ONLY))
    from workers.agendas import dispatch_due

    with rt.sessions() as session, session.begin():
        ids = dispatch_due(session, TOKYO_ONLY, timedelta(hours=24), DOMAIN, timedelta(hours=48))
    results = []
    threads = [threading.Thread(target=lambda: results.append(deliver(rt, ids[0])))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert deliver(rt, ids[0]) == "sent"
    assert len(relay.messages()) == 1


def test_on_the_embedded_default_agendas_land_in_the_maildir(db: Database,
                                                             tmp_path: Path) -> None:
    seed(db)
    settings = make_settings(None, tmp_path)
    rt = runtime_for(db, settings, Clock(TOKYO_ONLY))
    assert isinstance(rt.transport, MaildirTransport)
    broker = make_broker(None)
    actors.bind(broker, settings)
    run_worker(broker, [("dispatch_due", (TOKYO_ONLY.isoformat(),))])
    files = list((tmp_path / "maildir" / "new").iterdir())
    assert len(files) == 2
    assert all(b"Auto-Submitted: auto-generated" in f.read_bytes() for f in files)


def test_people_on_leave_or_inactive_get_nothing(db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = runtime_for(db, settings, Clock(BOTH))
    from workers.agendas import dispatch_due

    with rt.sessions() as session, session.begin():
        session.add(Meeting(manager_id=ids["mika"], employee_id=ids["ann"],
                            period_start=date(2026, 11, 30), period_end=date(2026, 12, 6),
                            status=MeetingStatus.EXCUSED.value, reason="vacation"))
        bob = session.get(Person, ids["bob"])
        assert bob is not None
        bob.active_until = date(2026, 11, 27)
    with rt.sessions() as session, session.begin():
        assert dispatch_due(session, BOTH, timedelta(hours=24), DOMAIN,
                            timedelta(hours=48)) == []


def test_a_period_that_closed_without_a_meeting_gets_one_reminder_each(
        db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = runtime_for(db, settings, Clock(TOKYO_ONLY))
    from workers.agendas import dispatch_due

    def dispatch(now: datetime) -> list[int]:
        with rt.sessions() as session, session.begin():
            return dispatch_due(session, now, timedelta(hours=24), DOMAIN, timedelta(hours=48))

    assert len(dispatch(TOKYO_ONLY)) == 2                    # Ann's agenda and Mika's copy
    # Ann's week (30 Nov – 6 Dec) ends at midnight Tokyo time on 7 Dec = 6 Dec 15:00 UTC.
    after_week = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    created = dispatch(after_week)
    with rt.sessions() as session:
        nudges = list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "nudge")))
    assert {n.recipient_id for n in nudges} == {ids["ann"], ids["mika"]}
    assert len(nudges) == 2 and set(created) >= {n.id for n in nudges}
    assert not [i for i in dispatch(after_week + timedelta(minutes=1))
                if i in {n.id for n in nudges}]
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.kind == "nudge")) == 2

    for nudge in nudges:
        assert deliver(rt, nudge.id) == "sent"
    reminders = [f.read_bytes() for f in (tmp_path / "maildir" / "new").iterdir()]
    assert len(reminders) == 2
    assert all(b"no 1:1 with" in r and b"met: yes" in r for r in reminders)


def test_no_reminder_when_the_meeting_was_logged(db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    rt = runtime_for(db, make_settings(None, tmp_path), Clock(TOKYO_ONLY))
    from workers.agendas import dispatch_due

    with rt.sessions() as session, session.begin():
        dispatch_due(session, TOKYO_ONLY, timedelta(hours=24), DOMAIN, timedelta(hours=48))
        session.add(Meeting(manager_id=ids["mika"], employee_id=ids["ann"],
                            period_start=date(2026, 11, 30), period_end=date(2026, 12, 6),
                            status=MeetingStatus.HELD.value, held_on=date(2026, 11, 30)))
    with rt.sessions() as session, session.begin():
        dispatch_due(session, datetime(2026, 12, 6, 16, 0, tzinfo=UTC), timedelta(hours=24),
                     DOMAIN, timedelta(hours=48))
        assert session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.kind == "nudge")) == 0


def test_dispatch_copes_with_ten_thousand_pairs_due_at_once(db: Database) -> None:
    """Regression: one row-value IN list per pair broke PostgreSQL's stack at this size."""
    from sqlalchemy import insert

    from models.base import utcnow

    now = utcnow()
    with db.session() as session, session.begin():
        boss = Person(email="boss@acme.example", name="Boss", timezone="UTC")
        session.add(boss)
        session.flush()
        common = {"timezone": "UTC", "cadence": "weekly", "checkin_weekday": 0,
                  "checkin_time": time(9), "is_hr": False, "manager_id": boss.id,
                  "created_at": now, "updated_at": now}
        session.execute(insert(Person), [
            {"email": f"p{n}@acme.example", "name": f"Person {n}", **common}
            for n in range(10_000)])
    from workers.agendas import dispatch_due

    monday_morning = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with db.session() as session, session.begin():
        created = dispatch_due(session, monday_morning, timedelta(hours=24), DOMAIN,
                               timedelta(hours=48))
    assert len(created) == 20_000
    with db.session() as session, session.begin():   # a week later: 10,000 periods closed
        dispatch_due(session, monday_morning + timedelta(days=7), timedelta(hours=24), DOMAIN,
                     timedelta(hours=48))
        nudges = session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.kind == "nudge"))
    assert nudges == 20_000
