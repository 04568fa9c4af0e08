"""The golden quarter: a small company whose 2026-Q4 figures were computed by hand.

The figures, the Evaluation rows, the digest's text, its CSV and ``drumbeat
status`` must all show the same numbers, on SQLite and PostgreSQL. Edge cases on
purpose: Ben joined mid-quarter, Cai changed manager mid-quarter, Ann had two
excused weeks, goal G2 has no tasks, Ann's T4 was moved into next quarter.

Hand computation (the rules are in models/scoring.py and workers/evaluations.py):

* Ann, weekly: 14 weeks anchor in Q4 (Thu Oct 1 … Thu Dec 31); 2 excused → 12
  expected; held in 10 → 83.3%. Gaps between Oct 1, the held days and Dec 31:
  the longest is Oct 15 → Nov 5 = 21 days. Confirmed by both: Oct 1, Oct 8,
  Nov 26, Dec 3 → 4.
* Ben, monthly, joined Nov 10: October's anchor (Oct 16) is before he joined →
  Nov and Dec expected, Nov held → 50.0%; gap Nov 20 → Dec 31 = 41 days.
* Cai, biweekly (blocks from Mon 2024-01-01): Q4 blocks start Oct 5, Oct 19,
  Nov 2, Nov 16, Nov 30, Dec 14 → 6 expected; held Oct 7 and Oct 21 (with Ola,
  his manager then) and Nov 18, Dec 2 (with Mia) → 4 → 66.7%; longest gap Dec 2
  → Dec 31 = 29 days.
* Mia's team: (10 + 1 + 4) / (12 + 2 + 6) = 75.0%.
* P1 (weights T1 1, T2 3, T3 1, T4 1): at the start 20, 0, 0, 10 → 30/6 = 5.0;
  at the end 100, 100, 56, 10 → 466/6 = 77.7. P2 (T5; T6 dropped): 30.0 both.
  G1 = (P1 × 1 + P2 × 2) / 3: start (5.0 + 60) / 3 = 21.7, end (77.7 + 60) / 3 =
  45.9; due Dec 31, so 100% of its time has elapsed → at risk.
  G2 (no tasks, weight 2): its own 20.0; due 2027-06-30, created 2026-01-01:
  364 / 545 days = 66.8% elapsed → at risk. Initiative I1 = (G1 + 2 × G2) / 3:
  start 61.7 / 3 = 20.6, end 85.9 / 3 = 28.6.
* Tasks due in Q4: Ann T1 (done Oct 14, due Oct 15: on time), T2 (done Dec 5,
  due Nov 30: late), T3 (due Dec 20, open) → 3 due, 2 done, 1 on time, 2
  overdue, 33.3%; T4 (moved to Jan 15) is not due. Ben T5 (due Dec 10, blocked)
  → 1 due, 0 done, 1 overdue, 0.0%, 1 blocked.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from drumbeat.status import render_person
from mail.read.grammar import parse_commands
from mail.write.digest_render import render_digest
from models import Evaluation, Goal, Initiative, Meeting, OutboundMessage, Person, Project, Task
from models.plan import TaskHistory
from tests.conftest import Database
from workers import digests
from workers.apply import Applier, Outcome
from workers.evaluations import compute_figures, window_named

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
JAN1 = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def seed(db: Database) -> dict[str, int]:
    with db.session() as session, session.begin():
        mia = Person(email="mia@acme.example", name="Mia Park")
        ola = Person(email="ola@acme.example", name="Ola Berg")
        hana = Person(email="hana@acme.example", name="Hana Ito", is_hr=True)
        ann = Person(email="ann@acme.example", name="Ann Lee", manager=mia, cadence="weekly")
        ben = Person(email="ben@acme.example", name="Ben Roy", manager=mia, cadence="monthly",
                     active_from=date(2026, 11, 10))
        cai = Person(email="cai@acme.example", name="Cai Wu", manager=mia, cadence="biweekly")
        session.add_all([mia, ola, hana, ann, ben, cai])
        session.flush()
        grow = Initiative(title="Grow", owner=mia, created_at=JAN1)
        revenue = Goal(title="Revenue", owner=mia, initiative=grow, due=date(2026, 12, 31),
                       created_at=JAN1)
        hiring = Goal(title="Hiring", owner=cai, initiative=grow, due=date(2027, 6, 30),
                      progress=20, weight=2, created_at=JAN1)
        pricing = Project(title="Pricing", owner=ann, goal=revenue, created_at=JAN1)
        sales = Project(title="Sales", owner=ben, goal=revenue, weight=2, created_at=JAN1)
        session.add_all([grow, revenue, hiring, pricing, sales])
        session.flush()

        def task(title: str, owner: Person, project: Project, **values: object) -> Task:
            item = Task(title=title, owner=owner, project=project, created_at=JAN1, **values)
            session.add(item)
            session.flush()
            return item

        t1 = task("T1", ann, pricing, due=date(2026, 10, 15), status="done", progress=100,
                  completed_at=at(date(2026, 10, 14)))
        t2 = task("T2", ann, pricing, weight=3, due=date(2026, 11, 30), status="done",
                  progress=100, completed_at=at(date(2026, 12, 5)))
        t3 = task("T3", ann, pricing, due=date(2026, 12, 20), status="in_progress", progress=56)
        t4 = task("T4", ann, pricing, due=date(2027, 1, 15), progress=10)
        t5 = task("T5", ben, sales, due=date(2026, 12, 10), status="blocked", progress=30)
        task("T6", ben, sales, status="dropped", progress=0)
        for item, day, old, new, old_status, new_status in (
                (t1, date(2026, 10, 14), 20, 100, "in_progress", "done"),
                (t2, date(2026, 11, 1), 0, 60, "open", "in_progress"),
                (t2, date(2026, 12, 5), 60, 100, "in_progress", "done"),
                (t3, date(2026, 12, 1), 0, 56, "open", "in_progress"),
                (t4, date(2026, 11, 15), 10, 10, "open", "open"),
                (t5, date(2026, 10, 20), 30, 30, "open", "blocked")):
            session.add(TaskHistory(task_id=item.id, author_id=item.owner_id, source="email",
                                   created_at=at(day), old_progress=old, new_progress=new,
                                   old_status=old_status, new_status=new_status))

        def meeting(employee: Person, manager: Person, start: date, end: date,
                    held: date | None, status: str = "held", both: bool = False) -> None:
            session.add(Meeting(manager_id=manager.id, employee_id=employee.id,
                                period_start=start, period_end=end, status=status,
                                held_on=held, confirmed_by_manager=True,
                                confirmed_by_employee=both))

        weeks = {date(2026, 9, 28): date(2026, 10, 1), date(2026, 10, 5): date(2026, 10, 8),
                 date(2026, 10, 12): date(2026, 10, 15), date(2026, 11, 2): date(2026, 11, 5),
                 date(2026, 11, 9): date(2026, 11, 12), date(2026, 11, 23): date(2026, 11, 26),
                 date(2026, 11, 30): date(2026, 12, 3), date(2026, 12, 14): date(2026, 12, 17),
                 date(2026, 12, 21): date(2026, 12, 24), date(2026, 12, 28): date(2026, 12, 31)}
        for start, held in weeks.items():
            meeting(ann, mia, start, start + timedelta(days=6), held,
                    both=held in (date(2026, 10, 1), date(2026, 10, 8), date(2026, 11, 26),
                                  date(2026, 12, 3)))
        for start in (date(2026, 10, 19), date(2026, 10, 26)):
            meeting(ann, mia, start, start + timedelta(days=6), None, status="excused")
        meeting(ben, mia, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 20))
        meeting(cai, ola, date(2026, 10, 5), date(2026, 10, 18), date(2026, 10, 7))
        meeting(cai, ola, date(2026, 10, 19), date(2026, 11, 1), date(2026, 10, 21))
        meeting(cai, mia, date(2026, 11, 16), date(2026, 11, 29), date(2026, 11, 18))
        meeting(cai, mia, date(2026, 11, 30), date(2026, 12, 13), date(2026, 12, 2))
        return {p.email.split("@")[0]: p.id for p in (mia, ola, hana, ann, ben, cai)}


EXPECTED = {  # person: (goals owned, contributed, progress start, end, due, done, on time,
    #                    overdue, blocked, on-time rate, expected, held, confirmed, excused,
    #                    adherence, longest gap)
    "ann": (0, 1, 21.7, 45.9, 3, 2, 1, 2, 0, 33.3, 12, 10, 4, 2, 83.3, 21),
    "ben": (0, 1, 21.7, 45.9, 1, 0, 0, 1, 1, 0.0, 2, 1, 0, 0, 50.0, 41),
    "cai": (1, 0, 20.0, 20.0, 0, 0, 0, 0, 0, None, 6, 4, 0, 0, 66.7, 29),
    "mia": (1, 0, 21.7, 45.9, 0, 0, 0, 0, 0, None, 0, 0, 0, 0, None, None),
}
FIELDS = ("goals_owned", "goals_contributed", "goal_progress_start", "goal_progress_end",
          "tasks_due", "tasks_done", "tasks_done_on_time", "tasks_overdue", "tasks_blocked",
          "on_time_rate", "checkins_expected", "checkins_held", "checkins_confirmed",
          "checkins_excused", "adherence", "longest_gap_days")


@pytest.fixture
def golden(db: Database) -> tuple[Database, dict[str, int]]:
    return db, seed(db)


def test_the_figures_are_the_hand_computed_ones(golden: tuple[Database, dict[str, int]]
                                                 ) -> None:
    db, ids = golden
    with db.session() as session:
        figures = compute_figures(session, window_named("2026-Q4", 1, NOW.date()), NOW)
    people = {p.person_id: p for p in figures.people}
    for name, expected in EXPECTED.items():
        got = tuple(getattr(people[ids[name]], field) for field in FIELDS)
        assert got == expected, name
    assert people[ids["mia"]].team_adherence == 75.0 and people[ids["mia"]].reports == 3
    assert people[ids["ola"]].reports == 0 and people[ids["ola"]].team_adherence is None
    goals = {g.ref: g for g in people[ids["cai"]].goals + people[ids["mia"]].goals}
    assert goals[f"G-{_goal(db, 'Hiring')}"].expected == 66.8
    assert all(goal.at_risk for goal in goals.values())
    [grow] = figures.initiatives
    assert (grow.progress_start, grow.progress_end, grow.goals_at_risk) == (20.6, 28.6, 2)
    assert [m.state for m in people[ids["cai"]].timeline] == [
        "held", "held", "missed", "held", "held", "missed"]
    assert figures.queries <= 8  # a constant number, whatever the size of the company


def _goal(db: Database, title: str) -> int:
    with db.session() as session:
        goal = session.scalar(select(Goal).where(Goal.title == title))
        assert goal is not None
        return goal.id


def test_digest_csv_snapshot_and_status_agree(golden: tuple[Database, dict[str, int]],
                                              tmp_path: Path) -> None:
    db, ids = golden
    window = window_named("2026-Q4", 1, NOW.date())
    with db.session() as session, session.begin():
        figures = compute_figures(session, window, NOW)
        snapshot = digests.take_snapshot(session, figures, NOW)
        view = digests.hr_view(snapshot, "Hana", digests.managers_map(session),
                               figures.initiatives)
    rendered = render_digest(view)
    rows = list(csv.DictReader(io.StringIO(rendered.csv.decode("utf-8-sig"))))
    ann_row = next(row for row in rows if "ann@acme.example" in row.values())
    assert {"83.3", "33.3", "45.9", "21.7", "12", "10"} <= set(ann_row.values())
    for text in ("83.3%", "75%", "45.9%", "Ben Roy", "Cai Wu"):
        assert text in rendered.text or text.replace(".0%", "%") in rendered.text, text

    with db.session() as session:
        stored = {row.person_id: row for row in session.scalars(select(Evaluation))}
        ann = session.get(Person, ids["ann"])
        assert ann is not None
        page = render_person(session, ann, date(2026, 12, 31), 1)
    assert stored[ids["ann"]].figures["adherence"] == 83.3
    assert stored[ids["ann"]].figures["on_time_rate"] == 33.3
    assert stored[ids["ann"]].period_label == "2026-Q4"
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(page)
    shown = console.export_text()
    assert "10 / 12" in shown and "83.3%" in shown and "21 days" in shown


def test_a_sent_snapshot_is_kept_and_the_next_digest_lists_what_changed(
        golden: tuple[Database, dict[str, int]]) -> None:
    db, ids = golden
    window = window_named("2026-Q4", 1, NOW.date())
    with db.session() as session, session.begin():
        snapshot = digests.take_snapshot(session, compute_figures(session, window, NOW), NOW)
        digests.freeze_shown_snapshots(session, window.label, list(snapshot.people), NOW)
    with db.session() as session, session.begin():  # a late reply logs one more meeting
        session.add(Meeting(manager_id=ids["mia"], employee_id=ids["ben"],
                            period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
                            status="held", held_on=date(2026, 12, 18),
                            confirmed_by_manager=True, confirmed_by_employee=False))
    with db.session() as session, session.begin():
        again = digests.take_snapshot(session, compute_figures(session, window, NOW), NOW)
    assert again.people[ids["ben"]].adherence == 50.0  # as sent
    assert "Ben Roy: adherence 50.0 → 100.0" in again.changes[ids["ben"]]
    with db.session() as session:
        row = session.scalar(select(Evaluation).where(Evaluation.person_id == ids["ben"]))
        assert row is not None and row.figures["adherence"] == 50.0


def _reply(db: Database, sender_id: int, text: str, now: datetime) -> Outcome:
    """A reply's lines, read and applied as the reply path does, at ``now``."""
    with db.session() as session, session.begin():
        sender = session.get(Person, sender_id)
        assert sender is not None
        parsed = parse_commands(text, message_date=now, timezone=sender.timezone)
        assert parsed.errors == ()
        return Applier(session, sender, inbound_id=None, now=now).apply(parsed.commands)


