"""Task lines of the reply grammar: "T-12 60% due Friday", "T-12 blocked: legal", "new: …".

The forms are documented in ``mail.read.grammar`` (the contract); here a line that
starts with a task reference is read clause by clause, and a ``new:`` line into a
task to create. Each returns a command, a ``LineError`` that says the right form,
or None when the line is not of its kind.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from mail.read.commands import (
    HANDED_BACK,
    Command,
    LineError,
    NewTask,
    TaskDoneOn,
    TaskUpdate,
)
from mail.read.dates import DateContext, read_relative
from mail.read.explanation import N_, Explanation

__all__ = [
    "DASH",
    "REF",
    "TASK_REF",
    "WORD_END",
    "new_task_line",
    "task_line",
    "without_separators",
]


# --- references -----------------------------------------------------------------------------

DASH = "-\u2010\u2011\u2012\u2013\u2014\u2212"
REF = rf"[#\[(]?\s*T(?:[{DASH}]| (?=\d))?(\d+)\s*[\])]?(?!\w)"  # "T 42": dictated
TASK_REF = re.compile(REF, re.I)
_SEPARATORS = re.compile(r"(?:[\s,;:.!?]|[-–—](?=\s|$))+")


def without_separators(text: str) -> str:
    """``text`` without the spaces, commas, colons and dashes it starts with."""
    m = _SEPARATORS.match(text)
    return text[m.end() :] if m else text


# --- dates --------------------------------------------------------------------------------


def _leading_date(text: str, ctx: DateContext, *, past: bool = False
                  ) -> tuple[date, str] | None:
    """The longest run of up to six words at the start of ``text`` that is a date, and the rest.

    ``due Friday waiting on Ann`` reads Friday and leaves the note; ``past`` reads
    dates as meetings are read (the last such day), else as due dates (the next).
    """
    chunk = re.match(r"[^,;()]*", text)
    tokens = re.finditer(r"\S+", chunk.group() if chunk else "")
    # A date stops at a comma or a percentage ("due Friday 60%"), and is at most six words.
    words = list(itertools.islice(itertools.takewhile(lambda w: "%" not in w[0], tokens), 6))
    for count in range(len(words), 0, -1):
        end = words[count - 1].end()
        if (found := read_relative(text[:end], ctx, past=past)) is not None:
            return found, text[end:]
    return None


# --- task lines ---------------------------------------------------------------------------


@dataclass
class _Draft:
    """A task update being read clause by clause."""

    percent: int | None = None
    status: str | None = None
    due: date | None = None
    note: str | None = None
    clauses: int = 0


@dataclass(frozen=True)
class _Problem:
    """A clause that was recognised but is wrong; the reason goes into the LineError."""

    reason: str


# A clause reads the start of the rest of the line into the draft and returns what is
# left; None means "not this clause", a _Problem stops the line.
_Clause = Callable[[str, _Draft, DateContext, str], "str | _Problem | None"]
WORD_END = r"(?!\w)"
_PERCENT = re.compile(
    r"(?:(?:at|now|now at|is at|to)\s+)?(\d+(?:[.,]\d+)?)\s*"
    r"(?:%|per\s?cent\b|pct\b|prozent\b|pour\s?cent\b|por\s?ciento\b|per\s?cento\b|procent\b)",
    re.I,
)
_NEGATIVE_PERCENT = re.compile(r"[:\s]*[-−]\s*\d+(?:[.,]\d+)?\s*%")
_DONE = re.compile(
    r"(?:done|complete|completed|finished|closed|[✓✔☑✅]|erledigt|fertig|fait|termin[ée]e?"
    r"|hecho|terminado|feito|conclu[íi]do|fatto|finito|klaar|afgerond|gedaan"
    r"|完了|済み|已完成|完成)" + WORD_END,
    re.I,
)
_STARTED = re.compile(
    r"(?:started|starting|begun|in[\s-]?progress|working\s+on\s+it|wip|under\s?way|ongoing"
    r"|on\s+it|in\s+arbeit|angefangen|begonnen|en\s+cours|commenc[ée]e?|en\s+curso|empezado"
    r"|em\s+andamento|come[çc]ado|in\s+corso|iniziato|bezig|gestart)" + WORD_END,
    re.I,
)
_BLOCKED = re.compile(
    r"(?:blocked|stuck|on\s+hold|blockiert|bloqu[ée]e?|bloqueado|bloccato|geblokkeerd)" + WORD_END,
    re.I,
)
_DROPPED = re.compile(
    r"(?:dropped|drop|cancell?ed|abandoned|won'?t\s+do|scrapped|verworfen|abgebrochen"
    r"|annul[ée]e?|abandonn[ée]e?|cancelado|descartado|annullato|geschrapt)" + WORD_END,
    re.I,
)
_HANDED_BACK = re.compile(r"(?:hand(?:ed|ing)?\s+back|give\s+back|gave\s+back|not\s+mine)"
                          + WORD_END, re.I)
_DUE = re.compile(
    r"(?:new\s+due\s+date|due\s+date|due(?!\s+to\b)|deadline|(?:moved|move|moving|postponed"
    r"|pushed|rescheduled|deferred|delayed|shifted)(?:\s+(?:back|out))?\s+to)(?!\w)"
    r"\s*:?\s*(?:(?:on|by|for)\s+)?",
    re.I,
)
_SOFT_DUE = re.compile(r"(?:by|until|before)\s+", re.I)  # only a due date if a date follows
_NOTE = re.compile(r"(?:note|notes|comment|update)(?:\s*:|\s+|$)", re.I)
_NUMBER_WORDS = frozenset(
    re.findall(
        r"\w+",
        """
    zero one two three four five six seven eight nine ten eleven twelve fifteen twenty
    thirty forty fifty sixty seventy eighty ninety hundred half quarter""",
    )
)


def _examples(ref: str) -> Explanation:
    return Explanation(N_("Write e.g. %(ref)s 60%%, %(ref)s done, %(ref)s blocked: waiting on "
                          "legal, %(ref)s due Friday or %(ref)s note: called the vendor"), ref=ref)


def _out_of_range(ref: str) -> _Problem:
    return _Problem(Explanation(N_(
        "Progress goes from 0 to 100%%. Write e.g. %(ref)s 60%%, or %(ref)s done when it is "
        "finished"), ref=ref))


def _percent_clause(rest: str, draft: _Draft, ctx: DateContext, ref: str) -> str | _Problem | None:
    if draft.percent is not None or draft.status not in (None, "in_progress"):
        return None
    if not (m := _PERCENT.match(rest)):
        return None
    number = m[1].replace(",", ".")
    if len(number.partition(".")[0]) > 3 or float(number) > 100:
        return _out_of_range(ref)
    draft.percent = int(float(number) + 0.5)  # half up: 62.5% is 63
    if draft.percent == 100:
        draft.status = "done"
    return rest[m.end() :]


def _status_clause(pattern: re.Pattern[str], status: str, *, with_reason: bool) -> _Clause:
    """A status word; blocked and dropped take the rest of the line as their reason."""

    def clause(rest: str, draft: _Draft, ctx: DateContext, ref: str) -> str | _Problem | None:
        m = pattern.match(rest)
        if m is None:
            return None
        if draft.status == status:  # "100% done", "done ✓": saying it twice is fine
            return rest[m.end() :]
        if draft.status is not None or (status != "blocked" and draft.percent is not None):
            return None  # "60% done with the intro" is progress and a note
        draft.status = status
        if status == "done":
            draft.percent = 100
        if not with_reason:
            return rest[m.end() :]
        draft.note = without_separators(rest[m.end() :]).strip() or None
        return ""

    return clause


def _due_clause(rest: str, draft: _Draft, ctx: DateContext, ref: str) -> str | _Problem | None:
    if draft.due is not None:
        return None
    soft = False
    if not (m := _DUE.match(rest)):
        if not (m := _SOFT_DUE.match(rest)):
            return None
        soft = True
    after = rest[m.end() :].strip()
    found = _leading_date(after, ctx) if after else None
    if found is not None:
        draft.due, remainder = found
        return remainder
    if soft:
        return None
    if not after:
        return _Problem(Explanation(N_("Say which date, e.g. %(ref)s due 2026-12-18 or %(ref)s "
                                       "due Friday"), ref=ref))
    shown = " ".join(after.split()[:4])
    return _Problem(Explanation(N_(
        'I could not read the date "%(text)s". Write e.g. %(ref)s due 2026-12-18 or %(ref)s due '
        "Friday"), text=shown, ref=ref))


def _note_clause(rest: str, draft: _Draft, ctx: DateContext, ref: str) -> str | _Problem | None:
    if not (m := _NOTE.match(rest)):
        return None
    note = rest[m.end() :].strip()
    if not note:
        return _Problem(Explanation(N_("The note is empty. Write e.g. %(ref)s note: called the "
                                       "vendor"), ref=ref))
    draft.note = note
    return ""


_CLAUSES: tuple[_Clause, ...] = (
    _percent_clause,
    _status_clause(_DONE, "done", with_reason=False),
    _status_clause(_STARTED, "in_progress", with_reason=False),
    _status_clause(_BLOCKED, "blocked", with_reason=True),
    _status_clause(_DROPPED, "dropped", with_reason=True),
    _status_clause(_HANDED_BACK, HANDED_BACK, with_reason=True),
    _due_clause,
    _note_clause,
)


def _unreadable(rest: str, ref: str) -> _Problem:
    """The most helpful reason for a first clause that no matcher recognised."""
    first = rest.split()[0].lower().rstrip(",.;:!")
    if first.replace(".", "").replace(",", "").isdigit() or first in _NUMBER_WORDS:
        return _Problem(Explanation(N_("I could not read the progress. Write a percentage, "
                                       "e.g. %(ref)s 60%%"), ref=ref))
    if TASK_REF.match(rest):
        return _Problem(Explanation(N_("Write one task per line, e.g. %(ref)s done"), ref=ref))
    return _Problem(Explanation(N_("I could not read what changed for %(ref)s. %(examples)s"),
                                ref=ref, examples=_examples(ref)))


def _read_clauses(rest: str, ref: str, ctx: DateContext) -> _Draft | _Problem:
    """Clauses left to right; unknown text after at least one clause is the note."""
    if _NEGATIVE_PERCENT.match(rest):
        return _out_of_range(ref)
    draft = _Draft()
    while rest := without_separators(rest).strip():
        for clause in _CLAUSES:
            outcome = clause(rest, draft, ctx, ref)
            if outcome is not None:
                break
        else:
            if draft.clauses == 0:
                return _unreadable(rest, ref)
            draft.note = rest
            break
        if isinstance(outcome, _Problem):
            return outcome
        draft.clauses += 1
        rest = outcome
    if draft.clauses == 0:
        return _Problem(Explanation(N_("Say what changed. %(examples)s"),
                                    examples=_examples(ref)))
    return draft


_DONE_ON = re.compile(_DONE.pattern + r"\s*on(?!\w)\s*:?\s*", re.I)


def _done_on_examples(ref: str) -> Explanation:
    return Explanation(N_("Write e.g. %(ref)s done on 2026-12-03, %(ref)s done on 3 Dec or "
                          "%(ref)s done on last Friday"), ref=ref)


def _done_on(rest: str, ref: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    """``done on DATE``: the day the task was completed, read as meeting dates are (the
    last such day, never after the message); text after the date is a note. None when
    no date and no digit follows: "done on time" stays done with a note."""
    if not (m := _DONE_ON.match(rest)):
        return None
    after = rest[m.end() :].strip()
    if not after:
        return LineError(raw, Explanation(N_("Say which day it was done. %(examples)s"),
                                          examples=_done_on_examples(ref)))
    found = _leading_date(after, ctx, past=True)
    if found is None:
        if not any(character.isdigit() for character in after):
            return None
        shown = " ".join(after.split()[:4])
        return LineError(raw, Explanation(N_('I could not read the date "%(text)s". %(examples)s'),
                                          text=shown, examples=_done_on_examples(ref)))
    day, remainder = found
    if day > ctx.today:
        return LineError(raw, Explanation(N_("%(day)s is after this message. Write the day it "
                                             "was done, e.g. %(ref)s done on yesterday"),
                                          day=day.isoformat(), ref=ref))
    return TaskDoneOn(ref, day, without_separators(remainder).strip() or None, raw)


def task_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not (m := TASK_REF.match(text)):
        return None
    if len(m[1]) > 9:
        return LineError(raw, Explanation(N_("That is not a task number. Task references look "
                                             "like T-12")))
    ref = f"T-{int(m[1])}"
    if (done_on := _done_on(without_separators(text[m.end() :]), ref, raw, ctx)) is not None:
        return done_on
    outcome = _read_clauses(text[m.end() :], ref, ctx)
    if isinstance(outcome, _Problem):
        return LineError(raw, outcome.reason)
    return TaskUpdate(
        task=ref,
        percent=outcome.percent,
        status=outcome.status,
        due=outcome.due,
        note=outcome.note,
        line=raw,
    )


# --- new tasks ----------------------------------------------------------------------------

_NEW = re.compile(r"(?:new(?:\s+task)?\s*:|\+\s)\s*", re.I)
_PROJECT = re.compile(rf"(?<![\w@])[#\[(]?P[{DASH}]?(\d{{1,9}})[\])]?(?!\w)", re.I)
_OWNER = re.compile(r"(?<!\S)@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
_NEW_DUE = re.compile(r"(?<!\S)(by|due|until|before)\s*:?\s+", re.I)
_NEW_EXAMPLE = "new: Draft memo P-7 @ann due Friday"


def _split_due(title: str, ctx: DateContext) -> tuple[str, date | None] | _Problem:
    """``… by Friday`` / ``… due 2026-12-04`` ending a title is its due date.

    "by" followed by something else stays in the title ("Review by Ann"); "due"
    followed by a number that is not a date is an error rather than a title.
    """
    for m in _NEW_DUE.finditer(title):
        found = read_relative(title[m.end() :], ctx)
        if found is not None:
            return title[: m.start()], found
        if m[1].lower() == "due" and any(ch.isdigit() for ch in title[m.end() :]):
            shown = title[m.end() :][:40]
            return _Problem(Explanation(N_(
                'I could not read the date "%(text)s". Write e.g. new: Call the vendor due '
                "2026-12-04"), text=shown))
    return title, None


def new_task_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not (m := _NEW.match(text)):
        return None
    body = text[m.end() :]
    projects = {f"P-{int(number)}" for number in _PROJECT.findall(body)}
    owners = {owner.rstrip(".").lower() for owner in _OWNER.findall(body)}
    if len(projects) > 1 or len(owners) > 1:
        one = (N_("Name one project per new task, e.g. %(example)s") if len(projects) > 1
               else N_("Name one owner per new task, e.g. %(example)s"))
        return LineError(raw, Explanation(one, example=_NEW_EXAMPLE))
    body = " ".join(_OWNER.sub(" ", _PROJECT.sub(" ", body)).split())
    split = _split_due(body, ctx)
    if isinstance(split, _Problem):
        return LineError(raw, split.reason)
    title = split[0].rstrip(" ,;:.-–—")
    if not title:
        return LineError(raw, Explanation(N_("A new task needs a title, e.g. %(example)s"),
                                          example=_NEW_EXAMPLE))
    return NewTask(
        title=title,
        due=split[1],
        project=next(iter(projects), None),
        owner=next(iter(owners), None),
        line=raw,
    )
