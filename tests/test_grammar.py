"""The reply grammar, row by row: what people write back and the commands it becomes.

Relative dates are read against one message, written on Thursday 2026-11-26 at
09:30 in Berlin, so "Friday" is 2026-11-27 and "next Friday" 2026-12-04 (the rules
are in the docstring of ``mail.read.grammar``).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.read.commands import (
    Away,
    Command,
    LineError,
    MeetingReport,
    NewTask,
    Parsed,
    TaskDoneOn,
    TaskUpdate,
    Topic,
    TopicDone,
)
from mail.read.dates import DateBudget
from mail.read.grammar import parse_commands

BERLIN = "Europe/Berlin"
THURSDAY = datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo(BERLIN))
FRIDAY = date(2026, 11, 27)
NEXT_FRIDAY = date(2026, 12, 4)


def parse(text: str, **kwargs: object) -> Parsed:
    kwargs.setdefault("message_date", THURSDAY)
    kwargs.setdefault("timezone", BERLIN)
    return parse_commands(text, **kwargs)  # type: ignore[arg-type]


def one(line: str, **kwargs: object) -> Command | LineError:
    """The single outcome of a line that must be a command or an error."""
    parsed = parse(line, **kwargs)
    outcomes = [*parsed.commands, *parsed.errors]
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def when(outcome: Command | LineError) -> date | None:
    """The date a line set: a task's due date, the day it was done or a meeting held."""
    if isinstance(outcome, TaskUpdate | NewTask):
        return outcome.due
    return outcome.on if isinstance(outcome, MeetingReport | TaskDoneOn) else None


def done(task: str = "T-12", note: str | None = None) -> TaskUpdate:
    return TaskUpdate(task, percent=100, status="done", note=note)


