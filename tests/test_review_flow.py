"""The review cycle by email, the whole way, on SQLite and PostgreSQL.

The golden quarter's company (``tests/test_digest_golden.py``: Mia manages Ann, Ben and
Cai; Hana is HR) with quarterly reviews on a labelled 1-5 scale. Replies are written
as Gmail (top-posted, the form quoted with ``>`` under "On … wrote:"), Outlook (the form
unquoted under a From:/Sent: block) and Apple Mail write them:

- Ann answers her self-review (Gmail, with a task update and a signature); Mia reviews
  her (Apple Mail); Ann disputes (Outlook); Hana resolves it (Gmail);
- Ben answers his self-review (Outlook); Mia never reviews him: she is reminded every
  three days, then the step is missed;
- Cai never writes a self-review: missed, and Mia reviews him without one (Gmail);
  he agrees (Apple Mail).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from config.settings import Settings
from mail.write.tokens import reply_address
from models import Evaluation, InboundMessage, OutboundMessage, Person, Task
from models.reviews import Review, ReviewCycle
from tests.conftest import TEST_SECRET_KEY, Database
from tests.test_cli_mail import drumbeat
from tests.test_digest_golden import seed
from workers.actors import dispatch
from workers.inbound import process
from workers.intake import store_raw
from workers.review_digest import load_cycle
from workers.reviews import review_for
from workers.runtime import Runtime, configure, transport_for
from workers.sending import deliver

DOMAIN = "acme.example"
SCALE = "1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding"
OPENS = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
RELAY = "10.1.2.3"  # a trusted relay: vouches for any From (for the wrong-person reply)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> Runtime:
    settings = Settings(database_url=db.url, mail_domain=DOMAIN,
                        secret_key=SecretStr(TEST_SECRET_KEY), maildir=tmp_path / "maildir",
                        review_periods="quarter", review_scale=SCALE, review_remind_days=3,
                        review_step_days=7, trusted_relays="10.0.0.0/8")
    return configure(settings, engine=db.engine, transport=transport_for(settings),
                     clock=Clock(OPENS))


def at(rt: Runtime, moment: datetime) -> None:
    rt.clock.now = moment  # type: ignore[attr-defined]


def tick(rt: Runtime, moment: datetime) -> list[int]:
    """One scheduler beat at ``moment``, and everything it queued sent."""
    at(rt, moment)
    ids = dispatch(rt, moment)
    for outbox_id in ids:
        assert deliver(rt, outbox_id) == "sent"
    return ids


def form(rt: Runtime, form: str, to: str, reminder: int = 0) -> OutboundMessage:
    with rt.sessions() as session:
        rows = [r for r in session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "review", OutboundMessage.to_address == to))
            if r.context["form"] == form and r.context["reminder"] == reminder]
        assert len(rows) == 1, [r.dedupe_key for r in rows]
        return rows[0]


def mail(row: OutboundMessage, sender: str, body: str, moment: datetime, number: int
         ) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = reply_address(row.id, TEST_SECRET_KEY, DOMAIN)
    message["Subject"] = f"Re: {row.subject}"
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = f"<review-reply-{number}@mail.example>"
    message["In-Reply-To"] = row.message_id or ""
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def gmail(row: OutboundMessage, answer: str) -> str:
    quoted = "\n".join(f"> {line}" if line else ">" for line in (row.body_text or "").split("\n"))
    return (f"{answer}\n\nOn Mon, Jan 4, 2027 at 10:00 AM Drumbeat <drumbeat@{DOMAIN}> "
            f"wrote:\n\n{quoted}\n")


def outlook(row: OutboundMessage, answer: str) -> str:
    return (f"{answer}\n\n________________________________\nFrom: Drumbeat <drumbeat@{DOMAIN}>\n"
            f"Sent: Tuesday, January 5, 2027 9:12 AM\nTo: {row.to_address}\n"
            f"Subject: {row.subject}\n\n{row.body_text}")


def apple(row: OutboundMessage, answer: str) -> str:
    quoted = "\n".join(f"> {line}" if line else ">" for line in (row.body_text or "").split("\n"))
    return (f"{answer}\n\n> On 8 Jan 2027, at 10:00, Drumbeat <drumbeat@{DOMAIN}> wrote:\n"
            f">\n{quoted}\n")


class Replies:
    def __init__(self, rt: Runtime) -> None:
        self.rt, self.count = rt, 0

    def send(self, row: OutboundMessage, sender: str, body: str, moment: datetime,
             peer: str | None = None) -> OutboundMessage:
        """Store, process and deliver one reply; returns its answer."""
        self.count += 1
        at(self.rt, moment)
        with self.rt.sessions() as session, session.begin():
            inbound_id, _new = store_raw(session, mail(row, sender, body, moment, self.count),
                                         via="smtp", peer_address=peer,
                                         received_at=moment)
        processed = process(self.rt, inbound_id)
        assert processed.status == "applied", processed.status
        for outbox_id in processed.answer_ids:
            assert deliver(self.rt, outbox_id) == "sent"
        with self.rt.sessions() as session:
            answer = session.scalar(select(OutboundMessage).where(
                OutboundMessage.kind == "answer",
                OutboundMessage.context["inbound_id"].as_integer() == inbound_id))
            assert answer is not None
            return answer


def review_of(rt: Runtime, email: str) -> Review:
    with rt.sessions() as session:
        person = session.scalar(select(Person).where(Person.email == email))
        found = session.scalar(select(Review).where(Review.employee_id == person.id))
        assert found is not None
        session.expunge(found)
        return found


def day(d: int, hour: int = 9) -> datetime:
    return datetime(2027, 1, d, hour, 0, tzinfo=UTC)


def test_the_whole_cycle_by_email(rt: Runtime, db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    replies = Replies(rt)
    tick(rt, OPENS)
    with rt.sessions() as session:
        cycle = session.scalar(select(ReviewCycle))
        assert cycle is not None and cycle.period_label == "2026-Q4"
        assert (cycle.deadline, cycle.scale) == (date(2027, 1, 21), SCALE)
        t3 = session.scalar(select(Task).where(Task.title == "T3"))
        t2 = session.scalar(select(Task).where(Task.title == "T2"))
        assert t3 is not None and t2 is not None
    # Only people with a manager are reviewed; each gets their own figures and the form.
    ann_self = form(rt, "self", "ann@acme.example")
    assert "Goal progress: 21.7% → 45.9%" in (ann_self.body_text or "")
    assert "4 Exceeds" in (ann_self.body_text or "") and "Thu 07 Jan 2027" in ann_self.body_text
    assert "Cai" not in (ann_self.body_text or "")
    with rt.sessions() as session:
        assert {r.to_address for r in session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "review"))} == {
            "ann@acme.example", "ben@acme.example", "cai@acme.example"}

    # Ann, Gmail: sections over several lines, a task update, a signature, the form quoted.
    answer = replies.send(ann_self, "ann@acme.example", gmail(ann_self, (
        "wins: closed the pricing project\n"
        "and kept every weekly 1:1\n"
        "misses: T2 slipped by five days\n"
        "next: take over the sales deck\n"
        "rating: 4\n"
        f"T-{t3.id} 80%\n\n"
        "Best,\nAnn Lee\nSales, Acme")), day(4, 11))
    ann = review_of(rt, "ann@acme.example")
    assert ann.self_state == "done" and ann.self_rating == 4
    assert ann.self_wins == "closed the pricing project\nand kept every weekly 1:1"
    assert ann.self_misses == "T2 slipped by five days"
    assert ann.self_next == "take over the sales deck"
    assert "self-review is recorded (wins, misses, next, rating 4 (Exceeds))" in \
        answer.body_text
    assert f"T-{t3.id}" in answer.body_text
    with rt.sessions() as session:
        assert session.get(Task, t3.id).progress == 80
        stored = session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()))
        assert "pricing" not in str(stored.outcome)  # review texts stay out of the inbox
    mia_on_ann = form(rt, "manager", "mia@acme.example")
    assert "closed the pricing project" in mia_on_ann.body_text
    assert "Best," not in mia_on_ann.body_text and "Sales, Acme" not in mia_on_ann.body_text

    # Ben, Outlook: the form comes back unquoted under a From:/Sent: block.
    ben_self = form(rt, "self", "ben@acme.example")
    answer = replies.send(ben_self, "ben@acme.example", outlook(ben_self, (
        "wins: opened the northern accounts\n"
        "next: unblock T5 with legal\n"
        "rating: Meets")), day(5))
    ben = review_of(rt, "ben@acme.example")
    assert (ben.self_wins, ben.self_misses, ben.self_next, ben.self_rating) == (
        "opened the northern accounts", None, "unblock T5 with legal", 3)

    # Reminders every three days to whoever holds a review up; Cai's self-review is missed.
    for d in range(5, 9):
        tick(rt, day(d))
    assert form(rt, "self", "cai@acme.example", reminder=1).subject.startswith("Reminder:")
    assert review_of(rt, "cai@acme.example").self_state == "missed"
    mia_on_cai = next(r for r in _rows(rt, "mia@acme.example", "manager")
                  if r.context["reminder"] == 0 and r.context["review_id"] ==
                  review_of(rt, "cai@acme.example").id)
    assert "Self-review: none" in mia_on_cai.body_text
    cai_self = form(rt, "self", "cai@acme.example")
    late = replies.send(cai_self, "cai@acme.example", gmail(cai_self, "wins: hiring"), day(8, 10))
    assert "was due by Thu 07 Jan 2027 and is recorded as missed" in late.body_text

    # Mia reviews Ann (Apple Mail) and Cai (Gmail); a rating off the scale is answered.
    answer = replies.send(mia_on_ann, "mia@acme.example", apple(mia_on_ann, (
        "rating: 4\ncomment: a strong quarter;\npricing shipped early.\n"
        f"T-{t2.id} done on 2026-11-28")), day(8, 12))
    assert "review of Ann Lee is recorded (rating 4 (Exceeds), comment)" in answer.body_text
    with rt.sessions() as session:  # the correction went through the reply grammar
        assert session.get(Task, t2.id).completed_at.date() == date(2026, 11, 28), \
            answer.body_text
    answer = replies.send(mia_on_cai, "mia@acme.example", gmail(mia_on_cai, (
        "rating: 7\ncomment: steady")), day(9))
    assert "from 1 to 5" in answer.body_text and review_of(
        rt, "cai@acme.example").manager_state == "waiting"
    replies.send(mia_on_cai, "mia@acme.example", gmail(mia_on_cai, (
        "rating: 3\ncomment: steady, hiring on track")), day(9, 10))

    # Ann disputes (Outlook): HR hears at once. Ben tries to answer Ann's form: nothing.
    ann_ack = form(rt, "ack", "ann@acme.example")
    assert "a strong quarter" in ann_ack.body_text
    intruder = replies.send(ann_ack, "ben@acme.example", "agree\n", day(9, 11), peer=RELAY)
    assert "found no updates" in intruder.body_text and "review" not in intruder.body_text
    assert review_of(rt, "ann@acme.example").ack_state == "waiting"
    answer = replies.send(ann_ack, "ann@acme.example", outlook(ann_ack, (
        "dispute: the on-time rate counts T2,\nwhich waited on the vendor")), day(9, 12))
    assert "sent to HR (1 person)" in answer.body_text
    dispute = form(rt, "dispute", "hana@acme.example")
    assert "which waited on the vendor" in dispute.body_text

    # Cai agrees (Apple Mail); Hana resolves Ann's dispute (Gmail).
    cai_ack = form(rt, "ack", "cai@acme.example")
    replies.send(cai_ack, "cai@acme.example", apple(cai_ack, "I agree"), day(10))
    answer = replies.send(dispute, "hana@acme.example", gmail(dispute, (
        "resolved: met both; the vendor delay is noted, rating stands")), day(12))
    assert "resolved" in answer.body_text
    ann = review_of(rt, "ann@acme.example")
    assert (ann.ack_state, ann.resolved_by_id) == ("resolved", ids["hana"])

    # Mia never reviews Ben: reminded on the 3rd, 6th and 9th day, then missed.
    for d in range(10, 23):
        tick(rt, day(d))
    assert [r.context["reminder"] for r in _rows(rt, "mia@acme.example", "manager")
            if r.context["review_id"] == ben.id] == [0, 1, 2, 3]
    assert review_of(rt, "ben@acme.example").manager_state == "missed"
    mia_on_ben = next(r for r in _rows(rt, "mia@acme.example", "manager")
                      if r.context["review_id"] == ben.id and r.context["reminder"] == 0)
    late = replies.send(mia_on_ben, "mia@acme.example", apple(mia_on_ben, "rating: 3"),
                        day(22, 10))
    assert "was due by Thu 14 Jan 2027 and is recorded as missed" in late.body_text
    with rt.sessions() as session:
        assert session.scalar(select(ReviewCycle)).closed_at is not None

    # Privacy: nobody's mail carries another employee's review.
    texts = {"ann@acme.example": "closed the pricing project",
             "ben@acme.example": "opened the northern accounts"}
    with rt.sessions() as session:
        for row in session.scalars(select(OutboundMessage)):
            for owner, words in texts.items():
                if words in (row.body_text or ""):
                    assert row.to_address in (owner, "mia@acme.example", "hana@acme.example"), \
                        (row.to_address, words)

    # The review beside the figures: the snapshot as sent, the review found by its side.
    with rt.sessions() as session:
        cycle = load_cycle(session, "2026-Q4")
        assert cycle is not None
        assert {r.employee_name: (r.self_rating, r.manager_rating, r.ack_state)
                for r in cycle.reviews} == {
            "Ann Lee": (4, 4, "resolved"), "Ben Roy": (3, None, "pending"),
            "Cai Wu": (None, 3, "agreed")}
        snapshot = session.scalar(select(Evaluation).where(Evaluation.person_id == ann.employee_id))
        assert snapshot.sent_at is not None and "review" not in snapshot.figures
        assert review_for(session, snapshot).manager_comment == \
            "a strong quarter;\npricing shipped early."

    # The operator's view.
    result = drumbeat({"DRUMBEAT_DATABASE_URL": db.url, "COLUMNS": "120"}, "review", "status",
                      "--period", "2026-Q4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2026-Q4 review cycle, opened Mon 04 Jan 2027 (closed)"
    ann_line = next(line for line in lines if line.startswith("Ann Lee"))
    assert ann_line.split()[4:7] == ["done", "done", "resolved"]
    assert next(line for line in lines if line.startswith("Ben Roy")).split()[4:7] == [
        "done", "missed", "pending"]
    assert lines[-1].startswith("3 reviews · self-review: 2 done, 1 missed")
    assert "waiting on: nobody" in lines[-1]


def _rows(rt: Runtime, to: str, form: str) -> list[OutboundMessage]:
    with rt.sessions() as session:
        return [r for r in session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "review", OutboundMessage.to_address == to)
            .order_by(OutboundMessage.id)) if r.context["form"] == form]


def test_a_german_employee_is_answered_in_german(rt: Runtime, db: Database) -> None:
    """The answer to a review form is in its sender's language, like every answer."""
    seed(db)
    with db.session() as session, session.begin():
        ann = session.scalar(select(Person).where(Person.email == "ann@acme.example"))
        assert ann is not None
        ann.language = "de"
    tick(rt, OPENS)
    ann_self = form(rt, "self", "ann@acme.example")
    replies = Replies(rt)
    answer = replies.send(ann_self, "ann@acme.example", gmail(ann_self, (
        "wins: closed the pricing project\nrating: 4\n")), day(4, 11))
    text = " ".join((answer.body_text or "").split())
    assert "Deine Selbsteinschätzung 2026-Q4 ist erfasst (wins, Bewertung 4" in text
    assert "bekommt sie mit deinen Zahlen." in text and "is recorded" not in text
    again = replies.send(ann_self, "ann@acme.example", gmail(ann_self, "wins: more\n"),
                             day(5, 11))
    assert "Deine Selbsteinschätzung wurde am" in " ".join((again.body_text or "").split())
