"""Meeting notes by email: the action items in forwarded 1:1 notes, and who the notes are about.

Managers forward their notes from any mail client to ``notes@``; the meeting is
logged and every action item becomes a task. This module is the pure part: text
and plain data in, frozen dataclasses out, no database (``Candidate.key`` is the
caller's person id). Like the reply grammar (``mail.read.grammar``), each line is
normalized first (NFKC, invisible marks removed, spaces collapsed), matching is
case-insensitive and an optional bullet (``-``, ``*``, ``•``, ``1.``, ``a)``) and
checkbox (``[ ]``, ``[x]``, ``☐``, ``☑``, ``✅``: a ticked box is still an item)
may come first.

Action items (the owner and due date may be written in any of these places)::

    ACTION: Ben to send the pricing memo by Friday      a marker, then the item; markers:
    Action item: … · AI: … · AP: … · TODO: … · To do: … · Follow-up: … · Aufgabe: …
    À faire: … · Tarea: … · ACTION (Ben): … · TODO(ben): …   (ACTION/TODO in capitals
                                                        also without a colon)
    - [ ] Ann: draft plan by 12/4                       a checkbox line is an item
    TODO @ann call the vendor next week                 @name or @email names the owner
    ☐ @Ann Lee Review the doc                           a Google Docs assignee chip
    @ben: chase legal — Dec 12                          a line that starts with @name
    Ann will update the forecast by end of month        NAME will / NAME to / I'll / NAME
    Ben to review the deck (due 2026-12-04)             needs to / NAME: please … / NAME:
    Ben: send me your self-assessment by Friday         followed by a task verb
    Next steps:                                         a heading ("Next steps", "Action
    - Ann: book the room Thursday                       items", "To-dos", "Follow-ups",
    - Update the hiring plan                            "Nächste Schritte", "À faire",
                                                        "Próximos pasos" …) makes the lines
                                                        under it items, see below
    Action items for Dev:                               … and a heading "… for NAME" gives
    - migrate the cron jobs                             its items that owner
    TODO for Ben: renew the certificate · Dev — prepare the handover · Dev drafts the
    proposal (under a marker or heading: a known person, then a verb; "drafts" becomes
    the title "Draft the proposal")
    Send the memo. Owner: Ann · Send the memo (Ann) · Send the memo -> Ann · … @ann

A heading's list ends at the next heading or signature (``--``), at a blank line
followed by a line that is no bullet, and, once its items were bullets or
checkboxes, at the first line that is neither ("Thanks all!").

Not items: task lines (``T-12 done``), ``met:``/``skip:``/``new:``/``+`` lines (the
reply grammar reads those), quoted lines (``>``), headings, questions, and prose
("We talked about hiring", "Ann said the launch went well", "Ann will be out next
week", "Ben will likely hit the target"). A line without a marker, checkbox or
heading is an item only when it starts with a person the meeting knows (a candidate,
even an ambiguous one, or "I"); "Carl will …" about an unknown Carl is prose there,
while ``ACTION: Carl to …`` is an item whose problem says Carl is unknown.

The owner is resolved against the candidates with ``match_people``: an address or
alias, the full name, an @handle (an address's local part, ``first.last``,
``flast`` …), the first name, "Ann L.", or the last name. "I", "me", "ich", "je",
"yo" are the notes' author (``author``); "we"/"the team" leave the item to the
default owner. When no owner is written, ``owner`` is ``default_owner`` and
``owner_text`` None. Nothing is guessed silently: an ambiguous name ("Anna": two
Annas), an unknown name, "he"/"she", two owners on one item, or an unreadable, past
or ambiguous date leave that field None and say why in ``problem``, with the form
that works (the other field is kept when it is settled).

Dates are read relative to the meeting date (in ``timezone``; the date is taken
as it is) and are always on or after it; a date before the meeting is a problem.
The choices, where English is vague:

- ``by Friday``, ``Friday``, ``this Friday``, ``on Friday``: the first Friday *after*
  the meeting (the reply grammar's rule: on Thursday 2026-11-26 it is the 27th, and
  ``Thursday`` is 2026-12-03); ``next Friday`` is the Friday of next calendar week
  (2026-12-04). ``Friday next week`` is the same day; ``Friday this week`` must not
  be past.
- ``next week`` and ``end of next week`` are the *Friday* of next calendar week
  (2026-12-04), the last working day of the week meant; ``this week``, ``end of
  week``, ``EOW`` the first Friday on or after the meeting (2026-11-27).
- ``end of month``/``EOM``/``month end``: the last day of the meeting's month;
  ``next month``/``end of next month``: the last day of the next one; ``EOQ``,
  ``end of quarter``, ``by Q1`` the last day of that quarter (the next Q1 to come);
  ``EOY``/``end of year`` 31 December. A month alone (``by December``) is its last day.
- ``today``/``EOD``/``COB``: the meeting date; ``tomorrow`` the day after;
  ``in 2 weeks``/``within 3 days``/``in a month``: counted from the meeting date.
- ``2026-12-04`` is exact. ``12/4`` is read both ways, month/day (US) and day/month,
  each as the next such day on or after the meeting (a reading in the past is
  dropped when a year is written). When one reading is within 45 days of the
  meeting and the other 90 days or more away, the near one wins (``12/4`` is
  4 December, and so is ``4/12``: action items are near-term); otherwise (``1/2``:
  2 January or 1 February?) the item's problem asks for an ISO date. The time zone
  does not decide the order: a Berlin manager may well write US dates, and the
  reply grammar's "US unless the day is over 12" would silently misread a European
  ``4/12``. A first number over 12 can only be a day; ``4.12.`` is always day.month.
- ``yesterday``, ``last Friday``, ``2026-11-20``: before the meeting, so a problem.
- ``every Friday`` repeats and is no due date (it stays in the title).
- ``Dec 12``, ``12 Dec``, ``the 15th``, ``Freitag``, ``vendredi``, ``viernes``: the
  next such day (dateparser, through ``mail.read.dates.read_date``).

Dates introduced by ``by``, ``due``, ``until``, ``before``, ``deadline``, ``bis``,
``avant``, ``para`` … are read anywhere in the line; a date without such a word is
read only at the end of the line or in brackets (``— Dec 12``, ``(Friday)``), and
only when it has the shape of a date, so "Review the March numbers" keeps March in
its title. ``P-3`` names the project.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from mail.read.dates import DateBudget, read_date
from mail.read.vocabulary import normalize_line

__all__ = [
    "ActionItem",
    "Candidate",
    "find_action_items",
    "match_people",
    "people_in_subject",
    "with_line",
]


@dataclass(frozen=True)
class Candidate:
    """A person notes may name: the meeting's people, their team, whoever the caller offers."""

    key: int  # person id
    name: str  # "Ann Lee"
    email: str  # lower-case
    aliases: tuple[str, ...] = ()  # other addresses


