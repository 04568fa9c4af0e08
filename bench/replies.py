"""Benchmark: reply trimming, ours against the best open-source peers, on the same cases.

Parsers (each must be importable; a peer that is not is skipped with a printed note):

* ``ours``: ``drumbeat inspect``'s ``reply_text`` (``mail.read.inspect.inspect_message`` with the
  agenda as ``sent_lines``) on our corpus, ``mail.read.reply_text.extract_reply`` elsewhere;
* ``mail-parser-reply`` (``mailparser_reply.EmailReplyParser(languages=…).parse_reply``,
  every language it ships);
* ``email-reply-parser`` (``email_reply_parser.EmailReplyParser.parse_reply``);
* ``talon`` (``talon.quotations.extract_from_plain`` / ``extract_from_html``) and
  ``talon+sig`` (the same, then ``talon.signature.bruteforce.extract_signature``, talon's
  documented way to drop a signature);
* ``quotequail`` (the reply parts of ``quote`` / ``quote_html`` with
  ``quote_intro_line=True``, so the "On … wrote:" line counts as quoted).

Every parser gets the same input: the plain part when it has content, else the HTML part
(MIME decoding is ours for everyone). Peers that read only plain text get the HTML as
text (``mail.read.html_text.html_to_text``, which marks nothing as quoted); HTML results are
turned into text the same way. Texts are compared after collapsing runs of blank lines
and trailing spaces (``tests.test_reply_corpus.normalize``).

Corpora:

1. ``drumbeat``: ``tests/fixtures/replies`` (hand-written ``reply_text`` expectations);
   ``drumbeat-cmd`` reads each parser's text with our grammar (``parse_commands``) and
   compares the commands (peers have no inline answers, so those fixtures are lost to
   them); "agenda leaks" counts fixtures where a command repeats the quoted agenda.
2. ``discourse``: ``tests/fixtures/corpora/reply-trimming-discourse`` (``test/emails/NAME.txt``
   against ``test/trimmed/NAME.txt``), 64 cases.
3. ``talon-std`` and ``talon-html``: the test data in talon 1.4.4's source archive.
   ``tests/fixtures/standard_replies/*.eml``: the plain part against ``NAME_reply_text``
   when it exists, else "Hello" (what talon's ``test_standard_replies`` asserts).
   ``tests/fixtures/html_replies/*.html``: against "Hi. I am fine.\\n\\nThanks,\\nAlex" with
   all whitespace removed (what ``extract_reply_and_check`` asserts).
4. ``qq-plain`` and ``qq-html``: the parametrized cases of quotequail's own tests (its source
   archive). ``test_quote`` / ``test_quote_html``: the reply parts of the expected
   ``quote_intro_line=True`` result; ``test_unwrap`` / ``test_unwrap_html_simple``: the
   expected ``text_top`` (``html_top``) and ``text_bottom`` joined by a blank line, or the
   whole input when nothing is expected to unwrap.

The source archives are fetched with ``pip download --no-deps --no-binary :all:`` into
``<tmp>/drumbeat-bench-replies`` (outside the repository) and reused from there; without
a network they are skipped with a note. Usage::

    .venv/bin/python bench/replies.py [--cache DIR] [--no-download] [--misses]

The last stdout line is::

    ours_corpus=… ours_discourse=… best_peer_corpus=… best_peer_discourse=…

(exact-match percentages; the line before it names the best peers).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sdists import fetch_sdist, parametrized  # noqa: E402

from mail.read.grammar import parse_commands  # noqa: E402
from mail.read.html_text import html_to_text  # noqa: E402
from mail.read.inspect import _zone_of, inspect_message  # noqa: E402
from mail.read.message import parse_message  # noqa: E402
from mail.read.reply_text import extract_reply  # noqa: E402
from tests.test_reply_corpus import FIXTURES, agenda_echoes, normalize  # noqa: E402
from tests.test_reply_corpus_discourse import DELIBERATE as DISCOURSE_DELIBERATE  # noqa: E402

DISCOURSE = REPO / "tests" / "fixtures" / "corpora" / "reply-trimming-discourse"
TALON_VERSION = "1.4.4"
TALON_HTML_EXPECTED = "Hi. I am fine.\n\nThanks,\nAlex"
SIGN_OFF = "we drop a closing sign-off and the name under it ('Thanks,' / 'Alex')"
# (corpus, case) -> (why we differ, what we return instead). Every talon HTML case.
DELIBERATE: dict[tuple[str, str], tuple[str, str]] = {
    ("talon-std", "iphone"): ("we drop the 'Sent from my iPhone' footer", "Hello"),
    ("talon-std", "sparrow"): ("we drop the '-- ' signature and 'Sent with Sparrow'", "Hello"),
    ("qq-plain", "unwrap_10"): (
        "we drop the '--' signature ('kthxbye')",
        "hello world\n\nHey: This is very important",
    ),
    ("qq-plain", "unwrap_11"): (
        "we drop every quoted line, a lone one included",
        "hello world\n\nHey: This is very important",
    ),
}


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


@dataclass(frozen=True)
class Parser:
    name: str
    plain: Callable[[str], str]
    html: Callable[[str], str] | None = None  # None: the HTML as text, then ``plain``


# -- the parsers ---------------------------------------------------------------------------


def _ours_plain(text: str) -> str:
    return extract_reply(text).text


def _ours_html(html: str) -> str:
    return extract_reply(None, html).text


def load_parsers() -> tuple[list[Parser], list[str]]:
    """Ours and every peer that imports; notes say which did not and why."""
    parsers = [Parser("ours", _ours_plain, _ours_html)]
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


def run(parser: Parser, case: Case) -> str:
    """The parser's new text for a case; a parser that raises returns "" (a miss)."""
    try:
        if case.text and case.text.strip():
            return parser.plain(case.text) or ""
        if case.html and case.html.strip():
            if parser.html is not None:
                return parser.html(case.html) or ""
            return parser.plain(html_to_text(case.html)) or ""
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
    """The 64 cases; our deliberate answers are those of ``tests/test_reply_corpus_discourse``."""
    cases = []
    for path in sorted((DISCOURSE / "test" / "emails").glob("*.txt")):
        theirs = (DISCOURSE / "test" / "trimmed" / path.name).read_text(encoding="utf-8")
        deliberate = DISCOURSE_DELIBERATE.get(path.stem)
        intent = deliberate[1](normalize(theirs)) if deliberate else None
        cases.append(Case(path.stem, path.read_text(encoding="utf-8"), None, theirs, intent=intent))
    return cases


