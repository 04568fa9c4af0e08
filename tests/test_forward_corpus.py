"""Forwarded messages: our own corpus, the crisp corpus, and the reply corpus as a control.

1. ``tests/fixtures/forwards/<client>_<variant>.eml``: forwards written the way real
   clients write them (Gmail web and Android, Outlook desktop plain and HTML, Outlook web,
   iOS, Android and Mac, Apple Mail on macOS and iOS, Thunderbird, Yahoo, Samsung Email,
   message/rfc822 and .eml attachments, forwards of forwards), in English, German,
   French, Spanish, Portuguese, Italian, Dutch and Japanese, in UTF-8, windows-1252,
   ISO-8859-1/15 and ISO-2022-JP, quoted-printable, base64 and 8bit. Each
   ``NAME.expected.json`` lists the forwarded messages, outermost first, as a person
   reading the mail would: ``from`` (address), ``to``, ``cc`` (where written), ``date``
   (ISO 8601: with the offset when the client wrote a zone, naive when it did not, null
   when it wrote none), ``subject``, ``body`` and ``note`` (the text above it).
   A fixture is right when, for every level, the four fields from, date, subject and body
   are; bodies are compared line by line with surrounding whitespace removed and runs of
   blank lines collapsed. To, Cc and notes are checked by a separate test.
2. ``tests/fixtures/corpora/forwards-crisp/fixtures/*_body*.txt`` (crisp-oss/email-forward-parser's
   test data, read in place): every body forwards the same message (from john.doe@acme.com,
   subject "Integer consequat non purus", the body in ``CRISP_BODY``; the corpus
   definitions live in ``bench/forward_corpus.py``, shared with ``bench/forwards.py``);
   dates vary by client and are checked against ``crisp_date``. ``*_variant_4`` files
   are replies and must give no forward. Bodies that carry no subject line get the outer
   subject from their ``*_subject*.txt`` companion (``crisp_subject``), as a mail client
   would pass it. Checks skipped for a file are listed in ``CRISP_SKIPS`` with the reason.
   When the folder is missing the crisp tests skip, and fail under CI.
3. ``tests/fixtures/replies/*.eml``: no reply is ever taken for a forward.

Floors: our corpus 95%, crisp 90% (all four fields). Measured when this was written: ours
48/48, crisp 180/180 forwards (one From check skipped) and 10/10 replies not taken for
forwards. Misses are listed in ``KNOWN_MISSES`` / ``CRISP_KNOWN_MISSES`` with the reason;
a listed case that starts to pass fails its test, so the lists only shrink.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bench.forward_corpus import (
    CRISP,
    CRISP_BODY,
    CRISP_FROM,
    CRISP_SKIPS,
    CRISP_SUBJECT,
    FIXTURES,
    crisp_date,
    crisp_subject,
    normalize,
)
from mail.read.forward import Forwarded, find_forwards, split_forward
from mail.read.message import parse_message

REPLIES = Path(__file__).resolve().parent / "fixtures" / "replies"

MIN_FIXTURES = 40
OWN_FLOOR = 0.95
CRISP_FLOOR = 0.90
FOUR = ("from", "date", "subject", "body")

# name -> why the parser misses it (all four fields of every level are checked)
KNOWN_MISSES: dict[str, str] = {}


# -- comparing ---------------------------------------------------------------------------


def field_matches(got: Forwarded, want: dict[str, Any], field: str) -> bool:
    """One of the four fields of one forwarded message against its expectation."""
    if field == "from":
        return got.from_addr == want["from"]
    if field == "date":
        return (got.date.isoformat() if got.date else None) == want["date"]
    if field == "subject":
        return got.subject == want["subject"]
    return normalize(got.body) == normalize(want["body"])


# -- our corpus ------------------------------------------------------------------------------


def _names() -> list[str]:
    return sorted(path.name.removesuffix(".eml") for path in FIXTURES.glob("*.eml"))


@cache
def _expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return data


@cache
def _found(name: str) -> tuple[Forwarded, ...]:
    return find_forwards(parse_message((FIXTURES / f"{name}.eml").read_bytes()))


def own_problems(name: str) -> list[str]:
    """What differs from the expectation in the four fields, level by level."""
    want, got = _expected(name)["forwarded"], _found(name)
    problems = [] if len(got) == len(want) else [f"{len(got)} forwards, expected {len(want)}"]
    for level, (found, expected) in enumerate(zip(got, want, strict=False)):
        for field in FOUR:
            if not field_matches(found, expected, field):
                shown = {
                    "from": found.from_addr,
                    "date": (found.date.isoformat() if found.date else None, found.date_text),
                    "subject": found.subject,
                    "body": found.body,
                }[field]
                problems.append(
                    f"level {level} {field}: expected {expected[field]!r}, got {shown!r}"
                )
    return problems


def test_corpus_is_complete_and_well_formed() -> None:
    names = _names()
    assert len(names) >= MIN_FIXTURES, f"only {len(names)} fixtures"
    sidecars = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.json"))
    assert sidecars == names
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", name), f"{name}: <client>_<variant>"
        data = _expected(name)
        assert set(data) == {"client", "notes", "forwarded"}, name
        assert data["client"] and data["notes"] and data["forwarded"], name
        for entry in data["forwarded"]:
            assert (
                {"from", "to", "date", "subject", "body"}
                <= set(entry)
                <= {"from", "to", "cc", "date", "subject", "body", "note"}
            ), name
            if entry["date"] is not None:
                datetime.fromisoformat(entry["date"])


def test_known_misses_name_real_fixtures() -> None:
    assert sorted(set(KNOWN_MISSES) - set(_names())) == []


@pytest.mark.parametrize("name", _names())
def test_fixture(name: str) -> None:
    problems = own_problems(name)
    if name in KNOWN_MISSES:
        assert problems, f"{name} now passes: remove it from KNOWN_MISSES"
        pytest.xfail(KNOWN_MISSES[name])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", _names())
def test_fixture_recipients_and_note(name: str) -> None:
    """To, Cc (where the expectation has it) and the note above each forward."""
    for found, want in zip(_found(name), _expected(name)["forwarded"], strict=False):
        assert list(found.to) == want["to"]
        if "cc" in want:
            assert list(found.cc) == want["cc"]
        if "note" in want:
            assert normalize(found.note) == normalize(want["note"])


def test_own_corpus_rate(capsys: pytest.CaptureFixture[str]) -> None:
    names = _names()
    right = [name for name in names if not own_problems(name)]
    with capsys.disabled():
        print(f"\nforward corpus: all four fields right on {len(right)}/{len(names)}")
    assert len(right) / len(names) >= OWN_FLOOR, sorted(set(names) - set(right))


# -- the reply corpus: never a forward ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(REPLIES.glob("*.eml")), ids=lambda path: path.stem)
def test_a_reply_is_never_a_forward(path: Path) -> None:
    assert find_forwards(parse_message(path.read_bytes())) == ()


# -- the crisp corpus --------------------------------------------------------------------------

# file -> why the parser misses it (beyond the skipped checks)
CRISP_KNOWN_MISSES: dict[str, str] = {}


def crisp_files() -> list[Path]:
    if not CRISP.is_dir():
        message = f"the crisp corpus is not at {CRISP}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    return sorted((CRISP / "fixtures").glob("*_body*.txt"))


def crisp_problems(path: Path) -> list[str]:
    """The four checks on one crisp body (skipped ones pass); a reply must give nothing."""
    name = path.stem
    _, found = split_forward(path.read_text(encoding="utf-8"), subject=crisp_subject(path))
    if "variant_4" in name:
        return [f"a reply read as a forward from {found[0].from_addr}"] if found else []
    if not found:
        return ["no forward found"]
    first, skipped = found[0], CRISP_SKIPS.get(name, {})
    problems = []
    if "from" not in skipped and first.from_addr != CRISP_FROM:
        problems.append(f"from {first.from_addr!r}")
    if "subject" not in skipped and first.subject != CRISP_SUBJECT:
        problems.append(f"subject {first.subject!r}")
    written = first.date
    stamp = (
        (written.year, written.month, written.day, written.hour, written.minute)
        if written
        else None
    )
    if "date" not in skipped and stamp != crisp_date(name):
        problems.append(f"date {written} from {first.date_text!r}")
    if "body" not in skipped and normalize(first.body) != normalize(CRISP_BODY):
        problems.append(f"body {first.body[:200]!r}")
    return problems


def test_crisp_skips_and_misses_name_real_files() -> None:
    names = {path.stem for path in crisp_files()}
    assert sorted((set(CRISP_SKIPS) | set(CRISP_KNOWN_MISSES)) - names) == []


def test_crisp_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    files = crisp_files()
    assert len(files) >= 150, f"only {len(files)} crisp bodies"
    forwards = [path for path in files if "variant_4" not in path.stem]
    replies = [path for path in files if "variant_4" in path.stem]
    problems = {path.stem: crisp_problems(path) for path in files}
    missed = {name: found for name, found in problems.items() if found}
    right = [path for path in forwards if not problems[path.stem]]
    with capsys.disabled():
        print(
            f"\ncrisp corpus: all four fields right on {len(right)}/{len(forwards)} forwards; "
            f"{sum(not problems[p.stem] for p in replies)}/{len(replies)} replies not forwards"
        )
    stale = sorted(name for name in CRISP_KNOWN_MISSES if name not in missed)
    assert not stale, f"now right, remove from CRISP_KNOWN_MISSES: {stale}"
    unexpected = {name: found for name, found in missed.items() if name not in CRISP_KNOWN_MISSES}
    assert not [name for name in unexpected if "variant_4" in name], unexpected
    assert len(right) / len(forwards) >= CRISP_FLOOR, unexpected
    assert not unexpected, unexpected
