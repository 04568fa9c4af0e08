"""Reporting-line cycles: hand cases and properties of ``find_cycles``."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from models.importing.org_graph import find_cycles


def test_no_cycle_in_a_tree() -> None:
    assert find_cycles({"ceo": None, "cto": "ceo", "dev": "cto", "cfo": "ceo"}) == []


def test_empty_organisation() -> None:
    assert find_cycles({}) == []


def test_self_loop() -> None:
    assert find_cycles({"a": "a", "b": None}) == [["a", "a"]]


def test_two_cycle_listed_once_from_its_smallest_member() -> None:
    assert find_cycles({"b": "a", "a": "b", "c": None}) == [["a", "b", "a"]]


def test_three_cycle_reported_once_whatever_the_starting_point() -> None:
    expected = [["a", "c", "b", "a"]]  # a → c → b → a
    assert find_cycles({"a": "c", "b": "a", "c": "b"}) == expected
    assert find_cycles({"c": "b", "b": "a", "a": "c"}) == expected
    assert find_cycles({"b": "a", "c": "b", "a": "c"}) == expected


def test_chain_leading_into_a_cycle_reports_only_the_cycle() -> None:
    # x → y → z → y: x and the tail are not part of the cycle.
    assert find_cycles({"x": "y", "y": "z", "z": "y", "w": "x"}) == [["y", "z", "y"]]


def test_two_separate_cycles() -> None:
    cycles = find_cycles({"a": "b", "b": "a", "p": "q", "q": "r", "r": "p", "solo": None})
    assert sorted(cycles) == [["a", "b", "a"], ["p", "q", "r", "p"]]


def test_chains_ending_at_unknown_managers_are_not_cycles() -> None:
    # Unknown managers are reported by the loader, not as cycles.
    assert find_cycles({"a": "ghost", "b": "a", "c": "b", "d": "elsewhere"}) == []


def test_unknown_manager_next_to_a_real_cycle() -> None:
    assert find_cycles({"a": "ghost", "b": "c", "c": "b"}) == [["b", "c", "b"]]


# --- properties -------------------------------------------------------------------------


@st.composite
def forests(draw: st.DrawFn) -> dict[str, str | None]:
    """A reporting forest built parent-before-child: each person's manager came earlier."""
    size = draw(st.integers(min_value=1, max_value=30))
    manager_of: dict[str, str | None] = {}
    names = [f"p{index:02d}" for index in range(size)]
    for index, name in enumerate(names):
        if index == 0 or (draw(st.booleans()) and draw(st.booleans())):
            manager_of[name] = None  # a root (about a quarter of the people)
        else:
            manager_of[name] = names[draw(st.integers(min_value=0, max_value=index - 1))]
    # Shuffle the mapping's order: the result must not depend on it.
    order = draw(st.permutations(names))
    return {name: manager_of[name] for name in order}


def chain_up(manager_of: Mapping[str, str | None], person: str) -> list[str]:
    """``person``, their manager, their manager's manager … up to a root."""
    chain = [person]
    while (manager := manager_of[chain[-1]]) is not None:
        chain.append(manager)
    return chain


@settings(max_examples=200, deadline=None)
@given(forests())
def test_a_forest_has_no_cycles(manager_of: dict[str, str | None]) -> None:
    assert find_cycles(manager_of) == []


@settings(max_examples=200, deadline=None)
@given(forests(), st.data())
def test_a_root_reporting_to_its_own_descendant_makes_exactly_one_cycle(
    manager_of: dict[str, str | None], data: st.DataObject
) -> None:
    roots = sorted(name for name, manager in manager_of.items() if manager is None)
    root = data.draw(st.sampled_from(roots))
    descendants = sorted(name for name in manager_of if root in chain_up(manager_of, name))
    descendant = data.draw(st.sampled_from(descendants))  # may be the root itself
    path = chain_up(manager_of, descendant)  # descendant … root
    manager_of[root] = descendant

    cycles = find_cycles(manager_of)

    assert len(cycles) == 1
    cycle = cycles[0]
    assert cycle[0] == cycle[-1] == min(path)
    assert sorted(cycle[:-1]) == sorted(path)
    for person, manager in pairwise(cycle):
        assert manager_of[person] == manager
