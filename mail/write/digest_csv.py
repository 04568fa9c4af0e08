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
number of goals at risk is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from mail.write.digest import DigestView, PersonFigures

__all__ = ["COLUMNS", "figures_csv"]

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


_Getter = Callable[[PersonFigures], str]

#: (header, cell) in column order: every scalar field of PersonFigures, plus the
#: number of goals at risk.
COLUMNS: tuple[tuple[str, _Getter], ...] = (
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


def figures_csv(view: DigestView) -> bytes:
    """The people of ``view`` as CSV bytes (UTF-8 with BOM, CRLF), in the view's order."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow([header for header, _ in COLUMNS])
    for person in view.people:
        writer.writerow([cell(person) for _, cell in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
