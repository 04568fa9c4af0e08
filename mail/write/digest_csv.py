"""The CSV attached to every evaluation digest: one row per person, every figure.

Made to open cleanly in Excel as well as in any CSV reader: UTF-8 with a byte
order mark (Excel reads "Zoë" as "ZoÃ«" without it), CRLF line ends, fields
quoted where needed (a comma, quote or line break in a name stays in its cell),
ISO dates, percentages as plain numbers with one decimal (empty for None:
"nothing to judge" is not 0), and a header row of readable column names.

Formula injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return would run as a formula in a spreadsheet, so it is prefixed
with an apostrophe (OWASP's advice). Numbers and dates are written by us and
never start that way.

The goal and timeline lists are not in the CSV (the email shows them); the
number of goals at risk is, and, last, the goal progress at the end with each
measurable goal's tasks rolled up in place of its measure (equal to the goal
progress for a person none of whose goals has a metric).

The review columns (the cycle's dates, the three steps' states, the self and
manager ratings) are always there, so a spreadsheet built on the file keeps its
columns: empty when the period has no review cycle or the person no review in
it, and holding only what the digest's reader may see (``DigestView.cycle``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from mail.write.digest import CycleSummary, DigestView, PersonFigures, ReviewFigures

__all__ = ["COLUMNS", "FIGURE_COLUMNS", "REVIEW_COLUMNS", "ROLLUP_COLUMN", "CsvRow",
           "figures_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _int(value: int | None) -> str:
    return "" if value is None else str(int(value))


@dataclass(frozen=True)
class CsvRow:
    """One person's line: their figures and, in a period with a cycle, their review."""

    person: PersonFigures
    review: ReviewFigures | None = None
    cycle: CycleSummary | None = None


_Getter = Callable[[PersonFigures], str]
_ReviewGetter = Callable[[ReviewFigures, CycleSummary], str]

#: (header, cell) of the figures: every scalar field of PersonFigures, plus the
#: number of goals at risk.
FIGURE_COLUMNS: tuple[tuple[str, _Getter], ...] = (
    ("Person ID", lambda p: _int(p.person_id)),
    ("Name", lambda p: _text(p.name)),
    ("Email", lambda p: _text(p.email)),
    ("Manager", lambda p: _text(p.manager_name)),
    ("Active from", lambda p: _day(p.active_from)),
    ("Active to", lambda p: _day(p.active_to)),
    ("Initiatives", lambda p: _text("; ".join(p.initiatives))),
    ("Goals owned", lambda p: _int(p.goals_owned)),
    ("Goals contributed to", lambda p: _int(p.goals_contributed)),
    ("Goal progress at start (%)", lambda p: _percent(p.goal_progress_start)),
    ("Goal progress at end (%)", lambda p: _percent(p.goal_progress_end)),
    ("Goals at risk", lambda p: str(len(p.goals_at_risk))),
    ("Tasks due", lambda p: _int(p.tasks_due)),
    ("Tasks done", lambda p: _int(p.tasks_done)),
    ("Tasks done on time", lambda p: _int(p.tasks_done_on_time)),
    ("Tasks overdue", lambda p: _int(p.tasks_overdue)),
    ("Tasks blocked", lambda p: _int(p.tasks_blocked)),
    ("On-time rate (%)", lambda p: _percent(p.on_time_rate)),
    ("Check-ins tracked since", lambda p: _day(p.tracked_since)),
    ("Check-ins expected", lambda p: _int(p.checkins_expected)),
    ("Check-ins held", lambda p: _int(p.checkins_held)),
    ("Check-ins confirmed by both", lambda p: _int(p.checkins_confirmed)),
    ("Check-ins excused", lambda p: _int(p.checkins_excused)),
    ("Check-ins excused by the manager", lambda p: _int(p.checkins_excused_by_manager)),
    ("Check-ins excused by the employee", lambda p: _int(p.checkins_excused_by_employee)),
    ("Check-ins disputed", lambda p: _int(p.checkins_disputed)),
    ("Check-in adherence (%)", lambda p: _percent(p.adherence)),
    ("Longest gap between check-ins (days)", lambda p: _int(p.longest_gap_days)),
    ("Last check-in", lambda p: _day(p.last_checkin)),
    ("Days since last check-in", lambda p: _int(p.days_since_checkin)),
    ("Direct reports", lambda p: _int(p.reports)),
    ("Team check-in adherence (%)", lambda p: _percent(p.team_adherence)),
)

#: (header, cell) of the review, when the person has one in the period's cycle.
REVIEW_COLUMNS: tuple[tuple[str, _ReviewGetter], ...] = (
    ("Review opened", lambda r, c: _day(c.opened)),
    ("Review deadline", lambda r, c: _day(c.deadline)),
    ("Self-review", lambda r, c: r.self_state),
    ("Self rating", lambda r, c: _int(r.self_rating)),
    ("Manager review", lambda r, c: r.manager_state),
    ("Manager rating", lambda r, c: _int(r.manager_rating)),
    ("Acknowledgement", lambda r, c: r.ack_state),
)


#: (header, cell) of the last column, added after the review's (a spreadsheet built on the
#: older file keeps its columns): ``PersonFigures.goal_tasks_end``.
ROLLUP_COLUMN: tuple[str, _Getter] = ("Goal tasks rolled up at end (%)",
                                      lambda p: _percent(p.goal_tasks_end))


def _figure_cell(getter: _Getter) -> Callable[[CsvRow], str]:
    return lambda row: getter(row.person)


def _review_cell(getter: _ReviewGetter) -> Callable[[CsvRow], str]:
    return lambda row: "" if row.review is None or row.cycle is None else getter(
        row.review, row.cycle)


#: (header, cell) in column order: the figures, the review, the goals' tasks rolled up.
COLUMNS: tuple[tuple[str, Callable[[CsvRow], str]], ...] = (
    *((header, _figure_cell(getter)) for header, getter in FIGURE_COLUMNS),
    *((header, _review_cell(getter)) for header, getter in REVIEW_COLUMNS),
    (ROLLUP_COLUMN[0], _figure_cell(ROLLUP_COLUMN[1])),
)


def figures_csv(view: DigestView) -> bytes:
    """The people of ``view`` as CSV bytes (UTF-8 with BOM, CRLF), in the view's order."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow([header for header, _ in COLUMNS])
    cycle = view.cycle
    reviews = {r.person_id: r for r in cycle.reviews} if cycle is not None else {}
    for person in view.people:
        row = CsvRow(person, reviews.get(person.person_id), cycle)
        writer.writerow([cell(row) for _, cell in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
