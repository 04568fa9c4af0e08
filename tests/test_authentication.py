"""Who sent it: tokens, DKIM verified here, the trusted MTA's topmost verdict, trusted relays.

Messages are signed with a test-only key (tests/fixtures/dkim) by dkimpy itself; the
verifier gets the public key through dkimpy's DNS hook, never the network.
"""

from __future__ import annotations

import threading
import time
from ipaddress import ip_network
from pathlib import Path

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.read.authentication import (
    Established,
    SenderPolicy,
    Vouch,
    aligned,
    describe_policy,
    establish,
    organizational_domain,
    resolver_problem,
    strict_from,
    vouches_only_for_tokens,
)
from mail.read.message import parse_message

KEYS = Path(__file__).parent / "fixtures" / "dkim"
PRIVATE_KEY = (KEYS / "test-only-private.pem").read_bytes()
PUBLIC_KEY = b"".join(line.strip() for line in (KEYS / "test-only-public.pem").read_bytes()
                      .splitlines() if not line.startswith(b"-----"))
KEY_RECORD = b"v=DKIM1; k=rsa; p=" + PUBLIC_KEY
OURS = "mx.acme.example"
ANN = "ann@acme.example"


class Dns:
    """dkimpy's DNS hook serving our test key under the names given; records every lookup."""

    def __init__(self, *names: str, delay: float = 0.0, error: Exception | None = None):
        self.names = {f"{name}.".encode() for name in names}
        self.delay, self.error = delay, error
        self.asked: list[bytes] = []

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        self.asked.append(name)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return KEY_RECORD if name in self.names else None


def message(from_line: str = f"Ann Example <{ANN}>", body: str = "T-3 done\r\n",
            extra: str = "") -> bytes:
    return (f"{extra}From: {from_line}\r\nTo: updates@drumbeat.example\r\n"
            "Subject: Re: your agenda\r\nMessage-ID: <m1@acme.example>\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\n{body}").encode()


def signed(raw: bytes, domain: str = "acme.example", selector: str = "s1",
           **options: object) -> bytes:
    signature = dkim.sign(raw, selector.encode(), domain.encode(), PRIVATE_KEY,
                          include_headers=[b"from", b"to", b"subject", b"date"],
                          **options)  # type: ignore[arg-type]
    return signature + raw


def check(raw: bytes, *, tokens: frozenset[str] | None = None, peer: str | None = None,
          fields: list[tuple[str, str]] | tuple[tuple[str, str], ...] | None = None,
          **policy: object) -> Established:
    policy.setdefault("dns", Dns())  # dns=None: the real resolver
    return establish(raw, token_addresses=tokens, peer_address=peer,
                     policy=SenderPolicy(**policy), fields=fields)  # type: ignore[arg-type]


# --- From, read strictly -------------------------------------------------------------------

@pytest.mark.parametrize(("from_line", "address"), [
    (f"Ann Example <{ANN}>", ANN),
    ("Ann Example <Ann@ACME.Example>", ANN),
    (f"{ANN} (Ann Example)", ANN),
    ('"manager@acme.example" <eve@evil.example>', "eve@evil.example"),  # the real mailbox
    ("=?utf-8?q?manager=40acme=2Eexample?= <eve@evil.example>", "eve@evil.example"),
    ('"ann"@acme.example', ANN),
    ("Jörg <jorg@acme.example>", "jorg@acme.example"),                   # UTF-8 display name
])
def test_from_names_its_one_mailbox(from_line: str, address: str) -> None:
    assert strict_from(message(from_line)) == (address, None)


