"""The reply grammar: the lines people write back, read into commands and per-line errors.

This is the contract people rely on (README, "How to reply"; docs/design.md places it
among the flows), so it is small, documented here, and tested row by row in
``tests/test_grammar.py``. Like Redmine's ``MailHandler``, each kind of line has one
matcher and the first match wins; inside a task line, clauses are read left to right and
what is left after the last clause is the note.

Every line is normalized first (NFKC, zero-width and direction marks removed,
whitespace collapsed), so ``T\u200b-12``, ``Ｔ－１２`` and ``T–12`` all name task 12.
Matching is case-insensitive; an optional bullet (``-``, ``*``, ``•``, ``1.``, ``1)``)
may come first. Task references: ``T-12``, ``T12``, ``#T-12``, ``[T-12]``, ``t-12``,
and ``T 12`` (as dictation writes it).

Task lines (the reference first, an optional colon after it)::

    T-12 60%            progress; "T-12: 60% drafted the intro" keeps a note;
                        "100%" means done; below 0 or above 100 is an error
    T-12 done           done (progress 100); also complete(d), finished, ✓ ✔ ☑,
                        erledigt, fait, hecho, feito, fatto, klaar
    T-12 blocked: why   blocked, the reason is the note (optional)
    T-12 started        in progress; also "in progress", "working on it"
    T-12 due Friday     new due date; also "due: 18 Dec", "moved to Tuesday",
                        "due 12/18" (US order; 18/12 when the day is over 12)
    T-12 dropped: why   dropped, the reason is the note (who may drop is not our concern)
    T-12 handed back    back to whoever created it for you from 1:1 notes; also "hand
                        back", "give back", "not mine" (a reason may follow)
    T-12 note: text     a note only

Clauses combine (``T-12 60% due Friday``); text after the last clause is the note.
``done`` also sets progress 100, so ``T-12 done`` and ``T-12 100%`` are one command.

Other lines::

    new: Call the vendor by Friday          new task (also "new task:"); "by"/"due" + date
    + Call the vendor due 2026-12-04 P-3 @bob   sets the due date, P-n the project,
                                            @name or @email the owner
    met: yes | met: 2026-11-26 30min | met: today 45 min | met: yes 1h
    met: no, moved to Thursday              not held, the rest is the reason
    skip: vacation | skipped: sick          excused

A line that starts with a task reference, ``new:``, ``met:``, ``skip:`` or ``due:``
is a command attempt: it becomes a command or a ``LineError`` whose reason says what
is wrong and shows the right form. Every other line is prose and is ignored, even
when it mentions a task in the middle.

Dates are read relative to the message date seen in the sender's time zone
(a message sent 2026-11-26 23:30 UTC from Tokyo is written on Friday 27th):

- ISO dates (``2026-12-18``) are exact; ``12/18`` is month/day, ``18/12`` day/month
  when the first number is over 12, ``18.12.`` day.month; without a year, a due date
  is the next such day (today included), a meeting date the last one.
- For due dates, a bare weekday (``Friday``, ``this Friday``, ``on Friday``) is the
  first such day *after* the message date: on Thursday 2026-11-26, ``Friday`` is the
  27th and ``Thursday`` is 2026-12-03. ``next Friday`` is the Friday of *next
  calendar week* (weeks start on Monday): 2026-12-04 when written on that Thursday.
  Plain "Friday" already says "the coming one", so "next" is read as adding a week,
  and the confirmation mail echoes the date so a surprise is caught at once.
- For meeting dates a bare weekday is the last such day, today included
  (``met: Thursday`` written on a Thursday is today); ``last Tuesday`` is the most
  recent Tuesday before today. A meeting date after the message date is an error.
- Everything else (``tomorrow``, ``next week`` = seven days on, ``in 2 weeks``,
  ``18 Dec``, ``Freitag``, ``vendredi``) goes to ``dateparser`` in a few European
  languages, preferring the future for due dates and the past for meetings;
  a month alone (``due December``) means its last day.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "HANDED_BACK",
    "Command",
    "DateBudget",
    "LineError",
    "MeetingReport",
    "NewTask",
    "Parsed",
    "TaskUpdate",
    "parse_commands",
    "read_date",
]


HANDED_BACK = "handed_back"  # not a task status: the task goes back to who created it


@dataclass(frozen=True)
class TaskUpdate:
    """A change to one task; None means "not changed by this line"."""

    task: str  # canonical "T-12"
    percent: int | None = None
    status: str | None = None  # "done", "blocked", "in_progress", "dropped", HANDED_BACK
    due: date | None = None
    note: str | None = None  # free text after the command, or the blocked/dropped reason
    line: str = ""  # the source line, stripped


@dataclass(frozen=True)
class NewTask:
    """A task to create; the owner defaults to the sender, decided when applying."""

    title: str
    due: date | None = None
    project: str | None = None  # "P-3"
    owner: str | None = None  # "bob" or "ann@example.com", lower-cased
    line: str = ""


@dataclass(frozen=True)
class MeetingReport:
    """The check-in: held (True), not held (False), or skipped with an excuse (None)."""

    held: bool | None
    excused: bool = False
    on: date | None = None
    minutes: int | None = None
    reason: str | None = None
    line: str = ""


@dataclass(frozen=True)
class LineError:
    """A line that looked like a command but could not be read; the reply quotes both."""

    line: str
    reason: str  # what is wrong and the right form, e.g. "… Write a percentage, e.g. T-9 60%"

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


Command = TaskUpdate | NewTask | MeetingReport

_JSON_TYPES: dict[type, str] = {
    TaskUpdate: "task_update",
    NewTask: "new_task",
    MeetingReport: "meeting",
}
_JSON_FIELDS: dict[type, tuple[str, ...]] = {
    TaskUpdate: ("task", "percent", "status", "due", "note"),
    NewTask: ("title", "due", "project", "owner"),
    MeetingReport: ("held", "excused", "on", "minutes", "reason"),
}


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _command_json(command: Command) -> dict[str, object]:
    """One command in the ``drumbeat inspect`` shape: "type" first, every field, dates ISO."""
    fields = _JSON_FIELDS[type(command)]
    return {
        "type": _JSON_TYPES[type(command)],
        **{name: _json_value(getattr(command, name)) for name in fields},
    }


@dataclass(frozen=True)
class Parsed:
    """What a reply says: the commands in the order written, and the lines not understood."""

    commands: tuple[Command, ...]
    errors: tuple[LineError, ...]

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        """The ``commands`` and ``errors`` members of the ``drumbeat inspect`` JSON.

        Commands have exactly the documented shape (no ``line``: the contract has
        none, and errors already carry theirs).
        """
        return {
            "commands": [_command_json(command) for command in self.commands],
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


# --- normalization ------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
        "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufe0e\ufe0f\ufeff",
    ),
    None,
)
_MAX_LINE = 2000  # longer lines are prose; reading them whole would only cost time
_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_REF = rf"[#\[(]?\s*T(?:[{_DASH}]| (?=\d))?(\d+)\s*[\])]?(?!\w)"  # "T 42": dictated
_BULLET = re.compile(rf"(?:[-*•·◦▪‣–—]\s*|\d{{1,3}}[.)]\s+|\+\s*(?={_REF}))", re.I)
_TASK_REF = re.compile(_REF, re.I)
_SEPARATORS = re.compile(r"(?:[\s,;:.!?]|[-–—](?=\s|$))+")


def _normalize(line: str) -> str:
    """Make invisible differences vanish: NFKC, no zero-width or bidi marks, single spaces."""
    text = line[:_MAX_LINE]
    if not (text.isascii() and text.isprintable()):  # else already what the steps make
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _without_separators(text: str) -> str:
    m = _SEPARATORS.match(text)
    return text[m.end() :] if m else text


# --- dates --------------------------------------------------------------------------------


FREE_FORM_DATES_PER_MESSAGE = 300


@dataclass
class DateBudget:
    """How many free-form dates one message may still have read.

    ``dateparser`` takes milliseconds a phrase and a line may offer several, so
    without a budget one message full of date-like words costs minutes. Shared by
    replies and meeting notes; a date past the budget is simply not read.
    """

    left: int = FREE_FORM_DATES_PER_MESSAGE
    refused: int = 0  # phrases not read because the budget was spent

    def spend(self) -> bool:
        """Take one reading from the budget; False (and counted) when none is left."""
        if self.left <= 0:
            self.refused += 1
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class _Context:
    """The message's local wall-clock time: what "today" and "Friday" are relative to."""

    now: datetime  # naive, in the sender's time zone
    budget: DateBudget = field(default_factory=DateBudget)

    @property
    def today(self) -> date:
        return self.now.date()


