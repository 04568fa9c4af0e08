"""HTML mail bodies as plain text, with the quoted parts found by their markup.

Mail clients mark what they quote: Gmail wraps it in ``div.gmail_quote``, Apple
Mail and Thunderbird in ``blockquote type="cite"``, Outlook starts the original
with ``div#divRplyFwdMsg`` and never closes it, and so on. That markup is far
more reliable than guessing from the text, so it is read here, before the HTML
becomes text.

Signatures are marked the same way (Outlook on the web's ``div#Signature``,
Gmail's ``gmail_signature``, Thunderbird's ``moz-signature``) and go with the quotes.
A "tag" no markup would name (``<jane@x.org>`` that iOS Mail leaves unescaped in an
attribution line) is read as the text it was.

Four entry points, all pure and all total (they never raise, whatever the input):

- ``html_to_text``: the visible text, keeping line structure, lists and tables;
- ``strip_html_quotes``: the HTML without its quoted containers and signatures;
- ``html_to_reply_text``: the visible text without signatures, every quoted line
  written as ``> line``, the way a plain-text reply looks, so the plain-text reply
  parser can still see an answer typed *between* two quoted blocks;
- ``html_signature_lines``: the lines of the marked signature, so the plain part's
  unmarked copy of it can be cut too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from html import unescape
from html.parser import HTMLParser

import lxml.etree
import lxml.html
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

from mail.read.signature import holds_command
from mail.read.vocabulary import HEADER_LABELS, alternatives

__all__ = ["html_signature_lines", "html_to_reply_text", "html_to_text", "strip_html_quotes"]

# Inscriptis renders recursively: a tree deeper than this is converted by the
# plain fallback instead, far below Python's recursion limit.
_MAX_DEPTH = 200
# Inscriptis lays out tables well but slowly (seconds per megabyte of table); a
# larger document gets the plain fallback converter, which is linear.
_MAX_LAYOUT = 300_000
# Inline data: URIs (pasted images) can make a short message megabytes long.
_DATA_URI = re.compile(r"""(?i)(\bsrc\s*=\s*["']?)data:[^"'\s>]*""")
_QUOTE_ATTR = "data-drumbeat-quote"

_PLAIN = ParserConfig(css=deepcopy(CSS_PROFILES["strict"]))
_MARKING = ParserConfig(
    css=deepcopy(CSS_PROFILES["strict"]), annotation_rules={f"#{_QUOTE_ATTR}": ["quote"]}
)

# Containers that hold quoted text, by class (Outlook web prefixes "x_" when it
# re-quotes another client's HTML, so prefixes are removed before comparing).
_QUOTE_CLASSES = frozenset(
    {
        # Gmail (the container, the attribution line, the quote itself)
        "gmail_quote",
        "gmail_quote_container",
        "gmail_attr",
        # Yahoo, ProtonMail, Zoho, Tutanota
        "yahoo_quoted",
        "protonmail_quote",
        "zmail_extra",
        "tutanota_quote",
        # Thunderbird: the attribution line, and a forwarded message
        "moz-cite-prefix",
        "moz-forward-container",
    }
)
_QUOTE_IDS = frozenset({"mail-editor-reference-message-container"})  # new Outlook
# Elements after which everything is the original message (Outlook never closes it).
_CUT_IDS = frozenset(
    {"divrplyfwdmsg", "appendonsend", "stopspelling", "zwchr", "olk_src_body_section"}
)
_OUTLOOK_BORDERS = ("border-top:solid#e1e1e1", "border-top:solid#b5c4df")
# Signatures clients mark: Outlook on the web's div#Signature (often holding its own
# divtagdefaultwrapper), Gmail's gmail_signature (and the "-- " before it), Thunderbird's.
_SIGNATURE_IDS = frozenset({"signature"})
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "gmail_signature_prefix", "moz-signature"})
_FROM_LABEL = re.compile(rf"\s*(?:{alternatives(HEADER_LABELS['from'])})\s*[:：]", re.I)


