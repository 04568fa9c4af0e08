"""Scoring rules: hand-computed cases (arithmetic in the comments) and properties.

Calendar facts used below: 2026-01-01, 2026-10-01 and 2026-12-31 are Thursdays,
so 2026 has 53 ISO weeks and its fourth quarter holds 14 ISO-week Thursdays.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.scoring import (
    ActiveSpan,
    Adherence,
    Cadence,
    OnTime,
    Period,
    TaskDue,
    Weighted,
    adherence,
    counted_from,
    on_time,
    period_containing,
    periods_in_window,
    quarter_window,
    rollup,
    year_window,
)

D = date
Q4_2026 = (D(2026, 10, 1), D(2026, 12, 31))


def q4(cadence: Cadence = Cadence.WEEKLY, **kwargs: Any) -> Adherence:
    """Adherence over calendar Q4 2026."""
    kwargs.setdefault("held_on", ())
    return adherence(window_start=Q4_2026[0], window_end=Q4_2026[1], cadence=cadence, **kwargs)


# --- rollup -------------------------------------------------------------------


def test_rollup_weighted_mean() -> None:
    # (40*1 + 100*3) / (1 + 3) = 340 / 4 = 85.0
    assert rollup([Weighted(40, 1), Weighted(100, 3)]) == 85.0


def test_rollup_rounds_to_one_decimal() -> None:
    # (10*1 + 20*2) / 3 = 50 / 3 = 16.666... -> 16.7
    assert rollup([Weighted(10, 1), Weighted(20, 2)]) == 16.7


def test_rollup_skips_dropped_and_unknown() -> None:
    # only (40, w1) counts: the unknown and the dropped child are left out
    children = [Weighted(40), Weighted(None, 5), Weighted(0, 1, dropped=True)]
    assert rollup(children) == 40.0


def test_rollup_falls_back_to_own_progress() -> None:
    assert rollup([], own_progress=30) == 30.0
    assert rollup([Weighted(None), Weighted(50, dropped=True)], own_progress=12.34) == 12.3
    assert rollup([], own_progress=None) is None
    assert rollup([]) is None
    # children win over the parent's own field when any child counts
    assert rollup([Weighted(70)], own_progress=10) == 70.0


def test_rollup_clamps() -> None:
    assert rollup([Weighted(150)]) == 100.0
    assert rollup([Weighted(-5)]) == 0.0
    assert rollup([], own_progress=120) == 100.0


@pytest.mark.parametrize("weight", [0, -1, float("nan"), float("inf")])
def test_rollup_rejects_bad_weights(weight: float) -> None:
    with pytest.raises(ValueError):
        rollup([Weighted(50), Weighted(10, weight)])
    with pytest.raises(ValueError):  # even on a dropped child: the data is wrong
        rollup([Weighted(50), Weighted(10, weight, dropped=True)])


# --- on_time ------------------------------------------------------------------

TASKS = [
    TaskDue(D(2026, 10, 5), D(2026, 10, 4)),  # a: early           -> on time
    TaskDue(D(2026, 10, 10), D(2026, 10, 10)),  # b: on the day    -> on time
    TaskDue(D(2026, 11, 1), D(2026, 11, 3)),  # c: two days late   -> done, overdue
    TaskDue(D(2026, 11, 15), None),  # d: never done               -> overdue
    TaskDue(D(2026, 12, 20), None, dropped=True),  # e: dropped    -> ignored
    TaskDue(None, D(2026, 10, 2)),  # f: no due date               -> ignored
    TaskDue(D(2026, 9, 30), None),  # g: due before the window     -> ignored
    TaskDue(D(2026, 12, 31), D(2027, 1, 2)),  # h: late, after the window -> done, overdue
]


def test_on_time_whole_quarter() -> None:
    # due: a b c d h = 5; done: a b c h = 4; on time: a b = 2; overdue 5 - 2 = 3; 2/5 = 0.4
    assert on_time(TASKS, *Q4_2026) == OnTime(due=5, done=4, done_on_time=2, overdue=3, rate=0.4)


def test_on_time_as_of_mid_quarter() -> None:
    # as of 2026-11-10 only a b c are due: 2 on time of 3 -> 0.6667
    result = on_time(TASKS, *Q4_2026, as_of=D(2026, 11, 10))
    assert result == OnTime(due=3, done=3, done_on_time=2, overdue=1, rate=0.6667)


def test_on_time_nothing_due() -> None:
    assert on_time([], *Q4_2026) == OnTime(0, 0, 0, 0, None)
    assert on_time(TASKS, *Q4_2026, as_of=D(2026, 10, 1)).rate is None


# --- periods ------------------------------------------------------------------


def test_weekly_period() -> None:
    week = period_containing(D(2026, 11, 26), Cadence.WEEKLY)  # a Thursday
    assert week == Period(D(2026, 11, 23), D(2026, 11, 29))
    assert week.anchor == D(2026, 11, 26)  # Monday + 6 // 2 = Thursday
    assert week.key == "2026-W48"


def test_weekly_keys_across_new_year() -> None:
    # 2026-12-28..2027-01-03: its Thursday is 2026-12-31, so ISO 2026-W53
    assert period_containing(D(2027, 1, 1), Cadence.WEEKLY).key == "2026-W53"
    # 2024-12-30..2025-01-05: Thursday 2025-01-02, so ISO 2025-W01
    assert period_containing(D(2024, 12, 31), Cadence.WEEKLY).key == "2025-W01"


def test_biweekly_periods() -> None:
    first = period_containing(D(2024, 1, 1), Cadence.BIWEEKLY)
    assert first == Period(D(2024, 1, 1), D(2024, 1, 14))
    assert first.anchor == D(2024, 1, 7)  # start + 13 // 2
    assert first.key == "2024-B01"
    # before the epoch: 2024-01-01 - 14 days = 2023-12-18
    assert period_containing(D(2023, 12, 31), Cadence.BIWEEKLY).start == D(2023, 12, 18)
    # first block of 2026: 2024-01-01 + 52*14 days = 2025-12-29 (anchor 2026-01-04, so 2026)
    assert period_containing(D(2025, 12, 29), Cadence.BIWEEKLY).key == "2026-B01"
    # 2026-11-23 is in 2026-11-16..11-29; (11-16 - 2025-12-29) = 322 days = 23 blocks -> B24
    block = period_containing(D(2026, 11, 23), Cadence.BIWEEKLY)
    assert block == Period(D(2026, 11, 16), D(2026, 11, 29))
    assert block.key == "2026-B24"


def test_monthly_periods() -> None:
    feb = period_containing(D(2024, 2, 10), Cadence.MONTHLY)
    assert feb == Period(D(2024, 2, 1), D(2024, 2, 29))
    assert feb.anchor == D(2024, 2, 15)  # 1 + 28 // 2
    assert feb.key == "2024-02"
    dec = period_containing(D(2026, 12, 31), Cadence.MONTHLY)
    assert (dec.start, dec.end, dec.key) == (D(2026, 12, 1), D(2026, 12, 31), "2026-12")


def test_period_validation() -> None:
    with pytest.raises(ValueError):
        Period(D(2026, 1, 2), D(2026, 1, 1))
    with pytest.raises(ValueError):
        _ = Period(D(2026, 1, 1), D(2026, 1, 3)).key  # 3 days is no cadence


@pytest.mark.parametrize(
    ("window", "cadence", "count"),
    [
        # ISO weeks whose Thursday lies in the quarter. Q4 2026: Thursdays 10-01 .. 12-31
        # = 91 days apart / 7 + 1 = 14 (2026 is a 53-week ISO year).
        (Q4_2026, Cadence.WEEKLY, 14),
        # Q3 2026 (07-01 is a Wednesday): Thursdays 07-02 .. 09-24 -> 84 / 7 + 1 = 13
        ((D(2026, 7, 1), D(2026, 9, 30)), Cadence.WEEKLY, 13),
        # Q1 2027 (01-01 is a Friday): Thursdays 01-07 .. 03-25 -> 77 / 7 + 1 = 12
        ((D(2027, 1, 1), D(2027, 3, 31)), Cadence.WEEKLY, 12),
        # biweekly Q4 2026: blocks starting 10-05 (B21) .. 12-14 (B26); anchors 10-11 .. 12-20
        (Q4_2026, Cadence.BIWEEKLY, 6),
        (Q4_2026, Cadence.MONTHLY, 3),
        ((D(2026, 1, 1), D(2026, 12, 31)), Cadence.WEEKLY, 53),
        ((D(2026, 1, 1), D(2026, 12, 31)), Cadence.BIWEEKLY, 26),
        ((D(2026, 1, 1), D(2026, 12, 31)), Cadence.MONTHLY, 12),
        ((D(2026, 12, 31), D(2026, 10, 1)), Cadence.WEEKLY, 0),  # end before start
    ],
)
def test_periods_in_window_counts(window: tuple[date, date], cadence: Cadence, count: int) -> None:
    assert len(periods_in_window(*window, cadence)) == count


def test_boundary_week_belongs_to_its_thursday() -> None:
    # 2026-09-28..10-04 has Thursday 10-01: it is Q4's first week, not Q3's last
    boundary = Period(D(2026, 9, 28), D(2026, 10, 4))
    assert periods_in_window(*Q4_2026, Cadence.WEEKLY)[0] == boundary
    assert periods_in_window(D(2026, 7, 1), D(2026, 9, 30), Cadence.WEEKLY)[-1].end == D(
        2026, 9, 27
    )


@pytest.mark.parametrize("year", range(2020, 2031))
def test_keys_number_a_year_without_holes(year: int) -> None:
    for cadence, letter in ((Cadence.WEEKLY, "W"), (Cadence.BIWEEKLY, "B")):
        periods = periods_in_window(D(year, 1, 1), D(year, 12, 31), cadence)
        expected = [f"{year}-{letter}{n:02d}" for n in range(1, len(periods) + 1)]
        assert [p.key for p in periods] == expected


# --- quarter_window / year_window --------------------------------------------


@pytest.mark.parametrize(
    ("day", "fy_month", "window"),
    [
        (D(2026, 11, 5), 1, (D(2026, 10, 1), D(2026, 12, 31), "2026-Q4")),
        (D(2026, 1, 1), 1, (D(2026, 1, 1), D(2026, 3, 31), "2026-Q1")),
        # April fiscal year: 2026-04-01..2027-03-31 is FY2027 (named by the year it ends in)
        (D(2026, 4, 1), 4, (D(2026, 4, 1), D(2026, 6, 30), "FY2027-Q1")),
        (D(2026, 11, 5), 4, (D(2026, 10, 1), D(2026, 12, 31), "FY2027-Q3")),
        (D(2027, 3, 31), 4, (D(2027, 1, 1), D(2027, 3, 31), "FY2027-Q4")),
        (D(2026, 3, 31), 4, (D(2026, 1, 1), D(2026, 3, 31), "FY2026-Q4")),
        # November fiscal year: the first quarter straddles new year (Nov, Dec, Jan)
        (D(2027, 1, 31), 11, (D(2026, 11, 1), D(2027, 1, 31), "FY2027-Q1")),
    ],
)
def test_quarter_window(day: date, fy_month: int, window: tuple[date, date, str]) -> None:
    assert quarter_window(day, fy_month) == window


def test_year_window() -> None:
    assert year_window(D(2026, 11, 5)) == (D(2026, 1, 1), D(2026, 12, 31), "2026")
    assert year_window(D(2027, 2, 1), 4) == (D(2026, 4, 1), D(2027, 3, 31), "FY2027")
    assert year_window(D(2026, 4, 1), 4) == (D(2026, 4, 1), D(2027, 3, 31), "FY2027")


@pytest.mark.parametrize("fy_month", [0, 13])
def test_windows_reject_bad_month(fy_month: int) -> None:
    with pytest.raises(ValueError):
        quarter_window(D(2026, 1, 1), fy_month)
    with pytest.raises(ValueError):
        year_window(D(2026, 1, 1), fy_month)


# --- adherence ----------------------------------------------------------------


def test_adherence_full_quarter_weekly() -> None:
    # 14 weeks expected; held in W41 (10-06), W43 (10-20), W45 (11-03) -> 3/14 = 0.2143
    # gap points 10-01, 10-06, 10-20, 11-03, 12-31 -> 5, 14, 14, 58 -> 58
    held = [D(2026, 10, 6), D(2026, 10, 20), D(2026, 11, 3)]
    assert q4(held_on=held) == Adherence(14, 3, 0, 0.2143, 58, D(2026, 11, 3))


def test_adherence_no_meetings() -> None:
    # 0/14; the gap is the whole quarter, 12-31 - 10-01 = 91 days
    assert q4() == Adherence(14, 0, 0, 0.0, 91, None)


def test_adherence_duplicates_and_two_meetings_in_one_week() -> None:
    # 10-06 twice and 10-08 are all W41: one held period; gaps 5, 2, 84 -> 84
    held = [D(2026, 10, 6), D(2026, 10, 6), D(2026, 10, 8)]
    assert q4(held_on=held) == Adherence(14, 1, 0, 0.0714, 84, D(2026, 10, 8))


def test_adherence_meeting_in_boundary_week_before_window() -> None:
    # 09-29 is in W40 (anchor 10-01), a Q4 period, so it is held; but it lies before the
    # window, so the gap still runs 10-01..12-31 = 91; last_held looks before the window
    assert q4(held_on=[D(2026, 9, 29)]) == Adherence(14, 1, 0, 0.0714, 91, D(2026, 9, 29))


def test_adherence_employee_joins_mid_quarter() -> None:
    # joins Monday 11-16: weeks with Thursday >= 11-16 are W47 (11-19) .. W53 -> 7 expected
    # held 11-17 (W47), 11-24 (W48), 12-08 (W50) -> 3/7 = 0.4286
    # gap points 11-16, 11-17, 11-24, 12-08, 12-31 -> 1, 7, 14, 23 -> 23
    held = [D(2026, 10, 6), D(2026, 11, 17), D(2026, 11, 24), D(2026, 12, 8)]
    result = q4(held_on=held, employee_active=ActiveSpan(D(2026, 11, 16), None))
    assert result == Adherence(7, 3, 0, 0.4286, 23, D(2026, 12, 8))


def test_adherence_joins_on_a_friday_skips_that_week() -> None:
    # joins Friday 11-20: W47's Thursday (11-19) is before, so W48 .. W53 -> 6 expected
    result = q4(employee_active=ActiveSpan(D(2026, 11, 20), None))
    assert (result.expected, result.longest_gap_days) == (6, 41)  # 12-31 - 11-20 = 41


def test_adherence_manager_leaves() -> None:
    # manager active until 11-30: W40 .. W48 (Thursday 11-26) -> 9; W49's Thursday is 12-03
    # held 11-25 (W48); gap points 10-01, 11-25, 11-30 -> 55, 5 -> 55
    result = q4(held_on=[D(2026, 11, 25)], manager_active=ActiveSpan(None, D(2026, 11, 30)))
    assert result == Adherence(9, 1, 0, 0.1111, 55, D(2026, 11, 25))


def test_adherence_excused_periods() -> None:
    # excused: 10-14 and 10-15 (both W42, counted once), 10-21 (W43), 12-29 (W53) -> 3
    # expected 14 - 3 = 11; held 10-06 (W41) counts, 10-20 is in excused W43 -> 1/11 = 0.0909
    # gap uses every held date: 10-01, 10-06, 10-20, 12-31 -> 5, 14, 72 -> 72
    excused = [D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 21), D(2026, 12, 29)]
    result = q4(held_on=[D(2026, 10, 6), D(2026, 10, 20)], excused_periods=excused)
    assert result == Adherence(11, 1, 3, 0.0909, 72, D(2026, 10, 20))


def test_adherence_as_of_mid_quarter() -> None:
    # as of Wednesday 11-11 (W46 = 11-09..11-15 is still running):
    # ended weeks W40 .. W45 = 6, plus W46 because it already has 11-10 -> 7 expected
    # held W41 (10-06), W42 (10-13), W46 (11-10) -> 3/7 = 0.4286; 11-12 and 12-01 are ignored
    # gap points 10-01, 10-06, 10-13, 11-10, 11-11 -> 5, 7, 28, 1 -> 28
    held = [D(2026, 10, 6), D(2026, 10, 13), D(2026, 11, 10), D(2026, 11, 12), D(2026, 12, 1)]
    result = q4(held_on=held, as_of=D(2026, 11, 11))
    assert result == Adherence(7, 3, 0, 0.4286, 28, D(2026, 11, 10))


def test_adherence_as_of_running_week_without_meeting_is_not_counted() -> None:
    # as of 11-11 with no meeting yet in W46: only W40 .. W45 -> 2/6 = 0.3333
    # gap points 10-01, 10-06, 10-13, 11-11 -> 5, 7, 29 -> 29
    result = q4(held_on=[D(2026, 10, 6), D(2026, 10, 13)], as_of=D(2026, 11, 11))
    assert result == Adherence(6, 2, 0, 0.3333, 29, D(2026, 10, 13))


def test_adherence_biweekly() -> None:
    # Q4 2026 blocks: B21 10-05..10-18, B22 10-19..11-01, B23 11-02..11-15,
    #                 B24 11-16..11-29, B25 11-30..12-13, B26 12-14..12-27 -> 6
    # 10-02 is in B20 (anchor 09-27, Q3) and 12-28 in a block anchored 2027-01-03: neither
    # counts; 10-08 (B21), 10-30 (B22), 11-25 (B24) do -> 3/6 = 0.5
    # gap points 10-01, 10-02, 10-08, 10-30, 11-25, 12-28, 12-31 -> 1, 6, 22, 26, 33, 3 -> 33
    held = [D(2026, 10, 2), D(2026, 10, 8), D(2026, 10, 30), D(2026, 11, 25), D(2026, 12, 28)]
    result = q4(Cadence.BIWEEKLY, held_on=held)
    assert result == Adherence(6, 3, 0, 0.5, 33, D(2026, 12, 28))


def test_adherence_monthly() -> None:
    # 3 months; held in October and December -> 2/3 = 0.6667
    # gap points 10-01, 10-15, 12-01, 12-31 -> 14, 47, 30 -> 47
    result = q4(Cadence.MONTHLY, held_on=[D(2026, 10, 15), D(2026, 12, 1)])
    assert result == Adherence(3, 2, 0, 0.6667, 47, D(2026, 12, 1))


def test_adherence_monthly_april_fiscal_quarter() -> None:
    # FY2027-Q1 with an April fiscal year = 2026-04-01..06-30: April, May, June
    start, end, label = quarter_window(D(2026, 5, 20), 4)
    assert label == "FY2027-Q1"
    result = adherence(
        window_start=start,
        window_end=end,
        cadence=Cadence.MONTHLY,
        held_on=[D(2026, 4, 30), D(2026, 6, 2)],
        excused_periods=[D(2026, 5, 1)],
    )
    # May excused -> expected 2, both held -> 1.0; gaps 04-01, 04-30, 06-02, 06-30 -> 29, 33, 28
    assert result == Adherence(2, 2, 1, 1.0, 33, D(2026, 6, 2))


def test_adherence_nobody_active() -> None:
    # employee left on 09-15: nothing expected, empty gap span, last meeting still reported
    result = q4(held_on=[D(2026, 9, 10)], employee_active=ActiveSpan(None, D(2026, 9, 15)))
    assert result == Adherence(0, 0, 0, None, None, D(2026, 9, 10))


def test_adherence_as_of_before_window() -> None:
    assert q4(as_of=D(2026, 9, 1)) == Adherence(0, 0, 0, None, None, None)


# --- tracking start -------------------------------------------------------------
# Issue 16: a 4-person company imported on Sunday 2026-12-06 was judged on the ten weeks
# before Drumbeat existed. These are its figures, by hand, with and without the start.


def test_untracked_pair_is_judged_on_the_whole_quarter() -> None:
    # what the issue saw: W40..W49 over by 12-07, W50 running and unheld -> 0 of 10;
    # after a meeting on 12-07 W50 counts too -> 1 of 11, and the gap 10-01..12-07 = 67
    assert q4(as_of=D(2026, 12, 7)).expected == 10
    assert q4(held_on=[D(2026, 12, 7)], as_of=D(2026, 12, 7)) == Adherence(
        11, 1, 0, 0.0909, 67, D(2026, 12, 7))


def test_first_agenda_of_a_pair_tracked_from_import_day() -> None:
    # tracked from Sunday 12-06: W49 (11-30..12-06) began before, W50 is still running
    # -> nothing expected yet; the gap runs from 12-06 to 12-07 = 1 day
    assert q4(as_of=D(2026, 12, 7), tracking_from=D(2026, 12, 6)) == Adherence(
        0, 0, 0, None, 1, None)


def test_first_reply_of_a_pair_tracked_from_import_day() -> None:
    # held 12-07 (W50): 1 of 1; gap points 12-06, 12-07, 12-07 -> 1
    result = q4(held_on=[D(2026, 12, 7)], as_of=D(2026, 12, 7), tracking_from=D(2026, 12, 6))
    assert result == Adherence(1, 1, 0, 1.0, 1, D(2026, 12, 7))


def test_tracking_from_mid_week_starts_with_the_next_period() -> None:
    # tracked from Wednesday 12-02: W49 began on 11-30, before; W50..W53 are expected
    # (4); held 12-09 (W50); gap points 12-02, 12-09, 12-31 -> 7, 22 -> 22
    result = q4(held_on=[D(2026, 12, 9)], tracking_from=D(2026, 12, 2))
    assert result == Adherence(4, 1, 0, 0.25, 22, D(2026, 12, 9))


def test_tracking_from_a_period_start_counts_that_period() -> None:
    # a pair's first agenda was for W50, so it is tracked from its Monday 12-07: 4 expected
    assert q4(tracking_from=D(2026, 12, 7)).expected == 4
    monthly = q4(Cadence.MONTHLY, tracking_from=D(2026, 11, 1))
    assert (monthly.expected, monthly.longest_gap_days) == (2, 60)  # Nov, Dec; 11-01..12-31


def test_tracking_before_the_window_changes_nothing() -> None:
    held = [D(2026, 10, 6), D(2026, 10, 20), D(2026, 11, 3)]
    # W40 starts on Monday 09-28: a start on or before it keeps every period of Q4
    assert q4(held_on=held, tracking_from=D(2026, 9, 28)) == q4(held_on=held)
    # from 09-29 W40 (09-28..10-04) is no longer expected: 13, and the gap still from 10-01
    assert q4(held_on=held, tracking_from=D(2026, 9, 29)) == Adherence(
        13, 3, 0, 0.2308, 58, D(2026, 11, 3))


def test_tracking_after_the_window_expects_nothing() -> None:
    result = q4(held_on=[D(2026, 12, 1)], tracking_from=D(2027, 1, 4))
    assert result == Adherence(0, 0, 0, None, None, D(2026, 12, 1))


def test_meetings_before_tracking_are_history_not_score() -> None:
    # a meeting in W48, before tracking, is the last one held, yet not a held period
    result = q4(held_on=[D(2026, 11, 24)], as_of=D(2026, 12, 14), tracking_from=D(2026, 12, 7))
    # W50 (12-07..12-13) is over and missed: 0 of 1; gap 12-07..12-14 = 7
    assert result == Adherence(1, 0, 0, 0.0, 7, D(2026, 11, 24))


def test_counted_from_moves_back_to_a_backfilled_meetings_period() -> None:
    weekly = Cadence.WEEKLY
    assert counted_from(None, [], weekly) is None
    assert counted_from(D(2026, 12, 6), [], weekly) == D(2026, 12, 6)
    # back-filled 1:1s on Wednesday 10-21 (W43, from Monday 10-19) and 11-18
    backfill = [D(2026, 11, 18), D(2026, 10, 21)]
    assert counted_from(D(2026, 12, 6), backfill, weekly) == D(2026, 10, 19)
    assert counted_from(None, backfill, Cadence.MONTHLY) == D(2026, 10, 1)
    # a back-filled meeting after the tracking start moves nothing
    assert counted_from(D(2026, 10, 1), [D(2026, 11, 18)], weekly) == D(2026, 10, 1)


def test_backfilled_quarter_counts_from_the_first_backfilled_period() -> None:
    # imported 12-06 with 1:1s back-filled on 10-21 and 11-18 (from another tool):
    # counted from Monday 10-19: W43..W49 are over (7), W50 is running and unheld;
    # held W43, W47 -> 2 of 7; gap points 10-19, 10-21, 11-18, 12-07 -> 2, 28, 19 -> 28
    backfill = [D(2026, 10, 21), D(2026, 11, 18)]
    start = counted_from(D(2026, 12, 6), backfill, Cadence.WEEKLY)
    result = q4(held_on=backfill, as_of=D(2026, 12, 7), tracking_from=start)
    assert result == Adherence(7, 2, 0, 0.2857, 28, D(2026, 11, 18))


# --- properties ---------------------------------------------------------------

days = st.dates(min_value=D(2018, 1, 1), max_value=D(2032, 12, 31))
cadences = st.sampled_from(list(Cadence))
progress = st.floats(min_value=0, max_value=100, allow_nan=False)
weights = st.floats(min_value=0.001, max_value=1000, allow_nan=False)
children = st.lists(
    st.builds(Weighted, st.one_of(st.none(), progress), weights, st.booleans()), max_size=8
)
spans = st.builds(ActiveSpan, st.one_of(st.none(), days), st.one_of(st.none(), days))


@st.composite
def windows(draw: st.DrawFn) -> tuple[date, date]:
    """A window of up to about 14 months."""
    start = draw(days)
    return start, start + timedelta(days=draw(st.integers(0, 420)))


@st.composite
def adherence_args(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for adherence with dates scattered around the window."""
    start, end = draw(windows())
    near = st.dates(min_value=start - timedelta(days=40), max_value=end + timedelta(days=40))
    return {
        "window_start": start,
        "window_end": end,
        "cadence": draw(cadences),
        "held_on": draw(st.lists(near, max_size=30)),
        "excused_periods": draw(st.lists(near, max_size=5)),
        "employee_active": draw(spans),
        "manager_active": draw(spans),
        "as_of": draw(st.one_of(st.none(), near)),
        "tracking_from": draw(st.one_of(st.none(), near)),
    }