def fetch_sdists(cache: Path, download: bool) -> tuple[Path | None, Path | None, list[str]]:
    """talon's and quotequail's source trees, unpacked under ``cache``."""
    notes: list[str] = []
    try:
        quotequail_req = f"quotequail=={importlib.metadata.version('quotequail')}"
    except importlib.metadata.PackageNotFoundError:
        quotequail_req = "quotequail"
    wanted = {"talon": f"talon=={TALON_VERSION}", "quotequail": quotequail_req}
    found: dict[str, Path | None] = {}
    for name, requirement in wanted.items():
        found[name], error = fetch_sdist(cache, name, requirement, download)
        if error is not None:
            notes.append(f"{name} source archive not downloaded: {error}")
        if found[name] is None:
            notes.append(f"{name} test data skipped: no source archive in {cache}")
    return found["talon"], found["quotequail"], notes


def talon_cases(tree: Path) -> tuple[list[Case], list[Case]]:
    standard = tree / "tests" / "fixtures" / "standard_replies"
    plain = []
    for path in sorted(standard.glob("*.eml")):
        parsed = parse_message(path.read_bytes())
        reply = path.with_name(path.stem + "_reply_text")
        expected = reply.read_text(encoding="utf-8") if reply.exists() else "Hello"
        plain.append(Case(path.stem, parsed.text, parsed.html, expected))
    html = [
        Case(
            path.stem,
            None,
            path.read_text(encoding="utf-8"),
            TALON_HTML_EXPECTED,
            compare="no-whitespace",
        )
        for path in sorted((tree / "tests" / "fixtures" / "html_replies").glob("*.html"))
    ]
    return plain, html


def _ours_parts(parts: list[tuple[bool, str]]) -> str:
    return "".join(text for ours, text in parts if ours)


def _unwrapped(expected: dict[str, str] | None, whole: str, top: str, bottom: str) -> str:
    if expected is None:
        return whole
    return "\n\n".join(part for part in (expected.get(top), expected.get(bottom)) if part)