@pytest.mark.parametrize(("from_line", "problem"), [
    ("manager@acme.example <eve@evil.example>", "not a well-formed address"),
    ("manager@company <attacker@elsewhere>", "not a well-formed address"),
    (f"{ANN}, eve@evil.example", "more than one address"),
    (f"Ann <{ANN}> eve@evil.example", "not a well-formed address"),
    (f"<{ANN}", "not a well-formed address"),
    (f"Ann <{ANN}>>", "not a well-formed address"),
    (f"<@route.example:{ANN}>", "not a well-formed address"),
    ("ann@@acme.example", "not a well-formed address"),
    ("ann", "not a well-formed address"),
    ("", "holds no address"),
    ("undisclosed-recipients:;", "holds no address"),
    (f"staff: {ANN};", "not a well-formed address"),
    ("Ann <ann@[192.0.2.1]>", "not a well-formed address"),
    ("Ann <ann@localhost>", "not a well-formed address"),
])
def test_a_from_that_needs_guessing_names_nobody(from_line: str, problem: str) -> None:
    address, why = strict_from(message(from_line))
    assert address is None
    assert why is not None and problem in why


def test_two_from_lines_or_none_name_nobody() -> None:
    assert strict_from(message(extra="From: eve@evil.example\r\n")) == (
        None, "it has more than one From line")
    assert strict_from(b"Subject: hi\r\n\r\nbody") == (None, "it has no From line")
    assert strict_from(b"From: \xff\xfe <ann@acme.example>\r\n\r\nx") == (
        None, "its From line is not UTF-8 text")


@pytest.mark.parametrize("raw", [
    message("Jörg <jorg@acme.example>"), message(f"{ANN}, eve@evil.example"),
    message(extra="From: eve@evil.example\r\n"), b"Subject: hi\r\n\r\nbody",
    b"From: \xff\xfe <ann@acme.example>\r\n\r\nx",
    message(f"Ann\r\n <{ANN}>"),  # folded
    message(extra=f"Authentication-Results: {OURS}; dmarc=pass header.from=acme.example\r\n"),
])
def test_the_parsed_headers_are_read_as_the_bytes_are(raw: bytes) -> None:
    """The worker hands the parsed message's header fields to the sender checks, so the
    header block is parsed once: what they read must be what reading the bytes gives."""
    fields = parse_message(raw).raw_headers
    assert fields is not None
    assert strict_from(raw, fields) == strict_from(raw)
    assert check(raw, authserv_id=OURS, fields=fields) == check(raw, authserv_id=OURS)


def test_handed_header_fields_are_the_ones_read() -> None:
    fields = [("From", f"Ann <{ANN}>")]
    assert strict_from(b"", fields) == (ANN, None)


# --- tokens --------------------------------------------------------------------------------

def test_a_verified_token_vouches_for_its_recipient_only() -> None:
    assert check(message(), tokens=frozenset({ANN, "ann@home.example"})) == Established(
        ANN, Vouch.TOKEN, None, ANN)
    someone_else = check(message(), tokens=frozenset({"bob@acme.example"}))
    assert someone_else.how == Vouch.NONE and someone_else.address is None
    assert someone_else.from_address == ANN
    assert "sent to someone else" in str(someone_else.problem)
    assert check(message(), tokens=None).how == Vouch.NONE


def test_a_token_does_not_vouch_for_an_ambiguous_from() -> None:
    trick = check(message(f"{ANN} <eve@evil.example>"), tokens=frozenset({ANN}))
    assert (trick.how, trick.address, trick.from_address) == (Vouch.NONE, None, None)


# --- DKIM ----------------------------------------------------------------------------------

def test_a_valid_aligned_signature_vouches() -> None:
    dns = Dns("s1._domainkey.acme.example")
    assert check(signed(message()), dns=dns) == Established(ANN, Vouch.DKIM, None, ANN)
    assert dns.asked == [b"s1._domainkey.acme.example."]


def test_a_signature_by_a_subdomain_or_the_parent_domain_is_aligned() -> None:
    by_subdomain = signed(message(), domain="mail.acme.example")
    assert check(by_subdomain, dns=Dns("s1._domainkey.mail.acme.example")).how == Vouch.DKIM
    from_subdomain = signed(message("Ann <ann@eu.acme.example>"))
    assert check(from_subdomain, dns=Dns("s1._domainkey.acme.example")).address == \
        "ann@eu.acme.example"