GRAMMAR: list[tuple[str, Command]] = [
    # progress
    ("T-12 60%", TaskUpdate("T-12", percent=60)),
    ("T-12 60 %", TaskUpdate("T-12", percent=60)),
    ("T-12: 60% drafted the intro", TaskUpdate("T-12", percent=60, note="drafted the intro")),
    ("T-12 60% - drafted", TaskUpdate("T-12", percent=60, note="drafted")),
    ("T-12 60%, intro drafted", TaskUpdate("T-12", percent=60, note="intro drafted")),
    ("T-12 0%", TaskUpdate("T-12", percent=0)),
    ("T-12 62.5%", TaskUpdate("T-12", percent=63)),
    ("T-12 is at 40%", TaskUpdate("T-12", percent=40)),
    ("T-12 60% done with the intro", TaskUpdate("T-12", percent=60, note="done with the intro")),
    # reference spellings and bullets
    ("T12 60%", TaskUpdate("T-12", percent=60)),
    ("#T-12 60%", TaskUpdate("T-12", percent=60)),
    ("[T-12] 60%", TaskUpdate("T-12", percent=60)),
    ("t-12 60%", TaskUpdate("T-12", percent=60)),
    ("T–12 60%", TaskUpdate("T-12", percent=60)),
    ("T-012 60%", TaskUpdate("T-12", percent=60)),
    ("- T-12 60%", TaskUpdate("T-12", percent=60)),
    ("* T-12 60%", TaskUpdate("T-12", percent=60)),
    ("• T-12 60%", TaskUpdate("T-12", percent=60)),
    ("1. T-12 60%", TaskUpdate("T-12", percent=60)),
    ("1) T-12 60%", TaskUpdate("T-12", percent=60)),
    ("+ T-12 60%", TaskUpdate("T-12", percent=60)),
    ("   T-12 60%   ", TaskUpdate("T-12", percent=60)),
    # done
    ("T-12 done", done()),
    ("T-12 DONE", done()),
    ("T-12 complete", done()),
    ("T-12 completed", done()),
    ("T-12 finished", done()),
    ("T-12 ✓", done()),
    ("T-12 ✔", done()),
    ("T-12 ✔️", done()),
    ("T-12 ☑", done()),
    ("T-12 完了", done()),  # the Japanese agenda's example
    ("T-12 完成", done()),  # the Chinese one's
    ("T-12 已完成", done()),
    ("T-12 済み", done()),
    ("T-12 100%", done()),
    ("T-12 100% done", done()),
    ("T-12 done!", done()),
    ("T-12: done, shipped it", done(note="shipped it")),
    ("T-12 erledigt", done()),
    ("T-12 fait", done()),
    ("T-12 hecho", done()),
    ("T-12 feito", done()),
    ("T-12 fatto", done()),
    ("T-12 klaar", done()),
    # blocked
    ("T-12 blocked: waiting on legal", TaskUpdate("T-12", status="blocked",
                                                  note="waiting on legal")),
    ("T-12 blocked waiting on legal", TaskUpdate("T-12", status="blocked",
                                                 note="waiting on legal")),
    ("T-12 blocked", TaskUpdate("T-12", status="blocked")),
    ("T-12 blocked due to the audit", TaskUpdate("T-12", status="blocked",
                                                 note="due to the audit")),
    ("T-12 60% blocked: legal", TaskUpdate("T-12", percent=60, status="blocked", note="legal")),
    # started
    ("T-12 started", TaskUpdate("T-12", status="in_progress")),
    ("T-12 in progress", TaskUpdate("T-12", status="in_progress")),
    ("T-12 in-progress", TaskUpdate("T-12", status="in_progress")),
    ("T-12 working on it", TaskUpdate("T-12", status="in_progress")),
    ("T-12 started 10%", TaskUpdate("T-12", percent=10, status="in_progress")),
    # due dates
    ("T-12 due 2026-12-18", TaskUpdate("T-12", due=date(2026, 12, 18))),
    ("T-12 due next Friday", TaskUpdate("T-12", due=NEXT_FRIDAY)),
    ("T-12 due Friday", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due this Friday", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due on Friday", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due fri", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due Thursday", TaskUpdate("T-12", due=date(2026, 12, 3))),
    ("T-12 due next Monday", TaskUpdate("T-12", due=date(2026, 11, 30))),
    ("T-12 moved to Tuesday", TaskUpdate("T-12", due=date(2026, 12, 1))),
    ("T-12 moved to next Friday", TaskUpdate("T-12", due=NEXT_FRIDAY)),
    ("T-12 due: 18 Dec", TaskUpdate("T-12", due=date(2026, 12, 18))),
    ("T-12 due 12/18", TaskUpdate("T-12", due=date(2026, 12, 18))),
    ("T-12 due 18/12", TaskUpdate("T-12", due=date(2026, 12, 18))),
    ("T-12 due 12/11", TaskUpdate("T-12", due=date(2026, 12, 11))),
    ("T-12 due 18.12.", TaskUpdate("T-12", due=date(2026, 12, 18))),
    ("T-12 due 1/5", TaskUpdate("T-12", due=date(2027, 1, 5))),
    ("T-12 due 12/18/27", TaskUpdate("T-12", due=date(2027, 12, 18))),
    ("T-12 due tomorrow", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due next week", TaskUpdate("T-12", due=date(2026, 12, 3))),
    ("T-12 due in 2 weeks", TaskUpdate("T-12", due=date(2026, 12, 10))),
    ("T-12 due December", TaskUpdate("T-12", due=date(2026, 12, 31))),
    ("T-12 due Freitag", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due 20 décembre", TaskUpdate("T-12", due=date(2026, 12, 20))),
    ("T-12 by Friday", TaskUpdate("T-12", due=FRIDAY)),
    ("T-12 due Friday, waiting on Ann", TaskUpdate("T-12", due=FRIDAY, note="waiting on Ann")),
    ("T-12 due next Friday waiting on Ann", TaskUpdate("T-12", due=NEXT_FRIDAY,
                                                      note="waiting on Ann")),
    # dropped, note
    ("T-12 dropped: superseded by T-20", TaskUpdate("T-12", status="dropped",
                                                   note="superseded by T-20")),
    ("T-12 dropped", TaskUpdate("T-12", status="dropped")),
    ("T-12 note: called the vendor", TaskUpdate("T-12", note="called the vendor")),
    ("T-12: note called the vendor", TaskUpdate("T-12", note="called the vendor")),
    # combinations
    ("T-12 60% due Friday", TaskUpdate("T-12", percent=60, due=FRIDAY)),
    ("T-12 60% by Friday", TaskUpdate("T-12", percent=60, due=FRIDAY)),
    ("T-12 due Friday 60%", TaskUpdate("T-12", percent=60, due=FRIDAY)),
    ("T-12 done due 2026-11-20", TaskUpdate("T-12", percent=100, status="done",
                                            due=date(2026, 11, 20))),
    ("T-12 60% due to the holidays", TaskUpdate("T-12", percent=60, note="due to the holidays")),
    # when it was done: read as meeting dates are (the last such day, today included)
    ("T-12 done on 2026-11-20", TaskDoneOn("T-12", date(2026, 11, 20))),
    ("T-12 done on 3 Nov", TaskDoneOn("T-12", date(2026, 11, 3))),
    ("T-12 done on yesterday", TaskDoneOn("T-12", date(2026, 11, 25))),
    ("T-12 done on last Friday", TaskDoneOn("T-12", date(2026, 11, 20))),
    ("T-12 done on Friday", TaskDoneOn("T-12", date(2026, 11, 20))),
    ("T-12 done on Thursday", TaskDoneOn("T-12", date(2026, 11, 26))),
    ("T-12 done on 12/24", TaskDoneOn("T-12", date(2025, 12, 24))),
    ("T-12 completed on 20.11.", TaskDoneOn("T-12", date(2026, 11, 20))),
    ("T-12 ✓ on 11/20", TaskDoneOn("T-12", date(2026, 11, 20))),
    ("T-12 finished on: Tuesday", TaskDoneOn("T-12", date(2026, 11, 24))),
    ("- T-12: done on Monday, shipped it", TaskDoneOn("T-12", date(2026, 11, 23),
                                                      note="shipped it")),
    ("T-12 done on time", done(note="on time")),  # no date follows: done, with a note
    # new tasks
    ("new: Call the vendor by Friday", NewTask("Call the vendor", due=FRIDAY)),
    ("new: Call the vendor", NewTask("Call the vendor")),
    ("New Task: Call the vendor", NewTask("Call the vendor")),
    ("+ Call the vendor due 2026-12-04 P-3 @bob",
     NewTask("Call the vendor", due=date(2026, 12, 4), project="P-3", owner="bob")),
    ("new: Draft memo P-7 @Ann@Example.com due next week",
     NewTask("Draft memo", due=date(2026, 12, 3), project="P-7", owner="ann@example.com")),
    ("new: Review the deck by Ann", NewTask("Review the deck by Ann")),
    ("- new: Book the room P3", NewTask("Book the room", project="P-3")),
    # meetings
    ("met: yes", MeetingReport(held=True)),
    ("met: y", MeetingReport(held=True)),
    ("Met: Yes", MeetingReport(held=True)),
    ("met: 2026-11-26 30min", MeetingReport(held=True, on=date(2026, 11, 26), minutes=30)),
    ("met: today 45 min", MeetingReport(held=True, on=date(2026, 11, 26), minutes=45)),
    ("met: yesterday", MeetingReport(held=True, on=date(2026, 11, 25))),
    ("met: yes 1h", MeetingReport(held=True, minutes=60)),
    ("met: yes, 1h30", MeetingReport(held=True, minutes=90)),
    ("met: 1.5 hours", MeetingReport(held=True, minutes=90)),
    ("met: Monday", MeetingReport(held=True, on=date(2026, 11, 23))),
    ("met: Thursday", MeetingReport(held=True, on=date(2026, 11, 26))),
    ("met: last Thursday", MeetingReport(held=True, on=date(2026, 11, 19))),
    ("met: last Tuesday", MeetingReport(held=True, on=date(2026, 11, 24))),
    ("met: 11/24", MeetingReport(held=True, on=date(2026, 11, 24))),
    ("met: 12/24", MeetingReport(held=True, on=date(2025, 12, 24))),
    ("met: no, moved to Thursday", MeetingReport(held=False, reason="moved to Thursday")),
    ("met: no", MeetingReport(held=False)),
    ("skip: vacation", MeetingReport(held=None, excused=True, reason="vacation")),
    ("skipped: sick", MeetingReport(held=None, excused=True, reason="sick")),
    ("skip:", MeetingReport(held=None, excused=True)),
    ("topic: the hiring plan", Topic("the hiring plan")),
    ("Topic: The Hiring Plan", Topic("The Hiring Plan")),
    ("- topic: budget for Q1", Topic("budget for Q1")),
    ("talking point: offsite dates", Topic("offsite dates")),
    ("topic @ana: the hiring plan", Topic("the hiring plan", report="ana")),
    ("topic @Ann@acme.example: pay review", Topic("pay review", report="ann@acme.example")),
    ("topic done: the hiring plan", TopicDone("the hiring plan")),
    ("topic closed: the hiring", TopicDone("the hiring")),
    ("topic done @ana: pay", TopicDone("pay", report="ana")),
    # Written on Thursday 2026-11-26: days ahead are the next such day, today included.
    ("away: 21 Dec - 4 Jan", Away(date(2026, 12, 21), date(2027, 1, 4))),
    ("away: 21 Dec – 4 Jan", Away(date(2026, 12, 21), date(2027, 1, 4))),
    ("away: 21 Dec-4 Jan", Away(date(2026, 12, 21), date(2027, 1, 4))),
    ("away: 28 Nov to 2 Dec", Away(date(2026, 11, 28), date(2026, 12, 2))),
    ("away: 2026-12-21 - 2027-01-04", Away(date(2026, 12, 21), date(2027, 1, 4))),
    ("away: 21.12.-4.1.", Away(date(2026, 12, 21), date(2027, 1, 4))),
    ("away: until 4 Jan", Away(date(2026, 11, 26), date(2027, 1, 4))),
    ("away: until Friday", Away(date(2026, 11, 26), date(2026, 11, 27))),
    ("away: 24 Dec", Away(date(2026, 12, 24), date(2026, 12, 24))),
    ("away: tomorrow", Away(date(2026, 11, 27), date(2026, 11, 27))),
    ("time away: Monday - Friday", Away(date(2026, 11, 30), date(2026, 12, 4))),
    # An absence under way: its first day passed this month.
    ("away: 20 Nov - 4 Dec", Away(date(2026, 11, 20), date(2026, 12, 4))),
]


@pytest.mark.parametrize(("line", "expected"), GRAMMAR, ids=[line for line, _ in GRAMMAR])
def test_grammar_row(line: str, expected: Command) -> None:
    assert one(line) == replace(expected, line=line.strip())


NEW_EXAMPLE = "new: Draft memo P-7 @ann due Friday"
DONE_ON_FORMS = ("Write e.g. T-12 done on 2026-12-03, T-12 done on 3 Dec "
                 "or T-12 done on last Friday")
AWAY_FORMS = "Write e.g. away: 21 Dec - 4 Jan, or away: until 4 Jan"
ERRORS: list[tuple[str, str]] = [
    ("T-99 sixty", "I could not read the progress. Write a percentage, e.g. T-99 60%"),
    ("T-99 60", "I could not read the progress. Write a percentage, e.g. T-99 60%"),
    ("T-12 120%", "Progress goes from 0 to 100%. Write e.g. T-12 60%, "
                  "or T-12 done when it is finished"),
    ("T-12 -5%", "Progress goes from 0 to 100%. Write e.g. T-12 60%, "
                 "or T-12 done when it is finished"),
    ("T-12 99999%", "Progress goes from 0 to 100%. Write e.g. T-12 60%, "
                    "or T-12 done when it is finished"),
    ("T-12 due Fridy", 'I could not read the date "Fridy". '
                       "Write e.g. T-12 due 2026-12-18 or T-12 due Friday"),
    ("T-12 due 2026-02-30", 'I could not read the date "2026-02-30". '
                            "Write e.g. T-12 due 2026-12-18 or T-12 due Friday"),
    ("T-12 due 5", 'I could not read the date "5". '
                   "Write e.g. T-12 due 2026-12-18 or T-12 due Friday"),
    ("T-12 due", "Say which date, e.g. T-12 due 2026-12-18 or T-12 due Friday"),
    ("T-12 note:", "The note is empty. Write e.g. T-12 note: called the vendor"),
    ("T-12", "Say what changed. Write e.g. T-12 60%, T-12 done, T-12 blocked: waiting on legal, "
             "T-12 due Friday or T-12 note: called the vendor"),
    ("T-12 is going well", "I could not read what changed for T-12. Write e.g. T-12 60%, "
                           "T-12 done, T-12 blocked: waiting on legal, T-12 due Friday "
                           "or T-12 note: called the vendor"),
    ("T-12, T-13 done", "Write one task per line, e.g. T-12 done"),
    ("T-1234567890 done", "That is not a task number. Task references look like T-12"),
    ("new:", "A new task needs a title, e.g. new: Draft memo P-7 @ann due Friday"),
    ("new: due Friday", "A new task needs a title, e.g. new: Draft memo P-7 @ann due Friday"),
    ("new: Memo P-1 P-2", "Name one project per new task, e.g. " + NEW_EXAMPLE),
    ("new: Memo @ann @bob", "Name one owner per new task, e.g. " + NEW_EXAMPLE),
    ("new: Call due 2026-13-45", 'I could not read the date "2026-13-45". '
                                 "Write e.g. new: Call the vendor due 2026-12-04"),
    ("met:", "Say whether you met. Write met: yes, met: 2026-11-26 30min, "
             "met: no, moved to Thursday or skip: vacation"),
    ("met: maybe", 'I could not read "maybe". Write met: yes, met: 2026-11-26 30min, '
                   "met: no, moved to Thursday or skip: vacation"),
    ("met: tomorrow", "2026-11-27 is after this message. Write the day you met, "
                      "e.g. met: yesterday"),
    ("met: yes 0 min", "A meeting lasts between 1 minute and 12 hours. Write e.g. met: yes 30min"),
    ("due: Friday", "Say which task, e.g. T-12 due Friday"),
    ("T-12 done on", "Say which day it was done. " + DONE_ON_FORMS),
    ("T-12 done on 2026-02-30", 'I could not read the date "2026-02-30". ' + DONE_ON_FORMS),
    ("T-12 done on tomorrow", "2026-11-27 is after this message. Write the day it was done, "
                              "e.g. T-12 done on yesterday"),
    ("T-12 done on 2026-12-03", "2026-12-03 is after this message. Write the day it was done, "
                                "e.g. T-12 done on yesterday"),
    ("topic:", "Say what the topic is. Write e.g. topic: the hiring plan, "
               "or topic done: the hiring plan"),
    ("topic done:", "Say what the topic is. Write e.g. topic: the hiring plan, "
                    "or topic done: the hiring plan"),
    ("topic: " + "x" * 201, "A topic is at most 200 characters; put the details in the 1:1. "
                            "Write e.g. topic: the hiring plan"),
    ("away:", "Say when you are away. " + AWAY_FORMS),
    ("away: soonish", 'I could not read "soonish". ' + AWAY_FORMS),
    ("away: 21 Dec - someday", 'I could not read "someday". ' + AWAY_FORMS),
    ("away: 2027-01-04 - 2026-12-21", "Mon 21 Dec 2026 is before Mon 04 Jan 2027. Write the "
                                      "first day, then the last, e.g. away: 21 Dec - 4 Jan"),
    ("away: 2026-11-02 - 2026-11-20", "Fri 20 Nov 2026 has passed. For a past 1:1 write "
                                      "skip: vacation; for time ahead, e.g. "
                                      "away: 21 Dec - 4 Jan"),
    ("away: 2026-12-01 - 2027-03-31", "121 days is longer than 90; send one away: line per "
                                      "stretch of up to 90 days, e.g. away: 21 Dec - 4 Jan"),
    ("away: 2028-01-10", "Mon 10 Jan 2028 is more than a year ahead. " + AWAY_FORMS),
]


@pytest.mark.parametrize(("line", "reason"), ERRORS, ids=[line for line, _ in ERRORS])
def test_error_says_what_is_wrong_and_the_right_form(line: str, reason: str) -> None:
    assert one(line) == LineError(line=line, reason=reason)


def test_error_reads_as_line_then_reason() -> None:
    error = one("T-99 sixty")
    assert str(error) == ("T-99 sixty: I could not read the progress. "
                          "Write a percentage, e.g. T-99 60%")


@pytest.mark.parametrize("line", [
    "Thanks, see you Thursday!",
    "I talked to Ann about T-12 yesterday",
    "Done with most things this week.",
    "Meeting went well",
    "Met Ann for lunch",
    "Skip the intro, the numbers matter",
    "New pricing is live",
    "Due to the holidays we moved things around",
    "+1",
    "Thomas",
    "Tasks T-12 and T-13 are on track",
    "",
    "   ",
    "\u200b",
    "The topic of the offsite is open",
    "I was away last week",
    "Topic for next time, the hiring plan",
])
def test_prose_is_ignored_not_an_error(line: str) -> None:
    assert parse(line) == Parsed(commands=(), errors=())


def test_every_line_is_read_in_order_and_the_same_task_twice_is_kept() -> None:
    text = "Hi Ann,\n\nT-12 50%\nT-12 60% intro drafted\n\nT-99 sixty\nmet: yes\nThanks!\n"
    parsed = parse(text)
    assert parsed.commands == (
        TaskUpdate("T-12", percent=50, line="T-12 50%"),
        TaskUpdate("T-12", percent=60, note="intro drafted", line="T-12 60% intro drafted"),
        MeetingReport(held=True, line="met: yes"),
    )
    assert [error.line for error in parsed.errors] == ["T-99 sixty"]


@pytest.mark.parametrize("line", [
    "T\u200b-12 60%",  # zero-width space inside the reference
    "\u200fT-12 60%",  # right-to-left mark in front
    "\u202bT-12 60%\u202c",  # embedding marks around
    "\ufeffT-12 60%",  # byte order mark
    "T-12\xa060%",  # no-break space
    "Ｔ－１２ ６０％",  # full-width forms
    "T\u201112 60%",  # non-breaking hyphen
    "T-12\t60%",
])
def test_invisible_and_lookalike_characters_do_not_break_a_reference(line: str) -> None:
    assert one(line) == TaskUpdate("T-12", percent=60, line=line.strip())


# --- inline answers ---------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "answer", "expected"), [
    ("T-12", "60%, intro drafted",
     TaskUpdate("T-12", percent=60, note="intro drafted", line="T-12 60%, intro drafted")),
    ("T-12", "done!", TaskUpdate("T-12", percent=100, status="done", line="T-12 done!")),
    ("[T-12]", "blocked: waiting on legal",
     TaskUpdate("T-12", status="blocked", note="waiting on legal",
                line="T-12 blocked: waiting on legal")),
    ("T-12", "due: Friday", TaskUpdate("T-12", due=FRIDAY, line="T-12 due: Friday")),
    ("T-12", "T-13 done", TaskUpdate("T-13", percent=100, status="done", line="T-13 done")),
    ("T-12", "met: yes", MeetingReport(held=True, line="met: yes")),
    ("T-12", "done on Monday", TaskDoneOn("T-12", date(2026, 11, 23),
                                          line="T-12 done on Monday")),
])
def test_inline_answer_applies_to_the_quoted_task(ref: str, answer: str,
                                                  expected: Command) -> None:
    assert parse("", inline=[(ref, answer)]).commands == (expected,)


