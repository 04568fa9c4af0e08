"""Signed reply tokens: ``checkin+TOKEN@DOMAIN`` names the agenda a reply answers.

A token is ``{outbox id in base36}{13-character signature}``. The signature has a
fixed length and sits at the end, so the split is unambiguous with no separator
(dots and plus signs are special in local parts). Everything is lowercase
``[a-z0-9]`` because some MTAs lowercase local parts on the way in; reading is
case-insensitive for the same reason. The signature is the first 65 bits of
HMAC-SHA256 over ``b"agenda:" + id``: a guessed token is accepted once in 2**65,
and the sender is still checked against the agenda's recipient afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parseaddr

__all__ = ["make_token", "read_token", "reply_address", "token_from_address"]

LOCAL_PREFIX = "checkin"
SIGNATURE_LENGTH = 13
MAX_ID_DIGITS = 13  # base36 of 2**64 has 13 digits; anything longer is not ours
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(rf"[0-9a-z]{{1,{MAX_ID_DIGITS}}}[a-z2-7]{{{SIGNATURE_LENGTH}}}")


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _ALPHABET[rest] + digits
        if number == 0:
            return digits


def _signature(outbox_id: int, secret: str) -> str:
    if not secret:
        raise ValueError("an empty secret would make reply tokens forgeable")
    digest = hmac.new(secret.encode(), b"agenda:%d" % outbox_id, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:SIGNATURE_LENGTH].lower()


OLD_DEFAULT_SECRET_KEY = "change-me"  # the key every copy once shipped with: public


def make_token(outbox_id: int, secret: str) -> str:
    """The token for one outbox row; ``read_token`` gives the id back."""
    if outbox_id < 0:
        raise ValueError(f"outbox ids are not negative: {outbox_id}")
    return _base36(outbox_id) + _signature(outbox_id, secret)


def read_token(token: str, secret: str) -> int | None:
    """The outbox id a token names, or None when it is malformed or not signed by us.

    Only the canonical spelling is accepted (no leading zeros), so each id has
    exactly one token; the comparison is constant-time. With no key (or the old public
    default) nothing verifies: such a token could have been minted by anyone.
    """
    if not secret or secret == OLD_DEFAULT_SECRET_KEY:
        return None
    token = token.strip().lower()
    if not _TOKEN.fullmatch(token):
        return None
    digits, signature = token[:-SIGNATURE_LENGTH], token[-SIGNATURE_LENGTH:]
    if len(digits) > 1 and digits.startswith("0"):
        return None
    outbox_id = int(digits, 36)
    if not hmac.compare_digest(signature, _signature(outbox_id, secret)):
        return None
    return outbox_id


def reply_address(outbox_id: int, secret: str, domain: str) -> str:
    """The Reply-To address of an agenda: ``checkin+TOKEN@domain``."""
    domain = domain.strip().lower()
    if not domain or "@" in domain or any(ch.isspace() for ch in domain):
        raise ValueError(f"not a mail domain: {domain!r}")
    return f"{LOCAL_PREFIX}+{make_token(outbox_id, secret)}@{domain}"


def token_from_address(address: str) -> str | None:
    """The (unverified, lowercased) token of a ``checkin+TOKEN@...`` address, else None.

    Accepts a bare address or a ``Name <address>`` form, in any letter case.
    """
    _, addr = parseaddr(address)
    local, at, domain = addr.rpartition("@")
    if not at or not domain:
        return None
    prefix, plus, token = local.lower().partition("+")
    if prefix != LOCAL_PREFIX or not plus or not _TOKEN.fullmatch(token):
        return None
    return token
