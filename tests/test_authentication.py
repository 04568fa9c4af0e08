"""Sender checks from our own MTA's Authentication-Results: what vouches for a From."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.authentication import sender_problem

OURS = "mx.acme.example"
GMAIL_STYLE = (f"{OURS};\r\n dkim=pass header.i=@acme.example header.s=s1 header.b=abc;\r\n"
               " spf=pass (domain of ann@acme.example designates 192.0.2.1) "
               "smtp.mailfrom=ann@acme.example;\r\n dmarc=pass (p=REJECT) header.from=acme.example")


@pytest.mark.parametrize(("headers", "problem"), [
    ([GMAIL_STYLE], None),
    ([f"{OURS}; dmarc=fail (p=REJECT) header.from=acme.example; spf=pass "
      "smtp.mailfrom=eve@evil.example"], "acme.example's DMARC check failed"),
    ([f"{OURS}; dkim=pass header.d=acme.example; spf=fail smtp.mailfrom=x@acme.example"], None),
    ([f"{OURS}; dkim=pass header.d=mail.acme.example"], None),          # relaxed alignment
    ([f"{OURS}; spf=pass smtp.mailfrom=bounce@acme.example"], None),
    ([f"{OURS}; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=eve@evil.example"],
     "neither DKIM nor SPF passed for acme.example"),                   # passes, not for acme
    ([f"{OURS}; dmarc=none header.from=acme.example; dkim=pass header.d=acme.example"], None),
    ([f"{OURS}; none"], "neither DKIM nor SPF passed for acme.example"),
    (["mx.evil.example; dmarc=pass header.from=acme.example"],           # someone else's word
     f"it carries no sender check by {OURS}"),
    ([], f"it carries no sender check by {OURS}"),
    ([f"{OURS}; dmarc=fail header.from=acme.example",                   # the topmost counts:
      f"{OURS}; dmarc=pass header.from=acme.example"],                   # the sender wrote this
     "acme.example's DMARC check failed"),
    (["not an authentication-results header at all ;;; =",
      "MX.ACME.EXAMPLE; dmarc=pass header.from=acme.example"], None),
])
def test_what_vouches_for_the_sender(headers: list[str], problem: str | None) -> None:
    assert sender_problem(headers, OURS, "Ann@Acme.Example") == problem


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=3), st.text(max_size=40))
def test_any_headers_give_an_answer_and_never_an_error(headers: list[str], sender: str) -> None:
    problem = sender_problem([f"{OURS}; {value}" for value in headers] + headers, OURS, sender)
    assert problem is None or isinstance(problem, str)
