"""Bytes and encoded words as the text the sender meant: the decoding stage of ``message``.

Charsets are read as senders really use them (a declared GB2312 is GB18030, an
ISO-8859-1 with 0x80-0x9F bytes is windows-1252), unknown or refused ones as UTF-8
and then windows-1252; RFC 2047 encoded words are joined before decoding, because
mailers split multi-byte characters across them; damaged base64 is decoded as far
as it goes. Nothing raises: every repair is written down in ``Defects``.
"""

from __future__ import annotations

import binascii
import codecs
import re
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "Defects",
    "b64decode_lenient",
    "decode_encoded_words",
    "decode_text",
    "decode_words",
    "guard",
    "header_text",
    "meta_charset",
    "newlines",
    "one_line",
    "unescape_8bit",
]

T = TypeVar("T")

_MAX_DEFECTS = 50

# Codecs Python knows that are real mail charsets. Anything else Python would accept
# (utf-7, unicode-escape, rot13, idna...) is refused: UTF-7 smuggles markup past filters.
_MAIL_CODECS = frozenset(
    {"utf-8", "ascii", "cp874", "koi8-r", "koi8-u", "kz1048", "ptcp154", "tis-620", "hz"}
    | {f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)}
    | {f"cp{n}" for n in (*range(1250, 1259), 437, 850, 852, 866, 932, 949, 950, 1125)}
    | {"iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_ext"}
    | {"iso2022_jp_2004", "iso2022_kr", "shift_jis", "shift_jis_2004", "shift_jisx0213"}
    | {"euc_jp", "euc_jis_2004", "euc_jisx0213", "euc_kr", "johab"}
    | {"gb2312", "gbk", "gb18030", "big5", "big5hkscs"}
    | {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
    | {"mac-roman", "mac-cyrillic", "mac-latin2"}
)
# Labels mail clients use that Python does not know.
_LABEL_ALIASES = {
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "ks_c_5601-1987": "cp949",
    "x-gbk": "gbk",
    "x-euc-jp": "euc_jp",
    "unicode": "utf-16",  # Outlook's name for UTF-16
}
# What senders mean when they write the older name (the WHATWG Encoding Standard's view).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
}
_ALTERNATIVES = {"iso2022_jp": ("iso2022_jp_2", "iso2022_jp_ext"), "euc_jp": ("euc_jis_2004",)}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?\r\n]*)\?=")
_B64_NOISE = re.compile(rb"[^A-Za-z0-9+/]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Defects:
    """Defect notes, deduplicated and capped so hostile input cannot grow them unbounded."""

    def __init__(self) -> None:
        self._notes: dict[str, None] = {}
        self._keys: set[str] = set()

    def add(self, note: str, *, key: str | None = None) -> None:
        """Record ``note``; with ``key``, only the first note of that key is kept."""
        if key is not None:
            if key in self._keys:
                return
            self._keys.add(key)
        if len(self._notes) < _MAX_DEFECTS:
            self._notes.setdefault(note, None)
        elif len(self._notes) == _MAX_DEFECTS:
            self._notes.setdefault("further defects were not recorded", None)

    def all(self) -> tuple[str, ...]:
        return tuple(self._notes)


def guard(work: Callable[[], T], default: T, notes: Defects, what: str) -> T:
    """Run one stage; a failure costs that stage only, never the message."""
    try:
        return work()
    except Exception as error:  # mail is hostile: whatever goes wrong, keep going
        notes.add(f"{what} could not be read ({type(error).__name__}); left empty")
        return default





def b64decode_lenient(data: bytes) -> tuple[bytes, bool]:
    """Base64 decoded leniently: noise dropped, missing padding added, a dangling
    character (a message cut mid-line) ignored. The flag says whether repair was needed."""
    compact = data.translate(None, b" \t\r\n")
    try:
        return binascii.a2b_base64(compact, strict_mode=True), False
    except binascii.Error:
        pass
    clean = _B64_NOISE.sub(b"", compact)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    clean += b"=" * (-len(clean) % 4)
    try:
        return binascii.a2b_base64(clean), True
    except binascii.Error:
        return b"", True


# --- charsets ----------------------------------------------------------------------


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, if it names a mail charset we decode."""
    if not label:
        return None
    name = _LABEL_ALIASES.get(label, label)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):
        return None
    return codec if codec in _MAIL_CODECS else None


def _clean_label(label: str | None) -> str | None:
    """``"UTF-8\\""`` and ``'utf-8'`` as plain lower-case names."""
    if label is None:
        return None
    return label.strip().strip("\"'; ").strip().lower() or None


def decode_text(data: bytes, label: str | None, notes: Defects, where: str) -> str:
    """Bytes to text as the sender meant it: BOM first, then the declared charset (or
    the superset senders really use), then UTF-8, then windows-1252; every guess noted."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return data.decode(bom_codec, errors="replace")
    cleaned = _clean_label(label)
    codec = _codec(cleaned)
    if label is not None and cleaned != label.strip().lower():
        notes.add(f"{where}: malformed charset label {label[:40]!r} read as {cleaned!r}")
    if codec is None:
        if cleaned is not None:
            notes.add(f"{where}: unknown or refused charset {cleaned[:40]!r}: read as utf-8")
        elif not data.isascii():
            notes.add(f"{where}: 8-bit text without a charset: read as utf-8")
        return _guess(data, notes, where)
    if codec == "ascii" and not data.isascii():
        notes.add(f"{where}: declared us-ascii but has 8-bit bytes: read as utf-8")
        return _guess(data, notes, where)
    if codec == "iso8859-1" and _C1_BYTES.search(data):
        notes.add(f"{where}: iso-8859-1 text with 0x80-0x9F bytes read as windows-1252")
        codec = "cp1252"
    return _decode_declared(data, _SUPERSETS.get(codec, codec), notes, where)


def _decode_declared(data: bytes, codec: str, notes: Defects, where: str) -> str:
    """Decode with a known codec, trying its relatives and UTF-8 before replacing."""
    for candidate in dict.fromkeys((codec, *_ALTERNATIVES.get(codec, ()), "utf-8")):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate != codec:
            notes.add(f"{where}: not valid {codec}: read as {candidate}")
        return text
    if codec == "utf-8":
        return _guess(data, notes, where)
    notes.add(f"{where}: invalid {codec} bytes replaced")
    return data.decode(codec, errors="replace")


def _guess(data: bytes, notes: Defects, where: str) -> str:
    """UTF-8 if it is (a sequence cut at the very end still counts), else windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.end == len(data):
            notes.add(f"{where}: text ends inside a UTF-8 character (truncated?)")
            return data[: error.start].decode("utf-8") + "\ufffd"
    notes.add(f"{where}: not valid utf-8: read as windows-1252")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def meta_charset(html: bytes) -> str | None:
    """The ``<meta charset>`` of an HTML body whose Content-Type names none."""
    found = _META_CHARSET.search(html[:4096])
    return found.group(1).decode("ascii") if found else None


def newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- header values -----------------------------------------------------------------


def unescape_8bit(value: str, hint: str | None, notes: Defects | None = None) -> str:
    """Raw 8-bit header bytes (kept by compat32 as surrogate escapes) as text: UTF-8
    (RFC 6532), else the message's declared charset, else windows-1252."""
    if value.isascii():
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(_clean_label(hint))
    if codec is not None:
        codec = _SUPERSETS.get(codec, codec)
        try:
            return data.decode("cp1252" if codec == "iso8859-1" else codec)
        except UnicodeDecodeError:
            pass
    if notes is not None:
        notes.add("8-bit bytes in a header that are not utf-8: read as windows-1252")
    return data.decode("cp1252", errors="replace")


def decode_encoded_words(value: str, notes: Defects, where: str) -> str:
    """RFC 2047 encoded words decoded; adjacent words in one charset are joined before
    decoding, because mailers split multi-byte characters across them."""
    if "=?" not in value:
        return value
    pieces: list[tuple[bytes | str, str | None]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (between.isspace() and pieces and pieces[-1][1] is not None):
            pieces.append((between, None))
        word = _word_bytes(match.group(2), match.group(3), notes, where)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        last = pieces[-1] if pieces else None
        if last is not None and last[1] == charset and isinstance(last[0], bytes):
            pieces[-1] = (last[0] + word, charset)
        else:
            pieces.append((word, charset))
        position = match.end()
    pieces.append((value[position:], None))
    return "".join(
        piece if isinstance(piece, str) else decode_text(piece, charset, notes, where)
        for piece, charset in pieces
    )


def _word_bytes(encoding: str, text: str, notes: Defects, where: str) -> bytes:
    data = text.encode("utf-8", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    decoded, damaged = b64decode_lenient(data)
    if damaged:
        notes.add(f"{where}: damaged base64 in an encoded word")
    return decoded


def one_line(text: str) -> str:
    """One line: whitespace collapsed, control characters dropped."""
    return _CONTROL.sub("", " ".join(text.split()))


def decode_words(value: str) -> str | None:
    """A header value's RFC 2047 encoded words as one line of text, decoded as
    :func:`parse_message` decodes them; None when a word is damaged or in an unknown
    charset (for callers that then keep the value as it came)."""
    notes = Defects()
    text = one_line(decode_encoded_words(value, notes, "header"))
    return None if notes.all() else text


def header_text(value: str, hint: str | None, notes: Defects, name: str) -> str:
    decoded = decode_encoded_words(unescape_8bit(value, hint, notes), notes, f"{name} header")
    return one_line(decoded)
