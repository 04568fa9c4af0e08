"""Signatures: where a plain-text reply stops being what the person wrote.

A signature is whatever a person (or their mail client, or their company) puts
under the message every time: "-- " and what follows, "Sent from my iPhone", a
sign-off with a name block under it ("Best regards,\nAnn Lee\nHead of Sales\n
+49 30 1234"), a company block with its address and register entries ("HRB 123456",
"Registered in England No. …", "IČO: …"), or the sender's bare name. When the HTML
part marks the signature (Outlook on the web's ``div#Signature``, Gmail's
``gmail_signature``), its lines are the best evidence of all.

Cutting too little lets a phone number be read as prose; cutting too much loses
something the person said, so the rules lean to keeping: nothing here ever cuts
a command line or starts a cut above one, a line that reads like a sentence ends
any block, a long block needs contacts to be believed, and a reply that is
nothing but "Thanks!" keeps it.

``strip_signature`` is the one entry point for a reply's lines (after quotes
are gone); ``is_signature_delimiter``, ``is_mobile_signature`` and ``is_sign_off``
are what the reply-header cut asks about a single line, and ``holds_command`` is
what the HTML reader asks before dropping a marked block. All pure, all linear in
the number of lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

__all__ = [
    "SignatureCut",
    "holds_command",
    "is_mobile_signature",
    "is_sign_off",
    "is_signature_delimiter",
    "strip_signature",
]


@dataclass(frozen=True)
class SignatureCut:
    """A reply's lines split at its signature: what is kept and what was cut."""

    kept: tuple[str, ...]  # the lines above the signature, as given
    cut: tuple[str, ...]  # the signature lines, in order; empty when there was none


def strip_signature(
    lines: Sequence[str],
    *,
    is_command: Callable[[str], object],
    sender_name: str | None = None,
    said_elsewhere: bool = False,
    marked: Sequence[str] = (),
) -> SignatureCut:
    """``lines`` without the signature at their end, found in this order: the one the
    HTML part marked (``marked``: its lines, see ``html_text.html_signature_lines``); a
    closing sign-off and the name or company block under it ("Best regards," or a drawn
    line over a name, a title, an address, phone numbers, register entries); the
    sender's bare name and the block under it; a name with two contacts under it.

    ``is_command`` says which lines are commands: they are never cut, and a signature
    never starts above one. ``sender_name`` is the From display name. The signature
    is never all the reply says unless ``said_elsewhere`` (inline answers were given).
    Never raises: when a rule fails, nothing is cut.
    """
    kept = list(lines)
    cut: list[str] = []
    try:
        names = _name_forms(sender_name)
        keys = tuple(key for line in marked
                     if (key := _key(line)) and not is_signature_delimiter(line))
        steps: tuple[_Finder, ...] = (_sign_off_start, _bare_name_start, _contact_block_start)
        for step in ((partial(_marked_start, keys=keys), *steps) if keys else steps):
            start = step(kept, is_command, names, said_elsewhere)
            if start is not None:
                cut = kept[start:] + cut
                kept = kept[:start]
    except Exception:  # pragma: no cover - a rule's bug must cost the cut, never the reply
        return SignatureCut(kept=tuple(lines), cut=())
    return SignatureCut(kept=tuple(kept), cut=tuple(cut))


_Finder = Callable[[list[str], Callable[[str], object], frozenset[str], bool], "int | None"]


_REF = re.compile(r"\b[TPG]-?\d{1,9}\b")  # a task, project or goal: never a signature
_COMMAND_WORD = re.compile(r"^\s*(?:[-*•]\s*)?(?:new|met|skip|due)\s*:|^\s*\+\s+\S", re.I | re.M)


def holds_command(text: str) -> bool:
    """Whether ``text`` names a task, project or goal, or has a line that starts like a
    command ("met: yes", "new: …"): such text is never a signature, whatever marks it."""
    return bool(_REF.search(text) or _COMMAND_WORD.search(text))


