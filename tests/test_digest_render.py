"""Evaluation digests as their readers see them: subject, plain part, HTML part,
charts and CSV.

Views are built by hand (no database): Acme's 2026-Q4 with six people, a manager
and her reports, someone who joined mid-quarter with nothing to judge yet, a
goal at risk, names that need escaping, and changes since the first send.
Assertions read the visible words (HTML reduced to its text), not the templates.
"""

from __future__ import annotations

import csv
import email
import io
import random
import re
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage

import pytest

from mail.write.compose import build_message, to_bytes
from mail.write.digest import (
    CheckinMark,
    CheckinState,
    DigestView,
    GoalLine,
    InitiativeRollup,
    PersonFigures,
    TeamRollup,
)
from mail.write.digest_csv import COLUMNS, figures_csv
from mail.write.digest_render import PEOPLE_ROWS, digest_subject, render_digest
from tests.test_agenda_render import visible as visible_lines

START, END = date(2026, 10, 1), date(2026, 12, 31)
WEEKS = tuple(date(2026, 9, 28) + timedelta(weeks=i) for i in range(14))
ZOE = "Zoë O'Brien, Jr."
EVE = "<b>Eve</b>"


def timeline(*states: CheckinState) -> tuple[CheckinMark, ...]:
    return tuple(CheckinMark(week, state) for week, state in zip(WEEKS, states, strict=False))


def goal(ref: str, title: str, owner: str, start: float | None, end: float | None,
         expected: float | None = 80.0, owned: bool = True) -> GoalLine:
    at_risk = expected is not None and end is not None and end < expected
    return GoalLine(ref, title, owner, owned, start, end, expected, at_risk)


def person(person_id: int, name: str, **changes: object) -> PersonFigures:
    """A person with ordinary figures; ``changes`` override any field."""
    values: dict[str, object] = dict(
        person_id=person_id, name=name, email=f"p{person_id}@acme.example",
        manager_name="Ana Ruiz", active_from=None, active_to=None,
        initiatives=("Grow mid-market",), goals_owned=1, goals_contributed=0,
        goal_progress_start=30.0, goal_progress_end=85.0,
        goals=(goal(f"G-{person_id}", f"Goal of {name}", name, 30.0, 85.0),),
        tasks_due=6, tasks_done=5, tasks_done_on_time=4, tasks_overdue=2, tasks_blocked=0,
        on_time_rate=66.7, checkins_expected=13, checkins_held=11, checkins_confirmed=9,
        checkins_excused=1, adherence=84.6, longest_gap_days=14,
        last_checkin=date(2026, 12, 23), days_since_checkin=8,
        timeline=timeline(*(["confirmed"] * 9 + ["held", "held", "excused", "missed",
                                                  "upcoming"])),
    )
    values.update(changes)
    return PersonFigures(**values)  # type: ignore[arg-type]


