"""Meeting notes by email: action items, people, and the calendar invite, row by row.

Relative dates are read against a meeting on Thursday 2026-11-26 in Berlin, so
"Friday" is 2026-11-27, "next week" the Friday 2026-12-04 and "end of month"
2026-11-30 (the rules are in the docstring of ``mail.read.notes``). The corpus of
real-shaped lines is ``tests/test_action_items_corpus.py``.
"""

from __future__ import annotations

import dataclasses
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.read.calendar import meeting_attendees, meeting_start
from mail.read.dates import read_date
from mail.read.notes import ActionItem, find_action_items
from mail.read.notes_people import Candidate, match_people, people_in_subject, with_line

BERLIN = "Europe/Berlin"
THURSDAY = date(2026, 11, 26)
CALENDAR = Path(__file__).parent / "fixtures" / "calendar"

ANN = Candidate(1, "Ann Lee", "ann.lee@example.com", ("ann@example.com",))
BEN = Candidate(2, "Ben Ortiz", "ben.ortiz@example.com")
ANNA_B = Candidate(3, "Anna Berg", "anna.berg@example.com")
ANNA_R = Candidate(4, "Anna Roth", "anna.roth@example.com")
CHLOE = Candidate(5, "Chloé Martin", "chloe.martin@example.com")
DEV = Candidate(6, "Dev Patel", "dev.patel@example.com", ("dpatel@example.com",))
PEOPLE = (ANN, BEN, ANNA_B, ANNA_R, CHLOE, DEV)


def items(text: str, **kwargs: object) -> tuple[ActionItem, ...]:
    kwargs.setdefault("candidates", PEOPLE)
    kwargs.setdefault("meeting_date", THURSDAY)
    kwargs.setdefault("timezone", BERLIN)
    kwargs.setdefault("default_owner", BEN.key)
    kwargs.setdefault("author", ANN.key)
    return find_action_items(text, **kwargs)  # type: ignore[arg-type]


def one(line: str, **kwargs: object) -> ActionItem:
    found = items(line, **kwargs)
    assert len(found) == 1, found
    return found[0]


# --- the forms ----------------------------------------------------------------------------

FORMS = [
    # line, owner, what, due, due_text
    ("ACTION: Ben to send the pricing memo by Friday", "Ben", 2, "Send the pricing memo",
     date(2026, 11, 27), "by Friday"),
    ("Action item: Ann to book the offsite", "Ann", 1, "Book the offsite", None, None),
    ("AI: Dev to fix the build tomorrow", "Dev", 6, "Fix the build", date(2026, 11, 27),
     "tomorrow"),
    ("- [ ] Ann: draft plan by 12/4", "Ann", 1, "Draft plan", date(2026, 12, 4), "by 12/4"),
    ("- [x] Ann: draft plan", "Ann", 1, "Draft plan", None, None),
    ("☐ Ben: call the agency", "Ben", 2, "Call the agency", None, None),
    ("1. Ben to renew the licence", "Ben", 2, "Renew the licence", None, None),
    ("• Ben to renew the licence", "Ben", 2, "Renew the licence", None, None),
    ("TODO @ann call the vendor next week", "@ann", 1, "Call the vendor", date(2026, 12, 4),
     "next week"),
    ("TODO: clean up the board", None, 2, "Clean up the board", None, None),
    ("Ann will update the forecast by end of month", "Ann", 1, "Update the forecast",
     date(2026, 11, 30), "by end of month"),
    ("Ben to review the deck (due 2026-12-04)", "Ben", 2, "Review the deck", date(2026, 12, 4),
     "due 2026-12-04"),
    ("@ben: chase legal — Dec 12", "@ben", 2, "Chase legal", date(2026, 12, 12), "Dec 12"),
    ("I'll ask HR about the policy", "I", 1, "Ask HR about the policy", None, None),
    ("ACTION: me to write the summary", "me", 1, "Write the summary", None, None),
    ("ACTION: ann.lee@example.com to sign the contract", "ann.lee@example.com", 1,
     "Sign the contract", None, None),
    ("ACTION: Send the SOW to legal. Owner: Ann", "Ann", 1, "Send the SOW to legal", None, None),
    ("ACTION: review churn -> Dev", "Dev", 6, "Review churn", None, None),
    ("ACTION: Prepare the agenda (Ben)", "Ben", 2, "Prepare the agenda", None, None),
    ("ACTION (Dev): fix the flaky test", "Dev", 6, "Fix the flaky test", None, None),
    ("ACTION: We will send the deck", None, 2, "Send the deck", None, None),
    ("☐ @Ann Lee Review the doc", "Ann Lee", 1, "Review the doc", None, None),
    ("Ben: please send me your self-assessment by Friday", "Ben", 2,
     "Send me your self-assessment", date(2026, 11, 27), "by Friday"),
    ("TODO for Dev: renew the certificate", "Dev", 6, "Renew the certificate", None, None),
    ("TODO(dev): add alerts", "dev", 6, "Add alerts", None, None),
    ("ACTION: Dev drafts the proposal", "Dev", 6, "Draft the proposal", None, None),
    ("ACTION: Dev fixes the build", "Dev", 6, "Fix the build", None, None),
    ("Aufgabe: Ben: Angebot schicken bis Freitag", "Ben", 2, "Angebot schicken",
     date(2026, 11, 27), "bis Freitag"),
    ("À faire: Ann: envoyer le devis avant vendredi", "Ann", 1, "Envoyer le devis",
     date(2026, 11, 27), "avant vendredi"),
    ("Tarea: Ben: revisar el contrato para el viernes", "Ben", 2, "Revisar el contrato",
     date(2026, 11, 27), "para el viernes"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "owner_text", "owner", "what", "due", "due_text"), FORMS)
