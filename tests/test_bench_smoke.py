"""The benchmarks still run: a tiny size, checked for its verified result line (no timing)."""

from __future__ import annotations

import re
import subprocess
import sys

from sqlalchemy.exc import OperationalError

from models.db import make_engine
from tests.conftest import POSTGRES_URL, REPO, service_missing


def test_import_benchmark_runs_and_verifies_at_a_tiny_size() -> None:
    engine = make_engine(POSTGRES_URL)
    try:
        engine.connect().close()
    except OperationalError as exc:
        service_missing("PostgreSQL", exc)
    finally:
        engine.dispose()
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "import_org.py"), "--people", "40",
         "--tasks-per-person", "5", "--database-url", POSTGRES_URL],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified: row counts, and the imported values equal the baseline's" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"people=40 tasks=200 seconds=[\d.]+ rows_per_s=\d+ peak_rss_mb=[\d.]+ "
        r"bulk_seconds=[\d.]+ ratio_to_bulk=[\d.]+ reimport_seconds=[\d.]+ "
        r"export_seconds=[\d.]+ export_ratio=[\d.]+ export_peak_rss_mb=[\d.]+", last), last
    assert "verified: the export has one row per task, and importing it changed nothing" \
        in result.stdout


def test_abuse_benchmark_runs_at_a_tiny_size_and_mails_no_stranger() -> None:
    """Every hostile kind once, tiny floods: the result line is complete, the legitimate
    replies all apply, and no stranger got mail (the other figures depend on the branch)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "abuse.py"), "--legit", "12", "--hostile", "9",
         "--flood-lines", "300", "--recipients", "80", "--stall-seconds", "1",
         "--wait-seconds", "60"],
        capture_output=True, text=True, timeout=400, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"hostile=9 changed_by_hostile=(\d+) answers_to_strangers=(\d+) "
        r"legit_applied=(\d+)/12 lost=(\d+) p99_legit_ms=\d+ peak_rss_mb=\d+ "
        r"p99_legit_alone_ms=\d+", last)
    assert match, last
    assert (match[2], match[3], match[4]) == ("0", "12", "0"), result.stdout + result.stderr


def test_intake_benchmark_runs_beside_its_bare_pipelines_at_a_tiny_size() -> None:
    """A tiny backlog through the bare accept, the bare apply pipeline and the real
    smtpd and workers: one result line with every key the summary reads, every reply
    applied and answered once (the rates depend on the machine, not checked)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "intake.py"), "--messages", "40", "--people",
         "20", "--rate", "10", "--steady-seconds", "2", "--database-url", POSTGRES_URL],
        capture_output=True, text=True, timeout=400, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"messages=40 people=20 applied_per_s=[\d.]+ bare_apply_per_s=[\d.]+ "
        r"apply_ratio=[\d.]+ p50_ms=\d+ p99_ms=\d+ lost=(\d+) applied_twice=(\d+) "
        r"accept_per_s=[\d.]+ bare_accept_per_s=[\d.]+ ratio_to_bare=[\d.]+ "
        r"cpu_ms_per_reply=[\d.]+ apply_cpu_ms=[\d.]+ bare_apply_cpu_ms=[\d.]+", last)
    assert match, last
    assert (match[1], match[2]) == ("0", "0"), result.stdout + result.stderr
    assert "60 replies answered 250" in result.stdout, result.stdout
