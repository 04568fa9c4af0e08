"""A receipt for every reply: a person answering our agendas or answers hears back each
time, however many they answer in one sitting; mail outside our threads (a loop, a new
thread) keeps the hourly cap. Runs on both databases through the intake's store.
"""

from __future__ import annotations

from datetime import time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Meeting, OutboundMessage, Person
from tests.conftest import Database
from tests.test_agendas_pipeline import Clock, make_settings, seed
from tests.test_inbound import REPLY_AT, answers, reply_to, send_agendas
from tests.test_notes_pipeline import COMPANY_RELAY
from workers.inbound import ANSWERS_PER_HOUR, process
from workers.intake import RawStore
from workers.runtime import Runtime, configure, transport_for

REPORTS = 8


def arrive(rt: Runtime, raw: bytes, peer: str | None = None) -> int:
    """Stored as the SMTP door stores it, on the runtime's clock."""
    return RawStore(rt.engine, clock=rt.clock)(raw, None, [], peer)


@pytest.fixture
def manager_of_eight(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int]]:
    """Mika with Ann, Bob and six more reports, all meeting on Monday 9:00 in Tokyo; the
    company's relay is trusted (for mail that is no reply to anything of ours)."""
    ids = seed(db)
    with db.session() as session, session.begin():
        mika = session.get(Person, ids["mika"])
        for n in range(REPORTS - 2):
            session.add(Person(email=f"r{n}@acme.example", name=f"Report {n}",
                               timezone="Asia/Tokyo", manager=mika, checkin_weekday=0,
                               checkin_time=time(9, 0)))
        session.get(Person, ids["bob"]).timezone = "Asia/Tokyo"  # type: ignore[union-attr]
    settings = make_settings(None, tmp_path).model_copy(
        update={"trusted_relays": "192.0.2.0/24"})
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(REPLY_AT))
    return rt, ids


def agendas_of(rt: Runtime, person_id: int) -> list[OutboundMessage]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "agenda", OutboundMessage.recipient_id == person_id)
            .order_by(OutboundMessage.id)))


def fresh_thread(sender: str, n: int, body: str = "T-1 50%") -> bytes:
    """Mail to no agenda of ours: a new thread, or a robot's loop."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "checkin@acme.example"
    message["Subject"] = "updates"
    message["Date"] = format_datetime(REPLY_AT)
    message["Message-ID"] = f"<loop-{n}@mail.example>"
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def test_a_manager_answering_eight_agendas_in_one_sitting_gets_eight_receipts(
        manager_of_eight: tuple[Runtime, dict[str, int]]) -> None:
    rt, ids = manager_of_eight
    send_agendas(rt, ids["mika"])
    copies = agendas_of(rt, ids["mika"])
    assert len(copies) == REPORTS

    for n, agenda in enumerate(copies):
        inbound_id = arrive(rt, reply_to(agenda, "met: yes 30min", sender="mika@acme.example",
                                         message_id=f"<mika-{n}@mail.example>"))
        assert len(process(rt, inbound_id).answers) == 1, f"reply {n + 1} got no receipt"

    receipts = [a for a in answers(rt) if a.to_address == "mika@acme.example"]
    assert len(receipts) == REPORTS
    assert all("held on" in (a.body_text or "") for a in receipts)
    with rt.sessions() as session:
        assert len(session.scalars(select(Meeting)).all()) == REPORTS


def test_replies_to_our_answers_are_answered_too(
        manager_of_eight: tuple[Runtime, dict[str, int]]) -> None:
    """A person correcting themselves in the thread of our answers hears back each time."""
    rt, ids = manager_of_eight
    agenda = send_agendas(rt, ids["ann"])
    parent: OutboundMessage = agenda
    for n in range(ANSWERS_PER_HOUR + 2):
        inbound_id = arrive(rt, reply_to(parent, f"met: yes {30 + n}min",
                                         message_id=f"<ann-{n}@mail.example>"))
        [added] = process(rt, inbound_id).answers
        with rt.sessions() as session:
            found = session.get(OutboundMessage, added.outbox_id)
            assert found is not None
            parent = found
    assert len(answers(rt)) == ANSWERS_PER_HOUR + 2


def test_a_reply_by_in_reply_to_alone_counts_as_in_our_thread(
        manager_of_eight: tuple[Runtime, dict[str, int]]) -> None:
    """Sent to our From address (no token), vouched for by the company's relay, and
    answering an agenda of ours by its Message-ID: a receipt past the cap."""
    rt, ids = manager_of_eight
    send_agendas(rt, ids["mika"])
    copies = agendas_of(rt, ids["mika"])
    for n, agenda in enumerate(copies):
        raw = fresh_thread("mika@acme.example", 100 + n, "Thanks, all good")
        raw = raw.replace(b"Message-ID:", f"In-Reply-To: {agenda.message_id}\r\n"
                          "Message-ID:".encode())
        assert len(process(rt, arrive(rt, raw, COMPANY_RELAY)).answers) == 1


def test_a_loop_outside_our_threads_still_hits_the_hourly_cap(
        manager_of_eight: tuple[Runtime, dict[str, int]]) -> None:
    rt, _ids = manager_of_eight
    answered = [bool(process(rt, arrive(rt, fresh_thread("ann@acme.example", n),
                                        COMPANY_RELAY)).answers)
                for n in range(REPORTS)]
    assert answered == [True] * ANSWERS_PER_HOUR + [False] * (REPORTS - ANSWERS_PER_HOUR)

    # an hour later the sender is answered again
    rt.clock.now = REPLY_AT + timedelta(hours=1, minutes=1)  # type: ignore[attr-defined]
    assert process(rt, arrive(rt, fresh_thread("ann@acme.example", 99),
                              COMPANY_RELAY)).answers
