"""Who sent this message? Established from evidence a forger cannot make, never from From alone.

A message changes data only when something vouches that its From address sent it.
Four things can, tried cheapest first (only DKIM may wait on DNS):

1. ``token``: the reply went to the ``checkin+TOKEN`` address of an agenda, the token
   verifies, and From is an address of the person that agenda was sent to.
2. ``relay``: the SMTP client is in one of the networks of the company's own relays.
3. ``mta``: the topmost Authentication-Results header, written by the receiving MTA we
   were told to trust (its authserv-id), says DMARC passed for the From domain.
4. ``dkim``: a DKIM signature Drumbeat verifies itself (dkimpy), signed by the From
   domain or a domain of the same organisation (relaxed alignment, as DMARC does).

Anything else is ``none``. From itself is read strictly: exactly one From header with
exactly one address the stdlib's modern parser reads without a defect; anything that
needs guessing (``manager@company <attacker@elsewhere>``) establishes nobody.

Pure apart from DNS, whose total time per message is bounded; never raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.parser import HeaderParser
from enum import StrEnum
from functools import cache
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import NoReturn
from weakref import WeakKeyDictionary

import authres
import dkim

# A message carries a handful of signatures at most; more is only work for us.
MAX_SIGNATURES = 5
# Longer From values are not mail clients' and only cost parsing time.
MAX_FROM_LENGTH = 2000
# After a key lookup runs out of time, that organisation's keys are not looked up again
# for this long: a sender's slow DNS costs the intake one timeout a minute, not one a
# message. Per lookup function (the resolver, or a test's hook).
SLOW_DNS_PAUSE_SECONDS = 60.0
_slow_domains: WeakKeyDictionary[object, dict[str, float]] = WeakKeyDictionary()
# Defects that leave the address itself unambiguous: an RFC 6532 (UTF-8) local part.
_HARMLESS_DEFECTS = frozenset({"NonASCIILocalPartDefect"})

DnsLookup = Callable[..., bytes | str | None]


class Vouch(StrEnum):
    """How a sender was established (shown by ``drumbeat inbox``)."""

    TOKEN = "token"
    DKIM = "dkim"
    MTA = "mta"
    RELAY = "relay"
    NONE = "none"


@dataclass(frozen=True)
class SenderPolicy:
    """What may vouch for a sender, from the settings.

    ``dns`` is dkimpy's ``dnsfunc`` hook, called as ``dns(name, timeout=seconds)`` and
    returning the TXT record; None looks keys up with dnspython, each lookup bounded by
    what is left of ``dkim_timeout``.
    """

    authserv_id: str | None = None
    trusted_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    dkim_timeout: float = 5.0
    dns: DnsLookup | None = None


@dataclass(frozen=True)
class Established:
    """The verdict: ``address`` is set only when something vouched (``how`` says what)."""

    address: str | None
    how: Vouch
    problem: str | None
    from_address: str | None
    temporary: bool = False  # nothing vouched, but a DKIM key lookup ran out of time


# --- From, read strictly -------------------------------------------------------------------

HeaderFields = Sequence[tuple[str, str]]
"""A message's header fields as written (``ParsedMessage.raw_headers``): handed in,
they spare reading the bytes' header block again."""


def strict_from(raw: bytes, fields: HeaderFields | None = None
                ) -> tuple[str | None, str | None]:
    """The one From address, lower-cased, or None and why in words."""
    try:
        return _one_address(_raw_header_values(raw, "From", fields))
    except Exception:  # the parser's own bugs: nobody, never a traceback
        return None, "its From line cannot be read"


def _raw_header_values(raw: bytes, name: str, fields: HeaderFields | None = None
                       ) -> list[str]:
    """Every value of header ``name``, top first, as written (undecoded, still folded):
    from ``fields`` when given, else read from the bytes."""
    if fields is None:
        text = raw.decode("utf-8", "surrogateescape")
        fields = HeaderParser(policy=email_policy.default).parsestr(text).raw_items()
    return [str(value) for key, value in fields if key.lower() == name.lower()]


