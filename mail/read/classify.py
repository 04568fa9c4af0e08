"""What kind of mail this is: the second pure stage of intake, run before anything is applied.

Automatic mail is recognised first (Discourse's lesson): a bounce or an
out-of-office read as a reply would be answered, and answering an auto-responder
is how mail loops start. Then forwards (meeting notes sent to notes@), then
replies, then everything else.

Each rule is a small function that returns a ``Classification`` or None; the
first that answers wins, and its ``reason`` says in words which header or pattern
decided, so ``drumbeat inspect`` can show it.

Deliberate choices:

- ``X-Auto-Response-Suppress`` alone is *not* a sign of automatic mail. It asks
  others not to auto-reply *to* this message; Exchange and Outlook set it on
  ordinary mail (meeting requests, mail sent by add-ins and scripts, and Drumbeat's
  own agendas), so a person's reply can carry it. Discourse matches it and has had
  to add allow-lists for Office 365 users.
- Mailing-list mail (``List-Id``, ``List-Unsubscribe``, ``Precedence: list``) is
  reported as ``AUTO_REPLY``: the kind that is never answered.
- ``X-MS-Exchange-Generated-Message-Source`` counts as automatic, as asked; this
  includes forwards made by a server-side Outlook rule ("Mailbox Rules Agent").
- A subject prefix decides before attachments and the body: "Re: Fwd: notes" is a
  reply, an Outlook reply ("AW:" with a "Von:/Gesendet:" block under the answer) is
  not mistaken for a forward, and a reply that attaches a message stays a reply.
- The Outlook header-block rule needs the block near the top (at most five lines of
  text above it); further down it is the quoted original of a reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum
from functools import cached_property

from flufl.bounce import scan_message
from inscriptis import get_text

from mail.read.message import ParsedMessage, parse_tree
from mail.read.vocabulary import (
    FORWARD_INTROS,
    FORWARD_PHRASES,
    FORWARD_SUBJECT,
    HEADER_LABELS,
    ORIGINAL_PHRASES,
    REPLY_SUBJECT,
    alternatives,
)

__all__ = ["Classification", "Kind", "classify"]

_BODY_CHARS = 20_000  # how much body text the body rules read
_HTML_CHARS = 200_000  # how much HTML is converted to text for them
_LINES_ABOVE_FORWARD = 5  # "little or no text above" an Outlook header block


class Kind(StrEnum):
    REPLY = "reply"
    FORWARD = "forward"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"


@dataclass(frozen=True)
class Classification:
    """The kind of a message, why (in words), and for bounces whom the mail failed to reach."""

    kind: Kind
    reason: str
    bounced_addresses: tuple[str, ...] = ()


# --- patterns ----------------------------------------------------------------------

_LIST_TAGS = r"(?:\[[^\]]{0,80}\]\s*)*"

_OUT_OF_OFFICE = (
    "out of office", "out of the office", "automatic reply", "auto reply", "auto-reply",
    "autoreply", "auto response", "auto-response", "autoresponse", "automatische antwort",
    "abwesenheitsnotiz", "réponse automatique", "respuesta automática", "fuera de la oficina",
    "resposta automática", "risposta automatica", "fuori sede", "automatisch antwoord",
    "autosvar", "automatisk svar", "frånvaro", "automaattinen vastaus",
    "automatyczna odpowiedź", "automatická odpověď", "otomatik yanıt", "автоответ",
    "автоматический ответ", "自動応答", "自動返信", "自动回复", "自動回覆",
)  # fmt: skip
_STRONG_OOO = re.compile(
    rf"^{_LIST_TAGS}\[?\s*(?:{'|'.join(map(re.escape, _OUT_OF_OFFICE))})(?!\w)", re.I
)
# Words a person might also start a subject with count only alone or before a colon.
_WEAK_OOO = re.compile(rf"^{_LIST_TAGS}(?:absence|absent|on vacation|auto)\s*(?:[:：]|$)", re.I)

_AUTOMATIC_SENDER = re.compile(
    r"^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[+-].*)?$"
)
_DAEMON = re.compile(r"mailer[-_.]?daemon|postmaster|mail delivery sub?system", re.I)
_BOUNCE_WORDS = re.compile(
    r"undeliver|delivery status notification|delivery (?:has )?failed|failure notice|"
    r"returned mail|could ?n[o']t be delivered|was ?n[o']t delivered|not (?:been )?delivered|"
    r"user unknown|unknown user|no such user|mailbox (?:unavailable|not found|full)|"
    r"recipient address rejected|unzustellbar|nicht zugestellt|non remis|non distribuable|"
    r"no se (?:pudo|puede) entregar|non recapitabile|onbestelbaar",
    re.I,
)
_NULL_PATH = re.compile(r"<\s*>")
_AUTO_PRECEDENCE = frozenset({"bulk", "auto_reply", "auto-reply", "junk", "list"})



def _between_dashes(phrases: frozenset[str]) -> re.Pattern[str]:
    """ "---------- Forwarded message ---------" and the like."""
    return re.compile(rf"^-{{2,}}\s*(?:{alternatives(phrases)})\s*-{{2,}}$", re.I)


_FORWARD_SEPARATOR = _between_dashes(FORWARD_PHRASES)
_ORIGINAL_SEPARATOR = _between_dashes(ORIGINAL_PHRASES)
_APPLE_FORWARD = re.compile(rf"^(?:{alternatives(FORWARD_INTROS)})\s*[:：]$", re.I)


def _field(words: str) -> re.Pattern[str]:
    """One line of a quoted header block, "From:" or "*From:*" (Gmail's text of bold)."""
    return re.compile(rf"^\*?(?:{words})\*?\s*[:：]", re.I)


_BLOCK_FROM = _field(alternatives(HEADER_LABELS["from"]))
_BLOCK_DATE = _field(alternatives(HEADER_LABELS["date"]))
_BLOCK_SUBJECT = _field(alternatives(HEADER_LABELS["subject"]))
_DECORATION = re.compile(r"^[-_=*~\s]*$")


# --- the message as the rules see it -----------------------------------------------


class _Mail:
    """A parsed message plus the views rules share, each computed at most once."""

    def __init__(self, message: ParsedMessage, raw: bytes) -> None:
        self.message = message
        self.raw = raw
        self.headers = message.headers

    @cached_property
    def subject(self) -> str:
        """NFKC, invisible format characters (zero-width, bidi) removed, for matching."""
        text = unicodedata.normalize("NFKC", self.message.subject)
        visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
        return " ".join(visible.split())

    @cached_property
    def lines(self) -> list[str]:
        """The body's unquoted lines, stripped (the plain text, else the HTML's text)."""
        text = self.message.text if (self.message.text or "").strip() else None
        if text is None and self.message.html:
            text = _html_text(self.message.html[:_HTML_CHARS])
        lines = (line.strip() for line in (text or "")[:_BODY_CHARS].splitlines())
        return [line for line in lines if not line.startswith(">")]

    @cached_property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").lower()

    def report_type(self) -> str | None:
        """The report-type of a multipart/report message."""
        if not self.content_type.startswith("multipart/report"):
            return None
        found = re.search(r"report-type\s*=\s*\"?([\w-]+)", self.content_type)
        return found.group(1) if found else ""


def _html_text(html: str) -> str:
    """HTML as text lines; a crude tag strip if inscriptis cannot read it."""
    try:
        return get_text(html)
    except Exception:
        return re.sub(r"<[^>]*>", "\n", html)


# --- rules -------------------------------------------------------------------------


def _bounce(mail: _Mail) -> Classification | None:
    """Delivery failures: a DSN, an Exchange NDR, X-Failed-Recipients, or a
    mailer-daemon's failure notice; the failed addresses from flufl.bounce."""
    label = _bounce_label(mail)
    if label is None:
        return None
    failed = _failed_recipients(mail)
    if not failed:
        return Classification(Kind.BOUNCE, f"{label}; no failed address found")
    joined = ", ".join(failed)
    reason = f"X-Failed-Recipients: {joined}" if label == "X-Failed-Recipients" else None
    return Classification(Kind.BOUNCE, reason or f"{label} for {joined}", failed)


def _bounce_label(mail: _Mail) -> str | None:
    if mail.report_type() == "delivery-status":
        return "DSN"
    if "x-ms-exchange-message-is-ndr" in mail.headers:
        return "Exchange NDR"
    if mail.headers.get("x-failed-recipients", "").strip():
        return "X-Failed-Recipients"
    sender = mail.headers.get("from", "")
    if _DAEMON.search(sender) and _looks_like_failure(mail):
        return f"delivery failure notice from {mail.message.from_addr or sender}"
    return None


def _looks_like_failure(mail: _Mail) -> bool:
    return bool(_BOUNCE_WORDS.search(mail.subject)) or any(
        _BOUNCE_WORDS.search(line) for line in mail.lines[:80]
    )


def _failed_recipients(mail: _Mail) -> tuple[str, ...]:
    """Permanent failures found by flufl.bounce, then those in X-Failed-Recipients."""
    found: list[str] = []
    try:
        tree, _ = parse_tree(mail.raw)
        _prepare_for_flufl(tree)
        found = sorted(address.decode("ascii", "replace") for address in scan_message(tree))
    except Exception:  # flufl's detectors raise on malformed mail; the header remains
        found = []
    found += re.split(r"[,\s]+", mail.headers.get("x-failed-recipients", ""))
    addresses = (address.strip().strip("<>").lower() for address in found)
    return tuple(dict.fromkeys(address for address in addresses if "@" in address))


def _prepare_for_flufl(tree: Message, max_parts: int = 500) -> None:
    """Avoid what crashes flufl's detectors (one crash ends the whole scan): 8-bit header
    values, for which compat32 returns ``Header`` objects instead of ``str``, and a
    missing From (its Yale detector indexes the empty result of ``getaddresses``)."""
    if tree.get("from") is None:
        tree["From"] = "<>"
    for count, part in enumerate(tree.walk()):
        if count >= max_parts:
            return
        dirty = {name for name, value in part.raw_items() if not str(value).isascii()}
        for name in dirty:
            values = [str(value) for value in part.get_all(name, [])]
            del part[name]
            for value in values:
                part[name] = value.encode("ascii", "replace").decode("ascii")


def _automatic(mail: _Mail) -> Classification | None:
    """Auto-replies, receipts, list mail and other mail no person wrote (RFC 3834 and
    the conventions that predate it)."""
    reason = _automatic_header(mail) or _automatic_sender(mail) or _out_of_office(mail)
    return Classification(Kind.AUTO_REPLY, reason) if reason else None


def _automatic_header(mail: _Mail) -> str | None:
    headers = mail.headers
    report = mail.report_type()
    if report is not None:
        return f"automated report (multipart/report; report-type={report or 'missing'})"
    submitted = headers.get("auto-submitted", "")
    if re.split(r"[;(\s]", submitted.strip().lower(), maxsplit=1)[0] not in {"", "no"}:
        return f"Auto-Submitted: {submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        if headers.get(name, "").strip().lower() not in {"", "no", "false", "0"}:
            return f"{_title(name)}: {headers[name]}"
    if headers.get("precedence", "").strip().lower() in _AUTO_PRECEDENCE:
        return f"Precedence: {headers['precedence']}"
    if "x-ms-exchange-generated-message-source" in headers:
        value = headers["x-ms-exchange-generated-message-source"]
        return f"X-MS-Exchange-Generated-Message-Source: {value}"
    if "list-id" in headers:
        return f"mailing list (List-Id: {headers['list-id']})"
    if "list-unsubscribe" in headers:
        return "mailing list (List-Unsubscribe)"
    if _NULL_PATH.fullmatch(headers.get("return-path", "x").strip()):
        return "Return-Path: <> (null sender: bounce or auto-reply)"
    return None


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _automatic_sender(mail: _Mail) -> str | None:
    local = (mail.message.from_addr or "").rpartition("@")[0]
    if _AUTOMATIC_SENDER.match(local):
        return f"sent from {mail.message.from_addr}"
    return None


def _out_of_office(mail: _Mail) -> str | None:
    if _STRONG_OOO.match(mail.subject) or _WEAK_OOO.match(mail.subject):
        return f"out-of-office subject: {mail.message.subject[:80]!r}"
    return None


def _forward(mail: _Mail) -> Classification | None:
    """Forwards: a forward prefix, an attached message, or a forwarded-message header in
    the body. A reply prefix decides first, so quoted forwards inside replies stay replies."""
    if REPLY_SUBJECT.match(mail.subject):
        return None
    prefix = FORWARD_SUBJECT.match(mail.subject)
    if prefix:
        return Classification(Kind.FORWARD, f"subject starts with {prefix.group(1)!r}")
    if mail.message.attached_messages:
        return Classification(Kind.FORWARD, "an attached message (message/rfc822)")
    reason = _forwarded_in_body(mail.lines)
    return Classification(Kind.FORWARD, reason) if reason else None


def _forwarded_in_body(lines: list[str]) -> str | None:
    """A forwarded-message separator anywhere, or an Outlook header block (or
    "Original Message" line) at the top with little or no text above it."""
    for line in lines:
        if _FORWARD_SEPARATOR.match(line) or _APPLE_FORWARD.match(line):
            return f"forwarded-message header in the body: {line!r}"
    above = 0
    for index, line in enumerate(lines):
        if _DECORATION.match(line):
            continue
        if _ORIGINAL_SEPARATOR.match(line) or _header_block_at(lines, index):
            return f"forwarded header block at the top of the body: {line[:60]!r}"
        above += 1
        if above > _LINES_ABOVE_FORWARD:
            break
    return None


def _header_block_at(lines: list[str], index: int) -> bool:
    """From/Sent/Subject (in any order, Outlook or GMX style) within eight lines."""
    window = [line for line in lines[index : index + 12] if line][:8]
    if not window or not (_BLOCK_FROM.match(window[0]) or _BLOCK_DATE.match(window[0])):
        return False
    return all(
        any(pattern.match(line) for line in window)
        for pattern in (_BLOCK_FROM, _BLOCK_DATE, _BLOCK_SUBJECT)
    )


def _reply(mail: _Mail) -> Classification | None:
    """Replies: threading headers, else a reply prefix."""
    message = mail.message
    if message.in_reply_to:
        return Classification(Kind.REPLY, f"In-Reply-To: {message.in_reply_to}")
    if message.references:
        return Classification(Kind.REPLY, f"References: {message.references[-1]}")
    prefix = REPLY_SUBJECT.match(mail.subject)
    if prefix:
        return Classification(Kind.REPLY, f"subject starts with {prefix.group(1)!r}")
    return None


_RULES: tuple[Callable[[_Mail], Classification | None], ...] = (
    _bounce,
    _automatic,
    _forward,
    _reply,
)


def classify(message: ParsedMessage, raw: bytes) -> Classification:
    """The kind of ``message`` (parsed from ``raw``), automatic mail first; never raises."""
    mail = _Mail(message, raw)
    failed: list[str] = []
    for rule in _RULES:
        try:
            found = rule(mail)
        except Exception as error:  # a rule's bug costs that rule, not the message
            failed.append(f"{rule.__name__.strip('_')} rule failed ({type(error).__name__})")
            continue
        if found is not None:
            return found
    reason = "no sign of a reply, forward or automatic mail"
    return Classification(Kind.OTHER, "; ".join([reason, *failed]))
