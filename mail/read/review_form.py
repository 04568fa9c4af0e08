"""Reading an answer to a review form: ``wins:``, ``rating: 4``, ``agree``, ``dispute: …``.

The text given here is a reply's new text, already without quotes, signatures and the
form's own words (``mail.read.reply_text.extract_reply``, like every reply). Its lines
are read in order:

- ``wins:``, ``misses:``, ``next:``, ``comment:``, ``dispute:`` and ``resolved:`` open a
  section; the words after the colon and every following line belong to it, until the
  next keyword line or a line that is an update (it starts with a task reference,
  ``new:``, ``met:``, ``skip:`` or ``due:``);
- ``rating: N`` is one line: a whole number on the cycle's scale, or one of its labels
  (``rating: 4``, ``rating: 4 - Exceeds``, ``rating: Exceeds``);
- ``agree`` (``agreed``, ``I agree``) is one line;
- every other line is handed on, in order, to the reply grammar
  (``mail.read.grammar.parse_commands``): updates such as ``T-12 done`` in the same
  reply work as in any reply, prose is ignored.

Which keywords a form takes depends on its kind (``FORM_KEYWORDS``); one from another
form, a rating off the scale or a form answered twice over is an error that shows the
right form, like any line the grammar cannot read. Pure: text in, a ReviewAnswer out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from config.review_scale import RatingScale
from mail.read.commands import LineError
from mail.read.explanation import N_, Explanation

__all__ = ["FORM_KEYWORDS", "FormKind", "ReviewAnswer", "read_review_form"]


class FormKind(StrEnum):
    SELF = "self"  # to the employee: their figures, wins / misses / next / rating
    MANAGER = "manager"  # to the manager, per report: rating / comment
    ACK = "ack"  # to the employee: the manager's review, agree / dispute
    DISPUTE = "dispute"  # to HR: a disputed review, resolved


SECTIONS = ("wins", "misses", "next", "comment", "dispute", "resolved")
FORM_KEYWORDS: dict[FormKind, tuple[str, ...]] = {
    FormKind.SELF: ("wins", "misses", "next", "rating"),
    FormKind.MANAGER: ("rating", "comment"),
    FormKind.ACK: ("agree", "dispute"),
    FormKind.DISPUTE: ("resolved",),
}
MAX_SECTION_CHARS = 5000  # a review is a few paragraphs; the rest is not stored

_BULLET = r"\s*(?:[-*•]\s*)?"
_KEYWORD = re.compile(
    _BULLET + r"(wins|misses|next|comment|dispute|resolved|rating)\s*[:：]\s*(.*)", re.I)
_AGREE = re.compile(_BULLET + r"(?:i\s+)?agree[ds]?\s*[.!]*\s*", re.I)
_UPDATE = re.compile(
    _BULLET + r"(?:[#\[(]?\s*T\s?-?\s?\d|new\s*[:：]|met\s*[:：]|skip\b|due\s*[:：])", re.I)
_RATING = re.compile(r"(\d{1,3})(?:\s*(?:/|of|out of)\s*\d{1,3})?(?:\s*[-–—(:,]?\s*(.*))?",
                     re.I)


@dataclass(frozen=True)
class ReviewAnswer:
    """What a reply to a review form says, and the lines left for the reply grammar."""

    wins: str | None = None
    misses: str | None = None
    next: str | None = None
    rating: int | None = None
    comment: str | None = None
    agree: bool = False
    dispute: str | None = None
    resolved: str | None = None
    rest: str = ""  # every other line, in order, for ``parse_commands``
    errors: tuple[LineError, ...] = field(default=())

    @property
    def answered(self) -> bool:
        """Whether the reply answers the form at all (with something valid)."""
        return any(value is not None for value in (
            self.wins, self.misses, self.next, self.rating, self.comment, self.dispute,
            self.resolved)) or self.agree


def read_review_form(text: str, kind: FormKind, scale: RatingScale | None) -> ReviewAnswer:
    """Read a reply's new text as an answer to a form of ``kind``; never raises."""
    sections: dict[str, list[str]] = {}
    rest: list[str] = []
    errors: list[LineError] = []
    rating: int | None = None
    agree = False
    current: str | None = None
    allowed = FORM_KEYWORDS[kind]
    for line in text.splitlines():
        keyword = _KEYWORD.fullmatch(line)
        if keyword is not None:
            name, words = keyword[1].lower(), keyword[2].strip()
            current = None
            if name not in allowed:
                errors.append(LineError(line.strip(), _wrong_form(name, kind, scale)))
            elif name == "rating":
                found = _rating(words, scale)
                if isinstance(found, str):
                    errors.append(LineError(line.strip(), found))
                elif rating is not None and rating != found:
                    errors.append(LineError(line.strip(), Explanation(N_(
                        "two different ratings; write one rating: line"))))
                else:
                    rating = found
            else:
                current = name
                sections.setdefault(name, [])
                if words:
                    sections[name].append(words)
            continue
        if _AGREE.fullmatch(line):
            current = None
            if "agree" in allowed:
                agree = True
            else:
                errors.append(LineError(line.strip(), _wrong_form("agree", kind, scale)))
            continue
        if current is not None and not _UPDATE.match(line):
            sections[current].append(line.rstrip())
            continue
        current = None
        rest.append(line)
    texts = {name: _tidy(lines) for name, lines in sections.items()}
    for name in [n for n, value in texts.items() if value is None]:
        errors.append(LineError(f"{name}:", Explanation(N_(
            "%(name)s: is empty; write your words after it, e.g. %(example)s"),
            name=name, example=_example(name))))
    if agree and texts.get("dispute"):
        errors.append(LineError("agree", Explanation(N_(
            "the reply both agrees and disputes; write either agree or dispute: what you "
            "disagree with"))))
        agree, texts["dispute"] = False, None
    return ReviewAnswer(
        wins=texts.get("wins"), misses=texts.get("misses"), next=texts.get("next"),
        rating=rating, comment=texts.get("comment"), agree=agree,
        dispute=texts.get("dispute"), resolved=texts.get("resolved"),
        rest="\n".join(rest), errors=tuple(errors))


