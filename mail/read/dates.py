"""Dates as people write them in mail, read by one reader with one budget for ``dateparser``.

Two kinds of date are read:

- dates written relative to a message, in a reply's commands and in meeting notes'
  action items (``read_date``, ``read_relative``): "Friday", "18.12.", "next week";
  the rules are the reply grammar's (``mail.read.grammar``'s docstring; quarters,
  "end of Q2", count from the fiscal year's first month), and the
  notes reader adds its own ("end of month", "12/4" read both ways) in front of them;
- the date a mail client wrote in a forwarded header block (``read_header_date``):
  "Mon, 23 Nov 2026 10:15 +0100", "Montag, 23. November 2026 10:15", "2026年11月23日".

Whatever our own rules do not cover goes to ``dateparser``, through ``_dateparser``
only. It takes milliseconds a phrase and a line may offer several, so every reader
of one message spends from that message's ``DateBudget``: a message full of
date-like words costs a bounded time, and a date past the budget is simply not read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "FREE_FORM_DATES_PER_MESSAGE",
    "DateBudget",
    "DateContext",
    "date_context",
    "read_date",
    "read_header_date",
    "read_relative",
]

FREE_FORM_DATES_PER_MESSAGE = 300


@dataclass
class DateBudget:
    """How many free-form dates one message may still have read.

    ``dateparser`` takes milliseconds a phrase and a line may offer several, so
    without a budget one message full of date-like words costs minutes. Shared by
    replies and meeting notes; a date past the budget is simply not read.
    """

    left: int = FREE_FORM_DATES_PER_MESSAGE
    refused: int = 0  # phrases not read because the budget was spent

    def spend(self) -> bool:
        """Take one reading from the budget; False (and counted) when none is left."""
        if self.left <= 0:
            self.refused += 1
            return False
        self.left -= 1
        return True


def _dateparser(
    text: str, languages: Sequence[str], settings: dict[str, Any], budget: DateBudget | None
) -> datetime | None:
    """``dateparser``'s reading of ``text``, or None: the one place it is called.

    One reading is spent from ``budget`` when given (None: the caller bounds the work
    itself); a spent budget or any dateparser failure means "not a date".
    """
    if budget is not None and not budget.spend():
        return None
    import dateparser  # slow to import: only when a date needs it

    try:
        return dateparser.parse(text, languages=list(languages), settings=settings)
    except Exception:  # dateparser is a heuristic; any failure just means "not a date"
        return None


# --- dates relative to a message ------------------------------------------------------------


@dataclass(frozen=True)
class DateContext:
    """The message's local wall-clock time: what "today" and "Friday" are relative to."""

    now: datetime  # naive, in the sender's time zone
    budget: DateBudget = field(default_factory=DateBudget)
    fiscal_year_start_month: int = 1  # what "Q2" means (DRUMBEAT_FISCAL_YEAR_START_MONTH)

    @property
    def today(self) -> date:
        return self.now.date()


