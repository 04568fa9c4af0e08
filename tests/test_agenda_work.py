"""What an agenda says about the work, on both databases, as sent: every open task in its
group, stale tasks, the last 1:1's action items (from notes through the real intake),
goals at risk in their task owners' agendas, and a query count that does not grow with
the work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import event, select

from models import Goal, Initiative, Person, Project, Task
from tests.test_agendas_pipeline import DOMAIN
from tests.test_notes_pipeline import gmail_forward, run
from tests.test_notes_pipeline import rt as notes_runtime  # noqa: F401 (a fixture, by this name)
from workers.agendas import agenda_view, dispatch_due
from workers.runtime import Runtime
from workers.sending import deliver

NOTES_AT = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # the clock of the rt fixture: notes day
ANN_ONLY = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # Ann's Monday agenda is due, not Bob's
BOTH = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)  # Bob's too (Los Angeles)


def agendas(rt: Runtime, now: datetime) -> dict[str, str]:
    """Dispatch and send the agendas due at ``now``; each recipient's text part."""
    rt.clock.now = now  # type: ignore[attr-defined]
    with rt.sessions() as session, session.begin():
        ids = dispatch_due(session, now, timedelta(hours=24), DOMAIN, timedelta(hours=48))
    for outbox_id in ids:
        assert deliver(rt, outbox_id) == "sent"
    texts: dict[str, str] = {}
    for path in (rt.settings.maildir / "new").iterdir():  # type: ignore[operator]
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        texts.setdefault(str(message["To"]), "")
        texts[str(message["To"])] += body.get_content()
        path.unlink()
    return texts


def add(rt: Runtime, *items: object) -> None:
    with rt.sessions() as session, session.begin():
        session.add_all(items)


