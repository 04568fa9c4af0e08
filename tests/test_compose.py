"""The MIME message as a receiving mail client parses it back."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pytest

from mail.write.compose import (
    AttachedFile,
    InlineImage,
    build_message,
    format_address,
    make_message_id,
    thread_root_id,
    to_bytes,
)
from mail.write.render import RenderedEmail, render_agenda
from mail.write.tokens import reply_address
from tests.test_agenda_render import make_view, task

DOMAIN = "drumbeat.example.com"
ROOT = thread_root_id(7, 12, DOMAIN)
WHEN = datetime(2026, 12, 2, 7, 0, tzinfo=timezone(timedelta(hours=1)))
SIMPLE = RenderedEmail("1:1 with Ana: check-in agenda", "Hello\n[T-1] A task\n",
                       "<p>Hello</p>")


def build(**changes: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "rendered": SIMPLE,
        "from_addr": "Drumbeat <drumbeat@drumbeat.example.com>",
        "to_addr": "ben@example.com",
        "reply_to": reply_address(42, "secret", DOMAIN),
        "message_id": "<agenda.42@drumbeat.example.com>",
        "in_reply_to": ROOT,
        "references": [ROOT],
        "date": WHEN,
    }
    arguments.update(changes)
    return build_message(**arguments)  # type: ignore[arg-type]


def parsed(message: EmailMessage) -> EmailMessage:
    """What the receiving side sees: the wire bytes parsed with the modern policy."""
    result = email.message_from_bytes(to_bytes(message), policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


def test_an_agenda_parses_back_with_both_parts_and_all_headers() -> None:
    rendered = render_agenda(make_view())
    message = parsed(build(rendered=rendered, to_addr=format_address("Ben Okafor",
                                                                     "ben@example.com")))
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == rendered.text
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == rendered.html.rstrip("\n")
    assert message["Subject"] == "1:1 with José Núñez: check-in agenda"
    assert message["From"].addresses[0].addr_spec == "drumbeat@drumbeat.example.com"
    assert message["To"].addresses[0].display_name == "Ben Okafor"
    assert message["Reply-To"] == reply_address(42, "secret", DOMAIN)
    assert message["Message-ID"] == "<agenda.42@drumbeat.example.com>"
    assert message["In-Reply-To"] == ROOT
    assert message["References"] == ROOT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Date"].datetime == WHEN
    assert message["Precedence"] is None and message["Bcc"] is None


def test_the_wire_form_is_ascii_headers_with_crlf_line_ends() -> None:
    raw = to_bytes(build(to_addr=format_address("王芳", "wang@example.com")))
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    head.decode("ascii")


def test_references_are_space_joined_in_order() -> None:
    earlier = "<agenda.41@drumbeat.example.com>"
    message = parsed(build(references=[ROOT, earlier], in_reply_to=earlier))
    # Long References headers are folded; unfolding may leave a leading space.
    assert message["References"].split() == [ROOT, earlier]
    assert message["In-Reply-To"] == earlier


def test_thread_headers_and_reply_to_are_optional() -> None:
    message = parsed(build(in_reply_to=None, references=[], reply_to=None))
    for header in ("In-Reply-To", "References", "Reply-To"):
        assert message[header] is None


def test_confirmations_can_say_auto_replied_and_add_headers() -> None:
    message = parsed(build(auto_submitted="auto-replied",
                           extra_headers={"X-Drumbeat-Kind": "confirmation\r\nBcc: x@y.z"}))
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Drumbeat-Kind"] == "confirmation Bcc: x@y.z"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    "headers",
    [{"Subject": "again"}, {"from": "x@y.z"}, {"Bad Name": "v"}, {"Bad:Name": "v"}, {"": "v"}],
)
def test_extra_headers_cannot_replace_or_forge_ours(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        build(extra_headers=headers)


# --- header injection ---------------------------------------------------------------------


def test_a_subject_with_crlf_cannot_add_a_header() -> None:
    rendered = RenderedEmail("Weekly\r\nBcc: evil@x.com", "text\n", "<p>html</p>")
    raw = to_bytes(build(rendered=rendered))
    assert not re.search(rb"^Bcc:", raw, re.M | re.I)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Weekly Bcc: evil@x.com"


def test_a_display_name_with_crlf_stays_inside_the_name() -> None:
    to_addr = format_address("Ben\r\nBcc: evil@x.com", "ben@example.com")
    raw = to_bytes(build(to_addr=to_addr))
    assert not re.search(rb"^Bcc:", raw, re.M | re.I)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ben Bcc: evil@x.com", "ben@example.com")


@pytest.mark.parametrize(
    "to_addr",
    ["Ben\r\nBcc: evil@x.com <ben@example.com>", "a@example.com, b@example.com", "nobody",
     ""],
)
def test_an_address_that_is_not_exactly_one_mailbox_is_refused(to_addr: str) -> None:
    with pytest.raises(ValueError):
        build(to_addr=to_addr)


def test_a_task_title_with_a_header_line_stays_in_the_body() -> None:
    tricky = task("T-60", "Evil\r\nSubject: x\r\nBcc: evil@x.com", None)
    rendered = render_agenda(make_view(due_soon=(tricky,)))
    raw = to_bytes(build(rendered=rendered))
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_all("Subject") == ["1:1 with José Núñez: check-in agenda"]
    assert message["Bcc"] is None
    plain = message.get_body(("plain",))
    assert plain is not None
    assert "[T-60] Evil Subject: x Bcc: evil@x.com — 0%" in plain.get_content()


# --- non-ASCII ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["José Núñez", "王芳", "Zoë O'Brien-Łukasz"])
def test_non_ascii_names_are_encoded_words_and_decode_back(name: str) -> None:
    message = build(
        rendered=RenderedEmail(f"1:1 with {name}: check-in agenda", "x\n", "<p>x</p>"),
        from_addr=format_address(f"Drumbeat for {name}", "drumbeat@drumbeat.example.com"),
        to_addr=format_address(name, "person@example.com"),
    )
    raw = to_bytes(message)
    assert b"=?utf-8?" in raw
    back = email.message_from_bytes(raw, policy=policy.default)
    assert back["To"].addresses[0].display_name == name
    assert back["From"].addresses[0].display_name == f"Drumbeat for {name}"
    assert back["Subject"] == f"1:1 with {name}: check-in agenda"


def test_non_ascii_bodies_survive() -> None:
    rendered = RenderedEmail("s", "王芳 — █████░░░░░ 50% 📈\n", "<p>王芳 📈</p>")
    message = parsed(build(rendered=rendered))
    plain = message.get_body(("plain",))
    assert plain is not None and "王芳 — █████░░░░░ 50% 📈" in plain.get_content()


# --- refusals and ids -------------------------------------------------------------------------


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError):
        build(date=datetime(2026, 12, 2, 7, 0))


@pytest.mark.parametrize("bad", ["", "agenda@x", "<no-at-sign>", "<a b@c>", "<a@b>\r\nBcc: x@y"])
def test_malformed_message_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        build(message_id=bad)
    with pytest.raises(ValueError):
        build(references=[ROOT, bad])


def test_unknown_auto_submitted_values_are_refused() -> None:
    with pytest.raises(ValueError):
        build(auto_submitted="no")


def test_message_ids_are_unique_and_name_their_kind_and_domain() -> None:
    first, second = make_message_id(DOMAIN, "agenda"), make_message_id(DOMAIN, "agenda")
    assert first != second
    assert re.fullmatch(rf"<[^<>@\s]+\.agenda@{re.escape(DOMAIN)}>", first)


def test_the_thread_root_is_stable_per_pair() -> None:
    assert thread_root_id(7, 12, DOMAIN) == "<checkin.7.12@drumbeat.example.com>"
    assert thread_root_id(7, 12, DOMAIN) == ROOT != thread_root_id(12, 7, DOMAIN)
    parsed(build(message_id=make_message_id(DOMAIN, "agenda"), in_reply_to=ROOT))


def test_date_header_keeps_the_offset() -> None:
    message = parsed(build(date=WHEN.astimezone(UTC)))
    assert message["Date"].datetime == WHEN


# --- inline images and attachments (evaluation digests) ---------------------------------------

PIXEL = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
         b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe"
         b"\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND\xaeB`\x82")
CHART = InlineImage("goals.2026-q4@drumbeat.digest", "goal-progress.png", PIXEL)
TIMELINE = InlineImage("checkins.2026-q4@drumbeat.digest", "checkins.png", PIXEL + b"\x00")
FIGURES = AttachedFile("drumbeat-2026-Q4.csv", "text/csv; charset=utf-8",
                     "\ufeffName,Adherence (%)\r\nZoë,41.7\r\n".encode())
WITH_IMAGES = RenderedEmail("Drumbeat · 2026-Q4 evaluation", "Figures\n",
                            '<p>Figures</p><img src="cid:goals.2026-q4@drumbeat.digest" alt="x">')


def tree(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def test_images_and_attachments_make_mixed_alternative_related() -> None:
    message = parsed(build(rendered=WITH_IMAGES, inline_images=[CHART, TIMELINE],
                           attachments=[FIGURES]))
    assert tree(message) == ["multipart/mixed", "multipart/alternative", "text/plain",
                             "multipart/related", "text/html", "image/png", "image/png",
                             "text/csv"]
    # the headers stay on the outer message
    assert message["Subject"] == "Drumbeat · 2026-Q4 evaluation"
    assert message["Message-ID"] == "<agenda.42@drumbeat.example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == "Figures\n"
    assert html is not None and 'src="cid:goals.2026-q4@drumbeat.digest"' in html.get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert [p["Content-ID"] for p in images] == [f"<{CHART.cid}>", f"<{TIMELINE.cid}>"]
    assert [p.get_content() for p in images] == [CHART.png, TIMELINE.png]
    assert [p.get_content_disposition() for p in images] == ["inline", "inline"]
    assert [p.get_filename() for p in images] == ["goal-progress.png", "checkins.png"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "drumbeat-2026-Q4.csv"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_payload(decode=True) == FIGURES.data  # BOM and CRLF intact


def test_images_alone_make_alternative_with_related_html() -> None:
    message = parsed(build(rendered=WITH_IMAGES, inline_images=[CHART]))
    assert tree(message) == ["multipart/alternative", "text/plain", "multipart/related",
                             "text/html", "image/png"]
    assert list(message.iter_attachments()) == []


def test_attachments_alone_make_mixed_around_alternative() -> None:
    message = parsed(build(attachments=[FIGURES, AttachedFile("a.bin", "application/pdf",
                                                            b"%PDF-1.4")]))
    assert tree(message) == ["multipart/mixed", "multipart/alternative", "text/plain",
                             "text/html", "text/csv", "application/pdf"]
    assert [a.get_filename() for a in message.iter_attachments()] == [
        "drumbeat-2026-Q4.csv", "a.bin"]


def test_no_images_or_attachments_keep_the_agenda_shape() -> None:
    assert tree(parsed(build(inline_images=(), attachments=()))) == [
        "multipart/alternative", "text/plain", "text/html"]


@pytest.mark.parametrize("cid", ["", "no-at-sign", "a b@c", "a@b>\r\nBcc: x@y", "<a@b"])
def test_a_malformed_content_id_is_refused(cid: str) -> None:
    with pytest.raises(ValueError):
        build(inline_images=[InlineImage(cid, "x.png", PIXEL)])


def test_a_content_id_used_twice_is_refused() -> None:
    with pytest.raises(ValueError):
        build(inline_images=[CHART, InlineImage(CHART.cid.upper(), "y.png", PIXEL)])


@pytest.mark.parametrize("content_type", ["csv", "text/", "text/csv; charset", "multipart/mixed",
                                          "text/csv\r\nBcc: x@y.z", "text/csv; a=b\nc"])
def test_a_malformed_content_type_is_refused(content_type: str) -> None:
    with pytest.raises(ValueError):
        build(attachments=[AttachedFile("x.csv", content_type, b"a")])


def test_attachment_names_are_bare_one_line_file_names() -> None:
    message = parsed(build(attachments=[
        AttachedFile("../../etc/pass\r\nwd.csv", "text/csv", b"a"),
        AttachedFile("Zoë's figures.csv", "text/csv", b"b"),
        AttachedFile("", "text/csv", b"c"),
    ]))
    names = [a.get_filename() for a in message.iter_attachments()]
    assert names == ["_.._etc_pass wd.csv", "Zoë's figures.csv", "attachment"]
    assert message["Bcc"] is None
