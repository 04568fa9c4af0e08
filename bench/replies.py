"""Benchmark: reply trimming, ours against the best open-source peers, on the same cases.

Parsers (each must be importable; a peer that is not is skipped with a printed note):

* ``ours``: ``drumbeat inspect``'s ``reply_text`` (``mail.read.inspect.inspect_message`` with the
  agenda as ``sent_lines``) on our corpus, ``mail.read.reply_text.extract_reply`` elsewhere;
* ``mail-parser-reply`` (``mailparser_reply.EmailReplyParser(languages=…).parse_reply``,
  every language it ships);
* ``email-reply-parser`` (``email_reply_parser.EmailReplyParser.parse_reply``);
* ``talon`` (``talon.quotations.extract_from_plain`` / ``extract_from_html``) and
  ``talon+sig`` (the same, then ``talon.signature.bruteforce.extract_signature``, talon's
  documented way to drop a signature; its machine-learning ``signature.extract(body,
  sender)`` does not import with current scikit-learn, so the sender is ours alone);
* ``quotequail`` (the reply parts of ``quote`` / ``quote_html`` with
  ``quote_intro_line=True``, so the "On … wrote:" line counts as quoted).

Every parser gets the same input: the plain part when it has content, else the HTML part
(MIME decoding is ours for everyone). Peers that read only plain text get the HTML as
text (``mail.read.html_text.html_to_text``, which marks nothing as quoted); HTML results are
turned into text the same way. Texts are compared after collapsing runs of blank lines
and trailing spaces (``bench.corpora.normalize``); talon's HTML cases without any
whitespace, as talon's own tests compare them.

Corpora (loaded by ``bench/corpora.py``, which the tests share):

1. ``drumbeat``: ``tests/fixtures/replies`` (hand-written ``reply_text`` expectations);
   ``drumbeat-cmd`` reads each parser's text with our grammar (``parse_commands``) and
   compares the commands (peers have no inline answers, so those fixtures are lost to
   them); "agenda leaks" counts fixtures where a command repeats the quoted agenda.
2. ``discourse``: ``tests/fixtures/corpora/reply-trimming-discourse`` (``test/emails/NAME.txt``
   against ``test/trimmed/NAME.txt``), 64 cases.
3. ``talon`` and ``quotequail``: the reply cases (forwards left out) of those packages' own
   tests, vendored in ``tests/fixtures/corpora/{talon,quotequail}`` (``cases.json``; its
   README says how the expectations were read).

A row with ``*`` scores ours against our stated answer where we differ on purpose
(``DISCOURSE_DELIBERATE``, ``PUBLIC_DELIBERATE``). Usage::

    .venv/bin/python bench/replies.py [--misses]

The last stdout line is (exact-match percentages; ``_intended``: the ``*`` row)::

    ours_corpus=… ours_discourse=… ours_discourse_intended=… ours_talon=…
    ours_talon_intended=… ours_quotequail=… ours_quotequail_intended=…
    best_peer_corpus=… best_peer_discourse=… best_peer_talon=… best_peer_quotequail=…

(on one line; the line before it names the best peers).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpora import (  # noqa: E402
    DISCOURSE_DELIBERATE,
    FIXTURES,
    PUBLIC_SUITES,
    agenda_echoes,
    discourse_expected,
    discourse_paths,
    expected_text,
    intended,
    normalize,
    reply_cases,
    signature_cases,
)
from mail.read.grammar import parse_commands  # noqa: E402
from mail.read.html_text import html_to_text  # noqa: E402
from mail.read.inspect import inspect_message, zone_of  # noqa: E402
from mail.read.message import parse_message  # noqa: E402
from mail.read.reply_text import extract_reply  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One message to trim and what its new text should be."""

    name: str
    text: str | None
    html: str | None
    expected: str
    compare: str = "normalized"  # or "no-whitespace" (talon's own HTML comparison)
    raw: bytes | None = None  # our corpus: the whole message, for ``inspect_message``
    commands: tuple[dict[str, Any], ...] | None = None  # our corpus: expected commands
    intent: str | None = None  # what we return on purpose where we disagree with them
    sender: str | None = None  # the From display name, for parsers that take it


