"""Reading a meetings CSV (1:1s kept before Drumbeat, exported from another tool) into
checked records (pure: no database).

Columns: employee_email, manager_email, date, status (all required) and minutes
(optional: the meeting's notes). Status is ``held``, ``not held`` or ``excused``,
with the words other tools use for them (yes / no, met / missed, leave). Every
problem is collected, not just the first, so one run shows everything to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from models.importing.csvfile import CsvFile, CsvRow, check_header
from models.importing.problems import ProblemLog
from models.importing.values import BadValue, read_date, read_email
from models.meetings import MeetingStatus

COLUMNS = ("employee_email", "manager_email", "date", "status", "minutes")
REQUIRED = ("employee_email", "manager_email", "date", "status")
SYNONYMS = {
    "employee": "employee_email", "employee_e_mail": "employee_email", "report": "employee_email",
    "report_email": "employee_email", "email": "employee_email",
    "manager": "manager_email", "manager_e_mail": "manager_email",
    "meeting_date": "date", "held_on": "date", "day": "date", "when": "date",
    "state": "status", "outcome": "status", "held": "status",
    "notes": "minutes", "meeting_notes": "minutes", "summary": "minutes",
}
STATUS_WORDS = {
    MeetingStatus.HELD: ("held", "yes", "y", "met", "done", "true", "happened", "completed"),
    MeetingStatus.NOT_HELD: ("not held", "not_held", "no", "n", "missed", "false", "cancelled",
                             "canceled", "skipped"),
    MeetingStatus.EXCUSED: ("excused", "leave", "holiday", "vacation", "out of office", "ooo"),
}
_STATUS = {word: status for status, words in STATUS_WORDS.items() for word in words}
MINUTES_CHARS = 20_000  # the notes a 1:1 can carry, as a forwarded notes email


@dataclass(frozen=True)
class MeetingRecord:
    """One back-filled 1:1 as the file describes it."""

    row: int
    employee_email: str
    manager_email: str
    day: date
    status: MeetingStatus
    minutes: str | None = None


@dataclass
class MeetingsFile:
    """What was read: the records, the problems, and columns we did not use."""

    records: list[MeetingRecord]
    problems: ProblemLog
    ignored_columns: list[str]


def read_status_word(text: str) -> MeetingStatus:
    """``held`` / ``not held`` / ``excused``, or another tool's word for one of them."""
    word = " ".join(text.strip().lower().replace("-", " ").split())
    try:
        return _STATUS[word]
    except KeyError:
        raise BadValue(f"{text.strip()!r} is not a meeting status",
                       "Write held, not held or excused.") from None


def read_meetings(path: Path) -> MeetingsFile:
    """Read and check a meetings CSV; the file's own problems are in ``problems``."""
    log = ProblemLog(path.name)
    with CsvFile(path, SYNONYMS) as csv_file:
        ignored, readable = check_header(csv_file.columns, REQUIRED, COLUMNS, log)
        if not readable:
            return MeetingsFile([], log, ignored)
        records = [_read_row(row, log) for row in csv_file.rows()]
    meetings = [record for record in records if record is not None]
    if not meetings and not log:
        log.add(None, None, "the file has no meetings in it", "Add one row per 1:1.")
    return MeetingsFile(meetings, log, ignored)


def _read_row(row: CsvRow, log: ProblemLog) -> MeetingRecord | None:
    cells = {name: text.strip() for name, text in row.cells.items()}
    values: dict[str, object] = {}
    if row.extra_cells:
        log.add(row.number, None, "the row has more cells than the header has columns",
                "Check for a stray comma or a missing header.")
    readers = (("employee_email", read_email), ("manager_email", read_email),
               ("date", read_date), ("status", read_status_word))
    for name, reader in readers:
        if not cells.get(name):
            log.add(row.number, name, "is empty", "Every 1:1 needs its employee, manager, "
                    "date and status.")
            continue
        try:
            values[name] = reader(cells[name])
        except BadValue as exc:
            log.add(row.number, name, exc.message, exc.hint)
    minutes = cells.get("minutes") or None
    if minutes is not None and len(minutes) > MINUTES_CHARS:
        log.add(row.number, "minutes", f"is longer than {MINUTES_CHARS:,} characters",
                "Keep the notes short, or link to the full document.")
        return None
    if len(values) < len(readers):
        return None
    if values["employee_email"] == values["manager_email"]:
        log.add(row.number, "manager_email", "is the employee's own address",
                "A 1:1 is between an employee and their manager.")
        return None
    return MeetingRecord(row.number, str(values["employee_email"]),
                         str(values["manager_email"]), values["date"],  # type: ignore[arg-type]
                         values["status"], minutes)  # type: ignore[arg-type]
