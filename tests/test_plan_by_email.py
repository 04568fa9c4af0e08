"""The plan changed by email, through the real intake, on SQLite and PostgreSQL.

Each command (hand-over, title, due date, new project, a goal's figure) is sent as a
reply by a person of the example company (``tests.test_project_rights``): within scope it
changes the plan, keeps its history (who, when, which message) and says so in the answer,
and a new owner is told; outside scope the answer is exactly the one an unknown
reference gets, so a reply cannot be used to learn what exists.
"""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mail.read.grammar import parse_commands
from models import InboundMessage, OutboundMessage, Person, Project, Task, TaskHistory
from models.plan import Goal, PlanChange
from tests.test_notes_pipeline import NOW
from tests.test_project_rights import Company, company, send
from workers.apply import Applier
from workers.sending import deliver

__all__ = ["company"]


def _id(company: Company, model: type[Task] | type[Goal] | type[Project], title: str) -> int:
    with company.rt.sessions() as session:
        found = session.scalar(select(model.id).where(model.title == title))
        assert found is not None, title
        return found


def task_ref(company: Company, title: str) -> str:
    return f"T-{_id(company, Task, title)}"


def goal_ref(company: Company, title: str = "Revenue to €4M") -> str:
    return f"G-{_id(company, Goal, title)}"


def project_ref(company: Company, title: str = "Pricing") -> str:
    return f"P-{_id(company, Project, title)}"


def handovers(company: Company) -> list[OutboundMessage]:
    with company.rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "handover").order_by(OutboundMessage.id)))


def plan_changes(company: Company) -> list[PlanChange]:
    with company.rt.sessions() as session:
        return list(session.scalars(select(PlanChange).order_by(PlanChange.id)))


def latest_message_from(company: Company, who: str) -> int:
    with company.rt.sessions() as session:
        found = session.scalar(select(InboundMessage.id).where(
            InboundMessage.sender == f"{who}@acme.example")
            .order_by(InboundMessage.id.desc()).limit(1))
        assert found is not None
        return found


def refused_alike(company: Company, who: str, line: str, ref: str, unknown: str) -> str:
    """The answer to ``line`` about ``ref``, asserted identical (but for the reference
    and the minute each message arrived, which the door stamps from the real clock) to
    the answer to the same line about an ``unknown`` one; returns the first."""
    forbidden = send(company, who, line)
    other = send(company, who, line.replace(ref, unknown))
    assert arrival_blurred(forbidden.replace(ref, "X-n")) == \
        arrival_blurred(other.replace(unknown, "X-n"))
    return forbidden


def arrival_blurred(answer: str) -> str:
    """The answer with its "Your message arrived …" time made the same for every message."""
    return re.sub(r"(Your message arrived .*?)\d{1,2}:\d{2}", r"\1HH:MM", answer)


# --- hand-overs ----------------------------------------------------------------------


def test_an_owner_hands_a_task_over_and_the_new_owner_is_told(company: Company) -> None:
    ref = task_ref(company, "Interview customers")
    answer = send(company, "ann", f"{ref} owner @bob")
    assert f"{ref} Interview customers: owner Ann Lee → Bob Díaz; Bob Díaz is told" in answer
    message = latest_message_from(company, "ann")
    with company.rt.sessions() as session:
        task = session.get(Task, int(ref[2:]))
        assert task is not None and task.owner.email == "bob@acme.example"
        [history] = session.scalars(select(TaskHistory).where(TaskHistory.task_id == task.id))
        assert history.note == "owner: Ann Lee → Bob Díaz"
        assert history.author_id == company.people["ann"]
        assert history.inbound_message_id == message
    [notice] = handovers(company)
    assert notice.to_address == "bob@acme.example" and notice.recipient_id == company.people[
        "bob"]
    assert notice.dedupe_key.startswith(f"handover:{ref}:{company.people['bob']}:m")
    assert "Ann Lee handed task" in (notice.body_text or "")
    assert "Interview customers" in notice.subject
    # Handing it to its owner again changes nothing and tells nobody twice.
    assert "no change (Bob Díaz owns it already)" in send(company, "bob", f"{ref} owner @bob")
    assert len(handovers(company)) == 1


def test_a_goal_owner_hands_over_a_project_under_it_and_a_manager_a_goal_below(
        company: Company) -> None:
    pricing, revenue = project_ref(company), goal_ref(company)
    # Mika owns the goal Pricing is under; Pricing is Ann's.
    assert f"{pricing} Pricing: owner Ann Lee → Bob Díaz; Bob Díaz is told" in send(
        company, "mika", f"{pricing} owner @bob")
    # Cleo is above Mika, the goal's owner.
    assert f"{revenue} Revenue to €4M: owner Mika Sato → Ann Lee; Ann Lee is told" in send(
        company, "cleo", f"{revenue} owner ann@acme.example")
    changes = plan_changes(company)
    assert [(c.level, c.field, c.old_value, c.new_value) for c in changes] == [
        ("project", "owner", "ann@acme.example", "bob@acme.example"),
        ("goal", "owner", "mika@acme.example", "ann@acme.example")]
    assert [c.author_id for c in changes] == [company.people["mika"], company.people["cleo"]]
    assert changes[1].inbound_message_id == latest_message_from(company, "cleo")
    assert [n.to_address for n in handovers(company)] == ["bob@acme.example",
                                                          "ann@acme.example"]