@dataclass(frozen=True)
class ActionItem:
    """One action item, read from one line of the notes."""

    line: str  # source line, stripped
    what: str  # the task title, capitalised, owner/due/markers removed
    owner_text: str | None = None  # as written: "Ben", "@ann", "ann@x.com"; None if unwritten
    owner: int | None = None  # Candidate.key when resolved unambiguously
    due: date | None = None
    due_text: str | None = None  # as written: "by Friday"
    project: str | None = None  # "P-3"
    problem: str | None = None  # why owner or due could not be settled; that field is None


# --- people -------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Casefolded, accents removed, single spaces: "Chloé  MARTIN" and "chloe martin" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("’", "'").split())


_ADDRESS = re.compile(r"[^@\s<>,;:\"'()\[\]]+@[\w-]+(?:\.[\w-]+)+")
_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


@dataclass(frozen=True)
class _Person:
    """A candidate's folded names, computed once per call."""

    candidate: Candidate
    full: str
    first: str
    last: str
    addresses: frozenset[str]
    handles: frozenset[str]


def _person(candidate: Candidate) -> _Person:
    full = _fold(candidate.name)
    words = full.replace(",", " ").split()
    if "," in candidate.name and len(words) >= 2:  # "Lee, Ann"
        words = [*words[1:], words[0]]
        full = " ".join(words)
    first, last = (words[0], words[-1]) if words else ("", "")
    addresses = frozenset(
        a for a in (_fold(x) for x in (candidate.email, *candidate.aliases)) if "@" in a
    )
    handles = {a.split("@", 1)[0] for a in addresses}
    if first and last and first != last:
        handles |= {
            first + last,
            f"{first}.{last}",
            f"{first}_{last}",
            f"{first}-{last}",
            first[0] + last,
            f"{first[0]}.{last}",
            first + last[0],
        }
    return _Person(candidate, full, first, last, addresses, frozenset(handles))


def _people(candidates: Iterable[Candidate]) -> tuple[_Person, ...]:
    return tuple(_person(c) for c in candidates if isinstance(c, Candidate))


def _match(text: str, people: Sequence[_Person]) -> tuple[Candidate, ...]:
    """The candidates ``text`` refers to, best kind of match first (see ``match_people``)."""
    if m := _ANGLE.search(text):
        text = m[1]
    raw = text.strip().strip("\"'“”‘’").strip()
    handle = raw.startswith("@")
    key = _fold(raw.lstrip("@")).rstrip(".,;:!?")
    if not key or len(key) > 200:
        return ()
    if "@" in key:
        return _unique(p for p in people if key in p.addresses)
    key_words = key.replace(",", " ").split()
    swapped = " ".join([*key_words[1:], key_words[0]]) if "," in key else key
    tiers: list[Iterable[_Person]] = [
        (p for p in people if p.full in (key, swapped)),
        (p for p in people if key in p.handles),
        (p for p in people if p.first == key),
    ]
    if len(key_words) == 2 and len(key_words[1].rstrip(".")) == 1:  # "Ann L."
        first, initial = key_words[0], key_words[1][0]
        tiers.append(p for p in people if p.first == first and p.last[:1] == initial)
    if not handle and len(key_words) == 1:
        tiers.append(p for p in people if p.last == key and p.last != p.first)
    for tier in tiers:
        if found := _unique(tier):
            return found
    return ()


def _unique(people: Iterable[_Person]) -> tuple[Candidate, ...]:
    seen: dict[int, Candidate] = {}
    for p in people:
        seen.setdefault(p.candidate.key, p.candidate)
    return tuple(seen.values())


def match_people(text: str, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """The candidates a name, address, first name or "@handle" refers to; several if ambiguous.

    Tried in order, the first kind that finds someone wins: an address (``Ann Lee
    <ann@x.com>`` uses the address) against emails and aliases; the full name (also
    "Lee, Ann"); an @handle or bare handle against address local parts and
    ``first.last``-style forms; the first name; "Ann L."; the last name. Accents and
    case do not matter. Never raises; nothing found is ``()``.
    """
    try:
        return _match(str(text)[:1000], _people(candidates))
    except Exception:  # a bug here must not cost the caller the message
        return ()


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|fw|aw|wg|tr|rv|sv|vs|antw|enc|rif)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)
_WORD = re.compile(r"@?[^\W\d_][\w'’.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?")


def people_in_subject(subject: str, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """The candidates a subject names, in the order named.

    "1:1 Ann / Ben notes", "Fwd: Notes – Ann Lee 1:1", "Ben <> ann@x.com". Full names
    are found first, then single words (addresses, handles, first and last names). A
    first name shared by several candidates yields them all, as ``match_people`` does:
    the caller narrows them (e.g. to the sender's reports).
    """
    try:
        text = _REPLY_PREFIX.sub("", normalize_line(str(subject)[:1000]))
        people = _people(candidates)
        return _subject_people(text, people)
    except Exception:  # never let a subject line break the message
        return ()


def _subject_people(text: str, people: Sequence[_Person]) -> tuple[Candidate, ...]:
    folded = _fold(text)  # same length as the NFKC text only roughly, so work on folded text
    found: list[tuple[int, Candidate]] = []
    taken: list[tuple[int, int]] = []
    for p in people:
        for name in {p.full, f"{p.last}, {p.first}"}:
            if not name.strip(", "):
                continue
            for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", folded):
                found.append((m.start(), p.candidate))
                taken.append(m.span())
    for m in _WORD.finditer(folded):
        if any(start <= m.start() < end for start, end in taken):
            continue
        word = m.group().rstrip(".'’")
        if len(word.lstrip("@")) < 2:
            continue
        found.extend((m.start(), c) for c in _match(word, people))
    found.sort(key=lambda pair: pair[0])
    named: dict[int, Candidate] = {}
    for _, candidate in found:
        named.setdefault(candidate.key, candidate)
    return tuple(named.values())


_WITH = re.compile(
    r"(?:[-*•]\s*)?(?:\*\*|__)?(?:"
    r"(?:1\s*[:/-]\s*1|1\s*on\s*1|one[\s-]on[\s-]one)(?:\s+meeting)?\s+with\s*:?"
    r"|(?:meeting|check[\s-]?in|call|sync)\s+with\s*:"  # "Meeting with Ann went well" is prose
    r"|1\s*:\s*1\s*:|with\s*:|mit\s*:|avec\s*:|con\s*:)(?:\*\*|__)?\s*(.+)",
    re.I,
)
_WITH_END = re.compile(r"\s+(?:[—–|-]|on|am|le|el)\s+.*|\s*\(.*")


def with_line(text: str) -> str | None:
    """The value of the first ``with: NAME or EMAIL`` line (quoted lines are skipped).

    Also ``1:1 with Ann``, ``1:1 with: ann@x.com``, ``Meeting with: Ben``, ``mit:``,
    ``avec:``, ``con:``. The value is as written, trailing punctuation removed; give
    it to ``match_people``.
    """
    try:
        for raw in str(text).splitlines()[:5000]:
            if raw.lstrip().startswith(">"):
                continue
            line = normalize_line(raw)
            if len(line) > 300 or not (m := _WITH.fullmatch(line)):
                continue
            value = _WITH_END.sub("", m[1]).strip().rstrip(".,;:!?*_").strip()
            if value:
                return value
    except Exception:  # never let one odd line break the message
        return None
    return None


# --- dates --------------------------------------------------------------------------------

_WEEKDAY_EN = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?"
_WEEKDAY_OTHER = (
    r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo)"
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
    r"|january|february|march|april|june|july|august|september|october|november|december"
    r"|januar|j[äa]nner|februar|m[äa]rz|mai|juni|juli|oktober|dezember"
    r"|janvier|f[ée]vrier|mars|avril|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)
_COUNT = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th|\.)?"
# What a date must look like to be read as one: after a "by"/"due" word (_DUE_SHAPE), or
# alone at the end of a line or in brackets (_DATE_SHAPE: no "Q1" or month alone there,
# "Plan for Q1" and "Review the March numbers" are titles).
_SHAPES = rf"""(?:(?:on|am|le|el|the)\s+)?(?:
        today|tonight|tomorrow|tmrw|yesterday|eod|cob|eow|eom|eoq|eoy|heute|morgen|demain|mañana
      | (?:this|next|the\s+coming|coming)\s+(?:week|month|quarter)
      | (?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?(?:day|week|month|quarter|year)
      | (?:the\s+)?end\s+of\s+q[1-4]
      | (?:week|month|quarter|year)[\s-]?end
      | (?:in|within)\s+{_COUNT}\s+(?:days?|weeks?|months?)
      | manana|gestern|hier|ayer
      | (?:(?:this|next|coming|last)\s+)?{_WEEKDAY_EN}(?:\s+(?:this|next)\s+week)?
      | (?:(?:n[äa]chsten|kommenden|diesen|prochain|este|el\s+pr[óo]ximo)\s+)?{_WEEKDAY_OTHER}
        (?:\s+prochain)?
      | n[äa]chste\s+woche|ende\s+(?:der|dieser)\s+woche|ende\s+des\s+monats|monatsende
      | (?:la\s+)?semaine\s+prochaine|fin\s+(?:de\s+la\s+semaine|du\s+mois)
      | (?:la\s+)?(?:pr[óo]xima\s+semana|semana\s+que\s+viene)|fin\s+de\s+(?:mes|semana)
      | (?:{_WEEKDAY_EN},?\s+)?(?:{_MONTH})\s+{_ORDINAL}(?:,?\s+\d{{4}})?
      | (?:{_WEEKDAY_EN},?\s+)?{_ORDINAL}\s+(?:of\s+)?(?:{_MONTH})(?:,?\s+\d{{4}})?
      | (?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)
      | \d{{4}}-\d{{1,2}}-\d{{1,2}}
      | \d{{1,2}}/\d{{1,2}}(?:/\d{{2}}|/\d{{4}})?
      | \d{{1,2}}\.\d{{1,2}}\.(?:\d{{2}}|\d{{4}})?
    )"""
