"""The ``drumbeat`` command line: one entry point for operators and the demo.

Each command is a thin shell: it reads settings, opens a unit of work, calls
the domain, and prints the result (or the problems) in plain words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from drumbeat.display import TZ_HELP
from models.db import make_engine, session_factory, unit_of_work
from models.importing.load_meetings import load_meetings
from models.importing.load_people import Defaults, load_people
from models.importing.load_plan import load_plan
from models.importing.meetings_file import read_meetings
from models.importing.people_file import read_people
from models.importing.plan_file import read_plan
from models.importing.problems import ImportFailed, ProblemLog
from models.importing.values import BadValue, read_cadence, read_weekday
from models.migrate import current_revision, head_revision, upgrade

app = typer.Typer(
    help="Drumbeat: strategy execution run by email. Settings come from DRUMBEAT_* "
    "environment variables or .env (see README).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
import_app = typer.Typer(help="Load a company: people, then the plan (and, if you had them, "
                         "earlier 1:1s). `drumbeat export` writes the plan and the people "
                         "back out as these files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")

out = Console()
err = Console(stderr=True)


class Abort(typer.Exit):
    """Stop with a message on stderr and exit status 1 (never a traceback)."""

    def __init__(self, message: str) -> None:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        super().__init__(1)


@app.callback()
def main_options(
    database_url: Annotated[str | None, typer.Option(
        "--database-url", envvar="DRUMBEAT_DATABASE_URL", show_envvar=True,
        help="SQLAlchemy URL of the database (default: SQLite file under var/).")] = None,
) -> None:
    if database_url:
        get_settings().database_url = database_url


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def _ready_engine() -> Engine:
    """An engine on a database at the newest migration, or a clear instruction."""
    settings = get_settings()
    engine = _engine(settings)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise Abort(f"cannot reach the database {_safe(settings.database_url)}: "
                    f"{exc.orig}") from exc
    if current != head_revision():
        raise Abort(f"the database is at revision {current or 'none (empty)'}, this Drumbeat "
                    f"needs {head_revision()}: run `drumbeat db upgrade` first.")
    return engine


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create the tables or bring them up to date (safe to run again)."""
    settings = get_settings()
    engine = _engine(settings)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
    except OperationalError as exc:
        raise Abort(f"cannot reach the database {_safe(settings.database_url)}: "
                    f"{exc.orig}") from exc
    after = current_revision(engine)
    if before == after:
        out.print(f"Database {_safe(settings.database_url)} is up to date ({after}).")
    else:
        out.print(f"Database {_safe(settings.database_url)} upgraded: "
                  f"{before or 'empty'} → {after}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the newest one available."""
    engine = _engine(get_settings())
    out.print(f"database: {current_revision(engine) or 'empty'}; newest: {head_revision()}")


def _defaults(settings: Settings) -> Defaults:
    try:
        return Defaults(
            timezone=settings.default_timezone,
            language=settings.default_language,
            cadence=read_cadence(settings.default_cadence).value,
            checkin_weekday=read_weekday(settings.default_checkin_day),
            checkin_time=settings.default_checkin_time,
        )
    except BadValue as exc:
        raise Abort(f"a DRUMBEAT_DEFAULT_* setting: {exc.message}. {exc.hint}") from exc


@contextmanager
def _import_transaction(dry_run: bool) -> Iterator[Session]:
    """One all-or-nothing transaction; a dry run rolls back, problems exit with status 1."""
    engine = _ready_engine()
    try:
        with unit_of_work(session_factory(engine)) as session:
            yield session
            if dry_run:
                session.rollback()
    except ImportFailed as failed:
        err.print(failed.report(), highlight=False, markup=False)
        raise typer.Exit(1) from failed


FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="The file to import.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check everything, write nothing.")]


def _now() -> datetime:
    """Now on Drumbeat's clock (the simulated one in the demo)."""
    from drumbeat.display import drumbeat_now

    return drumbeat_now()


def _today() -> date:
    """Today on Drumbeat's clock (the simulated one in the demo), in the default zone."""
    from drumbeat.display import cli_zone

    return _now().astimezone(cli_zone(None)).date()


