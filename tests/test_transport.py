"""The relay transport against a real SMTP server: login, refusals, reused connections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mail.doors.transport import PermanentFailure, RelayConfig, SmtpTransport, TemporaryFailure
from mail.write.compose import build_message, make_message_id
from mail.write.render import RenderedEmail
from tests.relay import Relay, free_port


def message(n: int = 1):  # type: ignore[no-untyped-def]
    return build_message(
        rendered=RenderedEmail(f"Agenda {n}", "text", "<p>html</p>"),
        from_addr="drumbeat@acme.example", to_addr="ann@acme.example", reply_to=None,
        message_id=make_message_id("acme.example", "test"), in_reply_to=None, references=[],
        date=datetime(2026, 11, 30, tzinfo=UTC))


def test_login_is_used_when_configured_and_required_by_the_relay() -> None:
    relay = Relay(login=("drumbeat", "s3cret")).start()
    try:
        good = SmtpTransport(RelayConfig("127.0.0.1", relay.port, "drumbeat", "s3cret",
                                         starttls=False))
        good.send(message(), "drumbeat@acme.example", ["ann@acme.example"])
        assert len(relay.messages()) == 1
        # (smtplib falls back from AUTH PLAIN to AUTH LOGIN, which aiosmtpd leaves
        # hanging: a short timeout keeps the test fast; the outcome is the same.)
        wrong = SmtpTransport(RelayConfig("127.0.0.1", relay.port, "drumbeat", "nope",
                                          starttls=False, timeout=1))
        with pytest.raises(TemporaryFailure):   # the operator must fix it; do not drop mail
            wrong.send(message(), "drumbeat@acme.example", ["ann@acme.example"])
        anonymous = SmtpTransport(RelayConfig("127.0.0.1", relay.port, starttls=False))
        with pytest.raises(PermanentFailure, match="530"):
            anonymous.send(message(), "drumbeat@acme.example", ["ann@acme.example"])
        for transport in (good, wrong, anonymous):
            transport.close()
    finally:
        relay.stop()


def test_a_password_is_never_sent_to_a_relay_without_starttls() -> None:
    relay = Relay(login=("drumbeat", "s3cret")).start()  # offers AUTH, not STARTTLS
    try:
        transport = SmtpTransport(RelayConfig("127.0.0.1", relay.port, "drumbeat", "s3cret",
                                              starttls=True))
        with pytest.raises(TemporaryFailure, match="no STARTTLS, so the password was not"):
            transport.send(message(), "drumbeat@acme.example", ["ann@acme.example"])
        assert relay.messages() == []
        transport.close()
    finally:
        relay.stop()


def test_one_connection_carries_many_messages_and_survives_a_refusal() -> None:
    relay = Relay().start()
    try:
        transport = SmtpTransport(RelayConfig("127.0.0.1", relay.port, starttls=False))
        transport.send(message(1), "drumbeat@acme.example", ["ann@acme.example"])
        first = transport._local.connection
        relay.fail_next("452 4.2.2 mailbox full")
        with pytest.raises(TemporaryFailure, match="452"):
            transport.send(message(2), "drumbeat@acme.example", ["ann@acme.example"])
        transport.send(message(3), "drumbeat@acme.example", ["ann@acme.example"])
        assert transport._local.connection is first
        assert [m["Subject"] for m in relay.messages()] == ["Agenda 1", "Agenda 3"]
    finally:
        relay.stop()


def test_a_relay_that_restarted_is_reconnected_transparently() -> None:
    relay = Relay().start()
    transport = SmtpTransport(RelayConfig("127.0.0.1", relay.port, starttls=False))
    transport.send(message(1), "drumbeat@acme.example", ["ann@acme.example"])
    relay.stop()
    again = Relay()
    again.port = relay.port
    from aiosmtpd.controller import Controller

    again.controller = Controller(again.handler, hostname="127.0.0.1", port=relay.port)
    again.start()
    try:
        transport.send(message(2), "drumbeat@acme.example", ["ann@acme.example"])
        assert [m["Subject"] for m in again.messages()] == ["Agenda 2"]
    finally:
        again.stop()


def test_nobody_listening_is_a_temporary_failure() -> None:
    transport = SmtpTransport(RelayConfig("127.0.0.1", free_port(), starttls=False, timeout=2))
    with pytest.raises(TemporaryFailure, match="cannot reach"):
        transport.send(message(), "drumbeat@acme.example", ["ann@acme.example"])
