"""Drumbeat's own words, recognised in what people forward back to it.

A manager forwards her agenda to ``notes@`` with her notes on top. The agenda's
task lines and its "how to reply" example (``T-1 20% drafted the intro``) are our
words, not hers: applied, they would change a task nobody touched. So every
forwarded message is checked, and one Drumbeat wrote (an agenda, answer, reminder
or digest) yields nothing: no commands, no action items, no stored notes. Only what
people wrote counts.

A forwarded message is ours when

- its Message-ID is one we sent (an attached ``message/rfc822`` keeps it),
- most of its lines are lines of a text we stored in the outbox (an inline forward
  keeps the text, re-wrapped or indented perhaps, and a subject and a date), or
- it carries the fixed phrases of our templates (all ``drumbeat inspect`` can go by,
  since it reads no database; the worker uses them too, so both see the same).

Pure: plain data in, plain data out. The worker looks the stored messages up
before its transaction (:func:`workers.inbound._understand`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mail.read.forward import Forwarded

__all__ = ["OURS_BY_SHAPE", "OwnWords", "SentMail", "is_ours_by_shape", "sort_forwards"]

# Phrases each of our templates always writes (templates/*.txt.j2); one is enough.
OURS_BY_SHAPE: tuple[str, ...] = (
    "Reply to this email with one line per update, for example:",  # agenda
    "Quoted text, including this agenda, is ignored",  # agenda
    "Write one update per line, e.g.",  # answer
    "Missed check-ins happen; this is just so the record shows what really happened.",  # nudge
    "How the figures are computed: goal progress is the weighted mean",  # digest
    "Digests never include meeting notes.",  # digest
    "Quoted text is ignored: write your answer above it.",  # review forms
)
_MOSTLY_OURS = 0.6  # share of a forwarded body's lines found in one stored text
_MIN_LINES = 2  # a body this short is never judged by its lines alone
_LINES_JUDGED = 400  # lines of a forwarded body compared (the work stays bounded)
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")


@dataclass(frozen=True)
class SentMail:
    """One message Drumbeat sent, as stored in the outbox: its Message-ID, its text,
    and for an agenda the context that names the pair and the 1:1."""

    message_id: str | None
    text: str
    kind: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def names_a_pair(self) -> bool:
        return bool(self.context.get("manager_id") and self.context.get("employee_id")
                    and self.context.get("period_start"))

    @property
    def meeting_at(self) -> datetime | None:
        """The 1:1 the agenda names (aware), None when it names none."""
        written = self.context.get("meeting_at")
        try:
            return datetime.fromisoformat(written) if isinstance(written, str) else None
        except ValueError:
            return None


@dataclass(frozen=True)
class OwnWords:
    """The forwarded messages sorted: people's, and ours with the stored message each
    matched (None when it was known by its shape only)."""

    people: tuple[Forwarded, ...]
    ours: tuple[tuple[Forwarded, SentMail | None], ...] = ()

    @property
    def agenda(self) -> SentMail | None:
        """The first forwarded agenda that names a 1:1: evidence of that meeting."""
        return next((sent for _forward, sent in self.ours
                     if sent is not None and sent.names_a_pair), None)


def sort_forwards(forwards: Sequence[Forwarded], sent: Sequence[SentMail] = (), *,
                  our_addresses: Iterable[str] = ()) -> OwnWords:
    """Which forwarded messages people wrote and which Drumbeat did. ``sent`` are the
    stored messages that could be among them; ``our_addresses`` the From addresses we
    send with (a forward whose header names one is ours)."""
    addresses = {address.lower() for address in our_addresses}
    flattened = [(sent_mail, _flat(sent_mail.text)) for sent_mail in sent]
    people: list[Forwarded] = []
    ours: list[tuple[Forwarded, SentMail | None]] = []
    for forward in forwards:
        match = _stored_match(forward, sent, flattened)
        if match is not None:
            ours.append((forward, match))
        elif (forward.from_addr or "").lower() in addresses or is_ours_by_shape(forward.body):
            ours.append((forward, None))
        else:
            people.append(forward)
    return OwnWords(tuple(people), tuple(ours))


def is_ours_by_shape(text: str) -> bool:
    """Whether ``text`` carries one of our templates' fixed phrases (however wrapped)."""
    flat = _flat(text)
    return any(_flat(phrase) in flat for phrase in OURS_BY_SHAPE)


def _stored_match(forward: Forwarded, sent: Sequence[SentMail],
                  flattened: Sequence[tuple[SentMail, str]]) -> SentMail | None:
    if forward.message_id:
        for sent_mail in sent:
            if sent_mail.message_id and sent_mail.message_id.lower() == forward.message_id.lower():
                return sent_mail
    lines = [flat for flat in map(_flat, forward.body.splitlines()[:4 * _LINES_JUDGED])
             if flat][:_LINES_JUDGED]
    if len(lines) < _MIN_LINES:
        return None
    for sent_mail, text in flattened:
        found = sum(line in text for line in lines)
        if found >= _MOSTLY_OURS * len(lines):
            return sent_mail
    return None


def _flat(text: str) -> str:
    """Lower case, quote marks gone, every run of white space one space: a line still
    matches after a client re-wrapped, indented or quoted it."""
    unquoted = " ".join(_QUOTE.sub("", line) for line in text.splitlines())
    return " ".join(unquoted.split()).casefold()
