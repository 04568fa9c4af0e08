"""Raw RFC 5322 bytes in, one decoded ``ParsedMessage`` out: the first, pure stage of intake.

Mail in the wild is malformed in every way a program can think of, and a message
that makes the parser raise is a message nobody answers. So nothing here raises:
every stage falls back to something sensible and writes down what it did in
``defects``, which ``drumbeat inspect`` shows next to the result.

Why the legacy ``compat32`` parser and our own decoding: the modern
``policy.default`` parser raises on some malformed headers and is several times
slower; ``email.header.decode_header`` turns unencoded non-Latin-1 text into
escapes, raises on bad base64 and knows no fallback for unknown charsets. So the
tree comes from ``compat32``; transfer encodings are undone here, charsets and
encoded words in ``mail.read.decoding``, and the header fields are read in
``mail.read.headers``, each with a fallback.

Bounded work: the tree is fed to the parser in small chunks and feeding stops as
soon as MIME nesting gets deeper than ``max_depth`` (the stdlib parser's cost per
line grows with the depth, and it overflows the stack near 1,000 levels); the walk
stops after ``max_parts`` parts; header values are cut at 64 KiB.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.feedparser import BytesFeedParser
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from io import BytesIO
from types import MappingProxyType

from mail.read.decoding import (
    Defects,
    b64decode_lenient,
    decode_encoded_words,
    decode_text,
    guard,
    meta_charset,
    newlines,
    one_line,
    unescape_8bit,
)
from mail.read.headers import header_fields, read_headers, synthetic_id

__all__ = ["Attachment", "ParsedMessage", "parse_message", "parse_tree"]

_CHUNK = 4096  # bytes fed to the parser between two depth checks
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
_BODY_TYPES = frozenset({"text/plain", "text/html"})


@dataclass(frozen=True)
class Attachment:
    """A part that is neither a body nor an attached message; ``size`` is decoded bytes."""

    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMessage:
    """What intake needs of one message, decoded; ``defects`` says what had to be repaired.

    ``message_id`` is the Message-ID, or ``<sha256-HEX@drumbeat.invalid>`` of the raw
    bytes when there is no usable one (``has_message_id`` is then False), so the same
    bytes always get the same id and applying twice stays idempotent. Bodies use "\\n"
    line ends. Attached messages are not listed in ``attachments``.
    """

    message_id: str
    has_message_id: bool
    from_addr: str | None
    from_name: str | None
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    headers: Mapping[str, str] = field(hash=False)
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    attached_messages: tuple[bytes, ...]
    calendar: tuple[str, ...]
    defects: tuple[str, ...]
    size: int
    # The top-level header fields as written (name, value still folded, 8-bit bytes read
    # as UTF-8), for readers that must see a header exactly as sent (the strict From,
    # Authentication-Results) without parsing the bytes again; None when unread.
    raw_headers: tuple[tuple[str, str], ...] | None = field(default=None, compare=False,
                                                            repr=False)


# --- the MIME tree -----------------------------------------------------------------


def parse_tree(
    raw: bytes, *, max_depth: int = 30, max_parts: int = 500
) -> tuple[Message, tuple[str, ...]]:
    """The compat32 ``Message`` tree of ``raw`` and notes on what was cut, never raising.

    Feeding stops once nesting passes ``max_depth`` (the stdlib parser's cost per line
    grows with the depth, so a 900-deep message would otherwise take seconds) or a
    multipart has more than ``max_parts`` children.
    """
    notes: list[str] = []
    parser = BytesFeedParser(policy=compat32)
    try:
        for start in range(0, len(raw), _CHUNK):
            parser.feed(raw[start : start + _CHUNK])
            limit = _limit_reached(parser, max_depth, max_parts)
            if limit:
                notes.append(f"{limit}: the rest was not read")
                break
        return parser.close(), tuple(notes)
    except Exception as error:  # RecursionError, MemoryError, a parser bug
        notes.append(f"MIME structure unreadable ({type(error).__name__}): headers only")
    return _headers_only(raw), tuple(notes)


def _limit_reached(parser: BytesFeedParser, max_depth: int, max_parts: int) -> str | None:
    """Which limit the parts the parser has open exceed, if any (private state, read
    defensively: without it the limits are left to the walk)."""
    stack = getattr(parser, "_msgstack", ())
    if len(stack) > max_depth + 2:
        return f"MIME nesting is deeper than {max_depth} levels"
    for message in stack:
        children = getattr(message, "_payload", None)
        if isinstance(children, list) and len(children) > max_parts:
            return f"more than {max_parts} MIME parts"
    return None


def _headers_only(raw: bytes) -> Message:
    """The header block alone, for when the MIME structure defeats the parser."""
    try:
        message = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
        message.set_payload("")
        return message
    except Exception:
        return Message(policy=compat32)


@dataclass
class _Body:
    """What the walk collects; ``charset`` is the first declared text charset, a hint
    for 8-bit header bytes."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list)
    charset: str | None = None