def _one_address(values: list[str]) -> tuple[str | None, str | None]:
    """Exactly one From value holding exactly one mailbox the modern parser reads cleanly."""
    if not values:
        return None, "it has no From line"
    if len(values) > 1:
        return None, "it has more than one From line"
    value = values[0]
    if len(value) > MAX_FROM_LENGTH:
        return None, "its From line is too long to be a sender's"
    if any("\udc80" <= char <= "\udcff" for char in value):
        return None, "its From line is not UTF-8 text"
    header = email_policy.default.header_fetch_parse("From", value)
    defects = {type(defect).__name__ for defect in header.defects}
    addresses: tuple[Address, ...] = header.addresses
    if len(addresses) != 1:
        return None, ("its From line holds no address" if not addresses else
                      "its From line holds more than one address")
    if defects - _HARMLESS_DEFECTS or any(group.display_name is not None
                                          for group in header.groups):
        return None, "its From line is not a well-formed address"
    address = addresses[0]
    if not address.username or not _plain_domain(address.domain):
        return None, "its From line is not a well-formed address"
    return address.addr_spec.lower(), None


def _plain_domain(domain: str) -> bool:
    """A dot-separated host name: no literal ([192.0.2.1]), no empty label."""
    labels = domain.rstrip(".").split(".")
    return len(labels) >= 2 and all(labels) and not domain.startswith("[")


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].rstrip(".").lower()


@cache
def _public_suffixes():  # type: ignore[no-untyped-def]
    """The Public Suffix List shipped inside ``publicsuffixlist``: no network."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organizational_domain(domain: str) -> str | None:
    """The registrable domain (``mail.acme.co.uk`` -> ``acme.co.uk``), as DMARC defines it.

    None for a public suffix itself (``co.uk``) or a name that is not a domain.
    """
    ascii_domain = _ascii(domain)
    if not ascii_domain:
        return None
    try:
        found = _public_suffixes().privatesuffix(ascii_domain)
    except Exception:
        return None
    return str(found).lower() if found else None


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or two of the same organisation."""
    signer, author = _ascii(signing_domain), _ascii(from_domain)
    if not signer or not author:
        return False
    if signer == author:
        return True
    organisation = organizational_domain(author)
    return organisation is not None and organisation == organizational_domain(signer)


def _ascii(domain: str) -> str | None:
    """The domain in A-labels, lower-cased; None when it cannot be one."""
    try:
        return domain.strip().rstrip(".").encode("idna").decode("ascii").lower() or None
    except (UnicodeError, ValueError):
        return None


# --- the checks ----------------------------------------------------------------------------

def establish(raw: bytes, *, token_addresses: frozenset[str] | None, peer_address: str | None,
              policy: SenderPolicy, fields: HeaderFields | None = None) -> Established:
    """Who sent ``raw``: the first of token, trusted relay, trusted MTA, DKIM that vouches
    (cheapest first: only DKIM may wait on DNS).

    ``token_addresses`` are the addresses of the person a verified agenda token was sent
    to (None: no verified token). ``peer_address`` is the SMTP client's IP address.
    ``fields``: the header fields as written, when the caller has parsed them already
    (the DKIM check still reads the bytes: it verifies them as they were signed).
    """
    try:
        return _establish(raw, token_addresses, peer_address, policy, fields)
    except Exception:  # a check's own failure vouches for nobody
        return Established(None, Vouch.NONE, "the message could not be checked", None)


def _establish(raw: bytes, token_addresses: frozenset[str] | None, peer_address: str | None,
               policy: SenderPolicy, fields: HeaderFields | None) -> Established:
    address, problem = strict_from(raw, fields)
    if address is None:
        return Established(None, Vouch.NONE, problem, None)
    if token_addresses is not None and address in token_addresses:
        return Established(address, Vouch.TOKEN, None, address)
    reasons = []
    if token_addresses is not None:
        reasons.append("the agenda it answers was sent to someone else")
    if peer_in_networks(peer_address, policy.trusted_networks):
        return Established(address, Vouch.RELAY, None, address)
    if policy.trusted_networks:
        reasons.append("it did not come through a trusted relay")
    if policy.authserv_id:
        mta_problem = mta_problem_for(raw, address, policy.authserv_id, fields)
        if mta_problem is None:
            return Established(address, Vouch.MTA, None, address)
        reasons.append(mta_problem)
    dkim_problem, timed_out = _dkim_check(raw, address, policy)  # last: the only I/O
    if dkim_problem is None:
        return Established(address, Vouch.DKIM, None, address)
    reasons.append(dkim_problem)
    return Established(None, Vouch.NONE, f"nothing vouches that {address} sent it: "
                       + "; ".join(reasons), address, temporary=timed_out)