@settings(max_examples=200, deadline=None)
@given(children, st.one_of(st.none(), st.floats(-50, 150)))
def test_rollup_stays_between_children(kids: list[Weighted], own: float | None) -> None:
    result = rollup(kids, own)
    counted = [k.progress for k in kids if not k.dropped and k.progress is not None]
    if counted:
        assert result is not None
        assert 0 <= result <= 100
        assert min(counted) - 0.05 <= result <= max(counted) + 0.05  # 1-decimal rounding
    else:
        assert result == (None if own is None else round(min(100, max(0, own)), 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), weights), min_size=1, max_size=8))
def test_rollup_clamped_for_any_input(pairs: list[tuple[float, float]]) -> None:
    result = rollup([Weighted(p, w) for p, w in pairs])
    assert result is not None and 0 <= result <= 100


@settings(max_examples=200, deadline=None)
@given(adherence_args())
def test_adherence_rate_and_counts_in_range(args: dict[str, Any]) -> None:
    result = adherence(**args)
    assert 0 <= result.held <= result.expected
    assert result.rate is None if result.expected == 0 else 0 <= result.rate <= 1
    total = len(periods_in_window(args["window_start"], args["window_end"], args["cadence"]))
    assert result.expected + result.excused <= total
    assert result.longest_gap_days is None or result.longest_gap_days >= 0


