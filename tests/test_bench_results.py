"""The benchmark summary's reading of result lines, its targets and its runs log."""

from __future__ import annotations

import pytest

from bench.results import (
    RUNS_END,
    TARGETS,
    RunContext,
    Target,
    append_rows,
    growth,
    judge,
    number,
    parse_result,
    run_rows,
    scale_table,
    verdict_table,
)

INTAKE_OUTPUT = """\
  verified: 10,000 replies
TARGET MISSED: p50_ms 612 >= 500
messages=10000 accept_per_s=583.0 applied_per_s=113.6 cpu_ms_per_reply=9.80 p50_ms=612 \
p99_ms=900 lost=0 applied_twice=0
bare_accept_per_s=642.0 ratio_to_bare=0.91
"""


def test_the_closing_block_of_key_value_lines_is_read_and_merged() -> None:
    result = parse_result(INTAKE_OUTPUT)
    assert result["applied_per_s"] == "113.6"
    assert result["ratio_to_bare"] == "0.91"
    assert result["p50_ms"] == "612"
    assert "verified:" not in " ".join(result)


def test_a_line_that_is_not_all_key_value_tokens_ends_the_block() -> None:
    output = "a=1 b=2\nTARGET MISSED: lost=0 and applied_twice=0 (lost=3\nc=3\n\n"
    assert parse_result(output) == {"c": "3"}
    assert parse_result("no figures here\n") == {}
    assert parse_result("") == {}


def test_percent_signs_are_read_as_numbers_and_words_are_not() -> None:
    assert number("100.0%") == 100.0
    assert number("0.82") == 0.82
    assert number("200/200") is None
    assert number(None) is None


@pytest.mark.parametrize(("op", "value", "state"), [
    (">=", "0.8", "met"), (">=", "0.79", "MISSED"), ("<", "500", "MISSED"),
    ("<", "499.9", "met"), ("==", "0", "met"), ("==", "1", "MISSED"), ("<=", "2", "met")])
def test_a_target_is_met_or_missed_by_its_comparison(op: str, value: str, state: str) -> None:
    threshold = {">=": 0.8, "<": 500, "==": 0, "<=": 2}[op]
    assert Target("x", "k", op, threshold).state(value) == state  # type: ignore[arg-type]


def test_a_figure_not_printed_is_not_applicable_never_met() -> None:
    verdicts = judge({"intake": parse_result(INTAKE_OUTPUT)})
    by_key = {v.figure: v for v in verdicts}
    assert by_key["apply_ratio"].state == "n/a"  # the bench does not print it (yet)
    assert by_key["apply_ratio"].value is None
    assert by_key["p50_ms"].state == "MISSED"
    assert by_key["lost"].state == "met"
    assert by_key["ratio_to_bare"].state == "met"
    assert {v.bench for v in verdicts} == {"intake"}  # only the benches that ran
    table = verdict_table(verdicts)
    assert "| intake | apply_ratio   | n/a" in table
    assert table.count("\n") == len(verdicts) + 1


def test_a_failed_bench_shows_every_target_as_not_applicable() -> None:
    verdicts = judge({"digest": {}})
    assert [v.state for v in verdicts] == ["n/a", "n/a"]
    assert {v.figure for v in verdicts} == {"seconds", "peak_rss_mb"}


def test_the_digest_is_judged_by_the_targets_of_its_size() -> None:
    at_30k = judge({"digest": {"people": "30000", "seconds": "28.3", "peak_rss_mb": "708"}})
    assert [(v.figure, v.target, v.state) for v in at_30k] == [
        ("seconds", "< 30", "met"), ("peak_rss_mb", "< 1000", "met")]
    at_10k = judge({"digest": {"people": "10000", "seconds": "10.1", "peak_rss_mb": "311"}})
    assert [(v.target, v.state) for v in at_10k] == [("< 10", "MISSED"), ("< 500", "met")]
    assert judge({"digest": {"people": "60000", "seconds": "50"}}) == []  # no target there


def test_the_targets_of_issue_19_are_in_the_table() -> None:
    wanted = {("agendas", "ratio_to_bare", ">=", 0.8), ("agendas", "cpu_ratio", "<=", 2.0),
              ("intake", "apply_ratio", ">=", 0.8), ("intake", "p50_ms", "<", 500),
              ("digest", "seconds", "<", 10), ("digest", "peak_rss_mb", "<", 500),
              ("replies", "ours_talon", ">=", 95), ("replies", "ours_quotequail", ">=", 95)}
    assert wanted <= {(t.bench, t.key, t.op, t.threshold) for t in TARGETS}