def _walk(root: Message, notes: Defects, *, max_depth: int, max_parts: int) -> _Body:
    """Depth-first over the parts, in order, without descending into attached messages."""
    body = _Body()
    stack: list[tuple[Message, int]] = [(root, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > max_parts:
            notes.add(f"more than {max_parts} MIME parts: the rest was not read")
            break
        ctype = _content_type(part)
        where = "message" if seen == 1 else f"part {seen} ({ctype})"
        _note_parser_defects(part, notes, where)
        payload = _raw_payload(part)
        if ctype.startswith("multipart/") and isinstance(payload, list):
            if depth >= max_depth:
                notes.add(f"MIME nesting is deeper than {max_depth} levels: the rest was not read")
                continue
            children = [child for child in payload if isinstance(child, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
        else:
            try:
                _take_leaf(part, ctype, body, notes, where)
            except Exception as error:  # one bad part must not cost the others
                notes.add(f"{where}: unreadable part skipped ({type(error).__name__})")
    return body


def _note_parser_defects(part: Message, notes: Defects, where: str) -> None:
    """The parser's own findings, in its words (each defect class documents itself)."""
    for defect in getattr(part, "defects", ()):
        doc = (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0]
        notes.add(f"{where}: {doc}", key=doc)  # once: a cut message repeats it per level


def _take_leaf(part: Message, ctype: str, body: _Body, notes: Defects, where: str) -> None:
    """File one leaf part as body, calendar, attached message or attachment."""
    if ctype in _MESSAGE_TYPES:
        attached = _attached_message(part, notes, where)
        if attached:
            body.messages.append(attached)
        return
    filename = _filename(part)
    if isinstance(_raw_payload(part), list):  # message/delivery-status and its kin
        body.attachments.append(Attachment(filename, ctype, len(_flatten(part))))
        return
    data = _payload(part, notes, where)
    if ctype.startswith("multipart/"):
        notes.add(f"{where}: multipart without a usable boundary, read as plain text")
        ctype = "text/plain"
    label = _param(part, "charset")
    if ctype.startswith("text/") and body.charset is None and label:
        body.charset = label
    if ctype in _CALENDAR_TYPES:
        body.calendar.append(newlines(decode_text(data, label or "utf-8", notes, where)))
    elif ctype in _BODY_TYPES and _is_inline_body(part, filename, body, ctype):
        if ctype == "text/html" and not label:
            label = meta_charset(data)
        text = newlines(decode_text(data, label, notes, where))
        if ctype == "text/plain":
            if (_param(part, "format") or "").lower() == "flowed":
                text = unflow(text, delsp=(_param(part, "delsp") or "").lower() == "yes")
            body.text = text
        else:
            body.html = text
    else:
        if (filename or "").lower().endswith(".eml"):
            body.messages.append(data)
        body.attachments.append(Attachment(filename, ctype, len(data)))


def unflow(text: str, *, delsp: bool = False) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines (ending in a space) with the
    next line of the same quote depth, and remove space-stuffing. Thunderbird and
    Apple Mail send long lines this way, so a long command would otherwise be cut."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0

    def emit(content: str, depth: int) -> None:
        out.append(">" * depth + (" " if depth and content else "") + content)

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing (or the space after the quote marks)
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if pending is not None and depth != pending_depth:
            emit(pending, pending_depth)
            pending = None
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not flowed:
            emit(pending, depth)
            pending = None
    if pending is not None:
        emit(pending, pending_depth)
    return "\n".join(out)


def _is_inline_body(part: Message, filename: str | None, body: _Body, ctype: str) -> bool:
    """The first unnamed, not-attached text/plain (or text/html) part is the body."""
    taken = body.text if ctype == "text/plain" else body.html
    return taken is None and filename is None and _disposition(part) != "attachment"


def _attached_message(part: Message, notes: Defects, where: str) -> bytes:
    """The raw bytes of a message/rfc822 part (regenerated from the parsed tree).

    Some clients base64-encode the attached message, which RFC 2046 forbids; the
    parser then reads the base64 text as the message, so it is decoded here.
    """
    payload = _raw_payload(part)
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        data = _payload(part, notes, where)
        return data.lstrip(b"\r\n")
    data = _undo_base64_or_qp(_flatten(inner), _cte(part), notes,
                              f"{where}: damaged base64 in the attached message")
    return data.lstrip(b"\r\n")


def _flatten(message: Message) -> bytes:
    """Bytes of a parsed (sub)message, headers unfolded as received; b"" if impossible."""
    try:
        buffer = BytesIO()
        policy = compat32.clone(linesep="\r\n", max_line_length=0)
        BytesGenerator(buffer, mangle_from_=False, policy=policy).flatten(message)
        return buffer.getvalue()
    except Exception:
        return b""


# --- part attributes ---------------------------------------------------------------


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    """One parameter, RFC 2231 collapsed, 8-bit bytes as UTF-8; None if absent."""
    try:
        value = part.get_param(name, header=header)
        if value is None:
            return None
        text = collapse_rfc2231_value(value)
        return unescape_8bit(str(text), None) or None
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    """The filename from Content-Disposition or the Content-Type name, RFC 2047 decoded
    (Outlook and Gmail encode filenames as encoded words, which RFC 2231 does not allow)."""
    try:
        name = _param(part, "filename", "content-disposition") or _param(part, "name")
    except Exception:
        return None
    if name is None:
        return None
    return one_line(decode_encoded_words(name, Defects(), "filename")) or None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _cte(part: Message) -> str:
    value = _raw_header(part, "content-transfer-encoding") or ""
    return value.strip().strip("\"'").strip().lower()


def _raw_header(part: Message, name: str) -> str | None:
    """First value of one header as stored (8-bit bytes as surrogate escapes)."""
    for key, value in part.raw_items():
        if str(key).lower() == name:
            return str(value)
    return None


def _payload(part: Message, notes: Defects, where: str) -> bytes:
    """The part's body bytes with its transfer encoding undone, leniently."""
    data = _wire_bytes(part)
    cte = _cte(part)
    if cte in {"base64", "quoted-printable"}:
        data = _undo_base64_or_qp(data, cte, notes, f"{where}: damaged base64 (truncated "
                                  "or bad padding): decoded what was there")
    elif cte in {"x-uuencode", "uuencode", "x-uue", "uue"}:
        try:
            decoded = part.get_payload(decode=True)
        except Exception:
            decoded = None
        data = decoded if isinstance(decoded, bytes) else data
    elif cte not in {"", "7bit", "8bit", "binary"}:
        notes.add(f"{where}: unknown Content-Transfer-Encoding {cte[:40]!r}, read as 8bit")
    return data


def _undo_base64_or_qp(data: bytes, cte: str, notes: Defects, damaged_note: str) -> bytes:
    """Base64 (leniently, noting damage) or quoted-printable undone; anything else as given."""
    if cte == "base64":
        data, damaged = b64decode_lenient(data)
        if damaged:
            notes.add(damaged_note)
    elif cte == "quoted-printable":
        data = binascii.a2b_qp(data)
    return data


def _raw_payload(part: Message) -> object:
    """The payload as the parser stored it: a list of parts, or text with 8-bit bytes
    as surrogate escapes.

    Read from ``_payload`` because compat32's ``get_payload()`` decodes 8-bit bodies
    with the declared charset and ``errors="replace"`` (losing the bytes of every
    mislabelled message, and raising on some charset labels), and
    ``get_payload(decode=True)`` hides base64 damage.
    """
    return getattr(part, "_payload", None)


def _wire_bytes(part: Message) -> bytes:
    """The body bytes as received, before any decoding."""
    payload = _raw_payload(part)
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


# --- the whole message -------------------------------------------------------------


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    try:
        return bytes(raw)  # type: ignore[call-overload]
    except Exception:
        return b""


def parse_message(raw: bytes, *, max_depth: int = 30, max_parts: int = 500) -> ParsedMessage:
    """Parse one raw message; never raises, and says in ``defects`` what it repaired."""
    data = _as_bytes(raw)
    notes = Defects()
    try:
        return _parse(data, notes, max_depth, max_parts)
    except Exception as error:  # the last line of defence: mail must never crash intake
        notes.add(f"parsing failed ({type(error).__name__}): only size and a synthetic id kept")
        return _empty(data, notes)


def _parse(raw: bytes, notes: Defects, max_depth: int, max_parts: int) -> ParsedMessage:
    root, tree_notes = parse_tree(raw, max_depth=max_depth, max_parts=max_parts)
    for note in tree_notes:
        notes.add(note)
    body = guard(
        lambda: _walk(root, notes, max_depth=max_depth, max_parts=max_parts),
        _Body(),
        notes,
        "the MIME parts",
    )
    headers = guard(lambda: read_headers(root, notes), {}, notes, "the headers")
    fields = header_fields(headers, raw, body.charset, notes)
    return ParsedMessage(
        **fields,
        text=body.text,
        html=body.html,
        attachments=tuple(body.attachments),
        attached_messages=tuple(body.messages),
        calendar=tuple(body.calendar),
        defects=notes.all(),
        size=len(raw),
        raw_headers=_as_written(root),
    )


def _as_written(root: Message) -> tuple[tuple[str, str], ...] | None:
    """The root's header fields as the parser stored them, 8-bit bytes read as UTF-8
    (what a header parser given the bytes decoded as UTF-8 would store); None if not."""
    try:
        return tuple((str(name), str(value).encode("ascii", "surrogateescape")
                      .decode("utf-8", "surrogateescape")) for name, value in root.raw_items())
    except Exception:  # a header the parser kept in some other shape: read the bytes instead
        return None


def _empty(raw: bytes, notes: Defects) -> ParsedMessage:
    """The least we can say about bytes nothing else could be read from."""
    return ParsedMessage(
        message_id=synthetic_id(raw),
        has_message_id=False,
        from_addr=None,
        from_name=None,
        reply_to=(),
        to=(),
        cc=(),
        subject="",
        date=None,
        in_reply_to=None,
        references=(),
        headers=MappingProxyType({}),
        text=None,
        html=None,
        attachments=(),
        attached_messages=(),
        calendar=(),
        defects=notes.all(),
        size=len(raw),
    )
