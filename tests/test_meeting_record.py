"""The meeting record keeps who said what, on both databases, as the pair sees it in
their answers and in the digests: either side logs a 1:1; when the two disagree it is
disputed (expected, not held) until they agree; an excuse records who gave it; a
``met:`` date lies in the current or previous period (older ones from the manager
only) and never in the future; an agenda's meeting lines close
``DRUMBEAT_MEETING_LINES_DAYS`` after its period, its task lines keep working.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.write.agenda import AgendaContext
from mail.write.digest import PersonFigures
from mail.write.digest_render import render_digest
from mail.write.tokens import reply_address
from models import Meeting, OutboundMessage, Task
from tests.conftest import Database
from tests.test_agendas_pipeline import DOMAIN, SECRET, Clock, make_settings, seed
from tests.test_notes_pipeline import run
from workers import digests
from workers.apply import pair_from_agenda
from workers.evaluations import compute_figures, window_named
from workers.runtime import Runtime, configure, transport_for

WEDNESDAY = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # noon in Tokyo, in week 2026-W49
_SERIAL = itertools.count(1)
PERIOD = {"period_start": "2026-11-30", "period_end": "2026-12-06", "period_key": "2026-W49"}


@dataclass
class Pair:
    """Mika (manager) and Ann (report), each with the agenda of week 2026-W49."""

    rt: Runtime
    clock: Clock
    ids: dict[str, int]
    agendas: dict[str, int]  # person → outbox id of their agenda


@pytest.fixture
def pair(db: Database, tmp_path: Path) -> Pair:
    ids = seed(db)
    settings = make_settings(None, tmp_path).model_copy(
        update={"trusted_relays": "192.0.2.0/24"})
    clock = Clock(WEDNESDAY)
    rt = configure(settings, engine=db.engine, transport=transport_for(settings), clock=clock)
    agendas = {}
    with rt.sessions() as session, session.begin():
        for name, role in (("ann", "employee"), ("mika", "manager")):
            row = OutboundMessage(
                dedupe_key=f"agenda:test:{name}", kind="agenda", recipient_id=ids[name],
                to_address=f"{name}@acme.example", subject="1:1 check-in agenda",
                context={"manager_id": ids["mika"], "employee_id": ids["ann"], "role": role,
                         "meeting_at": "2026-11-30T00:00:00+00:00", **PERIOD},
                created_at=WEDNESDAY)
            session.add(row)
            session.flush()
            agendas[name] = row.id
    return Pair(rt, clock, ids, agendas)


def reply(pair: Pair, who: str, body: str, *, at: datetime | None = None) -> str:
    """``who`` replies to their agenda at the clock's time (or ``at``); the answer's text."""
    return write(pair.rt, who, reply_address(pair.agendas[who], SECRET, DOMAIN), body,
                 at or pair.clock.now)


def write(rt: Runtime, who: str, to: str, body: str, at: datetime) -> str:
    """``who``@acme.example mails ``to`` through the company's relay; the answer's text."""
    message = EmailMessage()
    message["From"] = f"{who}@acme.example"
    message["To"] = to
    message["Subject"] = "Re: 1:1 check-in agenda"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<{who}-{next(_SERIAL)}@mail.example>"
    message.set_content(body)
    _row, answer = run(rt, message.as_bytes(policy=SMTP))
    return " ".join(answer.split())


def the_meeting(pair: Pair) -> Meeting:
    with pair.rt.sessions() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        return meeting


def figures_of(pair: Pair, who: str) -> PersonFigures:
    """The person's 2026-Q4 digest figures, judged after the quarter."""
    with pair.rt.sessions() as session:
        window = window_named("2026-Q4", 1, date(2027, 1, 4))
        figures = compute_figures(session, window, datetime(2027, 1, 4, tzinfo=UTC))
    return next(p for p in figures.people if p.person_id == pair.ids[who])


def employee_digest_text(pair: Pair, who: str) -> str:
    me = figures_of(pair, who)
    window = window_named("2026-Q4", 1, date(2027, 1, 4))
    view = digests.employee_view(digests.Snapshot(window, {me.person_id: me}, {}),
                                 me.person_id)
    return " ".join(render_digest(view, show_charts=False).text.split())


def test_either_side_logs_the_meeting_and_the_other_confirms_it(pair: Pair) -> None:
    answer = reply(pair, "ann", "met: yes 30min")
    assert "1:1 with Mika Sato, 2026-W49: held on Wed 02 Dec 2026" in answer
    meeting = the_meeting(pair)
    assert (meeting.status, meeting.employee_says, meeting.manager_says) == (
        "held", "held", None)

    answer = reply(pair, "mika", "met: yes")
    assert "1:1 with Ann Lee, 2026-W49: held" in answer and "disputed" not in answer
    assert (the_meeting(pair).status, the_meeting(pair).manager_says) == ("held", "held")
    ann = figures_of(pair, "ann")
    assert (ann.checkins_held, ann.checkins_confirmed, ann.checkins_disputed) == (1, 1, 0)