def test_inline_answers_follow_the_text_and_errors_are_kept() -> None:
    parsed = parse("T-12 50%", inline=[("T-12", "60%"), ("T-14", "sixty"), ("T-15", "  ")])
    assert [c.percent for c in parsed.commands if isinstance(c, TaskUpdate)] == [50, 60]
    assert parsed.errors == (LineError("T-14 sixty", "I could not read the progress. "
                                                     "Write a percentage, e.g. T-14 60%"),)


def test_inline_answer_without_a_task_reference_is_an_error() -> None:
    parsed = parse("", inline=[("Pricing proposal", "60%")])
    assert parsed.errors == (LineError("60%", "I could not tell which task this answers. "
                                              "Write e.g. T-12 60%"),)


# --- time zones and date rules ----------------------------------------------------------


def test_dates_are_read_in_the_senders_time_zone() -> None:
    late_thursday_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # Friday 08:30 in Tokyo
    tokyo = parse("met: today\nT-12 due Friday\nT-13 due tomorrow",
                  message_date=late_thursday_utc, timezone="Asia/Tokyo")
    assert [when(command) for command in tokyo.commands] == [
        date(2026, 11, 27), date(2026, 12, 4), date(2026, 11, 28)]
    utc = parse("met: today\nT-12 due Friday", message_date=late_thursday_utc, timezone="UTC")
    assert [when(command) for command in utc.commands] == [
        date(2026, 11, 26), FRIDAY]


