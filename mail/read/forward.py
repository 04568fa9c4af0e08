"""Forwarded messages inside a message: who wrote them, when, about what, and what they said.

A manager forwards the notes of a 1:1 to Drumbeat; what matters is the forwarded
message, not the forward. Mail clients write it in one of a few shapes, each in the
user's language:

- a separator line, then a header block: Gmail ``---------- Forwarded message
  ---------``, Thunderbird ``-------- Forwarded Message --------``, Samsung and older
  Outlook ``-----Original Message-----``, Yahoo (its header block glued onto the
  separator line: ``----- Forwarded Message ----- From: …To: …Subject: …``);
- an intro line, then a header block that is often quoted with ``>``: Apple Mail
  ``Begin forwarded message:``, MailMate ``Forwarded message:``;
- a bare header block (``From:`` / ``Sent:`` / ``To:`` / ``Subject:``), often under a
  line of underscores: Outlook desktop, web and mobile (in HTML it starts at
  ``div#divRplyFwdMsg``, which becomes the same lines as text);
- Outlook for Mac: an ``On …, "Name" <address> wrote:`` line over an indented copy,
  with only the ``FW:`` subject telling it from a reply;
- a whole message attached as ``message/rfc822`` (or an ``.eml`` file);
- NeoMutt (and Mutt): ``----- Forwarded message from Name <address> -----`` over the
  header block, the body, then ``----- End forwarded message -----``.

A forward of a forward gives one entry per level, outermost first; each entry's body
stops where the next level starts, and the next level's ``note`` is that body.

Replies are never forwards. An Outlook reply quotes the original under the same bare
header block a forward uses, and Samsung's ``-------- Original message --------`` is
the same line in both, so those weak signs count only when the subject is not a
reply's (``Re:``/``AW:``…) and, without a forward prefix (``Fwd:``/``WG:``…), only
near the top; a reply attribution (``On … wrote:``) above everything ends the search.

Dates are read as written (``mail.read.dates.read_header_date``): ``email.utils``
for RFC 5322 dates, else ``dateparser`` with the languages the block's labels are
in. A date with a zone ("+0100", "CET", "GMT+1", "MEZ") is aware, one without is
naive; an unreadable date is None with ``date_text`` kept.

Pure and total: nothing here raises, and the work is bounded (the text read, the
lines scanned, the levels and the entries are capped).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from mail.read.dates import read_header_date
from mail.read.forward_blocks import (
    GLUED,
    MAX_LINE,
    NAME_TRIM,
    RULE,
    Fields,
    addresses,
    header_line,
    mailbox,
    read_block,
    yahoo_fields,
)
from mail.read.headers import ADDRESS
from mail.read.html_text import html_to_text
from mail.read.message import ParsedMessage, parse_message
from mail.read.vocabulary import (
    ATTRIBUTION_VERB,
    ATTRIBUTION_VERB_INSIDE,
    FORWARD_INTROS,
    FORWARD_PHRASES,
    FORWARD_SUBJECT,
    INVISIBLE,
    INVISIBLE_OR_SPACE,
    ORIGINAL_PHRASES,
    REPLY_SUBJECT,
    alternatives,
)

__all__ = ["Forwarded", "find_forwards", "split_forward"]

_MAX_CHARS = 1_000_000  # text read from one body
_HTML_CHARS = 2_000_000  # HTML converted to text for it
_MAX_LINES = 20_000  # lines scanned for forwards (a longer body is cut there)
_MAX_FORWARDS = 50  # entries returned for one message
_MAX_LEVELS = 20  # forwards nested in forwards
_MAX_ATTACHED = 10  # attached messages read
_NEAR_TOP = 8  # lines of text allowed above a bare header block without a forward prefix


@dataclass(frozen=True)
class Forwarded:
    """One forwarded message: its headers as the forward wrote them, and its text.

    ``from_addr``, ``to`` and ``cc`` are lower-cased addresses. ``date`` is aware when
    the written date had a zone, naive otherwise, None when unreadable (``date_text``
    keeps what was written). ``body`` is the forwarded text, trimmed, without the
    next nested forward; ``note`` is the text written above this forward ("" if none).
    """

    from_addr: str | None
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    date_text: str | None
    subject: str | None
    body: str
    note: str = ""
    message_id: str | None = None  # the forwarded message's own Message-ID, when given

    def to_json(self) -> dict[str, Any]:
        """The inspect contract's ``forwarded`` item: from, to, date (ISO 8601 or null),
        subject, body."""
        if self.from_addr and self.from_name:
            sender: str | None = f"{self.from_name} <{self.from_addr}>"
        else:
            sender = self.from_addr or self.from_name
        return {
            "from": sender,
            "to": list(self.to),
            "date": self.date.isoformat() if self.date else None,
            "subject": self.subject,
            "body": self.body,
        }


# --- separators and attributions --------------------------------------------------

_DASHES = r"[-=_~—]{2,}"
_SEPARATOR = re.compile(
    rf"^\s*+[-=_~—]{{2}}[-=_~—\s]*+(?P<phrase>{alternatives(FORWARD_PHRASES)}|"
    rf"(?P<original>{alternatives(ORIGINAL_PHRASES)}))"
    rf"(?:[^:\n]{{0,40}}?{_DASHES}[-=_~— ]*(?P<rest>.*)|[ \t]*)$",
    re.I,
)
# Mutt and NeoMutt name the forwarded message's author on the line, then end the body.
_MUTT_SEPARATOR = re.compile(r"^\s*-{3,}\s*forwarded message from\s.{1,300}?-{3,}\s*$", re.I)
_MUTT_END = re.compile(r"^\s*-{3,}\s*end forwarded message\s*-{3,}\s*$", re.I)
_INTRO = re.compile(rf"^\s*\*?(?:{alternatives(FORWARD_INTROS)})\s*[:：]\*?\s*$", re.I)

_QUOTE = re.compile(r"^[ \t]{0,3}((?:>[ \t]?)+)")
_DISCLAIMER = re.compile(
    r"confidential|intended (?:solely|only|recipient)|privileged|disclaimer|vertraulich|"
    r"confidentiel|confidencial|riservat|vertrouwelijk",
    re.I,
)

# The attribution line of a reply ("On …, Ann <ann@x> wrote:"): a verb and a date or
# an address, ending in a colon.
_SIGNAL = re.compile(r"@|<|\d{1,2}[:.]\d{2}|\b(?:19|20)\d{2}\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_NUMERIC_DATE = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}(?:,?\s*\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
)
_WORDY_DATE = re.compile(
    r"^\W*(?:on|le|am|el|em|il|op|den|dne|d\.)\s+(?P<date>.{6,80}?\d{1,2}[:.]\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?)",
    re.I,
)


# --- lines -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    depth: int  # quote depth ("> > x" is 2)
    text: str  # without the quote marks, stripped, cut to MAX_LINE


def _depth(line: str) -> int:
    found = _QUOTE.match(line[:MAX_LINE])
    return found.group(1).count(">") if found else 0


def _line(line: str) -> _Line:
    head = line[:MAX_LINE]
    found = _QUOTE.match(head)
    if not found:
        return _Line(0, head.strip())
    return _Line(found.group(1).count(">"), head[found.end() :].strip())


def _dequote(line: str, depth: int) -> str:
    """``line`` with ``depth`` levels of "> " removed."""
    if depth <= 0:
        return line
    rest = line.lstrip(" \t") if line[:4].lstrip(" \t").startswith(">") else line
    for _ in range(depth):
        if not rest.startswith(">"):
            break
        rest = rest[1:]
        if rest.startswith(" "):
            rest = rest[1:]
    return rest


def _prepare(text: str) -> list[str]:
    """One kind of newline, no invisible characters, ordinary spaces; capped."""
    text = text[:_MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(INVISIBLE_OR_SPACE)
    return [line.rstrip() for line in text.split("\n")[:_MAX_LINES]]


def _blank(line: _Line) -> bool:
    return not line.text


# --- finding where a forward starts -------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What the caller knows about the message around the text."""

    top: bool  # the message's own text (not a forwarded body)
    reply: bool = False  # the message is a reply: weak signs are its quote, not a forward
    forward: bool = False  # the subject says forward: weak signs count anywhere
    subject: str | None = None  # the subject without its forward prefix


