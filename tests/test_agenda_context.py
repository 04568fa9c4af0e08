"""What an agenda's outbox row keeps (its JSON context) reads back as it was written,
and a row that names no pair (an answer, a digest) reads as none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mail.write.agenda import AgendaContext

AGENDA = AgendaContext(7, 9, date(2026, 11, 30), date(2026, 12, 6), role="manager",
                       period_key="2026-W49",
                       meeting_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC))


def test_an_agenda_context_reads_back_as_written() -> None:
    assert AgendaContext.from_json(AGENDA.to_json()) == AGENDA
    nudge = AgendaContext(7, 9, date(2026, 11, 30), date(2026, 12, 6), role="employee")
    assert AgendaContext.from_json(nudge.to_json()) == nudge
    assert "meeting_at" not in nudge.to_json()  # a nudge announces no meeting


def test_the_stored_keys_stay_the_ones_older_rows_have() -> None:
    assert AGENDA.to_json() == {
        "manager_id": 7, "employee_id": 9, "meeting_at": "2026-12-03T10:00:00+00:00",
        "period_start": "2026-11-30", "period_end": "2026-12-06", "period_key": "2026-W49",
        "role": "manager"}


@pytest.mark.parametrize("context", [
    None, {}, {"inbound_id": 4, "auto_submitted": "auto-replied", "view": {}},
    {"digest": "hr", "period": "2026-Q4"},
    {"manager_id": 7, "employee_id": 9},  # no period: nothing a reply could apply to
    {"manager_id": 7, "employee_id": 9, "period_start": "not a date"},
])
def test_a_context_that_names_no_pair_reads_as_none(context: dict[str, object] | None
                                                     ) -> None:
    assert AgendaContext.from_json(context) is None


def test_the_pair_names_its_two_people_only() -> None:
    assert AGENDA.names(7) and AGENDA.names(9) and not AGENDA.names(8)
