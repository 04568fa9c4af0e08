"""The multilingual words every reader of mail shares, written once so the readers agree.

Mail clients write the same things in the user's language: the labels of a quoted
or forwarded header block ("From:", "Von:", "差出人："), the separator lines above
it ("-----Original Message-----", "Begin forwarded message:"), the subject
prefixes of replies and forwards ("Re:", "AW:", "Fwd:", "WG:") and the attribution
line of a reply ("On …, Ann wrote:"). ``classify`` decides what a message is with
them, ``forward`` finds the forwarded messages, ``reply_text`` cuts the quote off a
reply and ``html_text`` finds Outlook's quoted block in HTML: when one of them knew a
word the others did not, the same message was read two ways. Each list here is the
union of what those readers knew; ``tests/test_vocabulary.py`` checks that they all
recognise every word.

People also paste text full of invisible characters (zero-width spaces, direction
marks, soft hyphens) and odd spaces; the tables to remove or plain them are here too.

Words are stored lower-cased as written; ``fold`` is how a label is looked up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = [
    "ATTRIBUTION_VERB",
    "ATTRIBUTION_VERB_INSIDE",
    "ATTRIBUTION_VERB_SENT",
    "FORWARD_INTROS",
    "FORWARD_PHRASES",
    "FORWARD_PREFIXES",
    "FORWARD_SUBJECT",
    "HEADER_LABELS",
    "INVISIBLE",
    "INVISIBLE_MARKS",
    "INVISIBLE_OR_SPACE",
    "LABEL_FIELD",
    "LABEL_LANGUAGES",
    "ODD_SPACES",
    "ORIGINAL_PHRASES",
    "PLAIN_SPACES",
    "QUOTED_FIELDS",
    "REPLY_PREFIXES",
    "REPLY_SUBJECT",
    "SUBJECT_PREFIXES",
    "VARIATION_SELECTORS",
    "alternatives",
    "fold",
    "normalize_line",
]


def fold(text: str) -> str:
    """Lower case for matching; Turkish dotted capital I as a plain i (same length)."""
    return text.replace("İ", "I").lower()


def alternatives(words: Iterable[str]) -> str:
    """A regular expression alternation of ``words``, escaped, longest first."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


def _phrases(text: str) -> frozenset[str]:
    """A ``|``-separated word list (kept as text so it stays readable), spaces collapsed."""
    return frozenset(" ".join(p.split()).lower() for p in text.split("|") if p.strip())


# --- invisible characters --------------------------------------------------------------

INVISIBLE_MARKS = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)  # soft hyphen, zero-width, direction marks and embeddings, word joiner, BOM
VARIATION_SELECTORS = "\ufe0e\ufe0f"  # text/emoji presentation: removed only to read commands
ODD_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u3000"  # no-break, narrow, figure, thin, hair, CJK

INVISIBLE: Mapping[int, None] = MappingProxyType(dict.fromkeys(map(ord, INVISIBLE_MARKS), None))
PLAIN_SPACES: Mapping[int, str] = MappingProxyType(dict.fromkeys(map(ord, ODD_SPACES), " "))
INVISIBLE_OR_SPACE: Mapping[int, str | None] = MappingProxyType({**INVISIBLE, **PLAIN_SPACES})
_INVISIBLE_IN_LINES = dict.fromkeys(map(ord, INVISIBLE_MARKS + VARIATION_SELECTORS), None)
_MAX_LINE = 2000  # longer lines are prose; reading them whole would only cost time


def normalize_line(line: str) -> str:
    """A line as commands and action items are read: NFKC, no invisible marks or
    variation selectors, single spaces (so ``T\u200b-12`` and ``Ｔ－１２`` are ``T-12``)."""
    text = line[:_MAX_LINE]
    if not (text.isascii() and text.isprintable()):  # else already what the steps make
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE_IN_LINES)
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


# --- subject prefixes --------------------------------------------------------------------

