"""The agenda as its reader sees it: the plain part, the HTML part, the subject.

Assertions read the rendered words (HTML reduced to its visible text), not the
template source, so a template refactor that keeps what people see stays green.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from mail.write.agenda import (
    AgendaView,
    GoalAtRisk,
    GoalLine,
    TalkingPoint,
    TaskLine,
    reply_examples,
)
from mail.write.render import bar, date_human, oneline, percent, render_agenda

PRICING = "P-7 Mid-market pricing"
EVIL = '<script>alert(1)</script> & "Q3"'


def task(ref: str, title: str, due: date | None, status: str = "open", progress: int = 0,
         project: str = PRICING, reason: str | None = None) -> TaskLine:
    return TaskLine(ref, title, due, status, progress, project, reason)


def make_view(**changes: object) -> AgendaView:
    """Ben's agenda for Thursday's 1:1 with José, as Ben gets it, on Wednesday 2 Dec 2026."""
    view = AgendaView(
        role="employee",
        recipient_name="Ben Okafor",
        employee_name="Ben Okafor",
        manager_name="José Núñez",
        meeting_at=datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Europe/Madrid")),
        period_label="week 49",
        overdue=(
            task("T-40", "Collect churn data", date(2026, 11, 27), "in_progress", 30),
            task("T-41", EVIL, date(2026, 12, 1)),
        ),
        due_soon=(
            task("T-42", "Draft the pricing memo", date(2026, 12, 4), "in_progress", 40),
            task("T-43", "Share the memo with finance 📈", date(2026, 12, 2),
                 project="P-8 Finance sync"),
        ),
        blocked=(
            task("T-9", "Get legal sign-off", date(2026, 12, 10), "blocked", 20,
                 reason="waiting on legal"),
        ),
        done_recently=(task("T-17", "Competitor price scan", date(2026, 11, 25), "done", 100),),
        goals=(
            GoalLine("G-3", "Grow mid-market revenue", 47.5),
            GoalLine("G-4", "Launch the partner channel", None),
        ),
        last_meeting=date(2026, 11, 26),
        quarter_label="2026-Q4",
        held=3,
        expected=5,
        adherence=0.6,
        today=date(2026, 12, 2),
    )
    return replace(view, **changes)


def as_manager(view: AgendaView) -> AgendaView:
    return replace(view, role="manager", recipient_name=view.manager_name)


def no_tasks(view: AgendaView) -> AgendaView:
    return replace(view, overdue=(), due_soon=(), blocked=(), done_recently=())


_VOID = frozenset({"meta", "br", "hr", "img", "link", "input", "col", "wbr"})


class _Visible(HTMLParser):
    """The text a mail client shows: no head, no style, no hidden preheader."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        style = dict(attrs).get("style") or ""
        if tag in _VOID:
            pass
        elif tag in ("head", "style", "title") or "display: none" in style or self._hidden:
            self._hidden.append(tag)
        if tag in ("tr", "div", "br") and not self._hidden:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> list[str]:
    """The HTML part's visible lines, whitespace collapsed."""
    parser = _Visible()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return [line for line in lines if line]


def index_of(lines: list[str], start: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(start))


def all_tasks(view: AgendaView) -> tuple[TaskLine, ...]:
    return (*view.overdue, *view.due_soon, *view.blocked, *view.done_recently)


# --- what every reader sees ----------------------------------------------------------


def test_every_task_shows_ref_first_then_title_in_both_parts() -> None:
    view = make_view()
    rendered = render_agenda(view)
    text_lines, html_lines = rendered.text.splitlines(), visible(rendered.html)
    for t in all_tasks(view):
        expected = f"[{t.ref}] {t.title} — "
        assert [line for line in text_lines if line.startswith(expected)], t.ref
        assert [line for line in html_lines if line.startswith(expected)], t.ref
    for g in view.goals:
        assert f"[{g.ref}] {g.title}" in rendered.text
        assert f"[{g.ref}] {g.title}" in html_lines


def test_task_lines_have_the_shape_replies_quote() -> None:
    rendered = render_agenda(make_view())
    lines = rendered.text.splitlines()
    assert "[T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7 Mid-market pricing" in lines
    assert ("[T-40] Collect churn data — 30%, due Fri 27 Nov (5 days overdue) · "
            "P-7 Mid-market pricing") in lines
    assert any(line.startswith("[T-41] ") and "(1 day overdue)" in line for line in lines)
    assert ("[T-43] Share the memo with finance 📈 — 0%, due Wed 2 Dec (today) · "
            "P-8 Finance sync") in lines
    assert ("[T-9] Get legal sign-off — 20%, due Thu 10 Dec; blocked: waiting on legal · "
            "P-7 Mid-market pricing") in lines
    assert "[T-17] Competitor price scan — done · P-7 Mid-market pricing" in lines
    html = visible(rendered.html)
    assert "[T-42] Draft the pricing memo — 40%, due Fri 4 Dec · P-7 Mid-market pricing" in html