@dataclass(frozen=True)
class Parser:
    name: str
    plain: Callable[[str], str]
    html: Callable[[str], str] | None = None  # None: the HTML as text, then ``plain``
    # Its text at the quote stage (signatures still in), where it has one; else its text.
    quote_plain: Callable[[str], str] | None = None
    quote_html: Callable[[str], str] | None = None
    with_sender: Callable[[str, str], str] | None = None  # plain text and the sender's name


# -- the parsers ---------------------------------------------------------------------------


def _ours_plain(text: str) -> str:
    return extract_reply(text).text


def _ours_html(html: str) -> str:
    return extract_reply(None, html).text


def _ours_with_sender(text: str, sender: str) -> str:
    return extract_reply(text, sender_name=sender).text


def _ours_quote_free(text: str) -> str:
    return extract_reply(text).quote_free


def _ours_quote_free_html(html: str) -> str:
    return extract_reply(None, html).quote_free


def load_parsers() -> tuple[list[Parser], list[str]]:
    """Ours and every peer that imports; notes say which did not and why."""
    parsers = [
        Parser(
            "ours", _ours_plain, _ours_html, _ours_quote_free, _ours_quote_free_html,
            _ours_with_sender,
        )
    ]
    notes: list[str] = []
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply
        from mailparser_reply.constants import MAIL_LANGUAGES

        languages = [code for code in MAIL_LANGUAGES if len(code) == 2]
        reader = MailParserReply(languages=languages)
        parsers.append(Parser("mail-parser-reply", lambda text: reader.parse_reply(text)))
    except Exception as error:  # any import or setup failure skips the peer
        notes.append(f"mail-parser-reply skipped: {type(error).__name__}: {error}")
    try:
        from email_reply_parser import EmailReplyParser

        parsers.append(Parser("email-reply-parser", EmailReplyParser.parse_reply))
    except Exception as error:
        notes.append(f"email-reply-parser skipped: {type(error).__name__}: {error}")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            import talon
            from talon import quotations
            from talon.signature.bruteforce import extract_signature

            talon.init()

        def talon_html(html: str) -> str:
            return html_to_text(quotations.extract_from_html(html))

        def without_signature(text: str) -> str:
            return extract_signature(text)[0]

        parsers.append(Parser("talon", quotations.extract_from_plain, talon_html))
        parsers.append(
            Parser(
                "talon+sig",
                lambda text: without_signature(quotations.extract_from_plain(text)),
                lambda html: without_signature(talon_html(html)),
            )
        )
    except Exception as error:
        notes.append(f"talon skipped: {type(error).__name__}: {error}")
    try:
        import quotequail

        def qq_plain(text: str) -> str:
            return "".join(p for ours, p in quotequail.quote(text, quote_intro_line=True) if ours)

        def qq_html(html: str) -> str:
            parts = quotequail.quote_html(html, quote_intro_line=True)
            return html_to_text("".join(part for ours, part in parts if ours))

        parsers.append(Parser("quotequail", qq_plain, qq_html))
    except Exception as error:
        notes.append(f"quotequail skipped: {type(error).__name__}: {error}")
    return parsers, notes


def run(parser: Parser, case: Case, *, quote_stage: bool = False) -> str:
    """The parser's new text for a case (at its quote stage: ``quote_stage``); a parser
    that raises returns "" (a miss)."""
    plain = (quote_stage and parser.quote_plain) or parser.plain
    html = (quote_stage and parser.quote_html) or parser.html
    try:
        if case.sender and case.text and parser.with_sender and not quote_stage:
            return parser.with_sender(case.text, case.sender) or ""
        if case.text and case.text.strip():
            return plain(case.text) or ""
        if case.html and case.html.strip():
            if html is not None:
                return html(case.html) or ""
            return plain(html_to_text(case.html)) or ""
    except Exception:  # a peer's crash is its miss, not the benchmark's
        return ""
    return ""


def matches(got: str, case: Case) -> bool:
    if case.compare == "no-whitespace":
        return re.sub(r"\s", "", got) == re.sub(r"\s", "", case.expected)
    return normalize(got) == normalize(case.expected)


# -- the corpora -----------------------------------------------------------------------------


