"""The command line as an operator uses it: set up, import the example company, look at it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.settings import get_settings
from drumbeat.cli import app
from models.migrate import head_revision
from tests.conftest import EXAMPLES, Database

TODAY = "2026-11-28"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"DRUMBEAT_DATABASE_URL": url,
                                                      "COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def test_every_command_explains_itself() -> None:
    for args in ([], ["db"], ["import"], ["import", "people"], ["import", "plan"],
                 ["import", "meetings"], ["status"], ["db", "upgrade"], ["export"],
                 ["export", "plan"], ["export", "people"]):
        result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, args
        assert "Usage: " in result.stdout


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'new.sqlite'}"
    code, stdout, _ = run(url, "db", "upgrade")
    assert code == 0 and f"upgraded: empty → {head_revision()}" in stdout
    code, stdout, _ = run(url, "db", "upgrade")
    assert code == 0 and "up to date" in stdout


def test_commands_on_an_unmigrated_database_say_what_to_do(tmp_path: Path) -> None:
    code, _, stderr = run(f"sqlite:///{tmp_path / 'empty.sqlite'}", "status")
    assert code == 1
    assert "run `drumbeat db upgrade` first" in stderr
    assert "Traceback" not in stderr


def test_the_example_company_imports_and_shows(db: Database) -> None:
    code, stdout, _ = run(db.url, "import", "people", str(EXAMPLES / "people.csv"))
    assert code == 0, stdout
    assert "imported 30 new, 0 updated, 0 unchanged" in stdout
    code, stdout, _ = run(db.url, "import", "plan", str(EXAMPLES / "plan.yaml"))
    assert code == 0
    assert "created 3 initiatives, 9 goals, 23 projects, 113 tasks" in stdout

    code, stdout, _ = run(db.url, "status", "--today", TODAY)
    assert code == 0
    assert "Win the mid-market" in stdout
    assert "Grow mid-market ARR from €2.1M to €4M" in stdout
    assert "Mid-market pricing & packaging" in stdout
    assert stdout.count("I-") == 3 and stdout.count("G-") == 9 and stdout.count("P-") == 23
    assert "%" in stdout and "overdue" in stdout

    code, stdout, _ = run(db.url, "status", "--person", "MARCUS.BELL@northwind.example",
                          "--today", TODAY)
    assert code == 0
    assert "Marcus Bell" in stdout and "reports to Helena Lindqvist" in stdout
    assert "Draft the pricing memo" in stdout
    assert "Goals" in stdout and "Grow mid-market ARR from €2.1M to €4M" in stdout
    assert "Check-ins 2026-Q4" in stdout and "Sarah Goldberg" in stdout


def test_importing_twice_changes_nothing(db: Database) -> None:
    for _ in range(2):
        run(db.url, "import", "people", str(EXAMPLES / "people.csv"))
        code, stdout, _ = run(db.url, "import", "plan", str(EXAMPLES / "plan.yaml"))
        assert code == 0
    assert "unchanged" not in stdout
    assert "created 0 initiatives, 0 goals, 0 projects, 0 tasks; 148 items already there" in stdout


def test_dry_run_writes_nothing(db: Database) -> None:
    code, stdout, _ = run(db.url, "import", "people", "--dry-run", str(EXAMPLES / "people.csv"))
    assert code == 0 and "would import 30 new" in stdout
    code, stdout, _ = run(db.url, "import", "people", str(EXAMPLES / "people.csv"))
    assert "imported 30 new" in stdout


def test_a_bad_file_is_refused_with_reasons_not_a_traceback(db: Database,
                                                           tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("email,name,manager_email,timezone\n"
                   "ann@x.com,Ann,,Mars/Base\n"
                   "ben@x.com,Ben,nobody@x.com,UTC\n", encoding="utf-8")
    code, _, stderr = run(db.url, "import", "people", str(bad))
    assert code == 1
    assert "people.csv, row 2, timezone: 'Mars/Base' is not a time zone" in stderr
    assert "people.csv, row 3, manager_email: no person has the address nobody@x.com" in stderr
    assert "2 problem(s); nothing was imported" in stderr
    assert "Traceback" not in stderr
    code, _, stderr = run(db.url, "status", "--person", "ann@x.com")
    assert code == 1 and "nobody has the address ann@x.com" in stderr


def test_unknown_person_is_a_clear_error(db: Database) -> None:
    code, _, stderr = run(db.url, "status", "--person", "ghost@x.com")
    assert code == 1 and "nobody has the address ghost@x.com" in stderr


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    env = {**os.environ, "DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite'}"}
    drumbeat = Path(sys.executable).with_name("drumbeat")
    result = subprocess.run([str(drumbeat), "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout


def test_a_bad_setting_is_named_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "DRUMBEAT_DEFAULT_TIMEZONE": "Mars/Base",
           "DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite'}"}
    drumbeat = Path(sys.executable).with_name("drumbeat")
    result = subprocess.run([str(drumbeat), "status"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert "setting DRUMBEAT_DEFAULT_TIMEZONE" in result.stderr
    assert "unknown IANA time zone" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_export_imports_back_unchanged_through_the_command_line(
    db: Database, tmp_path: Path
) -> None:
    run(db.url, "import", "people", str(EXAMPLES / "people.csv"))
    run(db.url, "import", "plan", str(EXAMPLES / "plan.yaml"))

    code, stdout, stderr = run(db.url, "export", "plan")
    assert code == 0, stderr
    assert stdout.startswith("# The plan as Drumbeat holds it")
    assert "  - ref: I-1\n    title: Win the mid-market\n" in stdout
    assert "exported 3 initiatives, 9 goals, 23 projects, 113 tasks." in stderr
    exported = tmp_path / "plan.yaml"
    exported.write_text(stdout, encoding="utf-8")
    code, stdout, _ = run(db.url, "import", "plan", str(exported))
    assert code == 0
    assert "created 0 initiatives, 0 goals, 0 projects, 0 tasks; 148 items already there, " \
        "0 changed." in stdout

    flat = tmp_path / "plan.csv"
    code, stdout, stderr = run(db.url, "export", "plan", "--out", str(flat))
    assert code == 0 and stdout == ""
    assert f"to {flat}" in stderr
    assert flat.read_text(encoding="utf-8").startswith("initiative_ref,initiative,")
    edited = flat.read_text(encoding="utf-8").replace(
        ",Draft the pricing memo,", ",Draft the pricing memo (v2),")
    flat.write_text(edited, encoding="utf-8")
    code, stdout, _ = run(db.url, "import", "plan", str(flat))
    assert code == 0 and "148 items already there, 1 changed." in stdout

    people = tmp_path / "people.csv"
    code, _, stderr = run(db.url, "export", "people", "-o", str(people))
    assert code == 0 and "exported 30 people" in stderr
    code, stdout, _ = run(db.url, "import", "people", str(people))
    assert code == 0 and "imported 0 new, 0 updated, 30 unchanged." in stdout


def test_export_problems_are_clear_errors_not_tracebacks(db: Database, tmp_path: Path) -> None:
    run(db.url, "import", "people", str(EXAMPLES / "people.csv"))
    run(db.url, "import", "plan", str(EXAMPLES / "plan.yaml"))
    nowhere = tmp_path / "missing" / "plan.yaml"
    code, _, stderr = run(db.url, "export", "plan", "--out", str(nowhere))
    assert code == 1 and "cannot write" in stderr and "Traceback" not in stderr
    assert not nowhere.parent.exists()

    code, _, stderr = run(db.url, "export", "plan", "--format", "xml")
    assert code == 2 and "'xml' is not one of" in stderr

    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(
        (EXAMPLES / "plan.yaml").read_text(encoding="utf-8").replace(
            "  - title: Win the mid-market\n", "  - title: Win the mid-market\n    ref: I-42\n"),
        encoding="utf-8")
    code, _, stderr = run(db.url, "import", "plan", str(pinned))
    assert code == 1 and "Traceback" not in stderr
    line = (EXAMPLES / "plan.yaml").read_text(encoding="utf-8").splitlines().index(
        "  - title: Win the mid-market") + 1
    assert f"pinned.yaml, line {line}, initiative 'Win the mid-market' ref: there is no " \
        "I-42." in stderr
    assert "1 problem(s); nothing was imported" in stderr
