"""Who may do what: the reporting line, read from the database.

People change their own tasks and managers their reports' down the line
(``manages``, ``may_change``); a sender may add tasks only to projects of their
reporting line (``reporting_line``, ``project_open_to``), and every other project is
answered as unknown (``no_such_project``), so replies never reveal what exists.

Changes to the plan by email (hand-overs, titles, due dates, new projects, a goal's
figure) are open to a wider scope (``may_change_item``): the item's owner, anyone above
the owner in the reporting line, and the owner of anything the item is under (a goal's
owner for its projects and their tasks, a project's for its tasks). Any other item is
answered exactly like an unknown one (``no_such_item``). A new owner must be a known,
active person of the sender's team (``handover_line``: their manager's reporting line, so
peers too; ``new_owner``): we never mail a stranger.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.people import Person, PersonAlias
from models.plan import Goal, Initiative, Project, Task, parse_ref

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


PlanItemRow = Task | Project | Goal | Initiative


def owners_above(item: PlanItemRow) -> list[int]:
    """The item's owner, then the owners of what it is under, up to its initiative."""
    owners = [item.owner_id]
    parent: PlanItemRow | None = (item.project if isinstance(item, Task) else
                                  item.goal if isinstance(item, Project) else
                                  item.initiative if isinstance(item, Goal) else None)
    while parent is not None:
        owners.append(parent.owner_id)
        parent = (parent.goal if isinstance(parent, Project) else
                  parent.initiative if isinstance(parent, Goal) else None)
    return owners


def may_change_item(session: Session, sender: Person, item: PlanItemRow) -> bool:
    """The sender owns the item or something it is under, or is above its owner."""
    return sender.id in owners_above(item) or manages(session, sender.id, item.owner_id)


def no_such_task(ref: str) -> str:
    """One answer for a task that does not exist and one the sender may not touch."""
    return (f"{ref} is not one of your tasks or your reports' tasks; check the reference "
            "in your agenda")


def no_such_item(ref: str) -> str:
    """One answer for an item that does not exist and one outside the sender's scope
    (``may_change_item``), so a reply never reveals what someone else works on."""
    if ref.startswith("T-"):
        return no_such_task(ref)
    kind = "projects" if ref.startswith("P-") else "goals"
    return (f"{ref} is not one of your {kind}, under one of yours, or your reports'; "
            "check the reference in your agenda")


def handover_line(session: Session, sender: Person) -> frozenset[int]:
    """Whom the sender may hand an item to: their manager's reporting line (the managers
    up the chain, the sender's peers and everyone below them), or their own when they
    report to nobody."""
    base = session.get(Person, sender.manager_id) if sender.manager_id else None
    return reporting_line(session, base or sender)


def new_owner(session: Session, sender: Person, name: str, line: frozenset[int],
              today: date) -> Person | None:
    """The person ``name`` names when they may be given an item: known, active
    ``today`` and in ``line`` (``handover_line``); None otherwise, whichever the
    reason, so the answer cannot be used to learn who works here."""
    found = person_named(session, name)
    if found is None or found.id not in line or not found.is_active_on(today):
        return None
    return found


def no_such_owner(name: str) -> str:
    """One answer for a new owner nobody is called and one who may not be named."""
    return (f"I can't hand it to '{name}': name someone of your team, your managers' or "
            "your reports', by email or @name")
