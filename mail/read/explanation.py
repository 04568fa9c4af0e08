"""Why a line could not be read: English text that keeps the message it was made from.

Reading stays pure and knows no catalogs. An explanation is marked for extraction where
it is written (``N_``) and is a ``str`` holding its English wording, so everything that
reads, compares or stores the reason sees English; the answer words it again in the
reader's language from ``template`` and ``parts`` (mail/write/language.py ``worded``).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks an explanation for extraction (``make catalogs``); translated where shown."""
    return message


class Explanation(str):
    """``template % parts`` in English; the answer translates ``template`` (and every part
    that is itself an Explanation) before filling it in."""

    template: str
    parts: dict[str, object]

    def __new__(cls, template: str, **parts: object) -> Explanation:
        made = super().__new__(cls, template % parts if parts else template)
        made.template, made.parts = template, parts
        return made
