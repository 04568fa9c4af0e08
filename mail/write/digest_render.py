"""Evaluation digests as email: subject, plain text, HTML, charts and a CSV.

``render_digest`` is a pure function of a ``mail.write.digest.DigestView``: no database,
no clock, no randomness, so the digest stored on an outbox row can be rendered
again byte for byte. Three kinds:

- **hr**: headline figures, the managers to talk to first, people without a
  check-in for 4+ weeks, goals at risk, by manager, by initiative, then the
  per-person table;
- **manager**: the same for their direct reports, plus their own check-in record
  with their manager;
- **employee**: their own figures, goals and check-in timeline.

When the period has a review cycle (``DigestView.cycle``), each kind also shows
its part of it right after the headline figures (``mail.write.digest_review``);
without one the digest is exactly as before.

Big organisations: every list is capped (the per-person table at
``PEOPLE_ROWS`` rows, those needing attention first) and says how many more
there are; the attached CSV always has everyone, so the email stays small and
readable for 10,000 people.

Meeting notes never appear in a digest. DigestView has no field that holds
note text, and nothing here may add one: digests go to HR and managers, and
what was said in a 1:1 stays between its two people. Only counts and dates of
check-ins are shown.

House style, as ``mail.write.render``: one Jinja2 environment, ``.html.j2`` autoescaped,
user text through ``oneline``, CSS inlined with only the dark-mode ``@media``
rules kept in ``<style>``. Tables in the plain part are aligned columns that fit
in ``TEXT_WIDTH`` columns (names cut with "…"). Charts are inline PNGs referenced
as ``<img src="cid:...">`` with alt text, and the HTML reads fully without them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mail.write.charts import calibration_chart, checkin_timeline_chart, goal_progress_chart
from mail.write.compose import AttachedFile, InlineImage
from mail.write.digest import CheckinMark, DigestView, GoalLine, PersonFigures, TeamRollup
from mail.write.digest_csv import figures_csv
from mail.write.digest_words import STATE_WORDS, DigestWords
from mail.write.render import RenderedEmail, css_inliner, environment, oneline

__all__ = [
    "CHART_ROWS",
    "LIST_ROWS",
    "PEOPLE_ROWS",
    "TEXT_WIDTH",
    "Capped",
    "Col",
    "RenderedDigest",
    "capped",
    "csv_name",
    "digest_subject",
    "render_digest",
    "text_table",
]

PEOPLE_ROWS = 50  # per-person table
LIST_ROWS = 30  # no check-in for 4+ weeks, goals at risk
TABLE_ROWS = 30  # by manager, by initiative
LOWEST_ROWS = 10  # managers to talk to first
CHART_ROWS = 40
TEXT_WIDTH = 72
SILENT_DAYS = 28
LOW_ADHERENCE = 50.0  # shown in red below this

DASH = "–"

@dataclass(frozen=True)
class RenderedDigest:
    """One digest email: its words, its charts and its CSV."""

    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...]
    csv_name: str
    csv: bytes

    @property
    def email(self) -> RenderedEmail:
        """The words, for ``mail.write.compose.build_message(rendered=...)``."""
        return RenderedEmail(self.subject, self.text, self.html)

    @property
    def attachments(self) -> tuple[AttachedFile, ...]:
        """The CSV, for ``build_message(attachments=...)``."""
        return (AttachedFile(self.csv_name, "text/csv; charset=utf-8", self.csv),)


# --- formatting --------------------------------------------------------------------------


# The HR and manager digests' forms, in English: what an employee's copy uses in theirs.
_ENGLISH = DigestWords()
pct, span, num, day, short = _ENGLISH.pct, _ENGLISH.span, _ENGLISH.num, _ENGLISH.day, \
    _ENGLISH.short


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return None if not known else round(sum(known) / len(known), 1)


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", oneline(value)).strip("-.") or "period"


# --- plain-text tables --------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """One line of at most ``width`` display columns, cut with "…"."""
    text = oneline(text)
    if _width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out.rstrip() + "…"


@dataclass(frozen=True)
class Col:
    header: str
    width: int
    right: bool = False
    gap: int = 2  # spaces before the column (none for the first)


def _cell(text: str, col: Col) -> str:
    text = _fit(text, col.width)
    pad = " " * (col.width - _width(text))
    return pad + text if col.right else text + pad


def text_table(cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = []
    for cells in ([c.header for c in cols], *rows):
        parts = [(" " * (c.gap if i else 0)) + _cell(v, c)
                 for i, (c, v) in enumerate(zip(cols, cells, strict=True))]
        lines.append("".join(parts).rstrip())
    rule = "".join((" " * (c.gap if i else 0)) + "-" * c.width for i, c in enumerate(cols))
    lines.insert(1, rule)
    return lines


# --- what a digest shows ------------------------------------------------------------------


def _attention(p: PersonFigures) -> tuple[bool, float, int, int, str]:
    """Lowest adherence first (nothing expected last), then most goals at risk."""
    return (p.adherence is None, p.adherence if p.adherence is not None else 0.0,
            -len(p.goals_at_risk), -(p.days_since_checkin or 0), oneline(p.name).casefold())


def _silent_order(p: PersonFigures) -> tuple[int, str]:
    days = p.days_since_checkin
    return (-(days if days is not None else 1 << 30), oneline(p.name).casefold())


def _team_order(t: TeamRollup) -> tuple[bool, float, str]:
    return (t.adherence is None, t.adherence or 0.0, oneline(t.manager_name).casefold())


def _joined_or_left(p: PersonFigures, view: DigestView, words: DigestWords) -> str:
    notes = []
    if p.active_from and p.active_from > view.period_start:
        notes.append(words._("joined %(day)s", day=words.short(p.active_from)))
    if p.active_to and p.active_to < view.period_end:
        notes.append(words._("left %(day)s", day=words.short(p.active_to)))
    if _tracked_late(p, view):
        notes.append(words._("tracked since %(day)s", day=words.short(p.tracked_since)))
    return ", ".join(notes)


def _tracked_late(p: PersonFigures, view: DigestView) -> bool:
    """Whether the record starts inside the period: then its figures cover less of it."""
    return p.tracked_since is not None and p.tracked_since > view.period_start


def tracked(p: PersonFigures, view: DigestView, words: DigestWords | None = None) -> str:
    """`` Tracked since 7 Dec 2026.`` when the record starts inside the period, else ''."""
    if not _tracked_late(p, view) or p.tracked_since is None:
        return ""
    return " " + (words or DigestWords()).tracked(p.tracked_since)


def _scope(view: DigestView) -> str:
    return "quarter" if re.search(r"Q[1-4]\b", view.period_label) else "year"


def _words(view: DigestView) -> DigestWords:
    """Every digest is in its reader's language (the CSV's columns stay English)."""
    return DigestWords(view.locale)


def digest_subject(view: DigestView) -> str:
    """``Drumbeat · 2026-Q4 evaluation — Acme (HR)``, ``… — your team``,
    ``… — your quarter``; ``(updated)`` when it lists changes since it was sent."""
    if view.kind == "employee":
        return _words(view).subject(oneline(view.period_label), bool(view.changes),
                                    _scope(view) == "quarter")
    words = _words(view)
    head = words._("Drumbeat · %(period)s evaluation", period=oneline(view.period_label))
    if view.changes:
        head = words._("%(head)s (updated)", head=head)
    if view.kind == "hr":
        org = oneline(view.organisation)
        return (words._("%(head)s — %(organisation)s (HR)", head=head, organisation=org)
                if org else words._("%(head)s — HR", head=head))
    return words._("%(head)s — your team", head=head)


@dataclass(frozen=True)
class _Kpi:
    value: str
    label: str
    detail: str = ""
    alert: bool = False


@dataclass(frozen=True)
class Capped:
    rows: tuple[Any, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def capped(items: Sequence[Any], limit: int) -> Capped:
    return Capped(tuple(items[:limit]), len(items))


def _group_kpis(view: DigestView, people: Sequence[PersonFigures],
                adherence: float | None, words: DigestWords) -> list[_Kpi]:
    expected = sum(p.checkins_expected for p in people)
    held = sum(p.checkins_held for p in people)
    due = sum(p.tasks_due for p in people)
    on_time = sum(p.tasks_done_on_time for p in people)
    joined = sum(1 for p in people if p.active_from and p.active_from > view.period_start)
    silent = len(view.without_checkin_4_weeks)
    at_risk = len(view.goals_at_risk)
    start = _mean([p.goal_progress_start for p in people])
    end = _mean([p.goal_progress_end for p in people])
    _, pct, num = words._, words.pct, words.num
    joined_words = (_("%(num)s joined during the quarter", num=num(joined))
                    if _scope(view) == "quarter"
                    else _("%(num)s joined during the year", num=num(joined)))
    return [
        _Kpi(num(len(people)), _("people") if view.kind == "hr" else _("direct reports"),
             joined_words if joined else ""),
        _Kpi(pct(adherence), _("check-in adherence"),
             _("%(held)s of %(expected)s check-ins held", held=num(held),
               expected=num(expected)) if expected else _("no check-ins expected"),
             alert=adherence is not None and adherence < LOW_ADHERENCE),
        _Kpi(pct(_ratio(on_time, due)), _("on-time rate"),
             _("%(done)s of %(due)s tasks done on time", done=num(on_time), due=num(due))
             if due else _("no tasks due")),
        _Kpi(pct(end), _("mean goal progress"),
             _("from %(start)s at the start", start=pct(start)) if start is not None else ""),
        _Kpi(num(at_risk), _("goals at risk"), _("behind the time elapsed"),
             alert=at_risk > 0),
        _Kpi(num(silent), _("without a check-in for 4+ weeks"),
             words.ngettext("person", "people", silent), alert=silent > 0),
    ]


def _person_kpis(p: PersonFigures, words: DigestWords) -> list[_Kpi]:
    return [_Kpi(*card) for card in words.kpis(p, SILENT_DAYS, LOW_ADHERENCE)]


# --- text tables ----------------------------------------------------------------------------


def _checkins_table(rows: Sequence[PersonFigures], with_manager: bool,
                    words: DigestWords) -> list[str]:
    _, pct, num = words._, words.pct, words.num
    cols = [Col(_("Name"), 18 if with_manager else 30)]
    if with_manager:
        cols.append(Col(_("Manager"), 12))
    cols += [Col(words.pgettext("column, 3 wide", "Exp"), 3, True),
             Col(words.pgettext("column, 4 wide", "Held"), 4, True, 1),
             Col(words.pgettext("column, 4 wide", "Conf"), 4, True, 1),
             Col(words.pgettext("column, 4 wide", "Disp"), 4, True, 1),
             Col(words.pgettext("column, 3 wide", "Exc"), 3, True, 1),
             Col(words.pgettext("column, 6 wide", "Adher."), 6, True),
             Col(words.pgettext("column, 4 wide", "Gap"), 4, True)]
    body = []
    for p in rows:
        cells = [p.name]
        if with_manager:
            cells.append(p.manager_name or DASH)
        cells += [str(p.checkins_expected), str(p.checkins_held), str(p.checkins_confirmed),
                  str(p.checkins_disputed), str(p.checkins_excused), pct(p.adherence),
                  num(p.longest_gap_days)]
        body.append(cells)
    excused = [f"{_fit(p.name, 24)}: {excused_by(p, _fit(p.name, 12), words)}" for p in rows
               if p.checkins_excused]
    return text_table(cols, body) + (["", _("Excused, by who excused them:"), *excused]
                                 if excused else [])


def excused_by(p: PersonFigures, name: str | None = None,
               words: DigestWords | None = None) -> str:
    """Who excused a person's excused periods: their manager or they themself."""
    return (words or DigestWords()).excused_by(p, name or oneline(p.name))


