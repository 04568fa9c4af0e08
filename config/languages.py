"""The languages Drumbeat writes mail in: one gettext catalog each under templates/locales/.

A person's ``language`` (people file) and ``DRUMBEAT_DEFAULT_LANGUAGE`` must name one of
these; ``tests/test_catalogs.py`` checks that this list and the shipped ``.po`` files
agree. Adding a language: ``pybabel init`` its catalog (``make catalogs`` keeps it in
step), translate it, and add its code here.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "ja", "zh")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                  "pt": "Português", "ja": "日本語", "zh": "中文"}
# Common ways a people file writes a language, read as the catalog's code.
_SYNONYMS = {"english": "en", "german": "de", "deutsch": "de", "french": "fr",
             "français": "fr", "francais": "fr", "spanish": "es", "español": "es",
             "espanol": "es", "portuguese": "pt", "português": "pt", "portugues": "pt",
             "japanese": "ja", "日本語": "ja", "jp": "ja", "chinese": "zh", "中文": "zh",
             "cn": "zh"}


def known_language(text: str) -> str | None:
    """The shipped language ``text`` names (``de``, ``de-DE``, ``de_AT``, ``German``,
    ``日本語``), or None when no catalog is shipped for it."""
    value = text.strip().lower().replace("_", "-")
    value = _SYNONYMS.get(value, value)
    code = value.split("-")[0]
    if code == "zh" and any(part in ("hant", "tw", "hk", "mo") for part in value.split("-")):
        return None  # the Chinese catalog is Simplified Chinese
    return code if code in LANGUAGES else None


def unknown_language_hint() -> str:
    """What to write instead, for an error message."""
    return "Use one of " + ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES) + "."
