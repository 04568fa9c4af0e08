"""Replies to one agenda, written the way real mail clients write them, one fixture per behaviour.

Each ``tests/fixtures/replies/<client>_<variant>.eml`` is a raw reply to the agenda in
``tests/fixtures/replies/agenda.txt`` (``render_agenda`` of Ben Okafor's week-49 agenda, sent
Wed 2 Dec 2026 08:00 Madrid time): Gmail web and Android, Outlook desktop, web, iOS and
Android, Apple Mail on macOS and iOS, Thunderbird, Yahoo, Samsung Email, mutt and other
plain-text clients, HTML-only webmail; English, German, French, Spanish, Portuguese,
Italian, Dutch and Japanese; UTF-8, windows-1252 and ISO-2022-JP. Clients that show HTML
quote the agenda's HTML as their own HTML-to-text conversion writes it (so the quoted lines
are not always our text lines), and Outlook, Yahoo, Samsung, GMX and Notes quote it without
``>`` marks. Every fixture has a ``NAME.expected.json`` written by hand, not by running the
parser, with what a person reading the message would say:

- ``reply_text``: what the person wrote this time. Not in it: quoted text, attribution
  lines and header blocks, "Sent from my iPhone"-style footers, signatures (after ``--``,
  or a closing sign-off such as "Thanks," with the name under it, or a name-and-title
  block, or the first name alone on the last line) and legal disclaimers. In it:
  greetings, prose, and answers typed *inside* the quote (under a quoted task line), in
  the order written; a quote removed between two pieces of new text counts as a
  paragraph break. Compared with runs of blank lines collapsed and trailing spaces
  removed.
- ``commands``: the inspect contract's command objects the reply asks for, read with the README's
  date rules in the sender's time zone (the Date header's offset, as ``drumbeat inspect``
  does). Compared as a multiset: the order of commands on different tasks does not
  change what is applied.

The parser does not reach every expectation; the fixtures it misses are listed in
``KNOWN_MISSES`` with the reason, and the floors below are what it achieved when this
was last updated: reply_text 120/120 (100%), commands 120/120 (100%). A listed fixture that
starts to pass fails its test, so the list only shrinks. Separately from accuracy, no
command may ever come from the agenda itself (its task lines or its How-to-reply
examples), in any fixture.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mail.read.grammar import parse_commands
from mail.read.inspect import inspect_message

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replies"
AGENDA = FIXTURES / "agenda.txt"
AGENDA_SENT_AT = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)

MIN_FIXTURES = 85
TEXT_FLOOR = 0.97
COMMANDS_FLOOR = 0.97

FIELDS = {
    "task_update": ("task", "percent", "status", "due", "note"),
    "new_task": ("title", "due", "project", "owner"),
    "meeting": ("held", "excused", "on", "minutes", "reason"),
}

INLINE = (
    "inline answers (typed under a quoted task line) are not in reply_text: inspect returns "
    "ReplyText.text only, and the answers live in ReplyText.inline (the commands are right)"
)

# name -> {"reply_text" | "commands": why the parser misses it}
KNOWN_MISSES: dict[str, dict[str, str]] = {}


# -- loading -------------------------------------------------------------------------------


def _names() -> list[str]:
    return sorted(path.name.removesuffix(".eml") for path in FIXTURES.glob("*.eml"))


def _sent_lines() -> tuple[str, ...]:
    return tuple(AGENDA.read_text(encoding="utf-8").splitlines())


@cache
def _expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return data


@cache
def _inspected(name: str) -> dict[str, Any]:
    return inspect_message((FIXTURES / f"{name}.eml").read_bytes(), sent_lines=_sent_lines())


def normalize(text: str) -> str:
    """No trailing spaces, one blank line at most between lines, none around."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _key(command: dict[str, Any]) -> str:
    return json.dumps(command, sort_keys=True, ensure_ascii=False)


def _commands(commands: list[dict[str, Any]]) -> Counter[str]:
    return Counter(_key(command) for command in commands)


def text_matches(name: str) -> bool:
    return normalize(_inspected(name)["reply_text"]) == normalize(_expected(name)["reply_text"])


def commands_match(name: str) -> bool:
    got, want = _inspected(name)["commands"], _expected(name)["commands"]
    return _commands(got) == _commands(want)


# -- the corpus itself ---------------------------------------------------------------------


