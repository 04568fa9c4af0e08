"""The benchmarks' result lines against their targets: pure functions and one table of targets.

Every benchmark ends with its figures as ``key=value`` tokens (on one line, or a few:
``intake.py`` prints two). ``parse_result`` reads that closing block; ``TARGETS`` holds
every target in one place; ``judge`` compares. A figure a benchmark did not print (an
older script, a failed run) is "n/a", never "met". ``PAIRS`` says which figure of a run
is the real one and which the bare pipeline's of the same run, for the runs log
(``run_rows``), so a faster or slower machine never reads as a change of the code.
``growth`` judges ``scale.py``'s runs at several sizes. No I/O here: ``runs.py`` runs
the benchmarks and writes the log.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

TOKEN = re.compile(r"[a-z_][a-z0-9_]*=\S+")
State = Literal["met", "MISSED", "n/a"]
Result = Mapping[str, str]  # one run's key=value figures, as printed

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt, "==": operator.eq}
_SHOWN = {">=": "≥", "<=": "≤", "<": "<", ">": ">", "==": "="}


def parse_result(output: str) -> dict[str, str]:
    """The closing ``key=value`` block of a benchmark's output: the last lines made only
    of such tokens (blank lines between them skipped), merged; a later line wins."""
    block: list[str] = []
    for line in reversed(output.strip().splitlines()):
        tokens = line.split()
        if not tokens:
            continue
        if not all(TOKEN.fullmatch(token) for token in tokens):
            break
        block.insert(0, line)
    figures: dict[str, str] = {}
    for line in block:
        for token in line.split():
            key, _, value = token.partition("=")
            figures[key] = value
    return figures


def number(value: str | None) -> float | None:
    """A printed figure as a number (``100.0%`` → 100.0); None when it is not one."""
    if value is None:
        return None
    try:
        return float(value.rstrip("%"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    """One figure a benchmark must reach: ``key`` of ``bench``'s result, ``op`` threshold."""

    bench: str
    key: str
    op: Literal[">=", "<=", "<", ">", "=="]
    threshold: float
    why: str = ""
    people: tuple[int, int] | None = None  # the company sizes it holds for (None: any)

    @property
    def text(self) -> str:
        return f"{_SHOWN[self.op]} {self.threshold:g}"

    def applies(self, result: Result) -> bool:
        """Whether the target holds at the run's size (a run without ``people``, such as
        a failed one, is judged as at the default 10,000)."""
        if self.people is None:
            return True
        people = number(result.get("people"))
        size = 10_000 if people is None else people
        return self.people[0] <= size <= self.people[1]

    def state(self, value: str | None) -> State:
        figure = number(value)
        if figure is None:
            return "n/a"
        return "met" if _OPERATORS[self.op](figure, self.threshold) else "MISSED"


# Every benchmark's targets, in the order ``make bench`` runs them (issue 19 and
# bench/README.md). The digest's depend on the company's size.
TARGETS: list[Target] = [
    Target("import_org", "ratio_to_bulk", "<=", 3.0, "import time / a bare Core insert"),
    Target("import_org", "peak_rss_mb", "<", 400),
    Target("agendas", "ratio_to_bare", ">=", 0.8, "agendas a second / the bare pipeline's"),
    Target("agendas", "cpu_ratio", "<=", 2.0, "worker CPU an agenda / the bare pipeline's"),
    Target("agendas", "missing", "==", 0),
    Target("agendas", "duplicates", "==", 0),
    Target("agendas", "peak_rss_mb", "<", 300),
    Target("replies", "ours_corpus", ">=", 97),
    Target("replies", "ours_talon", ">=", 95, "exact matches on talon's own cases"),
    Target("replies", "ours_quotequail", ">=", 95, "exact matches on quotequail's cases"),
    Target("forwards", "ours_own", ">=", 95),
    Target("forwards", "ours_crisp", ">=", 90),
    Target("forwards", "agenda_lines_applied", "==", 0),
    Target("intake", "ratio_to_bare", ">=", 0.8, "accepted a second / a bare insert's"),
    Target("intake", "apply_ratio", ">=", 0.8, "applied and answered / the bare pipeline's"),
    Target("intake", "p50_ms", "<", 500),
    Target("intake", "lost", "==", 0),
    Target("intake", "applied_twice", "==", 0),
    Target("abuse", "changed_by_hostile", "==", 0),
    Target("abuse", "answers_to_strangers", "==", 0),
    Target("abuse", "lost", "==", 0),
    Target("abuse", "p99_legit_ms", "<", 2000),
    Target("abuse", "peak_rss_mb", "<", 500),
    Target("digest", "seconds", "<", 10, "a quarter, up to 10,000 people", (0, 10_000)),
    Target("digest", "peak_rss_mb", "<", 500, "up to 10,000 people", (0, 10_000)),
    Target("digest", "seconds", "<", 30, "a quarter, up to 30,000 people", (10_001, 30_000)),
    Target("digest", "peak_rss_mb", "<", 1000, "up to 30,000 people", (10_001, 30_000)),
]
BENCHES: list[str] = list(dict.fromkeys(target.bench for target in TARGETS))


