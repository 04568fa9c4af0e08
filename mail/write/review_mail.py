"""The review cycle's emails as plain views and words: the self-review form, the
manager's form per report, the acknowledgement form, the dispute to HR, and the
reminders of each (the same form, saying which reminder it is and when it closes).

Pure, like every renderer here: a ``ReviewMailView`` in, subject, text, HTML and the
charts out. Privacy is in the views' shape: a form carries one review, and it goes
to that review's employee, their manager, or HR; nothing here ever shows a second
person's review.

The forms' example lines are never bare keywords (``wins:`` alone): a line of our
form that comes back unquoted counts as quoted (``mail.read.reply_text``), and a bare
keyword the person typed must not be mistaken for ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mail.write.answer import day_words
from mail.write.charts import checkin_timeline_chart, goal_progress_chart
from mail.write.compose import InlineImage
from mail.write.digest import PersonFigures
from mail.write.digest_render import DASH
from mail.write.language import DEFAULT, N_, day_text, percent_figure_text, translations
from mail.write.render import RenderedEmail, css_inliner, environment, oneline

__all__ = ["FORMS", "ReviewFormContext", "ReviewMailView", "ReviewTexts", "render_review_mail",
           "review_subject"]

FORMS = ("self", "manager", "ack", "dispute")


@dataclass(frozen=True)
class ReviewFormContext:
    """What a review email's outbox row keeps (``OutboundMessage.context``): the review,
    the form, and which reminder it is. Written when the row is queued; read when it is
    rendered and when a reply to it arrives (its token names the row)."""

    review_id: int
    cycle_id: int
    form: str  # one of FORMS
    period: str  # "2026-Q4"
    reminder: int = 0
    scale: str | None = None  # the cycle's, as DRUMBEAT_REVIEW_SCALE spells it

    def to_json(self) -> dict[str, Any]:
        return {"review_id": self.review_id, "cycle_id": self.cycle_id, "form": self.form,
                "period": self.period, "reminder": self.reminder, "scale": self.scale}

    @classmethod
    def from_json(cls, context: Mapping[str, Any] | None) -> ReviewFormContext | None:
        """The context a row stored; None when it names no review form (an agenda's, an
        answer's, a digest's) or cannot be read."""
        context = context or {}
        if not context.get("review_id") or context.get("form") not in FORMS:
            return None
        try:
            return cls(int(context["review_id"]), int(context.get("cycle_id") or 0),
                       str(context["form"]), str(context.get("period") or ""),
                       int(context.get("reminder") or 0), context.get("scale") or None)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class ReviewTexts:
    """What has been written in one review so far (None: not written)."""

    wins: str | None = None
    misses: str | None = None
    next: str | None = None
    self_rating: str | None = None  # as shown: "4 (Exceeds)"
    self_missed: bool = False
    manager_rating: str | None = None
    manager_comment: str | None = None
    dispute: str | None = None


@dataclass(frozen=True)
class ReviewMailView:
    """Everything one review email shows."""

    form: str  # one of FORMS
    period_label: str
    period_start: date
    period_end: date
    recipient_name: str
    employee_name: str
    manager_name: str | None
    answer_by: date | None  # the step's last day (None: a dispute, no deadline)
    scale: tuple[str, ...]  # the ratings as shown ("1 Unsatisfactory", …); () when off
    figures: PersonFigures | None  # the employee's, as snapshotted
    texts: ReviewTexts
    reminder: int = 0  # 0: the form itself; n: the n-th reminder
    locale: str = DEFAULT  # the reader's language


def review_subject(view: ReviewMailView) -> str:
    """One subject per review and recipient, so every reminder threads with its form."""
    tr = translations(view.locale)
    words = {"period": oneline(view.period_label), "name": oneline(view.employee_name)}
    subject = tr.gettext(_SUBJECTS[view.form]) % words
    return tr.gettext("Reminder: %(subject)s") % {"subject": subject} if view.reminder \
        else subject


_SUBJECTS = {"self": N_("Your %(period)s self-review"),
             "manager": N_("%(period)s review of %(name)s"),
             "ack": N_("Your %(period)s review: please acknowledge"),
             "dispute": N_("%(period)s review of %(name)s: disputed")}


def _pct(value: float | None, language: str) -> str:
    return DASH if value is None else percent_figure_text(value, language)


def _span(start: float | None, end: float | None, language: str) -> str:
    """``20% → 45%``; a lone dash when neither is known."""
    if start is None and end is None:
        return DASH
    return f"{_pct(start, language)} → {_pct(end, language)}"


def _figure_lines(p: PersonFigures, language: str) -> list[tuple[str, str]]:
    """The figures a reviewer looks at first, as (label, value) rows."""
    tr = translations(language)
    _ = tr.gettext
    tasks = _("%(done)d done of %(due)d due, %(on_time)d on time (%(rate)s)") % {
        "done": p.tasks_done, "due": p.tasks_due, "on_time": p.tasks_done_on_time,
        "rate": _pct(p.on_time_rate, language)} if p.tasks_due else _("no tasks due")
    checkins = _("%(held)d of %(expected)d held (%(rate)s)") % {
        "held": p.checkins_held, "expected": p.checkins_expected,
        "rate": _pct(p.adherence, language)} if p.checkins_expected else _("none expected")
    gap = DASH if p.longest_gap_days is None else tr.ngettext(
        "%(num)d day", "%(num)d days", p.longest_gap_days) % {"num": p.longest_gap_days}
    rows = [(_("Goal progress"), _span(p.goal_progress_start, p.goal_progress_end, language)),
            (_("Tasks"), tasks), (_("Check-ins"), checkins), (_("Longest gap"), gap)]
    if p.tasks_overdue or p.tasks_blocked:
        rows.append((_("Open"), _("%(overdue)d overdue, %(blocked)d blocked") % {
            "overdue": p.tasks_overdue, "blocked": p.tasks_blocked}))
    return rows


def _charts(view: ReviewMailView) -> list[tuple[str, str, bytes]]:
    """(cid, alt text, PNG) of the charts a form with figures shows."""
    p = view.figures
    if p is None or view.form not in ("self", "manager"):
        return []
    label = "".join(ch if ch.isalnum() else "-" for ch in view.period_label).lower()
    tr = translations(view.locale)
    found = []
    if p.goals:
        found.append((f"review-goals.{label}@drumbeat.review",
                      tr.gettext("Bar chart: goal progress at the start and end of %(period)s. "
                                 "The same figures are written above.")
                      % {"period": view.period_label}, goal_progress_chart([p])))
    if p.timeline:
        found.append((f"review-checkins.{label}@drumbeat.review",
                      tr.gettext("Timeline: one cell per check-in period of %(period)s, held, "
                                 "excused, disputed or missed. The counts are written above.")
                      % {"period": view.period_label}, checkin_timeline_chart([p])))
    return found


def _day(value: date, language: str) -> str:
    """``3 Dec 2026``: a period's first or last day."""
    if language == DEFAULT:
        return f"{value.day} {value:%b} {value.year}"
    return day_text(value, language, with_year=True)


def render_review_mail(view: ReviewMailView, *, show_charts: bool = True
                       ) -> tuple[RenderedEmail, tuple[InlineImage, ...]]:
    """Subject, plain text, inlined HTML and inline charts of one review email."""
    charts = _charts(view) if show_charts else []
    context = {
        "view": view, "subject": review_subject(view),
        "figures": _figure_lines(view.figures, view.locale) if view.figures else [],
        "goals": view.figures.goals if view.figures else (),
        "charts": [(cid, alt) for cid, alt, _png in charts],
        "answer_by": day_words(view.answer_by, view.locale) if view.answer_by else None,
        "period": f"{_day(view.period_start, view.locale)} – {_day(view.period_end, view.locale)}",
        "span": lambda start, end: _span(start, end, view.locale),
        "done_word": translations(view.locale).pgettext("reply command", "done"),
    }
    env = environment(view.locale)
    rendered = RenderedEmail(
        review_subject(view), env.get_template("review.txt.j2").render(context),
        css_inliner().inline(env.get_template("review.html.j2").render(context)))
    images = tuple(InlineImage(cid, f"{cid.split('@')[0]}.png", png) for cid, _alt, png in charts)
    return rendered, images
