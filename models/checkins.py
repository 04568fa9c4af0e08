"""Check-in timing: when each manager–employee 1:1 happens and when its agenda is due.

Pure functions over plain data (no database, no I/O, no clock): the scheduler
passes ``now`` in, so ticking twice for the same minute, or once after hours of
downtime, is a deterministic function of ``now`` and the outbox can dedupe on
(person, pair, period key). Periods are those of ``models.scoring``, so a slot's
period is the one adherence counts the meeting in.

The slot of a period (``slot_in_period``)
    The check-in day is the first day on or after the period's start with the
    schedule's weekday:
      weekly:   that weekday in the ISO week;
      biweekly: that weekday in the FIRST week of the 14-day block (blocks are
                aligned to ``BIWEEKLY_EPOCH``, Monday 2024-01-01), so the second
                week of every block has no slot;
      monthly:  the first occurrence of that weekday in the calendar month.
    That local date plus ``local_time``, read in the schedule's IANA zone, is
    converted to UTC with zoneinfo (``datetime.combine(day, time, tzinfo=zone)``
    with fold=0, then ``.astimezone(UTC)``). Consequences at DST changes:
      - a local time that does not exist (spring-forward gap) is read with the
        offset in force BEFORE the gap, so it lands as far past the gap's end
        as it was past its start: Sunday 02:30 in Europe/Berlin on 2026-03-29
        is 02:30+01:00 = 01:30 UTC, which is 03:30 CEST locally (``local_at``);
      - an ambiguous local time (fall-back overlap) is its FIRST occurrence
        (fold=0): 02:30 in Europe/Berlin on 2026-10-25 is 02:30 CEST = 00:30 UTC.
    A slot's *local date* is ``local_at.date()``; it is the check-in day except
    in a zone that skips a whole calendar day.

Agendas (``due_agendas``)
    A slot is due when ``slot.at - lead <= now < slot.at`` and both people are
    active (``ActiveSpan.covers``, inclusive) on the slot's local date. The
    window is half-open, so a slot is due from exactly ``at - lead`` and stops
    being due at ``at``: a scheduler that was down while a window opened still
    sends the agenda if the meeting is ahead, but never one for a meeting that
    already happened. With a lead longer than the cadence, several periods of
    one pair are due at once; all are returned. The result is ordered by
    (at, manager_id, employee_id) and holds each slot once.

Closed periods (``closed_periods``)
    A period's *end instant* is local midnight at the start of the day after its
    last day (fold=0; where midnight does not exist that is the instant the day
    began), as UTC. ``closed_periods`` returns, oldest first, the periods whose
    end instant lies in ``(now - within, now]`` and whose slot is at or before
    ``now``, when both people were active on the slot's local date: the periods
    that just closed, for "you did not log a meeting" nudges.

Every ``now``/``after``/``before`` must be an aware datetime (ValueError
otherwise); ``lead`` and ``within`` must not be negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.scoring import ALWAYS_ACTIVE, ActiveSpan, Cadence, Period, period_containing

__all__ = [
    "PairSchedule",
    "Slot",
    "closed_periods",
    "due_agendas",
    "next_slot",
    "previous_slot",
    "slot_in_period",
]

_DAY = timedelta(days=1)
_MIDNIGHT = time(0)


@cache
def _zone(name: str) -> ZoneInfo:
    """The zone for an IANA name, looked up once: due_agendas runs for every pair each minute."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory
        raise ValueError(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class PairSchedule:
    """When one manager–employee pair meets: the employee's cadence, day, time and zone."""

    manager_id: int
    employee_id: int
    cadence: Cadence
    weekday: int  # 0=Monday..6=Sunday
    local_time: time  # naive, read in ``timezone``
    timezone: str  # IANA name
    employee_active: ActiveSpan = ALWAYS_ACTIVE
    manager_active: ActiveSpan = ALWAYS_ACTIVE

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday!r}")
        if self.local_time.tzinfo is not None:
            raise ValueError("local_time must be naive: it is read in the schedule's time zone")
        _zone(self.timezone)  # fail here, not in the middle of a scheduler tick


@dataclass(frozen=True)
class Slot:
    """One check-in: the period it belongs to and the instant it happens."""

    schedule: PairSchedule
    period: Period
    at: datetime  # aware, UTC

    @property
    def local_at(self) -> datetime:
        """``at`` on the employee's clock, as the agenda should print it."""
        return self.at.astimezone(_zone(self.schedule.timezone))


# --- slots --------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    """Reject naive datetimes: guessing their zone would move meetings by hours."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _both_active(schedule: PairSchedule, day: date) -> bool:
    """Whether both people are there on ``day``: nobody gets an agenda for a gone report."""
    return schedule.employee_active.covers(day) and schedule.manager_active.covers(day)


def _check_day(period: Period, weekday: int) -> date:
    """First day on or after the period's start with ``weekday`` (see module docstring)."""
    return period.start + timedelta(days=(weekday - period.start.weekday()) % 7)


def _slot_at(schedule: PairSchedule, period: Period) -> datetime:
    """The UTC instant of the period's check-in; fold=0 settles DST gaps and overlaps."""
    day = _check_day(period, schedule.weekday)
    wall = schedule.local_time.replace(fold=0)
    return datetime.combine(day, wall, tzinfo=_zone(schedule.timezone)).astimezone(UTC)