def acme_people() -> tuple[PersonFigures, ...]:
    ana = person(1, "Ana Ruiz", manager_name="Hannah Lee", reports=3, team_adherence=57.1,
                 adherence=100.0, checkins_expected=6, checkins_held=6, checkins_confirmed=6,
                 checkins_excused=0)
    ben = person(
        2, "Ben Okafor", goals_owned=2, goals_contributed=1, goal_progress_start=20.0,
        goal_progress_end=45.0,
        goals=(goal("G-3", "Grow mid-market revenue", "Ben Okafor", 10.0, 35.0, 75.0),
               goal("G-4", "Launch the partner channel", "Ben Okafor", 30.0, 55.0, 50.0),
               goal("G-9", "Shared pricing page", ZOE, 40.0, 92.5, 60.0, owned=False)),
        tasks_due=12, tasks_done=10, tasks_done_on_time=8, tasks_overdue=4, tasks_blocked=1,
        on_time_rate=66.7, checkins_expected=12, checkins_held=5, checkins_confirmed=3,
        checkins_excused=1, adherence=41.7, longest_gap_days=42,
        last_checkin=date(2026, 11, 26), days_since_checkin=35,
        timeline=timeline("confirmed", "missed", "held", "confirmed", "excused", "missed",
                          "confirmed", "held", "missed", "missed", "missed", "missed",
                          "missed", "upcoming"))
    zoe = person(3, ZOE, goal_progress_start=40.0, goal_progress_end=92.5,
                 goals=(goal("G-9", "Shared pricing page", ZOE, 40.0, 92.5, 60.0),))
    eve = person(
        4, EVE, active_from=date(2026, 11, 16), initiatives=(), goals_owned=0,
        goals_contributed=0, goal_progress_start=None, goal_progress_end=None, goals=(),
        tasks_due=0, tasks_done=0, tasks_done_on_time=0, tasks_overdue=0, on_time_rate=None,
        checkins_expected=3, checkins_held=0, checkins_confirmed=0, checkins_excused=0,
        adherence=0.0, longest_gap_days=45, last_checkin=None, days_since_checkin=45,
        timeline=timeline(*(["inactive"] * 7 + ["missed"] * 6 + ["upcoming"])))
    hannah = person(5, "Hannah Lee", manager_name=None, reports=1, team_adherence=100.0,
                    checkins_expected=0, checkins_held=0, checkins_confirmed=0,
                    checkins_excused=0, adherence=None, longest_gap_days=None,
                    last_checkin=None, days_since_checkin=None, timeline=())
    wang = person(6, "王芳", manager_name="Hannah Lee", adherence=76.9, checkins_held=10)
    return (ana, ben, zoe, eve, hannah, wang)


def hr_view(**changes: object) -> DigestView:
    people = acme_people()
    teams = (
        TeamRollup("Ana Ruiz", "ana@acme.example", 3, 57.1, 66.7, 68.8, 1, 2),
        TeamRollup("Hannah Lee", "hannah@acme.example", 2, 89.5, 66.7, 85.0, 0, 0),
    )
    view = DigestView(
        kind="hr", period_label="2026-Q4", period_start=START, period_end=END,
        as_of=END, recipient_name="Priya Shah", people=people, teams=teams,
        initiatives=(InitiativeRollup("I-1", "Grow mid-market", 25.0, 60.0, 5, 1),
                     InitiativeRollup("I-2", "Partner channel", 30.0, 55.0, 1, 0)),
        lowest_adherence=(teams[0],), organisation="Acme",
        changes=("Ben Okafor: check-in on 3 Dec 2026 confirmed by both (adherence 33.3% → "
                 "41.7%)",),
    )
    return replace(view, **changes)


def manager_view(**changes: object) -> DigestView:
    people = acme_people()
    ana = people[0]
    view = DigestView(
        kind="manager", period_label="2026-Q4", period_start=START, period_end=END,
        as_of=END, recipient_name="Ana Ruiz", people=people[1:4], manager_self=ana)
    return replace(view, **changes)


def employee_view(**changes: object) -> DigestView:
    ben = acme_people()[1]
    view = DigestView(
        kind="employee", period_label="2026-Q4", period_start=START, period_end=END,
        as_of=END, recipient_name="Ben Okafor", people=(ben,))
    return replace(view, **changes)