@dataclass(frozen=True)
class _Start:
    index: int  # first line that belongs to the forward (separator, intro, rule, header)
    header: int  # first line of its header block (or of its text, for attributions)
    kind: str  # "separator" | "intro" | "original" | "block" | "yahoo" | "attribution"
    rest: str = ""  # Yahoo: the header fields written on the separator line


def _find_start(raw: list[str], lines: list[_Line], context: _Context) -> _Start | None:
    """The first forward in ``lines``, or None; a reply boundary ends the search."""
    above = 0
    for index, line in enumerate(lines):
        if _blank(line):
            continue
        found = _start_at(raw, lines, index, context, above)
        if found == "stop":
            return None
        if isinstance(found, _Start):
            return found
        if not RULE.match(line.text):
            above += 1
    return None


def _start_at(
    raw: list[str], lines: list[_Line], index: int, context: _Context, above: int
) -> _Start | str | None:
    """A forward starting at ``lines[index]``, "stop" at a reply boundary, else None."""
    line = lines[index]
    text = line.text
    if _MUTT_SEPARATOR.match(text):
        return _Start(index, _first_filled(lines, index + 1), "separator")
    separator = _SEPARATOR.match(text.replace("İ", "I"))
    if separator:
        if separator.group("original") and context.top and context.reply:
            return "stop"  # "-----Original Message-----" of a reply
        rest = (separator.group("rest") or "").strip()
        if rest and GLUED.match(rest):
            return _Start(index, index, "yahoo", rest)
        kind = "original" if separator.group("original") else "separator"
        return _Start(index, _first_filled(lines, index + 1), kind)
    if _INTRO.match(text.replace("İ", "I")):
        return _Start(index, _first_filled(lines, index + 1), "intro")
    if _is_attribution(lines, index):
        if (
            context.top
            and context.forward
            and above <= _NEAR_TOP
            and _quoted_below(raw, lines, index)
        ):
            return _Start(index, index, "attribution")
        return "stop"
    header = header_line(text)
    if header is not None and header[0] in {"from", "date"}:
        view = [ln.text if ln.depth >= line.depth else "" for ln in lines[index : index + 12]]
        fields, _ = read_block(view, 0)
        if not _plausible_block(fields):
            return None
        if context.top and (context.reply or (not context.forward and above > _NEAR_TOP)):
            return "stop"  # the quoted original of a reply
        start = index
        previous = index - 1
        while previous >= 0 and _blank(lines[previous]):
            previous -= 1
        if previous >= 0 and RULE.match(lines[previous].text):
            start = previous
        return _Start(start, index, "block")
    return None


