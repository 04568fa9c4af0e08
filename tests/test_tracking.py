"""Fair from the first day (issue 16), on SQLite and PostgreSQL: a company installed
mid-quarter is judged from the day Drumbeat started tracking each pair, in the agenda,
``drumbeat status`` and the digest figures; earlier 1:1s back-filled with
``drumbeat import meetings`` count from their period, all or nothing, idempotently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from config.settings import get_settings
from drumbeat.cli import app
from mail.write.digest import PersonFigures
from mail.write.tokens import reply_address
from models import Meeting, OutboundMessage, Person
from tests.conftest import Database
from tests.test_agendas_pipeline import DOMAIN, SECRET, Clock, make_settings
from tests.test_meeting_record import write
from workers.agendas import dispatch_due
from workers.digests import what_changed
from workers.evaluations import compute_figures, window_named
from workers.runtime import Runtime, configure, transport_for
from workers.sending import deliver

IMPORTED = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # a Sunday, late in 2026-Q4
AGENDAS_DUE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # Monday 10:00's agendas, 24 h ahead
MET = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # just after the Monday 1:1
COMPANY = """email,name,manager_email,timezone,checkin_day,checkin_time
grace@acme.example,Grace Hopper,,Europe/London,monday,10:00
ada@acme.example,Ada Lovelace,grace@acme.example,Europe/London,monday,10:00
ben@acme.example,Ben Ng,ada@acme.example,Europe/London,monday,10:00
cy@acme.example,Cy Young,grace@acme.example,Europe/London,monday,10:00
"""


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def cli(db: Database, *args: str, at: datetime = IMPORTED) -> tuple[int, str]:
    """Run ``drumbeat`` with Drumbeat's clock at ``at``; (exit code, stdout + stderr)."""
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args), env={
        "DRUMBEAT_DATABASE_URL": db.url, "DRUMBEAT_CLOCK_START": at.isoformat(),
        "COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout + result.stderr


def import_company(db: Database, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(COMPANY, encoding="utf-8")
    code, output = cli(db, "import", "people", str(people))
    assert code == 0, output


def runtime(db: Database, tmp_path: Path, clock: Clock) -> Runtime:
    settings = make_settings(None, tmp_path).model_copy(
        update={"trusted_relays": "192.0.2.0/24"})
    return configure(settings, engine=db.engine, transport=transport_for(settings), clock=clock)


def figures(rt: Runtime, today: date) -> dict[str, PersonFigures]:
    with rt.sessions() as session:
        found = compute_figures(session, window_named("2026-Q4", 1, today),
                                datetime.combine(today, datetime.min.time(), UTC))
    return {p.email: p for p in found.people}


def test_a_company_installed_mid_quarter_is_judged_from_its_first_day(
        db: Database, tmp_path: Path) -> None:
    import_company(db, tmp_path)
    clock = Clock(AGENDAS_DUE)
    rt = runtime(db, tmp_path, clock)
    with rt.sessions() as session, session.begin():
        assert {p.email: p.tracking_from for p in session.scalars(select(Person))} == {
            "grace@acme.example": None, "ada@acme.example": date(2026, 12, 6),
            "ben@acme.example": date(2026, 12, 6), "cy@acme.example": date(2026, 12, 6)}
        ids = dispatch_due(session, AGENDAS_DUE, timedelta(hours=24), DOMAIN,
                           timedelta(hours=48))
    assert len(ids) == 6  # three pairs, two agendas each
    for outbox_id in ids:
        assert deliver(rt, outbox_id) == "sent"
    with rt.sessions() as session:
        ada = session.scalar(select(Person).where(Person.email == "ada@acme.example"))
        agenda = session.scalar(select(OutboundMessage).where(
            OutboundMessage.recipient_id == ada.id, OutboundMessage.kind == "agenda"))
        text = " ".join((agenda.body_text or "").split())
    # The issue saw "2026-Q4 so far: 0 of 10 check-ins held, 0%".
    assert "0 of 10" not in text
    assert "2026-Q4 so far (tracked since Sun 6 Dec): no check-ins expected yet." in text

    clock.now = MET
    answer = write(rt, "ada", reply_address(agenda.id, SECRET, DOMAIN), "met: yes", MET)
    assert "held" in answer
    code, status = cli(db, "status", "--person", "ada@acme.example", "--today", "2026-12-07")
    assert code == 0, status
    row = next(line for line in status.splitlines() if "Grace Hopper" in line and "│" in line)
    # The issue saw 1 of 11, 9.1% and a longest gap of 67 days.
    assert "2026-12-06" in row and "1 / 1" in row and "100.0%" in row and "1 days" in row
    assert "1 / 11" not in status and "67 days" not in status

    ada_figures = figures(rt, date(2026, 12, 7))["ada@acme.example"]
    assert (ada_figures.checkins_expected, ada_figures.checkins_held, ada_figures.adherence,
            ada_figures.longest_gap_days, ada_figures.tracked_since) == (
        1, 1, 100.0, 1, date(2026, 12, 6))
    assert {mark.state for mark in ada_figures.timeline[:10]} == {"untracked"}


MEETINGS = """employee,manager,date,status,minutes
ada@acme.example,grace@acme.example,2026-10-21,held,"Pricing, hiring"
ada@acme.example,grace@acme.example,2026-11-04,not held,
ada@acme.example,grace@acme.example,2026-11-18,yes,
ada@acme.example,grace@acme.example,2026-11-25,excused,
cy@acme.example,grace@acme.example,2026-12-02,held,
"""


def test_backfilled_meetings_count_from_their_period_and_import_once(
        db: Database, tmp_path: Path) -> None:
    import_company(db, tmp_path)
    meetings = tmp_path / "meetings.csv"
    meetings.write_text(MEETINGS, encoding="utf-8")
    code, output = cli(db, "import", "meetings", str(meetings), "--dry-run")
    assert code == 0 and "would import 5 new, 0 updated, 0 unchanged" in output, output
    code, output = cli(db, "import", "meetings", str(meetings))
    assert code == 0 and "imported 5 new, 0 updated, 0 unchanged" in output, output
    assert "counted from the earliest back-filled 1:1 for 2 people" in output
    code, output = cli(db, "import", "meetings", str(meetings))
    assert code == 0 and "imported 0 new, 0 updated, 5 unchanged" in output, output
    assert "counted from" not in output  # nothing moved the second time

    rt = runtime(db, tmp_path, Clock(IMPORTED))
    with rt.sessions() as session:
        tracked = {p.email: p.tracking_from for p in session.scalars(select(Person))}
        stored = [(m.period_start, m.status, m.held_on, m.notes) for m in session.scalars(
            select(Meeting).order_by(Meeting.period_start))]
    assert tracked["ada@acme.example"] == date(2026, 10, 19)  # the Monday of W43
    assert tracked["cy@acme.example"] == date(2026, 11, 30)  # W49: before the import
    assert tracked["ben@acme.example"] == date(2026, 12, 6)
    assert stored[0] == (date(2026, 10, 19), "held", date(2026, 10, 21), "Pricing, hiring")
    assert [s[1] for s in stored] == ["held", "not_held", "held", "excused", "held"]

    # By hand, as of Monday 12-07: Ada counted from 10-19: W43..W49 are over (7), of
    # which W48 is excused -> 6 expected; held W43 and W47 -> 2 of 6 = 33.3%;
    # gap points 10-19, 10-21, 11-18, 12-07 -> 2, 28, 19 -> 28.
    ada = figures(rt, date(2026, 12, 7))["ada@acme.example"]
    assert (ada.checkins_expected, ada.checkins_held, ada.checkins_excused, ada.adherence,
            ada.longest_gap_days, ada.tracked_since) == (6, 2, 1, 33.3, 28, date(2026, 10, 19))
    # Cy: counted from W49 (held 12-02) -> 1 of 1
    cy = figures(rt, date(2026, 12, 7))["cy@acme.example"]
    assert (cy.checkins_expected, cy.checkins_held) == (1, 1)


def test_a_meetings_file_with_problems_imports_nothing(db: Database, tmp_path: Path) -> None:
    import_company(db, tmp_path)
    bad = tmp_path / "meetings.csv"
    bad.write_text(
        "employee,manager,date,status\n"
        "ada@acme.example,grace@acme.example,2026-10-21,held\n"
        "ada@acme.example,grace@acme.example,2026-10-22,held\n"
        "zed@acme.example,grace@acme.example,2026-10-21,held\n"
        "ada@acme.example,grace@acme.example,21/10/2026,held\n"
        "ada@acme.example,grace@acme.example,2026-11-02,maybe\n"
        "ada@acme.example,ada@acme.example,2026-11-09,held\n"
        "ada@acme.example,grace@acme.example,2027-01-05,held\n", encoding="utf-8")
    code, output = cli(db, "import", "meetings", str(bad))
    assert code == 1
    lines = output.splitlines()
    assert ("meetings.csv, row 3, date: row 2 is already this pair's 1:1 of the weekly period "
            "2026-10-19..2026-10-25. Keep one row per pair and period.") in lines
    assert ("meetings.csv, row 4, employee_email: no person has the address zed@acme.example. "
            "Import the people first, or correct the address.") in lines
    assert any(line.startswith("meetings.csv, row 5, date: '21/10/2026' is not a date")
               for line in lines)
    assert ("meetings.csv, row 6, status: 'maybe' is not a meeting status. Write held, "
            "not held or excused.") in lines
    assert ("meetings.csv, row 7, manager_email: is the employee's own address. A 1:1 is "
            "between an employee and their manager.") in lines
    assert any(line.startswith("meetings.csv, row 8, date: 2027-01-05 is in the future")
               for line in lines)
    assert lines[-1] == "6 problem(s); nothing was imported. Fix them and run it again."
    rt = runtime(db, tmp_path, Clock(IMPORTED))
    with rt.sessions() as session:
        assert session.scalars(select(Meeting)).all() == []
        ada = session.scalar(select(Person).where(Person.email == "ada@acme.example"))
        assert ada.tracking_from == date(2026, 12, 6)


def test_a_backfill_never_overrides_what_the_pair_said_by_mail(
        db: Database, tmp_path: Path) -> None:
    import_company(db, tmp_path)
    rt = runtime(db, tmp_path, Clock(IMPORTED))
    with rt.sessions() as session, session.begin():
        ada = session.scalar(select(Person).where(Person.email == "ada@acme.example"))
        session.add(Meeting(manager_id=ada.manager_id, employee_id=ada.id,
                            period_start=date(2026, 11, 30), period_end=date(2026, 12, 6),
                            status="held", held_on=date(2026, 12, 1), employee_says="held"))
    meetings = tmp_path / "meetings.csv"
    meetings.write_text("employee,manager,date,status\n"
                        "ada@acme.example,grace@acme.example,2026-12-02,not held\n",
                        encoding="utf-8")
    code, output = cli(db, "import", "meetings", str(meetings))
    assert code == 1
    assert ("meetings.csv, row 2, status: Drumbeat already has this 1:1 (held on 2026-12-01) "
            "from the pair's own mail. Remove the row: what the two of them said stands.") \
        in output.splitlines()


def test_a_manager_change_forms_a_new_pair_tracked_from_then(
        db: Database, tmp_path: Path) -> None:
    import_company(db, tmp_path)
    moved = tmp_path / "moved.csv"
    moved.write_text("email,name,manager_email\nben@acme.example,Ben Ng,grace@acme.example\n"
                     "cy@acme.example,Cy Young,grace@acme.example\n", encoding="utf-8")
    code, output = cli(db, "import", "people", str(moved), at=datetime(2026, 12, 20, tzinfo=UTC))
    assert code == 0 and "0 new, 1 updated, 1 unchanged" in output, output
    explicit = tmp_path / "explicit.csv"
    explicit.write_text("email,name,tracking_from\ncy@acme.example,Cy Young,2026-10-01\n",
                        encoding="utf-8")
    code, output = cli(db, "import", "people", str(explicit))
    assert code == 0 and "0 new, 1 updated, 0 unchanged" in output, output
    rt = runtime(db, tmp_path, Clock(IMPORTED))
    with rt.sessions() as session:
        tracked = {p.email: p.tracking_from for p in session.scalars(select(Person))}
    assert tracked["ben@acme.example"] == date(2026, 12, 20)  # now reports to Grace
    assert tracked["cy@acme.example"] == date(2026, 10, 1)  # the file's own date


def test_the_example_meetings_back_fill_the_example_company(db: Database) -> None:
    from tests.conftest import EXAMPLES

    code, output = cli(db, "import", "people", str(EXAMPLES / "people.csv"),
                       "--tracking-from", "2026-09-28")
    assert code == 0, output
    code, output = cli(db, "import", "meetings", str(EXAMPLES / "meetings.csv"))
    assert code == 0 and "imported 6 new, 0 updated, 0 unchanged" in output, output
    assert "for 2 people" in output  # Ana and Lukáš now count from September


def test_a_back_fill_after_sending_is_listed_with_the_moved_start() -> None:
    sent = PersonFigures.from_json({
        "person_id": 1, "name": "Ada", "email": "ada@x.example", "manager_name": "Grace",
        "active_from": None, "active_to": None, "initiatives": [], "goals_owned": 0,
        "goals_contributed": 0, "goal_progress_start": None, "goal_progress_end": None,
        "goals": [], "tasks_due": 0, "tasks_done": 0, "tasks_done_on_time": 0,
        "tasks_overdue": 0, "tasks_blocked": 0, "on_time_rate": None,
        "checkins_expected": 3, "checkins_held": 3, "checkins_confirmed": 3,
        "checkins_excused": 0, "adherence": 100.0, "longest_gap_days": 7,
        "last_checkin": "2026-12-28", "days_since_checkin": 3, "timeline": []})
    assert sent.tracked_since is None  # a snapshot from before the field: never listed
    now = replace(sent, tracked_since=date(2026, 12, 7))
    assert what_changed(sent, now) == ()
    sent = now
    now = replace(sent, tracked_since=date(2026, 10, 19), checkins_expected=10,
                  checkins_held=5, adherence=50.0)
    assert what_changed(sent, now) == (
        "Ada: check-ins expected 3 → 10", "Ada: check-ins held 3 → 5",
        "Ada: adherence 100.0 → 50.0", "Ada: tracked since 2026-12-07 → 2026-10-19")