def date_context(
    message_date: datetime, timezone: str, budget: DateBudget | None = None,
    fiscal_year_start_month: int = 1,
) -> DateContext:
    """Convert the message date to the sender's zone; an unknown zone falls back to UTC."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    aware = message_date if message_date.tzinfo else message_date.replace(tzinfo=UTC)
    return DateContext(now=aware.astimezone(zone).replace(tzinfo=None),
                       budget=budget if budget is not None else DateBudget(),
                       fiscal_year_start_month=fiscal_year_start_month)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY = re.compile(
    r"(?:(this|coming|next|last|on|by)\s+)?"
    r"(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?",
    re.I,
)
_RELATIVE_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.?(\d{2}|\d{4})?")
_PLAUSIBLE_YEARS = 5  # a free-form date further away than this is a misreading
_RELATIVE_LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl")  # few: fast, fewer surprises


def _weekday_date(match: re.Match[str], today: date, *, past: bool) -> date:
    """Apply the weekday rules of the reply grammar's docstring."""
    word, name = (match.group(1) or "").lower(), match.group(2).lower()
    target = _WEEKDAYS.index(name[:3])
    if word == "next":
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + target)
    if word == "last":
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    if past:
        return today - timedelta(days=(today.weekday() - target) % 7)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _day_month(day: int, month: int, year: str | None, today: date, *, past: bool) -> date | None:
    """A day and month; without a year, the next (or, for the past, last) such day."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        for offset in range(9):  # nine years always include a 29 February
            candidate_year = today.year - offset if past else today.year + offset
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if (candidate <= today) if past else (candidate >= today):
                return candidate
    except ValueError:
        return None
    return None


def _numeric_date(text: str, today: date, *, past: bool) -> date | None:
    if m := _ISO.fullmatch(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := _SLASHED.fullmatch(text):
        first, second = int(m[1]), int(m[2])
        month, day = (second, first) if first > 12 else (first, second)
        return _day_month(day, month, m[3], today, past=past)
    if m := _DOTTED.fullmatch(text):
        return _day_month(int(m[1]), int(m[2]), m[3], today, past=past)
    return None


# "end of Q2", "Q2", "Q2 2027", "FY2027-Q2", "end of this quarter", "end of next quarter":
# the quarter's last day, quarters counted from the fiscal year's first month.
_QUARTER = re.compile(
    r"(?:(?:the\s+)?end\s+of\s+)?(?:(?:fy\s?(?P<fy>\d{4})\s*[-/]?\s*)?q(?P<q>[1-4])"
    r"(?:\s*[-/]?\s*(?:fy\s?)?(?P<year>\d{4}))?|(?P<which>this|the|next)\s+quarter)")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_end(m: re.Match[str], today: date, start_month: int, *, past: bool) -> date:
    """The last day of the quarter ``m`` names. A fiscal year is named by the calendar
    year it ends in (starting in April, FY2027 is 2026-04-01..2027-03-31); without a
    year, the next quarter of that number not yet over (for the past: the last begun)."""
    def fiscal_start(year: int) -> date:
        return date(year - (1 if start_month != 1 else 0), start_month, 1)

    if m["which"]:
        begun = fiscal_start(today.year + (1 if start_month != 1 and today.month >= start_month
                                           else 0))
        quarter = ((today.year - begun.year) * 12 + today.month - begun.month) // 3
        start = _add_months(begun, 3 * (quarter + (1 if m["which"] == "next" else 0)))
        return _add_months(start, 3) - timedelta(days=1)
    number = int(m["q"]) - 1
    label = m["fy"] or m["year"]

    def end_of(year: int) -> date:
        return _add_months(fiscal_start(year), 3 * number + 3) - timedelta(days=1)

    if label:
        return end_of(int(label))
    ends = [end_of(year) for year in range(today.year - 1, today.year + 3)]
    if past:
        return [end for end in ends if _add_months(end, -3) < today][-1]
    return next(end for end in ends if end >= today)


def _free_form_date(text: str, ctx: DateContext, *, past: bool) -> date | None:
    """Everything our own rules do not cover, from the message's budget."""
    settings = {
        "RELATIVE_BASE": ctx.now,  # already the sender's wall clock, so no TIMEZONE needed
        "PREFER_DATES_FROM": "past" if past else "future",
        "PREFER_DAY_OF_MONTH": "first" if past else "last",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PARSERS": ["relative-time", "absolute-time"],
    }
    found = _dateparser(text, _RELATIVE_LANGUAGES, settings, ctx.budget)
    if found is None or abs(found.year - ctx.today.year) > _PLAUSIBLE_YEARS:
        return None  # "Friday 60" is 2060 to dateparser; nobody means that
    return found.date()


def read_relative(text: str, ctx: DateContext, *, past: bool = False) -> date | None:
    """A date written in a reply, or None; ``past`` for meetings, the future otherwise."""
    text = text.strip().rstrip(".!?").strip()
    lowered = text.lower()
    if m := _QUARTER.fullmatch(lowered):
        return _quarter_end(m, ctx.today, ctx.fiscal_year_start_month, past=past)
    if len(text) < 3 or len(text) > 60 or lowered.isdigit():
        return None  # "5" or "a" would be read as May or January: too surprising
    if lowered in _RELATIVE_DAYS:
        return ctx.today + timedelta(days=_RELATIVE_DAYS[lowered])
    if (numeric := _numeric_date(lowered, ctx.today, past=past)) is not None:
        return numeric
    if lowered[:1].isdigit() and re.fullmatch(r"[\d/.\-]+", lowered):
        return None  # a malformed numeric date must not reach dateparser's guesswork
    if m := _WEEKDAY.fullmatch(lowered):
        return _weekday_date(m, ctx.today, past=past)
    return _free_form_date(text, ctx, past=past)


def read_date(text: str, message_date: datetime, timezone: str, past: bool = False,
              budget: DateBudget | None = None) -> date | None:
    """A date as reply lines are read (the reply grammar's docstring), for any reader of mail text.

    ``message_date`` is what "today" and "Friday" are relative to, seen in ``timezone``;
    ``past`` reads for a meeting (the last such day) instead of a due date (the next one);
    ``budget``, when given, is the message's :class:`DateBudget` for words dateparser reads.
    Never raises: anything that is not a date is None.
    """
    try:
        return read_relative(text, date_context(message_date, timezone, budget), past=past)
    except Exception:  # a reader bug must cost one date, never the caller's message
        return None


