"""Building the MIME message of one outgoing email: rendered words in, EmailMessage out.

multipart/alternative (text/plain first, so clients that can show HTML prefer the
last part), UTF-8, threaded (Message-ID, In-Reply-To, References), and marked as
machine-sent so vacation responders and Outlook's auto-replies stay quiet.
Serialise with ``to_bytes`` (``email.policy.SMTP``: CRLF line ends, RFC 2047
encoded words for non-ASCII names and subjects).

Header injection: user text reaches headers only through subjects and display
names, and those are collapsed to one line here before the email package (which
refuses CR/LF in header values anyway) ever sees them.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

from mail.render import RenderedEmail, oneline

__all__ = [
    "build_message",
    "format_address",
    "make_message_id",
    "thread_root_id",
    "to_bytes",
]

_MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except the colon
_AUTO_SUBMITTED = frozenset({"auto-generated", "auto-replied", "auto-notified"})


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
) -> EmailMessage:
    """The complete message, ready for a transport. Raises ValueError on an
    address or message id that would make a broken or ambiguous message."""
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
    return message


def to_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF line ends, headers folded for SMTP."""
    return message.as_bytes(policy=SMTP)
