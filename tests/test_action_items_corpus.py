"""The action-item reader against hand-labelled lines of real-shaped 1:1 notes.

``tests/fixtures/action_items.yaml`` holds the lines, the people they may name and
the meeting they come from. A line is right when the reader finds exactly what the
label says: no item for a non-item, else one item with the labelled owner, title
(compared case-insensitively, without trailing punctuation), due date and project,
and a problem exactly when the label expects one. At least 90% must be right, and
every line that is not right must carry a problem: the reader may fail to settle
an owner or a date, but never settle a wrong one silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mail.read.notes import ActionItem, find_action_items
from mail.read.notes_people import Candidate

CORPUS = Path(__file__).parent / "fixtures" / "action_items.yaml"
MIN_ACCURACY = 0.90


def _load() -> dict[str, Any]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


DATA = _load()
CANDIDATES = tuple(
    Candidate(
        key=row["key"],
        name=row["name"],
        email=row["email"],
        aliases=tuple(row.get("aliases", ())),
    )
    for row in DATA["candidates"]
)
BY_EMAIL = {c.email: c.key for c in CANDIDATES}


@dataclass(frozen=True)
class Outcome:
    entry: dict[str, Any]
    items: tuple[ActionItem, ...]
    right: bool
    why: str


def _title(text: str | None) -> str:
    return (text or "").strip().rstrip(".!?;:,").strip().casefold()


def _due(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _judge(entry: dict[str, Any]) -> Outcome:
    text = (entry.get("context") or "").rstrip("\n")
    text = f"{text}\n{entry['line']}" if text else entry["line"]
    found = find_action_items(
        text,
        candidates=CANDIDATES,
        meeting_date=_due(DATA["meeting_date"]),  # type: ignore[arg-type]
        timezone=DATA["timezone"],
        default_owner=BY_EMAIL[DATA["default_owner"]],
        author=BY_EMAIL[DATA["author"]],
    )
    items = tuple(item for item in found if item.line == entry["line"].strip())
    if entry.get("item", True) is False:
        return Outcome(entry, items, not items, "an item where there is none" if items else "")
    if len(items) != 1:
        return Outcome(entry, items, False, f"{len(items)} items instead of 1")
    item = items[0]
    owner = BY_EMAIL[entry["owner"]] if entry.get("owner") else None
    wrong = [
        name
        for name, ok in (
            ("owner", item.owner == owner),
            ("what", _title(item.what) == _title(entry["what"])),
            ("due", item.due == _due(entry.get("due"))),
            ("project", item.project == entry.get("project")),
            ("problem", bool(item.problem) == bool(entry.get("problem"))),
        )
        if not ok
    ]
    return Outcome(entry, items, not wrong, ", ".join(wrong))


def test_corpus_is_big_and_mixed() -> None:
    lines = DATA["lines"]
    assert len(lines) >= 60
    assert sum(1 for e in lines if e.get("item", True) is False) >= 20
    assert sum(1 for e in lines if e.get("problem")) >= 5
    assert all(e.get("owner") in (None, *BY_EMAIL) for e in lines)


def test_accuracy_and_no_silent_misses() -> None:
    outcomes = [_judge(entry) for entry in DATA["lines"]]
    misses = [o for o in outcomes if not o.right]
    accuracy = 1 - len(misses) / len(outcomes)
    print(f"\naction items corpus: {len(outcomes) - len(misses)}/{len(outcomes)} right "
          f"({accuracy:.1%})")  # fmt: skip
    for miss in misses:
        print(f"  MISS ({miss.why}): {miss.entry['line']!r}")
        for item in miss.items:
            print(f"      got owner={item.owner} what={item.what!r} due={item.due} "
                  f"project={item.project} problem={item.problem!r}")  # fmt: skip
    silent = [o for o in misses if not o.items or not all(item.problem for item in o.items)]
    assert not silent, [o.entry["line"] for o in silent]
    assert accuracy >= MIN_ACCURACY


@pytest.mark.parametrize(
    "entry", [e for e in DATA["lines"] if e.get("problem")], ids=lambda e: e["line"][:40]
)
def test_unsettled_fields_stay_empty(entry: dict[str, Any]) -> None:
    """Where the label expects a problem, nothing unsettled is filled in."""
    outcome = _judge(entry)
    assert len(outcome.items) == 1
    item = outcome.items[0]
    assert item.problem
    if entry.get("owner") is None:
        assert item.owner is None
    if entry.get("due") is None:
        assert item.due is None
