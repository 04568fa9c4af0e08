"""``drumbeat inspect``: everything the pure stages read from one message, as one JSON object.

No database is touched, so it shows exactly what the parser sees. The sender's
time zone is taken from the offset in the Date header (all we know without
the database); applying a real reply uses the person's own time zone.

``notes`` previews a forward as the notes reader reads it (the same function,
:func:`mail.read.notes_reading.understand_notes`): the commands and action items of the
sender's words and of the forwarded messages people wrote. What Drumbeat wrote is
known by its templates' phrases, or by the text of ``sent`` (``--sent FILE``), and
left out. Owners are looked up among the people the message names (its From and
the forwarded messages' senders); the worker looks them up in the 1:1 and the directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mail.read.classify import Kind, classify
from mail.read.commands import MeetingReport
from mail.read.forward import Forwarded, find_forwards
from mail.read.grammar import parse_commands
from mail.read.message import ParsedMessage, parse_message
from mail.read.notes import ActionItem, find_action_items
from mail.read.notes_people import Candidate, with_line
from mail.read.notes_reading import understand_notes, which_day
from mail.read.own_words import SentMail
from mail.read.reply_text import extract_reply


def zone_of(moment: datetime | None) -> str:
    """An IANA zone with the Date header's offset (Etc/GMT signs are inverted)."""
    offset = moment.utcoffset() if moment else None
    if offset is None or offset.total_seconds() % 3600:
        return "UTC"
    hours = int(offset.total_seconds() // 3600)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def inspect_message(raw: bytes, sent_lines: tuple[str, ...] = (), *,
                    max_updates: int = 100) -> dict[str, Any]:
    """The inspect contract (docs/design.md): message_id, from, subject, date,
    kind, reply_text, forwarded, commands, errors, and ``notes`` for a forward or mail
    to notes@ (None otherwise); at most
    ``max_updates`` update lines are read, as the worker reads them. ``sent_lines``
    are the lines of the message we sent (a reply's agenda)."""
    parsed = parse_message(raw)
    forwards = find_forwards(parsed)
    kind = classify(parsed, raw)
    reply = extract_reply(parsed.text, parsed.html, sent_lines=sent_lines,
                          sender_name=parsed.from_name)
    commands = parse_commands(reply.text, message_date=parsed.date or datetime.now(UTC),
                              timezone=zone_of(parsed.date), inline=reply.inline,
                              max_updates=max_updates, truncated=reply.truncated)
    result = commands.to_json()
    return {
        "message_id": parsed.message_id,
        "from": parsed.from_addr,
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "kind": kind.kind.value,
        "reply_text": reply.written,
        "forwarded": [forward.to_json() for forward in forwards],
        "commands": result["commands"],
        "errors": result["errors"],
        "notes": preview_notes(parsed, sent_lines, max_updates=max_updates, forwards=forwards)
        if forwards or kind.kind == Kind.FORWARD or _to_notes(parsed) else None,
    }


def _to_notes(parsed: ParsedMessage) -> bool:
    """Addressed to notes@ (of any domain: inspect does not know ours)."""
    return any(address.lower().startswith("notes@") for address in [*parsed.to, *parsed.cc])


def preview_notes(parsed: ParsedMessage, sent_lines: tuple[str, ...] = (), *,
                  max_updates: int = 100, forwards: Sequence[Forwarded] | None = None
                  ) -> dict[str, Any]:
    """What the notes reader would apply: its commands and errors, the action items
    (owners as written), the meeting day it would log, and how many forwarded messages
    were Drumbeat's own words and left out."""
    moment = parsed.date or datetime.now(UTC)
    zone = zone_of(parsed.date)
    sent = (SentMail(None, "\n".join(sent_lines)),) if sent_lines else ()
    reading = understand_notes(parsed, sender_name=parsed.from_name or "", timezone=zone,
                               now=moment, max_updates=max_updates, sent=sent,
                               forwards=forwards)
    notes = reading.notes
    reports = [c for c in reading.commands.commands if isinstance(c, MeetingReport)]
    agenda_at = notes.agenda.meeting_at if notes.agenda is not None else None
    day = which_day(reports, notes.forwards, parsed.calendar, moment, zone, agenda_at=agenda_at)
    people = _people_named(parsed, notes.forwards, with_line(notes.own) or with_line(notes.text))
    items = find_action_items(notes.text, candidates=people, meeting_date=day, timezone=zone,
                              date_budget=reading.dates)
    found = reading.commands.to_json()
    return {"text": notes.text, "day": day.isoformat(), "commands": found["commands"],
            "errors": found["errors"],
            "action_items": [_item_json(item, people) for item in items],
            "drumbeat_wrote": notes.ours}


def _people_named(parsed: ParsedMessage, forwards: Sequence[Forwarded],
                  with_name: str | None = None) -> list[Candidate]:
    """The people with a name and an address in the message's From lines, and the one a
    ``with:`` line names (the worker knows the pair; the preview knows what is written)."""
    named = [(parsed.from_name, parsed.from_addr),
             *((forward.from_name, forward.from_addr) for forward in forwards)]
    found: dict[str, str] = {}
    for name, address in named:
        if name and address:
            found.setdefault(address.lower(), name)
    people = [Candidate(key, name, address) for key, (address, name) in enumerate(found.items())]
    if with_name and "@" not in with_name and not any(
            with_name.lower() in person.name.lower() for person in people):
        people.append(Candidate(len(people), with_name, ""))
    return people


def _item_json(item: ActionItem, people: Sequence[Candidate]) -> dict[str, Any]:
    owner = next((person for person in people if person.key == item.owner), None)
    return {"line": item.line, "what": item.what, "owner": item.owner_text,
            "owner_address": (owner.email or None) if owner is not None else None,
            "due": item.due.isoformat() if item.due else None, "project": item.project,
            "problem": item.problem}
