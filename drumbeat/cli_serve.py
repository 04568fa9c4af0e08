"""``drumbeat serve``: the whole service in one process, for one laptop or a small team.

    migrate → pick up what the last run left → workers (in-process broker, or Redis)
    → SMTP intake → scheduler tick … SIGINT/SIGTERM → stop in the reverse order

Stopping is safe at any moment because the database is the ledger: the intake
stops accepting first (a message is stored before its 250, so a sender whose
message was cut off mid-way simply sends it again), the nudges are flushed, the
workers get ``--drain`` seconds to finish what is queued, and whatever is left
stays in the database as ``received`` mail or waiting outbox rows, which the next
start queues again before it accepts anything new.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import typer

from config.settings import Settings, get_settings

log = logging.getLogger("drumbeat.serve")


def serve(
    port: Annotated[int | None, typer.Option(
        help="SMTP intake port (default DRUMBEAT_SMTPD_PORT).")] = None,
    threads: Annotated[int, typer.Option(help="Worker threads in this process.")] = 2,
    drain: Annotated[float, typer.Option(
        help="On Ctrl-C, seconds to let queued work finish before stopping; the rest "
        "waits in the database for the next start.")] = 10.0,
) -> None:
    """Run everything in one process: SMTP intake, workers and the scheduler.

    On the embedded default (SQLite, in-process broker, outgoing mail to the local
    Maildir) nothing else is needed. DRUMBEAT_SMTPD_TLS_CERT and _KEY add STARTTLS
    to the intake, as for `drumbeat smtpd`. Ctrl-C stops it cleanly; nothing accepted is
    lost, and the next start picks up where this one stopped.
    """
    from dramatiq.brokers.stub import StubBroker

    from drumbeat.cli_mail import (
        configure_logging,
        door_tls_or_exit,
        start_workers,
        starttls_words,
        stop_on_signals,
        wait_for_stop,
    )
    from drumbeat.health import start_health_server
    from mail.doors.smtpd import IntakeController, IntakeHandler, SessionLimits
    from models.db import make_engine
    from models.migrate import upgrade
    from workers import actors
    from workers import scheduler as beat
    from workers.intake import RawStore
    from workers.nudges import BatchNudger
    from workers.runtime import runtime

    settings = get_settings()
    key_source = use_own_key_if_unset(settings)
    tls = door_tls_or_exit(settings)
    configure_logging()
    start_health_server(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    broker, running = start_workers(settings, threads)
    requeued = pick_up_left_work()
    nudger = BatchNudger(actors.process_inbound_batch.send)
    controller = IntakeController(
        IntakeHandler(settings.mail_domain, RawStore(make_engine(settings.database_url,
                                                                 pre_ping=False),
                                                     clock=runtime().clock), nudger,
                      limits=SessionLimits.from_settings(settings)),
        hostname=settings.smtpd_host, port=port or settings.smtpd_port,
        data_size_limit=settings.max_message_bytes, decode_data=False, enable_SMTPUTF8=True,
        server_hostname=settings.mail_domain, tls=tls)
    stop = threading.Event()
    stop_on_signals(stop)
    controller.start()
    where = settings.smtp_host or str(settings.maildir)
    typer.echo(f"drumbeat serving @{settings.mail_domain}: SMTP intake on "
               f"{controller.hostname}:{controller.port}{starttls_words(tls)}, "
               f"outgoing mail to {where}, "
               f"{requeued} left-over items queued again; reply addresses signed with "
               f"{key_source}; Ctrl-C to stop", err=False)
    ticker = threading.Thread(target=beat.run, name="scheduler", daemon=True, args=(
        runtime().clock, settings.scheduler_interval_seconds, stop))
    ticker.start()
    wait_for_stop(stop)
    typer.echo("stopping: no new mail accepted; finishing queued work …")
    controller.stop()  # 1. nothing new comes in
    ticker.join(timeout=5)  # 2. no new ticks (it waits on the same event)
    nudger.close()  # 3. every stored message has its nudge
    if running is not None:  # 4. let queued work finish, for a while
        if isinstance(broker, StubBroker):
            try:
                broker.join(actors.QUEUE, timeout=int(drain * 1000), fail_fast=False)
            except Exception:  # a timeout: the rest waits in the database
                log.info("drain time over; the rest is picked up at the next start")
        running.stop(timeout=int(drain * 1000))
    typer.echo("stopped; the next `drumbeat serve` picks up whatever was left")


def use_own_key_if_unset(settings: Settings) -> str:
    """Without DRUMBEAT_SECRET_KEY, sign with the key kept under var/ (made on the first
    start); a key that is set must be fit. Says where the key came from."""
    from pydantic import SecretStr

    from drumbeat.secret_key import (
        EXIT_BAD_KEY,
        SERVE_KEY_PATH,
        KeyFileProblem,
        load_or_create,
        require_key,
    )

    if settings.secret_key.get_secret_value():
        require_key(settings)
        return "DRUMBEAT_SECRET_KEY"
    try:
        settings.secret_key = SecretStr(load_or_create(SERVE_KEY_PATH))
    except KeyFileProblem as problem:
        typer.echo(f"error: {problem}", err=True)
        raise SystemExit(EXIT_BAD_KEY) from None
    return f"the key in {SERVE_KEY_PATH}"


def pick_up_left_work() -> int:
    """Queue again what a previous run left: received mail and waiting outbox rows.

    With the in-process broker the queue died with the process; with Redis this only
    repeats nudges, which every actor tolerates (claims and statuses make them no-ops).
    """
    from sqlalchemy import select

    from models.mailbox import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
    from workers import actors
    from workers.runtime import runtime

    rt = runtime()
    with rt.sessions() as session:
        inbound = list(session.scalars(select(InboundMessage.id).where(
            InboundMessage.status == InboundStatus.RECEIVED.value).order_by(InboundMessage.id)))
        outbound = list(session.scalars(select(OutboundMessage.id).where(
            OutboundMessage.status.in_((OutboundStatus.PENDING.value,
                                        OutboundStatus.QUEUED.value,
                                        OutboundStatus.CLAIMED.value)))
            .order_by(OutboundMessage.id)))
    for start in range(0, len(inbound), 50):
        actors.process_inbound_batch.send(inbound[start:start + 50])
    for outbox_id in outbound:
        actors.send_email.send(outbox_id)
    return len(inbound) + len(outbound)


def register(app: typer.Typer) -> None:
    app.command()(serve)
