"""The lines of a reply, classified: quote depth, and which lines are ours.

The first step of reading a reply (``mail.read.reply_text``): every line with its quote
depth (``>``, ``> >``, ``|``, ``Name>``; a link the client wrapped out of a quote stays
quoted; ``>>> link <<<`` is decoration), and whether it is one of the lines we sent
(``sent_lines``) coming back unquoted, which counts as quoted. Also the state the
pipeline's stages hand each other (``Draft``) and the line shapes they share.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from mail.read.vocabulary import INVISIBLE_OR_SPACE

__all__ = [
    "ANY_REF",
    "COMMAND",
    "DISCLAIMER_ALWAYS",
    "MAX_HEADER",
    "QUOTE",
    "TASK",
    "Draft",
    "Line",
    "SentIndex",
    "classify",
    "has_content",
    "normalize_text",
]


class Line(NamedTuple):
    """One line of the message and what we know about it (a tuple: there are many)."""

    raw: str  # as received, after normalising
    body: str  # without quote markers
    depth: int = 0  # quote depth; 0 is unquoted
    known: bool = False  # one of the lines we sent (or a wrapped piece of one)
    continues: bool = False  # the wrapped continuation of the line above
    appended: str = ""  # text typed after a known task line, on the same line
    last: str = ""  # its last visible character: attributions end in ":", ">" or "-"
    example: bool = False  # one of the example commands we sent: it names no task to answer

    @property
    def quoted(self) -> bool:
        return self.depth > 0 or self.known

    @property
    def blank(self) -> bool:
        return not self.body.strip()


@dataclass
class Draft:
    """The message as it moves through the stages."""

    lines: list[Line]  # above the cut, still to be read
    rest: list[Line] = field(default_factory=list)  # below the cut
    footer: list[Line] = field(default_factory=list)  # a signature the cut opened on, to the quote
    quote_free: list[str] = field(default_factory=list)  # the text before footers are cut
    text: list[str] = field(default_factory=list)
    inline: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sender_name: str | None = None  # the From display name: "Ben" alone is a signature
    signature: list[str] = field(default_factory=list)  # what the signature stage cut
    marked_signature: tuple[str, ...] = ()  # the signature the HTML part marks, by its lines


MAX_HEADER = 400  # a longer line is never a header, attribution or signature
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")
QUOTE = re.compile(r"[ \t]{0,3}((?:>[ \t]?)+)")
_SUPERCITE = re.compile(r"[ \t]{0,2}([A-Za-z]{1,10})>(?:[ \t]|$)")
_PIPE = re.compile(r"\|(?:[ \t]|$)")
_BULLET = r"\s*(?:[-*•]\s*|\d{1,3}[.)]\s*)?"
TASK = re.compile(_BULLET + r"#?\[?T-?(\d{1,9})\]?(?![\w-])", re.I)
COMMAND = re.compile(
    _BULLET + r"(?:#?\[?[TPG]-?\d{1,9}\]?(?![\w-])|(?:new|met|skip)\s*:|\+\s+\S)", re.I
)
_AGENDA_LINE = re.compile(r"\s*\[[TPG]-\d{1,9}\]", re.I)
ANY_REF = re.compile(r"\b[TPG]-?\d{1,9}\b")
_HEADING = re.compile(r".{1,60}\(\d{1,4}\)\s*$")

# ">>> http://x.org <<<": arrows around a line are decoration, not quote marks.
_ARROWS = re.compile(r"[ \t]*>{2,}.*<{2,}\s*$")

# A link the client wrapped out of a quoted line: "(http://…" then "…=3dd518)" unquoted,
# or a line that is only a link in brackets (" (http://x.org/c/Yz) >").
_LINK_ONLY = re.compile(r"\s*\(?(?:https?://|www\.)\S*\)?\s*>?\s*$")
_OPEN_LINK = re.compile(r"\((?:https?://|www\.)[^)\s]*$")

# Disclaimers: some openings are enough; others need the legal words to follow.
DISCLAIMER_ALWAYS = re.compile(
    r"[\s*_(]*(?:confidentiality\s+(?:notice|note|statement|warning)"
    r"|caution\s*:\s*(?:\[?external|this\s+(?:e-?mail|message)|do\s+not\s+click)"
    r"|\[external(?:\s+(?:e-?mail|sender))?\]|external\s+(?:e-?mail|sender)\s*[:!-]"
    r"|this\s+(?:e-?mail|message)\s+(?:originated|was\s+sent)\s+from\s+outside)",
    re.I,
)


def normalize_text(text: str) -> str:
    """One kind of newline, ordinary spaces, no zero-width or direction marks."""
    text = _BREAKS.sub("\n", text)
    if not text.isascii():  # the characters translated are all outside ASCII
        text = text.translate(INVISIBLE_OR_SPACE)
    return _CONTROL.sub("", text)


def _key(line: str) -> str:
    """A line as compared with what we sent: no quote marks or bold stars, case-folded."""
    if len(line) > 2000:
        return ""
    return " ".join(line.replace("*", " ").lstrip(" \t>").split()).casefold()


class SentIndex:
    """The lines we sent, for recognising them when they come back unquoted.

    A command-shaped line we sent as an example ("met: yes") is recognised only in
    its place, under the line it followed in what we sent: the same words typed
    by the person anywhere else are a real command.
    """

    def __init__(self, sent_lines: Sequence[str]) -> None:
        self.keys: set[str] = set()
        self.examples: dict[str, set[str]] = {}  # example line -> the line above it
        self.tasks: dict[str, list[str]] = {}  # task number -> its agenda lines
        above = ""
        for line in sent_lines:
            key = _key(normalize_text(line)) if isinstance(line, str) else ""
            if not key:
                continue
            if COMMAND.match(key) and not _AGENDA_LINE.match(key):
                self.examples.setdefault(key, set()).add(above)
            else:
                self.keys.add(key)
                if _AGENDA_LINE.match(key) and (task := TASK.match(key)):
                    self.tasks.setdefault(task.group(1), []).append(key)
            above = key
        self.ordered = sorted(self.keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def starts_one(self, key: str) -> bool:
        """Whether some sent line begins with ``key`` (a line wrapped by the client)."""
        index = bisect_left(self.ordered, key)
        return index < len(self.ordered) and self.ordered[index].startswith(key)

    def task_line_in(self, key: str) -> str | None:
        """The sent task line ``key`` starts with, when something was typed after it."""
        match = TASK.match(key)
        for sent in self.tasks.get(match.group(1), ()) if match else ():
            if key.startswith(sent + " "):
                return sent
        return None


def classify(raw_lines: list[str], sent: SentIndex) -> list[Line]:
    """Every line with its quote depth, and whether it is one of ours."""
    lines = _mark_link_fragments(_mark_prefix_quotes([_quote_depth(raw) for raw in raw_lines]))
    if sent:
        lines = _mark_known(lines, sent)
    return _mark_wrapped_tasks(lines)


def _quote_depth(raw: str) -> Line:
    last = raw.rstrip()[-1:]
    match = QUOTE.match(raw)
    if match is None or (raw.rstrip().endswith("<<") and _ARROWS.match(raw[:MAX_HEADER])):
        return Line(raw=raw, body=raw, last=last)
    return Line(raw, raw[match.end() :], match.group(1).count(">"), last=last)


def _mark_prefix_quotes(lines: list[Line]) -> list[Line]:
    """``Name>`` (supercite) and ``|`` quoting, believed only in runs of two or more."""
    prefixes = [_prefix_quote(line) for line in lines]
    out = list(lines)
    for index, prefix in enumerate(prefixes):
        if prefix is None:
            continue
        before = prefixes[index - 1] if index else None
        after = prefixes[index + 1] if index + 1 < len(prefixes) else None
        if prefix in (before, after):
            raw = lines[index].raw
            out[index] = lines[index]._replace(body=raw.lstrip()[len(prefix) :], depth=1)
    return out


def _mark_link_fragments(lines: list[Line]) -> list[Line]:
    """An unquoted piece of a link between quoted lines is quoted too: the client wrapped
    it out of the quote ("> View (http://x.org/a" / "b=1)"), or it is a link alone."""
    out = list(lines)
    for index in range(1, len(out)):
        above, line = out[index - 1], out[index]
        below = out[index + 1] if index + 1 < len(out) else above
        if line.depth or line.blank or len(line.raw) > MAX_HEADER:
            continue
        if not (above.depth and below.depth):
            continue
        opened = _OPEN_LINK.search(above.body.rstrip()[-MAX_HEADER:])
        wrapped = opened and " " not in line.raw.strip()
        if wrapped or _LINK_ONLY.match(line.raw):
            out[index] = line._replace(depth=above.depth)
    return out


def _prefix_quote(line: Line) -> str | None:
    if line.depth:
        return None
    if ">" in line.raw[:14] and (match := _SUPERCITE.match(line.raw)):
        return match.group(1) + ">"
    if line.raw[:1] == "|" and _PIPE.match(line.raw) and "|" not in line.raw[1:]:
        return "|"
    return None


def _mark_known(lines: list[Line], sent: SentIndex) -> list[Line]:
    """Recognise the lines we sent: whole, wrapped over a few lines, with an answer
    typed after them on the same line, or an example in its place."""
    out = list(lines)
    above = ""  # the key of the last non-blank line, when it was one of ours
    index = 0
    while index < len(out):
        line = out[index]
        key = _key(line.body)
        if not key:
            index += 1
            continue
        if key in sent.keys or above in sent.examples.get(key, ()):
            out[index] = line._replace(known=True, example=key in sent.examples)
            index += 1
        elif line.depth and key in sent.examples:
            out[index] = line._replace(example=True)
            index += 1
        elif not line.depth and (task_line := sent.task_line_in(key)):
            extra = " ".join(line.body.split()[len(task_line.split()) :])
            out[index] = line._replace(known=True, appended=extra)
            index += 1
        else:
            index = _join_wrapped(out, index, key, sent)
        above = key if out[index - 1].known else ""
    return out


def _join_wrapped(out: list[Line], index: int, key: str, sent: SentIndex) -> int:
    """Mark ``out[index]`` and the lines after it known when together they make one
    sent line; return the index of the next line to look at."""
    if len(key) < 10 or not sent.starts_one(key):
        return index + 1
    joined = key
    for end in range(index + 1, min(index + 5, len(out))):
        piece = _key(out[end].body)
        if not piece or bool(out[end].depth) != bool(out[index].depth):
            break
        joined = f"{joined} {piece}"
        if joined in sent.keys:
            out[index] = out[index]._replace(known=True)
            for wrapped in range(index + 1, end + 1):
                out[wrapped] = out[wrapped]._replace(known=True, continues=True)
            return end + 1
        if not sent.starts_one(joined):
            break
    return index + 1


def _mark_wrapped_tasks(lines: list[Line]) -> list[Line]:
    """A long quoted task line the client wrapped goes on in the next quoted line:
    that line continues the task, so an answer under it is still about the task."""
    out = list(lines)
    for index in range(1, len(out)):
        above, line = out[index - 1], out[index]
        if (
            line.depth
            and above.depth
            and not (line.known or above.known or line.continues or line.blank)
            and len(above.body) >= 50
            and (above.continues or TASK.match(above.body))
            and not (TASK.match(line.body) or _HEADING.match(line.body))
        ):
            out[index] = line._replace(continues=True)
    return out


def has_content(line: str) -> bool:
    """A letter or a digit, not counting the "ᐧ" that mail trackers append."""
    return any(ch.isalnum() and ch != "ᐧ" for ch in line)
