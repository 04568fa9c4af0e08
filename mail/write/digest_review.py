"""The review cycle's part of an evaluation digest: words and tables, from the view only.

``mail.write.digest_render`` calls ``review_context`` when the view carries a cycle
(``DigestView.cycle``); without one nothing here runs and the digest is as it was.

- **hr**: a line on the whole cycle, completion by manager, the open disputes
  (each dispute's first line only), and the calibration table: each manager's
  manager ratings per level of the scale beside their team's goal progress and
  check-in adherence (mean and median of the reports' own figures), so HR can
  see whether the ratings follow the record; in a company with more managers
  than the table shows, those whose ratings stand furthest from their team's
  record (``calibration_order``) come first;
- **manager**: each report's steps and ratings;
- **employee**: their own steps, and the manager's rating and comment once given.

What a copy may show is decided when the view is built (``workers/review_digest.py``):
this module prints what the view holds and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mail.write.digest import (
    CalibrationRow,
    CycleCompletion,
    CycleSummary,
    DigestView,
    ReviewFigures,
)
from mail.write.digest_render import DASH, Col, capped, day, pct, text_table
from mail.write.digest_words import DigestWords
from mail.write.language import DEFAULT
from mail.write.render import oneline

__all__ = ["ACK_WORDS", "STEP_WORDS", "calibration_order", "review_context"]

TABLE_ROWS = 20  # completion, calibration, disputes: the HTML of 10,000 people stays small
TEAM_ROWS = 200  # a manager's reports
LEVEL_COLUMNS = 5  # scales with more levels show the counts in one column (text part)

STEP_WORDS = {"pending": "not yet", "waiting": "waiting", "done": "done", "missed": "missed"}
ACK_WORDS = {"pending": "not yet", "waiting": "waiting", "agreed": "agreed",
             "disputed": "disputed", "resolved": "resolved", "missed": "missed"}


def _mean_rating(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _record(row: CalibrationRow) -> float | None:
    known = [v for v in (row.goal_progress_mean, row.adherence_mean) if v is not None]
    return sum(known) / len(known) if known else None


def _standardised(values: dict[int, float]) -> dict[int, float]:
    """Each value as standard deviations from the values' mean (0 when they are equal)."""
    mean = sum(values.values()) / len(values)
    spread = (sum((v - mean) ** 2 for v in values.values()) / len(values)) ** 0.5
    return {k: (v - mean) / spread if spread else 0.0 for k, v in values.items()}


def calibration_order(rows: Sequence[CalibrationRow]) -> list[CalibrationRow]:
    """Ratings furthest from the record first: how far a manager's mean rating stands
    from the other managers' (in standard deviations) against how far their team's
    record (the mean of its goal progress and adherence) stands from the other teams';
    rows with nothing to compare last, then by name."""
    ratings = {i: r.mean_rating for i, r in enumerate(rows) if r.mean_rating is not None}
    records = {i: rec for i, r in enumerate(rows) if (rec := _record(r)) is not None}
    both = ratings.keys() & records.keys()
    z_rating = _standardised({i: ratings[i] for i in both}) if both else {}
    z_record = _standardised({i: records[i] for i in both}) if both else {}
    gaps = {i: abs(z_rating[i] - z_record[i]) for i in both}
    order = sorted(range(len(rows)), key=lambda i: (
        i not in gaps, -gaps.get(i, 0.0), oneline(rows[i].manager_name).casefold()))
    return [rows[i] for i in order]


def _summary(cycle: CycleSummary) -> str:
    reviews = cycle.reviews
    total = len(reviews)
    self_done = sum(1 for r in reviews if r.self_state == "done")
    manager_done = sum(1 for r in reviews if r.manager_state == "done")
    acked = sum(1 for r in reviews if r.ack_state in ("agreed", "resolved"))
    disputed = sum(1 for r in reviews if r.ack_state == "disputed")
    missed = sum((r.self_state == "missed") + (r.manager_state == "missed")
                 + (r.ack_state == "missed") for r in reviews)
    state = "closed" if cycle.closed else f"answers until {day(cycle.deadline)}"
    return (f"Opened {day(cycle.opened)}, {state}. Of {_count(total, 'review')}: "
            f"{_count(self_done, 'self-review')} done, "
            f"{_count(manager_done, 'manager review')} done, {acked:,} "
            f"acknowledged, {disputed:,} disputed (open), {_count(missed, 'step')} missed.")


