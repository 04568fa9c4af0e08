"""Running the benchmarks as child processes and keeping the runs log (the I/O of
``summary.py`` and ``scale.py``; what they compute is in ``results.py``).

A benchmark runs as ``python bench/<name>.py ARGS``, its output passed through as it
comes and kept; nothing of its internals is imported. The log is the Markdown table
of bench/README.md's "Runs" section: each row says when, on what machine (CPU model,
cores, RAM) at what load average, at which commit, and the bare figure of the same run
beside the real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from results import RunContext, append_rows, parse_result

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"


@dataclass(frozen=True)
class BenchRun:
    """One benchmark run: its exit status, its figures, and the load around it."""

    name: str
    returncode: int
    result: dict[str, str]
    seconds: float
    load: str


def run_bench(name: str, args: list[str]) -> BenchRun:
    """``bench/<name>.py ARGS`` in a child process, its output shown as it comes."""
    command = [sys.executable, str(BENCH / f"{name}.py"), *args]
    print(f"\n$ {' '.join(['python', f'bench/{name}.py', *args])}", flush=True)
    before, started = os.getloadavg()[0], time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    after = os.getloadavg()[0]
    if child.returncode != 0:
        print(f"(bench/{name}.py exited with status {child.returncode}: its figures are n/a)",
              flush=True)
    result = parse_result("".join(lines)) if child.returncode == 0 else {}
    return BenchRun(name, child.returncode, result, time.perf_counter() - started,
                    f"{before:.1f}–{after:.1f}")


def machine() -> str:
    """This machine in a few words: CPU model, cores, RAM."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kb = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:"))
        ram = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{model}, {os.cpu_count()} cores, {ram}"


def commit() -> str:
    """The checkout's commit (``+`` when it has uncommitted changes other than the runs
    log's own), or n/a."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True,
                              text=True, check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                    ":(exclude)bench/README.md")
        return head + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "n/a"


def context(run: BenchRun) -> RunContext:
    return RunContext(datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), machine(), run.load,
                      commit())


def record(rows: list[tuple[str, ...]], readme: Path = README) -> None:
    """Add ``rows`` to the runs table of ``readme`` and show them."""
    if not rows:
        print("nothing to record: no figures")
        return
    readme.write_text(append_rows(readme.read_text(encoding="utf-8"), rows), encoding="utf-8")
    print(f"recorded in {readme}:")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def bench_args(pairs: list[str]) -> dict[str, list[str]]:
    """``--args NAME="…"`` options → each benchmark's extra arguments."""
    extra: dict[str, list[str]] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        extra.setdefault(name, []).extend(text.split())
    return extra