_DATE_SHAPE = re.compile(_SHAPES, re.I | re.X)
_DUE_SHAPE = re.compile(
    rf"""{_SHAPES}
    | (?:(?:the\s+)?end\s+of\s+)?q[1-4](?:\s+\d{{4}})?
    | \d{{1,2}}\.\d{{1,2}}(?:\.\d{{2}}|\.\d{{4}})?
    | (?:(?:the\s+)?end\s+of\s+)?(?:{_MONTH})(?:\s+\d{{4}})?""",
    re.I | re.X,
)
# Words that make what follows a due date, wherever they are in the line.
_DUE_WORD = re.compile(
    r"(?<![\w@])(?:(due|deadline|f[äa]llig)(?:\s+(?:date|on|by|am))?(?!\s+to\b)"
    r"|by|until|till|before|no\s+later\s+than|nlt"
    r"|bis(?:\s+(?:zum|zur|sp[äa]testens))?|sp[äa]testens(?:\s+(?:am|bis))?"
    r"|avant(?:\s+(?:le|la))?|d['’]ici(?:\s+(?:le|la|à|a))?|pour\s+(?:le|la)"
    r"|para\s+(?:el|la)|antes\s+del?|hasta\s+el)(?!\w)\s*:?\s*",
    re.I,
)
_RELATIVE = {
    **dict.fromkeys(("today", "tonight", "eod", "cob", "heute", "end of day", "end of the day"), 0),
    **dict.fromkeys(("tomorrow", "tmrw", "morgen", "demain", "mañana", "manana"), 1),
    **dict.fromkeys(("yesterday", "gestern", "hier", "ayer"), -1),  # then "before the meeting"
}
_NEXT_WEEK = re.compile(
    r"(?:(?:the\s+)?coming\s+week|(?:the\s+)?end\s+of\s+(?:the\s+)?next\s+week|next\s+week"
    r"|n[äa]chste\s+woche|(?:la\s+)?semaine\s+prochaine|(?:la\s+)?pr[óo]xima\s+semana"
    r"|(?:la\s+)?semana\s+que\s+viene)",
    re.I,
)
_THIS_WEEK = re.compile(
    r"(?:this\s+week|eow|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+)?week|week[\s-]?end"
    r"|ende\s+(?:der|dieser)\s+woche|fin\s+de\s+(?:la\s+)?semaine|fin\s+de\s+semana)",
    re.I,
)
_THIS_MONTH = re.compile(
    r"(?:this\s+month|eom|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+)?month|month[\s-]?end"
    r"|ende\s+des\s+monats|monatsende|fin\s+du\s+mois|fin\s+de\s+mes)",
    re.I,
)
_NEXT_MONTH = re.compile(r"(?:(?:the\s+)?end\s+of\s+(?:the\s+)?)?(?:next|coming)\s+month", re.I)
_QUARTER = re.compile(
    r"(?:eoq|(?:the\s+)?end\s+of\s+(?:the\s+)?(this\s+|next\s+)?quarter|quarter[\s-]?end"
    r"|(next|coming|this)\s+quarter|(?:(?:the\s+)?end\s+of\s+)?q([1-4])(?:\s+(\d{4}))?)",
    re.I,
)
_YEAR_END = re.compile(
    r"(?:eoy|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|(next)\s+)?year|year[\s-]?end)", re.I
)
_IN_COUNT = re.compile(rf"(?:in|within)\s+({_COUNT})\s+(day|week|month)s?", re.I)
_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_WEEKDAY_WEEK = re.compile(rf"({_WEEKDAY_EN})\s+(this|next)\s+week", re.I)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_OF_MONTH = re.compile(r"(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)", re.I)
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_NEAR_DAYS = 45  # a slashed date's reading this near the meeting wins over one …
_FAR_DAYS = 90  # … this far or further; two readings closer together are asked about


@dataclass
class _Dates:
    """What dates are relative to, and the per-message cost budget of free-form reading."""

    meeting: date
    moment: datetime  # noon of the meeting day, aware, in the meeting's zone
    timezone: str
    budget: DateBudget = field(default_factory=DateBudget)  # more is abuse, not notes
    memo: dict[str, date | _Problem | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Problem:
    reason: str


def _dates(meeting_date: date, timezone: str, budget: DateBudget | None = None) -> _Dates:
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError, TypeError):  # unknown zone: the date as given
        zone, timezone = ZoneInfo("UTC"), "UTC"
    moment = datetime.combine(meeting_date, time(12), tzinfo=zone)
    return _Dates(meeting=meeting_date, moment=moment, timezone=timezone,
                  budget=budget if budget is not None else DateBudget())


