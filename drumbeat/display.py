"""Text that came from outside (subjects, names, reasons) made safe for a terminal.

A subject is chosen by whoever sends the mail. Printed as it is, an ANSI escape
could recolour or rewrite the operator's screen, a carriage return could hide
what came before it, a bidi override could reverse what is read, and rich would
take ``[link=…]`` or ``[bold]`` as its own markup. Here every control and format
character is shown as a visible ``\\xNN`` / ``\\uNNNN`` escape (a tab or line break
as a space), and the result is a rich ``Text``, which rich never reads as markup.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

ELLIPSIS = "…"
DEFAULT_LIMIT = 200
_AS_SPACE = {"\t", "\n", "\r", "\x0b", "\x0c", "\u2028", "\u2029"}


def clean_text(value: str | None, limit: int = DEFAULT_LIMIT) -> str:
    """``value`` on one line with nothing a terminal would act on, at most ``limit``
    characters (cut with an ellipsis). The result is still plain text: print it with
    ``typer.echo``, or pass it through :func:`safe_text` for rich."""
    shown = "".join(_visible(char) for char in (value or ""))
    return shown if len(shown) <= limit else shown[:max(limit - 1, 0)] + ELLIPSIS


def safe_text(value: str | None, limit: int = DEFAULT_LIMIT) -> Text:
    """:func:`clean_text` as a rich ``Text``: brackets print as brackets, not markup."""
    return Text(clean_text(value, limit), no_wrap=False)


def _visible(char: str) -> str:
    if char in _AS_SPACE:
        return " "
    category = unicodedata.category(char)
    if category in ("Cc", "Cs") or (category == "Cf" and char != "\u200d"):  # bidi, ...
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char
