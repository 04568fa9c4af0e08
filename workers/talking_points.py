"""Talking points: ``topic:`` lines put a topic on a pair's next agendas until it is done.

Which pair a point belongs to (``topic_pair``): for ``topic @ana: …``, the sender and
that direct report (a name says more than the thread it is written in); else the
agenda replied to (or whose notes were forwarded); else the sender and their own
manager. A manager replying to no agenda without naming a
report is asked which 1:1. A point stays open until someone of the pair writes
``topic done: …`` (its words, any case, in full or a unique prefix) or a meeting of
the pair held on or after the day it was raised is logged (``close_after_meeting``),
so a topic raised in a meeting's own notes waits for the next one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from mail.read.commands import Topic, TopicDone
from mail.write.agenda import TalkingPoint as TalkingPointLine
from mail.write.language import N_, translations
from models.meetings import Meeting
from models.people import Person
from models.talking_points import TalkingPoint

__all__ = ["close_after_meeting", "close_topic", "open_points", "raise_topic", "topic_pair"]

Said = tuple[bool, str]  # (done, the answer's words): done False is a refusal
ASK_WHICH = N_("which 1:1? Reply to that check-in's agenda, or name the report: "
             "topic @ana: the hiring plan")


def _named(person: Person, name: str) -> bool:
    """``@ana``, ``@ana.lee`` or ``@ana@acme.example`` names this person."""
    local = person.email.split("@")[0]
    return name in (person.email, local, local.split(".")[0], person.name.lower(),
                    person.name.lower().split()[0])


def topic_pair(session: Session, sender: Person, agenda_pair: tuple[int, int] | None,
               report: str | None) -> tuple[int, int] | str:
    """The (manager, employee) a talking point belongs to, or why none could be told."""
    _ = translations(sender.language).gettext  # the answer's reader
    if report is not None:
        reports = session.scalars(select(Person).where(Person.manager_id == sender.id)).all()
        found = [p for p in reports if _named(p, report.lstrip("@").lower())]
        if len(found) != 1:
            return _("'@%(name)s' is not one of your direct reports; name them by email or "
                     "@name, e.g. topic @ana: the hiring plan") % {"name": report}
        return sender.id, found[0].id
    if agenda_pair is not None and sender.id in agenda_pair:
        return agenda_pair
    if sender.manager_id is not None:
        return sender.manager_id, sender.id
    return _(ASK_WHICH)


def raise_topic(session: Session, sender: Person, command: Topic,
                agenda_pair: tuple[int, int] | None, *, inbound_id: int | None,
                now: datetime, today: date) -> tuple[Said, TalkingPoint | None]:
    """Add the point (an open point of the same words is not added twice)."""
    _ = translations(sender.language).gettext  # the answer's reader
    pair = topic_pair(session, sender, agenda_pair, command.report)
    if isinstance(pair, str):
        return (False, pair), None
    other = session.get(Person, pair[1] if pair[0] == sender.id else pair[0])
    assert other is not None
    same = [p for p in open_points(session, pair) if p.text.lower() == command.text.lower()]
    if same:
        return (True, _("Topic already on your next 1:1 with %(name)s: %(topic)s") % {
            "name": other.name, "topic": same[0].text}), None
    point = TalkingPoint(manager_id=pair[0], employee_id=pair[1], text=command.text,
                         raised_by_id=sender.id, raised_at=now, raised_on=today,
                         source_message_id=inbound_id)
    session.add(point)
    return (True, _("Topic added for your next 1:1 with %(name)s: %(topic)s") % {
        "name": other.name, "topic": command.text}), point


def close_topic(session: Session, sender: Person, command: TopicDone,
                agenda_pair: tuple[int, int] | None, *, now: datetime) -> Said:
    """Close the one open point of the sender's pairs (the agenda's, or the named
    report's, when given) whose words start with ``command.text``."""
    _ = translations(sender.language).gettext  # the answer's reader
    if command.report is not None or agenda_pair is not None:
        pair = topic_pair(session, sender, agenda_pair, command.report)
        if isinstance(pair, str):
            return False, pair
        points = open_points(session, pair)
    else:
        points = list(session.scalars(select(TalkingPoint).where(
            TalkingPoint.closed_at.is_(None),
            or_(TalkingPoint.manager_id == sender.id, TalkingPoint.employee_id == sender.id))
            .order_by(TalkingPoint.id)))
    wanted = command.text.lower()
    exact = [p for p in points if p.text.lower() == wanted]
    found = exact or [p for p in points if p.text.lower().startswith(wanted)]
    if not found:
        return False, _("no open topic of yours starts with that; the open ones are on your "
                        "agenda, e.g. topic done: the hiring plan")
    if len(found) > 1:
        names = "; ".join(p.text for p in found[:5])
        return False, _("more than one open topic starts with that (%(topics)s); write more "
                        "of it") % {"topics": names}
    point = found[0]
    point.closed_at, point.closed_by_id = now, sender.id
    other = session.get(Person, point.employee_id if point.manager_id == sender.id
                        else point.manager_id)
    assert other is not None
    return True, _("Topic closed for your 1:1s with %(name)s: %(topic)s") % {
        "name": other.name, "topic": point.text}


def open_points(session: Session, pair: tuple[int, int]) -> list[TalkingPoint]:
    """The pair's open talking points, oldest first."""
    return list(session.scalars(select(TalkingPoint).where(
        TalkingPoint.manager_id == pair[0], TalkingPoint.employee_id == pair[1],
        TalkingPoint.closed_at.is_(None)).order_by(TalkingPoint.id)))


def close_after_meeting(session: Session, meetings: Iterable[Meeting], now: datetime,
                        keep: Iterable[TalkingPoint] = ()) -> int:
    """Close the points a held meeting covered: raised on or before the day it was held,
    and not in the message that logged it (``keep``). Returns how many were closed."""
    kept = {id(point) for point in keep}
    closed = 0
    for meeting in meetings:
        if meeting.held_on is None or meeting.status != "held":
            continue
        for point in open_points(session, (meeting.manager_id, meeting.employee_id)):
            if id(point) in kept or point.raised_on > meeting.held_on:
                continue
            point.closed_at, point.closed_by_meeting_id = now, meeting.id
            closed += 1
    return closed


def agenda_points(session: Session, pairs: Collection[tuple[int, int]]
                  ) -> dict[tuple[int, int], tuple[TalkingPointLine, ...]]:
    """The pairs' open points as their agendas show them, with who raised each, oldest
    first: one query for all the pairs (those with none are left out)."""
    raiser = aliased(Person)
    rows = session.execute(
        select(TalkingPoint.manager_id, TalkingPoint.employee_id, TalkingPoint.text,
               raiser.name, TalkingPoint.raised_on)
        .outerjoin(raiser, raiser.id == TalkingPoint.raised_by_id)
        .where(TalkingPoint.employee_id.in_({employee for _manager, employee in pairs}),
               TalkingPoint.closed_at.is_(None))
        .order_by(TalkingPoint.id))
    found: dict[tuple[int, int], list[TalkingPointLine]] = {}
    for manager_id, employee_id, text, name, raised_on in rows:
        if (manager_id, employee_id) in pairs:
            found.setdefault((manager_id, employee_id), []).append(TalkingPointLine(
                text=text, raised_by_name=name or "", raised_on=raised_on))
    return {pair: tuple(lines) for pair, lines in found.items()}
