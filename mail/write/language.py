"""Each reader's language: the gettext catalogs and the locale's dates, numbers and percents.

The catalogs are the ``.po`` files under ``templates/locales/`` (``make catalogs``
extracts the messages from the templates and ``mail/`` and ``workers/`` with Babel's
tools and updates them). They are compiled in memory on first use, once per process and
language, with Babel's own ``read_po`` and ``write_mo``: no compiled ``.mo`` file is kept
in the repository or needed at install, so a fresh clone just works.

English keeps the forms Drumbeat always wrote (``Thu 3 Dec``, ``09:30``, ``42%``); the
other languages take their locale's short forms from the CLDR data Babel ships
(``Do., 3. Dez.``, ``12月3日(木)``, ``42 %``).
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib.resources import files

from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_decimal,
    format_percent,
)

from config.amounts import amount_words
from config.languages import LANGUAGES
from mail.read.explanation import Explanation

__all__ = [
    "DEFAULT",
    "N_",
    "amount_text",
    "catalog_path",
    "day_text",
    "long_day_text",
    "month_text",
    "number_text",
    "percent_figure_text",
    "percent_text",
    "supported",
    "time_text",
    "translations",
    "worded",
]

DEFAULT = "en"
DOMAIN = "drumbeat"


def N_(message: str) -> str:
    """Marks a message for extraction where it is written; it is translated where it is
    shown (the ``translated`` filter, or ``translations(...).gettext``)."""
    return message


def supported(language: str | None) -> str:
    """``language`` when a catalog ships for it, else English (a stored value from an
    older release, or a view built without one)."""
    return language if language in LANGUAGES else DEFAULT


def catalog_path(language: str):
    """Where the ``.po`` of ``language`` is shipped."""
    return files("templates").joinpath("locales", f"{language}.po")


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English's own for anything unknown)."""
    language = supported(language)
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: their msgid shows instead
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def worded(text: str, language: str) -> str:
    """A message marked ``N_`` in the reader's language: an ``Explanation`` from reading
    is translated from its template, its parts worded first; anything else as is."""
    if not text:
        return text
    catalog = translations(language)
    if not isinstance(text, Explanation):
        return catalog.gettext(text)
    if not text.parts:
        return catalog.gettext(text.template)
    parts = {name: worded(part, language) if isinstance(part, Explanation) else part
             for name, part in text.parts.items()}
    return catalog.gettext(text.template) % parts


def day_text(value: date | datetime, language: str, with_year: bool = False) -> str:
    """A short day with its weekday: ``Thu 3 Dec``, ``Do., 3. Dez.``, ``12月3日(木)``."""
    if isinstance(value, datetime):
        value = value.date()
    if supported(language) == DEFAULT:
        return format_date(value, "EEE d MMM y" if with_year else "EEE d MMM", locale="en")
    return format_skeleton("yMMMEd" if with_year else "MMMEd", value, locale=language)


def long_day_text(value: date, language: str) -> str:
    """A day an answer confirms, always with its year: ``Fri 18 Dec 2026``."""
    if supported(language) == DEFAULT:
        return f"{value:%a %d %b %Y}"
    return format_skeleton("yMMMEd", value, locale=language)


def time_text(value: datetime, language: str) -> str:
    """A time of day in the value's own zone: ``09:30`` (the locale's short form)."""
    if supported(language) == DEFAULT:
        return f"{value:%H:%M}"
    return format_time(value, "short", tzinfo=value.tzinfo, locale=language)


def month_text(value: date, language: str) -> str:
    """The month's name on its own: ``December``, ``Dezember``, ``12月``."""
    return format_date(value, "LLLL", locale=supported(language))


def percent_text(shown: int, language: str) -> str:
    """A whole percentage as the locale writes it: ``42%``, ``42 %``."""
    return format_percent(shown / 100, locale=supported(language))


def percent_figure_text(value: float, language: str) -> str:
    """A stored percentage with at most one decimal: ``72.5%``, ``72,5 %``."""
    shown = round(value, 1)
    if supported(language) == DEFAULT:
        return f"{shown:.0f}%" if shown == round(shown) else f"{shown:.1f}%"
    return format_percent(Decimal(str(shown)) / 100, locale=language,
                          decimal_quantization=False)


def number_text(value: float, language: str, digits: int = 1) -> str:
    """A number with the locale's separators: ``1,234.5``, ``1.234,5``."""
    return format_decimal(round(value, digits), locale=supported(language))


_CURRENCIES = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}


def amount_text(value: float, unit: str | None, language: str) -> str:
    """A measured figure as the reader's locale writes it short: ``€3.1M`` in English
    (``config.amounts.amount_words``, what people type), ``3,1 Mio. €``, ``€310万``."""
    language = supported(language)
    if language == DEFAULT:
        return amount_words(value, unit)
    if unit == "%":
        return format_percent(Decimal(str(round(value, 2))) / 100, locale=language,
                              decimal_quantization=False)
    if unit in _CURRENCIES:
        return format_compact_currency(value, _CURRENCIES[unit], locale=language,
                                       fraction_digits=2)
    number = format_compact_decimal(value, locale=language, fraction_digits=2)
    if number.lstrip("-").isdigit():  # no short form in this locale: group the digits
        number = format_decimal(round(value, 2), locale=language)
    return f"{number} {unit}" if unit else number
