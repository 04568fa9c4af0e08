"""Classification: automatic mail first (never answered), then forwards, replies, other.

Every fixture in tests/fixtures/mime has its expected kind here, so adding a
fixture without deciding what it is fails the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mail.read.classify as rules
from mail.read.classify import Classification, Kind, classify
from mail.read.message import ParsedMessage, parse_message

FIXTURES = Path(__file__).parent / "fixtures" / "mime"


def kind_of(raw: bytes) -> Classification:
    return classify(parse_message(raw), raw)


def fixture(name: str) -> Classification:
    return kind_of((FIXTURES / name).read_bytes())


def mail(headers: str, body: str = "T-1 done\n") -> bytes:
    return (headers.strip() + "\n\n" + body).encode()


EXPECTED = {
    # bounces: (kind, words in the reason, bounced addresses)
    "dsn_postfix_user_unknown.eml": (
        Kind.BOUNCE, "DSN for bob.nobody@example.org", ("bob.nobody@example.org",)),
    "exchange_ndr.eml": (
        Kind.BOUNCE, "DSN for carol.gone@fabrikam.com", ("carol.gone@fabrikam.com",)),
    "exim_x_failed_recipients.eml": (
        Kind.BOUNCE, "X-Failed-Recipients: dave@example.net", ("dave@example.net",)),
    "qmail_failure_notice.eml": (
        Kind.BOUNCE, "delivery failure notice from mailer-daemon@mx.example.net for "
        "erin.old@example.net", ("erin.old@example.net",)),
    # automatic mail
    "gmail_out_of_office_german.eml": (Kind.AUTO_REPLY, "Auto-Submitted: auto-replied", ()),
    "rfc3834_auto_replied.eml": (Kind.AUTO_REPLY, "Auto-Submitted: auto-replied (vacation)", ()),
    "exchange_automatic_reply_subject_only.eml": (
        Kind.AUTO_REPLY, "out-of-office subject: 'Automatic reply: Your weekly check-in'", ()),
    "ooo_subject_only_french.eml": (Kind.AUTO_REPLY, "out-of-office subject", ()),
    "read_receipt_mdn.eml": (Kind.AUTO_REPLY, "report-type=disposition-notification", ()),
    "mailing_list_digest.eml": (Kind.AUTO_REPLY, "mailing list (List-Id: Team discussion", ()),
    "mailing_list_reply.eml": (Kind.AUTO_REPLY, "mailing list (List-Id: <team.googlegroups", ()),
    "noreply_notification.eml": (Kind.AUTO_REPLY, "sent from no-reply@accounts.example.com", ()),
    "return_path_null_autoresponder.eml": (Kind.AUTO_REPLY, "Return-Path: <>", ()),
    # forwards
    "forward_gmail.eml": (Kind.FORWARD, "subject starts with 'Fwd:'", ()),
    "forward_thunderbird_german.eml": (Kind.FORWARD, "subject starts with 'WG:'", ()),
    "forward_attached_rfc822.eml": (Kind.FORWARD, "an attached message (message/rfc822)", ()),
    "forward_apple_mail_subject_edited.eml": (
        Kind.FORWARD, "forwarded-message header in the body: 'Begin forwarded message:'", ()),
    "forward_outlook_block_no_prefix.eml": (
        Kind.FORWARD, "forwarded header block at the top of the body", ()),
    # replies
    "reply_apple_mail.eml": (
        Kind.REPLY, "In-Reply-To: <agenda.4711.ann@drumbeat.example.com>", ()),
    "reply_outlook_german_aw.eml": (Kind.REPLY, "subject starts with 'AW:'", ()),
    "reply_gmail_quoting_forward.eml": (Kind.REPLY, "In-Reply-To:", ()),
    "reply_with_attachments.eml": (Kind.REPLY, "In-Reply-To:", ()),
    "outlook_html_only_base64.eml": (Kind.REPLY, "In-Reply-To:", ()),
    "iso_2022_jp_subject_and_body.eml": (Kind.REPLY, "In-Reply-To:", ()),
    "gb2312_label_gbk_bytes.eml": (Kind.REPLY, "subject starts with '回复:'", ()),
    "big5_body.eml": (Kind.REPLY, "subject starts with '回覆:'", ()),
    "iso_8859_2_polish.eml": (Kind.REPLY, "subject starts with 'Odp:'", ()),
    "message_id_without_brackets.eml": (Kind.REPLY, "In-Reply-To:", ()),
    # other
    "outlook_new_message_auto_response_suppress.eml": (Kind.OTHER, "no sign", ()),
    "plain_new_message.eml": (Kind.OTHER, "no sign", ()),
    "no_message_id.eml": (Kind.OTHER, "no sign", ()),
    "calendar_invite_outlook.eml": (Kind.OTHER, "no sign", ()),
}  # fmt: skip
OTHER_FIXTURES = {
    "8bit_latin1_headers_unencoded.eml", "8bit_utf8_headers_unencoded.eml",
    "base64_broken_padding.eml", "bogus_charset_name.eml", "encoded_word_split_multibyte.eml",
    "euc_jp_body.eml", "html_only_meta_charset.eml", "koi8r_body.eml",
    "multipart_no_boundary.eml", "shift_jis_body.eml", "truncated_mid_base64.eml",
    "truncated_mid_base64_text_utf8.eml", "utf16_bom_body.eml",
    "windows_1252_mislabelled_latin1.eml",
}  # fmt: skip


def test_every_fixture_has_an_expected_kind() -> None:
    names = {path.name for path in FIXTURES.glob("*.eml")}
    assert names == set(EXPECTED) | OTHER_FIXTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_kind_reason_and_bounced_addresses(name: str) -> None:
    kind, reason, bounced = EXPECTED[name]
    found = fixture(name)
    assert found.kind is kind
    assert reason in found.reason
    assert found.bounced_addresses == bounced


@pytest.mark.parametrize("name", sorted(OTHER_FIXTURES))
def test_charset_fixtures_without_threading_are_other(name: str) -> None:
    assert fixture(name).kind is Kind.OTHER


# --- automatic mail is recognised before anything else ---------------------------------


def test_an_auto_reply_with_reply_headers_is_still_automatic() -> None:
    found = fixture("rfc3834_auto_replied.eml")
    assert found.kind is Kind.AUTO_REPLY  # it has In-Reply-To and "Re:" too


def test_x_auto_response_suppress_alone_is_not_automatic() -> None:
    raw = mail("From: lena@contoso.com\nSubject: RE: check-in\nX-Auto-Response-Suppress: All")
    assert kind_of(raw) == Classification(Kind.REPLY, "subject starts with 'RE:'")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: auto-notified; owner-email=x@example.com", "Auto-Submitted"),
        ("X-Autoreply: yes", "X-Autoreply: yes"),
        ("X-Autorespond: Thanks for your mail", "X-Autorespond"),
        ("X-Autogenerated: Reply", "X-Autogenerated: Reply"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: list", "Precedence: list"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent", "Mailbox Rules Agent"),
        ("List-Unsubscribe: <mailto:leave@lists.example.com>", "mailing list (List-Unsubscribe)"),
        ("List-Id: <team.lists.example.com>", "mailing list (List-Id: <team.lists"),
        ("Return-Path: <>", "Return-Path: <>"),
        ("Return-Path: < >", "Return-Path: <>"),
    ],
)
def test_automatic_headers(header: str, reason: str) -> None:
    found = kind_of(mail(f"From: ann@example.com\nSubject: Re: check-in\n{header}"))
    assert found.kind is Kind.AUTO_REPLY
    assert reason in found.reason


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: no", "Auto-Submitted: No (a person wrote this)", "Precedence: first-class",
     "X-Autoreply: no", "Return-Path: <ann@example.com>", "Auto-Submitted:"],
)  # fmt: skip
def test_headers_that_do_not_make_mail_automatic(header: str) -> None:
    found = kind_of(mail(f"From: ann@example.com\nSubject: Re: check-in\n{header}"))
    assert found.kind is Kind.REPLY


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your weekly check-in", "Out of the office", "Automatic reply: check-in",
        "Automatische Antwort: Ihr Check-in", "Abwesenheitsnotiz", "Réponse automatique : check-in",
        "Absence", "Absence : Votre check-in", "Respuesta automática: check-in",
        "Fuera de la oficina", "Resposta automática: check-in", "Risposta automatica: check-in",
        "Automatisch antwoord: check-in", "Autosvar: check-in", "自動応答: 週次", "Autoreply",
        "Auto: Your weekly check-in", "On vacation", "[Auto-Reply] Your weekly check-in",
        "AUTOMATIC REPLY: check-in", "Automatyczna odpowiedź: check-in", "自动回复: 项目",
    ],
)  # fmt: skip
def test_out_of_office_subjects(subject: str) -> None:
    found = kind_of(mail(f"From: ann@example.com\nSubject: {subject}"))
    assert found.kind is Kind.AUTO_REPLY
    assert "out-of-office subject" in found.reason


@pytest.mark.parametrize(
    "subject",
    ["Absence request for Friday", "On vacation next week, T-12 moved", "Automation ideas",
     "Autumn offsite", "Outstanding items", "Re: Out of office rota"],
)  # fmt: skip
def test_subjects_a_person_writes_are_not_out_of_office(subject: str) -> None:
    assert kind_of(mail(f"From: ann@example.com\nSubject: {subject}")).kind is not Kind.AUTO_REPLY


def test_mailer_daemon_without_a_failure_is_automatic_not_a_bounce() -> None:
    found = kind_of(mail("From: MAILER-DAEMON@mx.example.net\nSubject: Warning", "queue report\n"))
    assert found == Classification(Kind.AUTO_REPLY, "sent from mailer-daemon@mx.example.net")


# --- bounces ---------------------------------------------------------------------------


def test_a_dsn_with_no_failed_recipient_is_a_bounce_without_addresses() -> None:
    raw = mail(
        "From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; "
        'report-type=delivery-status; boundary="b"',
        "--b\nContent-Type: text/plain\n\nDelayed.\n--b\nContent-Type: message/delivery-status\n"
        "\nReporting-MTA: dns; x.example\n\nFinal-Recipient: rfc822; ann@example.com\n"
        "Action: delayed\n\n--b--\n",
    )
    assert kind_of(raw) == Classification(Kind.BOUNCE, "DSN; no failed address found")


def test_x_failed_recipients_is_read_when_flufl_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: object) -> frozenset[bytes]:
        raise AttributeError("detector bug")

    monkeypatch.setattr(rules, "scan_message", broken)
    found = fixture("exim_x_failed_recipients.eml")
    assert found.kind is Kind.BOUNCE
    assert found.bounced_addresses == ("dave@example.net",)


def test_a_bounce_with_8bit_headers_still_names_the_address() -> None:
    raw = (FIXTURES / "dsn_postfix_user_unknown.eml").read_bytes()
    raw = raw.replace(b"(Mail Delivery System)", "(Système de messagerie)".encode("latin-1"))
    assert kind_of(raw).bounced_addresses == ("bob.nobody@example.org",)


def test_bounce_words_from_a_person_are_not_a_bounce() -> None:
    raw = mail("From: ann@example.com\nSubject: Undeliverable parcel", "User unknown, sorry.\n")
    assert kind_of(raw).kind is Kind.OTHER


# --- forwards and replies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Re: x", "RE: x", "re:x", "Re : x", "Re[2]: x", "Re(3): x", "AW: x", "Aw: x", "Antw: x",
     "SV: x", "R: x", "RES: x", "Odp: x", "回复: x", "回复：x", "[team] Re: x", "\u200bRe: x",
     "Re: Fwd: x", "ΑΠ: x", "Отв: x"],
)  # fmt: skip
def test_reply_prefixes(subject: str) -> None:
    assert kind_of(mail(f"From: ann@example.com\nSubject: {subject}")).kind is Kind.REPLY


@pytest.mark.parametrize(
    "subject",
    ["Fwd: x", "FW: x", "Fw: x", "WG: x", "TR: x", "RV: x", "I: x", "Doorst: x", "VS: x",
     "Enc: x", "PD: x", "VL: x", "转发: x", "Fwd: Re: x", "[team] Fwd: x", "\u202eFW: x"],
)  # fmt: skip
def test_forward_prefixes(subject: str) -> None:
    assert kind_of(mail(f"From: ann@example.com\nSubject: {subject}")).kind is Kind.FORWARD


@pytest.mark.parametrize(
    "subject",
    ["Research: results", "Reminder: check-in", "Information: x", "Invoice 12", "Fwdx",
     "Review of Q4", "Ideas: x", "Travel: x"],
)  # fmt: skip
def test_words_that_merely_start_like_a_prefix(subject: str) -> None:
    assert kind_of(mail(f"From: ann@example.com\nSubject: {subject}")).kind is Kind.OTHER


@pytest.mark.parametrize(
    "separator",
    ["---------- Forwarded message ---------", "-------- Forwarded Message --------",
     "---------- Weitergeleitete Nachricht ---------", "Begin forwarded message:",
     "Anfang der weitergeleiteten Nachricht:", "---------- Message transféré ---------"],
)  # fmt: skip
def test_forwarded_message_separators_in_the_body(separator: str) -> None:
    body = f"FYI\n\n{separator}\nFrom: Bob <bob@example.com>\nSubject: notes\n\n- T-1 done\n"
    found = kind_of(mail("From: ann@example.com\nSubject: notes", body))
    assert found.kind is Kind.FORWARD


def test_a_quoted_separator_is_not_a_forward() -> None:
    body = "T-1 done\n\n> ---------- Forwarded message ---------\n> From: bob@example.com\n"
    assert kind_of(mail("From: ann@example.com\nSubject: notes", body)).kind is Kind.OTHER


OUTLOOK_BLOCK = (
    "From: Bob Builder <bob@example.com>\nSent: Thursday, November 26, 2026 10:02 AM\n"
    "To: Ann <ann@example.com>\nSubject: 1:1 notes\n\n- T-12 done\n"
)


@pytest.mark.parametrize(
    "above",
    ["", "FYI\n\n", "Please log these.\n\nAnn\nVP Sales\n\n________________________________\n",
     "-----Original Message-----\n"],
)  # fmt: skip
def test_an_outlook_block_at_the_top_is_a_forward(above: str) -> None:
    found = kind_of(mail("From: ann@example.com\nSubject: notes", above + OUTLOOK_BLOCK))
    assert found.kind is Kind.FORWARD


def test_an_outlook_block_under_a_long_answer_is_not_a_forward() -> None:
    above = "".join(f"T-{n} done\n" for n in range(1, 8)) + "\n"
    found = kind_of(mail("From: ann@example.com\nSubject: notes", above + OUTLOOK_BLOCK))
    assert found.kind is Kind.OTHER


def test_gmx_style_original_message_with_date_first_is_a_forward() -> None:
    body = (
        "-------- Original-Nachricht --------\n"
        "Gesendet: Donnerstag, 26. November 2026 um 10:02 Uhr\n"
        "Von: Bob <bob@example.com>\nAn: ann@example.com\nBetreff: Notizen\n\n- T-1 erledigt\n"
    )
    assert kind_of(mail("From: ann@gmx.de\nSubject: Notizen", body)).kind is Kind.FORWARD


def test_references_without_in_reply_to_make_a_reply() -> None:
    found = kind_of(mail("From: ann@example.com\nSubject: check-in\nReferences: <a@x> <b@x>"))
    assert found == Classification(Kind.REPLY, "References: <b@x>")


def test_a_rule_that_crashes_costs_only_that_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(rules, "_RULES", (broken, rules._reply))
    found = kind_of(mail("From: ann@example.com\nSubject: Re: check-in"))
    assert found.kind is Kind.REPLY


# --- fuzzing: any ParsedMessage, even one no parser would produce --------------------------

TEXT = st.text(max_size=80)
HEADER_NAMES = st.sampled_from(
    ["auto-submitted", "precedence", "content-type", "from", "list-id", "return-path",
     "x-failed-recipients", "x-autoreply", "x-ms-exchange-message-is-ndr"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    subject=TEXT,
    text=st.none() | st.text(max_size=2000),
    html=st.none() | st.text(max_size=2000),
    headers=st.dictionaries(HEADER_NAMES, TEXT, max_size=5),
    in_reply_to=st.none() | TEXT,
    raw=st.binary(max_size=300),
)
def test_fuzz_classify_never_raises(
    subject: str,
    text: str | None,
    html: str | None,
    headers: dict[str, str],
    in_reply_to: str | None,
    raw: bytes,
) -> None:
    message = ParsedMessage(
        message_id="<x@y>", has_message_id=True, from_addr=headers.get("from"), from_name=None,
        reply_to=(), to=(), cc=(), subject=subject, date=None, in_reply_to=in_reply_to,
        references=(), headers=headers, text=text, html=html, attachments=(),
        attached_messages=(), calendar=(), defects=(), size=len(raw),
    )  # fmt: skip
    found = classify(message, raw)
    assert found.kind in set(Kind)
    assert found.reason
