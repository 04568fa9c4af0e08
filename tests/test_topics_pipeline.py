"""Talking points and time away through the real intake: a reply is stored, read,
applied and answered, and the next agendas the scheduler sends show (or leave out)
what it said. Both databases; Ann (Tokyo) reports to Mika, weekly on Mondays."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models import Meeting, OutboundMessage, TalkingPoint, TimeAway
from tests.test_agendas_pipeline import DOMAIN, TOKYO_ONLY, Clock
from tests.test_inbound import answers, receive, reply_to, sent_agenda  # noqa: F401
from workers.agendas import dispatch_due
from workers.inbound import process
from workers.runtime import Runtime
from workers.sending import deliver, send_claimed

Sent = tuple[Runtime, dict[str, int], OutboundMessage]


def agendas_of_week(rt: Runtime, weeks: int) -> dict[str, OutboundMessage]:
    """Dispatch (and send) the agendas due ``weeks`` after the first; by recipient."""
    at = TOKYO_ONLY + timedelta(weeks=weeks)
    assert isinstance(rt.clock, Clock)
    rt.clock.now = at
    with rt.sessions() as session, session.begin():
        created = dispatch_due(session, at, timedelta(hours=24), DOMAIN, timedelta(hours=48))
    for outbox_id in created:
        assert deliver(rt, outbox_id) == "sent"
    with rt.sessions() as session:
        rows = session.scalars(select(OutboundMessage).where(
            OutboundMessage.id.in_(created), OutboundMessage.kind == "agenda")).all()
        return {row.to_address: row for row in rows}


def answer_to(rt: Runtime, agenda: OutboundMessage, body: str, sender: str,
              message_id: str, now: datetime | None = None) -> str:
    """Reply to ``agenda`` as ``sender`` (processed at ``now``); the answer's text."""
    if now is not None:
        assert isinstance(rt.clock, Clock)
        rt.clock.now = now
    processed = process(rt, receive(rt, reply_to(agenda, body, sender=sender,
                                                  message_id=message_id)))
    assert processed.status == "applied"
    [answer] = [added.row for added in processed.answers if added.row.kind == "answer"]
    return answer.body_text or ""


def test_a_topic_from_one_side_is_on_both_agendas_until_the_meeting(
        sent_agenda: Sent) -> None:  # noqa: F811
    rt, _ids, agenda = sent_agenda
    words = answer_to(rt, agenda, "topic: the hiring plan", "ann@acme.example", "<t-1@x>")
    assert "Topic added for your next 1:1 with Mika Sato: the hiring plan" in words

    week2 = agendas_of_week(rt, 1)
    for reader in ("ann@acme.example", "mika@acme.example"):
        text = week2[reader].body_text or ""
        assert "TALKING POINTS" in text and "- the hiring plan (Ann Lee, " in text
        assert "the hiring plan" in (week2[reader].body_html or "")

    # Mika logs week 2's 1:1 on Monday 7 Dec, after it took place: the topic is covered.
    after = TOKYO_ONLY + timedelta(weeks=1, hours=15)
    words = answer_to(rt, week2["mika@acme.example"], "met: yes 30min", "mika@acme.example",
                      "<t-2@x>", now=after)
    assert "1:1 with Ann Lee" in words
    week3 = agendas_of_week(rt, 2)
    assert "the hiring plan" not in (week3["ann@acme.example"].body_text or "")
    assert "TALKING POINTS" not in (week3["mika@acme.example"].body_text or "")
    with rt.sessions() as session:
        point = session.scalars(select(TalkingPoint)).one()
        meeting = session.scalars(select(Meeting)).one()
        assert point.closed_by_meeting_id == meeting.id


def test_topic_done_takes_a_topic_off_the_next_agendas(sent_agenda: Sent) -> None:  # noqa: F811
    rt, _ids, agenda = sent_agenda
    answer_to(rt, agenda, "topic: the hiring plan\ntopic: offsite dates", "ann@acme.example",
              "<t-1@x>")
    words = answer_to(rt, agenda, "topic done: The Hiring", "ann@acme.example", "<t-2@x>")
    assert "Topic closed for your 1:1s with Mika Sato: the hiring plan" in words
    week2 = agendas_of_week(rt, 1)
    text = week2["mika@acme.example"].body_text or ""
    assert "offsite dates" in text and "the hiring plan" not in text


