"""Processing one stored message: a short pipeline of named stages (Mailman-style).

    load (claim the row) → parse → classify → identify the sender → extract the
    new text → parse the grammar → apply → answer

Meeting notes (mail to ``notes@``, or a forward to a pair's agenda address) take
the same first stages, then ``workers/notes.py``'s: which 1:1, which day, the
meeting, the action items.

Automatic mail (auto-replies, bounces, lists) stops at classify and is never
answered, so two robots can't loop. Everything a person sends gets an answer,
at most ``ANSWERS_PER_HOUR`` per sender. A message is applied once: the row is
claimed with its status, in the same transaction as the changes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.orm import Session

from mail.answer import AnswerView, render_answer
from mail.authentication import sender_problem
from mail.classify import Classification, Kind, classify
from mail.compose import make_message_id
from mail.grammar import parse_commands
from mail.message import ParsedMessage, parse_message
from mail.reply_text import extract_reply
from mail.tokens import read_token, token_from_address
from models.mailbox import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from models.people import Person
from models.queries import person_by_address
from workers import metrics, notes, outbox
from workers.apply import Applier, Pair, local_today
from workers.runtime import Runtime
from workers.sending import build_for

log = logging.getLogger("drumbeat.inbound")
ANSWER = "answer"
ANSWERS_PER_HOUR = 5
AUTOMATIC = (Kind.AUTO_REPLY, Kind.BOUNCE)


MAX_ATTEMPTS = 3


def record_failure(rt: Runtime, inbound_id: int, error: str) -> None:
    """After an unexpected error: try again later, or after MAX_ATTEMPTS park it as failed
    (visible in ``drumbeat inbox``, retried with ``drumbeat inbox retry ID``)."""
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None or row.status != InboundStatus.RECEIVED.value:
            return
        row.attempts += 1
        row.error = error[-4000:]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = InboundStatus.FAILED.value


def stale_received(session: Session, now: datetime, stale: timedelta) -> list[int]:
    """Messages stored but not processed for a while: their broker nudge was lost."""
    return list(session.scalars(select(InboundMessage.id).where(
        InboundMessage.status == InboundStatus.RECEIVED.value,
        InboundMessage.received_at < now - stale).order_by(InboundMessage.id).limit(10_000)))


def process(rt: Runtime, inbound_id: int, *, ready: dict[int, tuple[Message, str]] | None = None
            ) -> tuple[str, list[int]]:
    """Process one message; returns its status and the outbox ids of its answers.

    Given ``ready`` (a dict to fill), the answers are inserted already claimed and
    their MIME messages and addresses put in it by outbox id, for the caller to hand over right
    after the commit (:func:`workers.sending.hand_over`); else they wait as pending
    rows for ``send_email``.
    """
    now = rt.clock()
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None or row.status != InboundStatus.RECEIVED.value:
            return (row.status if row else "missing"), []
        result = _run(session, row, now, rt, ready)
        row.attempts += 1  # set last: one UPDATE of the row, at the commit
        outcome = row.outcome
    metrics.processed(result[0], outcome)  # counted once committed
    return result


def _run(session: Session, row: InboundMessage, now: datetime, rt: Runtime,
         ready: dict[int, tuple[Message, str]] | None) -> tuple[str, list[int]]:
    parsed = parse_message(row.raw)
    kind = classify(parsed, row.raw)
    if kind.kind in AUTOMATIC or _from_a_list(parsed):
        _record_automatic(session, row, kind, now)
        return row.status, []
    sender = person_by_address(session, parsed.from_addr or "")
    agenda = _agenda_named(session, parsed, row, rt)
    answering = _Answering(rt, now, ready)
    if sender is None:
        return _reject(session, row, parsed, answering,
                       "I don't know this address, so nothing was changed. Write from "
                       "the address your agendas are sent to.")
    inactive = _inactive(sender, now)
    if inactive is not None:
        return _reject(session, row, parsed, answering, inactive, person=sender)
    forged = _unvouched(row.raw, parsed, rt.settings.trusted_authserv_id)
    if forged is not None:
        return _reject(session, row, parsed, answering, forged, person=sender)
    if agenda is not None and not _in_pair(sender, agenda):
        return _reject(session, row, parsed, answering,
                       "This reply answers someone else's agenda, so nothing was "
                       "changed. Reply to your own agenda.", person=sender)
    if agenda is not None and not _names_a_pair(agenda):
        agenda = None  # a reply to one of our answers: the sender's own updates, no 1:1
    if notes.addressed_to_notes(row, parsed, rt.settings.mail_domain) or (
            kind.kind == Kind.FORWARD and agenda is not None):
        outcome_json, view = notes.apply_notes(session, row, parsed, sender, agenda, now,
                                               store_text=rt.settings.store_notes)
        answer_ids = _answer(session, row, parsed, sender.id, sender.email, view, answering)
        status = InboundStatus.APPLIED if outcome_json["logged"] else InboundStatus.REJECTED
    else:
        outcome_json, answer_ids = _apply(session, row, parsed, sender, agenda, answering)
        status = InboundStatus.APPLIED
    row.status, row.outcome, row.person_id = status.value, outcome_json, sender.id
    row.processed_at = now
    return row.status, answer_ids


@dataclass(frozen=True)
class _Answering:
    """How this run answers: its clock, and where answers sent at once are put."""

    rt: Runtime
    now: datetime
    ready: dict[int, tuple[Message, str]] | None


def _from_a_list(parsed: ParsedMessage) -> bool:
    return "list-id" in parsed.headers


def _record_automatic(session: Session, row: InboundMessage, kind: Classification,
                      now: datetime) -> None:
    """No answer, ever; a bounce marks what we sent to the failed addresses."""
    row.status, row.processed_at = InboundStatus.REJECTED.value, now
    row.outcome = {"kind": kind.kind.value, "reason": kind.reason,
                   "bounced": list(kind.bounced_addresses)}
    for address in kind.bounced_addresses:
        session.execute(
            update(OutboundMessage)
            .where(func.lower(OutboundMessage.to_address) == address.lower(),
                   OutboundMessage.status == OutboundStatus.SENT.value,
                   OutboundMessage.sent_at >= now - timedelta(days=7))
            .values(last_error=f"bounced: {kind.reason}")
            .execution_options(synchronize_session=False))


def _agenda_named(session: Session, parsed: ParsedMessage, row: InboundMessage,
                  rt: Runtime) -> OutboundMessage | None:
    """The agenda a checkin+TOKEN address names, if the token is genuine."""
    secret = rt.settings.secret_key.get_secret_value()
    for address in [*row.envelope_to, *parsed.to, *parsed.cc]:
        token = token_from_address(address)
        outbox_id = read_token(token, secret) if token else None
        if outbox_id is not None:
            return session.get(OutboundMessage, outbox_id)
    return None


def _inactive(sender: Person, now: datetime) -> str | None:
    """Why someone outside their active dates may not change anything (None: they may)."""
    today = local_today(sender, now)
    if sender.is_active_on(today):
        return None
    if sender.active_until is not None and today > sender.active_until:
        return (f"Your Drumbeat account ended on {sender.active_until:%a %d %b %Y}, so "
                "nothing was changed. If that is wrong, ask HR to correct your dates.")
    return (f"Your Drumbeat account starts on {sender.active_from:%a %d %b %Y}, so nothing "
            "was changed yet. Write again from that day, or ask HR to correct your dates.")


def _unvouched(raw: bytes, parsed: ParsedMessage, authserv_id: str | None) -> str | None:
    """With DRUMBEAT_TRUSTED_AUTHSERV_ID, why the receiving MTA's sender checks do not
    vouch for the From address (a forged From changes nothing); None when they do."""
    if not authserv_id:
        return None
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw).get_all(
        "Authentication-Results") or []
    problem = sender_problem([str(value) for value in headers], authserv_id,
                             parsed.from_addr or "")
    if problem is None:
        return None
    return (f"I could not confirm that this message came from you ({problem}), so nothing "
            "was changed. If you did send it, tell whoever runs Drumbeat for you.")


def _names_a_pair(outbound: OutboundMessage) -> bool:
    return bool((outbound.context or {}).get("manager_id"))


def _in_pair(sender: Person, agenda: OutboundMessage) -> bool:
    """The sender is one of the agenda's pair, or the person we answered."""
    if not _names_a_pair(agenda):
        return agenda.recipient_id == sender.id
    context = agenda.context or {}
    return sender.id in (context.get("manager_id"), context.get("employee_id"))