@dataclass(frozen=True)
class Verdict:
    """One target judged: the figure as printed (None: not printed) and the outcome."""

    bench: str
    figure: str
    value: str | None
    target: str
    state: State
    why: str = ""


def judge(results: Mapping[str, Result], targets: Sequence[Target] = TARGETS
          ) -> list[Verdict]:
    """Every target of the benchmarks in ``results`` (bench name → its figures)."""
    verdicts = []
    for target in targets:
        if target.bench in results and target.applies(results[target.bench]):
            value = results[target.bench].get(target.key)
            verdicts.append(Verdict(target.bench, target.key, value, target.text,
                                    target.state(value), target.why))
    return verdicts


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, its columns padded so it reads in a terminal too."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) \
            + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(row) for row in rows)])


def verdict_table(verdicts: Sequence[Verdict]) -> str:
    return table(("bench", "figure", "value", "target", "result"),
                 [(v.bench, v.figure, "n/a" if v.value is None else v.value, v.target, v.state)
                  for v in verdicts])


# --- the runs log ---------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    """A figure of a run beside its baseline measured in the same run (None: it has none)."""

    bench: str
    figure: str
    real: str
    bare: str | None = None
    ratio: str | None = None


PAIRS: list[Pair] = [
    Pair("import_org", "import seconds (bare: Core insert)", "seconds", "bulk_seconds",
         "ratio_to_bulk"),
    Pair("agendas", "agendas a second", "messages_per_s", "bare_per_s", "ratio_to_bare"),
    Pair("agendas", "worker CPU ms an agenda", "worker_cpu_ms", "bare_cpu_ms", "cpu_ratio"),
    Pair("replies", "talon cases exact % (bare: best peer)", "ours_talon", "best_peer_talon"),
    Pair("forwards", "crisp all four % (bare: best peer)", "ours_crisp", "best_peer_crisp"),
    Pair("intake", "replies accepted a second", "accept_per_s", "bare_accept_per_s",
         "ratio_to_bare"),
    Pair("intake", "replies applied and answered a second", "applied_per_s",
         "bare_apply_per_s", "apply_ratio"),
    Pair("intake", "CPU ms a reply", "cpu_ms_per_reply"),
    Pair("abuse", "p99 ms of legitimate replies (bare: alone)", "p99_legit_ms",
         "p99_legit_alone_ms"),
    Pair("digest", "seconds (CPU s of the process beside)", "seconds", "cpu_seconds"),
    Pair("digest", "peak MB", "peak_rss_mb"),
]
RUNS_HEADER = ("date (UTC)", "machine", "load", "commit", "bench", "size", "figure", "real",
               "bare, same run", "ratio")


@dataclass(frozen=True)
class RunContext:
    """Where and when a run was made: the same for every row it writes."""

    date: str
    machine: str
    load: str
    commit: str


def size_of(result: Result) -> str:
    for key in ("people", "messages"):
        if key in result:
            return f"{key}={result[key]}"
    return "—"


def run_rows(context: RunContext, bench: str, result: Result,
             pairs: Sequence[Pair] = PAIRS) -> list[tuple[str, ...]]:
    """The runs-log rows of one benchmark's result: one a figure it printed."""
    rows = []
    for pair in pairs:
        if pair.bench != bench or pair.real not in result:
            continue
        rows.append((context.date, context.machine, context.load, context.commit, bench,
                     size_of(result), pair.figure, result[pair.real],
                     result.get(pair.bare, "n/a") if pair.bare else "—",
                     result.get(pair.ratio, "n/a") if pair.ratio else "—"))
    return rows


RUNS_END = "<!-- runs: make bench RECORD=1 and make bench-scale RECORD=1 add rows above -->"


