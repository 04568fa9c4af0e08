"""What one message may cost, on the real intake: the update cap and the parse before
the transaction, threading headers that cannot fail a good reply, and failures that
end after a bounded number of tries (dramatiq's time limit included) on real Redis
and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select, update

from models import InboundMessage, OutboundMessage, Task
from tests.conftest import Database
from tests.test_agendas_pipeline import Clock, make_settings, seed
from tests.test_cli_mail import drumbeat
from tests.test_inbound import REPLY_AT, answers, receive, reply_to, send_agendas, task_titled
from workers.inbound import process
from workers.runtime import Runtime, configure, transport_for
from workers.sending import claimed_message, deliver, send_claimed


@pytest.fixture
def replying(db: Database, tmp_path: Path) -> tuple[Runtime, OutboundMessage]:
    """Ann's agenda, sent; the runtime that processes her replies."""
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    return rt, send_agendas(rt, ids["ann"])


def inbound_row(rt: Runtime, row_id: int) -> InboundMessage:
    with rt.sessions() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None
        return row


def new_tasks(rt: Runtime, prefix: str) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(Task.title).where(Task.title.startswith(prefix))))


def test_a_reply_of_150000_new_lines_applies_100_and_answers_the_rest_as_not_read(
        replying: tuple[Runtime, OutboundMessage]) -> None:
    """While the long one is read (outside any transaction), a short reply from the
    same person is applied: on SQLite the long one never holds the write lock."""
    rt, agenda = replying
    memo = task_titled(rt, "Draft the")
    long_body = "\n".join(f"new: Flood task {n}" for n in range(150_000))
    long_id = receive(rt, reply_to(agenda, long_body, message_id="<flood@mail.example>"))
    short_id = receive(rt, reply_to(agenda, f"T-{memo.id} 70%", message_id="<short@mail.example>"))
    finished: dict[str, float] = {}

    def process_long() -> None:
        process(rt, long_id, send_now=True)
        finished["long"] = time.monotonic()

    started = time.monotonic()
    worker = threading.Thread(target=process_long)
    worker.start()
    time.sleep(0.3)  # the long one is being read by now
    assert process(rt, short_id, send_now=True).status == "applied"
    finished["short"] = time.monotonic()
    worker.join(timeout=120)

    assert finished["long"] - started < 30
    assert finished["short"] < finished["long"]  # not queued behind the long one's reading
    assert task_titled(rt, "Draft the").progress == 70
    assert new_tasks(rt, "Flood task ") == [f"Flood task {n}" for n in range(100)]
    row = inbound_row(rt, long_id)
    assert row.status == "applied"
    not_understood = row.outcome["not_understood"]
    assert [line for line, _reason in not_understood] == ["new: Flood task 100", "…"]
    assert not_understood[0][1].startswith("not read: more than 100 updates in one message (")
    assert "too long" in not_understood[1][1]
    [answer] = [a for a in answers(rt) if a.in_reply_to == "<flood@mail.example>"]
    assert "not read: more than 100 updates in one message" in (answer.body_text or "")
    assert answer.body_text.count("Flood task") < 300  # the rest is summarised, not listed


def test_a_reply_with_a_malformed_message_id_and_references_is_applied_and_answered(
        replying: tuple[Runtime, OutboundMessage]) -> None:
    rt, agenda = replying
    memo = task_titled(rt, "Draft the")
    raw = reply_to(agenda, f"T-{memo.id} 90%", message_id="<placeholder@mail.example>")
    raw = raw.replace(b"Message-ID: <placeholder@mail.example>",
                      b"Message-ID: <bad id with spaces\r\nReferences: <no-at-sign> garbage "
                      b"<two@at@signs> <" + b"x" * 600 + b"@long.example> "
                      + (agenda.message_id or "").encode())

    processed = process(rt, receive(rt, raw), send_now=True)
    [ready] = processed.to_send

    assert processed.status == "applied"
    assert task_titled(rt, "Draft the").progress == 90
    message, address = claimed_message(rt, ready), ready.row.to_address
    assert address == "ann@acme.example"
    assert message["References"] == agenda.message_id  # only the valid one is repeated
    [answer] = answers(rt)
    assert answer.references_header == agenda.message_id
    assert send_claimed(rt, ready) == "sent"


def test_an_outbox_row_that_cannot_be_built_fails_after_its_tries_with_the_reason(
        replying: tuple[Runtime, OutboundMessage]) -> None:
    rt, agenda = replying
    processed = process(rt, receive(rt, reply_to(agenda, "met: yes")))
    _status, [answer_id] = processed.status, processed.answer_ids
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == answer_id)
                        .values(to_address="not an address, nor@two.example"))
    tries = rt.settings.send_max_attempts

    statuses = [deliver(rt, answer_id) for _ in range(tries + 1)]

    assert statuses == ["queued"] * (tries - 1) + ["failed", "failed"]
    with rt.sessions() as session:
        row = session.get(OutboundMessage, answer_id)
        assert row is not None and row.attempts == tries
        assert row.last_error.startswith(f"gave up after {tries} tries: ValueError: To:")


