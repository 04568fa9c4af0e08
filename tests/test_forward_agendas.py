"""An agenda forwarded by every client shape the forward corpus has
(``tests/fixtures/forwards/agendas``): none of its lines is ever applied.

The fixtures are read the way the notes reader reads them (``drumbeat inspect``'s
``notes`` preview is the worker's own function), once knowing our words by their
shape only, as ``drumbeat inspect`` does, and once knowing the stored agenda's text,
as the worker does. Either way only Ben's two lines count: his ``ACTION:`` line is the
one action item, there are no commands and no errors, and the notes' text holds no
agenda line.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mail.read.inspect import inspect_message
from mail.read.message import parse_message
from mail.read.notes_reading import understand_notes
from mail.read.own_words import SentMail

AGENDAS = Path(__file__).resolve().parent / "fixtures" / "forwards" / "agendas"
AGENDA = (AGENDAS.parents[1] / "replies" / "agenda.txt").read_text(encoding="utf-8")
AGENDA_LINES = {line.strip() for line in AGENDA.splitlines() if line.strip()}
NAMES = sorted(path.stem for path in AGENDAS.glob("*.eml"))


@cache
def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (AGENDAS / f"{name}.expected.json").read_text(encoding="utf-8"))
    return data


def test_every_client_shape_has_a_forwarded_agenda() -> None:
    clients = {expected(name)["client"] for name in NAMES}
    for shape in ("Gmail web", "Outlook desktop", "Apple Mail (macOS)", "Thunderbird",
                  "Yahoo Mail", "Samsung Email", "Outlook for Mac", "NeoMutt"):
        assert shape in clients
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_inspect_previews_only_the_forwarders_words(name: str) -> None:
    notes = inspect_message((AGENDAS / f"{name}.eml").read_bytes())["notes"]
    wanted = expected(name)
    assert notes is not None
    assert notes["drumbeat_wrote"] >= 1
    assert (notes["commands"], notes["errors"]) == ([], [])
    assert [item["what"] for item in notes["action_items"]] == wanted["action_items"]
    assert {item["owner_address"] for item in notes["action_items"]} == {
        "ben.okafor@northwind.example"}  # "Ben", the forwarder, named in his From line
    assert not AGENDA_LINES & {line.strip() for line in notes["text"].splitlines()}
    written = [line.strip() for line in notes["text"].splitlines() if line.strip()]
    assert written[:2] == wanted["own_lines"]


@pytest.mark.parametrize("name", NAMES)
def test_the_worker_knowing_the_stored_agenda_reads_the_same(name: str) -> None:
    parsed = parse_message((AGENDAS / f"{name}.eml").read_bytes())
    sent = SentMail("<agenda.2026-w49.ben-okafor.5f1c9e@drumbeat.northwind.example>",
                    AGENDA, "agenda")
    reading = understand_notes(parsed, sender_name="Ben Okafor", timezone="Europe/Madrid",
                               now=parsedate_to_datetime("Wed, 02 Dec 2026 18:30:12 +0100"),
                               sent=(sent,))
    assert reading.notes.ours >= 1
    assert not reading.commands.commands and not reading.commands.errors
    assert not AGENDA_LINES & {line.strip() for line in reading.notes.text.splitlines()}


def test_notes_pasted_to_notes_at_are_previewed_and_a_reply_is_not() -> None:
    pasted = (b"From: Ben Okafor <ben.okafor@northwind.example>\r\n"
              b"To: notes@drumbeat.northwind.example\r\nSubject: 1:1\r\n"
              b"Date: Wed, 02 Dec 2026 18:30:12 +0100\r\n\r\n"
              b"with: Jos\xc3\xa9\r\nmet: yes 30min\r\n"
              b"ACTION: Ben to call the vendor by Friday\r\n")
    notes = inspect_message(pasted)["notes"]
    assert notes is not None and notes["drumbeat_wrote"] == 0
    assert [command["type"] for command in notes["commands"]] == ["meeting"]
    assert [(item["what"], item["due"]) for item in notes["action_items"]] == [
        ("Call the vendor", "2026-12-04")]
    reply = pasted.replace(b"notes@", b"checkin+abc@").replace(b"Subject: 1:1", b"Subject: Re: 1:1")
    assert inspect_message(reply)["notes"] is None
