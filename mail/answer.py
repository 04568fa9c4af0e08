"""The answer to every message a person sends: what changed, and what did not and why.

Like Mailman's command runner, it has three lists: done, refused (understood
but not allowed or not possible), and not understood (with the right form).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from mail.render import RenderedEmail, _inliner, environment, oneline


@dataclass(frozen=True)
class AnswerView:
    recipient_name: str
    subject: str  # of the message we answer
    done: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (line, reason)
    not_understood: tuple[tuple[str, str], ...]  # (line, reason with the right form)
    note: str | None = None  # e.g. why nothing was applied at all


SHORT_SUBJECT_CHARS = 60


def short_subject(subject: str, limit: int = SHORT_SUBJECT_CHARS) -> str:
    """A subject safe to repeat to someone who may not have written it: one line, no
    control or invisible format characters, at most ``limit`` characters."""
    visible = "".join(char if unicodedata.category(char)[0] != "C" else " " for char in subject)
    text = " ".join(visible.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def answer_subject(subject: str) -> str:
    subject = oneline(subject)
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def render_answer(view: AnswerView) -> RenderedEmail:
    env = environment()
    context = {"view": view}
    return RenderedEmail(
        subject=answer_subject(view.subject),
        text=env.get_template("answer.txt.j2").render(context),
        html=_inliner().inline(env.get_template("answer.html.j2").render(context)),
    )
