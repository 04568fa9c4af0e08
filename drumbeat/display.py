"""What the console shows: outside text made safe, and times on one clock in one zone.

Text that came from outside (subjects, names, reasons) is made safe for a terminal.

A subject is chosen by whoever sends the mail. Printed as it is, an ANSI escape
could recolour or rewrite the operator's screen, a carriage return could hide
what came before it, a bidi override could reverse what is read, and rich would
take ``[link=…]`` or ``[bold]`` as its own markup. Here every control and format
character is shown as a visible ``\\xNN`` / ``\\uNNNN`` escape (a tab or line break
as a space), and the result is a rich ``Text``, which rich never reads as markup.

Times are stored in UTC on Drumbeat's clock (``workers.runtime``: the simulated one
when ``DRUMBEAT_CLOCK_START`` is set); ``inbox``, ``outbox`` and ``status`` show them
in the reader's zone: ``--tz``, else ``DRUMBEAT_DEFAULT_TIMEZONE``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


TZ_HELP = "Show times in this IANA time zone (default DRUMBEAT_DEFAULT_TIMEZONE)."


def reader_zone(name: str | None, default: str) -> ZoneInfo:
    """The zone the reader asked for (``--tz``), else the configured default; a name
    that is not an IANA zone is a ``ValueError`` that says what to write."""
    wanted = (name or default).strip()
    try:
        return ZoneInfo(wanted)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {wanted!r}; write an IANA name, e.g. "
                         "Europe/Berlin or UTC") from None


def shown_time(moment: datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """``2026-12-07 15:05`` in ``zone`` (with seconds and the zone's abbreviation for
    one message's page: ``2026-12-07 15:05:12 CET``)."""
    local = moment.astimezone(zone)
    if not seconds:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M:%S} {local:%Z}"


def cli_zone(name: str | None) -> ZoneInfo:
    """:func:`reader_zone` for a command: a bad ``--tz`` stops it with a clear error
    (exit status 1), never a traceback."""
    import typer

    from config.settings import get_settings

    try:
        return reader_zone(name, get_settings().default_timezone)
    except ValueError as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1) from None


def drumbeat_now() -> datetime:
    """Now on Drumbeat's clock: the simulated one when ``DRUMBEAT_CLOCK_START`` is set
    (where it starts), else the real one; the moment the workers would stamp."""
    from config.settings import get_settings
    from workers.runtime import clock_for

    return clock_for(get_settings())()