def test_a_completion_day_is_read_in_the_senders_time_zone() -> None:
    late_thursday_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # Friday 08:30 in Tokyo
    tokyo = one("T-12 done on today", message_date=late_thursday_utc, timezone="Asia/Tokyo")
    assert when(tokyo) == date(2026, 11, 27)
    too_early = one("T-12 done on 2026-11-27", message_date=late_thursday_utc,
                    timezone="America/New_York")  # still Thursday there
    assert too_early == LineError("T-12 done on 2026-11-27", "2026-11-27 is after "
                                  "this message. Write the day it was done, e.g. T-12 done "
                                  "on yesterday")


def test_completion_days_in_words_spend_the_messages_date_budget() -> None:
    """ISO and weekday days cost nothing; one in words is read only while the
    message's budget lasts, and a day past it is an error, never a guess."""
    spent = DateBudget(left=0)
    parsed = parse("T-12 done on 2026-11-20\nT-13 done on last Friday\nT-14 done on 3 Nov",
                   date_budget=spent)
    assert parsed.commands == (
        TaskDoneOn("T-12", date(2026, 11, 20), line="T-12 done on 2026-11-20"),
        TaskDoneOn("T-13", date(2026, 11, 20), line="T-13 done on last Friday"))
    assert parsed.errors[0] == LineError("T-14 done on 3 Nov", 'I could not read the date '
                                         '"3 Nov". ' + DONE_ON_FORMS.replace("T-12", "T-14"))
    assert parsed.errors[1].reason.startswith("Some dates were not read")
    budget = DateBudget(left=5)
    parse("T-14 done on 3 Nov", date_budget=budget)
    assert budget.left < 5  # the budget is the message's, shared with its other readers


