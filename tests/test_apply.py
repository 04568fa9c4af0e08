"""Applying reply commands: what changes, what is refused, and who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from mail.read.commands import TaskDoneOn
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


# --- correcting when a task was done ------------------------------------------------
# NOW is Mon 30 Nov 2026: the current period is 2026-Q4, from Thu 1 Oct.


def history_notes(db: Database, task_id: int) -> list[tuple[str | None, int | None]]:
    with db.session() as session:
        return [(row.note, row.author_id) for row in session.scalars(
            select(TaskHistory).where(TaskHistory.task_id == task_id).order_by(TaskHistory.id))]


def test_the_owner_sets_a_completion_day_in_the_current_period(db: Database,
                                                               org: dict[str, int]) -> None:
    t1 = org["t1"]
    outcome = apply(db, org["ann"], f"T-{t1} done on 2026-11-20: shipped with the release")
    assert outcome.done == [f"T-{t1} Draft memo: marked done on Fri 20 Nov 2026, "
                            "note “shipped with the release”"]
    done = task(db, t1)
    assert (done.status, done.progress) == ("done", 100)
    assert done.completed_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert history_notes(db, t1) == [
        ("completed on 2026-11-20: shipped with the release", org["ann"])]


def test_a_day_in_an_earlier_period_needs_the_manager(db: Database,
                                                      org: dict[str, int]) -> None:
    t1 = org["t1"]
    refused = apply(db, org["ann"], f"T-{t1} done on 2026-09-28")
    assert refused.done == []
    assert refused.refused == [(f"T-{t1} done on 2026-09-28", "Mon 28 Sep 2026 is before the "
                                "current period (2026-Q4); only Ann Lee's manager can set a "
                                "completion date in an earlier period")]
    assert (task(db, t1).status, task(db, t1).completed_at) == ("open", None)
    assert history_notes(db, t1) == []

    allowed = apply(db, org["mika"], f"T-{t1} done on 2026-09-28")
    assert allowed.done == [f"T-{t1} Draft memo: marked done on Mon 28 Sep 2026"]
    assert task(db, t1).completed_at == datetime(2026, 9, 28, 12, 0, tzinfo=UTC)
    # and up the line: Hana corrects it again; the history keeps both, with who
    assert apply(db, org["hana"], f"T-{t1} done on 2026-09-25").done
    assert history_notes(db, t1) == [
        ("completed on 2026-09-28", org["mika"]),
        ("completed on 2026-09-25 (was 2026-09-28)", org["hana"])]
    # nor may the owner move it out of that period: it is the closed period's record too
    moved = apply(db, org["ann"], f"T-{t1} done on 2026-11-20")
    assert moved.refused == [(f"T-{t1} done on 2026-11-20", f"T-{t1} was done on Fri 25 Sep "
                              "2026, before the current period (2026-Q4); only Ann Lee's "
                              "manager can change that record")]
    assert apply(db, org["mika"], f"T-{t1} done on 2026-11-20").done == [
        f"T-{t1} Draft memo: marked done on Fri 20 Nov 2026 (was Fri 25 Sep 2026)"]


def test_someone_with_no_manager_corrects_their_own_earlier_period(
        db: Database, org: dict[str, int]) -> None:
    with db.session() as session, session.begin():
        own = Task(title="Board pack", owner_id=org["hana"], project_id=org["p1"])
        session.add(own)
        session.flush()
        own_id = own.id
    assert apply(db, org["hana"], f"T-{own_id} done on 2026-09-30").done == [
        f"T-{own_id} Board pack: marked done on Wed 30 Sep 2026"]


def test_the_current_period_follows_the_fiscal_calendar(db: Database,
                                                        org: dict[str, int]) -> None:
    """With a year starting in February, 2026-11-01..2027-01-31 is FY2027-Q4, so
    Mon 2 Nov is in the current period and Fri 30 Oct is not."""
    t1 = org["t1"]
    with db.session() as session, session.begin():
        ann = session.get(Person, org["ann"])
        assert ann is not None
        commands = parse_commands(f"T-{t1} done on 2026-10-30\nT-{t1} done on 2026-11-02",
                                  message_date=NOW, timezone=ann.timezone).commands
        outcome = Applier(session, ann, inbound_id=None, now=NOW,
                          fiscal_year_start_month=2).apply(commands)
    assert [reason for _line, reason in outcome.refused] == [
        "Fri 30 Oct 2026 is before the current period (FY2027-Q4); only Ann Lee's manager "
        "can set a completion date in an earlier period"]
    assert outcome.done == [f"T-{t1} Draft memo: marked done on Mon 02 Nov 2026"]


def test_a_completion_day_in_the_future_is_refused(db: Database, org: dict[str, int]) -> None:
    t1 = org["t1"]
    written = apply(db, org["mika"], f"T-{t1} done on 2026-12-01")  # the reader refuses it
    assert written.done == [] and written.not_understood == [(
        f"T-{t1} done on 2026-12-01", "2026-12-01 is after this message. Write the day it was "
        f"done, e.g. T-{t1} done on yesterday")]
    with db.session() as session, session.begin():  # and so does the applier, on its own
        mika = session.get(Person, org["mika"])
        assert mika is not None
        outcome = Applier(session, mika, inbound_id=None, now=NOW).apply(
            [TaskDoneOn(f"T-{t1}", date(2026, 12, 1), line="T-1 done on Tuesday")])
    assert outcome.refused == [("T-1 done on Tuesday", "Tue 01 Dec 2026 is in the future; "
                                "mark a task done once it is finished")]
    assert task(db, t1).status == "open"


@pytest.mark.parametrize("who", ["bob", "rita"])
def test_a_completion_day_out_of_scope_is_answered_as_an_unknown_task(
        db: Database, org: dict[str, int], who: str) -> None:
    outcome = apply(db, org[who], f"T-{org['t1']} done on 2026-11-20\nT-99999 done on 2026-11-20")
    assert outcome.done == []
    existing, missing = (reason for _line, reason in outcome.refused)
    assert existing.replace(f"T-{org['t1']}", "T-X") == missing.replace("T-99999", "T-X")
    assert task(db, org["t1"]).completed_at is None
