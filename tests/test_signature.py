"""Signatures without a ``-- `` line: what a person sees is their update without the block
their client or company appends, and never without a line they wrote.

Each shape is pinned end to end (``extract_reply``, what ``drumbeat inspect`` shows), and the
entry point itself (``strip_signature``) on the cases where what was cut matters. Talon's
own signature fixtures (tests/fixtures/corpora/talon-signatures, Apache-2.0) are read as
they are, with the sender talon gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mail.read.html_text import html_to_reply_text, strip_html_quotes
from mail.read.reply_text import extract_reply
from mail.read.signature import SignatureCut, strip_signature

TALON = Path(__file__).resolve().parent / "fixtures" / "corpora" / "talon-signatures"
UPDATE = "T-12 60% drafted the intro\nmet: yes"


def reply(text: str, sender: str | None = None) -> str:
    return extract_reply(text, sender_name=sender).text


# -- HTML: the containers clients mark ------------------------------------------------------

OWA_QUOTE = (
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
    '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Drumbeat &lt;drumbeat@x.example&gt;<br>'
    "<b>Sent:</b> Wednesday, December 2, 2026 8:00 AM<br><b>Subject:</b> agenda</div>"
    "<div>[T-12] Draft the pricing memo</div>"
)


def test_outlook_on_the_web_signature_div_is_not_new_text() -> None:
    html = (
        '<div id="divtagdefaultwrapper" dir="ltr"><p>T-12 60% drafted the intro</p>'
        '<p>met: yes</p><p><br></p><div id="Signature"><div id="divtagdefaultwrapper">'
        "<p>Ben Okafor<br>Senior Pricing Analyst<br>Northwind Traders</p></div></div></div>"
        + OWA_QUOTE
    )
    text = extract_reply(None, html).text
    assert [line for line in text.splitlines() if line] == UPDATE.splitlines()


def test_outlook_web_signature_requoted_with_x_prefix_is_not_new_text() -> None:
    html = (
        '<div class="x_elementToProof">T-12 60% drafted the intro</div><div>met: yes</div>'
        '<div id="x_Signature"><p>Ben Okafor (he/him)</p><p>+34 612 345 678</p></div>'
        + OWA_QUOTE
    )
    assert extract_reply(None, html).text == UPDATE


def test_gmail_signature_block_and_its_prefix_are_not_new_text() -> None:
    html = (
        '<div dir="ltr"><div>T-12 60% drafted the intro</div><div>met: yes</div>'
        '<span class="gmail_signature_prefix">-- </span><br>'
        '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">'
        "<div>Ann Lee</div><div>Head of Product, Acme</div></div></div>"
        '<div class="gmail_quote"><div class="gmail_attr">On Wed, 2 Dec 2026 at 08:00, '
        "Drumbeat &lt;drumbeat@x.example&gt; wrote:</div>"
        "<blockquote>[T-12] Draft</blockquote></div>"
    )
    assert extract_reply(None, html).text == UPDATE
    assert "Ann Lee" not in html_to_reply_text(html)


def test_gmail_smartmail_attribute_alone_marks_a_signature() -> None:
    html = (
        "<div>T-12 60% drafted the intro</div><div>met: yes</div>"
        '<div data-smartmail="gmail_signature">Ann Lee | Acme</div>'
    )
    assert extract_reply(None, html).text == UPDATE


def test_thunderbird_signature_div_is_not_new_text() -> None:
    html = (
        "<p>T-12 60% drafted the intro<br>met: yes</p>"
        '<div class="moz-signature">Ann Lee<br>Acme GmbH</div>'
    )
    assert extract_reply(None, html).text == UPDATE
    assert "Ann Lee" not in strip_html_quotes(html)


def test_the_plain_part_loses_the_signature_its_html_twin_marks() -> None:
    """Outlook on the web sends both parts; only the HTML says where the signature is."""
    signature = [
        "Ben Okafor",
        "Senior Pricing Analyst | Northwind Traders",
        "Join us at the Pricing Summit in Madrid this spring, we would love to see you there",
    ]
    plain = "\n".join([*UPDATE.splitlines(), "", *signature, "", "_" * 32, "From: Drumbeat",
                       "Sent: Wednesday, December 2, 2026 8:00 AM", "Subject: agenda", "",
                       "[T-12] Draft the pricing memo"])
    html = (
        "<div>T-12 60% drafted the intro</div><div>met: yes</div><div><br></div>"
        '<div id="Signature"><div id="divtagdefaultwrapper">'
        + "".join(f"<p>{line}</p>" for line in signature) + "</div></div>" + OWA_QUOTE
    )
    result = extract_reply(plain, html)
    assert result.text == UPDATE
    assert result.signature == "\n".join(signature)
    # without the HTML, the invitation reads as something said: it is kept
    assert signature[-1] in extract_reply(plain).text
    # and a postscript typed under the signature is something said too
    ps = "PS: the vendor called again about it"
    with_ps = plain.replace("\n\n" + "_" * 32, f"\n{ps}\n\n" + "_" * 32)
    assert extract_reply(with_ps, html).text.endswith(ps)


def test_a_marked_signature_that_does_not_match_the_plain_part_cuts_nothing() -> None:
    html = '<div>T-12 done</div><div id="Signature"><p>Someone Else</p><p>Other Co</p></div>'
    assert extract_reply("T-12 done\n\nSee you on Friday\nAnn Lee", html).text.endswith(
        "See you on Friday\nAnn Lee"
    )


def test_a_signature_container_holding_a_command_is_read() -> None:
    """Someone typed their update inside the signature block: losing it is worse."""
    html = '<div>Hi,</div><div id="Signature"><p>T-12 done</p><p>Ben Okafor</p></div>'
    assert "T-12 done" in extract_reply(None, html).text


# -- plain text: a company block under the sign-off, in many languages -------------------

COMPANY_BLOCKS = {
    "en": """Best regards,

