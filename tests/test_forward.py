"""``mail.read.forward``: one test per client shape and per edge case; the corpora are in
``test_forward_corpus.py``."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.read.dates import read_header_date as read_date
from mail.read.forward import Forwarded, find_forwards, split_forward
from mail.read.inspect import inspect_message
from mail.read.message import parse_message

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "forwards"
CET = timezone(timedelta(hours=1))
NOTES = "Notes from our 1:1:\n\nACTION: Ben to send the pricing memo by Friday\n\nBen"


def only(text: str, subject: str | None = None) -> Forwarded:
    """The single forward in ``text``."""
    _, found = split_forward(text, subject=subject)
    assert len(found) == 1, found
    return found[0]


# -- client shapes -----------------------------------------------------------------------------


def test_gmail_separator_block_and_note() -> None:
    text = (
        "Please file.\n\n---------- Forwarded message ---------\n"
        "From: Ben Okafor <ben.okafor@northwind.example>\n"
        "Date: Wed, Dec 2, 2026 at 9:15 AM\nSubject: Notes from our 1:1\n"
        "To: Ann Lee <ann.lee@northwind.example>\nCc: chloe@northwind.example\n\n\n" + NOTES
    )
    note, found = split_forward(text)
    assert note == "Please file."
    [forward] = found
    assert forward == Forwarded(
        from_addr="ben.okafor@northwind.example",
        from_name="Ben Okafor",
        to=("ann.lee@northwind.example",),
        cc=("chloe@northwind.example",),
        date=datetime(2026, 12, 2, 9, 15),
        date_text="Wed, Dec 2, 2026 at 9:15 AM",
        subject="Notes from our 1:1",
        body=NOTES,
        note="Please file.",
    )


@pytest.mark.parametrize(
    ("block", "date"),
    [
        (
            "From: Ben <ben@x.org>\nSent: Wednesday, December 2, 2026 9:15 AM\nTo: ann@x.org\n"
            "Subject: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "Von: Ben <ben@x.org>\nGesendet: Mittwoch, 2. Dezember 2026 09:15\nAn: ann@x.org\n"
            "Betreff: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "De : Ben <ben@x.org>\nEnvoyé : mercredi 2 décembre 2026 09:15\nÀ : ann@x.org\n"
            "Objet : Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "De: Ben <ben@x.org>\nEnviado el: miércoles, 2 de diciembre de 2026 9:15\n"
            "Para: ann@x.org\nAsunto: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "Da: Ben <ben@x.org>\nInviato: mercoledì 2 dicembre 2026 09:15\nA: ann@x.org\n"
            "Oggetto: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "Van: Ben <ben@x.org>\nVerzonden: woensdag 2 december 2026 09:15\nAan: ann@x.org\n"
            "Onderwerp: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            "差出人: Ben <ben@x.org>\n送信日時: 2026年12月2日 9:15\n宛先: ann@x.org\n件名: Notes",
            datetime(2026, 12, 2, 9, 15),
        ),
    ],
    ids=["english", "german", "french", "spanish", "italian", "dutch", "japanese"],
)
def test_outlook_desktop_blocks_in_several_languages(block: str, date: datetime) -> None:
    forward = only("Ann\n\n" + block + "\n\n" + NOTES, subject="FW: Notes")
    assert (forward.from_addr, forward.to, forward.subject) == (
        "ben@x.org",
        ("ann@x.org",),
        "Notes",
    )
    assert forward.date == date
    assert forward.body == NOTES
    assert forward.note == "Ann"


def test_outlook_web_underscore_rule_is_not_part_of_the_note() -> None:
    text = (
        "Please file.\n\n________________________________\nFrom: Ben <ben@x.org>\n"
        "Sent: Wednesday, December 2, 2026 09:15\nTo: ann@x.org\nSubject: Notes\n\n" + NOTES
    )
    forward = only(text, subject="Fw: Notes")
    assert forward.note == "Please file."
    assert forward.body == NOTES


def test_outlook_html_only_forward_is_read_from_its_text() -> None:
    raw = (FIXTURES / "outlook_desktop_html_only_divrplyfwdmsg.eml").read_bytes()
    parsed = parse_message(raw)
    assert parsed.text is None and parsed.html
    [forward] = find_forwards(parsed)
    assert forward.from_addr == "ben.okafor@northwind.example"
    assert forward.subject == "Notes from our 1:1"
    assert forward.body.startswith("Hi Ann, notes from our 1:1 today:")


def test_original_message_separator_with_mailto_brackets() -> None:
    text = (
        "-----Original Message-----\nFrom: Ben Okafor [mailto:ben@x.org] \n"
        "Sent: Wednesday, December 02, 2026 9:15 AM\nTo: Ann Lee\nSubject: Notes\n\n" + NOTES
    )
    forward = only(text, subject="FW: Notes")
    assert (forward.from_name, forward.from_addr, forward.to) == ("Ben Okafor", "ben@x.org", ())


def test_apple_mail_quoted_forward() -> None:
    text = (
        "Filing.\n\n> Begin forwarded message:\n> \n> From: Ben <ben@x.org>\n"
        "> Subject: Notes\n> Date: 2 December 2026 at 09:15:07 CET\n> To: ann@x.org\n> \n"
        "> Notes line one\n> \n> ACTION: Ben to send the memo\n\nText typed below."
    )
    forward = only(text)
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)
    assert forward.body == "Notes line one\n\nACTION: Ben to send the memo"
    assert forward.note == "Filing."


@pytest.mark.parametrize(
    ("intro", "labels", "date"),
    [
        (
            "Begin forwarded message:",
            ("From", "Date", "To", "Subject"),
            "December 2, 2026 at 9:15:07 AM GMT+1",
        ),
        (
            "Début du message réexpédié :",
            ("De", "Date", "À", "Objet"),
            "2 décembre 2026 à 09:15:07 UTC+1",
        ),
        (
            "Inicio del mensaje reenviado:",
            ("De", "Fecha", "Para", "Asunto"),
            "2 de diciembre de 2026, 9:15:07 CET",
        ),
        (
            "Anfang der weitergeleiteten Nachricht:",
            ("Von", "Datum", "An", "Betreff"),
            "2. Dezember 2026 um 09:15:07 MEZ",
        ),
    ],
    ids=["english", "french", "spanish", "german"],
)
def test_apple_mail_ios_intro_then_quoted_block(
    intro: str, labels: tuple[str, ...], date: str
) -> None:
    values = ("Ben <ben@x.org>", date, "ann@x.org", "Notes")
    block = "\n".join(f"> {label}: {value}" for label, value in zip(labels, values, strict=True))
    forward = only(
        f"Sent from my iPhone\n\n{intro}\n\n{block}\n> \n> {NOTES.replace(chr(10), chr(10) + '> ')}"
    )
    assert forward.from_addr == "ben@x.org"
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)
    assert forward.body == NOTES
    assert forward.note == "Sent from my iPhone"


@pytest.mark.parametrize(
    "separator",
    [
        "-------- Forwarded Message --------",
        "-------- Message transféré --------",
        "-------- Weitergeleitete Nachricht --------",
        "-------- Mensaje reenviado --------",
    ],
)
def test_thunderbird_separators_and_tabbed_block(separator: str) -> None:
    text = (
        f"{separator}\nSubject: \tNotes\nDate: \tWed, 2 Dec 2026 09:15:07 +0100\n"
        "From: \tBen <ben@x.org>\nTo: \tann@x.org\n\n\n\n" + NOTES
    )
    forward = only(text)
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)
    assert (forward.subject, forward.body) == ("Notes", NOTES)


def test_yahoo_block_glued_onto_the_separator_line() -> None:
    text = (
        '   ----- Forwarded Message ----- From: Ben <ben@x.org>To: "ann@x.org" <ann@x.org>'
        "Cc: Chloe <chloe@x.org>Sent: Wednesday, December 2, 2026, 09:15:07 AM GMT+1"
        "Subject: Notes\n " + NOTES
    )
    forward = only(text)
    assert (forward.from_addr, forward.to, forward.cc) == (
        "ben@x.org",
        ("ann@x.org",),
        ("chloe@x.org",),
    )
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)
    assert (forward.subject, forward.body) == ("Notes", NOTES)


def test_samsung_original_message_with_gmt_offset() -> None:
    text = (
        "Sent from my Galaxy\n\n\n-------- Original message --------\nFrom: Ben <ben@x.org> \n"
        "Date: 12/2/26 09:15 (GMT+01:00) \nTo: ann@x.org \nSubject: Notes \n\n" + NOTES
    )
    forward = only(text, subject="Fwd: Notes")
    assert forward.date == datetime(2026, 12, 2, 9, 15, tzinfo=CET)
    assert forward.subject == "Notes"


def test_android_and_ios_outlook_footer_is_the_note() -> None:
    text = (
        "Get Outlook for Android<https://aka.ms/AAb9ysg>\n________________________________\n"
        "From: Ben <ben@x.org>\nSent: Wednesday, December 2, 2026 9:15:07 AM\nTo: ann@x.org\n"
        "Subject: Notes\n\n" + NOTES
    )
    forward = only(text, subject="Fwd: Notes")
    assert forward.note == "Get Outlook for Android<https://aka.ms/AAb9ysg>"
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7)


def test_outlook_for_mac_attribution_is_a_forward_only_under_a_forward_subject() -> None:
    text = (
        '\ufeffOn 14/12/2026, 09:15, "Ben Okafor" <ben@x.org> wrote:\n\n'
        "    Notes line one\n\n    ACTION: Ben to send the memo\n"
    )
    forward = only(text, subject="FW: Notes from our 1:1")
    assert (forward.from_name, forward.from_addr) == ("Ben Okafor", "ben@x.org")
    assert forward.date == datetime(2026, 12, 14, 9, 15)
    assert forward.subject == "Notes from our 1:1"  # from the outer subject
    assert forward.body == "Notes line one\n\nACTION: Ben to send the memo"
    assert split_forward(text, subject="Re: Notes from our 1:1")[1] == []
    assert split_forward(text)[1] == []


@pytest.mark.parametrize(
    "sender",
    [
        "John Doe <john.doe@acme.com>",
        "John Doe [mailto:john.doe@acme.com]",
        '"John Doe" <john.doe@acme.com>',
        "john.doe@acme.com",
        "John Doe<mailto:john.doe@acme.com> <john.doe@acme.com<mailto:john.doe@acme.com>>",
        "*John Doe* <John.Doe@ACME.com>",
    ],
)
def test_sender_forms(sender: str) -> None:
    text = (
        f"---------- Forwarded message ---------\nFrom: {sender}\n"
        "Date: Wed, Dec 2, 2026 at 9:15 AM\nSubject: Notes\nTo: ann@x.org\n\nBody"
    )
    forward = only(text)
    assert forward.from_addr == "john.doe@acme.com"
    assert forward.from_name == (None if sender == "john.doe@acme.com" else "John Doe")


def test_bold_labels_of_gmail_text() -> None:
    text = (
        "Ann\n\n*From:* Ben <ben@x.org>\n*Sent:* Wednesday, December 2, 2026 9:15 AM\n"
        "*To:* ann@x.org\n*Subject:* Notes\n\n" + NOTES
    )
    forward = only(text, subject="Fwd: Notes")
    assert (forward.from_addr, forward.subject, forward.body) == ("ben@x.org", "Notes", NOTES)


# -- edge cases ------------------------------------------------------------------------------


def test_wrapped_headers_are_joined() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Ben <ben@x.org>\n"
        "Date: Thu, Dec 3, 2026 at 11:02 AM\n"
        "Subject: Notes from our 1:1 — pricing memo, hiring plan, Q1 goals and the\n"
        "offsite agenda\nTo: Ann <ann@x.org>, Chloe Martin <chloe@x.org>,\n"
        "José <jose@x.org>\n\n" + NOTES
    )
    forward = only(text)
    assert forward.subject == (
        "Notes from our 1:1 — pricing memo, hiring plan, Q1 goals and the offsite agenda"
    )
    assert forward.to == ("ann@x.org", "chloe@x.org", "jose@x.org")
    assert forward.body == NOTES


def test_blank_lines_inside_a_block() -> None:
    text = (
        'hello\n\n-----Original Message-----\nFrom: "Ben" <ben@x.org>\n\n'
        "Date: Sat, 22 Mar 2008 12:16:06\nTo:<ann@x.org>\n\n\nSubject: Antw: FW: html\n\n\nOHAI..."
    )
    forward = only(text)
    assert (forward.subject, forward.body, forward.to) == (
        "Antw: FW: html",
        "OHAI...",
        ("ann@x.org",),
    )


def test_missing_date() -> None:
    forward = only("From: Ben <ben@x.org>\nTo: ann@x.org\nSubject: Notes\n\n" + NOTES, "FW: Notes")
    assert (forward.date, forward.date_text) == (None, None)


def test_unparseable_date_keeps_the_written_text() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Ben <ben@x.org>\n"
        "Date: sometime last week\nSubject: Notes\nTo: ann@x.org\n\n" + NOTES
    )
    forward = only(text)
    assert forward.date is None
    assert forward.date_text == "sometime last week"
    assert forward.to_json()["date"] is None


def test_nested_forwards_outermost_first_each_body_cut_at_the_next() -> None:
    inner = (
        "---------- Forwarded message ---------\nFrom: Ben <ben@x.org>\n"
        "Date: Wed, Dec 2, 2026 at 9:15 AM\nSubject: Notes\nTo: chloe@x.org\n\n" + NOTES
    )
    outer = (
        "For the record.\n\n---------- Forwarded message ---------\nFrom: Chloe <chloe@x.org>\n"
        "Date: Wed, Dec 2, 2026 at 10:02 AM\nSubject: Fwd: Notes\nTo: ann@x.org\n\n"
        "Ann, see below.\n\n" + inner
    )
    note, found = split_forward(outer)
    assert note == "For the record."
    assert [f.from_addr for f in found] == ["chloe@x.org", "ben@x.org"]
    assert [f.body for f in found] == ["Ann, see below.", NOTES]
    assert [f.note for f in found] == ["For the record.", "Ann, see below."]


def test_attached_message_is_a_forward_with_its_own_headers() -> None:
    raw = (FIXTURES / "outlook_desktop_forward_as_attachment.eml").read_bytes()
    [forward] = find_forwards(parse_message(raw))
    assert forward.from_addr == "ben.okafor@northwind.example"
    assert forward.date == datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)
    assert forward.date_text == "Wed, 2 Dec 2026 09:15:07 +0100"
    assert forward.subject == "Notes from our 1:1"
    assert forward.cc == ("chloe.martin@northwind.example",)
    assert forward.note == "Ben's notes are attached."
    assert "ACTION: Ben to send the pricing memo by Friday" in forward.body


def test_a_plain_quoted_reply_is_not_a_forward() -> None:
    text = (
        "Sounds good, I'll send it Friday.\n\nOn Wed, Dec 2, 2026 at 9:15 AM Ann Lee "
        "<ann@x.org> wrote:\n> Can you send the memo?\n> \n> "
        "---------- Forwarded message ---------\n> From: Ben <ben@x.org>\n"
        "> Date: Wed, Dec 2, 2026 at 9:00 AM\n> Subject: Notes\n> To: ann@x.org\n"
    )
    for subject in (None, "Re: Notes", "Notes"):
        note, found = split_forward(text, subject=subject)
        assert found == []
        assert note.startswith("Sounds good") and note.endswith("> To: ann@x.org")


def test_an_outlook_reply_block_is_not_a_forward_under_a_reply_subject() -> None:
    text = (
        "T-41 done\n\nFrom: Drumbeat <drumbeat@x.org>\nSent: Wednesday, December 2, 2026 8:00 AM\n"
        "To: Ben <ben@x.org>\nSubject: 1:1 agenda\n\nHi Ben, your 1:1 is on Thursday."
    )
    assert split_forward(text, subject="RE: 1:1 agenda")[1] == []
    assert split_forward(text, subject="AW: 1:1 agenda")[1] == []
    # without a subject a block at the top reads as a forward (as the classifier does)
    assert len(split_forward(text)[1]) == 1


def test_a_block_far_below_text_needs_a_forward_subject() -> None:
    above = "\n".join(f"line {n}" for n in range(12))
    text = (
        above
        + "\n\nFrom: Ben <ben@x.org>\nSent: Wed, 2 Dec 2026 09:15\nTo: ann@x.org\nSubject: N\n\nB"
    )
    assert split_forward(text)[1] == []
    assert split_forward(text, subject="FW: N")[1][0].from_addr == "ben@x.org"


def test_a_separator_with_nothing_under_it() -> None:
    note, found = split_forward("See below.\n\n---------- Forwarded message ---------\n\n")
    assert note == "See below."
    assert [(f.from_addr, f.subject, f.body) for f in found] == [(None, None, "")]


def test_no_forward_in_plain_text() -> None:
    assert split_forward("Hello\n\nFrom: the team\nTo do: nothing") == (
        "Hello\n\nFrom: the team\nTo do: nothing",
        [],
    )
    assert split_forward("") == ("", [])


def test_disclaimer_under_a_rule_ends_the_body() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Ben <ben@x.org>\n"
        "Date: Wed, Dec 2, 2026 at 9:15 AM\nSubject: Notes\nTo: ann@x.org\n\n"
        + NOTES
        + "\n\n________________________________\n\nThis email is confidential.\n"
    )
    assert only(text).body == NOTES


def test_huge_input_takes_bounded_time() -> None:
    block = (
        "---------- Forwarded message ---------\nFrom: Ben <ben@x.org>\n"
        "Date: Wed, Dec 2, 2026 at 9:15 AM\nSubject: Notes\nTo: ann@x.org\n\nbody\n"
    )
    texts = [
        block * 20_000,  # 20,000 nested forwards
        "From: x <x@y.org>\n" * 200_000,  # a header block with no end
        ("> " * 300 + "x\n") * 5_000,  # deep quoting
        "a" * 3_000_000,  # one huge line
        "-" * 100_000 + " Forwarded message " + "-" * 100_000,
    ]
    for text in texts:
        started = time.perf_counter()
        _, found = split_forward(text)
        assert time.perf_counter() - started < 5, text[:40]
        assert len(found) <= 50


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("<>@:-_ \n\t>*abFromDateSubjectTo,.;[]()0123456789"), max_size=400
    )
)
def test_garbage_text_never_raises(text: str) -> None:
    note, found = split_forward(text, subject="Fwd: x")
    assert isinstance(note, str)
    for forward in found:
        forward.to_json()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(find_forwards(parse_message(b"Subject: Fwd: x\r\n\r\n" + raw)), tuple)


def test_non_text_input_never_raises() -> None:
    assert split_forward(None) == ("", [])  # type: ignore[arg-type]


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("Wed, 2 Dec 2026 09:15:07 +0100", (), datetime(2026, 12, 2, 9, 15, 7, tzinfo=CET)),
        (
            "Monday, September 19, 2022, 5:55:44 PM -0400",
            (),
            datetime(2022, 9, 19, 17, 55, 44, tzinfo=timezone(timedelta(hours=-4))),
        ),
        ("Mi., 2. Dez. 2026 um 09:15 Uhr", ("de",), datetime(2026, 12, 2, 9, 15)),
        (
            "26. Oktober 2021 um 14:25:08 OESZ",
            ("de",),
            datetime(2021, 10, 26, 14, 25, 8, tzinfo=timezone(timedelta(hours=3))),
        ),
        (
            "26. oktober 2021 kl. 14.25.08 EEST",
            ("da",),
            datetime(2021, 10, 26, 14, 25, 8, tzinfo=timezone(timedelta(hours=3))),
        ),
        ("mié., 2 de dic. de 2026 9:15 a. m.", ("es",), datetime(2026, 12, 2, 9, 15)),
        ("02.12.26 09:15 (GMT+01:00)", (), datetime(2026, 12, 2, 9, 15, tzinfo=CET)),
        ("2022年9月19日月曜日 17:55:44", ("ja",), datetime(2022, 9, 19, 17, 55, 44)),
        ("sometime last week", (), None),
        ("", (), None),
        (None, (), None),
    ],
)
def test_read_date(text: str | None, languages: tuple[str, ...], expected: datetime | None) -> None:
    assert read_date(text, languages) == expected


# -- the contract ------------------------------------------------------------------------------


def test_to_json_is_the_design_item() -> None:
    forward = Forwarded(
        from_addr="john.doe@acme.com",
        from_name="John Doe",
        to=("ann@x.org",),
        cc=(),
        date=datetime(2026, 12, 2, 9, 15, tzinfo=CET),
        date_text="x",
        subject="S",
        body="B",
    )
    assert forward.to_json() == {
        "from": "John Doe <john.doe@acme.com>",
        "to": ["ann@x.org"],
        "date": "2026-12-02T09:15:00+01:00",
        "subject": "S",
        "body": "B",
    }
    nameless = Forwarded("a@x.org", None, (), (), None, None, None, "")
    assert nameless.to_json()["from"] == "a@x.org"


def test_inspect_lists_the_forwards() -> None:
    raw = (FIXTURES / "gmail_web_forward_of_forward.eml").read_bytes()
    result = inspect_message(raw)
    assert result["kind"] == "forward"
    assert result["forwarded"] == [f.to_json() for f in find_forwards(parse_message(raw))]
    assert [item["from"] for item in result["forwarded"]] == [
        "Chloe Martin <chloe.martin@northwind.example>",
        "Ben Okafor <ben.okafor@northwind.example>",
    ]
    assert result["forwarded"][1]["date"] == "2026-12-02T09:15:00"
    assert result["forwarded"][1]["subject"] == "Notes from our 1:1"


def test_inspect_of_a_reply_has_no_forwards() -> None:
    reply = (
        Path(__file__).resolve().parent
        / "fixtures"
        / "replies"
        / "outlook_desktop_german_from_sent_block.eml"
    )
    assert inspect_message(reply.read_bytes())["forwarded"] == []


def test_an_inline_forward_with_full_headers_keeps_the_forwarded_message_id() -> None:
    """NeoMutt forwards inline with the whole header block; its Message-ID is what
    finds the agenda we stored, so it must come through, not only for attachments."""

    raw = (Path(__file__).parent / "fixtures" / "neomutt" / "forward_inline.eml").read_bytes()
    [forwarded] = find_forwards(parse_message(raw))
    assert forwarded.message_id == \
        "<179658884315.11351.5119967671406174454.agenda@northwind.example>"
    assert forwarded.subject == "1:1 with Tobias Brandt: check-in agenda"
