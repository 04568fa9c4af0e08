"""Did the sender's domain vouch for this message? Read from our own MTA's verdict.

A reply to ``updates@`` is matched by its From address alone, and From is easy
to forge. The receiving MTA (Postfix with OpenDMARC, Exim, rspamd, Google or
Microsoft's own filters) checks SPF, DKIM and DMARC and writes what it found
into an ``Authentication-Results`` header (RFC 8601) under its own name, the
authserv-id. Only a header with the authserv-id we were told to trust counts:
anything lower in the message could have been written by the sender. Parsed
with ``authres``; pure, no I/O, never raises.
"""

from __future__ import annotations

from collections.abc import Sequence

import authres

PASS = "pass"


def sender_problem(headers: Sequence[str], authserv_id: str, from_addr: str) -> str | None:
    """None when the trusted MTA vouched for the From domain; else why not, in words.

    ``headers`` are the message's Authentication-Results values, topmost first (the
    last MTA's). Vouching means DMARC passed, or, without a DMARC verdict, DKIM or
    SPF passed for the From domain or a domain it belongs to (or one under it).
    """
    results = _trusted_results(headers, authserv_id)
    if results is None:
        return f"it carries no sender check by {authserv_id}"
    domain = from_addr.rpartition("@")[2].strip().lower().rstrip(".")
    dmarc = [result for method, result, _domain in results if method == "dmarc"]
    if dmarc and dmarc[0] == PASS:
        return None
    if dmarc and dmarc[0] == "fail":
        return f"{domain or 'its sender'}'s DMARC check failed"
    for method, result, checked in results:
        if method in ("dkim", "spf") and result == PASS and domain and _aligned(checked, domain):
            return None
    return f"neither DKIM nor SPF passed for {domain or 'its sender'}"


def _trusted_results(headers: Sequence[str], authserv_id: str
                     ) -> list[tuple[str, str, str]] | None:
    """(method, result, domain checked) from the topmost header by ``authserv_id``."""
    wanted = authserv_id.strip().lower()
    for value in headers:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # not RFC 8601: not our MTA's
            continue
        if str(header.authserv_id or "").lower() != wanted:
            continue
        return [(str(r.method).lower(), str(r.result).lower(), _domain_of(r))
                for r in header.results]
    return None


def _domain_of(result: object) -> str:
    """The domain a DKIM (header.d, header.i) or SPF (smtp.mailfrom) result is about."""
    for name in ("header_d", "header_i", "smtp_mailfrom"):
        value = getattr(result, name, None)
        if value:
            return str(value).rpartition("@")[2].strip().lower().rstrip(".")
    return ""


def _aligned(checked: str, domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    return bool(checked) and (checked == domain or domain.endswith("." + checked)
                              or checked.endswith("." + domain))


# --- TEMPORARY stand-in until the auth branch lands (replaced wholesale at merge) ---------
from dataclasses import dataclass as _dataclass  # noqa: E402
from email.parser import BytesHeaderParser as _Parser  # noqa: E402
from email.policy import compat32 as _compat32  # noqa: E402
from email.utils import getaddresses as _getaddresses  # noqa: E402
from enum import StrEnum as _StrEnum  # noqa: E402
from ipaddress import ip_address as _ip_address  # noqa: E402
from typing import Any as _Any  # noqa: E402


class Vouch(_StrEnum):
    TOKEN = "token"
    DKIM = "dkim"
    MTA = "mta"
    RELAY = "relay"
    NONE = "none"


@_dataclass(frozen=True)
class SenderPolicy:
    authserv_id: str | None = None
    trusted_networks: tuple[_Any, ...] = ()
    dkim_timeout: float = 5.0
    dns: _Any = None


@_dataclass(frozen=True)
class Established:
    address: str | None
    how: Vouch
    problem: str | None
    from_address: str | None


def strict_from(raw: bytes) -> tuple[str | None, str | None]:
    values = _Parser(policy=_compat32).parsebytes(raw).get_all("From") or []
    if len(values) != 1:
        return None, "not exactly one From header"
    pairs = _getaddresses([str(values[0])])
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        return None, "From does not hold exactly one address"
    return pairs[0][1].lower(), None


def establish(raw: bytes, *, token_addresses: frozenset[str] | None, peer_address: str | None,
              policy: SenderPolicy) -> Established:
    address, problem = strict_from(raw)
    if address is None:
        return Established(None, Vouch.NONE, problem, None)
    if token_addresses is not None and address in token_addresses:
        return Established(address, Vouch.TOKEN, None, address)
    if policy.authserv_id:
        headers = _Parser(policy=_compat32).parsebytes(raw).get_all(
            "Authentication-Results") or []
        if sender_problem([str(v) for v in headers[:1]], policy.authserv_id, address) is None:
            return Established(address, Vouch.MTA, None, address)
    if peer_address:
        try:
            peer = _ip_address(peer_address)
        except ValueError:
            peer = None
        if peer is not None and any(peer in net for net in policy.trusted_networks):
            return Established(address, Vouch.RELAY, None, address)
    return Established(None, Vouch.NONE, "no token, signature or trusted relay vouches for "
                       f"{address}", address)
