"""``make bench`` and ``make bench-scale`` at a tiny size: the digest bench's result
line, one summary table, the growth verdicts and a recorded run (no timing judged)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import RUNS_END
from tests.conftest import POSTGRES_URL, REPO

# postgres_schema: skipped locally (failed under CI) when PostgreSQL is not running
pytestmark = pytest.mark.usefixtures("postgres_schema")


def _run(script: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(REPO / "bench" / script), *args],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_bench_scale_runs_the_digest_at_two_sizes_with_the_same_queries(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"## Runs\n\n| a |\n|---|\n{RUNS_END}\n", encoding="utf-8")
    out = _run("scale.py", "--sizes", "30,60", "--benches", "digest", "--record", "--readme",
               str(readme), "--args", f"digest=--tasks-per-person 3 --database-url "
               f"{POSTGRES_URL} --out {tmp_path}")
    lasts = re.findall(r"^people=(\d+) period=2026-Q4 seconds=[\d.]+ cpu_seconds=[\d.]+ "
                       r"queries=(\d+) peak_rss_mb=[\d.]+$", out, re.MULTILINE)
    assert [people for people, _ in lasts] == ["30", "60"]
    assert lasts[0][1] == lasts[1][1]  # the same number of statements at both sizes
    assert re.search(r"^\| 30 +\| n/a .*\| " + lasts[0][1] + r" +\|$", out, re.MULTILINE), out
    assert re.search(r"\| digest +\| queries at every size +\| (\d+), \1 +\| the same +\| met",
                     out), out
    assert re.search(r"\| agendas +\| .* at 60 +\| n/a .*\| n/a +\|", out)  # not run: n/a
    recorded = readme.read_text(encoding="utf-8")
    rows = [line for line in recorded.splitlines() if "| digest | people=" in line]
    assert len(rows) == 4  # two sizes × (seconds beside CPU seconds, peak MB)
    assert "cores" in rows[0] and "RAM" in rows[0]
    assert recorded.rstrip().endswith(RUNS_END)


def test_make_bench_ends_with_one_table_of_the_targets(tmp_path: Path) -> None:
    out = _run("summary.py", "--only", "digest", "--args", f"digest=--people 30 "
               f"--tasks-per-person 3 --database-url {POSTGRES_URL} --out {tmp_path}")
    table = out[out.index("make bench: every figure against its target"):]
    assert re.search(r"\| digest +\| seconds +\| [\d.]+ +\| < 10 +\| (met|MISSED) +\|", table)
    assert re.search(r"\| digest +\| peak_rss_mb +\| [\d.]+ +\| < 500 +\| met +\|", table)
    assert re.search(r"^\d met, \d missed, 0 n/a$", table, re.MULTILINE)
