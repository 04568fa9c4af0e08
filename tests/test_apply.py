"""Applying reply commands: what changes, what is refused, and who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from mail.read.grammar import parse_commands
from models import Goal, Initiative, Meeting, Person, Project, Task, TaskHistory
from tests.conftest import Database
from workers.apply import Applier, Outcome, Pair

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)   # a Monday


@pytest.fixture
def org(db: Database) -> dict[str, int]:
    """Hana manages Mika, who manages Ann and Bob; HR is Rita. Ann owns T1, Bob T2."""
    with db.session() as session, session.begin():
        hana = Person(email="hana@acme.example", name="Hana Ito")
        mika = Person(email="mika@acme.example", name="Mika Sato", manager=hana)
        ann = Person(email="ann@acme.example", name="Ann Lee", manager=mika,
                     timezone="Europe/Berlin", checkin_time=time(9))
        bob = Person(email="bob@acme.example", name="Bob Díaz", manager=mika)
        rita = Person(email="rita@acme.example", name="Rita HR", is_hr=True, manager=hana)
        goal = Goal(title="Revenue", owner=hana, initiative=Initiative(title="Grow", owner=hana))
        project = Project(title="Pricing", owner=mika, goal=goal)
        other = Project(title="Hiring", owner=mika, goal=goal)
        session.add_all([hana, mika, ann, bob, rita, project, other])
        session.flush()
        t1 = Task(title="Draft memo", owner=ann, project=project, due=date(2026, 12, 4))
        t2 = Task(title="Price book", owner=bob, project=project)
        session.add_all([t1, t2])
        session.flush()
        return {"hana": hana.id, "mika": mika.id, "ann": ann.id, "bob": bob.id,
                "rita": rita.id, "t1": t1.id, "t2": t2.id, "p1": project.id, "p2": other.id}


def apply(db: Database, sender_id: int, text: str, pair: Pair | None = None) -> Outcome:
    with db.session() as session, session.begin():
        sender = session.get(Person, sender_id)
        assert sender is not None
        parsed = parse_commands(text, message_date=NOW, timezone=sender.timezone)
        outcome = Applier(session, sender, inbound_id=None, now=NOW, pair=pair).apply(
            parsed.commands)
        outcome.not_understood.extend((e.line, e.reason) for e in parsed.errors)
        return outcome


def task(db: Database, task_id: int) -> Task:
    with db.session() as session:
        found = session.get(Task, task_id)
        assert found is not None
        return found


def test_owner_updates_progress_and_history_records_it(db: Database,
                                                       org: dict[str, int]) -> None:
    t1 = org["t1"]
    outcome = apply(db, org["ann"], f"T-{t1} 60% drafted the intro")
    assert outcome.done == [f"T-{t1} Draft memo: in progress, 0% → 60%, note “drafted the intro”"]
    assert (task(db, t1).status, task(db, t1).progress) == ("in_progress", 60)
    with db.session() as session:
        [history] = session.scalars(select(TaskHistory)).all()
        assert (history.old_progress, history.new_progress, history.note, history.author_id) \
            == (0, 60, "drafted the intro", org["ann"])


def test_done_blocked_due_and_note(db: Database, org: dict[str, int]) -> None:
    t1 = org["t1"]
    apply(db, org["ann"], f"T-{t1} blocked: waiting on legal")
    assert (task(db, t1).status, task(db, t1).blocked_reason) == ("blocked", "waiting on legal")
    apply(db, org["ann"], f"T-{t1} due 2026-12-18")
    assert task(db, t1).due == date(2026, 12, 18)
    apply(db, org["ann"], f"T-{t1} done")
    done = task(db, t1)
    assert (done.status, done.progress, done.blocked_reason) == ("done", 100, None)
    assert done.completed_at == NOW


def test_managers_up_the_line_may_update_a_reports_task(db: Database,
                                                        org: dict[str, int]) -> None:
    assert apply(db, org["mika"], f"T-{org['t1']} 30%").done
    assert apply(db, org["hana"], f"T-{org['t1']} 40%").done
    assert task(db, org["t1"]).progress == 40


@pytest.mark.parametrize("who", ["bob", "rita"])
def test_others_are_refused_without_learning_anything(db: Database, org: dict[str, int],
                                                      who: str) -> None:
    outcome = apply(db, org[who], f"T-{org['t1']} done\nT-99999 done")
    assert outcome.done == []
    existing, missing = (reason for _line, reason in outcome.refused)
    # the existing task and the missing one get the same words
    assert existing.replace(f"T-{org['t1']}", "T-X") == missing.replace("T-99999", "T-X")
    assert task(db, org["t1"]).status == "open"


def test_only_a_manager_may_drop_a_task(db: Database, org: dict[str, int]) -> None:
    refused = apply(db, org["ann"], f"T-{org['t1']} dropped: not needed")
    assert refused.done == [] and "manager" in refused.refused[0][1]
    assert apply(db, org["mika"], f"T-{org['t1']} dropped: superseded").done
    assert task(db, org["t1"]).status == "dropped"


def test_new_task_goes_to_the_only_project_that_fits(db: Database,
                                                     org: dict[str, int]) -> None:
    outcome = apply(db, org["ann"], "new: Call the vendor by Friday")
    assert len(outcome.done) == 1 and "Pricing" in outcome.done[0]
    with db.session() as session:
        created = session.scalar(select(Task).where(Task.title == "Call the vendor"))
        assert created is not None
        assert (created.owner_id, created.project_id, created.due) == (
            org["ann"], org["p1"], date(2026, 12, 4))


def test_new_task_for_a_report_with_project(db: Database, org: dict[str, int]) -> None:
    outcome = apply(db, org["mika"], f"+ Interview candidates due 2026-12-11 P-{org['p2']} @bob")
    assert outcome.done and not outcome.refused
    refused = apply(db, org["ann"], f"new: Fix the CI P-{org['p2']} @bob")
    assert refused.done == [] and "can't give a task" in refused.refused[0][1]


def test_meeting_on_an_agenda_logs_one_meeting_confirmed_by_both(
        db: Database, org: dict[str, int]) -> None:
    pair = Pair(org["mika"], org["ann"], date(2026, 11, 30))
    assert apply(db, org["ann"], "met: yes 30min", pair).done
    assert apply(db, org["mika"], "met: yes", pair).done
    with db.session() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert (meeting.status, meeting.held_on, meeting.duration_minutes) == (
            "held", date(2026, 11, 30), 30)
        assert meeting.confirmed_by_manager and meeting.confirmed_by_employee


def test_two_meeting_lines_in_one_message_make_one_meeting_the_last_line_wins(
        db: Database, org: dict[str, int]) -> None:
    from models.queries import person_by_address

    pair = Pair(org["mika"], org["ann"], date(2026, 11, 30))
    text = f"T-{org['t1']} 50%\nmet: no\nmet: yes 45min"
    with db.session() as session, session.begin():  # as the reply path loads the sender
        sender = person_by_address(session, "ann@acme.example")
        assert sender is not None
        commands = parse_commands(text, message_date=NOW, timezone=sender.timezone).commands
        outcome = Applier(session, sender, inbound_id=None, now=NOW, pair=pair).apply(commands)
    assert len(outcome.done) == 3
    assert task(db, org["t1"]).progress == 50
    with db.session() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert (meeting.status, meeting.duration_minutes) == ("held", 45)


def test_skip_is_an_excused_period(db: Database, org: dict[str, int]) -> None:
    apply(db, org["ann"], "skip: vacation", Pair(org["mika"], org["ann"], date(2026, 11, 30)))
    with db.session() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert (meeting.status, meeting.reason) == ("excused", "vacation")


def test_a_manager_must_say_which_one_on_one(db: Database, org: dict[str, int]) -> None:
    outcome = apply(db, org["mika"], "met: yes")
    assert outcome.done == [] and "which 1:1" in outcome.refused[0][1]
    # an employee without reports has one 1:1 only: no agenda needed
    assert apply(db, org["ann"], "met: yes").done
