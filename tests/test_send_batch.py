"""Sending a batch of outbox rows: every agenda once, the reads fixed per batch, a bad row
recorded alone, a relay that cannot be reached answering for the whole batch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select, update

from models import OutboundMessage
from tests.conftest import Database
from tests.relay import Relay
from tests.test_agendas_pipeline import (
    BOTH,
    DOMAIN,
    Clock,
    make_settings,
    outbox_rows,
    runtime_for,
    seed,
)
from workers.agendas import dispatch_due
from workers.runtime import Runtime
from workers.sending import RETRY, deliver_batch


def due_rows(rt: Runtime) -> list[int]:
    """The tick at BOTH: Ann's and Bob's pairs, two agendas each."""
    with rt.sessions() as session, session.begin():
        ids = dispatch_due(session, BOTH, timedelta(hours=24), DOMAIN, timedelta(hours=48))
    assert len(ids) == 4
    return ids


def selects_while(rt: Runtime, work: object) -> int:
    count = 0

    def counted(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal count
        count += statement.lstrip().upper().startswith("SELECT")

    event.listen(rt.engine, "before_cursor_execute", counted)
    try:
        work()  # type: ignore[operator]
    finally:
        event.remove(rt.engine, "before_cursor_execute", counted)
    return count


def test_a_batch_reads_as_much_for_two_pairs_as_one_row_alone(
        db: Database, relay: Relay, tmp_path: Path) -> None:
    seed(db)
    rt = runtime_for(db, make_settings(relay.port, tmp_path), Clock(BOTH))
    ids = due_rows(rt)
    results = []
    alone = selects_while(rt, lambda: results.append(deliver_batch(rt, ids[:1])))
    together = selects_while(rt, lambda: results.append(deliver_batch(rt, ids[1:])))
    assert together <= alone  # three rows of two pairs: no statement per row or pair
    assert [done.statuses for done in results] == [
        {ids[0]: "sent"}, {ids[1]: "sent", ids[2]: "sent", ids[3]: "sent"}]
    sent = relay.messages()
    assert sorted(str(m["To"]) for m in sent) == sorted(
        ["ann@acme.example", "bob@acme.example", "mika@acme.example", "mika@acme.example"])
    assert {row.status for row in outbox_rows(db)} == {"sent"}
    assert all("Interview customers" in m.get_body(("plain",)).get_content()  # type: ignore
               for m in sent if str(m["To"]) == "ann@acme.example")


def test_a_row_that_cannot_be_rendered_is_recorded_and_its_batch_goes_on(
        db: Database, relay: Relay, tmp_path: Path) -> None:
    seed(db)
    rt = runtime_for(db, make_settings(relay.port, tmp_path), Clock(BOTH))
    ids = due_rows(rt)
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == ids[1])
                        .values(context={"manager_id": 1}))
    done = deliver_batch(rt, ids)
    assert done.statuses[ids[1]] == "queued"  # the sweeper tries it again; its try counted
    assert {done.statuses[i] for i in ids if i != ids[1]} == {"sent"}
    assert len(relay.messages()) == 3
    with rt.sessions() as session:
        broken = session.scalars(select(OutboundMessage).where(
            OutboundMessage.id == ids[1])).one()
    assert broken.attempts == 1 and broken.body_text is None
    assert broken.last_error and "Error" in broken.last_error


def test_an_unreachable_relay_answers_for_the_whole_batch(db: Database, tmp_path: Path
                                                          ) -> None:
    seed(db)
    relay = Relay()  # not started yet: connections are refused
    rt = runtime_for(db, make_settings(relay.port, tmp_path), Clock(BOTH))
    ids = due_rows(rt)
    done = deliver_batch(rt, ids)
    assert done.statuses == dict.fromkeys(ids, RETRY) and done.to_retry == ids
    assert done.retry_after > 0
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"queued"}
    assert all(row.attempts == 1 and "cannot reach" in (row.last_error or "") for row in rows)
    assert all(row.body_text for row in rows)  # the words are kept for the retry

    relay.start()
    try:
        again = deliver_batch(rt, done.to_retry)
        assert set(again.statuses.values()) == {"sent"}
        assert len(relay.messages()) == 4
    finally:
        relay.stop()
