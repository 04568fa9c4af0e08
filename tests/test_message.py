"""Raw bytes to ParsedMessage: real-world fixtures (one per behaviour) and fuzzing.

The fixtures in tests/fixtures/mime carry real charset encodings; each test says
what a person would notice if it broke (a garbled name, a lost update line).
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.read.classify import classify
from mail.read.message import Attachment, ParsedMessage, parse_message

FIXTURES = Path(__file__).parent / "fixtures" / "mime"
ALL_FIXTURES = sorted(path.name for path in FIXTURES.glob("*.eml"))
SYNTHETIC_ID = re.compile(r"<sha256-[0-9a-f]{64}@drumbeat\.invalid>")


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> ParsedMessage:
    return parse_message(load(name))


def mail(headers: str, body: bytes | str = b"T-1 done\n") -> bytes:
    """A small message from header lines (one per line) and a body."""
    head = headers.strip().encode("utf-8", "surrogateescape")
    return head + b"\n\n" + (body.encode() if isinstance(body, str) else body)


def nested(depth: int, *, text: str = "deep text") -> bytes:
    """``depth`` multiparts, each inside the previous one, a text part at the bottom."""
    opening = b"".join(
        b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (level, level + 1)
        for level in range(depth)
    )
    closing = b"".join(b"--b%d--\n" % level for level in range(depth, -1, -1))
    bottom = b"--b%d\nContent-Type: text/plain\n\n%s\n" % (depth, text.encode())
    head = b'From: a@example.com\nSubject: deep\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    return head + opening + bottom + closing


# --- charsets and encodings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "subject", "from_name", "in_text"),
    [
        ("iso_2022_jp_subject_and_body.eml", "Re: 週次チェックイン", "山田太郎",
         "T-12 完了しました。"),
        ("shift_jis_body.eml", "進捗報告", "田中", "T-8 ①資料 完了"),
        ("euc_jp_body.eml", "報告", None, "T-6 完了です。"),
        ("koi8r_body.eml", "Отчёт по задачам", "Иван Петров", "Задача T-7 выполнена."),
        ("gb2312_label_gbk_bytes.eml", "回复: 项目进展", "王喆", "朱镕基同志的报告已读 (喆)"),
        ("big5_body.eml", "回覆: 每週檢查", "陳小明", "T-4 完成 謝謝"),
        ("iso_8859_2_polish.eml", "Odp: Spotkanie", "Łukasz Wróbel", "Zażółć gęślą jaźń."),
        ("utf16_bom_body.eml", "update from the tablet app", "Priya Raman", "T-3 done ✓\nनमस्ते"),
        ("8bit_utf8_headers_unencoded.eml", "Fortschritt: Präsentation für Q4 ✓", "Jürgen Groß",
         "T-12 90% – fast fertig"),
        ("8bit_latin1_headers_unencoded.eml", "Erledigt: Präsentation", "Jürgen Groß",
         "T-12 erledigt. Grüße"),
        ("encoded_word_split_multibyte.eml", "Überprüfung der Ziele – Q4", "Marta", "T-40 done"),
        ("windows_1252_mislabelled_latin1.eml", "Budget “Q4”", "René Dupont",
         "le “budget” est validé – 5 000 € pour le café."),
    ],
)  # fmt: skip
def test_charsets_decode_to_what_the_sender_wrote(
    fixture: str, subject: str, from_name: str | None, in_text: str
) -> None:
    message = parse(fixture)
    assert message.subject == subject
    assert message.from_name == from_name
    assert in_text in (message.text or "")
    assert "\ufffd" not in (message.text or "") + message.subject


def test_latin1_label_with_windows_1252_bytes_is_read_as_windows_1252_and_noted() -> None:
    message = parse("windows_1252_mislabelled_latin1.eml")
    assert "€" in (message.text or "")
    assert any("windows-1252" in defect for defect in message.defects)


def test_a_gbk_character_in_a_gb2312_message_is_not_lost() -> None:
    # 镕 and 喆 are in GBK but not in GB2312; senders label GBK as GB2312 all the time.
    assert "镕" in (parse("gb2312_label_gbk_bytes.eml").text or "")


def test_shift_jis_means_the_windows_variant_with_circled_digits() -> None:
    message = parse("shift_jis_body.eml")
    assert "①" in (message.text or "")
    assert message.defects == ()


def test_unknown_charset_names_fall_back_to_utf8_and_are_noted() -> None:
    message = parse("bogus_charset_name.eml")
    assert message.text == "Grüße aus Köln. T-5 erledigt.\n"
    assert any("x-unknown" in defect for defect in message.defects)


def test_utf7_is_refused_so_markup_cannot_be_smuggled_in() -> None:
    message = parse("bogus_charset_name.eml")
    assert "<script>" not in (message.html or "")
    assert "+ADw-script+AD4-" in (message.html or "")
    assert any("unicode-1-1-utf-7" in defect for defect in message.defects)


@pytest.mark.parametrize(
    ("label", "noted"),
    [("utf8", False), ('UTF-8"', True), ("'utf-8'", True), (" UTF-8 ", False),
     ("x-unknown", True), ("unicode-1-1-utf-7", True), ("unicode-escape", True), ("", True)],
)  # fmt: skip
def test_odd_charset_labels_still_give_utf8_text(label: str, noted: bool) -> None:
    body = "Grüße – T-1 done".encode()
    message = parse_message(mail(f"Content-Type: text/plain; charset={label}", body))
    assert message.text == "Grüße – T-1 done"
    assert any("charset" in defect for defect in message.defects) is noted


def test_utf8_label_on_windows_1252_bytes_falls_back_to_windows_1252() -> None:
    body = "Café – 5 €".encode("cp1252")
    message = parse_message(mail("Content-Type: text/plain; charset=utf-8", body))
    assert message.text == "Café – 5 €"
    assert any("windows-1252" in defect for defect in message.defects)


def test_text_without_charset_is_read_as_utf8() -> None:
    message = parse_message(mail("Subject: x", "Grüße".encode()))
    assert message.text == "Grüße"


def test_html_without_charset_uses_its_meta_charset() -> None:
    message = parse("html_only_meta_charset.eml")
    assert message.text is None
    assert "Задача T-9 готова" in (message.html or "")


def test_outlook_html_only_base64_keeps_the_html_and_no_text() -> None:
    message = parse("outlook_html_only_base64.eml")
    assert message.text is None
    assert "T-12 60% drafted the intro" in (message.html or "")
    assert "\r" not in (message.html or "")
    assert message.from_name == "Zoë Lee"


def test_broken_base64_padding_and_noise_are_repaired() -> None:
    message = parse("base64_broken_padding.eml")
    assert message.text == "T-1 done, 고맙습니다!"
    assert any("base64" in defect for defect in message.defects)


def test_a_message_cut_inside_a_base64_text_part_keeps_what_arrived() -> None:
    message = parse("truncated_mid_base64_text_utf8.eml")
    assert message.text is not None
    assert message.text.startswith("Kurzes Update: T-12 erledigt, T-13 zu 60 %. Schöne Grüße")
    assert message.text.endswith("\ufffd")  # the half character, not windows-1252 mojibake
    assert any("truncated" in defect for defect in message.defects)


def test_a_message_cut_inside_an_attachment_keeps_body_and_attachment() -> None:
    message = parse("truncated_mid_base64.eml")
    assert (message.text or "").startswith("Hi Ann,\n\nT-12 done. T-13 40%.")
    assert [a.filename for a in message.attachments] == ["slides.pdf"]
    assert any("close boundary" in defect for defect in message.defects)
    assert any("damaged base64" in defect for defect in message.defects)


def test_multipart_without_boundary_is_read_as_plain_text() -> None:
    message = parse("multipart_no_boundary.eml")
    assert message.text == "T-77 done\n"
    assert any("boundary" in defect for defect in message.defects)


def test_quoted_printable_soft_breaks_and_crlf_are_undone() -> None:
    message = parse("reply_apple_mail.eml")
    assert (message.text or "").startswith("T-12 done ✓\nT-13 60% – intro drafted\n")
    assert "=\n" not in (message.text or "")


# --- headers -------------------------------------------------------------------------


def test_addresses_are_lower_cased_and_names_decoded() -> None:
    message = parse("reply_apple_mail.eml")
    assert message.from_addr == "ann.mueller@example.com"
    assert message.from_name == "Ann Müller"
    assert message.to == ("checkin+ab12cd@drumbeat.example.com",)
    assert message.cc == ("bob@example.com",)


def test_reply_to_and_several_recipients() -> None:
    assert parse("mailing_list_digest.eml").reply_to == ("team@lists.example.com",)
    assert parse("8bit_utf8_headers_unencoded.eml").to == (
        "zoe.lee@contoso.com",
        "updates@drumbeat.example.com",
    )


def test_a_comma_inside_a_quoted_name_does_not_split_the_address() -> None:
    message = parse_message(mail('From: "Doe, John" <John.Doe@Example.com>'))
    assert (message.from_name, message.from_addr) == ("Doe, John", "john.doe@example.com")


def test_an_unparseable_from_gives_none_and_a_defect() -> None:
    message = parse_message(mail("From: nobody at all"))
    assert message.from_addr is None
    assert any("From" in defect for defect in message.defects)


def test_threading_headers() -> None:
    message = parse("reply_apple_mail.eml")
    assert message.in_reply_to == "<agenda.4711.ann@drumbeat.example.com>"
    assert message.references == (
        "<thread.root@drumbeat.example.com>",
        "<agenda.4711.ann@drumbeat.example.com>",
    )


def test_message_id_without_brackets_gets_them_and_in_reply_to_ignores_comments() -> None:
    message = parse("message_id_without_brackets.eml")
    assert message.message_id == "<1234.5678.legacy@mail.example.org>"
    assert message.has_message_id
    assert message.in_reply_to == "<agenda.4711.ann@drumbeat.example.com>"


def test_missing_message_id_is_derived_from_the_bytes() -> None:
    raw = load("no_message_id.eml")
    message = parse_message(raw)
    assert not message.has_message_id
    assert SYNTHETIC_ID.fullmatch(message.message_id)
    assert parse_message(raw).message_id == message.message_id
    assert parse_message(raw.replace(b"T-31 80%", b"T-31 90%")).message_id != message.message_id
    assert "no Message-ID header: a synthetic id is used" in message.defects


@pytest.mark.parametrize("value", ["", "   ", "<>", "not an id", "<with space@x>", "<ü@x>"])
def test_unusable_message_ids_are_replaced(value: str) -> None:
    message = parse_message(mail(f"Message-ID: {value}\nSubject: x"))
    assert SYNTHETIC_ID.fullmatch(message.message_id)
    assert not message.has_message_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Fri, 27 Nov 2026 09:30:00 +0100", datetime(2026, 11, 27, 8, 30, tzinfo=UTC)),
        ("27 Nov 2026 09:30 GMT", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
        ("Fri, 27 Nov 2026 09:30:00 -0000", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
        ("2026-11-27T09:30:00+01:00", datetime(2026, 11, 27, 8, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_aware(value: str, expected: datetime) -> None:
    date = parse_message(mail(f"Date: {value}")).date
    assert date == expected
    assert date is not None and date.tzinfo is not None


def test_date_keeps_the_senders_offset() -> None:
    date = parse("iso_2022_jp_subject_and_body.eml").date
    assert date is not None and date.utcoffset() == timedelta(hours=9)
    assert date.tzinfo == timezone(timedelta(hours=9))


@pytest.mark.parametrize("value", ["yesterday", "Fri, 32 Nov 2026 25:61:00 +0100", "0", "+9999"])
def test_unreadable_dates_are_none_with_a_defect(value: str) -> None:
    message = parse_message(mail(f"Date: {value}"))
    assert message.date is None
    assert any("Date" in defect for defect in message.defects)


def test_classification_headers_are_kept_decoded_with_lower_case_names() -> None:
    message = parse("rfc3834_auto_replied.eml")
    assert message.headers["auto-submitted"] == "auto-replied (vacation)"
    assert message.headers["precedence"] == "bulk"
    assert message.headers["return-path"] == "<>"
    assert message.headers["content-type"].startswith("text/plain")
    assert all(name == name.lower() for name in message.headers)
    with pytest.raises(TypeError):
        message.headers["precedence"] = "list"  # type: ignore[index]


def test_subject_whitespace_is_collapsed_and_missing_subject_is_empty() -> None:
    assert (
        parse_message(mail("Subject:  Re:\tweekly \n  check-in ")).subject == "Re: weekly check-in"
    )
    assert parse_message(mail("From: a@example.com")).subject == ""


# --- structure -----------------------------------------------------------------------


def test_attachments_are_listed_with_decoded_names_and_real_sizes() -> None:
    message = parse("reply_with_attachments.eml")
    assert message.text == "T-12 done, deck attached.\n"
    assert (message.html or "").startswith("<p>T-12 done, deck attached.</p>")
    assert message.attachments == (
        Attachment("logo.png", "image/png", 70),
        Attachment("Q4 Präsentation.pdf", "application/pdf", 77),
        Attachment("Notizen für Bob.txt", "text/plain", 25),
    )


def test_an_attached_message_is_kept_raw_and_parses_on_its_own() -> None:
    message = parse("forward_attached_rfc822.eml")
    assert message.text == "See the attached notes.\n"
    assert message.attachments == ()
    (attached,) = message.attached_messages
    inner = parse_message(attached)
    assert inner.subject == "1:1 notes – November"
    assert inner.from_addr == "bob@example.com"
    assert inner.message_id == "<notes.original@example.com>"
    assert "T-13 60% – intro drafted" in (inner.text or "")


def test_bodies_inside_attached_messages_are_not_the_body() -> None:
    message = parse("exchange_ndr.eml")
    assert "couldn't be delivered" in (message.text or "")
    assert "Your tasks this week" not in (message.text or "")
    assert len(message.attached_messages) == 1


def test_a_base64_encoded_attached_message_is_decoded() -> None:
    inner = b"From: bob@example.com\nSubject: inner\n\nT-5 done\n"
    raw = mail(
        'Content-Type: multipart/mixed; boundary="x"',
        b"--x\nContent-Type: text/plain\n\nsee attached\n--x\nContent-Type: message/rfc822\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(inner) + b"--x--\n",
    )
    (attached,) = parse_message(raw).attached_messages
    assert parse_message(attached).subject == "inner"


def test_a_digest_lists_each_message() -> None:
    message = parse("mailing_list_digest.eml")
    assert [parse_message(m).subject for m in message.attached_messages] == [
        "Offsite agenda",
        "Re: Offsite agenda",
    ]
    assert (message.text or "").startswith("Send Team mailing list submissions to")


def test_calendar_parts_are_decoded() -> None:
    message = parse("calendar_invite_outlook.eml")
    (calendar,) = message.calendar
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY;LANGUAGE=en-US:1:1 Ann / Bob – weekly" in calendar
    assert message.text == "Weekly 1:1 – agenda by Drumbeat.\n"


def test_size_is_the_raw_size() -> None:
    raw = load("reply_with_attachments.eml")
    assert parse_message(raw).size == len(raw)


def test_the_same_bytes_parse_to_the_same_result() -> None:
    raw = load("reply_apple_mail.eml")
    assert parse_message(raw) == parse_message(raw)


def test_empty_input_gives_an_empty_message() -> None:
    message = parse_message(b"")
    assert SYNTHETIC_ID.fullmatch(message.message_id)
    assert (message.subject, message.from_addr, message.size) == ("", None, 0)


# --- limits --------------------------------------------------------------------------


def test_200_deep_nesting_is_cut_quickly_and_reported() -> None:
    raw = nested(200)
    started = time.thread_time()  # its own CPU time: other programs may run
    message = parse_message(raw)
    assert time.thread_time() - started < 1.0
    assert message.text is None
    assert any("deeper than 30 levels" in defect for defect in message.defects)
    assert len(message.defects) < 10


def test_nesting_within_the_limit_still_finds_the_text() -> None:
    assert parse_message(nested(25)).text == "deep text"
    assert parse_message(nested(12), max_depth=10).text is None


def test_a_thousand_deep_nesting_with_a_long_body_stays_fast() -> None:
    raw = nested(1000, text="line\n" * 100_000)
    started = time.thread_time()  # its own CPU time: other programs may run
    parse_message(raw)
    assert time.thread_time() - started < 1.0


def test_too_many_parts_are_cut_and_reported() -> None:
    parts = b"".join(b"--p\nContent-Type: image/gif\n\nGIF89a\n" for _ in range(700))
    raw = mail('Content-Type: multipart/mixed; boundary="p"', parts + b"--p--\n")
    message = parse_message(raw, max_parts=500)
    assert len(message.attachments) == 499
    assert any("more than 500 MIME parts" in defect for defect in message.defects)


# --- fuzzing: never raise, always fast ---------------------------------------------------


def check_bounded(raw: bytes) -> None:
    """parse_message and classify return within a second each, whatever the bytes."""
    started = time.perf_counter()
    message = parse_message(raw)
    parsed = time.perf_counter()
    classification = classify(message, raw)
    done = time.perf_counter()
    assert isinstance(message, ParsedMessage)
    assert message.message_id.startswith("<") and message.message_id.endswith(">")
    assert classification.kind
    assert parsed - started < 1.0
    assert done - parsed < 1.0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_FIXTURES), st.floats(min_value=0, max_value=1))
def test_fuzz_truncated_fixtures(fixture: str, fraction: float) -> None:
    raw = load(fixture)
    check_bounded(raw[: int(len(raw) * fraction)])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_FIXTURES), st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8))))
def test_fuzz_random_bytes_spliced_into_fixtures(
    fixture: str, splices: list[tuple[float, bytes]]
) -> None:
    raw = load(fixture)
    for where, data in splices:
        at = int(len(raw) * where)
        raw = raw[:at] + data + raw[at:]
    check_bounded(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(raw: bytes) -> None:
    check_bounded(raw)


HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "Auto-Submitted", "Precedence", "X-Failed-Recipients", "Return-Path", "List-Id",
        "MIME-Version", "X-Garbage",
    ]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.binary(max_size=120),
    st.sampled_from(
        [
            b"=?utf-8?B?w5w=?=", b"=?x-bogus?Q?=FF=FE?=", b"=?utf-8?B?!!!?=", b"multipart/mixed",
            b'multipart/report; report-type=delivery-status; boundary="b"', b"base64",
            b"text/plain; charset=utf-7", b"<>", b"\"\\\"<>@,;:", b"=?", b"?=",
            b"attachment; filename*=utf-8''%FF%FE", b"text/html; charset=\"UTF-8\\\"\"",
        ]
    ),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12),
    st.binary(max_size=512),
)
def test_fuzz_header_garbage(headers: list[tuple[str, bytes]], body: bytes) -> None:
    head = b"".join(name.encode() + b": " + value + b"\n" for name, value in headers)
    check_bounded(head + b"\n" + body)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=400),
    st.sampled_from(["mixed", "alternative", "related", "digest", "report"]),
)
def test_fuzz_deep_nesting(depth: int, subtype: str) -> None:
    check_bounded(nested(depth).replace(b"multipart/mixed", f"multipart/{subtype}".encode()))


INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069\ufeff"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(INVISIBLE + "Re:Fwd: aé日\t"), max_size=40),
    st.text(alphabet=st.sampled_from(INVISIBLE + "ann@x.com <>\"',"), max_size=40),
)
def test_fuzz_zero_width_and_bidi_in_headers(subject: str, sender: str) -> None:
    raw = f"From: {sender}\nSubject: {subject}\n\nT-1 done\n".encode()
    check_bounded(raw)
    message = parse_message(raw)
    assert "\n" not in message.subject and "\t" not in message.subject