def project_of(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalars(select(Project.id)).one()


def test_an_employee_with_only_long_tasks_sees_them_all(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, ids = notes_runtime
    project = project_of(runtime)
    with runtime.sessions() as session, session.begin():
        for task in session.scalars(select(Task).where(Task.owner_id == ids["ann"])):
            session.delete(task)
        old = datetime(2026, 11, 2, tzinfo=UTC)
        session.add_all([
            Task(title="Migrate billing", owner_id=ids["ann"], project_id=project,
                 due=date(2027, 1, 20), status="in_progress", progress=30,
                 created_at=old, updated_at=old),
            Task(title="Write the onboarding guide", owner_id=ids["ann"],
                 project_id=project, due=None, status="open", progress=0),
        ])
    text = agendas(runtime, ANN_ONLY)["ann@acme.example"]
    assert "no tasks on this agenda" not in text
    lines = text.splitlines()
    later = lines.index("In progress, due later (1)")
    assert lines[later + 1].startswith("[T-") and "Migrate billing — 30%, due Wed 20 Jan 2027" \
        in lines[later + 1]
    assert lines[later + 1].endswith("· no update since Mon 2 Nov")  # five weeks untouched
    undated = lines.index("Not started, due later or undated (1)")
    assert "Write the onboarding guide — 0% · P-" in lines[undated + 1]
    assert "no update since" not in lines[undated + 1]


def test_a_long_group_collapses_to_five_and_points_to_status(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, ids = notes_runtime
    add(runtime, *[Task(title=f"Later {n}", owner_id=ids["ann"], project_id=project_of(runtime),
                        due=date(2027, 2, 1 + n)) for n in range(7)])
    text = agendas(runtime, ANN_ONLY)["ann@acme.example"]
    assert "Not started, due later or undated (7)" in text
    assert [line.split("] ")[1].split(" —")[0] for line in text.splitlines()
            if "] Later " in line] == [f"Later {n}" for n in range(5)]
    assert '… 2 more: reply "status" for all 7' in text


def test_the_last_meetings_action_items_are_on_the_next_agenda_with_their_state(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, _ids = notes_runtime
    notes = ("with: Ann\n\nACTION: Ann to send the pricing memo to finance by Friday\n"
             "TODO @mika intro Ann to the CFO next week\n"
             "- [ ] Bob: update the price book by 12/9\n")
    row, _answer = run(runtime, gmail_forward(notes))
    assert row.status == "applied"
    with runtime.sessions() as session, session.begin():
        intro = session.scalars(select(Task).where(Task.title.like("Intro Ann%"))).one()
        intro.status, intro.progress, intro.completed_at = "done", 100, NOTES_AT
    sent = agendas(runtime, ANN_ONLY)
    assert set(sent) == {"ann@acme.example", "mika@acme.example"}
    for text in sent.values():
        lines = text.splitlines()
        at = lines.index("ACTION ITEMS FROM THE LAST 1:1 (Wed 2 Dec)")
        items = [line for line in lines[at + 1:at + 5] if line.startswith("[T-")]
        assert len(items) == 2, items  # the pair's own; Bob's is not theirs to read
        assert "Send the pricing memo to finance — 0%, due Fri 4 Dec" in items[0]
        assert f"Intro Ann to the CFO — done · P-{project_of_intro(runtime)}" in items[1]
        assert "price book" not in "\n".join(items)


def project_of_intro(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalars(select(Task.project_id).where(
            Task.title.like("Intro Ann%"))).one()


def test_no_action_items_section_before_any_meeting(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, _ids = notes_runtime
    assert "ACTION ITEMS" not in agendas(runtime, ANN_ONLY)["ann@acme.example"]


def test_a_goal_at_risk_is_named_in_its_task_owners_and_its_owners_agendas(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, ids = notes_runtime
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with runtime.sessions() as session, session.begin():
        mika = session.get(Person, ids["mika"])
        ann = session.get(Person, ids["ann"])
        initiative = Initiative(title="Scale", owner=mika)
        # Due at the year's end, 3% done: on 6 Dec 93% of its time is gone, 90 points behind.
        behind = Goal(title="Open the Berlin office", owner=mika, initiative=initiative,
                      due=date(2026, 12, 31), created_at=start)
        on_track = Goal(title="Quiet goal", owner=mika, initiative=initiative,
                        due=date(2027, 12, 31), created_at=start)
        owned = Goal(title="Hire two engineers", owner=ann, initiative=initiative,
                     due=date(2026, 12, 31), created_at=start)
        office = Project(title="Office", owner=mika, goal=behind)
        quiet = Project(title="Quiet", owner=mika, goal=on_track)
        session.add_all([initiative, behind, on_track, owned, office, quiet,
                         Task(title="Find a venue", owner_id=ids["ann"], project=office,
                              due=date(2026, 12, 20)),
                         Task(title="Sign the lease", owner_id=ids["ann"], project=office,
                              due=date(2026, 12, 22), status="in_progress", progress=10),
                         Task(title="Move the desks", owner_id=ids["bob"], project=office,
                              due=date(2026, 12, 30)),
                         Task(title="Quiet task", owner_id=ids["ann"], project=quiet,
                              due=date(2026, 12, 30), status="in_progress", progress=60)])
        session.flush()
        refs = {"behind": behind.ref, "on_track": on_track.ref, "owned": owned.ref}
        assert ann is not None
    sent = agendas(runtime, BOTH)
    ann_text, bob_text = sent["ann@acme.example"], sent["bob@acme.example"]
    assert f"{refs['behind']} is 90 points behind; 2 of its open tasks are yours." in ann_text
    assert f"{refs['owned']} is 93 points behind; you own it." in ann_text
    assert f"{refs['behind']} is 90 points behind; 1 of its open tasks is yours." in bob_text
    assert refs["owned"] + " is" not in bob_text
    for text in sent.values():
        assert f"{refs['on_track']} is" not in text
    manager = sent["mika@acme.example"]  # both of Mika's agendas, about Ann and about Bob
    assert "2 of its open tasks are Ann Lee's." in manager
    assert "1 of its open tasks is Bob Díaz's." in manager


def test_reading_an_agenda_takes_the_same_queries_however_much_work_there_is(
        notes_runtime: tuple[Runtime, dict[str, int]]) -> None:  # noqa: F811 (the fixture)
    runtime, ids = notes_runtime

    def statements() -> int:
        count = 0

        def counted(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(runtime.engine, "before_cursor_execute", counted)
        try:
            with runtime.sessions() as session:
                manager = session.get(Person, ids["mika"])
                employee = session.get(Person, ids["ann"])
                assert manager is not None and employee is not None
                agenda_view(session, manager, employee, "employee",
                            datetime(2026, 12, 7, 0, 0, tzinfo=UTC), date(2026, 12, 6))
        finally:
            event.remove(runtime.engine, "before_cursor_execute", counted)
        return count

    with runtime.sessions() as session, session.begin():
        for goal in session.scalars(select(Goal)):
            goal.due = date(2026, 12, 31)  # judged for risk from the start
    run(runtime, gmail_forward("with: Ann\n\nACTION: Ann to send the memo by Friday\n"))
    few = statements()
    # an agenda alone is a batch of one: the meetings and the notes of the last held 1:1
    # are two statements for the whole batch (16 or 17 by backend)
    assert few <= 17
    with runtime.sessions() as session, session.begin():
        mika = session.get(Person, ids["mika"])
        initiative = Initiative(title="More", owner=mika)
        session.add(initiative)
        for n in range(6):
            goal = Goal(title=f"Goal {n}", owner_id=ids["ann"], initiative=initiative,
                        due=date(2026, 12, 31))
            project = Project(title=f"Project {n}", owner=mika, goal=goal)
            session.add_all([goal, project, *[
                Task(title=f"Task {n}.{k}", owner_id=ids["ann"], project=project,
                     due=date(2027, 1, 1 + k), status=("open", "in_progress", "blocked")[k % 3])
                for k in range(5)]])
    run(runtime, gmail_forward("with: Ann\n\nACTION: Ann to book the room by Friday\n"
                               "ACTION: Ann to call the vendor by Friday\n",
                               message_id="<notes-2@mail.example>"))
    assert statements() == few