def test_action_item_forms(
    line: str, owner_text: str | None, owner: int, what: str, due: date | None, due_text: str
) -> None:
    item = one(line)
    assert (item.owner_text, item.owner, item.what, item.due, item.due_text) == (
        owner_text,
        owner,
        what,
        due,
        due_text,
    )
    assert item.line == line
    assert item.problem is None


def test_project_is_taken_out_of_the_title() -> None:
    item = one("ACTION: Ben to draft the hiring plan P-3 by Friday")
    assert (item.what, item.project, item.due) == (
        "Draft the hiring plan",
        "P-3",
        date(2026, 11, 27),
    )


def test_items_are_frozen() -> None:
    item = one("TODO: clean up")
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.what = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "line",
    [
        "We talked about hiring",
        "Ann said the launch went well",
        "Ann will be out next week",
        "Ben will likely hit the target",
        "T-12 done",
        "- T-12 60% drafted the intro",
        "T12: blocked: waiting on legal",
        "met: yes 30min",
        "skip: vacation",
        "new: Call the vendor by Friday",
        "+ Call the vendor due 2026-12-04",
        "> ACTION: Ben to send the memo",
        ">> Ann will update the forecast",
        "Next steps:",
        "## Discussion",
        "**Decisions**",
        "Agenda:",
        "Talked to Dev about on-call",
        "Carl will send the numbers",  # prose about someone the meeting does not know
        "Ann to discuss with HR?",
        "Ben: things are going well",
        "",
        "   ",
    ],
)
def test_not_action_items(line: str) -> None:
    assert items(line) == ()


# --- sections -----------------------------------------------------------------------------


def test_next_steps_lines_are_items_until_the_list_ends() -> None:
    notes = """Discussed the roadmap.
Next steps:
- Ann: book the room Thursday
- Update the hiring plan by EOW
Thanks all, good meeting.

To-dos
Send the recap
Ann: approve the budget

Other notes
The offsite went well
"""
    found = items(notes)
    assert [(i.what, i.owner, i.due) for i in found] == [
        ("Book the room", 1, date(2026, 12, 3)),
        ("Update the hiring plan", 2, date(2026, 11, 27)),
        ("Send the recap", 2, None),  # a list of plain lines ends at a blank line
        ("Approve the budget", 1, None),
    ]


def test_a_list_goes_on_after_a_blank_line_when_the_next_line_is_a_bullet() -> None:
    found = items("Action items:\n- Ben: send the recap\n\n- Ann: approve the budget\nThe end")
    assert [i.what for i in found] == ["Send the recap", "Approve the budget"]


def test_a_heading_ends_a_list() -> None:
    found = items("Action items:\n- Ben: send the recap\nDecisions:\nWe keep the train")
    assert [i.what for i in found] == ["Send the recap"]


def test_a_signature_ends_a_list() -> None:
    found = items("Next steps:\n- send the recap\n--\nAnn Lee\nVP Engineering")
    assert [i.what for i in found] == ["Send the recap"]


def test_a_heading_can_name_the_owner_of_its_items() -> None:
    found = items("Action items for Dev:\n- migrate the cron jobs\n- Ben: review it")
    assert [(i.what, i.owner, i.owner_text) for i in found] == [
        ("Migrate the cron jobs", 6, "Dev"),
        ("Review it", 2, "Ben"),
    ]


