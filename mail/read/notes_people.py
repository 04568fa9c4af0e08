"""Who meeting notes are about and whom they name: the people of ``mail.read.notes``.

Names, addresses, @handles and first names are matched against the candidates the
caller offers (the rules are in ``match_people``); the subject and a ``with:`` line
say whom a forwarded 1:1's notes are about. Pure, and never raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mail.read.vocabulary import SUBJECT_PREFIXES, normalize_line

__all__ = [
    "WRITTEN_ADDRESS",
    "Candidate",
    "Person",
    "fold_name",
    "match_people",
    "match_persons",
    "people_in_subject",
    "persons",
    "with_line",
]


@dataclass(frozen=True)
class Candidate:
    """A person notes may name: the meeting's people, their team, whoever the caller offers."""

    key: int  # person id
    name: str  # "Ann Lee"
    email: str  # lower-case
    aliases: tuple[str, ...] = ()  # other addresses


# --- people -------------------------------------------------------------------------------


def fold_name(text: str) -> str:
    """Casefolded, accents removed, single spaces: "Chloé  MARTIN" and "chloe martin" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("’", "'").split())


WRITTEN_ADDRESS = re.compile(r"[^@\s<>,;:\"'()\[\]]+@[\w-]+(?:\.[\w-]+)+")
_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


@dataclass(frozen=True)
class Person:
    """A candidate's folded names, computed once per call."""

    candidate: Candidate
    full: str
    first: str
    last: str
    addresses: frozenset[str]
    handles: frozenset[str]


def _person(candidate: Candidate) -> Person:
    full = fold_name(candidate.name)
    words = full.replace(",", " ").split()
    if "," in candidate.name and len(words) >= 2:  # "Lee, Ann"
        words = [*words[1:], words[0]]
        full = " ".join(words)
    first, last = (words[0], words[-1]) if words else ("", "")
    addresses = frozenset(
        a for a in (fold_name(x) for x in (candidate.email, *candidate.aliases)) if "@" in a
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
    return Person(candidate, full, first, last, addresses, frozenset(handles))


def persons(candidates: Iterable[Candidate]) -> tuple[Person, ...]:
    return tuple(_person(c) for c in candidates if isinstance(c, Candidate))


def match_persons(text: str, people: Sequence[Person]) -> tuple[Candidate, ...]:
    """The candidates ``text`` refers to, best kind of match first (see ``match_people``)."""
    if m := _ANGLE.search(text):
        text = m[1]
    raw = text.strip().strip("\"'“”‘’").strip()
    handle = raw.startswith("@")
    key = fold_name(raw.lstrip("@")).rstrip(".,;:!?")
    if not key or len(key) > 200:
        return ()
    if "@" in key:
        return _unique(p for p in people if key in p.addresses)
    key_words = key.replace(",", " ").split()
    swapped = " ".join([*key_words[1:], key_words[0]]) if "," in key else key
    tiers: list[Iterable[Person]] = [
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


def _unique(people: Iterable[Person]) -> tuple[Candidate, ...]:
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
        return match_persons(str(text)[:1000], persons(candidates))
    except Exception:  # a bug here must not cost the caller the message
        return ()


_WORD = re.compile(r"@?[^\W\d_][\w'’.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?")


def people_in_subject(subject: str, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """The candidates a subject names, in the order named.

    "1:1 Ann / Ben notes", "Fwd: Notes – Ann Lee 1:1", "Ben <> ann@x.com". Full names
    are found first, then single words (addresses, handles, first and last names). A
    first name shared by several candidates yields them all, as ``match_people`` does:
    the caller narrows them (e.g. to the sender's reports).
    """
    try:
        text = SUBJECT_PREFIXES.sub("", normalize_line(str(subject)[:1000]))
        people = persons(candidates)
        return _subject_people(text, people)
    except Exception:  # never let a subject line break the message
        return ()


def _subject_people(text: str, people: Sequence[Person]) -> tuple[Candidate, ...]:
    folded = fold_name(text)  # same length as the NFKC text only roughly, so work on folded text
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
        found.extend((m.start(), c) for c in match_persons(word, people))
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


