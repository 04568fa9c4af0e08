"""Mail in each person's language: the words, the dates and numbers, and replies that
still read.

Agendas, reminders, notices, answers, help and status pages are rendered in every
shipped language; the "how to reply" examples of each agenda are parsed back with the
reply grammar and must all be commands, so whatever a German or Japanese reader copies
works.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from config.languages import LANGUAGES, known_language
from mail.read.grammar import parse_commands
from mail.read.notes import find_action_items
from mail.read.notes_people import Candidate
from mail.write.agenda import (
    AwayNoticeView,
    GoalAtRisk,
    NudgeView,
    measure_words,
    reply_examples,
)
from mail.write.answer import AnswerView, received_words, render_answer
from mail.write.handover import HandoverView, render_handover
from mail.write.language import worded
from mail.write.render import render_agenda, render_away_notice, render_nudge
from mail.write.status import HelpView, help_lines, render_help
from tests.test_agenda_render import as_manager, make_view, no_tasks, visible

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _examples(text: str) -> list[str]:
    """The example lines of a plain-text agenda: the indented block after the line that
    introduces them."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith((":", "：")) and
                 i + 2 < len(lines) and lines[i + 2].startswith("    "))
    block = []
    for line in lines[start + 2:]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("shape", ["tasks", "manager", "no tasks", "done only"])
def test_every_example_in_every_language_is_a_command(language: str, shape: str) -> None:
    view = replace(make_view(), locale=language)
    if shape == "manager":
        view = as_manager(view)
    elif shape == "no tasks":
        view = no_tasks(view)
    elif shape == "done only":
        view = replace(no_tasks(view), done_recently=make_view().done_recently)
    text = render_agenda(view).text
    examples = _examples(text)
    assert examples == reply_examples(view)
    for line in examples:
        parsed = parse_commands(line, message_date=NOW, timezone="Europe/Berlin")
        assert parsed.errors == () and len(parsed.commands) == 1, (language, line)


def test_a_german_agenda_is_german_with_german_dates_and_numbers() -> None:
    view = replace(make_view(), locale="de", period_label="KW 49")
    rendered = render_agenda(view)
    assert rendered.subject == "1:1 mit José Núñez: Agenda fürs Check-in"
    assert rendered.text.startswith(
        "Hallo Ben Okafor, dein 1:1 mit José Núñez ist am Do., 3. Dez. um 10:00 (KW 49).")
    assert "DEINE AUFGABEN" in rendered.text
    assert "[T-40] Collect churn data — 30\u00a0%, fällig Fr., 27. Nov. (5 Tage überfällig)" \
        in rendered.text
    assert "2026-Q4 bisher: 3 von 5 Check-ins stattgefunden, 60\u00a0%." in rendered.text
    assert "T-42 erledigt" in _examples(rendered.text)
    lines = visible(rendered.html)
    assert "So antwortest du" in lines and "How to reply" not in lines
    assert '<html lang="de">' in rendered.html


def test_a_japanese_agenda_is_japanese() -> None:
    view = replace(as_manager(make_view()), locale="ja", period_label="第49週")
    rendered = render_agenda(view)
    assert rendered.subject == "Ben Okaforさんとの1on1: チェックインのアジェンダ"
    assert "12月3日(木) 10:00" in rendered.text
    assert "BEN OKAFORさんのタスク" in rendered.text
    assert "5 日超過" in rendered.text
    assert "返信のしかた" in visible(rendered.html)


def test_the_risk_sentence_and_plurals_follow_the_language() -> None:
    risky = (GoalAtRisk("G-3", "Grow mid-market revenue", 12.4, 1, True),
             GoalAtRisk("G-4", "Launch", 20, 3, False))
    french = render_agenda(replace(make_view(), locale="fr", goals_at_risk=risky)).text
    assert ("G-3 a 12 points de retard ; vous en êtes responsable et 1 de ses tâches "
            "ouvertes vous revient.") in french
    assert "G-4 a 20 points de retard ; 3 de ses tâches ouvertes vous reviennent." in french