def crowd(count: int, seed: int = 7) -> tuple[PersonFigures, ...]:
    """``count`` varied people under count // 10 managers, the same for the same seed."""
    rng = random.Random(seed)
    people = []
    for i in range(count):
        expected = rng.randint(0, 13)
        held = rng.randint(0, expected)
        start = rng.choice([None, float(rng.randint(0, 60))])
        end = None if start is None else min(100.0, start + rng.randint(0, 60))
        expected_progress = float(rng.randint(40, 100))
        goals = () if start is None else (
            goal(f"G-{i}", f"Goal number {i}", f"Person {i}", start, end, expected_progress),)
        states: list[CheckinState] = ["confirmed", "held", "excused", "missed", "upcoming"]
        people.append(person(
            1000 + i, f"Person {i:05d} Lastname", manager_name=f"Manager {i // 10}",
            goals_owned=len(goals), goal_progress_start=start, goal_progress_end=end,
            goals=goals, checkins_expected=expected, checkins_held=held,
            checkins_confirmed=held // 2, adherence=None if not expected else round(
                100 * held / expected, 1),
            days_since_checkin=rng.randint(0, 90),
            timeline=tuple(CheckinMark(w, rng.choice(states)) for w in WEEKS)))
    return tuple(people)


def big_hr_view(count: int) -> DigestView:
    people = crowd(count)
    teams = tuple(TeamRollup(f"Manager {m}", f"m{m}@acme.example", 10, float(m % 100),
                             50.0, 40.0, m % 3, m % 4) for m in range(count // 10))
    return hr_view(people=people, teams=teams, lowest_adherence=teams[:5], changes=())


def visible(html: str) -> list[str]:
    """The HTML part's visible lines, one per table row (its cells side by side)."""
    return visible_lines(re.sub(r"</t([dh])>", r"</t\1> ", html.replace("<br>", " ")))


# --- subjects -----------------------------------------------------------------------------


def test_subjects_name_the_period_and_the_reader() -> None:
    assert digest_subject(hr_view(changes=())) == "Drumbeat · 2026-Q4 evaluation — Acme (HR)"
    assert digest_subject(hr_view()) == "Drumbeat · 2026-Q4 evaluation (updated) — Acme (HR)"
    assert digest_subject(hr_view(organisation="", changes=())) == (
        "Drumbeat · 2026-Q4 evaluation — HR")
    assert digest_subject(manager_view()) == "Drumbeat · 2026-Q4 evaluation — your team"
    assert digest_subject(employee_view()) == "Drumbeat · 2026-Q4 evaluation — your quarter"
    assert digest_subject(employee_view(period_label="FY2026")) == (
        "Drumbeat · FY2026 evaluation — your year")
    assert render_digest(hr_view()).subject == digest_subject(hr_view())


def test_a_subject_stays_one_line() -> None:
    view = hr_view(organisation="Acme\r\nBcc: x@y.z", period_label="2026-Q4\n")
    assert "\n" not in digest_subject(view) and "\r" not in digest_subject(view)


# --- the HR digest ------------------------------------------------------------------------


def test_hr_headline_figures_are_in_both_parts() -> None:
    rendered = render_digest(hr_view())
    html = " ".join(visible(rendered.html))
    people = acme_people()
    held = sum(p.checkins_held for p in people)
    expected = sum(p.checkins_expected for p in people)
    overall = f"{100 * held / expected:.1f}%"
    for shown in (overall, f"{held} of {expected} check-ins held", "6", "1 joined during"):
        assert shown in rendered.text, shown
        assert shown in html, shown
    assert re.search(r"Goals at risk\s+1\b", rendered.text)  # G-3, owned by Ben
    assert re.search(r"Without a check-in for 4\+ weeks\s+2\b", rendered.text)  # Ben, Eve
    lines = visible(rendered.html)
    assert lines[lines.index("goals at risk") - 1] == "1"
    assert lines[lines.index("without a check-in for 4+ weeks") - 1] == "2"


def test_hr_lists_people_without_a_checkin_goals_at_risk_teams_and_initiatives() -> None:
    rendered = render_digest(hr_view())
    text, html = rendered.text, "\n".join(visible(rendered.html))
    silent = text.split("NO CHECK-IN FOR 4 WEEKS OR MORE")[1].split("GOALS AT RISK")[0]
    assert re.search(r"<b>Eve</b>\s+Ana Ruiz\s+never\s+45", silent)
    assert re.search(r"Ben Okafor\s+Ana Ruiz\s+26 Nov 2026\s+35", silent)
    assert silent.index("<b>Eve</b>") < silent.index("Ben Okafor")  # longest silence first
    risky = text.split("GOALS AT RISK")[1].split("BY MANAGER")[0]
    assert re.search(r"G-3\s+Grow mid-market revenue\s+Ben Okafor\s+10%→35%\s+75%", risky)
    assert "G-9" not in risky  # on track for its owner; Ben only contributes
    assert "[G-3] Grow mid-market revenue Ben Okafor 10% → 35% 75%" in html
    assert "Ana Ruiz 3 57.1% 66.7% 68.8% 1 2" in html  # by manager and lowest adherence
    assert re.search(r"Ana Ruiz\s+3\s+57\.1%\s+66\.7%\s+68\.8%\s+1\s+2", text)
    assert "[I-1] Grow mid-market 25% → 60% 5 1" in html
    assert re.search(r"I-1\s+Grow mid-market\s+25%→60%\s+5\s+1", text)
    assert "Changed since this digest was first sent" in html
    assert "CHANGED SINCE THIS DIGEST WAS FIRST SENT" in text
    assert "adherence 33.3% → 41.7%" in html and "41.7%)" in text


def test_the_people_table_shows_every_figure_with_dashes_for_none() -> None:
    rendered = render_digest(hr_view())
    html = visible(rendered.html)
    # Ben: goals 2/1, 20% → 45%, tasks 12 10 8 4 1 66.7%, check-ins 5/12 3 0 1 41.7% 42
    # (none disputed, one excused)
    [row] = [line for line in html if line.startswith("Ben Okafor Ana Ruiz 2 / 1")]
    assert row == ("Ben Okafor Ana Ruiz 2 / 1 1 at risk 20% → 45% 12 10 8 4 1 66.7% "
                   "5 / 12 3 0 1 41.7% 42")
    # Hannah has nothing to judge: dashes, never 0
    [hannah] = [line for line in html if line.startswith("Hannah Lee 1 / 0")]
    assert hannah.endswith("0 / 0 0 0 0 – –")
    [eve] = [line for line in html if line.startswith("<b>Eve</b> Ana Ruiz joined")]
    assert eve == "<b>Eve</b> Ana Ruiz joined 16 Nov 0 / 0 – 0 0 0 0 0 – 0 / 3 0 0 0 0% 45"
    text = rendered.text
    assert re.search(r"^Ben Okafor\s+Ana Ruiz\s+12\s+5\s+3\s+0\s+1\s+41\.7%\s+42$", text, re.M)
    assert re.search(r"^Ben Okafor\s+2/1\s+20%→45%\s+12\s+10\s+8\s+4\s+1\s+66\.7%$", text, re.M)
    assert re.search(r"^Hannah Lee\s+–\s+0\s+0\s+0\s+0\s+0\s+–\s+–$", text, re.M)
    assert re.search(r"^<b>Eve</b>\s+0/0\s+–\s+0\s+0\s+0\s+0\s+0\s+–$", text, re.M)


def test_people_needing_attention_come_first() -> None:
    rendered = render_digest(hr_view())
    table = rendered.text.split("\nCheck-ins\n")[1].split("\n\n")[0].splitlines()[2:]
    names = [line.split("  ")[0] for line in table]
    assert names[:3] == ["<b>Eve</b>", "Ben Okafor", "王芳"]  # 0%, 41.7%, 76.9%
    assert names[-1] == "Hannah Lee"  # nothing expected: last


def test_user_text_is_escaped_in_html_and_verbatim_in_text() -> None:
    rendered = render_digest(hr_view())
    assert "<b>Eve</b>" not in rendered.html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in rendered.html
    assert "<b>Eve</b>" in rendered.text
    assert "<script" not in rendered.html.lower()
    assert "Zoë O'Brien, Jr." in " ".join(visible(rendered.html))
    evil = replace(acme_people()[1], name='<script>alert(1)</script>')
    again = render_digest(hr_view(people=(evil,)))
    assert "<script" not in again.html.lower()


def test_text_part_fits_72_columns() -> None:
    long_name = "Maximilian Alexander von Hohenzollern-Sigmaringen der Dritte"
    people = (*acme_people(), replace(acme_people()[1], person_id=9, name=long_name,
                                      manager_name="Bartholomew Featherstonehaugh-Smythe"))
    for view in (hr_view(people=people), manager_view(), employee_view()):
        rendered = render_digest(view)
        for line in rendered.text.splitlines():
            assert len(line) <= 72 or "王芳" in line, line
    text = render_digest(hr_view(people=people)).text
    assert "Maximilian Alexande…" in text


def test_charts_are_inline_images_referenced_by_cid_with_alt_text() -> None:
    rendered = render_digest(hr_view())
    assert len(rendered.images) == 2
    cids = re.findall(r'src="cid:([^"]+)"', rendered.html)
    assert sorted(cids) == sorted(image.cid for image in rendered.images)
    for image in rendered.images:
        assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert image.filename.endswith(".png")
    alts = re.findall(r'<img [^>]*alt="([^"]+)"', rendered.html)
    assert len(alts) == 2 and all(len(alt) > 40 for alt in alts)
    plain = render_digest(hr_view(), show_charts=False)
    assert plain.images == () and "<img" not in plain.html and "cid:" not in plain.html
    assert plain.text == rendered.text


def test_no_meeting_notes_field_exists_to_leak() -> None:
    # The view holds counts and dates of check-ins, never what was said.
    from dataclasses import fields

    for cls in (DigestView, PersonFigures, CheckinMark, TeamRollup):
        assert not [f.name for f in fields(cls) if "note" in f.name.lower()]


# --- big organisations ---------------------------------------------------------------------


def test_a_large_team_is_capped_at_50_rows_with_the_csv_sentence() -> None:
    view = hr_view(people=crowd(120), changes=())
    rendered = render_digest(view)
    html = " ".join(visible(rendered.html))
    assert "all 120 people are in the attached CSV" in html
    assert "all 120 people are in the attached CSV" in " ".join(rendered.text.split())
    people_table = rendered.html.split("Own / help")[1]
    assert len(re.findall(r"Person \d{5} Lastname", people_table)) == PEOPLE_ROWS
    checkins = rendered.text.split("\nCheck-ins\n")[1].split("\n\n")[0].splitlines()
    assert len(checkins) == 2 + PEOPLE_ROWS
    assert len(list(csv.reader(io.StringIO(rendered.csv.decode("utf-8-sig"))))) == 121


def test_ten_thousand_people_render_quickly_and_small() -> None:
    view = big_hr_view(10_000)
    began = time.perf_counter()
    rendered = render_digest(view)
    took = time.perf_counter() - began
    assert took < 10, took
    assert len(rendered.html.encode()) < 300_000
    assert len(rendered.text.encode()) < 150_000
    assert "all 10,000 people are in the attached CSV" in " ".join(visible(rendered.html))
    assert "1,000 managers" in " ".join(visible(rendered.html)) or "of 1,000" in rendered.html
    for image in rendered.images:
        assert len(image.png) < 150_000
    assert rendered.csv.count(b"\r\n") == 10_001


# --- manager and employee digests ------------------------------------------------------------


def test_manager_digest_shows_the_team_and_her_own_record() -> None:
    rendered = render_digest(manager_view())
    html = " ".join(visible(rendered.html))
    for shown in ("Your own check-ins", "With Hannah Lee: 6 of 6 expected check-ins held "
                  "(100%)", "With your team: 57.1% adherence", "Ben Okafor", ZOE):
        assert shown in html, shown
    assert "With Hannah Lee: 6 of 6 expected check-ins held (100%)" in " ".join(
        rendered.text.split())
    assert "王芳" not in rendered.text and "Hannah Lee  " not in rendered.text
    assert re.search(r"57\.1%\s+check-in adherence", html)
    assert "3 direct reports" in html and "YOUR TEAM" in rendered.text


def test_employee_summary_shows_goals_tasks_and_timeline() -> None:
    rendered = render_digest(employee_view())
    html = " ".join(visible(rendered.html))
    text = " ".join(rendered.text.split())
    for part in (html, text):
        assert "5 of 12 expected check-ins held (41.7%)" in part
        assert "12 due in the quarter: 10 done, 8 on time, 4 overdue" in part
        assert "Grow mid-market revenue" in part and "at risk" in part
        assert "Shared pricing page" in part
    assert "[G-9] Shared pricing page contributing: owned by Zoë O'Brien, Jr." in html
    assert "28 Sep 2026 held, confirmed by both" in html
    assert re.search(r"^5 Oct 2026\s+missed$", rendered.text, re.M)
    assert len(rendered.images) == 1 and "checkins" in rendered.images[0].cid
    assert rendered.subject == "Drumbeat · 2026-Q4 evaluation — your quarter"
    assert "PEOPLE" not in rendered.text and "Ana Ruiz  " not in rendered.text


def test_an_employee_digest_without_figures_still_renders() -> None:
    rendered = render_digest(employee_view(people=()))
    assert "No figures for this quarter." in rendered.text
    assert rendered.images == ()


def test_an_empty_organisation_renders() -> None:
    rendered = render_digest(hr_view(people=(), teams=(), initiatives=(),
                                     lowest_adherence=(), changes=()))
    assert "0 people" in rendered.text
    assert "Everyone expected to meet had a check-in in the last 4 weeks." in rendered.text
    assert rendered.images == ()


def test_rendering_is_deterministic() -> None:
    first, second = render_digest(hr_view()), render_digest(hr_view())
    assert first == second


# --- CSV ------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_has_a_readable_header_and_one_row_per_person() -> None:
    data = figures_csv(hr_view())
    rows = read_csv(data)
    assert rows[0] == [header for header, _ in COLUMNS]
    assert "Goals at risk" in rows[0] and "Check-in adherence (%)" in rows[0]
    assert len(rows) == 1 + len(acme_people())
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    ben = dict(zip(rows[0], rows[2], strict=True))
    assert ben["Name"] == "Ben Okafor"
    assert ben["Goals at risk"] == "1"
    assert ben["Check-in adherence (%)"] == "41.7"
    assert ben["Goal progress at end (%)"] == "45.0"
    assert ben["Last check-in"] == "2026-11-26"
    eve = dict(zip(rows[0], rows[4], strict=True))
    assert eve["On-time rate (%)"] == "" and eve["Goal progress at start (%)"] == ""
    assert eve["Active from"] == "2026-11-16" and eve["Last check-in"] == ""
    assert eve["Name"] == EVE


def test_csv_keeps_awkward_names_in_one_cell() -> None:
    awkward = 'Zoë "Z" O\'Brien, Jr.\nSecond line'
    view = hr_view(people=(replace(acme_people()[2], name=awkward),))
    rows = read_csv(figures_csv(view))
    assert len(rows) == 2 and len(rows[1]) == len(COLUMNS)
    assert rows[1][1] == awkward


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_guards_against_formula_injection(start: str) -> None:
    view = hr_view(people=(replace(acme_people()[1], name=f"{start}HYPERLINK(\"x\")",
                                   manager_name=f"{start}1+1"),))
    row = read_csv(figures_csv(view))[1]
    assert row[1] == f"'{start}HYPERLINK(\"x\")" and row[3] == f"'{start}1+1"


def test_the_rendered_digest_carries_the_csv() -> None:
    rendered = render_digest(hr_view())
    assert rendered.csv == figures_csv(hr_view())
    assert rendered.csv_name == "drumbeat-2026-Q4-evaluation.csv"
    assert rendered.csv_name in rendered.text
    assert rendered.attachments[0].filename == rendered.csv_name


# --- as a message ----------------------------------------------------------------------------


def test_a_digest_becomes_one_message_with_charts_and_csv() -> None:
    rendered = render_digest(hr_view())
    message = build_message(
        rendered=rendered.email, from_addr="Drumbeat <drumbeat@acme.example>",
        to_addr="Priya Shah <priya@acme.example>", reply_to=None,
        message_id="<digest.1@acme.example>", in_reply_to=None, references=[],
        date=datetime(2027, 1, 1, 7, 0, tzinfo=UTC), inline_images=rendered.images,
        attachments=rendered.attachments)
    back = email.message_from_bytes(to_bytes(message), policy=policy.default)
    assert isinstance(back, EmailMessage)
    assert back["Subject"] == rendered.subject
    tree = [part.get_content_type() for part in back.walk()]
    assert tree == ["multipart/mixed", "multipart/alternative", "text/plain",
                    "multipart/related", "text/html", "image/png", "image/png", "text/csv"]
    html = back.get_body(("html",))
    assert html is not None
    for image in rendered.images:
        part = next(p for p in back.walk() if p["Content-ID"] == f"<{image.cid}>")
        assert part.get_content() == image.png
        assert f"cid:{image.cid}" in html.get_content()
    [attachment] = list(back.iter_attachments())
    assert attachment.get_filename() == rendered.csv_name
    assert attachment.get_payload(decode=True) == rendered.csv


def test_a_record_that_starts_inside_the_quarter_says_since_when() -> None:
    ben = replace(acme_people()[1], tracked_since=date(2026, 12, 7))
    rendered = render_digest(employee_view(people=(ben,)))
    html = " ".join(visible(rendered.html))
    text = " ".join(rendered.text.split())
    for part in (html, text):
        assert "5 of 12 expected check-ins held (41.7%)" in part
        assert "Tracked since 7 Dec 2026." in part
    hr = render_digest(hr_view(people=(ben,)))
    assert "tracked since 7 Dec" in " ".join(visible(hr.html))
    [row] = list(csv.DictReader(io.StringIO(hr.csv.decode("utf-8-sig"))))
    assert row["Check-ins tracked since"] == "2026-12-07"
    # from before the quarter it is the whole quarter: nothing to say
    whole = replace(ben, tracked_since=START - timedelta(days=90))
    assert "racked since" not in render_digest(employee_view(people=(whole,))).text


@pytest.mark.parametrize("language", ["de", "ja"])
def test_an_employees_own_digest_is_in_their_language(language: str) -> None:
    """The employee summary speaks the reader's language, numbers and dates included;
    the same view's team and HR digests (reports over many people) stay English."""
    rendered = render_digest(employee_view(locale=language))
    text = " ".join(rendered.text.split())
    if language == "de":
        assert rendered.subject == "Drumbeat · Auswertung 2026-Q4 — dein Quartal"
        assert "5 von 12 fälligen Check-ins stattgefunden (41,7 %)" in text
        assert "12 fällig im Lauf des Quartals: 10 erledigt, 8 pünktlich, 4 überfällig" in text
        assert "DEINE ZIELE" in rendered.text and "gefährdet" in text
        assert re.search(r"^05.10.2026 +ausgefallen$", rendered.text, re.M)
    else:
        assert rendered.subject == "Drumbeat · 2026-Q4 の評価 — あなたの四半期"
        assert "予定 12 回中 5 回のチェックインを実施(41.7%)" in text
        assert "あなたの目標" in rendered.text
    assert "Here is your" not in text and "How the figures" not in text
    assert f'<html lang="{language}">' in rendered.html
    assert render_digest(manager_view(locale=language)).subject == \
        "Drumbeat · 2026-Q4 evaluation — your team"
