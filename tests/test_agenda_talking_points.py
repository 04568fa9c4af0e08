"""The agenda's talking points and the away notice, rendered from literals: both parts
say the same, user text is escaped in HTML and never breaks a line in text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mail.write.agenda import AwayNoticeView, TalkingPoint
from mail.write.render import render_agenda, render_away_notice
from tests.test_agenda_render import EVIL, as_manager, make_view, visible


def test_open_talking_points_show_in_both_parts_for_both_readers() -> None:
    points = (TalkingPoint("the hiring plan", "Ann Lee", date(2026, 11, 27)),
              TalkingPoint(EVIL + "\nSubject: hi", "Mika Sato", date(2026, 11, 28)))
    for view in (make_view(talking_points=points), as_manager(make_view(talking_points=points))):
        rendered = render_agenda(view)
        assert "TALKING POINTS" in rendered.text
        assert "- the hiring plan (Ann Lee, Fri 27 Nov)" in rendered.text.splitlines()
        assert f"- {EVIL} Subject: hi (Mika Sato, Sat 28 Nov)" in rendered.text.splitlines()
        shown = visible(rendered.html)
        assert "Talking points" in shown
        assert "the hiring plan (Ann Lee, Fri 27 Nov)" in " ".join(shown)
        assert "<script>" not in rendered.html


def test_no_talking_points_no_heading() -> None:
    rendered = render_agenda(replace(make_view(), talking_points=()))
    assert "TALKING POINTS" not in rendered.text
    assert "Talking points" not in visible(rendered.html)


def test_the_away_notice_says_who_when_and_what_it_excused() -> None:
    notice = render_away_notice(AwayNoticeView("Mika Sato", "Ann Lee", date(2026, 12, 28),
                                               date(2027, 1, 8), 2))
    assert notice.subject == "Ann Lee is away Mon 28 Dec – Fri 8 Jan"
    assert "Ann Lee is away from Mon 28 Dec to Fri 8 Jan." in notice.text
    assert "2 of your 1:1 check-ins with them fall in that time and are excused" in notice.text
    assert "2 of your 1:1 check-ins with them fall in that time" in " ".join(
        visible(notice.html))


def test_the_help_lines_for_topics_and_time_away_read_as_those_commands() -> None:
    from datetime import UTC, datetime

    from mail.read.commands import Away, Topic, TopicDone
    from mail.read.grammar import parse_commands
    from mail.write.status import help_lines

    today = date(2026, 12, 3)
    lines = [line.line for line in help_lines((), today)
             if line.line.startswith(("topic", "away"))]
    parsed = parse_commands("\n".join(lines), message_date=datetime(2026, 12, 3, 9, tzinfo=UTC))
    assert parsed.errors == ()
    assert [type(c) for c in parsed.commands] == [Topic, TopicDone, Away]
    assert parsed.commands[2] == Away(date(2026, 12, 14), date(2026, 12, 18), lines[2])