@pytest.mark.parametrize("part", ["text", "html"])
def test_sections_come_in_reading_order(part: str) -> None:
    rendered = render_agenda(make_view())
    lines = [line.strip() for line in rendered.text.splitlines()]
    if part == "html":
        lines = visible(rendered.html)
    starts = ["Hi Ben Okafor, your 1:1 with José Núñez is on Thu 3 Dec at 10:00 (week 49).",
              "Overdue (2)", "[T-40]", "Due before the next check-in (2)", "[T-42]",
              "Blocked (1)", "[T-9]", "Done since the last check-in (1)", "[T-17]",
              "[G-3]", "Last 1:1: Thu 26 Nov.", "2026-Q4 so far: 3 of 5 check-ins held, 60%.",
              "Reply to this email with one line per update", "T-40 50% drafted the intro",
              "Quoted text, including this agenda, is ignored"]
    positions = [index_of(lines, start) for start in starts]
    assert positions == sorted(positions)


def test_empty_sections_are_left_out() -> None:
    rendered = render_agenda(make_view(blocked=(), done_recently=(), goals=()))
    for heading in ("Blocked", "Done since", "GOALS"):
        assert heading not in rendered.text
    assert "Blocked" not in " ".join(visible(rendered.html))
    assert "goals" not in " ".join(visible(rendered.html)).lower()


def test_goal_progress_is_a_bar_and_unmeasured_goals_say_so() -> None:
    rendered = render_agenda(make_view())
    assert "    █████░░░░░ 48%" in rendered.text.splitlines()
    assert "not measured yet" in rendered.text
    assert 'class="bar-fill"' in rendered.html and 'width="48%"' in rendered.html
    assert 'class="bar-rest"' in rendered.html and 'width="52%"' in rendered.html
    assert "not measured yet" in visible(rendered.html)


def test_check_in_record_without_meetings_or_expectations() -> None:
    rendered = render_agenda(make_view(last_meeting=None, held=0, expected=0, adherence=None))
    assert "No 1:1 recorded yet." in rendered.text
    assert "2026-Q4 so far: no check-ins expected yet." in rendered.text
    one = render_agenda(make_view(held=1, expected=1, adherence=1.0))
    assert "2026-Q4 so far: 1 of 1 check-in held, 100%." in one.text
    assert "2026-Q4 so far: 1 of 1 check-in held, 100%." in visible(one.html)


def test_a_record_that_starts_inside_the_quarter_says_since_when() -> None:
    # a company imported on Sunday 6 Dec: its record covers only what followed
    fresh = render_agenda(make_view(held=0, expected=0, adherence=None,
                                    tracked_since=date(2026, 12, 6), today=date(2026, 12, 6)))
    line = "2026-Q4 so far (tracked since Sun 6 Dec): no check-ins expected yet."
    assert line in fresh.text and line in visible(fresh.html)
    later = render_agenda(make_view(held=1, expected=2, adherence=0.5,
                                    tracked_since=date(2026, 12, 6), today=date(2026, 12, 20)))
    line = "2026-Q4 so far (tracked since Sun 6 Dec): 1 of 2 check-ins held, 50%."
    assert line in later.text and line in visible(later.html)


def test_dates_in_another_year_show_the_year() -> None:
    late = task("T-50", "Plan next year", date(2027, 1, 8), "open", 0)
    rendered = render_agenda(make_view(due_soon=(late,)))
    assert "[T-50] Plan next year — 0%, due Fri 8 Jan 2027 · P-7 Mid-market pricing" in (
        rendered.text.splitlines()
    )


# --- user text stays text --------------------------------------------------------------


def test_markup_in_a_title_is_escaped_in_html_and_literal_in_text() -> None:
    rendered = render_agenda(make_view())
    assert f"[T-41] {EVIL} — 0%" in rendered.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in rendered.html
    assert "<script" not in rendered.html
    assert any(line.startswith(f"[T-41] {EVIL} — ") for line in visible(rendered.html))


