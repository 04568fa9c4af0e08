"""Demo: a whole quarter of Drumbeat in about a minute, through the real pipeline.

Run by ``make demo`` after the example company is imported into ``var/demo``. It
starts ``drumbeat serve`` (intake, workers, scheduler in one process) on a
simulated clock that runs through Q4 2026 about 120,000 times faster than real
time, then acts as the company's people: it reads each agenda arriving in the
Maildir and, after the 1:1, answers it the way real mail clients write replies
(Gmail top-posted, Outlook with its From/Sent block, Apple Mail, inline answers
under quoted task lines), or, as a manager, forwards their 1:1 notes to
``notes@`` with action items; replies carry ``topic:`` and ``away:`` lines, and one
employee and his manager ask for a page with a reply saying just ``status`` (and
``status @lukas.novak``). Everything goes over SMTP to the running intake.
When the quarter has closed, the scheduler sends the evaluation digests and, with
``DRUMBEAT_REVIEW_PERIODS=quarter`` (the Makefile sets it), opens the review cycle:
people answer their self-review forms, managers review their reports (one of them
never does: reminded, then missed), employees acknowledge, one disputes and HR
resolves it. Felix Wagner reads Drumbeat in German and Yuki Tanaka in Japanese (the
people file's ``language`` column): their agendas, reminders, answers, review forms
and own digests come in their language, and they answer with the same reply grammar (Felix writes
``erledigt`` for done). Then the script stops the server and tells the story of what
happened and where to look.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path

from babel.dates import get_month_names

from mail.write.language import translations

DEMO = Path(os.environ.get("DRUMBEAT_DEMO_DIR", "var/demo"))
MAILDIR = DEMO / "maildir" / "new"
DRUMBEAT = str(Path(sys.executable).with_name("drumbeat"))
DOMAIN = "northwind.example"
START = datetime(2026, 9, 28, 0, 0, tzinfo=UTC)  # the Monday before Q4 2026
END = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)  # the digests go out on Jan 3
# With reviews on, a second act plays the cycle that opened with the digests, on a
# slower clock (forms with charts take a moment to draw): until its deadline, Jan 21.
REVIEWS = os.environ.get("DRUMBEAT_REVIEW_PERIODS", "none") != "none"
REVIEW_END = datetime(2027, 1, 22, 12, 0, tzinfo=UTC)
REVIEW_SECONDS = 90.0
REAL_SECONDS = 60.0
SPEED = (END - START).total_seconds() / REAL_SECONDS
# When the 1:1 is, as its reader's agenda says it: "is on Thu 3 Dec at 10:00",
# "ist am Do., 3. Dez. um 10:00", "12月3日(木) 10:00".
CHECKIN = {
    "en": re.compile(r"is on \w{3} (?P<day>\d{1,2}) (?P<month>\w{3}) at "
                     r"(?P<hh>\d{2}):(?P<mm>\d{2})"),
    "de": re.compile(r"ist am \w+\., (?P<day>\d{1,2})\. (?P<month>\w+)\.? um "
                     r"(?P<hh>\d{2}):(?P<mm>\d{2})"),
    "ja": re.compile(r"(?P<month>\d{1,2})月(?P<day>\d{1,2})日\(.\) (?P<hh>\d{1,2}):(?P<mm>\d{2})"),
}
MONTHS = {language: {name.rstrip("."): number for number, name in
                     get_month_names("abbreviated", locale=language).items()}
          for language in ("en", "de")}
PEOPLE = Path(__file__).with_name("northwind") / "people.csv"
RELAY_NETWORK = "127.0.0.1/32"
TOPICS = ("the hiring plan", "next quarter's goals", "the on-call rota", "training budget")
TASK_LINE = re.compile(r"^\[(T-\d+)\] (.*?) — (\d+)\s?%")  # "30%", "30 %"
# Who asks for a page by email, and when: the employee his own before a November 1:1,
# his manager the employee's before a December one (agendas name the pair in the subject).
ASKER, ASKER_MANAGER = "lukas.novak@", "kenji.watanabe@"
ASKED_ABOUT = "Lukáš Novák"
PAGE_HEADING = re.compile(r"^(.+) page on (.+)\.$")
# The plan by email: the measurable goal's owner, and who hands a project over to whom.
ARR_OWNER, LEAVER, SUCCESSOR = "marcus.bell@", "hannah.schmidt@", "rafael.oliveira"
HANDOVER_FROM = datetime(2026, 11, 30, tzinfo=UTC)


def languages() -> dict[str, str]:
    """Who reads Drumbeat in which language, as the people file says (English: not listed)."""
    with PEOPLE.open(encoding="utf-8") as people:
        return {row["email"].lower(): row["language"] for row in csv.DictReader(people)
                if row.get("language")}


LANGUAGE = languages()


def language_of(message: EmailMessage) -> str:
    return LANGUAGE.get(str(message["To"]).lower(), "en")


def said(language: str, words: str, **values: str) -> str:
    """What Drumbeat writes for ``words`` in ``language`` (its own catalog)."""
    return translations(language).gettext(words) % values


def kind_of(message: EmailMessage) -> str:
    """What Drumbeat sent, whatever the language: its Message-ID names the kind
    (``<…agenda@northwind.example>``)."""
    return str(message["Message-ID"]).rsplit("@", 1)[0].rsplit(".", 1)[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def roll(text: str, sides: int) -> int:
    """A fixed 'random' number for this message, so every run tells the same story."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % sides