def _count(number: int, noun: str) -> str:
    """A count with its noun, singular for one, so a team of one reads right."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# --- plain-text tables ------------------------------------------------------------------


def _text_tables(ctx: dict[str, Any], cycle: CycleSummary) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    tables["completion"] = text_table(
        [Col("Manager", 22), Col("Reviews", 7, True), Col("Self", 6, True),
         Col("Mgr", 6, True), Col("Ack'd", 6, True), Col("Disp.", 5, True),
         Col("Missed", 6, True)],
        [[c.manager_name, f"{c.reviews:,}", f"{c.self_done:,}", f"{c.manager_done:,}",
          f"{c.acknowledged:,}", f"{c.disputed:,}", f"{c.missed:,}"]
         for c in ctx["completion"].rows])
    levels = [lv.value for lv in cycle.scale]
    if len(levels) <= LEVEL_COLUMNS:
        level_cols = [Col(str(v), 3, True, 1) for v in levels]

        def counts(row: CalibrationRow) -> list[str]:
            return [str(n) for n in row.distribution]
    else:
        level_cols = [Col(f"Ratings {levels[0]}…{levels[-1]}", 19)]

        def counts(row: CalibrationRow) -> list[str]:
            return ["·".join(str(n) for n in row.distribution)]
    tables["calibration"] = text_table(
        [Col("Manager", 14), Col("N", 3, True), *level_cols, Col("Mean", 4, True),
         Col("Goals", 5, True), Col("med", 5, True, 1), Col("Adh.", 5, True),
         Col("med", 5, True, 1)],
        [[r.manager_name, f"{r.rated}/{r.reviews}" if r.rated != r.reviews else str(r.rated),
          *counts(r), _mean_rating(r.mean_rating), pct(r.goal_progress_mean),
          pct(r.goal_progress_median), pct(r.adherence_mean), pct(r.adherence_median)]
         for r in ctx["calibration"].rows])
    tables["team"] = text_table(
        [Col("Name", 16), Col("Self", 7), Col("Rating", 11), Col("Manager", 7),
         Col("Rating", 11), Col("Ack.", 8)],
        [[r.name, STEP_WORDS[r.self_state], cycle.label(r.self_rating),
          STEP_WORDS[r.manager_state], cycle.label(r.manager_rating), ACK_WORDS[r.ack_state]]
         for r in ctx["team"].rows])
    return tables


# --- the context the templates read --------------------------------------------------------


def _own_lines(cycle: CycleSummary, mine: ReviewFigures | None, manager: str,
               words: DigestWords) -> list[str]:
    """The employee's own review, one sentence per step, in their language."""
    _ = words._
    if mine is None:
        return [_("You were not part of the %(period)s review cycle.",
                  period=oneline(cycle.period_label))]
    rated = cycle.scale != ()
    self_rated = rated and mine.self_rating is not None
    manager_rated = rated and mine.manager_rating is not None
    self_line = {
        "done": _("Your self-review is in, rating %(rating)s.",
                  rating=cycle.label(mine.self_rating)) if self_rated
        else _("Your self-review is in."),
        "waiting": _("Your self-review is waiting for your answer (until %(day)s).",
                     day=words.day(cycle.deadline)),
        "missed": _("Your self-review was not answered by the deadline."),
        "pending": _("Your self-review has not started yet."),
    }[mine.self_state]
    manager_line = {
        "done": _("%(manager)s's review is in: rating %(rating)s.", manager=manager,
                  rating=cycle.label(mine.manager_rating)) if manager_rated
        else _("%(manager)s's review is in.", manager=manager),
        "waiting": _("%(manager)s's review is not in yet.", manager=manager),
        "missed": _("%(manager)s did not answer by the deadline.", manager=manager),
        "pending": _("%(manager)s's review comes after your self-review.", manager=manager),
    }[mine.manager_state]
    ack_line = {
        "agreed": _("You agreed with the review."),
        "disputed": _("You disputed the review; HR has it and will answer."),
        "resolved": _("You disputed the review, and HR resolved it."),
        "waiting": _("Your acknowledgement is waiting: answer the review email with agree "
                     "or dispute: and why."),
        "missed": _("The review was not acknowledged by the deadline."),
        "pending": "",
    }[mine.ack_state]
    return [line for line in (self_line, manager_line, ack_line) if line]


def review_context(view: DigestView, cycle: CycleSummary) -> dict[str, Any]:
    """What the templates' review section reads, under ``ctx["review"]``."""
    me = view.people[0] if view.kind == "employee" and view.people else None
    mine = cycle.review_of(me.person_id) if me else None
    words = DigestWords(view.locale if view.kind == "employee" else DEFAULT)
    manager = oneline((mine.manager_name if mine else None) or words._("Your manager"))
    calibration = calibration_order(cycle.calibration)
    if len(calibration) <= TABLE_ROWS:
        calibration.sort(key=lambda r: oneline(r.manager_name).casefold())
    ctx: dict[str, Any] = {
        "cycle": cycle,
        "summary": _summary(cycle),
        "completion": capped(sorted(cycle.completion, key=_completion_order), TABLE_ROWS),
        "disputes": capped(sorted(cycle.disputes, key=lambda d: (
            d.since is None, d.since or cycle.opened, oneline(d.employee_name).casefold())),
            TABLE_ROWS),
        "calibration": capped(calibration, TABLE_ROWS),
        "calibration_by_gap": len(calibration) > TABLE_ROWS,
        "team": capped(sorted(cycle.reviews, key=lambda r: oneline(r.name).casefold()),
                       TEAM_ROWS),
        "mine": mine,
        "own_lines": _own_lines(cycle, mine, manager, words),
        "comment": [oneline(line) for line in (mine.manager_comment or "").splitlines()
                    if line.strip()] if mine and mine.manager_state == "done" else [],
        "manager": manager,
        "step_words": STEP_WORDS,
        "ack_words": ACK_WORDS,
        "label": cycle.label,
        "mean_rating": _mean_rating,
        "rating_day": day,
    }
    ctx["tables"] = _text_tables(ctx, cycle)
    return ctx


def _completion_order(c: CycleCompletion) -> tuple[int, str]:
    """Most steps missing or disputed first, then by name."""
    open_steps = (c.reviews - c.acknowledged) + c.missed
    return (-open_steps, oneline(c.manager_name).casefold())
