"""``drumbeat outbox``: what was sent (or waits to be), and one message in full."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import get_settings
from drumbeat.display import TZ_HELP

outbox_app = typer.Typer(help="Outgoing mail: agendas, answers, reminders and digests.",
                         invoke_without_command=True)


@outbox_app.callback()
def outbox_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    kind: Annotated[str | None, typer.Option(
        help="Only agenda, nudge, answer, digest or review.")] = None,
    status: Annotated[str | None, typer.Option(
        help="Only pending, queued, claimed, sent or failed.")] = None,
    to: Annotated[str | None, typer.Option(help="Only mail to this address.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help=TZ_HELP)] = None,
) -> None:
    """List recent outgoing mail with its status; `drumbeat outbox show ID` prints one.
    Times are on Drumbeat's clock, in --tz or DRUMBEAT_DEFAULT_TIMEZONE."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, select

    from drumbeat.display import clean_text, cli_zone, safe_text, shown_time
    from models.db import make_engine, session_factory
    from models.mailbox import OutboundMessage

    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if kind:
        query = query.where(OutboundMessage.kind == kind)
    if status:
        query = query.where(OutboundMessage.status == status)
    if to:
        query = query.where(func.lower(OutboundMessage.to_address) == to.strip().lower())
    zone = cli_zone(tz)
    table = Table()
    for column in ("id", f"created ({zone.key})", "kind", "to", "subject", "status", "tries"):
        table.add_column(column, overflow="fold")
    with session_factory(make_engine(get_settings().database_url))() as session:
        rows = list(session.scalars(query))
        for row in rows:  # every cell a Text: rich reads no markup in it
            state = row.status + (f" ({clean_text(row.last_error, 60)})"
                                  if row.last_error else "")
            table.add_row(safe_text(str(row.id)), safe_text(shown_time(row.created_at, zone)),
                          safe_text(row.kind), safe_text(row.to_address, 80),
                          safe_text(row.subject, 80), safe_text(state),
                          safe_text(str(row.attempts)))
    if not rows:
        typer.echo("no outgoing mail yet")
        return
    Console().print(table)


@outbox_app.command("show")
def outbox_show(
    outbox_id: Annotated[int, typer.Argument(help="The message's id (from the list).")],
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part instead of the "
                                       "text.")] = False,
    tz: Annotated[str | None, typer.Option("--tz", help=TZ_HELP)] = None,
) -> None:
    """Print one outgoing message: its headers and its text (or HTML) as rendered."""
    from drumbeat.display import clean_text, cli_zone, shown_time

    zone = cli_zone(tz)
    from models.db import make_engine, session_factory
    from models.mailbox import OutboundMessage

    with session_factory(make_engine(get_settings().database_url))() as session:
        row = session.get(OutboundMessage, outbox_id)
        if row is None:
            typer.echo(f"error: no outgoing message {outbox_id}; see `drumbeat outbox`",
                       err=True)
            raise typer.Exit(1)
        typer.echo(f"To:         {clean_text(row.to_address)}")
        typer.echo(f"Subject:    {clean_text(row.subject)}")
        typer.echo(f"Kind:       {row.kind}    Status: {row.status}    Tries: {row.attempts}")
        typer.echo(f"Created:    {shown_time(row.created_at, zone, seconds=True)}")
        if row.message_id:
            typer.echo(f"Message-ID: {clean_text(row.message_id)}")
        if row.in_reply_to:
            typer.echo(f"In reply to: {clean_text(row.in_reply_to)}")
        if row.sent_at:
            typer.echo(f"Sent:       {shown_time(row.sent_at, zone, seconds=True)}")
        if row.last_error:
            typer.echo(f"Last error: {clean_text(row.last_error, 2000)}")
        typer.echo("")
        body = row.body_html if html else row.body_text
        if body is None:
            typer.echo("(not rendered yet: it is rendered when it is first sent)")
            return
        for line in body.splitlines():  # names and titles in it came from people's mail
            typer.echo(clean_text(line, len(line) * 6))


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
