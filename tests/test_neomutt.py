"""NeoMutt from Debian's packages, driven in tmux against ``drumbeat serve`` over STARTTLS.

An employee replies to her agenda twice (a top-posted line, then a line written under
the quoted ``[T-…]`` line); her manager forwards his own agenda to ``notes@`` with a
``with:`` and an ``ACTION:`` line on top, once inline and once as an attached message.
Each is checked through the database and the answer Drumbeat mailed back. The replies
are vouched for by their agenda's token (asserted); loopback plays the company's
submission server for the forwards to ``notes@``, which carry no token. NeoMutt is set
to refuse to send without STARTTLS (``ssl_force_tls``), so every send proves the door
offers it. Serve runs on a clock set after the agendas' week, so the 1:1s they name
have taken place when the manager forwards hers.

With ``DRUMBEAT_WRITE_NEOMUTT_FIXTURES=1`` the raw messages NeoMutt produced are
written to tests/fixtures/neomutt/ for the fast tests (tests/test_neomutt_fixtures.py).
Under CI a missing NeoMutt fails the run (it is installed by .ci/run).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import InboundMessage, Meeting, Person, Task, TaskHistory
from tests.certificates import self_signed
from tests.conftest import service_missing
from tests.neomutt import NeoMutt, Typed, User, installed, version
from tests.test_trust_e2e import Agenda, Service, start_serve_sqlite

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neomutt"
NOTES = "notes@northwind.example"
OPEN = ("open", "in_progress", "blocked")
EXAMPLE_LINE = re.compile(r"^\s+T-(\d+) (\d+)% drafted the intro$", re.MULTILINE)
TASK_LINE = re.compile(r"^\[T-(\d+)\]", re.MULTILINE)
AFTER_THE_WEEK = "2026-12-05T12:00:00+00:00"  # serve's clock: the agendas' 1:1s have taken place


@dataclass
class Site:
    service: Service
    mutt: NeoMutt
    root: Path

    def agenda_message(self, agenda: Agenda) -> EmailMessage:
        return next(m for _r, m in self.service.delivered()
                    if str(m["Message-ID"]) == agenda.message_id)

    def person(self, person_id: int) -> User:
        [(email, name)] = self.service.rows(
            select(Person.email, Person.name).where(Person.id == person_id))
        return User(str(email), str(name), self.root / "users" / str(email))

    def latest_from(self, address: str) -> InboundMessage | None:
        with Session(self.service.engine, expire_on_commit=False) as session:
            return session.scalars(select(InboundMessage).where(
                func.lower(InboundMessage.sender) == address.lower())
                .order_by(InboundMessage.id.desc()).limit(1)).first()

    def act(self, user: User, agenda: Agenda, typed: Typed, *, forward: bool = False,
            mime_forward: bool = False) -> InboundMessage:
        """What NeoMutt sent, once Drumbeat has processed it and mailed its answer."""
        before = self.latest_from(user.address)
        before_id = before.id if before else 0

        def sent() -> bool:
            row = self.latest_from(user.address)
            return (row is not None and row.id > before_id and row.processed_at is not None
                    and self.answer_to(row) is not None)

        self.mutt.send(user, self.agenda_message(agenda), typed,
                       forward_to=NOTES if forward else None, mime_forward=mime_forward,
                       sent=sent)
        row = self.latest_from(user.address)
        assert row is not None
        return row

    def answer_to(self, row: InboundMessage) -> str | None:
        for _r, message in self.service.delivered():
            if str(message.get("In-Reply-To", "")) == row.message_id:
                body = message.get_body(("plain",))
                assert body is not None
                return str(body.get_content())
        return None

    def task(self, task_id: int) -> tuple[str, int]:
        [(status, progress)] = self.service.rows(
            select(Task.status, Task.progress).where(Task.id == task_id))
        return str(status), int(progress)

    def updates(self, task_id: int) -> int:
        return len(self.service.rows(select(TaskHistory.id).where(TaskHistory.task_id == task_id)))


def keep(name: str, row: InboundMessage, expected: dict[str, object]) -> None:
    """Write what NeoMutt produced as a fixture, when asked to."""
    if not os.environ.get("DRUMBEAT_WRITE_NEOMUTT_FIXTURES"):
        return
    assert row.raw is not None
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / f"{name}.eml").write_bytes(row.raw)
    (FIXTURES / f"{name}.expected.json").write_text(
        json.dumps({**expected, "client": version()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    missing = installed()
    if missing:
        service_missing("NeoMutt", RuntimeError(missing))
    root = tmp_path_factory.mktemp("neomutt")
    certificate = self_signed(root, names=("localhost",))
    with contextmanager(start_serve_sqlite)(
            root, DRUMBEAT_TRUSTED_RELAYS="127.0.0.1/32",
            DRUMBEAT_SMTPD_TLS_CERT=str(certificate.cert),
            DRUMBEAT_SMTPD_TLS_KEY=str(certificate.key),
            DRUMBEAT_CLOCK_START=AFTER_THE_WEEK, DRUMBEAT_CLOCK_SPEED="1") as service:
        mutt = NeoMutt(root, service.port, certificate.cert)
        try:
            yield Site(service, mutt, root)
        finally:
            mutt.stop()


def open_tasks_listed(site: Site, agenda: Agenda) -> list[int]:
    text = str(site.agenda_message(agenda).get_body(("plain",)).get_content())
    listed = [int(n) for n in TASK_LINE.findall(text)]
    open_ids = {row.id for row in site.service.rows(
        select(Task.id).where(Task.status.in_(OPEN), Task.progress < 50))}
    return [n for n in listed if n in open_ids]


def employee_agenda(site: Site) -> tuple[Agenda, list[int]]:
    """An agenda sent to an employee listing two open tasks of hers."""
    for agenda in site.service.agendas:
        if agenda.to != site.person(agenda.employee_id).address:
            continue
        tasks = open_tasks_listed(site, agenda)
        if len(tasks) >= 2:
            return agenda, tasks
    raise AssertionError("no employee agenda lists two open tasks")


def manager_agenda(site: Site) -> tuple[Agenda, int]:
    """An agenda sent to a manager whose "how to reply" example names an open task
    nobody has updated yet."""
    for agenda in site.service.agendas:
        if agenda.to != site.person(agenda.manager_id).address:
            continue
        text = str(site.agenda_message(agenda).get_body(("plain",)).get_content())
        example = EXAMPLE_LINE.search(text)
        task = int(example.group(1)) if example else 0
        if example and site.task(task)[0] in OPEN and site.updates(task) == 0:
            return agenda, int(example.group(1))
    raise AssertionError("no manager agenda whose example names an open task")


def named_day(site: Site, agenda: Agenda) -> date:
    """The 1:1 day the agenda names ("your 1:1 with … is on Thu 3 Dec at 10:00")."""
    message = site.agenda_message(agenda)
    text = str(message.get_body(("plain",)).get_content())
    found = re.search(r"is on \w+ (\d+ \w+)(?: (\d{4}))?", text)
    assert found, text
    sent = parsedate_to_datetime(str(message["Date"]))
    return datetime.strptime(f"{found.group(1)} {found.group(2) or sent.year}",
                             "%d %b %Y").date()


def test_replies_top_posted_and_inline_are_applied_by_their_token(site: Site) -> None:
    agenda, (first, second, *_rest) = employee_agenda(site)
    employee = site.person(agenda.employee_id)

    row = site.act(employee, agenda, Typed((f"T-{first} 60%", "")))
    assert (row.status, row.authenticated_by) == ("applied", "token")
    assert site.task(first)[1] == 60
    answer = site.answer_to(row)
    assert answer is not None and f"T-{first}" in answer and "60%" in answer
    keep("reply_top_posted", row, {"commands": [{"task": f"T-{first}", "percent": 60}]})

    row = site.act(employee, agenda, Typed(("", "45%", ""), under=f"[T-{second}]"))
    assert (row.status, row.authenticated_by) == ("applied", "token")
    assert site.task(second)[1] == 45
    assert site.task(first)[1] == 60  # the first reply's task is not touched again
    answer = site.answer_to(row)
    assert answer is not None and f"T-{second}" in answer and "45%" in answer
    keep("reply_inline", row, {"commands": [{"task": f"T-{second}", "percent": 45}]})


def test_forwarded_agenda_logs_the_meeting_and_applies_none_of_its_lines(site: Site) -> None:
    agenda, example_task = manager_agenda(site)
    manager, employee = site.person(agenda.manager_id), site.person(agenda.employee_id)
    untouched = site.task(example_task)
    first_name = employee.name.split()[0]
    day = named_day(site, agenda)

    for number, (name, mime_forward) in enumerate(
            (("forward_inline", False), ("forward_attached", True)), start=1):
        action = f"ACTION: {first_name} send the draft number {number} by Friday"
        row = site.act(manager, agenda, Typed((f"with: {employee.name}", action, "")),
                       forward=True, mime_forward=mime_forward)
        assert (row.status, row.authenticated_by) == ("applied", "relay"), row.outcome
        assert site.task(example_task) == untouched, f"{name} applied the agenda's example"
        assert site.updates(example_task) == 0
        meetings = site.service.rows(select(Meeting.id).where(
            Meeting.manager_id == agenda.manager_id,
            Meeting.employee_id == agenda.employee_id))
        assert len(meetings) == 1, f"{name}: {len(meetings)} meetings for the pair"
        assert site.service.rows(select(Meeting.held_on).where(
            Meeting.id == meetings[0].id)) == [(day,)], "not the 1:1 day the agenda names"
        items = [str(title) for (title,) in site.service.rows(select(Task.title).where(
            Task.from_notes_by_id == agenda.manager_id, Task.owner_id == agenda.employee_id)
            .order_by(Task.id))]
        assert len(items) == number, items
        assert f"draft number {number}" in items[-1], items
        answer = site.answer_to(row)
        assert answer is not None
        assert "Not understood" not in answer, answer
        assert f"draft number {number}" in answer, answer
        keep(name, row, {"commands": [], "action_items": items[-1:]})