def test_inline_heading_is_an_item_and_opens_a_list() -> None:
    found = items("Next steps: Ann to book the room\n- Ben: send the recap")
    assert [(i.what, i.owner) for i in found] == [("Book the room", 1), ("Send the recap", 2)]


@pytest.mark.parametrize("line", ["AI:", "TODO: Ben: by Friday", "ACTION: P-3"])
def test_an_item_without_a_task_says_what_to_write(line: str) -> None:
    item = one(line)
    assert item.what == ""
    assert item.problem and "ACTION: Ben to send" in item.problem


def test_nothing_to_do_is_no_item() -> None:
    assert items("Action items: none") == ()
    assert items("ACTION: n/a") == ()


# --- owners that must not be guessed ------------------------------------------------------


def test_ambiguous_first_name_lists_the_candidates() -> None:
    item = one("ACTION: Anna to send the shortlist by Friday")
    assert item.owner is None and item.owner_text == "Anna"
    assert item.due == date(2026, 11, 27)  # the date is settled, so it is kept
    assert item.problem is not None
    assert "Anna Berg <anna.berg@example.com>" in item.problem
    assert "Anna Roth <anna.roth@example.com>" in item.problem
    assert "ACTION: anna.berg@example.com to send the shortlist" in item.problem


def test_unknown_name_is_a_problem_under_a_marker() -> None:
    item = one("ACTION: Carl to send the numbers")
    assert item.owner is None and item.owner_text == "Carl"
    assert item.problem and 'I do not know "Carl"' in item.problem


@pytest.mark.parametrize("line", ["ACTION: She will follow up", "ACTION: they to follow up"])
def test_pronouns_are_a_problem(line: str) -> None:
    item = one(line)
    assert item.owner is None and item.problem and "cannot tell who" in item.problem


@pytest.mark.parametrize(
    "line",
    ["ACTION: Ann and Ben to align", "ACTION: Ben + Dev to align", "- [ ] Ann & Ben: align",
     "TODO: align @ann @ben"],
)  # fmt: skip
def test_two_owners_are_a_problem(line: str) -> None:
    item = one(line)
    assert item.owner is None and item.what == "Align"
    assert item.problem and "One owner per action item" in item.problem


def test_i_without_an_author_is_a_problem() -> None:
    item = one("I will send the notes", author=None)
    assert item.owner is None and item.problem


def test_no_owner_written_is_the_default_owner() -> None:
    item = one("TODO: update the wiki", default_owner=None)
    assert (item.owner, item.owner_text, item.problem) == (None, None, None)
    assert one("TODO: update the wiki", default_owner=7).owner == 7


def test_owner_by_alias_handle_and_accents() -> None:
    assert one("@dpatel update the runbook").owner == 6
    assert one("TODO: Chloe: schedule the review").owner == 5
    assert one("ACTION: ann@example.com to sign").owner == 1


# --- dates --------------------------------------------------------------------------------

DUES = [
    ("by Friday", date(2026, 11, 27)),
    ("Friday", date(2026, 11, 27)),
    ("by Thursday", date(2026, 12, 3)),  # the first Thursday after the meeting
    ("next Friday", date(2026, 12, 4)),
    ("Friday next week", date(2026, 12, 4)),
    ("next week", date(2026, 12, 4)),  # the Friday of next week
    ("by end of next week", date(2026, 12, 4)),
    ("this week", date(2026, 11, 27)),
    ("by EOW", date(2026, 11, 27)),
    ("end of week", date(2026, 11, 27)),
    ("EOM", date(2026, 11, 30)),
    ("by end of month", date(2026, 11, 30)),
    ("by the end of the month", date(2026, 11, 30)),
    ("next month", date(2026, 12, 31)),
    ("EOQ", date(2026, 12, 31)),
    ("by end of Q1", date(2027, 3, 31)),
    ("by Q3 2027", date(2027, 9, 30)),
    ("EOY", date(2026, 12, 31)),
    ("today", date(2026, 11, 26)),
    ("by EOD", date(2026, 11, 26)),
    ("tomorrow", date(2026, 11, 27)),
    ("in 2 weeks", date(2026, 12, 10)),
    ("within three days", date(2026, 11, 29)),
    ("in a month", date(2026, 12, 26)),
    ("Dec 12", date(2026, 12, 12)),
    ("by 12 December", date(2026, 12, 12)),
    ("by Jan 15", date(2027, 1, 15)),
    ("by the 15th", date(2026, 12, 15)),
    ("due 2026-12-04", date(2026, 12, 4)),
    ("by 12/4", date(2026, 12, 4)),  # US reading: 4 December, near
    ("by 4/12", date(2026, 12, 4)),  # day/month reading: 4 December, near
    ("by 13/12", date(2026, 12, 13)),  # only a day/month
    ("by 12/4/2026", date(2026, 12, 4)),  # 12 April 2026 is past
    ("by 18.12.", date(2026, 12, 18)),
    ("by December", date(2026, 12, 31)),
    ("bis Freitag", date(2026, 11, 27)),
    ("bis nächste Woche", date(2026, 12, 4)),
    ("avant vendredi", date(2026, 11, 27)),
    ("para el viernes", date(2026, 11, 27)),
]