def test_a_new_owner_outside_the_reporting_line_is_answered_like_nobody(
        company: Company) -> None:
    ref = task_ref(company, "Interview customers")
    outside = send(company, "ann", f"{ref} owner @zed")  # Zed works for Olga, not in Ann's line
    nobody = send(company, "ann", f"{ref} owner @nobody")
    assert "I can't hand it to 'zed'" in outside
    assert outside.replace("zed", "x") == nobody.replace("nobody", "x")
    assert handovers(company) == []
    with company.rt.sessions() as session:
        task = session.get(Task, int(ref[2:]))
        assert task is not None and task.owner_id == company.people["ann"]


def test_a_new_owner_who_has_left_is_not_mailed(company: Company) -> None:
    with company.rt.sessions() as session, session.begin():
        bob = session.get(Person, company.people["bob"])
        assert bob is not None
        bob.active_until = date(2026, 11, 30)
    ref = task_ref(company, "Interview customers")
    assert "I can't hand it to 'bob'" in send(company, "ann", f"{ref} owner @bob")
    assert handovers(company) == []


@pytest.mark.parametrize("line", ["{task} owner @ann", "{task} title: Peek",
                                  "{project} due 2027-02-01", "{goal} owner @zed",
                                  "{goal} due end of Q2"])
def test_out_of_scope_items_are_answered_exactly_like_unknown_ones(
        company: Company, line: str) -> None:
    refs = {"task": task_ref(company, "Pick a launch city"),
            "project": project_ref(company, "Secret launch"),
            "goal": goal_ref(company, "Enter a new market")}
    kind = line[1:line.index("}")]
    ref, unknown = refs[kind], f"{refs[kind][0]}-99999"
    answer = refused_alike(company, "ann", line.format(**refs), ref, unknown)
    assert "Secret launch" not in answer and "Zed" not in answer
    assert "Pick a launch city" not in answer and "new market" not in answer
    assert plan_changes(company) == [] and handovers(company) == []


def test_an_out_of_scope_task_gets_the_words_a_task_update_gets(company: Company) -> None:
    ref = task_ref(company, "Pick a launch city")
    update = send(company, "ann", f"{ref} 60%")
    hand_over = send(company, "ann", f"{ref} owner @ann")
    reason = f"{ref} is not one of your tasks or your reports' tasks"
    assert reason in update and reason in hand_over


# --- titles and dates -------------------------------------------------------------------


def test_a_project_owner_renames_a_task_under_it(company: Company) -> None:
    ref = task_ref(company, "Price book")  # Bob's, in Ann's project
    answer = send(company, "ann", f"{ref} title: The final price book")
    assert f"{ref}: title “Price book” → “The final price book”" in answer
    with company.rt.sessions() as session:
        task = session.get(Task, int(ref[2:]))
        assert task is not None and task.title == "The final price book"
        [history] = task.updates
        assert history.note == "title: “Price book” → “The final price book”"
        assert history.author_id == company.people["ann"]


def test_project_and_goal_dates_move_by_email_with_history(company: Company) -> None:
    pricing, revenue = project_ref(company), goal_ref(company)
    assert f"{pricing} Pricing: due Mon 01 Feb 2027" in send(
        company, "ann", f"{pricing} due 2027-02-01")
    # Quarters count from the fiscal year's first month (January here): Q2 ends 30 June.
    assert f"{revenue} Revenue to €4M: due Wed 30 Jun 2027" in send(
        company, "mika", f"{revenue} due end of Q2")
    with company.rt.sessions() as session:
        assert session.get(Project, int(pricing[2:])).due == date(2027, 2, 1)  # type: ignore[union-attr]
        assert session.get(Goal, int(revenue[2:])).due == date(2027, 6, 30)  # type: ignore[union-attr]
    assert [(c.field, c.old_value, c.new_value) for c in plan_changes(company)] == [
        ("due", None, "2027-02-01"), ("due", None, "2027-06-30")]
    # Bob neither owns the goal nor manages its owner.
    refused_alike(company, "bob", f"{revenue} due 2027-09-30", revenue, "G-99999")


# --- new projects -------------------------------------------------------------------------


def test_a_goal_owner_creates_a_project_for_a_report(company: Company) -> None:
    revenue = goal_ref(company)
    answer = send(company, "mika",
                  f"new project: Pricing page under {revenue} @ann by 2027-03-31")
    pricing_page = project_ref(company, "Pricing page")
    assert (f"{pricing_page} created: Pricing page (Ann Lee, due Wed 31 Mar 2027, under "
            f"{revenue} Revenue to €4M); Ann Lee is told") in answer
    [change] = plan_changes(company)
    assert (change.level, change.field, change.new_value) == ("project", "created",
                                                              "Pricing page")
    [notice] = handovers(company)
    assert notice.to_address == "ann@acme.example"
    assert "Mika Sato created project" in (notice.body_text or "")
    # The same title twice under one goal is refused, not duplicated.
    assert "already has a project called" in send(
        company, "mika", f"new project: Pricing page under {revenue}")
    # Ann can add a task to it now: it is in her reporting line.
    assert "created: Draft the copy" in send(company, "ann", f"new: Draft the copy {pricing_page}")


