"""Plan lines of the reply grammar: hand-overs, titles, due dates, new projects and goal figures.

``T-12 owner @bob`` · ``P-3 owner @ana`` · ``G-2 owner ana@example.com`` hand an item over;
``T-12 title: …`` renames; ``P-3 due 2027-02-01`` and ``G-2 due end of Q2`` move a
project's or goal's date (a task's stays ``T-12 due …``, read by ``mail.read.task_lines``);
``new project: Pricing page under G-2 @ana by 2027-03-31`` creates a project;
``G-2 = 3.1M`` or ``G-2 3.1M`` gives a measurable goal its latest figure (read by
``config.amounts``, as the plan file's ``start:`` and ``target:`` are).

The forms are documented in ``mail.read.grammar`` (the contract). Each matcher returns a
command, a ``LineError`` that says the right form, or None when the line is not of its
kind. A ``P-``/``G-`` reference written without its dash (``P1 incident``) is only a
command when a plan clause follows; otherwise the line is prose, as before.
"""

from __future__ import annotations

import re
from datetime import date

from config.amounts import read_amount
from mail.read.commands import (
    Command,
    GoalValue,
    ItemDue,
    ItemOwner,
    ItemTitle,
    LineError,
    NewProject,
)
from mail.read.dates import DateContext, read_relative
from mail.read.explanation import N_, Explanation
from mail.read.task_lines import DASH, TASK_REF, without_separators

__all__ = ["MAX_TITLE_CHARS", "item_line", "new_project_line", "task_plan_line"]

MAX_TITLE_CHARS = 500  # the plan's title column

ITEM_REF = re.compile(rf"[#\[(]?\s*([PG])(?P<dash>[{DASH}])?(\d{{1,9}})\s*[\])]?(?!\w)", re.I)
_PERSON = r"@?([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)|@([\w.+'-]+)"
_OWNER = re.compile(
    rf"(?:(?:new\s+)?owner(?!\w)\s*(?:is\s+|:\s*|to\s+|→\s*)?|hand(?:ed|ing)?\s+over\s+to\s+"
    rf"|handover\s+to\s+|(?:re)?assign(?:ed)?\s+to\s+)(?:{_PERSON})?", re.I)
_TITLE = re.compile(r"(?:title|rename(?:d)?(?:\s+to)?|new\s+title)\s*:\s*", re.I)
_DUE = re.compile(r"(?:new\s+due\s+date|due\s+date|due|deadline|moved\s+to|(?:re)?scheduled"
                  r"\s+(?:for|to))\s*:?\s*(?:(?:on|by|for)\s+)?(?!\w*\s*:)", re.I)
_VALUE = re.compile(r"(?:=|:|is\s+(?:now\s+)?(?:at\s+)?|now\s+(?:at\s+)?|at\s+)?\s*", re.I)


def _owner(match: re.Match[str], ref: str, raw: str) -> ItemOwner | LineError:
    who = match[1] or match[2]
    if not who:
        return LineError(raw, Explanation(N_("Name the new owner with @name or their email, "
                                             "e.g. %(ref)s owner @bob"), ref=ref))
    return ItemOwner(ref, who.rstrip(".").lower(), raw)


def _title(rest: str, ref: str, raw: str) -> ItemTitle | LineError:
    title = rest.strip()
    if not title:
        return LineError(raw, Explanation(N_("Write the new title after the colon, e.g. "
                                             "%(ref)s title: Draft the pricing memo"), ref=ref))
    if len(title) > MAX_TITLE_CHARS:
        return LineError(raw, _TOO_LONG_TITLE)
    return ItemTitle(ref, title, raw)


def _change(rest: str, ref: str, raw: str) -> Command | LineError | None:
    """An owner or title clause right after the reference; None when neither."""
    if (m := _OWNER.match(rest)) is not None:
        if (m[1] or m[2]) and without_separators(rest[m.end():]).strip():
            return LineError(raw, Explanation(N_("Write one change per line, e.g. %(ref)s owner "
                                                 "@bob"), ref=ref))
        return _owner(m, ref, raw)
    if (m := _TITLE.match(rest)) is not None:
        return _title(rest[m.end():], ref, raw)
    return None


def task_plan_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    """``T-12 owner @bob`` and ``T-12 title: …``; every other task line is
    ``mail.read.task_lines.task_line``'s."""
    if not (m := TASK_REF.match(text)) or len(m[1]) > 9:
        return None
    return _change(without_separators(text[m.end():]), f"T-{int(m[1])}", raw)


_TOO_LONG_TITLE = Explanation(N_("A title is at most %(limit)s characters"), limit=MAX_TITLE_CHARS)