def _work_table(rows: Sequence[PersonFigures], words: DigestWords) -> list[str]:
    _, pct, span = words._, words.pct, words.span
    cols = [Col(_("Name"), 20), Col(words.pgettext("column, 5 wide", "Goals"), 5, True),
            Col(_("Progress"), 11, True), Col(words.pgettext("column, 3 wide", "Due"), 3, True),
            Col(words.pgettext("column, 4 wide", "Done"), 4, True, 1),
            Col(words.pgettext("column, 3 wide", "OnT"), 3, True, 1),
            Col(words.pgettext("column, 4 wide", "Late"), 4, True, 1),
            Col(words.pgettext("column, 3 wide", "Blk"), 3, True, 1),
            Col(words.pgettext("column, 7 wide", "On time"), 7, True)]
    return text_table(cols, [
        [p.name, f"{p.goals_owned}/{p.goals_contributed}",
         span(p.goal_progress_start, p.goal_progress_end, "→"), str(p.tasks_due),
         str(p.tasks_done), str(p.tasks_done_on_time), str(p.tasks_overdue),
         str(p.tasks_blocked), pct(p.on_time_rate)]
        for p in rows])


def _kpi_lines(kpis: Sequence[_Kpi]) -> list[str]:
    """``  Check-in adherence        68.1%  32 of 47 check-ins held``; the detail goes
    on its own line, under the others, when the line would be too long."""
    lines = []
    for k in kpis:
        label = _fit(k.label[:1].upper() + k.label[1:], 31)  # padded by display width
        head = f"  {label}{' ' * (31 - _width(label))} " \
            f"{' ' * max(0, 7 - _width(k.value))}{k.value}"
        if not k.detail:
            lines.append(head)
        elif _width(head) + 2 + _width(k.detail) <= TEXT_WIDTH:
            lines.append(f"{head}  {k.detail}")
        else:
            lines += [head, "    " + _fit(k.detail, TEXT_WIDTH - 4)]
    return lines


