"""``drumbeat digest`` on the golden quarter: preview, send one, send them all, bad input."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlalchemy import select

from models import Evaluation, OutboundMessage
from tests.conftest import Database
from tests.test_cli_mail import drumbeat
from tests.test_digest_golden import seed


def env_for(db: Database, tmp_path: Path) -> dict[str, str]:
    return {"DRUMBEAT_DATABASE_URL": db.url, "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
            "DRUMBEAT_MAIL_DOMAIN": "acme.example", "COLUMNS": "120"}


def test_preview_writes_the_html_and_csv_and_sends_nothing(db: Database, tmp_path: Path
                                                           ) -> None:
    seed(db)
    result = drumbeat(env_for(db, tmp_path), "digest", "--period", "2026-Q4", "--preview",
                      "--today", "2027-01-04")
    assert result.returncode == 0, result.stderr
    assert "83.3%" in result.stdout and "Ann Lee" in result.stdout
    html = tmp_path / "digest-2026-Q4-hr.html"
    assert "data:image/png;base64," in html.read_text(encoding="utf-8")
    assert html.with_suffix(".csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with db.session() as session:
        assert session.scalars(select(Evaluation)).all() == []  # a preview stores nothing
        assert session.scalars(select(OutboundMessage)).all() == []


def test_all_sends_every_digest_of_a_closed_quarter_and_keeps_the_figures(
        db: Database, tmp_path: Path) -> None:
    seed(db)
    result = drumbeat(env_for(db, tmp_path), "digest", "--period", "2026-Q4", "--all",
                      "--today", "2027-01-04")
    assert result.returncode == 0, result.stderr
    assert "5 of 5 digests sent (1 HR, 1 managers, 3 employees)" in result.stdout
    sent = [message_from_bytes(p.read_bytes(), policy=default)
            for p in (tmp_path / "maildir" / "new").iterdir()]
    assert sorted(str(m["To"]) for m in sent) == [
        "ann@acme.example", "ben@acme.example", "cai@acme.example", "hana@acme.example",
        "mia@acme.example"]
    hr = next(m for m in sent if str(m["To"]) == "hana@acme.example")
    assert any(part.get_content_type() == "text/csv" for part in hr.walk())
    with db.session() as session:
        assert all(row.sent_at for row in session.scalars(select(Evaluation)))


def test_to_sends_hr_digest_to_one_address(db: Database, tmp_path: Path) -> None:
    seed(db)
    result = drumbeat(env_for(db, tmp_path), "digest", "--period", "2026-Q4", "--to",
                      "board@acme.example", "--today", "2027-01-04")
    assert result.returncode == 0, result.stderr
    [path] = list((tmp_path / "maildir" / "new").iterdir())
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert str(message["To"]) == "board@acme.example"


def test_a_period_that_is_not_one_is_refused_clearly(db: Database, tmp_path: Path) -> None:
    seed(db)
    result = drumbeat(env_for(db, tmp_path), "digest", "--period", "Q4-2026")
    assert result.returncode == 2
    assert "write 2026-Q4" in result.stderr and "Traceback" not in result.stderr