def test_a_project_under_a_goal_out_of_scope_is_refused_like_an_unknown_goal(
        company: Company) -> None:
    market = goal_ref(company, "Enter a new market")
    refused_alike(company, "ann", f"new project: Peek under {market}", market, "G-99999")
    with company.rt.sessions() as session:
        assert session.scalar(select(Project).where(Project.title == "Peek")) is None


# --- a measurable goal -----------------------------------------------------------------


def give_metric(company: Company, title: str = "Revenue to €4M") -> None:
    with company.rt.sessions() as session, session.begin():
        goal = session.scalar(select(Goal).where(Goal.title == title))
        assert goal is not None
        goal.metric, goal.metric_unit = "ARR", "€"
        goal.metric_start, goal.metric_target = 2_100_000.0, 4_000_000.0


def test_the_goal_owner_updates_a_measurable_goal(company: Company) -> None:
    give_metric(company)
    revenue = goal_ref(company)
    answer = send(company, "mika", f"{revenue} = 3.1M")
    assert (f"{revenue} Revenue to €4M: ARR €3.1M, 52.6% of the way from €2.1M to €4M"
            in answer)
    assert "ARR €3.1M → €3.5M, 73.7% of the way" in send(company, "mika", f"{revenue} €3,5M")
    with company.rt.sessions() as session:
        goal = session.get(Goal, int(revenue[2:]))
        assert goal is not None and goal.metric_value == 3_500_000.0
    assert [(c.field, c.old_value, c.new_value) for c in plan_changes(company)] == [
        ("value", None, "3100000.0"), ("value", "3100000.0", "3500000.0")]
    assert "is measured in €, not %" in send(company, "mika", f"{revenue} 40%")
    # Bob has tasks under it but neither owns it nor manages its owner.
    refused_alike(company, "bob", f"{revenue} = 3.9M", revenue, "G-99999")


def test_a_goal_without_a_metric_keeps_its_roll_up(company: Company) -> None:
    revenue = goal_ref(company)
    assert f"{revenue} has no metric to measure" in send(company, "mika", f"{revenue} = 3.1M")
    assert plan_changes(company) == []


def test_plan_history_cannot_be_rewritten(company: Company) -> None:
    pricing = project_ref(company)
    send(company, "ann", f"{pricing} due 2027-02-01")
    with company.rt.sessions() as session, pytest.raises(DBAPIError), session.begin():
        session.execute(text("UPDATE plan_change SET new_value = '2030-01-01'"))


def test_an_earlier_message_applied_late_does_not_undo_a_later_figure(
        company: Company) -> None:
    give_metric(company)
    revenue = goal_ref(company)
    send(company, "mika", f"{revenue} = 3.1M")
    earlier = latest_message_from(company, "mika")
    send(company, "mika", f"{revenue} = 3.5M")
    with company.rt.sessions() as session, session.begin():  # the first one, retried late
        mika = session.get(Person, company.people["mika"])
        assert mika is not None
        commands = parse_commands(f"{revenue} = 3.3M", message_date=NOW).commands
        outcome = Applier(session, mika, inbound_id=earlier, now=NOW).apply(commands)
    assert outcome.refused == [(f"{revenue} = 3.3M", (
        f"{revenue} was not changed: a message that arrived after this one already set "
        "its value; send the line again if it still holds"))]
    with company.rt.sessions() as session:
        goal = session.get(Goal, int(revenue[2:]))
        assert goal is not None and goal.metric_value == 3_500_000.0


def test_the_notice_is_sent_like_every_outbox_row(company: Company) -> None:
    send(company, "ann", f"{task_ref(company, 'Interview customers')} owner @bob")
    [notice] = handovers(company)
    assert deliver(company.rt, notice.id) == "sent"
    [mail] = [path for path in (company.rt.settings.maildir / "new").iterdir()  # type: ignore[operator]
              if b"handed task" in path.read_bytes()]
    message = message_from_bytes(mail.read_bytes(), policy=default)
    assert message["To"] == "bob@acme.example"
    assert message["Auto-Submitted"] == "auto-generated"


def test_quarters_are_the_fiscal_years_of_the_installation(company: Company) -> None:
    """With a fiscal year from April (FY2027 is Apr 2026 - Mar 2027), Q2 written on
    3 Dec 2026 is the next one not yet over: Jul-Sep 2027."""
    company.rt.settings = company.rt.settings.model_copy(
        update={"fiscal_year_start_month": 4})
    revenue = goal_ref(company)
    assert f"{revenue} Revenue to €4M: due Thu 30 Sep 2027" in send(
        company, "mika", f"{revenue} due end of Q2")
