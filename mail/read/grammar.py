"""The reply grammar: the lines people write back, read into commands and per-line errors.

This is the contract people rely on (README, "How to reply"; docs/design.md places it
among the flows), so it is small, documented here, and tested row by row in
``tests/test_grammar.py``. Like Redmine's ``MailHandler``, each kind of line has one
matcher and the first match wins; inside a task line, clauses are read left to right and
what is left after the last clause is the note.

Every line is normalized first (NFKC, zero-width and direction marks removed,
whitespace collapsed), so ``T\u200b-12``, ``Ｔ－１２`` and ``T–12`` all name task 12.
Matching is case-insensitive; an optional bullet (``-``, ``*``, ``•``, ``1.``, ``1)``)
may come first. Task references: ``T-12``, ``T12``, ``#T-12``, ``[T-12]``, ``t-12``,
and ``T 12`` (as dictation writes it).

Task lines (the reference first, an optional colon after it)::

    T-12 60%            progress; "T-12: 60% drafted the intro" keeps a note;
                        "100%" means done; below 0 or above 100 is an error
    T-12 done           done (progress 100); also complete(d), finished, ✓ ✔ ☑,
                        erledigt, fait, hecho, feito, fatto, klaar, 完了, 完成
    T-12 blocked: why   blocked, the reason is the note (optional)
    T-12 started        in progress; also "in progress", "working on it"
    T-12 due Friday     new due date; also "due: 18 Dec", "moved to Tuesday",
                        "due 12/18" (US order; 18/12 when the day is over 12)
    T-12 dropped: why   dropped, the reason is the note (who may drop is not our concern)
    T-12 handed back    back to whoever created it for you from 1:1 notes; also "hand
                        back", "give back", "not mine" (a reason may follow)
    T-12 note: text     a note only
    T-12 done on 3 Dec  the day it was completed (and done, if it is not yet): a
                        correction of the record; also "completed on", "finished on",
                        "✓ on". The day is read as a meeting date (below) and may not
                        be after the message; text after it is the note. "done on time"
                        (no date follows) is plain done with a note. Who may set a
                        day in an earlier period is the applier's rule (workers/apply.py)

Clauses combine (``T-12 60% due Friday``); text after the last clause is the note.
``done`` also sets progress 100, so ``T-12 done`` and ``T-12 100%`` are one command.

Other lines::

    new: Call the vendor by Friday          new task (also "new task:"); "by"/"due" + date
    + Call the vendor due 2026-12-04 P-3 @bob   sets the due date, P-n the project,
                                            @name or @email the owner
    met: yes | met: 2026-11-26 30min | met: today 45 min | met: yes 1h
    met: no, moved to Thursday              not held, the rest is the reason
    skip: vacation | skipped: sick          excused
    topic: the hiring plan                  a talking point on the pair's next agendas
                                            (both sides'); also "talking point:"
    topic @ana: the hiring plan             a manager names the report (@name or
                                            @email, as for new tasks)
    topic done: the hiring plan             closes an open talking point: its words, in
                                            any case, in full or a unique prefix; also
                                            "topic closed:". A logged meeting of the
                                            pair closes the points raised before it
    away: 21 Dec - 4 Jan                    time away, both days included: the sender's
    away: until 4 Jan | away: 24 Dec        check-ins in it are excused, their agendas
                                            not sent, the other side told once

Plan lines (``mail.read.plan_lines``; who may use them is the applier's rule,
``workers/permissions.py``)::

    T-12 owner @bob                         hands the item over (also P-3, G-2); the
    P-3 owner: ana@example.com              new owner is @name or an email; also "new
    G-2 handed over to @ana                 owner", "assigned to"; one change a line
    T-12 title: Draft the pricing memo      a new title (also P-3, G-2; at most 500
                                            characters); also "renamed to:"
    P-3 due 2027-02-01                      a project's or goal's new due date (a
    G-2 due end of Q2                       task's is a task line, above); dates as
                                            for due dates, and quarters: "end of Q2",
                                            "Q2 2027", "FY2027-Q2", "end of this/next
                                            quarter", counted from the fiscal year's
                                            first month (a fiscal year is named by the
                                            calendar year it ends in); without a year,
                                            the next such quarter not yet over
    new project: Pricing page under G-2 @ana by 2027-03-31
                                            a new project under one goal (G-n required;
                                            "under", "in", "for" optional), owner and
                                            "by"/"due" date optional
    G-2 = 3.1M | G-2 3.1M | G-2: €3,1 Mio   a measurable goal's latest figure, read by
    G-2 is now 45%                          ``config.amounts`` (k, M, B; €, $, £, ¥, %;
                                            a comma before three digits groups, before
                                            fewer it is the decimal point); a figure
                                            for a project is an error

A project or goal reference is a command attempt only with its dash (``P-3``, ``[G-2]``,
``#G-2``); written without one (``P1 incident``), the line is prose unless one of the
plan clauses above follows.

``topic:`` text is at most 200 characters; an empty one is an error. Which pair a
talking point belongs to: for ``topic @ana:``, the sender and that direct report; else
the agenda replied to; else the sender and their own manager
(``workers/talking_points.py``). ``away:`` reads its days as due dates (the next such
day, today included), except that a first day read more than 300 days ahead whose last
occurrence was at most 31 days ago is that one (an absence under way), and the last
day is read from the first (the next such day on or after it, so ``Monday - Friday``
is one week); "until" starts today; a dash, "–", "to" or "until" separates the two
days (``21 Dec-4 Jan`` and ``21.12.-4.1.`` too). It is an error when the last day is
before the first or has passed, the first day is more than a year ahead, or the range
is longer than 90 days.

A line that starts with a task reference, a project or goal reference with its dash,
``new:``, ``new project:``, ``met:``, ``skip:``, ``due:``, ``topic`` … ``:`` or ``away:``
is a command attempt: it becomes a command or a
``LineError`` whose reason says what is wrong and shows the right form. Every other
line is prose and is ignored, even when it mentions a task in the middle.

Dates are read relative to the message date seen in the sender's time zone
(a message sent 2026-11-26 23:30 UTC from Tokyo is written on Friday 27th):

- ISO dates (``2026-12-18``) are exact; ``12/18`` is month/day, ``18/12`` day/month
  when the first number is over 12, ``18.12.`` day.month; without a year, a due date
  is the next such day (today included), a meeting date the last one.
- For due dates, a bare weekday (``Friday``, ``this Friday``, ``on Friday``) is the
  first such day *after* the message date: on Thursday 2026-11-26, ``Friday`` is the
  27th and ``Thursday`` is 2026-12-03. ``next Friday`` is the Friday of *next
  calendar week* (weeks start on Monday): 2026-12-04 when written on that Thursday.
  Plain "Friday" already says "the coming one", so "next" is read as adding a week,
  and the confirmation mail echoes the date so a surprise is caught at once.
- For meeting dates and completion days (``done on``) a bare weekday is the last
  such day, today included (``met: Thursday`` written on a Thursday is today);
  ``last Tuesday`` is the most recent Tuesday before today. Such a date after the
  message date is an error.
- Everything else (``tomorrow``, ``next week`` = seven days on, ``in 2 weeks``,
  ``18 Dec``, ``Freitag``, ``vendredi``) goes to ``dateparser`` in a few European
  languages, preferring the future for due dates and the past for meetings;
  a month alone (``due December``) means its last day.

A message whose whole new text is ``status``, ``status @name`` or ``help`` is a question,
not a command line; ``mail.read.requests`` reads it, and the answer is a page or this
grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from mail.read.commands import Command, LineError, MeetingReport, Parsed
from mail.read.dates import (
    FREE_FORM_DATES_PER_MESSAGE,
    DateBudget,
    DateContext,
    date_context,
    read_relative,
)
from mail.read.explanation import N_, Explanation
from mail.read.plan_lines import item_line, new_project_line, task_plan_line
from mail.read.task_lines import (
    DASH,
    REF,
    TASK_REF,
    WORD_END,
    new_task_line,
    task_line,
    without_separators,
)
from mail.read.topic_lines import away_line, topic_line
from mail.read.vocabulary import normalize_line

__all__ = ["parse_commands"]


# An optional bullet before a command: "-", "*", "•", "1.", "1)", or "+" before a task.
_BULLET = re.compile(rf"(?:[-*•·◦▪‣–—]\s*|\d{{1,3}}[.)]\s+|\+\s*(?={REF}))", re.I)


# --- meetings -----------------------------------------------------------------------------

_MET = re.compile(r"met\s*:\s*", re.I)
_SKIP = re.compile(r"(?:skip|skipped|skipping|excused)\s*:\s*", re.I)
_YES = re.compile(r"(?:yes|y|yep|yeah|ja|oui|si|sí|sì|sim|held|[✓✔])" + WORD_END, re.I)
_NO = re.compile(r"(?:no|n|nope|nein|non|nee|não|did\s*n[o']?t(?:\s+happen)?)" + WORD_END, re.I)
_HOURS = re.compile(
    r"(?<!\S)(\d{1,2}(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|std|stunden?)"
    r"(?:\s*(\d{1,2})\s*(?:m|min|mins|minutes?)|(\d{2}))?(?!\w)",
    re.I,
)
_MINUTES = re.compile(r"(?<!\S)(\d{1,4})\s*(?:m|min|mins|minutes?|minuten)(?!\w)", re.I)
_MET_FORMS = Explanation(N_(
    "Write met: yes, met: 2026-11-26 30min, met: no, moved to Thursday or skip: vacation"))


def _duration(body: str) -> tuple[int | None, str]:
    """Minutes from ``30min``, ``45 min``, ``1h``, ``1.5h``, ``1h30``, and the text without them."""
    if m := _HOURS.search(body):
        minutes = round(float(m[1].replace(",", ".")) * 60) + int(m[2] or m[3] or 0)
    elif m := _MINUTES.search(body):
        minutes = int(m[1])
    else:
        return None, body
    return minutes, body[: m.start()] + " " + body[m.end() :]


def _met_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not (m := _MET.match(text)):
        return None
    body = text[m.end() :]
    if no := _NO.match(body):
        reason = without_separators(body[no.end() :]).strip() or None
        return MeetingReport(held=False, reason=reason, line=raw)
    if yes := _YES.match(body):
        body = body[yes.end() :]
    elif not body.strip():
        return LineError(raw, Explanation(N_("Say whether you met. %(forms)s"), forms=_MET_FORMS))
    minutes, body = _duration(body)
    if minutes is not None and not 1 <= minutes <= 720:
        return LineError(
            raw, Explanation(N_(
                "A meeting lasts between 1 minute and 12 hours. Write e.g. met: yes 30min"))
        )
    body = without_separators(body).strip()
    on = read_relative(body, ctx, past=True) if body else None
    if body and on is None:
        return LineError(raw, Explanation(N_('I could not read "%(text)s". %(forms)s'),
                                          text=body[:40], forms=_MET_FORMS))
    if on is not None and on > ctx.today:
        return LineError(
            raw,
            Explanation(N_("%(day)s is after this message. Write the day you met, e.g. "
                           "met: yesterday"), day=on.isoformat()),
        )
    return MeetingReport(held=True, on=on, minutes=minutes, line=raw)


def _skip_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not (m := _SKIP.match(text)):
        return None
    reason = without_separators(text[m.end() :]).strip() or None
    return MeetingReport(held=None, excused=True, reason=reason, line=raw)


def _orphan_due_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    if not re.match(r"due\s*:", text, re.I):
        return None
    return LineError(raw, Explanation(N_("Say which task, e.g. T-12 due Friday")))


# --- lines --------------------------------------------------------------------------------

_LineMatcher = Callable[[str, str, DateContext], "Command | LineError | None"]
_STANDALONE: tuple[_LineMatcher, ...] = (task_plan_line, task_line, new_task_line,
                                          _met_line, _skip_line, topic_line, away_line,
                                          item_line, new_project_line)
_LINE_MATCHERS: tuple[_LineMatcher, ...] = (*_STANDALONE, _orphan_due_line)
_FALLBACK = Explanation(N_("I could not read this line. Write e.g. T-12 60% or met: yes"))


def _read_line(
    text: str, raw: str, ctx: DateContext, matchers: tuple[_LineMatcher, ...] = _LINE_MATCHERS
) -> Command | LineError | None:
    """The first matcher that recognises the line wins; None means prose."""
    text = _BULLET.sub("", text, count=1) if _BULLET.match(text) else text
    try:
        for matcher in matchers:
            outcome = matcher(text, raw, ctx)
            if outcome is not None:
                return outcome
    except Exception:  # a parser bug must cost one line, never the whole message
        return LineError(raw, _FALLBACK)
    return None


def _read_inline(ref: str, answer: str, ctx: DateContext) -> Command | LineError | None:
    """An answer under a quoted agenda line: a command of its own, or one about that task."""
    text = normalize_line(answer)
    if not text:
        return None
    task = TASK_REF.match(normalize_line(ref))
    if task is None or len(task[1]) > 9:
        return LineError(
            answer.strip(),
            Explanation(N_("I could not tell which task this answers. Write e.g. T-12 60%")),
        )
    composed = f"T-{int(task[1])} {text}"
    own = _read_line(text, answer.strip(), ctx, _STANDALONE)
    return own if own is not None else _read_line(composed, composed, ctx)


def parse_commands(
    text: str,
    *,
    message_date: datetime,
    timezone: str = "UTC",
    inline: Sequence[tuple[str, str]] = (),
    max_updates: int = 100,
    truncated: bool = False,
    date_budget: DateBudget | None = None,
    fiscal_year_start_month: int = 1,
) -> Parsed:
    """Read a reply's new text, then its inline answers, into commands and errors.

    ``text`` has quotes and signatures already removed; ``inline`` holds
    ``(task_ref, answer)`` pairs for answers written under a quoted agenda line
    (they must not also be in ``text``). Never raises: an unreadable line is a
    ``LineError``, prose is ignored. Commands keep the order written, so the
    same task twice is applied twice.

    At most ``max_updates`` command lines (understood or not) are read; the rest
    are one error, not read at all, so a message of 150,000 lines costs what 100
    do. ``truncated`` says the reply text was cut before it got here, and the
    errors say so too. ``date_budget`` is the message's, when other readers of the
    same message (meeting notes' action items) spend from it too.
    ``fiscal_year_start_month`` says which quarter "end of Q2" is.
    """
    ctx = date_context(message_date, timezone, date_budget, fiscal_year_start_month)
    outcomes: list[Command | LineError] = []
    pending = [(None, line) for line in text.splitlines()]
    pending += [(ref, answer) for ref, answer in inline]
    for index, (ref, line) in enumerate(pending):
        if len(outcomes) >= max_updates:
            if (unread := _not_read(pending[index:], max_updates)) is not None:
                outcomes.append(unread)
            break
        outcome = (_read_line(normalize_line(line), line.strip(), ctx) if ref is None
                   else _read_inline(ref, line, ctx))
        if outcome is not None:
            outcomes.append(outcome)
    if ctx.budget.refused:
        outcomes.append(LineError(
            "…", Explanation(N_("Some dates were not read: more than %(limit)s dates in "
                                "words in one message. Write dates as 2026-12-18 or Friday"),
                             limit=FREE_FORM_DATES_PER_MESSAGE)))
    if truncated:
        outcomes.append(LineError(
            "…", Explanation(N_("Not read: the message is too long, so only its beginning "
                                "was read. Send long updates in several messages"))))
    return Parsed(
        commands=tuple(o for o in outcomes if not isinstance(o, LineError)),
        errors=tuple(o for o in outcomes if isinstance(o, LineError)),
    )


# What a command line starts with, read cheaply (no normalisation): only for counting
# the lines past the cap, which are never read.
_COMMAND_START = re.compile(
    rf"\s*(?:[-*•·◦▪‣–—]\s*|\d{{1,3}}[.)]\s+)?(?:[#\[(]?\s*T[{DASH}\s]?\d|[#\[(]?\s*[PG][{DASH}]\d"
    r"|new\b|\+\s"
    r"|met\s*:|skip|excused|due\s*:|(?:topic|talking\s+point)[^:\n]{0,30}:"
    r"|(?:time\s+)?away\s*:)", re.I)


def _not_read(rest: Sequence[tuple[str | None, str]], max_updates: int) -> LineError | None:
    """One error for the command lines past the cap: they are counted, never read."""
    unread = [line.strip() for ref, line in rest
              if ref is not None or _COMMAND_START.match(line[:40])]
    if not unread:
        return None
    first = unread[0] if len(unread[0]) <= 80 else unread[0][:79] + "…"
    return LineError(
        first, Explanation(N_("not read: more than %(limit)s updates in one message "
                              "(%(more)s more). Send the rest in another message"),
                           limit=max_updates, more=len(unread)))
