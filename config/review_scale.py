"""The rating scale of review cycles (``DRUMBEAT_REVIEW_SCALE``), as a typed value.

Written ``LOW-HIGH`` (``1-5``), optionally with one label per step after a colon
(``1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding``); empty means
ratings are off. Here rather than in ``mail/`` because the setting is validated at
start-up and the cycle stores the scale it opened with; the reply reader only uses
the type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_STEPS", "RatingScale", "parse_scale"]

MAX_STEPS = 10  # a scale of more steps is a percentage, not a rating
_RANGE = re.compile(r"\s*(\d{1,2})\s*[-–]\s*(\d{1,2})\s*")


@dataclass(frozen=True)
class RatingScale:
    """Whole numbers from ``low`` to ``high``, each with an optional label."""

    low: int
    high: int
    labels: tuple[str, ...] = ()

    def __contains__(self, rating: object) -> bool:
        return isinstance(rating, int) and self.low <= rating <= self.high

    def label(self, rating: int) -> str:
        """``4 (Exceeds)``, or ``4`` on a scale without labels."""
        if self.labels and rating in self:
            return f"{rating} ({self.labels[rating - self.low]})"
        return str(rating)

    @property
    def steps(self) -> tuple[str, ...]:
        """Every rating as shown on a form: ``1 Unsatisfactory`` … or ``1`` … ``5``."""
        return tuple(f"{n} {self.labels[n - self.low]}" if self.labels else str(n)
                     for n in range(self.low, self.high + 1))

    @property
    def text(self) -> str:
        """The setting's spelling, for storing with the cycle."""
        base = f"{self.low}-{self.high}"
        return f"{base}:{','.join(self.labels)}" if self.labels else base


def parse_scale(value: str | None) -> RatingScale | None:
    """``"1-5"`` → RatingScale(1, 5); ``""`` → None (ratings off). Raises ValueError
    with the right form for anything else."""
    if value is None or not value.strip():
        return None
    numbers, colon, names = value.partition(":")
    found = _RANGE.fullmatch(numbers)
    if not found:
        raise ValueError(f"not a rating scale: {value!r}; write e.g. 1-5, or "
                         "1-5:Poor,Fair,Good,Very good,Excellent")
    low, high = int(found[1]), int(found[2])
    if not low < high or high - low + 1 > MAX_STEPS:
        raise ValueError(f"a rating scale runs from a lower to a higher number, at most "
                         f"{MAX_STEPS} steps: {value!r}; write e.g. 1-5")
    labels = tuple(" ".join(label.split()) for label in names.split(",")) if colon else ()
    if colon and (len(labels) != high - low + 1 or not all(labels)):
        raise ValueError(f"{value!r} has {len(labels)} labels for {high - low + 1} ratings; "
                         "give one non-empty label per rating, separated by commas "
                         "(e.g. 1-5:Poor,Fair,Good,Very good,Excellent)")
    return RatingScale(low, high, labels)
