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

from babel.numbers import format_decimal

from mail.write.digest import (
    CalibrationRow,
    CycleCompletion,
    CycleSummary,
    DigestView,
    ReviewFigures,
)
from mail.write.digest_render import DASH, Col, _width, capped, text_table
from mail.write.digest_words import DigestWords
from mail.write.language import translations
from mail.write.render import oneline

__all__ = ["ACK_WORDS", "STEP_WORDS", "calibration_order", "review_context"]

TABLE_ROWS = 20  # completion, calibration, disputes: the HTML of 10,000 people stays small
TEAM_ROWS = 200  # a manager's reports
LEVEL_COLUMNS = 5  # scales with more levels show the counts in one column (text part)

STEP_WORDS = {"pending": "not yet", "waiting": "waiting", "done": "done", "missed": "missed"}
ACK_WORDS = {"pending": "not yet", "waiting": "waiting", "agreed": "agreed",
             "disputed": "disputed", "resolved": "resolved", "missed": "missed"}


def _mean_rating(value: float | None, words: DigestWords | None = None) -> str:
    """``3.5`` (``3,5``): a mean rating with one decimal, as the reader writes it."""
    if value is None:
        return DASH
    if words is None or words.english:
        return f"{value:.1f}"
    return format_decimal(value, "0.0", locale=words.language)


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


def step_words(words: DigestWords) -> tuple[dict[str, str], dict[str, str]]:
    """``STEP_WORDS`` and ``ACK_WORDS`` in the reader's words."""
    if words.english:
        return STEP_WORDS, ACK_WORDS
    tr = translations(words.language)
    said = {"not yet": tr.pgettext("review step", "not yet"),
            "waiting": tr.pgettext("review step", "waiting"),
            "done": tr.pgettext("review step", "done"),
            "missed": tr.pgettext("review step", "missed"),
            "agreed": tr.pgettext("review step", "agreed"),
            "disputed": tr.pgettext("review step", "disputed"),
            "resolved": tr.pgettext("review step", "resolved")}
    return ({k: said[v] for k, v in STEP_WORDS.items()},
            {k: said[v] for k, v in ACK_WORDS.items()})


def _summary(cycle: CycleSummary, words: DigestWords) -> str:
    reviews = cycle.reviews
    total = len(reviews)
    self_done = sum(1 for r in reviews if r.self_state == "done")
    manager_done = sum(1 for r in reviews if r.manager_state == "done")
    acked = sum(1 for r in reviews if r.ack_state in ("agreed", "resolved"))
    disputed = sum(1 for r in reviews if r.ack_state == "disputed")
    missed = sum((r.self_state == "missed") + (r.manager_state == "missed")
                 + (r.ack_state == "missed") for r in reviews)
    _ = words._
    state = _("closed") if cycle.closed else _("answers until %(day)s",
                                                 day=words.day(cycle.deadline))
    return _("Opened %(day)s, %(state)s. Of %(reviews)s: %(own)s done, %(manager)s done, "
             "%(acked)s acknowledged, %(disputed)s disputed (open), %(missed)s missed.",
             day=words.day(cycle.opened), state=state,
             reviews=words.ngettext("%(num)s review", "%(num)s reviews", total),
             own=words.ngettext("%(num)s self-review", "%(num)s self-reviews", self_done),
             manager=words.ngettext("%(num)s manager review", "%(num)s manager reviews",
                                    manager_done),
             acked=words.num(acked), disputed=words.num(disputed),
             missed=words.ngettext("%(num)s step", "%(num)s steps", missed))


# --- plain-text tables ------------------------------------------------------------------