def _examples(ref: str) -> Explanation:
    if ref.startswith("G"):
        return Explanation(N_("Write e.g. %(ref)s owner @ana, %(ref)s title: New title, %(ref)s "
                              "due 2027-03-31, %(ref)s = 3.1M"), ref=ref)
    return Explanation(N_("Write e.g. %(ref)s owner @ana, %(ref)s title: New title, %(ref)s due "
                          "2027-03-31"), ref=ref)


def item_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    """``P-3 …`` and ``G-2 …``: a hand-over, a title, a due date, or a goal's figure."""
    if not (m := ITEM_REF.match(text)):
        return None
    ref = f"{m[1].upper()}-{int(m[3])}"
    rest = without_separators(text[m.end():]) if not text[m.end():].lstrip().startswith(
        "=") else text[m.end():].strip()
    changed = _change(rest, ref, raw)
    if changed is not None:
        return changed
    if (due := _DUE.match(rest)) is not None:
        return _due(rest[due.end():].strip().rstrip("."), ref, raw, ctx)
    value = _VALUE.match(rest)
    amount = read_amount(rest[value.end():].strip().rstrip(".")) if value else None
    if amount is not None:
        if ref.startswith("P"):
            return LineError(raw, Explanation(N_(
                "A project's progress comes from its tasks: update them, e.g. T-12 60%%. "
                "%(examples)s"), examples=_examples(ref)))
        return GoalValue(ref, amount.value, amount.unit, raw)
    if not m["dash"]:
        return None  # "P1 incident in production": prose, not a reference
    if not rest.strip():
        return LineError(raw, Explanation(N_("Say what changed. %(examples)s"),
                                          examples=_examples(ref)))
    return LineError(raw, Explanation(N_("I could not read what changed for %(ref)s. %(examples)s"),
                                      ref=ref, examples=_examples(ref)))


def _due(rest: str, ref: str, raw: str, ctx: DateContext) -> ItemDue | LineError:
    if not rest:
        return LineError(raw, Explanation(N_("Say which date, e.g. %(ref)s due 2027-03-31 or "
                                             "%(ref)s due end of Q2"), ref=ref))
    found = read_relative(rest, ctx)
    if found is None:
        shown = " ".join(rest.split()[:4])
        return LineError(raw, Explanation(N_('I could not read the date "%(text)s". Write e.g. '
                                             "%(ref)s due 2027-03-31 or %(ref)s due end of Q2"),
                                          text=shown, ref=ref))
    return ItemDue(ref, found, raw)


# --- new projects ---------------------------------------------------------------------------

_NEW_PROJECT = re.compile(r"new\s+project\s*:\s*", re.I)
_GOAL = re.compile(rf"(?:(?<!\S)(?:under|in|for|to)\s+)?(?<![\w@])[#\[(]?G[{DASH}]?(\d{{1,9}})"
                   r"[\])]?(?!\w)", re.I)
_PROJECT_OWNER = re.compile(r"(?<!\S)@([\w.+'-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
_PROJECT_DUE = re.compile(r"(?<!\S)(?:by|due|until|before)\s*:?\s+", re.I)
_NEW_PROJECT_EXAMPLE = "new project: Pricing page under G-2 @ana by 2027-03-31"


def _split_due(body: str, ctx: DateContext) -> tuple[str, date] | None:
    """``… by 2027-03-31`` ending the body is the due date; "by" followed by something
    else stays in the title. None: no due date."""
    for m in _PROJECT_DUE.finditer(body):
        found = read_relative(body[m.end():].strip().rstrip("."), ctx)
        if found is not None:
            return body[:m.start()], found
    return None


def new_project_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not (m := _NEW_PROJECT.match(text)):
        return None
    body = text[m.end():]
    goals = {f"G-{int(number)}" for number in _GOAL.findall(body)}
    owners = {owner.rstrip(".").lower() for owner in _PROJECT_OWNER.findall(body)}
    if len(goals) != 1:
        what = (N_("Name its goal, e.g. %(example)s") if not goals
                else N_("Name one goal, e.g. %(example)s"))
        return LineError(raw, Explanation(what, example=_NEW_PROJECT_EXAMPLE))
    if len(owners) > 1:
        return LineError(raw, Explanation(N_("Name one owner, e.g. %(example)s"),
                                          example=_NEW_PROJECT_EXAMPLE))
    body = " ".join(_PROJECT_OWNER.sub(" ", _GOAL.sub(" ", body)).split())
    split = _split_due(body, ctx)
    title, due = (body, None) if split is None else split
    title = title.strip(" ,;:.-–—")
    if not title:
        return LineError(raw, Explanation(N_("A new project needs a title, e.g. %(example)s"),
                                          example=_NEW_PROJECT_EXAMPLE))
    if len(title) > MAX_TITLE_CHARS:
        return LineError(raw, _TOO_LONG_TITLE)
    return NewProject(title, goals.pop(), next(iter(owners), None), due, raw)