def _plausible_block(fields: Fields) -> bool:
    """A bare block needs From and two more fields, and an address or a dated line."""
    if not fields.complete():
        return False
    sender = fields.first("from") or ""
    dated = any(re.search(r"\d", value) for value in fields.all("date"))
    return bool(ADDRESS.search(sender)) or dated


def _first_filled(lines: list[_Line], index: int) -> int:
    while index < len(lines) and _blank(lines[index]):
        index += 1
    return index


def _is_attribution(lines: list[_Line], index: int) -> bool:
    """ "On …, Ann <ann@x> wrote:", also when wrapped onto a second line."""
    text = lines[index].text
    if len(text) > 400:
        return False
    candidates = [text]
    following = index + 1
    if following < len(lines) and not text.endswith((":", "：")) and lines[following].text:
        candidates.append(f"{text} {lines[following].text}")
    for candidate in candidates:
        if not candidate.endswith((":", "：")) or not _SIGNAL.search(candidate):
            continue
        if ATTRIBUTION_VERB.search(candidate[-60:]) or ATTRIBUTION_VERB_INSIDE.search(candidate):
            return True
    return False


def _quoted_below(raw: list[str], lines: list[_Line], index: int) -> bool:
    """Whether the attribution at ``index`` is followed by a quoted or indented copy."""
    following = _first_filled(lines, index + 1)
    if following >= len(lines):
        return False
    return lines[following].depth > lines[index].depth or _indented(raw[following])


def _indented(line: str) -> bool:
    return line.startswith(("    ", "\t"))


# --- splitting ---------------------------------------------------------------------------


@dataclass
class _Budget:
    entries: int = _MAX_FORWARDS


def _split(
    raw: list[str], context: _Context, budget: _Budget, level: int
) -> tuple[str, list[Forwarded]]:
    """(text above the first forward, the forwards in ``raw`` outermost first)."""
    lines = [_line(line) for line in raw]
    start = None
    if budget.entries > 0 and level < _MAX_LEVELS:
        start = _find_start(raw, lines, context)
    if start is None:
        return _tidy(raw, nested=not context.top), []
    note = _tidy(raw[: start.index], nested=not context.top)
    budget.entries -= 1
    region, after = _region(raw, lines, start)
    forward, text = _read_forward(raw, region, start, context)
    body, inner = _split(text, _Context(top=False), budget, level + 1)
    found = [replace(forward, body=body, note=note), *inner]
    if after < len(raw) and budget.entries > 0:  # another forward below a quoted one
        _, siblings = _split(raw[after:], replace(context, subject=None), budget, level + 1)
        found += siblings
    return note, found


