"""Scores: the numbers every digest shows, computed in exactly one place.

Pure functions over plain data (no database, no I/O), so the agenda, the
quarterly digest and the annual evaluation can never disagree about a figure.
These rules are the documentation of how every number is computed.

Progress roll-up (``rollup``)
    A project's progress is the weighted mean of its tasks' progress; a goal's is
    the weighted mean of its projects'. Children that are dropped, or whose
    progress is unknown (None), are left out. With no child left, the parent's
    own progress field is used (None stays None). Every child's weight, dropped
    or not, must be finite and > 0, else ValueError. The result is clamped to
    [0, 100] and rounded to 1 decimal. A done task counts as 100: the caller
    passes that, since ``rollup`` knows no statuses.

Measurable goals (``measured_progress``, ``goal_progress_of``)
    A goal with a metric (start, target and the latest value) is measured: its
    progress is (value - start) / (target - start), in %, clamped to [0, 100] and
    rounded to 1 decimal, so a falling target (churn from 8% to 5%) works the same
    way and a value past the target is 100. Without a value yet it is None (not
    measured yet), as it is when start equals target. A goal without a metric keeps
    the weighted task roll-up; a measured goal's roll-up is still shown beside it.

On-time rate (``on_time``)
    A task is *due in the window* when it is not dropped and its due date d has
    start <= d <= end and, if ``as_of`` is given, d <= as_of (a task not yet due
    is not judged). Of those: ``done`` = completed on any date;
    ``done_on_time`` = completed on or before d; ``overdue`` = the rest (never
    completed, or completed after d), so done_on_time + overdue = due.
    ``rate`` = done_on_time / due rounded to 4 decimals, None when due == 0.

Cadence periods (``Period``, ``period_containing``, ``periods_in_window``)
    weekly:   ISO weeks, Monday..Sunday. Key "2026-W48" (ISO year and week).
    biweekly: 14-day blocks starting on a Monday, aligned so that one block
              starts on Monday 2024-01-01 (and every 14 days before or after).
              Key "2026-B24": the block's 1-based index among the blocks whose
              anchor falls in that calendar year.
    monthly:  calendar months. Key "2026-11".
    A period's *anchor* is its middle day, start + (end - start).days // 2 (a
    week's Thursday, a block's first Sunday, a month's 14th to 16th). A period
    belongs to the window [start, end] that contains its anchor, so each period
    belongs to exactly one of two adjacent windows and the four quarters of a
    year count exactly what the year counts. The key's year is always the
    anchor's year (for weeks that is the ISO year).

Check-in adherence (``adherence``)
    Candidates: the periods of the window whose anchor day both people were
    active on (``ActiveSpan`` is inclusive; None is open-ended) and, when
    ``tracking_from`` is given, that start on or after it: nobody is judged on
    a period that began before Drumbeat was tracking the pair. When ``as_of``
    is given, held dates after it are ignored everywhere (a snapshot knows
    nothing later). Each candidate period, in this order:
      1. if ``as_of`` is given and the period ends after it, it is left out
         unless it already has a held date (an unfinished period can only help);
      2. if any excused date falls inside it, it is ``excused`` and not
         expected (a meeting held in it does not count either);
      3. otherwise it is ``expected``, and ``held`` if a held date falls inside.
    ``rate`` = held / expected rounded to 4 decimals, None when expected == 0.
    Bookends: first = max(window_start, both active starts, tracking_from); last =
    min(window_end, as_of, both active ends). ``longest_gap_days`` = the most
    days between consecutive points of first, the distinct held dates in
    [first, last] in order, last; with no meeting it is last - first; None when
    last < first. ``last_held`` = the latest held date on or before last,
    including dates before the window; None if there is none.

Tracking start (``counted_from``)
    A pair is tracked from its first agenda, the people file's ``tracking_from``
    or the day a manager change formed it. Meetings back-filled from another
    tool count from their period: the counted start is the earliest of the
    tracking start and the start of each back-filled meeting's period (None
    when there is neither: no limit).

Reporting windows (``quarter_window``, ``year_window``)
    The fiscal year starts on day 1 of ``fiscal_year_start_month``; quarters are
    its consecutive three-month blocks. With January the labels are calendar
    ones ("2026-Q4", "2026"). Otherwise a fiscal year is named by the calendar
    year it ends in: starting in April, 2026-04-01..2027-03-31 is "FY2027" and
    its first quarter "FY2027-Q1".

Goals at risk (``time_elapsed``, ``points_behind``)
    A goal's time runs from the start of the fiscal year its due date falls in
    (or its creation day, if earlier) to its due date; ``time_elapsed`` on a day
    is the share of that span gone, clamped to [0, 100] and rounded to 1
    decimal (100 when the span is empty, None without a due date). A goal that
    is neither done nor dropped is *at risk* when its progress (None counts as
    0) is more than ``AT_RISK_MARGIN`` (10) points behind that share;
    ``points_behind`` is then the gap, rounded to 1 decimal. The digests judge
    progress at the window's end, the agendas today's.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from itertools import pairwise

__all__ = [
    "ALWAYS_ACTIVE",
    "ActiveSpan",
    "Adherence",
    "Cadence",
    "OnTime",
    "Period",
    "TaskDue",
    "Weighted",
    "adherence",
    "counted_from",
    "goal_progress_of",
    "measured_progress",
    "on_time",
    "period_containing",
    "periods_in_window",
    "quarter_window",
    "rollup",
    "year_window",
]

BIWEEKLY_EPOCH = date(2024, 1, 1)  # a Monday: the start of one biweekly block
_DAY = timedelta(days=1)
_INF = float("inf")


class Cadence(StrEnum):
    """How often a manager and a report are expected to meet."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