# --- dates a mail client wrote ----------------------------------------------------------------

_RFC_DATE = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?:[+-]\d{4}|UT|UTC|GMT|Z|[ECMP][SD]T))?(?:\s*\([^)]{0,40}\))?$"
)
_GMT_OFFSET = re.compile(r"\(?\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\)?", re.I)
_ZONE_NAMES = {  # zone abbreviations mail clients localise, which dateparser does not know
    "mez": "+0100", "mesz": "+0200", "oez": "+0200", "oesz": "+0300", "wez": "+0000",
    "wesz": "+0100", "seč": "+0100", "selč": "+0200", "sec": "+0100", "selc": "+0200",
}  # fmt: skip
_ZONE_WORD = re.compile(r"(?<!\w)(" + "|".join(_ZONE_NAMES) + r")(?!\w)", re.I)
_DOTTED_TIME = re.compile(r"(?<=\s)(\d{1,2})\.(\d{2})(?:\.(\d{2}))?(?=\s|$)")
_MERIDIEM = re.compile(r"(?<!\w)([ap])\.\s?m\.(?!\w)", re.I)  # Spanish "9:15 a. m."
_CJK_WEEKDAY = re.compile(r"[(（]?[月火水木金土日]曜日?[)）]?|星期[一二三四五六日天]")
_CONNECTORS = re.compile(
    r"(?<!\w)(?:at|um|uhr|à\(s\)|às|à|a las|alle ore|alle|om|kl\.?|klo|kell|den|о|в|г\.|р\.|"
    r"o|u|v|la|le|el)(?!\w)",
    re.I,
)
_LEADING_WEEKDAY = re.compile(r"^\s*[^\d\s,.]{1,15}\.?,?\s+(?=\d)")
_HEADER_LANGUAGES = (
    "en", "de", "fr", "es", "pt", "it", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk",
    "hr", "hu", "ro", "ru", "uk", "tr", "et", "ja", "zh", "ko",
)  # fmt: skip


def read_header_date(text: str | None, languages: Sequence[str] = ()) -> datetime | None:
    """A date as a mail client wrote it, or None. ``languages`` (dateparser codes) are
    tried first, then the common mail languages. Aware when a zone is written."""
    if not text:
        return None
    return _read_header_date(" ".join(text.split())[:120], tuple(languages))


@lru_cache(maxsize=2048)
def _read_header_date(text: str, languages: tuple[str, ...]) -> datetime | None:
    text = _with_offsets(text)
    if _RFC_DATE.match(text):
        try:
            return _sane(parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    simpler = _LEADING_WEEKDAY.sub("", _CONNECTORS.sub(" ", text))
    attempts = [text, " ".join(simpler.split())]
    known = tuple(language for language in languages if language in _HEADER_LANGUAGES)
    for attempt in dict.fromkeys(attempts):
        for candidates in dict.fromkeys((known or ("en",), _HEADER_LANGUAGES)):
            found = _sane(_dateparser(attempt, candidates, _header_settings(attempt), None))
            if found is not None:
                return found
    return None


def _header_settings(text: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"REQUIRE_PARTS": ["day", "month", "year"]}
    if re.search(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b", text):
        settings["DATE_ORDER"] = "DMY"  # dotted numeric dates are never month-first
    return settings


def _with_offsets(text: str) -> str:
    """ "GMT+1", "(GMT+01:00)", "UTC+3", "MEZ", "OESZ" as numeric offsets; dotted times
    ("14.25.08") with colons when a four-digit year comes before them; no CJK weekday."""
    text = _GMT_OFFSET.sub(
        lambda m: f" {m.group(1)}{int(m.group(2)):02d}{m.group(3) or '00'}", text
    )
    text = _ZONE_WORD.sub(lambda m: _ZONE_NAMES[m.group(1).lower()], text)
    year = re.search(r"\b\d{4}\b", text)
    if year:
        head, tail = text[: year.end()], text[year.end() :]
        text = head + _DOTTED_TIME.sub(
            lambda m: ":".join(part for part in m.groups() if part), tail
        )
    text = _MERIDIEM.sub(lambda m: f"{m.group(1).upper()}M", text)
    return " ".join(_CJK_WEEKDAY.sub(" ", text).split())


def _sane(moment: datetime | None) -> datetime | None:
    if moment is None or not 1970 <= moment.year <= 2200:
        return None
    offset = moment.utcoffset()
    if offset is not None:  # a plain fixed offset, whatever tzinfo dateparser used
        return moment.replace(tzinfo=timezone(timedelta(seconds=offset.total_seconds())))
    return moment
