"""Talking points in forwarded 1:1 notes, through the real intake on both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import TalkingPoint
from tests.test_notes_pipeline import NOW as NOTES_AT
from tests.test_notes_pipeline import gmail_forward, rt, run  # noqa: F401
from workers.runtime import Runtime


def test_forwarded_notes_add_topics_that_outlive_the_meeting_they_log(
        rt: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811
    """A topic written in a meeting's notes is for the next 1:1: the meeting the notes
    log closes the topics raised before it, not this one."""
    runtime, ids = rt
    with runtime.sessions() as session, session.begin():
        session.add(TalkingPoint(manager_id=ids["mika"], employee_id=ids["ann"],
                                 text="the hiring plan", raised_by_id=ids["ann"],
                                 raised_at=NOTES_AT, raised_on=date(2026, 11, 29)))
    row, answer = run(runtime, gmail_forward(
        "with: Ann\n\ncustomers want annual plans\ntopic: pricing for 2027\n"))
    assert row.status == "applied"
    assert "Topic added for your next 1:1 with Ann Lee: pricing for 2027" in answer
    with runtime.sessions() as session:
        assert [(p.text, p.closed_at is None) for p in session.scalars(
            select(TalkingPoint).order_by(TalkingPoint.id))] == [
            ("the hiring plan", False), ("pricing for 2027", True)]