class Clock:
    """The server's simulated time, computed the same way (start + elapsed × speed)."""

    def __init__(self, start: datetime = START, speed: float = SPEED) -> None:
        self.began, self.start, self.speed = time.monotonic(), start, speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.began) * self.speed)


@dataclass
class Play:
    """What the people have seen and mean to send, kept across the demo's acts."""

    counts: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)
    due: list[tuple[datetime, EmailMessage, str]] = field(default_factory=list)
    asked: dict[str, str] = field(default_factory=dict)  # status request's Message-ID: who
    pages: list[str] = field(default_factory=list)  # what each status answer showed


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""  # type: ignore[union-attr]


def checkin_time(agenda: EmailMessage) -> datetime | None:
    """When the agenda's 1:1 is (read from its first line, as a person would)."""
    language = language_of(agenda)
    match = CHECKIN.get(language, CHECKIN["en"]).search(text_of(agenda))
    if not match:
        return None
    sent = parsedate_to_datetime(str(agenda["Date"]))
    month_text = match.group("month")
    month = int(month_text) if month_text.isdigit() else MONTHS[language][month_text]
    day, hour, minute = int(match.group("day")), int(match.group("hh")), int(match.group("mm"))
    year = sent.year + (1 if month < sent.month else 0)
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def open_tasks(agenda: EmailMessage) -> list[tuple[str, str, int]]:
    found = []
    for line in text_of(agenda).splitlines():
        match = TASK_LINE.match(line)
        if match and "— done" not in line:
            found.append((match.group(1), match.group(2), int(match.group(3))))
    return found


def employee_reply(agenda: EmailMessage, when: datetime) -> EmailMessage | None:
    """An employee's answer after the 1:1, in one of four mail clients' shapes."""
    key = str(agenda["Message-ID"])
    if roll(key, 10) >= 8 and ARR_OWNER not in str(agenda["To"]):  # two in ten don't answer
        return None
    tasks = open_tasks(agenda)
    done = translations(language_of(agenda)).pgettext("reply command", "done")  # erledigt
    lines = []
    for ref, _title, percent in tasks[:2]:
        lines.append(f"{ref} {done}" if percent >= 60 or roll(key + ref, 4) == 0
                     else f"{ref} {min(95, percent + 25)}% making progress")
    lines.append("skip: vacation" if roll(key, 17) == 0 else "met: yes 30min")
    if roll(key, 5) == 0:  # a topic for the next 1:1, on both agendas until it is held
        lines.append(f"topic: {TOPICS[roll(key + 'topic', len(TOPICS))]}")
    if roll(key, 29) == 0:  # a week off, announced two weeks ahead
        first = (when + timedelta(days=14)).date()
        lines.append(f"away: {first.isoformat()} - {(first + timedelta(days=6)).isoformat()}")
    lines += plan_lines(str(agenda["To"]), when)
    style = roll(key, 4)
    if style == 2 and tasks:  # inline: answers right under the quoted task lines
        answered = []
        for line in text_of(agenda).splitlines():
            answered.append(f"> {line}" if line else ">")
            match = TASK_LINE.match(line)
            if match and match.group(1) == tasks[0][0]:
                answered.append(lines[0].split(" ", 1)[1])
        others = "\n".join(lines[len(tasks[:2]):])  # the meeting, a topic, time away
        body = f"Answers inline.\n{others}\n\n" + "\n".join(answered) + "\n"
    else:
        body = in_client(agenda, "\n".join(lines), style)
    return answer_to(agenda, body, when)