def _tidy(lines: Sequence[str]) -> str | None:
    """A section's lines as stored: no blank lines at either end, at most one between."""
    kept: list[str] = []
    for line in lines:
        if line.strip() or (kept and kept[-1]):
            kept.append(line.rstrip() if line.strip() else "")
    while kept and not kept[-1]:
        kept.pop()
    text = "\n".join(kept)[:MAX_SECTION_CHARS]
    return text or None


def _rating(words: str, scale: RatingScale | None) -> int | str:
    """The rating written, or what is wrong with it and the right form."""
    if scale is None:
        return Explanation(N_("ratings are not used here; leave the rating: line out"))
    found = _RATING.fullmatch(words.strip())
    if found is not None and int(found[1]) in scale:
        return int(found[1])
    by_label = {label.casefold(): scale.low + i for i, label in enumerate(scale.labels)}
    if words.strip().rstrip(".").casefold() in by_label:
        return by_label[words.strip().rstrip(".").casefold()]
    return Explanation(N_("not a rating on the scale; %(form)s"), form=_scale_form(scale))


def _scale_form(scale: RatingScale) -> Explanation:
    return Explanation(N_("write a whole number from %(low)s to %(high)s, e.g. rating: "
                          "%(example)s (%(steps)s)"), low=scale.low, high=scale.high,
                       example=scale.high - 1, steps=", ".join(scale.steps))


_EXAMPLES = {"wins": "wins: shipped the new billing flow", "misses": "misses: the Q4 hiring "
             "goal", "next": "next: lead the data migration", "comment": "comment: a strong "
             "quarter", "dispute": "dispute: the on-time rate leaves out the vendor delay",
             "resolved": "resolved: talked with both; rating stands",
             "agree": "agree", "rating": "rating: 4"}


def _example(name: str) -> str:
    return _EXAMPLES[name]


def _wrong_form(name: str, kind: FormKind, scale: RatingScale | None) -> Explanation:
    """The error for a keyword this form does not take, with the ones it does."""
    allowed = [k for k in FORM_KEYWORDS[kind] if k != "rating" or scale is not None]
    words = ", ".join(f"{k}:" if k != "agree" else "agree" for k in allowed)
    return Explanation(N_("this form is answered with %(words)s, e.g. %(example)s"),
                       words=words, example=_example(allowed[0]))
