"""The readers share one vocabulary, so they agree on what a quoted header block is,
whatever language the mail client wrote it in; and dates in words cost one budget
(shared by a reply's commands and its notes: tests/test_limits.py)."""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from mail.read.classify import Kind, classify
from mail.read.dates import DateBudget, read_date
from mail.read.forward import split_forward
from mail.read.message import parse_message
from mail.read.reply_text import extract_reply
from mail.read.vocabulary import FORWARD_PREFIXES, HEADER_LABELS, REPLY_PREFIXES

ENGLISH = {"from": "From", "date": "Sent", "to": "To", "subject": "Subject"}
VALUES = {
    "from": "Ann Lee <ann@example.org>",
    "date": "Monday, November 23, 2026 10:15 AM",
    "to": "Ben Carter <ben@example.org>",
    "subject": "Pricing memo",
}
CASES = [(field, label) for field in ENGLISH for label in sorted(HEADER_LABELS[field])]
THURSDAY = datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))


def block(field: str, label: str) -> str:
    """Outlook's header block in English, but ``field`` written with ``label``."""
    labels = {**ENGLISH, field: label.capitalize()}
    return "\n".join(f"{labels[name]}: {VALUES[name]}" for name in ENGLISH)


def message(body: str, subject: str = "Ann's notes") -> bytes:
    mail = EmailMessage()
    mail["From"] = "dana@example.org"
    mail["To"] = "notes@drumbeat.example"
    mail["Subject"] = subject
    mail.set_content(body)
    return bytes(mail)


@pytest.mark.parametrize(("field", "label"), CASES)
def test_every_label_is_a_header_to_every_reader(field: str, label: str) -> None:
    quoted = block(field, label)
    forwarded = f"{quoted}\n\nAnn to send the pricing memo by Friday\n"

    raw = message(forwarded)
    assert classify(parse_message(raw), raw).kind is Kind.FORWARD

    _, found = split_forward(forwarded)
    assert [(f.from_addr, f.subject) for f in found] == [("ann@example.org", "Pricing memo")]

    reply = extract_reply(f"T-12 done, memo sent.\n\n{quoted}\n\nCan you send the memo?\n")
    assert reply.text == "T-12 done, memo sent."


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [(p, Kind.REPLY) for p in REPLY_PREFIXES] + [(p, Kind.FORWARD) for p in FORWARD_PREFIXES],
)
def test_every_subject_prefix_tells_a_reply_from_a_forward(prefix: str, kind: Kind) -> None:
    subject = f"{prefix.upper()}: Ben Carter 1:1"
    raw = message("T-12 done\n", subject)
    assert classify(parse_message(raw), raw).kind is kind


def test_a_budget_spent_on_words_leaves_numbers_and_weekdays_readable() -> None:
    budget = DateBudget(left=1)
    assert read_date("18 Dec", THURSDAY, "Europe/Berlin", budget=budget) == date(2026, 12, 18)
    assert read_date("19 Dec", THURSDAY, "Europe/Berlin", budget=budget) is None
    assert budget.refused == 1
    assert read_date("2026-12-21", THURSDAY, "Europe/Berlin", budget=budget) == date(2026, 12, 21)
    assert read_date("Friday", THURSDAY, "Europe/Berlin", budget=budget) == date(2026, 11, 27)