def _apply(session: Session, row: InboundMessage, parsed: ParsedMessage, sender: Person,
           agenda: OutboundMessage | None, answering: _Answering
           ) -> tuple[dict[str, Any], list[int]]:
    now = answering.now
    sent_lines = (agenda.body_text or "").splitlines() if agenda else []
    reply = extract_reply(parsed.text, parsed.html, sent_lines=sent_lines,
                          sender_name=parsed.from_name or sender.name)
    commands = parse_commands(reply.text, message_date=parsed.date or now,
                              timezone=sender.timezone, inline=reply.inline)
    pair = None
    if agenda is not None and agenda.context:
        pair = Pair(agenda.context["manager_id"], agenda.context["employee_id"],
                    date.fromisoformat(agenda.context["period_start"]))
    applier = Applier(session, sender, inbound_id=row.id, now=now, pair=pair)
    outcome = applier.apply(commands.commands)
    outcome.not_understood.extend((e.line, e.reason) for e in commands.errors)
    session.flush()
    note = None if commands.commands or commands.errors else (
        "I found no updates in your message. Write one per line, at the top of your reply.")
    view = AnswerView(sender.name, parsed.subject, tuple(outcome.done), tuple(outcome.refused),
                      tuple(outcome.not_understood), note)
    answer_ids = _answer(session, row, parsed, sender.id, sender.email, view, answering)
    result = {"kind": "reply", "done": outcome.done, "refused": outcome.refused,
              "not_understood": outcome.not_understood, "commands": commands.to_json(),
              "reply_text": reply.written}
    return result, answer_ids


