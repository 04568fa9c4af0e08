"""The review emails as rendered: what each form shows, to whom, and what it never shows."""

from __future__ import annotations

from datetime import date

import pytest

from config.review_scale import parse_scale
from mail.read.reply_text import extract_reply
from mail.read.review_form import FormKind, read_review_form
from mail.write.digest import CheckinMark, GoalLine, PersonFigures
from mail.write.review_mail import FORMS, ReviewMailView, ReviewTexts, render_review_mail

SCALE = parse_scale("1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding")
FIGURES = PersonFigures(
    person_id=3, name="Ann Lee", email="ann@acme.example", manager_name="Mia Park",
    active_from=None, active_to=None, initiatives=("Grow",), goals_owned=0,
    goals_contributed=1, goal_progress_start=21.7, goal_progress_end=45.9,
    goals=(GoalLine("G-1", "Revenue", "Mia Park", False, 21.7, 45.9, 100.0, True),),
    tasks_due=3, tasks_done=2, tasks_done_on_time=1, tasks_overdue=2, tasks_blocked=0,
    on_time_rate=33.3, checkins_expected=12, checkins_held=10, checkins_confirmed=4,
    checkins_excused=2, adherence=83.3, longest_gap_days=21, last_checkin=date(2026, 12, 31),
    days_since_checkin=0, timeline=(CheckinMark(date(2026, 10, 1), "held"),))
TEXTS = ReviewTexts(wins="closed pricing\nkept every 1:1", misses="T2 late", next="sales deck",
                    self_rating="4 (Exceeds)", manager_rating="4 (Exceeds)",
                    manager_comment="a strong quarter", dispute="T2 waited on the vendor")


def view(form: str, **changes: object) -> ReviewMailView:
    values: dict[str, object] = dict(
        form=form, period_label="2026-Q4", period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31), recipient_name="Ann Lee", employee_name="Ann Lee",
        manager_name="Mia Park", answer_by=date(2027, 1, 7),
        scale=SCALE.steps if form in ("self", "manager") and SCALE else (),
        figures=FIGURES if form in ("self", "manager") else None,
        texts=ReviewTexts() if form == "self" else TEXTS)
    values.update(changes)
    return ReviewMailView(**values)  # type: ignore[arg-type]


def test_the_self_review_form_shows_the_figures_the_scale_and_the_charts() -> None:
    rendered, images = render_review_mail(view("self"))
    assert rendered.subject == "Your 2026-Q4 self-review"
    assert "Goal progress: 21.7% → 45.9%" in rendered.text
    assert "Check-ins: 10 of 12 held (83.3%)" in rendered.text
    assert "5 Outstanding" in rendered.text and "Thu 07 Jan 2027" in rendered.text
    assert {image.cid.split(".")[0] for image in images} == {"review-goals", "review-checkins"}
    assert all(f"cid:{image.cid}" in rendered.html for image in images)
    assert 'name="viewport"' in rendered.html  # readable on a phone


def test_the_forms_show_only_what_their_step_needs() -> None:
    manager, _ = render_review_mail(view("manager", recipient_name="Mia Park"))
    assert "closed pricing" in manager.text and "a strong quarter" not in manager.text
    ack, images = render_review_mail(view("ack"))
    assert "a strong quarter" in ack.text and "closed pricing" not in ack.text
    assert images == () and "Goal progress" not in ack.text
    dispute, _ = render_review_mail(view("dispute", recipient_name="Hana Ito"))
    assert "T2 waited on the vendor" in dispute.text and "a strong quarter" in dispute.text
    missed, _ = render_review_mail(view("manager", texts=ReviewTexts(self_missed=True)))
    assert "Self-review: none" in missed.text


def test_a_reminder_says_so_and_when_the_step_closes() -> None:
    rendered, _ = render_review_mail(view("self", reminder=2))
    assert rendered.subject == "Reminder: Your 2026-Q4 self-review"
    assert "Reminder 2: this review step is still open until Thu 07 Jan 2027." in rendered.text


@pytest.mark.parametrize("form", FORMS)
def test_a_form_sent_back_whole_answers_nothing(form: str) -> None:
    """Quoted or not, the form's own lines never become an answer (Outlook sends them
    back unquoted; they are known as ours)."""
    rendered, _ = render_review_mail(view(form))
    for body in (rendered.text, "\n".join(f"> {line}" for line in rendered.text.splitlines())):
        reply = extract_reply(body, sent_lines=rendered.text.splitlines())
        answer = read_review_form(reply.text, FormKind(form), SCALE)
        assert not answer.answered and answer.errors == (), (form, reply.text)


def test_an_answer_typed_like_the_forms_keyword_lines_is_read() -> None:
    rendered, _ = render_review_mail(view("ack"))
    body = "agree\n\n" + "\n".join(f"> {line}" for line in rendered.text.splitlines())
    reply = extract_reply(body, sent_lines=rendered.text.splitlines())
    assert read_review_form(reply.text, FormKind.ACK, SCALE).agree


def test_a_review_forms_context_reads_back_and_no_other_context_names_a_form() -> None:
    from mail.write.review_mail import ReviewFormContext

    context = ReviewFormContext(7, 2, "manager", "2026-Q4", reminder=1, scale="1-5")
    assert ReviewFormContext.from_json(context.to_json()) == context
    for other in (None, {}, {"manager_id": 1, "employee_id": 2, "period_start": "2026-11-30"},
                  {"inbound_id": 4, "view": {}}, {"review_id": 7, "form": "rating"},
                  {"review_id": "x", "form": "self"}):
        assert ReviewFormContext.from_json(other) is None


@pytest.mark.parametrize("language", ["de", "ja"])
@pytest.mark.parametrize("form", FORMS)
def test_a_form_in_another_language_is_read_the_same(form: str, language: str) -> None:
    """A German or Japanese form keeps the keywords the review reader reads; sent back
    whole it answers nothing, and a keyword typed above it is read."""
    rendered, _ = render_review_mail(view(form, locale=language))
    assert "Hi " not in rendered.text and "How to reply" not in rendered.html
    reply = extract_reply(rendered.text, sent_lines=rendered.text.splitlines())
    assert not read_review_form(reply.text, FormKind(form), SCALE).answered


def test_a_german_self_review_form_shows_german_figures() -> None:
    rendered, _ = render_review_mail(view("self", locale="de"))
    assert rendered.subject == "Deine Selbsteinschätzung für 2026-Q4"
    assert "Zielfortschritt: 21,7 % → 45,9 %" in rendered.text  # one line: plain spaces
    assert "Check-ins: 10 von 12 stattgefunden (83,3 %)" in rendered.text
    assert "G-1 Revenue: 21,7\u00a0% → 45,9\u00a0%, gefährdet (mitgewirkt)" in rendered.text
    assert "Do., 7. Jan. 2027" in rendered.text
    assert "    wins: was in diesem Zeitraum gut lief" in rendered.text
