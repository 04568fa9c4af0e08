"""The bare apply pipeline of ``bench/intake.py``: what applying and answering a reply
costs with nothing but the project's pure functions, plain SQL and SMTP.

One process, one thread, one psycopg connection; no ORM, no broker, no bookkeeping. For
each reply the bare accept phase stored in ``bare_inbound``, in arrival order:

* one transaction: the row claimed and its bytes read (``UPDATE … RETURNING``), the
  message parsed (``mail.read.message.parse_message``), the sender found by address, the
  reply's new text (``mail.read.reply_text.extract_reply``) read into commands
  (``mail.read.grammar.parse_commands``); the tasks the lines name locked in one
  ``SELECT … FOR UPDATE``, each changed task UPDATEd and the history rows INSERTed (the
  columns ``workers/apply.py`` writes, ``source = 'bare'``), a ``met:`` line's meeting
  upserted (for a sender without reports, as the real one does without an agenda token);
  then COMMIT;
* the answer rendered (``mail.write.answer.render_answer``), built
  (``mail.write.compose.build_message``) and sent to the bench's sink over one reused
  SMTP connection (``mail.doors.transport.SmtpTransport``).

Left out, since they are what the real pipeline adds around the same work: the try counted
before the work, classification, establishing the sender (relay or DKIM), the agenda token
and thread lookups, the hourly answer cap, the permission walk up the reporting line (the
bench's replies name the sender's own tasks; any other task is refused), the outbox row of
the answer and its mark as sent, the outcome kept on the row, logs and metrics.

History rows name no inbound message (``bare_inbound`` is not ``inbound_message``); the
caller puts the tasks and meetings back as they were before the real pipeline runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

SOURCE = "bare"  # task_update.source of the bare pipeline's history rows


@dataclass
class BareFigures:
    """What the bare pipeline did, and what it cost its own process."""

    replies: int = 0
    seconds: float = 0.0  # first claim to the last answer handed to the sink
    cpu_seconds: float = 0.0  # this process only (PostgreSQL is measured by the caller)
    history_rows: int = 0
    answers: int = 0
    skipped: list[str] = field(default_factory=list)


def run(dsn: str, row_ids: list[int], sink_port: int, domain: str, secret: str) -> BareFigures:
    """Apply and answer every row of ``row_ids``, one after another."""
    import psycopg

    from mail.doors.transport import RelayConfig, SmtpTransport

    figures = BareFigures()
    transport = SmtpTransport(RelayConfig(host="127.0.0.1", port=sink_port, starttls=False))
    conn = psycopg.connect(dsn)
    cpu, start = time.process_time(), time.perf_counter()
    for row_id in row_ids:
        try:
            apply_one(conn, transport, row_id, domain, secret, figures)
        except psycopg.OperationalError as error:  # e.g. a test ended every idle backend
            figures.skipped.append(f"{row_id}: {error}; again on a new connection")
            conn.close()
            conn = psycopg.connect(dsn)
            apply_one(conn, transport, row_id, domain, secret, figures)
    figures.seconds = time.perf_counter() - start
    figures.cpu_seconds = time.process_time() - cpu
    conn.close()
    transport.close()
    return figures


_CLAIM = "UPDATE bare_inbound SET applied_at = %s WHERE id = %s AND applied_at IS NULL " \
         "RETURNING raw"
_SENDER = "SELECT id, name, timezone, manager_id, cadence FROM person WHERE email = %s"
_TASKS = ("SELECT id, owner_id, title, status, progress, due, completed_at, blocked_reason "
          "FROM task WHERE id = ANY(%s) ORDER BY id FOR UPDATE")
_UPDATE_TASK = ("UPDATE task SET status = %s, progress = %s, due = %s, completed_at = %s, "
                "blocked_reason = %s, updated_at = %s WHERE id = %s")
_HISTORY = ("INSERT INTO task_update (task_id, author_id, inbound_message_id, source, "
            "created_at, old_status, new_status, old_progress, new_progress, old_due, "
            "new_due, note) VALUES (%s, %s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
_ANY_REPORT = "SELECT 1 FROM person WHERE manager_id = %s LIMIT 1"
_MEETING = (
    "INSERT INTO meeting (manager_id, employee_id, period_start, period_end, status, held_on, "
    "duration_minutes, confirmed_by_manager, confirmed_by_employee, employee_says, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, 'held', %s, %s, false, true, 'held', "
    "%s, %s) ON CONFLICT (manager_id, employee_id, period_start) DO UPDATE SET "
    "employee_says = 'held', held_on = EXCLUDED.held_on, confirmed_by_employee = true, "
    "duration_minutes = coalesce(EXCLUDED.duration_minutes, meeting.duration_minutes), "
    "updated_at = EXCLUDED.updated_at")


def apply_one(conn: Any, transport: Any, row_id: int, domain: str, secret: str,
              figures: BareFigures) -> None:
    """One reply: claimed, parsed, applied and committed, then answered."""
    from mail.read.commands import MeetingReport, TaskUpdate
    from mail.read.grammar import parse_commands
    from mail.read.message import parse_message
    from mail.read.reply_text import extract_reply
    from mail.write.answer import AnswerView, received_words, render_answer
    from mail.write.compose import build_message, make_message_id, threading_ids
    from mail.write.tokens import reply_address

    now = datetime.now(UTC)
    found = conn.execute(_CLAIM, (now, row_id)).fetchone()
    if found is None:
        conn.rollback()
        figures.skipped.append(f"{row_id}: already applied")
        return
    parsed = parse_message(bytes(found[0]))
    address = (parsed.from_addr or "").lower()
    sender = conn.execute(_SENDER, (address,)).fetchone()
    if sender is None:
        conn.rollback()
        figures.skipped.append(f"{row_id}: {address} is nobody")
        return
    person_id, name, timezone, manager_id, cadence = sender
    reply = extract_reply(parsed.text, parsed.html, sender_name=parsed.from_name or name)
    commands = parse_commands(reply.text, message_date=parsed.date or now, timezone=timezone,
                              inline=reply.inline, truncated=reply.truncated)
    ids = sorted({int(c.task[2:]) for c in commands.commands if isinstance(c, TaskUpdate)})
    tasks = {row[0]: row for row in conn.execute(_TASKS, (ids,))} if ids else {}
    done: list[str] = []
    refused: list[tuple[str, str]] = []
    history = []
    for command in commands.commands:
        if isinstance(command, TaskUpdate):
            row = tasks.get(int(command.task[2:]))
            if row is None or row[1] != person_id or command.status == "handed_back" \
                    or command.status == "dropped":
                refused.append((command.line, f"{command.task} is not one of your tasks"))
                continue
            history.append(_task_update(conn, row, command, person_id, now, done))
        elif isinstance(command, MeetingReport) and command.held:
            words = _meeting(conn, person_id, manager_id, cadence, timezone, command, now)
            if words is None:
                refused.append((command.line, "which 1:1? Reply to that check-in's agenda"))
            else:
                done.append(words)
        else:
            refused.append((command.line, "not in the bare pipeline"))
    if history:
        with conn.cursor() as cursor:
            cursor.executemany(_HISTORY, history)
    conn.commit()
    figures.history_rows += len(history)
    figures.replies += 1
    view = AnswerView(name, parsed.subject, tuple(done), tuple(refused),
                      tuple((e.line, e.reason) for e in commands.errors),
                      received=received_words(now, timezone))
    rendered = render_answer(view)
    in_reply_to, references = threading_ids(parsed.message_id, parsed.references)
    sender_address = f"drumbeat@{domain}"
    message = build_message(
        rendered=rendered, from_addr=f"Drumbeat <{sender_address}>", to_addr=address,
        reply_to=reply_address(row_id, secret, domain),
        message_id=make_message_id(domain, "answer"), in_reply_to=in_reply_to,
        references=references.split(), date=now, auto_submitted="auto-replied")
    transport.send(message, sender_address, [address])
    figures.answers += 1


def _task_update(conn: Any, row: tuple[Any, ...], command: Any, person_id: int,
                 now: datetime, done: list[str]) -> tuple[Any, ...]:
    """The task's new state by ``workers.apply``'s rules, UPDATEd; its history row."""
    from workers.apply import Applier, _describe

    task_id, _owner, title, status, progress, due, completed_at, blocked = row
    old = (status, progress, due)
    task = SimpleNamespace(id=task_id, ref=f"T-{task_id}", title=title, status=status,
                           progress=progress, due=due)
    new_status, new_progress = Applier._new_status_and_progress(task, command)
    task.status, task.progress = new_status, new_progress
    if command.due is not None:
        task.due = command.due
    if new_status != "done":
        completed_at = None
    elif status != "done":
        completed_at = now
    if new_status == "blocked":
        blocked = command.note or blocked
    elif status == "blocked":
        blocked = None
    conn.execute(_UPDATE_TASK, (new_status, new_progress, task.due, completed_at, blocked, now,
                                task_id))
    done.append(_describe(task, old, command.note))  # type: ignore[arg-type]
    return (task_id, person_id, SOURCE, now, status, new_status, progress, new_progress, due,
            task.due, command.note)


def _meeting(conn: Any, person_id: int, manager_id: int | None, cadence: str, timezone: str,
             command: Any, now: datetime) -> str | None:
    """``met: yes`` from someone with a manager and no reports: their 1:1 of this period,
    upserted; None (refused) for anyone else, as without an agenda token."""
    from zoneinfo import ZoneInfo

    from models.scoring import Cadence, period_containing

    if manager_id is None or conn.execute(_ANY_REPORT, (person_id,)).fetchone():
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    day = command.on or today
    period = period_containing(day, Cadence(cadence))
    conn.execute(_MEETING, (manager_id, person_id, period.start, period.end, day,
                            command.minutes, now, now))
    return f"1:1, {period.start}: held on {day}"


def snapshot(conn: Any) -> int:
    """Keep the tasks' state before the bare pipeline changes it (``conn``: SQLAlchemy's,
    in a transaction); the last meeting id."""
    from sqlalchemy import text

    conn.execute(text("CREATE TABLE bare_task_before AS SELECT id, status, progress, due, "
                 "completed_at, blocked_reason, updated_at FROM task"))
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM meeting")).scalar_one())


def restore(conn: Any, last_meeting: int) -> int:
    """Put the tasks back as they were, drop the meetings the bare pipeline made; returns
    how many tasks it had changed."""
    from sqlalchemy import text

    changed = conn.execute(text(
        "UPDATE task t SET status = b.status, progress = b.progress, due = b.due, "
        "completed_at = b.completed_at, blocked_reason = b.blocked_reason, "
        "updated_at = b.updated_at FROM bare_task_before b WHERE t.id = b.id "
        "AND t.id IN (SELECT task_id FROM task_update WHERE source = 'bare')")).rowcount
    conn.execute(text("DELETE FROM meeting WHERE id > :last"), {"last": last_meeting})
    conn.execute(text("DROP TABLE bare_task_before"))
    return int(changed)