def _end_of_month(year: int, month: int) -> date:
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, 1) - timedelta(days=1)


def _month_after(day: date, months: int) -> tuple[int, int]:
    """The (year, month) ``months`` after ``day``'s month."""
    month0 = day.month - 1 + months
    return day.year + month0 // 12, month0 % 12 + 1


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day ("in a month" from 31 Jan)."""
    year, month = _month_after(day, months)
    return date(year, month, min(day.day, _end_of_month(year, month).day))


def _friday_on_or_after(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _quarter_end(m: re.Match[str], meeting: date) -> date:
    if m[3]:  # Q1 .. Q4, the next one to come (or of the year written)
        quarter = int(m[3])
        year = int(m[4]) if m[4] else meeting.year
        end = _end_of_month(year, quarter * 3)
        if not m[4] and end < meeting:
            end = _end_of_month(year + 1, quarter * 3)
        return end
    this_end = _end_of_month(meeting.year, (meeting.month - 1) // 3 * 3 + 3)
    if (m[1] or "").strip().lower() == "next" or (m[2] or "").lower() in ("next", "coming"):
        return _end_of_month(*_month_after(this_end, 3))
    return this_end


def _special_date(phrase: str, meeting: date) -> date | None:
    """The relative phrases this module reads itself (module docstring); None: not one."""
    if phrase in _RELATIVE:
        return meeting + timedelta(days=_RELATIVE[phrase])
    if _NEXT_WEEK.fullmatch(phrase):
        return _monday(meeting) + timedelta(days=7 + 4)
    if _THIS_WEEK.fullmatch(phrase):
        return _friday_on_or_after(meeting)
    if _THIS_MONTH.fullmatch(phrase):
        return _end_of_month(meeting.year, meeting.month)
    if _NEXT_MONTH.fullmatch(phrase):
        return _end_of_month(*_month_after(meeting, 1))
    if m := _QUARTER.fullmatch(phrase):
        return _quarter_end(m, meeting)
    if m := _YEAR_END.fullmatch(phrase):
        return date(meeting.year + (1 if m[1] else 0), 12, 31)
    if m := _IN_COUNT.fullmatch(phrase):
        count = _COUNT_WORDS.get(m[1].lower()) or int(m[1])
        unit = m[2].lower()
        if unit == "month":
            return _add_months(meeting, count)
        return meeting + timedelta(days=count * (7 if unit == "week" else 1))
    if m := _WEEKDAY_WEEK.fullmatch(phrase):
        target = _WEEKDAYS.index(m[1][:3].lower())
        return _monday(meeting) + timedelta(days=(7 if m[2].lower() == "next" else 0) + target)
    if m := _DAY_OF_MONTH.fullmatch(phrase):
        return _next_day_month(int(m[1]), None, meeting)
    return None


def _next_day_month(day: int, month: int | None, meeting: date) -> date | None:
    """The first such day on or after the meeting (a day alone: in this month or the next)."""
    if month is None:
        months = [_month_after(meeting, k) for k in range(3)]
    else:
        months = [(meeting.year + k, month) for k in range(9)]  # nine years hold a 29 February
    for year, mon in months:
        try:
            candidate = date(year, mon, day)
        except ValueError:
            continue
        if candidate >= meeting:
            return candidate
    return None


def _slashed(m: re.Match[str], meeting: date) -> date | _Problem | None:
    """``12/4`` read both ways; a near reading wins over a far one (module docstring)."""
    first, second, year = int(m[1]), int(m[2]), m[3]

    def reading(month: int, day: int) -> date | None:
        if not year:
            return _next_day_month(day, month, meeting)
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        except ValueError:
            return None

    us, eu = reading(first, second), reading(second, first)
    future = sorted({r for r in (us, eu) if r is not None and r >= meeting})
    if len(future) < 2:
        return future[0] if future else us or eu  # a past date is then reported as such
    near, far = future
    if (near - meeting).days <= _NEAR_DAYS and (far - meeting).days >= _FAR_DAYS:
        return near
    assert us is not None and eu is not None
    return _Problem(
        f'"{m.group()}" could be {us.day} {us:%B %Y} or {eu.day} {eu:%B %Y}. '
        f"Write the date as {us.isoformat()} or {us.day} {us:%b}"
    )


_FAST = re.compile(
    rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}\.\d{{1,2}}\.?(?:\d{{2}}|\d{{4}})?"
    rf"|(?:(?:this|coming|next|last|on|by)\s+)?{_WEEKDAY_EN})",
    re.I,
)


@lru_cache(maxsize=4096)
def _read_phrase(
    phrase: str, meeting: date, moment: datetime, timezone: str
) -> date | _Problem | None:
    """A date phrase (already lower-cased, articles kept) on its own, or None."""
    phrase = re.sub(r"^(?:on|am|le|el)\s+", "", phrase.strip().rstrip(".!?,;:").strip())
    if (special := _special_date(phrase, meeting)) is not None:
        return special
    if m := _SLASHED.fullmatch(phrase):
        return _slashed(m, meeting)
    return read_date(phrase, moment, timezone)


def _read_due(phrase: str, dates: _Dates) -> date | _Problem | None:
    """A date phrase read and checked: on or after the meeting, within the message's budget."""
    key = " ".join(phrase.lower().split())
    if key not in dates.memo:
        if not _FAST.fullmatch(key) and not dates.budget.spend():
            return _Problem(_unreadable(phrase))  # thousands of dates: not notes, so no guessing
        dates.memo[key] = _read_phrase(key, dates.meeting, dates.moment, dates.timezone)
    found = dates.memo[key]
    if isinstance(found, date) and found < dates.meeting:
        shown = f'"{phrase}"' if phrase == found.isoformat() else f'"{phrase}" ({found})'
        return _Problem(
            f"{shown} is before the meeting on {dates.meeting.isoformat()}. Write a due date "
            f"on or after the meeting, e.g. by {(dates.meeting + timedelta(days=7)).isoformat()}"
        )
    return found


@dataclass(frozen=True)
class _Due:
    due: date | None
    text: str | None
    rest: str
    problem: str | None = None


_STOP_AT = re.compile(r"[,;()\[\]]|\s[—–-]\s|\s+(?:and|so|to|then|for|because|und|et|y)\s", re.I)


def _date_words(text: str, limit: int = 6) -> list[re.Match[str]]:
    """The words a date may be made of at the start of ``text``: up to a comma or bracket."""
    stop = _STOP_AT.search(text)
    chunk = text[: stop.start()] if stop else text
    return list(re.finditer(r"\S+", chunk))[:limit]


def _unreadable(phrase: str) -> str:
    return (
        f'I could not read the date "{phrase}". '
        "Write e.g. by Friday, by 2026-12-04, next week or end of month"
    )