# --- progress roll-up ---------------------------------------------------------


@dataclass(frozen=True)
class Weighted:
    """One child in a roll-up: its progress (0..100, None = unknown) and weight."""

    progress: float | None
    weight: float = 1.0
    dropped: bool = False


def rollup(children: Sequence[Weighted], own_progress: float | None = None) -> float | None:
    """Weighted mean of the counted children, else the parent's own progress.

    Falling back to ``own_progress`` lets a project without tasks (or a goal
    without projects) still report the figure its owner typed in.
    """
    total: float = 0
    weighted: float = 0
    counted = False
    for child in children:  # one pass: a digest rolls up every project twice
        weight = child.weight
        if not 0 < weight < _INF:  # also rejects NaN
            raise ValueError(f"weight must be finite and > 0, got {weight!r}")
        if not child.dropped and child.progress is not None:
            counted = True
            total += weight
            weighted += weight * child.progress
    if not counted:
        return None if own_progress is None else _percent(own_progress)
    return _percent(weighted / total)


def measured_progress(start: float | None, target: float | None,
                      value: float | None) -> float | None:
    """A measured goal's progress in % (module docstring, Measurable goals)."""
    if start is None or target is None or value is None or start == target:
        return None
    return _percent((value - start) / (target - start) * 100)


def goal_progress_of(measured: bool, measured_value: float | None,
                     rolled: float | None) -> float | None:
    """A goal's progress: the measured figure when it has a metric, else the roll-up."""
    return measured_value if measured else rolled


def _percent(value: float) -> float:
    """Clamp to [0, 100] and round to 1 decimal, as every digest prints it."""
    return round(min(100.0, max(0.0, value)), 1)


def _ratio(part: int, whole: int) -> float | None:
    """part / whole to 4 decimals; None when there was nothing to measure."""
    return None if whole == 0 else round(part / whole, 4)


# --- on-time rate -------------------------------------------------------------


@dataclass(frozen=True)
class TaskDue:
    """The dates of one task that matter for punctuality."""

    due: date | None
    completed_on: date | None  # the day it was marked done; None if not done
    dropped: bool = False


@dataclass(frozen=True)
class OnTime:
    """Punctuality over a window: counts and done_on_time / due."""

    due: int
    done: int
    done_on_time: int
    overdue: int
    rate: float | None


def on_time(tasks: Iterable[TaskDue], start: date, end: date, as_of: date | None = None) -> OnTime:
    """Count tasks due in [start, end] (and by ``as_of``) and how many were on time.

    Tasks due after ``as_of`` are not judged yet: a mid-quarter digest must not
    blame people for deadlines that have not arrived.
    """
    last = end if as_of is None else min(end, as_of)
    judged = [
        (t.due, t.completed_on)
        for t in tasks
        if not t.dropped and t.due is not None and start <= t.due <= last
    ]
    done = sum(1 for _, completed in judged if completed is not None)
    punctual = sum(1 for due, completed in judged if completed is not None and completed <= due)
    count = len(judged)
    return OnTime(count, done, punctual, count - punctual, _ratio(punctual, count))


