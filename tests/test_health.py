"""/healthz and /metrics served in-process, the counters moving with real mail, JSON logs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy import select

from config.settings import Settings
from drumbeat.health import HealthServer, start_health_server
from drumbeat.logs import TEXT_FORMAT, JsonFormatter, formatter_for
from models import InboundMessage, OutboundMessage
from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, Database, service_missing
from tests.relay import free_port
from tests.test_agendas_pipeline import TOKYO_ONLY, Clock, make_settings, seed
from tests.test_inbound import receive, reply_to, send_agendas, task_titled
from workers.inbound import process
from workers.runtime import Runtime, configure, transport_for
from workers.sending import deliver


def health_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": database_url, "redis_url": None,
                              "metrics_port": 0, "metrics_host": "127.0.0.1", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def serving() -> Iterator[list[HealthServer]]:
    """Servers started by a test, stopped after it (the port and the gauges freed)."""
    started: list[HealthServer] = []
    yield started
    for server in started:
        server.stop()


def start(started: list[HealthServer], settings: Settings) -> str:
    server = start_health_server(settings)
    assert server is not None
    started.append(server)
    host, port = server.address
    return f"http://{host}:{port}"


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, content_type, body = get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


# --- /healthz ------------------------------------------------------------------------------

def test_off_unless_a_port_is_set(db: Database) -> None:
    assert start_health_server(health_settings(db.url, metrics_port=None)) is None


def test_healthz_is_ok_when_the_database_and_the_broker_answer(
        db: Database, serving: list[HealthServer]) -> None:
    base = start(serving, health_settings(db.url))
    status, content_type, body = get(f"{base}/healthz")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"database": "ok", "broker": "ok"}
    assert get(f"{base}/nothing")[0] == 404


def test_healthz_with_redis(db: Database, serving: list[HealthServer]) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing("Redis", exc)
    base = start(serving, health_settings(db.url, redis_url=REDIS_URL))
    assert json.loads(get(f"{base}/healthz")[2]) == {"database": "ok", "broker": "ok"}


def test_healthz_says_503_and_which_part_fails(tmp_path: Path,
                                               serving: list[HealthServer]) -> None:
    bad_database = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    base = start(serving, health_settings(bad_database))
    status, _type, body = get(f"{base}/healthz")
    parts = json.loads(body)
    assert status == 503
    assert parts["broker"] == "ok"
    assert parts["database"].startswith("error:") and "connect" in parts["database"].lower()
    # /metrics still answers: the gauges are left out, the counters are there.
    scrape = samples(base)
    assert ("drumbeat_outbox_waiting", ()) not in scrape
    assert any(name == "drumbeat_reply_lines_total" for name, _ in scrape)
    serving.pop().stop()

    database = f"sqlite:///{tmp_path / 'ok.sqlite'}"
    base = start(serving, health_settings(
        database, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    status, _type, body = get(f"{base}/healthz")
    assert status == 503
    parts = json.loads(body)
    assert parts["database"] == "ok" and parts["broker"].startswith("error:")


# --- /metrics ------------------------------------------------------------------------------

@pytest.fixture
def agenda_sent(db: Database, tmp_path: Path) -> tuple[Runtime, OutboundMessage]:
    """As tests/test_inbound.py's ``sent_agenda``: Ann's agenda sent into the Maildir."""
    ids = seed(db)
    settings = make_settings(None, tmp_path)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(TOKYO_ONLY + timedelta(hours=2)))
    return rt, send_agendas(rt, ids["ann"])


def test_a_processed_reply_moves_the_counters_and_gauges(
        db: Database, agenda_sent: tuple[Runtime, OutboundMessage],
        serving: list[HealthServer]) -> None:
    rt, agenda = agenda_sent
    base = start(serving, health_settings(db.url))
    before = samples(base)
    assert value(before, "drumbeat_outbox_waiting") == 0        # the agendas went out
    assert value(before, "drumbeat_inbound_waiting") == 0

    memo = task_titled(rt, "Draft the")
    body = f"T-{memo.id} 60% intro drafted\nmet: yes 30min\nT-999999 done\nplease call me\n"
    inbound_id = receive(rt, reply_to(agenda, body))
    stored = samples(base)
    assert (value(stored, "drumbeat_inbound_stored_total", via="smtp")
            == value(before, "drumbeat_inbound_stored_total", via="smtp") + 1)
    assert value(stored, "drumbeat_inbound_waiting") == 1

    processed = process(rt, inbound_id)
    status, [answer_id] = processed.status, processed.answer_ids
    assert status == "applied"
    with rt.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None and row.outcome is not None
        outcome = row.outcome
    after = samples(base)
    assert (value(after, "drumbeat_inbound_processed_total", status="applied")
            == value(before, "drumbeat_inbound_processed_total", status="applied") + 1)
    for result, key in (("applied", "done"), ("refused", "refused"),
                        ("not_understood", "not_understood")):
        moved = (value(after, "drumbeat_reply_lines_total", result=result)
                 - value(before, "drumbeat_reply_lines_total", result=result))
        assert moved == len(outcome[key]), result
    assert len(outcome["done"]) == 2 and outcome["refused"] + outcome["not_understood"]
    assert value(after, "drumbeat_inbound_waiting") == 0
    assert value(after, "drumbeat_outbox_waiting") == 1          # the answer, pending

    sent_before = value(after, "drumbeat_outbox_sent_total", kind="answer", status="sent")
    assert deliver(rt, answer_id) == "sent"
    final = samples(base)
    assert value(final, "drumbeat_outbox_sent_total", kind="answer", status="sent") == (
        sent_before + 1)
    assert value(final, "drumbeat_outbox_sent_total", kind="agenda", status="sent") >= 2
    assert value(final, "drumbeat_outbox_waiting") == 0
    with rt.sessions() as session:
        assert session.scalar(select(OutboundMessage.status).where(
            OutboundMessage.id == answer_id)) == "sent"


# --- the long-running commands serve it ----------------------------------------------------

def test_smtpd_serves_health_and_metrics_and_logs_json(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'drumbeat.sqlite'}"
    engine = make_engine(database)
    upgrade(engine)
    engine.dispose()
    smtp_port, metrics_port = free_port(), free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")},
           "DRUMBEAT_DATABASE_URL": database, "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_MAIL_DOMAIN": "acme.example", "DRUMBEAT_SMTPD_PORT": str(smtp_port),
           "DRUMBEAT_METRICS_PORT": str(metrics_port), "DRUMBEAT_LOG_FORMAT": "json",
           "DRUMBEAT_SECRET_KEY": TEST_SECRET_KEY}
    command = [str(Path(sys.executable).with_name("drumbeat")), "smtpd"]
    process_ = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{metrics_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _type, body = get(f"{base}/healthz")
                break
            except OSError:
                assert process_.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert status == 200 and json.loads(body) == {"database": "ok", "broker": "ok"}
        while True:  # the SMTP door opens right after the health server
            try:
                client = smtplib.SMTP("127.0.0.1", smtp_port, timeout=10)
                break
            except OSError:
                assert process_.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"] = "stranger@elsewhere.example", "checkin@acme.example"
        message["Subject"], message["Message-ID"] = "hello", "<health-1@elsewhere.example>"
        message.set_content("T-1 done")
        with client:
            client.send_message(message)
        scrape = samples(base)
        assert value(scrape, "drumbeat_inbound_stored_total", via="smtp") == 1
    finally:
        process_.send_signal(signal.SIGTERM)
        _out, errors = process_.communicate(timeout=30)
    records = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    stored = [r for r in records if r["message"].startswith("stored message")]
    assert stored and stored[0]["inbound_id"] == 1 and stored[0]["logger"] == "drumbeat.smtpd"
    assert {"time", "level", "logger", "message"} <= set(stored[0])


# --- JSON logs -----------------------------------------------------------------------------

def formatted(formatter: logging.Formatter, emit: Any) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("drumbeat.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_json_formatter_writes_one_object_per_line() -> None:
    def emit(log: logging.Logger) -> None:
        log.info("inbound message %s: %s", 42, "applied", extra={"inbound_id": 42})
        log.warning("outbox %s refused:\n%s", 7, "550 no such user",
                    extra={"outbox_id": 7, "message_id": "<a@b>", "other": "left out"})
        try:
            raise ValueError("bad bytes")
        except ValueError:
            log.exception("processing failed", extra={"inbound_id": object()})

    lines = formatted(JsonFormatter(), emit).splitlines()
    assert len(lines) == 3
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "inbound message 42: applied"
    assert (first["level"], first["logger"], first["inbound_id"]) == (
        "INFO", "drumbeat.test-logs", 42)
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "outbox_id" not in first and "exception" not in first
    assert second["message"] == "outbox 7 refused:\n550 no such user"
    assert (second["outbox_id"], second["message_id"]) == (7, "<a@b>")
    assert "other" not in second
    assert third["level"] == "ERROR" and "ValueError: bad bytes" in third["exception"]
    assert third["inbound_id"].startswith("<object")             # not JSON: written as text


def test_text_stays_the_default_and_the_setting_is_checked() -> None:
    assert isinstance(formatter_for("json"), JsonFormatter)
    text = formatter_for("text")
    assert not isinstance(text, JsonFormatter) and text._fmt == TEXT_FORMAT
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
