"""Benchmark: forwarded-message parsing, ours against the best open-source peers, on the same cases.

Parsers (a peer that does not import or run is skipped with a printed note):

* ``ours``: ``mail.read.forward.find_forwards`` on the whole message for our corpus,
  ``mail.read.forward.split_forward(text, subject=…)`` elsewhere;
* ``quotequail`` (PyPI): ``quotequail.unwrap`` (``unwrap_html`` for HTML cases), a result
  of type "forward";
* ``efp-py``: ``email-forward-parser`` on PyPI, the Python port of crisp's parser
  (``emailforwardparser.forward_parser.get_forwarded_metadata(body, subject)``);
* ``efp-js``: crisp's original ``email-forward-parser`` from npm (``parser.read(body,
  subject)``), installed at run time into the cache folder and run with ``node`` from a
  small script written there (nothing of it is kept in the repository). ``--no-node``
  skips it.

Every parser gets the same input: the message's text (our MIME decoding: the plain part
when it has content, else the HTML as text from ``mail.read.html_text.html_to_text``) and the
outer subject. Only ``ours`` reads attached messages (message/rfc822, .eml), a MIME-level
feature, so the 3 attachment fixtures of our corpus are misses for the peers.

Scoring, on the outermost forward (the peers return one level):

* ``from``: the sender's address, lower-cased;
* ``date``: the value: ours is ``Forwarded.date``; a peer's date string is read with
  ``mail.read.dates.read_header_date`` (no language hints), so a peer is right when it found the
  right text. Our corpus: equal to the ISO value in the sidecar; crisp: the written wall
  clock (year, month, day, hour, minute) of ``bench.forward_corpus.crisp_date``;
  quotequail: equal to ``read_header_date`` of their expected string (None when they expect none);
* ``subject``: equal after collapsing whitespace (an empty subject counts as none);
* ``body``: equal line by line with surrounding whitespace removed and runs of blank
  lines collapsed (``bench.forward_corpus.normalize``);
* ``all4``: the four together. The crisp checks skipped in ``CRISP_SKIPS`` count as right.

Corpora:

1. ``drumbeat``: ``tests/fixtures/forwards`` (48 fixtures, hand-written sidecars).
2. ``crisp``: ``tests/fixtures/corpora/forwards-crisp/fixtures/*_body*.txt`` with their subjects
   (``crisp_subject``): 180 forwards; the 10 ``*_variant_4`` replies form ``crisp-replies``.
3. ``quotequail``: the parametrized cases of ``test_unwrap`` and ``test_unwrap_html_simple``
   in quotequail's source archive (``pip download --no-deps --no-binary :all: quotequail``
   into the cache folder): those whose expected type is "forward" (17); the others
   (replies, quotes, nothing) form ``quotequail-replies``. Its other unwrap tests hold their
   expectations in code and are not used.

Non-forward rows count the cases where a parser returns no forward.

Usage::

    .venv/bin/python bench/forwards.py [--cache DIR] [--no-download] [--no-node] [--misses]

Forwarded agendas: ``tests/fixtures/forwards/agendas`` holds one of our agendas forwarded
in every client shape above. Each is read as the notes reader reads it
(``mail.read.notes_reading.understand_notes``, which ``drumbeat inspect`` shares), once knowing our
words by their shape only and once knowing the stored agenda's text, and
``agenda_lines_applied`` counts, over both readings of every fixture, the agenda lines
left in the text it reads plus every command, error and action item that did not come
from the forwarder's own lines. It must be 0.

The last stdout line is ``ours_own=…% ours_crisp=…% best_peer_crisp=…%
agenda_lines_applied=N agenda_fixtures=M`` (all-four percentages; the line before it
names the best peer on crisp).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sdists import fetch_sdist, parametrized  # noqa: E402

from bench.forward_corpus import (  # noqa: E402
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
from mail.read.dates import read_header_date  # noqa: E402
from mail.read.forward import find_forwards, split_forward  # noqa: E402
from mail.read.html_text import html_to_text  # noqa: E402
from mail.read.message import parse_message  # noqa: E402

EFP_JS_VERSION = "1.8.3"
FIELDS = ("from", "date", "subject", "body")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_NODE_SCRIPT = """
import EmailForwardParser from "email-forward-parser";
const parser = new EmailForwardParser();
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((item) => {
    try {
      const result = parser.read(item.body, item.subject || undefined);
      const email = result.email || {};
      return { forwarded: !!result.forwarded, from: (email.from || {}).address || null,
               date: email.date || null, subject: email.subject || null, body: email.body || null };
    } catch (error) {
      return { forwarded: false, error: String(error) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@dataclass(frozen=True)
class Found:
    """What a parser says about the outermost forward."""

    from_addr: str | None
    date: datetime | None
    subject: str | None
    body: str


@dataclass
class Case:
    """One input and, for forwards, how to judge each field."""

    name: str
    text: str
    subject: str | None
    checks: dict[str, Callable[[Found], bool]] | None  # None: not a forward
    raw: bytes | None = None  # our corpus: the whole message, for ``find_forwards``
    html: str | None = None  # quotequail's HTML cases


@dataclass
class Parser:
    name: str
    run: Callable[[Case], Found | None]
    batch: Callable[[list[Case]], list[Found | None]] | None = None


@dataclass
class Score:
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*FIELDS, "all4"), 0))
    total: int = 0
    misses: list[str] = field(default_factory=list)


# -- parsers ---------------------------------------------------------------------------------


def _address(text: str | None) -> str | None:
    found = _ADDRESS.search(text or "")
    return found.group(0).lower() if found else None


def _subject(text: str | None) -> str | None:
    return " ".join(text.split()) if text and text.strip() else None


def _ours(case: Case) -> Found | None:
    if case.raw is not None:
        found = find_forwards(parse_message(case.raw))
    else:
        found = tuple(split_forward(case.text, subject=case.subject)[1])
    if not found:
        return None
    first = found[0]
    return Found(first.from_addr, first.date, first.subject, first.body)


def _peer_found(
    sender: str | None, date: str | None, subject: str | None, body: str | None
) -> Found:
    return Found(_address(sender), read_header_date(date), _subject(subject), body or "")


def load_parsers(cache: Path, *, node: bool) -> tuple[list[Parser], list[str]]:
    parsers = [Parser("ours", _ours)]
    notes: list[str] = []
    try:
        import quotequail

        def qq(case: Case) -> Found | None:
            result = (
                quotequail.unwrap_html(case.html) if case.html else quotequail.unwrap(case.text)
            )
            if not result or result.get("type") != "forward":
                return None
            body = result.get("text") or html_to_text(result.get("html") or "")
            return _peer_found(result.get("from"), result.get("date"), result.get("subject"), body)

        parsers.append(Parser("quotequail", qq))
    except Exception as error:  # any import failure skips the peer
        notes.append(f"quotequail skipped: {type(error).__name__}: {error}")
    try:
        from emailforwardparser import forward_parser

        def efp(case: Case) -> Found | None:
            result = forward_parser.get_forwarded_metadata(case.text, case.subject or None)
            if not result.forwarded:
                return None
            email = result.email
            sender = email.from_.address or email.from_.name
            return _peer_found(sender, email.date, email.subject, email.body)

        parsers.append(Parser("efp-py", efp))
    except Exception as error:
        notes.append(f"email-forward-parser (PyPI) skipped: {type(error).__name__}: {error}")
    if node:
        runner, note = _node_runner(cache)
        if runner is not None:
            parsers.append(Parser("efp-js", lambda case: None, batch=runner))
        else:
            notes.append(note)
    return parsers, notes


def _node_runner(cache: Path) -> tuple[Callable[[list[Case]], list[Found | None]] | None, str]:
    """crisp's parser from npm, run by node on a batch of cases (installed once into ``cache``)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "efp-js skipped: node or npm is not installed"
    folder = cache / "node"
    folder.mkdir(parents=True, exist_ok=True)
    package = folder / "node_modules" / "email-forward-parser" / "package.json"
    if not package.is_file():
        (folder / "package.json").write_text('{"private": true}\n')
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent",
             f"email-forward-parser@{EFP_JS_VERSION}"],
            cwd=folder, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if result.returncode or not package.is_file():
            last = (result.stderr.strip().splitlines() or ["?"])[-1]
            return None, f"efp-js skipped: npm install failed: {last}"
    script = folder / "run.mjs"
    script.write_text(_NODE_SCRIPT)

    def run(cases: list[Case]) -> list[Found | None]:
        payload = json.dumps([{"body": c.text, "subject": c.subject} for c in cases])
        result = subprocess.run(
            ["node", str(script)], cwd=folder, input=payload, capture_output=True, text=True,
            timeout=300, check=True,
        )  # fmt: skip
        out: list[Found | None] = []
        for item in json.loads(result.stdout):
            forwarded = item.get("forwarded")
            out.append(
                _peer_found(item["from"], item["date"], item["subject"], item["body"])
                if forwarded
                else None
            )
        return out

    return run, ""


# -- corpora -----------------------------------------------------------------------------------


def _value_check(expected: datetime | None) -> Callable[[Found], bool]:
    def check(found: Found) -> bool:
        if expected is None or found.date is None:
            return expected is None and found.date is None
        return found.date == expected and (found.date.utcoffset() is None) == (
            expected.utcoffset() is None
        )

    return check


def _checks(
    sender: str | None, date: Callable[[Found], bool], subject: str | None, body: str
) -> dict[str, Callable[[Found], bool]]:
    return {
        "from": lambda found: found.from_addr == sender,
        "date": date,
        "subject": lambda found: found.subject == _subject(subject),
        "body": lambda found: normalize(found.body) == normalize(body),
    }


def drumbeat_cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        parsed = parse_message(raw)
        text = parsed.text if (parsed.text or "").strip() else html_to_text(parsed.html or "")
        want = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        first = want["forwarded"][0]
        date = datetime.fromisoformat(first["date"]) if first["date"] else None
        checks = _checks(first["from"], _value_check(date), first["subject"], first["body"])
        cases.append(Case(path.stem, text, parsed.subject, checks, raw=raw))
    return cases


def crisp_cases() -> tuple[list[Case], list[Case]]:
    forwards, replies = [], []
    for path in sorted((CRISP / "fixtures").glob("*_body*.txt")):
        text, subject = path.read_text(encoding="utf-8"), crisp_subject(path)
        if "variant_4" in path.stem:
            replies.append(Case(path.stem, text, subject, None))
            continue
        stamp = crisp_date(path.stem)

        def date(found: Found, stamp: tuple[int, ...] = stamp) -> bool:
            moment = found.date
            return (
                moment is not None
                and (moment.year, moment.month, moment.day, moment.hour, moment.minute) == stamp
            )

        checks = _checks(CRISP_FROM, date, CRISP_SUBJECT, CRISP_BODY)
        for skipped in CRISP_SKIPS.get(path.stem, {}):
            checks[skipped] = lambda found: True
        forwards.append(Case(path.stem, text, subject, checks))
    return forwards, replies


def fetch_quotequail(cache: Path, download: bool) -> tuple[Path | None, str]:
    """quotequail's unpacked source tree (its tests), downloaded into ``cache``."""
    try:
        requirement = f"quotequail=={importlib.metadata.version('quotequail')}"
    except importlib.metadata.PackageNotFoundError:
        requirement = "quotequail"
    tree, error = fetch_sdist(cache, "quotequail", requirement, download)
    if tree is not None:
        return tree, ""
    if error is not None:
        return None, f"quotequail test data unavailable: pip download failed: {error}"
    return None, f"quotequail test data unavailable: no source archive in {cache}"


def quotequail_cases(tree: Path) -> tuple[list[Case], list[Case]]:
    tests = tree / "tests"
    raw_cases = [
        (f"unwrap_{n}", text, None, expected)
        for n, (text, expected) in enumerate(parametrized(tests / "test_unwrap.py", "test_unwrap"))
    ] + [
        (f"unwrap_html_{n}", html_to_text(markup), markup, expected)
        for n, (markup, expected) in enumerate(
            parametrized(tests / "test_unwrap_html.py", "test_unwrap_html_simple")
        )
    ]
    forwards, others = [], []
    for name, text, markup, expected in raw_cases:
        if not expected or expected.get("type") != "forward":
            others.append(Case(name, text, None, None, html=markup))
            continue
        body = expected.get("text") or html_to_text(expected.get("html") or "")
        checks = _checks(
            _address(expected.get("from")),
            _value_check(read_header_date(expected.get("date"))),
            expected.get("subject"),
            body,
        )
        forwards.append(Case(name, text, None, checks, html=markup))
    return forwards, others


# -- measuring -----------------------------------------------------------------------------------


def results(parser: Parser, cases: list[Case]) -> list[Found | None]:
    if parser.batch is not None:
        try:
            return parser.batch(cases)
        except Exception as error:  # the whole batch failed: every case is a miss
            print(f"note: {parser.name} failed on a batch: {type(error).__name__}: {error}")
            return [None] * len(cases)
    out: list[Found | None] = []
    for case in cases:
        try:
            out.append(parser.run(case))
        except Exception:  # a peer's crash is its miss, not the benchmark's
            out.append(None)
    return out


def score_forwards(parser: Parser, cases: list[Case]) -> Score:
    score = Score(total=len(cases))
    for case, found in zip(cases, results(parser, cases), strict=True):
        assert case.checks is not None
        right = {name: found is not None and check(found) for name, check in case.checks.items()}
        for name, ok in right.items():
            score.hits[name] += ok
        if all(right.values()):
            score.hits["all4"] += 1
        else:
            wrong = [name for name, ok in right.items() if not ok] if found else ["no forward"]
            score.misses.append(f"{case.name}: {', '.join(wrong)}")
    return score


def score_others(parser: Parser, cases: list[Case]) -> Score:
    score = Score(total=len(cases))
    for case, found in zip(cases, results(parser, cases), strict=True):
        if found is None:
            score.hits["all4"] += 1
        else:
            score.misses.append(f"{case.name}: taken for a forward")
    return score


def _percent(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}% ({hits}/{total})" if total else "-"


def print_table(title: str, scores: dict[str, Score], columns: tuple[str, ...]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name in scores) + 2
    print(" " * width + "".join(f"{column:>18}" for column in columns))
    for name, score in scores.items():
        cells = "".join(f"{_percent(score.hits[c], score.total):>18}" for c in columns)
        print(f"{name:<{width}}{cells}")


AGENDAS = FIXTURES / "agendas"


def agenda_lines_applied() -> tuple[int, int]:
    """(agenda lines the notes reader would read or apply, fixtures read): module docstring."""
    from mail.read.notes import find_action_items
    from mail.read.notes_reading import understand_notes
    from mail.read.own_words import SentMail

    agenda = (FIXTURES.parent / "replies" / "agenda.txt").read_text(encoding="utf-8")
    ours = {line.strip() for line in agenda.splitlines() if line.strip()}
    applied, paths = 0, sorted(AGENDAS.glob("*.eml"))
    for path in paths:
        parsed = parse_message(path.read_bytes())
        own = set(json.loads(path.with_suffix(".expected.json").read_text(
            encoding="utf-8"))["own_lines"])
        moment = parsed.date or datetime.now().astimezone()
        for sent in ((), (SentMail(None, agenda, "agenda"),)):
            reading = understand_notes(parsed, sender_name=parsed.from_name or "",
                                       timezone="UTC", now=moment, sent=sent)
            text = reading.notes.text
            items = find_action_items(text, candidates=(), meeting_date=moment.date(),
                                      timezone="UTC")
            applied += len(ours & {line.strip() for line in text.splitlines()})
            applied += len(reading.commands.commands) + len(reading.commands.errors)
            applied += sum(item.line not in own for item in items)
    return applied, len(paths)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "drumbeat-bench-forwards"
    )
    options.add_argument("--no-download", action="store_true")
    options.add_argument("--no-node", action="store_true")
    options.add_argument("--misses", action="store_true", help="list every missed case")
    args = options.parse_args()

    parsers, notes = load_parsers(args.cache, node=not args.no_node)
    corpora: list[tuple[str, list[Case], bool]] = [("drumbeat", drumbeat_cases(), True)]
    if CRISP.is_dir():
        forwards, replies = crisp_cases()
        corpora += [("crisp", forwards, True), ("crisp-replies", replies, False)]
    else:
        notes.append(f"crisp corpus skipped: not at {CRISP}")
    tree, note = fetch_quotequail(args.cache, download=not args.no_download)
    if tree is not None:
        forwards, others = quotequail_cases(tree)
        corpora += [("quotequail", forwards, True), ("quotequail-replies", others, False)]
    else:
        notes.append(note)
    for line in notes:
        print(f"note: {line}")

    all4: dict[str, dict[str, float]] = {}
    for title, cases, forward in corpora:
        scorer = score_forwards if forward else score_others
        scores = {parser.name: scorer(parser, cases) for parser in parsers}
        columns = (*FIELDS, "all4") if forward else ("all4",)
        label = f"{title} ({len(cases)} cases" + ("" if forward else ", not forwards: none found")
        print_table(label + ")", scores, columns)
        all4[title] = {
            name: 100 * s.hits["all4"] / s.total if s.total else 0.0 for name, s in scores.items()
        }
        if args.misses:
            for name, score in scores.items():
                for miss in score.misses:
                    print(f"  miss [{name}] {miss}")

    ours_own = all4["drumbeat"]["ours"]
    crisp = all4.get("crisp", {})
    peers = {name: value for name, value in crisp.items() if name != "ours"}
    best = max(peers, key=lambda name: peers[name]) if peers else None
    print(f"\nbest peer on crisp: {best or 'none'}")
    applied, fixtures = agenda_lines_applied()
    print(
        f"ours_own={ours_own:.1f}% ours_crisp={crisp.get('ours', 0.0):.1f}% "
        f"best_peer_crisp={peers[best] if best else 0.0:.1f}% "
        f"agenda_lines_applied={applied} agenda_fixtures={fixtures}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
