"""Telling Drumbeat's forwarded words from people's (``mail.read.own_words``): by the stored
Message-ID, by the stored text however a client re-wrapped or quoted it, by our From
address, and by our templates' fixed phrases, which every template still writes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mail.read.forward import Forwarded
from mail.read.own_words import OURS_BY_SHAPE, SentMail, is_ours_by_shape, sort_forwards

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
AGENDA = (Path(__file__).resolve().parent / "fixtures" / "replies" / "agenda.txt"
          ).read_text(encoding="utf-8")
# The agenda without its "how to reply" part: only the stored text can tell it is ours.
BARE_AGENDA = AGENDA.split("HOW TO REPLY")[0]
CONTEXT = {"manager_id": 2, "employee_id": 1, "period_start": "2026-11-30",
           "meeting_at": "2026-12-03T10:00:00+01:00"}


def forwarded(body: str, *, sender: str = "someone@example.org",
              message_id: str | None = None) -> Forwarded:
    return Forwarded(sender, None, (), (), None, None, "1:1", body, message_id=message_id)


def test_a_stored_text_is_known_however_the_client_wrapped_and_quoted_it() -> None:
    rewrapped = "\n".join("> " + line for paragraph in BARE_AGENDA.splitlines()
                          for line in textwrap.wrap(paragraph, 40) or [""])
    assert not is_ours_by_shape(rewrapped) and sort_forwards([forwarded(rewrapped)]).ours == ()
    sent = SentMail("<a@drumbeat.example>", AGENDA, "agenda", CONTEXT)
    sorted_ = sort_forwards([forwarded(rewrapped)], [sent])
    assert sorted_.people == () and sorted_.ours[0][1] == sent
    assert sorted_.agenda == sent and sorted_.agenda.meeting_at is not None
    assert sorted_.agenda.meeting_at.isoformat() == "2026-12-03T10:00:00+01:00"


def test_an_attached_message_is_known_by_its_message_id() -> None:
    sent = SentMail("<A@drumbeat.example>", "other words entirely", "agenda", CONTEXT)
    sorted_ = sort_forwards([forwarded("T-1 20%", message_id="<a@drumbeat.example>")], [sent])
    assert sorted_.agenda == sent


def test_our_from_address_marks_a_forward_as_ours() -> None:
    mail = forwarded("T-1 20%", sender="drumbeat@acme.example")
    assert sort_forwards([mail], our_addresses=["Drumbeat@acme.example"]).ours == ((mail, None),)
    assert sort_forwards([mail]).people == (mail,)


def test_peoples_notes_stay_even_beside_a_stored_agenda() -> None:
    notes = forwarded("Talked about pricing.\nACTION: Ben to send the memo by Friday\n"
                      "T-42 done")
    sent = SentMail("<a@drumbeat.example>", AGENDA, "agenda", CONTEXT)
    assert sort_forwards([notes], [sent]).people == (notes,)


def test_every_fixed_phrase_is_still_written_by_a_template() -> None:
    texts = [path.read_text(encoding="utf-8") for path in TEMPLATES.glob("*.txt.j2")]
    for phrase in OURS_BY_SHAPE:
        assert any(" ".join(phrase.split()).casefold() in " ".join(text.split()).casefold()
                   for text in texts), phrase
