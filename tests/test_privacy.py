"""What is kept of a message and for how long, and what the console shows of it.

Driven as an operator drives it: messages stored as the intake stores them, then
``drumbeat inbox``, ``inbox show``, ``inbox purge``, ``outbox`` and one scheduler tick.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import update

from drumbeat.display import clean_text
from models.mailbox import InboundMessage
from tests.conftest import Database
from tests.test_cli_mail import company_env, drumbeat
from workers.intake import store_raw
from workers.retention import clear_old_raw

HOSTILE_SUBJECT = "\x1b[31mred\x1b[0m [bold]x[/bold]\rhidden \u202eevil [link=http://e.example]y"


def store(db: Database, subject: str, number: int) -> int:
    """Stored as the intake stores it, the Subject as raw 8-bit bytes: an SMTP client can
    put an escape or a bare carriage return in a header line."""
    message = EmailMessage()
    message["From"] = "Grace Kim <grace.kim@northwind.example>"
    message["To"] = "updates@northwind.example"
    message["Subject"] = "PLACEHOLDER"
    message["Message-ID"] = f"<privacy-{number}@mail.example>"
    message.set_content("T-1 done\n")
    raw = message.as_bytes(policy=SMTP).replace(b"PLACEHOLDER", subject.encode(), 1)
    with db.session() as session, session.begin():
        row_id, _new = store_raw(session, raw, via="smtp")
    return row_id


def processed(db: Database, env: dict[str, str], subject: str, number: int) -> int:
    """Stored, then processed with `drumbeat inbox retry` (what an operator would run)."""
    row_id = store(db, subject, number)
    result = drumbeat(env, "inbox", "retry", str(row_id))
    assert result.returncode == 0, result.stderr
    return row_id


def operator_env(db: Database, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**company_env(db, tmp_path), "COLUMNS": "400", "TERM": "dumb"}


def test_inbox_and_outbox_neutralise_control_characters_and_markup(db: Database,
                                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = operator_env(db, tmp_path)
    row_id = processed(db, env, HOSTILE_SUBJECT, 1)

    listing = drumbeat(env, "inbox")
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[31mred\\x1b[0m [bold]x[/bold] hidden \\u202eevil [link=http://e.example]y" in out
    # how the sender was established, and why nothing changed
    line = next(line for line in out.splitlines() if re.match(rf"│ {row_id} ", line))
    assert "│ none " in line and "│ rejected " in line
    with db.session() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and row.authenticated_by == "none"
        reason = (row.outcome or {}).get("reason") or row.error
    assert reason and clean_text(reason, 40)[:30] in line

    shown = drumbeat(env, "inbox", "show", str(row_id))
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\r" not in shown.stdout
    assert "[bold]x[/bold]" in shown.stdout and "How:        none" in shown.stdout

    outbox = drumbeat(env, "outbox")
    assert outbox.returncode == 0, outbox.stderr
    assert "\x1b" not in outbox.stdout and "\r" not in outbox.stdout
    assert "\u202e" not in outbox.stdout


def test_old_raw_bytes_are_cleared_and_the_outcome_is_kept(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = operator_env(db, tmp_path)
    old_id = processed(db, env, "an old update", 2)
    recent_id = processed(db, env, "a recent update", 3)
    waiting_id = store(db, "still waiting", 4)  # received, not processed: keeps its bytes
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with db.session() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id.in_(
            (old_id, waiting_id))).values(received_at=long_ago))
    with db.session() as session:
        old_outcome = session.get(InboundMessage, old_id).outcome  # type: ignore[union-attr]

    purged = drumbeat(env, "inbox", "purge")
    assert purged.returncode == 0, purged.stderr
    assert "cleared the raw bytes of 1 processed message(s) older than 90 days" in purged.stdout
    with db.session() as session:
        rows = {i: session.get(InboundMessage, i) for i in (old_id, recent_id, waiting_id)}
        assert rows[old_id].raw is None and rows[old_id].outcome == old_outcome  # type: ignore[union-attr]
        assert rows[recent_id].raw and rows[waiting_id].raw  # type: ignore[union-attr]

    shown = drumbeat(env, "inbox", "show", str(old_id))
    assert shown.returncode == 0, shown.stderr
    assert "Raw bytes:  cleared" in shown.stdout and "Subject:    an old update" in shown.stdout
    kept = drumbeat(env, "inbox", "show", str(recent_id))
    assert re.search(r"Raw bytes:  [\d,]+ bytes kept", kept.stdout)
    again = drumbeat(env, "inbox", "retry", str(old_id))
    assert again.returncode == 1 and "raw bytes were cleared" in again.stderr


def test_the_scheduler_clears_them_by_itself(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DRUMBEAT_DATABASE_URL": db.url, "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_MAIL_DOMAIN": "northwind.example", "DRUMBEAT_RAW_RETENTION_DAYS": "30"}
    row_id = processed(db, env, "an update", 5)  # nobody is known: stored, never answered
    with db.session() as session:
        received = session.get(InboundMessage, row_id).received_at  # type: ignore[union-attr]

    soon = (received + timedelta(days=29)).isoformat()
    assert drumbeat(env, "scheduler", "--once", "--now", soon).returncode == 0
    with db.session() as session:
        assert session.get(InboundMessage, row_id).raw  # type: ignore[union-attr]

    later = (received + timedelta(days=31)).isoformat()
    tick = drumbeat(env, "scheduler", "--once", "--now", later)
    assert tick.returncode == 0, tick.stderr
    with db.session() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and row.raw is None and row.outcome


def test_zero_days_keeps_everything(db: Database) -> None:
    with db.session() as session, session.begin():
        row_id, _ = store_raw(session, b"From: a@b.example\r\nSubject: s\r\n\r\nhi\r\n",
                              via="smtp")
        session.execute(update(InboundMessage).values(
            status="applied", received_at=datetime(2000, 1, 1, tzinfo=UTC)))
    with db.session() as session, session.begin():
        assert clear_old_raw(session, datetime.now(UTC), 0) == 0
        assert clear_old_raw(session, datetime.now(UTC), 1) == 1
    with db.session() as session:
        assert session.get(InboundMessage, row_id).raw is None  # type: ignore[union-attr]


def test_clean_text_shows_what_a_terminal_would_act_on() -> None:
    assert clean_text("a\x1b[2Jb\rc\td\u2066e\x7f") == "a\\x1b[2Jb c d\\u2066e\\x7f"
    assert clean_text("Zoë 👩‍💻 Ødegaard") == "Zoë 👩‍💻 Ødegaard"
    assert clean_text("x" * 50, 10) == "x" * 9 + "…"