def test_a_signature_by_another_domain_vouches_for_nobody() -> None:
    raw = signed(message(), domain="evil.example")
    dns = Dns("s1._domainkey.evil.example")
    verdict = check(raw, dns=dns)
    assert verdict.how == Vouch.NONE and verdict.address is None
    assert dns.asked == []  # it could not vouch, so its key is not even looked up
    assert "DKIM-signed by evil.example, not by acme.example" in str(verdict.problem)


def test_sharing_a_public_suffix_is_not_alignment() -> None:
    raw = signed(message("Ann <ann@acme.co.uk>"), domain="evil.co.uk")
    assert check(raw, dns=Dns("s1._domainkey.evil.co.uk")).how == Vouch.NONE
    assert not aligned("co.uk", "acme.co.uk")
    assert aligned("mail.acme.co.uk", "acme.co.uk")
    assert organizational_domain("a.b.acme.co.uk") == "acme.co.uk"
    assert organizational_domain("co.uk") is None


def test_a_changed_body_or_from_breaks_the_signature() -> None:
    dns = Dns("s1._domainkey.acme.example")
    raw = signed(message())
    body_changed = raw.replace(b"T-3 done", b"T-4 dropped")
    assert check(body_changed, dns=dns).how == Vouch.NONE
    from_changed = raw.replace(ANN.encode(), b"boss@acme.example")
    verdict = check(from_changed, dns=dns)
    assert verdict.how == Vouch.NONE and verdict.from_address == "boss@acme.example"
    assert "does not verify" in str(verdict.problem)


def test_a_second_from_added_after_signing_names_nobody() -> None:
    raw = signed(message())
    added = raw.replace(b"To: updates", b"From: boss@acme.example\r\nTo: updates")
    verdict = check(added, dns=Dns("s1._domainkey.acme.example"))
    assert (verdict.how, verdict.address, verdict.from_address) == (Vouch.NONE, None, None)


def test_a_signature_over_part_of_the_body_does_not_vouch() -> None:
    raw = signed(message(), length=True) + b"T-9 dropped\r\n"
    verdict = check(raw, dns=Dns("s1._domainkey.acme.example"))
    assert verdict.how == Vouch.NONE
    assert "covers only part of the body" in str(verdict.problem)


def test_a_missing_key_vouches_for_nobody() -> None:
    verdict = check(signed(message(), selector="gone"), dns=Dns("s1._domainkey.acme.example"))
    assert verdict.how == Vouch.NONE
    assert "does not verify" in str(verdict.problem)


def test_the_second_signature_can_vouch_when_the_first_cannot() -> None:
    raw = signed(signed(message()), domain="evil.example")  # evil's signature on top
    dns = Dns("s1._domainkey.acme.example", "s1._domainkey.evil.example")
    assert check(raw, dns=dns).how == Vouch.DKIM
    assert dns.asked == [b"s1._domainkey.acme.example."]  # evil's key is never looked up


def test_a_signature_that_does_not_verify_leaves_the_next_one_to_vouch() -> None:
    raw = signed(signed(message()), selector="gone")  # an aligned but keyless one on top
    dns = Dns("s1._domainkey.acme.example")
    assert check(raw, dns=dns).how == Vouch.DKIM
    assert dns.asked == [b"gone._domainkey.acme.example.", b"s1._domainkey.acme.example."]


def test_key_lookups_are_bounded_by_the_dkim_timeout() -> None:
    raw = signed(signed(message(), selector="s2"), selector="s3")
    slow = Dns("s2._domainkey.acme.example", "s3._domainkey.acme.example", delay=2.0)
    started = time.monotonic()
    verdict = check(raw, dns=slow, dkim_timeout=0.3)
    elapsed = time.monotonic() - started
    assert verdict.how == Vouch.NONE
    assert "took too long" in str(verdict.problem)
    assert verdict.temporary  # a later try may still vouch
    assert elapsed < 1.0, elapsed
    assert len(slow.asked) == 1  # the second lookup found no time left


