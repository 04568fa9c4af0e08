"""Turning an agenda view into a subject, a plain-text part and an HTML part.

One Jinja2 environment serves both parts: ``.html.j2`` templates autoescape,
``.txt.j2`` ones do not, and every piece of user text in the plain part goes
through ``oneline`` so a title can never start a new line (replies quote those
lines, and the reply parser reads them back). The HTML is made for mail clients:
CSS is inlined, and only the dark-mode ``@media`` rules stay in a ``<style>`` tag.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files

import css_inline
import jinja2

from mail.write.agenda import AgendaView, AwayNoticeView, GoalAtRisk, NudgeView, reply_examples

__all__ = [
    "RenderedEmail",
    "agenda_subject",
    "bar",
    "date_human",
    "environment",
    "oneline",
    "percent",
    "render_agenda",
    "risk_sentence",
    "time_human",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class RenderedEmail:
    """The words of one email, stored on the outbox row so every retry sends the same."""

    subject: str
    text: str
    html: str


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc, exactly


def oneline(value: object) -> str:
    """Any text as one line: whitespace runs (newlines, U+2028/2029 included) become
    one space, other control characters are dropped."""
    text = str(value)
    if _CONTROL.search(text):  # rare: look at each character only then
        text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(text.split())


def percent(value: float | None) -> str:
    """``42%`` for a 0..100 figure; never shows 100% or 0% for work that is not."""
    if value is None:
        return "–"
    shown = math.floor(value + 0.5)
    if shown >= 100 and value < 100:
        shown = 99
    elif shown <= 0 < value:
        shown = 1
    return f"{shown}%"


def _filled(value: float | None, width: int) -> int:
    share = 0.0 if value is None else min(max(value, 0.0), 100.0) / 100
    return min(width, max(0, math.floor(share * width + 0.5)))


def bar(value: float | None, width: int = 10) -> str:
    """A text progress bar: ``█████░░░░░ 50%`` (``░░░░░░░░░░ –`` when unknown)."""
    filled = _filled(value, width)
    return "█" * filled + "░" * (width - filled) + " " + percent(value)


def date_human(value: date | datetime | None, today: date | None = None) -> str:
    """``Thu 3 Dec``: short and unambiguous in any locale; the year only when it is
    not ``today``'s."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    shown = f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]}"
    return shown if today is None or today.year == value.year else f"{shown} {value.year}"


def time_human(value: datetime) -> str:
    """``09:30``, in the value's own time zone (the reader's, for a meeting)."""
    return f"{value:%H:%M}"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _possessive(name: str) -> str:
    name = oneline(name)
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def risk_sentence(goal: GoalAtRisk, view: AgendaView) -> str:
    """"G-3 is 12 points behind; 3 of its open tasks are yours." (the manager reads the
    employee's name), the same words in both parts."""
    name = oneline(view.employee_name)
    whose, owner = ((_possessive(name), f"{name} owns it") if view.is_manager
                    else ("yours", "you own it"))
    count = goal.open_tasks
    share = f"{count} of its open tasks {'is' if count == 1 else 'are'} {whose}" if count else ""
    who = " and ".join(part for part in (owner if goal.owned else "", share) if part)
    return f"{oneline(goal.ref)} is {math.floor(goal.behind + 0.5)} points behind; {who}."


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates environment, built once on first use."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("templates"))),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        oneline=oneline,
        bar=bar,
        bar_cells=_filled,
        date_human=date_human,
        time_human=time_human,
        percent=percent,
        days=_days,
        possessive=_possessive,
        risk=risk_sentence,
    )
    return env


@lru_cache(maxsize=1)
def css_inliner() -> css_inline.CSSInliner:
    """The one CSS inliner every HTML part goes through (built once per process)."""
    # keep_at_rules: ordinary rules become style= attributes, the dark-mode @media
    # block stays in a <style> tag (it cannot be inlined). No remote stylesheets.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def agenda_subject(view: AgendaView) -> str:
    """The same subject for every agenda of a pair, so mail clients thread them."""
    other = view.employee_name if view.is_manager else view.manager_name
    return f"1:1 with {oneline(other)}: check-in agenda"


def render_agenda(view: AgendaView) -> RenderedEmail:
    """Subject, plain text and inlined HTML of one agenda."""
    env = environment()
    context = {"view": view, "examples": reply_examples(view)}
    text = env.get_template("agenda.txt.j2").render(context)
    html = env.get_template("agenda.html.j2").render(context)
    return RenderedEmail(
        subject=agenda_subject(view), text=text, html=css_inliner().inline(html)
    )


def render_nudge(view: NudgeView) -> RenderedEmail:
    """The reminder for a period that closed with no meeting logged; threads with the agendas."""
    env = environment()
    other = view.employee_name if view.is_manager else view.manager_name
    context = {"view": view, "other": other}
    return RenderedEmail(
        subject=f"1:1 with {oneline(other)}: check-in agenda",
        text=env.get_template("nudge.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("nudge.html.j2").render(context)),
    )


def render_away_notice(view: AwayNoticeView) -> RenderedEmail:
    """The one notice to the other side of a pair that someone will be away."""
    env = environment()
    context = {"view": view}
    return RenderedEmail(
        subject=f"{oneline(view.away_name)} is away {date_human(view.starts_on)} – "
                f"{date_human(view.ends_on)}",
        text=env.get_template("away.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("away.html.j2").render(context)),
    )
