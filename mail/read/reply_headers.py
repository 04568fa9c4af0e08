"""Where the quoted original starts in a reply: its attribution and header lines.

Stage 1 of reading a reply (``mail.read.reply_text``): the cut at the first reply header
(an attribution line, "Original Message", Outlook's From/Sent block, a forward header,
"Sent from my iPhone", ``--``), unless the header introduces a quote followed by more new
text (an interleaved or bottom-posted reply), in which case only the header goes. Also
the preparing step that splits a reply typed on the attribution's own line.
"""

from __future__ import annotations

import re

from mail.read.reply_lines import (
    COMMAND,
    DISCLAIMER_ALWAYS,
    MAX_HEADER,
    QUOTE,
    Draft,
    Line,
    has_content,
)
from mail.read.signature import is_mobile_signature, is_signature_delimiter
from mail.read.vocabulary import (
    ATTRIBUTION_VERB,
    ATTRIBUTION_VERB_INSIDE,
    ATTRIBUTION_VERB_SENT,
    FORWARD_INTROS,
    FORWARD_PHRASES,
    LABEL_FIELD,
    ORIGINAL_PHRASES,
    QUOTED_FIELDS,
)

__all__ = [
    "attribution_len",
    "cut_at_reply_header",
    "header_block_len",
    "is_separator",
    "split_shared_attributions",
]


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

# Android writes "---- Ann wrote ----", with no date at all.
_DASHED_ATTRIBUTION = re.compile(r"\s*-{3,}\s*\S.{0,100}?\bwrote\s*-{3,}\s*$", re.I)

# "reply On …, Ann wrote:" / "reply--- On …": the reply and the attribution share a line.
_SHARED_OPENING = re.compile(r"(?:[ \t]+|[ \t]*-{2,}[ \t]*)(?=(?:On|Le|Am|El|Em|Il|Op)\s)")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_ADDRESS_ONLY = re.compile(r"[^:]{1,40}:\s*<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?\s*$")

# Outlook's unquoted header block: "From:" then, within a few lines, a date and a
# recipient or a subject, in the languages Outlook writes.
_HEADER_LABELS = {
    label.casefold(): kind for label, kind in LABEL_FIELD.items() if kind in QUOTED_FIELDS
}
_ONE_LINE_HEADER = re.compile(
    r"[\s*]*From:.{1,200}?\s\*?(?:Sent|Date):.{1,120}?\s\*?(?:To|Subject):", re.I
)


def split_shared_attributions(lines: list[str]) -> list[str]:
    """A reply typed on the attribution's line ("reply On …, Ann wrote:") above a quote
    becomes two lines, so the attribution is found and the reply kept."""
    out: list[str] = []
    for index, raw in enumerate(lines):
        out.append(raw)
        if len(raw) > MAX_HEADER or not raw.rstrip().endswith((":", "：")):
            continue
        if QUOTE.match(raw) or not _quote_follows(lines, index + 1):
            continue
        for match in _SHARED_OPENING.finditer(raw):
            head, tail = raw[: match.start()], raw[match.end() :]
            if head.strip() and _is_attribution(tail.strip(), single=True):
                out[-1:] = [head.rstrip(), tail]
                break
    return out


def _quote_follows(lines: list[str], index: int) -> bool:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index < len(lines) and bool(QUOTE.match(lines[index]))


def cut_at_reply_header(draft: Draft) -> None:
    """Keep what is above the first reply header; below it is the original.

    An attribution line followed by a quote and then more new text introduces an
    interleaved (or bottom-posted) reply: only the attribution goes. Followed by
    unquoted text, it introduces an original the client did not mark (Yahoo), or
    one that lost its marks: everything goes, so an original is never applied.
    A cut at the writer's own signature (``--``, "Sent from my iPhone") notes the lines
    from there to the quoted original as ``draft.footer`` (the quote stage keeps them).
    """
    lines = draft.lines
    dropped: set[int] = set()
    index, cut, span = 0, len(lines), 0
    while index < len(lines):
        line = lines[index]
        if line.quoted or not 2 <= len(line.body) <= MAX_HEADER or line.blank:
            index += 1  # quoted, too short or too long to be a header
            continue
        span = attribution_len(lines, index)
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
    if cut < len(lines) and not span and _is_signature_boundary(lines[cut].body):
        draft.footer = lines[cut : _quote_boundary(lines, cut + 1)]


def _is_reply_boundary(lines: list[Line], index: int) -> bool:
    """A header other than an attribution, or a signature: the new text ends here."""
    return _is_quote_boundary(lines, index) or _is_signature_boundary(lines[index].body)