def test_when_the_two_sides_disagree_the_record_is_disputed_until_they_agree(
        pair: Pair) -> None:
    reply(pair, "ann", "met: yes")
    answer = reply(pair, "mika", "met: no, Ann was at the customer")
    assert ("1:1 with Ann Lee, 2026-W49: not held (Ann was at the customer); Ann Lee "
            "logged it otherwise, so the record shows this 1:1 as disputed") in answer
    meeting = the_meeting(pair)
    assert (meeting.status, meeting.employee_says, meeting.manager_says) == (
        "disputed", "held", "not_held")

    ann = figures_of(pair, "ann")
    assert (ann.checkins_disputed, ann.checkins_held) == (1, 0)  # expected, not held
    week = next(mark for mark in ann.timeline if mark.period_start == date(2026, 11, 30))
    assert week.state == "disputed"
    text = employee_digest_text(pair, "ann")
    assert f"0 of {ann.checkins_expected} expected check-ins held (0%), 0 confirmed by both, "\
        "1 disputed, 0 excused" in text

    reply(pair, "mika", "met: 2026-12-02")  # Mika agrees after all
    assert the_meeting(pair).status == "held"
    ann = figures_of(pair, "ann")
    assert (ann.checkins_disputed, ann.checkins_held) == (0, 1)


def test_an_excuse_records_who_gave_it_and_digests_show_it(pair: Pair) -> None:
    answer = reply(pair, "mika", "skip: offsite")
    assert "1:1 with Ann Lee, 2026-W49: skipped (offsite)" in answer
    meeting = the_meeting(pair)
    assert (meeting.status, meeting.excused_by_id) == ("excused", pair.ids["mika"])
    ann = figures_of(pair, "ann")
    assert (ann.checkins_excused, ann.checkins_excused_by_manager,
            ann.checkins_excused_by_employee) == (1, 1, 0)
    assert "1 excused (1 by the manager)" in employee_digest_text(pair, "ann")

    answer = reply(pair, "ann", "met: yes")  # Ann says it took place anyway
    assert "disputed" in answer and the_meeting(pair).status == "disputed"


def test_the_employee_excusing_is_shown_as_theirs(pair: Pair) -> None:
    reply(pair, "ann", "skip: sick")
    ann = figures_of(pair, "ann")
    assert (ann.checkins_excused_by_manager, ann.checkins_excused_by_employee) == (0, 1)
    assert "1 excused (1 by Ann Lee)" in employee_digest_text(pair, "ann")


def test_a_meeting_date_in_the_future_is_refused(pair: Pair) -> None:
    # The message's own Date says Saturday, so Friday reads as past; the clock says Wednesday.
    answer = reply(pair, "ann", "met: 2026-12-04", at=datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    assert "Fri 04 Dec 2026 is in the future; log a 1:1 once it has taken place" in answer
    with pair.rt.sessions() as session:
        assert session.scalars(select(Meeting)).all() == []


def test_older_dates_than_the_previous_period_only_from_the_manager(pair: Pair) -> None:
    answer = reply(pair, "ann", "met: 2026-11-20")  # week 2026-W47: two weeks back
    assert ("Fri 20 Nov 2026 is before the previous 1:1 period (2026-W48); only Mika Sato "
            "can log a meeting that long ago") in answer
    answer = reply(pair, "ann", "met: 2026-11-24")  # the previous week: fine
    assert "1:1 with Mika Sato, 2026-W48: held on Tue 24 Nov 2026" in answer

    answer = reply(pair, "mika", "met: 2026-11-20")
    assert "1:1 with Ann Lee, 2026-W47: held on Fri 20 Nov 2026" in answer
    ann = figures_of(pair, "ann")
    assert ann.checkins_held == 2


def test_an_agendas_meeting_lines_close_after_the_set_days_its_task_lines_do_not(
        pair: Pair) -> None:
    memo = "Draft the <b>pricing</b> memo\nSubject: hi"
    with pair.rt.sessions() as session:
        task = session.scalar(select(Task).where(Task.title == memo))
        assert task is not None
        ref = task.ref
    # The period ended Sun 06 Dec: meeting lines count through Sun 20 Dec (14 days).
    pair.clock.now = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
    answer = reply(pair, "mika", "met: 2026-12-03")
    assert "1:1 with Ann Lee, 2026-W49: held on Thu 03 Dec 2026" in answer

    pair.clock.now = datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
    answer = reply(pair, "ann", f"skip: sick\n{ref} 70%")
    assert ("this agenda's 1:1 period ended on Sun 06 Dec 2026 and its meeting lines could "
            "be sent until Sun 20 Dec 2026, so the meeting record was not changed; its task "
            "lines still count") in answer
    assert f"{ref} Draft the" in answer and "70%" in answer
    meeting = the_meeting(pair)
    assert (meeting.status, meeting.excused_by_id) == ("held", None)
    with pair.rt.sessions() as session:
        assert session.get(Task, task.id).progress == 70  # type: ignore[union-attr]


def test_the_days_come_from_the_setting(pair: Pair) -> None:
    pair.rt.settings = pair.rt.settings.model_copy(update={"meeting_lines_days": 0})
    pair.clock.now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # the day after the period
    answer = reply(pair, "mika", "met: 2026-12-03")
    assert "could be sent until Sun 06 Dec 2026" in answer


def test_pair_from_agenda_reads_the_pair_and_when_its_meeting_lines_close() -> None:
    context = AgendaContext.from_json({"manager_id": 1, "employee_id": 2, **PERIOD})
    assert context is not None
    open_pair = pair_from_agenda(context, datetime(2026, 12, 20, 23, 59, tzinfo=UTC),
                                 meeting_lines_days=14)
    assert (open_pair.manager_id, open_pair.employee_id, open_pair.period_start,
            open_pair.meeting_lines_until, open_pair.meeting_lines_closed) == (
        1, 2, date(2026, 11, 30), date(2026, 12, 20), False)
    closed = pair_from_agenda(context, datetime(2026, 12, 21, 0, 0, tzinfo=UTC),
                              meeting_lines_days=14)
    assert closed.meeting_lines_closed
    assert pair_from_agenda(context, datetime(2026, 12, 8, tzinfo=UTC),
                            meeting_lines_days=1).meeting_lines_closed