def append_rows(readme: str, rows: Sequence[Sequence[str]]) -> str:
    """``readme`` with ``rows`` added at the end of its runs table (before ``RUNS_END``)."""
    if RUNS_END not in readme:
        raise ValueError("the README has no runs table (its closing marker is missing)")
    added = "".join("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |\n"
                    for row in rows)
    return readme.replace(RUNS_END, added + RUNS_END, 1)


# --- growth (scale.py) ------------------------------------------------------------------

CPU_GROWTH = 1.5  # CPU a message at any size at most 1.5 × the smallest size's
TIME_GROWTH = 1.2  # the digest's time at most linear in people, 20% allowed for noise
SCALED: list[tuple[str, str, str]] = [  # (bench, key, what) compared across sizes
    ("agendas", "worker_cpu_ms", "agendas: worker CPU ms an agenda"),
    ("intake", "cpu_ms_per_reply", "answers: CPU ms a reply"),
]


def growth(runs: Mapping[int, Mapping[str, Result]]) -> list[Verdict]:
    """Whether the growth targets hold over ``runs`` (people → bench → figures): CPU a
    message flat (each size within ``CPU_GROWTH`` of the smallest), the digest's time
    at most linear from one size to the next, its queries the same at every size, and
    its limits at each size (``TARGETS``)."""
    sizes = sorted(runs)
    verdicts: list[Verdict] = []
    if not sizes:
        return verdicts
    base = sizes[0]
    for bench, key, what in SCALED:
        first = number(runs[base].get(bench, {}).get(key))
        for size in sizes[1:]:
            value = runs[size].get(bench, {}).get(key)
            figure = number(value)
            state: State = ("n/a" if first is None or figure is None else
                            "met" if figure <= CPU_GROWTH * first else "MISSED")
            shown = "n/a" if first is None else f"{first:g}"
            verdicts.append(Verdict(bench, f"{what} at {size:,}", value,
                                    f"≤ {CPU_GROWTH:g} × {shown} (at {base:,})", state))
    for smaller, larger in pairwise(sizes):
        before = number(runs[smaller].get("digest", {}).get("seconds"))
        value = runs[larger].get("digest", {}).get("seconds")
        after = number(value)
        limit = None if before is None else before * larger / smaller * TIME_GROWTH
        verdicts.append(Verdict(
            "digest", f"seconds at {larger:,} against {smaller:,}", value,
            "n/a" if limit is None else f"≤ {limit:.2f} (linear, +20%)",
            "n/a" if limit is None or after is None else "met" if after <= limit else "MISSED"))
    queries = {size: runs[size].get("digest", {}).get("queries") for size in sizes}
    known = {value for value in queries.values() if value is not None}
    verdicts.append(Verdict(
        "digest", "queries at every size", ", ".join(str(q) for q in queries.values()),
        "the same", "n/a" if None in queries.values() or len(sizes) < 2 else
        "met" if len(known) == 1 else "MISSED"))
    for size in sizes:  # the limits of ``TARGETS`` at each size
        if "digest" in runs[size]:
            sized = {**runs[size]["digest"], "people": str(size)}
            verdicts += [replace(verdict, figure=f"{verdict.figure} at {size:,}")
                         for verdict in judge({"digest": sized})]
    return verdicts


SCALE_COLUMNS: list[tuple[str, str, str]] = [  # (header, bench, key)
    ("agendas s", "agendas", "seconds"),
    ("agendas/s", "agendas", "messages_per_s"),
    ("CPU ms/agenda", "agendas", "worker_cpu_ms"),
    ("agendas MB", "agendas", "peak_rss_mb"),
    ("answers/s", "intake", "applied_per_s"),
    ("CPU ms/answer", "intake", "cpu_ms_per_reply"),
    ("answers p50 ms", "intake", "p50_ms"),
    ("digest s", "digest", "seconds"),
    ("digest CPU s", "digest", "cpu_seconds"),
    ("digest MB", "digest", "peak_rss_mb"),
    ("digest queries", "digest", "queries"),
]


def scale_table(runs: Mapping[int, Mapping[str, Result]]) -> str:
    """One row a size: time, memory and CPU a message of the three benchmarks."""
    return table(("people", *(header for header, _, _ in SCALE_COLUMNS)),
                 [(f"{size:,}", *(runs[size].get(bench, {}).get(key, "n/a")
                                  for _, bench, key in SCALE_COLUMNS))
                  for size in sorted(runs)])
