"""``make bench``: every benchmark in turn, then one table of each figure, its target,
and whether it was met.

Each benchmark runs as a child process (``runs.py``) and its closing ``key=value``
line is read (``results.parse_result``); the targets are ``results.TARGETS``. A
figure a benchmark did not print shows as n/a, never as met. ``--record`` adds the
runs to bench/README.md's "Runs" table (machine, load, commit, the bare figure
beside the real one). The exit status is 1 when a benchmark failed (its own
verification), not when a target was missed.

    .venv/bin/python bench/summary.py                       # every benchmark, default sizes
    .venv/bin/python bench/summary.py --only digest replies --args digest="--people 1000"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import BENCHES, judge, run_rows, verdict_table
from runs import README, bench_args, context, record, run_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=BENCHES, metavar="NAME",
                        help=f"run only these ({', '.join(BENCHES)})")
    parser.add_argument("--args", action="append", default=[], metavar='NAME="ARGS"',
                        help="extra arguments for one benchmark (repeatable)")
    parser.add_argument("--record", action="store_true",
                        help="add the runs to bench/README.md's runs table")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    extra = bench_args(args.args)
    runs = [run_bench(name, extra.get(name, [])) for name in args.only or BENCHES]
    verdicts = judge({run.name: run.result for run in runs})
    print("\nmake bench: every figure against its target\n")
    print(verdict_table(verdicts))
    counts = {state: sum(1 for v in verdicts if v.state == state)
              for state in ("met", "MISSED", "n/a")}
    print(f"\n{counts['met']} met, {counts['MISSED']} missed, {counts['n/a']} n/a")
    if args.record:
        record([row for run in runs for row in run_rows(context(run), run.name, run.result)],
               args.readme)
    failed = [run.name for run in runs if run.returncode != 0]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
