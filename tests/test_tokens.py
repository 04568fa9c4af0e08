"""Reply tokens: what comes back in ``checkin+TOKEN@`` must name exactly the agenda we sent."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.write.tokens import make_token, read_token, reply_address, token_from_address

SECRET = "s3cret-key"


@given(st.integers(min_value=0, max_value=2**64))
def test_every_id_round_trips(outbox_id: int) -> None:
    token = make_token(outbox_id, SECRET)
    assert re.fullmatch(r"[a-z0-9]+", token)
    assert read_token(token, SECRET) == outbox_id


def test_tokens_are_short_lowercase_and_fit_a_local_part() -> None:
    address = reply_address(2**64, SECRET, "Mail.Example.com")
    local, _, domain = address.partition("@")
    assert len(local) <= 64
    assert domain == "mail.example.com"
    assert local == local.lower()
    assert len(make_token(42, SECRET)) == 2 + 13


def test_another_ids_digits_with_this_signature_are_refused() -> None:
    token = make_token(42, SECRET)
    forged = make_token(43, SECRET)[:-13] + token[-13:]
    assert read_token(forged, SECRET) is None


def test_a_changed_signature_is_refused() -> None:
    token = make_token(42, SECRET)
    last = "a" if token[-1] != "a" else "b"
    assert read_token(token[:-1] + last, SECRET) is None


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert read_token(make_token(42, "another secret"), SECRET) is None


def test_uppercase_tokens_are_accepted_because_mtas_may_change_case() -> None:
    assert read_token(make_token(1234, SECRET).upper(), SECRET) == 1234


def test_a_leading_zero_spelling_is_refused_so_each_id_has_one_token() -> None:
    assert read_token("0" + make_token(42, SECRET), SECRET) is None


@pytest.mark.parametrize(
    "garbage",
    ["", "x", "abc", "!!!", "a" * 100, "16.ybxmx33uflxr", "16+ybxmx33uflxr", "zzzzzzzzzzzzzz",
     "16ybxmx33ufl x", "١٦ybxmx33uflxra"],
)
def test_garbage_reads_as_none(garbage: str) -> None:
    assert read_token(garbage, SECRET) is None


def test_an_empty_secret_is_refused_rather_than_signing_with_it() -> None:
    with pytest.raises(ValueError):
        make_token(1, "")


def test_negative_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        make_token(-1, SECRET)


def test_the_reply_address_gives_its_token_back() -> None:
    address = reply_address(77, SECRET, "example.com")
    assert address.startswith("checkin+")
    token = token_from_address(address)
    assert token is not None and read_token(token, SECRET) == 77


@pytest.mark.parametrize(
    "address",
    [
        "CHECKIN+{token}@EXAMPLE.COM",
        "Drumbeat <checkin+{token}@example.com>",
        "  checkin+{token_upper}@example.com ",
    ],
)
def test_token_from_address_ignores_case_and_display_names(address: str) -> None:
    token = make_token(9, SECRET)
    found = token_from_address(address.format(token=token, token_upper=token.upper()))
    assert found == token
    assert read_token(found, SECRET) == 9


@pytest.mark.parametrize(
    "address",
    ["notes@example.com", "checkin@example.com", "checkin+@example.com",
     "checkinx+16ybxmx33uflxr@example.com", "updates+16ybxmx33uflxr@example.com",
     "checkin+16ybxmx33uflxr", "checkin+has.dot.in.itxxxxx@example.com", "", "not an address"],
)
def test_token_from_address_refuses_other_addresses(address: str) -> None:
    assert token_from_address(address) is None


def test_with_no_key_or_the_old_public_default_no_token_verifies() -> None:
    """Anyone could have minted such a token: it names no agenda."""
    with pytest.raises(ValueError):
        make_token(42, "")
    assert read_token(make_token(42, SECRET), "") is None
    assert read_token(make_token(42, "change-me"), "change-me") is None
