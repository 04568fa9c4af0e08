"""``make bench-scale``: the agenda, answer and digest benchmarks at several company
sizes, in one table, with the growth targets of issue 19 judged.

At each size (``--sizes``, default 1,000, 10,000 and 30,000 people) it runs
``agendas.py``, ``intake.py`` and ``digest.py`` with ``--people N`` as child
processes and reads their closing ``key=value`` lines. The table gives time, memory
and CPU a message per size; the verdicts (``results.growth``) say whether CPU a
message stays flat (each size at most 1.5 × the smallest size's), the digest's time
grows at most linearly (20% allowed for noise) with the same number of queries, and
the digest stays under 10 s and 500 MB at 10,000 people, 30 s and 1 GB at 30,000.
A benchmark that fails or does not print a figure gives n/a, never met.

    .venv/bin/python bench/scale.py                                     # ~1 hour
    .venv/bin/python bench/scale.py --sizes 200,400 --benches digest    # a quick look
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import growth, run_rows, scale_table, verdict_table
from runs import README, bench_args, context, record, run_bench

SCALED = ("agendas", "intake", "digest")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,30000",
                        help="company sizes, comma-separated (default 1000,10000,30000)")
    parser.add_argument("--benches", nargs="+", choices=SCALED, default=list(SCALED))
    parser.add_argument("--args", action="append", default=[], metavar='NAME="ARGS"',
                        help="extra arguments for one benchmark at every size (repeatable)")
    parser.add_argument("--record", action="store_true",
                        help="add the runs to bench/README.md's runs table")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    except ValueError:
        parser.error(f"--sizes: not a list of numbers: {args.sizes!r}")
    extra = bench_args(args.args)
    runs: dict[int, dict[str, dict[str, str]]] = {}
    rows: list[tuple[str, ...]] = []
    failed = []
    for size in sizes:
        runs[size] = {}
        for name in args.benches:
            run = run_bench(name, ["--people", str(size), *extra.get(name, [])])
            runs[size][name] = run.result
            rows += run_rows(context(run), name, run.result)
            if run.returncode != 0:
                failed.append(f"{name} at {size:,}")
    print("\nmake bench-scale: time, memory and CPU a message by company size\n")
    print(scale_table(runs))
    print("\ngrowth targets\n")
    print(verdict_table(growth(runs)))
    if args.record:
        record(rows, args.readme)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