@pytest.mark.parametrize(
    "title",
    ["First line\nsecond line", "Evil\r\nSubject: x", "Para\u2028graph\u2029two",
     "Tabs\tand\x0bvertical\x0cfeed", "Bell\x07 and NUL\x00 and\x1b[31m escape", "NEL\x85here"],
)
def test_a_title_never_breaks_a_line_in_the_text_part(title: str) -> None:
    tricky = task("T-60", title, date(2026, 12, 4), reason="line\none")
    view = make_view(due_soon=(tricky,), blocked=(replace(tricky, ref="T-61", status="blocked"),),
                     manager_name="Ann\nSubject: hi", period_label="week\n49")
    rendered = render_agenda(view)
    lines = rendered.text.splitlines()
    for ref in ("T-60", "T-61"):
        [line] = [line for line in lines if f"[{ref}]" in line]
        assert line.startswith(f"[{ref}] {oneline(title)} — 0%, due Fri 4 Dec")
    assert not [line for line in lines if line.startswith(("Subject", "second", "graph", "49"))]
    assert all(ch == "\n" or ch >= " " for ch in rendered.text)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject == "1:1 with Ann Subject: hi: check-in agenda"


def test_oneline_collapses_every_kind_of_break_and_drops_control_characters() -> None:
    assert oneline("a\r\n b\u2028c\u2029d\x85e\tf") == "a b c d e f"
    assert oneline("  \x00x\x07y\x1b  ") == "xy"
    assert oneline("family 👨‍👩‍👧 ok") == "family 👨‍👩‍👧 ok"


# --- the HTML is made for mail clients ----------------------------------------------------


def test_html_is_inlined_and_keeps_the_dark_mode_rules() -> None:
    html = render_agenda(make_view()).html
    assert html.count('style="') > 20
    assert "@media (prefers-color-scheme: dark)" in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert 'class="preheader" style="display: none;' in html
    assert "max-width: 600px" in html and "<table" in html


def test_html_loads_nothing_from_outside() -> None:
    html = render_agenda(make_view()).html
    assert not re.search(r"<(link|img|script|iframe)\b|\bsrc=|url\(|@import", html, re.I)
    assert "http://" not in html and "https://" not in html


def test_preheader_summarises_the_agenda() -> None:
    html = render_agenda(make_view()).html
    preheader = re.search(r'class="preheader"[^>]*>([^<]*)<', html)
    assert preheader is not None
    assert preheader.group(1).startswith("2 overdue · 2 due before the next check-in · 1 blocked")
    assert "1:1 on Thu 3 Dec at 10:00" in preheader.group(1)


# --- who reads it -----------------------------------------------------------------------


def test_the_employee_reads_about_their_own_tasks() -> None:
    rendered = render_agenda(make_view())
    assert rendered.subject == "1:1 with José Núñez: check-in agenda"
    assert "YOUR TASKS" in rendered.text and "YOUR GOALS" in rendered.text
    html = visible(rendered.html)
    assert "Your tasks" in html and "Your goals" in html
    assert "Ben Okafor's" not in rendered.text


def test_the_manager_reads_about_the_report() -> None:
    rendered = render_agenda(as_manager(make_view()))
    assert rendered.subject == "1:1 with Ben Okafor: check-in agenda"
    assert rendered.text.startswith("Hi José Núñez, your 1:1 with Ben Okafor is on Thu 3 Dec")
    assert "BEN OKAFOR'S TASKS" in rendered.text and "BEN OKAFOR'S GOALS" in rendered.text
    html = visible(rendered.html)
    assert "Ben Okafor's tasks" in html and "Ben Okafor's goals" in html
    assert "Your tasks" not in html and "YOUR TASKS" not in rendered.text


def test_the_subject_is_the_same_every_time_so_agendas_thread() -> None:
    week_49 = render_agenda(make_view())
    next_meeting = datetime(2026, 12, 10, 10, tzinfo=ZoneInfo("UTC"))
    week_50 = render_agenda(make_view(period_label="week 50", today=date(2026, 12, 9),
                                      meeting_at=next_meeting))
    assert week_49.subject == week_50.subject


@pytest.mark.parametrize(
    ("view", "sentence"),
    [
        (no_tasks(make_view()), "You have no tasks on this agenda"),
        (as_manager(no_tasks(make_view())), "Ben Okafor has no tasks on this agenda"),
    ],
)
def test_an_empty_agenda_says_so_kindly(view: AgendaView, sentence: str) -> None:
    rendered = render_agenda(view)
    assert sentence in rendered.text
    assert any(line.startswith(sentence) for line in visible(rendered.html))
    for heading in ("Overdue", "Due before", "Blocked", "Done since"):
        assert heading not in rendered.text
    assert "Last 1:1: Thu 26 Nov." in rendered.text


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        make_view(role="hr")