@dataclass
class PlanRefs:
    """The plan items the story changes by email, read from the database once."""

    arr_goal: str  # Marcus's measurable goal: ARR from €2.1M to €4M
    crm_project: str  # Hannah's project, handed to Rafael before she leaves
    handed_over: bool = False


_REFS: list[PlanRefs] = []


def plan_refs() -> PlanRefs:
    if not _REFS:
        with sqlite3.connect(DEMO / "drumbeat.sqlite", timeout=30) as db:
            goal = db.execute("SELECT id FROM goal WHERE metric = 'ARR'").fetchone()[0]
            project = db.execute("SELECT id FROM project WHERE title = "
                                 "'CRM hygiene and pipeline reporting'").fetchone()[0]
        _REFS.append(PlanRefs(f"G-{goal}", f"P-{project}"))
    return _REFS[0]


def plan_lines(sender: str, when: datetime) -> list[str]:
    """The plan by email: Marcus sends his goal's ARR figure with each reply (he always
    answers; the figure grows through the quarter); Hannah hands her CRM project to
    Rafael in her first reply from the last day of November."""
    refs = plan_refs()
    if ARR_OWNER in sender:
        weeks = (when - START).days // 7
        return [f"{refs.arr_goal} = {2.3 + 0.06 * weeks:.2f}M"]
    if LEAVER in sender and when >= HANDOVER_FROM and not refs.handed_over:
        refs.handed_over = True
        return [f"{refs.crm_project} owner @{SUCCESSOR}"]
    return []


def in_client(original: EmailMessage, answer: str, style: int) -> str:
    """A reply's body as Gmail (0), Outlook (1) or Apple Mail (other) writes it."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in text_of(original).splitlines())
    if style == 0:  # Gmail, top-posted
        return (f"{answer}\n\nThanks!\n\n"
                f"On {original['Date']}, Drumbeat <{original['From']}> wrote:\n{quoted}\n")
    if style == 1:  # Outlook desktop: unquoted original under a From/Sent block
        return (f"{answer}\n\nBest regards\n\n________________________________\n"
                f"From: Drumbeat <{original['From']}>\nSent: {original['Date']}\n"
                f"To: {original['To']}\nSubject: {original['Subject']}\n\n"
                f"{text_of(original)}")
    return (f"{answer}\n\nSent from my iPhone\n\n"  # Apple Mail, iPhone
            f"> On {original['Date']}, Drumbeat <{original['From']}> wrote:\n{quoted}\n")


def answer_to(original: EmailMessage, body: str, when: datetime) -> EmailMessage:
    """A reply to one of Drumbeat's emails, from its recipient, to its reply address."""
    reply = EmailMessage()
    reply["From"] = str(original["To"])
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Date"] = format_datetime(when)
    reply["Message-ID"] = make_msgid(domain="mail.example")
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply.set_content(body)
    return reply


WINS = ("closed the pricing review ahead of plan", "took over the vendor onboarding",
        "kept every weekly 1:1 with my team", "shipped the reporting dashboard")
MISSES = ("the hiring goal slipped to January", "two tasks waited weeks on legal",
          "too little time for the data migration")
NEXTS = ("lead the Q1 planning for my area", "finish the migration before March",
         "mentor the two new hires")


