"""The review cycle in the digests, from Review rows, on SQLite and PostgreSQL.

The golden quarter (``tests/test_digest_golden.py``) plus Dan, Ola's report with no
1:1 held and no goal, and a 2026-Q4 cycle on the scale 1-5 (Poor … Top):

* Ann (Mia): self 4, manager 4 "Strong quarter.", agreed;
* Ben (Mia): self 3, manager 2, disputed on 12 Jan "I joined on 10 Nov: …";
* Cai (Mia): self 4, the manager step missed (Mia was late), acknowledgement pending;
* Dan (Ola): self-review missed, manager 5, acknowledgement waiting;
* Mia (no manager): self-review done, no manager step.

Hand computation. Completion: Mia 3 reviews, 3 self done, 2 manager done and 1
missed, 1 acknowledged (Ann), 1 disputed; Ola 1 review, 1 self missed, 1 manager
done. Calibration, from the golden figures (goal progress at the end, adherence):
Mia's reports Ann (45.9, 83.3), Ben (45.9, 50.0), Cai (20.0, 66.7): rated 2 of 3,
ratings 2 and 4 → (0, 1, 0, 1, 0), mean 3.0; goal progress mean 111.8 / 3 = 37.3,
median 45.9; adherence mean 200.0 / 3 = 66.7, median 66.7. Ola's Dan: 0 of 14
weekly check-ins held → adherence 0.0, no goals → no goal progress; rated 5 →
(0, 0, 0, 0, 1), mean 5.0. The one open dispute: Ben, manager Mia, since 12 Jan.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from mail.write.digest import CalibrationRow, CycleCompletion, DigestView, OpenDispute
from mail.write.digest_render import render_digest
from models import Person, Review, ReviewCycle
from tests.conftest import Database
from tests.test_cli_digest import env_for
from tests.test_cli_mail import drumbeat
from tests.test_digest_golden import NOW, seed
from workers import digests
from workers.evaluations import compute_figures, window_named

COMMENT = "Strong quarter.\nKeep the pricing work going."
DISPUTE = "I joined on 10 Nov: two months cannot show a year's work.\nSee my notes."


def seed_cycle(db: Database, scale: str | None = "1-5:Poor,Fair,Good,Strong,Top"
               ) -> dict[str, int]:
    ids = seed(db)
    with db.session() as session, session.begin():
        dan = Person(email="dan@acme.example", name="Dan Obi", manager_id=ids["ola"])
        session.add(dan)
        session.flush()
        ids["dan"] = dan.id
        cycle = ReviewCycle(period_kind="quarter", period_label="2026-Q4",
                            period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                            opened_at=datetime(2027, 1, 4, 8, tzinfo=UTC),
                            deadline=date(2027, 1, 25), scale=scale)
        session.add(cycle)
        session.flush()

        def review(who: str, manager: str | None, **values: Any) -> None:
            session.add(Review(cycle_id=cycle.id, employee_id=ids[who],
                               manager_id=ids[manager] if manager else None, **values))

        at = datetime(2027, 1, 12, 15, tzinfo=UTC)
        review("ann", "mia", self_state="done", self_rating=4, self_wins="Shipped pricing",
               manager_state="done", manager_rating=4, manager_comment=COMMENT,
               ack_state="agreed", ack_at=at)
        review("ben", "mia", self_state="done", self_rating=3, manager_state="done",
               manager_rating=2, manager_comment="Sales lagged.", ack_state="disputed",
               ack_at=at, dispute_text=DISPUTE)
        review("cai", "mia", self_state="done", self_rating=4, manager_state="missed",
               ack_state="pending")
        review("dan", "ola", self_state="missed", manager_state="done", manager_rating=5,
               manager_comment="Great.", ack_state="waiting")
        review("mia", None, self_state="done", self_rating=5, manager_state="pending",
               ack_state="pending")
    return ids


def views(db: Database, ids: dict[str, int]) -> tuple[dict[str, DigestView], list[int]]:
    """Every copy's view, and the statements each ``view_of`` took."""
    window = window_named("2026-Q4", 1, NOW.date())
    counted: list[int] = []
    with db.session() as session, session.begin():
        figures = compute_figures(session, window, NOW)
        snapshot = digests.take_snapshot(session, figures, NOW)
        managers = digests.managers_map(session)
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        connection = session.connection()  # this session's statements, no other thread's
        event.listen(connection, "before_cursor_execute", count)
        try:
            out = {}
            for key, kind, who in (("hr", "hr", None), ("mia", "manager", "mia"),
                                   ("ola", "manager", "ola"), ("ann", "employee", "ann"),
                                   ("ben", "employee", "ben"), ("cai", "employee", "cai")):
                before = statements[0]
                out[key] = digests.view_of(session, kind, snapshot,
                                           ids[who] if who else None, "Hana", managers,
                                           figures.initiatives)
                counted.append(statements[0] - before)
        finally:
            event.remove(connection, "before_cursor_execute", count)
    return out, counted


