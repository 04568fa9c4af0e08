"""The cell readers behind both importers: what HR exports contain, and what is refused.

Pure functions, no database. Every refusal is a :class:`BadValue` whose message
quotes the cell and whose hint shows how to write it, because that text ends
up, verbatim, in the problem list the person importing the file reads.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from models.importing.values import (
    BadValue,
    read_bool,
    read_cadence,
    read_date,
    read_email,
    read_progress,
    read_status,
    read_time,
    read_timezone,
    read_weekday,
    read_weight,
)
from models.plan import TaskStatus
from models.scoring import Cadence

# --- weekdays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "weekday"),
    [
        ("Monday", 0),
        ("mon", 0),
        ("MONDAY", 0),
        ("TUE", 1),
        ("tues", 1),
        ("Wednesday", 2),
        ("wed", 2),
        ("thurs", 3),
        ("Thu.", 3),
        ("THU", 3),
        ("fri", 4),
        ("Sat", 5),
        ("su", 6),
        ("  sunday  ", 6),
    ],
)
def test_weekday_full_or_abbreviated_in_any_case(cell: str, weekday: int) -> None:
    assert read_weekday(cell) == weekday


@pytest.mark.parametrize("cell", ["xyz", "s", "t", "", "   ", "Mondays", "funday", "7"])
def test_weekday_refused_with_the_accepted_forms(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_weekday(cell)
    assert "is not a day of the week" in caught.value.message
    assert repr(cell.strip()) in caught.value.message
    assert "Monday, mon, TUE, thurs" in caught.value.hint


# --- booleans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("yes", True), ("Yes", True), ("Y", True), ("true", True), ("TRUE", True), ("1", True),
        ("no", False), ("NO", False), ("n", False), ("false", False), ("False", False),
        ("0", False), ("", False), (" yes ", True),
    ],
)
def test_boolean_words(cell: str, value: bool) -> None:
    assert read_bool(cell) is value


@pytest.mark.parametrize("cell", ["maybe", "2", "oui", "-1"])
def test_boolean_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_bool(cell)
    assert caught.value.message == f"{cell!r} is not yes or no"
    assert caught.value.hint == "Write yes/no, true/false or 1/0."


# --- times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("09:30", time(9, 30)),
        ("9:30", time(9, 30)),
        ("9.30", time(9, 30)),
        ("14h30", time(14, 30)),
        ("14:00", time(14, 0)),
        ("14", time(14, 0)),
        ("9am", time(9, 0)),
        ("9 AM", time(9, 0)),
        ("2:30 pm", time(14, 30)),
        ("2:30 p.m.", time(14, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("23:59:59", time(23, 59, 59)),
        ("00:00", time(0, 0)),
    ],
)
def test_time_of_day_forms(cell: str, value: time) -> None:
    assert read_time(cell) == value


@pytest.mark.parametrize(
    "cell", ["25:00", "24:00", "13pm", "0am", "9:60", "9:5", "noon", "", "10:00:61", "-1:00"]
)
def test_time_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_time(cell)
    assert caught.value.message == f"{cell!r} is not a time of day"
    assert "09:30" in caught.value.hint


# --- time zones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "canonical"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN ", "Europe/Berlin"),
        ("america/new york", "America/New_York"),
        ("America/Los_Angeles", "America/Los_Angeles"),
        ("UTC", "UTC"),
        ("asia/kolkata", "Asia/Kolkata"),
    ],
)
def test_time_zone_matched_case_insensitively_and_returned_canonical(
    cell: str, canonical: str
) -> None:
    assert read_timezone(cell) == canonical


@pytest.mark.parametrize("cell", ["CET+5", "Mars/Base", "Berlin", "GMT+25", "", "PST8PDT+1"])
def test_time_zone_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_timezone(cell)
    assert caught.value.message == f"{cell!r} is not a time zone"
    assert "Europe/Berlin" in caught.value.hint


# --- emails -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("ann@x.com", "ann@x.com"),
        ("Ann@X.com", "ann@x.com"),
        ("  ANN.LEE@Company.Example  ", "ann.lee@company.example"),
        ("marcus.bell@northwind.example", "marcus.bell@northwind.example"),
    ],
)
def test_email_lower_cased(cell: str, value: str) -> None:
    assert read_email(cell) == value


@pytest.mark.parametrize("cell", ["ann@", "not an email", "@x.com", "ann@@x.com", "ann x@x.com"])
def test_email_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_email(cell)
    assert caught.value.message.startswith(f"{cell!r} is not an email address")
    assert caught.value.hint == "Write it as name@company.com."


def test_empty_email_refused() -> None:
    with pytest.raises(BadValue) as caught:
        read_email("  ")
    assert caught.value.message == "is empty"
    assert "needs an email address" in caught.value.hint


# --- cadence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "cadence"),
    [
        ("weekly", Cadence.WEEKLY), ("Weekly", Cadence.WEEKLY),
        ("biweekly", Cadence.BIWEEKLY), ("Bi-Weekly", Cadence.BIWEEKLY),
        ("fortnightly", Cadence.BIWEEKLY), ("every two weeks", Cadence.BIWEEKLY),
        ("MONTHLY", Cadence.MONTHLY),
    ],
)
def test_cadence_words(cell: str, cadence: Cadence) -> None:
    assert read_cadence(cell) is cadence


@pytest.mark.parametrize("cell", ["daily", "quarterly", ""])
def test_cadence_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_cadence(cell)
    assert caught.value.message == f"{cell!r} is not a check-in cadence"
    assert caught.value.hint == "Write weekly, biweekly or monthly."


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("2026-12-04", date(2026, 12, 4)),
        (" 2026-12-04 ", date(2026, 12, 4)),
        (date(2027, 1, 29), date(2027, 1, 29)),  # YAML already made it a date
        ("2028-02-29", date(2028, 2, 29)),
    ],
)
def test_date_iso(cell: object, value: date) -> None:
    assert read_date(cell) == value


@pytest.mark.parametrize(
    "cell", ["2026-13-01", "2026-02-30", "2027-02-29", "04/12/2026", "next friday", "", "Dec 4"]
)
def test_date_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_date(cell)
    assert caught.value.message == f"{cell!r} is not a date"
    assert caught.value.hint == "Write dates as YYYY-MM-DD, e.g. 2026-12-04."


def test_date_from_a_yaml_timestamp_is_a_plain_date() -> None:
    value = read_date(datetime(2026, 12, 4, 10, 0))
    assert type(value) is date
    assert value == date(2026, 12, 4)


# --- status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("open", TaskStatus.OPEN),
        ("in progress", TaskStatus.IN_PROGRESS),
        ("In Progress", TaskStatus.IN_PROGRESS),
        ("in-progress", TaskStatus.IN_PROGRESS),
        ("in_progress", TaskStatus.IN_PROGRESS),
        ("BLOCKED", TaskStatus.BLOCKED),
        ("done", TaskStatus.DONE),
        ("Dropped", TaskStatus.DROPPED),
    ],
)
def test_status_words(cell: str, status: TaskStatus) -> None:
    assert read_status(cell) is status


@pytest.mark.parametrize("cell", ["finished", "wip", "", True])
def test_status_refused(cell: object) -> None:
    with pytest.raises(BadValue) as caught:
        read_status(cell)
    assert caught.value.message == f"{cell!r} is not a status"
    assert caught.value.hint == "Use one of: open, in_progress, blocked, done, dropped."


# --- progress ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [("60%", 60), ("60 %", 60), ("0", 0), ("100", 100), (60, 60), (100.0, 100), (" 7 ", 7)],
)
def test_progress_whole_percentages(cell: object, value: int) -> None:
    assert read_progress(cell) == value


@pytest.mark.parametrize("cell", [101, "120%", -1, 40.5, "40.5%", "nan"])
def test_progress_out_of_range_or_fractional_refused(cell: object) -> None:
    with pytest.raises(BadValue) as caught:
        read_progress(cell)
    assert caught.value.message == f"{cell!r} is not a whole number from 0 to 100"
    assert caught.value.hint == "Write a number from 0 to 100, e.g. 60."


@pytest.mark.parametrize("cell", ["half", "", "sixty%"])
def test_progress_not_a_number_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_progress(cell)
    assert caught.value.message == f"{cell!r} is not a percentage"


# --- weight -----------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "value"), [(1, 1.0), ("2.5", 2.5), (0.1, 0.1), ("3", 3.0)])
def test_weight_positive_numbers(cell: object, value: float) -> None:
    assert read_weight(cell) == value


@pytest.mark.parametrize("cell", [0, -1, "-0.5", "nan", "inf"])
def test_weight_not_positive_refused(cell: object) -> None:
    with pytest.raises(BadValue) as caught:
        read_weight(cell)
    assert caught.value.message == f"{cell!r} is not a positive weight"
    assert caught.value.hint == "Write a positive number, e.g. 1 or 2.5."


@pytest.mark.parametrize("cell", ["heavy", "", "1,5"])
def test_weight_not_a_number_refused(cell: str) -> None:
    with pytest.raises(BadValue) as caught:
        read_weight(cell)
    assert caught.value.message == f"{cell!r} is not a number"
