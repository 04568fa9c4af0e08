"""Writing a checked meetings file into the database: all of it, or (on any problem) none.

A back-filled 1:1 lands on the meeting row of its pair and cadence period (the
employee's cadence), as a reply would. Importing the same file again changes
nothing; a row that differs from what an earlier import stored updates it, but a
period Drumbeat already recorded from the pair's own mail is theirs: a file that
disagrees with it is refused. Every back-filled period counts: the employee's
tracking start moves back to the earliest one (``models.scoring.counted_from``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.importing.meetings_file import MeetingRecord, MeetingsFile
from models.importing.problems import ProblemLog
from models.meetings import Meeting, MeetingStatus
from models.people import Person, PersonAlias
from models.scoring import Cadence, counted_from, period_containing

IMPORTED_REASON = "back-filled from another tool"


@dataclass
class MeetingsSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    tracking_moved: list[str] = field(default_factory=list)  # emails whose start moved back


@dataclass(frozen=True)
class _Wanted:
    """What a row asks the meeting row to hold."""

    status: str
    held_on: date | None
    notes: str | None
    reason: str | None


def load_meetings(session: Session, meetings: MeetingsFile, today: date) -> MeetingsSummary:
    """Apply ``meetings`` in the session's transaction; raises ImportFailed with every
    problem. ``today`` bounds the dates: a back-filled 1:1 has already happened."""
    log = meetings.problems
    people = _people_by_address(session, meetings.records)
    keyed = _check_rows(meetings.records, people, today, log)
    existing = _existing(session, keyed)
    for key, record in keyed.items():
        row = existing.get(key)
        if row is not None and _from_mail(row) and _wanted(record) != _stored(row):
            log.add(record.row, "status", f"Drumbeat already has this 1:1 ({_says(row)}) from "
                    "the pair's own mail", "Remove the row: what the two of them said stands.")
    log.raise_if_any()

    summary = MeetingsSummary()
    for key, record in keyed.items():
        manager_id, employee_id, period_start = key
        wanted = _wanted(record)
        row = existing.get(key)
        if row is None:
            period = period_containing(record.day, Cadence(people[record.employee_email].cadence))
            session.add(Meeting(manager_id=manager_id, employee_id=employee_id,
                                period_start=period_start, period_end=period.end,
                                status=wanted.status, held_on=wanted.held_on,
                                notes=wanted.notes, reason=wanted.reason))
            summary.created += 1
        elif _stored(row) == wanted:
            summary.unchanged += 1
        else:
            row.status, row.held_on, row.notes, row.reason = (
                wanted.status, wanted.held_on, wanted.notes, wanted.reason)
            summary.updated += 1
    _move_tracking(meetings.records, people, summary)
    session.flush()
    return summary


def _people_by_address(session: Session, records: list[MeetingRecord]) -> dict[str, Person]:
    """Everyone the file names, by email or alias (two queries, whatever its size)."""
    addresses = {r.employee_email for r in records} | {r.manager_email for r in records}
    found = {p.email: p for p in session.scalars(
        select(Person).where(Person.email.in_(addresses)))}
    for alias, person in session.execute(
            select(PersonAlias.email, Person).join(Person, Person.id == PersonAlias.person_id)
            .where(PersonAlias.email.in_(addresses - found.keys()))):
        found[alias] = person
    return found


def _check_rows(records: list[MeetingRecord], people: dict[str, Person], today: date,
                log: ProblemLog) -> dict[tuple[int, int, date], MeetingRecord]:
    """Each row's (manager, employee, period start), with the problems only the
    database can tell: unknown people, the future, two rows for one period."""
    keyed: dict[tuple[int, int, date], MeetingRecord] = {}
    for record in records:
        employee = people.get(record.employee_email)
        manager = people.get(record.manager_email)
        for name, address, person in (("employee_email", record.employee_email, employee),
                                      ("manager_email", record.manager_email, manager)):
            if person is None:
                log.add(record.row, name, f"no person has the address {address}",
                        "Import the people first, or correct the address.")
        if record.day > today:
            log.add(record.row, "date", f"{record.day} is in the future",
                    "Back-fill 1:1s that already happened; Drumbeat records the next ones.")
            continue
        if employee is None or manager is None:
            continue
        if employee.id == manager.id:
            log.add(record.row, "manager_email", "is the employee's own address",
                    "A 1:1 is between an employee and their manager.")
            continue
        period = period_containing(record.day, Cadence(employee.cadence))
        key = (manager.id, employee.id, period.start)
        earlier = keyed.get(key)
        if earlier is not None:
            log.add(record.row, "date", f"row {earlier.row} is already this pair's 1:1 of "
                    f"the {employee.cadence} period {period.start}..{period.end}",
                    "Keep one row per pair and period.")
            continue
        keyed[key] = record
    return keyed


def _existing(session: Session, keyed: dict[tuple[int, int, date], MeetingRecord]
              ) -> dict[tuple[int, int, date], Meeting]:
    """The meeting rows already there for the file's periods (asked by employee)."""
    if not keyed:
        return {}
    employees = {employee_id for _manager, employee_id, _start in keyed}
    rows = session.scalars(select(Meeting).where(Meeting.employee_id.in_(employees)))
    return {key: row for row in rows
            if (key := (row.manager_id, row.employee_id, row.period_start)) in keyed}


def _wanted(record: MeetingRecord) -> _Wanted:
    held = record.status is MeetingStatus.HELD
    return _Wanted(record.status.value, record.day if held else None, record.minutes,
                   IMPORTED_REASON if record.status is MeetingStatus.EXCUSED else None)


def _stored(row: Meeting) -> _Wanted:
    return _Wanted(row.status, row.held_on, row.notes, row.reason)


def _from_mail(row: Meeting) -> bool:
    """Recorded from the pair's own replies or notes, not by an import."""
    return (row.source_message_id is not None or row.manager_says is not None
            or row.employee_says is not None or row.confirmed_by_manager
            or row.confirmed_by_employee)


def _says(row: Meeting) -> str:
    status = row.status.replace("_", " ")
    return f"{status} on {row.held_on}" if row.held_on else status


def _move_tracking(records: list[MeetingRecord], people: dict[str, Person],
                   summary: MeetingsSummary) -> None:
    """Back-filled periods count: each employee is tracked from the earliest of them."""
    days: dict[int, list[date]] = {}
    for record in records:
        days.setdefault(people[record.employee_email].id, []).append(record.day)
    for person in {p.id: p for p in people.values()}.values():
        if person.id not in days:
            continue
        start = counted_from(person.tracking_from, days[person.id], Cadence(person.cadence))
        if start != person.tracking_from:
            person.tracking_from = start
            summary.tracking_moved.append(person.email)