_EVERY = re.compile(
    r"(?<!\w)(?:every|each|jede[nrm]?|chaque|tous\s+les|cada|todos\s+los)\s*$", re.I
)
_DANGLING = re.compile(r"\s+(?:for|on|at|am|le|el|bis|avant|para)\s*$", re.I)


def _find_due(body: str, dates: _Dates) -> _Due:
    """The due date of an item body, and the body without it (module docstring)."""
    # 1. After a due word, anywhere: "by Friday", "(due 2026-12-04)", "bis Freitag".
    for m in _DUE_WORD.finditer(body):
        after = body[m.end() :]
        words = _date_words(after)
        for count in range(len(words), 0, -1):
            phrase = after[: words[count - 1].end()]
            phrase = phrase.rstrip("!?")
            if not _DUE_SHAPE.fullmatch(phrase):
                phrase = phrase.rstrip(".")
                if not _DUE_SHAPE.fullmatch(phrase):
                    continue
            found = _read_due(phrase, dates)
            if found is None:
                continue
            text = body[m.start() : m.end() + len(phrase)].strip()
            rest = body[: m.start()] + " " + body[m.end() + len(phrase) :]
            if isinstance(found, _Problem):
                return _Due(None, text, rest, found.reason)
            return _Due(found, text, rest)
        shown = " ".join(w.group() for w in words[:4]).rstrip(".!?")
        if m[1] and any(ch.isdigit() for ch in shown):  # "due 2026-13-45": not a date
            end = m.end() + words[min(len(words), 4) - 1].end()
            rest = body[: m.start()] + " " + body[end:]
            return _Due(None, m.group().strip() + " " + shown, rest, _unreadable(shown))
    # 2. A bracketed date: "(Friday)", "[Dec 12]".
    for m in re.finditer(r"[(\[]\s*([^()\[\]]{1,40}?)\s*[)\]]", body):
        if _DATE_SHAPE.fullmatch(m[1]) and (found := _read_due(m[1], dates)) is not None:
            rest = body[: m.start()] + " " + body[m.end() :]
            if isinstance(found, _Problem):
                return _Due(None, m[1], rest, found.reason)
            return _Due(found, m[1], rest)
    # 3. A date at the end of the line: "call the vendor next week", "chase legal — Dec 12".
    trimmed = body.rstrip(" !;,")  # a final "." may be the date's ("by 18.12.")
    words = list(re.finditer(r"\S+", trimmed))
    for count in range(min(len(words) - 1, 6), 0, -1):  # a line that is only a date: no item
        start = words[-count].start()
        phrase = trimmed[start:]
        if not _DATE_SHAPE.fullmatch(phrase):
            phrase = phrase.rstrip(".")
            if not _DATE_SHAPE.fullmatch(phrase):
                continue
        if _EVERY.search(trimmed[:start]):
            break  # "every Friday" repeats; it is no due date
        found = _read_due(phrase, dates)
        if found is None:
            continue
        rest = _DANGLING.sub("", trimmed[:start])
        if isinstance(found, _Problem):
            return _Due(None, phrase, rest, found.reason)
        return _Due(found, phrase, rest)
    return _Due(None, None, body)


# --- owners -------------------------------------------------------------------------------

_SELF = frozenset({"i", "me", "myself", "ich", "je", "moi", "yo", "mich"})
_GROUP = frozenset(
    {"we", "us", "team", "the team", "everyone", "everybody", "all", "both", "wir",
     "nous", "on", "nosotros", "alle", "tous", "todos", "both of us"}
)  # fmt: skip
_PRONOUNS = frozenset(
    {"he", "she", "they", "him", "her", "them", "er", "sie", "il", "elle", "ils", "elles",
     "él", "ella", "ellos", "someone", "somebody", "jemand", "quelqu'un", "alguien", "tbd",
     "tba", "who", "anyone", "anybody"}
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs that start tasks: "Ben: send the deck" is an item, "Ben: things went well" is not.
_VERBS = _words(
    """
    add align approve arrange ask assign audit book bring build buy call cancel change chase
    check circle clarify clean close collect compare complete confirm connect contact
    coordinate create decide define deliver demo design discuss document draft drive email
    escalate estimate evaluate explain file finalize finalise find finish fix follow forward
    gather get give go hand handle help hire hold identify implement include inform interview
    introduce investigate invite join keep learn let look loop make map meet mention merge
    migrate move negotiate notify onboard open order organize organise outline own pair pay pick
    ping plan post prep prepare present prioritise prioritize propose publish push put raise
    reach read reconcile record reduce refine remind remove renew reply report request
    research reserve resolve respond review revise rotate run schedule scope send set setup
    share ship sign speak start submit summarize summarise sync take talk tell test think
    track train translate try update upload use validate verify visit wait walk work write
    """
)
# Capitalised words that start sentences but are not people ("Talk to legal").
_NOT_NAMES = _VERBS | _words(
    """
    a an the this that these those it its there here then also and or but if so as
    what when where why how which who please pls let lets let's just still maybe
    need needs want wants plan plans hope going ready able happy glad good great hard easy
    next due back up later now today tomorrow soon time nothing everything something
    talked spoke went said told met got gave came took sent wrote ran agreed asked moved
    decided reached explained discussed reviewed mentioned noted shared
    action todo note notes question idea decision reminder remember topic topics update
    budget pricing hiring launch project goal goals task tasks meeting agenda summary
    marketing sales legal finance engineering design product support ops hr it security
    management leadership customer customers client clients vendor vendors company
    overall blockers blocker feedback status context background risks risk
    """
)
_FUNCTION_WORDS = _words(
    """a an the and or of with from for in on at by to as is are was were his her their our
    my your its this that these those team's has had"""
)
_PLEASE = re.compile(r"(?:please|pls|plz|bitte|merci\s+de|por\s+favor)\s+", re.I)


def _imperative(text: str) -> bool:
    """Whether ``text`` reads as an instruction: "please …" or a task verb first."""
    if _PLEASE.match(text):
        return True
    first = re.match(r"[^\W\d_]+", text)
    return bool(first) and first.group().lower() in _VERBS


def _base_form(verb: str) -> str | None:
    """``drafts`` → ``draft``, ``fixes`` → ``fix``, ``tries`` → ``try``; None: not third person."""
    lower = verb.lower()
    if lower in ("has", "is", "was", "does"):
        return {"has": "have", "does": "do"}.get(lower)
    if len(lower) < 4 or not lower.endswith("s") or lower.endswith("ss"):
        return None
    if lower.endswith("ies"):
        stem = verb[:-3] + "y"
    elif lower.endswith(("ches", "shes", "xes", "zes", "sses", "oes")):
        stem = verb[:-2]
    else:
        stem = verb[:-1]
    return stem if stem.lower() in _VERBS else None


_NAME_WORD = r"(?:@?[^\W\d_](?:[\w.-]|['’](?!ll\b))*(?:@[\w-]+(?:\.[\w-]+)+)?)"
_JOIN = r"(?:\s*(?:,|&|/|\+)\s*|\s+(?:and|und|et|y)\s+)"
_WORD_AT = re.compile(rf"\s*{_NAME_WORD}")
_JOIN_AT = re.compile(_JOIN, re.I)
_CONNECTOR = re.compile(
    r"\s*:(?!//)\s*|\s+[—–-]\s+|['’]ll\s+|\s+(?:to|will|shall|should|must|needs?\s+to|has\s+to"
    r"|have\s+to|is\s+going\s+to|am\s+going\s+to|going\s+to|wird|werde|soll|muss|va(?:\s+a)?"
    r"|vais|doit|dois|debe|tiene\s+que|se\s+encarga\s+de)\s+",
    re.I,
)
# Without a marker, only these make "NAME …" an item ("Ann said …" stays prose).
_LOOSE_CONNECTORS = frozenset(
    {"to", "will", "'ll", "’ll", "wird", "werde", "va", "va a", "needs to", "need to",
     "is going to", "am going to", "going to"}
)  # fmt: skip
_WILL_NOT = re.compile(
    r"(?:(?:also|both|all|still|probably|likely|definitely|certainly|then|each|soon|really"
    r"|just)\s+)*(?:be|have|not|never|probably|likely|maybe)(?!\w)",
    re.I,
)
_EXAMPLE_ACTION = "ACTION: Ben to send the pricing memo by Friday"


@dataclass(frozen=True)
class _Owner:
    text: str | None  # as written
    key: int | None
    problem: str | None = None
    group: bool = False  # "we", "the team": the default owner


@dataclass
class _People:
    """The candidates and the people "I" and nobody-written mean."""

    people: tuple[_Person, ...]
    author: int | None
    default: int | None
    memo: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)

    def match(self, text: str) -> tuple[Candidate, ...]:
        key = text.strip()
        if key not in self.memo:
            self.memo[key] = _match(key, self.people)
        return self.memo[key]


