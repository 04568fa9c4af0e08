"""The messages NeoMutt produced in tests/test_neomutt.py, read without NeoMutt or a
database: ``drumbeat inspect``'s reading (the worker's own functions) finds the same
commands the running service applied, and in a forwarded agenda nothing but the
manager's own two lines.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mail.read.inspect import inspect_message

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neomutt"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.eml"))
TASK_LINE = re.compile(r"^\[T-\d+\]|^T-\d+ \d+% drafted the intro$")


@cache
def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return data


def inspected(name: str) -> dict[str, Any]:
    return inspect_message((FIXTURES / f"{name}.eml").read_bytes())


def test_the_four_shapes_are_kept() -> None:
    assert NAMES == ["forward_attached", "forward_inline", "reply_inline", "reply_top_posted"]
    assert all(expected(name)["client"].startswith("NeoMutt") for name in NAMES)


@pytest.mark.parametrize("name", ["reply_top_posted", "reply_inline"])
def test_a_reply_yields_the_update_the_service_applied(name: str) -> None:
    found = inspected(name)
    assert found["kind"] == "reply"
    assert [(c["task"], c["percent"]) for c in found["commands"]] == [
        (c["task"], c["percent"]) for c in expected(name)["commands"]]
    assert found["errors"] == []


@pytest.mark.parametrize("name", ["forward_inline", "forward_attached"])
def test_a_forwarded_agenda_yields_only_the_managers_action_item(name: str) -> None:
    found = inspected(name)
    notes = found["notes"]
    assert found["subject"].startswith("[drumbeat@")  # NeoMutt's "[from: subject]"
    assert (found["commands"], notes["commands"], notes["errors"]) == ([], [], [])
    assert notes["drumbeat_wrote"] == 1
    # the preview names the task as the worker created it (the with: line's person owns it)
    assert [item["what"] for item in notes["action_items"]] == expected(name)["action_items"]
    assert [item["owner"] for item in notes["action_items"]] == ["Tobias"]
    assert "ACTION:" in notes["text"]
    assert not [line for line in notes["text"].splitlines() if TASK_LINE.match(line.strip())]