def test_hr_sees_completion_the_open_dispute_and_calibration(db: Database) -> None:
    ids = seed_cycle(db)
    copies, statements = views(db, ids)
    assert statements == [1] * len(statements)  # one query per copy, whoever it is for
    cycle = copies["hr"].cycle
    assert cycle is not None
    assert (cycle.opened, cycle.deadline, cycle.closed) == (date(2027, 1, 4),
                                                           date(2027, 1, 25), False)
    assert [level.label for level in cycle.scale] == ["Poor", "Fair", "Good", "Strong", "Top"]
    assert sorted(cycle.completion, key=lambda c: c.manager_name) == [
        CycleCompletion("Mia Park", 3, 3, 0, 2, 1, 1, 1, 0),
        CycleCompletion("Ola Berg", 1, 0, 1, 1, 0, 0, 0, 0)]
    assert sorted(cycle.calibration, key=lambda c: c.manager_name) == [
        CalibrationRow("Mia Park", 3, 2, (0, 1, 0, 1, 0), 3.0, 37.3, 45.9, 66.7, 66.7),
        CalibrationRow("Ola Berg", 1, 1, (0, 0, 0, 0, 1), 5.0, None, None, 0.0, 0.0)]
    assert cycle.disputes == (OpenDispute(
        "Ben Roy", "Mia Park", "I joined on 10 Nov: two months cannot show a year's work.",
        date(2027, 1, 12)),)
    assert all(r.manager_comment is None for r in cycle.reviews)  # HR gets no comments

    rendered = render_digest(copies["hr"])
    text = rendered.text
    section = text.split("THE 2026-Q4 REVIEW CYCLE")[1].split("NO CHECK-IN FOR 4 WEEKS")[0]
    assert "Of 5 reviews: 4 self-reviews done, 3 manager reviews done, 1 acknowledged, " \
           "1 disputed (open), 2 steps missed." in " ".join(section.split())
    assert "Mia Park                      3       3       2       1      1       1" in section
    assert "Ben Roy (manager Mia Park), since 12 Jan 2027:" in section
    assert "two months cannot show a year's work." in section and "See my notes" not in text
    assert "Mia Park        2/3   0   1   0   1   0   3.0  37.3% 45.9%  66.7% 66.7%" in section
    assert "Ola Berg          1   0   0   0   0   1   5.0      –     –     0%    0%" in section
    assert COMMENT.splitlines()[0] not in text and "Shipped pricing" not in text
    assert any("calibration" in image.cid for image in rendered.images)

    rows = {row["Email"]: row for row in csv.DictReader(
        io.StringIO(rendered.csv.decode("utf-8-sig")))}
    ann, cai, hana = rows["ann@acme.example"], rows["cai@acme.example"], rows["hana@acme.example"]
    assert (ann["Review opened"], ann["Review deadline"]) == ("2027-01-04", "2027-01-25")
    assert (ann["Self-review"], ann["Self rating"], ann["Manager review"],
            ann["Manager rating"], ann["Acknowledgement"]) == ("done", "4", "done", "4", "agreed")
    assert (cai["Manager review"], cai["Manager rating"], cai["Acknowledgement"]) == (
        "missed", "", "pending")
    assert rows["ben@acme.example"]["Acknowledgement"] == "disputed"
    assert hana["Review opened"] == "" and hana["Self-review"] == ""  # no review of hers