def _reject(session: Session, row: InboundMessage, parsed: ParsedMessage,
            answering: _Answering, reason: str, person: Person | None = None
            ) -> tuple[str, list[int]]:
    row.status, row.processed_at = InboundStatus.REJECTED.value, answering.now
    row.outcome = {"kind": "rejected", "reason": reason}
    row.person_id = person.id if person else None
    ids: list[int] = []
    if parsed.from_addr:
        view = AnswerView(person.name if person else parsed.from_name or parsed.from_addr,
                          parsed.subject, (), (), (), reason)
        ids = _answer(session, row, parsed, person.id if person else None, parsed.from_addr,
                      view, answering)
    return row.status, ids


# Built once. The kind is written as a literal so PostgreSQL can always use the partial
# index for answers (migration 0003), in a prepared statement's generic plan too.
_RECENT_ANSWERS = select(func.count()).select_from(OutboundMessage).where(
    OutboundMessage.kind == literal_column(f"'{ANSWER}'"),
    OutboundMessage.to_address == bindparam("address"),
    OutboundMessage.created_at >= bindparam("since"))


def _answer(session: Session, row: InboundMessage, parsed: ParsedMessage,
            recipient_id: int | None, address: str, view: AnswerView, answering: _Answering
            ) -> list[int]:
    """One answer per message, and at most ANSWERS_PER_HOUR per address."""
    now, rt = answering.now, answering.rt
    recent = session.scalar(_RECENT_ANSWERS, {
        "address": address, "since": now - timedelta(hours=1)}) or 0
    if recent >= ANSWERS_PER_HOUR:
        log.warning("not answering %s: %d answers in the last hour", address, recent)
        return []
    rendered = render_answer(view)
    references = " ".join([*parsed.references, parsed.message_id][-10:])
    values = {
        "dedupe_key": f"{ANSWER}:{row.id}", "kind": ANSWER, "recipient_id": recipient_id,
        "to_address": address, "subject": rendered.subject, "body_text": rendered.text,
        "body_html": rendered.html, "message_id": make_message_id(rt.settings.mail_domain,
                                                                  ANSWER),
        "in_reply_to": parsed.message_id, "references_header": references,
        "context": {"inbound_id": row.id, "auto_submitted": "auto-replied",
                    "view": asdict(view)},
        "created_at": now,
    }
    if answering.ready is None:
        return outbox.add_rows(session, [values])
    values.update(status=OutboundStatus.CLAIMED.value, claimed_at=now, attempts=1)
    ids = outbox.add_rows(session, [values])
    for outbox_id in ids:  # built now, from the values in hand: no reload after the commit
        answering.ready[outbox_id] = (build_for(rt, OutboundMessage(id=outbox_id, **values)),
                                      address)
    return ids