# --- DKIM ----------------------------------------------------------------------------------

def dkim_problem_for(raw: bytes, from_address: str, policy: SenderPolicy) -> str | None:
    """None when a DKIM signature aligned with the From domain verifies; else why not.

    A signature counts only when it signs From, covers the whole body (no ``l=``), and
    dkimpy's own reading of the headers finds the same single From we read. Signatures
    by other organisations are not even looked up (they could not vouch, and a slow
    key server of the sender's choosing must not use up the time). All key lookups
    together take at most ``policy.dkim_timeout`` seconds.
    """
    return _dkim_check(raw, from_address, policy)[0]


def _dkim_check(raw: bytes, from_address: str, policy: SenderPolicy) -> tuple[str | None, bool]:
    """dkim_problem_for's answer, and whether a key lookup ran out of time (so a later
    try may still vouch)."""
    from_domain = _domain_of(from_address)
    try:
        verifier = dkim.DKIM(raw)
    except Exception:
        return "its headers are not readable for a DKIM check", False
    signers = [_signing_domain(value) for name, value in verifier.headers
               if name.lower() == b"dkim-signature"]
    if not signers:
        return "it has no DKIM signature", False
    seen_from = [value.decode("utf-8", "surrogateescape") for name, value in verifier.headers
                 if name.lower() == b"from"]
    if _one_address(seen_from)[0] != from_address:
        return "its From line reads differently to the DKIM check", False
    candidates = [index for index, signer in enumerate(signers)
                  if aligned(signer, from_domain)][:MAX_SIGNATURES]
    if not candidates:
        others = ", ".join(dict.fromkeys(signer or "an unnamed domain" for signer in signers))
        return f"it is DKIM-signed by {others}, not by {from_domain}", False
    resolver = policy.dns or _dnspython_txt
    organisation = organizational_domain(from_domain) or from_domain
    if _recently_slow(resolver, organisation):
        return (f"the DKIM keys of {organisation} did not arrive in time a moment ago, so "
                "they were not looked up again"), True
    lookup = _DeadlineLookup(resolver, policy.dkim_timeout)
    reasons = []
    for index in candidates:
        reasons.append(_one_signature(verifier, index, lookup))
        if reasons[-1] is None:
            return None, False
    if lookup.timed_out:
        _remember_slow(resolver, organisation)
    return "; ".join(dict.fromkeys(str(reason) for reason in reasons)), lookup.timed_out


def _recently_slow(resolver: DnsLookup, organisation: str) -> bool:
    try:
        until = _slow_domains.get(resolver, {}).get(organisation, 0.0)
    except TypeError:  # a lookup that cannot be weakly referenced is never paused
        return False
    return time.monotonic() < until


def _remember_slow(resolver: DnsLookup, organisation: str) -> None:
    try:
        slow = _slow_domains.setdefault(resolver, {})
    except TypeError:
        return
    now = time.monotonic()
    for name in [name for name, until in slow.items() if until <= now]:
        del slow[name]  # forget what has expired, so the table stays small
    slow[organisation] = now + SLOW_DNS_PAUSE_SECONDS


def _signing_domain(signature: bytes) -> str:
    """The d= of a DKIM-Signature value, lower-cased; "" when it has none readable."""
    try:
        tags = dkim.util.parse_tag_value(signature)
        return bytes(tags.get(b"d", b"")).decode("ascii").strip().lower()
    except Exception:
        return ""


