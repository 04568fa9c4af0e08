"""The SMTP door on a real aiosmtpd server: 250 only after the bytes are in the database."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mail.doors.smtpd import GroupCommit, Incoming, IntakeHandler
from models import InboundMessage
from models.db import make_engine
from tests.conftest import Database
from tests.relay import free_port
from workers.intake import RawStore

DOMAIN = "acme.example"
LIMIT = 200_000


def serve(db_url: str) -> tuple[Controller, int]:
    """The handler with the store ``drumbeat smtpd`` uses."""
    port = free_port()
    store = RawStore(make_engine(db_url, pre_ping=False))
    controller = Controller(IntakeHandler(DOMAIN, store), hostname="127.0.0.1",
                            port=port, data_size_limit=LIMIT, decode_data=False)
    controller.start()
    return controller, port


@pytest.fixture
def intake(db: Database) -> Iterator[int]:
    controller, port = serve(db.url)
    yield port
    controller.stop()


def reply(message_id: str | None = "<r1@mail.example>", body: str = "T-12 60%") -> bytes:
    message = EmailMessage()
    message["From"] = "Ann <ann@acme.example>"
    message["To"] = "checkin+abc@acme.example"
    message["Subject"] = "Re: 1:1 with Mika"
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes(policy=SMTP)   # CRLF line ends, as on the wire


def send(port: int, data: bytes, to: str = "checkin+abc@acme.example") -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("ann@acme.example")
        code, answer = client.rcpt(to)
        if code != 250:
            return code, answer
        return client.data(data)


def stored(db: Database) -> list[InboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_a_reply_is_stored_byte_for_byte_before_250(db: Database, intake: int) -> None:
    data = reply()
    code, answer = send(intake, data)
    assert code == 250 and b"queued as" in answer
    [row] = stored(db)
    assert row.raw == data
    assert (row.message_id, row.sender, row.via, row.status) == (
        "<r1@mail.example>", "ann@acme.example", "smtp", "received")
    assert row.envelope_to == ["checkin+abc@acme.example"]


def test_the_same_message_twice_is_stored_once(db: Database, intake: int) -> None:
    assert send(intake, reply())[0] == 250
    assert send(intake, reply())[0] == 250
    assert send(intake, reply(message_id=None))[0] == 250
    assert send(intake, reply(message_id=None))[0] == 250
    rows = stored(db)
    assert len(rows) == 2
    assert rows[1].message_id.startswith("<sha256-")


def test_mail_for_other_domains_is_refused_no_open_relay(db: Database, intake: int) -> None:
    code, answer = send(intake, reply(), to="victim@elsewhere.example")
    assert code == 550 and b"only accept mail for @acme.example" in answer
    assert stored(db) == []


def test_a_message_over_the_size_limit_is_refused_with_552(db: Database, intake: int) -> None:
    code, _ = send(intake, reply(body=("x" * 70 + "\n") * (LIMIT // 70 + 10)))
    assert code == 552
    assert stored(db) == []


def test_a_database_outage_answers_451_so_the_sender_retries() -> None:
    controller, port = serve(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    try:
        code, answer = send(port, reply())
    finally:
        controller.stop()
    assert code == 451 and b"try again later" in answer


def test_a_database_restart_between_messages_costs_no_451(db: Database, intake: int) -> None:
    """The store keeps its connections open; when the server drops them it reconnects."""
    assert send(intake, reply("<before@mail.example>"))[0] == 250
    if db.kind == "postgresql":
        with db.engine.begin() as connection:  # what a restart does to open connections
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                "AND state = 'idle' AND query LIKE 'INSERT INTO inbound_message%%'").scalar()
        assert killed and killed >= 1
    code, _ = send(intake, reply("<after@mail.example>"))
    assert code == 250
    assert [row.message_id for row in stored(db)] == ["<before@mail.example>",
                                                      "<after@mail.example>"]


def test_messages_sent_at_once_are_all_stored_each_once(db: Database, intake: int) -> None:
    """Eight senders at once (some groups share a commit), each message twice."""
    from concurrent.futures import ThreadPoolExecutor

    def sender(n: int) -> list[tuple[int, bytes]]:
        answers = []
        for k in range(5):
            data = reply(f"<burst-{n}-{k}@mail.example>", body=f"T-{n} {k * 10}%")
            answers += [send(intake, data), send(intake, data)]
        return answers

    with ThreadPoolExecutor(8) as pool:
        answers = [answer for batch in pool.map(sender, range(8)) for answer in batch]
    assert [code for code, _ in answers] == [250] * 80
    rows = stored(db)
    assert sorted(row.message_id for row in rows) == sorted(
        f"<burst-{n}-{k}@mail.example>" for n in range(8) for k in range(5))
    queued = {int(answer.rsplit(b" ", 1)[1]) for _, answer in answers}
    assert queued == {row.id for row in rows}  # a repeat is told the first one's row


def test_a_group_holding_repeats_stores_each_message_once(db: Database) -> None:
    """One group: a new message, the same one again, and one stored before; each
    is answered with its single row's id."""
    store = RawStore(make_engine(db.url, pre_ping=False))
    earlier = store(reply("<old@mail.example>"), "ann@acme.example", ["updates@acme.example"])

    def incoming(message_id: str) -> Incoming:
        return Incoming(reply(message_id), "ann@acme.example", ("updates@acme.example",))

    new, again, old = store.store_each([incoming("<new@mail.example>"),
                                        incoming("<new@mail.example>"),
                                        incoming("<old@mail.example>")])
    assert old == earlier and again == new != earlier
    rows = stored(db)
    assert [(row.id, row.message_id) for row in rows] == [
        (earlier, "<old@mail.example>"), (new, "<new@mail.example>")]
    assert rows[1].envelope_to == ["updates@acme.example"]
    assert rows[1].sender == "ann@acme.example" and rows[1].subject == "Re: 1:1 with Mika"