def _text_tables(ctx: dict[str, Any]) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    words = ctx["words"]
    _, pct, num, span, day = words._, words.pct, words.num, words.span, words.day
    team_cols = [Col(_("Manager"), 22), Col(words.pgettext("column, 6 wide", "People"), 6, True),
                 Col(words.pgettext("column, 6 wide", "Adher."), 6, True),
                 Col(words.pgettext("column, 7 wide", "On time"), 7, True),
                 Col(words.pgettext("column, 6 wide", "Goals"), 6, True),
                 Col(words.pgettext("column, 7 wide", "Risk"), 7, True),
                 Col(words.pgettext("column, 6 wide", "4+ wk"), 6, True)]

    def team_rows(teams: Sequence[TeamRollup]) -> list[list[str]]:
        return [[t.manager_name, num(t.people), pct(t.adherence), pct(t.on_time_rate),
                 pct(t.goal_progress_end), num(t.goals_at_risk),
                 num(t.without_checkin_4_weeks)] for t in teams]

    tables["lowest"] = text_table(team_cols, team_rows(ctx["lowest"].rows))
    tables["teams"] = text_table(team_cols, team_rows(ctx["teams"].rows))
    tables["silent"] = text_table(
        [Col(_("Name"), 26), Col(_("Manager"), 20),
         Col(words.pgettext("column, 13 wide", "Last check-in"), 13),
         Col(words.pgettext("column, 6 wide", "Days"), 6, True)],
        [[p.name, p.manager_name or DASH, day(p.last_checkin) if p.last_checkin else _("never"),
          num(p.days_since_checkin)] for p in ctx["silent"].rows])
    tables["at_risk"] = _measures_under(text_table(
        [Col(_("Goal"), 6), Col(_("Title"), 24), Col(words.pgettext("column", "Owner"), 16),
         Col(_("Progress"), 11, True), Col(_("Exp."), 7, True)],
        [[g.ref, g.title, p.name, span(g.progress_start, g.progress_end, "→"),
          pct(g.expected)] for p, g in ctx["at_risk"].rows]),
        [g for _, g in ctx["at_risk"].rows], ctx["words"])
    tables["measured"] = _measures_under(text_table(
        [Col(_("Goal"), 6), Col(_("Title"), 24), Col(words.pgettext("column", "Owner"), 16),
         Col(_("Progress"), 11, True)],
        [[g.ref, g.title, p.name, span(g.progress_start, g.progress_end, "→")]
         for p, g in ctx["measured"].rows]), [g for _, g in ctx["measured"].rows], ctx["words"])
    tables["initiatives"] = text_table(
        [Col(words.pgettext("column, 6 wide", "Ref"), 6), Col(_("Initiative"), 30),
         Col(_("Progress"), 11, True), Col(words.pgettext("column, 6 wide", "People"), 6, True),
         Col(words.pgettext("column, 5 wide", "Risk"), 5, True)],
        [[i.ref, i.title, span(i.progress_start, i.progress_end, "→"), num(i.people),
          num(i.goals_at_risk)] for i in ctx["initiatives"].rows])
    rows = ctx["people"].rows
    tables["checkins"] = _checkins_table(rows, ctx["kind"] == "hr", words)
    tables["work"] = _work_table(rows, words)
    tables["kpis"] = _kpi_lines(ctx["kpis"])
    me = ctx["me"]
    if me is not None:
        goals, marks = words.goal_rows(me), words.timeline_rows(_timeline(me))
        # Another language's words may be longer: the title column gives them room.
        role = max([6, *(_width(row[2]) for row in goals)])
        status = min(12, max([8, *(_width(row[5]) for row in goals)]))
        tables["goals"] = _measures_under(text_table(
            [Col(_("Goal"), 6), Col(_("Title"), 24 - (role - 6) - (status - 8)),
             Col(_("Role"), role), Col(_("Progress"), 11, True), Col(_("Exp."), 7, True),
             Col(_("Status"), status)], goals), me.goals, words)
        tables["timeline"] = text_table(
            [Col(_("Period from"), 14),
             Col(_("Check-in"), min(52, max([30, *(_width(row[1]) for row in marks)])))],
            marks)
    return tables


