"""The review cycle's pure rules: the scale, the steps' days, who holds a review up,
what is due on a day, and reading the forms' answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from config.review_scale import RatingScale, parse_scale
from mail.read.review_form import FormKind, read_review_form
from models.review_cycle import (
    CycleDates,
    Due,
    DueKind,
    ReviewState,
    Step,
    advance,
    holder,
    reminder_due,
    standing,
)
from models.reviews import AckState, StepState

END = date(2026, 12, 31)
DATES = CycleDates(opened=date(2027, 1, 3), period_end=END, step_days=7)
LABELLED = parse_scale("1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding")


# --- the scale ---------------------------------------------------------------------------

def test_a_plain_scale_and_a_labelled_one() -> None:
    assert parse_scale("1-5") == RatingScale(1, 5)
    assert parse_scale(" 0 – 3 ") == RatingScale(0, 3)
    assert LABELLED is not None and LABELLED.label(4) == "4 (Exceeds)"
    assert LABELLED.steps[0] == "1 Unsatisfactory"
    assert LABELLED.text == "1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding"
    assert parse_scale("") is None and parse_scale("  ") is None


@pytest.mark.parametrize("value", ["5", "5-1", "1-1", "1-20", "a-b", "1-3:Low,High",
                                   "1-3:Low,,High"])
def test_a_scale_that_is_not_one_says_the_right_form(value: str) -> None:
    with pytest.raises(ValueError, match=r"1-5|labels|steps"):
        parse_scale(value)


def test_the_setting_is_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from config.settings import Settings
    with pytest.raises(ValidationError, match="review_scale"):
        Settings(review_scale="1-5:Bad")
    with pytest.raises(ValidationError, match="review_periods"):
        Settings(review_periods="monthly")
    settings = Settings(review_periods="both", review_scale="1-4")
    assert settings.reviewed_kinds == {"quarter", "year"}
    assert settings.rating_scale == RatingScale(1, 4)
    assert Settings().reviewed_kinds == frozenset()  # existing installs: no cycle


# --- the days and the steps -----------------------------------------------------------------

def test_each_step_has_its_window_from_the_period_end() -> None:
    assert (DATES.self_due, DATES.manager_due, DATES.deadline) == (
        date(2027, 1, 7), date(2027, 1, 14), date(2027, 1, 21))
    assert DATES.due(Step.RESOLVE) is None


def test_a_fresh_review_waits_on_the_employee_and_asks_nothing_before_its_day() -> None:
    state = ReviewState()
    assert holder(state) == Step.SELF
    assert advance(state, DATES, DATES.self_due) == (state, ())


def test_a_self_review_done_opens_the_manager_step_once() -> None:
    state = ReviewState(self_state=StepState.DONE, self_on=date(2027, 1, 5))
    after, due = advance(state, DATES, date(2027, 1, 5))
    assert after.manager_state == StepState.WAITING and holder(after) == Step.MANAGER
    assert due == (Due(DueKind.FORM, Step.MANAGER),)
    assert advance(after, DATES, date(2027, 1, 5)) == (after, ())


def test_a_missed_self_review_does_not_block_the_manager() -> None:
    after, due = advance(ReviewState(), DATES, DATES.self_due + timedelta(days=1))
    assert after.self_state == StepState.MISSED
    assert after.manager_state == StepState.WAITING
    assert due == (Due(DueKind.MISSED, Step.SELF), Due(DueKind.FORM, Step.MANAGER))
    assert standing(after) == "waiting on the manager (no self-review)"


def test_a_manager_who_never_answers_is_missed_and_nothing_is_acknowledged() -> None:
    after, due = advance(ReviewState(), DATES, DATES.deadline + timedelta(days=30))
    assert (after.self_state, after.manager_state, after.ack_state) == (
        StepState.MISSED, StepState.MISSED, AckState.PENDING)
    assert Due(DueKind.MISSED, Step.MANAGER) in due
    assert holder(after) is None and standing(after) == "manager review missed"


def test_the_acknowledgement_follows_the_manager_and_is_missed_after_the_deadline() -> None:
    state = ReviewState(StepState.DONE, StepState.DONE, AckState.PENDING,
                        date(2027, 1, 4), date(2027, 1, 9))
    after, due = advance(state, DATES, date(2027, 1, 9))
    assert after.ack_state == AckState.WAITING and due == (Due(DueKind.FORM, Step.ACK),)
    late, due = advance(after, DATES, DATES.deadline + timedelta(days=1))
    assert late.ack_state == AckState.MISSED and due == (Due(DueKind.MISSED, Step.ACK),)
    assert standing(late) == "acknowledgement missed"


def test_a_dispute_waits_on_hr_without_a_deadline() -> None:
    state = ReviewState(StepState.DONE, StepState.DONE, AckState.DISPUTED)
    assert holder(state) == Step.RESOLVE
    assert advance(state, DATES, DATES.deadline + timedelta(days=90)) == (state, ())
    assert standing(state) == "disputed: waiting on HR"
    assert reminder_due(state, DATES, DATES.deadline, 3) is None
    assert standing(ReviewState(StepState.DONE, StepState.DONE, AckState.RESOLVED)) \
        == "dispute resolved"


# --- reminders -----------------------------------------------------------------------------------

def test_reminders_every_few_days_from_the_steps_start_up_to_its_last_day() -> None:
    state = ReviewState()
    owed = {day: reminder_due(state, DATES, day, 2)
            for day in (DATES.opened + timedelta(days=n) for n in range(0, 8))}
    assert owed[date(2027, 1, 3)] is None and owed[date(2027, 1, 4)] is None
    assert owed[date(2027, 1, 5)] == (Step.SELF, 1)
    assert owed[date(2027, 1, 6)] == (Step.SELF, 1)  # the same reminder: sent once
    assert owed[date(2027, 1, 7)] == (Step.SELF, 2)
    assert owed[date(2027, 1, 8)] is None  # past its day: missed, not reminded


def test_the_manager_is_reminded_from_the_day_the_self_review_came() -> None:
    state = ReviewState(StepState.DONE, StepState.WAITING, self_on=date(2027, 1, 6))
    assert reminder_due(state, DATES, date(2027, 1, 8), 3) is None
    assert reminder_due(state, DATES, date(2027, 1, 9), 3) == (Step.MANAGER, 1)
    assert reminder_due(state, DATES, date(2027, 1, 15), 3) is None


# --- reading the forms ----------------------------------------------------------------------------

SCALE = parse_scale("1-5")


def test_a_self_review_with_sections_of_several_lines_and_an_update() -> None:
    answer = read_review_form(
        "Here is mine.\n"
        "wins: shipped billing\n"
        "and the new onboarding\n"
        "\n"
        "misses:\n"
        "the hiring goal\n"
        "T-12 done\n"
        "next: lead the migration\n"
        "rating: 4 - Exceeds\n", FormKind.SELF, SCALE)
    assert answer.wins == "shipped billing\nand the new onboarding"
    assert answer.misses == "the hiring goal"
    assert answer.next == "lead the migration"
    assert answer.rating == 4 and answer.errors == ()
    assert answer.rest.splitlines() == ["Here is mine.", "T-12 done"]


@pytest.mark.parametrize("written, rating", [("4", 4), ("4/5", 4), ("Exceeds", 4),
                                             ("4 (Exceeds)", 4), ("1", 1)])
def test_ratings_by_number_or_label(written: str, rating: int) -> None:
    answer = read_review_form(f"rating: {written}\ncomment: fine", FormKind.MANAGER, LABELLED)
    assert answer.rating == rating and answer.errors == ()


@pytest.mark.parametrize("written", ["6", "0", "great", ""])
def test_a_rating_off_the_scale_is_an_error_showing_the_scale(written: str) -> None:
    answer = read_review_form(f"rating: {written}", FormKind.MANAGER, LABELLED)
    assert answer.rating is None
    assert answer.errors[0].line == f"rating: {written}".strip()
    assert "from 1 to 5" in answer.errors[0].reason and "5 Outstanding" in answer.errors[0].reason


def test_a_rating_when_ratings_are_off_is_refused() -> None:
    answer = read_review_form("rating: 4\ncomment: good", FormKind.MANAGER, None)
    assert answer.rating is None and answer.comment == "good"
    assert "not used" in answer.errors[0].reason


def test_agree_and_dispute() -> None:
    assert read_review_form("I agree.", FormKind.ACK, SCALE).agree
    dispute = read_review_form("dispute: the on-time rate\nleaves out the vendor delay",
                               FormKind.ACK, SCALE)
    assert dispute.dispute == "the on-time rate\nleaves out the vendor delay"
    both = read_review_form("agree\ndispute: no", FormKind.ACK, SCALE)
    assert not both.agree and both.dispute is None and not both.answered
    assert "either" in both.errors[0].reason


def test_a_keyword_of_another_form_says_which_ones_this_form_takes() -> None:
    answer = read_review_form("comment: great\nwins: x", FormKind.SELF, SCALE)
    assert answer.comment is None and answer.wins == "x"
    assert "wins:, misses:, next:, rating:" in answer.errors[0].reason
    resolved = read_review_form("resolved: talked to both", FormKind.DISPUTE, None)
    assert resolved.resolved == "talked to both"
    assert "resolved:" in read_review_form("agree", FormKind.DISPUTE, None).errors[0].reason


def test_an_empty_section_is_an_error_and_prose_alone_answers_nothing() -> None:
    empty = read_review_form("wins:\n", FormKind.SELF, SCALE)
    assert empty.wins is None and "wins: is empty" in empty.errors[0].reason
    prose = read_review_form("Thanks, will do it tomorrow", FormKind.SELF, SCALE)
    assert not prose.answered and prose.rest == "Thanks, will do it tomorrow"


def test_a_reminder_already_sent_is_not_owed_again() -> None:
    state = ReviewState()
    assert reminder_due(state, DATES, date(2027, 1, 6), 2, date(2027, 1, 5)) is None
    assert reminder_due(state, DATES, date(2027, 1, 7), 2, date(2027, 1, 5)) == (Step.SELF, 2)
    assert reminder_due(state, DATES, date(2027, 1, 7), 2, date(2027, 1, 7)) is None


def test_the_status_summary_counts_steps_and_who_holds_reviews_up() -> None:
    from drumbeat.cli_review import CycleHeader, StatusRow, cycle_report

    rows = [StatusRow("Ann Lee", "Mia Park", "done", "waiting", "pending", "manager", None),
            StatusRow("Ben Roy", "Mia Park", "missed", "waiting", "pending", "manager",
                      date(2027, 1, 10)),
            StatusRow("Cai Wu", "Mia Park", "done", "done", "disputed", "HR (dispute)", None)]
    header = CycleHeader("2026-Q4", date(2027, 1, 3), DATES.self_due, DATES.manager_due,
                         DATES.deadline, "1-5:A,B,C,D,E", closed=False)
    report = cycle_report(header, rows).splitlines()
    assert report[0] == "2026-Q4 review cycle, opened Sun 03 Jan 2027"
    assert "ratings 1-5" in report[1]
    assert report[5].split()[-2:] == ["manager", "2027-01-10"]
    assert report[-1] == (
        "3 reviews · self-review: 2 done, 1 missed · manager review: 1 done, 2 waiting · "
        "acknowledged: 1 disputed, 2 pending · waiting on: 1 HR (dispute), 2 manager · "
        "1 open dispute(s)")