REPLY_PREFIXES: tuple[str, ...] = (
    "re", "aw", "antw", "antwort", "sv", "r", "res", "rif", "odp", "ynt", "vá", "απ",
    "отв", "ответ", "השב", "رد", "회신", "回复", "回覆", "答复", "返信",
)  # fmt: skip
FORWARD_PREFIXES: tuple[str, ...] = (
    "fwd", "fw", "wg", "tr", "rv", "i", "doorst", "vs", "vl", "vb", "enc", "pd", "př",
    "ilt", "i̇lt", "İlt", "továbbítás", "πρθ", "пересл", "הועבר", "전달", "转发", "轉寄", "転送",
)  # fmt: skip
_LIST_TAGS = r"(?:\[[^\]]{0,80}\]\s*)*"


def _prefix_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        rf"^{_LIST_TAGS}((?:{alternatives(words)})\s*(?:\[\d+\]|\(\d+\))?\s*[:：])", re.I
    )


# A subject that starts with a reply (or forward) prefix, after any "[list]" tags;
# group 1 is the prefix as written ("AW:", "Fwd[2]:").
REPLY_SUBJECT = _prefix_pattern(REPLY_PREFIXES)
FORWARD_SUBJECT = _prefix_pattern(FORWARD_PREFIXES)
# Every reply and forward prefix at the start of a subject ("Re: Fwd: AW: "), to strip.
SUBJECT_PREFIXES = re.compile(
    rf"^\s*(?:(?:{alternatives(REPLY_PREFIXES + FORWARD_PREFIXES)})\s*(?:\[\d+\]|\(\d+\))?"
    r"\s*[:：]\s*)+",
    re.I,
)


# --- header labels of a quoted or forwarded block -----------------------------------------


def _table(spec: str) -> dict[str, tuple[str, ...]]:
    """``lang: label | label`` lines as {label: languages}."""
    found: dict[str, list[str]] = {}
    for line in spec.strip().splitlines():
        language, _, labels = line.partition(":")
        for label in labels.split("|"):
            if label.strip():
                found.setdefault(fold(label.strip()), []).append(language.strip())
    return {label: tuple(languages) for label, languages in found.items()}