def _one_signature(verifier: dkim.DKIM, index: int, lookup: _DeadlineLookup) -> str | None:
    """None when the aligned signature at ``index`` verifies and covers what it must."""
    try:
        valid = verifier.verify(idx=index, dnsfunc=lookup)
    except dkim.ValidationError:  # e.g. the body changed after signing
        valid = False
    except Exception:
        return "its DKIM signature is malformed"
    fields = getattr(verifier, "signature_fields", None) or {}
    signer = bytes(fields.get(b"d", b"")).decode("ascii", "replace").lower()
    if lookup.timed_out:
        return "looking up its DKIM key took too long"
    if not valid:
        return f"its DKIM signature by {signer} does not verify"
    if b"l" in fields:
        return f"its DKIM signature by {signer} covers only part of the body"
    if b"from" not in getattr(verifier, "include_headers", ()):
        return f"its DKIM signature by {signer} does not sign From"
    return None


class _DeadlineLookup:
    """A DNS lookup bounded by one deadline for all its calls, whatever the lookup does.

    Each call runs in a daemon thread joined for the time left, so a resolver (or test
    hook) that ignores its timeout cannot hold the message past the deadline. dkimpy
    turns a timeout into a plain failure, so ``timed_out`` remembers that one happened.
    """

    def __init__(self, lookup: DnsLookup, seconds: float) -> None:
        self.lookup, self.deadline, self.timed_out = lookup, time.monotonic() + seconds, False

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | str | None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self._out_of_time("no time left for DKIM key lookups")
        outcome: list[tuple[bool, object]] = []

        def run() -> None:
            try:
                outcome.append((True, self.lookup(name, timeout=left)))
            except Exception as exc:
                outcome.append((False, exc))

        worker = threading.Thread(target=run, name="dkim-key-lookup", daemon=True)
        worker.start()
        worker.join(left)
        if not outcome:
            self._out_of_time("the DKIM key lookup took too long")
        succeeded, value = outcome[0]
        if not succeeded:
            if isinstance(value, dkim.DnsTimeoutError | TimeoutError):
                self._out_of_time(str(value))
            return None  # a failed lookup is a missing key
        return value if isinstance(value, bytes | str) else None

    def _out_of_time(self, why: str) -> NoReturn:
        self.timed_out = True
        raise dkim.DnsTimeoutError(why)


def _dnspython_txt(name: bytes, timeout: float = 5) -> bytes | None:
    """The DKIM key record at ``name``, or None when there is none; raises on timeout."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name.decode("ascii"), "TXT", lifetime=timeout,
                                      search=False, raise_on_no_answer=False)
    except dns.exception.Timeout as exc:
        raise dkim.DnsTimeoutError(str(exc)) from exc
    except (dns.exception.DNSException, UnicodeError):
        return None
    for rdata in answer:
        return b"".join(rdata.strings)
    return None


# --- the trusted MTA's Authentication-Results ----------------------------------------------

def mta_problem_for(raw: bytes, from_address: str, authserv_id: str,
                    fields: HeaderFields | None = None) -> str | None:
    """None when the topmost Authentication-Results, by ``authserv_id``, vouches for From.

    Only the topmost header counts: our MTA prepends its own, and everything below it
    may have been written by the sender. It vouches when DMARC passed for the From
    domain itself (``header.from``), or DKIM passed for an aligned ``header.d`` and
    DMARC did not fail.
    """
    wanted = authserv_id.strip().lower()
    try:
        values = _raw_header_values(raw, "Authentication-Results", fields)
    except Exception:
        return "its Authentication-Results cannot be read"
    if not values:
        return f"it carries no Authentication-Results by {authserv_id}"
    try:
        header = authres.AuthenticationResultsHeader.parse_value(" ".join(str(values[0]).split()))
    except Exception:
        return f"its topmost Authentication-Results is not one {authserv_id} wrote"
    if str(header.authserv_id or "").strip().lower() != wanted:
        return f"its topmost Authentication-Results is not one {authserv_id} wrote"
    domain = _domain_of(from_address)
    ascii_domain = _ascii(domain)
    dmarc = [(str(result.result).lower(), _ascii(_property(result, "from")))
             for result in header.results if str(result.method).lower() == "dmarc"]
    ours = [verdict for verdict, checked in dmarc if ascii_domain and checked == ascii_domain]
    if "pass" in ours and all(verdict == "pass" for verdict in ours):
        return None
    if any(verdict != "pass" for verdict, _checked in dmarc):
        return f"{authserv_id} found that DMARC did not pass for it"
    for result in header.results:
        if str(result.method).lower() == "dkim" and str(result.result).lower() == "pass":
            signer = _property(result, "d")
            if signer and aligned(signer, domain):
                return None
    return f"{authserv_id} did not find DMARC or DKIM passing for {domain}"


def _property(result: authres.core.AuthenticationResult, name: str) -> str:
    """The value of a result's ``header.NAME`` property (``header.from``, ``header.d``)."""
    for found in result.properties:
        if str(found.type).lower() == "header" and str(found.name).lower() == name:
            return str(found.value or "")
    return ""