def test_reminders_and_notices_in_the_readers_language() -> None:
    nudge = render_nudge(NudgeView("employee", "Ben", "Ben", "Ana", "semana 49",
                                   date(2026, 11, 30), date(2026, 12, 6), locale="es"))
    assert "Drumbeat no tiene registrado ningún 1:1 con Ana para semana 49" in nudge.text
    assert "skip: vacaciones" in nudge.text
    assert parse_commands("skip: vacaciones", message_date=NOW).commands
    notice = render_away_notice(AwayNoticeView("Ana", "Ben", date(2026, 12, 21),
                                               date(2027, 1, 4), 2, locale="zh"))
    assert notice.subject == "Ben 不在：12月21日周一 – 1月4日周一"
    assert "有 2 次落在此期间" in notice.text


def test_answers_and_help_in_the_readers_language() -> None:
    answer = render_answer(AnswerView("Ana", "Re: 1:1", ("T-12: progress 60%",), (), (),
                                      locale="pt", received=received_words(
                                          NOW, "America/Sao_Paulo", "pt")))
    assert answer.text.startswith("Olá, Ana,")
    assert "Feito:" in answer.text and "T-12 feito" in answer.text
    assert "Sua mensagem chegou em qua., 2 de dez. de 2026 às 06:00" in answer.text
    helped = render_help(HelpView("Ana", "help", help_lines([], date(2026, 12, 2),
                                                              language="de"),
                                  None, locale="de"))
    assert "Hallo Ana," in helped.text and "T-12 erledigt" in helped.text
    for line in helped.text.splitlines():
        if line.startswith("    ") and not line.startswith("        "):
            written = line.strip()
            if written not in ("status", "help"):
                assert parse_commands(written, message_date=NOW).commands, written


def test_an_unknown_or_missing_locale_writes_english() -> None:
    assert render_agenda(replace(make_view(), locale="xx")).text == render_agenda(
        make_view()).text


@pytest.mark.parametrize(("written", "code"), [
    ("de", "de"), ("de-DE", "de"), ("de_AT", "de"), ("German", "de"), ("日本語", "ja"),
    ("PT-br", "pt"), ("zh-Hans", "zh"), ("zh-TW", None), ("klingon", None), ("", None)])
def test_a_people_file_names_a_language_many_ways(written: str, code: str | None) -> None:
    assert known_language(written) == code


def test_no_english_is_left_in_a_german_agenda_frame() -> None:
    view = replace(make_view(), locale="de", period_label="KW 49")
    text = render_agenda(view).text
    for example in _examples(text):  # the grammar's keywords ("due") stay as they are
        text = text.replace(example, "")
    for english in ("Hi ", "YOUR TASKS", "How to reply", "so far", "overdue", " due "):
        assert english not in text, english
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_doubled_full_stop_after_a_date_that_ends_in_one(language: str) -> None:
    """German, French and Portuguese short dates end in a full stop ("Do., 26. Nov.");
    their sentences do not add a second one."""
    agenda = render_agenda(replace(make_view(), locale=language)).text
    notice = render_away_notice(AwayNoticeView("Ana", "Ben", date(2026, 12, 21),
                                               date(2027, 1, 4), 0, locale=language)).text
    assert ".." not in agenda and ".." not in notice


def test_a_handover_notice_in_the_new_owners_language() -> None:
    view = HandoverView("Felix Wagner", "T-12", "task", "Preisseite", "Ann Lee", "Bo Chen",
                        date(2027, 3, 31), "P-3 Pricing", date(2026, 12, 7), locale="de")
    words = render_handover(view)
    assert words.subject == "Ann Lee hat dir Aufgabe T-12 übergeben: Preisseite"
    assert "Ann Lee hat dir Aufgabe T-12 übergeben (vorher bei Bo Chen):" in words.text
    assert "Teil von P-3 Pricing" in words.text and "fällig Mi., 31. März 2027" in words.text
    assert "handed" not in words.text + words.html
    english = render_handover(replace(view, locale="en"))
    assert english.subject == "Ann Lee handed you task T-12: Preisseite"
    assert "Ann Lee handed task T-12 over to you (it was Bo Chen's):" in english.text


