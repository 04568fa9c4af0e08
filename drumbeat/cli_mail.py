"""Commands for the mail side: the worker, the scheduler, and agenda previews."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import dramatiq
import typer
from dramatiq.brokers.stub import StubBroker

from config.settings import Settings, get_settings
from drumbeat.display import TZ_HELP
from drumbeat.secret_key import require_key
from workers.nudges import BatchNudger

if TYPE_CHECKING:
    from mail.doors.tls import DoorTls
    from models.mailbox import InboundMessage

inbox_app = typer.Typer(help="Inbound messages: what came in and what became of it.",
                        invoke_without_command=True)
agendas_app = typer.Typer(help="Look at check-in agendas before they go out.",
                          no_args_is_help=True)


def start_workers(settings: Settings, threads: int, *, embedded_only: bool = False,
                   clock: Callable[[], datetime] | None = None
                   ) -> tuple[dramatiq.Broker, dramatiq.Worker | None]:
    """Configure this process's runtime, bind the actors, and start a dramatiq worker.

    With ``embedded_only`` a worker is started only for the in-process broker: an
    intake process on Redis hands its work to the worker processes and keeps its
    own CPU for accepting mail. ``clock`` replaces Drumbeat's (``scheduler --now``).
    """
    from workers import actors
    from workers.broker import make_broker
    from workers.runtime import configure

    configure(settings, clock=clock)
    broker = make_broker(settings.redis_url)
    actors.bind(broker, settings)
    if embedded_only and not isinstance(broker, StubBroker):
        return broker, None
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    return broker, worker


def configure_logging() -> None:
    """One line per event; dramatiq's start/stop chatter and aiosmtpd's line per SMTP
    command (five a message, a measurable share of the intake's CPU) only when
    something is wrong."""
    from drumbeat.logs import configure

    configure(get_settings().log_format)  # DRUMBEAT_LOG_FORMAT: text or json
    logging.getLogger("dramatiq").setLevel(logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def _serve_health(settings: Settings) -> None:
    """/healthz and /metrics in a daemon thread, when DRUMBEAT_METRICS_PORT is set."""
    from drumbeat.health import start_health_server

    start_health_server(settings)


def _processing(settings: Settings) -> tuple[Callable[[int], None], dramatiq.Worker | None]:
    """What to do with a stored message: nudge a worker to process it.

    With Redis the nudge goes to the worker processes; on the embedded setup a
    worker runs in this process.
    """
    from workers import actors

    _broker, running = start_workers(settings, threads=2, embedded_only=True)
    return actors.process_inbound.send, running


def _batched_processing(settings: Settings) -> tuple[BatchNudger, dramatiq.Worker | None]:
    """As :func:`_processing`, but the nudges leave a few at a time (the SMTP door's rate)."""
    from workers import actors

    _broker, running = start_workers(settings, threads=2, embedded_only=True)
    return BatchNudger(actors.process_inbound_batch.send), running


def _drain(running: dramatiq.Worker | None) -> None:
    if running is None:
        return
    if isinstance(running.broker, StubBroker):
        running.broker.join("drumbeat", fail_fast=False)
        running.join()
    running.stop()


def stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C and SIGTERM set ``stop``, so the command shuts down in order."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def wait_for_stop(stop: threading.Event) -> None:
    """Wait in short slices: a signal the kernel hands to another thread only runs its
    Python handler when the main thread wakes up, and a bare ``wait()`` never does."""
    while not stop.wait(timeout=0.5):
        pass


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time, e.g. "
                                 "2026-11-30T08:00+01:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def worker(
    threads: Annotated[int, typer.Option(
        help="Worker threads in this process (2 measured fastest on 2 cores).")] = 2,
) -> None:
    """Run a worker: sends the outbox and runs the scheduler's dispatches (needs Redis).

    Start as many as you like, on as many machines as you like; each email is
    claimed by exactly one of them.
    """
    settings = get_settings()
    if not settings.redis_url:
        raise typer.BadParameter(
            "DRUMBEAT_REDIS_URL is not set: on the embedded setup the worker runs inside "
            "`drumbeat scheduler`, so there is nothing to start here.")
    require_key(settings)
    configure_logging()
    _serve_health(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    _broker, running = start_workers(settings, threads)
    assert running is not None
    typer.echo(f"worker running with {threads} threads; Ctrl-C to stop")
    wait_for_stop(stop)
    running.stop()


def scheduler(
    once: Annotated[bool, typer.Option("--once", help="One tick, then exit.")] = False,
    now: Annotated[str | None, typer.Option(
        help="With --once: tick as if it were this time (ISO 8601).")] = None,
    interval: Annotated[float | None, typer.Option(
        help="Seconds between ticks (default DRUMBEAT_SCHEDULER_INTERVAL_SECONDS).")] = None,
) -> None:
    """Tick every minute: queue the agendas and reminders that are due.

    Safe to run twice: what is due is recorded with unique keys, so a second
    scheduler only asks a question that is already answered. Without
    DRUMBEAT_REDIS_URL it also runs the worker in this process; with Redis the
    `drumbeat worker` processes do the work.
    """
    from workers import scheduler as beat
    from workers.runtime import runtime

    settings = get_settings()
    require_key(settings)
    moment = _parse_now(now)
    if moment is not None and not once:
        raise typer.BadParameter("--now only makes sense with --once")
    configure_logging()
    if not once:
        _serve_health(settings)
    # On Redis the worker processes do the work; only the in-process broker needs one here.
    # With --now the in-process workers run at that moment too, so what they send is
    # dated (Date header) as it is stored (sent at); worker processes keep their own clock.
    fixed = (lambda: moment) if moment else None
    broker, running = start_workers(settings, threads=2, embedded_only=True, clock=fixed)
    stop = threading.Event()
    stop_on_signals(stop)
    clock = fixed or runtime().clock  # Drumbeat's, as the workers'

    ticks = beat.run(clock, interval or settings.scheduler_interval_seconds, stop, once=once)
    if running is not None:
        if isinstance(broker, StubBroker):
            broker.join("drumbeat", fail_fast=True)
            running.join()
        running.stop()
    if once and running is None:
        typer.echo("tick queued: the `drumbeat worker` processes dispatch and send it")
    elif once:
        _report_outbox()
    else:
        typer.echo(f"scheduler stopped after {ticks} ticks")


def _report_outbox() -> None:
    from sqlalchemy import func, select

    from models.mailbox import OutboundMessage
    from workers.runtime import runtime

    with runtime().sessions() as session:
        counts = dict(session.execute(select(OutboundMessage.status, func.count())
                                      .group_by(OutboundMessage.status)).all())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"
    typer.echo(f"outbox: {summary}")


@agendas_app.command("preview")
def preview(
    email: Annotated[str, typer.Argument(help="The person (email or alias).")],
    now: Annotated[str | None, typer.Option(help="Preview as of this time (ISO 8601).")] = None,
    html: Annotated[Path | None, typer.Option(
        help="Also write the HTML version(s) to this file.")] = None,
) -> None:
    """Print the next agendas this person will get, without sending anything."""

    from drumbeat.display import drumbeat_now
    from mail.write.render import render_agenda
    from models.checkins import next_slot
    from models.db import make_engine, session_factory
    from models.people import Person
    from models.queries import person_by_address
    from workers.agendas import agenda_view, pair_schedules

    settings = get_settings()
    require_key(settings)
    moment = _parse_now(now) or drumbeat_now()
    with session_factory(make_engine(settings.database_url))() as session:
        person = person_by_address(session, email)
        if person is None:
            typer.echo(f"error: nobody has the address {email}", err=True)
            raise typer.Exit(1)
        schedules, _ = pair_schedules(session)
        mine = [s for s in schedules if person.id in (s.employee_id, s.manager_id)]
        if not mine:
            typer.echo(f"{person.name} has no manager and no reports: no check-ins, no agenda.")
            return
        pages: list[str] = []
        for schedule in mine:
            slot = next_slot(schedule, moment)
            manager = session.get(Person, schedule.manager_id)
            employee = session.get(Person, schedule.employee_id)
            assert manager is not None and employee is not None
            role = "employee" if person.id == employee.id else "manager"
            today = moment.astimezone(ZoneInfo(person.timezone)).date()
            rendered = render_agenda(agenda_view(session, manager, employee, role, slot.at,
                                                 today, settings.fiscal_year_start_month))
            typer.echo(f"To: {person.email}\nSubject: {rendered.subject}\n"
                       f"(sent {settings.agenda_lead_hours:g} h before "
                       f"{slot.local_at:%a %d %b %Y %H:%M} {schedule.timezone})\n")
            typer.echo(rendered.text)
            typer.echo("-" * 72)
            pages.append(rendered.html)
    if html is not None:
        html.write_text("\n<hr>\n".join(pages), encoding="utf-8")
        typer.echo(f"HTML written to {html}")


def door_tls_or_exit(settings: Settings) -> DoorTls | None:
    """The intake's STARTTLS from the settings; unusable settings stop the command at
    start with one sentence (exit 2), before anything listens."""
    from mail.doors.tls import TlsSetupError, door_tls

    try:
        return door_tls(settings)
    except TlsSetupError as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None


def starttls_words(tls: DoorTls | None) -> str:
    """How the start line says what the door offers."""
    if tls is None:
        return ""
    return (" with STARTTLS (required outside DRUMBEAT_TRUSTED_RELAYS)" if tls.required
            else " with STARTTLS")


def smtpd(
    host: Annotated[str | None, typer.Option(help="Address to listen on "
                                             "(default DRUMBEAT_SMTPD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DRUMBEAT_SMTPD_PORT).")] = None,
) -> None:
    """Receive mail over SMTP: every message is stored before the 250 answer.

    Point your MX, or a relay's forward, at it. Only the mail domain's addresses
    are accepted; messages over DRUMBEAT_MAX_MESSAGE_BYTES get 552; if the
    database is unreachable the answer is 451, so the sender tries again.
    DRUMBEAT_SMTPD_MAX_SESSIONS, _MAX_RECIPIENTS and _SESSION_SECONDS bound what
    one client can take (421, 452, 421). With DRUMBEAT_SMTPD_TLS_CERT and _KEY it
    offers STARTTLS (required outside the trusted relays with _REQUIRE_TLS).
    """
    from mail.doors.smtpd import IntakeController, IntakeHandler, SessionLimits
    from models.db import make_engine
    from workers.intake import RawStore
    from workers.runtime import runtime

    settings = get_settings()
    require_key(settings)
    tls = door_tls_or_exit(settings)
    configure_logging()
    _serve_health(settings)
    on_stored, running = _batched_processing(settings)
    store = RawStore(make_engine(settings.database_url, pre_ping=False),
                     clock=runtime().clock)  # Drumbeat's clock, as the workers'
    controller = IntakeController(
        IntakeHandler(settings.mail_domain, store, on_stored,
                      limits=SessionLimits.from_settings(settings)),
        hostname=host or settings.smtpd_host,
        port=port or settings.smtpd_port, data_size_limit=settings.max_message_bytes,
        decode_data=False, enable_SMTPUTF8=True, server_hostname=settings.mail_domain, tls=tls)
    stop = threading.Event()
    stop_on_signals(stop)
    controller.start()
    typer.echo(f"receiving mail for @{settings.mail_domain} on "
               f"{controller.hostname}:{controller.port}{starttls_words(tls)}; Ctrl-C to stop")
    wait_for_stop(stop)
    controller.stop()
    on_stored.close()
    _drain(running)


def imap_poll(
    once: Annotated[bool, typer.Option("--once", help="Read the folder once, then exit.")] = False,
) -> None:
    """Poll the IMAP mailbox (DRUMBEAT_IMAP_*): store each new message, then mark it.

    A message is marked seen (or moved, or deleted: DRUMBEAT_IMAP_AFTER) only
    after it is stored; the same message arriving twice is stored once. One over
    DRUMBEAT_MAX_MESSAGE_BYTES is not read: `drumbeat inbox` lists it as rejected,
    and it stays in the mailbox, marked seen.
    """
    from mail.doors.imap import ImapAccount
    from models.db import make_engine, session_factory
    from workers import imap_poller
    from workers.runtime import runtime

    settings = get_settings()
    if not (settings.imap_host and settings.imap_username):
        typer.echo("error: set DRUMBEAT_IMAP_HOST, DRUMBEAT_IMAP_USERNAME and "
                   "DRUMBEAT_IMAP_PASSWORD first.", err=True)
        raise typer.Exit(1)
    require_key(settings)
    configure_logging()
    if not once:
        _serve_health(settings)
    account = ImapAccount(
        host=settings.imap_host, port=settings.imap_port, username=settings.imap_username,
        password=settings.imap_password.get_secret_value() if settings.imap_password else "",
        folder=settings.imap_folder, ssl=settings.imap_ssl, after=settings.imap_after)
    sessions = session_factory(make_engine(settings.database_url))
    on_stored, running = _processing(settings)
    try:
        if once:
            result = imap_poller.poll_once(sessions, account, on_stored,
                                           settings.max_message_bytes, clock=runtime().clock)
            typer.echo(f"{result.stored} new, {result.duplicates} already stored"
                       + (f", {result.too_large} too large (see drumbeat inbox --status "
                          "rejected)" if result.too_large else ""))
            return
        stop = threading.Event()
        stop_on_signals(stop)
        imap_poller.run(sessions, account, settings.imap_interval_seconds, stop, on_stored,
                        max_message_bytes=settings.max_message_bytes, clock=runtime().clock)
    finally:
        _drain(running)


def inspect_command(
    message: Annotated[str, typer.Argument(help="A raw message (.eml), or - for stdin.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON (the default "
                                              "prints the same, indented).")] = False,
    sent: Annotated[Path | None, typer.Option(
        "--sent", help="The text of the message Drumbeat sent (an agenda): quoted or "
        "forwarded back, it is never read as commands.")] = None,
) -> None:
    """Show what Drumbeat reads in one message, without touching the database."""
    import json
    import sys

    from mail.read.inspect import inspect_message

    if message == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(message)
        if not path.is_file():
            typer.echo(f"error: no such file: {message}", err=True)
            raise typer.Exit(1)
        raw = path.read_bytes()
    if sent is not None and not sent.is_file():
        typer.echo(f"error: no such file: {sent}", err=True)
        raise typer.Exit(1)
    sent_lines = tuple(sent.read_text(encoding="utf-8", errors="replace").splitlines()
                       ) if sent is not None else ()
    result = inspect_message(raw, sent_lines)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=None if json_output else 2))