def drumbeat_cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        parsed = parse_message(raw)
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        cases.append(
            Case(
                path.stem,
                parsed.text,
                parsed.html,
                expected["reply_text"],
                raw=raw,
                commands=tuple(expected["commands"]),
            )
        )
    return cases


def discourse_cases() -> list[Case]:
    """The 64 cases; our deliberate answers are ``bench.corpora.DISCOURSE_DELIBERATE``'s."""
    cases = []
    for path in discourse_paths():
        theirs = discourse_expected(path)
        deliberate = DISCOURSE_DELIBERATE.get(path.stem)
        intent = deliberate[1](normalize(theirs)) if deliberate else None
        cases.append(Case(path.stem, path.read_text(encoding="utf-8"), None, theirs, intent=intent))
    return cases


def public_suite(suite: str, *, full: bool) -> list[Case]:
    """talon's or quotequail's reply cases (forwards left out), from ``tests/fixtures/corpora``,
    with our deliberate answers attached: the whole pipeline's (``full``,
    ``PUBLIC_DELIBERATE_FULL``) or the quote stage's (``PUBLIC_DELIBERATE``)."""
    out = []
    for case in reply_cases(suite):
        deliberate = intended(case, full=full)
        out.append(
            Case(
                case.id,
                case.text,
                case.html,
                expected_text(case),
                "no-whitespace" if case.compare.startswith("no-whitespace") else "normalized",
                intent=deliberate[1] if deliberate else None,
            )
        )
    return out


def talon_signature_suite() -> list[Case]:
    """talon's signature fixtures: the body without the signature talon expects cut."""
    return [
        Case(case.name, case.body, None, case.expected, sender=case.sender)
        for case in signature_cases()
    ]


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Score:
    hits: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return 100 * self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.percent:5.1f}% ({self.hits}/{self.total})" if self.total else "-"


def _commands_of(text: str, case: Case) -> list[dict[str, Any]]:
    assert case.raw is not None
    parsed = parse_message(case.raw)
    moment = parsed.date or datetime.now(UTC)
    found = parse_commands(text, message_date=moment, timezone=zone_of(parsed.date))
    return found.to_json()["commands"]


def _same_commands(got: list[dict[str, Any]], want: tuple[dict[str, Any], ...]) -> bool:
    def key(command: dict[str, Any]) -> str:
        return json.dumps(command, sort_keys=True, ensure_ascii=False)

    return sorted(map(key, got)) == sorted(map(key, want))


def measure_drumbeat(
    parsers: list[Parser], cases: list[Case], misses: dict[str, list[str]]
) -> tuple[dict[str, Score], dict[str, Score], dict[str, int]]:
    """Text, commands and agenda leaks on our corpus; ours runs the whole inspect pipeline."""
    sent = tuple((FIXTURES / "agenda.txt").read_text(encoding="utf-8").splitlines())
    text = {p.name: Score() for p in parsers}
    commands = {p.name: Score() for p in parsers}
    leaks = {p.name: 0 for p in parsers}
    for case in cases:
        assert case.raw is not None and case.commands is not None
        for parser in parsers:
            if parser.name == "ours":
                result = inspect_message(case.raw, sent_lines=sent)
                got_text, got_commands = result["reply_text"], result["commands"]
            else:
                got_text = run(parser, case)
                got_commands = _commands_of(got_text, case)
            ok = matches(got_text, case)
            text[parser.name].hits += ok
            text[parser.name].total += 1
            if not ok:
                misses.setdefault(f"drumbeat/{parser.name}", []).append(case.name)
            commands[parser.name].hits += _same_commands(got_commands, case.commands)
            commands[parser.name].total += 1
            leaks[parser.name] += bool(agenda_echoes(got_commands, list(case.commands)))
    return text, commands, leaks