def review_reply(form: EmailMessage, counts: Counter[str], when: datetime
                 ) -> tuple[EmailMessage, str] | None:
    """What a person answers to a review form: a self-review (one in six never writes
    it), a manager's review (one manager never does), an acknowledgement (the first
    one disputes), HR's resolution of the dispute. Reminders are not answered."""
    subject, key = str(form["Subject"]), str(form["Message-ID"])
    language = language_of(form)
    if subject.startswith(said(language, "Reminder: %(subject)s", subject="")):
        counts["review reminder"] += 1
        return None
    style = roll(key, 3)
    if subject == said(language, "Your %(period)s self-review", period="2026-Q4"):
        if roll(str(form["To"]), 6) == 0:
            return None
        answer = (f"wins: {WINS[roll(key, len(WINS))]}\nand helped on the Q4 close\n"
                  f"misses: {MISSES[roll(key, len(MISSES))]}\n"
                  f"next: {NEXTS[roll(key, len(NEXTS))]}\nrating: {3 + roll(key, 2)}")
        kind = "self-review"
    elif subject.endswith("disputed"):
        if counts["resolution"]:
            return None  # every HR person gets the dispute; the first one resolves it
        answer, kind = "resolved: met both; the vendor delay is noted, the rating stands", \
            "resolution"
    elif subject == said(language, "Your %(period)s review: please acknowledge",
                         period="2026-Q4"):
        if not counts["dispute"]:
            answer, kind = ("dispute: the on-time rate counts tasks that waited on the "
                            "vendor\nfor three weeks"), "dispute"
        else:
            answer, kind = "agree", "acknowledgement"
    elif " review of " in subject:
        if LATE_MANAGER in str(form["To"]):
            return None  # reminded every few days, then recorded as missed
        answer = (f"rating: {3 + roll(key, 2)}\ncomment: a solid quarter; the figures "
                  "match what we discussed\nin our 1:1s")
        kind = "manager review"
    else:
        return None
    counts[kind] += 1
    return answer_to(form, in_client(form, answer, style), when), kind


LATE_MANAGER = "tobias.brandt"  # the manager who never writes his reviews (the story)


def manager_notes(agenda: EmailMessage, when: datetime) -> EmailMessage | None:
    """Now and then a manager forwards the notes they mailed after the 1:1 (Gmail)."""
    key = str(agenda["Message-ID"])
    if roll(key, 6) != 0:
        return None
    manager = str(agenda["To"])
    report = str(agenda["Subject"]).removeprefix("1:1 with ").split(":")[0]
    first = report.split()[0]
    checkin = checkin_time(agenda) or when
    notes = (f"Notes from today's 1:1 with {report}\n\n"
             "- Talked through the quarter's priorities and what is blocking them.\n\n"
             f"ACTION: {first} to write up the open questions by Friday\n"
             "- [ ] me: unblock the budget approval next week\n")
    body = (f"with: {report}\n\n---------- Forwarded message ---------\n"
            f"From: {manager}\nDate: {format_datetime(checkin)}\n"
            f"Subject: 1:1 notes\nTo: {manager}\n\n{notes}")
    message = EmailMessage()
    message["From"] = manager
    message["To"] = f"notes@{DOMAIN}"
    message["Subject"] = "Fwd: 1:1 notes"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content(body)
    return message


def status_request(agenda: EmailMessage, when: datetime, asked: dict[str, str]
                   ) -> EmailMessage | None:
    """A reply saying just ``status`` (or ``status @lukas.novak``, from his manager),
    once each: Lukáš before a November 1:1, his manager before a December one."""
    to, subject = str(agenda["To"]), str(agenda["Subject"])
    month = (checkin_time(agenda) or when).month
    if ASKER in to and month == 11 and "Lukáš" not in asked.values():
        who, text, style = "Lukáš", "status", 0
    elif ASKER_MANAGER in to and subject.startswith(f"1:1 with {ASKED_ABOUT}") \
            and month == 12 and "Kenji" not in asked.values():
        who, text, style = "Kenji", f"status @{ASKER.rstrip('@')}", 2
    else:
        return None
    reply = answer_to(agenda, in_client(agenda, text, style), when)
    asked[str(reply["Message-ID"])] = who
    return reply