@inbox_app.callback()
def inbox_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    status: Annotated[str | None, typer.Option(
        help="Only received, applied, rejected or failed.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help=TZ_HELP)] = None,
) -> None:
    """List recent inbound messages with their outcome and how the sender was established
    (`how`: token, dkim, mta, relay or none); `drumbeat inbox show ID` prints one.
    Times are on Drumbeat's clock, in --tz or DRUMBEAT_DEFAULT_TIMEZONE."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from drumbeat.display import cli_zone, safe_text, shown_time
    from models.db import make_engine, session_factory
    from models.mailbox import InboundMessage

    zone = cli_zone(tz)
    query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if status:
        query = query.where(InboundMessage.status == status)
    table = Table()
    for column in ("id", f"received ({zone.key})", "from", "subject", "status", "how",
                   "outcome"):
        table.add_column(column)
    with session_factory(make_engine(get_settings().database_url))() as session:
        for row in session.scalars(query):  # every cell a Text: rich reads no markup in it
            table.add_row(safe_text(str(row.id)), safe_text(shown_time(row.received_at, zone)),
                          safe_text(row.sender or "?", 80), safe_text(_subject(row), 80),
                          safe_text(row.status), safe_text(row.authenticated_by or ""),
                          safe_text(_summary(row), 120))
    Console().print(table)


def _subject(row: InboundMessage) -> str:
    from workers.intake import decoded  # rows stored before subjects were decoded, too

    return decoded(row.subject or "")


def _summary(row: InboundMessage) -> str:
    """The outcome in a few words: the error, the reason it was refused, or the counts."""
    outcome = row.outcome or {}
    if row.error or outcome.get("reason"):
        return str(row.error or outcome.get("reason"))
    if "done" in outcome:
        return (f"{len(outcome.get('done', []))} done, {len(outcome.get('refused', []))} "
                f"refused, {len(outcome.get('not_understood', []))} not understood")
    return ""


@inbox_app.command("show")
def inbox_show(
    inbound_id: Annotated[int, typer.Argument(help="The message's id.")],
    tz: Annotated[str | None, typer.Option("--tz", help=TZ_HELP)] = None,
) -> None:
    """Print one inbound message: who sent it, how that was established, and its outcome."""
    import json

    from drumbeat.display import clean_text, cli_zone, shown_time

    zone = cli_zone(tz)
    from models.db import make_engine, session_factory
    from models.mailbox import InboundMessage

    with session_factory(make_engine(get_settings().database_url))() as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            typer.echo(f"error: no inbound message {inbound_id}; see `drumbeat inbox`",
                       err=True)
            raise typer.Exit(1)
        received = f"{shown_time(row.received_at, zone, seconds=True)} via {row.via}"
        lines = [("From", clean_text(row.sender or "?")),
                 ("Envelope", clean_text(f"{row.envelope_from or '<>'} -> "
                                         f"{', '.join(row.envelope_to or [])}")),
                 ("Subject", clean_text(_subject(row))), ("Message-ID", clean_text(row.message_id)),
                 ("Received", received), ("Status", f"{row.status} (tries: {row.attempts})"),
                 ("How", clean_text(row.authenticated_by or "not established yet"))]
        if row.processed_at:
            lines.append(("Processed", shown_time(row.processed_at, zone, seconds=True)))
        if row.error:
            lines.append(("Error", clean_text(row.error, 2000)))
        lines.append(("Raw bytes", f"{len(row.raw):,} bytes kept" if row.raw is not None else
                      "cleared (DRUMBEAT_RAW_RETENTION_DAYS or DRUMBEAT_STORE_NOTES=false); "
                      "the outcome below is kept"))
        for label, value in lines:
            typer.echo(f"{label + ':':<12}{value}")
        if row.outcome:
            typer.echo("")
            for line in json.dumps(row.outcome, ensure_ascii=False, indent=2).splitlines():
                typer.echo(clean_text(line, 2000))


@inbox_app.command("purge")
def inbox_purge(
    days: Annotated[int | None, typer.Option(
        help="Clear the raw bytes of processed messages older than this many days "
        "(default DRUMBEAT_RAW_RETENTION_DAYS).")] = None,
) -> None:
    """Clear the raw bytes of old processed messages now; their outcomes stay.

    The scheduler does this every hour by itself; this is for doing it at once, or
    with a shorter time.
    """
    from drumbeat.display import drumbeat_now
    from models.db import make_engine, session_factory, unit_of_work
    from workers.retention import clear_old_raw

    settings = get_settings()
    keep = settings.raw_retention_days if days is None else days
    if keep <= 0:
        typer.echo("nothing cleared: 0 days keeps raw bytes forever "
                   "(DRUMBEAT_RAW_RETENTION_DAYS=0)")
        return
    with unit_of_work(session_factory(make_engine(settings.database_url))) as session:
        cleared = clear_old_raw(session, drumbeat_now(), keep)
    typer.echo(f"cleared the raw bytes of {cleared} processed message(s) older than {keep} "
               "days; their outcomes are kept")


@inbox_app.command("retry")
def inbox_retry(inbound_id: Annotated[int, typer.Argument(help="The message's id.")]) -> None:
    """Process a failed (or stuck) message again."""
    from models.mailbox import InboundMessage, InboundStatus
    from workers import failures, inbound
    from workers.runtime import configure
    from workers.sending import RetryLater, deliver

    settings = get_settings()
    require_key(settings)
    rt = configure(settings)
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            typer.echo(f"error: no inbound message {inbound_id}", err=True)
            raise typer.Exit(1)
        if row.status == InboundStatus.APPLIED.value:
            typer.echo(f"message {inbound_id} was applied already; nothing to do")
            return
        if row.raw is None:
            typer.echo(f"error: message {inbound_id}'s raw bytes were cleared, so it cannot "
                       "be processed again; see `drumbeat inbox show`", err=True)
            raise typer.Exit(1)
        row.status, row.error, row.attempts = InboundStatus.RECEIVED.value, None, 0
    try:
        processed = inbound.process(rt, inbound_id)
    except Exception as error:  # recorded on the row like a worker's failure, no traceback
        inbound.record_failure(rt, inbound_id, failures.describe(error))
        typer.echo(f"message {inbound_id} failed again: {failures.describe(error)}", err=True)
        raise typer.Exit(1) from None
    sent = 0
    for outbox_id in processed.answer_ids:
        with contextlib.suppress(RetryLater):  # stays queued: the sweeper sends it later
            sent += deliver(rt, outbox_id) == "sent"
    typer.echo(f"message {inbound_id}: {processed.status}; {sent} of "
               f"{len(processed.answer_ids)} answer(s) sent")


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
    app.add_typer(inbox_app, name="inbox")
    app.command()(smtpd)
    app.command("imap-poll")(imap_poll)
    app.command()(worker)
    app.command()(scheduler)
    app.add_typer(agendas_app, name="agendas")
