"""Building the MIME message of one outgoing email: rendered words in, a message out.

multipart/alternative (text/plain first, so clients that can show HTML prefer the
last part), UTF-8, threaded (Message-ID, In-Reply-To, References), and marked as
machine-sent so vacation responders and Outlook's auto-replies stay quiet.

With pictures and files (the evaluation digests) the tree is the one every
client understands::

    multipart/mixed
      multipart/alternative
        text/plain
        multipart/related
          text/html           (shows the pictures as <img src="cid:...">)
          image/png           (Content-ID, inline), one per picture
      text/csv ...            (attachment), one per file

Without pictures there is no multipart/related level, without files no
multipart/mixed one: an agenda stays plain multipart/alternative.
Serialise with ``to_bytes``: CRLF line ends, RFC 2047 encoded words for non-ASCII
names and subjects, text parts in 7bit when they are plain ASCII, else
quoted-printable (never raw 8-bit, which not every relay carries).

Header injection: user text reaches headers only through subjects and display
names, and those are collapsed to one line here before the email package ever
sees them; addresses and message ids are checked to be exactly one of their kind.
"""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.encoders import encode_base64
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import SMTP, Compat32
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from io import BytesIO
from typing import Any

from mail.write.render import RenderedEmail, oneline

__all__ = [
    "AttachedFile",
    "InlineImage",
    "build_message",
    "format_address",
    "make_message_id",
    "thread_root_id",
    "threading_ids",
    "to_bytes",
]

_MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except the colon
_AUTO_SUBMITTED = frozenset({"auto-generated", "auto-replied", "auto-notified"})
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_CONTENT_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER = re.compile(rf"({_TOKEN})=(\"[^\"\\\r\n]*\"|{_TOKEN})")
# Built with the email package's compat32 classes: plain string headers and C-speed
# encoders, several times cheaper than the modern API, which parses every header it
# is given (an answer's MIME build and serialisation took 3.5 ms of CPU that way).


