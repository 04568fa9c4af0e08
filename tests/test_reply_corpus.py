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
from functools import cache
from typing import Any

import pytest

from bench.corpora import (
    AGENDA,
    FIXTURES,
    agenda_echoes,
    agenda_facts,
    command_counts,
    normalize,
    sent_lines,
)
from mail.read.inspect import inspect_message

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


@cache
def _expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return data


@cache
def _inspected(name: str) -> dict[str, Any]:
    return inspect_message((FIXTURES / f"{name}.eml").read_bytes(), sent_lines=sent_lines())


def text_matches(name: str) -> bool:
    return normalize(_inspected(name)["reply_text"]) == normalize(_expected(name)["reply_text"])


def commands_match(name: str) -> bool:
    got, want = _inspected(name)["commands"], _expected(name)["commands"]
    return command_counts(got) == command_counts(want)


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

def test_agenda_facts_cover_every_task_line_and_example() -> None:
    facts, whole = agenda_facts()
    tasks = {task for task, _, _ in facts}
    assert tasks == {f"T-{n}" for n in range(40, 47)}
    assert ("T-40", "percent", 50) in facts and ("T-40", "note", "drafted the intro") in facts
    assert ("T-41", "due", "2026-12-11") in facts and ("T-45", "status", "blocked") in facts
    assert ("T-40", "due", "2026-11-27") in facts and ("T-46", "status", "done") in facts
    assert sum(whole.values()) == 2  # met: yes, skip: vacation


def test_no_command_ever_comes_from_the_agenda() -> None:
    """Over the whole corpus, every command that repeats the agenda is one the person
    wrote, i.e. listed in the expectation (as many times as it was produced)."""
    offences = [
        f"{name}: {echo}"
        for name in _names()
        for echo in agenda_echoes(_inspected(name)["commands"], _expected(name)["commands"])
    ]
    assert not offences, "\n".join(offences)