def test_a_completion_day_corrected_into_the_closed_quarter_is_listed_as_changed(
        golden: tuple[Database, dict[str, int]]) -> None:
    """Ann's T3 (due Dec 20, 56% at the quarter's end) is marked done on Jan 5, after
    the digest went out; the day it was really done, Dec 18, needs her manager. The
    quarter's snapshot stays as sent; the next digest lists what the fact changed:
    done on time (2 of 3), and P1 at the end (100 + 300 + 100 + 10) / 6 = 85.0, so G1
    (85.0 + 60) / 3 = 48.3."""
    db, ids = golden
    window = window_named("2026-Q4", 1, NOW.date())
    with db.session() as session, session.begin():
        snapshot = digests.take_snapshot(session, compute_figures(session, window, NOW), NOW)
        digests.freeze_shown_snapshots(session, window.label, list(snapshot.people), NOW)
        t3 = session.scalar(select(Task.id).where(Task.title == "T3"))
    jan5, jan6 = NOW + timedelta(days=1), NOW + timedelta(days=2)
    assert _reply(db, ids["ann"], f"T-{t3} done", jan5).done
    assert _reply(db, ids["ann"], f"T-{t3} done on 2026-12-18", jan6).refused
    assert _reply(db, ids["mia"], f"T-{t3} done on 2026-12-18", jan6).done

    with db.session() as session, session.begin():
        again = digests.take_snapshot(session, compute_figures(session, window, jan6), jan6)
    assert again.people[ids["ann"]].on_time_rate == 33.3  # as sent
    assert {"Ann Lee: tasks done 2 → 3", "Ann Lee: done on time 1 → 2",
            "Ann Lee: on-time rate 33.3 → 66.7", "Ann Lee: goal progress 45.9 → 48.3"
            } <= set(again.changes[ids["ann"]])
    assert "Mia Park: goal progress" in " ".join(again.changes[ids["mia"]])  # G1 is hers
    with db.session() as session:
        row = session.scalar(select(Evaluation).where(Evaluation.person_id == ids["ann"]))
        assert row is not None and row.figures["on_time_rate"] == 33.3


