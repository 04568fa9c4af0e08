"""Amounts as people write a measurable goal's figures: ``2.1M``, ``€4M``, ``3,1 Mio``, ``45%``.

One reader and one writer for the plan file (``models.importing``) and the reply
grammar (``mail.read.plan_lines``) alike, so ``start: 2.1M`` in a plan and ``G-2 = 3.1M``
in a reply are read the same way. Here because both layers may import ``config`` and
neither may import the other.

Reading (``read_amount``): an optional sign, digits with an optional decimal part, an
optional multiplier (``k``/``K``/``Tsd`` thousand, ``M``/``Mio``/``mn`` million,
``bn``/``B``/``Mrd`` billion), and a unit symbol before or after (``€``, ``$``, ``£``,
``¥``, ``%``) which is returned too. The decimal separator: with both ``.`` and ``,``
the last one is decimal (``1,234.5``, ``1.234,5``); a separator written twice groups
thousands (``1.200.000``); a single ``,`` followed by exactly three digits and no
multiplier groups thousands (``1,200`` is 1200), any other single separator is decimal
(``3,1M`` is 3.1 million, ``1.200`` is 1.2); spaces (also thin and non-breaking) and
``'`` between digit groups are ignored (``1 200 000``, ``1'200``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Amount", "amount_words", "read_amount"]

_MULTIPLIERS = {
    "k": 1e3, "tsd": 1e3, "thousand": 1e3,
    "m": 1e6, "mm": 1e6, "mn": 1e6, "mio": 1e6, "million": 1e6, "millions": 1e6,
    "b": 1e9, "bn": 1e9, "mrd": 1e9, "billion": 1e9, "billions": 1e9,
}
_SYMBOLS = "€$£¥%"
_AMOUNT = re.compile(
    rf"^(?P<before>[{_SYMBOLS}])?\s*(?P<sign>[-−+])?\s*(?P<before2>[{_SYMBOLS}])?\s*"
    r"(?P<number>\d[\d\s\u00a0\u202f',.]*)"
    r"\s*(?P<mult>k|tsd\.?|thousand|m|mm|mn|mio\.?|millions?|b|bn|mrd\.?|billions?)?"
    rf"\s*(?P<after>[{_SYMBOLS}])?$",
    re.I)
_GROUPING = re.compile(r"[\s\u00a0\u202f']")


@dataclass(frozen=True)
class Amount:
    """A figure as read: its value and the unit symbol written with it (None: none)."""

    value: float
    unit: str | None = None


def _number(text: str, multiplied: bool) -> float | None:
    digits = _GROUPING.sub("", text)
    if not digits or not digits[-1].isdigit():
        return None
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        digits = digits.replace(grouping, "").replace(decimal, ".")
    else:
        separator = "," if "," in digits else "." if "." in digits else None
        if separator is not None:
            parts = digits.split(separator)
            grouped = not multiplied and all(len(part) == 3 for part in parts[1:]) and (
                len(parts) > 2 or separator == ",")
            if grouped or len(parts) > 2:
                if not all(len(part) == 3 for part in parts[1:]):
                    return None
                digits = "".join(parts)
            else:
                digits = digits.replace(separator, ".")
    try:
        return float(digits)
    except ValueError:
        return None


def read_amount(text: str) -> Amount | None:
    """The amount ``text`` writes, or None when it is not one (module docstring)."""
    m = _AMOUNT.match(text.strip())
    if m is None:
        return None
    symbols = [s for s in (m["before"], m["before2"], m["after"]) if s]
    if len(symbols) > 1:
        return None
    multiplier = _MULTIPLIERS[m["mult"].lower().rstrip(".")] if m["mult"] else 1.0
    number = _number(m["number"].strip(), m["mult"] is not None)
    if number is None:
        return None
    value = number * multiplier * (-1 if m["sign"] in ("-", "−") else 1)
    if not math.isfinite(value):
        return None
    return Amount(round(value, 6), symbols[0] if symbols else None)


_PREFIXED = frozenset("€$£¥")


def amount_words(value: float, unit: str | None = None) -> str:
    """``€3.1M``, ``45%``, ``120k``, ``12``: a figure as short as a person writes it,
    with a currency symbol in front and any other unit after."""
    size = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= threshold:
            number = f"{value / threshold:.2f}".rstrip("0").rstrip(".") + suffix
            break
    else:
        number = f"{value:.2f}".rstrip("0").rstrip(".")
    if number in ("-0", ""):
        number = "0"
    if not unit:
        return number
    if unit in _PREFIXED:
        return f"-{unit}{number[1:]}" if number.startswith("-") else f"{unit}{number}"
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"