def _following(period: Period, cadence: Cadence) -> Period:
    """The next period: slots are searched period by period, never minute by minute."""
    return period_containing(period.end + _DAY, cadence)


def _preceding(period: Period, cadence: Cadence) -> Period:
    """The period before: a neighbour's slot may sit on either side of an instant."""
    return period_containing(period.start - _DAY, cadence)


def _local_day(moment: datetime, timezone: str) -> date:
    """The calendar date of ``moment`` on the schedule's clock."""
    return moment.astimezone(_zone(timezone)).date()


def slot_in_period(schedule: PairSchedule, period: Period) -> Slot:
    """The check-in of ``period``; ValueError if it is not a period of the schedule's cadence."""
    if period_containing(period.start, schedule.cadence) != period:
        raise ValueError(f"{period.start}..{period.end} is not a {schedule.cadence} period")
    return Slot(schedule, period, _slot_at(schedule, period))


def next_slot(schedule: PairSchedule, after: datetime) -> Slot:
    """The first slot with ``at > after``.

    The search starts one period before the one holding ``after``'s local date,
    since an offset change can put a neighbouring period's slot on either side.
    """
    _require_aware(after, "after")
    cadence = schedule.cadence
    holding = period_containing(_local_day(after, schedule.timezone), cadence)
    period = _preceding(holding, cadence)
    while True:
        at = _slot_at(schedule, period)
        if at > after:
            return Slot(schedule, period, at)
        period = _following(period, cadence)


def previous_slot(schedule: PairSchedule, before: datetime) -> Slot | None:
    """The last slot with ``at <= before``; None only when it would precede year 1."""
    _require_aware(before, "before")
    cadence = schedule.cadence
    try:
        holding = period_containing(_local_day(before, schedule.timezone), cadence)
        period = _following(holding, cadence)
        while True:
            at = _slot_at(schedule, period)
            if at <= before:
                return Slot(schedule, period, at)
            period = _preceding(period, cadence)
    except OverflowError:
        return None


# --- agendas ------------------------------------------------------------------


_Timing = tuple[Cadence, int, time, str]


def _timing(schedule: PairSchedule) -> _Timing:
    """What decides a schedule's slots; pairs sharing it share the computation."""
    return (schedule.cadence, schedule.weekday, schedule.local_time, schedule.timezone)


def _due_in_window(
    schedule: PairSchedule, now: datetime, lead: timedelta
) -> list[tuple[Period, datetime, date]]:
    """(period, at, local date) of every slot with ``at - lead <= now < at``, ignoring activity."""
    cadence = schedule.cadence
    zone = _zone(schedule.timezone)
    period = _preceding(period_containing(now.astimezone(zone).date(), cadence), cadence)
    due: list[tuple[Period, datetime, date]] = []
    while True:
        at = _slot_at(schedule, period)
        if at - lead > now:
            return due
        if at > now:
            due.append((period, at, at.astimezone(zone).date()))
        period = _following(period, cadence)


def due_agendas(now: datetime, schedules: Iterable[PairSchedule], lead: timedelta) -> list[Slot]:
    """Slots whose agenda window ``[at - lead, at)`` holds ``now``, for active pairs.

    Slot times are computed once per distinct (cadence, weekday, time, zone), as
    thousands of pairs share a handful of those and this runs every minute.
    """
    _require_aware(now, "now")
    if lead < timedelta(0):
        raise ValueError(f"lead must not be negative, got {lead!r}")
    by_timing: dict[_Timing, list[tuple[Period, datetime, date]]] = {}
    found: dict[Slot, None] = {}  # ordered set: the same schedule twice yields one slot
    for schedule in schedules:
        key = _timing(schedule)
        if key not in by_timing:
            by_timing[key] = _due_in_window(schedule, now, lead)
        for period, at, day in by_timing[key]:
            if _both_active(schedule, day):
                found[Slot(schedule, period, at)] = None
    return sorted(found, key=lambda s: (s.at, s.schedule.manager_id, s.schedule.employee_id))


def _end_instant(period: Period, timezone: str) -> datetime:
    """Local midnight after the period's last day, as UTC (fold=0: a missing midnight
    is read with the old offset, which is the instant the day actually began)."""
    return datetime.combine(period.end + _DAY, _MIDNIGHT, tzinfo=_zone(timezone)).astimezone(UTC)


def closed_periods(now: datetime, schedule: PairSchedule, within: timedelta) -> list[Period]:
    """Periods that ended in ``(now - within, now]`` after their slot, for active pairs.

    Nudges ("you did not log a meeting") go out once a period is over; a window
    of the scheduler's own interval finds each period on exactly one tick.
    """
    _require_aware(now, "now")
    if within < timedelta(0):
        raise ValueError(f"within must not be negative, got {within!r}")
    cadence = schedule.cadence
    since = now - within
    period = period_containing(_local_day(since, schedule.timezone) - _DAY, cadence)
    closed: list[Period] = []
    while (end := _end_instant(period, schedule.timezone)) <= now:
        if since < end:
            slot = slot_in_period(schedule, period)
            if slot.at <= now and _both_active(schedule, slot.local_at.date()):
                closed.append(period)
        period = _following(period, cadence)
    return closed
