"""What the SMTP door reads before its 250: Message-ID, From and Subject, quickly and safely."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.intake import decoded, first_headers, message_id_of, row_values, sender_of

FIXTURES = sorted(p for p in (Path(__file__).parent / "fixtures").rglob("*.eml"))


def test_folded_values_are_unfolded_and_the_first_of_each_wins() -> None:
    block = (b"Received: from a\r\n\tby b\r\nMessage-ID:\r\n <x.1@mail.example>\r\n"
             b"Subject: Re: the\r\n  quarterly plan\r\nSubject: second\r\n"
             b"From: Ann <ann@mail.example>\r\n\r\nbody: From: eve@evil.example\r\n")
    assert first_headers(block) == {"message-id": "<x.1@mail.example>",
                                    "subject": "Re: the  quarterly plan",
                                    "from": "Ann <ann@mail.example>"}


def test_an_mbox_separator_line_is_skipped_and_a_non_header_line_ends_the_block() -> None:
    block = (b"From ann@mail.example Sat Nov 28 06:00:00 2026\nSubject: hi\nnot a header\n"
             b"From: x@y.z\n")
    assert first_headers(block) == {"subject": "hi"}


@pytest.mark.parametrize(("raw", "subject"), [
    ("Subject: Präsentation ✓".encode(), "Präsentation ✓"),          # raw UTF-8
    ("Subject: Präsentation".encode("cp1252"), "Präsentation"),       # raw Latin-1
    (b"Subject: a\x00b", "ab"),                                         # no NUL for the database
    (b"Subject: =?utf-8?q?Pr=C3=A4sentation?=", "=?utf-8?q?Pr=C3=A4sentation?="),
])
def test_subjects_are_text_a_database_column_takes(raw: bytes, subject: str) -> None:
    assert first_headers(raw + b"\r\n\r\n")["subject"] == subject


@pytest.mark.parametrize(("raw", "subject"), [
    (b"Subject: Re: 1:1 with =?utf-8?b?Sm9zw6kgTsO6w7Flejo=?= check-in agenda",
     "Re: 1:1 with Jos\u00e9 N\u00fa\u00f1ez: check-in agenda"),
    (b"Subject: =?utf-8?q?Pr=C3=A4sentation?=", "Pr\u00e4sentation"),
    (b"Subject: =?iso-8859-1?q?R=E9sum=E9?= =?utf-8?q?_=E2=9C=93?=", "R\u00e9sum\u00e9 \u2713"),
    (b"Subject: =?x-unknown?q?abc?=", "=?x-unknown?q?abc?="),           # kept as it came
    (b"Subject: =?utf-8?b?not base64!?=", "=?utf-8?b?not base64!?="),
    (b"Subject: plain =? not encoded", "plain =? not encoded"),
])
def test_the_stored_subject_is_readable_text(raw: bytes, subject: str) -> None:
    assert row_values(raw + b"\r\n\r\nbody", via="smtp")["subject"] == subject


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=40),  # what first_headers hands over: no NUL, no lone surrogate
       st.sampled_from(["utf-8", "latin-1", "x-bad", ""]),
       st.sampled_from(["q", "b", "x"]))
def test_decoding_encoded_words_never_raises(text: str, charset: str, encoding: str) -> None:
    value = decoded(f"Re: =?{charset}?{encoding}?{text}?= and {text}")
    assert "\x00" not in value
    value.encode("utf-8")  # no lone surrogate


@pytest.mark.parametrize(("value", "address"), [
    ("Ann Example <Ann@Mail.Example>", "ann@mail.example"),
    ("ann@mail.example", "ann@mail.example"),
    ('"Example, Ann" <ann@mail.example>', "ann@mail.example"),
    ("ann@mail.example (Ann Example)", "ann@mail.example"),
    ("discuss@foo.bar <mailto:discuss@foo.bar>", "discuss@foo.bar"),
    ("=?utf-8?q?Zo=C3=AB?= <zoe@mail.example>", "zoe@mail.example"),
    ("", None),
    ("undisclosed-recipients:;", None),
])
def test_the_sender_for_listings(value: str, address: str | None) -> None:
    assert sender_of(value) == address


def test_a_message_without_a_usable_message_id_gets_one_from_its_bytes() -> None:
    for raw in (b"Subject: x\r\n\r\nbody", b"Message-ID: not-an-id\r\n\r\nbody"):
        assert message_id_of(raw).startswith("<sha256-")
        assert message_id_of(raw) == message_id_of(raw)
    assert message_id_of(b"Message-ID: <a@b>\r\n\r\n") == "<a@b>"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_the_same_message_id_and_sender_as_the_email_package(path: Path) -> None:
    raw = path.read_bytes()
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    values = row_values(raw, via="smtp")
    expected = " ".join(str(headers.get("Message-ID", "")).split())
    if expected.startswith("<") and expected.endswith(">") and "@" in expected:
        assert values["message_id"] == expected
    if headers.get("From") and "@" in str(headers["From"]):
        assert values["sender"] is not None and values["sender"] in str(headers["From"]).lower()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_row_and_never_an_error(raw: bytes) -> None:
    values = row_values(raw, via="smtp")
    assert values["message_id"].startswith("<") and values["message_id"].endswith(">")
    for column in ("sender", "subject"):
        assert "\x00" not in (values[column] or "")
        (values[column] or "").encode("utf-8")  # no lone surrogate
