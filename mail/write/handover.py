"""The notice a new owner gets when an item of the plan is handed to them by email.

Like every mail Drumbeat writes: a frozen view in, subject and words out
(``templates/handover.*.j2``); the worker (``workers.plan_changes``) fills the view and
queues the notice only for a known person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mail.write.language import DEFAULT, translations
from mail.write.render import RenderedEmail, css_inliner, environment, oneline

__all__ = ["HandoverView", "kind_word", "render_handover"]


@dataclass(frozen=True)
class HandoverView:
    """What the new owner reads: which item, who handed it over, and from whom."""

    recipient_name: str
    ref: str  # "T-12", "P-3", "G-2"
    kind: str  # "task", "project", "goal"
    title: str
    by_name: str  # who wrote the line
    from_name: str | None  # the previous owner (None: the item is new)
    due: date | None
    under: str | None  # "P-3 Pricing", "G-2 Grow ARR": what the item is part of
    today: date
    locale: str = DEFAULT  # the new owner's language


def kind_word(kind: str, language: str) -> str:
    """``task``, ``Aufgabe``, ``タスク``: the item's kind in the reader's words."""
    tr = translations(language)
    words = {"task": tr.pgettext("plan item", "task"),
             "project": tr.pgettext("plan item", "project"),
             "goal": tr.pgettext("plan item", "goal")}
    return words.get(kind, kind)


def render_handover(view: HandoverView) -> RenderedEmail:
    """The notice in the new owner's language."""
    env = environment(view.locale)
    tr = translations(view.locale)
    kind = kind_word(view.kind, view.locale)
    context = {"view": view, "kind": kind}
    words = {"by": oneline(view.by_name), "kind": kind, "ref": view.ref,
             "title": oneline(view.title)}
    subject = (tr.gettext("%(by)s handed you %(kind)s %(ref)s: %(title)s")
               if view.from_name is not None else
               tr.gettext("%(by)s gave you the new %(kind)s %(ref)s: %(title)s"))
    return RenderedEmail(
        subject=(subject % words)[:200],
        text=env.get_template("handover.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("handover.html.j2").render(context)),
    )
