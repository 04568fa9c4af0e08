"""The plan lines of the reply grammar, the amounts they read and the measured-progress
rule, row by row (pure: no database).

Also what must not change: the task lines that already exist (``T-12 60%``, ``T-12
done``, ``T-12 due …``) read as before, and prose that merely starts like a reference
(``P1 incident``) stays prose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from config.amounts import Amount, amount_words, read_amount
from mail.read.commands import (
    Command,
    GoalValue,
    ItemDue,
    ItemOwner,
    ItemTitle,
    LineError,
    NewProject,
    Parsed,
    TaskUpdate,
)
from mail.read.dates import date_context, read_relative
from mail.read.grammar import parse_commands
from mail.write.status import help_lines
from models.scoring import goal_progress_of, measured_progress

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def parse(text: str, fiscal_year_start_month: int = 1) -> Parsed:
    return parse_commands(text, message_date=MONDAY,
                          fiscal_year_start_month=fiscal_year_start_month)


def one(text: str) -> Command | LineError:
    parsed = parse(text)
    outcomes = [*parsed.commands, *parsed.errors]
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


# --- the commands ---------------------------------------------------------------------


@pytest.mark.parametrize(("line", "command"), [
    ("T-12 owner @bob", ItemOwner("T-12", "bob")),
    ("T12 owner: @Bob", ItemOwner("T-12", "bob")),
    ("- T-12 owner bob@acme.example", ItemOwner("T-12", "bob@acme.example")),
    ("T-12 handed over to @bob.", ItemOwner("T-12", "bob")),
    ("[T-12] new owner @ann.lee", ItemOwner("T-12", "ann.lee")),
    ("P-3 owner @ana", ItemOwner("P-3", "ana")),
    ("G-2 owner @ana", ItemOwner("G-2", "ana")),
    ("G-2 owner is ana@example.com", ItemOwner("G-2", "ana@example.com")),
    ("P-3 assigned to @ana", ItemOwner("P-3", "ana")),
    ("T-12 title: Draft the pricing memo", ItemTitle("T-12", "Draft the pricing memo")),
    ("P-3 title: Pricing: phase 2", ItemTitle("P-3", "Pricing: phase 2")),
    ("G-2 renamed to: Grow ARR to €4M", ItemTitle("G-2", "Grow ARR to €4M")),
    ("P-3 due 2027-02-01", ItemDue("P-3", date(2027, 2, 1))),
    ("P-3 due: 1 Feb 2027", ItemDue("P-3", date(2027, 2, 1))),
    ("G-2 due end of Q2", ItemDue("G-2", date(2027, 6, 30))),
    ("G-2 deadline Q3 2027", ItemDue("G-2", date(2027, 9, 30))),
    ("P-3 moved to end of next quarter", ItemDue("P-3", date(2027, 3, 31))),
    ("G-2 = 3.1M", GoalValue("G-2", 3_100_000.0)),
    ("G-2 3.1M", GoalValue("G-2", 3_100_000.0)),
    ("G-2: €3,1 Mio", GoalValue("G-2", 3_100_000.0, "€")),
    ("G-2 is now 3.2M", GoalValue("G-2", 3_200_000.0)),
    ("G-2 = 45%", GoalValue("G-2", 45.0, "%")),
    ("G-2 = 1,200", GoalValue("G-2", 1200.0)),
    ("#G-2 = 12k", GoalValue("G-2", 12_000.0)),
    ("new project: Pricing page under G-2 @ana by 2027-03-31",
     NewProject("Pricing page", "G-2", "ana", date(2027, 3, 31))),
    ("new project: Website by Ann under G-4", NewProject("Website by Ann", "G-4")),
    ("New Project: Partner portal [G-7] due end of Q3",
     NewProject("Partner portal", "G-7", None, date(2027, 9, 30))),
])
def test_plan_lines_read_into_commands(line: str, command: Command) -> None:
    read = one(line)
    assert not isinstance(read, LineError), read
    assert read == type(command)(**{**command.__dict__, "line": line.strip()})


@pytest.mark.parametrize(("line", "reason"), [
    ("G-2 owner bob", "Name the new owner with @name or their email, e.g. G-2 owner @bob"),
    ("T-12 ownership moved", "I could not read what changed for T-12. Write e.g. T-12 60%, "
                             "T-12 done, T-12 blocked: waiting on legal, T-12 due Friday or "
                             "T-12 note: called the vendor"),
    ("T-12 owner @bob and P-3", "Write one change per line, e.g. T-12 owner @bob"),
    ("T-12 title:", "Write the new title after the colon, e.g. T-12 title: Draft the "
                    "pricing memo"),
    ("P-3 due someday maybe", 'I could not read the date "someday maybe". Write e.g. P-3 '
                              "due 2027-03-31 or P-3 due end of Q2"),
    ("P-3 due", "Say which date, e.g. P-3 due 2027-03-31 or P-3 due end of Q2"),
    ("P-3 60%", "A project's progress comes from its tasks: update them, e.g. T-12 60%. "
                "Write e.g. P-3 owner @ana, P-3 title: New title, P-3 due 2027-03-31"),
    ("G-2 going well", "I could not read what changed for G-2. Write e.g. G-2 owner @ana, "
                       "G-2 title: New title, G-2 due 2027-03-31, G-2 = 3.1M"),
    ("G-2", "Say what changed. Write e.g. G-2 owner @ana, G-2 title: New title, G-2 due "
            "2027-03-31, G-2 = 3.1M"),
    ("new project: Pricing page", "Name its goal, e.g. new project: Pricing page under G-2 "
                                  "@ana by 2027-03-31"),
    ("new project: X under G-2 and G-3", "Name one goal, e.g. new project: Pricing page "
                                         "under G-2 @ana by 2027-03-31"),
    ("new project: X under G-2 @ana @bob", "Name one owner, e.g. new project: Pricing page "
                                          "under G-2 @ana by 2027-03-31"),
    ("new project: under G-2", "A new project needs a title, e.g. new project: Pricing page "
                               "under G-2 @ana by 2027-03-31"),
    ("T-12 title: " + "x" * 501, "A title is at most 500 characters"),
])
def test_wrong_plan_lines_say_the_right_form(line: str, reason: str) -> None:
    assert one(line) == LineError(line, reason)


@pytest.mark.parametrize("line", [
    "P1 incident in production last night",
    "G2 was a good meeting",
    "Please look at P-3 when you can",
    "the G-2 figure looks good",
])
def test_prose_that_looks_like_a_reference_stays_prose(line: str) -> None:
    assert parse(line) == Parsed((), ())


@pytest.mark.parametrize(("line", "command"), [
    ("T-12 60%", TaskUpdate("T-12", percent=60)),
    ("T-12 done", TaskUpdate("T-12", percent=100, status="done")),
    ("T-12 due 2027-02-01", TaskUpdate("T-12", due=date(2027, 2, 1))),
    ("T-12 due end of Q2", TaskUpdate("T-12", due=date(2027, 6, 30))),
    ("T-12 note: the owner is Bob", TaskUpdate("T-12", note="the owner is Bob")),
    ("T-12 60% new owner soon", TaskUpdate("T-12", percent=60, note="new owner soon")),
    ("T-12 done ownership is Bob's now", TaskUpdate("T-12", percent=100, status="done",
                                                    note="ownership is Bob's now")),
])
def test_task_lines_read_as_before(line: str, command: TaskUpdate) -> None:
    assert one(line) == TaskUpdate(**{**command.__dict__, "line": line})


def test_the_json_of_plan_commands() -> None:
    parsed = parse("G-2 = 3.1M\nnew project: Pricing page under G-2 by 2027-03-31\n"
                   "T-12 owner @bob\nP-3 due 2027-02-01\nT-12 title: New")
    assert parsed.to_json()["commands"] == [
        {"type": "goal_value", "goal": "G-2", "value": 3_100_000.0, "unit": None},
        {"type": "new_project", "title": "Pricing page", "goal": "G-2", "owner": None,
         "due": "2027-03-31"},
        {"type": "item_owner", "item": "T-12", "owner": "bob"},
        {"type": "item_due", "item": "P-3", "due": "2027-02-01"},
        {"type": "item_title", "item": "T-12", "title": "New"}]


def test_every_help_example_of_the_plan_is_read_by_the_grammar() -> None:
    plan = [line.line for line in help_lines([], MONDAY.date())
            if line.line.startswith(("G-", "P-", "T-12 owner", "T-12 title", "new project"))]
    assert len(plan) >= 6
    parsed = parse("\n".join(plan))
    assert parsed.errors == () and len(parsed.commands) == len(plan)


# --- quarters ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fiscal_start", "expected"), [
    ("end of Q2", 1, date(2027, 6, 30)),
    ("Q4", 1, date(2026, 12, 31)),  # the current one: not over yet
    ("end of Q3", 1, date(2027, 9, 30)),  # this year's is over
    ("Q2 2027", 1, date(2027, 6, 30)),
    ("FY2027-Q2", 1, date(2027, 6, 30)),
    ("end of this quarter", 1, date(2026, 12, 31)),
    ("end of next quarter", 1, date(2027, 3, 31)),
    # A fiscal year from April is named by the year it ends in: FY2027 is Apr 2026-Mar 2027.
    ("end of Q2", 4, date(2027, 9, 30)),
    ("Q3", 4, date(2026, 12, 31)),
    ("FY2027-Q2", 4, date(2026, 9, 30)),
    ("end of Q1", 4, date(2027, 6, 30)),
    ("end of next quarter", 4, date(2027, 3, 31)),
])
def test_quarters_count_from_the_fiscal_year(text: str, fiscal_start: int,
                                             expected: date) -> None:
    ctx = date_context(MONDAY, "UTC", fiscal_year_start_month=fiscal_start)
    assert read_relative(text, ctx) == expected


def test_a_past_quarter_is_the_last_begun() -> None:
    ctx = date_context(MONDAY, "UTC")
    assert read_relative("end of Q3", ctx, past=True) == date(2026, 9, 30)
    assert read_relative("Q4", ctx, past=True) == date(2026, 12, 31)


# --- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "amount"), [
    ("3.1M", Amount(3_100_000.0)), ("3,1M", Amount(3_100_000.0)),
    ("3,1 Mio", Amount(3_100_000.0)), ("€4M", Amount(4_000_000.0, "€")),
    ("4M €", Amount(4_000_000.0, "€")), ("4 000 000 €", Amount(4_000_000.0, "€")),
    ("45%", Amount(45.0, "%")), ("12k", Amount(12_000.0)), ("100 k", Amount(100_000.0)),
    ("1,200", Amount(1200.0)), ("1.200", Amount(1.2)), ("1.200.000", Amount(1_200_000.0)),
    ("1,234.5", Amount(1234.5)), ("1.234,5", Amount(1234.5)), ("1'200", Amount(1200.0)),
    ("2.5bn", Amount(2.5e9)), ("-3", Amount(-3.0)), ("+7", Amount(7.0)), ("0.5", Amount(0.5)),
    ("$1.5M", Amount(1_500_000.0, "$")),
])
def test_amounts_are_read_as_written(text: str, amount: Amount) -> None:
    assert read_amount(text) == amount


@pytest.mark.parametrize("text", ["", "abc", "€", "3.1.2", "1,2,3", "€3M $", "3M apples",
                                  "1e400", "12,"])
def test_what_is_not_an_amount(text: str) -> None:
    assert read_amount(text) is None


@pytest.mark.parametrize(("value", "unit", "words"), [
    (3_100_000.0, "€", "€3.1M"), (45.0, "%", "45%"), (120_000.0, None, "120k"),
    (12.0, None, "12"), (2_100_000.0, "users", "2.1M users"), (-5.0, "€", "-€5"),
    (0.0, None, "0"), (2.5e9, "$", "$2.5B"), (42.25, None, "42.25"),
])
def test_amounts_are_written_short(value: float, unit: str | None, words: str) -> None:
    assert amount_words(value, unit) == words
    assert read_amount(words.replace(" users", "")) == Amount(value, unit if unit in (
        "€", "%", "$") else None)


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "target", "value", "progress"), [
    (2.1e6, 4e6, 3.1e6, 52.6),
    (2.1e6, 4e6, 2.1e6, 0.0),
    (2.1e6, 4e6, 4e6, 100.0),
    (2.1e6, 4e6, 5e6, 100.0),  # past the target: done, not more
    (2.1e6, 4e6, 1e6, 0.0),  # below the start: nothing yet, not negative
    (8.0, 5.0, 6.5, 50.0),  # a falling target (churn from 8% to 5%)
    (8.0, 5.0, 9.0, 0.0),
    (2.1e6, 4e6, None, None),  # no figure yet: not measured yet
    (3.0, 3.0, 3.0, None),  # no way to go
    (None, 4e6, 3e6, None),
])
def test_measured_progress(start: float | None, target: float | None, value: float | None,
                           progress: float | None) -> None:
    assert measured_progress(start, target, value) == progress


def test_a_goal_is_measured_when_it_has_a_metric_else_rolled_up() -> None:
    assert goal_progress_of(True, 52.6, 13.3) == 52.6
    assert goal_progress_of(True, None, 13.3) is None
    assert goal_progress_of(False, None, 13.3) == 13.3