# Header labels by field, in the languages mail clients write them (dateparser codes).
_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "from": _table("""
        en: from | sender
        de: von | absender
        fr: de | expéditeur
        es: de | remitente
        pt: de | remetente
        it: da | mittente
        nl: van | afzender
        sv: från | fran | avsändare
        da: fra | afsender
        nb: fra | avsender
        fi: lähettäjä
        pl: od | nadawca
        cs: od
        sk: od
        hr: šalje | od
        hu: feladó
        ro: de la | expeditorul | expeditor
        ru: от | отправитель
        uk: від | від кого
        tr: kimden | gönderen
        et: saatja
        ja: 差出人 | 送信元 | 送信者
        zh: 发件人 | 寄件者 | 寄件人
        ko: 보낸 사람"""),
    "date": _table("""
        en: date | sent | sent at
        de: datum | gesendet | gesendet am
        fr: date | envoyé | envoyé le
        es: fecha | enviado | enviada | enviado el | enviada el
        pt: data | enviado | enviada | enviado em | enviada em
        it: data | inviato | inviato il
        nl: datum | verzonden | verstuurd
        sv: datum | skickat | skickades
        da: dato | sendt
        nb: dato | sendt
        fi: päivämäärä | päiväys | lähetetty | pvm
        pl: data | wysłano | wysłane
        cs: datum | odesláno
        sk: dátum | odoslané
        hr: datum | poslano
        hu: dátum | elküldve | időpont
        ro: dată | data | trimis
        ru: дата | отправлено
        uk: дата | відправлено | надіслано
        tr: tarih | gönderildi | gönderilen | gönderme tarihi
        et: kuupäev
        ja: 日付 | 送信日時 | 日時
        zh: 日期 | 发送时间 | 寄件日期
        ko: 보낸 날짜 | 날짜"""),
    "to": _table("""
        en: to
        de: an
        fr: à | pour | destinataire
        es: para | a
        pt: para
        it: a
        nl: aan
        sv: till
        da: til
        nb: til
        fi: vastaanottaja
        pl: do | adresat
        cs: komu
        sk: komu | pre
        hr: prima | za
        hu: címzett
        ro: către | catre | destinatarul | destinatar
        ru: кому
        uk: кому
        tr: kime
        et: saaja
        ja: 宛先 | 送信先
        zh: 收件人 | 收件者
        ko: 받는 사람"""),
    "cc": _table("""
        en: cc | copy
        de: kopie | kopie (cc)
        fr: copie | copie à
        es: copia
        pt: cópia
        it: copia
        nl: kopie
        sv: kopia
        da: kopi
        nb: kopi
        fi: kopio
        pl: dw | kopia | do wiadomości
        cs: kopie
        sk: kópia
        hr: kopija
        hu: másolat | másolatot kap
        ru: копия
        uk: копія
        tr: bilgi
        zh: 抄送 | 副本
        ko: 참조"""),
    "subject": _table("""
        en: subject | subj
        de: betreff
        fr: objet | sujet
        es: asunto
        pt: assunto
        it: oggetto
        nl: onderwerp
        sv: ämne
        da: emne
        nb: emne
        fi: aihe
        pl: temat | tytuł
        cs: předmět
        sk: predmet
        hr: predmet | naslov
        hu: tárgy
        ro: subiect | subiectul
        ru: тема
        uk: тема
        tr: konu
        et: teema
        ja: 件名
        zh: 主题 | 主旨
        ko: 제목"""),
    "message_id": _table("""
        en: message-id | message id"""),
    "other": _table("""
        en: reply-to | reply to | bcc | importance | attachments
        de: antwort an | bcc | wichtigkeit | priorität | anlagen
        fr: répondre à | cci | importance | pièces jointes
        es: responder a | cco | importancia | datos adjuntos
        it: rispondi a | ccn | priorità | allegati
        nl: antwoord aan | bijlagen
        pl: odpowiedź do | załączniki"""),
}

QUOTED_FIELDS = ("from", "date", "to", "cc", "subject")  # what a reader of a quote needs
# field ("from", "date", "to", "cc", "subject", "message_id", "other") -> its labels
HEADER_LABELS: Mapping[str, frozenset[str]] = MappingProxyType(
    {kind: frozenset(table) for kind, table in _FIELDS.items()}
)
# label -> its field; every label names one field
LABEL_FIELD: Mapping[str, str] = MappingProxyType(
    {label: kind for kind, table in _FIELDS.items() for label in table}
)
# label -> the languages it is written in, for reading the block's date
LABEL_LANGUAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {label: languages for table in _FIELDS.values() for label, languages in table.items()}
)


# --- separator lines -------------------------------------------------------------------------

# "---------- Forwarded message ---------" (between dashes)
FORWARD_PHRASES = _phrases("""
    forwarded message | forwarded message follows | forwarded email | forwarded e-mail |
    fwd.msg | weitergeleitete nachricht | message transféré | message transfere |
    message transmis | message réexpédié | mensaje reenviado | messaggio inoltrato |
    doorgestuurd bericht | mensagem encaminhada | mensagem reencaminhada |
    vidarebefordrat meddelande | videresendt meddelelse | videresendt melding |
    videresendt besked | välitetty viesti | edelleenlähetetty viesti | przekazana wiadomość |
    wiadomość przesłana dalej | treść przekazanej wiadomości | přeposlaná zpráva |
    preposlaná správa | proslijeđena poruka | prosleđena poruka | továbbított üzenet |
    mesaj redirecționat | mesaj redirecţionat | iletilen ileti | i̇letilen i̇leti |
    iletilmiş mesaj | i̇letilmiş mesaj | пересылаемое сообщение | пересланное сообщение |
    перенаправленное сообщение | переслане повідомлення | перенаправлене повідомлення |
    edasi saadetud kiri | メッセージを転送 | 転送されたメッセージ | 转发的邮件 | 轉寄的郵件 |
    전달된 메시지""")