def test_naive_message_date_is_utc_and_an_unknown_zone_falls_back_to_utc() -> None:
    naive = datetime(2026, 11, 26, 23, 30)
    for zone in ("UTC", "Not/AZone", ""):
        parsed = parse("met: today", message_date=naive, timezone=zone)
        assert parsed.commands == (MeetingReport(held=True, on=date(2026, 11, 26),
                                                 line="met: today"),)


@pytest.mark.parametrize(("written_on", "line", "expected"), [
    (date(2026, 11, 27), "T-12 due Friday", date(2026, 12, 4)),  # a Friday: the next one
    (date(2026, 11, 27), "T-12 due next Friday", date(2026, 12, 4)),
    (date(2026, 11, 23), "T-12 due Friday", date(2026, 11, 27)),  # a Monday
    (date(2026, 11, 23), "T-12 due next Friday", date(2026, 12, 4)),
    (date(2026, 11, 29), "T-12 due next Monday", date(2026, 11, 30)),  # a Sunday
    (date(2026, 12, 30), "T-12 due 1/5", date(2027, 1, 5)),
    (date(2026, 12, 30), "T-12 due 2026-01-05", date(2026, 1, 5)),  # ISO dates are exact
    (date(2027, 1, 4), "met: 12/30", date(2026, 12, 30)),
    (date(2027, 1, 4), "met: 30.12.", date(2026, 12, 30)),
    (date(2027, 1, 2), "met: 2/29", date(2024, 2, 29)),
    (date(2027, 1, 4), "T-12 done on 12/30", date(2026, 12, 30)),  # into the closed quarter
    (date(2027, 1, 4), "T-12 done on Monday", date(2027, 1, 4)),  # a Monday: today
])
def test_date_rules(written_on: date, line: str, expected: date) -> None:
    sent = datetime.combine(written_on, datetime.min.time()).replace(hour=10, tzinfo=UTC)
    assert when(one(line, message_date=sent, timezone="UTC")) == expected


