"""The new text of a reply: what the person wrote this time, and nothing else.

Email clients append the message being answered, a signature, a legal footer
and a "Sent from my phone"; only what is left may be read as commands, because
the agenda quoted back must never be applied again (README, "How to reply").
Reply trimming is where email tools usually fail, so the work is a pipeline of
small named stages over the lines of the message (``_STAGES``), after two
preparing steps:

- normalise newlines and invisible characters, and split a reply typed on the
  attribution's own line ("reply On …, Ann wrote:");
- classify every line (``mail.read.reply_lines``): quoted (``>``, ``> >``, ``|``,
  ``Name>``), or one of the lines we sent (``sent_lines``) coming back unquoted,
  which counts as quoted.

Then the stages:

1. cut at the first reply header (``mail.read.reply_headers``: attribution line,
   "Original Message", Outlook's From/Sent block, forward header, "Sent from my
   iPhone", ``--``),
   unless the header introduces a quote followed by more new text (an
   interleaved or bottom-posted reply), in which case only the header goes;
2. drop quoted lines, turning an unquoted paragraph right under a quoted task
   line (``> [T-42] …``) into an inline answer for that task;
3. harvest inline answers the cut removed (Outlook answers typed inside the
   unquoted original, under lines we recognise as ours);
(the text is noted here as ``quote_free``: the quote stage, footers still in), then
4. drop disclaimers, then 5. the signature: a closing sign-off and the name
   block under it, or the sender's bare name (``mail.read.signature``);
6. tidy: no trailing lines without a letter or digit, single blank lines.

Everything is linear in the size of the message: no pattern here can backtrack
over a long line, and lines too long to be a header skip the header detectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mail.read.html_text import html_signature_lines, html_to_reply_text
from mail.read.reply_headers import (
    attribution_len,
    cut_at_reply_header,
    header_block_len,
    is_separator,
    split_shared_attributions,
)
from mail.read.reply_lines import (
    ANY_REF,
    COMMAND,
    DISCLAIMER_ALWAYS,
    MAX_HEADER,
    TASK,
    Draft,
    Line,
    SentIndex,
    classify,
    has_content,
    normalize_text,
)
from mail.read.signature import is_sign_off as _is_sign_off
from mail.read.signature import strip_signature

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
    # The quote stage: the text with only quotes, attribution lines and forwarded blocks
    # cut, its signature, sign-off, mobile footer and disclaimer still in (what quote
    # removers such as talon's ``extract_from_plain`` return; never read as commands).
    quote_free: str = ""


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
    lines = split_shared_attributions(normalize_text(source).split("\n"))
    draft = Draft(lines=classify(lines, SentIndex(sent_lines)), sender_name=sender_name,
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
        quote_free=_collapse_blank_lines(_without_trailing_marks(draft.quote_free)),
    )


def _written(draft: Draft) -> str:
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


def _without_trailing_marks(lines: list[str]) -> list[str]:
    """No inline-answer placeholders, trailing spaces or trailing lines without a letter
    or digit."""
    kept = [line.rstrip() for line in lines if _MARK not in line]
    while kept and not has_content(kept[-1]):
        kept.pop()
    return kept


def _collapse_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1].strip()):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip()


# -- the working state -----------------------------------------------------------------


# -- vocabulary --------------------------------------------------------------------------


def _phrases(text: str) -> frozenset[str]:
    """A ``|``-separated word list, case-folded (kept as text so it stays readable)."""
    return frozenset(" ".join(p.split()).casefold() for p in text.split("|") if p.strip())


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


# -- stage 1: the cut at the first reply header ------------------------------------------


# -- stage 2: quotes out, inline answers in -----------------------------------------------


def _split_quotes_and_answers(draft: Draft) -> None:
    """Drop quoted lines; an unquoted paragraph right under a quoted task line is an
    inline answer to that task, any other unquoted line is new text."""
    text, inline, removed = _read_lines(draft.lines)
    draft.text.extend(text)
    draft.inline.extend(inline)
    draft.removed.extend(removed)


def _read_lines(lines: list[Line]) -> tuple[list[str], list[tuple[str, str]], list[str]]:
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
    match = TASK.match(body)
    return f"T-{int(match.group(1))}" if match else None


def _can_answer(body: str) -> bool:
    """A command line or a sign-off is never part of an answer to the line above."""
    return not COMMAND.match(body) and not _is_sign_off(body)


def _answer(lines: list[Line], index: int, first: str = "") -> tuple[str, int]:
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


def _harvest_answers_below_cut(draft: Draft) -> None:
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


def _next_header(lines: list[Line], start: int) -> int | None:
    for index in range(start, len(lines)):
        line = lines[index]
        if line.quoted or line.blank or len(line.body) > MAX_HEADER:
            continue
        if (
            is_separator(line.body)
            or attribution_len(lines, index)
            or header_block_len(lines, index)
        ):
            return index
    return None


def _header_len(lines: list[Line], index: int) -> int:
    """Lines taken by the header at ``index``: a separator with the block under it."""
    span = attribution_len(lines, index) or header_block_len(lines, index)
    if span:
        return span
    after = index + 1
    while after < len(lines) and lines[after].blank:
        after += 1
    block = header_block_len(lines, after) if after < len(lines) else 0
    return after - index + block if block else 1


# -- the quote stage: what is left once quotes are out -------------------------------------


def _keep_quote_free_text(draft: Draft) -> None:
    """Note the text as it stands before any footer is cut, with the signature the
    reply-header cut stopped at (``--``, "Sent from my iPhone") put back under it."""
    draft.quote_free = [*draft.text, *(line.raw for line in draft.footer)]


# -- stage 4: disclaimers ------------------------------------------------------------------


def _drop_disclaimers(draft: Draft) -> None:
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
    if len(body) < 25 or any(COMMAND.match(line) for line in paragraph):
        return False
    opening = body[:200]
    if ANY_REF.search(body):
        return False
    if DISCLAIMER_ALWAYS.match(opening):
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


def _drop_signature(draft: Draft) -> None:
    """A closing sign-off and the name block under it, or the sender's bare name; the
    inline-answer placeholders look like commands, so they are never cut."""
    found = strip_signature(draft.text, is_command=COMMAND.match,
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


def _tidy(draft: Draft) -> None:
    """No trailing lines without a letter or digit, single blank lines, no trailing spaces."""
    lines = [line.rstrip() for line in draft.text]
    while lines and not has_content(lines[-1]):
        if lines[-1]:
            draft.removed.append(lines[-1])
        lines.pop()
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    draft.text = out


_STAGES: tuple[Callable[[Draft], None], ...] = (
    cut_at_reply_header,
    _split_quotes_and_answers,
    _harvest_answers_below_cut,
    _keep_quote_free_text,
    _drop_disclaimers,
    _drop_signature,
    _tidy,
)
