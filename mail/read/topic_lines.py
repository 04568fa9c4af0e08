"""The reply grammar's lines about the 1:1 itself: talking points and time away.

``topic: …``, ``topic @ana: …``, ``topic done: …`` and ``away: …`` are read here, one
matcher each, with the same contract as every matcher of ``mail.read.grammar`` (whose
docstring is the normative table): None for prose, a command, or a ``LineError`` whose
reason shows the right form. Dates are read by the one date reader (``mail.read.dates``)
under the grammar's rules for due dates, since time away lies ahead; the last day is
read from the first ("Monday - Friday" is one working week).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from mail.read.commands import Away, Command, LineError, Topic, TopicDone
from mail.read.dates import DateContext, read_relative
from mail.read.explanation import N_, Explanation
from mail.read.task_lines import DASH

__all__ = ["MAX_AWAY_DAYS", "MAX_TOPIC_CHARS", "away_line", "topic_line",
           "without_invitation_topics"]

MAX_TOPIC_CHARS = 200
MAX_AWAY_DAYS = 90
_AWAY_AHEAD_DAYS = 366  # a start further ahead than this is a misreading or a typo
_STARTED_RECENTLY_DAYS = 31  # "away: 1 Dec - 4 Jan" on 6 Dec: the absence under way

# --- talking points ---------------------------------------------------------------------

_TOPIC = re.compile(
    r"(?:topic|talking\s+point)s?(?P<done>\s+(?:done|closed?))?"
    r"(?:\s+@(?P<who>[\w.+'-]+(?:@[\w.-]+)?))?(?P<done_after>\s+(?:done|closed?))?\s*:\s*",
    re.I)
_TOPIC_FORMS = Explanation(N_("Write e.g. topic: the hiring plan, or topic done: the hiring "
                              "plan"))


def topic_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    """``topic: the hiring plan`` · ``topic @ana: …`` (a manager names the report) ·
    ``topic done: the hiring plan`` (also "closed"; a unique prefix is enough)."""
    if not (m := _TOPIC.match(text)):
        return None
    words = text[m.end():].strip()
    if not words:
        return LineError(raw, Explanation(N_("Say what the topic is. %(forms)s"),
                                          forms=_TOPIC_FORMS))
    if len(words) > MAX_TOPIC_CHARS:
        return LineError(raw, Explanation(N_("A topic is at most %(limit)s characters; put the "
                                             "details in the 1:1. Write e.g. topic: the hiring "
                                             "plan"), limit=MAX_TOPIC_CHARS))
    report = m["who"].lower() if m["who"] else None
    if m["done"] or m["done_after"]:
        return TopicDone(words, report, raw)
    return Topic(words, report, raw)


# A video-call invitation pasted into notes says "Topic: Ann / Mika 1:1" with "Time: …"
# on the next line (Zoom's shape): the meeting's title, not a talking point.
_INVITATION_TOPIC = re.compile(r"^[ \t>]*topic\s*:.*\n(?=[ \t>]*time\s*:)", re.I | re.M)


def without_invitation_topics(text: str) -> str:
    """Meeting notes without an invitation's "Topic:" line (the one before "Time:")."""
    return _INVITATION_TOPIC.sub("\n", text)


# --- time away --------------------------------------------------------------------------

_AWAY = re.compile(r"(?:time\s+)?away\s*:\s*", re.I)
_UNTIL = re.compile(r"(?:until|till|til|to|through|bis|jusqu'au|hasta)\s+", re.I)
# Between the two days: a spaced dash, a long dash, "to"/"until", or a dash straight
# after a month name or a dotted date ("21 Dec-4 Jan", "21.12.-4.1."); never the
# hyphens inside an ISO date.
_BETWEEN = re.compile(
    rf"\s+[{DASH}]+\s+|\s*[\u2013\u2014]\s*|\s+(?:to|until|till|through|bis|au|al)\s+"
    rf"|(?<=[^\W\d]|\.)[{DASH}](?=\d)", re.I)
_AWAY_FORMS = Explanation(N_("Write e.g. away: 21 Dec - 4 Jan, or away: until 4 Jan"))


def _unread(text: str) -> Explanation:
    return Explanation(N_('I could not read "%(text)s". %(forms)s'), text=text, forms=_AWAY_FORMS)


def _start_day(text: str, ctx: DateContext) -> date | None:
    """The first day away: the next such day, or a recent one for an absence under way."""
    ahead = read_relative(text, ctx)
    if ahead is not None and (ahead - ctx.today).days <= 300:
        return ahead
    back = read_relative(text, ctx, past=True)
    if back is not None and (ctx.today - back).days <= _STARTED_RECENTLY_DAYS:
        return back
    return ahead


def away_line(text: str, raw: str, ctx: DateContext) -> Command | LineError | None:
    """``away: 21 Dec - 4 Jan`` · ``away: until 4 Jan`` · ``away: 24 Dec`` (one day)."""
    if not (m := _AWAY.match(text)):
        return None
    body = text[m.end():].strip().rstrip(".!")
    if not body:
        return LineError(raw, Explanation(N_("Say when you are away. %(forms)s"),
                                          forms=_AWAY_FORMS))
    if until := _UNTIL.match(body):
        first, last = None, body[until.end():]
    else:
        parts = _BETWEEN.split(body, maxsplit=1)
        first, last = (parts[0], parts[1]) if len(parts) == 2 else (body, body)
    start = ctx.today if first is None else _start_day(first, ctx)
    if start is None:
        return LineError(raw, _unread(first[:40] if first else ""))
    end = start if last is first else read_relative(last, replace(
        ctx, now=datetime.combine(start, ctx.now.time())))
    if end is None:
        return LineError(raw, _unread(last[:40]))
    return _away_refusal(start, end, ctx.today, raw) or Away(start, end, raw)


def _away_refusal(start: date, end: date, today: date, raw: str) -> LineError | None:
    """Why a read range is not time away (None: it is)."""
    if end < start:
        return LineError(raw, Explanation(N_("%(end)s is before %(start)s. Write the first day, "
                                             "then the last, e.g. away: 21 Dec - 4 Jan"),
                                          end=f"{end:%a %d %b %Y}", start=f"{start:%a %d %b %Y}"))
    if end < today:
        return LineError(raw, Explanation(N_("%(end)s has passed. For a past 1:1 write skip: "
                                             "vacation; for time ahead, e.g. away: 21 Dec - 4 Jan"),
                                          end=f"{end:%a %d %b %Y}"))
    if (start - today).days > _AWAY_AHEAD_DAYS:
        return LineError(raw, Explanation(N_("%(start)s is more than a year ahead. %(forms)s"),
                                          start=f"{start:%a %d %b %Y}", forms=_AWAY_FORMS))
    if (end - start) + timedelta(days=1) > timedelta(days=MAX_AWAY_DAYS):
        return LineError(raw, Explanation(N_("%(days)s days is longer than %(limit)s; send one "
                                             "away: line per stretch of up to %(limit)s days, "
                                             "e.g. away: 21 Dec - 4 Jan"),
                                          days=(end - start).days + 1, limit=MAX_AWAY_DAYS))
    return None
