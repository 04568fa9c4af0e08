"""Check-in timing: hand-computed slots (arithmetic in the comments) and properties.

Calendar facts used below: 2026-01-01 is a Thursday, so ISO week 1 of 2026
starts Monday 2025-12-29 and week n starts 7*(n-1) days later (2026-06-01 is
the Monday of W23). Europe switches to summer time on Sunday 2026-03-29 and
back on Sunday 2026-10-25 (Berlin: CET = UTC+1, CEST = UTC+2); the US on
Sunday 2026-03-08 and Sunday 2026-11-01 (New York: EST = UTC-5, EDT = UTC-4).
Biweekly blocks start on BIWEEKLY_EPOCH = Monday 2024-01-01 and every 14 days;
2026-01-01 is 366 + 365 = 731 days later, 731 = 52*14 + 3, so a block starts
on 2025-12-29 and then on 2026-01-12, 2026-01-26, ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.checkins import (
    PairSchedule,
    Slot,
    closed_periods,
    due_agendas,
    next_slot,
    previous_slot,
    slot_in_period,
)
from models.scoring import BIWEEKLY_EPOCH, ActiveSpan, Cadence, Period, period_containing

MON, TUE, WED, THU, SUN = 0, 1, 2, 3, 6
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sched(
    weekday: int,
    at: time,
    tz: str,
    cadence: Cadence = Cadence.WEEKLY,
    *,
    employee: int = 2,
    manager: int = 1,
    employee_active: ActiveSpan | None = None,
    manager_active: ActiveSpan | None = None,
) -> PairSchedule:
    return PairSchedule(
        manager_id=manager,
        employee_id=employee,
        cadence=cadence,
        weekday=weekday,
        local_time=at,
        timezone=tz,
        employee_active=employee_active or ActiveSpan(None, None),
        manager_active=manager_active or ActiveSpan(None, None),
    )


def upcoming(schedule: PairSchedule, after: datetime, count: int) -> list[Slot]:
    """``count`` consecutive slots after ``after``, by chaining next_slot."""
    slots: list[Slot] = []
    for _ in range(count):
        slots.append(next_slot(schedule, after))
        after = slots[-1].at
    return slots


# --- the slot of a period -----------------------------------------------------


BERLIN_THU = sched(THU, time(10), "Europe/Berlin")


def test_weekly_thursday_morning_in_berlin() -> None:
    # W23 runs Mon 2026-06-01..Sun 06-07; its Thursday is 06-04; 10:00 CEST = 08:00 UTC.
    slot = next_slot(BERLIN_THU, utc(2026, 6, 1, 12))
    assert slot.period == Period(date(2026, 6, 1), date(2026, 6, 7))
    assert slot.period.key == "2026-W23"
    assert slot.at == utc(2026, 6, 4, 8)
    assert slot.local_at == datetime(2026, 6, 4, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    assert slot.local_at.utcoffset() == 2 * HOUR
    # In winter the same wall time is 10:00 CET = 09:00 UTC (W02: 2026-01-05..01-11).
    winter = slot_in_period(BERLIN_THU, period_containing(date(2026, 1, 7), Cadence.WEEKLY))
    assert winter.at == utc(2026, 1, 8, 9)
    assert winter.period.key == "2026-W02"


def test_slot_in_period_rejects_a_period_of_another_cadence() -> None:
    month = period_containing(date(2026, 6, 1), Cadence.MONTHLY)
    with pytest.raises(ValueError, match="not a weekly period"):
        slot_in_period(BERLIN_THU, month)


def test_tokyo_and_los_angeles_monday_nine_are_seventeen_hours_apart() -> None:
    tokyo = sched(MON, time(9), "Asia/Tokyo", employee=10)
    la = sched(MON, time(9), "America/Los_Angeles", employee=20)
    # Monday 2026-01-12: 09:00 JST (UTC+9) = 00:00 UTC; 09:00 PST (UTC-8) = 17:00 UTC.
    t_slot = next_slot(tokyo, utc(2026, 1, 10))
    l_slot = next_slot(la, utc(2026, 1, 10))
    assert t_slot.at == utc(2026, 1, 12, 0)
    assert l_slot.at == utc(2026, 1, 12, 17)
    assert l_slot.at - t_slot.at == 17 * HOUR
    assert t_slot.period == l_slot.period  # same ISO week, W03
    # In summer LA is on PDT (UTC-7): 09:00 = 16:00 UTC, only 16 hours after Tokyo.
    assert next_slot(la, utc(2026, 6, 1)).at == utc(2026, 6, 1, 16)

    # A 24 h lead opens each window at Sunday 09:00 on THEIR clock:
    # Tokyo [01-11 00:00, 01-12 00:00) UTC, LA [01-11 17:00, 01-12 17:00) UTC.
    def due_ids(now: datetime) -> list[int]:
        return [s.schedule.employee_id for s in due_agendas(now, [la, tokyo], 24 * HOUR)]

    assert due_ids(utc(2026, 1, 10, 23, 59)) == []
    assert due_ids(utc(2026, 1, 11, 0)) == [10]
    assert due_ids(utc(2026, 1, 11, 16, 59)) == [10]
    assert due_ids(utc(2026, 1, 11, 17)) == [10, 20]  # ordered by at: Tokyo meets first
    assert due_ids(utc(2026, 1, 12, 0)) == [20]  # Tokyo's 1:1 is happening now
    assert due_ids(utc(2026, 1, 12, 16, 59)) == [20]
    assert due_ids(utc(2026, 1, 12, 17)) == []


# --- daylight saving time -----------------------------------------------------


def test_berlin_monday_nine_across_both_dst_changes() -> None:
    berlin = sched(MON, time(9), "Europe/Berlin")
    # Mon 03-23 09:00 CET = 08:00 UTC; after Sun 03-29: Mon 03-30 09:00 CEST = 07:00 UTC.
    spring = upcoming(berlin, utc(2026, 3, 20), 2)
    assert [s.at for s in spring] == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]
    # Mon 10-19 09:00 CEST = 07:00 UTC; after Sun 10-25: Mon 10-26 09:00 CET = 08:00 UTC.
    autumn = upcoming(berlin, utc(2026, 10, 16), 2)
    assert [s.at for s in autumn] == [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)]
    assert all(s.local_at.time() == time(9) for s in spring + autumn)


def test_new_york_monday_nine_across_both_dst_changes() -> None:
    ny = sched(MON, time(9), "America/New_York")
    # Mon 03-02 09:00 EST = 14:00 UTC; after Sun 03-08: Mon 03-09 09:00 EDT = 13:00 UTC.
    spring = upcoming(ny, utc(2026, 2, 27), 2)
    assert [s.at for s in spring] == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]
    # Mon 10-26 09:00 EDT = 13:00 UTC; after Sun 11-01: Mon 11-02 09:00 EST = 14:00 UTC.
    autumn = upcoming(ny, utc(2026, 10, 23), 2)
    assert [s.at for s in autumn] == [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]


def test_nonexistent_local_time_uses_the_offset_before_the_gap() -> None:
    # Berlin jumps 02:00 CET -> 03:00 CEST on Sun 2026-03-29, so 02:30 does not exist.
    # fold=0 reads it as 02:30+01:00 = 01:30 UTC, which is 03:30 CEST on the clock.
    berlin = sched(SUN, time(2, 30), "Europe/Berlin")
    before, during, after = upcoming(berlin, utc(2026, 3, 20), 3)
    assert before.at == utc(2026, 3, 22, 1, 30)  # 02:30 CET
    assert during.at == utc(2026, 3, 29, 1, 30)
    assert during.period.key == "2026-W13"  # Mon 03-23..Sun 03-29
    assert during.local_at.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    assert during.local_at.utcoffset() == 2 * HOUR
    assert after.at == utc(2026, 4, 5, 0, 30)  # 02:30 CEST
    # New York jumps 02:00 EST -> 03:00 EDT on Sun 03-08: 02:30-05:00 = 07:30 UTC = 03:30 EDT.
    ny = next_slot(sched(SUN, time(2, 30), "America/New_York"), utc(2026, 3, 7))
    assert ny.at == utc(2026, 3, 8, 7, 30)
    assert ny.local_at.time() == time(3, 30)


def test_ambiguous_local_time_takes_the_first_occurrence() -> None:
    # Berlin repeats 02:00-03:00 on Sun 2026-10-25: the first 02:30 is CEST = 00:30 UTC.
    berlin = next_slot(sched(SUN, time(2, 30), "Europe/Berlin"), utc(2026, 10, 24))
    assert berlin.at == utc(2026, 10, 25, 0, 30)
    # New York repeats 01:00-02:00 on Sun 11-01: the first 01:30 is EDT = 05:30 UTC.
    ny = sched(SUN, time(1, 30), "America/New_York")
    assert next_slot(ny, utc(2026, 10, 31)).at == utc(2026, 11, 1, 5, 30)
    # A fold=1 wall time is normalised: the rule, not the caller, picks the occurrence.
    ny_fold = sched(SUN, time(1, 30, fold=1), "America/New_York")
    assert next_slot(ny_fold, utc(2026, 10, 31)).at == utc(2026, 11, 1, 5, 30)


# --- biweekly and monthly -----------------------------------------------------


def test_biweekly_slot_is_in_the_first_week_of_each_block() -> None:
    wed = sched(WED, time(10), "UTC", Cadence.BIWEEKLY)
    # Blocks from the epoch: 2024-01-01, 01-15, 01-29 -> Wednesdays 01-03, 01-17, 01-31;
    # the Wednesdays 01-10 and 01-24 fall in second weeks and have no slot.
    assert date(2024, 1, 1) == BIWEEKLY_EPOCH
    first = upcoming(wed, utc(2023, 12, 31), 3)
    assert [s.at.date() for s in first] == [date(2024, 1, 3), date(2024, 1, 17), date(2024, 1, 31)]
    assert [s.period.key for s in first] == ["2024-B01", "2024-B02", "2024-B03"]
    # Blocks 2025-12-29 and 2026-01-12 -> Wednesdays 12-31 and 01-14; 01-07 is skipped.
    # The block of 2025-12-29 is named by its anchor, Sun 2026-01-04, so it is 2026-B01.
    later = upcoming(wed, utc(2025, 12, 29), 2)
    assert [s.at for s in later] == [utc(2025, 12, 31, 10), utc(2026, 1, 14, 10)]
    assert [s.period.key for s in later] == ["2026-B01", "2026-B02"]
    assert next_slot(wed, utc(2026, 1, 1)).at == utc(2026, 1, 14, 10)
    # A Sunday slot is the first week's Sunday: block 2026-01-12 -> Sunday 01-18.
    sunday = next_slot(sched(SUN, time(10), "UTC", Cadence.BIWEEKLY), utc(2026, 1, 12))
    assert sunday.at == utc(2026, 1, 18, 10)


def test_monthly_first_tuesday() -> None:
    tue = sched(TUE, time(9), "Europe/Berlin", Cadence.MONTHLY)
    # 2026-01-01 is a Thursday -> first Tuesday 01-06; 02-01 a Sunday -> 02-03;
    # 03-01 a Sunday -> 03-03; 04-01 a Wednesday -> 04-07 (CEST by then: 07:00 UTC).
    slots = upcoming(tue, utc(2025, 12, 31), 4)
    assert [s.at for s in slots] == [
        utc(2026, 1, 6, 8),
        utc(2026, 2, 3, 8),
        utc(2026, 3, 3, 8),
        utc(2026, 4, 7, 7),
    ]
    assert [s.period.key for s in slots] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # 09-01 is itself a Tuesday, so it is September's slot; 10-01 is a Thursday -> 10-06.
    autumn = upcoming(tue, utc(2026, 8, 20), 2)
    assert [s.at for s in autumn] == [utc(2026, 9, 1, 7), utc(2026, 10, 6, 7)]


def test_previous_slot_is_the_last_one_at_or_before() -> None:
    # Thursdays 2026-06-04 and 06-11 at 08:00 UTC.
    at = utc(2026, 6, 11, 8)
    assert previous_slot(BERLIN_THU, at) == Slot(
        BERLIN_THU, Period(date(2026, 6, 8), date(2026, 6, 14)), at
    )
    earlier = previous_slot(BERLIN_THU, at - timedelta(microseconds=1))
    assert earlier is not None
    assert earlier.at == utc(2026, 6, 4, 8)
    assert next_slot(BERLIN_THU, at).at == utc(2026, 6, 18, 8)  # strictly after


# --- due agendas --------------------------------------------------------------


def test_due_window_includes_its_start_and_excludes_the_meeting() -> None:
    # Slot Thu 2026-06-04 08:00 UTC, lead 24 h: due on [06-03 08:00, 06-04 08:00).
    lead = 24 * HOUR
    tiny = timedelta(microseconds=1)
    assert due_agendas(utc(2026, 6, 3, 8) - tiny, [BERLIN_THU], lead) == []
    assert [s.at for s in due_agendas(utc(2026, 6, 3, 8), [BERLIN_THU], lead)] == [
        utc(2026, 6, 4, 8)
    ]
    assert len(due_agendas(utc(2026, 6, 4, 8) - tiny, [BERLIN_THU], lead)) == 1
    assert due_agendas(utc(2026, 6, 4, 8), [BERLIN_THU], lead) == []  # next one opens 06-10
    assert due_agendas(utc(2026, 6, 3, 12), [BERLIN_THU], timedelta(0)) == []


def test_ticking_twice_returns_the_same_slots_in_the_same_order() -> None:
    schedules = [sched(d, time(9), "Europe/Berlin", employee=d) for d in range(7)]
    now = utc(2026, 6, 3, 12, 0)
    first = due_agendas(now, schedules, 48 * HOUR)
    # Wed 06-03 09:00 CEST = 07:00 UTC has passed; Thu 06-04 and Fri 06-05 07:00 are ahead.
    assert [(s.schedule.employee_id, s.at) for s in first] == [
        (THU, utc(2026, 6, 4, 7)),
        (4, utc(2026, 6, 5, 7)),
    ]
    assert due_agendas(now, schedules, 48 * HOUR) == first
    assert due_agendas(now, reversed(schedules), 48 * HOUR) == first
    assert due_agendas(now, schedules + schedules, 48 * HOUR) == first  # listed twice, once out


def test_scheduler_down_for_six_hours_sends_what_is_still_ahead() -> None:
    lead = 24 * HOUR
    # Ticks at Mon 2026-01-12 08:00 and 14:00 UTC, nothing in between.
    a = sched(TUE, time(10), "UTC", employee=1)  # at Tue 10:00, window opened Mon 10:00
    b = sched(MON, time(12), "UTC", employee=2)  # at Mon 12:00, window opened Sun 12:00
    c = sched(TUE, time(7), "UTC", employee=3)  # at Tue 07:00, window opened Mon 07:00
    # London is UTC+0 in January; Tue 11:00 GMT, window opened Mon 11:00.
    d = sched(TUE, time(11), "Europe/London", employee=4)
    everyone = [a, b, c, d]

    def due(now: datetime) -> list[tuple[int, str, datetime]]:
        slots = due_agendas(now, everyone, lead)
        return [(s.schedule.employee_id, s.period.key, s.at) for s in slots]

    assert due(utc(2026, 1, 12, 8)) == [
        (2, "2026-W03", utc(2026, 1, 12, 12)),
        (3, "2026-W03", utc(2026, 1, 13, 7)),
    ]
    # At 14:00 b's meeting is over (never sent late); a and d opened while down, still ahead.
    assert due(utc(2026, 1, 12, 14)) == [
        (3, "2026-W03", utc(2026, 1, 13, 7)),
        (1, "2026-W03", utc(2026, 1, 13, 10)),
        (4, "2026-W03", utc(2026, 1, 13, 11)),
    ]


def test_inactive_people_get_nothing() -> None:
    # Slot Thu 2026-06-04 (local date), due at 06-03 12:00 UTC with a 24 h lead.
    now, lead = utc(2026, 6, 3, 12), 24 * HOUR
    always = ActiveSpan(None, None)
    cases = [
        ("employee joined after", ActiveSpan(date(2026, 6, 5), None), always),
        ("employee left before", ActiveSpan(None, date(2026, 6, 3)), always),
        ("manager left before", always, ActiveSpan(date(2020, 1, 1), date(2026, 6, 3))),
        ("manager joined after", always, ActiveSpan(date(2026, 6, 5), None)),
    ]
    for label, employee, manager in cases:
        schedule = sched(
            THU, time(10), "Europe/Berlin", employee_active=employee, manager_active=manager
        )
        assert due_agendas(now, [schedule], lead) == [], label
    # Spans are inclusive: starting or leaving on the day itself still counts.
    on_the_day = sched(
        THU,
        time(10),
        "Europe/Berlin",
        employee_active=ActiveSpan(date(2026, 6, 4), None),
        manager_active=ActiveSpan(None, date(2026, 6, 4)),
    )
    assert len(due_agendas(now, [on_the_day], lead)) == 1


def test_activity_is_judged_on_the_local_date() -> None:
    # Tokyo Monday 08:00 JST on 2026-01-12 is Sunday 01-11 23:00 UTC.
    starts_monday = sched(
        MON, time(8), "Asia/Tokyo", employee_active=ActiveSpan(date(2026, 1, 12), None)
    )
    due = due_agendas(utc(2026, 1, 11, 12), [starts_monday], 24 * HOUR)
    assert [s.at for s in due] == [utc(2026, 1, 11, 23)]
    left_sunday = sched(
        MON, time(8), "Asia/Tokyo", employee_active=ActiveSpan(None, date(2026, 1, 11))
    )
    assert due_agendas(utc(2026, 1, 11, 12), [left_sunday], 24 * HOUR) == []


def test_pairs_sharing_a_timing_are_filtered_one_by_one() -> None:
    # 10,000 pairs on four timings; every third employee left long ago.
    gone = ActiveSpan(None, date(2025, 1, 1))
    schedules = [
        sched(
            THU,
            time(10 + i % 4),
            "Europe/Berlin",
            employee=i,
            employee_active=gone if i % 3 == 0 else None,
        )
        for i in range(10_000)
    ]
    due = due_agendas(utc(2026, 6, 3, 12), schedules, 24 * HOUR)
    # Thu 10:00..13:00 CEST = 08:00..11:00 UTC, all within 24 h of Wed 12:00 UTC.
    assert len(due) == sum(1 for i in range(10_000) if i % 3 != 0)
    assert {s.schedule.employee_id % 3 for s in due} == {1, 2}
    assert [s.at for s in due] == sorted(s.at for s in due)


def test_a_lead_longer_than_the_cadence_returns_every_open_period() -> None:
    # Lead 8 days at Wed 2026-06-03 12:00 UTC: Thu 06-04 08:00 (opened 05-27 08:00) and
    # Thu 06-11 08:00 (opened 06-03 08:00) are due; Thu 06-18 opens 06-10.
    due = due_agendas(utc(2026, 6, 3, 12), [BERLIN_THU], 8 * DAY)
    assert [(s.period.key, s.at) for s in due] == [
        ("2026-W23", utc(2026, 6, 4, 8)),
        ("2026-W24", utc(2026, 6, 11, 8)),
    ]


def test_naive_datetimes_and_bad_arguments_are_rejected() -> None:
    naive = datetime(2026, 6, 3, 12)
    with pytest.raises(ValueError, match="aware"):
        due_agendas(naive, [BERLIN_THU], HOUR)
    with pytest.raises(ValueError, match="aware"):
        next_slot(BERLIN_THU, naive)
    with pytest.raises(ValueError, match="aware"):
        previous_slot(BERLIN_THU, naive)
    with pytest.raises(ValueError, match="aware"):
        closed_periods(naive, BERLIN_THU, HOUR)
    with pytest.raises(ValueError, match="lead"):
        due_agendas(utc(2026, 6, 3), [BERLIN_THU], -HOUR)
    with pytest.raises(ValueError, match="within"):
        closed_periods(utc(2026, 6, 3), BERLIN_THU, -HOUR)
    with pytest.raises(ValueError, match="weekday"):
        sched(7, time(9), "UTC")
    with pytest.raises(ValueError, match="naive"):
        sched(MON, time(9, tzinfo=UTC), "UTC")
    with pytest.raises(ValueError, match="time zone"):
        sched(MON, time(9), "Mars/Olympus_Mons")
    # Aware in any zone is fine: the same instant gives the same answer.
    tokyo_now = utc(2026, 6, 3, 8).astimezone(ZoneInfo("Asia/Tokyo"))
    assert due_agendas(tokyo_now, [BERLIN_THU], 24 * HOUR) == due_agendas(
        utc(2026, 6, 3, 8), [BERLIN_THU], 24 * HOUR
    )


# --- closed periods -----------------------------------------------------------


def test_closed_periods_end_at_local_midnight() -> None:
    # W23 (06-01..06-07) ends at Mon 06-08 00:00 CEST = Sun 06-07 22:00 UTC.
    w23 = Period(date(2026, 6, 1), date(2026, 6, 7))
    minute = timedelta(minutes=1)
    assert closed_periods(utc(2026, 6, 7, 21, 59), BERLIN_THU, minute) == []
    assert closed_periods(utc(2026, 6, 7, 22), BERLIN_THU, minute) == [w23]  # end in (21:59, 22:00]
    assert closed_periods(utc(2026, 6, 7, 22, 1), BERLIN_THU, minute) == []  # (22:00, 22:01]
    assert closed_periods(utc(2026, 6, 7, 22, 30), BERLIN_THU, HOUR) == [w23]
    # Three weeks back: W21, W22, W23, oldest first.
    keys = [p.key for p in closed_periods(utc(2026, 6, 7, 22), BERLIN_THU, 21 * DAY)]
    assert keys == ["2026-W21", "2026-W22", "2026-W23"]
    # Monthly: May 2026 ends at Mon 06-01 00:00 CEST = 05-31 22:00 UTC.
    monthly = sched(TUE, time(9), "Europe/Berlin", Cadence.MONTHLY)
    assert [p.key for p in closed_periods(utc(2026, 5, 31, 22), monthly, HOUR)] == ["2026-05"]


def test_closed_periods_skip_inactive_pairs() -> None:
    # W23's slot is Thu 06-04; an employee who joined on Fri 06-05 owes no meeting for it.
    joined = sched(
        THU, time(10), "Europe/Berlin", employee_active=ActiveSpan(date(2026, 6, 5), None)
    )
    assert closed_periods(utc(2026, 6, 7, 22), joined, HOUR) == []


# --- properties ---------------------------------------------------------------


ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # -3:30 with DST
    "America/Santiago",  # DST changes at midnight
    "Asia/Tokyo",
    "Asia/Kolkata",  # +5:30
    "Asia/Kathmandu",  # +5:45
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Auckland",
]
FIRST, LAST = datetime(2024, 1, 1), datetime(2028, 12, 31)

schedules_st = st.builds(
    PairSchedule,
    manager_id=st.just(1),
    employee_id=st.integers(1, 1_000),
    cadence=st.sampled_from(list(Cadence)),
    weekday=st.integers(0, 6),
    local_time=st.times(),
    timezone=st.sampled_from(ZONES),
)
# Aware instants, shown in a random zone: the answer depends only on the instant.
instants_st = st.builds(
    lambda moment, zone: moment.astimezone(ZoneInfo(zone)),
    st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC)),
    st.sampled_from(ZONES),
)
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(schedules_st, instants_st, st.timedeltas(timedelta(0), timedelta(days=40)))
def test_due_slots_are_exactly_those_in_their_window(
    schedule: PairSchedule, now: datetime, lead: timedelta
) -> None:
    due = due_agendas(now, [schedule], lead)
    assert all(s.at - lead <= now < s.at for s in due)
    # Complete: every slot after now whose window has opened is there, in order.
    expected = []
    slot = next_slot(schedule, now)
    while slot.at - lead <= now:
        expected.append(slot)
        slot = next_slot(schedule, slot.at)
    assert due == expected


@PROPERTY
@given(schedules_st, instants_st)
def test_next_and_previous_slot_bracket_now(schedule: PairSchedule, now: datetime) -> None:
    following = next_slot(schedule, now)
    before = previous_slot(schedule, now)
    assert before is not None
    assert before.at <= now < following.at
    assert next_slot(schedule, before.at) == following  # nothing in between
    for slot in (following, before):
        assert slot.at.utcoffset() == timedelta(0)
        assert slot.local_at.weekday() == schedule.weekday
        assert slot.local_at.date() in slot.period
        assert slot_in_period(schedule, slot.period) == slot


@PROPERTY
@given(schedules_st, instants_st)
def test_consecutive_slots_cover_consecutive_periods(schedule: PairSchedule, now: datetime) -> None:
    slots = upcoming(schedule, now, 6)
    for earlier, later in pairwise(slots):
        assert earlier.at < later.at
        assert later.period == period_containing(earlier.period.end + DAY, schedule.cadence)
    assert len({s.period.key for s in slots}) == len(slots)


@PROPERTY
@given(
    st.lists(schedules_st, min_size=1, max_size=3, unique_by=lambda s: s.employee_id),
    st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC)),
    st.timedeltas(timedelta(minutes=15), timedelta(days=10)),
)
def test_a_ticking_scheduler_sends_each_period_once_and_never_late(
    schedules: list[PairSchedule], start: datetime, lead: timedelta
) -> None:
    step, ticks = timedelta(minutes=15), 3 * 24 * 4  # three days of 15-minute ticks
    sent: dict[tuple[int, str], datetime] = {}  # the outbox, deduped on (pair, period)
    for n in range(ticks + 1):
        tick = start + n * step
        for slot in due_agendas(tick, schedules, lead):
            assert tick < slot.at  # never an agenda for a meeting that already happened
            key = (slot.schedule.employee_id, slot.period.key)
            assert sent.setdefault(key, slot.at) == slot.at  # one period, one slot
    # With a lead of at least one step, every slot in (start, last tick + lead] got sent.
    last = start + ticks * step
    expected = {}
    for schedule in schedules:
        slot = next_slot(schedule, start)
        while slot.at <= last + lead:
            expected[(schedule.employee_id, slot.period.key)] = slot.at
            slot = next_slot(schedule, slot.at)
    assert sent == expected


@PROPERTY
@given(schedules_st, instants_st, st.timedeltas(timedelta(hours=1), timedelta(days=70)))
def test_closed_periods_ended_within_the_window(
    schedule: PairSchedule, now: datetime, within: timedelta
) -> None:
    closed = closed_periods(now, schedule, within)
    zone = ZoneInfo(schedule.timezone)
    for period in closed:
        end = datetime.combine(period.end + DAY, time(0), tzinfo=zone)
        assert now - within < end <= now
        assert slot_in_period(schedule, period).at <= now
    # Splitting the window in two finds the same periods: hourly nudges never repeat or skip.
    half = within // 2
    split = now - half  # (now - within, split] + (split, now]
    halves = closed_periods(split, schedule, within - half) + closed_periods(now, schedule, half)
    assert halves == closed