# --- trusted relays ------------------------------------------------------------------------

def peer_in_networks(peer_address: str | None,
                     networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """Is the SMTP client in one of ``networks``? An IPv4-mapped IPv6 address counts as IPv4."""
    if not peer_address or not networks:
        return False
    try:
        peer = ip_address(peer_address.strip().strip("[]").split("%")[0])
    except ValueError:
        return False
    candidates = [peer]
    mapped = getattr(peer, "ipv4_mapped", None)
    if mapped is not None:
        candidates.append(mapped)
    return any(candidate.version == network.version and candidate in network
               for candidate in candidates for network in networks)


# --- what the policy can vouch for (for `drumbeat doctor`) ---------------------------------

def resolver_problem(resolv_conf: str | Path | None = None) -> str | None:
    """None when this machine has a DNS resolver configured; else why not. No network.

    ``resolv_conf`` reads another file than the system's (tests, containers).
    """
    import dns.resolver

    try:
        if resolv_conf is None:
            dns.resolver.Resolver(configure=True)
        else:
            dns.resolver.Resolver(filename=str(resolv_conf), configure=True)
    except dns.resolver.NoResolverConfiguration:
        return "no DNS resolver is configured (no nameserver in resolv.conf)"
    except Exception as exc:
        return f"the DNS resolver configuration cannot be read ({exc})"
    return None


def _dkim_problem(policy: SenderPolicy, resolv_conf: str | Path | None) -> str | None:
    """Why DKIM keys cannot be looked up, or None when they can (a hook or a resolver)."""
    return None if policy.dns is not None else resolver_problem(resolv_conf)


def vouches_only_for_tokens(policy: SenderPolicy,
                            resolv_conf: str | Path | None = None) -> bool:
    """True when nothing but an agenda token can establish a sender in practice: no DNS
    resolver for DKIM, no trusted MTA, no trusted relay. ``resolv_conf``: see
    ``resolver_problem``."""
    return not (_dkim_problem(policy, resolv_conf) is None or policy.authserv_id
                or policy.trusted_networks)


def describe_policy(policy: SenderPolicy, resolv_conf: str | Path | None = None) -> list[str]:
    """What can vouch for a sender, one plain line each."""
    cannot = _dkim_problem(policy, resolv_conf)
    if cannot is None:
        dkim_line = (f"DKIM signatures of the From domain, keys looked up in DNS within "
                     f"{policy.dkim_timeout:g} s")
    else:
        dkim_line = f"DKIM signatures: cannot be checked, {cannot}"
    networks = ", ".join(str(network) for network in policy.trusted_networks)
    return [
        "reply tokens: a reply to an agenda's own address from the person it was sent to",
        dkim_line,
        (f"trusted MTA: the topmost Authentication-Results by {policy.authserv_id}"
         if policy.authserv_id else "trusted MTA: not set (DRUMBEAT_TRUSTED_AUTHSERV_ID)"),
        (f"trusted relays: {networks}" if networks else
         "trusted relays: none (DRUMBEAT_TRUSTED_RELAYS)"),
    ]