def _split_owners(phrase: str) -> list[str]:
    return [p.strip() for p in _JOIN_AT.split(phrase.strip()) if p.strip()]


def _looks_like_name(part: str) -> bool:
    """An unknown owner worth a problem: capitalised words, not verbs or common words."""
    if part.startswith("@") or _ADDRESS.fullmatch(part):
        return True
    words = part.split()
    if not 1 <= len(words) <= 3:
        return False
    for word in words:
        bare = word.strip(".'’")
        if not bare or not bare[0].isupper() or bare.lower() in _NOT_NAMES:
            return False
        if len(bare) > 4 and bare.lower().endswith(("ed", "ing")):
            return False
    return True


def _ambiguous(text: str, found: Sequence[Candidate], what: str) -> str:
    names = ", ".join(f"{c.name} <{c.email}>" for c in found[:6])
    return f'"{text}" could be {names}. Write the address, e.g. ACTION: {found[0].email} to {what}'


def _unknown(text: str, what: str) -> str:
    return (
        f'I do not know "{text}". Write the owner\'s email address, '
        f"e.g. ACTION: name@company.example to {what}"
    )


def _who(text: str, what: str) -> str:
    return f'I cannot tell who "{text}" is. Write the name, e.g. ACTION: Ann to {what}'


def _resolve(phrase: str, people: _People, what: str) -> _Owner | None:
    """An owner phrase ("Ben", "@ann", "Ann and Ben", "I") resolved; None: not an owner."""
    phrase = phrase.strip().strip("*_").strip()
    what = what or "send the memo"
    parts = _split_owners(phrase)
    if not parts:
        return None
    if len(parts) > 1:
        if not all(people.match(p) or _looks_like_name(p) for p in parts):
            return None
        example = parts[0].lstrip("@")
        return _Owner(
            phrase,
            None,
            f'One owner per action item, not "{phrase}". '
            f"Write one line each, e.g. ACTION: {example} to {what}",
        )
    folded = _fold(phrase.lstrip("@"))
    if folded in _SELF:
        if people.author is None:
            return _Owner(phrase, None, _who(phrase, what))
        return _Owner(phrase, people.author)
    if folded in _GROUP or folded.removeprefix("the ") in _GROUP:
        return _Owner(None, people.default, group=True)
    if folded in _PRONOUNS:
        return _Owner(phrase, None, _who(phrase, what))
    found = people.match(phrase)
    if len(found) == 1:
        return _Owner(phrase, found[0].key)
    if found:
        return _Owner(phrase, None, _ambiguous(phrase, found, what))
    if _looks_like_name(phrase):
        return _Owner(phrase, None, _unknown(phrase, what))
    return None


def _phrase_ends(body: str) -> list[int]:
    """Where an owner phrase may end: after each of up to 3 words of up to 3 joined names."""
    ends: list[int] = []
    position, words, parts = 0, 0, 1
    while len(ends) < 9:
        if ends and (join := _JOIN_AT.match(body, position)):
            parts, words, position = parts + 1, 0, join.end()
            if parts > 3:
                break
            continue
        word = _WORD_AT.match(body, position)
        if word is None:
            break
        words += 1
        if words > 3:
            break
        position = word.end()
        ends.append(position)
    return ends


def _name_chip(body: str, people: _People) -> tuple[_Owner, str] | None:
    """``@Ann Lee …``: an @ and a candidate's full name (two or three words)."""
    words = list(re.finditer(r"\S+", body[1:120]))
    for count in (3, 2):
        if len(words) <= count:
            continue
        name = body[1 : 1 + words[count - 1].end()]
        if any(p.full == _fold(name) for p in people.people):
            rest = re.sub(r"^\s*(?:[:,]|[—–-](?=\s))?\s*", "", body[1 + words[count - 1].end() :])
            owner = _resolve(name, people, _lower_first(rest))
            if owner is not None:
                return owner, _after_connector(rest)
    return None


def _after_connector(rest: str) -> str:
    """``to review …`` after "@Dev Patel" is the task: the connector goes."""
    m = _CONNECTOR.match(" " + rest)
    return rest if m is None or ":" in m.group() else (" " + rest)[m.end() :]


