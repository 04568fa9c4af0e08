"""Building the MIME message of one outgoing email: rendered words in, EmailMessage out.

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
Serialise with ``to_bytes`` (``email.policy.SMTP``: CRLF line ends, RFC 2047
encoded words for non-ASCII names and subjects).

Header injection: user text reaches headers only through subjects and display
names, and those are collapsed to one line here before the email package (which
refuses CR/LF in header values anyway) ever sees them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

from mail.render import RenderedEmail, oneline

__all__ = [
    "Attachment",
    "InlineImage",
    "build_message",
    "format_address",
    "make_message_id",
    "thread_root_id",
    "to_bytes",
]

_MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except the colon
_AUTO_SUBMITTED = frozenset({"auto-generated", "auto-replied", "auto-notified"})
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_CONTENT_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER = re.compile(rf"({_TOKEN})=(\"[^\"\\\r\n]*\"|{_TOKEN})")


@dataclass(frozen=True)
class InlineImage:
    """A PNG the HTML part shows with ``<img src="cid:CID">``."""

    cid: str  # without the angle brackets: "goals.2026-q4@drumbeat.digest"
    filename: str
    png: bytes


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message, e.g. the figures of a digest as CSV."""

    filename: str
    content_type: str  # "text/csv" or "text/csv; charset=utf-8"
    data: bytes


def make_message_id(domain: str, kind: str) -> str:
    """A fresh ``<...kind@domain>`` Message-ID; ``kind`` helps when reading logs."""
    return make_msgid(idstring=kind, domain=domain)


def thread_root_id(manager_id: int, employee_id: int, domain: str) -> str:
    """The stable virtual root every agenda of one pair references, so clients
    thread the whole year of check-ins together even though no message has it."""
    return f"<checkin.{manager_id}.{employee_id}@{domain}>"


def format_address(name: str | None, addr: str) -> str:
    """``Name <addr>``, with the name on one line and quoted where it has to be."""
    return str(Address(display_name=oneline(name or ""), addr_spec=addr.strip()))


def _address(value: str, header: str) -> Address:
    """One address from ``addr`` or ``Name <addr>``; a CR/LF in the name becomes a space.

    The value is parsed after collapsing, and exactly one address must come out,
    so a crafted name cannot smuggle in a second recipient or a group.
    """
    parsed = getaddresses([oneline(value)])
    if len(parsed) != 1 or not parsed[0][1] or "@" not in parsed[0][1]:
        raise ValueError(f"{header}: not a single mail address: {value!r}")
    name, addr = parsed[0]
    return Address(display_name=oneline(name), addr_spec=addr)


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
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The complete message, ready for a transport. Raises ValueError on an
    address, message id, Content-ID or content type that would make a broken or
    ambiguous message.

    ``inline_images`` go next to the HTML part (multipart/related), each with its
    Content-ID; ``attachments`` make the whole a multipart/mixed.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date header needs an aware datetime")
    if auto_submitted not in _AUTO_SUBMITTED:
        raise ValueError(f"Auto-Submitted must be one of {sorted(_AUTO_SUBMITTED)}")
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(from_addr, "From")
    message["To"] = _address(to_addr, "To")
    if reply_to:
        message["Reply-To"] = _address(reply_to, "Reply-To")
    message["Subject"] = oneline(rendered.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _msg_id(message_id, "Message-ID")
    if in_reply_to:
        message["In-Reply-To"] = _msg_id(in_reply_to, "In-Reply-To")
    if references:
        message["References"] = " ".join(_msg_id(ref, "References") for ref in references)
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra_headers or {}).items():
        if not _HEADER_NAME.fullmatch(name) or name in message:
            raise ValueError(f"not an extra header we may add: {name!r}")
        message[name] = oneline(value)
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    seen: set[str] = set()
    images = [(_content_id(image.cid, seen), image) for image in inline_images]
    files = [(_content_type(item.content_type), item) for item in attachments]
    if images:
        html_part = message.get_payload()[1]
        for cid, image in images:
            html_part.add_related(image.png, maintype="image", subtype="png", cid=cid,
                                  disposition="inline", filename=_filename(image.filename))
    for (maintype, subtype, params), item in files:
        message.add_attachment(item.data, maintype=maintype, subtype=subtype,
                               filename=_filename(item.filename), params=params or None)
    return message


def to_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF line ends, headers folded for SMTP."""
    return message.as_bytes(policy=SMTP)
