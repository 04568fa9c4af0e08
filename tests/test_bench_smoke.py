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
        r"bulk_seconds=[\d.]+ ratio_to_bulk=[\d.]+ reimport_seconds=[\d.]+", last), last