def _leading_owner(body: str, people: _People, *, marked: bool) -> tuple[_Owner, str] | None:
    """``Ben to …``, ``Ann: …``, ``@ben …``, ``I'll …`` at the start of an item body.

    Without a marker (``marked`` False) only ``NAME to/will/'ll …`` counts, and only
    for someone the meeting knows (or "I"), and not ``NAME will be …``.
    """
    if m := re.match(r"(@[\w.+-]*\w(?:@[\w-]+(?:\.[\w-]+)+)?)\s*(?:[:,]|[—–-](?=\s))?\s*", body):
        chip = _name_chip(body, people)  # Google Docs: "@Ann Lee Review the doc"
        if chip is not None:
            return chip
        owner = _resolve(m[1], people, _lower_first(body[m.end() :]))
        if owner is not None:
            return owner, body[m.end() :]
    if marked and (lead := re.match(r"(?:for|f[üu]r|pour|para)\s+", body, re.I)):
        addressed = body[lead.end() :]  # "TODO for Ben: renew the certificate"
        for end in _phrase_ends(addressed):
            connector = _CONNECTOR.match(addressed, end)
            if connector is not None and connector.group().strip() == ":":
                rest = addressed[connector.end() :]
                owner = _resolve(addressed[:end], people, _lower_first(rest))
                if owner is not None:
                    return owner, rest
                break
    for end in _phrase_ends(body):
        connector = _CONNECTOR.match(body, end)
        if connector is None:
            if marked and (known := _known_then_verb(body, end, people)) is not None:
                return known
            continue
        phrase, rest = body[:end], body[connector.end() :]
        word = " ".join(connector.group().split()).lower()
        if word in ("—", "–", "-") and not people.match(phrase):
            continue  # "Pricing — Ann to send …": a dash only follows a known person
        if not marked:
            if word == ":" and _imperative(rest):
                pass  # "Ben: please send me your self-assessment"
            elif word not in _LOOSE_CONNECTORS:
                continue
            if word in ("will", "wird", "werde", "'ll", "’ll") and _WILL_NOT.match(rest):
                return None  # "Ann will be out next week": a fact, not a task
            names = _split_owners(phrase)
            if _fold(phrase) not in _SELF and not all(people.match(n) for n in names):
                return None  # prose about someone the meeting does not know
        owner = _resolve(phrase, people, _lower_first(rest))
        if owner is not None:
            return owner, rest
        if word == ":":
            return None  # "Budget: …" is a topic, and no owner can come after it
    return None


def _known_then_verb(body: str, end: int, people: _People) -> tuple[_Owner, str] | None:
    """Under a marker, ``Dev drafts the proposal`` / ``Ben + Chloé pair on …``: known people
    followed by a verb (third person is made a title: "Draft the proposal")."""
    phrase = body[:end]
    names = _split_owners(phrase)
    if not names or not all(people.match(n) for n in names):
        return None
    after = re.match(r"\s+([^\W\d_]+)(?=\s|$)", body[end:])
    if after is None:
        return None
    verb = after[1]
    base = _base_form(verb)
    known_verb = base is not None or verb.lower() in _VERBS
    # an unknown word is taken for a verb if lower-case and not one that joins a name to a noun
    if not known_verb and (not verb.islower() or verb in _FUNCTION_WORDS):
        return None
    rest = (base or verb) + body[end + after.end() :]
    owner = _resolve(phrase, people, _lower_first(rest))
    return (owner, rest) if owner is not None else None


_TRAILING_OWNER = (
    # "Owner: Ann", "(owner: Ann)", "assigned to Ann", at the end
    re.compile(
        r"[\s.,;(\[—–-]*(?:owners?|assignee|assigned\s+to|responsible|verantwortlich|responsable"
        r"|wer|qui|qui[ée]n)\s*[:=]?\s+(?P<who>[^()\[\].,;]{1,60}?)\s*[)\]]?\s*[.!]?\s*$",
        re.I,
    ),
    re.compile(r"\s*(?:->|→|=>|⇒)\s*(?P<who>[^()\[\].,;]{1,60}?)\s*[.!]?\s*$"),
)
_TRAILING_KNOWN = (  # only when every name in it is a candidate
    re.compile(r"\s*[(\[]\s*(?P<who>[^()\[\]]{1,60}?)\s*[)\]]\s*[.!]?\s*$"),
    re.compile(r"\s+[—–-]\s*(?P<who>[^—–\-()\[\]]{1,60}?)\s*[.!]?\s*$"),
)
_ANY_HANDLE = re.compile(r"(?<![\w@.])@([\w.+-]*\w(?:@[\w-]+(?:\.[\w-]+)+)?)")


def _trailing_owner(body: str, people: _People) -> tuple[_Owner, str] | None:
    """``… Owner: Ann``, ``… -> Ann``, ``… (Ann)``, ``… — Ann`` or an @handle anywhere."""
    for pattern in _TRAILING_OWNER:
        if m := pattern.search(body):
            owner = _resolve(m["who"], people, _lower_first(body[: m.start()]))
            if owner is not None:
                return owner, body[: m.start()]
    for pattern in _TRAILING_KNOWN:
        m = pattern.search(body)
        if m and all(people.match(name) for name in _split_owners(m["who"]) or ["-"]):
            owner = _resolve(m["who"], people, _lower_first(body[: m.start()]))
            if owner is not None:
                return owner, body[: m.start()]
    handles = list(dict.fromkeys(_ANY_HANDLE.findall(body)))
    if handles:
        rest = " ".join(_ANY_HANDLE.sub(" ", body).split())
        owner = _resolve(" and ".join(f"@{h}" for h in handles), people, _lower_first(rest))
        if owner is not None:
            return owner, rest
    return None


# --- lines --------------------------------------------------------------------------------

_BULLET = re.compile(r"(?:[-•·◦▪‣–—]\s*|\*(?!\*)\s*|\d{1,3}[.)]\s+|[a-h][.)]\s+)")
_CHECKBOX = re.compile(r"(?:\[\s?[xX✓✔✗ ]?\s?\]|[☐☑☒✅✔✓])\s*")
_EMPHASIS = re.compile(r"^(?:\*\*|__)|(?:\*\*|__)$")
_GRAMMAR_LINE = re.compile(
    r"(?:[#\[(]?\s*T[-\u2010-\u2014\u2212]?\s?\d+(?!\w)|(?:new(?:\s+task)?|met|skip|skipped|due)\s*:"
    r"|\+\s)",
    re.I,
)
_MARKER = re.compile(
    r"(?i:(?:\*\*|__)?(?:action(?:\s+(?:items?|points?))?|ai|ap|a\.i\.|to-?\s?do|follow[\s-]?up"
    r"|f/u|aufgabe|ma(?:ß|ss)nahme|[àa]\s+faire|tarea|acci[óo]n|pendiente)"
    r"(?:\s*\((?P<owner>[^()]{1,60})\))?(?:\*\*|__)?(?:\s*:|\s+[-–—](?=\s))(?:\*\*|__)?\s*)"
    r"|(?:ACTION|TODO)(?:\s+|(?=@))",  # in capitals, a marker even without a colon
)
_HEADING_WORDS = (
    r"(?:next\s+steps?|action\s+(?:items?|points?)|actions?|to-?\s?dos?|to\s+do|follow[\s-]?ups?"
    r"|tasks?|open\s+(?:items|points)|takeaways?|aufgaben|n[äa]chste\s+schritte|to-?dos?"
    r"|ma(?:ß|ss)nahmen|[àa]\s+faire|prochaines?\s+[ée]tapes|actions?\s+[àa]\s+mener|tareas"
    r"|pr[óo]ximos\s+pasos|pendientes|acciones)"
)
_SECTION = re.compile(
    rf"#*\s*(?:\*\*|__)?{_HEADING_WORDS}(?P<tail>\s+[^:]{{0,40}})?(?:\*\*|__)?\s*:(?:\*\*|__)?\s*"
    rf"|#*\s*(?:\*\*|__)?{_HEADING_WORDS}(?:\*\*|__)?\s*",
    re.I,
)
_SECTION_INLINE = re.compile(rf"{_HEADING_WORDS}\s*:\s*(?=\S)", re.I)
_OTHER_HEADING = re.compile(r"#+\s+.*|(?:\*\*|__)[^*_]{1,80}(?:\*\*|__):?|[^:]{1,60}:")
_NOTHING = re.compile(r"(?:none|n/a|na|nothing|-+|—|keine|aucune?|ninguna?)\.?", re.I)
_FALLBACK = "I could not read this action item. Write e.g. " + _EXAMPLE_ACTION


