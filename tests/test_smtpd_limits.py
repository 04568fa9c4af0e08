"""What one client may take of the SMTP door, on a real aiosmtpd server on loopback: a cap
on open sessions, on recipients per message, and an absolute deadline per session. The
client's address is stored with each message (DRUMBEAT_TRUSTED_RELAYS checks it)."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from config.settings import Settings
from mail.doors.smtpd import IntakeController, IntakeHandler, SessionLimits
from models import InboundMessage
from models.db import make_engine
from tests.conftest import Database
from tests.relay import free_port
from tests.test_smtpd import DOMAIN, reply
from workers.intake import RawStore


def serve(db: Database, limits: SessionLimits) -> Iterator[int]:
    port = free_port()
    handler = IntakeHandler(DOMAIN, RawStore(make_engine(db.url, pre_ping=False)),
                            limits=limits)
    controller = IntakeController(handler, hostname="127.0.0.1", port=port,
                                  decode_data=False)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def greeting(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        while sock.recv(1024):
            pass
    except ConnectionResetError:
        pass
    return True


@pytest.fixture
def two_sessions(db: Database) -> Iterator[int]:
    yield from serve(db, SessionLimits(max_sessions=2, max_recipients=50, session_seconds=60))


@pytest.fixture
def three_recipients(db: Database) -> Iterator[int]:
    yield from serve(db, SessionLimits(max_sessions=10, max_recipients=3, session_seconds=60))


@pytest.fixture
def two_seconds(db: Database) -> Iterator[int]:
    yield from serve(db, SessionLimits(max_sessions=10, max_recipients=50, session_seconds=2))


def test_a_session_over_the_cap_is_answered_421_and_closed_and_a_freed_place_is_given_again(
        two_sessions: int) -> None:
    held = [socket.create_connection(("127.0.0.1", two_sessions)) for _ in range(2)]
    try:
        assert all(greeting(sock).startswith(b"220 ") for sock in held)
        with socket.create_connection(("127.0.0.1", two_sessions)) as third:
            assert greeting(third).startswith(b"421 ")
            assert closed_by_server(third)
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)  # the server notices the closed sessions
    with smtplib.SMTP("127.0.0.1", two_sessions, timeout=10) as client:
        assert client.noop()[0] == 250


def test_recipients_beyond_the_cap_get_452_and_the_message_goes_to_the_first_ones(
        three_recipients: int, db: Database) -> None:
    with smtplib.SMTP("127.0.0.1", three_recipients, timeout=10) as client:
        client.ehlo()
        client.mail("ann@acme.example")
        codes = [client.rcpt(f"user{n}@{DOMAIN}") for n in range(5)]
        assert [code for code, _ in codes] == [250, 250, 250, 452, 452]
        assert b"too many recipients" in codes[3][1].lower()
        assert client.data(reply())[0] == 250
    with db.sessions() as session:
        [row] = session.scalars(select(InboundMessage)).all()
    assert row.envelope_to == [f"user{n}@{DOMAIN}" for n in range(3)]


def test_the_message_is_stored_with_the_clients_address(
        three_recipients: int, db: Database) -> None:
    with smtplib.SMTP("127.0.0.1", three_recipients, timeout=10) as client:
        client.sendmail("ann@acme.example", [f"updates@{DOMAIN}"], reply())
    with db.sessions() as session:
        assert session.scalar(select(InboundMessage.peer_address)) == "127.0.0.1"


def test_a_client_that_keeps_trickling_bytes_is_closed_at_the_deadline(
        two_seconds: int, db: Database) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", two_seconds)) as sock:
        assert greeting(sock).startswith(b"220 ")
        sock.sendall(b"HELO slow.example\r\nMAIL FROM:<ann@acme.example>\r\n"
                     b"RCPT TO:<updates@acme.example>\r\nDATA\r\n")
        answers = b""
        try:
            for _ in range(100):  # a byte every 0.1 s: never idle, never done
                sock.sendall(b"x")
                time.sleep(0.1)
                sock.setblocking(False)
                try:
                    answers += sock.recv(4096)
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
                if b"421 " in answers:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert b"421 " in answers
    assert time.monotonic() - started < 5
    with db.sessions() as session:
        assert session.scalar(select(InboundMessage)) is None


def test_the_limits_come_from_the_settings() -> None:
    settings = Settings(smtpd_max_sessions=7, smtpd_max_recipients=3,
                        smtpd_session_seconds=90)
    assert SessionLimits.from_settings(settings) == SessionLimits(7, 3, 90)