# "-----Original Message-----": a forward, or the quoted original of a reply
ORIGINAL_PHRASES = _phrases("""
    original message | original-nachricht | ursprüngliche nachricht | originalnachricht |
    message d'origine | message original | mensaje original | messaggio originale |
    oorspronkelijk bericht | origineel bericht | originalmeddelande |
    ursprungligt meddelande | opprinnelig melding | oprindelig meddelelse |
    alkuperäinen viesti | wiadomość oryginalna | oryginalna wiadomość | původní zpráva |
    pôvodná správa | mensagem original | eredeti üzenet | mesajul original | orijinal mesaj |
    исходное сообщение | оригинальное сообщение | вихідне повідомлення |
    оригінальне повідомлення | izvorna poruka | originalna poruka | 原始邮件 | 原始郵件 |
    元のメッセージ | 원본 메시지 |
    reply message | antwort nachricht | antwortnachricht""")
# "Begin forwarded message:" (a line of its own, ending in a colon)
FORWARD_INTROS = _phrases("""
    begin forwarded message | forwarded message | začátek přeposílané zprávy |
    start på videresendt besked | anfang der weitergeleiteten nachricht |
    inicio del mensaje reenviado | comienzo del mensaje reenviado | välitetty viesti alkaa |
    début du message réexpédié | début du message transféré | započni proslijeđenu poruku |
    továbbított levél kezdete | inizio messaggio inoltrato | messaggio inoltrato |
    begin doorgestuurd bericht | videresendt melding | videresendt brev |
    początek przekazywanej wiadomości | início da mensagem reencaminhada |
    início da mensagem encaminhada | începe mesajul redirecționat |
    начало переадресованного сообщения | начало пересылаемого сообщения |
    začiatok preposlanej správy | vidarebefordrat mejl | vidarebefordrat brev |
    i̇leti başlangıcı | ileti başlangıcı | початок листа, що пересилається | 転送されたメッセージ""")


# --- the attribution line of a reply ------------------------------------------------------

# "On <date>, <name> wrote:" and its translations: the verb ends the line (match it
# in the last 40 characters only) ...
ATTRIBUTION_VERB = re.compile(
    r"(?:\bwrote|\bwrites|\ba écrit|\bgeschreven|\bgeschrieben|\bescribió|\bescreveu|\bha scritto"
    r"|\bnapisał(?:\(a\)|a)?|\bpisze|\bнаписал(?:\(а\)|а)?|\bнаписав|\bпише"
    r"|\bnapsal(?:\(a\)|a)?|\bnapísal(?:\(a\)|a)?|\bnapisao|\bnapisala|\ba scris|\bέγραψε"
    r"|\bírta|\byazdı|\bđã viết|כתב|كتب|写道|寫道|のメッセージ|書きました|작성)"
    r"\s*[:：]\s*$|\bwrote\s*-{2,}\s*$",
    re.I,
)
# ... or, in German, Dutch, Scandinavian and Finnish, comes before the name
# ("Am …, schrieb Ann <ann@x.org>:").
ATTRIBUTION_VERB_INSIDE = re.compile(r"\b(?:schrieb|schreef|skrev|kirjoitti)\b", re.I)
# "On 11-Apr-2011, at 6:54 PM, Ann <ann@x.org> sent:": believed only after an opening
# like "On …" (a line ending in "Sent:" is far more often an Outlook header label).
ATTRIBUTION_VERB_SENT = re.compile(r"\bsent\s*[:：]\s*$", re.I)