def _lower_first(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _capitalised(text: str) -> str:
    if not text or (len(text) > 1 and text[1].isupper()):
        return text
    return text[:1].upper() + text[1:]


_PROJECT = re.compile(r"(?<![\w@])[#\[(]?P[-\u2010-\u2014\u2212]?(\d{1,9})[\])]?(?!\w)", re.I)


def _tidy(what: str) -> str:
    what = re.sub(r"[(\[]\s*[)\]]", " ", what)
    what = " ".join(what.split())
    what = re.sub(r"\s+([,.;:!?])", r"\1", what)
    for _ in range(3):
        what = what.strip(" \t:;,.-–—*_=>→|")
        what = re.sub(r"^(?:to|please|pls|bitte)\s+", "", what, flags=re.I)
    return _capitalised(what)


def _item(
    body: str,
    raw: str,
    people: _People,
    dates: _Dates,
    *,
    marked: bool,
    owner_hint: str | None = None,
    unwritten: _Owner | None = None,
) -> ActionItem | None:
    """An item body (marker, bullet and checkbox removed) read into an ``ActionItem``."""
    body = _EMPHASIS.sub("", body.strip()).strip()
    if not body or _NOTHING.fullmatch(body):
        return None if not marked or _NOTHING.fullmatch(body) else _empty(raw, people)
    owner = _resolve(owner_hint, people, _lower_first(body)) if owner_hint else None
    if owner is None:  # "ACTION (urgent): …" names no one, so the body may
        if not marked and body.endswith("?"):
            return None  # "Ann to Berlin in January?" asks; it assigns nothing
        lead = _leading_owner(body, people, marked=marked)
        if lead is None and not marked:
            return None
        if lead is not None:
            owner, body = lead
    due = _find_due(body, dates)
    body = due.rest
    projects = [f"P-{int(n)}" for n in _PROJECT.findall(body)]
    body = _PROJECT.sub(" ", body)
    if owner is None and (trail := _trailing_owner(body, people)) is not None:
        owner, body = trail
    what = _tidy(body)
    if not what:
        return _empty(raw, people)
    if owner is None or owner.group:
        owner = unwritten or _Owner(None, people.default)
    problems = [p for p in (owner.problem, due.problem) if p]
    return ActionItem(
        line=raw,
        what=what,
        owner_text=owner.text,
        owner=owner.key,
        due=due.due,
        due_text=due.text,
        project=projects[0] if projects else None,
        problem=" ".join(problems) or None,
    )


def _empty(raw: str, people: _People) -> ActionItem:
    return ActionItem(
        line=raw,
        what="",
        owner=people.default,
        problem=f"Say what is to be done, e.g. {_EXAMPLE_ACTION}",
    )


@dataclass
class _Section:
    """Inside a "Next steps:" list: its lines are items until it ends."""

    open: bool = False
    gap: bool = False  # a blank line since the last item
    listed: bool = False  # its items are bullets: a line that is none ends it
    owner: _Owner | None = None  # "Action items for Dev:" gives its items an owner

    def start(self, tail: str | None, people: _People) -> None:
        self.open, self.gap, self.listed, self.owner = True, False, False, None
        if tail and (m := re.fullmatch(r"\s*(?:for|f[üu]r|pour|para|von|de)\s+(.+?)\s*", tail)):
            self.owner = _resolve(m[1].strip("*_ "), people, "")


def _strip_list_marks(text: str) -> tuple[str, bool, bool]:
    """The text without bullet and checkbox; whether it had a bullet, whether a checkbox."""
    bullet = checkbox = False
    if m := _BULLET.match(text):
        text, bullet = text[m.end() :], True
    if m := _CHECKBOX.match(text):
        text, checkbox = text[m.end() :], True
    return text.strip(), bullet, checkbox


def _read_line(
    line: str, raw: str, section: _Section, people: _People, dates: _Dates
) -> ActionItem | None:
    text, bullet, checkbox = _strip_list_marks(line)
    if not text:
        return None
    if _GRAMMAR_LINE.match(text):
        return None  # the reply grammar's (task updates, met:, new:)
    if m := _SECTION.fullmatch(text):
        section.start(m["tail"], people)
        return None
    if (m := _SECTION_INLINE.match(text)) and not _MARKER.match(text):
        section.start(None, people)  # "Next steps: Ann to book the room"
        return _item(text[m.end() :], raw, people, dates, marked=True)
    if m := _MARKER.match(text):
        return _item(text[m.end() :], raw, people, dates, marked=True, owner_hint=m["owner"])
    if section.open:
        if (section.gap or section.listed) and not (bullet or checkbox):
            section.open = False
        elif _OTHER_HEADING.fullmatch(text) and not (bullet or checkbox):
            section.open = False
            return None
        else:
            section.gap, section.listed = False, section.listed or bullet or checkbox
            return _item(text, raw, people, dates, marked=True, unwritten=section.owner)
    if checkbox:
        return _item(text, raw, people, dates, marked=True)
    if _OTHER_HEADING.fullmatch(text) and not text.startswith("@"):
        return None
    return _item(text, raw, people, dates, marked=False)


def find_action_items(
    text: str,
    *,
    candidates: Sequence[Candidate],
    meeting_date: date,
    timezone: str,
    default_owner: int | None = None,
    author: int | None = None,
    date_budget: DateBudget | None = None,
) -> tuple[ActionItem, ...]:
    """The action items in meeting notes, in the order written (module docstring).

    ``candidates`` are the people owners are looked up among; ``author`` is who
    "I"/"me" is (the sender of the notes); ``default_owner`` owns items that name
    nobody (or "we"). Dates are relative to ``meeting_date`` in ``timezone``, and
    ``date_budget`` (the message's, shared with its other readers) bounds the dates in
    words read. Never raises: a line that breaks the reader becomes an item with a problem.
    """
    people = _People(_people(candidates), author, default_owner)
    dates = _dates(meeting_date, timezone, date_budget)
    section = _Section()
    items: list[ActionItem] = []
    for raw_line in str(text).splitlines():
        raw = raw_line.strip()
        if raw.startswith(">"):
            continue  # quoted: someone else's words, already handled or not ours
        line = normalize_line(raw)
        if not line:
            section.gap = True
            continue
        if line.startswith("--") and not line.strip("- "):
            section.open = False  # a signature or a rule ends a list
            continue
        try:
            item = _read_line(line, raw, section, people, dates)
        except Exception:  # a reader bug costs one line, and says so
            item = ActionItem(line=raw, what="", owner=default_owner, problem=_FALLBACK)
        if item is not None:
            items.append(item)
    return tuple(items)
