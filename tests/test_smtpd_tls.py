"""STARTTLS at the door, on a real aiosmtpd server and through the commands.

Certificates are made in the test (self-signed); the client is smtplib, which does not
check them, as MTAs relaying to a private intake usually do not.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from ipaddress import ip_network
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from config.settings import Settings
from drumbeat.cli_doctor import FAIL, OK, SKIP, WARN, Check, check_intake_tls
from mail.doors.smtpd import IntakeController, IntakeHandler
from mail.doors.tls import DoorTls, TlsSetupError, door_tls
from models import InboundMessage
from models.db import make_engine
from tests.certificates import CertificateFiles, other_key, self_signed, with_passphrase
from tests.conftest import Database
from tests.relay import free_port
from workers.intake import RawStore

DOMAIN = "acme.example"
SENDER = "ann@acme.example"
TO = "checkin+abc@acme.example"


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'drumbeat.sqlite'}", "redis_url": None,
        "mail_domain": DOMAIN, "secret_key": SecretStr("a-long-random-secret-for-the-tests"),
        "maildir": tmp_path / "maildir", "smtpd_host": "127.0.0.1",
        "smtpd_port": free_port(),
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[arg-type]


def message(number: int = 1) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Ann <{SENDER}>"
    mail["To"] = TO
    mail["Subject"] = "Re: 1:1 with Mika"
    mail["Message-ID"] = f"<tls-{number}@mail.example>"
    mail.set_content("T-12 60%")
    return mail.as_bytes(policy=SMTP)


def unchecked() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def stored(db: Database) -> list[str | None]:
    with db.session() as session:
        return list(session.scalars(select(InboundMessage.message_id)
                                    .order_by(InboundMessage.id)))


@pytest.fixture
def certificate(tmp_path: Path) -> CertificateFiles:
    return self_signed(tmp_path, ("mx.acme.example", DOMAIN))


def door(db: Database, tls: DoorTls | None) -> Iterator[int]:
    port = free_port()
    controller = IntakeController(
        IntakeHandler(DOMAIN, RawStore(make_engine(db.url, pre_ping=False))),
        hostname="127.0.0.1", port=port, decode_data=False, server_hostname=DOMAIN, tls=tls)
    controller.start()
    yield port
    controller.stop()


def tls_for(tmp_path: Path, certificate: CertificateFiles, required: bool,
            relays: str = "") -> DoorTls:
    tls = door_tls(settings_for(tmp_path, smtpd_tls_cert=certificate.cert,
                                smtpd_tls_key=certificate.key, smtpd_require_tls=required,
                                trusted_relays=relays))
    assert tls is not None
    return tls


# --- the door ------------------------------------------------------------------------------

def test_a_client_that_starts_tls_has_its_message_stored(
        db: Database, tmp_path: Path, certificate: CertificateFiles) -> None:
    for port in door(db, tls_for(tmp_path, certificate, required=False)):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            assert client.starttls(context=unchecked())[0] == 220
            assert client.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
            client.ehlo()
            assert not client.has_extn("starttls")  # offered once, before the handshake
            client.sendmail(SENDER, [TO], message(1))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as plain:  # not required: optional
            plain.sendmail(SENDER, [TO], message(2))
    assert stored(db) == ["<tls-1@mail.example>", "<tls-2@mail.example>"]


def test_without_a_certificate_no_starttls_is_offered(db: Database) -> None:
    for port in door(db, None):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert not client.has_extn("starttls")


def test_required_tls_answers_530_to_a_plain_client_and_takes_it_after_starttls(
        db: Database, tmp_path: Path, certificate: CertificateFiles) -> None:
    # Loopback is not a trusted relay here, so the test client is "outside".
    for port in door(db, tls_for(tmp_path, certificate, required=True, relays="10.0.0.0/8")):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            code, answer = client.mail(SENDER)
            assert code == 530 and b"STARTTLS" in answer
            client.starttls(context=unchecked())
            client.ehlo()
            client.sendmail(SENDER, [TO], message(3))
    assert stored(db) == ["<tls-3@mail.example>"]


def test_a_trusted_relay_may_still_send_in_the_clear(
        db: Database, tmp_path: Path, certificate: CertificateFiles) -> None:
    tls = tls_for(tmp_path, certificate, required=True, relays="127.0.0.0/8")
    assert tls.exempt_networks == (ip_network("127.0.0.0/8"),)
    for port in door(db, tls):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")  # offered, not required
            client.sendmail(SENDER, [TO], message(4))
    assert stored(db) == ["<tls-4@mail.example>"]


# --- settings that cannot be used ------------------------------------------------------------

def test_unusable_tls_settings_are_one_sentence_each(tmp_path: Path,
                                                     certificate: CertificateFiles) -> None:
    cases = {
        "no such file": {"smtpd_tls_cert": tmp_path / "missing.crt",
                         "smtpd_tls_key": certificate.key},
        "is not the key of": {"smtpd_tls_cert": certificate.cert,
                              "smtpd_tls_key": other_key(tmp_path)},
        "is set but DRUMBEAT_SMTPD_TLS_KEY is not": {"smtpd_tls_cert": certificate.cert},
        "needs DRUMBEAT_SMTPD_TLS_CERT": {"smtpd_require_tls": True},
        "are not a PEM certificate": {"smtpd_tls_cert": certificate.key,
                                      "smtpd_tls_key": certificate.key},
        "protected by a passphrase": {"smtpd_tls_cert": certificate.cert,
                                      "smtpd_tls_key": with_passphrase(certificate)},
    }
    for words, overrides in cases.items():
        with pytest.raises(TlsSetupError, match=words):
            door_tls(settings_for(tmp_path, **overrides))
    assert door_tls(settings_for(tmp_path)) is None
    assert door_tls(settings_for(tmp_path, smtpd_tls_cert=" ", smtpd_tls_key="")) is None


def drumbeat_path() -> str:
    return str(Path(sys.executable).with_name("drumbeat"))


def command_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DRUMBEAT_")}
    return {**env, "DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'drumbeat.sqlite'}",
            "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"), "DRUMBEAT_MAIL_DOMAIN": DOMAIN,
            "DRUMBEAT_SECRET_KEY": "a-long-random-secret-for-the-tests",
            "DRUMBEAT_SMTPD_PORT": str(free_port()), **settings}


@pytest.mark.parametrize("command", ["smtpd", "serve"])
def test_the_commands_stop_at_start_on_a_bad_certificate_path(
        command: str, tmp_path: Path, certificate: CertificateFiles) -> None:
    env = command_env(tmp_path, DRUMBEAT_SMTPD_TLS_CERT=str(tmp_path / "nope.crt"),
                      DRUMBEAT_SMTPD_TLS_KEY=str(certificate.key))
    done = subprocess.run([drumbeat_path(), command], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert f"DRUMBEAT_SMTPD_TLS_CERT={tmp_path / 'nope.crt'}: no such file" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_serve_offers_starttls_and_requires_it_outside_the_relays(
        tmp_path: Path, certificate: CertificateFiles) -> None:
    env = command_env(tmp_path, DRUMBEAT_SMTPD_TLS_CERT=str(certificate.cert),
                      DRUMBEAT_SMTPD_TLS_KEY=str(certificate.key),
                      DRUMBEAT_SMTPD_REQUIRE_TLS="true", DRUMBEAT_TRUSTED_RELAYS="10.0.0.0/8")
    port = int(env["DRUMBEAT_SMTPD_PORT"])
    server = subprocess.Popen([drumbeat_path(), "serve", "--drain", "1"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    assert server.stdout is not None
    try:
        started = next((line for line in server.stdout if "drumbeat serving" in line), "")
        assert "with STARTTLS (required outside DRUMBEAT_TRUSTED_RELAYS)" in started
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.mail(SENDER)[0] == 530
            client.starttls(context=unchecked())
            client.ehlo()
            client.sendmail(SENDER, [TO], message(5))
    finally:
        server.terminate()
        server.wait(timeout=60)
    engine = make_engine(env["DRUMBEAT_DATABASE_URL"])
    with engine.connect() as conn:
        assert list(conn.scalars(select(InboundMessage.message_id))) == [
            "<tls-5@mail.example>"]
    engine.dispose()


# --- doctor ------------------------------------------------------------------------------------

def doctor(tmp_path: Path, files: CertificateFiles | None, key: Path | None = None,
           **overrides: object) -> Check:
    if files is not None:
        overrides = {"smtpd_tls_cert": files.cert, "smtpd_tls_key": key or files.key,
                     **overrides}
    return check_intake_tls(settings_for(tmp_path, **overrides))


def test_doctor_on_the_certificate(tmp_path: Path) -> None:
    good = doctor(tmp_path, self_signed(tmp_path, ("mx.acme.example", DOMAIN), 90, stem="g"))
    assert good.status == OK and "mx.acme.example, acme.example" in good.detail
    assert "key matches" in good.detail

    wildcard = doctor(tmp_path, self_signed(tmp_path, ("*.example",), 90, stem="w"))
    assert wildcard.status == OK  # *.example covers acme.example (one label)

    expired = doctor(tmp_path, self_signed(tmp_path, (DOMAIN,), expired_days_ago=3, stem="e"))
    assert expired.status == FAIL and expired.failed and "expired on" in expired.detail

    soon = doctor(tmp_path, self_signed(tmp_path, (DOMAIN,), valid_days=5.2, stem="s"))
    assert soon.status == WARN and not soon.failed and "expires in 5 day(s)" in soon.detail

    elsewhere = doctor(tmp_path, self_signed(tmp_path, ("mx.other.example",), 90, stem="o"))
    assert elsewhere.status == WARN and not elsewhere.failed
    assert "covers mx.other.example, not acme.example" in elsewhere.detail

    mismatched = doctor(tmp_path, self_signed(tmp_path, (DOMAIN,), 90, stem="m"),
                        key=other_key(tmp_path))
    assert mismatched.status == FAIL and "is not the key of" in mismatched.detail

    required = doctor(tmp_path, self_signed(tmp_path, (DOMAIN,), 90, stem="r"),
                      smtpd_require_tls=True)
    assert required.status == OK and "required outside DRUMBEAT_TRUSTED_RELAYS" in required.detail

    unset = doctor(tmp_path, None)
    assert unset.status == SKIP and not unset.failed
