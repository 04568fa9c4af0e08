"""Deduplication by Message-ID and content: a redelivery is stored once, whatever route it
took; a reused Message-ID with other content is a message of its own, stored and judged."""

from __future__ import annotations

from sqlalchemy import func, select

from models import InboundMessage, OutboundMessage
from tests.conftest import Database
from tests.test_inbound import receive, reply_to, sent_agenda, task_titled
from workers.inbound import process
from workers.intake import content_hash, store_raw
from workers.runtime import Runtime

__all__ = ["sent_agenda"]  # the fixture, used by name below

HOP = (b"Received: from relay2.mail.example (relay2.mail.example [192.0.2.7])\r\n"
       b"\tby mx.acme.example with ESMTPS id 4Xy; Sun, 29 Nov 2026 10:01:00 +0000\r\n"
       b"Delivered-To: checkin@acme.example\r\n")


def reply(message_id: str = "<r1@mail.example>", body: str = "T-12 60%") -> bytes:
    return (f"From: Ann <ann@acme.example>\r\nTo: updates@acme.example\r\n"
            f"Subject: Re: 1:1\r\nMessage-ID: {message_id}\r\n\r\n{body}\r\n").encode()


def rows(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def store(db: Database, raw: bytes) -> tuple[int, bool]:
    with db.sessions() as session, session.begin():
        return store_raw(session, raw, via="smtp")


def test_the_same_bytes_twice_are_one_row(db: Database) -> None:
    first, new = store(db, reply())
    again, new_again = store(db, reply())

    assert (new, new_again, again) == (True, False, first)
    assert rows(db) == 1


def test_a_copy_that_took_another_route_is_the_same_message(db: Database) -> None:
    first, _ = store(db, b"Received: from a.example by mx.acme.example\r\n" + reply())
    again, new = store(db, HOP + reply())

    assert (again, new) == (first, False)
    assert rows(db) == 1


def test_a_reused_message_id_with_other_content_is_stored_on_its_own(db: Database) -> None:
    first, _ = store(db, reply(body="junk sent first"))
    second, new = store(db, reply(body="T-12 60%"))

    assert new and second != first
    assert rows(db) == 2


def test_only_the_leading_trace_fields_are_left_out() -> None:
    raw = reply()
    assert content_hash(HOP + raw) == content_hash(raw)
    assert content_hash(raw.replace(b"\r\n", b"\n")) == content_hash(raw)  # another hop's line ends
    moved = raw.replace(b"\r\n\r\n", b"\r\nReceived: from inside.example\r\n\r\n", 1)
    assert content_hash(moved) != content_hash(raw)  # not a hop's field: it is content
    assert content_hash(raw.replace(b"60%", b"61%")) != content_hash(raw)


def test_both_messages_that_share_a_message_id_are_processed(
        sent_agenda: tuple[Runtime, dict[str, int], OutboundMessage]) -> None:
    rt, _ids, agenda = sent_agenda
    task = task_titled(rt, "Draft the")
    first = receive(rt, reply_to(agenda, f"T-{task.id} 30%", message_id="<same@mail.example>"))
    second = receive(rt, reply_to(agenda, f"T-{task.id} 60%", message_id="<same@mail.example>"))

    assert first != second
    assert process(rt, first).status == "applied"
    assert task_titled(rt, "Draft the").progress == 30
    assert process(rt, second).status == "applied"
    assert task_titled(rt, "Draft the").progress == 60