@pytest.mark.parametrize(("phrase", "due"), DUES)
def test_due_phrases(phrase: str, due: date) -> None:
    item = one(f"ACTION: Ben to send the memo {phrase}")
    assert (item.what, item.due, item.problem) == ("Send the memo", due, None)
    assert item.due_text == phrase


def test_end_of_week_on_a_weekend_meeting_is_the_coming_friday() -> None:
    saturday = date(2026, 11, 28)
    assert one("TODO: send it EOW", meeting_date=saturday).due == date(2026, 12, 4)
    assert one("TODO: send it EOM", meeting_date=date(2026, 11, 30)).due == date(2026, 11, 30)


@pytest.mark.parametrize("line", ["ACTION: Ben to send it by 1/2", "ACTION: Ben to send it by 6/7"])
def test_slashed_dates_too_close_to_tell_are_asked_about(line: str) -> None:
    item = one(line)
    assert item.due is None and item.owner == 2
    assert item.problem and "could be" in item.problem and "Write the date as" in item.problem


@pytest.mark.parametrize(
    "line",
    [
        "ACTION: Ben to send it by 2026-11-20",
        "ACTION: Ben to send it by yesterday",
        "ACTION: Ben to send it by last Friday",
    ],
)
def test_a_due_date_before_the_meeting_is_a_problem(line: str) -> None:
    item = one(line)
    assert item.due is None and item.problem and "before the meeting" in item.problem
    assert item.what == "Send it"


def test_an_unreadable_due_date_is_a_problem() -> None:
    item = one("TODO: Ben to migrate the dashboards due 2026-13-40")
    assert (item.due, item.what, item.owner) == (None, "Migrate the dashboards", 2)
    assert item.problem and "could not read the date" in item.problem


def test_words_that_look_like_dates_stay_in_the_title() -> None:
    assert one("TODO: plan for Q1").what == "Plan for Q1"
    assert one("TODO: review the March numbers").due is None
    assert one("TODO: review by Ann").what == "Review by Ann"
    assert one("TODO: upgrade to 4.12").what == "Upgrade to 4.12"
    item = one("TODO: send the status every Friday")
    assert (item.what, item.due) == ("Send the status every Friday", None)


def test_dates_use_the_meeting_date_whatever_the_time_zone() -> None:
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "No/Such_Zone", ""):
        assert one("TODO: send it by Friday", timezone=zone).due == date(2026, 11, 27)


def test_grammar_read_date_is_public() -> None:
    moment = datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo(BERLIN))
    assert read_date("next Friday", moment, BERLIN) == date(2026, 12, 4)
    assert read_date("Tuesday", moment, BERLIN, past=True) == date(2026, 11, 24)
    assert read_date("not a date at all", moment, BERLIN) is None


# --- people -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Ann Lee", [1]),
        ("ann lee", [1]),
        ("Lee, Ann", [1]),
        ("Ann Lee <ANN.LEE@example.com>", [1]),
        ("ann@example.com", [1]),
        ("@ann", [1]),
        ("Ann", [1]),
        ("Ann L.", [1]),
        ("Ortiz", [2]),
        ("@ben.ortiz", [2]),
        ("@bortiz", [2]),
        ("Anna", [3, 4]),
        ("@anna", [3, 4]),
        ("Anna R.", [4]),
        ("chloe", [5]),
        ("CHLOÉ MARTIN", [5]),
        ("dpatel", [6]),
        ("Carl", []),
        ("nobody@example.com", []),
        ("", []),
    ],
)
def test_match_people(text: str, keys: list[int]) -> None:
    assert [c.key for c in match_people(text, PEOPLE)] == keys


