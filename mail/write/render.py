"""Turning an agenda view into a subject, a plain-text part and an HTML part.

One Jinja2 environment per language serves both parts (``jinja2.ext.i18n`` with the
language's catalog installed, new-style gettext; ``mail.write.language``):
``.html.j2`` templates autoescape, ``.txt.j2`` ones do not, and every piece of user
text in the plain part goes through ``oneline`` so a title can never start a new line
(replies quote those lines, and the reply parser reads them back). The HTML is made
for mail clients: CSS is inlined, and only the dark-mode ``@media`` rules stay in a ``<style>`` tag.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache, partial
from importlib.resources import files

import css_inline
import jinja2
from markupsafe import Markup

from mail.write.agenda import AgendaView, AwayNoticeView, GoalAtRisk, NudgeView, reply_examples
from mail.write.language import (
    DEFAULT,
    day_text,
    percent_text,
    supported,
    time_text,
    translations,
    worded,
)

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


def percent(value: float | None, language: str = DEFAULT) -> str:
    """``42%`` for a 0..100 figure (``42 %`` in German); never shows 100% or 0% for work
    that is not."""
    if value is None:
        return "–"
    shown = math.floor(value + 0.5)
    if shown >= 100 and value < 100:
        shown = 99
    elif shown <= 0 < value:
        shown = 1
    return f"{shown}%" if language == DEFAULT else percent_text(shown, language)


def _filled(value: float | None, width: int) -> int:
    share = 0.0 if value is None else min(max(value, 0.0), 100.0) / 100
    return min(width, max(0, math.floor(share * width + 0.5)))


def bar(value: float | None, width: int = 10, language: str = DEFAULT) -> str:
    """A text progress bar: ``█████░░░░░ 50%`` (``░░░░░░░░░░ –`` when unknown)."""
    filled = _filled(value, width)
    return "█" * filled + "░" * (width - filled) + " " + percent(value, language)


def date_human(value: date | datetime | None, today: date | None = None,
               language: str = DEFAULT) -> str:
    """``Thu 3 Dec`` (``Do., 3. Dez.``, ``12月3日(木)``): short and unambiguous; the year
    only when it is not ``today``'s."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return day_text(day, language, with_year=today is not None and today.year != day.year)


def time_human(value: datetime, language: str = DEFAULT) -> str:
    """``09:30``, in the value's own time zone (the reader's, for a meeting)."""
    return time_text(value, language)


def _possessive(name: str) -> str:
    name = oneline(name)
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _strong(value: object) -> Markup:
    """User text in bold inside a translated HTML sentence (escaped)."""
    return Markup("<strong>{}</strong>").format(value)


def _code(value: object) -> Markup:
    """A command word inside a translated HTML sentence, set as code (escaped)."""
    return Markup('<code class="code">{}</code>').format(value)


def risk_sentence(goal: GoalAtRisk, view: AgendaView) -> str:
    """"G-3 is 12 points behind; 3 of its open tasks are yours." (the manager reads the
    employee's name), the same words in both parts."""
    tr = translations(view.locale)
    name = oneline(view.employee_name)
    count = goal.open_tasks
    args = {"ref": oneline(goal.ref), "points": math.floor(goal.behind + 0.5),
            "name": name, "possessive": _possessive(name), "num": count}
    if goal.owned and count and view.is_manager:
        sentence = tr.ngettext(
            "%(ref)s is %(points)d points behind; %(name)s owns it and %(num)d of its "
            "open tasks is %(possessive)s.",
            "%(ref)s is %(points)d points behind; %(name)s owns it and %(num)d of its "
            "open tasks are %(possessive)s.", count)
    elif goal.owned and count:
        sentence = tr.ngettext(
            "%(ref)s is %(points)d points behind; you own it and %(num)d of its open "
            "tasks is yours.",
            "%(ref)s is %(points)d points behind; you own it and %(num)d of its open "
            "tasks are yours.", count)
    elif count and view.is_manager:
        sentence = tr.ngettext(
            "%(ref)s is %(points)d points behind; %(num)d of its open tasks is %(possessive)s.",
            "%(ref)s is %(points)d points behind; %(num)d of its open tasks are "
            "%(possessive)s.", count)
    elif count:
        sentence = tr.ngettext(
            "%(ref)s is %(points)d points behind; %(num)d of its open tasks is yours.",
            "%(ref)s is %(points)d points behind; %(num)d of its open tasks are yours.", count)
    elif view.is_manager:
        sentence = tr.gettext("%(ref)s is %(points)d points behind; %(name)s owns it.")
    else:
        sentence = tr.gettext("%(ref)s is %(points)d points behind; you own it.")
    return sentence % args


@cache
def environment(language: str = DEFAULT) -> jinja2.Environment:
    """The templates environment of one language (its catalog installed for
    ``{{ _("...") }}``, its dates and percents in the filters), built once on first use."""
    language = supported(language)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("templates"))),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(language=language, _code=_code,
                       _span_code=lambda value: Markup('<span class="code">{}</span>').format(
                           value),
                       _muted=lambda value: Markup('<span class="muted">{}</span>').format(value))
    env.filters.update(
        oneline=oneline,
        bar=partial(bar, language=language),
        bar_cells=_filled,
        date_human=partial(date_human, language=language),
        time_human=partial(time_human, language=language),
        percent=partial(percent, language=language),
        possessive=_possessive,
        strong=_strong,
        risk=risk_sentence,
        translated=partial(worded, language=language),
    )
    return env


@lru_cache(maxsize=1)
def css_inliner() -> css_inline.CSSInliner:
    """The one CSS inliner every HTML part goes through (built once per process)."""
    # keep_at_rules: ordinary rules become style= attributes, the dark-mode @media
    # block stays in a <style> tag (it cannot be inlined). No remote stylesheets.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def agenda_subject(view: AgendaView | NudgeView) -> str:
    """The same subject for every agenda of a pair, so mail clients thread them (in the
    reader's language; the thread headers keep the two sides' copies together)."""
    other = view.employee_name if view.is_manager else view.manager_name
    return translations(view.locale).gettext("1:1 with %(name)s: check-in agenda") % {
        "name": oneline(other)}


def render_agenda(view: AgendaView) -> RenderedEmail:
    """Subject, plain text and inlined HTML of one agenda."""
    env = environment(view.locale)
    context = {"view": view, "examples": reply_examples(view)}
    text = env.get_template("agenda.txt.j2").render(context)
    html = env.get_template("agenda.html.j2").render(context)
    return RenderedEmail(
        subject=agenda_subject(view), text=text, html=css_inliner().inline(html)
    )


def render_nudge(view: NudgeView) -> RenderedEmail:
    """The reminder for a period that closed with no meeting logged; threads with the agendas."""
    env = environment(view.locale)
    other = view.employee_name if view.is_manager else view.manager_name
    context = {"view": view, "other": other}
    return RenderedEmail(
        subject=agenda_subject(view),
        text=env.get_template("nudge.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("nudge.html.j2").render(context)),
    )


def render_away_notice(view: AwayNoticeView) -> RenderedEmail:
    """The one notice to the other side of a pair that someone will be away."""
    env = environment(view.locale)
    context = {"view": view}
    subject = translations(view.locale).gettext("%(name)s is away %(first)s – %(last)s")
    return RenderedEmail(
        subject=subject % {"name": oneline(view.away_name),
                           "first": date_human(view.starts_on, language=view.locale),
                           "last": date_human(view.ends_on, language=view.locale)},
        text=env.get_template("away.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("away.html.j2").render(context)),
    )