def _region(raw: list[str], lines: list[_Line], start: _Start) -> tuple[list[str], int]:
    """The forward's own lines from its header block on, unquoted, and the index after
    them: everything below, or for a quoted forward the quoted run (blank lines inside)."""
    if start.kind == "attribution":
        end = start.index + 1
        while end < len(raw) and (not raw[end].strip() or _indented(raw[end]) or lines[end].depth):
            end += 1
        return [_unindent(line) for line in raw[start.index + 1 : end]], end
    if start.header >= len(raw):  # a separator with nothing under it
        return [], len(raw)
    first = start.header
    depth = lines[first].depth
    end = first
    while end < len(raw):
        if _MUTT_END.match(lines[end].text):
            return [_dequote(line, depth) for line in raw[first:end]], end + 1
        if not _blank(lines[end]) and lines[end].depth >= depth:
            end += 1
            continue
        if _blank(lines[end]):
            following = _first_filled(lines, end)
            if following >= len(lines):
                end = len(raw)
                break
            if lines[following].depth >= depth:
                end = following
                continue
        elif _lazy(lines, end, depth):
            end += 1
            continue
        break
    return [_dequote(line, depth) for line in raw[first:end]], end


def _lazy(lines: list[_Line], index: int, depth: int) -> bool:
    """An unquoted wrapped line between two quoted ones (a client's lazy quoting)."""
    before, after = lines[index - 1], lines[index + 1] if index + 1 < len(lines) else None
    return bool(
        index > 0
        and after is not None
        and before.depth >= depth
        and not _blank(before)
        and after.depth >= depth
    )


def _unindent(line: str) -> str:
    if line.startswith("\t"):
        return line[1:]
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) >= 4:
        return line[4:]
    return _dequote(line, 1) if line.lstrip().startswith(">") else stripped


def _read_forward(
    raw: list[str], region: list[str], start: _Start, context: _Context
) -> tuple[Forwarded, list[str]]:
    """The headers of the forward at ``start`` and the lines of its text."""
    if start.kind == "yahoo":
        fields, after = yahoo_fields(start.rest), 1
    elif start.kind == "attribution":
        return _attributed(raw[start.index], context), region
    else:
        fields, after = read_block(region, 0)
    subject = fields.first("subject")
    if subject is None and context.top:
        subject = context.subject
    sender = fields.first("from")
    name, address = mailbox(sender)
    date_text = " ".join((fields.first("date") or "").split()) or None
    forward = Forwarded(
        from_addr=address,
        from_name=name,
        to=addresses(fields.all("to")),
        cc=addresses(fields.all("cc")),
        date=read_header_date(date_text, fields.languages()),
        date_text=date_text,
        subject=" ".join(subject.split()) if subject is not None else None,
        body="",
        message_id=_message_id(fields.first("message_id")),
    )
    return forward, region[after:]


_MESSAGE_ID = re.compile(r"<[^<>\s@]{1,250}@[^<>\s@]{1,250}>")


def _message_id(value: str | None) -> str | None:
    """The ``<left@right>`` of a forwarded header block's Message-ID line (full-header
    forwards, as NeoMutt writes them), so the message it forwards can be looked up."""
    found = _MESSAGE_ID.search(value or "")
    return found.group(0) if found else None


def _attributed(line: str, context: _Context) -> Forwarded:
    """Outlook for Mac's forward: 'On 28/10/2021 12:46, "Ann" <ann@x.org> wrote:'."""
    text = " ".join(line.translate(INVISIBLE).split())
    found = ADDRESS.search(text)
    name = None
    if found:
        before = text[: found.start()].rstrip(" <([\"'«»„“”")
        quoted = re.search(r"[\"«„“]\s*([^\"«»„“”]{1,80}?)\s*[\"»“”]\s*$", before)
        if quoted:
            name = quoted.group(1)
        else:
            chunk = re.split(r",\s*|\s\d{1,2}[:.]\d{2}\s", before)[-1].strip()
            name = chunk.strip(NAME_TRIM) or None
    date = _NUMERIC_DATE.search(text)
    date_text = date.group(0) if date else None
    if date_text is None:
        wordy = _WORDY_DATE.match(text)
        date_text = wordy.group("date").strip(" ,") if wordy else None
    return Forwarded(
        from_addr=found.group(0).lower() if found else None,
        from_name=name,
        to=(),
        cc=(),
        date=read_header_date(date_text),
        date_text=date_text,
        subject=context.subject,
        body="",
    )


