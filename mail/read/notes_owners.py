"""The owner of an action item in meeting notes (the rules are in ``mail.read.notes``).

"Ben to …", "@ann", "Ann and Ben", "I", "Owner: Ann": an owner phrase is found at
the start or end of an item and resolved against the candidates; an unknown,
ambiguous or vague owner is a problem that says what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mail.read.explanation import N_, Explanation
from mail.read.notes_people import WRITTEN_ADDRESS, Candidate, Person, fold_name, match_persons

__all__ = [
    "EXAMPLE_ACTION",
    "Owner",
    "People",
    "leading_owner",
    "lower_first",
    "resolve_owner",
    "trailing_owner",
]

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
EXAMPLE_ACTION = "ACTION: Ben to send the pricing memo by Friday"


@dataclass(frozen=True)
class Owner:
    text: str | None  # as written
    key: int | None
    problem: str | None = None
    group: bool = False  # "we", "the team": the default owner


@dataclass
class People:
    """The candidates and the people "I" and nobody-written mean."""

    people: tuple[Person, ...]
    author: int | None
    default: int | None
    memo: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)

    def match(self, text: str) -> tuple[Candidate, ...]:
        key = text.strip()
        if key not in self.memo:
            self.memo[key] = match_persons(key, self.people)
        return self.memo[key]


def _split_owners(phrase: str) -> list[str]:
    return [p.strip() for p in _JOIN_AT.split(phrase.strip()) if p.strip()]


def _looks_like_name(part: str) -> bool:
    """An unknown owner worth a problem: capitalised words, not verbs or common words."""
    if part.startswith("@") or WRITTEN_ADDRESS.fullmatch(part):
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


def _ambiguous(text: str, found: Sequence[Candidate], what: str) -> Explanation:
    names = ", ".join(f"{c.name} <{c.email}>" for c in found[:6])
    return Explanation(N_('"%(text)s" could be %(names)s. Write the address, e.g. ACTION: '
                          "%(email)s to %(what)s"),
                       text=text, names=names, email=found[0].email, what=what)


def _unknown(text: str, what: str) -> Explanation:
    return Explanation(N_('I do not know "%(text)s". Write the owner\'s email address, e.g. '
                          "ACTION: name@company.example to %(what)s"), text=text, what=what)


def _who(text: str, what: str) -> Explanation:
    return Explanation(N_('I cannot tell who "%(text)s" is. Write the name, e.g. ACTION: Ann '
                          "to %(what)s"), text=text, what=what)


def resolve_owner(phrase: str, people: People, what: str) -> Owner | None:
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
        return Owner(
            phrase,
            None,
            Explanation(N_('One owner per action item, not "%(text)s". Write one line each, '
                           "e.g. ACTION: %(example)s to %(what)s"),
                        text=phrase, example=example, what=what),
        )
    folded = fold_name(phrase.lstrip("@"))
    if folded in _SELF:
        if people.author is None:
            return Owner(phrase, None, _who(phrase, what))
        return Owner(phrase, people.author)
    if folded in _GROUP or folded.removeprefix("the ") in _GROUP:
        return Owner(None, people.default, group=True)
    if folded in _PRONOUNS:
        return Owner(phrase, None, _who(phrase, what))
    found = people.match(phrase)
    if len(found) == 1:
        return Owner(phrase, found[0].key)
    if found:
        return Owner(phrase, None, _ambiguous(phrase, found, what))
    if _looks_like_name(phrase):
        return Owner(phrase, None, _unknown(phrase, what))
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


def _name_chip(body: str, people: People) -> tuple[Owner, str] | None:
    """``@Ann Lee …``: an @ and a candidate's full name (two or three words)."""
    words = list(re.finditer(r"\S+", body[1:120]))
    for count in (3, 2):
        if len(words) <= count:
            continue
        name = body[1 : 1 + words[count - 1].end()]
        if any(p.full == fold_name(name) for p in people.people):
            rest = re.sub(r"^\s*(?:[:,]|[—–-](?=\s))?\s*", "", body[1 + words[count - 1].end() :])
            owner = resolve_owner(name, people, lower_first(rest))
            if owner is not None:
                return owner, _after_connector(rest)
    return None


def _after_connector(rest: str) -> str:
    """``to review …`` after "@Dev Patel" is the task: the connector goes."""
    m = _CONNECTOR.match(" " + rest)
    return rest if m is None or ":" in m.group() else (" " + rest)[m.end() :]


def leading_owner(body: str, people: People, *, marked: bool) -> tuple[Owner, str] | None:
    """``Ben to …``, ``Ann: …``, ``@ben …``, ``I'll …`` at the start of an item body.

    Without a marker (``marked`` False) only ``NAME to/will/'ll …`` counts, and only
    for someone the meeting knows (or "I"), and not ``NAME will be …``.
    """
    if m := re.match(r"(@[\w.+-]*\w(?:@[\w-]+(?:\.[\w-]+)+)?)\s*(?:[:,]|[—–-](?=\s))?\s*", body):
        chip = _name_chip(body, people)  # Google Docs: "@Ann Lee Review the doc"
        if chip is not None:
            return chip
        owner = resolve_owner(m[1], people, lower_first(body[m.end() :]))
        if owner is not None:
            return owner, body[m.end() :]
    if marked and (lead := re.match(r"(?:for|f[üu]r|pour|para)\s+", body, re.I)):
        addressed = body[lead.end() :]  # "TODO for Ben: renew the certificate"
        for end in _phrase_ends(addressed):
            connector = _CONNECTOR.match(addressed, end)
            if connector is not None and connector.group().strip() == ":":
                rest = addressed[connector.end() :]
                owner = resolve_owner(addressed[:end], people, lower_first(rest))
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
            if fold_name(phrase) not in _SELF and not all(people.match(n) for n in names):
                return None  # prose about someone the meeting does not know
        owner = resolve_owner(phrase, people, lower_first(rest))
        if owner is not None:
            return owner, rest
        if word == ":":
            return None  # "Budget: …" is a topic, and no owner can come after it
    return None


def _known_then_verb(body: str, end: int, people: People) -> tuple[Owner, str] | None:
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
    owner = resolve_owner(phrase, people, lower_first(rest))
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


def trailing_owner(body: str, people: People) -> tuple[Owner, str] | None:
    """``… Owner: Ann``, ``… -> Ann``, ``… (Ann)``, ``… — Ann`` or an @handle anywhere."""
    for pattern in _TRAILING_OWNER:
        if m := pattern.search(body):
            owner = resolve_owner(m["who"], people, lower_first(body[: m.start()]))
            if owner is not None:
                return owner, body[: m.start()]
    for pattern in _TRAILING_KNOWN:
        m = pattern.search(body)
        if m and all(people.match(name) for name in _split_owners(m["who"]) or ["-"]):
            owner = resolve_owner(m["who"], people, lower_first(body[: m.start()]))
            if owner is not None:
                return owner, body[: m.start()]
    handles = list(dict.fromkeys(_ANY_HANDLE.findall(body)))
    if handles:
        rest = " ".join(_ANY_HANDLE.sub(" ", body).split())
        owner = resolve_owner(" and ".join(f"@{h}" for h in handles), people, lower_first(rest))
        if owner is not None:
            return owner, rest
    return None


def lower_first(text: str) -> str:
    """The text with its first letter lower-cased, unless it starts an acronym ("IT")."""
    text = text.strip()
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]