def _spaced(text: str) -> str:
    """The locale's no-break spaces (CLDR) read as plain ones."""
    return re.sub("[\u00a0\u202f]", " ", text)


def test_a_measured_goal_in_the_readers_words_and_numbers() -> None:
    assert (measure_words("ARR", "€", 2.1e6, 4e6, 3.1e6, "en")
            == "ARR €3.1M of €4M (from €2.1M)")
    assert (_spaced(measure_words("ARR", "€", 2.1e6, 4e6, 3.1e6, "de"))
            == "ARR 3,1 Mio. € von 4 Mio. € (ausgehend von 2,1 Mio. €)")
    assert _spaced(measure_words("Churn", "%", 5, 2, None, "fr")) == (
        "Churn pas encore mesuré (de 5 % à 2 %)")
    assert "万" in measure_words("ARR", "€", 2.1e6, 4e6, 3.1e6, "ja")


UNREADABLE = ("T-12 120%", "T-12 due", "T-12 done on", "T-12 done on 2099-01-01", "due: Friday",
              "met:", "met: yes 900min", "T-12 note:", "T-1234567890 60%", "T-12 wibble 5",
              "P-3 due", "P-3 owner", "G-2 wibble", "P-3 60%", "P-3 title:", "topic:", "away:",
              "away: wibble", "new project: Pricing page @ana")


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_why_a_line_was_not_read_is_said_in_the_readers_language(language: str) -> None:
    errors = parse_commands("\n".join(UNREADABLE), message_date=NOW).errors
    assert [error.line for error in errors] == list(UNREADABLE)
    pairs = tuple((error.line, error.reason) for error in errors)
    english = render_answer(AnswerView("Ana", "Re: 1:1", (), (), pairs)).text
    assert all(f'"{line}": {reason}' in english for line, reason in pairs)  # as read
    theirs = render_answer(AnswerView("Ana", "Re: 1:1", (), (), pairs, locale=language)).text
    for line, reason in pairs:
        [said] = [row for row in theirs.splitlines() if row.startswith(f'  - "{line}": ')]
        assert reason not in said, said  # worded again, parts and all
        assert "%(" not in said and "%%" not in said


def test_why_an_action_item_in_notes_was_not_read_is_said_in_the_readers_language() -> None:
    pair = [Candidate(1, "Ann Lee", "ann@acme.example", ()),
            Candidate(2, "Mika Sato", "mika@acme.example", ())]
    [item] = find_action_items("Action items:\n- Zed Quux to call the vendor by 2020-01-01\n",
                               candidates=pair, meeting_date=date(2026, 12, 2),
                               timezone="UTC", author=2)
    assert item.problem == ('I do not know "Zed Quux". Write the owner\'s email address, e.g. '
                            "ACTION: name@company.example to call the vendor by 2020-01-01 "
                            '"2020-01-01" is before the meeting on 2026-12-02. Write a due '
                            "date on or after the meeting, e.g. by 2026-12-09")
    assert worded(item.problem, "en") == item.problem
    assert worded(item.problem, "de") == (
        "„Zed Quux“ kenne ich nicht. Schreib die E-Mail-Adresse der verantwortlichen Person, "
        "z. B. ACTION: name@company.example to call the vendor by 2020-01-01 "
        '"2020-01-01" liegt vor dem Treffen am 2026-12-02. Schreib ein Fälligkeitsdatum am '
        "oder nach dem Treffen, z. B. by 2026-12-09")
