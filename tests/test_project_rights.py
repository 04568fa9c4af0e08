"""Who may change what, on both databases, as the sender sees it in the answer: ``P-n``
only for projects of the sender's reporting line (their own, their tasks', their
managers' up the chain and their reports', recursively), an unknown and a forbidden
project answered alike; a task someone else created for you from 1:1 notes you may
drop or hand back, your other tasks only your manager may drop.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Person, Project, Task
from models.plan import Goal, Initiative
from tests.conftest import Database
from tests.test_agendas_pipeline import DOMAIN, Clock, make_settings, seed
from tests.test_meeting_record import write
from tests.test_notes_pipeline import NOW
from workers.runtime import Runtime, configure, transport_for

_SERIAL = itertools.count(1)


@dataclass
class Company:
    """Cleo leads Mika (Ann's and Bob's manager) and Olga (Zed's manager)."""

    rt: Runtime
    people: dict[str, int]
    projects: dict[str, int]  # Pricing (Ann's), Company plan (Cleo's), Launch (Zed's)


@pytest.fixture
def company(db: Database, tmp_path: Path) -> Company:
    ids = seed(db)
    with db.session() as session, session.begin():
        cleo = Person(email="cleo@acme.example", name="Cleo Park", timezone="Asia/Tokyo")
        olga = Person(email="olga@acme.example", name="Olga Berg", timezone="Asia/Tokyo",
                      manager=cleo)
        zed = Person(email="zed@acme.example", name="Zed Quinn", timezone="Asia/Tokyo",
                     manager=olga)
        mika = session.get(Person, ids["mika"])
        assert mika is not None
        mika.manager = cleo
        initiative = Initiative(title="Stealth", owner=cleo)
        goal = Goal(title="Enter a new market", owner=cleo, initiative=initiative)
        plan = Project(title="Company plan", owner=cleo, goal=goal)
        launch = Project(title="Secret launch", owner=zed, goal=goal)
        session.add_all([cleo, olga, zed, initiative, goal, plan, launch,
                         Task(title="Pick a launch city", owner=zed, project=launch)])
        session.flush()
        pricing = session.scalar(select(Project.id).where(Project.title == "Pricing"))
        people = {**ids, "cleo": cleo.id, "olga": olga.id, "zed": zed.id}
        projects = {"pricing": pricing, "plan": plan.id, "launch": launch.id}
    settings = make_settings(None, tmp_path).model_copy(
        update={"trusted_relays": "192.0.2.0/24"})
    rt = configure(settings, engine=db.engine, transport=transport_for(settings),
                   clock=Clock(NOW))
    return Company(rt, people, projects)


def send(company: Company, who: str, body: str, to: str = f"updates@{DOMAIN}") -> str:
    """``who`` writes through the company's relay; the text of Drumbeat's answer."""
    return write(company.rt, who, to, body, NOW)


def task_titled(company: Company, title: str) -> Task | None:
    with company.rt.sessions() as session:
        return session.scalar(select(Task).where(Task.title == title))


def ref(company: Company, project: str) -> str:
    return f"P-{company.projects[project]}"


def test_people_add_tasks_to_the_projects_of_their_reporting_line(company: Company) -> None:
    pricing, plan = ref(company, "pricing"), ref(company, "plan")
    assert f"created: Call the vendor (Ann Lee, {pricing} Pricing)" in send(
        company, "ann", f"new: Call the vendor {pricing}")  # her own project
    assert f"created: Update the sheet (Bob Díaz, {pricing} Pricing)" in send(
        company, "bob", f"new: Update the sheet {pricing}")  # a project of his tasks
    assert f"created: Draft the offsite agenda (Ann Lee, {plan} Company plan)" in send(
        company, "ann", f"new: Draft the offsite agenda {plan}")  # her manager's manager's
    assert f"created: Review the price list (Ann Lee, {pricing} Pricing)" in send(
        company, "cleo", f"new: Review the price list @ann {pricing}")  # two levels down
    for title in ("Call the vendor", "Update the sheet", "Draft the offsite agenda",
                  "Review the price list"):
        assert task_titled(company, title) is not None


def test_a_forbidden_project_is_answered_exactly_like_an_unknown_one(company: Company) -> None:
    launch = ref(company, "launch")
    forbidden = send(company, "ann", f"new: Peek at the launch {launch}")
    unknown = send(company, "ann", "new: Peek at the launch P-99999")
    assert f"there is no project {launch} you can add tasks to" in forbidden
    assert forbidden.replace(launch, "P-n") == unknown.replace("P-99999", "P-n")
    assert "Secret launch" not in forbidden and "Zed" not in forbidden
    assert task_titled(company, "Peek at the launch") is None
    # Zed's own manager may: Zed is her report.
    assert f"created: Book the venue (Zed Quinn, {launch} Secret launch)" in send(
        company, "olga", f"new: Book the venue @zed {launch}")


def test_action_items_in_notes_follow_the_same_rule(company: Company) -> None:
    launch = ref(company, "launch")
    notes = (f"with: Ann\nmet: 2026-12-02\nACTION: Ann to scout the venue by Friday {launch}\n"
             "ACTION: Ann to call the printer by Friday P-99999\n")
    answer = send(company, "mika", notes, to=f"notes@{DOMAIN}")
    reasons = re.findall(r"not created: .*? you can add tasks to", answer)
    assert reasons == [f"not created: there is no project {launch} you can add tasks to",
                       "not created: there is no project P-99999 you can add tasks to"]
    assert "Secret launch" not in answer
    assert task_titled(company, "Scout the venue") is None


def notes_tasks(company: Company) -> tuple[Task, Task]:
    """Mika's notes give Ann two tasks."""
    send(company, "mika", "with: Ann\nmet: 2026-12-02\n"
                          "ACTION: Ann to send the memo to finance by Friday\n"
                          "ACTION: Ann to book the team dinner by Friday\n",
         to=f"notes@{DOMAIN}")
    memo, dinner = (task_titled(company, "Send the memo to finance"),
                    task_titled(company, "Book the team dinner"))
    assert memo is not None and dinner is not None
    assert memo.owner_id == dinner.owner_id == company.people["ann"]
    assert memo.from_notes_by_id == company.people["mika"]
    return memo, dinner


def test_a_task_someone_created_for_you_from_notes_you_may_drop_or_hand_back(
        company: Company) -> None:
    memo, dinner = notes_tasks(company)
    answer = send(company, "ann", f"{memo.ref} dropped: finance has it already\n"
                                  f"{dinner.ref} handed back: Bob books dinners")
    assert f"{memo.ref} Send the memo to finance: dropped" in answer
    assert (f"{dinner.ref} Book the team dinner: handed back to Mika Sato: Bob books "
            "dinners") in answer
    memo_now, dinner_now = (task_titled(company, "Send the memo to finance"),
                            task_titled(company, "Book the team dinner"))
    assert memo_now is not None and memo_now.status == "dropped"
    assert dinner_now is not None and dinner_now.owner_id == company.people["mika"]
    assert dinner_now.from_notes_by_id is None


def test_your_other_tasks_you_may_neither_drop_nor_hand_back(company: Company) -> None:
    own = task_titled(company, "Interview customers")
    assert own is not None
    answer = send(company, "ann", f"{own.ref} dropped: no time\n{own.ref} hand back")
    assert f"only Ann Lee's manager can drop {own.ref}" in answer
    assert f"{own.ref} cannot be handed back: only a task someone else created for you " \
        "from 1:1 notes can" in answer
    still = task_titled(company, "Interview customers")
    assert still is not None and (still.status, still.owner_id) == ("open",
                                                                    company.people["ann"])
    # Nor may anyone else drop a task made for Ann from notes, except her managers.
    memo, _dinner = notes_tasks(company)
    answer = send(company, "bob", f"{memo.ref} dropped")
    assert f"{memo.ref} is not one of your tasks" in answer