def test_digests_never_show_1on1_notes(golden: tuple[Database, dict[str, int]]) -> None:
    db, _ids = golden
    with db.session() as session, session.begin():
        for meeting in session.scalars(select(Meeting)):
            meeting.notes = "CONFIDENTIAL: salary talk"
    window = window_named("2026-Q4", 1, NOW.date())
    with db.session() as session, session.begin():
        figures = compute_figures(session, window, NOW)
        snapshot = digests.take_snapshot(session, figures, NOW)
        managers = digests.managers_map(session)
        views = [digests.hr_view(snapshot, "Hana", managers, figures.initiatives),
                 *(digests.manager_view(snapshot, pid, managers) for pid in snapshot.people
                   if pid in set(managers.values()))]
    for view in views:
        rendered = render_digest(view)
        for part in (rendered.text, rendered.html, rendered.csv.decode("utf-8-sig")):
            assert "CONFIDENTIAL" not in part and "salary" not in part


def test_the_scheduler_sends_each_digest_once_with_charts_and_the_csv(
        golden: tuple[Database, dict[str, int]], tmp_path: Path) -> None:
    from email import message_from_bytes
    from email.policy import default

    from tests.test_agendas_pipeline import DOMAIN, make_settings
    from workers.runtime import configure, transport_for
    from workers.sending import deliver

    db, ids = golden
    settings = make_settings(None, tmp_path)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=lambda: NOW)
    with db.session() as session, session.begin():
        early = digests.dispatch_due(session, datetime(2027, 1, 2, tzinfo=UTC), DOMAIN, 1, 3,
                                      True)
        created = digests.dispatch_due(session, NOW, DOMAIN, 1, 3, True)
        again = digests.dispatch_due(session, NOW, DOMAIN, 1, 3, True)
    assert early == [] and again == []  # not before the delay, and once
    with db.session() as session:
        rows = {row.dedupe_key: row for row in session.scalars(
            select(OutboundMessage).where(OutboundMessage.id.in_(created)))}
    assert set(rows) == {f"digest:{period}:{kind}:{ids[name]}" for period in ("2026-Q4", "2026")
                         for kind, name in (("hr", "hana"), ("manager", "mia"),
                                            ("employee", "ann"), ("employee", "ben"),
                                            ("employee", "cai"))}  # the quarter and the year
    hr = rows[f"digest:2026-Q4:hr:{ids['hana']}"]
    assert deliver(rt, hr.id) == "sent"
    [path] = [p for p in (tmp_path / "maildir" / "new").iterdir()]
    message = message_from_bytes(path.read_bytes(), policy=default)
    kinds = [part.get_content_type() for part in message.walk()]
    assert "image/png" in kinds and "text/csv" in kinds
    assert "2026-Q4" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "83.3%" in text
    with db.session() as session:  # the figures a digest went out with are kept
        assert all(row.sent_at is not None for row in session.scalars(select(Evaluation)))
