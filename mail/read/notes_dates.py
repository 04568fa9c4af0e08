"""The due dates of action items in meeting notes (the rules are in ``mail.read.notes``).

Dates are relative to the meeting and never before it; the notes' own phrases ("end of
month", "12/4" read both ways) come first, the rest goes to ``mail.read.dates``
within the message's budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from mail.read.dates import DateBudget, read_date
from mail.read.explanation import N_, Explanation

__all__ = ["Due", "DueDates", "due_dates", "find_due"]

# --- dates --------------------------------------------------------------------------------

_WEEKDAY_EN = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?"
_WEEKDAY_OTHER = (
    r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo)"
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
    r"|january|february|march|april|june|july|august|september|october|november|december"
    r"|januar|j[äa]nner|februar|m[äa]rz|mai|juni|juli|oktober|dezember"
    r"|janvier|f[ée]vrier|mars|avril|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)
_COUNT = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th|\.)?"
# What a date must look like to be read as one: after a "by"/"due" word (_DUE_SHAPE), or
# alone at the end of a line or in brackets (_DATE_SHAPE: no "Q1" or month alone there,
# "Plan for Q1" and "Review the March numbers" are titles).
_SHAPES = rf"""(?:(?:on|am|le|el|the)\s+)?(?:
        today|tonight|tomorrow|tmrw|yesterday|eod|cob|eow|eom|eoq|eoy|heute|morgen|demain|mañana
      | (?:this|next|the\s+coming|coming)\s+(?:week|month|quarter)
      | (?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?(?:day|week|month|quarter|year)
      | (?:the\s+)?end\s+of\s+q[1-4]
      | (?:week|month|quarter|year)[\s-]?end
      | (?:in|within)\s+{_COUNT}\s+(?:days?|weeks?|months?)
      | manana|gestern|hier|ayer
      | (?:(?:this|next|coming|last)\s+)?{_WEEKDAY_EN}(?:\s+(?:this|next)\s+week)?
      | (?:(?:n[äa]chsten|kommenden|diesen|prochain|este|el\s+pr[óo]ximo)\s+)?{_WEEKDAY_OTHER}
        (?:\s+prochain)?
      | n[äa]chste\s+woche|ende\s+(?:der|dieser)\s+woche|ende\s+des\s+monats|monatsende
      | (?:la\s+)?semaine\s+prochaine|fin\s+(?:de\s+la\s+semaine|du\s+mois)
      | (?:la\s+)?(?:pr[óo]xima\s+semana|semana\s+que\s+viene)|fin\s+de\s+(?:mes|semana)
      | (?:{_WEEKDAY_EN},?\s+)?(?:{_MONTH})\s+{_ORDINAL}(?:,?\s+\d{{4}})?
      | (?:{_WEEKDAY_EN},?\s+)?{_ORDINAL}\s+(?:of\s+)?(?:{_MONTH})(?:,?\s+\d{{4}})?
      | (?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)
      | \d{{4}}-\d{{1,2}}-\d{{1,2}}
      | \d{{1,2}}/\d{{1,2}}(?:/\d{{2}}|/\d{{4}})?
      | \d{{1,2}}\.\d{{1,2}}\.(?:\d{{2}}|\d{{4}})?
    )"""
_DATE_SHAPE = re.compile(_SHAPES, re.I | re.X)
_DUE_SHAPE = re.compile(
    rf"""{_SHAPES}
    | (?:(?:the\s+)?end\s+of\s+)?q[1-4](?:\s+\d{{4}})?
    | \d{{1,2}}\.\d{{1,2}}(?:\.\d{{2}}|\.\d{{4}})?
    | (?:(?:the\s+)?end\s+of\s+)?(?:{_MONTH})(?:\s+\d{{4}})?""",
    re.I | re.X,
)
# Words that make what follows a due date, wherever they are in the line.
_DUE_WORD = re.compile(
    r"(?<![\w@])(?:(due|deadline|f[äa]llig)(?:\s+(?:date|on|by|am))?(?!\s+to\b)"
    r"|by|until|till|before|no\s+later\s+than|nlt"
    r"|bis(?:\s+(?:zum|zur|sp[äa]testens))?|sp[äa]testens(?:\s+(?:am|bis))?"
    r"|avant(?:\s+(?:le|la))?|d['’]ici(?:\s+(?:le|la|à|a))?|pour\s+(?:le|la)"
    r"|para\s+(?:el|la)|antes\s+del?|hasta\s+el)(?!\w)\s*:?\s*",
    re.I,
)
_RELATIVE = {
    **dict.fromkeys(("today", "tonight", "eod", "cob", "heute", "end of day", "end of the day"), 0),
    **dict.fromkeys(("tomorrow", "tmrw", "morgen", "demain", "mañana", "manana"), 1),
    **dict.fromkeys(("yesterday", "gestern", "hier", "ayer"), -1),  # then "before the meeting"
}
_NEXT_WEEK = re.compile(
    r"(?:(?:the\s+)?coming\s+week|(?:the\s+)?end\s+of\s+(?:the\s+)?next\s+week|next\s+week"
    r"|n[äa]chste\s+woche|(?:la\s+)?semaine\s+prochaine|(?:la\s+)?pr[óo]xima\s+semana"
    r"|(?:la\s+)?semana\s+que\s+viene)",
    re.I,
)
_THIS_WEEK = re.compile(
    r"(?:this\s+week|eow|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+)?week|week[\s-]?end"
    r"|ende\s+(?:der|dieser)\s+woche|fin\s+de\s+(?:la\s+)?semaine|fin\s+de\s+semana)",
    re.I,
)
_THIS_MONTH = re.compile(
    r"(?:this\s+month|eom|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+)?month|month[\s-]?end"
    r"|ende\s+des\s+monats|monatsende|fin\s+du\s+mois|fin\s+de\s+mes)",
    re.I,
)
_NEXT_MONTH = re.compile(r"(?:(?:the\s+)?end\s+of\s+(?:the\s+)?)?(?:next|coming)\s+month", re.I)
_QUARTER = re.compile(
    r"(?:eoq|(?:the\s+)?end\s+of\s+(?:the\s+)?(this\s+|next\s+)?quarter|quarter[\s-]?end"
    r"|(next|coming|this)\s+quarter|(?:(?:the\s+)?end\s+of\s+)?q([1-4])(?:\s+(\d{4}))?)",
    re.I,
)
_YEAR_END = re.compile(
    r"(?:eoy|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|(next)\s+)?year|year[\s-]?end)", re.I
)
_IN_COUNT = re.compile(rf"(?:in|within)\s+({_COUNT})\s+(day|week|month)s?", re.I)
_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_WEEKDAY_WEEK = re.compile(rf"({_WEEKDAY_EN})\s+(this|next)\s+week", re.I)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_OF_MONTH = re.compile(r"(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)", re.I)
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_NEAR_DAYS = 45  # a slashed date's reading this near the meeting wins over one …
_FAR_DAYS = 90  # … this far or further; two readings closer together are asked about


@dataclass
class DueDates:
    """What dates are relative to, and the per-message cost budget of free-form reading."""

    meeting: date
    moment: datetime  # noon of the meeting day, aware, in the meeting's zone
    timezone: str
    budget: DateBudget = field(default_factory=DateBudget)  # more is abuse, not notes
    memo: dict[str, date | _Problem | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Problem:
    reason: str


def due_dates(meeting_date: date, timezone: str, budget: DateBudget | None = None) -> DueDates:
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError, TypeError):  # unknown zone: the date as given
        zone, timezone = ZoneInfo("UTC"), "UTC"
    moment = datetime.combine(meeting_date, time(12), tzinfo=zone)
    return DueDates(meeting=meeting_date, moment=moment, timezone=timezone,
                  budget=budget if budget is not None else DateBudget())


def _end_of_month(year: int, month: int) -> date:
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, 1) - timedelta(days=1)


def _month_after(day: date, months: int) -> tuple[int, int]:
    """The (year, month) ``months`` after ``day``'s month."""
    month0 = day.month - 1 + months
    return day.year + month0 // 12, month0 % 12 + 1


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day ("in a month" from 31 Jan)."""
    year, month = _month_after(day, months)
    return date(year, month, min(day.day, _end_of_month(year, month).day))


def _friday_on_or_after(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _quarter_end(m: re.Match[str], meeting: date) -> date:
    if m[3]:  # Q1 .. Q4, the next one to come (or of the year written)
        quarter = int(m[3])
        year = int(m[4]) if m[4] else meeting.year
        end = _end_of_month(year, quarter * 3)
        if not m[4] and end < meeting:
            end = _end_of_month(year + 1, quarter * 3)
        return end
    this_end = _end_of_month(meeting.year, (meeting.month - 1) // 3 * 3 + 3)
    if (m[1] or "").strip().lower() == "next" or (m[2] or "").lower() in ("next", "coming"):
        return _end_of_month(*_month_after(this_end, 3))
    return this_end


def _special_date(phrase: str, meeting: date) -> date | None:
    """The relative phrases this module reads itself (module docstring); None: not one."""
    if phrase in _RELATIVE:
        return meeting + timedelta(days=_RELATIVE[phrase])
    if _NEXT_WEEK.fullmatch(phrase):
        return _monday(meeting) + timedelta(days=7 + 4)
    if _THIS_WEEK.fullmatch(phrase):
        return _friday_on_or_after(meeting)
    if _THIS_MONTH.fullmatch(phrase):
        return _end_of_month(meeting.year, meeting.month)
    if _NEXT_MONTH.fullmatch(phrase):
        return _end_of_month(*_month_after(meeting, 1))
    if m := _QUARTER.fullmatch(phrase):
        return _quarter_end(m, meeting)
    if m := _YEAR_END.fullmatch(phrase):
        return date(meeting.year + (1 if m[1] else 0), 12, 31)
    if m := _IN_COUNT.fullmatch(phrase):
        count = _COUNT_WORDS.get(m[1].lower()) or int(m[1])
        unit = m[2].lower()
        if unit == "month":
            return _add_months(meeting, count)
        return meeting + timedelta(days=count * (7 if unit == "week" else 1))
    if m := _WEEKDAY_WEEK.fullmatch(phrase):
        target = _WEEKDAYS.index(m[1][:3].lower())
        return _monday(meeting) + timedelta(days=(7 if m[2].lower() == "next" else 0) + target)
    if m := _DAY_OF_MONTH.fullmatch(phrase):
        return _next_day_month(int(m[1]), None, meeting)
    return None


def _next_day_month(day: int, month: int | None, meeting: date) -> date | None:
    """The first such day on or after the meeting (a day alone: in this month or the next)."""
    if month is None:
        months = [_month_after(meeting, k) for k in range(3)]
    else:
        months = [(meeting.year + k, month) for k in range(9)]  # nine years hold a 29 February
    for year, mon in months:
        try:
            candidate = date(year, mon, day)
        except ValueError:
            continue
        if candidate >= meeting:
            return candidate
    return None


def _slashed(m: re.Match[str], meeting: date) -> date | _Problem | None:
    """``12/4`` read both ways; a near reading wins over a far one (module docstring)."""
    first, second, year = int(m[1]), int(m[2]), m[3]

    def reading(month: int, day: int) -> date | None:
        if not year:
            return _next_day_month(day, month, meeting)
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        except ValueError:
            return None

    us, eu = reading(first, second), reading(second, first)
    future = sorted({r for r in (us, eu) if r is not None and r >= meeting})
    if len(future) < 2:
        return future[0] if future else us or eu  # a past date is then reported as such
    near, far = future
    if (near - meeting).days <= _NEAR_DAYS and (far - meeting).days >= _FAR_DAYS:
        return near
    assert us is not None and eu is not None
    return _Problem(Explanation(N_(
        '"%(text)s" could be %(one)s or %(other)s. Write the date as %(iso)s or %(short)s'),
        text=m.group(), one=f"{us.day} {us:%B %Y}", other=f"{eu.day} {eu:%B %Y}",
        iso=us.isoformat(), short=f"{us.day} {us:%b}"))


_FAST = re.compile(
    rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}\.\d{{1,2}}\.?(?:\d{{2}}|\d{{4}})?"
    rf"|(?:(?:this|coming|next|last|on|by)\s+)?{_WEEKDAY_EN})",
    re.I,
)


@lru_cache(maxsize=4096)
def _read_phrase(
    phrase: str, meeting: date, moment: datetime, timezone: str
) -> date | _Problem | None:
    """A date phrase (already lower-cased, articles kept) on its own, or None."""
    phrase = re.sub(r"^(?:on|am|le|el)\s+", "", phrase.strip().rstrip(".!?,;:").strip())
    if (special := _special_date(phrase, meeting)) is not None:
        return special
    if m := _SLASHED.fullmatch(phrase):
        return _slashed(m, meeting)
    return read_date(phrase, moment, timezone)


def _read_due(phrase: str, dates: DueDates) -> date | _Problem | None:
    """A date phrase read and checked: on or after the meeting, within the message's budget."""
    key = " ".join(phrase.lower().split())
    if key not in dates.memo:
        if not _FAST.fullmatch(key) and not dates.budget.spend():
            return _Problem(_unreadable(phrase))  # thousands of dates: not notes, so no guessing
        dates.memo[key] = _read_phrase(key, dates.meeting, dates.moment, dates.timezone)
    found = dates.memo[key]
    if isinstance(found, date) and found < dates.meeting:
        shown = f'"{phrase}"' if phrase == found.isoformat() else f'"{phrase}" ({found})'
        return _Problem(Explanation(N_(
            "%(shown)s is before the meeting on %(meeting)s. Write a due date on or after the "
            "meeting, e.g. by %(example)s"), shown=shown, meeting=dates.meeting.isoformat(),
            example=(dates.meeting + timedelta(days=7)).isoformat()))
    return found


@dataclass(frozen=True)
class Due:
    due: date | None
    text: str | None
    rest: str
    problem: str | None = None


_STOP_AT = re.compile(r"[,;()\[\]]|\s[—–-]\s|\s+(?:and|so|to|then|for|because|und|et|y)\s", re.I)


def _date_words(text: str, limit: int = 6) -> list[re.Match[str]]:
    """The words a date may be made of at the start of ``text``: up to a comma or bracket."""
    stop = _STOP_AT.search(text)
    chunk = text[: stop.start()] if stop else text
    return list(re.finditer(r"\S+", chunk))[:limit]


def _unreadable(phrase: str) -> Explanation:
    return Explanation(N_('I could not read the date "%(text)s". Write e.g. by Friday, by '
                          "2026-12-04, next week or end of month"), text=phrase)


_EVERY = re.compile(
    r"(?<!\w)(?:every|each|jede[nrm]?|chaque|tous\s+les|cada|todos\s+los)\s*$", re.I
)
_DANGLING = re.compile(r"\s+(?:for|on|at|am|le|el|bis|avant|para)\s*$", re.I)


def find_due(body: str, dates: DueDates) -> Due:
    """The due date of an item body, and the body without it (module docstring)."""
    # 1. After a due word, anywhere: "by Friday", "(due 2026-12-04)", "bis Freitag".
    for m in _DUE_WORD.finditer(body):
        after = body[m.end() :]
        words = _date_words(after)
        for count in range(len(words), 0, -1):
            phrase = after[: words[count - 1].end()]
            phrase = phrase.rstrip("!?")
            if not _DUE_SHAPE.fullmatch(phrase):
                phrase = phrase.rstrip(".")
                if not _DUE_SHAPE.fullmatch(phrase):
                    continue
            found = _read_due(phrase, dates)
            if found is None:
                continue
            text = body[m.start() : m.end() + len(phrase)].strip()
            rest = body[: m.start()] + " " + body[m.end() + len(phrase) :]
            if isinstance(found, _Problem):
                return Due(None, text, rest, found.reason)
            return Due(found, text, rest)
        shown = " ".join(w.group() for w in words[:4]).rstrip(".!?")
        if m[1] and any(ch.isdigit() for ch in shown):  # "due 2026-13-45": not a date
            end = m.end() + words[min(len(words), 4) - 1].end()
            rest = body[: m.start()] + " " + body[end:]
            return Due(None, m.group().strip() + " " + shown, rest, _unreadable(shown))
    # 2. A bracketed date: "(Friday)", "[Dec 12]".
    for m in re.finditer(r"[(\[]\s*([^()\[\]]{1,40}?)\s*[)\]]", body):
        if _DATE_SHAPE.fullmatch(m[1]) and (found := _read_due(m[1], dates)) is not None:
            rest = body[: m.start()] + " " + body[m.end() :]
            if isinstance(found, _Problem):
                return Due(None, m[1], rest, found.reason)
            return Due(found, m[1], rest)
    # 3. A date at the end of the line: "call the vendor next week", "chase legal — Dec 12".
    trimmed = body.rstrip(" !;,")  # a final "." may be the date's ("by 18.12.")
    words = list(re.finditer(r"\S+", trimmed))
    for count in range(min(len(words) - 1, 6), 0, -1):  # a line that is only a date: no item
        start = words[-count].start()
        phrase = trimmed[start:]
        if not _DATE_SHAPE.fullmatch(phrase):
            phrase = phrase.rstrip(".")
            if not _DATE_SHAPE.fullmatch(phrase):
                continue
        if _EVERY.search(trimmed[:start]):
            break  # "every Friday" repeats; it is no due date
        found = _read_due(phrase, dates)
        if found is None:
            continue
        rest = _DANGLING.sub("", trimmed[:start])
        if isinstance(found, _Problem):
            return Due(None, phrase, rest, found.reason)
        return Due(found, phrase, rest)
    return Due(None, None, body)