def quotequail_cases(tree: Path) -> tuple[list[Case], list[Case]]:
    tests = tree / "tests"
    plain: list[Case] = []
    for number, (text, _, intro) in enumerate(parametrized(tests / "test_quote.py", "test_quote")):
        plain.append(Case(f"quote_{number}", text, None, _ours_parts(intro)))
    for number, (text, expected) in enumerate(
        parametrized(tests / "test_unwrap.py", "test_unwrap")
    ):
        plain.append(
            Case(
                f"unwrap_{number}",
                text,
                None,
                _unwrapped(expected, text, "text_top", "text_bottom"),
            )
        )
    html: list[Case] = []
    for number, (markup, _, intro) in enumerate(
        parametrized(tests / "test_quote_html.py", "test_quote_html")
    ):
        html.append(Case(f"quote_html_{number}", None, markup, html_to_text(_ours_parts(intro))))
    for number, (markup, expected) in enumerate(
        parametrized(tests / "test_unwrap_html.py", "test_unwrap_html_simple")
    ):
        top = _unwrapped(expected, markup, "html_top", "html_bottom")
        html.append(Case(f"unwrap_html_{number}", None, markup, html_to_text(top)))
    return plain, html


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
    found = parse_commands(text, message_date=moment, timezone=_zone_of(parsed.date))
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
    parsers: list[Parser], cases: list[Case], label: str, misses: dict[str, list[str]]
) -> tuple[dict[str, Score], dict[str, Score]]:
    """Exact matches against their expectations, and against our stated answer where we
    differ on purpose (``Case.intent``; the same as theirs elsewhere)."""
    scores = {p.name: Score() for p in parsers}
    ours = {p.name: Score() for p in parsers}
    for case in cases:
        mine = (
            case
            if case.intent is None
            else Case(case.name, case.text, case.html, case.intent, compare=case.compare)
        )
        for parser in parsers:
            got = run(parser, case)
            ok = matches(got, case)
            scores[parser.name].hits += ok
            scores[parser.name].total += 1
            ours[parser.name].hits += matches(got, mine)
            ours[parser.name].total += 1
            if not ok:
                misses.setdefault(f"{label}/{parser.name}", []).append(case.name)
    return scores, ours


def with_intent(label: str, cases: list[Case]) -> list[Case]:
    """The cases with our deliberate answers attached (``DELIBERATE``)."""
    out = []
    for case in cases:
        intent = DELIBERATE.get((label, case.name), (None, None))[1]
        if label == "talon-html":
            intent = "Hi. I am fine."
        out.append(
            Case(case.name, case.text, case.html, case.expected, case.compare, intent=intent)
        )
    return out


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
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "drumbeat-bench-replies",
        help="where the peers' source archives are kept (outside the repo)",
    )
    parser.add_argument(
        "--no-download", action="store_true", help="use only archives already in --cache"
    )
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

    intent_rows: list[tuple[str, dict[str, Any]]] = []
    discourse: dict[str, Score] = {}
    if (DISCOURSE / "test" / "emails").is_dir():
        discourse, discourse_ours = measure(parsers, discourse_cases(), "discourse", misses)
        rows.append(("discourse", discourse))
        intent_rows.append(("discourse*", discourse_ours))
    else:
        notes.append(f"discourse corpus skipped: not found at {DISCOURSE}")

    talon_tree, qq_tree, fetch_notes = fetch_sdists(args.cache, not args.no_download)
    notes += fetch_notes
    external: list[tuple[str, list[Case]]] = []
    if talon_tree is not None:
        standard, html = talon_cases(talon_tree)
        external += [("talon-std", standard), ("talon-html", html)]
    if qq_tree is not None:
        qq_plain, qq_html = quotequail_cases(qq_tree)
        external += [("qq-plain", qq_plain), ("qq-html", qq_html)]
    for label, cases in external:
        theirs, ours_intent = measure(parsers, with_intent(label, cases), label, misses)
        rows.append((label, theirs))
        if any((label, case.name) in DELIBERATE for case in cases) or label == "talon-html":
            intent_rows.append((label + "*", ours_intent))

    for note in notes:
        print(f"note: {note}")
    print()
    for line in table(rows + intent_rows, names):
        print(line)
    print(
        "(* = where we differ on purpose, scored against our stated answer: signatures, "
        "sign-offs,\n mobile footers and quoted lines are not new text; see DELIBERATE)"
    )
    print()
    print("agenda leaks (drumbeat fixtures where a command repeats the quoted agenda):")
    print("  " + ", ".join(f"{name} {leaks[name]}" for name in names))
    if args.misses:
        for key, missed in sorted(misses.items()):
            print(f"\nmissed {key} ({len(missed)}): {', '.join(missed)}")

    peers = [name for name in names if name != "ours"]

    def best(scores: dict[str, Score]) -> tuple[str, float]:
        if not peers or not scores:
            return "none", 0.0
        name = max(peers, key=lambda n: scores[n].percent)
        return name, scores[name].percent

    best_corpus, best_corpus_pct = best(text)
    best_discourse, best_discourse_pct = best(discourse)
    print(f"\nbest peers: corpus={best_corpus} discourse={best_discourse}")
    ours_discourse = discourse["ours"].percent if discourse else 0.0
    print(
        f"ours_corpus={text['ours'].percent:.1f} ours_discourse={ours_discourse:.1f} "
        f"best_peer_corpus={best_corpus_pct:.1f} best_peer_discourse={best_discourse_pct:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