@settings(max_examples=200, deadline=None)
@given(adherence_args(), days)
def test_another_meeting_never_hurts(args: dict[str, Any], extra: date) -> None:
    before = adherence(**args)
    after = adherence(**{**args, "held_on": [*args["held_on"], extra]})
    if before.rate is not None:
        assert after.rate is not None and after.rate >= before.rate
    assert after.held >= before.held
    if before.longest_gap_days is None:
        assert after.longest_gap_days is None
    else:
        assert after.longest_gap_days is not None
        assert after.longest_gap_days <= before.longest_gap_days


@settings(max_examples=200, deadline=None)
@given(adherence_args(), days)
def test_excusing_never_raises_the_denominator(args: dict[str, Any], extra: date) -> None:
    before = adherence(**args)
    excused = [*args["excused_periods"], extra]
    after = adherence(**{**args, "excused_periods": excused})
    assert after.expected <= before.expected
    assert after.held <= before.held
    assert after.expected + after.excused == before.expected + before.excused


@settings(max_examples=200, deadline=None)
@given(adherence_args(), st.integers(2018, 2031), st.integers(1, 12))
def test_quarters_add_up_to_the_year(args: dict[str, Any], year: int, fy_month: int) -> None:
    year_start, year_end, _ = year_window(D(year, fy_month, 1), fy_month)
    whole = adherence(**{**args, "window_start": year_start, "window_end": year_end})
    parts, day = [], year_start
    while day <= year_end:
        q_start, q_end, _ = quarter_window(day, fy_month)
        parts.append(adherence(**{**args, "window_start": q_start, "window_end": q_end}))
        day = q_end + timedelta(days=1)
    assert len(parts) == 4
    assert sum(p.expected for p in parts) == whole.expected
    assert sum(p.held for p in parts) == whole.held
    assert sum(p.excused for p in parts) == whole.excused


