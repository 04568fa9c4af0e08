"""Who may do what: the reporting line, read from the database.

People change their own tasks and managers their reports' down the line
(``manages``, ``may_change``); a sender may add tasks only to projects of their
reporting line (``reporting_line``, ``project_open_to``), and every other project is
answered as unknown (``no_such_project``), so replies never reveal what exists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.people import Person, PersonAlias
from models.plan import Project, Task, parse_ref

MAX_CHAIN = 64  # longest reporting line walked: a cycle in bad data cannot loop forever


def manages(session: Session, manager_id: int, person_id: int) -> bool:
    """True when ``manager_id`` is above ``person_id`` in the reporting line."""
    current: int | None = person_id
    for _ in range(MAX_CHAIN):
        current = session.scalar(select(Person.manager_id).where(Person.id == current))
        if current is None:
            return False
        if current == manager_id:
            return True
    return False


def may_change(session: Session, sender: Person, owner_id: int) -> bool:
    """The owner themself, or anyone above the owner in the reporting line."""
    return sender.id == owner_id or manages(session, sender.id, owner_id)


def reporting_line(session: Session, person: Person) -> frozenset[int]:
    """The people whose projects ``person`` may add tasks to: themself, their managers
    up the chain (the line they report through), and their reports, recursively.
    Peers and other teams are outside it. One query per level."""
    line = {person.id}
    current = person.manager_id
    for _ in range(MAX_CHAIN):
        if current is None or current in line:
            break
        line.add(current)
        current = session.scalar(select(Person.manager_id).where(Person.id == current))
    level = {person.id}
    for _ in range(MAX_CHAIN):
        level = set(session.scalars(select(Person.id).where(
            Person.manager_id.in_(list(level))))) - line
        if not level:
            break
        line |= level
    return frozenset(line)


def project_open_to(session: Session, ref: str, line: frozenset[int]) -> Project | None:
    """The project ``ref`` names when someone of ``line`` owns it or has a task in it;
    None for an unknown and a forbidden project alike (see ``no_such_project``)."""
    parsed = parse_ref(ref)
    project = session.get(Project, parsed[1]) if parsed and parsed[0] == "P" else None
    if project is None:
        return None
    if project.owner_id in line:
        return project
    owners = session.scalars(select(Task.owner_id).where(Task.project_id == project.id)
                             .distinct())
    return project if any(owner in line for owner in owners) else None


def no_such_project(ref: str) -> str:
    """One answer for a project that does not exist and one the sender may not use, so
    replies cannot be used to find out which projects exist or what they are called."""
    return (f"there is no project {ref} you can add tasks to; see the P- references "
            "in your agenda")


def person_named(session: Session, name: str) -> Person | None:
    """An owner written as an email, or as @name matching one person's email or name."""
    name = name.strip().lstrip("@").lower()
    if "@" in name:
        person = session.scalar(select(Person).where(Person.email == name))
        return person or session.scalar(
            select(Person).join(PersonAlias).where(PersonAlias.email == name))
    matches = [p for p in session.scalars(select(Person)) if
               p.email.split("@")[0] == name or p.email.split("@")[0].split(".")[0] == name
               or p.name.lower() == name or p.name.lower().split()[0] == name]
    return matches[0] if len(matches) == 1 else None