def test_away_across_a_month_end_excuses_the_checkins_skips_their_agendas_and_tells_once(
        sent_agenda: Sent) -> None:  # noqa: F811
    rt, ids, agenda = sent_agenda
    words = answer_to(rt, agenda, "away: 28 Dec - 8 Jan", "ann@acme.example", "<a-1@x>")
    assert "Away 28 Dec – 8 Jan 2027: 2 check-ins excused; Mika Sato is told" in words
    words = answer_to(rt, agenda, "away: 28 Dec - 8 Jan", "ann@acme.example", "<a-2@x>")
    assert "Mika Sato was told already" in words
    with rt.sessions() as session:
        [notice] = session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "away")).all()
        assert notice.to_address == "mika@acme.example"
        excused = session.scalars(select(Meeting).where(Meeting.status == "excused")).all()
        assert sorted(m.period_start.isoformat() for m in excused) == [
            "2026-12-28", "2027-01-04"]
        assert {m.excused_by_id for m in excused} == {ids["ann"]}
    assert deliver(rt, notice.id) == "sent"
    assert "Ann Lee is away from Mon 28 Dec to Fri 8 Jan" in (notice.body_text or "")

    assert set(agendas_of_week(rt, 3)) == {"ann@acme.example", "mika@acme.example"}
    assert agendas_of_week(rt, 4) == {}   # Mon 28 Dec
    assert agendas_of_week(rt, 5) == {}   # Mon 4 Jan
    assert set(agendas_of_week(rt, 6)) == {"ann@acme.example", "mika@acme.example"}


def test_the_agenda_is_skipped_by_the_away_range_itself(sent_agenda: Sent) -> None:  # noqa: F811
    """Even with no excused row (a period someone already logged), a slot in the range
    gets no agenda."""
    rt, ids, _agenda = sent_agenda
    with rt.sessions() as session:
        mikas = session.scalars(select(OutboundMessage).where(
            OutboundMessage.recipient_id == ids["mika"])).one()
    answer_to(rt, mikas, "away: 7 Dec - 9 Dec", "mika@acme.example", "<a-1@x>")
    with rt.sessions() as session, session.begin():
        for meeting in session.scalars(select(Meeting)):
            session.delete(meeting)
    assert agendas_of_week(rt, 1) == {}


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"},
                                     {"X_Autoreply": "yes"}])
def test_an_out_of_office_auto_reply_excuses_nothing_and_is_not_answered(
        sent_agenda: Sent, headers: dict[str, str]) -> None:  # noqa: F811
    rt, _ids, agenda = sent_agenda
    raw = reply_to(agenda, "I am out of the office.\naway: 28 Dec - 8 Jan\n"
                   "topic: back on 9 Jan", **headers)
    processed = process(rt, receive(rt, raw))
    assert (processed.status, processed.answer_ids) == ("rejected", [])
    assert answers(rt) == []
    with rt.sessions() as session:
        assert session.scalars(select(TimeAway)).all() == []
        assert session.scalars(select(Meeting)).all() == []
        assert session.scalars(select(TalkingPoint)).all() == []
        assert session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "away")).all() == []



def test_the_worker_sends_the_away_notice_with_the_answer_right_after_the_commit(
        sent_agenda: Sent) -> None:  # noqa: F811
    rt, _ids, agenda = sent_agenda
    processed = process(rt, receive(rt, reply_to(agenda, "away: 28 Dec - 8 Jan")),
                        send_now=True)
    assert sorted((added.row.kind, added.row.to_address) for added in processed.to_send) == [
        ("answer", "ann@acme.example"), ("away", "mika@acme.example")]
    for added in processed.to_send:
        assert send_claimed(rt, added) == "sent"
    with rt.sessions() as session:
        assert {row.status for row in session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind.in_(("answer", "away"))))} == {"sent"}
