"""The new text of a reply: what the person wrote this time, and nothing else.

Email clients append the message being answered, a signature, a legal footer
and a "Sent from my phone"; only what is left may be read as commands, because
the agenda quoted back must never be applied again (README, "How to reply").
Reply trimming is where email tools usually fail, so the work is a pipeline of
small named stages over the lines of the message (``_STAGES``), after two
preparing steps:

- normalise newlines and invisible characters;
- classify every line: quoted (``>``, ``> >``, ``|``, ``Name>``), or one of the
  lines we sent (``sent_lines``) coming back unquoted, which counts as quoted.

Then the stages:

1. cut at the first reply header (attribution line, "Original Message",
   Outlook's From/Sent block, forward header, "Sent from my iPhone", ``--``),
   unless the header introduces a quote followed by more new text (an
   interleaved or bottom-posted reply), in which case only the header goes;
2. drop quoted lines, turning an unquoted paragraph right under a quoted task
   line (``> [T-42] …``) into an inline answer for that task;
3. harvest inline answers the cut removed (Outlook answers typed inside the
   unquoted original, under lines we recognise as ours);
4. drop disclaimers, then 5. the signature: a closing sign-off and the name
   block under it, or the sender's bare name (``mail.read.signature``);
6. tidy: no trailing lines without a letter or digit, single blank lines.

Everything is linear in the size of the message: no pattern here can backtrack
over a long line, and lines too long to be a header skip the header detectors.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from mail.read.html_text import html_signature_lines, html_to_reply_text
from mail.read.signature import is_mobile_signature as _is_mobile_signature
from mail.read.signature import is_sign_off as _is_sign_off
from mail.read.signature import is_signature_delimiter as _is_signature_delimiter
from mail.read.signature import strip_signature
from mail.read.vocabulary import (
    ATTRIBUTION_VERB,
    ATTRIBUTION_VERB_INSIDE,
    FORWARD_INTROS,
    FORWARD_PHRASES,
    INVISIBLE_OR_SPACE,
    LABEL_FIELD,
    ORIGINAL_PHRASES,
    QUOTED_FIELDS,
)

__all__ = ["ReplyText", "extract_reply"]


@dataclass(frozen=True)
class ReplyText:
    """What a reply says this time, as opposed to what it carries along."""

    text: str  # the new text: quotes, attribution lines, signatures, disclaimers removed
    inline: tuple[tuple[str, str], ...]  # ("T-12", answer) typed under a quoted task line
    removed: str  # what was cut, for debugging and ``drumbeat inspect``
    written: str = ""  # everything the person wrote, in order: text and inline answers
    truncated: bool = False  # the message was longer than MAX_TEXT_CHARS: only its start was read
    signature: str = ""  # the sign-off and name block cut from the end (also in ``removed``)


# A reply is read whole, so its size bounds the work: past this many characters (a few
# hundred pages) only the beginning is read, and ``truncated`` says so.
MAX_TEXT_CHARS = 1_000_000
MAX_HTML_CHARS = 2 * MAX_TEXT_CHARS  # markup is mostly tags; each costs microseconds to walk


def extract_reply(
    text: str | None,
    html: str | None = None,
    *,
    sent_lines: Sequence[str] = (),
    sender_name: str | None = None,
) -> ReplyText:
    """The new text of a reply and its inline answers; never raises.

    ``text`` is the plain part, ``html`` the HTML part: the plain part is read when
    it has content (Outlook's, whose quotes are unmarked, included), the HTML only
    when it is all there is. ``sent_lines`` are the lines of the message we sent
    (the agenda); coming back without ``>`` they still count as quoted.
    ``sender_name`` (the From display name) lets a bare "Ben" or "Ben Carter" on the
    last line be recognised as a signature.
    """
    try:
        return _extract(text, html, sent_lines, sender_name)
    except Exception:  # pragma: no cover - a safety net: apply nothing rather than crash
        return ReplyText(text="", inline=(), removed=text if isinstance(text, str) else "")


def _extract(
    text: str | None, html: str | None, sent_lines: Sequence[str], sender_name: str | None = None
) -> ReplyText:
    """The pipeline itself, without the safety net (property tests call it directly)."""
    source, truncated = _source(text, html)
    lines = _normalize(source).split("\n")
    draft = _Draft(lines=_classify(lines, _SentIndex(sent_lines)), sender_name=sender_name,
                   marked_signature=_marked_signature(text, html))
    for stage in _STAGES:
        stage(draft)
    return ReplyText(
        text=_collapse_blank_lines([line for line in draft.text if _MARK not in line]),
        inline=tuple(draft.inline),
        removed="\n".join(draft.removed).strip("\n"),
        written=_written(draft),
        truncated=truncated,
        signature="\n".join(draft.signature).strip("\n"),
    )


def _written(draft: _Draft) -> str:
    """The text with each inline answer where it was typed; answers found below the cut
    (typed inside an unquoted original) follow at the end, in order."""
    lines = [_unmark(line, draft.inline) for line in draft.text]
    placed = {int(line.rsplit(_MARK, 1)[1]) for line in draft.text if _MARK in line}
    for index, (_ref, answer) in enumerate(draft.inline):
        if index not in placed:
            lines += ["", answer]
    return _collapse_blank_lines(lines)


# An inline answer leaves a placeholder in the text where it was typed, so that
# ``written`` keeps the person's order. It looks like a command line, which the
# sign-off and disclaimer stages never remove.
_MARK = "\x00inline-answer "


def _mark(ref: str, index: int) -> str:
    return f"[{ref}] {_MARK}{index}"


def _unmark(line: str, inline: list[tuple[str, str]]) -> str:
    if _MARK not in line:
        return line
    return inline[int(line.rsplit(_MARK, 1)[1])][1]


def _collapse_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1].strip()):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip()


# -- the working state -----------------------------------------------------------------


class _Line(NamedTuple):
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
class _Draft:
    """The message as it moves through the stages."""

    lines: list[_Line]  # above the cut, still to be read
    rest: list[_Line] = field(default_factory=list)  # below the cut
    text: list[str] = field(default_factory=list)
    inline: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sender_name: str | None = None  # the From display name: "Ben" alone is a signature
    signature: list[str] = field(default_factory=list)  # what the signature stage cut
    marked_signature: tuple[str, ...] = ()  # the signature the HTML part marks, by its lines


# -- vocabulary --------------------------------------------------------------------------


def _phrases(text: str) -> frozenset[str]:
    """A ``|``-separated word list, case-folded (kept as text so it stays readable)."""
    return frozenset(" ".join(p.split()).casefold() for p in text.split("|") if p.strip())


_MAX_HEADER = 400  # a longer line is never a header, attribution or signature
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")

_QUOTE = re.compile(r"[ \t]{0,3}((?:>[ \t]?)+)")
_SUPERCITE = re.compile(r"[ \t]{0,2}([A-Za-z]{1,10})>(?:[ \t]|$)")
_PIPE = re.compile(r"\|(?:[ \t]|$)")

_BULLET = r"\s*(?:[-*•]\s*|\d{1,3}[.)]\s*)?"
_TASK = re.compile(_BULLET + r"#?\[?T-?(\d{1,9})\]?(?![\w-])", re.I)
_COMMAND = re.compile(
    _BULLET + r"(?:#?\[?[TPG]-?\d{1,9}\]?(?![\w-])|(?:new|met|skip)\s*:|\+\s+\S)", re.I
)
_AGENDA_LINE = re.compile(r"\s*\[[TPG]-\d{1,9}\]", re.I)
_ANY_REF = re.compile(r"\b[TPG]-?\d{1,9}\b")
_HEADING = re.compile(r".{1,60}\(\d{1,4}\)\s*$")

# The attribution line ("On <date>, <name> wrote:") is found by its verb
# (``ATTRIBUTION_VERB``, ``ATTRIBUTION_VERB_INSIDE``) and a date or address.
_ATTRIBUTION_SIGNAL = re.compile(
    r"@|<|\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}年"
)
_ATTRIBUTION_OPENING = re.compile(
    r"[\s*]*(?:-{2,}\s*)?(?:On|Le|Am|El|Em|Il|Op|Den|Dnia|W dniu|Dne|Dňa|På|В|У|Στις|Vào|在|\d)\b"
)
_ATTRIBUTION_START = re.compile(_ATTRIBUTION_OPENING.pattern + r"|.*(?:[\w.+-]@[\w-]+\.\w|<\s*$)")
_WINDOW_ENDS = frozenset(":：->")
# "ср, 2 дек. 2026 г. в 09:00, Ann <ann@x.org>:": no verb, a date and an address.
_ADDRESS_END = re.compile(r"<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?\)?\s*[:：]\s*$")
_DATE_OR_TIME = re.compile(r"\d{1,2}[:.]\d{2}\b|\b(?:19|20)\d{2}\b")
# Gmail's older forms: "2013/7/20 Ann <ann@x.org>" and "2016-03-03 17:21 GMT+01:00 Ann".
_DATE_FIRST = re.compile(r"\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)")
_GMT_HEADER = re.compile(r"\s*\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} GMT[+-]\d{1,2}:?\d{2}\s+\S")

_SEPARATORS = frozenset(
    phrase.casefold() for phrase in FORWARD_PHRASES | ORIGINAL_PHRASES
)
_FORWARD_INTROS = frozenset(phrase.casefold() for phrase in FORWARD_INTROS)

# Outlook's unquoted header block: "From:" then, within a few lines, a date and a
# recipient or a subject, in the languages Outlook writes.
_HEADER_LABELS = {
    label.casefold(): kind for label, kind in LABEL_FIELD.items() if kind in QUOTED_FIELDS
}
_ONE_LINE_HEADER = re.compile(
    r"[\s*]*From:.{1,200}?\s\*?(?:Sent|Date):.{1,120}?\s\*?(?:To|Subject):", re.I
)

# Disclaimers: some openings are enough; others need the legal words to follow.
_DISCLAIMER_ALWAYS = re.compile(
    r"[\s*_(]*(?:confidentiality\s+(?:notice|note|statement|warning)"
    r"|caution\s*:\s*(?:\[?external|this\s+(?:e-?mail|message)|do\s+not\s+click)"
    r"|\[external(?:\s+(?:e-?mail|sender))?\]|external\s+(?:e-?mail|sender)\s*[:!-]"
    r"|this\s+(?:e-?mail|message)\s+(?:originated|was\s+sent)\s+from\s+outside)",
    re.I,
)
_DISCLAIMER_STRONG = re.compile(
    r"[\s*_\[(]*(?:the\s+information\s+(?:contained\s+)?in\s+this\s+"
    r"(?:e-?mail|message|communication)|if\s+you\s+(?:are\s+not|have\s+received)"
    r"|(?:legal\s+)?disclaimer\b)",
    re.I,
)
_DISCLAIMER_START = re.compile(
    r"[\s*_\[(]*(?:this\s+(?:e-?mail|message|communication|transmission)|diese\s+(?:e-?mail"
    r"|nachricht)|ce\s+(?:message|courriel|e-?mail)|este\s+(?:mensaje|correo)"
    r"|(?:questo|il\s+presente)\s+messaggio|dit\s+(?:e-?mail)?bericht)\b",
    re.I,
)
_DISCLAIMER_WORDS = _phrases("""
    confidential | privileged | intended recipient | intended solely | addressee | in error |
    unauthori | prohibited | notify the sender | delete | virus | vertraulich | irrtümlich |
    empfänger | confidentiel | destinataire | confidencial | destinatario | riservat |
    vertrouwelijk | geadresseerde | konfidentiell | fortrolig | poufn""")
_DISCLAIMER_HEADINGS = _phrases("""
    confidential | confidentiality | confidentiality notice | important | important notice |
    notice | legal notice | disclaimer | legal disclaimer | privileged and confidential""")


# -- preparing: the source, its characters, its lines --------------------------------------


def _source(text: str | None, html: str | None) -> tuple[str, bool]:
    """The plain part when it says anything, else the HTML with quotes marked; at most
    MAX_TEXT_CHARS of it, and whether it was cut."""
    if isinstance(text, str) and text.strip():
        return _at_most(text, MAX_TEXT_CHARS)
    if isinstance(html, str) and html.strip():
        markup, cut = _at_most(html, MAX_HTML_CHARS)
        converted, cut_again = _at_most(html_to_reply_text(markup), MAX_TEXT_CHARS)
        return converted, cut or cut_again
    return "", False


def _at_most(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut at the last line break before ``limit``, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    end = text.rfind("\n", 0, limit)
    return text[: end if end > 0 else limit], True


def _normalize(text: str) -> str:
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


class _SentIndex:
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
            key = _key(_normalize(line)) if isinstance(line, str) else ""
            if not key:
                continue
            if _COMMAND.match(key) and not _AGENDA_LINE.match(key):
                self.examples.setdefault(key, set()).add(above)
            else:
                self.keys.add(key)
                if _AGENDA_LINE.match(key) and (task := _TASK.match(key)):
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
        match = _TASK.match(key)
        for sent in self.tasks.get(match.group(1), ()) if match else ():
            if key.startswith(sent + " "):
                return sent
        return None


def _classify(raw_lines: list[str], sent: _SentIndex) -> list[_Line]:
    """Every line with its quote depth, and whether it is one of ours."""
    lines = _mark_prefix_quotes([_quote_depth(raw) for raw in raw_lines])
    if sent:
        lines = _mark_known(lines, sent)
    return _mark_wrapped_tasks(lines)


def _quote_depth(raw: str) -> _Line:
    last = raw.rstrip()[-1:]
    match = _QUOTE.match(raw)
    if match is None:
        return _Line(raw=raw, body=raw, last=last)
    return _Line(raw, raw[match.end() :], match.group(1).count(">"), last=last)


def _mark_prefix_quotes(lines: list[_Line]) -> list[_Line]:
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


def _prefix_quote(line: _Line) -> str | None:
    if line.depth:
        return None
    if ">" in line.raw[:14] and (match := _SUPERCITE.match(line.raw)):
        return match.group(1) + ">"
    if line.raw[:1] == "|" and _PIPE.match(line.raw) and "|" not in line.raw[1:]:
        return "|"
    return None


def _mark_known(lines: list[_Line], sent: _SentIndex) -> list[_Line]:
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


def _join_wrapped(out: list[_Line], index: int, key: str, sent: _SentIndex) -> int:
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


def _mark_wrapped_tasks(lines: list[_Line]) -> list[_Line]:
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
            and (above.continues or _TASK.match(above.body))
            and not (_TASK.match(line.body) or _HEADING.match(line.body))
        ):
            out[index] = line._replace(continues=True)
    return out


# -- stage 1: the cut at the first reply header ------------------------------------------


def _cut_at_reply_header(draft: _Draft) -> None:
    """Keep what is above the first reply header; below it is the original.

    An attribution line followed by a quote and then more new text introduces an
    interleaved (or bottom-posted) reply: only the attribution goes. Followed by
    unquoted text, it introduces an original the client did not mark (Yahoo), or
    one that lost its marks: everything goes, so an original is never applied.
    """
    lines = draft.lines
    dropped: set[int] = set()
    index, cut = 0, len(lines)
    while index < len(lines):
        line = lines[index]
        if line.quoted or not 2 <= len(line.body) <= _MAX_HEADER or line.blank:
            index += 1  # quoted, too short or too long to be a header
            continue
        span = _attribution_len(lines, index)
        if span and _quote_then_new_text(lines, index + span):
            dropped.update(range(index, index + span))
            draft.removed.extend(kept.raw for kept in lines[index : index + span])
            index += span
        elif span or _is_reply_boundary(lines, index):
            cut = index
            break
        else:
            index += 1
    draft.rest = lines[cut:]
    draft.lines = [line for number, line in enumerate(lines[:cut]) if number not in dropped]


def _is_reply_boundary(lines: list[_Line], index: int) -> bool:
    """A header other than an attribution, or a signature: the new text ends here."""
    body = lines[index].body
    return (
        _is_separator(body)
        or bool(_header_block_len(lines, index))
        or _is_signature_delimiter(body)
        or _is_mobile_signature(body)
    )


def _attribution_len(lines: list[_Line], index: int, *, nested: bool = False) -> int:
    """How many lines the attribution starting at ``index`` spans (0: none).

    Clients wrap it over up to six lines ("On …, Ann <" / "ann@x.org> wrote:"); a
    window of several lines must open like an attribution, and yields to one that
    opens on a later line ("…let you know then.\\nOp 16 aug. 2014 schreef …:").
    """
    first = lines[index]
    if first.quoted or first.blank or len(first.body) > _MAX_HEADER or _COMMAND.match(first.body):
        return 0
    window = first.body.strip()
    if _is_attribution(window, single=True):
        return 1
    last = min(index + 6, len(lines))
    if not any(lines[end].last in _WINDOW_ENDS for end in range(index + 1, last)):
        return 0  # no line below ends the way an attribution ends
    if not _ATTRIBUTION_START.match(first.body):
        return 0
    parts = [window]
    for end in range(index + 1, last):
        line = lines[end]
        if len(line.body) > 200 or line.known or _COMMAND.match(line.body):
            return 0
        parts.append(line.raw.strip())
        matched = line.last in _WINDOW_ENDS and _is_attribution(
            " ".join(part for part in parts if part), single=False
        )
        if line.depth and not (matched and len(line.body.strip()) <= 30):
            return 0  # only a wrapped "> wrote:" may look quoted
        if matched:
            return 0 if not nested and _opens_later(lines, index + 1, end) else end - index + 1
    return 0


def _opens_later(lines: list[_Line], start: int, end: int) -> bool:
    return any(
        _ATTRIBUTION_OPENING.match(lines[index].body)
        and _attribution_len(lines, index, nested=True)
        for index in range(start, end + 1)
    )


def _is_attribution(window: str, *, single: bool) -> bool:
    last = window.rstrip()[-1:]
    if last in (":", "：", "-") and (
        ATTRIBUTION_VERB.search(window[-40:])
        or (last != "-" and ATTRIBUTION_VERB_INSIDE.search(window[-200:]))
    ):
        return bool(_ATTRIBUTION_SIGNAL.search(window))
    if last in (":", "：") and _ADDRESS_END.search(window[-120:]):
        return bool(_DATE_OR_TIME.search(window))  # Gmail in many languages
    if not window.lstrip()[:1].isdigit():
        return False
    if last in (">", ":", "：") and "@" in window and len(window) <= 320:
        return bool(_DATE_FIRST.match(window))  # "2013/7/20 Ann <ann@x.org>"
    return single and bool(_GMT_HEADER.match(window))


def _quote_then_new_text(lines: list[_Line], index: int) -> bool:
    """Whether a quoted block starts at ``index`` (after blank lines) and new text
    follows it."""
    while index < len(lines) and lines[index].blank:
        index += 1
    if index >= len(lines) or not lines[index].depth:
        return False
    while index < len(lines) and (lines[index].quoted or lines[index].blank):
        index += 1
    return index < len(lines) and _is_new_text(lines, index)


def _is_new_text(lines: list[_Line], index: int) -> bool:
    body = lines[index].body
    if not _has_content(body):
        return False
    if len(body) > _MAX_HEADER:
        return True
    return not (
        _is_reply_boundary(lines, index)
        or _attribution_len(lines, index)
        or _DISCLAIMER_ALWAYS.match(body)
    )


def _is_separator(body: str) -> bool:
    """``-----Original Message-----`` and its translations, forward headers too."""
    if "-" not in body and ":" not in body and "：" not in body:
        return False
    stripped = body.strip().strip("*_ \t")
    if stripped.startswith("--"):
        core = stripped.lstrip("- \t").split("--", 1)[0]  # Yahoo goes on after the dashes
        if core.casefold().startswith("forwarded message from "):  # Mutt, NeoMutt
            return True
        return any(
            " ".join(part.split()).casefold() in _SEPARATORS
            for part in core.replace("*", "").split("/")
        )
    core = stripped.strip("-=_~* \t").casefold()
    return stripped.endswith((":", "：")) and core.rstrip(":： ") in _FORWARD_INTROS


def _header_label(body: str) -> str | None:
    """The kind of header a ``Label: value`` line is ("from", "date", …), or None."""
    colon = body.find(":", 0, 40)
    if colon < 0:
        colon = body.find("：", 0, 40)
    if colon < 0:
        return None
    return _HEADER_LABELS.get(" ".join(body[:colon].strip(" \t*_").split()).casefold())


def _header_block_len(lines: list[_Line], index: int) -> int:
    """Outlook's unquoted "From: / Sent: / To: / Subject:" block at ``index`` (0: none)."""
    if ":" not in lines[index].body[:45] and "：" not in lines[index].body[:45]:
        return 0
    if _ONE_LINE_HEADER.match(lines[index].body):
        return 1
    first = _header_label(lines[index].body)
    if first not in ("from", "date"):  # GMX and web.de put "Gesendet:" before "Von:"
        return 0
    kinds: set[str] = {first}
    blanks = 0
    for end in range(index + 1, min(index + 10, len(lines))):
        line = lines[end]
        blanks = blanks + 1 if line.blank else 0
        if blanks > 1:
            break
        kind = _header_label(line.body)
        if kind is not None and kind in kinds and kind in ("from", "date"):
            break  # another block starts: this one was not a header
        kinds.add(kind or "")
        if {"from", "date"} <= kinds and kinds & {"to", "subject"}:
            return end - index + 1
    return 0


# -- stage 2: quotes out, inline answers in -----------------------------------------------


def _split_quotes_and_answers(draft: _Draft) -> None:
    """Drop quoted lines; an unquoted paragraph right under a quoted task line is an
    inline answer to that task, any other unquoted line is new text."""
    text, inline, removed = _read_lines(draft.lines)
    draft.text.extend(text)
    draft.inline.extend(inline)
    draft.removed.extend(removed)


def _read_lines(lines: list[_Line]) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """New text, inline answers and quoted lines, in one pass."""
    text: list[str] = []
    inline: list[tuple[str, str]] = []
    removed: list[str] = []
    anchor: str | None = None  # the task an unquoted paragraph here would answer
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.quoted:
            removed.append(line.raw)
            if not (line.continues or line.blank):
                anchor = None if line.example else _task_ref(line.body)
            index += 1
            if line.appended and anchor:
                answer, index = _answer(lines, index, first=line.appended)
                text.append(_mark(anchor, len(inline)))
                inline.append((anchor, answer))
                anchor = None
        elif line.blank:
            text.append("")
            index += 1
        elif anchor and _can_answer(line.body):
            answer, index = _answer(lines, index)
            text.append(_mark(anchor, len(inline)))
            inline.append((anchor, answer))
            anchor = None
        else:
            text.append(line.raw)
            anchor = None
            index += 1
    return text, inline, removed


def _task_ref(body: str) -> str | None:
    match = _TASK.match(body)
    return f"T-{int(match.group(1))}" if match else None


def _can_answer(body: str) -> bool:
    """A command line or a sign-off is never part of an answer to the line above."""
    return not _COMMAND.match(body) and not _is_sign_off(body)


def _answer(lines: list[_Line], index: int, first: str = "") -> tuple[str, int]:
    """The paragraph starting at ``index``, joined into one line, and where it ends."""
    parts = [first] if first else []
    while index < len(lines):
        line = lines[index]
        if line.quoted or line.blank or not _can_answer(line.body):
            break
        parts.append(line.body.strip())
        index += 1
    return " ".join(parts), index


# -- stage 3: answers typed inside an unquoted original -----------------------------------


def _harvest_answers_below_cut(draft: _Draft) -> None:
    """Answers under our task lines in the message that was answered.

    Outlook quotes nothing: a person answering inline types under our agenda lines,
    below the "From:/Sent:" block; Gmail users often sign above the quote and
    answer inside it. Only the first message below the cut is read (older ones
    hold answers already applied), and only under quoted lines or lines we
    recognise as ours, so nothing of the original itself is ever taken.
    """
    rest = draft.rest
    draft.removed.extend(line.raw for line in rest)
    if not rest:
        return
    start = _next_header(rest, 0)
    begin = 1 if start is None else start + _header_len(rest, start)
    _, inline, _ = _read_lines(rest[begin : _next_header(rest, begin)])
    draft.inline.extend(inline)


def _next_header(lines: list[_Line], start: int) -> int | None:
    for index in range(start, len(lines)):
        line = lines[index]
        if line.quoted or line.blank or len(line.body) > _MAX_HEADER:
            continue
        if (
            _is_separator(line.body)
            or _attribution_len(lines, index)
            or _header_block_len(lines, index)
        ):
            return index
    return None


def _header_len(lines: list[_Line], index: int) -> int:
    """Lines taken by the header at ``index``: a separator with the block under it."""
    span = _attribution_len(lines, index) or _header_block_len(lines, index)
    if span:
        return span
    after = index + 1
    while after < len(lines) and lines[after].blank:
        after += 1
    block = _header_block_len(lines, after) if after < len(lines) else 0
    return after - index + block if block else 1


# -- stage 4: disclaimers ------------------------------------------------------------------


def _drop_disclaimers(draft: _Draft) -> None:
    """Remove legal footers and "external sender" banners, paragraph by paragraph."""
    paragraphs = _paragraphs(draft.text)
    flagged = [_is_disclaimer(paragraph) for paragraph in paragraphs]
    for number in range(len(paragraphs) - 1):
        if flagged[number + 1] and _is_disclaimer_heading(paragraphs[number]):
            flagged[number] = True
    kept: list[str] = []
    for paragraph, is_disclaimer in zip(paragraphs, flagged, strict=True):
        (draft.removed if is_disclaimer else kept).extend(paragraph)
    draft.text = kept


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines, each with the blank lines that follow it."""
    paragraphs: list[list[str]] = []
    for line in lines:
        if paragraphs and (not line.strip() or paragraphs[-1][-1].strip()):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def _is_disclaimer(paragraph: list[str]) -> bool:
    """Legal words after a legal opening; a paragraph naming a task never is one."""
    if len(paragraph) > 40:
        return False  # a footer is a paragraph, not a page
    body = " ".join(line.strip() for line in paragraph if line.strip())
    if len(body) < 25 or any(_COMMAND.match(line) for line in paragraph):
        return False
    opening = body[:200]
    if _ANY_REF.search(body):
        return False
    if _DISCLAIMER_ALWAYS.match(opening):
        return True
    needed = (
        1 if _DISCLAIMER_STRONG.match(opening) else 2 if _DISCLAIMER_START.match(opening) else 3
    )
    if needed == 3 and len(body) < 100:
        return False
    folded = body.casefold()
    return sum(word in folded for word in _DISCLAIMER_WORDS) >= needed


def _is_disclaimer_heading(paragraph: list[str]) -> bool:
    body = " ".join(line.strip() for line in paragraph if line.strip())
    return len(body) <= 40 and body.strip("*_:. ").casefold() in _DISCLAIMER_HEADINGS


# -- stage 5: the signature (mail.read.signature) ------------------------------------------


def _drop_signature(draft: _Draft) -> None:
    """A closing sign-off and the name block under it, or the sender's bare name; the
    inline-answer placeholders look like commands, so they are never cut."""
    found = strip_signature(draft.text, is_command=_COMMAND.match,
                            sender_name=draft.sender_name, said_elsewhere=bool(draft.inline),
                            marked=draft.marked_signature)
    draft.text = list(found.kept)
    draft.signature = list(found.cut)
    draft.removed.extend(found.cut)


_SIGNATURE_MARK = re.compile(r"signature", re.I)  # what every marked container's name holds


def _marked_signature(text: str | None, html: str | None) -> tuple[str, ...]:
    """When the plain part is read, the lines of the signature its HTML twin marks."""
    if not (isinstance(text, str) and text.strip() and isinstance(html, str)):
        return ()
    return html_signature_lines(html) if _SIGNATURE_MARK.search(html) else ()


# -- stage 6: tidy ----------------------------------------------------------------------


def _tidy(draft: _Draft) -> None:
    """No trailing lines without a letter or digit, single blank lines, no trailing spaces."""
    lines = [line.rstrip() for line in draft.text]
    while lines and not _has_content(lines[-1]):
        if lines[-1]:
            draft.removed.append(lines[-1])
        lines.pop()
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    draft.text = out


def _has_content(line: str) -> bool:
    """A letter or a digit, not counting the "ᐧ" that mail trackers append."""
    return any(ch.isalnum() and ch != "ᐧ" for ch in line)


_STAGES: tuple[Callable[[_Draft], None], ...] = (
    _cut_at_reply_header,
    _split_quotes_and_answers,
    _harvest_answers_below_cut,
    _drop_disclaimers,
    _drop_signature,
    _tidy,
)