def _tidy(lines: list[str], *, nested: bool) -> str:
    """Trimmed text. For a forwarded body: one quote level or an indentation that every
    line has is removed, and a disclaimer under a rule at the end is dropped."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if nested and lines:
        filled = [line for line in lines if line.strip()]
        if all(_depth(line) >= 1 for line in filled):
            lines = [_dequote(line, 1) for line in lines]
        elif all(line.startswith(("    ", "\t")) for line in filled):
            lines = [_unindent(line) for line in lines]
        lines = _without_footer(lines)
    return "\n".join(lines).strip()


def _without_footer(lines: list[str]) -> list[str]:
    """Cut at a rule line after which only a short signature or disclaimer follows."""
    for index, line in enumerate(lines):
        if index and RULE.match(line) and line.strip().startswith("_"):
            tail = [text for text in lines[index + 1 :] if text.strip()]
            if len(tail) <= 20 and _DISCLAIMER.search(" ".join(tail)):
                return lines[:index]
    return lines


# --- the public functions -----------------------------------------------------------------


def split_forward(text: str, *, subject: str | None = None) -> tuple[str, list[Forwarded]]:
    """(the text above the first forward, the forwards in ``text`` outermost first).

    ``subject``, when known, decides what an Outlook header block or an "Original
    Message" line means: a reply's quote ("Re: …"), a forward anywhere ("Fwd: …"), or
    (no prefix or no subject) a forward only near the top. Never raises.
    """
    return _split_text(text, subject, threaded=False)


def _split_text(text: str, subject: str | None, *, threaded: bool) -> tuple[str, list[Forwarded]]:
    try:
        if not isinstance(text, str) or not text.strip():
            return "", []
        return _split(_prepare(text), _context(subject, threaded=threaded), _Budget(), 0)
    except Exception:  # hostile text must never cost the message: no forwards found
        return (text.strip() if isinstance(text, str) else ""), []


def _context(subject: str | None, *, threaded: bool) -> _Context:
    clean = " ".join(unicodedata.normalize("NFKC", subject or "").split())
    forward = FORWARD_SUBJECT.match(clean)
    reply = bool(REPLY_SUBJECT.match(clean)) or (threaded and not forward)
    stripped = clean[forward.end() :].strip() if forward else None
    return _Context(top=True, reply=reply, forward=bool(forward), subject=stripped)


def find_forwards(parsed: ParsedMessage) -> tuple[Forwarded, ...]:
    """Every forwarded message in ``parsed``, outermost first: those written in its body
    (plain text, else its HTML as text), then each attached message and the forwards in
    it. A reply gives (). Never raises."""
    try:
        return _find(parsed, attached=True)
    except Exception:  # a parser bug costs the forwards, never the message
        return ()


def _find(parsed: ParsedMessage, *, attached: bool) -> tuple[Forwarded, ...]:
    text = _text_of(parsed)
    threaded = bool(parsed.in_reply_to or parsed.references)
    note, found = _split_text(text, parsed.subject, threaded=threaded)
    if attached:
        for raw in parsed.attached_messages[:_MAX_ATTACHED]:
            if len(found) >= _MAX_FORWARDS:
                break
            found += _attached(raw, note if not found else "")
    return tuple(found[:_MAX_FORWARDS])


def _text_of(parsed: ParsedMessage) -> str:
    if parsed.text and parsed.text.strip():
        return parsed.text
    if parsed.html and parsed.html.strip():
        return html_to_text(parsed.html[:_HTML_CHARS])
    return ""


def _attached(raw: bytes, note: str) -> list[Forwarded]:
    """An attached message (message/rfc822 or .eml) as an entry, then its own forwards."""
    inner = parse_message(raw)
    if not (inner.from_addr or inner.subject or inner.text or inner.html):
        return []
    body, nested = _split_text(_text_of(inner), inner.subject, threaded=False)
    entry = Forwarded(
        from_addr=inner.from_addr,
        from_name=inner.from_name,
        to=inner.to,
        cc=inner.cc,
        date=inner.date,
        date_text=_date_header(raw),
        subject=inner.subject,
        body=body,
        note=note,
        message_id=inner.message_id if inner.has_message_id else None,
    )
    return [entry, *nested]


def _date_header(raw: bytes) -> str | None:
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536]).get("date")
    except Exception:
        return None
    return " ".join(str(value).split()) or None if value is not None else None
