"""The answer to every message a person sends: what changed, and what did not and why.

Like Mailman's command runner, it has three lists: done, refused (understood
but not allowed or not possible), and not understood (with the right form).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from mail.write.language import DEFAULT, long_day_text, translations
from mail.write.render import RenderedEmail, css_inliner, environment, oneline


@dataclass(frozen=True)
class AnswerView:
    recipient_name: str
    subject: str  # of the message we answer
    done: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (line, reason)
    not_understood: tuple[tuple[str, str], ...]  # (line, reason with the right form)
    note: str | None = None  # e.g. why nothing was applied at all
    received: str | None = None  # when we received the message, in the reader's words
    locale: str = DEFAULT  # the reader's language


SHORT_SUBJECT_CHARS = 60


def short_subject(subject: str, limit: int = SHORT_SUBJECT_CHARS) -> str:
    """A subject safe to repeat to someone who may not have written it: one line, no
    control or invisible format characters, at most ``limit`` characters."""
    visible = "".join(char if unicodedata.category(char)[0] != "C" else " " for char in subject)
    text = " ".join(visible.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


FIRST_WORDS = 8
FIRST_WORDS_CHARS = 80


def day_words(day: date, language: str = DEFAULT) -> str:
    """``Fri 18 Dec 2026``: a date with its weekday, the way answers confirm one."""
    return long_day_text(day, language)


def duration_words(minutes: int) -> str:
    """``45 min``, ``1 h``, ``1 h 30 min``: a meeting's length at a glance."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def first_words(text: str, count: int = FIRST_WORDS, limit: int = FIRST_WORDS_CHARS) -> str:
    """The first ``count`` words of ``text`` on one line, with "…" when there is more:
    enough for a person to recognise what was stored without the whole of it."""
    read = 10 * limit  # enough for count words; the rest of a long note is not looked at
    words = short_subject(text[:read], limit=read).split()
    shown = " ".join(words[:count])
    if len(shown) > limit:
        return shown[:limit - 1].rstrip() + "…"
    return shown + ("…" if len(words) > count or len(text) > read else "")


def received_words(moment: datetime, timezone: str, language: str = DEFAULT) -> str:
    """``Mon 07 Dec 2026 at 14:05 (Europe/Berlin)``: a moment in the reader's time zone
    (and language)."""
    local = moment.astimezone(ZoneInfo(timezone))
    words = translations(language).gettext("%(day)s at %(time)s (%(zone)s)")
    return words % {"day": day_words(local.date(), language), "time": f"{local:%H:%M}",
                    "zone": timezone}


def reply_reminder(language: str) -> list[str]:
    """The four lines every answer ends with, keywords the grammar reads in any language."""
    tr = translations(language)
    return ["T-12 60%", "T-12 " + tr.pgettext("reply command", "done"),
            "T-12 blocked: " + tr.gettext("waiting on legal"), "met: yes"]


def answer_subject(subject: str) -> str:
    subject = oneline(subject)
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def render_answer(view: AnswerView) -> RenderedEmail:
    env = environment(view.locale)
    examples = reply_reminder(view.locale)
    context = {"view": view, "examples_text": ", ".join(f'"{line}"' for line in examples),
               "examples_html": Markup(", ").join(
                   Markup('<span class="code">{}</span>').format(line) for line in examples)}
    return RenderedEmail(
        subject=answer_subject(view.subject),
        text=env.get_template("answer.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("answer.html.j2").render(context)),
    )