@settings(max_examples=200, deadline=None)
@given(adherence_args(), days)
def test_a_later_tracking_start_never_expects_more(args: dict[str, Any], later: date) -> None:
    earlier = args["tracking_from"]
    if earlier is not None and later < earlier:
        earlier, later = later, earlier
    first = adherence(**{**args, "tracking_from": earlier})
    second = adherence(**{**args, "tracking_from": later})
    assert second.expected <= first.expected
    assert second.held <= first.held
    assert second.excused <= first.excused
    assert second.last_held == first.last_held  # history is history


@settings(max_examples=200, deadline=None)
@given(adherence_args())
def test_tracking_from_the_first_periods_start_is_no_limit(args: dict[str, Any]) -> None:
    first = period_containing(args["window_start"], args["cadence"]).start
    untracked = adherence(**{**args, "tracking_from": None})
    assert adherence(**{**args, "tracking_from": first}) == untracked


@settings(max_examples=200, deadline=None)
@given(days, cadences)
def test_every_day_in_exactly_one_period(day: date, cadence: Cadence) -> None:
    period = period_containing(day, cadence)
    assert period.start <= day <= period.end
    assert period.start <= period.anchor <= period.end
    assert period_containing(period.start, cadence) == period
    assert period_containing(period.end, cadence) == period
    # the neighbours end/start exactly at the edges: no overlap, no hole
    one = timedelta(days=1)
    assert period_containing(period.start - one, cadence).end == period.start - one
    assert period_containing(period.end + one, cadence).start == period.end + one
    length = (period.end - period.start).days + 1
    assert length in {Cadence.WEEKLY: {7}, Cadence.BIWEEKLY: {14}}.get(cadence, {28, 29, 30, 31})
    assert cadence is Cadence.MONTHLY or period.start.weekday() == 0
    assert period.key  # every generated period has a name


@settings(max_examples=200, deadline=None)
@given(windows(), st.integers(0, 420), cadences)
def test_adjacent_windows_split_periods(
    window: tuple[date, date], cut: int, cadence: Cadence
) -> None:
    start, end = window
    middle = min(start + timedelta(days=cut), end)
    left = periods_in_window(start, middle, cadence)
    right = periods_in_window(middle + timedelta(days=1), end, cadence)
    assert left + right == periods_in_window(start, end, cadence)
    assert len({p.key for p in left + right}) == len(left) + len(right)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(TaskDue, st.one_of(st.none(), days), st.one_of(st.none(), days), st.booleans()),
        max_size=20,
    ),
    windows(),
    st.one_of(st.none(), days),
)
def test_on_time_rate_in_range(
    tasks: list[TaskDue], window: tuple[date, date], as_of: date | None
) -> None:
    result = on_time(tasks, *window, as_of=as_of)
    assert 0 <= result.done_on_time <= result.done <= result.due
    assert result.done_on_time + result.overdue == result.due
    assert result.rate is None if result.due == 0 else 0 <= result.rate <= 1
