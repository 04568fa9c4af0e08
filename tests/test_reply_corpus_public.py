"""Reply trimming on the test emails of talon and quotequail, read as their authors expect.

The cases are those packages' own test expectations, extracted into
``tests/fixtures/corpora/{talon,quotequail}/cases.json`` (the README there says how).
Their tests exercise quote removers (talon's ``extract_from_plain``/``extract_from_html``,
quotequail's ``quote``/``unwrap``), which keep a signature by contract, so every reply
case (not a forward: forwards are the forward parser's business) is pinned twice: our
quote stage (``ReplyText.quote_free``) against their text, and the whole pipeline, which
also cuts signatures, sign-offs and mobile footers. Where we return something else on
purpose, ``PUBLIC_DELIBERATE`` (quote stage) and ``PUBLIC_DELIBERATE_FULL`` (whole
pipeline) in ``bench/corpora.py`` (shared with ``bench/replies.py``; the reasons are also
in the corpus READMEs) say why and what we return instead, and the tests check exactly
that. talon's signature fixtures are pinned here as the suite the bench scores.
"""

from __future__ import annotations

import pytest

from bench.corpora import (
    PUBLIC_DELIBERATE,
    PUBLIC_DELIBERATE_FULL,
    PUBLIC_SUITES,
    PublicCase,
    SignatureCase,
    expected_text,
    intended,
    intro_moved,
    ours,
    ours_quote_stage,
    public_cases,
    reply_cases,
    same_text,
    signature_cases,
)
from mail.read.html_text import html_to_text
from mail.read.reply_text import extract_reply

CASES = [case for suite in PUBLIC_SUITES for case in reply_cases(suite)]
SIGNATURES = signature_cases()


def test_suites_hold_their_cases() -> None:
    """A regenerated corpus that lost cases shows here, not as a quietly higher rate."""
    counts = {suite: len(public_cases(suite)) for suite in PUBLIC_SUITES}
    replies = {suite: len(reply_cases(suite)) for suite in PUBLIC_SUITES}
    assert counts == {"talon": 90, "quotequail": 51}
    assert replies == {"talon": 88, "quotequail": 23}
    assert [case.name for case in SIGNATURES] == [
        "camel_case", "jeff", "long", "short_url", "sparse"]  # fmt: skip


def test_exceptions_name_real_reply_cases() -> None:
    names = {(case.suite, case.id) for case in CASES}
    assert set(PUBLIC_DELIBERATE) <= names
    assert set(PUBLIC_DELIBERATE_FULL) <= names


def test_the_attribution_moves_only_where_quotequail_keeps_it_as_own_text() -> None:
    """The one mapping of their expectations (quotequail's quote without
    quote_intro_line): the cases it touches, and what it removes."""
    moved = {case.id for case in CASES if intro_moved(case)}
    assert moved == {"test_tag_with_equals_sign", "test_control_character_in_quoted_block"}
    equals = next(case for case in CASES if case.id == "test_tag_with_equals_sign")
    assert expected_text(equals) == "Here is my reply."


def _check(case: PublicCase, got: str, answer: tuple[str, str] | None) -> None:
    if answer is None:
        assert same_text(got, expected_text(case), case.compare), case.kind
        return
    why, ours_instead = answer
    assert same_text(got, ours_instead, case.compare), why
    assert not same_text(got, expected_text(case), case.compare), (
        f"{case.name} now matches their text: drop it from the deliberate differences"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_quote_stage(case: PublicCase) -> None:
    _check(case, ours_quote_stage(case), intended(case, full=False))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_whole_pipeline(case: PublicCase) -> None:
    _check(case, ours(case), intended(case, full=True))


def test_quote_stage_reaches_the_target() -> None:
    """At most 4 of talon's 88 cases off, 1 of quotequail's 23 (95% exact or better)."""
    off = {suite: 0 for suite in PUBLIC_SUITES}
    for case in CASES:
        off[case.suite] += not same_text(ours_quote_stage(case), expected_text(case), case.compare)
    assert off == {"talon": 4, "quotequail": 1}


@pytest.mark.parametrize("case", SIGNATURES, ids=[case.name for case in SIGNATURES])
def test_talon_signature_cut(case: SignatureCase) -> None:
    """The whole pipeline cuts the signature talon expects, and the quote stage keeps it."""
    result = extract_reply(case.body, sender_name=case.sender)
    assert result.text == case.expected
    assert result.signature == case.signature
    assert result.quote_free == case.body.strip()


def test_bench_reports_each_suite(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench/replies.py`` prints the quote stage, the whole pipeline and the signature
    suite under their own keys, with the figures the cases above pin."""
    from bench.replies import main

    assert main([]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = dict(pair.split("=") for pair in last.split())
    assert {key: figures[key] for key in (
        "ours_corpus", "ours_talon", "ours_talon_full", "ours_talon_intended",
        "ours_quotequail", "ours_quotequail_full", "ours_quotequail_intended",
        "ours_talon_signatures")} == {
        "ours_corpus": "100.0", "ours_talon": "95.5", "ours_talon_full": "80.7",
        "ours_talon_intended": "100.0", "ours_quotequail": "95.7",
        "ours_quotequail_full": "87.0", "ours_quotequail_intended": "100.0",
        "ours_talon_signatures": "100.0"}  # fmt: skip


def test_an_unescaped_address_in_html_is_read_as_the_text_it_was() -> None:
    """iOS Mail writes "Jane Roe <jane@example.com> wrote:" into its HTML unescaped: the
    address is read as text (the shape of quotequail's test_unwrap_html_tag_with_quote_in_name),
    and real markup, namespaced Outlook tags included, is still markup."""
    html = (
        '<div dir="ltr">Sounds good, I\'ll be there at 2.</div><div dir="ltr"><br></div>'
        '<div dir="ltr">Sent from my iPhone</div><div dir="ltr"><br>On Sep 4, 2025, at '
        "11:30 AM, Jane Roe <jane@example.com> wrote:<br><br></div><blockquote type=\"cite\">"
        '<div dir="ltr">Hey - can we reschedule?</div></blockquote>'
    )
    result = extract_reply(None, html)
    assert result.text == "Sounds good, I'll be there at 2."
    assert result.quote_free == "Sounds good, I'll be there at 2.\n\nSent from my iPhone"
    assert "Jane Roe <jane@example.com> wrote:" in result.removed
    assert html_to_text('<p class=MsoNormal>a <o:p>b</o:p> <key=value>c</p>') == "a b <key=value>c"