@pytest.mark.parametrize(
    ("subject", "keys"),
    [
        ("1:1 Ann / Ben notes", [1, 2]),
        ("Notes – Ann Lee 1:1", [1]),
        ("Fwd: RE: 1:1 Ben <> Ann", [2, 1]),
        ("Fw: Ben Ortiz / ann.lee@example.com weekly", [2, 1]),
        ("1:1 Anna / Ben", [3, 4, 2]),  # ambiguous: both Annas, the caller narrows
        ("Weekly notes", []),
        ("", []),
    ],
)
def test_people_in_subject(subject: str, keys: list[int]) -> None:
    assert [c.key for c in people_in_subject(subject, PEOPLE)] == keys


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Notes\nwith: Ann Lee\n", "Ann Lee"),
        ("With: ben.ortiz@example.com", "ben.ortiz@example.com"),
        ("1:1 with Ben Ortiz — 26 Nov", "Ben Ortiz"),
        ("1:1 with: Ben (weekly)", "Ben"),
        ("**1:1 with** Ann.", "Ann"),
        ("mit: Chloé", "Chloé"),
        ("avec : Dev Patel", "Dev Patel"),
        ("con: Ben", "Ben"),
        ("Meeting with: Ben", "Ben"),
        ("Meeting with Ann went well", None),
        ("> with: Ann", None),
        ("with:", None),
        ("", None),
    ],
)
def test_with_line(text: str, value: str | None) -> None:
    assert with_line(text) == value


# --- calendar -----------------------------------------------------------------------------


def ics(name: str) -> str:
    return (CALENDAR / name).read_text(encoding="utf-8")


BERLIN_0930 = datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo(BERLIN))


@pytest.mark.parametrize(
    ("name", "start", "zone"),
    [
        ("google_utc.ics", datetime(2026, 11, 26, 8, 30, tzinfo=UTC), "UTC"),
        ("google_recurring_berlin.ics", BERLIN_0930, BERLIN),
        ("outlook_w_europe.ics", BERLIN_0930, BERLIN),
        ("outlook_custom_label.ics", BERLIN_0930, BERLIN),
        ("outlook_pacific.ics", datetime(2026, 11, 26, 0, 30, tzinfo=UTC), "America/Los_Angeles"),
        ("apple.ics", BERLIN_0930, BERLIN),
        ("broken_truncated.ics", BERLIN_0930, BERLIN),
    ],
)
def test_meeting_start(name: str, start: datetime, zone: str) -> None:
    found = meeting_start([ics(name)])
    assert found == start
    assert found is not None and found.tzinfo is not None
    assert str(found.tzinfo) == zone  # a real zone, so DST and "the local day" are right


def test_meeting_start_floating_and_all_day() -> None:
    assert meeting_start([ics("floating.ics")]) == datetime(2026, 11, 26, 9, 30)  # naive
    assert meeting_start([ics("apple_all_day.ics")]) is None


def test_meeting_start_takes_the_first_part_with_an_event() -> None:
    parts = ["not a calendar", "", ics("apple_all_day.ics"), ics("google_utc.ics")]
    assert meeting_start(parts) is None  # the all-day event comes first and has no time
    assert meeting_start(["garbage", ics("google_utc.ics")]) == datetime(
        2026, 11, 26, 8, 30, tzinfo=UTC
    )


def test_windows_zone_without_vtimezone() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTART;TZID=Pacific Standard Time:20261126T093000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    found = meeting_start([text])
    assert found == datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_unknown_zone_is_the_wall_clock() -> None:
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Mars/Olympus:20261126T093000\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )
    assert meeting_start([text]) == datetime(2026, 11, 26, 9, 30)


@pytest.mark.parametrize(
    ("name", "emails"),
    [
        ("google_utc.ics", ("ann.lee@example.com", "ben.ortiz@example.com")),
        ("google_recurring_berlin.ics", ("ann.lee@example.com", "ben.ortiz@example.com")),
        ("outlook_w_europe.ics", ("ann.lee@example.com", "ben.ortiz@example.com")),
        (
            "outlook_pacific.ics",
            ("ann.lee@example.com", "ben.ortiz@example.com", "dev.patel@example.com"),
        ),
        ("apple.ics", ("ann.lee@example.com", "ben.ortiz@example.com")),  # urn:uuid + EMAIL=
        ("broken_truncated.ics", ("ann.lee@example.com",)),  # the cut address is no address
        ("floating.ics", ("ben.ortiz@example.com",)),
    ],
)
def test_meeting_attendees(name: str, emails: tuple[str, ...]) -> None:
    assert meeting_attendees([ics(name)]) == emails


