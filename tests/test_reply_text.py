"""The new text of a reply, one behaviour per test, in the shapes real clients send.

Plain-text bodies are written the way each client writes them (Gmail quotes with
``>`` and an "On … wrote:" line, Outlook quotes nothing under a From/Sent block,
Yahoo writes the original unmarked); HTML bodies carry each client's quote markup.
``AGENDA`` is the plain agenda as ``templates/agenda.txt.j2`` renders it, so the
"we know exactly what we sent" rule is tested with the lines we really send.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.read import reply_text
from mail.read.html_text import html_to_reply_text, html_to_text, strip_html_quotes
from mail.read.reply_text import ReplyText, extract_reply

AGENDA = """\
Hi Ben Okafor, your 1:1 with José Núñez is on Thu 3 Dec at 10:00 (week 49).

YOUR TASKS

Overdue (1)
[T-40] Collect churn data — 30%, due Fri 27 Nov (5 days overdue) · P-7 Mid-market pricing

Due before the next check-in (2)
[T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7 Mid-market pricing
[T-43] Share the memo with finance — 0%, due Wed 2 Dec (today) · P-8 Finance sync

Blocked (1)
[T-9] Get legal sign-off — 20%, due Thu 10 Dec; blocked: waiting on legal · P-7 Mid-market pricing

YOUR GOALS

[G-3] Grow mid-market revenue
    █████░░░░░ 48%

CHECK-INS

Last 1:1: Thu 26 Nov.
2026-Q4 so far: 3 of 5 check-ins held, 60%.

HOW TO REPLY

Reply to this email with one line per update, for example:

    T-40 50% drafted the intro
    T-42 done
    met: yes
    skip: vacation

Quoted text, including this agenda, is ignored, except that a line written right under a \
quoted [T-…] line applies to that task. You will get a short confirmation of every change.
"""
SENT = AGENDA.split("\n")
T42 = "[T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7 Mid-market pricing"
T43 = "[T-43] Share the memo with finance — 0%, due Wed 2 Dec (today) · P-8 Finance sync"
GMAIL_ON = "On Wed, Dec 2, 2026 at 9:00 AM Drumbeat <checkin+abc@drumbeat.example> wrote:"
OUTLOOK_BLOCK = """\
________________________________
From: Drumbeat <checkin+abc@drumbeat.example>
Sent: Wednesday, December 2, 2026 9:00 AM
To: Ben Okafor <ben@example.com>
Subject: 1:1 with José Núñez: check-in agenda
"""


def quote(text: str, prefix: str = "> ") -> str:
    return "\n".join(f"{prefix}{line}".rstrip() for line in text.split("\n"))


def with_answer(agenda: str, line: str, answer: str) -> str:
    """The agenda with ``answer`` typed on the line under ``line``."""
    assert line in agenda
    return agenda.replace(line, f"{line}\n{answer}", 1)


def reply(text: str | None = None, html: str | None = None, **kwargs: object) -> ReplyText:
    return extract_reply(text, html, **kwargs)  # type: ignore[arg-type]


# -- Gmail and other clients that quote with ">" ------------------------------------------


def test_gmail_top_post_cuts_at_on_wrote() -> None:
    result = reply(f"T-42 60% drafted the intro\nmet: yes\n\n{GMAIL_ON}\n\n{quote(AGENDA)}")
    assert result.text == "T-42 60% drafted the intro\nmet: yes"
    assert result.inline == ()
    assert GMAIL_ON in result.removed


def test_gmail_attribution_wrapped_over_two_lines_is_cut() -> None:
    wrapped = "On Wed, Dec 2, 2026 at 9:00 AM Drumbeat <\ncheckin+abc@drumbeat.example> wrote:"
    assert reply(f"T-42 done\n\n{wrapped}\n\n{quote(AGENDA)}").text == "T-42 done"


def test_attribution_wrapped_with_a_quoted_wrote_line_is_cut() -> None:
    attribution = "On Thu, 31 Mar 2016 at 11:16 Ann\n\n<\nmailto:Ann <ann@x.org>\n> wrote:"
    text = f"T-42 done\n\n{attribution}\n\nold"
    assert reply(text).text == "T-42 done"


def test_attribution_right_under_the_last_line_of_text_keeps_that_line() -> None:
    text = (
        "T-42 done, I will tell you more then...\n"
        "Op 16 aug. 2026 05:13 schreef Drumbeat\n<c@d.e> het volgende geschreven:\n\n> x"
    )
    assert reply(text).text == "T-42 done, I will tell you more then..."


def test_prose_on_line_with_a_date_is_not_an_attribution() -> None:
    text = "On Monday 3 Dec I wrote the memo\nand T-42 is done."
    assert reply(text).text == text


def test_inline_answer_under_quoted_task_line() -> None:
    body = with_answer(quote(AGENDA), f"> {T42}", "60%, intro drafted")
    result = reply(f"See inline.\n\n{GMAIL_ON}\n{body}")
    assert result.inline == (("T-42", "60%, intro drafted"),)
    assert result.text == "See inline."


def test_inline_answers_under_several_task_lines_keep_their_order() -> None:
    body = with_answer(quote(AGENDA), f"> {T42}", "60%")
    body = with_answer(body, f"> {T43}", "done")
    assert reply(f"{GMAIL_ON}\n{body}").inline == (("T-42", "60%"), ("T-43", "done"))


def test_inline_answer_under_task_line_the_client_wrapped() -> None:
    wrapped = "> [T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7 Mid-market\n> pricing"
    body = quote(AGENDA).replace(f"> {T42}", f"{wrapped}\n60% now")
    assert reply(f"{GMAIL_ON}\n{body}").inline == (("T-42", "60% now"),)


def test_inline_answer_may_sit_after_blank_lines() -> None:
    assert reply(f"> {T42}\n\n60%\n\n> {T43}").inline == (("T-42", "60%"),)


def test_inline_answer_lines_are_joined_and_end_at_a_blank_line() -> None:
    result = reply(f"> {T42}\nintro drafted, numbers\npending from finance\n\nSee you Thursday")
    assert result.inline == (("T-42", "intro drafted, numbers pending from finance"),)
    assert result.text == "See you Thursday"


def test_inline_answer_under_quoted_line_starting_with_a_bare_ref() -> None:
    assert reply("> T-42 Draft the pricing memo\ndone").inline == (("T-42", "done"),)


def test_inline_answer_under_task_line_quoted_twice() -> None:
    assert reply(f"> > {T42}\n70%").inline == (("T-42", "70%"),)


def test_command_under_quoted_task_line_stays_text() -> None:
    result = reply(f"> {T42}\n60%\nT-43 done\nmet: yes")
    assert result.inline == (("T-42", "60%"),)
    assert result.text == "T-43 done\nmet: yes"


def test_text_under_quoted_question_stays_text() -> None:
    result = reply("> Can you send the deck before Thursday?\nYes, tomorrow morning.")
    assert result.text == "Yes, tomorrow morning."
    assert result.inline == ()


def test_quoted_agenda_without_answers_gives_nothing() -> None:
    result = reply(quote(AGENDA))
    assert (result.text, result.inline) == ("", ())


def test_bottom_posting_keeps_the_new_text_after_the_quote() -> None:
    text = f"{GMAIL_ON}\n{quote(AGENDA)}\n\nT-42 done\nmet: yes\n\n-- \nBen"
    assert reply(text).text == "T-42 done\nmet: yes"


def test_interleaved_reply_drops_only_the_attribution() -> None:
    text = f"Answers below.\n\n{GMAIL_ON}\n\n> Are we still on for Thursday?\n\nYes, 10:00 works."
    assert reply(text).text == "Answers below.\n\nYes, 10:00 works."


def test_attribution_followed_by_quote_and_signature_cuts_everything() -> None:
    text = f"T-42 done\n\n{GMAIL_ON}\n> {T42}\n\n-- \nBen Okafor\nPricing analyst"
    assert reply(text).text == "T-42 done"


def test_signature_above_the_quote_still_leaves_inline_answers() -> None:
    body = with_answer(quote(AGENDA), f"> {T42}", "60%")
    result = reply(f"See inline\n-- \nBen Okafor\n\n{GMAIL_ON}\n{body}")
    assert result.text == "See inline"
    assert result.inline == (("T-42", "60%"),)


def test_apple_mail_plain_reply_is_cut() -> None:
    text = f"T-42 done\n\n> On 2 Dec 2026, at 09:00, Drumbeat <c@d.e> wrote:\n>\n{quote(AGENDA)}"
    assert reply(text).text == "T-42 done"


def test_thunderbird_plain_reply_with_signature_below_the_quote_is_cut() -> None:
    text = f"T-42 done\n\nOn 02.12.26 09:00, Drumbeat wrote:\n{quote(AGENDA)}\n\n-- \nBen Okafor"
    assert reply(text).text == "T-42 done"


def test_nested_quotes_at_any_depth_are_removed() -> None:
    assert reply("Fine.\n\n>>> deep\n> > spaced\n>>no space\n   > indented").text == "Fine."


def test_pipe_quoted_block_is_removed() -> None:
    assert reply("T-42 done\n\n| old line one\n|\n| old line two").text == "T-42 done"


def test_a_single_pipe_line_is_text() -> None:
    assert reply("| not a quote").text == "| not a quote"


def test_supercite_name_quotes_are_removed() -> None:
    assert reply("T-42 done\nC> old one\nC> old two\nafter").text == "T-42 done\nafter"


# -- Outlook: unquoted originals under a header block ------------------------------------


def test_outlook_desktop_from_sent_block_is_cut() -> None:
    text = f"T-42 done\n\nBen Okafor\n\n{OUTLOOK_BLOCK}\n{AGENDA}"
    result = reply(text)
    assert result.text == "T-42 done\n\nBen Okafor"
    assert "T-40 50% drafted the intro" in result.removed


def test_outlook_bold_header_block_after_dashes_is_cut() -> None:
    block = "*From:* Drumbeat\n*Sent:* 2026-12-02\n*To:* Ben\n*Subject:* agenda"
    text = f"T-42 done\n\n\n ------------------------------\n\n{block}\n\n{AGENDA}"
    assert reply(text).text == "T-42 done"


def test_outlook_one_line_header_is_cut() -> None:
    header = "From: Drumbeat <c@d.e> Sent: Wednesday, December 2, 2026 To: Ben Subject: agenda"
    assert reply(f"T-42 done\n{header}\n{AGENDA}").text == "T-42 done"


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("german", ("Von", "Gesendet", "An", "Betreff")),
        ("french", ("De ", "Envoyé ", "À ", "Objet ")),
        ("spanish", ("De", "Enviado", "Para", "Asunto")),
        ("portuguese", ("De", "Enviada em", "Para", "Assunto")),
        ("italian", ("Da", "Inviato", "A", "Oggetto")),
        ("dutch", ("Van", "Verzonden", "Aan", "Onderwerp")),
        ("swedish", ("Från", "Skickat", "Till", "Ämne")),
        ("polish", ("Od", "Wysłano", "Do", "Temat")),
        ("russian", ("От", "Отправлено", "Кому", "Тема")),
        ("chinese", ("发件人", "发送时间", "收件人", "主题")),
    ],
)
def test_outlook_localized_header_block_is_cut(language: str, labels: tuple[str, ...]) -> None:
    sender, sent, to, subject = labels
    block = f"{sender}: Drumbeat\n{sent}: 02.12.2026 09:00\n{to}: Ben\n{subject}: agenda"
    assert reply(f"T-42 done\n\n{block}\n\n{AGENDA}").text == "T-42 done", language


def test_outlook_german_von_gesendet_block_is_cut() -> None:
    block = "Von: Drumbeat <c@d.e>\nGesendet: Mittwoch, 2. Dezember 2026 09:00\nAn: Ben\nBetreff: x"
    assert reply(f"T-42 erledigt\n\n{block}\n\n{AGENDA}").text == "T-42 erledigt"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "-------- Original Message --------",
        "*-------- Original Message --------*",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
    ],
)
def test_original_message_separator_is_cut(separator: str) -> None:
    assert reply(f"T-42 done\n\n{separator}\n{AGENDA}").text == "T-42 done"


def test_outlook_inline_answers_under_recognised_agenda_lines() -> None:
    original = with_answer(AGENDA, T42, "60% - intro drafted [BO]")
    result = reply(f"See my answers below.\n\n{OUTLOOK_BLOCK}\n{original}", sent_lines=SENT)
    assert result.text == "See my answers below."
    assert result.inline == (("T-42", "60% - intro drafted [BO]"),)


def test_outlook_answer_typed_on_the_agenda_line_itself() -> None:
    original = AGENDA.replace(T43, f"{T43}   done, sent Tuesday")
    result = reply(f"{OUTLOOK_BLOCK}\n{original}", sent_lines=SENT)
    assert result.inline == (("T-43", "done, sent Tuesday"),)


def test_outlook_unquoted_original_gives_no_answers_without_sent_lines() -> None:
    original = with_answer(AGENDA, T42, "60%")
    assert reply(f"Hi\n\n{OUTLOOK_BLOCK}\n{original}").inline == ()


def test_only_the_message_just_below_the_cut_is_read_for_answers() -> None:
    earlier = with_answer(AGENDA, T42, "60% (answered last week)")
    text = f"T-43 done\n\n{OUTLOOK_BLOCK}\nSee my answers below.\n\n{OUTLOOK_BLOCK}\n{earlier}"
    result = reply(text, sent_lines=SENT)
    assert result.text == "T-43 done"
    assert result.inline == ()


# -- Yahoo: originals without ">" -----------------------------------------------------------


def test_yahoo_unmarked_original_under_on_wrote_is_cut() -> None:
    text = f"T-42 done\n\n\n    {GMAIL_ON}\n\n{AGENDA}"
    result = reply(text)
    assert result.text == "T-42 done"
    assert "T-40 50% drafted the intro" not in result.text


def test_yahoo_original_message_block_with_leading_spaces_is_cut() -> None:
    block = "----- Original Message -----\n  From: Drumbeat\n  To: Ben\n  Sent: Wed\n  Subject: x"
    assert reply(f"T-42 done\n\n{block}\n\n{AGENDA}").text == "T-42 done"


def test_yahoo_inline_answer_under_recognised_agenda_line() -> None:
    original = with_answer(AGENDA, T42, "70%")
    result = reply(f"T-9 done\n\n{GMAIL_ON}\n\n{original}", sent_lines=SENT)
    assert (result.text, result.inline) == ("T-9 done", (("T-42", "70%"),))


# -- "we know exactly what we sent" -------------------------------------------------------


def test_agenda_pasted_back_unquoted_is_never_text() -> None:
    result = reply(f"T-9 done\n\n{AGENDA}", sent_lines=SENT)
    assert result.text == "T-9 done"


def test_example_lines_of_an_unquoted_agenda_are_not_commands() -> None:
    result = reply(f"{AGENDA}\nthanks", sent_lines=SENT)
    assert "T-40 50% drafted the intro" not in result.text
    assert "met: yes" not in result.text


def test_example_command_typed_by_the_person_is_kept() -> None:
    assert reply("T-42 done\nmet: yes", sent_lines=SENT).text == "T-42 done\nmet: yes"


def test_unquoted_agenda_line_anchors_an_inline_answer() -> None:
    result = reply(f"{T42}\n70%, numbers in", sent_lines=SENT)
    assert (result.text, result.inline) == ("", (("T-42", "70%, numbers in"),))


def test_agenda_line_compared_without_case_spaces_and_stars() -> None:
    line = "  [t-42]   Draft the *pricing* memo — 40%, due Fri 4 Dec · P-7 MID-MARKET pricing"
    assert reply(f"{line}\ndone", sent_lines=SENT).inline == (("T-42", "done"),)


def test_agenda_line_wrapped_by_the_client_is_recognised() -> None:
    wrapped = "[T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7\nMid-market pricing"
    result = reply(f"{wrapped}\n80%", sent_lines=SENT)
    assert (result.text, result.inline) == ("", (("T-42", "80%"),))


def test_quoted_example_command_anchors_no_answer() -> None:
    text = f"{GMAIL_ON}\n{quote(AGENDA)}".replace(">     T-42 done", ">     T-42 done\n60%")
    result = reply(text, sent_lines=SENT)
    assert (result.text, result.inline) == ("60%", ())


def test_quoted_example_intro_does_not_hide_a_command_under_it() -> None:
    text = "> Reply to this email with one line per update, for example:\nmet: yes"
    assert reply(text, sent_lines=SENT).text == "met: yes"


# -- signatures, sign-offs, disclaimers -----------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from Outlook for iOS",
        "Sent from Outlook for Android",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/ghei36>",
        "Sent from my Galaxy",
        "Sent from my Samsung Galaxy smartphone.",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Enviado do meu iPhone",
        "Inviato da iPhone",
        "Verzonden vanaf mijn iPhone",
        "Sendt fra min iPad",
        "Skickat från min iPhone",
        "Wysłane z iPhone'a",
        "Отправлено с iPhone",
        "iPhoneから送信",
        "发自我的iPhone",
        "Sent with Proton Mail secure email.",
    ],
)
def test_mobile_signature_cuts(signature: str) -> None:
    text = f"T-42 done\n\n{signature}\n\n{GMAIL_ON}\n{AGENDA}"
    assert reply(text).text == "T-42 done"


def test_iphone_signature_above_quote_is_cut() -> None:
    text = "T-42 done\n\nSent from my iPhone\n\n> On 2 Dec 2026, at 09:00, Drumbeat wrote:\n> x"
    assert reply(text).text == "T-42 done"


def test_sentence_starting_like_a_mobile_signature_naming_a_task_is_kept() -> None:
    assert reply("Sent from my phone: T-42 done").text == "Sent from my phone: T-42 done"


@pytest.mark.parametrize("delimiter", ["-- ", "--", "__", "________________________________"])
def test_signature_delimiter_cuts(delimiter: str) -> None:
    assert reply(f"T-42 done\n{delimiter}\nBen Okafor\n+49 30 1234567").text == "T-42 done"


@pytest.mark.parametrize(
    "closing",
    [
        "Thanks,\nAnn",
        "Thanks!",
        "Best regards,\nAnn Lee\nHead of Sales\n+49 30 1234567",
        "Kind regards\n\nAnn Lee | Northwind\nann@northwind.example\nwww.northwind.example",
        "Cheers, Ann",
        "Viele Grüße\nAnn",
        "Mit freundlichen Grüßen\nAnn Lee",
        "Cordialement,\nAnn Lee",
        "Saludos,\nAnn",
        "Met vriendelijke groet,\nAnn",
        "— Ann",
        "よろしくお願いします。\n山田",
    ],
)
def test_sign_off_and_name_block_are_removed(closing: str) -> None:
    result = reply(f"T-42 done\nmet: yes\n\n{closing}")
    assert result.text == "T-42 done\nmet: yes"
    assert closing.split("\n")[0] in result.removed


def test_command_line_right_before_a_sign_off_is_kept() -> None:
    assert reply("T-42 done\nThanks,\nAnn").text == "T-42 done"


def test_command_inside_a_name_block_keeps_everything() -> None:
    text = "Notes below\nThanks,\nT-43 60%\nAnn"
    assert reply(text).text == text


def test_sign_off_that_is_all_the_reply_says_is_kept() -> None:
    assert reply("Thanks!").text == "Thanks!"


def test_sign_off_under_inline_answers_is_removed() -> None:
    result = reply(f"> {T42}\ndone\n\nThanks,\nBen")
    assert (result.text, result.inline) == ("", (("T-42", "done"),))


@pytest.mark.parametrize(
    "sentence",
    [
        "Thanks for the update, I will check with legal tomorrow.",
        "Best practice is to ask first.",
        "Regards to Bob and the team, who did most of the work on this.",
    ],
)
def test_sentence_starting_like_a_sign_off_is_kept(sentence: str) -> None:
    assert reply(f"T-42 done\n\n{sentence}").text == f"T-42 done\n\n{sentence}"


@pytest.mark.parametrize(
    "disclaimer",
    [
        "This email and any attachments are confidential and intended solely for the "
        "addressee. If you are not the intended recipient, please delete it.",
        "CONFIDENTIALITY NOTICE: This message may contain privileged information.",
        "CONFIDENTIAL\n\nThe information contained in this e-mail is confidential and may "
        "be privileged.",
        "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige "
        "Empfänger sind, informieren Sie bitte sofort den Absender.",
    ],
)
def test_disclaimer_is_removed(disclaimer: str) -> None:
    result = reply(f"T-42 done\n\n{disclaimer}")
    assert result.text == "T-42 done"
    assert disclaimer.split("\n")[0] in result.removed


def test_external_sender_banner_at_the_top_is_removed() -> None:
    banner = "CAUTION: This email originated from outside of the organization. Do not click links."
    assert reply(f"{banner}\n\nT-42 done").text == "T-42 done"


@pytest.mark.parametrize(
    "prose",
    [
        "Sent with the invoice attached.",
        "Caution: the budget is tight.",
        "Disclaimer: I have not checked the numbers yet.",
        "External: the vendor called back.",
        "This message is to say I will be late.",
    ],
)
def test_prose_that_looks_like_a_footer_is_kept(prose: str) -> None:
    assert reply(f"T-42 done\n\n{prose}\n\nmore").text == f"T-42 done\n\n{prose}\n\nmore"


def test_paragraph_naming_a_task_is_never_a_disclaimer() -> None:
    text = "This message is to confirm T-42 is done; the contract stays confidential."
    assert reply(text).text == text


# -- multilingual attributions --------------------------------------------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "Le mer. 2 déc. 2026 à 09:00, Drumbeat <c@d.e> a écrit :",
        'Le 4 janv. 2026 19:03, "Drumbeat"\n<c@d.e>\na écrit :',
        "Am Mi., 2. Dez. 2026 um 09:00 Uhr schrieb Drumbeat <c@d.e>:",
        "Drumbeat <c@d.e> schrieb am Mi., 2. Dez. 2026\num 09:00 Uhr:",
        "El mié, 2 dic 2026 a las 9:00, Drumbeat (<c@d.e>) escribió:",
        "Em qua., 2 de dez. de 2026 às 09:00, Drumbeat <\nc@d.e> escreveu:",
        "Il giorno mer 2 dic 2026 alle ore 09:00 Drumbeat <c@d.e> ha scritto:",
        "Op wo 2 dec 2026 om 09:00 schreef Drumbeat <c@d.e>:",
        "Op 2 dec. 2026 om 09:00 heeft Drumbeat <c@d.e> het volgende geschreven:",
        "2026/12/02 9:00、Drumbeat <c@d.e>のメッセージ:",
        "2026年12月2日(水) 9:00 Drumbeat <c@d.e>:",
        "2026年12月2日 9:00 に Drumbeat <c@d.e> が書きました:",
        "Den 2 dec. 2026 kl. 09:00 skrev Drumbeat <c@d.e>:",
        "Den ons. 2. dec. 2026 kl. 09.00 skrev Drumbeat <c@d.e>:",
        "W dniu 2.12.2026 o 09:00, Drumbeat pisze:",
        "Dnia 2 gru 2026 o godz. 09:00 Drumbeat <c@d.e> napisał(a):",
        "2 дек. 2026 г., в 9:00, Drumbeat <c@d.e> написал(а):",
        "ср, 2 дек. 2026 г. в 09:00, Drumbeat <c@d.e>:",
        "Dne st 2. 12. 2026 9:00 uživatel Drumbeat <c@d.e> napsal:",
        "Drumbeat <c@d.e> 于2026年12月2日周三 09:00写道：",
        "在 2026年12月2日，09:00，Drumbeat <c@d.e> 写道：",
        "2026년 12월 2일 (수) 오전 9:00, Drumbeat <c@d.e>님이 작성:",
        "2013/7/20 Drumbeat <c@d.e>",
        "2016-03-03 17:21 GMT+01:00 Drumbeat",
        "---- On Wed, 02 Dec 2026 09:00:00 +0100 Drumbeat <c@d.e> wrote ----",
        "At 12/2/2026 09:00 AM, you wrote:",
    ],
)
def test_multilingual_attribution_cuts(attribution: str) -> None:
    for original in (quote(AGENDA), AGENDA):  # quoted, and unmarked as Yahoo writes it
        assert reply(f"T-9 done\n\n{attribution}\n\n{original}").text == "T-9 done"


# -- normalising ----------------------------------------------------------------------------


def test_windows_newlines_nbsp_and_zero_width_characters_are_normalized() -> None:
    text = "T-42\u00a0done\r\n\u200bmet: yes\u200f\r\n\r\n> quoted\r\n"
    assert reply(text).text == "T-42 done\nmet: yes"


def test_trailing_lines_without_letters_are_dropped() -> None:
    assert reply("T-42 done\n\n***\nᐧ\n~~~").text == "T-42 done"


def test_removed_holds_what_was_cut() -> None:
    result = reply(f"T-42 done\n\n{GMAIL_ON}\n> old")
    assert result.removed == f"{GMAIL_ON}\n> old"


def test_nothing_at_all_gives_an_empty_reply() -> None:
    assert reply(None) == ReplyText(text="", inline=(), removed="")
    assert reply("", "") == ReplyText(text="", inline=(), removed="")


# -- HTML ---------------------------------------------------------------------------------

HTML_AGENDA = f"<div>Hi Ben</div><div>{T42}</div><div>{T43}</div><div>Quoted text is ignored.</div>"
GMAIL_ATTR = (
    '<div dir="ltr" class="gmail_attr">On Wed, Dec 2, 2026 at 9:00 AM Drumbeat '
    "&lt;c@d.e&gt; wrote:<br></div>"
)


def test_plain_part_is_preferred_over_html() -> None:
    assert reply("T-42 done", "<p>T-43 done</p>").text == "T-42 done"


def test_html_is_read_when_the_plain_part_is_empty() -> None:
    assert reply("  \n", "<p>T-43 done</p>").text == "T-43 done"


def test_html_only_gmail_quote_is_removed() -> None:
    html = (
        f'<div dir="ltr">T-42 done<div>met: yes</div></div><div class="gmail_quote">'
        f'{GMAIL_ATTR}<blockquote class="gmail_quote">{HTML_AGENDA}</blockquote></div>'
    )
    assert reply(None, html).text == "T-42 done\nmet: yes"


def test_html_only_gmail_inline_answer_between_quote_blocks() -> None:
    html = (
        f'<div dir="ltr">See inline</div><div class="gmail_quote">{GMAIL_ATTR}'
        f'<blockquote class="gmail_quote"><div>{T42}</div></blockquote><div>60%, drafted</div>'
        f'<blockquote class="gmail_quote"><div>{T43}</div></blockquote></div>'
    )
    result = reply(None, html)
    assert (result.text, result.inline) == ("See inline", (("T-42", "60%, drafted"),))


def test_html_only_outlook_web_div_rply_fwd_msg_and_all_after_is_cut() -> None:
    html = (
        '<div>T-42 done</div><hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Drumbeat<br><b>Sent:</b> Wed<br>'
        f"<b>To:</b> Ben<br><b>Subject:</b> agenda</div>{HTML_AGENDA}"
    )
    assert reply(None, html).text == "T-42 done"


def test_html_only_outlook_desktop_header_box_is_cut() -> None:
    html = (
        '<div class="WordSection1"><p class="MsoNormal">T-42 done</p><div><div style="border:'
        'none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">'
        "<b>From:</b> Drumbeat<br><b>Sent:</b> Wed<br><b>To:</b> Ben</p></div></div>"
        f"{HTML_AGENDA}</div>"
    )
    assert reply(None, html).text == "T-42 done"


def test_html_only_apple_mail_blockquote_cite_is_removed() -> None:
    html = (
        '<html><body>T-42 done<br><div><br><blockquote type="cite"><div>On 2 Dec 2026, at '
        f"09:00, Drumbeat &lt;c@d.e&gt; wrote:</div>{HTML_AGENDA}</blockquote></div></body></html>"
    )
    assert reply(None, html).text == "T-42 done"


def test_html_only_apple_mail_inline_answer() -> None:
    html = (
        '<html><body>See below<blockquote type="cite"><div>On 2 Dec 2026, at 09:00, Drumbeat '
        f"wrote:</div><div>{T42}</div></blockquote>done, sent to finance<br><blockquote "
        f'type="cite"><div>{T43}</div></blockquote></body></html>'
    )
    assert reply(None, html).inline == (("T-42", "done, sent to finance"),)


def test_html_only_thunderbird_cite_prefix_and_quote_are_removed() -> None:
    html = (
        '<p>T-42 done</p><div class="moz-cite-prefix">On 02.12.26 09:00, Drumbeat wrote:<br>'
        f'</div><blockquote type="cite">{HTML_AGENDA}</blockquote>'
        '<pre class="moz-signature" cols="72">-- \nBen Okafor</pre>'
    )
    assert reply(None, html).text == "T-42 done"


def test_html_only_yahoo_quoted_is_removed() -> None:
    html = (
        '<div class="ydp1 yahoo-style-wrap">T-42 done</div><div id="ydp9yahoo_quoted_77" '
        f'class="ydp9yahoo_quoted"><div>On Wednesday, Drumbeat wrote:</div>{HTML_AGENDA}</div>'
    )
    assert reply(None, html).text == "T-42 done"


def test_html_only_protonmail_quote_is_removed() -> None:
    html = f'<div>T-42 done</div><div class="protonmail_quote">{HTML_AGENDA}</div>'
    assert reply(None, html).text == "T-42 done"


def test_html_only_plain_blockquote_after_the_new_text_is_removed() -> None:
    html = f"<p>T-42 done</p><blockquote>{HTML_AGENDA}</blockquote>"
    assert reply(None, html).text == "T-42 done"


def test_html_only_outlook_prefixed_gmail_classes_are_quotes() -> None:
    html = f'<div>T-42 done</div><div class="x_gmail_quote">{HTML_AGENDA}</div>'
    assert reply(None, html).text == "T-42 done"


@pytest.mark.parametrize(
    "quoted",
    [
        f'<div class="gmail_quote">{HTML_AGENDA}</div>',
        f'<div class="gmail_attr">On Wed, Drumbeat wrote:</div><blockquote type="cite">{T42}'
        "</blockquote>",
        f'<div class="moz-cite-prefix">On Wed, Drumbeat wrote:</div><blockquote type=cite>{T42}'
        "</blockquote>",
        f'<div id="ydpabcyahoo_quoted_1">{T42}</div>',
        f'<div class="protonmail_quote">{T42}</div>',
        f'<div id="appendonsend"></div><div>{T42}</div>',
        f'<hr id="stopSpelling"><div>{T42}</div>',
        f'<hr id="zwchr"><div>{T42}</div>',
        f'<div id="divRplyFwdMsg"><b>From:</b> x</div><div>{T42}</div>',
        f'<div id="mail-editor-reference-message-container">{T42}</div>',
    ],
)
def test_strip_html_quotes_removes_the_quoted_part(quoted: str) -> None:
    stripped = strip_html_quotes(f"<div><p>T-9 done</p>{quoted}</div><p>tail</p>")
    text = html_to_text(stripped)
    assert "T-9 done" in text
    assert "T-42" not in text


def test_strip_html_quotes_keeps_an_indented_paragraph() -> None:
    html = '<p>Notes:</p><blockquote style="margin:0 0 0 40px;border:none">T-9 done</blockquote>'
    assert "T-9 done" in html_to_text(strip_html_quotes(html))


def test_strip_html_quotes_returns_html() -> None:
    assert strip_html_quotes("<p>T-9 done</p>").startswith("<html>")


def test_html_to_text_keeps_lines_lists_and_tables() -> None:
    html = (
        "<div>First line<br>second line</div><ul><li>T-42 done</li><li>T-43 50%</li></ul>"
        "<table><tr><td>T-9</td><td>blocked</td></tr></table>"
        '<div style="display:none">hidden preheader</div><script>var x</script>'
    )
    assert (
        html_to_text(html) == "First line\nsecond line\n  * T-42 done\n  * T-43 50%\nT-9  blocked"
    )


def test_html_to_reply_text_marks_quoted_lines() -> None:
    html = f"<div>new</div><blockquote type=cite><div>{T42}</div></blockquote><div>60%</div>"
    assert html_to_reply_text(html) == f"new\n> {T42}\n60%"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<",
        "<<<>>>",
        "\x00<p>nul</p>",
        '<?xml version="1.0" encoding="latin-1"?><p>decl</p>',
        "<p>unclosed <b>bold <blockquote type=cite>quoted",
        "<div>" * 5000 + "deep",
        "<blockquote>" * 3000 + "deep",
        "&#0; &#xD800; &bogus; &nbsp;",
        "<table><tr><td>" * 500,
        "<html><body></body></html>",
    ],
)
def test_html_functions_never_raise(html: str) -> None:
    assert isinstance(html_to_text(html), str)
    assert isinstance(strip_html_quotes(html), str)
    assert isinstance(html_to_reply_text(html), str)
    assert isinstance(reply(None, html).text, str)


def test_deep_html_keeps_what_follows_the_deep_part() -> None:
    html = "<div>new</div>" + "<div>" * 400 + "deep" + "</div>" * 400 + "<div>after</div>"
    assert html_to_text(html).split() == ["new", "deep", "after"]


# -- the agenda we really send --------------------------------------------------------------


def test_the_rendered_agenda_quoted_back_is_never_applied() -> None:
    from mail.write.agenda import AgendaView, TaskLine
    from mail.write.render import render_agenda

    task = TaskLine("T-42", "Draft the pricing memo", date(2026, 12, 4), "in_progress", 40, "P-7")
    view = AgendaView(
        role="employee", recipient_name="Ben", employee_name="Ben", manager_name="José",
        meeting_at=datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Europe/Madrid")),
        period_label="week 49", due_soon=(task,), overdue=(), blocked=(), done_recently=(),
        goals=(), last_meeting=None, quarter_label="2026-Q4", held=0, expected=0,
        adherence=None, today=date(2026, 12, 2),
    )  # fmt: skip
    agenda = render_agenda(view)
    sent = agenda.text.split("\n")
    line = next(line for line in sent if line.startswith("[T-42]"))
    quoted = with_answer(quote(agenda.text), f"> {line}", "60%")
    plain = with_answer(agenda.text, line, "60%")
    for text in (f"{GMAIL_ON}\n{quoted}", plain):  # quoted, and with ">" stripped
        result = reply(text, sent_lines=sent)
        assert (result.text, result.inline) == ("", (("T-42", "60%"),))
    html_reply = f'<div>met: yes</div><blockquote type="cite">{agenda.html}</blockquote>'
    assert reply(None, html_reply, sent_lines=sent).text == "met: yes"


# -- forwards: the note is the new text ----------------------------------------------------

FORWARDS = Path(__file__).resolve().parent / "fixtures" / "corpora" / "forwards-crisp"
NOTES = {"", "Praesent suscipit egestas hendrerit. Aliquam eget dui dui."}


def test_forward_in_any_client_and_language_leaves_only_the_forwarders_note() -> None:
    """190 forwarded bodies from 12 clients in about twenty languages (crisp-oss's
    fixtures): what is left is the forwarder's note, or nothing; the ``variant_4``
    bodies are replies whose note is "That's true!"."""
    bodies = sorted((FORWARDS / "fixtures").glob("*_body*.txt"))
    if not bodies:
        message = f"the forwards corpus is missing at {FORWARDS}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    wrong = {}
    for body in bodies:
        text = " ".join(reply(body.read_text(encoding="utf-8")).text.split())
        expected = {"That's true!"} if "variant_4" in body.name else NOTES
        if text not in expected:
            wrong[body.name] = text[:80]
    assert not wrong, wrong


# -- robustness: never raises, bounded time -------------------------------------------------

_PIECES = st.sampled_from(
    [">", "> ", ">>", "|", "| ", "C> ", "-- ", "--", "__", "\n", "\r\n", "\r", " ", "\t",
     "On ", " wrote:", "schrieb", " a écrit :", "From: a", "Sent: b", "To: c", "Subject: d",
     "-----Original Message-----", "Sent from my iPhone", "Thanks,", "Ann", "T-12", "[T-4] ",
     "met: yes", "new: x", "+ y", "2026", "12:30", "@", "<", ">:", "x@y.z", "=" * 40, "-" * 40,
     "\u200f", "\u200b", "\u202e", "\u2028", "\u00a0", "\ufeff", "שלום", "ᐧ", "CONFIDENTIAL"]
)  # fmt: skip
_MESSAGES = st.one_of(
    st.text(), st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=120).map("".join)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_MESSAGES, sent=st.lists(st.one_of(_PIECES, st.text(max_size=40)), max_size=8))
def test_any_text_never_raises_and_is_fast(text: str, sent: list[str]) -> None:
    started = time.thread_time()  # its own CPU time: other programs may run
    result = reply_text._extract(text, None, sent)  # no safety net: errors must surface
    assert time.thread_time() - started < 1.0
    assert result.text == result.text.strip()
    assert all(ref.startswith("T-") for ref, _ in result.inline)


@settings(max_examples=100, deadline=None)
@given(html=st.lists(st.one_of(_PIECES, st.sampled_from(
    ["<div>", "</div>", "<blockquote type=cite>", "</blockquote>", '<div class="gmail_quote">',
     '<div id="divRplyFwdMsg">', "<br>", "<p>", "<table><tr><td>", "&nbsp;", "<!--", "-->"]
)), max_size=80).map("".join))  # fmt: skip
def test_any_html_never_raises(html: str) -> None:
    assert isinstance(reply_text._extract(None, html, ()), ReplyText)


@pytest.mark.parametrize(
    "text",
    [
        ">" * 1_000_000,
        "-" * 1_000_000,
        "=" * 1_000_000,
        "> " * 500_000,
        "\n".join(">" * depth + " On Thu, 30 Apr 2020, a <a@b.c> wrote:" for depth in range(200)),
        ("\n".join(">" * depth + " text" for depth in range(200)) + "\n") * 50,
        "\u202e\u200f\u200b" * 300_000,
        "On 2020 " + "<" * 1_000_000,
        "x@y.z wrote:" * 80_000,
        # Shapes that make every line a header candidate (about 250 kB each: well under
        # a second even on a loaded machine; an idle core does 1 MB of them in 0.5 s).
        "On 12 May 2026 x\n" * 15_000,
        ("From: a\n" * 10) * 3_000,
        "C> quoted\n" * 25_000,
        "On Mon, 2 Dec 2026, Ann <a@b.c> wrote:\n> q\nanswer\n" * 5_000,
    ],
    ids=[
        "gt", "dashes", "equals", "gt-space", "200-nested-attributions", "200-levels",
        "rtl-zero-width", "long-lt-line", "long-wrote-line", "many-on-lines", "from-lines",
        "supercite", "interleaved-attributions",
    ],
)  # fmt: skip
def test_pathological_input_is_fast(text: str) -> None:
    started = time.thread_time()  # its own CPU time: other programs may run
    reply_text._extract(text, None, ())
    assert time.thread_time() - started < 1.0


# -- the guards on the shapes talon's tests brought (tests/test_reply_corpus_public.py) --------


def test_deep_quote_marks_without_closing_arrows_are_still_a_quote() -> None:
    text = "T-40 done\n\n>>> the old plan\n>>> <<< was here\n>> more"

    assert extract_reply(text).text == "T-40 done"


def test_a_from_line_with_no_quote_under_it_is_new_text() -> None:
    text = "T-40 done\n\nFrom: ann@example.com\n\nshe sent the numbers"

    assert extract_reply(text).text == text


def test_a_date_line_over_prose_is_not_a_header() -> None:
    text = "T-40 60%\nDate: Friday at 10:30\nTo be confirmed with finance"

    assert extract_reply(text).text == text


def test_a_link_typed_between_our_own_lines_is_kept() -> None:
    text = "T-40 done\n(https://example.com/report)\nT-42 50%"

    assert extract_reply(text).text == text


def test_a_reply_sharing_the_attribution_line_is_kept_and_the_quote_dropped() -> None:
    text = "T-40 done On Wed, Dec 2, 2026 at 9:00 AM, Ann <ann@x.org> wrote:\n> [T-40] Collect"

    assert extract_reply(text).text == "T-40 done"
