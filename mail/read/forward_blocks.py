"""The header blocks of forwarded messages: "From: … / Sent: … / To: … / Subject: …".

A block is read as written, in any language the shared vocabulary
(``mail.read.vocabulary``) knows: each line's label names its field, wrapped values
are joined, and Yahoo's one-line block (fields glued together) is cut apart. The
senders and recipients are read out of the values. Used by ``mail.read.forward``,
which finds where blocks start; pure and total like it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mail.read.headers import ADDRESS, find_addresses
from mail.read.vocabulary import HEADER_LABELS, LABEL_FIELD, LABEL_LANGUAGES, alternatives, fold

__all__ = [
    "GLUED",
    "MAX_LINE",
    "NAME_TRIM",
    "RULE",
    "Fields",
    "addresses",
    "header_line",
    "mailbox",
    "read_block",
    "yahoo_fields",
]

MAX_LINE = 2_000  # characters of a line that the patterns look at
_MAX_BLOCK = 40  # lines of one header block

_LABELS = alternatives(LABEL_FIELD)
# "From: x", "*From:* x" (Gmail's text of bold), "De : x", "送信元：x".
_HEADER = re.compile(
    rf"^[ \t]*\*{{0,2}}(?P<label>{_LABELS})\*{{0,2}}[ \t]*[:：][ \t]*\*{{0,2}}[ \t]*(?P<value>.*)$",
    re.I,
)
# Labels inside Yahoo's one-line block, where fields are glued: "…acme.com>To: …".
GLUED = re.compile(rf"(?P<label>{_LABELS})[ \t]?[:：]", re.I)
_GLUED_BARE = re.compile(  # and the two it writes without a colon: "…CETAssunto x", ">Dw x"
    rf"(?P<label>{alternatives(HEADER_LABELS['subject'] | HEADER_LABELS['cc'])})[ \t]", re.I
)

RULE = re.compile(r"^\s*(?:_{8,}|-{8,}|={8,})\s*$")  # Outlook's line above its block

_GLUED_MAILTO = re.compile(r"(?<=\S)<mailto:[^<>\s]*>", re.I)  # "x@y.com<mailto:x@y.com>"
NAME_TRIM = " \t\"'«»„“”‘’<>()[],;:*"


# --- header blocks -------------------------------------------------------------------


@dataclass
class Fields:
    """What one header block says, as written."""

    values: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, label, value)

    def kinds(self) -> set[str]:
        return {kind for kind, _, _ in self.values}

    def first(self, kind: str) -> str | None:
        return next((value for k, _, value in self.values if k == kind), None)

    def all(self, kind: str) -> list[str]:
        return [value for k, _, value in self.values if k == kind]

    def languages(self) -> tuple[str, ...]:
        """The languages of the labels, most specific first ("Von" before "Date")."""
        found: dict[str, int] = {}
        for _, label, _ in self.values:
            languages = LABEL_LANGUAGES.get(fold(label), ())
            if "en" in languages:
                continue
            for language in languages:
                found[language] = found.get(language, 0) + 1
        return tuple(sorted(found, key=lambda language: -found[language]))

    def complete(self) -> bool:
        """Enough of a block to be a forwarded message's headers without a separator."""
        kinds = self.kinds()
        return "from" in kinds and len(kinds & {"date", "to", "cc", "subject"}) >= 2


def header_line(text: str) -> tuple[str, str, str] | None:
    found = _HEADER.match(text[:MAX_LINE])
    if not found:
        return None
    label = found.group("label")
    return LABEL_FIELD[fold(label)], label, found.group("value").strip().rstrip("*").strip()