def test_attendees_of_several_parts_once_each() -> None:
    both = [ics("google_utc.ics"), ics("outlook_pacific.ics")]
    assert meeting_attendees(both) == (
        "ann.lee@example.com",
        "ben.ortiz@example.com",
        "dev.patel@example.com",
    )
    assert meeting_attendees([]) == ()


# --- never raises, bounded time -----------------------------------------------------------

candidates = st.lists(
    st.builds(
        Candidate,
        key=st.integers(0, 50),
        name=st.text(max_size=30),
        email=st.emails().map(str.lower),
        aliases=st.lists(st.text(max_size=20), max_size=2).map(tuple),
    ),
    max_size=6,
)
notes_text = st.one_of(
    st.text(max_size=400),
    st.lists(
        st.sampled_from(
            ["ACTION:", "TODO", "@ann", "Ann", "Anna", "to", "will", "by", "due", "Friday",
             "12/4", "1/2", "2026-13-40", "next week", "EOM", "P-3", "(", ")", "[ ]", "-", ":",
             "\n", "Next steps:", "and", "&", ">", "I'll", "we", "she", "in 2 weeks", "Q1",
             "every", "for", "Ben", "—", "T-12", "met:", "**", "☐", "Owner:", "->"]
        ),
        max_size=60,
    ).map(" ".join),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=notes_text,
    people=candidates,
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    zone=st.sampled_from([BERLIN, "UTC", "America/New_York", "Pacific/Kiritimati", "bogus"]),
)
def test_find_action_items_never_raises(
    text: str, people: list[Candidate], day: date, zone: str
) -> None:
    keys = {c.key for c in people}
    found = find_action_items(
        text, candidates=people, meeting_date=day, timezone=zone, default_owner=99, author=98
    )
    for item in found:
        assert item.due is None or item.due >= day  # never a due date before the meeting
        assert item.owner in keys | {98, 99, None}
        if item.owner_text is not None and item.owner is None:
            assert item.problem  # a written owner that was not settled says why
        assert item.line.strip() == item.line


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), people=candidates)
def test_people_readers_never_raise(text: str, people: list[Candidate]) -> None:
    assert isinstance(match_people(text, people), tuple)
    assert isinstance(people_in_subject(text, people), tuple)
    value = with_line(text)
    assert value is None or isinstance(value, str)


ICS_NAMES = sorted(p.name for p in CALENDAR.glob("*.ics"))


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(ICS_NAMES),
    cut=st.integers(0, 5000),
    junk=st.text(max_size=40),
    where=st.integers(0, 5000),
)
def test_calendar_never_raises_on_mangled_invites(
    name: str, cut: int, junk: str, where: int
) -> None:
    text = ics(name)[:cut]
    text = text[:where] + junk + text[where:]
    start = meeting_start([text])
    assert start is None or isinstance(start, datetime)
    assert all(isinstance(a, str) and a == a.lower() for a in meeting_attendees([text]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=3))
def test_calendar_never_raises_on_arbitrary_text(texts: list[str]) -> None:
    meeting_start(texts)
    meeting_attendees(texts)


def test_a_megabyte_of_notes_takes_bounded_time() -> None:
    rng = random.Random(7)
    words = ["ACTION:", "Ann", "to", "will", "by", "Friday", "Dec", "12", "@ann", "and",
             "the", "\n", "- [ ]", "Next steps:\n", "12/4", "EOM", "Anna", "(due",
             "2026-12-04)"]  # fmt: skip
    noise = " ".join(rng.choice(words) for _ in range(250_000))[:1_000_000]
    dated = "".join(
        f"ACTION: Ann to do {i} by Dec {i % 28 + 1} {2026 + i % 5}\n" for i in range(40_000)
    )
    lines = "a\n" * 500_000
    for text in (noise, dated[:1_000_000], lines, "ACTION: Ann to " + "x " * 500_000):
        started = time.perf_counter()
        found = items(text)
        assert time.perf_counter() - started < 30, len(found)  # about 2 s here; CI is slower
    started = time.perf_counter()
    people_in_subject("Ann " * 250_000, PEOPLE)
    with_line("with: " + "x" * 1_000_000)
    meeting_start(["BEGIN:VEVENT\n" + "ATTENDEE:mailto:a@b.c\n" * 40_000])
    assert time.perf_counter() - started < 30