# --- the drumbeat inspect JSON contract -------------------------------------------------


def test_to_json_has_exactly_the_design_shapes() -> None:
    parsed = parse("T-12 60% drafted\n+ Call the vendor due 2026-12-04 P-3 @bob\n"
                   "met: 2026-11-26 30min\nskip: vacation\nT-99 sixty\n"
                   "T-13 done on 2026-11-20 shipped\ntopic @ana: the hiring plan\n"
                   "topic done: budget\naway: 21 Dec - 4 Jan")
    assert parsed.to_json() == {
        "commands": [
            {"type": "task_update", "task": "T-12", "percent": 60, "status": None,
             "due": None, "note": "drafted"},
            {"type": "new_task", "title": "Call the vendor", "due": "2026-12-04",
             "project": "P-3", "owner": "bob"},
            {"type": "meeting", "held": True, "excused": False, "on": "2026-11-26",
             "minutes": 30, "reason": None},
            {"type": "meeting", "held": None, "excused": True, "on": None,
             "minutes": None, "reason": "vacation"},
            {"type": "task_done_on", "task": "T-13", "on": "2026-11-20", "note": "shipped"},
            {"type": "topic", "text": "the hiring plan", "report": "ana"},
            {"type": "topic_done", "text": "budget", "report": None},
            {"type": "away", "start": "2026-12-21", "end": "2027-01-04"},
        ],
        "errors": [{"line": "T-99 sixty", "reason": "I could not read the progress. "
                                                   "Write a percentage, e.g. T-99 60%"}],
    }
    assert json.loads(json.dumps(parsed.to_json())) == parsed.to_json()
    first = json.dumps(parsed.to_json()["commands"][0])
    assert first == ('{"type": "task_update", "task": "T-12", "percent": 60, "status": null, '
                     '"due": null, "note": "drafted"}')