def _context(message_date: datetime, timezone: str, budget: DateBudget | None = None
             ) -> _Context:
    """Convert the message date to the sender's zone; an unknown zone falls back to UTC."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    aware = message_date if message_date.tzinfo else message_date.replace(tzinfo=UTC)
    return _Context(now=aware.astimezone(zone).replace(tzinfo=None),
                    budget=budget if budget is not None else DateBudget())


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY = re.compile(
    r"(?:(this|coming|next|last|on|by)\s+)?"
    r"(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?",
    re.I,
)
_RELATIVE_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.?(\d{2}|\d{4})?")
_PLAUSIBLE_YEARS = 5  # a free-form date further away than this is a misreading
_DATEPARSER_LANGUAGES = ["en", "de", "fr", "es", "pt", "it", "nl"]  # few: fast, fewer surprises


def _weekday_date(match: re.Match[str], today: date, *, past: bool) -> date:
    """Apply the weekday rules of the module docstring."""
    word, name = (match.group(1) or "").lower(), match.group(2).lower()
    target = _WEEKDAYS.index(name[:3])
    if word == "next":
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + target)
    if word == "last":
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    if past:
        return today - timedelta(days=(today.weekday() - target) % 7)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _day_month(day: int, month: int, year: str | None, today: date, *, past: bool) -> date | None:
    """A day and month; without a year, the next (or, for the past, last) such day."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        for offset in range(9):  # nine years always include a 29 February
            candidate_year = today.year - offset if past else today.year + offset
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if (candidate <= today) if past else (candidate >= today):
                return candidate
    except ValueError:
        return None
    return None


