"""``drumbeat digest``: one period's evaluation digest, on demand."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from config.settings import get_settings
from drumbeat.secret_key import require_key

DIGEST_KINDS = ("hr", "manager", "employee")


def digest(
    period: Annotated[str | None, typer.Option(
        "--period", help="The quarter or year: 2026-Q4, 2026 (or FY2027-Q1, FY2027 when the "
        "fiscal year starts later than January); default: the current quarter.")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="Send it to this address now (the figures are then kept as sent).")]
    = None,
    preview: Annotated[bool, typer.Option(
        "--preview", help="Write it as an HTML file (and its CSV) under var/ and print the "
        "text; nothing is stored or sent.")] = False,
    kind: Annotated[str, typer.Option(
        "--kind", help="hr (the whole organisation), manager or employee.")] = "hr",
    person: Annotated[str | None, typer.Option(
        "--person", help="Whose manager digest or employee summary (email).")] = None,
    today: Annotated[str | None, typer.Option(
        "--today", help="Judge the period as of this date (YYYY-MM-DD); default today.")]
    = None,
    send_all: Annotated[bool, typer.Option(
        "--all", help="Send every digest of the period now (HR, managers, employees), to "
        "their own addresses, as the scheduler does once the period has closed.")] = False,
) -> None:
    """Build one period's evaluation digest: HR's by default, or a manager's or employee's.

    Without --to, --all or --preview it prints the plain-text digest. The scheduler
    sends every period's digests by itself DRUMBEAT_DIGEST_DELAY_DAYS after it closes.
    Figures sent for a closed period are kept as sent; sending before the period
    closes does not freeze them.
    """
    from mail.write.compose import make_message_id
    from mail.write.digest_render import render_digest
    from models.db import make_engine, session_factory
    from models.queries import person_by_address
    from models.scoring import quarter_window
    from workers import digests, outbox
    from workers.evaluations import compute_figures, window_named
    from workers.outbox import OutboxRow
    from workers.runtime import configure
    from workers.sending import deliver

    if kind not in DIGEST_KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(DIGEST_KINDS)}")
    settings = get_settings()
    if send_all or to is not None:  # sent mail carries signed reply addresses
        require_key(settings)
    day = date.fromisoformat(today) if today else date.today()
    if period is None:
        period = quarter_window(day, settings.fiscal_year_start_month)[2]
    try:
        window = window_named(period, settings.fiscal_year_start_month, day)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    now = datetime.now(UTC)
    closed = window.as_of >= window.end
    sessions = session_factory(make_engine(settings.database_url))
    if send_all:
        _send_all(sessions, window, now, closed)
        return
    with sessions() as session, session.begin():
        figures = compute_figures(session, window, now)
        snapshot = digests.take_snapshot(session, figures, now)
        managers = digests.managers_map(session)
        who = person_by_address(session, person) if person else None
        if kind != "hr" and (who is None or who.id not in snapshot.people):
            raise typer.BadParameter(f"--person: nobody with figures in {window.label} has "
                                     f"the address {person!r}")
        view = digests.view_of(session, kind, snapshot, who.id if who else None, "HR",
                               managers, figures.initiatives)
        rendered = render_digest(view)
        if preview:
            session.rollback()
            html_path = write_preview(rendered, settings.maildir.parent, window.label, kind)
            typer.echo(rendered.text)
            typer.echo(f"\nHTML: {html_path}\nCSV:  {html_path.with_suffix('.csv')}")
            return
        if to is None:
            typer.echo(rendered.text)
            typer.echo(f"\n({figures.queries} queries; the figures are stored as "
                       f"Evaluation rows for {window.label}, not yet sent)")
            return
        row = OutboxRow(
            dedupe_key=f"{digests.ON_DEMAND}:{window.label}:{kind}:{now.timestamp():.6f}",
            kind=digests.DIGEST, recipient_id=who.id if who else None, to_address=to,
            subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
            created_at=now, message_id=make_message_id(settings.mail_domain, digests.DIGEST),
            context=digests.digest_context(
                window, kind, {"initiatives": [vars(i) for i in figures.initiatives]}))
        [outbox_id] = outbox.add_rows(session, [row])
        if closed:
            digests.freeze_shown_snapshots(session, window.label,
                                           [p.person_id for p in view.people], now)
    rt = configure(settings)
    status = deliver(rt, outbox_id)
    typer.echo(f"{window.label} {kind} digest to {to}: {status} (outbox {outbox_id})")


def _send_all(sessions: Any, window: Any, now: datetime, closed: bool) -> None:
    """Every digest of the period, built and sent now, with a progress bar."""
    from collections import Counter
    from dataclasses import replace

    from rich.progress import Progress

    from workers import digests, outbox
    from workers.evaluations import compute_figures
    from workers.runtime import configure
    from workers.sending import deliver

    settings = get_settings()
    with sessions() as session, session.begin():
        figures = compute_figures(session, window, now)
        snapshot = digests.take_snapshot(session, figures, now)
        rows = digests.digest_rows(session, figures, snapshot, now, settings.mail_domain,
                                   settings.digest_employee_summaries)
        rows = [replace(row, dedupe_key=row.dedupe_key.replace(  # the scheduler's stay due
            digests.DIGEST, digests.ON_DEMAND, 1) + f":{now.timestamp():.6f}") for row in rows]
        ids = outbox.add_rows(session, rows)
        if closed:
            digests.freeze_shown_snapshots(session, window.label, list(snapshot.people), now)
    rt = configure(settings)
    sent = 0
    with Progress(transient=True) as bar:
        job = bar.add_task(f"sending {window.label} digests", total=len(ids))
        for outbox_id in ids:
            sent += deliver(rt, outbox_id) == "sent"
            bar.advance(job)
    audiences = Counter(digests.audience_of(row.context) for row in rows)
    typer.echo(f"{window.label}: {sent} of {len(ids)} digests sent "
               f"({audiences['hr']} HR, {audiences['manager']} managers, "
               f"{audiences['employee']} employees)")


def write_preview(rendered: object, folder: Path, label: str, kind: str) -> Path:
    """The HTML with its pictures inlined as data: URLs, so a browser shows it as sent."""
    folder.mkdir(parents=True, exist_ok=True)
    html: str = rendered.html  # type: ignore[attr-defined]
    for image in rendered.images:  # type: ignore[attr-defined]
        data = base64.b64encode(image.png).decode("ascii")
        html = html.replace(f"cid:{image.cid}", f"data:image/png;base64,{data}")
    path = folder / f"digest-{label}-{kind}.html"
    path.write_text(html, encoding="utf-8")
    path.with_suffix(".csv").write_bytes(rendered.csv)  # type: ignore[attr-defined]
    return path


def register(app: typer.Typer) -> None:
    app.command()(digest)
