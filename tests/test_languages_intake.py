"""A person who reads Drumbeat in German, through the real pipeline on both databases:
their agenda is German, their reply in the agenda's own words (``erledigt``) is applied,
and the answer, the ``status`` page and the ``help`` page come back in German. Their
manager's copy of the same agenda stays English.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models import OutboundMessage, Person, Task
from tests.conftest import Database
from tests.test_agendas_pipeline import Clock, make_settings, seed
from tests.test_inbound import REPLY_AT, quoted, reply_to, send_agendas, task_titled
from tests.test_status_by_email import ask
from workers.inbound import process
from workers.intake import RawStore
from workers.runtime import Runtime, configure, transport_for


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> tuple[Runtime, dict[str, int]]:
    ids = seed(db)
    with db.session() as session, session.begin():
        session.execute(update(Person).where(Person.id == ids["ann"]).values(language="de"))
    settings = make_settings(None, tmp_path)
    return configure(settings, engine=db.engine, transport=transport_for(settings),
                     clock=Clock(REPLY_AT)), ids


def test_a_german_reader_gets_german_mail_and_her_german_reply_is_applied(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    agenda = send_agendas(runtime, ids["ann"])
    assert agenda.subject == "1:1 mit Mika Sato: Agenda fürs Check-in"
    assert agenda.body_text is not None and agenda.body_text.startswith("Hallo Ann Lee, dein 1:1")
    assert "So antwortest du" in (agenda.body_html or "")
    with runtime.sessions() as session:
        managers = session.scalar(select(OutboundMessage).where(
            OutboundMessage.recipient_id == ids["mika"], OutboundMessage.kind == "agenda"))
        assert managers is not None and managers.subject == "1:1 with Ann Lee: check-in agenda"

    memo = task_titled(runtime, "Draft the")
    raw = reply_to(agenda, f"{memo.ref} erledigt\n\n{quoted(agenda)}")
    inbound_id = RawStore(runtime.engine, clock=runtime.clock)(raw, None, [], None)
    [added] = process(runtime, inbound_id).answers
    with runtime.sessions() as session:
        assert session.get(Task, memo.id).status == "done"  # type: ignore[union-attr]
        answer = session.get(OutboundMessage, added.outbox_id)
        assert answer is not None and answer.body_text is not None
    assert answer.body_text.startswith("Hallo Ann Lee,\n\nErledigt:\n")
    assert "Deine Nachricht ist am" in answer.body_text
    assert '"T-12 erledigt"' in answer.body_text


def test_status_and_help_in_german(rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    text, html = ask(runtime, ids["ann"], "status", "ann@acme.example")
    assert "Deine Seite am" in text and "DEINE OFFENEN AUFGABEN" in text
    assert "Deine offenen Aufgaben" in html
    text, _html = ask(runtime, ids["ann"], "help", "ann@acme.example")
    assert "Antworte auf eine beliebige Drumbeat-E-Mail" in text
    assert "erledigt (auch ✓ oder 100%)" in text


def test_the_lines_that_confirm_a_change_and_a_refusal_are_german(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    agenda = send_agendas(runtime, ids["ann"])
    memo = task_titled(runtime, "Draft the")
    with runtime.sessions() as session, session.begin():
        session.execute(update(Task).where(Task.id == memo.id).values(progress=40))
    raw = reply_to(agenda, f"{memo.ref} 60%\nT-99999 erledigt\n\n{quoted(agenda)}")
    inbound_id = RawStore(runtime.engine, clock=runtime.clock)(raw, None, [], None)
    [added] = process(runtime, inbound_id).answers
    with runtime.sessions() as session:
        assert session.get(Task, memo.id).progress == 60  # type: ignore[union-attr]
        answer = session.get(OutboundMessage, added.outbox_id)
        assert answer is not None and answer.body_text is not None
    text = answer.body_text.replace("\u00a0", " ")
    [line] = [line for line in text.splitlines() if line.startswith(f"  - {memo.ref} ")]
    assert line.endswith(": 40 % → 60 %")  # the title is shown on one line before it
    assert "T-99999 ist keine deiner Aufgaben und keine Aufgabe deines Teams" in text
    assert "is not one of your tasks" not in text and "→ 60%" not in text


def test_the_explanation_of_a_line_drumbeat_could_not_read_is_german(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    agenda = send_agendas(runtime, ids["ann"])
    raw = reply_to(agenda, f"due: Freitag\nmet: 2099-01-05\n\n{quoted(agenda)}")
    inbound_id = RawStore(runtime.engine, clock=runtime.clock)(raw, None, [], None)
    [added] = process(runtime, inbound_id).answers
    with runtime.sessions() as session:
        answer = session.get(OutboundMessage, added.outbox_id)
        assert answer is not None and answer.body_text is not None
    text = answer.body_text
    assert '"due: Freitag": Sag, welche Aufgabe gemeint ist, z. B. T-12 due Friday' in text
    assert ('"met: 2099-01-05": 2099-01-05 liegt nach dieser Nachricht. Schreib den Tag, '
            "an dem ihr euch getroffen habt, z. B. met: yesterday") in text
    assert "Sag, welche Aufgabe gemeint ist" in (answer.body_html or "")
    assert "Say which task" not in text and "is after this message" not in text


def test_a_reply_to_someone_elses_agenda_is_refused_in_the_senders_language(
        rt: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = rt
    with runtime.sessions() as session, session.begin():
        session.execute(update(Person).where(Person.id == ids["bob"]).values(language="fr"))
    runtime = replace(runtime, settings=runtime.settings.model_copy(
        update={"trusted_authserv_id": "mx.acme.example"}), cache={})
    agenda = send_agendas(runtime, ids["ann"])  # Ann's, answered by Bob (our MTA vouched)
    memo = task_titled(runtime, "Draft the")
    raw = reply_to(agenda, f"{memo.ref} done\n\n{quoted(agenda)}", sender="bob@acme.example",
                   Authentication_Results="mx.acme.example; dkim=pass header.d=acme.example; "
                   "dmarc=pass header.from=acme.example")
    inbound_id = RawStore(runtime.engine, clock=runtime.clock)(raw, None, [], None)
    processed = process(runtime, inbound_id)
    assert processed.status == "rejected"
    [added] = processed.answers
    with runtime.sessions() as session:
        assert session.get(Task, memo.id).status != "done"  # type: ignore[union-attr]
        answer = session.get(OutboundMessage, added.outbox_id)
        assert answer is not None and answer.body_text is not None
    assert answer.to_address == "bob@acme.example"
    assert ("Cette réponse concerne l'ordre du jour de quelqu'un d'autre, donc rien n'a été "
            "modifié. Répondez à votre propre ordre du jour.") in answer.body_text
    assert "someone else's agenda" not in answer.body_text