def html_to_text(html: str) -> str:
    """The visible text of ``html``: one line per block, lists and tables laid out."""
    try:
        tree = _parse(html)
        if tree is None:
            return ""
        if len(html) > _MAX_LAYOUT or _too_deep(tree):
            return _tree_text(tree)
        return _tidy(Inscriptis(tree, _PLAIN).get_text())
    except Exception:  # a last resort: broken input must still give text
        return _fallback_text(html)


def strip_html_quotes(html: str) -> str:
    """``html`` without the quoted original: the containers clients put it in, and
    everything after an Outlook-style separator. Returns HTML."""
    try:
        tree = _parse(html)
        if tree is None:
            return html if isinstance(html, str) else ""
        _strip_tree(tree)
        return lxml.html.tostring(tree, encoding="unicode")
    except Exception:  # a last resort: the input unchanged is still HTML
        return html if isinstance(html, str) else ""


def html_to_reply_text(html: str) -> str:
    """The visible text of ``html`` with quoted lines written as ``> line``.

    Quote detection is the one ``strip_html_quotes`` uses, except that inside a
    Gmail quote only the quoted blocks are marked, so an answer typed between
    them stays unquoted (an inline answer).
    """
    try:
        tree = _parse(html)
        if tree is None:
            return ""
        if len(html) > _MAX_LAYOUT or _too_deep(tree):
            _strip_tree(tree)  # too big to lay out: the quote-free text will do
            return _tree_text(tree)
        _drop_signatures(tree)
        for element in _quote_containers(tree, interleaved=True):
            element.set(_QUOTE_ATTR, "1")
        cut = _first_cut_marker(tree)
        if cut is not None:
            _wrap_from_here_on(cut).set(_QUOTE_ATTR, "1")
        engine = Inscriptis(tree, _MARKING)
        spans = [(a.start, a.end) for a in engine.get_annotations()]
        return _tidy(_prefix_quoted(engine.get_text(), spans))
    except Exception:  # a last resort: the quote-free text is the next best thing
        return html_to_text(strip_html_quotes(html))


def html_signature_lines(html: str) -> tuple[str, ...]:
    """The lines of the signatures the client marked in ``html`` above the quoted original
    (Outlook on the web, Gmail, Thunderbird), so that the plain part's copy of them, which
    nothing marks, can be cut too; () when there is none, or the HTML is too big to read."""
    try:
        tree = _parse(html) if len(html) <= _MAX_LAYOUT else None
        if tree is None or _too_deep(tree):
            return ()
        skipped: set[lxml.html.HtmlElement] = set()
        for element in _quote_containers(tree):
            skipped.update(element.iter())
        cut = _first_cut_marker(tree)
        lines: list[str] = []
        for element in tree.iter():
            if element is cut:
                break
            if element in skipped or not _is_signature_container(element):
                continue
            skipped.update(element.iter())
            tail, element.tail = element.tail, None  # the text after it is not part of it
            text = _tree_text(element)
            element.tail = tail
            if not holds_command(text):
                lines += [line for line in text.split("\n") if line.strip()]
        return tuple(lines)
    except Exception:  # a last resort: without the hint the plain part is read as it is
        return ()


# -- parsing -------------------------------------------------------------------------


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """A tolerant parse (libxml2 repairs broken markup); None when there is no content."""
    if not isinstance(html, str) or not html.strip():
        return None
    html = _DATA_URI.sub(r"\1", html)
    html = html.replace("\x00", "")
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True)
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None
    for paragraph in tree.iter("p"):
        # Outlook writes every line as <p class=MsoNormal> with zero margins set in a
        # <style> block that the converter ignores: render them as plain lines.
        if "msonormal" in (paragraph.get("class") or "").casefold():
            paragraph.tag = "div"
    for element in [e for e in tree.iter() if isinstance(e.tag, str) and not _is_tag_name(e.tag)]:
        _as_typed_text(element)
    return tree


# A name markup uses: letters, digits, "-", "_", ".", and one namespace colon ("o:p").
_TAG_NAME = re.compile(r"[^\W\d][\w.-]*(?::[^\W\d][\w.-]*)?")


def _is_tag_name(tag: str) -> bool:
    return tag.isalnum() or bool(_TAG_NAME.fullmatch(tag))


