"""``drumbeat inspect``: everything the pure stages read from one message, as one JSON object.

No database is touched, so it shows exactly what the parser sees. The sender's
time zone is taken from the offset in the Date header (all we know without
the database); applying a real reply uses the person's own time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mail.classify import classify
from mail.forward import find_forwards
from mail.grammar import parse_commands
from mail.message import parse_message
from mail.reply_text import extract_reply


def _zone_of(moment: datetime | None) -> str:
    """An IANA zone with the Date header's offset (Etc/GMT signs are inverted)."""
    offset = moment.utcoffset() if moment else None
    if offset is None or offset.total_seconds() % 3600:
        return "UTC"
    hours = int(offset.total_seconds() // 3600)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def inspect_message(raw: bytes, sent_lines: tuple[str, ...] = (), *,
                    max_updates: int = 100) -> dict[str, Any]:
    """The DESIGN.md contract: message_id, from, subject, date, kind, reply_text,
    forwarded, commands, errors; at most ``max_updates`` update lines are read, as
    the worker reads them."""
    parsed = parse_message(raw)
    kind = classify(parsed, raw)
    reply = extract_reply(parsed.text, parsed.html, sent_lines=sent_lines,
                          sender_name=parsed.from_name)
    commands = parse_commands(reply.text, message_date=parsed.date or datetime.now(UTC),
                              timezone=_zone_of(parsed.date), inline=reply.inline,
                              max_updates=max_updates, truncated=reply.truncated)
    result = commands.to_json()
    return {
        "message_id": parsed.message_id,
        "from": parsed.from_addr,
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "kind": kind.kind.value,
        "reply_text": reply.written,
        "forwarded": [forward.to_json() for forward in find_forwards(parsed)],
        "commands": result["commands"],
        "errors": result["errors"],
    }