def read_block(lines: list[str], start: int) -> tuple[Fields, int]:
    """The header block at ``lines[start]`` and the index of the first line after it.

    Wrapped values are joined: an address list that ends in "," or ";" or goes on
    with addresses, a line followed by another header, a long line's short remainder.
    Blank lines inside the block are allowed when a new header follows (BlackBerry).
    """
    fields = Fields()
    index = start
    while index < len(lines) and len(fields.values) < _MAX_BLOCK:
        text = lines[index].strip()
        if not text:
            follow = _next_filled(lines, index, 3)
            header = header_line(lines[follow]) if follow is not None else None
            if fields.values and header and header[0] not in fields.kinds() - {"other"}:
                index = follow  # type: ignore[assignment]
                continue
            break
        header = header_line(text)
        if header is not None:
            fields.values.append(header)
            index += 1
            continue
        if not fields.values and RULE.match(text):
            index += 1
            continue
        if fields.values and _continues(fields, lines, index):
            kind, label, value = fields.values[-1]
            fields.values[-1] = (kind, label, f"{value} {text}".strip())
            index += 1
            continue
        break
    return fields, index


def _next_filled(lines: list[str], index: int, within: int) -> int | None:
    for follow in range(index + 1, min(len(lines), index + 1 + within)):
        if lines[follow].strip():
            return follow
    return None


def _address_list(text: str) -> bool:
    """A line of addresses ("Ann <a@x.org>, b@x.org;"), the rest of a wrapped To or Cc."""
    found = find_addresses(text)
    if not found or ":" in text:
        return False
    words = re.findall(r"[^\W\d_]+", ADDRESS.sub(" ", text))
    return len(words) <= 4 * len(found)


def _continues(fields: Fields, lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` (not a header) is the wrapped rest of the last header."""
    kind, _, value = fields.values[-1]
    text = lines[index].strip()
    following = lines[index + 1] if index + 1 < len(lines) else ""
    next_header = header_line(following.strip()) if following.strip() else None
    if next_header and next_header[0] not in fields.kinds():
        return True
    if kind in {"to", "cc", "from"} and (
        value.endswith((",", ";")) or _address_list(text[:MAX_LINE])
    ):
        return True
    previous = lines[index - 1].strip()
    return (
        kind == "subject"
        and len(previous) >= 70
        and len(text) <= 60
        and (not following.strip() or next_header is not None)
    )


def yahoo_fields(rest: str) -> Fields:
    """Yahoo's one-line block: "From: A <a@x>To: b@x …Sent: …Subject: …"."""
    starts: list[tuple[int, int, str]] = []
    for found in GLUED.finditer(rest):
        if _glued_boundary(rest, found.start()):
            starts.append((found.start(), found.end(), found.group("label")))
    for found in _GLUED_BARE.finditer(rest):
        position = found.start()
        glued = position > 0 and not rest[position - 1].isspace() and rest[position].isupper()
        if glued and not any(begin <= position < end for begin, end, _ in starts):
            starts.append((position, found.end(), found.group("label")))
    starts.sort()
    fields = Fields()
    for number, (_, end, label) in enumerate(starts):
        stop = starts[number + 1][0] if number + 1 < len(starts) else len(rest)
        fields.values.append((LABEL_FIELD[fold(label)], label, rest[end:stop].strip()))
    return fields


def _glued_boundary(text: str, position: int) -> bool:
    if position == 0:
        return True
    before = text[position - 1]
    return before.isspace() or before in ">)]\"'" or before.isdigit() or text[position].isupper()


# --- addresses -------------------------------------------------------------------


def mailbox(value: str | None) -> tuple[str | None, str | None]:
    """(display name, lower-cased address) of one written sender."""
    if not value:
        return None, None
    value = _GLUED_MAILTO.sub("", value)
    found = ADDRESS.search(value)
    if not found:
        name = value.strip(NAME_TRIM).strip()
        return name or None, None
    address = found.group(0).lower()
    before = value[: found.start()]
    before = re.sub(r"\[?mailto:$", "", before.rstrip(" <([\"'")).strip()
    name = before.strip(NAME_TRIM).strip()
    if not name or name.lower() == address:
        return None, address
    return " ".join(name.split()), address


def addresses(values: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for value in values:
        for address in find_addresses(_GLUED_MAILTO.sub("", value)):
            found.setdefault(address.lower(), None)
    return tuple(found)