def _text_tables(ctx: dict[str, Any], cycle: CycleSummary,
                 words: DigestWords) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    _, steps, acks = words._, ctx["step_words"], ctx["ack_words"]
    tables["completion"] = text_table(
        [Col(_("Manager"), 22), Col(words.pgettext("column, 7 wide", "Reviews"), 7, True),
         Col(words.pgettext("column, 6 wide", "Self"), 6, True),
         Col(words.pgettext("column, 6 wide", "Mgr"), 6, True),
         Col(words.pgettext("column, 6 wide", "Ack'd"), 6, True),
         Col(words.pgettext("column, 5 wide", "Disp."), 5, True),
         Col(words.pgettext("column, 6 wide", "Missed"), 6, True)],
        [[c.manager_name, f"{c.reviews:,}", f"{c.self_done:,}", f"{c.manager_done:,}",
          f"{c.acknowledged:,}", f"{c.disputed:,}", f"{c.missed:,}"]
         for c in ctx["completion"].rows])
    levels = [lv.value for lv in cycle.scale]
    if len(levels) <= LEVEL_COLUMNS:
        level_cols = [Col(str(v), 3, True, 1) for v in levels]

        def counts(row: CalibrationRow) -> list[str]:
            return [str(n) for n in row.distribution]
    else:
        level_cols = [Col(_("Ratings %(first)s…%(last)s", first=levels[0], last=levels[-1]),
                          19)]

        def counts(row: CalibrationRow) -> list[str]:
            return ["·".join(str(n) for n in row.distribution)]
    wide = 5 if words.english else 6  # "68,8 %": the locale's percent may need a column more
    tables["calibration"] = text_table(
        [Col(_("Manager"), 14), Col("N", 3, True), *level_cols,
         Col(words.pgettext("column, 4 wide", "Mean"), 4, True),
         Col(words.pgettext("column, 5 wide", "Goals"), wide, True),
         Col(words.pgettext("column, 5 wide", "med"), wide, True, 1),
         Col(words.pgettext("column, 5 wide", "Adh."), wide, True),
         Col(words.pgettext("column, 5 wide", "med"), wide, True, 1)],
        [[r.manager_name, f"{r.rated}/{r.reviews}" if r.rated != r.reviews else str(r.rated),
          *counts(r), _mean_rating(r.mean_rating, words), words.pct(r.goal_progress_mean),
          words.pct(r.goal_progress_median), words.pct(r.adherence_mean),
          words.pct(r.adherence_median)]
         for r in ctx["calibration"].rows])
    rows = [[r.name, steps[r.self_state], cycle.label(r.self_rating),
             steps[r.manager_state], cycle.label(r.manager_rating), acks[r.ack_state]]
            for r in ctx["team"].rows]
    heads = [_("Name"), words.pgettext("review column", "Self"), _("Rating"),
             _("Manager"), _("Rating"), words.pgettext("review column", "Ack.")]
    widths = [16, 7, 11, 7, 11, 8]
    if not words.english:  # another language's words may be longer: room for them
        widths = [max(w, _width(head), *(_width(row[i]) for row in rows if i))
                  for i, (w, head) in enumerate(zip(widths, heads, strict=True))]
    tables["team"] = text_table([Col(h, w) for h, w in zip(heads, widths, strict=True)], rows)
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
    words = DigestWords(view.locale)
    steps, acks = step_words(words)
    manager = oneline((mine.manager_name if mine else None) or words._("Your manager"))
    calibration = calibration_order(cycle.calibration)
    if len(calibration) <= TABLE_ROWS:
        calibration.sort(key=lambda r: oneline(r.manager_name).casefold())
    ctx: dict[str, Any] = {
        "cycle": cycle,
        "summary": _summary(cycle, words),
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
        "step_words": steps,
        "ack_words": acks,
        "label": cycle.label,
        "mean_rating": lambda value: _mean_rating(value, words),
        "rating_day": words.day,
    }
    ctx["tables"] = _text_tables(ctx, cycle, words)
    return ctx


def _completion_order(c: CycleCompletion) -> tuple[int, str]:
    """Most steps missing or disputed first, then by name."""
    open_steps = (c.reviews - c.acknowledged) + c.missed
    return (-open_steps, oneline(c.manager_name).casefold())
