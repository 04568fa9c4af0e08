"""A digest in its reader's language: its figures' words, dates and numbers.

Every digest is mail to one person (an employee's own summary, a manager's team digest,
the HR digest), so it is written in the reader's language like an agenda; every digest's
CSV keeps English column headers (a spreadsheet reads the same columns whoever received
it). ``DigestWords`` is what ``digest_render`` and
``digest_review`` ask for words; in English it gives exactly what the digest always said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date, format_skeleton

from mail.write.digest import CheckinMark, GoalLine, PersonFigures
from mail.write.language import (
    DEFAULT,
    N_,
    amount_text,
    number_text,
    percent_figure_text,
    supported,
    translations,
)

__all__ = ["STATE_WORDS", "DigestWords"]

DASH = "–"
STATE_WORDS = {
    "confirmed": N_("held, confirmed by both"),
    "held": N_("held"),
    "excused": N_("excused"),
    "disputed": N_("disputed (the two sides logged it differently)"),
    "missed": N_("missed"),
    "upcoming": N_("upcoming"),
    "inactive": N_("not active"),
    "untracked": N_("before Drumbeat was tracking"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class DigestWords:
    """The words and number forms of one reader's language."""

    language: str = DEFAULT

    @property
    def english(self) -> bool:
        return supported(self.language) == DEFAULT

    def _(self, message: str, **values: Any) -> str:
        words = translations(self.language).gettext(message)
        return words % values if values else words

    def pgettext(self, context: str, message: str) -> str:
        """A word with a context: a column header of a given width, for instance."""
        return translations(self.language).pgettext(context, message)

    def ngettext(self, one: str, many: str, count: int, **values: Any) -> str:
        return translations(self.language).ngettext(one, many, count) % {
            "num": self.num(count), **values}

    # --- numbers and days -----------------------------------------------------------

    def pct(self, value: float | None) -> str:
        """``72.5%`` (``72,5 %``), ``–`` for None."""
        if value is None:
            return DASH
        if self.english:
            return f"{value:.0f}%" if value == round(value) else f"{value:.1f}%"
        return percent_figure_text(value, self.language)

    def span(self, start: float | None, end: float | None, sep: str = " → ") -> str:
        return DASH if start is None and end is None else f"{self.pct(start)}{sep}{self.pct(end)}"

    def num(self, value: int | None) -> str:
        if value is None:
            return DASH
        return f"{value:,}" if self.english else number_text(value, self.language, 0)

    def day(self, value: date | None) -> str:
        """``3 Dec 2026`` (``05.10.2026``, ``2026/10/05``: short enough for a table)."""
        if value is None:
            return DASH
        if self.english:
            return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
        return format_date(value, "medium", locale=self.language)

    def short(self, value: date | None) -> str:
        """``3 Dec`` (``5. Okt.``, ``10月5日``)."""
        if value is None:
            return DASH
        return f"{value.day} {_MONTHS[value.month - 1]}" if self.english \
            else format_skeleton("MMMd", value, locale=self.language)

    def period(self, start: date, end: date) -> str:
        return f"{self.short(start) if start.year == end.year else self.day(start)} – " \
            f"{self.day(end)}"

    # --- the employee's sentences ---------------------------------------------------

    def scope(self, quarter: bool) -> dict[str, str]:
        """``this quarter`` / ``the quarter`` (or year), as the sentences need them."""
        if quarter:
            return {"this_scope": self._("this quarter"), "the_scope": self._("the quarter")}
        return {"this_scope": self._("this year"), "the_scope": self._("the year")}

    def state(self, state: str) -> str:
        words = STATE_WORDS.get(state)
        return self._(words) if words else state

    def excused_by(self, p: PersonFigures, name: str) -> str:
        """Who excused a person's excused periods: their manager or they themself."""
        parts = [self._("%(num)s by the manager", num=self.num(p.checkins_excused_by_manager))] \
            if p.checkins_excused_by_manager else []
        if p.checkins_excused_by_employee:
            parts.append(self._("%(num)s by %(name)s", num=self.num(p.checkins_excused_by_employee),
                                name=name))
        unknown = p.checkins_excused - p.checkins_excused_by_manager \
            - p.checkins_excused_by_employee
        if unknown > 0:
            parts.append(self._("%(num)s not recorded", num=self.num(unknown)))
        return self._("%(num)s excused (%(parts)s)", num=self.num(p.checkins_excused),
                      parts=", ".join(parts))

    def tracked(self, since: date) -> str:
        return self._("Tracked since %(day)s.", day=self.day(since))

    def subject(self, period: str, updated: bool, quarter: bool) -> str:
        head = self._("Drumbeat · %(period)s evaluation", period=period)
        if updated:
            head = self._("%(head)s (updated)", head=head)
        return self._("%(head)s — your quarter", head=head) if quarter \
            else self._("%(head)s — your year", head=head)

    def kpis(self, p: PersonFigures, silent_days: int, low: float) -> list[tuple[str, str, str,
                                                                              bool]]:
        """(value, label, detail, alert) of the person's cards."""
        risky = len(p.goals_at_risk)
        since = p.days_since_checkin
        return [
            (self.pct(p.goal_progress_end), self._("goal progress"),
             self._("from %(start)s at the start", start=self.pct(p.goal_progress_start))
             if p.goal_progress_start is not None else "", False),
            (self.pct(p.on_time_rate), self._("on-time rate"),
             self._("%(done)s of %(due)s tasks done on time", done=self.num(p.tasks_done_on_time),
                    due=self.num(p.tasks_due)) if p.tasks_due else self._("no tasks due"), False),
            (self.pct(p.adherence), self._("check-in adherence"),
             self._("%(held)s of %(expected)s check-ins held", held=self.num(p.checkins_held),
                    expected=self.num(p.checkins_expected))
             if p.checkins_expected else self._("no check-ins expected"),
             p.adherence is not None and p.adherence < low),
            (self.num(p.longest_gap_days), self._("longest gap (days)"),
             self._("between check-ins"), False),
            (self.short(p.last_checkin) if p.last_checkin else self._("none"),
             self._("last check-in"),
             "" if since is None
             else self.ngettext("%(num)s day before the end", "%(num)s days before the end",
                                since)
             if p.last_checkin else self.ngettext("none in %(num)s day", "none in %(num)s days",
                                                  since),
             p.checkins_expected > 0 and (since is None or since >= silent_days)),
            (self.num(risky), self._("goals at risk"), self._("behind the time elapsed"),
             risky > 0),
        ]

    def goal_rows(self, p: PersonFigures) -> list[list[str]]:
        return [[g.ref, g.title, self._("owner") if g.owned else self._("helps"),
                 self.span(g.progress_start, g.progress_end, "→"), self.pct(g.expected),
                 self._("at risk") if g.at_risk else self._("on track")
                 if g.expected is not None else DASH] for g in p.goals]

    def measure(self, g: GoalLine) -> str:
        """``ARR €3.1M of €4M (from €2.1M)``: a measurable goal's figure at the period's
        end, worded as agendas and ``status`` word it."""
        def amount(value: float | None) -> str:
            return DASH if value is None else amount_text(value, g.unit, self.language)

        words = {"metric": g.metric or "", "start": amount(g.metric_start),
                 "target": amount(g.metric_target)}
        if g.value_end is None:
            return self._("%(metric)s not measured yet (from %(start)s to %(target)s)", **words)
        return self._("%(metric)s %(value)s of %(target)s (from %(start)s)",
                      value=amount(g.value_end), **words)

    def tasks(self, g: GoalLine) -> str:
        """``tasks 10% → 13%``: a measurable goal's tasks rolled up at the start and end."""
        return f"{self._('tasks')} {self.span(g.rolled_start, g.rolled_end)}"

    def beside(self, g: GoalLine) -> str | None:
        """A measurable goal's measure and its tasks, the line under its row; None for a
        goal without a metric (its progress is its tasks')."""
        return None if g.metric is None else f"{self.measure(g)} · {self.tasks(g)}"

    def timeline_rows(self, marks: Sequence[CheckinMark]) -> list[list[str]]:
        return [[self.day(m.period_start), self.state(m.state)] for m in marks]