def test_a_manager_sees_only_their_reports_reviews(db: Database) -> None:
    ids = seed_cycle(db)
    copies, _ = views(db, ids)
    mia, ola = copies["mia"].cycle, copies["ola"].cycle
    assert mia is not None and ola is not None
    assert sorted(r.person_id for r in mia.reviews) == sorted(ids[n] for n in ("ann", "ben",
                                                                               "cai"))
    assert [r.person_id for r in ola.reviews] == [ids["dan"]]
    assert mia.completion == mia.calibration == mia.disputes == ()
    text = render_digest(copies["mia"]).text
    team = text.split("YOUR TEAM'S REVIEWS")[1].split("NO CHECK-IN FOR 4 WEEKS")[0]
    assert "Of 3 reviews: 3 self-reviews done, 2 manager reviews done" in " ".join(team.split())
    assert "Ann Lee           done     4 Strong     done     4 Strong     agreed" in team
    assert "Cai Wu            done     4 Strong     missed   –            not yet" in team
    assert "Dan Obi" not in text and "Great." not in text and "Strong quarter" not in text
    assert "two months" not in text  # the dispute's words go to HR, not to the manager
    csv_rows = list(csv.DictReader(io.StringIO(render_digest(copies["mia"]).csv.decode(
        "utf-8-sig"))))
    assert {row["Email"] for row in csv_rows if row["Manager rating"]} == {
        "ann@acme.example", "ben@acme.example"}


def test_an_employee_sees_only_their_own_review(db: Database) -> None:
    ids = seed_cycle(db)
    copies, _ = views(db, ids)
    ann = render_digest(copies["ann"]).text
    own = " ".join(ann.split("YOUR REVIEW")[1].split("YOUR GOALS")[0].split())
    assert "Your self-review is in, rating 4 Strong." in own
    assert "Mia Park's review is in: rating 4 Strong." in own
    assert "You agreed with the review." in own
    assert "Strong quarter. Keep the pricing work going." in own
    for other in ("Ben Roy", "Cai Wu", "Dan Obi", "Sales lagged", "two months", "Great."):
        assert other not in ann, other
    cai = copies["cai"].cycle
    assert cai is not None and [r.person_id for r in cai.reviews] == [ids["cai"]]
    assert "Mia Park did not answer by the deadline." in " ".join(
        render_digest(copies["cai"]).text.split())
    ben = render_digest(copies["ben"])
    assert "You disputed the review; HR has it and will answer." in " ".join(ben.text.split())
    [row] = list(csv.DictReader(io.StringIO(ben.csv.decode("utf-8-sig"))))
    assert (row["Self rating"], row["Manager rating"]) == ("3", "2")


def test_the_manager_rating_waits_for_the_manager_step(db: Database) -> None:
    ids = seed_cycle(db)
    with db.session() as session, session.begin():  # Ann's manager step reopened
        review = session.query(Review).filter_by(employee_id=ids["ann"]).one()
        review.manager_state, review.ack_state = "waiting", "pending"
    copies, _ = views(db, ids)
    cycle = copies["ann"].cycle
    assert cycle is not None
    [mine] = cycle.reviews
    assert mine.manager_rating is None and mine.manager_comment is None
    assert "Strong quarter" not in render_digest(copies["ann"]).text


def test_without_a_cycle_the_digests_are_as_before(db: Database) -> None:
    ids = seed(db)
    with db.session() as session, session.begin():  # a cycle of another period only
        session.add(ReviewCycle(period_kind="year", period_label="2025",
                                period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                                deadline=date(2026, 1, 31), scale="1-5"))
    copies, statements = views(db, {**ids, "dan": 0})
    assert statements == [1] * len(statements)
    window = window_named("2026-Q4", 1, NOW.date())
    with db.session() as session:
        snapshot = digests.load_snapshot(session, window)
        managers = digests.managers_map(session)
        plain = digests.hr_view(snapshot, "Hana", managers, copies["hr"].initiatives)
    assert all(view.cycle is None for view in copies.values())
    assert render_digest(copies["hr"]) == render_digest(plain)
    text = render_digest(copies["hr"]).text
    assert "REVIEW" not in text
    rows = list(csv.DictReader(io.StringIO(render_digest(plain).csv.decode("utf-8-sig"))))
    assert all(row["Self-review"] == row["Manager rating"] == "" for row in rows)


def test_drumbeat_digest_prints_an_employees_own_review(db: Database, tmp_path: Path) -> None:
    seed_cycle(db)
    result = drumbeat(env_for(db, tmp_path), "digest", "--period", "2026-Q4", "--kind",
                      "employee", "--person", "ann@acme.example", "--today", "2027-01-04")
    assert result.returncode == 0, result.stderr
    assert "YOUR REVIEW" in result.stdout and "Strong quarter." in result.stdout
    assert "Ben Roy" not in result.stdout