def page_read(who: str, answer: EmailMessage) -> str:
    """What a status answer showed, read from its text part as the asker would: the open
    tasks by reference and state, how many were finished, the goals, the check-ins."""
    heading, section = "", ""
    found: dict[str, list[str]] = {}
    for line in text_of(answer).splitlines():
        if heading_line := PAGE_HEADING.match(line):
            heading = f"{heading_line.group(1).replace('Your', 'his')} page on " \
                f"{heading_line.group(2)}"
        elif line.strip() and line.isupper():
            section = "open" if line.endswith("OPEN TASKS") else line.split()[0].lower()
        elif line.startswith(("[", "With ")):
            found.setdefault(section, []).append(line)
    open_ = [f"{line.split()[0].strip('[]')}: {line.split(' — ', 1)[-1].split(' · ')[0]}"
             for line in found.get("open", [])]
    goals = [f"{line.split()[0].strip('[]')} at {line.split()[-1]}"
             for line in found.get("goals", [])]
    checkins = [line.split(";")[0].removeprefix("With ") for line in found.get("check-ins", [])]
    asked = "for his status" if heading.startswith("his") else f"`status @{ASKER[:-1]}`"
    return (f"{who} asked {asked} by email and got {heading}: {counted(len(open_), 'open task')}"
            f"{' (' + ', '.join(open_) + ')' if open_ else ''}, "
            f"{len(found.get('done', []))} done or dropped, "
            f"{', '.join(goals) or 'no goals'}, check-ins with "
            f"{'; '.join(checkins) or 'nobody'}")


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def waiting() -> int:
    """Outgoing mail not sent yet (the ledger says when the digests are all out)."""
    with sqlite3.connect(DEMO / "drumbeat.sqlite", timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM outbound_message WHERE status IN "
                              "('pending', 'queued', 'claimed')").fetchone()[0])


def main() -> int:
    env = {**os.environ, "DRUMBEAT_DATABASE_URL": f"sqlite:///{DEMO / 'drumbeat.sqlite'}",
           "DRUMBEAT_MAILDIR": str(DEMO / "maildir"), "DRUMBEAT_MAIL_DOMAIN": DOMAIN,
           "DRUMBEAT_SCHEDULER_INTERVAL_SECONDS": "0.3", "DRUMBEAT_AGENDA_LEAD_HOURS": "48",
           # simulated minutes: a row claimed a moment ago is days old on this clock
           "DRUMBEAT_OUTBOX_STALE_MINUTES": "1e9",
           # This script plays Northwind's own mail server, which relays internal mail
           # without DKIM signatures: listing it is how a company lets notes@ trust it.
           "DRUMBEAT_TRUSTED_RELAYS": RELAY_NETWORK}
    env.pop("DRUMBEAT_REDIS_URL", None)
    MAILDIR.mkdir(parents=True, exist_ok=True)
    print(f"Simulating Q4 2026 for the 30 people of Northwind: {START:%d %b %Y} to "
          f"{END:%d %b %Y} in about {REAL_SECONDS:.0f} seconds …")
    print(f"This script plays Northwind's mail server at {RELAY_NETWORK}: replies to an "
          "agenda count by its token; notes to\nnotes@ count because the server is a "
          f"trusted relay (DRUMBEAT_TRUSTED_RELAYS={RELAY_NETWORK}).", flush=True)
    if not env.get("DRUMBEAT_SECRET_KEY") and not env.get("DRUMBEAT_SECRET_KEY_FILE"):
        print("Reply addresses are signed with the key `drumbeat serve` made for itself in "
              "var/secret_key (set DRUMBEAT_SECRET_KEY to use your own).", flush=True)
    play = Play()
    # Without reviews the quarter's act waits for the digests; with them, it stops at
    # END and the review act (which starts where it stopped) sends what was left.
    code = act(env, play, Clock(START, SPEED), END, settle=not REVIEWS)
    if code == 0 and REVIEWS:
        print("The quarter closed: sending the digests and the self-review forms …",
              flush=True)  # on a clock at real speed, so no review day passes meanwhile
        code = act(env, play, Clock(END, 1.0), END, settle=True)
    if code == 0 and REVIEWS:
        speed = (REVIEW_END - END).total_seconds() / REVIEW_SECONDS
        print(f"The review cycle: {END:%d %b} to {REVIEW_END:%d %b %Y} in "
              f"about {REVIEW_SECONDS:.0f} seconds …", flush=True)
        code = act(env, play, Clock(END, speed), REVIEW_END, settle=True)
    if code == 0:
        story(play.counts, play.pages)
    return code


