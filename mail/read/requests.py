"""Questions by email: a reply whose whole new text is ``status`` or ``help``.

They are read from the message as a whole, not line by line: ``status`` in the middle
of an update is prose (``mail.read.grammar``), while a message saying only ``status``
asks for the sender's page, and one saying only ``help`` for the reply grammar::

    status          your tasks, goals and check-ins
    status @ana     the page of someone in your reporting line (@name, @email's local
                    part, or the whole email, as ``new: … @ana`` names an owner)
    help            the lines Drumbeat reads, with your own tasks in the examples

Case, a trailing ``?``, ``!`` or ``.``, a bullet and blank lines around it do not
matter; anything else in the new text makes it an ordinary reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mail.read.vocabulary import normalize_line

__all__ = ["HELP", "STATUS", "Request", "read_request"]

STATUS = "status"
HELP = "help"

_REQUEST = re.compile(
    r"(?:[-*•]\s*)?(?P<kind>status|help)(?:\s+(?P<about>@?[\w.+'-]+(?:@[\w.-]+)?))?\s*[?!.]?",
    re.I)


@dataclass(frozen=True)
class Request:
    """What the sender asked for; ``about`` is a ``status``'s person as written
    (lower-cased, without the leading ``@``), None for their own page."""

    kind: str  # STATUS or HELP
    about: str | None = None


def read_request(text: str) -> Request | None:
    """The request a reply's new text makes, or None when it is anything else."""
    lines = [line for line in (normalize_line(raw) for raw in text.splitlines()[:20]) if line]
    if len(lines) != 1 or len(lines[0]) > 200:
        return None
    found = _REQUEST.fullmatch(lines[0])
    if found is None:
        return None
    kind, about = found["kind"].lower(), found["about"]
    if about is not None and (kind == HELP or (not about.startswith("@")
                              and "@" not in about)):
        return None  # "help me", "status quo": prose
    return Request(kind, about.lstrip("@").lower() if about else None)
