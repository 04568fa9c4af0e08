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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from mail.read.dates import DateBudget
from mail.read.explanation import N_, Explanation
from mail.read.notes_dates import DueDates, due_dates, find_due
from mail.read.notes_owners import (
    EXAMPLE_ACTION,
    Owner,
    People,
    leading_owner,
    lower_first,
    resolve_owner,
    trailing_owner,
)
from mail.read.notes_people import Candidate, persons
from mail.read.vocabulary import normalize_line

__all__ = ["ActionItem", "find_action_items"]


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
_FALLBACK = Explanation(N_("I could not read this action item. Write e.g. %(example)s"),
                        example=EXAMPLE_ACTION)


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
    people: People,
    dates: DueDates,
    *,
    marked: bool,
    owner_hint: str | None = None,
    unwritten: Owner | None = None,
) -> ActionItem | None:
    """An item body (marker, bullet and checkbox removed) read into an ``ActionItem``."""
    body = _EMPHASIS.sub("", body.strip()).strip()
    if not body or _NOTHING.fullmatch(body):
        return None if not marked or _NOTHING.fullmatch(body) else _empty(raw, people)
    owner = resolve_owner(owner_hint, people, lower_first(body)) if owner_hint else None
    if owner is None:  # "ACTION (urgent): …" names no one, so the body may
        if not marked and body.endswith("?"):
            return None  # "Ann to Berlin in January?" asks; it assigns nothing
        lead = leading_owner(body, people, marked=marked)
        if lead is None and not marked:
            return None
        if lead is not None:
            owner, body = lead
    due = find_due(body, dates)
    body = due.rest
    projects = [f"P-{int(n)}" for n in _PROJECT.findall(body)]
    body = _PROJECT.sub(" ", body)
    if owner is None and (trail := trailing_owner(body, people)) is not None:
        owner, body = trail
    what = _tidy(body)
    if not what:
        return _empty(raw, people)
    if owner is None or owner.group:
        owner = unwritten or Owner(None, people.default)
    problems = [p for p in (owner.problem, due.problem) if p]
    return ActionItem(
        line=raw,
        what=what,
        owner_text=owner.text,
        owner=owner.key,
        due=due.due,
        due_text=due.text,
        project=projects[0] if projects else None,
        problem=_both(problems),
    )


def _both(problems: list[str]) -> str | None:
    """The owner's and the due date's problems as one, each still translatable (a
    template that is no message: the answer keeps it and words the two parts)."""
    if len(problems) < 2:
        return problems[0] if problems else None
    return Explanation("%(first)s %(second)s", first=problems[0], second=problems[1])


def _empty(raw: str, people: People) -> ActionItem:
    return ActionItem(
        line=raw,
        what="",
        owner=people.default,
        problem=Explanation(N_("Say what is to be done, e.g. %(example)s"),
                            example=EXAMPLE_ACTION),
    )


@dataclass
class _Section:
    """Inside a "Next steps:" list: its lines are items until it ends."""

    open: bool = False
    gap: bool = False  # a blank line since the last item
    listed: bool = False  # its items are bullets: a line that is none ends it
    owner: Owner | None = None  # "Action items for Dev:" gives its items an owner

    def start(self, tail: str | None, people: People) -> None:
        self.open, self.gap, self.listed, self.owner = True, False, False, None
        if tail and (m := re.fullmatch(r"\s*(?:for|f[üu]r|pour|para|von|de)\s+(.+?)\s*", tail)):
            self.owner = resolve_owner(m[1].strip("*_ "), people, "")


def _strip_list_marks(text: str) -> tuple[str, bool, bool]:
    """The text without bullet and checkbox; whether it had a bullet, whether a checkbox."""
    bullet = checkbox = False
    if m := _BULLET.match(text):
        text, bullet = text[m.end() :], True
    if m := _CHECKBOX.match(text):
        text, checkbox = text[m.end() :], True
    return text.strip(), bullet, checkbox


def _read_line(
    line: str, raw: str, section: _Section, people: People, dates: DueDates
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
    people = People(persons(candidates), author, default_owner)
    dates = due_dates(meeting_date, timezone, date_budget)
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
