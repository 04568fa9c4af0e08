"""Reading meeting notes, before any database: the sender's own words and the
forwarded messages people wrote, their commands, and the day the 1:1 was held.

Pure (no database), so the notes worker (``workers.notes``, which runs this outside
the transaction) and ``drumbeat inspect`` (``mail.read.inspect``) read notes with
the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from mail.read.calendar import meeting_start
from mail.read.commands import MeetingReport, Parsed
from mail.read.dates import DateBudget
from mail.read.forward import Forwarded, find_forwards
from mail.read.grammar import parse_commands
from mail.read.message import ParsedMessage
from mail.read.own_words import OwnWords, SentMail, sort_forwards
from mail.read.reply_text import extract_reply
from mail.read.topic_lines import without_invitation_topics

__all__ = ["MAX_NOTES_CHARS", "Notes", "NotesReading", "own_words", "read_notes",
           "understand_notes", "which_day"]

MAX_NOTES_CHARS = 100_000


@dataclass(frozen=True)
class Notes:
    """What the sender gave us: their own words and the forwarded messages."""

    own: str
    forwards: tuple[Forwarded, ...]  # the forwarded messages people wrote
    own_truncated: bool = False  # the sender's own text was longer than a reply may be
    agenda: SentMail | None = None  # a forwarded agenda of ours: evidence of its 1:1
    ours: int = 0  # forwarded messages Drumbeat wrote, left out (never read as notes)

    @property
    def text(self) -> str:
        return self._joined[:MAX_NOTES_CHARS]

    @property
    def truncated(self) -> bool:
        """Whether only the beginning of what was sent is read."""
        return self.own_truncated or len(self._joined) > MAX_NOTES_CHARS

    @property
    def _joined(self) -> str:
        parts = [self.own, *(forward.body for forward in self.forwards)]
        return "\n\n".join(part.strip() for part in parts if part.strip())


def read_notes(parsed: ParsedMessage, sender_name: str, *, sent: Sequence[SentMail] = (),
               our_addresses: Sequence[str] = (),
               forwards: Sequence[Forwarded] | None = None) -> Notes:
    """The sender's words and the forwarded messages people wrote; what Drumbeat wrote
    (``sent``: the stored messages that may be forwarded here) is left out.
    ``forwards``: the message's forwards when the caller has read them already."""
    words = own_words(parsed, sent=sent, our_addresses=our_addresses, forwards=forwards)
    own = extract_reply(parsed.text, parsed.html, sender_name=parsed.from_name or sender_name)
    return Notes(own.text, words.people, own.truncated, words.agenda, len(words.ours))


def own_words(parsed: ParsedMessage, *, sent: Sequence[SentMail] = (),
              our_addresses: Sequence[str] = (),
              forwards: Sequence[Forwarded] | None = None) -> OwnWords:
    """The message's forwards, sorted into people's and ours (``mail.read.own_words``)."""
    found = find_forwards(parsed) if forwards is None else forwards
    return sort_forwards(found, sent, our_addresses=our_addresses)


@dataclass(frozen=True)
class NotesReading:
    """Notes read before the transaction opens: the text, its commands, and the date
    budget the action items go on spending (one per message)."""

    notes: Notes
    commands: Parsed
    dates: DateBudget


def understand_notes(parsed: ParsedMessage, *, sender_name: str, timezone: str | None,
                     now: datetime, max_updates: int = 100, sent: Sequence[SentMail] = (),
                     our_addresses: Sequence[str] = (),
                     forwards: Sequence[Forwarded] | None = None) -> NotesReading:
    """Everything about the notes that needs no database: pure, and run outside the
    transaction so slow notes never hold a lock. ``sent`` and ``our_addresses`` tell
    Drumbeat's own forwarded words, which are never read (``drumbeat inspect`` reads
    with the same function, knowing our words by their shape only)."""
    notes = read_notes(parsed, sender_name, sent=sent, our_addresses=our_addresses,
                       forwards=forwards)
    dates = DateBudget()
    commands = parse_commands(without_invitation_topics(notes.text),
                              message_date=parsed.date or now, timezone=timezone,
                              max_updates=max_updates, truncated=notes.truncated,
                              date_budget=dates)
    return NotesReading(notes, commands, dates)


# --- which day -------------------------------------------------------------------


def which_day(reports: Sequence[MeetingReport], forwards: Sequence[Forwarded],
              calendar: Sequence[str], received: datetime, timezone: str, *,
              agenda_at: datetime | None = None) -> date:
    """The ``met:`` line, else the 1:1 a forwarded agenda names (``agenda_at``), else
    the forwarded message's date, else the calendar invitation's start, else the day
    received; in the manager's time zone."""
    zone = ZoneInfo(timezone)
    for report in reports:
        if report.on is not None:
            return report.on
    if agenda_at is not None:
        return agenda_at.astimezone(zone).date() if agenda_at.tzinfo else agenda_at.date()
    for forward in forwards:
        if forward.date is not None:
            moment = forward.date
            return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    start = meeting_start(calendar)
    if start is not None:
        return start.astimezone(zone).date() if start.tzinfo else start.date()
    return received.astimezone(zone).date()
