"""The SMTP door on a real aiosmtpd server: 250 only after the bytes are in the database."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mail.smtpd import IntakeHandler
from models import InboundMessage
from models.db import make_engine, session_factory
from tests.conftest import Database
from tests.relay import free_port
from workers.intake import store_raw

DOMAIN = "acme.example"
LIMIT = 200_000


def storer(db_url: str):  # type: ignore[no-untyped-def]
    sessions = session_factory(make_engine(db_url))

    def store(raw: bytes, mail_from: str | None, rcpt: Sequence[str]) -> int:
        with sessions() as session, session.begin():
            row_id, _new = store_raw(session, raw, via="smtp", envelope_from=mail_from,
                                     envelope_to=rcpt)
            return row_id
    return store


def serve(db_url: str) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(IntakeHandler(DOMAIN, storer(db_url)), hostname="127.0.0.1",
                            port=port, data_size_limit=LIMIT, decode_data=False)
    controller.start()
    return controller, port


@pytest.fixture
def intake(db: Database) -> Iterator[int]:
    controller, port = serve(db.url)
    yield port
    controller.stop()


def reply(message_id: str | None = "<r1@mail.example>", body: str = "T-12 60%") -> bytes:
    message = EmailMessage()
    message["From"] = "Ann <ann@acme.example>"
    message["To"] = "checkin+abc@acme.example"
    message["Subject"] = "Re: 1:1 with Mika"
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes(policy=SMTP)   # CRLF line ends, as on the wire


def send(port: int, data: bytes, to: str = "checkin+abc@acme.example") -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("ann@acme.example")
        code, answer = client.rcpt(to)
        if code != 250:
            return code, answer
        return client.data(data)


def stored(db: Database) -> list[InboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_a_reply_is_stored_byte_for_byte_before_250(db: Database, intake: int) -> None:
    data = reply()
    code, answer = send(intake, data)
    assert code == 250 and b"queued as" in answer
    [row] = stored(db)
    assert row.raw == data
    assert (row.message_id, row.sender, row.via, row.status) == (
        "<r1@mail.example>", "ann@acme.example", "smtp", "received")
    assert row.envelope_to == ["checkin+abc@acme.example"]


def test_the_same_message_twice_is_stored_once(db: Database, intake: int) -> None:
    assert send(intake, reply())[0] == 250
    assert send(intake, reply())[0] == 250
    assert send(intake, reply(message_id=None))[0] == 250
    assert send(intake, reply(message_id=None))[0] == 250
    rows = stored(db)
    assert len(rows) == 2
    assert rows[1].message_id.startswith("<sha256-")


def test_mail_for_other_domains_is_refused_no_open_relay(db: Database, intake: int) -> None:
    code, answer = send(intake, reply(), to="victim@elsewhere.example")
    assert code == 550 and b"only accept mail for @acme.example" in answer
    assert stored(db) == []


def test_a_message_over_the_size_limit_is_refused_with_552(db: Database, intake: int) -> None:
    code, _ = send(intake, reply(body=("x" * 70 + "\n") * (LIMIT // 70 + 10)))
    assert code == 552
    assert stored(db) == []


def test_a_database_outage_answers_451_so_the_sender_retries() -> None:
    controller, port = serve(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    try:
        code, answer = send(port, reply())
    finally:
        controller.stop()
    assert code == 451 and b"try again later" in answer
