"""The SMTP door on a real aiosmtpd server: 250 only after the bytes are in the database."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mail.smtpd import IntakeHandler
from models import InboundMessage
from models.db import make_engine
from tests.conftest import Database
from tests.relay import free_port
from workers.intake import RawStore

DOMAIN = "acme.example"
LIMIT = 200_000


def serve(db_url: str) -> tuple[Controller, int]:
    """The handler with the store ``drumbeat smtpd`` uses."""
    port = free_port()
    store = RawStore(make_engine(db_url, pre_ping=False))
    controller = Controller(IntakeHandler(DOMAIN, store), hostname="127.0.0.1",
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


def test_a_database_restart_between_messages_costs_no_451(db: Database, intake: int) -> None:
    """The store keeps its connections open; when the server drops them it reconnects."""
    assert send(intake, reply("<before@mail.example>"))[0] == 250
    if db.kind == "postgresql":
        with db.engine.begin() as connection:  # what a restart does to open connections
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                "AND state = 'idle' AND query = 'COMMIT'").scalar()
        assert killed and killed >= 1
    code, _ = send(intake, reply("<after@mail.example>"))
    assert code == 250
    assert [row.message_id for row in stored(db)] == ["<before@mail.example>",
                                                      "<after@mail.example>"]