def measure(
    parsers: list[Parser],
    cases: list[Case],
    label: str,
    misses: dict[str, list[str]],
    *,
    quote_stage: bool = False,
) -> tuple[dict[str, Score], dict[str, Score]]:
    """Exact matches against their expectations, and against our stated answer where we
    differ on purpose (``Case.intent``; the same as theirs elsewhere); ``quote_stage``
    reads each parser's text before its signature cut, where it has one."""
    scores = {p.name: Score() for p in parsers}
    ours = {p.name: Score() for p in parsers}
    for case in cases:
        mine = (
            case
            if case.intent is None
            else Case(case.name, case.text, case.html, case.intent, compare=case.compare)
        )
        for parser in parsers:
            got = run(parser, case, quote_stage=quote_stage)
            ok = matches(got, case)
            scores[parser.name].hits += ok
            scores[parser.name].total += 1
            ours[parser.name].hits += matches(got, mine)
            ours[parser.name].total += 1
            if not ok:
                misses.setdefault(f"{label}/{parser.name}", []).append(case.name)
    return scores, ours


def table(rows: list[tuple[str, dict[str, Any]]], columns: list[str]) -> Iterator[str]:
    width = max(len(label) for label, _ in rows) + 2
    cells = 17
    yield "corpus".ljust(width) + "".join(c.rjust(cells + 2) for c in columns)
    for label, scores in rows:
        yield label.ljust(width) + "".join(
            str(scores.get(c, "-")).rjust(cells + 2) for c in columns
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--misses", action="store_true", help="list every missed case per corpus and parser"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore")  # html5lib (talon) warns about every Word namespace
    parsers, notes = load_parsers()
    names = [p.name for p in parsers]
    misses: dict[str, list[str]] = {}
    rows: list[tuple[str, dict[str, Any]]] = []

    corpus = drumbeat_cases()
    text, commands, leaks = measure_drumbeat(parsers, corpus, misses)
    rows += [("drumbeat", text), ("drumbeat-cmd", commands)]

    theirs: dict[str, dict[str, Score]] = {}
    intended: dict[str, dict[str, Score]] = {}
    theirs["discourse"], intended["discourse"] = measure(
        parsers, discourse_cases(), "discourse", misses
    )
    for suite in PUBLIC_SUITES:  # quote stage against theirs; the whole pipeline as well
        theirs[suite], _ = measure(
            parsers, public_suite(suite, full=False), suite, misses, quote_stage=True
        )
        theirs[f"{suite}_full"], intended[suite] = measure(
            parsers, public_suite(suite, full=True), f"{suite}_full", misses
        )
    theirs["talon_signatures"], _ = measure(
        parsers, talon_signature_suite(), "talon_signatures", misses
    )
    rows += [(label.replace("_", "-"), scores) for label, scores in theirs.items()]
    rows += [(label + "*", scores) for label, scores in intended.items()]

    for note in notes:
        print(f"note: {note}")
    print()
    for line in table(rows, names):
        print(line)
    print(
        "(talon, quotequail: our quote stage (ReplyText.quote_free: quotes and attributions "
        "cut,\n signature, sign-off and footers still in), as their quote removers work; "
        "-full: the whole pipeline;\n * = the whole pipeline where we differ on purpose, "
        "scored against our stated answer: signatures,\n sign-offs, mobile footers and "
        "quoted lines are not new text; see bench/corpora.py's\n DISCOURSE_DELIBERATE, "
        "PUBLIC_DELIBERATE and PUBLIC_DELIBERATE_FULL)"
    )
    print()
    print("agenda leaks (drumbeat fixtures where a command repeats the quoted agenda):")
    print("  " + ", ".join(f"{name} {leaks[name]}" for name in names))
    if args.misses:
        for key, missed in sorted(misses.items()):
            print(f"\nmissed {key} ({len(missed)}): {', '.join(missed)}")

    peers = [name for name in names if name != "ours"]

    def best(scores: dict[str, Score]) -> tuple[str, float]:
        if not peers:
            return "none", 0.0
        name = max(peers, key=lambda n: scores[n].percent)
        return name, scores[name].percent

    bests = {"corpus": best(text)} | {label: best(scores) for label, scores in theirs.items()}
    print("\nbest peers: " + " ".join(f"{label}={name}" for label, (name, _) in bests.items()))
    figures = [f"ours_corpus={text['ours'].percent:.1f}"]
    for label, scores in theirs.items():
        figures.append(f"ours_{label}={scores['ours'].percent:.1f}")
        if label in intended:
            figures.append(f"ours_{label}_intended={intended[label]['ours'].percent:.1f}")
    figures += [f"best_peer_{label}={percent:.1f}" for label, (_, percent) in bests.items()]
    print(" ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
