"""``drumbeat outbox``: follow what was sent from the terminal."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Database
from tests.test_cli_mail import NOW, company_env, drumbeat


def test_the_outbox_lists_what_was_sent_and_shows_one_message(db: Database, tmp_path: Path
                                                              ) -> None:
    env = {**company_env(db, tmp_path), "DRUMBEAT_AGENDA_LEAD_HOURS": "72"}
    assert drumbeat(env, "scheduler", "--once", "--now", NOW).returncode == 0

    listing = drumbeat(env, "outbox", "--kind", "agenda", "--limit", "3")
    assert listing.returncode == 0, listing.stderr
    assert "agenda" in listing.stdout and "sent" in listing.stdout
    first_id = re.search(r"│ (\d+) ", listing.stdout)
    assert first_id is not None

    shown = drumbeat(env, "outbox", "show", first_id.group(1))
    assert shown.returncode == 0, shown.stderr
    assert "Subject:    1:1 with" in shown.stdout and "Reply" in shown.stdout
    assert "Status: sent" in shown.stdout

    html = drumbeat(env, "outbox", "show", first_id.group(1), "--html")
    assert "<html" in html.stdout.lower()


def test_an_unknown_id_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    env = company_env(db, tmp_path)
    result = drumbeat(env, "outbox", "show", "999999")
    assert result.returncode == 1
    assert "no outgoing message 999999" in result.stderr and "Traceback" not in result.stderr
    assert drumbeat(env, "outbox").stdout.strip() == "no outgoing mail yet"