@pytest.fixture
def on_redis(db: Database, redis_broker: dramatiq.Broker, tmp_path: Path
             ) -> tuple[Runtime, dramatiq.Broker, OutboundMessage]:
    from workers import actors

    ids = seed(db)
    settings = make_settings(None, tmp_path).model_copy(
        update={"message_time_limit_seconds": 0.2})
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    actors.bind(redis_broker, settings)
    return rt, redis_broker, send_agendas(rt, ids["ann"])


@contextmanager
def running_worker(broker: dramatiq.Broker) -> Iterator[Callable[[], None]]:
    """A real worker; the function it yields waits until the queue is empty."""
    from workers import actors

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()

    def drain() -> None:
        broker.join(actors.QUEUE, timeout=30_000)
        worker.join()

    try:
        yield drain
    finally:
        worker.stop()


def test_a_message_that_reaches_the_time_limit_fails_after_three_tries_for_good(
        on_redis: tuple[Runtime, dramatiq.Broker, OutboundMessage], db: Database) -> None:
    """The task row is locked by another connection for longer than the time limit, so
    every try is stopped by dramatiq's TimeLimitExceeded (a BaseException)."""
    from workers import actors

    if db.kind != "postgresql":
        pytest.skip("holds a row lock from another connection: PostgreSQL's kind of lock")
    rt, broker, agenda = on_redis
    memo = task_titled(rt, "Draft the")
    row_id = receive(rt, reply_to(agenda, f"T-{memo.id} 75%"))

    with running_worker(broker) as drain:
        for attempt in (1, 2, 3):
            with db.engine.connect() as locker:
                locker.execute(select(Task.id).where(Task.id == memo.id).with_for_update())
                actors.process_inbound.send(row_id)
                time.sleep(2.5)  # past the 0.2 s limit and the watchdog's one-second beat
                locker.rollback()
            drain()
            row = inbound_row(rt, row_id)
            assert row.attempts == attempt
            assert "TimeLimitExceeded" in (row.error or "")
            assert row.status == ("failed" if attempt == 3 else "received")

        actors.process_inbound.send(row_id)  # a nudge for a failed message changes nothing
        drain()
    row = inbound_row(rt, row_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.error.startswith("gave up after 3 tries: TimeLimitExceeded")
    assert task_titled(rt, "Draft the").progress == 40
    assert answers(rt) == []
    listing = drumbeat({"DRUMBEAT_DATABASE_URL": db.url, "COLUMNS": "400"},
                       "inbox", "--status", "failed")
    assert listing.returncode == 0, listing.stderr
    assert "gave up after 3 tries: TimeLimitExceeded" in listing.stdout


def test_the_sweeper_fails_exhausted_rows_and_queues_the_others_again(
        on_redis: tuple[Runtime, dramatiq.Broker, OutboundMessage]) -> None:
    from workers import actors

    rt, broker, agenda = on_redis
    memo = task_titled(rt, "Draft the")
    exhausted = receive(rt, reply_to(agenda, f"T-{memo.id} 10%", message_id="<a@mail.example>"))
    waiting = receive(rt, reply_to(agenda, f"T-{memo.id} 20%", message_id="<b@mail.example>"))
    processed = process(rt, receive(rt, reply_to(
        agenda, "met: yes", message_id="<c@mail.example>")), send_now=True)  # left claimed
    _status, [answer_id] = processed.status, processed.answer_ids
    tries = rt.settings.send_max_attempts
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id == exhausted).values(
            attempts=3, error="RuntimeError: the worker died", received_at=REPLY_AT))
        session.execute(update(InboundMessage).where(InboundMessage.id == waiting).values(
            attempts=1, error="RuntimeError: the worker died", received_at=REPLY_AT))
        session.execute(update(OutboundMessage).where(OutboundMessage.id == answer_id).values(
            attempts=tries, last_error="451 busy"))
    rt.clock = Clock(REPLY_AT + timedelta(minutes=rt.settings.outbox_stale_minutes * 2))

    with running_worker(broker) as drain:
        actors.sweep_outbox.send()
        drain()
        drain()  # the messages the sweeper queued
    gave_up = inbound_row(rt, exhausted)
    assert (gave_up.status, gave_up.attempts) == ("failed", 3)  # not processed again
    assert gave_up.error == "gave up after 3 tries: RuntimeError: the worker died"
    assert inbound_row(rt, waiting).status == "applied"  # queued again and processed
    assert task_titled(rt, "Draft the").progress == 20
    with rt.sessions() as session:
        answer = session.get(OutboundMessage, answer_id)
        assert answer is not None
        assert (answer.status, answer.attempts) == ("failed", tries)
        assert answer.last_error == f"gave up after {tries} tries: 451 busy"