def _measures_under(table: list[str], goals: Sequence[GoalLine], words: DigestWords
                    ) -> list[str]:
    """A goal table with each measurable goal's measure and tasks on the line under its row
    (its Progress is the measure's share of the way)."""
    lines = table[:2]
    for row, goal in zip(table[2:], goals, strict=True):
        beside = words.beside(goal)
        lines += [row] if beside is None else [row, "        " + _fit(beside, TEXT_WIDTH - 8)]
    return lines


def _timeline(p: PersonFigures) -> tuple[CheckinMark, ...]:
    return tuple(sorted(p.timeline, key=lambda m: m.period_start))


# --- charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chart:
    cid: str
    alt: str
    caption: str


def _charts(view: DigestView, people: Sequence[PersonFigures]
            ) -> tuple[list[_Chart], list[InlineImage]]:
    label = _slug(view.period_label).lower()
    words = _words(view)
    _, num = words._, words.num
    charts: list[_Chart] = []
    images: list[InlineImage] = []

    def add(name: str, png: bytes, alt: str, caption: str) -> None:
        cid = f"{name}.{label}@drumbeat.digest"
        charts.append(_Chart(cid, alt, caption))
        images.append(InlineImage(cid, f"{name}-{label}.png", png))

    with_goals = [p for p in people
                  if p.goal_progress_start is not None or p.goal_progress_end is not None]
    if view.kind != "employee" and with_goals:
        shown = min(len(with_goals), CHART_ROWS)
        which = (_("the %(shown)s people with the lowest progress of %(total)s",
                   shown=num(shown), total=num(len(with_goals)))
                 if shown < len(with_goals) else words.ngettext("%(num)s person",
                                                                "%(num)s people", shown))
        add("goal-progress", goal_progress_chart(people, limit=CHART_ROWS),
            _("Bar chart: goal progress at the start and end of %(period)s for %(which)s, "
              "lowest first. The same figures are in the tables below.",
              period=oneline(view.period_label), which=which),
            _("Goal progress at the start (light) and end (dark) of the quarter, %(which)s, "
              "lowest first.", which=which) if _scope(view) == "quarter" else
            _("Goal progress at the start (light) and end (dark) of the year, %(which)s, "
              "lowest first.", which=which))
    with_timeline = [p for p in people if p.timeline]
    if view.kind == "employee" and with_timeline:  # one person's
        add("checkins", checkin_timeline_chart(people, limit=CHART_ROWS),
            words._("Timeline chart: one cell per check-in period of %(period)s, coloured "
                    "held, confirmed, excused, disputed, missed, upcoming or not active. The "
                    "counts are in the table below.", period=oneline(view.period_label)),
            words._("Your check-ins per cadence period: dark blue held and confirmed by both, "
                    "light blue held, yellow excused, purple disputed, orange missed, white "
                    "upcoming, grey not active."))
    elif with_timeline:
        shown = min(len(with_timeline), CHART_ROWS)
        which = (_("the %(shown)s people with the lowest adherence of %(total)s",
                   shown=num(shown), total=num(len(with_timeline)))
                 if shown < len(with_timeline) else words.ngettext("%(num)s person",
                                                                   "%(num)s people", shown))
        add("checkins", checkin_timeline_chart(people, limit=CHART_ROWS),
            _("Timeline chart: one row per person, one cell per check-in period of "
              "%(period)s, coloured held, confirmed, excused, disputed, missed, upcoming or "
              "not active, for %(which)s. The counts are in the tables below.",
              period=oneline(view.period_label), which=which),
            _("Check-ins per cadence period, %(which)s: dark blue held and confirmed by both, "
              "light blue held, yellow excused, purple disputed, orange missed, white "
              "upcoming, grey not active.", which=which))
    return charts, images