# --- how to reply -------------------------------------------------------------------------


def test_reply_examples_use_this_persons_tasks() -> None:
    assert reply_examples(make_view()) == [
        "T-40 50% drafted the intro",  # in progress and overdue: a percentage
        "T-42 done",  # in progress and due soon: done
        "T-41 due 2026-12-11",  # overdue: a new date (Friday of next week)
        "met: yes",
        "skip: vacation",
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"overdue": (), "blocked": (), "done_recently": ()},
        {"overdue": (), "due_soon": (), "done_recently": ()},
        {"overdue": (), "due_soon": (), "blocked": ()},
        {"due_soon": (), "blocked": (), "done_recently": ()},
        {"overdue": (), "due_soon": (task("T-5", "Only one", date(2026, 12, 4), progress=95),)},
    ],
)
def test_reply_examples_are_three_to_five_lines_about_known_refs(
    changes: dict[str, object],
) -> None:
    view = make_view(**changes)
    examples = reply_examples(view)
    assert 3 <= len(examples) <= 5
    assert examples[-2:] == ["met: yes", "skip: vacation"]
    refs = {t.ref for t in all_tasks(view)}
    for line in examples[:-2]:
        assert line.split()[0] in refs
    assert len({line.split()[0] for line in examples[:-2]}) == len(examples) - 2


def test_reply_examples_fall_back_to_generic_lines_without_tasks() -> None:
    examples = reply_examples(no_tasks(make_view()))
    assert examples == ["T-12 60% drafted the intro", "new: Call the vendor by Friday",
                        "met: yes", "skip: vacation"]


def test_reply_examples_appear_one_per_line_in_both_parts() -> None:
    view = make_view()
    rendered = render_agenda(view)
    text_lines = [line.strip() for line in rendered.text.splitlines()]
    for example in reply_examples(view):
        assert example in text_lines
        assert example in visible(rendered.html)
        assert re.search(rf'<div class="code" style="[^"]*monospace[^"]*">{re.escape(example)}'
                         r"</div>", rendered.html)


# --- filters ----------------------------------------------------------------------------------


def test_filters() -> None:
    assert bar(50) == "█████░░░░░ 50%"
    assert bar(0) == "░░░░░░░░░░ 0%"
    assert bar(100, width=4) == "████ 100%"
    assert bar(None) == "░░░░░░░░░░ –"
    assert bar(250) == "██████████ 250%"
    assert percent(99.6) == "99%" and percent(0.2) == "1%" and percent(12.5) == "13%"
    assert date_human(date(2026, 12, 3)) == "Thu 3 Dec"
    assert date_human(date(2027, 1, 1), today=date(2026, 12, 3)) == "Fri 1 Jan 2027"
    assert date_human(datetime(2026, 12, 3, 23, 30)) == "Thu 3 Dec"


# --- all open work, action items, goals at risk, talking points ------------------------------


def long_view(**changes: object) -> AgendaView:
    """Ben with work in every group: in progress for next month, eight not started."""
    later = tuple(task(f"T-{60 + i}", f"Later task {i}", date(2027, 1, 10 + i) if i < 7 else None)
                  for i in range(8))  # in the worker's order: by due date, undated last
    return make_view(
        in_progress_later=(task("T-50", "Rebuild the price model", date(2027, 1, 15),
                                "in_progress", 35, reason=None),),
        not_started_later=later,
        action_items=(task("T-70", "Send the deck to Ana", date(2026, 12, 4)),
                      task("T-71", "Book the venue", None, "done", 100)),
        action_items_on=date(2026, 11, 26),
        goals_at_risk=(GoalAtRisk("G-3", "Grow mid-market revenue", 12.4, 3, False),
                       GoalAtRisk("G-9", "Hire two engineers", 30.0, 0, True)),
        talking_points=(TalkingPoint("the hiring plan", "José Núñez", date(2026, 11, 30)),),
    ) if not changes else replace(long_view(), **changes)


