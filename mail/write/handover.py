"""The notice a new owner gets when an item of the plan is handed to them by email.

Like every mail Drumbeat writes: a frozen view in, subject and words out
(``templates/handover.*.j2``); the worker (``workers.plan_changes``) fills the view and
queues the notice only for a known person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mail.write.render import RenderedEmail, css_inliner, environment, oneline

__all__ = ["HandoverView", "render_handover"]


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


def render_handover(view: HandoverView) -> RenderedEmail:
    env = environment()
    context = {"view": view}
    verb = "handed you" if view.from_name is not None else "gave you the new"
    return RenderedEmail(
        subject=f"{oneline(view.by_name)} {verb} {view.kind} {view.ref}: "
                f"{oneline(view.title)}"[:200],
        text=env.get_template("handover.txt.j2").render(context),
        html=css_inliner().inline(env.get_template("handover.html.j2").render(context)),
    )
