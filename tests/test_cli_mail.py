"""The mail commands as an operator uses them on the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES, Database

NOW = "2026-11-28T12:00:00+00:00"


def drumbeat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("drumbeat")), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def company_env(db: Database, tmp_path: Path) -> dict[str, str]:
    env = {"DRUMBEAT_DATABASE_URL": db.url, "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_MAIL_DOMAIN": "northwind.example", "COLUMNS": "120"}
    for kind, name in (("people", "people.csv"), ("plan", "plan.yaml")):
        result = drumbeat(env, "import", kind, str(EXAMPLES / name))
        assert result.returncode == 0, result.stderr
    return env


def test_preview_prints_the_next_agenda_without_sending(db: Database, tmp_path: Path) -> None:
    env = company_env(db, tmp_path)
    result = drumbeat(env, "agendas", "preview", "grace.kim@northwind.example", "--now", NOW,
                      "--html", str(tmp_path / "preview.html"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "To: grace.kim@northwind.example" in out
    assert "Subject: 1:1 with Zoë Ødegaard: check-in agenda" in out
    assert "[T-" in out and "HOW TO REPLY" in out and "met: yes" in out
    assert "<table" in (tmp_path / "preview.html").read_text(encoding="utf-8")
    assert not (tmp_path / "maildir").exists()                   # nothing was sent

    manager = drumbeat(env, "agendas", "preview", "marcus.bell@northwind.example", "--now", NOW)
    assert manager.returncode == 0
    # Marcus gets his own agenda with Helena and one copy per direct report.
    assert manager.stdout.count("Subject: 1:1 with") == 1 + 5
    assert "Subject: 1:1 with Helena Lindqvist: check-in agenda" in manager.stdout
    assert "SARAH GOLDBERG'S TASKS" in manager.stdout


def test_preview_for_an_unknown_address_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    result = drumbeat({"DRUMBEAT_DATABASE_URL": db.url}, "agendas", "preview", "nobody@x.com")
    assert result.returncode == 1
    assert "nobody has the address nobody@x.com" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_scheduler_tick_sends_the_due_agendas_to_the_maildir_once(
        db: Database, tmp_path: Path) -> None:
    env = {**company_env(db, tmp_path), "DRUMBEAT_AGENDA_LEAD_HOURS": "72"}
    first = drumbeat(env, "scheduler", "--once", "--now", NOW)
    assert first.returncode == 0, first.stderr
    sent = sorted((tmp_path / "maildir" / "new").iterdir())
    assert sent, first.stdout
    assert first.stdout.strip().endswith(f"outbox: {len(sent)} sent")
    again = drumbeat(env, "scheduler", "--once", "--now", NOW)
    assert again.returncode == 0
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == len(sent)
    # sent "at" --now, and dated so: a forwarded agenda is matched to what we stored by it
    from email import message_from_bytes
    from email.utils import parsedate_to_datetime

    dates = {parsedate_to_datetime(message_from_bytes(path.read_bytes())["Date"])
             for path in sent}
    assert {moment.isoformat() for moment in dates} == {NOW}


def test_the_worker_explains_that_it_needs_redis(tmp_path: Path) -> None:
    env = {"DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite'}"}
    env.pop("DRUMBEAT_REDIS_URL", None)
    result = drumbeat({**env, "DRUMBEAT_REDIS_URL": ""}, "worker")
    assert result.returncode != 0
    assert "DRUMBEAT_REDIS_URL is not set" in result.stderr
