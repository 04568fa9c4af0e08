"""Processing one stored message: a short pipeline of named stages (Mailman-style).

    read (count the try) → parse → classify → establish the sender → extract the new
    text → parse the grammar  |  transaction: apply → answer

Everything before the bar reads the message only and runs outside any transaction, so
a slow or hostile message never holds a lock. Meeting notes (mail to ``notes@``, or a
forward to a pair's agenda address) are read the same way
(:func:`mail.read.notes_reading.understand_notes`), then applied: which 1:1, which day, the
meeting, the action items.

Automatic mail (auto-replies, bounces, lists) stops at classify and is never
answered, so two robots can't loop. A stranger is never answered (that would be
backscatter); a known person whose sender nothing vouches for (``mail.read.authentication``)
changes nothing and hears so once a day; everyone else gets an answer. A reply to one
of our own emails (its token, or its In-Reply-To, names an outbox row sent to the
sender) is a receipt the person waits for, so it is always answered, up to a ceiling
of ``THREAD_ANSWERS_PER_HOUR`` that only a robot reaches; anything else (a new thread,
a loop) at most ``ANSWERS_PER_HOUR`` per sender. A message is applied once: the row is
claimed with its status, in the same transaction as the changes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.orm import Session, defer

from config.review_scale import parse_scale
from mail.read.authentication import Established, SenderPolicy, Vouch, establish, strict_from
from mail.read.classify import Classification, Kind, classify
from mail.read.commands import Parsed
from mail.read.forward import find_forwards
from mail.read.grammar import parse_commands
from mail.read.message import ParsedMessage, parse_message
from mail.read.notes_reading import NotesReading, understand_notes
from mail.read.reply_text import extract_reply
from mail.read.requests import STATUS, Request, read_request
from mail.read.review_form import FormKind, ReviewAnswer, read_review_form
from mail.write.agenda import AgendaContext
from mail.write.answer import AnswerView, received_words, render_answer, short_subject
from mail.write.compose import make_message_id, threading_ids
from mail.write.language import N_
from mail.write.render import RenderedEmail
from mail.write.review_mail import ReviewFormContext
from mail.write.status import HelpView, StatusView, render_help, render_status
from mail.write.tokens import read_token, token_from_address
from models.mailbox import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from models.people import Person, PersonAlias
from models.queries import person_by_address
from workers import failures, metrics, notes, outbox, review_answers, status_page
from workers.apply import Applier, local_today, pair_from_agenda
from workers.outbox import AddedRow, OutboxRow
from workers.retention import clear_raw
from workers.runtime import Runtime, read_session, sender_policy_for

log = logging.getLogger("drumbeat.inbound")
ANSWER = "answer"
ANSWERS_PER_HOUR = 5  # answers to mail outside our threads, per sender
# Answers to replies in our own threads (agendas, answers): a manager answering eight
# agendas in one sitting hears back eight times; only a robot replying to every answer
# (and not saying it is one) gets this far.
THREAD_ANSWERS_PER_HOUR = 60
AUTOMATIC = (Kind.AUTO_REPLY, Kind.BOUNCE)


MAX_ATTEMPTS = failures.MAX_INBOUND_ATTEMPTS


def record_failure(rt: Runtime, inbound_id: int, error: str) -> None:
    """After an unexpected error (the try was counted when it began): try again later,
    or after MAX_ATTEMPTS park it as failed (visible in ``drumbeat inbox``, retried with
    ``drumbeat inbox retry ID``)."""
    failures.record_inbound_failure(rt, inbound_id, error, MAX_ATTEMPTS)


def stale_received(session: Session, now: datetime, stale: timedelta) -> list[int]:
    """Messages stored but not processed for a while: their broker nudge was lost."""
    return list(session.scalars(select(InboundMessage.id).where(
        InboundMessage.status == InboundStatus.RECEIVED.value,
        InboundMessage.received_at < now - stale).order_by(InboundMessage.id).limit(10_000)))


@dataclass(frozen=True)
class Processed:
    """What processing one message came to: its status and the answers it added (with
    the notices applying it sent other people: an ``away:`` line's)."""

    status: str
    answers: tuple[AddedRow, ...] = ()

    @property
    def answer_ids(self) -> list[int]:
        return [answer.outbox_id for answer in self.answers]

    @property
    def to_send(self) -> tuple[AddedRow, ...]:
        """The answers inserted claimed, for the caller to send once committed."""
        return tuple(answer for answer in self.answers if answer.row.claimed)

    @property
    def to_queue(self) -> list[int]:
        """Rows added unclaimed (a review's next form), for ``send_email``."""
        return [answer.outbox_id for answer in self.answers if not answer.row.claimed]


def process(rt: Runtime, inbound_id: int, *, send_now: bool = False) -> Processed:
    """Process one message: its status and the answers it added.

    Everything that reads the message (parsing, classifying, the sender's DKIM
    signature and its DNS lookups, the reply's text and grammar) runs before the
    transaction opens, so a slow or hostile message never holds SQLite's write lock
    or PostgreSQL's row locks; the transaction only applies what was understood.

    With ``send_now`` the answers are inserted already claimed and returned in
    ``to_send``, for the caller to hand over right after the commit
    (:func:`workers.sending.send_claimed`); else they wait as pending rows for
    ``send_email``.
    """
    now = rt.clock()
    facts = failures.begin_inbound_try(rt, inbound_id, MAX_ATTEMPTS)
    if isinstance(facts, str):
        return Processed(facts)
    understood = _understand(rt, facts, now)
    with rt.sessions() as session, session.begin():
        row = session.get(InboundMessage, inbound_id, with_for_update=True,
                          options=_WITHOUT_RAW)  # the bytes were read before
        if row is None or row.status != InboundStatus.RECEIVED.value:
            return Processed(row.status if row else "missing")
        answering = _Answering(rt, now, send_now, in_thread=understood.in_thread)
        result = _run(session, row, understood, answering)
        outcome = row.outcome
    metrics.processed(result.status, outcome)  # counted once committed
    return result


_WITHOUT_RAW = (defer(InboundMessage.raw),)


@dataclass(frozen=True)
class _Agenda:
    """The agenda (or answer) a verified reply token names, as plain data."""

    id: int
    recipient_id: int | None
    context: AgendaContext | None  # None: one of our answers (it names no pair)
    body_text: str
    review: ReviewFormContext | None = None  # a review form (it names no pair either)


@dataclass(frozen=True)
class _Understood:
    """Everything read from one message before the transaction: the hand-off to _run."""

    parsed: ParsedMessage
    kind: Classification
    established: Established
    sender_id: int | None  # the person the From address names (established or not)
    agenda: _Agenda | None
    commands: Parsed | None  # a reply's commands (None for notes and refusals)
    reply_written: str = ""
    notes_read: NotesReading | None = None  # meeting notes, read (not yet applied)
    in_thread: bool = False  # a reply to one of our emails to the sender (a receipt is due)
    request: Request | None = None  # the whole reply was "status" or "help"
    review: ReviewAnswer | None = None  # a reply to a review form: its answer, read
    # The sender's row as read before the transaction (detached): the transaction takes
    # it over rather than reading it again.
    person: Person | None = field(default=None, compare=False, repr=False)


def _understand(rt: Runtime, stored: failures.Stored, now: datetime) -> _Understood:
    """Parse, classify and establish the sender; for a reply, read its commands too."""
    parsed = parse_message(stored.raw)
    kind = classify(parsed, stored.raw)
    if kind.kind in AUTOMATIC or _from_a_list(parsed):
        return _Understood(parsed, kind, _NOBODY, None, None, None)
    from_address, _problem = strict_from(stored.raw, parsed.raw_headers)  # read once, above
    agenda_id = _token_agenda_id(parsed, stored, rt.settings.secret_key.get_secret_value())
    with read_session(rt) as session:
        sender = person_by_address(session, from_address) if from_address else None
        agenda = _agenda_facts(session, agenda_id)
        in_thread = sender is not None and _in_our_thread(session, sender.id, agenda,
                                                          parsed.in_reply_to)
        token_addresses = _addresses_of(session, agenda.recipient_id) if agenda else None
        sender_facts = (sender.id, sender.name, sender.timezone) if sender else None
        to_notes = notes.addressed_to_notes(stored.envelope_to, parsed, rt.settings.mail_domain) \
            or (kind.kind == Kind.FORWARD and agenda is not None)
        forwards = find_forwards(parsed) if sender and to_notes else ()
        sent = notes.sent_mail_forwarded(session, forwards, sender.id) if forwards else ()
    if sender_facts is None:  # a stranger: no DNS lookups spent on them, never answered
        return _Understood(parsed, kind, _stranger(from_address), None, None, None)
    established = establish(stored.raw, token_addresses=token_addresses,
                            peer_address=stored.peer_address, policy=_policy(rt),
                            fields=parsed.raw_headers)
    sender_id, sender_name, timezone = sender_facts
    if established.temporary and stored.attempts < MAX_ATTEMPTS:
        raise SenderCheckDelayed(established.problem or "a DKIM key lookup took too long")
    if established.how == Vouch.NONE:
        return _Understood(parsed, kind, established, sender_id, agenda, None, person=sender)
    understood = partial(_Understood, parsed, kind, established, sender_id, agenda,
                         in_thread=in_thread, person=sender)
    if to_notes:  # what Drumbeat wrote and the sender forwarded (``sent``) is left out
        reading = understand_notes(parsed, sender_name=sender_name, timezone=timezone,
                                         now=now,
                                         max_updates=rt.settings.max_updates_per_message,
                                         sent=sent, forwards=forwards,
                                         our_addresses=(rt.settings.sender_address,))
        return understood(None, notes_read=reading)
    sent_lines = agenda.body_text.splitlines() if agenda else []
    reply = extract_reply(parsed.text, parsed.html, sent_lines=sent_lines,
                          sender_name=parsed.from_name or sender_name)
    form = agenda.review if agenda else None
    review = read_review_form(reply.text, FormKind(form.form), parse_scale(form.scale)) \
        if form else None
    commands = parse_commands(review.rest if review else reply.text,
                              message_date=parsed.date or now, timezone=timezone,
                              inline=reply.inline,
                              max_updates=rt.settings.max_updates_per_message,
                              truncated=reply.truncated,
                              fiscal_year_start_month=rt.settings.fiscal_year_start_month)
    request = None if reply.inline or form else read_request(reply.text)
    return understood(commands, reply.written, request=request, review=review)


class SenderCheckDelayed(Exception):
    """DNS did not answer a DKIM key lookup in time: the message waits for a later try
    (the sweeper's), and only on its last try is it judged without the signature."""


def _stranger(from_address: str | None) -> Established:
    problem = (f"{from_address} is not a Drumbeat user" if from_address
               else "its From line names no single readable address")
    return Established(address=None, how=Vouch.NONE, problem=problem, from_address=from_address)


_NOBODY = Established(address=None, how=Vouch.NONE, problem="automatic mail",
                      from_address=None)


def _policy(rt: Runtime) -> SenderPolicy:
    """The sender policy of this process's settings (built once per runtime)."""
    policy = rt.cache.get(SenderPolicy)
    if policy is None:
        policy = rt.cache[SenderPolicy] = sender_policy_for(rt.settings)
    return policy


def _token_agenda_id(parsed: ParsedMessage, stored: failures.Stored, secret: str) -> int | None:
    """The outbox id a genuine checkin+TOKEN recipient names; a forged token names nothing."""
    for address in [*stored.envelope_to, *parsed.to, *parsed.cc]:
        token = token_from_address(address)
        outbox_id = read_token(token, secret) if token else None
        if outbox_id is not None:
            return outbox_id
    return None


def _agenda_facts(session: Session, outbox_id: int | None) -> _Agenda | None:
    if outbox_id is None:
        return None
    found = session.get(OutboundMessage, outbox_id)
    if found is None:
        return None
    return _Agenda(found.id, found.recipient_id, AgendaContext.from_json(found.context),
                   found.body_text or "", ReviewFormContext.from_json(found.context))


def _in_our_thread(session: Session, sender_id: int, agenda: _Agenda | None,
                   in_reply_to: str | None) -> bool:
    """Whether the message replies to an email we sent this person: the token named
    one of their agendas or answers, or In-Reply-To is the Message-ID of one (a reply
    that went to our From address, vouched for by DKIM or the MTA)."""
    if agenda is not None:
        return _in_pair_id(sender_id, agenda)
    if not in_reply_to:
        return False
    return session.scalar(select(OutboundMessage.recipient_id).where(
        OutboundMessage.message_id == in_reply_to)) == sender_id


def _addresses_of(session: Session, person_id: int | None) -> frozenset[str]:
    """Every address of the person an agenda was sent to: what its token vouches for."""
    if person_id is None:
        return frozenset()
    person = session.get(Person, person_id)
    if person is None:
        return frozenset()
    aliases = session.scalars(select(PersonAlias.email).where(
        PersonAlias.person_id == person_id))
    return frozenset(address.lower() for address in [person.email, *aliases])


def _run(session: Session, row: InboundMessage, understood: _Understood,
         answering: _Answering) -> Processed:
    parsed, kind, established = understood.parsed, understood.kind, understood.established
    now, rt = answering.now, answering.rt
    if kind.kind in AUTOMATIC or _from_a_list(parsed):
        _record_automatic(session, row, kind, now)
        return Processed(row.status)
    row.authenticated_by = established.how.value
    sender = _sender_in(session, understood)
    if sender is None:  # a stranger, or a From nobody can read: stored, never answered
        return _ignore(row, now, established.problem or "the sender is not a Drumbeat user")
    if established.how == Vouch.NONE:
        return _unvouched(session, row, parsed, sender, established, answering)
    inactive = _inactive(sender, now)
    if inactive is not None:
        return _reject(session, row, parsed, answering, inactive, person=sender)
    agenda, form = understood.agenda, None
    if agenda is not None and agenda.review is not None:
        # A review form names no 1:1. Someone other than its one reader (or HR, for a
        # dispute) gets the answer a reply naming nothing gets: no hint it is a review.
        if understood.notes_read is None and review_answers.may_answer(
                session, agenda.review, sender):
            form = agenda.review
        agenda = None
    if agenda is not None and not _in_pair(sender, agenda):
        return _reject(session, row, parsed, answering, SOMEONE_ELSES_AGENDA, person=sender)
    # a reply to one of our answers names no pair: the sender's own updates, no 1:1
    pair = agenda.context if agenda is not None else None
    if understood.notes_read is not None:  # notes: to notes@, or a forward to an agenda's address
        outcome_json, view = notes.apply_notes(
            session, row, parsed, sender, pair, now, store_text=rt.settings.store_notes,
            meeting_lines_days=rt.settings.meeting_lines_days,
            max_updates=rt.settings.max_updates_per_message, reading=understood.notes_read,
            fiscal_year_start_month=rt.settings.fiscal_year_start_month,
            mail_domain=rt.settings.mail_domain)
        answers = _answer(session, row, parsed, sender.id, sender.email, view, answering)
        status = InboundStatus.APPLIED if outcome_json["logged"] else InboundStatus.REJECTED
        if not rt.settings.store_notes:
            clear_raw(row)  # DRUMBEAT_STORE_NOTES=false: the notes leave no copy behind
    else:
        outcome_json, answers = _apply(session, row, understood, sender, pair, answering,
                                       form)
        status = InboundStatus.APPLIED
    row.status, row.outcome, row.person_id = status.value, outcome_json, sender.id
    row.processed_at = now
    return Processed(row.status, answers)


def _sender_in(session: Session, understood: _Understood) -> Person | None:
    """The sender in the transaction's session: the row read a moment ago taken over
    without a second SELECT (``merge(load=False)``), or read by id when none was kept."""
    if understood.person is not None:
        return session.merge(understood.person, load=False)
    return session.get(Person, understood.sender_id) if understood.sender_id else None


@dataclass(frozen=True)
class _Answering:
    """How this run answers: its clock, and whether its answers are sent at once."""

    rt: Runtime
    now: datetime
    send_now: bool = False
    in_thread: bool = False  # a reply to our own email: THREAD_ANSWERS_PER_HOUR applies

    @property
    def hourly_cap(self) -> int:
        return THREAD_ANSWERS_PER_HOUR if self.in_thread else ANSWERS_PER_HOUR


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


def _ignore(row: InboundMessage, now: datetime, reason: str) -> Processed:
    """Mail from an address Drumbeat cannot tie to a person: stored and listed in
    ``drumbeat inbox``, never answered (an answer would be backscatter: anyone could
    make us mail any address with a text of their choosing)."""
    row.status, row.processed_at = InboundStatus.REJECTED.value, now
    row.outcome = {"kind": "rejected", "reason": f"not answered: {reason}"}
    return Processed(row.status)


UNVOUCHED = "unvouched"


def _unvouched(session: Session, row: InboundMessage, parsed: ParsedMessage, sender: Person,
               established: Established, answering: _Answering) -> Processed:
    """A known address nobody vouches for changes nothing. Its owner gets one answer a
    day saying how to send updates that count; it repeats only a short, cleaned subject,
    never the message's text, since the real sender may be someone else."""
    row.status, row.processed_at = InboundStatus.REJECTED.value, answering.now
    reason = f"the sender could not be established: {established.problem}"
    row.outcome = {"kind": "rejected", "reason": reason}
    row.person_id = sender.id
    day = answering.now.date().isoformat()
    view = AnswerView(sender.name, short_subject(parsed.subject), (), (), (), UNVOUCHED_NOTE)
    return Processed(row.status, _answer(session, row, parsed, sender.id, sender.email, view,
                                         answering, dedupe_key=f"{UNVOUCHED}:{sender.id}:{day}"))


# Worded in the sender's language where the answer is written (the ``translated`` filter).
SOMEONE_ELSES_AGENDA = N_("This reply answers someone else's agenda, so nothing was "
                          "changed. Reply to your own agenda.")
UNVOUCHED_NOTE = N_(
    "Drumbeat received a message in your name, but could not confirm that it came from "
    "you, so nothing was changed. Updates count when you reply to the agenda Drumbeat sent you "
    "(its Reply-To address is yours alone), or when your company's mail server signs "
    "your mail (DKIM). If you did not send it, you need do nothing.")


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


def _in_pair(sender: Person, agenda: _Agenda) -> bool:
    """The sender is one of the agenda's pair, or the person we answered."""
    return _in_pair_id(sender.id, agenda)


def _in_pair_id(sender_id: int, agenda: _Agenda) -> bool:
    if agenda.context is None:
        return agenda.recipient_id == sender_id
    return agenda.context.names(sender_id)


def _apply(session: Session, row: InboundMessage, understood: _Understood, sender: Person,
           agenda: AgendaContext | None, answering: _Answering,
           form: ReviewFormContext | None = None
           ) -> tuple[dict[str, Any], tuple[AddedRow, ...]]:
    now, parsed, commands = answering.now, understood.parsed, understood.commands
    assert commands is not None
    pair = None
    if agenda is not None:
        pair = pair_from_agenda(agenda, now,
                                meeting_lines_days=answering.rt.settings.meeting_lines_days)
    applier = Applier(session, sender, inbound_id=row.id, now=now, pair=pair,
                      fiscal_year_start_month=answering.rt.settings.fiscal_year_start_month,
                      mail_domain=answering.rt.settings.mail_domain)
    outcome = applier.apply(commands.commands)
    outcome.not_understood.extend((e.line, e.reason) for e in commands.errors)
    session.flush()
    reviewed = None
    if form is not None and understood.review is not None:
        reviewed = review_answers.apply_answer(
            session, form, sender, understood.review, now=now, inbound_id=row.id,
            domain=answering.rt.settings.mail_domain)
        outcome.done[:0] = reviewed.done
        outcome.refused[:0] = reviewed.refused
        outcome.not_understood[:0] = reviewed.not_understood
    view: _View = AnswerView(sender.name, parsed.subject, tuple(outcome.done),
                             tuple(outcome.refused), tuple(outcome.not_understood))
    if not (commands.commands or commands.errors or reviewed):  # a question, or nothing read
        view = _asked(session, sender, parsed.subject, understood.request, answering)
    answers = _answer(session, row, parsed, sender.id, sender.email, view, answering)
    answers += _notices(session, applier.notices, answering)
    result = {"kind": "reply", "done": outcome.done, "refused": outcome.refused,
              "not_understood": outcome.not_understood, "commands": commands.to_json(),
              "reply_text": understood.reply_written}
    if understood.request is not None:
        result["request"] = understood.request.kind
    if reviewed is not None and form is not None:
        # Review texts stay with the pair and HR: the inbox keeps what was done, not the words.
        result["reply_text"] = ""
        result["review"] = {"review_id": form.review_id, "form": form.form}
        answers += tuple(reviewed.new_rows)  # the forms the answer made due: queued with it
    return result, answers


NOTHING_UNDERSTOOD = N_("I found no updates in your message, so nothing was changed. "
                      "These are the lines I read:")


def _asked(session: Session, sender: Person, subject: str, request: Request | None,
           answering: _Answering) -> _View:
    """The answer to a message with no command: the page ``status`` asks for, or the
    grammar, for ``help`` and for a message in which nothing was understood."""
    today = local_today(sender, answering.now)
    if request is None or request.kind != STATUS:
        note = None if request is not None else NOTHING_UNDERSTOOD
        return status_page.help_view(session, sender, subject, today, note)
    person = status_page.whose_page(session, sender, request)
    if person is None:
        return AnswerView(sender.name, subject, (), (), (),
                          status_page.nobody_named(request.about or "", sender.language))
    return status_page.status_view(
        session, sender, person, subject, today,
        fiscal_year_start_month=answering.rt.settings.fiscal_year_start_month)


def _reject(session: Session, row: InboundMessage, parsed: ParsedMessage,
            answering: _Answering, reason: str, person: Person) -> Processed:
    """An established sender whose message changes nothing: stored, and answered why."""
    row.status, row.processed_at = InboundStatus.REJECTED.value, answering.now
    row.outcome = {"kind": "rejected", "reason": reason}
    row.person_id = person.id
    view = AnswerView(person.name, parsed.subject, (), (), (), reason)
    return Processed(row.status, _answer(session, row, parsed, person.id, person.email, view,
                                         answering))


# Built once. The kind is written as a literal so PostgreSQL can always use the partial
# index for answers (migration 0003), in a prepared statement's generic plan too.
_RECENT_ANSWERS = select(func.count()).select_from(OutboundMessage).where(
    OutboundMessage.kind == literal_column(f"'{ANSWER}'"),
    OutboundMessage.to_address == bindparam("address"),
    OutboundMessage.created_at >= bindparam("since"))


def _notices(session: Session, rows: list[OutboxRow], answering: _Answering
             ) -> tuple[AddedRow, ...]:
    """What applying told other people (an ``away:`` line's notices): added like the
    answer, so the worker that applied the message sends them after the commit."""
    added = []
    for notice in rows:
        notice = replace(notice, claimed=answering.send_now)
        added += [AddedRow(outbox_id, notice) for outbox_id in outbox.add_rows(session, [notice])]
    return tuple(added)


_View = AnswerView | StatusView | HelpView


def _rendered(view: _View) -> tuple[RenderedEmail, dict[str, Any]]:
    """An answer's words, and what its row keeps of the view (JSON)."""
    if isinstance(view, StatusView):
        return render_status(view), {"status": view.person_name}
    if isinstance(view, HelpView):
        return render_help(view), {"help": view.note or "asked"}
    return render_answer(view), {"view": asdict(view)}


def _answer(session: Session, row: InboundMessage, parsed: ParsedMessage,
            recipient_id: int | None, address: str, view: _View, answering: _Answering,
            *, dedupe_key: str | None = None) -> tuple[AddedRow, ...]:
    """One answer per message, and at most ``answering.hourly_cap`` per address; only
    ever to a known person's own address (never to a From line we could not tie to them)."""
    now, rt = answering.now, answering.rt
    reader = session.get(Person, recipient_id) if recipient_id is not None else None
    if reader is not None:  # in their language
        view = replace(view, locale=reader.language)
    if (isinstance(view, AnswerView) and reader is not None
            and row.received_at is not None):  # on Drumbeat's clock, in their zone
        view = replace(view, received=received_words(row.received_at, reader.timezone,
                                                     reader.language))
    rendered, kept = _rendered(view)
    in_reply_to, references = threading_ids(  # a synthetic id is no message's: left out
        parsed.message_id if parsed.has_message_id else None, parsed.references)
    answer = OutboxRow(
        dedupe_key=dedupe_key or f"{ANSWER}:{row.id}", kind=ANSWER, recipient_id=recipient_id,
        to_address=address, subject=rendered.subject, body_text=rendered.text,
        body_html=rendered.html, message_id=make_message_id(rt.settings.mail_domain, ANSWER),
        in_reply_to=in_reply_to, references_header=references,
        context={"inbound_id": row.id, "auto_submitted": "auto-replied", **kept},
        created_at=now, claimed=answering.send_now)
    since = now - timedelta(hours=1)
    added = outbox.add_capped(session, answer, since=since, cap=answering.hourly_cap)
    if not added:  # answered before (a retry), or the hourly cap: say which
        recent = session.scalar(_RECENT_ANSWERS, {"address": address, "since": since}) or 0
        if recent >= answering.hourly_cap:
            log.warning("not answering %s: %d answers in the last hour", address, recent)
    return tuple(AddedRow(outbox_id, answer) for outbox_id in added)