class _Wire(Compat32):
    """compat32 with CRLF line ends that writes a short plain-ASCII header as it is
    (the base class wraps every header in an ``email.header.Header`` to fold it)."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (isinstance(value, str) and value.isascii() and "\n" not in value
                and "\r" not in value and len(name) + len(value) + 2 <= 78):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_BUILD = _Wire(linesep="\r\n")


@dataclass(frozen=True)
class InlineImage:
    """A PNG the HTML part shows with ``<img src="cid:CID">``."""

    cid: str  # without the angle brackets: "goals.2026-q4@drumbeat.digest"
    filename: str
    png: bytes


@dataclass(frozen=True)
class AttachedFile:
    """A file attached to the message, e.g. the figures of a digest as CSV."""

    filename: str
    content_type: str  # "text/csv" or "text/csv; charset=utf-8"
    data: bytes


def make_message_id(domain: str, kind: str) -> str:
    """A fresh ``<...kind@domain>`` Message-ID; ``kind`` helps when reading logs."""
    return make_msgid(idstring=kind, domain=domain)


# A msg-id we repeat in In-Reply-To or References: RFC 5322's "<left@right>" in printable
# ASCII, one "@", no spaces, brackets or control characters, and not absurdly long.
_VALID_MSG_ID = re.compile(r"<[!-;=?A-~]{1,250}@[!-;=?A-~]{1,250}>")
MAX_REFERENCES = 10


def threading_ids(message_id: str | None, references: Sequence[str]) -> tuple[str | None, str]:
    """The In-Reply-To and References of an answer to a message with ``message_id`` and
    ``references``: only the valid msg-ids, the newest ``MAX_REFERENCES``, each once.

    What a stranger's client wrote there is repeated in our headers, so anything
    malformed is left out rather than allowed to fail (or inject into) the answer.
    """
    in_reply_to = _valid_msg_id(message_id)
    kept: dict[str, None] = {}
    for candidate in [*references[-4 * MAX_REFERENCES:], in_reply_to]:
        valid = _valid_msg_id(candidate)
        if valid is not None:
            kept.pop(valid, None)  # seen again: it moves to where it was seen last
            kept[valid] = None
    return in_reply_to, " ".join(list(kept)[-MAX_REFERENCES:])


def _valid_msg_id(value: str | None) -> str | None:
    value = value.strip() if isinstance(value, str) else ""
    return value if len(value) <= 502 and _VALID_MSG_ID.fullmatch(value) else None


def thread_root_id(manager_id: int, employee_id: int, domain: str) -> str:
    """The stable virtual root every agenda of one pair references, so clients
    thread the whole year of check-ins together even though no message has it."""
    return f"<checkin.{manager_id}.{employee_id}@{domain}>"


def format_address(name: str | None, addr: str) -> str:
    """``Name <addr>``, with the name on one line and quoted where it has to be."""
    return formataddr((oneline(name or ""), addr.strip()))


def _address(value: str, header: str) -> tuple[str, str]:
    """One (name, address) from ``addr`` or ``Name <addr>``; a CR/LF in the name becomes
    a space.

    The value is parsed after collapsing, and exactly one address must come out,
    so a crafted name cannot smuggle in a second recipient or a group.
    """
    parsed = getaddresses([oneline(value)])
    if len(parsed) != 1 or not parsed[0][1] or "@" not in parsed[0][1]:
        raise ValueError(f"{header}: not a single mail address: {value!r}")
    name, addr = parsed[0]
    if any(c.isspace() or c in '<>",;' for c in addr) or not addr.isascii():
        raise ValueError(f"{header}: not a single mail address: {value!r}")
    return oneline(name), addr


def _address_header(name: str, addr: str, header: str) -> Header | str:
    """The header value: ASCII names quoted as needed, others as RFC 2047 encoded
    words, folded with the address by the email package."""
    if name.isascii():
        return formataddr((name, addr))
    value = Header(header_name=header)
    value.append(name, "utf-8")
    value.append(f"<{addr}>", "us-ascii")
    return value


def _text_header(text: str, header: str) -> Header | str:
    return text if text.isascii() else Header(text, "utf-8", header_name=header)


def _msg_id(value: str, header: str) -> str:
    value = value.strip()
    if not _MSG_ID.fullmatch(value):
        raise ValueError(f"{header}: not a message id like <local@domain>: {value!r}")
    return value


def _filename(value: str) -> str:
    """A bare file name on one line: no folders, never empty."""
    name = oneline(value).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "attachment"


def _content_id(value: str, seen: set[str]) -> str:
    cid = value.strip()
    if cid.startswith("<") and cid.endswith(">"):
        cid = cid[1:-1]
    if not _MSG_ID.fullmatch(f"<{cid}>"):
        raise ValueError(f"Content-ID: not an id like local@domain: {value!r}")
    if cid.casefold() in seen:
        raise ValueError(f"Content-ID used twice: {value!r}")
    seen.add(cid.casefold())
    return f"<{cid}>"


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """``type/subtype`` and its parameters from ``type/subtype; name=value; ...``."""
    head, *rest = value.split(";")
    match = _CONTENT_TYPE.fullmatch(head.strip())
    params: dict[str, str] = {}
    for item in rest:
        parameter = _PARAMETER.fullmatch(item.strip())
        if not parameter:
            match = None
            break
        params[parameter.group(1).lower()] = parameter.group(2).strip('"')
    if not match:
        raise ValueError(f"not a content type like text/csv: {value!r}")
    if match.group(1).lower() == "multipart":
        raise ValueError(f"an attachment cannot be multipart: {value!r}")
    return match.group(1).lower(), match.group(2).lower(), params


def build_message(
    *,
    rendered: RenderedEmail,
    from_addr: str,
    to_addr: str,
    reply_to: str | None,
    message_id: str,
    in_reply_to: str | None,
    references: list[str],
    date: datetime,
    auto_submitted: str = "auto-generated",
    extra_headers: dict[str, str] | None = None,
    inline_images: Sequence[InlineImage] = (),
    attachments: Sequence[AttachedFile] = (),
) -> Message:
    """The complete message, ready for a transport (serialise it with :func:`to_bytes`).
    Raises ValueError on an
    address, message id, Content-ID or content type that would make a broken or
    ambiguous message.

    ``inline_images`` go next to the HTML part (multipart/related), each with its
    Content-ID; ``attachments`` make the whole a multipart/mixed.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date header needs an aware datetime")
    if auto_submitted not in _AUTO_SUBMITTED:
        raise ValueError(f"Auto-Submitted must be one of {sorted(_AUTO_SUBMITTED)}")
    seen: set[str] = set()
    images = [(_content_id(image.cid, seen), image) for image in inline_images]
    files = [(_content_type(item.content_type), item) for item in attachments]
    body: Message = _multipart("alternative")
    body.attach(_text_part(rendered.text, "plain"))
    html: Message = _text_part(rendered.html, "html")
    if images:
        html = _related(html, images)
    body.attach(html)
    message = _mixed(body, files) if files else body
    for name, value in _headers(rendered, from_addr, to_addr, reply_to, message_id,
                                in_reply_to, references, date, auto_submitted,
                                extra_headers):
        message[name] = value
    for name, value in _mime_headers(message):  # ours first, then the MIME ones
        message[name] = value
    for part in message.walk():  # the email classes give every part one
        if part is not message:
            del part["MIME-Version"]
    return message