# --- cadence periods ----------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One cadence period, both ends inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends before it starts: {self.start}..{self.end}")

    @cached_property  # asked for every person of a digest: periods are shared (below)
    def anchor(self) -> date:
        """The middle day: decides which window the period belongs to."""
        return self.start + timedelta(days=(self.end - self.start).days // 2)

    @property
    def key(self) -> str:
        """A stable name ("2026-W48", "2026-B24", "2026-11"), inferred from the length."""
        length = (self.end - self.start).days + 1
        if length == 7:
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if length == 14:
            return f"{self.anchor.year}-B{_biweekly_index(self):02d}"
        if self.start.day == 1 and self.end == _month_end(self.start):
            return f"{self.start.year}-{self.start.month:02d}"
        raise ValueError(f"not a cadence period: {self.start}..{self.end}")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _biweekly_index(period: Period) -> int:
    """1-based position among the blocks whose anchor lies in the anchor's year."""
    first = period_containing(date(period.anchor.year, 1, 1), Cadence.BIWEEKLY)
    if first.anchor.year < period.anchor.year:
        first = period_containing(first.end + _DAY, Cadence.BIWEEKLY)
    return (period.start - first.start).days // 14 + 1


def _month_end(day: date) -> date:
    """Last day of ``day``'s month."""
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - _DAY


@lru_cache(maxsize=4096, typed=True)  # periods are immutable; a digest asks for the same days
def period_containing(day: date, cadence: Cadence) -> Period:
    """The period of ``cadence`` that ``day`` falls in."""
    if cadence is Cadence.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6))
    if cadence is Cadence.BIWEEKLY:
        blocks = (day - BIWEEKLY_EPOCH).days // 14  # floor: works before the epoch too
        start = BIWEEKLY_EPOCH + timedelta(days=14 * blocks)
        return Period(start, start + timedelta(days=13))
    start = day.replace(day=1)
    return Period(start, _month_end(start))


def periods_in_window(start: date, end: date, cadence: Cadence) -> list[Period]:
    """The periods whose anchor lies in [start, end], in order (empty if end < start)."""
    return list(_periods_in_window(start, end, cadence))


@lru_cache(maxsize=256, typed=True)  # a digest asks once per person for the same window
def _periods_in_window(start: date, end: date, cadence: Cadence) -> tuple[Period, ...]:
    periods: list[Period] = []
    period = period_containing(start, cadence)
    while period.start <= end:
        if start <= period.anchor <= end:
            periods.append(period)
        period = period_containing(period.end + _DAY, cadence)
    return tuple(periods)


# --- check-in adherence -------------------------------------------------------


