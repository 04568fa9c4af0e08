"""Evaluation snapshots as stored: the figures come back exactly, in today's compact
form and in the older one (goal lines as objects)."""

from __future__ import annotations

import json
from datetime import date

from mail.write.digest import GoalLine, PersonFigures
from tests.test_digest_render import goal, person

FIGURES = person(7, "Zoë O'Brien, Jr.", goals=(
    goal("G-1", "Grow mid-market", "Ana Ruiz", 10.0, None, None, owned=False),
    goal("G-2", "Cut churn", "Zoë O'Brien, Jr.", None, 55.5, 80.0)),
    tracked_since=date(2026, 10, 5), reports=2, team_adherence=75.0)


def test_figures_come_back_from_their_stored_json_exactly() -> None:
    stored = json.loads(json.dumps(FIGURES.to_json()))
    assert PersonFigures.from_json(stored) == FIGURES
    assert stored["goals"][1] == ["G-2", "Cut churn", "Zoë O'Brien, Jr.", True, None, 55.5,
                                  80.0, True]


def test_a_snapshot_stored_with_goal_lines_as_objects_still_reads() -> None:
    stored = json.loads(json.dumps(FIGURES.to_json()))
    stored["goals"] = [dict(zip(("ref", "title", "owner_name", "owned", "progress_start",
                                 "progress_end", "expected", "at_risk"), line, strict=True))
                       for line in stored["goals"]]
    figures = PersonFigures.from_json(stored)
    assert figures == FIGURES
    assert figures.goals[0] == GoalLine("G-1", "Grow mid-market", "Ana Ruiz", False, 10.0,
                                        None, None, False)
