"""Read-side figures on a small hand-computed company, on both databases."""

from __future__ import annotations

from datetime import date

from models import Goal, Initiative, Meeting, Person, Project, Task
from models.meetings import MeetingStatus
from models.queries import cascade, checkin_record, person_by_address, tasks_of
from models.scoring import Cadence, quarter_window
from tests.conftest import Database

TODAY = date(2026, 11, 28)


def _seed(db: Database) -> None:
    with db.session() as session, session.begin():
        ann = Person(email="ann@x.com", name="Ann", cadence=Cadence.WEEKLY.value)
        ben = Person(email="ben@x.com", name="Ben", manager=ann, cadence=Cadence.WEEKLY.value,
                     active_from=date(2026, 10, 12))
        initiative = Initiative(title="Grow", owner=ann)
        g1 = Goal(title="Revenue", owner=ann, initiative=initiative, weight=3)
        g2 = Goal(title="Hiring", owner=ann, initiative=initiative, weight=1, progress=20)
        p1 = Project(title="Pricing", owner=ben, goal=g1, weight=1)
        p2 = Project(title="Outbound", owner=ben, goal=g1, weight=1)
        session.add_all([ann, ben, initiative, g1, g2, p1, p2])
        session.add_all([
            # Pricing: (100*1 + 40*3) / (1+3) = 55.0 ; the dropped task is left out
            Task(title="Memo", owner=ben, project=p1, status="done", progress=100, weight=1,
                 due=date(2026, 11, 13)),
            Task(title="Model", owner=ben, project=p1, status="in_progress", progress=40,
                 weight=3, due=date(2026, 11, 20)),
            Task(title="Old idea", owner=ben, project=p1, status="dropped", progress=0,
                 weight=5),
            # Outbound: (0*1 + 50*1) / 2 = 25.0
            Task(title="List", owner=ben, project=p2, status="blocked", progress=0,
                 due=date(2026, 12, 20)),
            Task(title="Emails", owner=ann, project=p2, progress=50, due=date(2027, 1, 8)),
        ])
        # Ben joined 2026-10-12 (a Monday): weeks W42..W47 have ended by 2026-11-28 = 6
        # expected; W48 (23–29 Nov) is unfinished and has no meeting, so it is left out.
        for held in (date(2026, 10, 13), date(2026, 10, 20), date(2026, 11, 3)):
            session.add(Meeting(manager=ann, employee=ben, period_start=held, period_end=held,
                                status=MeetingStatus.HELD.value, held_on=held))
        session.add(Meeting(manager=ann, employee=ben, period_start=date(2026, 11, 9),
                            period_end=date(2026, 11, 15), status=MeetingStatus.EXCUSED.value,
                            reason="vacation"))


def test_cascade_rolls_up_as_hand_computed(db: Database) -> None:
    _seed(db)
    with db.session() as session:
        [initiative] = cascade(session, TODAY)
    revenue, hiring = initiative.children
    pricing, outbound = revenue.children
    assert pricing.progress == 55.0
    assert (pricing.tasks, pricing.done, pricing.overdue) == (2, 1, 1)
    assert outbound.progress == 25.0 and outbound.blocked == 1
    assert revenue.progress == 40.0            # (55 + 25) / 2
    assert hiring.progress == 20.0             # no projects: its own progress
    assert initiative.progress == 35.0         # (40*3 + 20*1) / 4
    assert (initiative.tasks, initiative.done, initiative.overdue) == (4, 1, 1)


def test_checkin_record_counts_the_pair_this_quarter(db: Database) -> None:
    _seed(db)
    with db.session() as session:
        ann = person_by_address(session, "ANN@x.com")
        ben = person_by_address(session, "ben@x.com")
        assert ann is not None and ben is not None
        record = checkin_record(session, ann, ben, quarter_window(TODAY), TODAY)
    score = record.score
    # W42..W47 = 6 candidate weeks; W46 (9–15 Nov) excused → 5 expected;
    # held in W42, W43, W45 → 3 held.
    assert (score.expected, score.held, score.excused) == (5, 3, 1)
    assert score.rate == 0.6
    assert score.last_held == date(2026, 11, 3)
    assert score.longest_gap_days == 25        # 2026-11-03 → 2026-11-28


def test_a_persons_tasks_list_open_work_first(db: Database) -> None:
    _seed(db)
    with db.session() as session:
        ben = person_by_address(session, "ben@x.com")
        assert ben is not None
        titles = [task.title for task in tasks_of(session, ben)]
    assert titles == ["Model", "List", "Memo", "Old idea"]
