"""Time away: ``away: 21 Dec - 4 Jan`` excuses the sender's check-ins in it and tells
the other side of each pair, once.

For every pair of the sender (with their manager, and with each report) the check-in
of each cadence period whose day (the employee's clock, as agendas are scheduled)
lies in the range is excused: the period's meeting row says excused, with the sender
as ``excused_by``. A period someone already logged as held is left as it is. The
range itself is kept (``TimeAway``), so the scheduler sends no agenda for a slot in
it (``workers.agendas``) whatever rows exist. The other side of each pair gets one
notice per range (the dedupe key names the range and the pair); an out-of-office
auto-reply never gets here, since automatic mail is never applied. The notices are
handed back to the caller, which adds them to the outbox with the answer (so the worker
that applied the message sends them right after the commit).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.read.commands import Away
from mail.write.agenda import AwayNoticeView
from mail.write.compose import make_message_id, thread_root_id
from mail.write.render import render_away_notice
from models.checkins import PairSchedule, slot_in_period
from models.mailbox import OutboundMessage
from models.meetings import Meeting, MeetingStatus, Says, meeting_status
from models.people import Person
from models.scoring import Cadence, Period, period_containing
from models.talking_points import TimeAway
from workers.outbox import OutboxRow

__all__ = ["AWAY", "away_dedupe_key", "range_words", "take_time_away"]

AWAY = "away"
MeetingRow = Callable[[int, int, Period], Meeting]  # the applier's: one row per pair and period


def away_dedupe_key(recipient_id: int, pair: tuple[int, int], start: date, end: date) -> str:
    """One notice per range and pair: the same ``away:`` line sent again tells nobody twice."""
    return f"{AWAY}:{recipient_id}:{pair[0]}-{pair[1]}:{start.isoformat()}:{end.isoformat()}"


def range_words(start: date, end: date, today: date) -> str:
    """``21 Dec – 4 Jan 2027``: a year only where it is not this one."""
    def day(value: date) -> str:
        return f"{value.day} {value:%b}" + (f" {value.year}" if value.year != today.year else "")
    return day(start) if start == end else f"{day(start)} – {day(end)}"


def _slot_days(employee: Person, manager_id: int, start: date, end: date
               ) -> list[tuple[Period, date]]:
    """The pair's periods whose check-in day (the employee's clock) lies in the range."""
    cadence = Cadence(employee.cadence)
    schedule = PairSchedule(manager_id=manager_id, employee_id=employee.id, cadence=cadence,
                            weekday=employee.checkin_weekday, local_time=employee.checkin_time,
                            timezone=employee.timezone)
    found, period = [], period_containing(start, cadence)
    while period.start <= end:
        day = slot_in_period(schedule, period).local_at.date()
        if start <= day <= end:
            found.append((period, day))
        period = period_containing(period.end + timedelta(days=1), cadence)
    return found


def _excuse(meeting: Meeting, sender: Person, reason: str, inbound_id: int | None) -> bool:
    """Excuse the period unless someone logged it as held; True when it was excused."""
    if Says.HELD.value in (meeting.manager_says, meeting.employee_says):
        return False
    meeting.excused_by_id, meeting.reason = sender.id, reason
    meeting.status = meeting_status(meeting.manager_says, meeting.employee_says,
                                    excused=True).value
    meeting.source_message_id = meeting.source_message_id or inbound_id
    return meeting.status == MeetingStatus.EXCUSED.value


def take_time_away(session: Session, sender: Person, command: Away, *, today: date,
                   inbound_id: int | None, now: datetime, domain: str,
                   meeting_row: MeetingRow) -> tuple[str, list[OutboxRow]]:
    """Record the range and excuse the check-ins in it; the answer, and the notices to
    the other sides not sent before (the caller adds them to the outbox)."""
    start, end = command.start, command.end
    session.add(TimeAway(person_id=sender.id, starts_on=start, ends_on=end, created_at=now,
                         source_message_id=inbound_id))
    pairs: list[tuple[Person, Person]] = []  # (manager, employee)
    if sender.manager_id is not None and (boss := session.get(Person, sender.manager_id)):
        pairs.append((boss, sender))
    pairs += [(sender, report) for report in session.scalars(
        select(Person).where(Person.manager_id == sender.id).order_by(Person.id))]
    words = range_words(start, end, today)
    excused, told, rows = 0, [], []
    for manager, employee in pairs:
        other = employee if manager.id == sender.id else manager
        if not other.is_active_on(today) and not other.is_active_on(start):
            continue
        count = sum(_excuse(meeting_row(manager.id, employee.id, period), sender,
                            f"away {words}", inbound_id)
                    for period, _day in _slot_days(employee, manager.id, start, end))
        excused += count
        told.append(other.name)
        notice = render_away_notice(AwayNoticeView(other.name, sender.name, start, end, count,
                                                 other.language))
        root = thread_root_id(manager.id, employee.id, domain)
        rows.append(OutboxRow(
            dedupe_key=away_dedupe_key(other.id, (manager.id, employee.id), start, end),
            kind=AWAY, to_address=other.email, subject=notice.subject,
            body_text=notice.text, body_html=notice.html,
            message_id=make_message_id(domain, AWAY), in_reply_to=root,
            references_header=root, recipient_id=other.id, created_at=now,
            context={"away_person_id": sender.id, "starts_on": start.isoformat(),
                     "ends_on": end.isoformat(), "excused": count}))
    sent = set(session.scalars(select(OutboundMessage.dedupe_key).where(
        OutboundMessage.dedupe_key.in_([row.dedupe_key for row in rows])))) if rows else set()
    new = [row for row in rows if row.dedupe_key not in sent]
    checkins = f"{excused} check-in{'' if excused == 1 else 's'} excused"
    if not told:
        return f"Away {words}: {checkins}", new
    names = ", ".join(told[:-1]) + (" and " if len(told) > 1 else "") + told[-1]
    tell = (f"{names} {'is' if len(told) == 1 else 'are'} told" if new
            else f"{names} {'was' if len(told) == 1 else 'were'} told already")
    return f"Away {words}: {checkins}; {tell}", new