def _multipart(subtype: str) -> Message:
    """A multipart part with a random boundary: no text of ours can contain 128 random
    bits, and a boundary given spares the generator a search (and a regex) per part."""
    return MIMEMultipart(subtype, boundary=f"=_drumbeat_{uuid.uuid4().hex}", policy=_BUILD)


def _headers(rendered: RenderedEmail, from_addr: str, to_addr: str, reply_to: str | None,
             message_id: str, in_reply_to: str | None, references: list[str],
             date: datetime, auto_submitted: str, extra_headers: dict[str, str] | None
             ) -> list[tuple[str, Header | str]]:
    headers: list[tuple[str, Header | str]] = [
        ("From", _address_header(*_address(from_addr, "From"), "From")),
        ("To", _address_header(*_address(to_addr, "To"), "To"))]
    if reply_to:
        headers.append(("Reply-To", _address_header(*_address(reply_to, "Reply-To"),
                                                    "Reply-To")))
    headers += [("Subject", _text_header(oneline(rendered.subject), "Subject")),
                ("Date", format_datetime(date)),
                ("Message-ID", _msg_id(message_id, "Message-ID"))]
    if in_reply_to:
        headers.append(("In-Reply-To", _msg_id(in_reply_to, "In-Reply-To")))
    if references:
        headers.append(("References",
                        " ".join(_msg_id(ref, "References") for ref in references)))
    headers += [("Auto-Submitted", auto_submitted), ("X-Auto-Response-Suppress", "All")]
    taken = {name.lower() for name, _ in headers} | {"mime-version", "content-type",
                                                      "content-transfer-encoding"}
    for name, value in (extra_headers or {}).items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in taken:
            raise ValueError(f"not an extra header we may add: {name!r}")
        taken.add(name.lower())
        headers.append((name, _text_header(oneline(value), name)))
    return headers


def _mime_headers(message: Message) -> list[tuple[str, str]]:
    """Take the MIME headers off the top part, to put them back after ours."""
    moved = [(name, value) for name, value in message.items()
             if name.lower() in ("content-type", "content-transfer-encoding", "mime-version")]
    for name in {name for name, _ in moved}:
        del message[name]
    return moved


def _text_part(text: str, subtype: str) -> Message:
    """UTF-8 text: 7bit when it is plain ASCII with short lines, else quoted-printable
    (binascii's, in C); either way every relay can carry it."""
    part = MIMENonMultipart("text", subtype, policy=_BUILD, charset="utf-8")
    text = text.replace("\r\n", "\n")
    if text.isascii() and all(len(line) <= 998 for line in text.split("\n")):
        part["Content-Transfer-Encoding"] = "7bit"
        part.set_payload(text)
    else:
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


def _related(html: Message, images: list[tuple[str, InlineImage]]) -> Message:
    related = _multipart("related")
    related.attach(html)
    for cid, image in images:
        part = MIMEImage(image.png, "png", policy=_BUILD)
        part["Content-ID"] = cid
        _disposition(part, "inline", image.filename)
        related.attach(part)
    return related


def _mixed(body: Message, files: list[tuple[tuple[str, str, dict[str, str]], AttachedFile]]
           ) -> Message:
    mixed = _multipart("mixed")
    mixed.attach(body)
    for (maintype, subtype, params), item in files:
        part = MIMEBase(maintype, subtype, policy=_BUILD, **params)
        part.set_payload(item.data)
        encode_base64(part)
        _disposition(part, "attachment", item.filename)
        mixed.attach(part)
    return mixed


def _disposition(part: Message, kind: str, filename: str) -> None:
    name = _filename(filename)
    part.add_header("Content-Disposition", kind,
                    filename=name if name.isascii() else ("utf-8", "", name))


def to_bytes(message: Message) -> bytes:
    """The message as it goes on the wire: CRLF line ends, headers folded for SMTP
    (ours with the policy they were built with, any other with ``policy.SMTP``)."""
    if isinstance(message, EmailMessage):
        return message.as_bytes(policy=SMTP)
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_BUILD).flatten(message)
    return buffer.getvalue()