_MOBILE_SIGNATURE = re.compile(
    r"""[\s(<\[*]*(?:
      (?:sent|envoyé|enviado|enviada|inviato|verzonden|verstuurd|gesendet|sendt|skickat|
         lähetetty|
         wysłane|wysłano|отправлено|odesláno|küldve)\s+
         (?:from|with|via|using|depuis|de|desde|do|da|dal|con|von|mit|met|vanaf|van|fra|
            från|z|ze|с)\s+
         (?:my|mon|ma|mi|meu|minha|mio|mia|mijn|min|mitt|meinem|mein|moje|mého|мой|моего
            |(?:the\s+)?(?:iphone|ipad|ipod|android|samsung|galaxy|outlook|blackberry|mobile
               |phone|smartphone|tablet|device|mail|gmail|yahoo|windows|huawei|xiaomi|pixel)
            |(?-i:[A-Z0-9\[]))
    | get\s+\[?outlook\b | holen\s+sie\s+sich\s+outlook | obtenir\s+outlook
    | obtener\s+outlook | scarica\s+outlook
    | von\s+meine[mr]\s+.{1,60}?\s+gesendet
    | diese\s+nachricht\s+wurde\s+von\s+meinem\s+.{1,80}?\s+gesendet
    | from\s+my\s+(?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry|smartphone)
    | (?:发自|寄自|从|從)我的
    | .{1,30}?から送信
    | sent\s+by\s+galaxy
    )""",
    re.I | re.X,
)



def _phrases(text: str) -> frozenset[str]:
    """A ``|``-separated word list, case-folded (kept as text so it stays readable)."""
    return frozenset(" ".join(p.split()).casefold() for p in text.split("|") if p.strip())


_SIGN_OFFS = _phrases("""
    thanks | thank you | thanks a lot | thanks so much | thank you so much | many thanks |
    thanks again | thanks in advance | thx | ty | cheers | best | all best | all the best |
    best regards | best wishes | kind regards | kindest regards | warm regards |
    warmest regards | regards | br | rgds | sincerely | yours | yours sincerely |
    sincerely yours | yours truly | take care | talk soon | speak soon | greetings |
    have a nice day | have a great day | have a good weekend | with thanks |
    thanks and regards | viele grüße | viele grüsse | vielen dank | danke | danke dir |
    danke schön | beste grüße | liebe grüße | lg | vg | mfg | mit freundlichen grüßen |
    mit freundlichen grüssen | freundliche grüße | gruß | grüße | gruss | herzliche grüße |
    schöne grüße | bis bald | cordialement | bien cordialement | bien à vous | merci |
    merci beaucoup | salutations | bonne journée | amicalement | à bientôt | bises |
    saludos | un saludo | saludos cordiales | atentamente | gracias | muchas gracias |
    un abrazo | abrazos | obrigado | obrigada | abraços | abraço | atenciosamente |
    cumprimentos | att | grazie | grazie mille | cordiali saluti | saluti | distinti saluti |
    un saluto | a presto | met vriendelijke groet | met vriendelijke groeten |
    vriendelijke groet | groeten | groetjes | mvg | bedankt | dank je | hartelijke groet |
    med vänlig hälsning | vänliga hälsningar | hälsningar | mvh | tack | med venlig hilsen |
    venlig hilsen | hilsen | med vennlig hilsen | vennlig hilsen | takk | tak | pozdrawiam |
    pozdrowienia | dziękuję | z poważaniem | с уважением | спасибо | всего доброго |
    s pozdravem | děkuji | díky | 谢谢 | 此致 | 敬礼 | 祝好 | よろしくお願いします |
    よろしくお願いいたします | ありがとうございます |
    thanks & regards | thanks and best regards | many thanks and best regards |
    mit besten grüßen | mit besten grüssen | beste grüsse | liebe grüsse | herzliche grüsse |
    freundliche grüsse | mit freundlichem gruß | mit freundlichem gruss | besten dank |
    sincères salutations | meilleures salutations | bien à toi | très cordialement |
    salutations distinguées | un cordial saludo | cordialmente | atte | muchos saludos |
    melhores cumprimentos | com os melhores cumprimentos | abs | grato | grata |
    un caro saluto | hartelijke groeten | vriendelijke groeten | s přátelským pozdravem |
    se srdečným pozdravem | s pozdravom | pozdrawiam serdecznie | serdecznie pozdrawiam |
    с наилучшими пожеланиями | всего хорошего | よろしくお願い致します | 宜しくお願いします |
    宜しくお願い致します | 以上、よろしくお願いします | 以上、よろしくお願いいたします |
    どうぞよろしくお願いいたします | 引き続きよろしくお願いいたします | 此致敬礼 | 顺祝商祺 |
    多谢 | 감사합니다""")