@dataclass(frozen=True)
class ActiveSpan:
    """The days a person was active, both ends inclusive; None = open-ended."""

    start: date | None
    end: date | None

    def covers(self, day: date) -> bool:
        """Whether the person was active on ``day``."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


ALWAYS_ACTIVE = ActiveSpan(None, None)


@dataclass(frozen=True)
class Adherence:
    """How well a pair kept its check-in cadence over a window."""

    expected: int
    held: int
    excused: int
    rate: float | None
    longest_gap_days: int | None
    last_held: date | None


def adherence(
    *,
    window_start: date,
    window_end: date,
    cadence: Cadence,
    held_on: Iterable[date],
    excused_periods: Iterable[date] = (),
    employee_active: ActiveSpan = ALWAYS_ACTIVE,
    manager_active: ActiveSpan = ALWAYS_ACTIVE,
    as_of: date | None = None,
    tracking_from: date | None = None,
) -> Adherence:
    """Periods with a held meeting / expected periods, plus the longest gap.

    Only periods both people were there for, and Drumbeat was tracking, are
    expected, and excused ones are removed, so nobody is marked down for a
    cadence they could not keep or a time before anyone was counting.
    """
    held = sorted({d for d in held_on if as_of is None or d <= as_of})
    spans = (employee_active, manager_active)
    candidates = [
        p
        for p in periods_in_window(window_start, window_end, cadence)
        if all(span.covers(p.anchor) for span in spans)
        and (tracking_from is None or p.start >= tracking_from)
    ]
    expected, hits, excused = _count_periods(candidates, held, list(excused_periods), as_of)
    first, last = _bookends(window_start, window_end, spans, as_of)
    if tracking_from is not None:
        first = max(first, tracking_from)
    return Adherence(
        expected=expected,
        held=hits,
        excused=excused,
        rate=_ratio(hits, expected),
        longest_gap_days=_longest_gap(held, first, last),
        last_held=max((d for d in held if d <= last), default=None),
    )


def counted_from(
    tracking_from: date | None, backfilled: Iterable[date], cadence: Cadence
) -> date | None:
    """The day a pair's record counts from: tracking start, moved back to the period
    of any earlier back-filled meeting (a 1:1 someone vouches for was being kept)."""
    starts = [period_containing(day, cadence).start for day in backfilled]
    if tracking_from is not None:
        starts.append(tracking_from)
    return min(starts, default=None)


def _count_periods(
    periods: Sequence[Period],
    held: Sequence[date],
    excused_days: Sequence[date],
    as_of: date | None,
) -> tuple[int, int, int]:
    """(expected, held, excused) by rules 1-3 of the module docstring."""
    expected = hits = excused = 0
    held, excused_days = sorted(held), sorted(excused_days)
    for period in periods:
        was_held = _any_within(held, period)
        if as_of is not None and period.end > as_of and not was_held:
            continue  # rule 1: still running and nothing to show yet
        if _any_within(excused_days, period):
            excused += 1  # rule 2: excused wins over a meeting held anyway
            continue
        expected += 1
        hits += was_held
    return expected, hits, excused


def _any_within(days: Sequence[date], period: Period) -> bool:
    """Whether any of the sorted ``days`` falls inside ``period``."""
    i = bisect_left(days, period.start)
    return i < len(days) and days[i] <= period.end


def _bookends(
    window_start: date, window_end: date, spans: Sequence[ActiveSpan], as_of: date | None
) -> tuple[date, date]:
    """The stretch a gap is measured over: the window, cut to both people and as_of."""
    starts = [window_start, *(s.start for s in spans if s.start is not None)]
    ends = [window_end, *(s.end for s in spans if s.end is not None)]
    if as_of is not None:
        ends.append(as_of)
    return max(starts), min(ends)


def _longest_gap(held: Sequence[date], first: date, last: date) -> int | None:
    """Most days between consecutive meetings, counting from ``first`` to ``last``."""
    if last < first:
        return None
    points = [first, *(d for d in held if first <= d <= last), last]
    return max((b - a).days for a, b in pairwise(points))


# --- reporting windows --------------------------------------------------------


def _fiscal_start(day: date, fiscal_year_start_month: int) -> date:
    """First day of the fiscal year that contains ``day``."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, got {fiscal_year_start_month}")
    year = day.year if day.month >= fiscal_year_start_month else day.year - 1
    return date(year, fiscal_year_start_month, 1)


def _add_months(first_of_month: date, months: int) -> date:
    """The first of the month ``months`` after ``first_of_month``."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_label(fiscal_start: date) -> str:
    """Calendar years by number; fiscal years by the calendar year they end in."""
    if fiscal_start.month == 1:
        return str(fiscal_start.year)
    return f"FY{fiscal_start.year + 1}"


def quarter_window(day: date, fiscal_year_start_month: int = 1) -> tuple[date, date, str]:
    """The fiscal quarter containing ``day``: (first day, last day, label)."""
    fiscal = _fiscal_start(day, fiscal_year_start_month)
    quarter = ((day.year - fiscal.year) * 12 + day.month - fiscal.month) // 3
    start = _add_months(fiscal, 3 * quarter)
    end = _add_months(start, 3) - _DAY
    return start, end, f"{_year_label(fiscal)}-Q{quarter + 1}"


def year_window(day: date, fiscal_year_start_month: int = 1) -> tuple[date, date, str]:
    """The fiscal year containing ``day``: (first day, last day, label)."""
    fiscal = _fiscal_start(day, fiscal_year_start_month)
    return fiscal, _add_months(fiscal, 12) - _DAY, _year_label(fiscal)


AT_RISK_MARGIN = 10.0  # percentage points behind the share of the goal's time elapsed


def time_elapsed(due: date | None, created: date | None, day: date,
                 fiscal_year_start_month: int = 1) -> float | None:
    """The share of a goal's time elapsed on ``day``, in % (module docstring, Goals at risk)."""
    if due is None:
        return None
    begun = year_window(due, fiscal_year_start_month)[0]
    if created is not None:
        begun = min(begun, created)
    if due <= begun:
        return 100.0
    share = (day - begun).days / (due - begun).days
    return round(min(100.0, max(0.0, share * 100)), 1)


def points_behind(finished: bool, progress: float | None, expected: float | None
                  ) -> float | None:
    """How far an at-risk goal trails its time elapsed, in points; None when not at risk."""
    if finished or expected is None:
        return None
    behind = expected - (progress or 0.0)
    return round(behind, 1) if behind > AT_RISK_MARGIN else None