def test_every_open_task_appears_under_its_group_in_reading_order() -> None:
    rendered = render_agenda(long_view())
    headings = ["Overdue (2)", "Due before the next check-in (2)", "Blocked (1)",
                "In progress, due later (1)", "Not started, due later or undated (8)",
                "Done since the last check-in (1)"]
    for lines in (rendered.text.splitlines(), visible(rendered.html)):
        assert [index_of(lines, h) for h in headings] == sorted(
            index_of(lines, h) for h in headings)
        assert index_of(lines, "[T-50] Rebuild the price model — 35%, due Fri 15 Jan 2027") \
            > index_of(lines, "In progress, due later")


def test_a_long_group_shows_its_first_five_and_how_to_get_them_all() -> None:
    rendered = render_agenda(long_view())
    text, html = rendered.text.splitlines(), visible(rendered.html)
    for lines in (text, html):
        shown = [line for line in lines if line.startswith("[T-6")]
        assert [line.split()[0] for line in shown] == ["[T-60]", "[T-61]", "[T-62]", "[T-63]",
                                                       "[T-64]"]
    assert '… 3 more: reply "status" for all 8' in text
    assert "… 3 more: reply status for all 8" in html
    assert "[T-67]" not in rendered.text and "[T-67]" not in rendered.html  # undated, last


def test_a_task_without_an_update_for_three_weeks_says_since_when() -> None:
    stale = task("T-80", "Audit the discounts", date(2027, 2, 1), "in_progress", 10)
    view = make_view(in_progress_later=(replace(stale, stale_since=date(2026, 11, 9)),))
    rendered = render_agenda(view)
    line = "[T-80] Audit the discounts — 10%, due Mon 1 Feb 2027 · P-7 Mid-market pricing · " \
           "no update since Mon 9 Nov"
    assert line in rendered.text.splitlines()
    assert line in visible(rendered.html)
    assert rendered.text.count("no update since") == 1


def test_the_last_meetings_action_items_show_with_their_state() -> None:
    rendered = render_agenda(long_view())
    for lines in ([x for x in rendered.text.splitlines() if x], visible(rendered.html)):
        at = index_of(lines, next(x for x in lines
                                  if x.casefold().startswith("action items from the last 1:1")))
        assert lines[at].casefold() == "action items from the last 1:1 (thu 26 nov)"
        assert lines[at + 1].startswith("[T-70] Send the deck to Ana — 0%, due Fri 4 Dec")
        assert lines[at + 2].startswith("[T-71] Book the venue — done")


@pytest.mark.parametrize(
    ("view", "sentences"),
    [
        (long_view(), ["G-3 is 12 points behind; 3 of its open tasks are yours.",
                       "G-9 is 30 points behind; you own it."]),
        (as_manager(long_view()), [
            "G-3 is 12 points behind; 3 of its open tasks are Ben Okafor's.",
            "G-9 is 30 points behind; Ben Okafor owns it."]),
        (long_view(goals_at_risk=(GoalAtRisk("G-3", "Grow", 11.0, 1, True),)),
         ["G-3 is 11 points behind; you own it and 1 of its open tasks is yours."]),
    ],
)
def test_a_goal_at_risk_is_named_with_the_readers_share_of_it(
        view: AgendaView, sentences: list[str]) -> None:
    rendered = render_agenda(view)
    for sentence in sentences:
        assert any(line.startswith(sentence) for line in rendered.text.splitlines())
        assert any(line.startswith(sentence) for line in visible(rendered.html))


def test_talking_points_show_who_raised_them_and_when() -> None:
    rendered = render_agenda(long_view())
    assert "- the hiring plan (José Núñez, Mon 30 Nov)" in rendered.text.splitlines()
    assert "the hiring plan (José Núñez, Mon 30 Nov)" in visible(rendered.html)
    assert "TALKING POINTS" not in render_agenda(make_view()).text


_FACT = re.compile(r"^(\[[TG]-\d+\].*|G-\d+ is .*|… \d+ more.*|.*\(\d+\)"
                   r"|.*, (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ \w{3}\))$")  # the last: talking points


def facts(lines: list[str]) -> list[str]:
    """Every task, goal, count, risk and talking point line, in order, marks evened out."""
    found = []
    for line in lines:
        line = " ".join(line.replace('"', "").split())
        if _FACT.match(line):
            found.append(line.removeprefix("- "))
    return found


@pytest.mark.parametrize("view", [long_view(), as_manager(long_view()), make_view(),
                                  no_tasks(make_view())])
def test_the_text_and_html_parts_state_the_same_facts_in_the_same_order(
        view: AgendaView) -> None:
    rendered = render_agenda(view)
    text_facts = facts(rendered.text.splitlines())
    assert text_facts == facts(visible(rendered.html))
    assert len(text_facts) >= 2
