"""Readers for the values HR exports actually contain.

Each reader takes the raw cell text and returns a typed value or raises
:class:`BadValue` whose message says what was wrong and whose hint shows the
accepted forms. Pure functions: the file readers turn BadValue into problems.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

from config.amounts import Amount, read_amount
from config.languages import known_language, unknown_language_hint
from models.plan import TaskStatus
from models.scoring import Cadence

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", ""})
CADENCE_WORDS = {
    "weekly": Cadence.WEEKLY,
    "week": Cadence.WEEKLY,
    "biweekly": Cadence.BIWEEKLY,
    "bi-weekly": Cadence.BIWEEKLY,
    "fortnightly": Cadence.BIWEEKLY,
    "every two weeks": Cadence.BIWEEKLY,
    "monthly": Cadence.MONTHLY,
    "month": Cadence.MONTHLY,
}
TIME_PATTERN = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(?::(\d{2}))?\s*([ap]\.?m\.?)?$", re.I)


class BadValue(ValueError):
    """A cell that cannot be read; ``hint`` tells how to write it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@lru_cache(maxsize=65536)
def read_email(text: str) -> str:
    """A syntactically valid address, lower-cased (we match addresses case-insensitively).

    Cached: a large plan names the same few thousand owners hundreds of thousands
    of times, and full address validation is the slowest step of reading it.
    """
    value = text.strip()
    if not value:
        raise BadValue("is empty", "Every person needs an email address.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadValue(f"{value!r} is not an email address ({exc})",
                       "Write it as name@company.com.") from exc
    return checked.normalized.lower()


def read_weekday(text: str) -> int:
    """Monday=0 … Sunday=6, from a full or abbreviated name in any case (``Tue``, ``THURS``)."""
    value = text.strip().lower().rstrip(".")
    matches = [i for i, name in enumerate(WEEKDAY_NAMES) if len(value) >= 2 and
               name.startswith(value)]
    if len(matches) == 1:
        return matches[0]
    raise BadValue(f"{text.strip()!r} is not a day of the week",
                   "Write a day name, full or short: Monday, mon, TUE, thurs.")


def read_bool(text: str) -> bool:
    """yes/no, true/false, 1/0 (any case); an empty cell is no."""
    value = text.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise BadValue(f"{text.strip()!r} is not yes or no", "Write yes/no, true/false or 1/0.")


def read_time(text: str) -> time:
    """``09:30``, ``9:30``, ``9.30``, ``14h30``, ``9am``, ``2:30 pm`` → a time of day."""
    match = TIME_PATTERN.match(text.strip())
    hint = "Write a 24-hour time such as 09:30 or 14:00 (9:30am also works)."
    if match is None:
        raise BadValue(f"{text.strip()!r} is not a time of day", hint)
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise BadValue(f"{text.strip()!r} is not a time of day", hint)
        hour = hour % 12 + (12 if match[4].lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise BadValue(f"{text.strip()!r} is not a time of day", hint)
    return time(hour, minute, second)


def read_timezone(text: str) -> str:
    """An IANA time zone name, matched case-insensitively and returned in its canonical case."""
    value = text.strip()
    canonical = _timezones_by_lower().get(value.lower().replace(" ", "_"))
    if canonical:
        return canonical
    raise BadValue(f"{value!r} is not a time zone",
                   "Use an IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo.")


def read_language(text: str) -> str:
    """A language Drumbeat ships mail in: ``de``, ``de-DE``, ``German``, ``日本語`` → ``de``."""
    code = known_language(text)
    if code is None:
        raise BadValue(f"{text.strip()!r} is not a language Drumbeat writes mail in",
                       unknown_language_hint())
    return code


def read_cadence(text: str) -> Cadence:
    """weekly, biweekly (bi-weekly, fortnightly) or monthly."""
    cadence = CADENCE_WORDS.get(text.strip().lower())
    if cadence is None:
        raise BadValue(f"{text.strip()!r} is not a check-in cadence",
                       "Write weekly, biweekly or monthly.")
    return cadence


def read_date(value: object) -> date:
    """An ISO date (``2026-12-04``); YAML may already have turned it into a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadValue(f"{text!r} is not a date",
                       "Write dates as YYYY-MM-DD, e.g. 2026-12-04.") from exc


def read_status(value: object) -> TaskStatus:
    """open, in progress (in_progress, in-progress), blocked, done, dropped."""
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return TaskStatus(text)
    except ValueError as exc:
        raise BadValue(f"{value!r} is not a status",
                       "Use one of: open, in_progress, blocked, done, dropped.") from exc


def read_progress(value: object) -> int:
    """A whole percentage 0–100; ``60`` and ``60%`` both work."""
    text = str(value).strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError as exc:
        raise BadValue(f"{value!r} is not a percentage",
                       "Write a number from 0 to 100, e.g. 60.") from exc
    if not 0 <= number <= 100 or number != int(number):
        raise BadValue(f"{value!r} is not a whole number from 0 to 100",
                       "Write a number from 0 to 100, e.g. 60.")
    return int(number)


def read_weight(value: object) -> float:
    """A positive number: an item's share in its parent's progress."""
    try:
        number = float(str(value).strip())
    except ValueError as exc:
        raise BadValue(f"{value!r} is not a number", "Write a positive number, e.g. 1 or 2.5.") \
            from exc
    if not number > 0 or number != number or number == float("inf"):
        raise BadValue(f"{value!r} is not a positive weight",
                       "Write a positive number, e.g. 1 or 2.5.")
    return number


def read_figure(value: object) -> Amount:
    """A measurable goal's figure: ``2.1M``, ``€4M``, ``45%``, ``1,200``, or a number YAML
    already read (``config.amounts`` reads it, as the reply grammar does)."""
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is not a figure", _FIGURE_HINT)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise BadValue(f"{value!r} is not a figure", _FIGURE_HINT)
        return Amount(float(value))
    found = read_amount(str(value))
    if found is None:
        raise BadValue(f"{str(value).strip()!r} is not a figure", _FIGURE_HINT)
    return found


_FIGURE_HINT = "Write a number, with k, M or B if you like and a unit: 2.1M, €4M, 45%."


def read_label(limit: int) -> Callable[[object], str]:
    """A short piece of text (a metric's name, a unit) of at most ``limit`` characters."""

    def read(value: object) -> str:
        text = " ".join(str(value).split())
        if len(text) > limit:
            raise BadValue(f"is longer than {limit} characters",
                           f"Keep it to {limit} characters.")
        return text

    return read


_TZ_CACHE: dict[str, str] = {}


def _timezones_by_lower() -> dict[str, str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update({name.lower(): name for name in available_timezones()})
    return _TZ_CACHE