def _review_charts(view: DigestView, review: dict[str, Any]
                   ) -> tuple[list[_Chart], list[InlineImage]]:
    """HR's calibration chart: each manager's ratings beside their team's record."""
    cycle = view.cycle
    rows = review["calibration"].rows
    if view.kind != "hr" or cycle is None or not cycle.scale or not any(r.rated for r in rows):
        return [], []
    label = _slug(view.period_label).lower()
    cid = f"calibration.{label}@drumbeat.digest"
    shown = min(len(rows), CHART_ROWS)
    words = _words(view)
    which = words.ngettext("%(num)s manager", "%(num)s managers", shown)
    chart = _Chart(
        cid, words._("Bar chart: for %(which)s, the share of their reports given each rating "
                     "of the %(scale)s scale, beside the team's mean goal progress and "
                     "check-in adherence. The same figures are in the table above.",
                     which=which, scale=f"{cycle.scale[0].value}-{cycle.scale[-1].value}"),
        words._("Left: each manager's ratings, lowest (orange) to highest (dark blue), as "
                "shares of their rated reports. Right: the team's mean goal progress (green) "
                "and check-in adherence (black)."))
    return [chart], [InlineImage(cid, f"calibration-{label}.png",
                                 calibration_chart(rows[:CHART_ROWS], cycle.scale))]