def test_corpus_is_complete_and_well_formed() -> None:
    names = _names()
    assert len(names) >= MIN_FIXTURES, f"only {len(names)} fixtures"
    assert AGENDA.is_file()
    sidecars = sorted(
        path.name.removesuffix(".expected.json") for path in FIXTURES.glob("*.expected.json")
    )
    assert sidecars == names, (
        f"without expectation: {sorted(set(names) - set(sidecars))}; "
        f"expectation without fixture: {sorted(set(sidecars) - set(names))}"
    )
    folded = Counter(name.casefold() for name in names)
    assert [name for name, count in folded.items() if count > 1] == []
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", name), f"{name}: <client>_<variant>"
        data = _expected(name)
        assert set(data) == {"reply_text", "commands", "client", "notes"}, name
        assert isinstance(data["reply_text"], str) and data["client"] and data["notes"], name
        for command in data["commands"]:
            fields = FIELDS.get(command.get("type"))
            assert fields is not None, f"{name}: unknown command type in {command}"
            assert list(command) == ["type", *fields], f"{name}: {command}"


def test_known_misses_name_real_fixtures() -> None:
    names = set(_names())
    assert sorted(set(KNOWN_MISSES) - names) == []
    for name, fields in KNOWN_MISSES.items():
        assert fields and set(fields) <= {"reply_text", "commands"}, name


@pytest.mark.parametrize("name", _names())
def test_every_fixture_is_read_as_a_reply(name: str) -> None:
    assert _inspected(name)["kind"] == "reply"


# -- accuracy --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _names())
def test_fixture(name: str) -> None:
    """One fixture: its reply text and its commands, unless the miss is a known one."""
    expected, got = _expected(name), _inspected(name)
    known = KNOWN_MISSES.get(name, {})
    problems: list[str] = []
    for field, matched in (("reply_text", text_matches(name)), ("commands", commands_match(name))):
        if matched and field in known:
            problems.append(f"{field} now matches: remove it from KNOWN_MISSES[{name!r}]")
        elif not matched and field not in known:
            shown = got[field] if field == "commands" else normalize(got[field])
            want = expected[field] if field == "commands" else normalize(expected[field])
            problems.append(f"{field}:\n  expected {want!r}\n  got      {shown!r}")
    assert not problems, "\n".join(problems)
    if known:
        pytest.xfail("; ".join(f"{field}: {why}" for field, why in known.items()))


def test_exact_match_rates(capsys: pytest.CaptureFixture[str]) -> None:
    names = _names()
    text_ok = [name for name in names if text_matches(name)]
    commands_ok = [name for name in names if commands_match(name)]
    total = len(names)
    with capsys.disabled():
        print(
            f"\nreply corpus ({total} fixtures): reply_text {len(text_ok)}/{total} "
            f"({len(text_ok) / total:.1%}), commands {len(commands_ok)}/{total} "
            f"({len(commands_ok) / total:.1%})"
        )
    text_misses = sorted(set(names) - set(text_ok))
    commands_misses = sorted(set(names) - set(commands_ok))
    assert len(commands_ok) / total >= COMMANDS_FLOOR, f"commands missed: {commands_misses}"
    assert len(text_ok) / total >= TEXT_FLOOR, f"reply_text missed: {text_misses}"


# -- the agenda is never applied again ---------------------------------------------------------

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
    lines = _sent_lines()
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
            whole[_key(command)] += 1
    return frozenset(facts), whole


def test_agenda_facts_cover_every_task_line_and_example() -> None:
    facts, whole = agenda_facts()
    tasks = {task for task, _, _ in facts}
    assert tasks == {f"T-{n}" for n in range(40, 47)}
    assert ("T-40", "percent", 50) in facts and ("T-40", "note", "drafted the intro") in facts
    assert ("T-41", "due", "2026-12-11") in facts and ("T-45", "status", "blocked") in facts
    assert ("T-40", "due", "2026-11-27") in facts and ("T-46", "status", "done") in facts
    assert sum(whole.values()) == 2  # met: yes, skip: vacation


def agenda_echoes(got: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[str]:
    """The produced commands (``got``) that repeat something the agenda says (a task line's
    progress, due date, status or text, an example line's effect, an example meeting line)
    more often than the person wrote them (``wanted``). Also used by ``bench/replies.py``."""
    facts, whole = agenda_facts()
    agenda_text = _sent_lines()
    produced, expected = _commands(got), _commands(wanted)
    echoes: list[str] = []
    for command in got:
        key = _key(command)
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


def test_no_command_ever_comes_from_the_agenda() -> None:
    """Over the whole corpus, every command that repeats the agenda is one the person
    wrote, i.e. listed in the expectation (as many times as it was produced)."""
    offences = [
        f"{name}: {echo}"
        for name in _names()
        for echo in agenda_echoes(_inspected(name)["commands"], _expected(name)["commands"])
    ]
    assert not offences, "\n".join(offences)
