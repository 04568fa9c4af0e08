"""Reading the people CSV into checked records (pure: no database).

Columns: email, name (required), manager_email, timezone, cadence,
checkin_day, checkin_time, hr, aliases, active_from, active_until,
tracking_from (the day Drumbeat starts counting the person's 1:1s with their
manager, when that is not the import's day), language (the one Drumbeat writes to
them in: ``de``, ``ja``, ...). A column
that is absent leaves existing values alone on re-import; an empty
``manager_email`` cell means "reports to nobody". Every problem is collected,
not just the first, so one run shows everything to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from models.importing.csvfile import CsvFile, CsvRow, check_header
from models.importing.problems import ProblemLog
from models.importing.values import (
    WEEKDAY_NAMES,
    BadValue,
    read_bool,
    read_cadence,
    read_date,
    read_email,
    read_language,
    read_time,
    read_timezone,
    read_weekday,
)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


@dataclass(frozen=True)
class PeopleColumn:
    """A column of the people file, and how the export writes a stored person into it.

    ``stored`` is the attribute of the exported row (``manager_email`` and ``aliases``
    are looked up; the rest are the person's own columns).
    """

    name: str
    stored: str
    write: Callable[[Any], str] = str


PEOPLE_FORMAT = (
    PeopleColumn("email", "email"),
    PeopleColumn("name", "name"),
    PeopleColumn("manager_email", "manager_email", lambda v: v or ""),
    PeopleColumn("timezone", "timezone"),
    PeopleColumn("cadence", "cadence"),
    PeopleColumn("checkin_day", "checkin_weekday", lambda v: WEEKDAY_NAMES[v].capitalize()),
    PeopleColumn("checkin_time", "checkin_time", _clock),
    PeopleColumn("hr", "is_hr", lambda v: "yes" if v else "no"),
    PeopleColumn("aliases", "aliases", "; ".join),
    PeopleColumn("active_from", "active_from", _day),
    PeopleColumn("active_until", "active_until", _day),
    PeopleColumn("tracking_from", "tracking_from", _day),
    PeopleColumn("language", "language"),
)
COLUMNS = tuple(column.name for column in PEOPLE_FORMAT)
REQUIRED = ("email", "name")
SYNONYMS = {
    "e_mail": "email", "email_address": "email", "work_email": "email",
    "full_name": "name", "display_name": "name",
    "manager": "manager_email", "manager_e_mail": "manager_email", "reports_to": "manager_email",
    "time_zone": "timezone", "tz": "timezone",
    "check_in_day": "checkin_day", "day": "checkin_day", "weekday": "checkin_day",
    "check_in_time": "checkin_time", "time": "checkin_time",
    "is_hr": "hr", "alias": "aliases", "start_date": "active_from", "end_date": "active_until",
    "tracked_from": "tracking_from", "tracking_start": "tracking_from",
    "tracked_since": "tracking_from",
    "lang": "language", "locale": "language", "preferred_language": "language",
}


@dataclass
class PersonRecord:
    """One person as the file describes them; None means "not given, keep what is there"."""

    row: int
    email: str
    name: str
    manager_email: str | None = None
    manager_given: bool = False
    timezone: str | None = None
    cadence: str | None = None
    checkin_weekday: int | None = None
    checkin_time: time | None = None
    is_hr: bool | None = None
    aliases: list[str] | None = None
    active_from: date | None = None
    active_until: date | None = None
    tracking_from: date | None = None
    language: str | None = None


@dataclass
class PeopleFile:
    """What was read: the records, the problems, and columns we did not use."""

    records: list[PersonRecord]
    problems: ProblemLog
    ignored_columns: list[str]


def read_people(path: Path) -> PeopleFile:
    """Read and check a people CSV; the file's own problems are in ``problems``."""
    log = ProblemLog(path.name)
    with CsvFile(path, SYNONYMS) as csv_file:
        ignored, readable = check_header(csv_file.columns, REQUIRED, COLUMNS, log)
        if not readable:
            return PeopleFile([], log, ignored)
        records = [_read_row(row, log) for row in csv_file.rows()]
    people = [record for record in records if record is not None]
    if not people and not log:
        log.add(None, None, "the file has no people in it", "Add one row per person.")
    _check_unique_addresses(people, log)
    return PeopleFile(people, log, ignored)


def _read_row(row: CsvRow, log: ProblemLog) -> PersonRecord | None:
    cells = row.cells
    ok = True

    def cell(name: str, reader: Callable[[str], Any]) -> Any:
        nonlocal ok
        text = cells.get(name, "").strip()
        if not text:
            return None
        try:
            return reader(text)
        except BadValue as exc:
            ok = False
            log.add(row.number, name, exc.message, exc.hint)
            return None

    if row.extra_cells:
        log.add(row.number, None, "the row has more cells than the header has columns",
                "Check for a stray comma or a missing header.")
    email = cell("email", read_email)
    name = cells.get("name", "").strip()
    if not cells.get("email", "").strip():
        log.add(row.number, "email", "is empty", "Every person needs an email address.")
        ok = False
    if not name:
        log.add(row.number, "name", "is empty", "Write the person's name as it should appear.")
        ok = False
    record = PersonRecord(
        row=row.number,
        email=email or "",
        name=name,
        manager_email=cell("manager_email", read_email),
        manager_given="manager_email" in cells,
        timezone=cell("timezone", read_timezone),
        cadence=(c := cell("cadence", read_cadence)) and c.value,
        checkin_weekday=cell("checkin_day", read_weekday),
        checkin_time=cell("checkin_time", read_time),
        is_hr=cell("hr", read_bool),
        aliases=_read_aliases(row, log) if "aliases" in cells else None,
        active_from=cell("active_from", read_date),
        active_until=cell("active_until", read_date),
        tracking_from=cell("tracking_from", read_date),
        language=cell("language", read_language),
    )
    if record.manager_email and record.manager_email == record.email:
        log.add(row.number, "manager_email", "a person cannot be their own manager",
                "Leave it empty for the top of the organisation.")
        ok = False
    if record.active_from and record.active_until and record.active_until < record.active_from:
        log.add(row.number, "active_until", "is before active_from",
                "The end date must be on or after the start date.")
        ok = False
    return record if ok else None


def _read_aliases(row: CsvRow, log: ProblemLog) -> list[str]:
    aliases: list[str] = []
    for part in row.cells["aliases"].replace(",", ";").split(";"):
        if not part.strip():
            continue
        try:
            aliases.append(read_email(part))
        except BadValue as exc:
            log.add(row.number, "aliases", exc.message,
                    "Separate several addresses with semicolons.")
    return aliases


def _check_unique_addresses(people: list[PersonRecord], log: ProblemLog) -> None:
    """Each address (email or alias) may belong to one person in the file."""
    first_seen: dict[str, int] = {}
    for person in people:
        for field_name, address in [("email", person.email)] + [
            ("aliases", alias) for alias in person.aliases or []
        ]:
            earlier = first_seen.get(address)
            if earlier is not None and earlier != person.row:
                log.add(person.row, field_name, f"{address} is already used on row {earlier}",
                        "Each address belongs to one person; emails match whatever the case.")
            first_seen.setdefault(address, person.row)