_NAME = re.compile(r"(?:[A-ZÀ-ÞĀ-Ž][\w'’.-]*|//\w+)(?:\s+[A-ZÀ-ÞĀ-Ž][\w'’.-]*){0,2}")
_DASH_NAME = re.compile(r"(?:[—–~]\s*|-(?=[A-Z]))[A-ZÀ-Þ][\w'’.]*(?:\s[A-ZÀ-Þ][\w'’.]*){0,2}\s*$")
_CONTACTS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\+?\d[\d ()./-]{6,}")
_CONTACT = re.compile(r"@|https?://|www\.|\+?\d[\d ()./-]{6,}|\||\b(?:skype|teams)\s*:", re.I)
# What a company block carries besides contacts: register entries and tax numbers (the
# legal particulars many countries require in business mail), and postal addresses.
_REGISTER = re.compile(
    r"\b(?:HRB|HRA|KRS|NIP|REGON|SIRE[NT]|RCS|TVA|CIF|NIF|CNPJ|KvK|BTW|ABN|VAT|UID|DIČ|IČO?)\b"
    r"|amtsgericht|registergericht|handelsregister|sitz der gesellschaft|geschäftsführ"
    r"|ust-?id|steuernummer|registered (?:in|office|number|no)|company (?:no|number|reg)"
    r"|registration (?:no|number)|obchodní rejstřík|spisová značka|partita iva|p\.\s?iva\b"
    r"|capital social|法人番号|登録番号|统一社会信用代码",
    re.I,
)
_ADDRESS = re.compile(
    r"\b\d{5}\s+[A-ZÀ-ÞĀ-Ž]|\b\d{3}\s\d{2}\s+[A-ZÀ-ÞĀ-Ž]|\b\d{4,5}-\d{3}\b"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b|〒\s?\d{3}-\d{4}"
    r"|(?i:stra(?:ß|ss)e|str\.|gasse|allee|platz|street|road|avenue|boulevard|\brue\b|\bcalle\b"
    r"|avenida|\brua\b|straat|\blaan\b|ulice|náměstí|třída)[^\n]{0,30}\d"
)
_RULE = re.compile(r"\s*(?:-{3,}|={3,}|_{3,}|\*{3,}|~{3,})\s*")  # a drawn line over a block
_TITLE_SMALL_WORDS = _phrases("""
    of | and | for | the | at | in | & | de | du | des | la | le | et | der | die | das | und |
    für | im | y | e | da | do | dos | van | von | den | di | del |
    rue | avenue | allée | chemin | place | boulevard | impasse | quai | route""")


def is_signature_delimiter(body: str) -> bool:
    """``-- `` (and ``--`` alone) opens a signature; so does a line of underscores."""
    stripped = body.strip()
    return stripped == "--" or (len(stripped) >= 2 and set(stripped) == {"_"})


def is_mobile_signature(body: str) -> bool:
    stripped = body.strip()
    return (
        len(stripped) <= 120
        and bool(_MOBILE_SIGNATURE.match(stripped))
        and not _REF.search(stripped)
    )



# -- a sign-off and the block under it ------------------------------------------------

def _sign_off_start(
    lines: list[str], is_command: Callable[[str], object], names: frozenset[str],
    said_elsewhere: bool,
) -> int | None:
    """Where a closing "Thanks,\\nAnn" (or "Best regards" and a name block with a
    title and a phone number) starts: never above a command line, and never all
    that was said (a reply of just "Thanks!" stays, so the confirmation can answer it)."""
    last = _last_filled(lines)
    for start in range(last, max(-1, last - _MAX_BLOCK - 4), -1):
        line = lines[start]
        if is_command(line):
            return None
        opens = (is_sign_off(line) or (start == last and bool(_DASH_NAME.match(line.strip())))
                 or (start < last and bool(_RULE.fullmatch(line))
                     and sum(map(_is_particular, lines[start + 1 : last + 1])) >= 2))
        closes = _is_name_block(lines[start + 1 : last + 1], is_command)
        while opens and start > 0 and is_sign_off(lines[start - 1]):
            start -= 1  # "此致" over "敬礼", "Thanks," over "Best regards,"
        if opens and closes and (_last_filled(lines[:start]) >= 0 or said_elsewhere):
            return start
    return None