# --- rendering ------------------------------------------------------------------------------


def _context(view: DigestView) -> dict[str, Any]:
    people = list(view.people)
    words = _words(view)
    me: PersonFigures | None = None
    if view.kind == "employee":
        me = people[0] if people else None
        kpis = _person_kpis(me, words) if me else []
    elif view.kind == "manager":
        own = view.manager_self
        team = own.team_adherence if own and own.team_adherence is not None else _ratio(
            sum(p.checkins_held for p in people), sum(p.checkins_expected for p in people))
        kpis = _group_kpis(view, people, team, words)
    else:
        kpis = _group_kpis(view, people, _ratio(sum(p.checkins_held for p in people),
                                                sum(p.checkins_expected for p in people)), words)
    teams = list(view.teams)
    teams_by_adherence = len(teams) > TABLE_ROWS
    teams.sort(key=_team_order if teams_by_adherence
               else lambda t: oneline(t.manager_name).casefold())
    return {
        "view": view,
        "review": _review(view),
        "kind": view.kind,
        "scope": _scope(view),
        **words.scope(_scope(view) == "quarter"),
        "words": words,
        "organisation": oneline(view.organisation),
        "period": words.period(view.period_start, view.period_end),
        "as_of": words.day(view.as_of),
        "kpis": kpis,
        "me": me,
        "own": view.manager_self,
        "lowest": capped(sorted(view.lowest_adherence, key=_team_order), LOWEST_ROWS),
        "silent": capped(sorted(view.without_checkin_4_weeks, key=_silent_order), LIST_ROWS),
        "at_risk": capped(sorted(view.goals_at_risk, key=lambda pg: (
            (pg[1].progress_end or 0.0) - (pg[1].expected or 0.0), pg[1].ref)), LIST_ROWS),
        "measured": capped(sorted(view.measured_goals, key=lambda pg: (
            pg[1].progress_end or 0.0, pg[1].ref)), LIST_ROWS),
        "teams": capped(teams, TABLE_ROWS),
        "teams_by_adherence": teams_by_adherence,
        "initiatives": capped(sorted(view.initiatives, key=lambda i: (
            i.progress_end is None, i.progress_end or 0.0, oneline(i.title).casefold())),
            TABLE_ROWS),
        "people": capped(sorted(people, key=_attention), PEOPLE_ROWS),
        "timeline": _timeline(me) if me else (),
        "state_words": STATE_WORDS,
        "state": words.state,
        "low": LOW_ADHERENCE,
        "silent_days": SILENT_DAYS,
        "pct": words.pct,
        "span": words.span,
        "num": words.num,
        "day": words.day,
        "short": words.short,
        "plural": _plural,
        "joined": lambda p: _joined_or_left(p, view, words),
        "tracked": lambda p: tracked(p, view, words),
        "excused_by": lambda p: excused_by(p, words=words),
        "has_measure": lambda goals: any(g.metric is not None for g in goals),
        "width": TEXT_WIDTH,
    }