John Smith
Head of Operations
Acme Widgets Ltd
1 Main Street, London EC1A 1BB
Tel: +44 20 7946 0000 | Mobile: +44 7700 900123
www.acme.example
""" + "Acme Widgets Ltd · Registered in England No. 01234567 · Registered office: "
    "1 Main Street, London EC1A 1BB · VAT GB 123 4567 89",
    "de": """Mit freundlichen Grüßen

Ben Okafor
Senior Pricing Analyst

Northwind Traders GmbH
Leopoldstraße 12, 80802 München
Tel.: +49 89 1234 5678

""" + "Northwind Traders GmbH · Sitz: München · Registergericht: Amtsgericht München "
    "HRB 123456 · Geschäftsführerin: Anna Schmidt",
    "fr": """Cordialement,

Marie Dupont
Responsable des achats
Exemple SAS
12 rue de la Paix, 75002 Paris
Tél. : +33 1 23 45 67 89
SIRET 123 456 789 00012 – RCS Paris B 123 456 789""",
    "es": """Saludos,
Juan García
Director Comercial
Ejemplo S.L.
Calle Mayor 5, 28013 Madrid
Tel. +34 912 345 678
CIF B12345678""",
    "pt": """Atenciosamente,

João Silva
Gerente de Projetos
Exemplo Ltda.
Rua Augusta, 100 - São Paulo - SP, 01304-000
Tel: +55 11 3456-7890
CNPJ 12.345.678/0001-90""",
    "ja": """よろしくお願いします。

山田 太郎
株式会社サンプル 営業部
〒100-0001 東京都千代田区千代田1-1
TEL: 03-1234-5678
yamada@example.co.jp""",
    "cs": """S pozdravem

Jan Novák
obchodní ředitel
Příklad s.r.o.
Václavské náměstí 1, 110 00 Praha 1
Tel.: +420 123 456 789
IČO: 12345678, DIČ: CZ12345678""",
    "nl": """Met vriendelijke groet,

Pieter de Vries
Projectleider
Voorbeeld B.V.
Keizersgracht 1, 1015 CJ Amsterdam
T +31 20 123 4567
KvK 12345678""",
    "zh": """此致
敬礼