def _last_filled(lines: list[str]) -> int:
    """The index of the last non-blank line, -1 when there is none."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return -1


def is_sign_off(line: str) -> bool:
    """ "Thanks", "Best regards,", "Cheers, Ann", "Viele Grüße", "/ Greetings" …"""
    stripped = line.strip()
    if not stripped or len(stripped) > 60:
        return False
    core = stripped.lstrip("/-—–~ ").rstrip(" ,.!:;。、，！")
    if " ".join(core.split()).casefold() in _SIGN_OFFS:
        return True
    head, comma, tail = core.partition(",")
    if comma and " ".join(head.split()).casefold() in _SIGN_OFFS:
        return bool(_NAME.fullmatch(tail.strip().rstrip(".!")))
    words = core.split()
    return any(
        " ".join(words[:size]).casefold() in _SIGN_OFFS
        and bool(_NAME.fullmatch(" ".join(words[size:])))
        for size in range(1, min(4, len(words)))
    )


def _is_name_block(block: list[str], is_command: Callable[[str], object]) -> bool:
    """A few short lines: a name, a title, a company, a phone number, an address; a
    company block (register entries, addresses, phone numbers) may be longer."""
    filled = [line.strip() for line in block if line.strip()]
    contacts = sum(_is_particular(line) for line in filled) >= 2
    return (len(filled) <= (_MAX_BLOCK if contacts else 8)
            and all(_is_signature_line(line, is_command, plain=contacts) for line in filled))


_MAX_BLOCK = 16  # filled lines a company block may take (8 without two particulars)


def _is_particular(line: str) -> bool:
    """A contact, a register entry or a postal address: what only a signature holds."""
    return len(line) <= 300 and bool(
        _CONTACT.search(line) or _REGISTER.search(line) or _ADDRESS.search(line)
    )


def _is_signature_line(
    line: str, is_command: Callable[[str], object], *, plain: bool = False
) -> bool:
    """A line a signature is made of; a sentence, a question or a command never is. In a
    block with two contacts, a short line need not be capitalised like a title (``plain``)."""
    if is_command(line) or _REF.search(line):
        return False
    if len(line) > 70:  # the legal particulars run long: "Sitz: München · HRB 123456 · …"
        return len(line) <= 300 and bool(_REGISTER.search(line))
    if _is_particular(line):
        # what is left besides the address, number or link reads like a label, not a
        # sentence: "Tel.: … | Mobile: …" is a signature line, "Ring them at … before noon" not
        words = [w for w in _CONTACTS.sub(" ", line).split() if any(c.isalpha() for c in w)]
        return len(words) <= 4 or (len(words) <= 8 and _title_like(words))
    words = line.split()
    if line.endswith(("!", "?", ":", "。")) or len(words) > (
        6 if plain or _title_like(words) else 3
    ):
        return False
    last = words[-1].rstrip(".")  # "Dr.", "Ltd.", "s.r.o." end a signature line, a sentence not
    return not line.endswith(".") or len(last) <= 4 or last[:1].isupper() or "." in last


def _title_like(words: list[str]) -> bool:
    """Capitalised like a name, a job title or a company ("Head of Sales"), not like a
    sentence ("Will send it tomorrow"); scripts without case always are."""
    return all(
        not word[:1].islower() or word.casefold() in _TITLE_SMALL_WORDS
        for word in (w.strip("()[],.;'\"") for w in words) if word
    )


# -- the sender's bare name ------------------------------------------------------------


def _name_forms(name: str | None) -> frozenset[str]:
    """How a person signs with their name: full, first, first + last initial, initials."""
    words = [w for w in (name or "").replace('"', " ").replace(",", " ").split() if w]
    if not words or len(words) > 5:
        return frozenset()
    forms = {" ".join(words), words[0], "".join(w[0] for w in words)}
    if len(words) > 1:
        forms |= {f"{words[0]} {words[-1][0]}", f"{words[0]} {words[-1][0]}.",
                  f"{words[-1]} {words[0]}"}  # "Lastname Firstname" in some From lines
    return frozenset(form.casefold() for form in forms if len(form) >= 2)


def _bare_name_start(
    lines: list[str], is_command: Callable[[str], object], names: frozenset[str],
    said_elsewhere: bool,
) -> int | None:
    """The sender's name (or initials) alone on the last line, or opening a last block
    of short signature lines (title, company, phone), is a signature, like
    "Thanks,\\nAnn" without the thanks; the From header says what their name is."""
    last = _last_filled(lines)
    if last <= 0 or not names:
        return None
    start = last
    while start > 0 and lines[start - 1].strip() and last - start < 8:
        start -= 1  # the first line of the last paragraph
    for first in dict.fromkeys((last, start)):
        if (_name_part(lines[first]).casefold() in names and not is_command(lines[first])
                and _is_name_block(lines[first + 1 : last + 1], is_command)
                and _last_filled(lines[:first]) >= 0):
            return first
    return None


_PRONOUNS = re.compile(r"\s*\((?:[^()\d]{1,16})\)\s*$")  # "Ben Okafor (he/him)"
_NAME_ENDS = re.compile(r"\s(?:[|·•]|[-–—]\s)|,")  # "Ben Okafor | Pricing", "Ben, PhD"


def _name_part(line: str) -> str:
    """The name a signature line opens with: without dashes, pronouns or what follows a bar."""
    name = line.strip().lstrip("-—–~ ")
    if (end := _NAME_ENDS.search(name)) and end.start() > 0:
        name = name[: end.start()]
    return " ".join(_PRONOUNS.sub("", name).rstrip(".!, ").split())


def _contact_block_start(
    lines: list[str], is_command: Callable[[str], object], names: frozenset[str],
    said_elsewhere: bool,
) -> int | None:
    """A name block with no sign-off: the last paragraph, opening with a name ("Gina Lee")
    and holding two contacts (an address, a phone number). When we know the sender's
    name, the block must be theirs: "the vendor's contact: John Roe, john@…, +1 …" is
    an answer, not a signature."""
    last = _last_filled(lines)
    start = last
    while start > 0 and lines[start - 1].strip() and last - start < 8:
        start -= 1  # the first line of the last paragraph
    if last - start < 2:
        return None
    block = lines[start + 1 : last + 1]
    name = _name_part(lines[start])
    if (_last_filled(lines[:start]) < 0 or not _NAME.fullmatch(name)
            or (names and not {w for n in names for w in n.split()} & set(name.casefold().split()))
            or sum(_is_particular(line) for line in block) < 2):
        return None
    return start if _is_name_block(block, is_command) else None


# -- the signature the HTML part marked ------------------------------------------------

_LINK = re.compile(r"<(?:https?|mailto|tel):[^>]*>", re.I)  # Outlook's "site<https://…>"


def _key(line: str) -> str:
    """A line as compared with the HTML's: no link targets, spaces collapsed, case-folded."""
    return " ".join(_LINK.sub("", line).split()).casefold()


def _marked_start(
    lines: list[str], is_command: Callable[[str], object], names: frozenset[str],
    said_elsewhere: bool, *, keys: tuple[str, ...],
) -> int | None:
    """Where the plain part's copy of the marked signature starts: its first line, near
    the end, with at least half of its lines after it, and nothing below it that is
    neither one of them nor a signature line (a command, a sentence)."""
    last = _last_filled(lines)
    for start in range(last, max(-1, last - 2 * len(keys) - 8), -1):
        if is_command(lines[start]):
            return None
        if _key(lines[start]) != keys[0]:
            continue
        below = [line.strip() for line in lines[start : last + 1] if line.strip()]
        marked = set(keys)
        typed_after = any(  # "PS: …" typed under the signature is something said
            _key(line) not in marked and not _is_signature_line(line, is_command)
            for line in below
        )
        found = sum(key in {_key(line) for line in below} for key in keys)
        if (2 * found >= len(keys) and not typed_after
                and (_last_filled(lines[:start]) >= 0 or said_elsewhere)):
            return start
        return None
    return None