def _as_typed_text(element: lxml.html.HtmlElement) -> None:
    """An "element" no markup would name (``<ann@x.org>``, ``<key=value>``, ``<div"x>``)
    is text the sender's client failed to escape, typically the address in an
    attribution line ("Jane Roe <jane@x.org> wrote:", iOS Mail): it is read as the text
    it was, so the address is not lost."""
    attributes = "".join(f' {name}="{value}"' if value else f" {name}"
                         for name, value in element.attrib.items())
    element.text = f"<{element.tag}{attributes}>" + (element.text or "")
    element.drop_tag()


def _too_deep(tree: lxml.html.HtmlElement) -> bool:
    depth = 0
    for event, _ in lxml.etree.iterwalk(tree, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > _MAX_DEPTH:
            return True
    return False


def _tokens(value: str | None) -> set[str]:
    """Class or id tokens, case-folded, without Outlook's ``x_`` re-quoting prefixes."""
    tokens = set()
    for token in (value or "").casefold().split():
        while token.startswith("x_"):
            token = token[2:]
        tokens.add(token)
    return tokens


# -- finding the quoted parts --------------------------------------------------------


def _strip_tree(tree: lxml.html.HtmlElement) -> None:
    """Remove the signatures and quoted containers, then everything from an Outlook-style
    separator."""
    _drop_signatures(tree)
    for element in _quote_containers(tree):
        _drop(element)
    cut = _first_cut_marker(tree)
    if cut is not None:
        _cut_from_here_on(cut)


def _quote_containers(
    tree: lxml.html.HtmlElement, *, interleaved: bool = False
) -> list[lxml.html.HtmlElement]:
    """The outermost quoted containers, in document order.

    With ``interleaved``, a Gmail quote container is not taken whole: its
    attribution and blockquotes are, and what the user typed between them is not.
    """
    found: list[lxml.html.HtmlElement] = []
    inside: set[lxml.html.HtmlElement] = set()
    for element in tree.iter():
        if not isinstance(element.tag, str) or element in inside:
            continue
        if not _is_quote_container(element):
            continue
        if interleaved and _is_gmail_wrapper(element):
            continue  # its blockquotes and attribution are found on their own
        found.append(element)
        inside.update(element.iterdescendants())
    contexts = _blockquote_context(tree)
    last = _outermost_blockquote(contexts[-1][0]) if contexts else None
    for element, before, trailing in contexts:
        trailing = trailing or element is last
        if element not in inside and _is_generic_quote(element, before, trailing=trailing):
            found.append(element)
            inside.update(element.iterdescendants())
    return found


def _drop_signatures(tree: lxml.html.HtmlElement) -> None:
    """Remove the signature containers clients mark, unless one holds a command (a person
    who typed an update inside their signature block must not lose it)."""
    found = [element for element in tree.iter("div", "span", "pre", "p", "table")
             if _is_signature_container(element)]
    for element in found:
        if not holds_command(_leading_text(element, 4000)):
            _drop(element)


def _is_signature_container(element: lxml.html.HtmlElement) -> bool:
    if not isinstance(element.tag, str):
        return False
    attributes = element.attrib
    if "class" not in attributes and "id" not in attributes and "data-smartmail" not in attributes:
        return False
    return bool(
        _tokens(element.get("id")) & _SIGNATURE_IDS
        or _tokens(element.get("class")) & _SIGNATURE_CLASSES
        or "gmail_signature" in _tokens(element.get("data-smartmail"))
    )


def _blockquote_context(
    tree: lxml.html.HtmlElement,
) -> list[tuple[lxml.html.HtmlElement, str, bool]]:
    """Each ``<blockquote>`` with the text just before it and whether any text
    follows it, in one walk over the document (asking per element is quadratic)."""
    last_text = ""
    seen = 0  # how many non-blank texts were met so far
    opened: list[tuple[int, lxml.html.HtmlElement, str]] = []
    closed: list[tuple[int, lxml.html.HtmlElement, str, int]] = []
    for event, element in lxml.etree.iterwalk(tree, events=("start", "end")):
        if event == "start":
            if element.tag == "blockquote":
                opened.append((len(opened) + len(closed), element, last_text))
            if isinstance(element.tag, str) and (element.text or "").strip():
                last_text, seen = element.text, seen + 1
            continue
        if opened and opened[-1][1] is element:
            closed.append((*opened.pop(), seen))
        if (element.tail or "").strip():
            last_text, seen = element.tail, seen + 1
    # In document order, outermost first: a quote found makes its inner ones "inside",
    # so nested blockquotes are not each walked again (quadratic in the depth).
    return [(element, before, seen_then == seen)
            for _order, element, before, seen_then in sorted(closed, key=lambda c: c[0])]


def _outermost_blockquote(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The outermost ``<blockquote>`` holding ``element`` (itself when none does). Given
    the document's last one, that is the last quote: what follows it is new text (a
    disclaimer, a sign-off) but the quote is still the original under the reply."""
    outer = element
    for ancestor in element.iterancestors("blockquote"):
        outer = ancestor
    return outer


def _is_quote_container(element: lxml.html.HtmlElement) -> bool:
    attributes = element.attrib
    if element.tag != "blockquote" and "class" not in attributes and "id" not in attributes:
        return False
    classes = _tokens(element.get("class"))
    if classes & _QUOTE_CLASSES or any("yahoo_quoted" in c for c in classes):
        return True
    ids = _tokens(element.get("id"))
    if ids & _QUOTE_IDS or any("yahoo_quoted" in i for i in ids):
        return True
    return element.tag == "blockquote" and (element.get("type") or "").casefold() == "cite"


def _is_gmail_wrapper(element: lxml.html.HtmlElement) -> bool:
    """A Gmail quote ``div`` holding blockquotes: answers may sit between them."""
    classes = _tokens(element.get("class"))
    return (
        element.tag == "div"
        and bool(classes & {"gmail_quote", "gmail_quote_container"})
        and next(element.iterdescendants("blockquote"), None) is not None
    )


def _is_generic_quote(element: lxml.html.HtmlElement, before: str, *, trailing: bool) -> bool:
    """A plain ``<blockquote>`` quotes when an attribution line introduces it, or when it
    is the last one or nothing follows it (the original under the new text); an indented
    paragraph (Gmail indents with ``border:none`` blockquotes) does not."""
    if _ends_like_attribution(before.strip()[-300:]):
        return True
    style = (element.get("style") or "").casefold().replace(" ", "")
    return trailing and "border:none" not in style


def _ends_like_attribution(text: str) -> bool:
    """Ends with a colon and holds an address or a digit ("On 2 Dec, Ann <a@x.org> wrote:").

    A loop, not a pattern: ``(?:@|\\d).{0,300}:$`` tried at every digit is quadratic.
    """
    return text.endswith((":", "：")) and any(ch == "@" or ch.isdecimal() for ch in text[:-1])


def _first_cut_marker(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element where the original starts, for clients that never close it."""
    for element in tree.iter("div", "hr", "span"):
        if (
            _tokens(element.get("id")) & _CUT_IDS
            or _is_outlook_header(element)
            or _is_rule_over_header(element)
        ):
            previous = element.getprevious()
            # Outlook draws a rule right before the header: it belongs to the original.
            if previous is not None and previous.tag == "hr" and not (previous.tail or "").strip():
                return previous
            return element
    return None


def _is_outlook_header(element: lxml.html.HtmlElement) -> bool:
    """Outlook desktop's header box: a top-bordered div starting with "From:"."""
    if element.tag != "div":
        return False
    style = (element.get("style") or "").casefold().replace(" ", "")
    if not any(border in style for border in _OUTLOOK_BORDERS):
        return False
    return bool(_FROM_LABEL.match(_leading_text(element, 100)))


def _is_rule_over_header(element: lxml.html.HtmlElement) -> bool:
    """A horizontal rule right above a "From:" line: the original's header (Hotmail,
    and many clients that write the header in bold)."""
    if element.tag != "hr":
        return False
    pieces = [element.tail or ""]
    for node in _from_here_on(element):
        if node is not element:
            pieces.extend(node.itertext())
        if sum(map(len, pieces)) >= 100:
            break
    return bool(_FROM_LABEL.match("".join(pieces)[:100]))


def _leading_text(element: lxml.html.HtmlElement, size: int) -> str:
    """The first ``size`` characters of an element's text, without reading all of it
    (``text_content()`` of every nested box is quadratic)."""
    parts: list[str] = []
    length = 0
    for piece in element.itertext():
        parts.append(piece)
        length += len(piece)
        if length >= size:
            break
    return "".join(parts)[:size]


def _from_here_on(marker: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """The marker, then everything after it in document order (as whole subtrees)."""
    yield marker
    node: lxml.html.HtmlElement | None = marker
    while node is not None and node.tag not in ("body", "html"):
        yield from node.itersiblings()
        node = node.getparent()


def _wrap_from_here_on(marker: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Move the marker and everything after it into one new ``div``, in order."""
    parent = marker.getparent()
    wrapper = lxml.html.Element("div")
    parent.insert(parent.index(marker), wrapper)
    ancestors = []
    node = parent
    while node is not None and node.tag not in ("body", "html"):
        ancestors.append(node)
        node = node.getparent()
    for node in list(_from_here_on(marker)):
        wrapper.append(node)  # the tail text moves with it
    for ancestor in ancestors:
        if (ancestor.tail or "").strip():
            holder = lxml.html.Element("span")
            holder.text, ancestor.tail = ancestor.tail, None
            wrapper.append(holder)
    return wrapper


def _cut_from_here_on(marker: lxml.html.HtmlElement) -> None:
    """Remove the marker and everything after it, text between elements included."""
    ancestors = []
    node = marker.getparent()
    while node is not None and node.tag not in ("body", "html"):
        ancestors.append(node)
        node = node.getparent()
    for node in list(_from_here_on(marker)):
        node.getparent().remove(node)  # removes its tail text too
    for ancestor in ancestors:
        ancestor.tail = None


def _drop(element: lxml.html.HtmlElement) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    if element.getparent() is not None:
        element.drop_tree()


# -- text ---------------------------------------------------------------------------


def _prefix_quoted(text: str, spans: list[tuple[int, int]]) -> str:
    """Write ``> `` in front of every line that lies inside a quoted span."""
    spans = sorted(spans)
    lines = text.split("\n")
    out: list[str] = []
    position, index = 0, 0
    for line in lines:
        start, end = position, position + len(line)
        position = end + 1
        while index < len(spans) and spans[index][1] <= start:
            index += 1
        quoted = False
        for span_start, span_end in spans[index : index + 8]:
            if span_start > max(start, end - 1):
                break
            if span_end > start:
                quoted = True
                break
        out.append(f"> {line}".rstrip() if quoted else line)
    return "\n".join(out)


def _tidy(text: str) -> str:
    """No trailing spaces (table cells are padded), no runs of more than one blank line."""
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


_BLOCKS = frozenset(
    {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "table", "pre", "hr", "ul", "ol"}
)
_HIDDEN = frozenset({"script", "style", "head", "title"})


def _tree_text(tree: lxml.html.HtmlElement) -> str:
    """Linear text of a parsed document: data, a line break around blocks, no layout."""
    parts: list[str] = []
    walker = lxml.etree.iterwalk(tree, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _HIDDEN:
                walker.skip_subtree()
                continue
            parts.append("\n" if tag in _BLOCKS else "  " if tag in ("td", "th") else "")
            if tag and element.text:
                parts.append(element.text)
        else:
            if tag in _BLOCKS:
                parts.append("\n")
            if element.tail:
                parts.append(element.tail)
    lines = "".join(parts).split("\n")
    return _tidy("\n".join(" ".join(line.split()) for line in lines))


class _TextCollector(HTMLParser):
    """The simplest possible HTML to text: data, with a line break at block ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _fallback_text(html: str) -> str:
    """Text from HTML that could not even be parsed into a tree."""
    if not isinstance(html, str):
        return ""
    try:
        collector = _TextCollector()
        collector.feed(html)
        collector.close()
        text = "".join(collector.parts)
    except Exception:  # html.parser gave up: drop anything tag-shaped
        text = unescape(re.sub(r"<[^>]*>", "\n", html))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _tidy("\n".join(lines))
