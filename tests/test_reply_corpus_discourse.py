"""Reply trimming measured on cases nobody on this project wrote.

The corpus is Discourse's ``email_reply_trimmer`` test data (64 plain-text bodies
in many languages and client shapes, each with the expected new text), kept in
``tests/fixtures/corpora/reply-trimming-discourse``. Their "trimmed" keeps some things
a check-in parser must drop, so a few cases differ on purpose; each is listed in
``DELIBERATE`` with the reason and what we return instead, and is checked to
return exactly that.

Figures when this was written (normalised whitespace, exact match):
ours 49/64 (76.6%) of their expected texts; the 15 deliberate differences all
give our stated answer, so 64/64 (100%) match what we intend and 49/49 of the
cases we do not dispute. Peers on the same 64, same comparison (mail-parser-reply
1.36, email-reply-parser 0.5.12, talon 1.4.4, quotequail 0.5.4): talon 33/64
(51.6%), email-reply-parser 28/64 (43.8%), mail-parser-reply 18/64 (28.1%),
quotequail 8/64 (12.5%).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mail.read.reply_text import extract_reply

CORPUS = (Path(__file__).resolve().parent / "fixtures" / "corpora"
          / "reply-trimming-discourse" / "test")

# What we achieve on the cases we do not dispute; the floor leaves a margin of two.
UNDISPUTED_EXACT = 49
FLOOR = UNDISPUTED_EXACT - 2


def _normalize(text: str) -> str:
    """No trailing spaces, no runs of blank lines, no blank lines around."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _without_quotes(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(">"))


def _without_last(count: int) -> Callable[[str], str]:
    """Their text without its last ``count`` non-blank lines (a sign-off, a name)."""

    def drop(text: str) -> str:
        for _ in range(count):
            text = _normalize(text).rpartition("\n")[0]
        return text

    return drop


def _nothing(text: str) -> str:
    return ""


SIGN_OFF = "we drop a closing sign-off and the name under it; they keep it"
QUOTES = "we drop every quoted line (quotes are never applied); they keep leading quotes"
UNMARKED = (
    "an 'On … wrote:' line at the very top followed by unquoted text: the text under it is "
    "the original that lost its '>' marks, so we cut it (they keep it)"
)

# name -> (why we differ, how their expected text becomes ours)
DELIBERATE: dict[str, tuple[str, Callable[[str], str]]] = {
    "email_headers_5": (SIGN_OFF + " ('Best regards,' / '//Jef')", _without_last(2)),
    "embedded_ception": (SIGN_OFF + " ('Thanks,' / 'Some One')", _without_last(2)),
    "embedded_email_13": (SIGN_OFF + " ('thanks')", _without_last(1)),
    "embedded_email_14": (SIGN_OFF + " ('Thank you!')", _without_last(1)),
    "embedded_email_15": (SIGN_OFF + " ('/ Greetings')", _without_last(1)),
    "embedded_email_19": (SIGN_OFF + " ('—Ryan', a dash-name signature)", _without_last(1)),
    "embedded_email_2": (SIGN_OFF + " ('Best Regards')", _without_last(1)),
    "embedded_email_swedish": (SIGN_OFF + " ('Best regards' / 'Some One')", _without_last(2)),
    "embedded_email_7": (QUOTES, _without_quotes),
    "embedded_email_16": (QUOTES, _without_quotes),
    "quote_and_text": (QUOTES, _without_quotes),
    "quote_only": (QUOTES + "; a reply that is all quote says nothing new", _without_quotes),
    "embedded_email_17": (UNMARKED, _nothing),
    "embedded_email_18": (UNMARKED, _nothing),
    "forwarded_message": (
        "a forward with no note of its own has no new text; the forwarded body is the "
        "forward parser's business (they return the forwarded body)",
        _nothing,
    ),
}


def _cases() -> list[Path]:
    emails = CORPUS / "emails"
    if not emails.is_dir():
        message = f"the Discourse reply corpus is missing at {emails}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    return sorted(emails.glob("*.txt"))


def _ours(path: Path) -> str:
    return _normalize(extract_reply(path.read_text(encoding="utf-8")).text)


def _theirs(path: Path) -> str:
    return _normalize((CORPUS / "trimmed" / path.name).read_text(encoding="utf-8"))


def test_corpus_has_its_64_cases() -> None:
    assert len(_cases()) == 64


def test_exact_match_rate_on_cases_we_do_not_dispute() -> None:
    undisputed = [path for path in _cases() if path.stem not in DELIBERATE]
    misses = [path.stem for path in undisputed if _ours(path) != _theirs(path)]
    exact = len(undisputed) - len(misses)
    assert exact >= FLOOR, f"{exact}/{len(undisputed)} exact; differing: {misses}"


def test_exact_match_rate_on_their_expectations() -> None:
    cases = _cases()
    exact = sum(_ours(path) == _theirs(path) for path in cases)
    assert exact >= FLOOR, f"{exact}/{len(cases)} ({exact / len(cases):.1%}) exact"


@pytest.mark.parametrize("name", sorted(DELIBERATE))
def test_deliberate_difference_gives_our_answer(name: str) -> None:
    path = next((path for path in _cases() if path.stem == name), None)
    assert path is not None, f"{name} is no longer in the corpus: update DELIBERATE"
    why, ours_from_theirs = DELIBERATE[name]
    theirs = _theirs(path)
    assert _ours(path) == _normalize(ours_from_theirs(theirs)), why
    assert _ours(path) != theirs, f"{name} now matches their text: drop it from DELIBERATE"
