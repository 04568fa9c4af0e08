"""The reply corpora, loaded and compared one way for the tests and ``bench/replies.py``.

Four suites of (message, expected new text): our own replies (``tests/fixtures/replies``,
expectations written by hand), Discourse's reply trimmer tests, and the tests of talon
and quotequail (``tests/fixtures/corpora``; see its README for where each came from and
how its ground truth was read). Texts are compared after ``normalize``; talon's HTML
cases as talon compares them, without any whitespace. Where we differ from their
authors on purpose, ``*_DELIBERATE`` says why and what we return instead.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from mail.read.grammar import parse_commands
from mail.read.html_text import html_to_text
from mail.read.message import parse_message
from mail.read.reply_text import extract_reply

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO / "tests" / "fixtures" / "corpora"
FIXTURES = REPO / "tests" / "fixtures" / "replies"
AGENDA = FIXTURES / "agenda.txt"
AGENDA_SENT_AT = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
DISCOURSE = CORPORA / "reply-trimming-discourse" / "test"
PUBLIC_SUITES = ("talon", "quotequail")


def normalize(text: str) -> str:
    """No trailing spaces, one blank line at most between lines, none around."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# -- discourse -------------------------------------------------------------------------------


def _without_quotes(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(">"))


def _without_last(count: int) -> Callable[[str], str]:
    """Their text without its last ``count`` non-blank lines (a sign-off, a name)."""

    def drop(text: str) -> str:
        for _ in range(count):
            text = normalize(text).rpartition("\n")[0]
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
DISCOURSE_DELIBERATE: dict[str, tuple[str, Callable[[str], str]]] = {
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


def discourse_paths() -> list[Path]:
    """The 64 bodies (``emails/NAME.txt``); their expectation is ``trimmed/NAME.txt``."""
    return sorted((DISCOURSE / "emails").glob("*.txt"))


def discourse_expected(path: Path) -> str:
    return (DISCOURSE / "trimmed" / path.name).read_text(encoding="utf-8")


# -- talon and quotequail --------------------------------------------------------------------


@dataclass(frozen=True)
class PublicCase:
    """One upstream test's message and the new text its authors expect."""

    suite: str  # "talon" or "quotequail"
    id: str  # the upstream test function (and parameter index or call number)
    form: str  # "plain", "html" or "eml" (a whole message: its plain part, else its HTML)
    kind: str  # "reply", "unquoted" (nothing quoted) or "forward" (out of scope)
    text: str | None  # the plain text to read
    html: str | None  # the HTML to read
    expected: str  # their expectation: text, or HTML for HTML cases (see ``expected_text``)
    compare: str  # "normalized", "no-whitespace" (HTML) or "no-whitespace-text"

    @property
    def name(self) -> str:
        return f"{self.suite}/{self.id}"


def public_cases(suite: str) -> list[PublicCase]:
    """Every case of ``tests/fixtures/corpora/<suite>/cases.json``, forwards included."""
    folder = CORPORA / suite
    out = []
    for row in json.loads((folder / "cases.json").read_text(encoding="utf-8")):
        text, html = row.get("input"), None
        if "input_file" in row:
            path = folder / row["input_file"]
            if row["format"] == "eml":
                parsed = parse_message(path.read_bytes())
                text, html = parsed.text, parsed.html
            else:
                text = path.read_text(encoding="utf-8")
        if row["format"] == "html":
            text, html = None, text
        out.append(PublicCase(suite, row["id"], row["format"], row["kind"], text, html,
                              row["expected"], row["compare"]))  # fmt: skip
    return out


def reply_cases(suite: str) -> list[PublicCase]:
    """The cases in scope: replies and unquoted messages, not forwards."""
    return [case for case in public_cases(suite) if case.kind != "forward"]


# quotequail's ``quote``/``quote_html`` without ``quote_intro_line`` keep the "On … wrote:"
# line on the own-text side (their convention); with it, as Drumbeat reads it, on the quote
# side. A trailing "On … wrote:" line of their expectation is moved to the quote side.
_TRAILING_INTRO = re.compile(r"\n[ \t]*On\b[^\n]{0,300}\bwrote:[ \t]*\n*\Z")


def expected_text(case: PublicCase) -> str:
    """Their expectation as text: HTML expectations through our HTML-to-text, and in
    quotequail's a trailing "On … wrote:" line moved to the quote side
    (``intro_moved``; the only mapping made)."""
    text = html_to_text(case.expected) if case.compare == "no-whitespace" else case.expected
    return _TRAILING_INTRO.sub("", text) if intro_moved(case) else text


def intro_moved(case: PublicCase) -> bool:
    """Whether their expectation ends with the "On … wrote:" line that quotequail's
    ``quote`` puts on the own-text side without ``quote_intro_line``."""
    if case.suite != "quotequail":
        return False
    text = html_to_text(case.expected) if case.compare == "no-whitespace" else case.expected
    return bool(_TRAILING_INTRO.search(text))


def ours(case: PublicCase) -> str:
    """Drumbeat's new text for a case (the whole pipeline)."""
    return extract_reply(case.text, case.html).text


def ours_quote_stage(case: PublicCase) -> str:
    """Drumbeat's text at the quote stage: quotes, attribution lines and forwarded blocks
    cut, the signature, sign-off and footers still in (``ReplyText.quote_free``), which is
    what talon's and quotequail's quote removers return and their tests expect."""
    return extract_reply(case.text, case.html).quote_free


def same_text(got: str, want: str, compare: str) -> bool:
    if compare.startswith("no-whitespace"):
        return re.sub(r"\s", "", got) == re.sub(r"\s", "", want)
    return normalize(got) == normalize(want)


def matches(got: str, case: PublicCase) -> bool:
    return same_text(got, expected_text(case), case.compare)


# Where our quote stage (``ours_quote_stage``) differs from their expectation on purpose:
# (suite, id) -> (why, what we return instead). Also the whole pipeline's answer for these
# cases unless ``PUBLIC_DELIBERATE_FULL`` gives another.
PUBLIC_DELIBERATE: dict[tuple[str, str], tuple[str, str]] = {
    ("talon", "test_reply_wraps_nested_quotations"): (
        "where a quote is cut between two pieces of new text, its place stays a paragraph "
        "break (talon joins the line above it to the line below)",
        "Test reply\n\nRegards, Roman",
    ),
    ("talon", "test_gmail_quote_blockquote"): (
        "a blockquote of class gmail_quote is Gmail's quote of an earlier message, which we "
        "drop with or without an attribution line above it (talon keeps it when there is none)",
        "Message",
    ),
    ("talon", "test_reply_separated_by_hr"): (
        "we cut at the rule above the From line and keep the text before it, the name "
        "'Bob' included (talon drops the whole block that holds the rule)",
        "Hi\nthere\nBob",
    ),
    ("talon", "test_readable_html_empty"): (
        "the whole message is inside a blockquote, so it is all quote and says nothing new "
        "(talon returns the input whole when its cut would leave nothing)",
        "",
    ),
    ("quotequail", "test_unwrap_11"): (
        "we drop every quoted line, a lone one included (quotequail's unwrap needs three "
        "quoted lines before it calls them a quoted message, and returns nothing to unwrap)",
        "hello world\n\nHey: This is very important",
    ),
}

SIGNATURE = "we drop a signature after a '--' line"

# Where the whole pipeline (``ours``) differs from their expectation on purpose because
# of what comes after the quote stage: signatures, sign-offs and mobile footers are not
# new text. (suite, id) -> (why, what we return instead).
PUBLIC_DELIBERATE_FULL: dict[tuple[str, str], tuple[str, str]] = {
    ("talon", "standard_replies_iphone"): ("we drop the 'Sent from my iPhone' footer", "Hello"),
    ("talon", "standard_replies_sparrow"): (
        SIGNATURE + " and the 'Sent with Sparrow' footer", "Hello"),
    ("quotequail", "test_unwrap_10"): (
        SIGNATURE + " ('kthxbye')", "hello world\n\nHey: This is very important"),
    ("quotequail", "test_unwrap_html_tag_with_quote_in_name"): (
        SIGN_OFF + " ('Regards')", '<div"x>Hi there'),
    ("talon", "test_reply_wraps_quotations"): (SIGN_OFF + " ('Regards, Roman')", "Test reply"),
    ("talon", "test_reply_wraps_nested_quotations"): (
        SIGN_OFF + " ('Regards, Roman')", "Test reply"),
    ("talon", "test_quotation_separator_takes_2_lines"): (
        SIGN_OFF + " ('Regards, Roman')", "Test reply"),
} | {
    ("talon", f"html_replies_{name}"): (SIGN_OFF + " ('Thanks,' / 'Alex')", "Hi. I am fine.")
    for name in ("gmail", "hotmail", "mail_ru", "ms_outlook_2003", "ms_outlook_2007",
                 "ms_outlook_2010", "thunderbird", "windows_mail", "yandex_ru")
}


def intended(case: PublicCase, *, full: bool) -> tuple[str, str] | None:
    """Why we differ and what we return instead, at the quote stage or for the whole
    pipeline (``full``); None where we return their text."""
    key = (case.suite, case.id)
    return (PUBLIC_DELIBERATE_FULL.get(key) if full else None) or PUBLIC_DELIBERATE.get(key)


# -- talon's signature fixtures --------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCase:
    """One of talon's signature test messages: its body, sender, and the signature talon
    expects cut from its end."""

    name: str
    body: str
    sender: str
    signature: str

    @property
    def expected(self) -> str:
        """The body without its signature: the new text."""
        body = self.body.strip()
        return body[: len(body) - len(self.signature.strip())].strip()


def signature_cases() -> list[SignatureCase]:
    """``tests/fixtures/corpora/talon-signatures/stripped``: every NAME_body with its
    NAME_sender and NAME_signature."""
    folder = CORPORA / "talon-signatures" / "stripped"
    out = []
    for body in sorted(folder.glob("*_body")):
        name = body.name.removesuffix("_body")
        sender, signature = (
            (folder / f"{name}_{part}").read_text(encoding="utf-8").strip()
            for part in ("sender", "signature")
        )
        out.append(SignatureCase(name, body.read_text(encoding="utf-8"), sender, signature))
    return out


# -- our own corpus: the agenda is never applied again ---------------------------------------


def sent_lines() -> tuple[str, ...]:
    return tuple(AGENDA.read_text(encoding="utf-8").splitlines())


def command_key(command: dict[str, Any]) -> str:
    return json.dumps(command, sort_keys=True, ensure_ascii=False)


def command_counts(commands: list[dict[str, Any]]) -> Counter[str]:
    return Counter(command_key(command) for command in commands)


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_AGENDA_TASK = re.compile(
    r"\[(T-\d+)\] .*? — (?:(done)|(\d+)%(?:, due \w{3} (\d{1,2}) (\w{3})(?: \([^)]*\))?)?)"
    r"(?:; (blocked)(?:: (.*?))?)?(?: · .*)?$"
)


@cache
def agenda_facts() -> tuple[frozenset[tuple[str, str, object]], Counter[str]]:
    """What the agenda itself says, as (task, field, value) facts from its task lines and
    examples, and its example commands whole (meetings, new tasks)."""
    facts: set[tuple[str, str, object]] = set()
    examples: list[str] = []
    lines = sent_lines()
    for line in lines:
        if match := _AGENDA_TASK.match(line.strip()):
            task, done, percent, day, month, blocked, reason = match.groups()
            if done:
                facts |= {(task, "status", "done"), (task, "percent", 100)}
            if percent:
                facts.add((task, "percent", int(percent)))
            if day:
                shown = date(2026, _MONTHS.index(month) + 1, int(day)).isoformat()
                facts.add((task, "due", shown))
            if blocked:
                facts.add((task, "status", "blocked"))
            if reason:
                facts.add((task, "note", reason))
    start = next(i for i, line in enumerate(lines) if line.startswith("Reply to this email"))
    examples = [line.strip() for line in lines[start + 1 :] if line.startswith("    ")]
    assert len(examples) >= 3, examples
    parsed = parse_commands(
        "\n".join(examples), message_date=AGENDA_SENT_AT, timezone="Europe/Madrid"
    ).to_json()["commands"]
    assert len(parsed) == len(examples), "every example line must be a command"
    whole: Counter[str] = Counter()
    for command in parsed:
        if command["type"] == "task_update":
            facts |= {
                (command["task"], field, value)
                for field, value in command.items()
                if field not in ("type", "task") and value is not None
            }
        else:
            whole[command_key(command)] += 1
    return frozenset(facts), whole


def agenda_echoes(got: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[str]:
    """The produced commands (``got``) that repeat something the agenda says (a task line's
    progress, due date, status or text, an example line's effect, an example meeting line)
    more often than the person wrote them (``wanted``)."""
    facts, whole = agenda_facts()
    agenda_text = sent_lines()
    produced, expected = command_counts(got), command_counts(wanted)
    echoes: list[str] = []
    for command in got:
        key = command_key(command)
        if produced[key] <= expected[key]:
            continue
        if command["type"] == "task_update":
            echoed = sorted(
                (field, value)
                for field, value in command.items()
                if (command["task"], field, value) in facts
            )
            note = command["note"] or ""
            if len(note) >= 8 and any(note in line for line in agenda_text):
                echoed.append(("note", "copied from an agenda line"))
            if echoed:
                echoes.append(f"{command} repeats the agenda's {echoed}")
        elif whole[key]:
            echoes.append(f"{command} is one of the agenda's examples")
    return echoes
