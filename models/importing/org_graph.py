"""Reporting-line checks on plain data: who would end up managing whom."""

from __future__ import annotations

from collections.abc import Mapping


def find_cycles(manager_of: Mapping[str, str | None]) -> list[list[str]]:
    """Every cycle in a person → manager mapping, each listed once from its smallest member.

    ``{"a": "b", "b": "a", "c": None}`` → ``[["a", "b", "a"]]``. A manager that is not
    a key ends the chain (unknown managers are reported elsewhere).
    """
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current chain, 2 = known to end
    for start in manager_of:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in manager_of and state.get(node) is None:
            state[node] = 1
            chain.append(node)
            node = manager_of[node]
        if node is not None and state.get(node) == 1:
            loop = chain[chain.index(node):]
            first = loop.index(min(loop))
            ordered = loop[first:] + loop[:first]
            cycles.append([*ordered, ordered[0]])
        for member in chain:
            state[member] = 2
    return cycles