def test_a_signature_that_does_not_verify_is_final_not_temporary() -> None:
    tampered = signed(message()).replace(b"T-3 done", b"T-3 dropped")
    verdict = check(tampered, dns=Dns("s1._domainkey.acme.example"))
    assert verdict.how == Vouch.NONE and not verdict.temporary


def test_after_a_timeout_the_same_organisation_is_not_looked_up_for_a_while(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mail.read.authentication.SLOW_DNS_PAUSE_SECONDS", 0.5)
    slow = Dns("s1._domainkey.acme.example", delay=1.0)
    first = check(signed(message()), dns=slow, dkim_timeout=0.2)
    assert "took too long" in str(first.problem)
    started = time.monotonic()
    again = check(signed(message("Bo <bo@eu.acme.example>"), domain="eu.acme.example"),
                  dns=slow, dkim_timeout=0.2)
    assert time.monotonic() - started < 0.1 and len(slow.asked) == 1
    assert again.how == Vouch.NONE
    assert "keys of acme.example did not arrive in time a moment ago" in str(again.problem)
    check(signed(message("Cy <cy@globex.example>"), domain="globex.example"), dns=slow,
          dkim_timeout=0.2)                                # another organisation: asked
    assert slow.asked[-1] == b"s1._domainkey.globex.example."
    assert check(signed(message()), dns=Dns("s1._domainkey.acme.example")).how == Vouch.DKIM
    time.sleep(0.5)                                        # the pause is over: asked again
    check(signed(message()), dns=slow, dkim_timeout=0.2)
    assert slow.asked[-1] == b"s1._domainkey.acme.example." and len(slow.asked) == 3


def test_real_dns_lookups_are_bounded_too() -> None:
    """Without a hook, dnspython looks the key up (this machine's resolver, whatever it
    answers: a name under .example has no key, an unreachable resolver times out)."""
    started = time.monotonic()
    verdict = check(signed(message()), dns=None, dkim_timeout=1.0)
    assert verdict.how == Vouch.NONE and verdict.address is None
    assert time.monotonic() - started < 2.5


def test_a_lookup_that_fails_is_a_missing_key_and_never_an_error() -> None:
    raw = signed(message())
    for error in (dkim.DnsTimeoutError("timed out"), TimeoutError(), OSError("refused"),
                  ValueError("odd")):
        verdict = check(raw, dns=Dns("s1._domainkey.acme.example", error=error))
        assert verdict.how == Vouch.NONE and verdict.address is None, error


# --- the trusted MTA -----------------------------------------------------------------------

def with_results(*headers: str, raw: bytes | None = None) -> bytes:
    return "".join(f"Authentication-Results: {value}\r\n" for value in headers).encode() + (
        raw or message())


@pytest.mark.parametrize(("headers", "how"), [
    ([f"{OURS}; dkim=pass header.d=acme.example; dmarc=pass (p=reject) "
      "header.from=acme.example"], Vouch.MTA),
    ([f"{OURS};\r\n dmarc=pass header.from=Acme.Example"], Vouch.MTA),
    (["MX.ACME.EXAMPLE; dkim=pass header.d=mail.acme.example"], Vouch.MTA),
    ([f"{OURS}; dmarc=pass header.from=evil.example; spf=pass smtp.mailfrom=evil.example"],
     Vouch.NONE),                                              # the attacker's own domain
    ([f"{OURS}; dmarc=pass"], Vouch.NONE),                     # for which domain?
    ([f"{OURS}; dmarc=fail header.from=acme.example; dkim=pass header.d=acme.example"],
     Vouch.NONE),
    ([f"{OURS}; dkim=pass header.d=evil.example"], Vouch.NONE),
    ([f"{OURS}; spf=pass smtp.mailfrom=ann@acme.example"], Vouch.NONE),  # SPF is not From
    ([f"{OURS}; dmarc=fail header.from=acme.example",           # ours, topmost, says fail;
      f"{OURS}; dmarc=pass header.from=acme.example"], Vouch.NONE),  # below: the sender's
    (["mx.evil.example; dmarc=pass header.from=acme.example",   # another MTA's on top
      f"{OURS}; dmarc=fail header.from=acme.example"], Vouch.NONE),
    (["mx.evil.example; none",                                  # ours is not topmost
      f"{OURS}; dmarc=pass header.from=acme.example"], Vouch.NONE),
    (["not an authentication-results header ;;; ="], Vouch.NONE),
    ([], Vouch.NONE),
])
def test_only_the_topmost_verdict_of_the_trusted_mta_counts(headers: list[str],
                                                             how: Vouch) -> None:
    verdict = check(with_results(*headers), authserv_id=OURS)
    assert verdict.how == how, verdict.problem
    assert verdict.address == (ANN if how == Vouch.MTA else None)


def test_a_verdict_without_a_domain_never_matches_a_from_without_one() -> None:
    """A From domain that cannot be written in ASCII must not equal a missing header.from."""
    raw = with_results(f"{OURS}; dmarc=pass", raw=message(f"Ann <ann@{'ä' * 70}.example>"))
    assert check(raw, authserv_id=OURS).how == Vouch.NONE


def test_without_a_trusted_authserv_id_no_header_vouches() -> None:
    raw = with_results(f"{OURS}; dmarc=pass header.from=acme.example")
    assert check(raw).how == Vouch.NONE
    assert check(raw, authserv_id="mx.other.example").how == Vouch.NONE


# --- trusted relays ------------------------------------------------------------------------

@pytest.mark.parametrize(("networks", "peer", "how"), [
    (("10.1.0.0/16",), "10.1.2.3", Vouch.RELAY),
    (("10.1.0.0/16",), "10.2.0.1", Vouch.NONE),
    (("10.1.0.0/16",), "::ffff:10.1.2.3", Vouch.RELAY),
    (("2001:db8:1::/48",), "2001:db8:1::25", Vouch.RELAY),
    (("2001:db8:1::/48",), "2001:db8:2::25", Vouch.NONE),
    (("10.1.0.0/16", "2001:db8:1::/48"), "not an address", Vouch.NONE),
    (("10.1.0.0/16",), None, Vouch.NONE),
    ((), "127.0.0.1", Vouch.NONE),                  # the default trusts nobody, loopback too
    ((), "::1", Vouch.NONE),
    (("127.0.0.0/8",), "127.0.0.1", Vouch.RELAY),
])
def test_a_trusted_relay_vouches_only_from_its_networks(networks: tuple[str, ...],
                                                        peer: str | None, how: Vouch) -> None:
    verdict = check(message(), peer=peer,
                    trusted_networks=tuple(ip_network(net) for net in networks))
    assert verdict.how == how
    assert verdict.address == (ANN if how == Vouch.RELAY else None)


def test_a_relay_does_not_vouch_for_an_unreadable_from() -> None:
    raw = message(f"{ANN}, boss@acme.example")
    verdict = check(raw, peer="10.1.2.3", trusted_networks=(ip_network("10.1.0.0/16"),))
    assert verdict.how == Vouch.NONE and verdict.address is None


def test_the_order_is_token_relay_mta_dkim_so_dns_is_asked_last() -> None:
    raw = with_results(f"{OURS}; dmarc=pass header.from=acme.example", raw=signed(message()))
    dns = Dns("s1._domainkey.acme.example")
    everything = {"dns": dns, "authserv_id": OURS,
                  "trusted_networks": (ip_network("10.0.0.0/8"),)}
    assert check(raw, tokens=frozenset({ANN}), peer="10.0.0.1", **everything).how == Vouch.TOKEN
    assert check(raw, peer="10.0.0.1", **everything).how == Vouch.RELAY
    assert check(raw, peer="192.0.2.1", **everything).how == Vouch.MTA
    assert dns.asked == []
    assert check(signed(message()), peer="192.0.2.1", **everything).how == Vouch.DKIM


# --- never an error ------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.one_of(st.none(), st.text(max_size=40)))
def test_any_bytes_get_a_verdict_and_never_an_error(noise: bytes, peer: str | None) -> None:
    for raw in (noise, message().replace(b"Ann Example", noise.replace(b"\r", b"")[:60]),
                with_results(noise.decode("latin-1")[:80], raw=signed(message()))):
        verdict = check(raw, peer=peer, authserv_id=OURS, tokens=frozenset({ANN}),
                        trusted_networks=(ip_network("10.0.0.0/8"),),
                        dns=Dns("s1._domainkey.acme.example"))
        assert isinstance(verdict.how, Vouch)
        assert (verdict.address is None) == (verdict.how == Vouch.NONE)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_from_line_gives_one_address_or_a_reason(from_line: str) -> None:
    address, problem = strict_from(message(from_line.replace("\r", "").replace("\n", "")))
    assert (address is None) != (problem is None)
    assert address is None or (address.count("@") >= 1 and address == address.lower())


def test_a_huge_from_line_is_refused_quickly() -> None:
    started = time.monotonic()
    address, problem = strict_from(message("(" * 50_000 + ANN))
    assert address is None and "too long" in str(problem)
    assert time.monotonic() - started < 1.0


def test_a_lookup_past_the_deadline_leaves_no_thread_behind() -> None:
    before = threading.active_count()
    verdict = check(signed(message()), dns=Dns("s1._domainkey.acme.example", delay=0.2),
                    dkim_timeout=0.05)
    assert "took too long" in str(verdict.problem)
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert threading.active_count() <= before


# --- what the policy can vouch for ---------------------------------------------------------

def test_the_policy_in_plain_lines(tmp_path: Path) -> None:
    configured, empty = tmp_path / "resolv.conf", tmp_path / "empty.conf"
    configured.write_text("nameserver 192.0.2.53\n")
    empty.write_text("# no nameserver\n")
    lines = describe_policy(SenderPolicy(authserv_id=OURS, dkim_timeout=3,
                                         trusted_networks=(ip_network("10.1.0.0/16"),)),
                            resolv_conf=configured)
    assert lines[0].startswith("reply tokens:")
    assert "DKIM" in lines[1] and "within 3 s" in lines[1]
    assert OURS in lines[2] and "10.1.0.0/16" in lines[3]
    bare = describe_policy(SenderPolicy(), resolv_conf=empty)
    assert "cannot be checked, no DNS resolver is configured" in bare[1]
    assert "not set" in bare[2] and "none" in bare[3]
    assert "within 5 s" in describe_policy(SenderPolicy(dns=Dns()), resolv_conf=empty)[1]


def test_only_tokens_when_nothing_else_can_vouch(tmp_path: Path) -> None:
    empty, configured = tmp_path / "empty.conf", tmp_path / "resolv.conf"
    empty.write_text("# no nameserver\n")
    configured.write_text("nameserver 192.0.2.53\n")
    no_resolver = resolver_problem(empty)
    assert no_resolver is not None and "no DNS resolver" in no_resolver
    assert resolver_problem(configured) is None
    assert vouches_only_for_tokens(SenderPolicy(), empty)
    assert not vouches_only_for_tokens(SenderPolicy(), configured)
    assert not vouches_only_for_tokens(SenderPolicy(authserv_id=OURS), empty)
    assert not vouches_only_for_tokens(
        SenderPolicy(trusted_networks=(ip_network("10.0.0.0/8"),)), empty)
    assert not vouches_only_for_tokens(SenderPolicy(dns=Dns()), empty)