def test_agenda_example_lines_all_parse() -> None:
    examples = ("T-12 60% drafted the intro\nT-13 done\nT-14 due 2026-12-04\n"
                "T-15 blocked: waiting on legal\nT-16 note: shared the results with the team\n"
                "new: Call the vendor by Friday\nmet: yes\nskip: vacation")
    parsed = parse(examples)
    assert parsed.errors == ()
    assert len(parsed.commands) == 8


# --- robustness -------------------------------------------------------------------------

FRAGMENTS = st.sampled_from([
    "T-12", "t12", "[T-3]", "#T-4", "T–9", "met:", "skip:", "new:", "new task:", "+ ", "due",
    "due:", "by", "moved to", "note:", "60%", "-5%", "100", "done", "blocked", "started",
    "Friday", "next", "2026-12-18", "12/18", "18.12.", "1h30", "30min", "yes", "no", "@bob",
    "@a@b.c", "P-3", ",", " - ", "\u200b", "\u200f", "\u202e", "\x00", "\t", "\r", "ق", "﷽",
])
LINES = st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=12).map(" ".join)
TEXTS = st.one_of(
    st.text(),
    st.lists(LINES, max_size=6).map("\n".join),
    st.builds(lambda prefix, char: prefix + char * 10_000,
              st.sampled_from(["", "T-12 ", "new: ", "met: ", "T-12 due ", "+ x by "]),
              st.sampled_from(["a", " ", "9", "by ", "\u200b", "%", "-", "@"])),
)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, answers=st.lists(st.tuples(st.text(max_size=8), LINES), max_size=3))
def test_any_input_parses_quickly_without_raising(text: str,
                                                  answers: list[tuple[str, str]]) -> None:
    parse("T-1 due 18 Dec")  # dateparser loads its data once; that is not the parser's time
    started = time.thread_time()  # its own CPU time: other programs may run
    parsed = parse(text, inline=answers)
    assert time.thread_time() - started < 1
    json.dumps(parsed.to_json())
    assert all(e.reason != "I could not read this line. Write e.g. T-12 60% or met: yes"
               for e in parsed.errors), "a matcher raised and the safety net caught it"


def test_topic_and_away_lines_past_the_cap_are_counted_and_prose_about_them_is_not() -> None:
    text = "\n".join(["met: yes", "topic: the hiring plan", "away: 21 Dec - 4 Jan",
                      "topic @ana: pay review", "Topic for next time, maybe", "Away we go"])
    parsed = parse(text, max_updates=1)
    assert parsed.errors[-1] == LineError(
        "topic: the hiring plan",
        "not read: more than 1 updates in one message (3 more). Send the rest in another "
        "message")