def act(env: dict[str, str], play: Play, clock: Clock, until: datetime, *, settle: bool
        ) -> int:
    """Run ``drumbeat serve`` on ``clock`` until ``until`` (and, with ``settle``, until the
    digests are out and nothing waits), answering what arrives as the people would."""
    port = free_port()
    env = {**env, "DRUMBEAT_SMTPD_PORT": str(port),
           "DRUMBEAT_CLOCK_START": clock.start.isoformat(),
           "DRUMBEAT_CLOCK_SPEED": f"{clock.speed:.0f}"}
    server = subprocess.Popen([DRUMBEAT, "serve", "--drain", "20"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    counts, due = play.counts, play.due
    client: smtplib.SMTP | None = None
    try:
        deadline = time.monotonic() + 30
        while client is None:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=30)
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("demo: drumbeat serve did not start")
                    return 1
                time.sleep(0.2)
        clock = Clock(clock.start, clock.speed)  # the server's clock started a moment ago
        last_month = ""
        while clock.now() < until or (settle and (not counts["digest"] or waiting())):
            if clock.now() > until + timedelta(days=120) or \
                    time.monotonic() - clock.began > 600:
                print("demo: the digests did not arrive")
                return 1
            month = f"{clock.now():%B}"
            if month != last_month and clock.now() < until:
                print(f"  {clock.now():%d %b %Y}: {counts['agenda']} agendas, "
                      f"{counts['reply']} replies, {counts['notes']} notes forwarded, "
                      f"{counts['answer']} answers so far", flush=True)
                last_month = month
            for path in sorted(MAILDIR.iterdir()):
                if path.name in play.seen:
                    continue
                play.seen.add(path.name)
                message = message_from_bytes(path.read_bytes(), policy=default)
                read(message, play, clock)
            now = clock.now()
            for when, message, kind in [item for item in due if item[0] <= now]:
                due.remove((when, message, kind))
                message.replace_header("Date", format_datetime(now))
                client.send_message(message)
                counts[kind] += 1
            time.sleep(0.05)
    finally:
        if client is not None:
            client.quit()
        server.terminate()
        server.wait(timeout=60)
    return 0


def read(message: EmailMessage, play: Play, clock: Clock) -> None:
    """What a person does with one email from Drumbeat."""
    counts, due = play.counts, play.due
    asker = play.asked.get(str(message.get("In-Reply-To", "")))
    if asker is not None:
        play.pages.append(page_read(asker, message))
    submitted = str(message.get("Auto-Submitted", ""))
    kind, language = kind_of(message), language_of(message)
    if language != "en":
        counts[f"mail in {language}"] += 1
    if submitted == "auto-replied":
        counts["answer"] += 1
    elif kind == "digest":
        counts["digest"] += 1
    elif kind == "nudge":
        counts["reminder"] += 1
    elif kind == "review":
        found = review_reply(message, counts, clock.now())
        if found is not None:
            reply, _kind = found
            due.append((clock.now() + timedelta(hours=2), reply, "review reply"))
    elif kind == "agenda":
        counts["agenda"] += 1
        after = (checkin_time(message) or clock.now()) + timedelta(hours=3)
        asking = status_request(message, clock.now() + timedelta(hours=1), play.asked)
        if asking is not None:  # read before the 1:1, a page asked for
            due.append((clock.now() + timedelta(hours=1), asking, "status request"))
        if said(language, "Your tasks").upper() in text_of(message):
            reply = employee_reply(message, after)
            if reply is not None:
                due.append((after, reply, "reply"))
        else:
            notes = manager_notes(message, after)
            if notes is not None:
                due.append((after, notes, "notes"))


def topics_and_time_away() -> tuple[int, int, int, int]:
    """Talking points raised and closed, ranges of time away, check-ins they excused."""
    with sqlite3.connect(DEMO / "drumbeat.sqlite", timeout=30) as db:
        raised, closed = db.execute("SELECT count(*), count(closed_at) FROM talking_point"
                                    ).fetchone()
        ranges = db.execute("SELECT count(*) FROM time_away").fetchone()[0]
        excused = db.execute("SELECT count(*) FROM meeting WHERE status = 'excused' AND "
                             "reason LIKE 'away %'").fetchone()[0]
    return int(raised), int(closed), int(ranges), int(excused)


def plan_changes() -> str:
    """What the plan by email did, read from the database: the hand-over and the goal."""
    with sqlite3.connect(DEMO / "drumbeat.sqlite", timeout=30) as db:
        notices = db.execute("SELECT count(*) FROM outbound_message WHERE kind = 'handover'"
                             ).fetchone()[0]
        owner = db.execute("SELECT p.name FROM project j JOIN person p ON p.id = j.owner_id "
                           "WHERE j.title = 'CRM hygiene and pipeline reporting'").fetchone()[0]
        start, target, value, figures = db.execute(
            "SELECT metric_start, metric_target, metric_value, (SELECT count(*) FROM "
            "plan_change c WHERE c.level = 'goal' AND c.item_id = g.id AND c.field = 'value')"
            " FROM goal g WHERE metric = 'ARR'").fetchone()
    refs = plan_refs()
    share = (value - start) / (target - start) * 100
    handed = (f"  Hannah handed {refs.crm_project} (CRM hygiene) over with "
              f"`{refs.crm_project} owner @{SUCCESSOR}` before she leaves: its owner is "
              f"{owner} now, and {counted(notices, 'hand-over notice')} told him;\n"
              if refs.handed_over else
              f"  Hannah did not reply before she left, so {refs.crm_project} (CRM hygiene) "
              f"is still {owner}'s;\n")
    return (handed +
            f"  Marcus sent {counted(figures, 'ARR figure')} with `{refs.arr_goal} = …` lines: "
            f"the measurable goal {refs.arr_goal} stands at €{value / 1e6:.2f}M of €4M, "
            f"{share:.0f}% of the way from €2.1M (agendas, status pages and the digests show "
            "it, its tasks' roll-up beside it);")


def story(counts: Counter[str], pages: list[str]) -> None:
    raised, closed, ranges, excused = topics_and_time_away()
    asked = "".join(f"\n  {page};" for page in pages) or "\n  nobody asked for a page;"
    print(f"""
The quarter, as it happened:
  {counts['agenda']} check-in agendas went out before the 1:1s, and {counts['reminder']} \
reminders for 1:1s that were not logged;
  people answered {counts['reply']} of them from Gmail, Outlook, Apple Mail and with inline \
answers, and managers forwarded {counts['notes']} sets of 1:1 notes with action items;
  {raised} talking points were put on the next 1:1's agendas with topic: lines, and \
{closed} of them were closed by the 1:1 that followed;
  people announced {ranges} weeks away with away: lines, which excused {excused} check-ins \
and told the other side;
{plan_changes()}{asked}
  Drumbeat answered {counts['answer']} of those messages (every reply in its threads \
gets its receipt);
  Felix Wagner reads Drumbeat in German and Yuki Tanaka in Japanese (the people file's \
language column): {counts['mail in de']} emails to Felix were German and \
{counts['mail in ja']} to Yuki Japanese (agendas, reminders, answers, review forms, \
their own digests), \
and Felix's replies wrote "erledigt" for done;
  when the quarter and the year closed, the scheduler sent {counts['digest']} evaluation \
digests (HR, managers, employees).

{reviews(counts)}
Where to look:
  {MAILDIR}/               every email, one file each (open them in a mail client)
  {DEMO}/digest-2026-Q4-hr.html          the quarter's HR digest, to open in a browser
  DRUMBEAT_DATABASE_URL=sqlite:///{DEMO}/drumbeat.sqlite .venv/bin/drumbeat outbox
                                         what was sent; `outbox show ID` prints one
""")


def reviews(counts: Counter[str]) -> str:
    if not REVIEWS:
        return ""
    return (f"""The 2026-Q4 review cycle:
  {counts['self-review']} self-reviews and {counts['manager review']} manager reviews were \
written by reply, {counts['acknowledgement']} agreed and {counts['dispute']} disputed; HR \
resolved {counts['resolution']} dispute(s);
  {counts['review reminder']} reminders went to whoever held a review up (the manager whose \
address starts with '{LATE_MANAGER}' never wrote his: missed).
  `drumbeat review status --period 2026-Q4` shows where each review stands.
""")


if __name__ == "__main__":
    raise SystemExit(main())
