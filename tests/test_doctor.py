"""``drumbeat doctor`` against the real services: PostgreSQL, Redis, an SMTP relay, Dovecot."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from config.settings import Settings, get_settings
from drumbeat import cli_doctor
from drumbeat.cli_doctor import FAIL, OK, SKIP, WARN, Check, run_checks
from models.db import make_engine
from models.migrate import head_revision, upgrade
from tests.conftest import (
    REDIS_URL,
    empty_postgres_schema,
    postgres_url,
    service_missing,
)
from tests.dovecot import PASSWORD, USER, Dovecot
from tests.relay import Relay, free_port

SECRET = "a-long-random-secret-for-the-tests"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'drumbeat.sqlite'}", "redis_url": None,
        "mail_domain": "acme.example", "secret_key": SecretStr(SECRET),
        "maildir": tmp_path / "maildir", "smtp_host": None, "imap_host": None,
        "smtpd_host": "127.0.0.1", "smtpd_port": free_port(),
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


def check(settings: Settings, name: str) -> Check:
    [found] = [c for c in run_checks(settings) if c.name == name]
    return found


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'drumbeat.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


# --- database ------------------------------------------------------------------------------

def test_a_migrated_postgres_schema_passes(postgres_schema: tuple[str, Any],
                                           tmp_path: Path) -> None:
    schema, _engine = postgres_schema
    result = check(settings_for(tmp_path, database_url=postgres_url(schema)), "database")
    assert result.status == OK, result.line()
    assert f"newest revision ({head_revision()})" in result.detail
    assert "postgresql+psycopg://postgres@127.0.0.1" in result.detail


@pytest.fixture
def empty_schema() -> Iterator[str]:
    """A schema of its own in the test database, with no tables in it."""
    with empty_postgres_schema("drumbeat_doctor") as schema:
        yield schema


def test_an_empty_or_old_postgres_schema_says_to_upgrade(empty_schema: str,
                                                         tmp_path: Path) -> None:
    settings = settings_for(tmp_path, database_url=postgres_url(empty_schema))
    empty = check(settings, "database")
    assert empty.status == FAIL and empty.essential
    assert "no Drumbeat tables" in empty.detail
    assert "`drumbeat db upgrade`" in empty.fix

    engine = make_engine(postgres_url(empty_schema))
    upgrade(engine, "0002")
    engine.dispose()
    old = check(settings, "database")
    assert old.status == FAIL
    assert f"at revision 0002; this Drumbeat needs {head_revision()}" in old.detail
    assert "`drumbeat db upgrade`" in old.fix


def test_an_unreachable_database_and_a_missing_sqlite_file(tmp_path: Path) -> None:
    closed = f"postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/test"
    down = check(settings_for(tmp_path, database_url=closed), "database")
    assert down.status == FAIL and "cannot reach" in down.detail
    assert "pw" not in down.line()                                   # the password is hidden
    assert "start the database server" in down.fix

    missing = check(settings_for(tmp_path), "database")
    assert missing.status == FAIL and "does not exist yet" in missing.detail
    assert not (tmp_path / "drumbeat.sqlite").exists()           # the doctor created nothing

    migrated_sqlite(tmp_path)
    assert check(settings_for(tmp_path), "database").status == OK


# --- broker --------------------------------------------------------------------------------

def test_redis_up_and_a_closed_port(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing("Redis", exc)
    up = check(settings_for(tmp_path, redis_url=REDIS_URL), "broker")
    assert up.status == OK and "answers PING" in up.detail

    down = check(settings_for(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0"),
                 "broker")
    assert down.status == FAIL and down.essential
    assert "does not answer" in down.detail and "start Redis" in down.fix

    embedded = check(settings_for(tmp_path), "broker")
    assert embedded.status == OK and "`drumbeat serve`" in embedded.detail


# --- outgoing mail -------------------------------------------------------------------------

@pytest.fixture
def login_relay() -> Iterator[Relay]:
    relay = Relay(login=("drumbeat", "relay-pass"))
    # tests/relay.py's authenticator returns AuthResult(success=False) with aiosmtpd's
    # default handled=True, so a wrong password gets no answer at all (the client times
    # out); answer 535 as a real relay does.
    check_login = relay.controller.SMTP_kwargs["authenticator"]

    def answering(*args: Any) -> AuthResult:
        result = check_login(*args)
        return result if result.success else AuthResult(success=False, handled=False)

    relay.controller.SMTP_kwargs["authenticator"] = answering
    relay.start()
    yield relay
    relay.stop()


def relay_settings(tmp_path: Path, port: int, **overrides: Any) -> Settings:
    return settings_for(tmp_path, **{"smtp_host": "127.0.0.1", "smtp_port": port,
                                     "smtp_starttls": False, **overrides})


def test_a_relay_that_takes_our_login(login_relay: Relay, tmp_path: Path) -> None:
    good = check(relay_settings(tmp_path, login_relay.port, smtp_username="drumbeat",
                                smtp_password=SecretStr("relay-pass")), "outgoing mail")
    assert good.status == OK, good.line()
    assert "EHLO, AUTH PLAIN as drumbeat, QUIT" in good.detail
    assert login_relay.messages() == []                                  # nothing was sent

    bad = check(relay_settings(tmp_path, login_relay.port, smtp_username="drumbeat",
                               smtp_password=SecretStr("wrong")), "outgoing mail")
    assert bad.status == FAIL and "refused the login of drumbeat" in bad.detail
    assert "DRUMBEAT_SMTP_PASSWORD" in bad.fix

    anonymous = check(relay_settings(tmp_path, login_relay.port), "outgoing mail")
    assert anonymous.status == WARN and "offers AUTH" in anonymous.detail


def test_a_relay_without_starttls_and_a_closed_port(relay: Relay, tmp_path: Path) -> None:
    plain = check(relay_settings(tmp_path, relay.port), "outgoing mail")
    assert plain.status == OK and "(no mail sent)" in plain.detail
    no_tls = check(relay_settings(tmp_path, relay.port, smtp_starttls=True), "outgoing mail")
    assert no_tls.status == WARN and "no STARTTLS" in no_tls.detail

    closed = check(relay_settings(tmp_path, free_port()), "outgoing mail")
    assert closed.status == FAIL and closed.essential
    assert "cannot talk to relay 127.0.0.1" in closed.detail
    assert "DRUMBEAT_SMTP_HOST" in closed.fix
    assert relay.messages() == []


def test_the_maildir_when_there_is_no_relay(tmp_path: Path) -> None:
    fresh = check(settings_for(tmp_path), "outgoing mail")
    assert fresh.status == OK and "created at the first email" in fresh.detail
    assert not (tmp_path / "maildir").exists()

    (tmp_path / "a-file").write_text("not a folder")
    wrong = check(settings_for(tmp_path, maildir=tmp_path / "a-file"), "outgoing mail")
    assert wrong.status == FAIL and "not a folder" in wrong.detail


# --- IMAP ----------------------------------------------------------------------------------

def test_the_imap_account(dovecot: Dovecot, tmp_path: Path) -> None:
    def imap(**overrides: Any) -> Check:
        values = {"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_ssl": False,
                  "imap_username": USER, "imap_password": SecretStr(PASSWORD), **overrides}
        return check(settings_for(tmp_path, **values), "IMAP")

    good = imap()
    assert good.status == OK and "folder INBOX opened read-only" in good.detail
    wrong = imap(imap_password=SecretStr("nope"))
    assert wrong.status == FAIL and "refused the login" in wrong.detail
    nofolder = imap(imap_folder="Nowhere")
    assert nofolder.status == FAIL and "no folder 'Nowhere'" in nofolder.detail
    moving = imap(imap_after="move:Done")
    assert moving.status == FAIL and "no such folder" in moving.detail
    skipped = check(settings_for(tmp_path), "IMAP")
    assert skipped.status == SKIP and not skipped.essential


# --- domain, key, port ---------------------------------------------------------------------

def test_a_default_secret_key_fails_and_a_default_domain_warns_in_production(
        tmp_path: Path) -> None:
    key = check(settings_for(tmp_path, secret_key=SecretStr("change-me")), "secret key")
    assert key.status == FAIL and key.essential and "openssl rand -hex 32" in key.fix
    assert "old default 'change-me'" in key.detail
    missing = check(settings_for(tmp_path, secret_key=SecretStr("")), "secret key")
    assert missing.status == FAIL and "no secret key is set" in missing.detail
    assert "DRUMBEAT_SECRET_KEY_FILE" in missing.fix
    short = check(settings_for(tmp_path, secret_key=SecretStr("s3cret")), "secret key")
    assert short.status == FAIL and "only 6 characters" in short.detail
    assert check(settings_for(tmp_path), "secret key").status == OK

    local = check(settings_for(tmp_path, mail_domain="drumbeat.localhost"), "mail domain")
    assert local.status == OK and "before going live" in local.detail
    live = check(settings_for(tmp_path, mail_domain="drumbeat.localhost",
                              smtp_host="127.0.0.1", smtp_port=free_port()), "mail domain")
    assert live.status == WARN and not live.essential
    assert check(settings_for(tmp_path), "MX").status == SKIP               # acme.example


def test_the_intake_port_free_serving_or_taken(tmp_path: Path, relay: Relay,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert check(settings_for(tmp_path), "SMTP intake").status == OK

    ours = Controller(object(), hostname="127.0.0.1", port=free_port(),
                      server_hostname="acme.example")
    ours.start()
    try:
        serving = check(settings_for(tmp_path, smtpd_port=ours.port), "SMTP intake")
    finally:
        ours.stop()
    assert serving.status == OK and "already serving: 220 acme.example" in serving.detail

    other = check(settings_for(tmp_path, smtpd_port=relay.port), "SMTP intake")
    assert other.status == FAIL and "another SMTP server" in other.detail

    monkeypatch.setattr(cli_doctor, "TIMEOUT", 0.3)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mute = check(settings_for(tmp_path, smtpd_port=port), "SMTP intake")
    assert mute.status == FAIL and "does not answer SMTP" in mute.detail
    assert "DRUMBEAT_SMTPD_PORT" in mute.fix


def test_unreadable_settings_are_the_one_failing_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRUMBEAT_SMTP_PORT", "smtp")
    get_settings.cache_clear()
    try:
        [only] = run_checks()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert only.name == "settings" and only.status == FAIL
    assert "DRUMBEAT_SMTP_PORT" in only.detail


# --- sender policy -------------------------------------------------------------------------

def test_the_sender_policy_in_force_and_a_warning_when_only_tokens_vouch(
        tmp_path: Path) -> None:
    no_nameserver, resolver = tmp_path / "empty.conf", tmp_path / "resolv.conf"
    no_nameserver.write_text("search acme.example\n")
    resolver.write_text("nameserver 192.0.2.53\n")
    bare = cli_doctor.check_sender_policy(settings_for(tmp_path), resolv_conf=no_nameserver)
    assert bare.status == WARN and not bare.failed
    assert "only replies to an agenda's own address" in bare.detail
    assert "trusted MTA: not set" in bare.detail and "trusted relays: none" in bare.detail
    assert "DRUMBEAT_TRUSTED_RELAYS" in bare.fix

    with_dns = cli_doctor.check_sender_policy(settings_for(tmp_path, dkim_timeout_seconds=2),
                                              resolv_conf=resolver)
    assert with_dns.status == OK, with_dns.line()
    assert "DKIM signatures of the From domain" in with_dns.detail
    assert "within 2 s" in with_dns.detail

    relays = settings_for(tmp_path, trusted_relays="10.1.0.0/16, 2001:db8::/32",
                          trusted_authserv_id="mx.acme.example")
    listed = cli_doctor.check_sender_policy(relays, resolv_conf=no_nameserver)
    assert listed.status == OK, listed.line()
    assert "trusted relays: 10.1.0.0/16, 2001:db8::/32" in listed.detail
    assert "Authentication-Results by mx.acme.example" in listed.detail
    assert "DKIM signatures: cannot be checked, no DNS resolver" in listed.detail


# --- the command ---------------------------------------------------------------------------

def doctor(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("drumbeat")), "doctor", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")}
    return subprocess.run(command, env={**clean, **env}, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_command_exit_status_and_json(tmp_path: Path) -> None:
    env = {"DRUMBEAT_DATABASE_URL": migrated_sqlite(tmp_path),
           "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"), "DRUMBEAT_SECRET_KEY": SECRET,
           "DRUMBEAT_SMTPD_PORT": str(free_port()), "DRUMBEAT_MAIL_DOMAIN": "acme.example"}
    healthy = doctor(env, tmp_path)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = healthy.stdout.splitlines()
    assert lines[0].startswith("✓ settings") and lines[-1] == "All essential checks pass."
    assert any(line.startswith("✓ database:") for line in lines)
    [policy] = [line for line in lines if "sender policy:" in line]
    assert "reply tokens:" in policy and "trusted relays: none" in policy

    bad_key = doctor({**env, "DRUMBEAT_SECRET_KEY": "change-me"}, tmp_path, "--json")
    assert bad_key.returncode == 1
    report = json.loads(bad_key.stdout)
    assert report["ok"] is False
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["secret key"]["status"] == "fail"
    assert by_name["database"]["status"] == "ok"
    assert {"name", "status", "detail", "fix", "essential"} <= set(by_name["broker"])

    text_run = doctor({**env, "DRUMBEAT_SECRET_KEY": "change-me"}, tmp_path)
    assert "✗ secret key: DRUMBEAT_SECRET_KEY is the old default 'change-me'" in text_run.stdout
    assert "Fix: set DRUMBEAT_SECRET_KEY" in text_run.stdout
    assert text_run.stdout.splitlines()[-1] == "1 essential check(s) failed."