class RefusesPoison(RawStore):
    """A store whose database refuses one message (what a constraint might do)."""

    def store_group(self, group: Sequence[Incoming]) -> list[int]:
        if any(b"poison" in item.raw for item in group):
            raise ValueError("the database refused it")
        return super().store_group(group)


def test_a_message_the_database_refuses_does_not_hold_up_its_group(db: Database) -> None:
    store = RefusesPoison(make_engine(db.url, pre_ping=False))
    group = [Incoming(reply(f"<g{n}@mail.example>", body=body), "ann@acme.example",
                      ("checkin+abc@acme.example",))
             for n, body in enumerate(["T-1 done", "poison", "T-2 done"])]
    first, refused, third = store.store_each(group)
    assert isinstance(refused, ValueError)
    assert [row.id for row in stored(db)] == [first, third]
    assert [row.message_id for row in stored(db)] == ["<g0@mail.example>", "<g2@mail.example>"]


def test_a_group_shares_one_transaction_and_each_session_gets_its_own_answer() -> None:
    """Messages arriving while a group is written go in the next group, together; a
    message whose storing failed gets its error, its group mates their row ids."""
    import asyncio
    import threading

    release = threading.Event()
    groups: list[list[bytes]] = []

    class Recording:
        def store_each(self, group: Sequence[Incoming]) -> list[int | Exception]:
            groups.append([item.raw for item in group])
            if len(groups) == 1:
                release.wait(5)  # the first write is slow: the others queue up
            return [ValueError("refused") if item.raw == b"bad" else len(groups) * 100 + n
                    for n, item in enumerate(group)]

    async def scenario() -> list[object]:
        commit = GroupCommit(Recording())
        first = asyncio.ensure_future(commit(Incoming(b"a", None, ())))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(commit(Incoming(raw, None, ())))
                for raw in (b"b", b"bad", b"c")]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    a, b, bad, c = asyncio.run(scenario())
    assert groups == [[b"a"], [b"b", b"bad", b"c"]]
    assert (a, b, c) == (100, 200, 202)
    assert isinstance(bad, ValueError)