def _is_quote_boundary(lines: list[Line], index: int) -> bool:
    """A header other than an attribution: a separator or Outlook's From/Sent block."""
    return is_separator(lines[index].body) or bool(header_block_len(lines, index))


def _is_signature_boundary(body: str) -> bool:
    """``--`` or "Sent from my iPhone": the writer's own footer starts here."""
    return is_signature_delimiter(body) or is_mobile_signature(body)


def _quote_boundary(lines: list[Line], start: int) -> int:
    """Where the quoted original starts below a signature: its first quoted line or
    header (the end of the message when there is none)."""
    for index in range(start, len(lines)):
        line = lines[index]
        if line.quoted:
            return index
        if line.blank or not 2 <= len(line.body) <= MAX_HEADER:
            continue
        if attribution_len(lines, index) or _is_quote_boundary(lines, index):
            return index
    return len(lines)


def attribution_len(lines: list[Line], index: int, *, nested: bool = False) -> int:
    """How many lines the attribution starting at ``index`` spans (0: none).

    Clients wrap it over up to six lines ("On …, Ann <" / "ann@x.org> wrote:"); a
    window of several lines must open like an attribution, and yields to one that
    opens on a later line ("…let you know then.\\nOp 16 aug. 2014 schreef …:").
    """
    first = lines[index]
    if first.quoted or first.blank or len(first.body) > MAX_HEADER or COMMAND.match(first.body):
        return 0
    window = first.body.strip()
    if _is_attribution(window, single=True) or _introduces_quote(lines, index):
        return 1
    last = min(index + 6, len(lines))
    if not any(lines[end].last in _WINDOW_ENDS for end in range(index + 1, last)):
        return 0  # no line below ends the way an attribution ends
    if not _ATTRIBUTION_START.match(first.body):
        return 0
    parts = [window]
    for end in range(index + 1, last):
        line = lines[end]
        if len(line.body) > 200 or line.known or COMMAND.match(line.body):
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


def _introduces_quote(lines: list[Line], index: int) -> bool:
    """"On Jan 1, Joe wrote:" right above a quote is an attribution without a year, a
    time or an address (the quote is the evidence those give elsewhere)."""
    window = lines[index].body.strip()
    if not (window.endswith(":") and _ATTRIBUTION_OPENING.match(window)):
        return False
    if not ATTRIBUTION_VERB.search(window[-40:]):
        return False
    below = index + 1
    while below < len(lines) and lines[below].blank and not lines[below].depth:
        below += 1
    return below < len(lines) and bool(lines[below].depth)


def _opens_later(lines: list[Line], start: int, end: int) -> bool:
    return any(
        _ATTRIBUTION_OPENING.match(lines[index].body)
        and attribution_len(lines, index, nested=True)
        for index in range(start, end + 1)
    )


def _is_attribution(window: str, *, single: bool) -> bool:
    last = window.rstrip()[-1:]
    if _DASHED_ATTRIBUTION.match(window):
        return True
    if ATTRIBUTION_VERB_SENT.search(window[-40:]) and _ATTRIBUTION_OPENING.match(window):
        return bool(_ATTRIBUTION_SIGNAL.search(window))
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


def _quote_then_new_text(lines: list[Line], index: int) -> bool:
    """Whether a quoted block starts at ``index`` (after blank lines) and new text
    follows it."""
    while index < len(lines) and lines[index].blank:
        index += 1
    if index >= len(lines) or not lines[index].depth:
        return False
    while index < len(lines) and (lines[index].quoted or lines[index].blank):
        index += 1
    return index < len(lines) and _is_new_text(lines, index)


def _is_new_text(lines: list[Line], index: int) -> bool:
    body = lines[index].body
    if not has_content(body):
        return False
    if len(body) > MAX_HEADER:
        return True
    return not (
        _is_reply_boundary(lines, index)
        or attribution_len(lines, index)
        or DISCLAIMER_ALWAYS.match(body)
    )


def is_separator(body: str) -> bool:
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


def header_block_len(lines: list[Line], index: int) -> int:
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
    return _short_header_len(lines, index, first)


def _short_header_len(lines: list[Line], index: int, first: str) -> int:
    """A header block of fewer fields: "Date: <time>" over "To:" or "From:" (a client
    that starts with the date), or "From: <address>" alone over a quote (0: none)."""
    body = lines[index].body
    if first == "date" and _TIME.search(body) and index + 1 < len(lines):
        return 2 if _header_label(lines[index + 1].body) in ("to", "from", "subject") else 0
    if first == "from" and _ADDRESS_ONLY.match(body):
        below = lines[index + 1 : index + 5]
        return 1 if any(line.depth for line in below) else 0
    return 0