张伟
市场部经理
示例科技有限公司
电话：+86 10 1234 5678
zhang.wei@example.cn""",
}


@pytest.mark.parametrize("language", sorted(COMPANY_BLOCKS))
def test_company_block_under_the_sign_off_is_cut(language: str) -> None:
    block = COMPANY_BLOCKS[language]
    result = extract_reply(f"{UPDATE}\n\n{block}")
    assert result.text == UPDATE
    assert result.signature == block.strip()


def test_strip_signature_says_what_it_cut() -> None:
    lines = [*UPDATE.splitlines(), "", *COMPANY_BLOCKS["de"].splitlines()]
    found = strip_signature(lines, is_command=lambda line: line.startswith(("T-", "met:")))
    assert found == SignatureCut(kept=tuple(lines[:3]), cut=tuple(lines[3:]))


def test_a_block_under_a_drawn_line_is_cut_when_it_holds_contacts() -> None:
    text = f"{UPDATE}\n\n----------\nAnn Lee\nann@acme.example\n+1 555 123 4567"
    assert reply(text) == UPDATE


def test_a_name_and_two_contacts_as_the_last_paragraph_are_cut() -> None:
    text = f"{UPDATE}\n\nGina Lee\ngina@example.com\n(555) 346-9947\nwww.example.com"
    assert reply(text) == UPDATE


def test_someone_elses_contact_block_is_an_answer() -> None:
    text = f"{UPDATE}\n\nJohn Roe\njohn@vendor.example\n+1 555 123 4567"
    assert reply(text, sender="Ann Lee") == text
    assert reply(text, sender="John Roe") == UPDATE


def test_the_senders_name_with_pronouns_opens_a_signature() -> None:
    text = f"{UPDATE}\n\nBen Okafor (he/him)\nSenior Pricing Analyst\nNorthwind Traders"
    assert reply(text, sender="Ben Okafor") == UPDATE


# -- plain text: what must never be cut ------------------------------------------------------


def test_a_command_under_the_sign_off_is_not_cut() -> None:
    text = "Thanks,\nAnn\nT-12 60% drafted the intro\nmet: yes"
    assert reply(text, sender="Ann Lee") == text


def test_a_command_inside_a_company_block_stops_the_cut() -> None:
    text = f"{UPDATE}\n\nBest regards,\nAnn Lee\nT-14 done\nAcme GmbH\n+49 30 1234567"
    assert "T-14 done" in reply(text)


def test_prose_after_thanks_is_not_cut() -> None:
    text = "T-12 60%\n\nThanks,\nWill send the deck tomorrow\nAnn"
    assert reply(text).startswith("T-12 60%\n\nThanks,\nWill send the deck tomorrow")


def test_a_sentence_after_the_sign_off_keeps_the_block() -> None:
    """Talon cuts this as a signature; we keep it: the middle line is something said."""
    text = (
        "Call me ASAP, please. This is about the last changes you deployed.\n\n"
        "Thanks in advance,\nsome text which doesn't seem to be a signature at all\nBob"
    )
    assert "some text which doesn't seem to be a signature at all" in reply(text)


def test_a_contact_line_in_prose_is_not_a_signature() -> None:
    text = (
        f"{UPDATE}\n\nThanks!\nThe vendor moved the call to Friday, ring me on "
        "+49 30 1234567 if that is a problem."
    )
    assert reply(text) == text


def test_a_drawn_line_over_prose_is_not_a_signature() -> None:
    text = f"{UPDATE}\n\n---\nNotes From Friday\nBudget Review"
    assert reply(text) == text


def test_sentences_with_contacts_are_not_a_contact_block() -> None:
    text = (
        f"{UPDATE}\n\nVendor Call\nRing them at +49 30 1234567 before noon please\n"
        "or write to sales@acme.example when nobody answers"
    )
    assert reply(text) == text


def test_a_reply_that_is_only_a_sign_off_keeps_it() -> None:
    assert reply("Thanks!\nAnn") == "Thanks!\nAnn"


# -- talon's signature fixtures ------------------------------------------------------------


def talon_case(name: str) -> tuple[str, str, str]:
    folder = TALON / "stripped"
    body, sender, signature = (
        (folder / f"{name}_{part}").read_text(encoding="utf-8")
        for part in ("body", "sender", "signature")
    )
    return body, sender.strip(), signature.strip()


@pytest.mark.parametrize("name", ["camel_case", "jeff", "long", "short_url", "sparse"])
def test_talon_signature_fixture(name: str) -> None:
    body, sender, signature = talon_case(name)
    result = extract_reply(body, sender_name=sender)
    expected = body.strip()[: len(body.strip()) - len(signature)].strip()
    assert result.text == expected
    if signature:
        assert signature.splitlines()[-1] in result.removed


def test_talon_unicode_fixture_russian_sign_off() -> None:
    first, _, body = (TALON / "P" / "unicode_msg").read_text(encoding="utf-8").partition("\n")
    result = extract_reply(body, sender_name=first.removeprefix("From:").strip())
    assert result.text.endswith("ответьте на это письмо.")
    assert "С уважением," in result.removed
