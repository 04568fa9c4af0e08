"""Writing a checked people file into the database: all of it, or (on any problem) none.

People are matched by email, then by alias, so a re-import updates in place.
A pair this import forms (a new person with a manager, or a manager change) is
tracked from the row's ``tracking_from``, else from the import's ``tracking_from``
(the CLI passes today); a row's ``tracking_from`` also moves an existing pair's.
The checks that need the database (unknown managers, cycles through people
not in the file, addresses owned by someone else) run before anything is
written, and every problem is reported in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.importing.org_graph import find_cycles
from models.importing.people_file import PeopleFile, PersonRecord
from models.importing.problems import ProblemLog
from models.people import Person, PersonAlias
from models.scoring import Cadence


@dataclass
class Defaults:
    """Values for columns a new person's row leaves empty."""

    timezone: str = "UTC"
    language: str = "en"
    cadence: str = Cadence.WEEKLY.value
    checkin_weekday: int = 0
    checkin_time: time = time(10, 0)


@dataclass
class PeopleSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def load_people(session: Session, people: PeopleFile, defaults: Defaults | None = None,
                tracking_from: date | None = None) -> PeopleSummary:
    """Apply ``people`` in the session's transaction; raises ImportFailed with every problem.

    ``tracking_from`` is when the pairs this import forms start being tracked (None:
    at their first agenda)."""
    defaults = defaults or Defaults()
    log = people.problems
    existing = _existing_people(session)
    by_address = _addresses(existing)
    matched = {rec.email: by_address.get(rec.email) or _by_alias(rec, by_address)
               for rec in people.records}
    _check_managers(people.records, by_address, log)
    _check_cycles(people.records, matched, existing, by_address, log)
    _check_addresses(people.records, matched, by_address, log)
    log.raise_if_any()

    summary = PeopleSummary()
    person_for: dict[str, Person] = {}  # every address in the file → its person
    changed: set[str] = set()
    for record in people.records:
        person = matched[record.email]
        if person is None:
            person = Person(email=record.email, name=record.name, timezone=defaults.timezone,
                            language=defaults.language, cadence=defaults.cadence,
                            checkin_weekday=defaults.checkin_weekday,
                            checkin_time=defaults.checkin_time)
            session.add(person)
            summary.created.append(record.email)
        if _apply_fields(person, record):
            changed.add(record.email)
        for address in [record.email, *(record.aliases or [])]:
            person_for[address] = person
    for record in people.records:
        if not record.manager_given:
            continue
        target = record.manager_email
        manager = (person_for.get(target) or by_address.get(target)) if target else None
        person = person_for[record.email]
        if person.manager is not manager:
            person.manager = manager
            if manager is not None and record.tracking_from is None:
                person.tracking_from = tracking_from  # a new pair: counted from now
            changed.add(record.email)
    changed |= _apply_aliases(session, people.records, person_for)
    session.flush()
    created = set(summary.created)
    for record in people.records:
        if record.email in created:
            continue
        if record.email in changed:
            summary.updated.append(record.email)
        else:
            summary.unchanged += 1
    return summary


def _existing_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).options(selectinload(Person.aliases))))


def _addresses(people: list[Person]) -> dict[str, Person]:
    addresses = {person.email: person for person in people}
    for person in people:
        for alias in person.aliases:
            addresses.setdefault(alias.email, person)
    return addresses


def _by_alias(record: PersonRecord, by_address: dict[str, Person]) -> Person | None:
    """A row whose email is someone's alias is that person under a new primary address."""
    return next((by_address[a] for a in record.aliases or [] if a in by_address), None)


def _check_managers(records: list[PersonRecord], by_address: dict[str, Person],
                    log: ProblemLog) -> None:
    in_file = {record.email for record in records} | {
        alias for record in records for alias in record.aliases or []}
    for record in records:
        manager = record.manager_email
        if manager and manager not in in_file and manager not in by_address:
            log.add(record.row, "manager_email", f"no person has the address {manager}",
                    "Add a row for the manager, or correct the address.")


def _check_cycles(records: list[PersonRecord], matched: dict[str, Person | None],
                  existing: list[Person], by_address: dict[str, Person],
                  log: ProblemLog) -> None:
    """The reporting line after the import must end at someone with no manager."""
    key_of: dict[str, str] = {address: f"#{p.id}" for address, p in by_address.items()}
    name_of = {f"#{p.id}": p.email for p in existing}
    manager_of: dict[str, str | None] = {
        f"#{p.id}": f"#{p.manager_id}" if p.manager_id else None for p in existing}
    for record in records:
        person = matched[record.email]
        key = f"#{person.id}" if person else record.email
        for address in [record.email, *(record.aliases or [])]:
            key_of[address] = key
        name_of[key] = record.email
        manager_of.setdefault(key, None)
    row_of = {key_of[record.email]: record.row for record in records}
    for record in records:
        if not record.manager_given:
            continue
        key = key_of[record.email]
        target = key_of.get(record.manager_email) if record.manager_email else None
        if target == key:
            log.add(record.row, "manager_email",
                    f"{record.manager_email} is this person's own address",
                    "A person cannot be their own manager; leave it empty for the top.")
            target = None
        manager_of[key] = target
    for cycle in find_cycles(manager_of):
        rows = [row_of[k] for k in cycle if k in row_of]
        chain = " → ".join(name_of.get(k, k) for k in cycle)
        log.add(min(rows) if rows else None, "manager_email", f"managers form a cycle: {chain}",
                "Someone in this chain must report to a person outside it (or to nobody).")


def _check_addresses(records: list[PersonRecord], matched: dict[str, Person | None],
                     by_address: dict[str, Person], log: ProblemLog) -> None:
    """An address in the file may not belong to a different person already in Drumbeat."""
    for record in records:
        me = matched[record.email]
        for field_name, address in [("email", record.email)] + [
                ("aliases", a) for a in record.aliases or []]:
            owner = by_address.get(address)
            if owner is not None and owner is not me:
                log.add(record.row, field_name, f"{address} already belongs to {owner.email}",
                        "One address, one person: remove it from the other person first.")


FIELDS = ("name", "timezone", "cadence", "checkin_weekday", "checkin_time", "is_hr",
          "active_from", "active_until", "tracking_from", "language")


def _apply_fields(person: Person, record: PersonRecord) -> bool:
    """Copy the values the file gives; True when something stored changes."""
    changed = person.email != record.email
    person.email = record.email
    for name in FIELDS:
        value = getattr(record, name)
        if value is not None and getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    return changed


def _apply_aliases(session: Session, records: list[PersonRecord],
                   person_for: dict[str, Person]) -> set[str]:
    """Replace the aliases of people whose row has an aliases column; returns who changed."""
    changed: set[str] = set()
    for record in records:
        if record.aliases is None:
            continue
        person = person_for[record.email]
        wanted = [a for a in dict.fromkeys(record.aliases) if a != record.email]
        if sorted(a.email for a in person.aliases) == sorted(wanted):
            continue
        person.aliases.clear()
        session.flush()  # free the addresses before they are inserted again
        person.aliases.extend(PersonAlias(email=address) for address in wanted)
        changed.add(record.email)
    return changed

