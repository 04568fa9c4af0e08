"""Talking points and time away as the applier records them: which pair a topic lands
on, closing one by name or by a logged meeting, and the check-ins an away range excuses.
Both databases; the real grammar reads the lines (the pipeline tests are in
tests/test_topics_pipeline.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from mail.read.grammar import parse_commands
from models import Meeting, OutboundMessage, Person, TalkingPoint, TimeAway
from tests.conftest import Database
from tests.test_apply import NOW, apply, org  # noqa: F401  (org is a fixture)
from workers import outbox
from workers.apply import Applier, Outcome, Pair


def pair(ids: dict[str, int], manager: str, employee: str) -> Pair:
    return Pair(ids[manager], ids[employee])


def points(db: Database) -> list[tuple[int, int, str, bool]]:
    with db.session() as session:
        return [(p.manager_id, p.employee_id, p.text, p.closed_at is None)
                for p in session.scalars(select(TalkingPoint).order_by(TalkingPoint.id))]


def test_a_topic_from_either_side_lands_on_the_agendas_pair(
        db: Database, org: dict[str, int]) -> None:  # noqa: F811
    ann_pair = pair(org, "mika", "ann")
    outcome = apply(db, org["ann"], "topic: the hiring plan", ann_pair)
    assert outcome.done == ["Topic added for your next 1:1 with Mika Sato: the hiring plan"]
    outcome = apply(db, org["mika"], "topic: Offsite dates", ann_pair)
    assert outcome.done == ["Topic added for your next 1:1 with Ann Lee: Offsite dates"]
    assert points(db) == [(org["mika"], org["ann"], "the hiring plan", True),
                          (org["mika"], org["ann"], "Offsite dates", True)]


def test_the_same_open_topic_is_not_added_twice(db: Database, org: dict[str, int]  # noqa: F811
                                                ) -> None:
    apply(db, org["ann"], "topic: the hiring plan", pair(org, "mika", "ann"))
    outcome = apply(db, org["mika"], "topic: The Hiring Plan", pair(org, "mika", "ann"))
    assert outcome.done == ["Topic already on your next 1:1 with Ann Lee: the hiring plan"]
    assert len(points(db)) == 1


def test_without_an_agenda_a_topic_goes_to_the_senders_manager_or_the_named_report(
        db: Database, org: dict[str, int]) -> None:  # noqa: F811
    apply(db, org["ann"], "topic: pay review")
    outcome = apply(db, org["mika"], "topic @bob: the on-call rota\ntopic @rita: budget")
    assert outcome.done == ["Topic added for your next 1:1 with Bob Díaz: the on-call rota"]
    assert outcome.refused == [("topic @rita: budget", "'@rita' is not one of your direct "
                                "reports; name them by email or @name, e.g. topic @ana: the "
                                "hiring plan")]
    apply(db, org["mika"], "topic: my promotion")  # Mika's own 1:1 with Hana
    outcome = apply(db, org["hana"], "topic: the reorg")  # Hana has no manager
    assert outcome.refused == [("topic: the reorg", "which 1:1? Reply to that check-in's "
                                "agenda, or name the report: topic @ana: the hiring plan")]
    assert points(db) == [(org["mika"], org["ann"], "pay review", True),
                          (org["mika"], org["bob"], "the on-call rota", True),
                          (org["hana"], org["mika"], "my promotion", True)]


def test_topic_done_closes_by_a_unique_prefix_in_any_case(db: Database,
                                                          org: dict[str, int]) -> None:  # noqa: F811
    ann_pair = pair(org, "mika", "ann")
    apply(db, org["ann"], "topic: the hiring plan\ntopic: the hiring freeze\ntopic: budget",
          ann_pair)
    outcome = apply(db, org["mika"], "topic done: THE HIRING\ntopic done: the hiring p\n"
                                     "topic done: offsite", ann_pair)
    assert outcome.done == ["Topic closed for your 1:1s with Ann Lee: the hiring plan"]
    assert [reason for _line, reason in outcome.refused] == [
        "more than one open topic starts with that (the hiring plan; the hiring freeze); "
        "write more of it",
        "no open topic of yours starts with that; the open ones are on your agenda, e.g. "
        "topic done: the hiring plan"]
    outcome = apply(db, org["bob"], "topic done: budget")  # not Bob's pair: unknown to him
    assert outcome.done == [] and len(outcome.refused) == 1
    assert [(text, open_) for _m, _e, text, open_ in points(db)] == [
        ("the hiring plan", False), ("the hiring freeze", True), ("budget", True)]


def test_a_meeting_closes_the_topics_raised_before_it_not_those_in_its_own_message(
        db: Database, org: dict[str, int]) -> None:  # noqa: F811
    ann_pair = pair(org, "mika", "ann")
    apply(db, org["ann"], "topic: the hiring plan", ann_pair)
    apply(db, org["mika"], "met: yes 30min\ntopic: next quarter's goals", ann_pair)
    assert [(text, open_) for _m, _e, text, open_ in points(db)] == [
        ("the hiring plan", False), ("next quarter's goals", True)]
    with db.session() as session:
        closed = session.scalars(select(TalkingPoint).where(
            TalkingPoint.closed_at.is_not(None))).one()
        meeting = session.scalars(select(Meeting)).one()
        assert closed.closed_by_meeting_id == meeting.id


def apply_away(db: Database, sender_id: int, line: str) -> Outcome:
    with db.session() as session, session.begin():
        sender = session.get(Person, sender_id)
        assert sender is not None
        parsed = parse_commands(line, message_date=NOW, timezone=sender.timezone)
        assert parsed.errors == ()
        applier = Applier(session, sender, inbound_id=None, now=NOW,
                          mail_domain="acme.example")
        outcome = applier.apply(parsed.commands)
        outbox.add_rows(session, applier.notices)  # as the worker does, with the answer
        return outcome


def test_away_excuses_each_pairs_checkins_across_a_month_end_and_tells_the_other_side_once(
        db: Database, org: dict[str, int]) -> None:  # noqa: F811
    # Mika (weekly, Mondays) is away Mon 28 Dec - Fri 8 Jan: two Mondays, for each of
    # his 1:1s: with Hana (his manager), Ann and Bob.
    outcome = apply_away(db, org["mika"], "away: 28 Dec - 8 Jan")
    assert outcome.done == ["Away 28 Dec – 8 Jan 2027: 6 check-ins excused; Hana Ito, "
                            "Ann Lee and Bob Díaz are told"]
    again = apply_away(db, org["mika"], "away: 28 Dec - 8 Jan")
    assert again.done == ["Away 28 Dec – 8 Jan 2027: 6 check-ins excused; Hana Ito, "
                          "Ann Lee and Bob Díaz were told already"]
    with db.session() as session:
        meetings = session.scalars(select(Meeting).order_by(Meeting.id)).all()
        assert {(m.period_start, m.status, m.excused_by_id) for m in meetings} == {
            (date(2026, 12, 28), "excused", org["mika"]),
            (date(2027, 1, 4), "excused", org["mika"])}
        assert len(meetings) == 6
        notices = session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "away")).all()
        assert sorted(n.to_address for n in notices) == [
            "ann@acme.example", "bob@acme.example", "hana@acme.example"]
        assert "Mika Sato is away from Mon 28 Dec to Fri 8 Jan" in (notices[0].body_text or "")
        assert len(session.scalars(select(TimeAway)).all()) == 2


def test_away_leaves_a_period_already_logged_as_held(db: Database,
                                                    org: dict[str, int]) -> None:  # noqa: F811
    apply(db, org["ann"], "met: yes", pair(org, "mika", "ann"))  # Mon 30 Nov
    outcome = apply_away(db, org["ann"], "away: until 4 Dec")
    assert outcome.done == ["Away 30 Nov – 4 Dec: 0 check-ins excused; Mika Sato is told"]
    with db.session() as session:
        assert session.scalars(select(Meeting.status)).all() == ["held"]
