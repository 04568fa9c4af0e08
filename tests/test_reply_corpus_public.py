"""Reply trimming on the test emails of talon and quotequail, read as their authors expect.

The cases are those packages' own test expectations, extracted into
``tests/fixtures/corpora/{talon,quotequail}/cases.json`` (the README there says how).
Every reply case (not a forward: forwards are the forward parser's business) has one
test here. Where we return something else on purpose, ``PUBLIC_DELIBERATE``
(``bench/corpora.py``, shared with ``bench/replies.py``; the reasons are also in the
corpus README) says why and what we return instead, and the test checks exactly that.
"""

from __future__ import annotations

import pytest

from bench.corpora import (
    PUBLIC_DELIBERATE,
    PUBLIC_SUITES,
    PublicCase,
    expected_text,
    ours,
    public_cases,
    reply_cases,
    same_text,
)

CASES = [case for suite in PUBLIC_SUITES for case in reply_cases(suite)]


def test_suites_hold_their_cases() -> None:
    """A regenerated corpus that lost cases shows here, not as a quietly higher rate."""
    counts = {suite: len(public_cases(suite)) for suite in PUBLIC_SUITES}
    replies = {suite: len(reply_cases(suite)) for suite in PUBLIC_SUITES}
    assert counts == {"talon": 90, "quotequail": 51}
    assert replies == {"talon": 88, "quotequail": 23}


def test_exceptions_name_real_reply_cases() -> None:
    names = {(case.suite, case.id) for case in CASES}
    assert set(PUBLIC_DELIBERATE) <= names


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: PublicCase) -> None:
    got = ours(case)
    key = (case.suite, case.id)
    if key in PUBLIC_DELIBERATE:
        why, answer = PUBLIC_DELIBERATE[key]
        assert same_text(got, answer, case.compare), why
        assert not same_text(got, expected_text(case), case.compare), (
            f"{case.name} now matches their text: drop it from PUBLIC_DELIBERATE"
        )
        return
    assert same_text(got, expected_text(case), case.compare), case.kind