CONTEXT = RunContext("2026-12-07 01:00", "AMD EPYC, 2 cores, 24 GB RAM", "2.0–3.1", "abc1234")


def test_a_run_row_puts_the_bare_figure_of_the_same_run_beside_the_real_one() -> None:
    rows = run_rows(CONTEXT, "agendas", {"messages": "19998", "messages_per_s": "81.2",
                                         "bare_per_s": "240.0", "ratio_to_bare": "0.34"})
    assert rows == [("2026-12-07 01:00", "AMD EPYC, 2 cores, 24 GB RAM", "2.0–3.1", "abc1234",
                     "agendas", "messages=19998", "agendas a second", "81.2", "240.0", "0.34")]
    assert run_rows(CONTEXT, "agendas", {}) == []


def test_rows_are_added_at_the_end_of_the_runs_table() -> None:
    readme = f"# B\n\n## Runs\n\n| a | b |\n|---|---|\n| 1 | 2 |\n{RUNS_END}\n\nafter\n"
    updated = append_rows(readme, [("3", "x|y")])
    assert updated == (f"# B\n\n## Runs\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | x/y |\n"
                       f"{RUNS_END}\n\nafter\n")
    with pytest.raises(ValueError):
        append_rows("# no table\n", [("1",)])


def _runs(digest: dict[int, tuple[str, str, str]], cpu: dict[int, str]
          ) -> dict[int, dict[str, dict[str, str]]]:
    return {size: {"digest": {"seconds": s, "peak_rss_mb": mb, "queries": q},
                   "agendas": {"worker_cpu_ms": cpu[size]}, "intake": {}}
            for size, (s, mb, q) in digest.items()}


def test_growth_judges_flat_cpu_linear_time_constant_queries_and_the_limits() -> None:
    runs = _runs({1_000: ("1.5", "190", "11"), 10_000: ("9.0", "300", "11"),
                  30_000: ("29.0", "700", "11")}, {1_000: "4.0", 10_000: "5.9", 30_000: "6.1"})
    verdicts = {(v.bench, v.figure): v for v in growth(runs)}
    assert verdicts[("agendas", "agendas: worker CPU ms an agenda at 10,000")].state == "met"
    assert verdicts[("agendas", "agendas: worker CPU ms an agenda at 30,000")].state == "MISSED"
    assert verdicts[("intake", "answers: CPU ms a reply at 10,000")].state == "n/a"
    linear = verdicts[("digest", "seconds at 30,000 against 10,000")]
    assert linear.state == "met" and linear.target.startswith("≤ 32.40")  # 9 × 3 × 1.2
    assert verdicts[("digest", "seconds at 10,000 against 1,000")].state == "met"
    assert verdicts[("digest", "queries at every size")].state == "met"
    assert verdicts[("digest", "seconds at 30,000")].state == "met"  # < 30
    assert verdicts[("digest", "peak_rss_mb at 30,000")].state == "met"
    assert verdicts[("digest", "seconds at 10,000")].value == "9.0"


def test_growth_misses_a_superlinear_digest_and_changing_queries() -> None:
    runs = _runs({1_000: ("1.0", "190", "11"), 10_000: ("12.5", "520", "14")},
                 {1_000: "4.0", 10_000: "4.0"})
    verdicts = {v.figure: v.state for v in growth(runs) if v.bench == "digest"}
    assert verdicts["seconds at 10,000 against 1,000"] == "MISSED"  # > 1.0 × 10 × 1.2
    assert verdicts["seconds at 10,000"] == "MISSED"  # not < 10
    assert verdicts["queries at every size"] == "MISSED"
    assert verdicts["peak_rss_mb at 10,000"] == "MISSED"


def test_the_scale_table_has_a_row_a_size_and_n_a_for_what_did_not_run() -> None:
    runs = _runs({1_000: ("1.5", "190", "11"), 30_000: ("29.0", "700", "11")},
                 {1_000: "4.0", 30_000: "4.1"})
    lines = scale_table(runs).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| 1,000 ") and lines[3].startswith("| 30,000 ")
    assert "29.0" in lines[3] and "n/a" in lines[3]  # intake printed nothing