def _numeric_date(text: str, today: date, *, past: bool) -> date | None:
    if m := _ISO.fullmatch(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := _SLASHED.fullmatch(text):
        first, second = int(m[1]), int(m[2])
        month, day = (second, first) if first > 12 else (first, second)
        return _day_month(day, month, m[3], today, past=past)
    if m := _DOTTED.fullmatch(text):
        return _day_month(int(m[1]), int(m[2]), m[3], today, past=past)
    return None


def _dateparser_date(text: str, ctx: _Context, *, past: bool) -> date | None:
    """Everything our own rules do not cover; dateparser failures are "not a date"."""
    if not ctx.budget.spend():
        return None
    import dateparser  # slow to import; only needed for the rare free-form date

    settings = {
        "RELATIVE_BASE": ctx.now,  # already the sender's wall clock, so no TIMEZONE needed
        "PREFER_DATES_FROM": "past" if past else "future",
        "PREFER_DAY_OF_MONTH": "first" if past else "last",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PARSERS": ["relative-time", "absolute-time"],
    }
    try:
        found = dateparser.parse(text, languages=_DATEPARSER_LANGUAGES, settings=settings)
    except Exception:  # dateparser is a heuristic; any failure just means "not a date"
        return None
    if found is None or abs(found.year - ctx.today.year) > _PLAUSIBLE_YEARS:
        return None  # "Friday 60" is 2060 to dateparser; nobody means that
    return found.date()


def _read_date(text: str, ctx: _Context, *, past: bool = False) -> date | None:
    """A date written in a reply, or None; ``past`` for meetings, the future otherwise."""
    text = text.strip().rstrip(".!?").strip()
    lowered = text.lower()
    if len(text) < 3 or len(text) > 60 or lowered.isdigit():
        return None  # "5" or "a" would be read as May or January: too surprising
    if lowered in _RELATIVE_DAYS:
        return ctx.today + timedelta(days=_RELATIVE_DAYS[lowered])
    if (numeric := _numeric_date(lowered, ctx.today, past=past)) is not None:
        return numeric
    if lowered[:1].isdigit() and re.fullmatch(r"[\d/.\-]+", lowered):
        return None  # a malformed numeric date must not reach dateparser's guesswork
    if m := _WEEKDAY.fullmatch(lowered):
        return _weekday_date(m, ctx.today, past=past)
    return _dateparser_date(text, ctx, past=past)


def _leading_date(text: str, ctx: _Context) -> tuple[date, str] | None:
    """The longest run of up to six words at the start of ``text`` that is a date, and the rest.

    ``due Friday waiting on Ann`` reads Friday and leaves the note.
    """
    chunk = re.match(r"[^,;()]*", text)
    tokens = re.finditer(r"\S+", chunk.group() if chunk else "")
    # A date stops at a comma or a percentage ("due Friday 60%"), and is at most six words.
    words = list(itertools.islice(itertools.takewhile(lambda w: "%" not in w[0], tokens), 6))
    for count in range(len(words), 0, -1):
        end = words[count - 1].end()
        if (found := _read_date(text[:end], ctx)) is not None:
            return found, text[end:]
    return None


# --- task lines ---------------------------------------------------------------------------


@dataclass
class _Draft:
    """A task update being read clause by clause."""

    percent: int | None = None
    status: str | None = None
    due: date | None = None
    note: str | None = None
    clauses: int = 0


@dataclass(frozen=True)
class _Problem:
    """A clause that was recognised but is wrong; the reason goes into the LineError."""

    reason: str


# A clause reads the start of the rest of the line into the draft and returns what is
# left; None means "not this clause", a _Problem stops the line.
_Clause = Callable[[str, _Draft, _Context, str], "str | _Problem | None"]
_WORD_END = r"(?!\w)"
_PERCENT = re.compile(
    r"(?:(?:at|now|now at|is at|to)\s+)?(\d+(?:[.,]\d+)?)\s*"
    r"(?:%|per\s?cent\b|pct\b|prozent\b|pour\s?cent\b|por\s?ciento\b|per\s?cento\b|procent\b)",
    re.I,
)
_NEGATIVE_PERCENT = re.compile(r"[:\s]*[-−]\s*\d+(?:[.,]\d+)?\s*%")
_DONE = re.compile(
    r"(?:done|complete|completed|finished|closed|[✓✔☑✅]|erledigt|fertig|fait|termin[ée]e?"
    r"|hecho|terminado|feito|conclu[íi]do|fatto|finito|klaar|afgerond|gedaan)" + _WORD_END,
    re.I,
)
_STARTED = re.compile(
    r"(?:started|starting|begun|in[\s-]?progress|working\s+on\s+it|wip|under\s?way|ongoing"
    r"|on\s+it|in\s+arbeit|angefangen|begonnen|en\s+cours|commenc[ée]e?|en\s+curso|empezado"
    r"|em\s+andamento|come[çc]ado|in\s+corso|iniziato|bezig|gestart)" + _WORD_END,
    re.I,
)
_BLOCKED = re.compile(
    r"(?:blocked|stuck|on\s+hold|blockiert|bloqu[ée]e?|bloqueado|bloccato|geblokkeerd)" + _WORD_END,
    re.I,
)
_DROPPED = re.compile(
    r"(?:dropped|drop|cancell?ed|abandoned|won'?t\s+do|scrapped|verworfen|abgebrochen"
    r"|annul[ée]e?|abandonn[ée]e?|cancelado|descartado|annullato|geschrapt)" + _WORD_END,
    re.I,
)
_HANDED_BACK = re.compile(r"(?:hand(?:ed|ing)?\s+back|give\s+back|gave\s+back|not\s+mine)"
                          + _WORD_END, re.I)
_DUE = re.compile(
    r"(?:new\s+due\s+date|due\s+date|due(?!\s+to\b)|deadline|(?:moved|move|moving|postponed"
    r"|pushed|rescheduled|deferred|delayed|shifted)(?:\s+(?:back|out))?\s+to)(?!\w)"
    r"\s*:?\s*(?:(?:on|by|for)\s+)?",
    re.I,
)
_SOFT_DUE = re.compile(r"(?:by|until|before)\s+", re.I)  # only a due date if a date follows
_NOTE = re.compile(r"(?:note|notes|comment|update)(?:\s*:|\s+|$)", re.I)
_NUMBER_WORDS = frozenset(
    re.findall(
        r"\w+",
        """
    zero one two three four five six seven eight nine ten eleven twelve fifteen twenty
    thirty forty fifty sixty seventy eighty ninety hundred half quarter""",
    )
)


def _examples(ref: str) -> str:
    return (
        f"Write e.g. {ref} 60%, {ref} done, {ref} blocked: waiting on legal, "
        f"{ref} due Friday or {ref} note: called the vendor"
    )


def _out_of_range(ref: str) -> _Problem:
    return _Problem(
        f"Progress goes from 0 to 100%. Write e.g. {ref} 60%, or {ref} done when it is finished"
    )


def _percent_clause(rest: str, draft: _Draft, ctx: _Context, ref: str) -> str | _Problem | None:
    if draft.percent is not None or draft.status not in (None, "in_progress"):
        return None
    if not (m := _PERCENT.match(rest)):
        return None
    number = m[1].replace(",", ".")
    if len(number.partition(".")[0]) > 3 or float(number) > 100:
        return _out_of_range(ref)
    draft.percent = int(float(number) + 0.5)  # half up: 62.5% is 63
    if draft.percent == 100:
        draft.status = "done"
    return rest[m.end() :]


def _status_clause(pattern: re.Pattern[str], status: str, *, with_reason: bool) -> _Clause:
    """A status word; blocked and dropped take the rest of the line as their reason."""

    def clause(rest: str, draft: _Draft, ctx: _Context, ref: str) -> str | _Problem | None:
        m = pattern.match(rest)
        if m is None:
            return None
        if draft.status == status:  # "100% done", "done ✓": saying it twice is fine
            return rest[m.end() :]
        if draft.status is not None or (status != "blocked" and draft.percent is not None):
            return None  # "60% done with the intro" is progress and a note
        draft.status = status
        if status == "done":
            draft.percent = 100
        if not with_reason:
            return rest[m.end() :]
        draft.note = _without_separators(rest[m.end() :]).strip() or None
        return ""

    return clause


def _due_clause(rest: str, draft: _Draft, ctx: _Context, ref: str) -> str | _Problem | None:
    if draft.due is not None:
        return None
    soft = False
    if not (m := _DUE.match(rest)):
        if not (m := _SOFT_DUE.match(rest)):
            return None
        soft = True
    after = rest[m.end() :].strip()
    found = _leading_date(after, ctx) if after else None
    if found is not None:
        draft.due, remainder = found
        return remainder
    if soft:
        return None
    if not after:
        return _Problem(f"Say which date, e.g. {ref} due 2026-12-18 or {ref} due Friday")
    shown = " ".join(after.split()[:4])
    return _Problem(
        f'I could not read the date "{shown}". Write e.g. {ref} due 2026-12-18 or {ref} due Friday'
    )


def _note_clause(rest: str, draft: _Draft, ctx: _Context, ref: str) -> str | _Problem | None:
    if not (m := _NOTE.match(rest)):
        return None
    note = rest[m.end() :].strip()
    if not note:
        return _Problem(f"The note is empty. Write e.g. {ref} note: called the vendor")
    draft.note = note
    return ""


_CLAUSES: tuple[_Clause, ...] = (
    _percent_clause,
    _status_clause(_DONE, "done", with_reason=False),
    _status_clause(_STARTED, "in_progress", with_reason=False),
    _status_clause(_BLOCKED, "blocked", with_reason=True),
    _status_clause(_DROPPED, "dropped", with_reason=True),
    _status_clause(_HANDED_BACK, HANDED_BACK, with_reason=True),
    _due_clause,
    _note_clause,
)


def _unreadable(rest: str, ref: str) -> _Problem:
    """The most helpful reason for a first clause that no matcher recognised."""
    first = rest.split()[0].lower().rstrip(",.;:!")
    if first.replace(".", "").replace(",", "").isdigit() or first in _NUMBER_WORDS:
        return _Problem(f"I could not read the progress. Write a percentage, e.g. {ref} 60%")
    if _TASK_REF.match(rest):
        return _Problem(f"Write one task per line, e.g. {ref} done")
    return _Problem(f"I could not read what changed for {ref}. {_examples(ref)}")


def _read_clauses(rest: str, ref: str, ctx: _Context) -> _Draft | _Problem:
    """Clauses left to right; unknown text after at least one clause is the note."""
    if _NEGATIVE_PERCENT.match(rest):
        return _out_of_range(ref)
    draft = _Draft()
    while rest := _without_separators(rest).strip():
        for clause in _CLAUSES:
            outcome = clause(rest, draft, ctx, ref)
            if outcome is not None:
                break
        else:
            if draft.clauses == 0:
                return _unreadable(rest, ref)
            draft.note = rest
            break
        if isinstance(outcome, _Problem):
            return outcome
        draft.clauses += 1
        rest = outcome
    if draft.clauses == 0:
        return _Problem(f"Say what changed. {_examples(ref)}")
    return draft


def _task_line(text: str, raw: str, ctx: _Context) -> Command | LineError | None:
    if not (m := _TASK_REF.match(text)):
        return None
    if len(m[1]) > 9:
        return LineError(raw, "That is not a task number. Task references look like T-12")
    ref = f"T-{int(m[1])}"
    outcome = _read_clauses(text[m.end() :], ref, ctx)
    if isinstance(outcome, _Problem):
        return LineError(raw, outcome.reason)
    return TaskUpdate(
        task=ref,
        percent=outcome.percent,
        status=outcome.status,
        due=outcome.due,
        note=outcome.note,
        line=raw,
    )


# --- new tasks ----------------------------------------------------------------------------

_NEW = re.compile(r"(?:new(?:\s+task)?\s*:|\+\s)\s*", re.I)
_PROJECT = re.compile(rf"(?<![\w@])[#\[(]?P[{_DASH}]?(\d{{1,9}})[\])]?(?!\w)", re.I)
_OWNER = re.compile(r"(?<!\S)@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
_NEW_DUE = re.compile(r"(?<!\S)(by|due|until|before)\s*:?\s+", re.I)
_NEW_EXAMPLE = "new: Draft memo P-7 @ann due Friday"


def _split_due(title: str, ctx: _Context) -> tuple[str, date | None] | _Problem:
    """``… by Friday`` / ``… due 2026-12-04`` ending a title is its due date.

    "by" followed by something else stays in the title ("Review by Ann"); "due"
    followed by a number that is not a date is an error rather than a title.
    """
    for m in _NEW_DUE.finditer(title):
        found = _read_date(title[m.end() :], ctx)
        if found is not None:
            return title[: m.start()], found
        if m[1].lower() == "due" and any(ch.isdigit() for ch in title[m.end() :]):
            shown = title[m.end() :][:40]
            return _Problem(
                f'I could not read the date "{shown}". '
                "Write e.g. new: Call the vendor due 2026-12-04"
            )
    return title, None


def _new_task_line(text: str, raw: str, ctx: _Context) -> Command | LineError | None:
    if not (m := _NEW.match(text)):
        return None
    body = text[m.end() :]
    projects = {f"P-{int(number)}" for number in _PROJECT.findall(body)}
    owners = {owner.rstrip(".").lower() for owner in _OWNER.findall(body)}
    if len(projects) > 1 or len(owners) > 1:
        what = "project" if len(projects) > 1 else "owner"
        return LineError(raw, f"Name one {what} per new task, e.g. {_NEW_EXAMPLE}")
    body = " ".join(_OWNER.sub(" ", _PROJECT.sub(" ", body)).split())
    split = _split_due(body, ctx)
    if isinstance(split, _Problem):
        return LineError(raw, split.reason)
    title = split[0].rstrip(" ,;:.-–—")
    if not title:
        return LineError(raw, f"A new task needs a title, e.g. {_NEW_EXAMPLE}")
    return NewTask(
        title=title,
        due=split[1],
        project=next(iter(projects), None),
        owner=next(iter(owners), None),
        line=raw,
    )


# --- meetings -----------------------------------------------------------------------------

_MET = re.compile(r"met\s*:\s*", re.I)
_SKIP = re.compile(r"(?:skip|skipped|skipping|excused)\s*:\s*", re.I)
_YES = re.compile(r"(?:yes|y|yep|yeah|ja|oui|si|sí|sì|sim|held|[✓✔])" + _WORD_END, re.I)
_NO = re.compile(r"(?:no|n|nope|nein|non|nee|não|did\s*n[o']?t(?:\s+happen)?)" + _WORD_END, re.I)
_HOURS = re.compile(
    r"(?<!\S)(\d{1,2}(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|std|stunden?)"
    r"(?:\s*(\d{1,2})\s*(?:m|min|mins|minutes?)|(\d{2}))?(?!\w)",
    re.I,
)
_MINUTES = re.compile(r"(?<!\S)(\d{1,4})\s*(?:m|min|mins|minutes?|minuten)(?!\w)", re.I)
_MET_FORMS = "Write met: yes, met: 2026-11-26 30min, met: no, moved to Thursday or skip: vacation"


def _duration(body: str) -> tuple[int | None, str]:
    """Minutes from ``30min``, ``45 min``, ``1h``, ``1.5h``, ``1h30``, and the text without them."""
    if m := _HOURS.search(body):
        minutes = round(float(m[1].replace(",", ".")) * 60) + int(m[2] or m[3] or 0)
    elif m := _MINUTES.search(body):
        minutes = int(m[1])
    else:
        return None, body
    return minutes, body[: m.start()] + " " + body[m.end() :]


def _met_line(text: str, raw: str, ctx: _Context) -> Command | LineError | None:
    if not (m := _MET.match(text)):
        return None
    body = text[m.end() :]
    if no := _NO.match(body):
        reason = _without_separators(body[no.end() :]).strip() or None
        return MeetingReport(held=False, reason=reason, line=raw)
    if yes := _YES.match(body):
        body = body[yes.end() :]
    elif not body.strip():
        return LineError(raw, f"Say whether you met. {_MET_FORMS}")
    minutes, body = _duration(body)
    if minutes is not None and not 1 <= minutes <= 720:
        return LineError(
            raw, "A meeting lasts between 1 minute and 12 hours. Write e.g. met: yes 30min"
        )
    body = _without_separators(body).strip()
    on = _read_date(body, ctx, past=True) if body else None
    if body and on is None:
        return LineError(raw, f'I could not read "{body[:40]}". {_MET_FORMS}')
    if on is not None and on > ctx.today:
        return LineError(
            raw,
            f"{on.isoformat()} is after this message. Write the day you met, e.g. met: yesterday",
        )
    return MeetingReport(held=True, on=on, minutes=minutes, line=raw)


def _skip_line(text: str, raw: str, ctx: _Context) -> Command | LineError | None:
    if not (m := _SKIP.match(text)):
        return None
    reason = _without_separators(text[m.end() :]).strip() or None
    return MeetingReport(held=None, excused=True, reason=reason, line=raw)


def _orphan_due_line(text: str, raw: str, ctx: _Context) -> Command | LineError | None:
    if not re.match(r"due\s*:", text, re.I):
        return None
    return LineError(raw, "Say which task, e.g. T-12 due Friday")


# --- lines --------------------------------------------------------------------------------

_LineMatcher = Callable[[str, str, _Context], "Command | LineError | None"]
_STANDALONE: tuple[_LineMatcher, ...] = (_task_line, _new_task_line, _met_line, _skip_line)
_LINE_MATCHERS: tuple[_LineMatcher, ...] = (*_STANDALONE, _orphan_due_line)
_FALLBACK = "I could not read this line. Write e.g. T-12 60% or met: yes"


def _read_line(
    text: str, raw: str, ctx: _Context, matchers: tuple[_LineMatcher, ...] = _LINE_MATCHERS
) -> Command | LineError | None:
    """The first matcher that recognises the line wins; None means prose."""
    text = _BULLET.sub("", text, count=1) if _BULLET.match(text) else text
    try:
        for matcher in matchers:
            outcome = matcher(text, raw, ctx)
            if outcome is not None:
                return outcome
    except Exception:  # a parser bug must cost one line, never the whole message
        return LineError(raw, _FALLBACK)
    return None


def _read_inline(ref: str, answer: str, ctx: _Context) -> Command | LineError | None:
    """An answer under a quoted agenda line: a command of its own, or one about that task."""
    text = _normalize(answer)
    if not text:
        return None
    task = _TASK_REF.match(_normalize(ref))
    if task is None or len(task[1]) > 9:
        return LineError(
            answer.strip(), "I could not tell which task this answers. Write e.g. T-12 60%"
        )
    composed = f"T-{int(task[1])} {text}"
    own = _read_line(text, answer.strip(), ctx, _STANDALONE)
    return own if own is not None else _read_line(composed, composed, ctx)


def parse_commands(
    text: str,
    *,
    message_date: datetime,
    timezone: str = "UTC",
    inline: Sequence[tuple[str, str]] = (),
    max_updates: int = 100,
    truncated: bool = False,
    date_budget: DateBudget | None = None,
) -> Parsed:
    """Read a reply's new text, then its inline answers, into commands and errors.

    ``text`` has quotes and signatures already removed; ``inline`` holds
    ``(task_ref, answer)`` pairs for answers written under a quoted agenda line
    (they must not also be in ``text``). Never raises: an unreadable line is a
    ``LineError``, prose is ignored. Commands keep the order written, so the
    same task twice is applied twice.

    At most ``max_updates`` command lines (understood or not) are read; the rest
    are one error, not read at all, so a message of 150,000 lines costs what 100
    do. ``truncated`` says the reply text was cut before it got here, and the
    errors say so too. ``date_budget`` is the message's, when other readers of the
    same message (meeting notes' action items) spend from it too.
    """
    ctx = _context(message_date, timezone, date_budget)
    outcomes: list[Command | LineError] = []
    pending = [(None, line) for line in text.splitlines()]
    pending += [(ref, answer) for ref, answer in inline]
    for index, (ref, line) in enumerate(pending):
        if len(outcomes) >= max_updates:
            if (unread := _not_read(pending[index:], max_updates)) is not None:
                outcomes.append(unread)
            break
        outcome = (_read_line(_normalize(line), line.strip(), ctx) if ref is None
                   else _read_inline(ref, line, ctx))
        if outcome is not None:
            outcomes.append(outcome)
    if ctx.budget.refused:
        outcomes.append(LineError(
            "…", f"Some dates were not read: more than {FREE_FORM_DATES_PER_MESSAGE} "
            "dates in words in one message. Write dates as 2026-12-18 or Friday"))
    if truncated:
        outcomes.append(LineError(
            "…", "Not read: the message is too long, so only its beginning was read. "
            "Send long updates in several messages"))
    return Parsed(
        commands=tuple(o for o in outcomes if not isinstance(o, LineError)),
        errors=tuple(o for o in outcomes if isinstance(o, LineError)),
    )


# What a command line starts with, read cheaply (no normalisation): only for counting
# the lines past the cap, which are never read.
_COMMAND_START = re.compile(
    rf"\s*(?:[-*•·◦▪‣–—]\s*|\d{{1,3}}[.)]\s+)?(?:[#\[(]?\s*T[{_DASH}\s]?\d|new\b|\+\s"
    r"|met\s*:|skip|excused|due\s*:)", re.I)


def _not_read(rest: Sequence[tuple[str | None, str]], max_updates: int) -> LineError | None:
    """One error for the command lines past the cap: they are counted, never read."""
    unread = [line.strip() for ref, line in rest
              if ref is not None or _COMMAND_START.match(line[:40])]
    if not unread:
        return None
    first = unread[0] if len(unread[0]) <= 80 else unread[0][:79] + "…"
    return LineError(
        first, f"not read: more than {max_updates} updates in one message "
        f"({len(unread)} more). Send the rest in another message")


def read_date(text: str, message_date: datetime, timezone: str, past: bool = False,
              budget: DateBudget | None = None) -> date | None:
    """A date as reply lines are read (module docstring), for other readers of mail text.

    ``message_date`` is what "today" and "Friday" are relative to, seen in ``timezone``;
    ``past`` reads for a meeting (the last such day) instead of a due date (the next one);
    ``budget``, when given, is the message's :class:`DateBudget` for words dateparser reads.
    Never raises: anything that is not a date is None.
    """
    try:
        return _read_date(text, _context(message_date, timezone, budget), past=past)
    except Exception:  # a reader bug must cost one date, never the caller's message
        return None
