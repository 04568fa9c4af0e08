"""``drumbeat review status``: where a period's review cycle stands, per employee.

The table is built from plain rows by :func:`cycle_report` (pure), so what the
operator sees is tested without a terminal: per employee the three steps, who the
review waits on, and a summary line with what is done, missed and disputed.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import typer

from config.settings import get_settings

review_app = typer.Typer(help="The review cycle by email: self-review, manager review, "
                         "acknowledgement (see README, Reviews).", no_args_is_help=True)

HOLDER_WORDS = {"self": "employee", "manager": "manager", "ack": "employee",
                "resolve": "HR (dispute)"}


@dataclass(frozen=True)
class StatusRow:
    """One review as the status table shows it."""

    employee: str
    manager: str
    self_state: str
    manager_state: str
    ack_state: str
    waiting_on: str  # "" when nothing waits
    reminded: date | None


@dataclass(frozen=True)
class CycleHeader:
    label: str
    opened: date
    self_due: date
    manager_due: date
    deadline: date
    scale: str | None
    closed: bool


def _width(text: str) -> int:
    """Columns a terminal gives the text: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _day(value: date) -> str:
    return f"{value:%a %d %b %Y}"


def cycle_report(header: CycleHeader, rows: Sequence[StatusRow]) -> str:
    """The whole report as text: a heading, the aligned table and a summary line."""
    lines = [f"{header.label} review cycle, opened {_day(header.opened)}"
             + (" (closed)" if header.closed else ""),
             f"  self-reviews due {_day(header.self_due)}, manager reviews "
             f"{_day(header.manager_due)}, acknowledgements {_day(header.deadline)}; "
             + (f"ratings {header.scale.split(':')[0]}" if header.scale else "no ratings"),
             ""]
    table = [("Employee", "Manager", "Self-review", "Manager review", "Acknowledged",
              "Waiting on", "Last reminded")]
    table += [(r.employee, r.manager, r.self_state, r.manager_state, r.ack_state,
               r.waiting_on or "–", r.reminded.isoformat() if r.reminded else "–")
              for r in rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    lines += ["  ".join(cell + " " * (width - _width(cell))
                        for cell, width in zip(row, widths, strict=True)).rstrip()
              for row in table]
    lines += ["", summary(rows)]
    return "\n".join(lines)


def summary(rows: Sequence[StatusRow]) -> str:
    """``3 reviews · self-review: 2 done, 1 missed · … · waiting on: 1 manager · 1 disputed``."""
    def counts(values: Sequence[str]) -> str:
        tally = Counter(values)
        return ", ".join(f"{n} {state}" for state, n in sorted(tally.items()))
    waiting = Counter(r.waiting_on for r in rows if r.waiting_on)
    parts = [f"{len(rows)} review{'s' if len(rows) != 1 else ''}",
             f"self-review: {counts([r.self_state for r in rows])}",
             f"manager review: {counts([r.manager_state for r in rows])}",
             f"acknowledged: {counts([r.ack_state for r in rows])}",
             "waiting on: " + (", ".join(f"{n} {who}" for who, n in sorted(waiting.items()))
                               or "nobody"),
             f"{sum(1 for r in rows if r.ack_state == 'disputed')} open dispute(s)"]
    return " · ".join(parts)


@review_app.command("status")
def status(
    period: Annotated[str, typer.Option(
        "--period", help="The reviewed quarter or year: 2026-Q4 or 2026 (FY2027-Q1, FY2027 "
        "when the fiscal year starts later than January).")],
) -> None:
    """Show a period's review cycle: per employee the steps done, who it waits on, what
    was missed or disputed, and a summary line. Cycles open by themselves when a period
    in DRUMBEAT_REVIEW_PERIODS closes."""
    from sqlalchemy import select

    from models.db import make_engine, session_factory
    from models.review_cycle import holder
    from models.reviews import Review, ReviewCycle
    from workers.evaluations import window_named
    from workers.reviews import cycle_dates, state_of

    settings = get_settings()
    try:
        label = window_named(period, settings.fiscal_year_start_month, date.today()).label
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    with session_factory(make_engine(settings.database_url))() as session:
        cycle = session.scalar(select(ReviewCycle).where(ReviewCycle.period_label == label))
        if cycle is None:
            typer.echo(f"no review cycle for {label} yet: one opens when the period closes "
                       f"and its figures are snapshotted (DRUMBEAT_REVIEW_PERIODS="
                       f"{settings.review_periods}).")
            raise typer.Exit(1)
        dates = cycle_dates(cycle)
        rows = []
        for review in session.scalars(select(Review).where(Review.cycle_id == cycle.id)):
            step = holder(state_of(review))
            rows.append(StatusRow(
                review.employee.name, review.manager.name if review.manager else "–",
                review.self_state, review.manager_state, review.ack_state,
                HOLDER_WORDS[step.value] if step else "",
                review.last_reminded_at.date() if review.last_reminded_at else None))
        header = CycleHeader(cycle.period_label, dates.opened, dates.self_due,
                             dates.manager_due, dates.deadline, cycle.scale,
                             cycle.closed_at is not None)
    typer.echo(cycle_report(header, sorted(rows, key=lambda r: (r.employee.casefold()))))


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