def _review(view: DigestView) -> dict[str, Any] | None:
    """The review cycle's section, when the period has one (imported here: that module
    builds on this one's tables)."""
    if view.cycle is None:
        return None
    from mail.write.digest_review import review_context

    return review_context(view, view.cycle)


def csv_name(view: DigestView) -> str:
    return f"drumbeat-{_slug(view.period_label)}-evaluation.csv"


def render_digest(view: DigestView, *, show_charts: bool = True) -> RenderedDigest:
    """Subject, plain text, inlined HTML, inline chart PNGs and the CSV of one digest."""
    ctx = _context(view)
    charts, images = _charts(view, view.people) if show_charts else ([], [])
    review_charts, review_images = (_review_charts(view, ctx["review"])
                                    if show_charts and ctx["review"] else ([], []))
    ctx["charts"] = charts
    ctx["review_charts"] = review_charts
    ctx["csv_name"] = csv_name(view)
    ctx["subject"] = digest_subject(view)
    ctx["tables"] = _text_tables(ctx)
    ctx["preheader"] = " · ".join(f"{k.value} {k.label}" for k in ctx["kpis"][1:4])
    env = environment(ctx["words"].language)
    text = re.sub(r"\n{3,}", "\n\n", env.get_template("digest.txt.j2").render(ctx))
    html = env.get_template("digest.html.j2").render(ctx)
    return RenderedDigest(
        subject=ctx["subject"],
        text=text,
        html=css_inliner().inline(html),
        images=tuple(review_images + images),
        csv_name=ctx["csv_name"],
        csv=figures_csv(view),
    )