@import_app.command("people")
def import_people(
    file: FileArg, dry_run: DryRun = False,
    tracking_from: Annotated[str | None, typer.Option(
        "--tracking-from", help="Pairs this import forms (new people with a manager, manager "
        "changes) are judged from this date, YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Import or update people from a CSV export (email and name required).

    Columns: email, name, manager_email, timezone, cadence, checkin_day,
    checkin_time, hr, aliases, active_from, active_until, tracking_from. Header
    case and spelling are forgiving; comma, semicolon and tab separators all work.
    Check-ins are expected from the day a pair is imported (or its tracking_from),
    never for the weeks before Drumbeat was counting.
    """
    defaults = _defaults(get_settings())
    start = _parse_day(tracking_from) if tracking_from is not None else _today()
    people = read_people(file)
    with _import_transaction(dry_run) as session:
        summary = load_people(session, people, defaults, start)
    verb = "would import" if dry_run else "imported"
    out.print(f"{file.name}: {verb} {len(summary.created)} new, {len(summary.updated)} "
              f"updated, {summary.unchanged} unchanged.")
    if people.ignored_columns:
        out.print(f"Ignored columns: {', '.join(people.ignored_columns)}.", style="dim")


@import_app.command("plan")
def import_plan(file: FileArg, dry_run: DryRun = False) -> None:
    """Import or update the plan: initiatives → goals → projects → tasks.

    YAML (nested, see examples/northwind/plan.yaml) or CSV (one row per task).
    An item pinned with its reference (ref: T-12, as `drumbeat export plan`
    writes) is updated in place even when its title or place changed; other items
    are matched by their path of titles, so importing again updates in place.
    """
    log = ProblemLog(file.name)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                        TextColumn("{task.completed:,} items"), TimeElapsedColumn(),
                        console=err, transient=True)
    with progress, _import_transaction(dry_run) as session:
        task = progress.add_task(f"importing {file.name}", total=None)
        summary = load_plan(session, read_plan(file, log), log,
                            lambda done: progress.update(task, completed=done),
                            now=_now())
    verb = "would create" if dry_run else "created"
    parts = [f"{summary.created[level]} {level}s" for level in summary.created]
    matched, changed = sum(summary.matched.values()), sum(summary.changed.values())
    out.print(f"{file.name}: {verb} {', '.join(parts)}; {matched} items already there, "
              f"{changed} changed.")


@import_app.command("meetings")
def import_meetings(file: FileArg, dry_run: DryRun = False) -> None:
    """Back-fill 1:1s kept before Drumbeat, from another tool's CSV export.

    Columns: employee_email, manager_email, date, status (held, not held or
    excused) and optional minutes. All or nothing; importing the same file again
    changes nothing. A back-filled 1:1 counts: its pair's record starts at its period.
    """
    meetings = read_meetings(file)
    with _import_transaction(dry_run) as session:
        summary = load_meetings(session, meetings, _today())
    verb = "would import" if dry_run else "imported"
    out.print(f"{file.name}: {verb} {summary.created} new, {summary.updated} updated, "
              f"{summary.unchanged} unchanged.")
    if summary.tracking_moved:
        moved = len(summary.tracking_moved)
        out.print(f"Check-ins now counted from the earliest back-filled 1:1 for "
                  f"{moved} {'person' if moved == 1 else 'people'}.")
    if meetings.ignored_columns:
        out.print(f"Ignored columns: {', '.join(meetings.ignored_columns)}.", style="dim")


@app.command()
def status(
    person: Annotated[str | None, typer.Option(
        "--person", "-p", help="Show one person's tasks and check-ins (email or alias).")] = None,
    today: Annotated[str | None, typer.Option(
        "--today", help="Pretend today is this date (YYYY-MM-DD).")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help=TZ_HELP)] = None,
) -> None:
    """Show the strategy cascade with progress, or one person's page. "Today" (what is
    overdue) is Drumbeat's clock's date in --tz or DRUMBEAT_DEFAULT_TIMEZONE."""
    from drumbeat.display import cli_zone, drumbeat_now
    from drumbeat.status import render_cascade, render_person
    from models.queries import person_by_address

    zone = cli_zone(tz)
    day = _parse_day(today) if today is not None else drumbeat_now().astimezone(zone).date()
    engine = _ready_engine()
    with session_factory(engine)() as session:
        if person is None:
            out.print(render_cascade(session, day))
            return
        found = person_by_address(session, person)
        if found is None:
            raise Abort(f"nobody has the address {person}.")
        out.print(render_person(session, found, day, get_settings().fiscal_year_start_month))


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Abort(f"{text!r} is not a date; write YYYY-MM-DD.") from exc


def main() -> None:
    """Console-script entry point: a bad setting is reported by name, never as a traceback."""
    try:
        get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            name = "DRUMBEAT_" + "_".join(str(part) for part in problem["loc"]).upper()
            err.print(f"[red]error:[/red] setting {name}: {problem['msg']}", highlight=False)
        raise SystemExit(2) from None
    app()


def _register_mail_commands() -> None:
    from drumbeat import (
        cli_digest,
        cli_doctor,
        cli_export,
        cli_mail,
        cli_outbox,
        cli_review,
        cli_serve,
    )

    cli_serve.register(app)
    cli_mail.register(app)
    cli_digest.register(app)
    cli_outbox.register(app)
    cli_doctor.register(app)
    cli_review.register(app)
    cli_export.register(app)


_register_mail_commands()
