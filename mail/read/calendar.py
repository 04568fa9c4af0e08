"""Calendar invites (``text/calendar`` parts) read for the meeting they describe.

Forwarded meeting notes often carry the invite of the 1:1 (Outlook and Google
attach it to every meeting mail). Two facts are taken from it, both pure
functions over the parts' text as ``mail.read.message`` decoded them:

- ``meeting_start``: the DTSTART of the first VEVENT that has a readable one.
  A time in a named zone is an aware ``datetime`` in that zone (a ``ZoneInfo``:
  IANA names as they are, Windows names such as ``W. Europe Standard Time`` and
  Outlook labels such as ``(UTC+01:00) Amsterdam, Berlin, …`` mapped to IANA);
  ``…Z`` is aware UTC; a floating time (no zone, RFC 5545 form #1) is naive, and
  so is a time whose zone can be neither mapped nor built from the invite's own
  VTIMEZONE (the wall clock as written: the caller reads it in the person's
  zone). An all-day event (``VALUE=DATE``) has no time, so it gives None.
- ``meeting_attendees``: the ORGANIZER and ATTENDEE addresses of every VEVENT,
  lower-cased, first seen first, without duplicates. ``mailto:`` values are used,
  and Apple's ``EMAIL=`` parameter when the value is a ``urn:uuid:``. Rooms and
  other resources (``CUTYPE=RESOURCE`` or ``ROOM``) are not people and are left
  out; so is anything that is not a plausible address.

Nothing here raises: an invite that ``icalendar`` cannot read (a gateway cut it
short, a line is mangled) is scanned line by line instead, and what cannot be
read there either is simply absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

__all__ = ["meeting_attendees", "meeting_start"]

_MAX_TEXT = 1_000_000  # an invite is a few kilobytes; more is not worth reading

# The Windows zone names Outlook and Exchange write most (CLDR windowsZones, "001"
# territory). icalendar ships the full CLDR table; it is used for the rest when present.
_WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "Canada Central Standard Time": "America/Regina",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
}

# Outlook's display labels, "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
# by the text after the offset. Labels not listed are matched by a city that names a zone.
_OUTLOOK_LABELS = {
    "amsterdam, berlin, bern, rome, stockholm, vienna": "Europe/Berlin",
    "brussels, copenhagen, madrid, paris": "Europe/Paris",
    "belgrade, bratislava, budapest, ljubljana, prague": "Europe/Budapest",
    "sarajevo, skopje, warsaw, zagreb": "Europe/Warsaw",
    "dublin, edinburgh, lisbon, london": "Europe/London",
    "athens, bucharest": "Europe/Bucharest",
    "helsinki, kyiv, riga, sofia, tallinn, vilnius": "Europe/Helsinki",
    "moscow, st. petersburg": "Europe/Moscow",
    "coordinated universal time": "UTC",
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "chennai, kolkata, mumbai, new delhi": "Asia/Kolkata",
    "beijing, chongqing, hong kong, urumqi": "Asia/Shanghai",
    "osaka, sapporo, tokyo": "Asia/Tokyo",
    "canberra, melbourne, sydney": "Australia/Sydney",
}
_LABEL_OFFSET = re.compile(r"\(\s*(?:utc|gmt)[^)]*\)\s*", re.I)
_OLSON_TAIL = re.compile(r"[A-Za-z]+/[A-Za-z_+\-]+(?:/[A-Za-z_+\-]+)?$")


@dataclass(frozen=True)
class _Event:
    """What is read from one VEVENT, whichever reader read it."""

    start: date | datetime | None  # naive wall clock, or aware for UTC / an invite-built zone
    tzid: str | None
    addresses: tuple[str, ...]


def meeting_start(ics_texts: Sequence[str]) -> datetime | None:
    """When the meeting of the first VEVENT with a DTSTART starts (module docstring)."""
    for event in _events(ics_texts):
        if event.start is None:
            continue
        if not isinstance(event.start, datetime):
            return None  # an all-day event: no time to give
        return _localize(event.start, event.tzid)
    return None


def meeting_attendees(ics_texts: Sequence[str]) -> tuple[str, ...]:
    """Lower-cased organizer and attendee addresses of every VEVENT, first seen first."""
    seen: dict[str, None] = {}
    for event in _events(ics_texts):
        seen.update(dict.fromkeys(event.addresses))
    return tuple(seen)


# --- time zones ---------------------------------------------------------------------------


def _localize(start: datetime, tzid: str | None) -> datetime:
    if tzid is None:
        if start.tzinfo is not None and start.utcoffset() == UTC.utcoffset(None):
            return start.replace(tzinfo=UTC)
        return start  # floating, or an offset icalendar worked out: as it is
    zone = _zone(tzid)
    if zone is not None:
        return start.replace(tzinfo=zone)  # the wall clock as written, in the mapped zone
    return start  # aware when icalendar built the zone from the invite's VTIMEZONE


@lru_cache(maxsize=256)
def _zone(tzid: str) -> tzinfo | None:
    """An IANA zone for a TZID: IANA itself, a Windows name, an Outlook label, or None."""
    name = tzid.strip().strip('"').replace("\\,", ",").strip()
    if not name or len(name) > 200:
        return None
    for candidate in (name, _windows_zone(name), _label_zone(name), _olson_tail(name)):
        if candidate and (zone := _zoneinfo(candidate)) is not None:
            return zone
    return None


def _zoneinfo(name: str) -> ZoneInfo | None:
    if name.startswith("/") or ".." in name:
        return None  # ZoneInfo would read it as a path
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _windows_zone(name: str) -> str | None:
    if name in _WINDOWS_ZONES:
        return _WINDOWS_ZONES[name]
    try:
        from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
    except ImportError:  # an icalendar without the CLDR table: the common names above suffice
        return None
    return WINDOWS_TO_OLSON.get(name)


def _label_zone(name: str) -> str | None:
    """``(UTC+01:00) Amsterdam, Berlin, …``: a known label, else a city that names a zone."""
    if not _LABEL_OFFSET.match(name):
        return None
    label = _LABEL_OFFSET.sub("", name, count=1).strip().lower()
    if label in _OUTLOOK_LABELS:
        return _OUTLOOK_LABELS[label]
    cities = _zone_cities()
    for city in re.split(r"\s*,\s*", label):
        if (zone := cities.get(city.replace(" ", "_"))) is not None:
            return zone
    return None


def _olson_tail(name: str) -> str | None:
    """``/mozilla.org/20070129_1/Europe/Berlin`` and similar prefixed IANA names."""
    m = _OLSON_TAIL.search(name)
    return m.group() if m and m.group() != name else None


@lru_cache(maxsize=1)
def _zone_cities() -> dict[str, str]:
    """``berlin`` → ``Europe/Berlin``: the last part of every IANA zone name."""
    cities: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/")):
            cities.setdefault(zone.rsplit("/", 1)[1].lower(), zone)
    return cities


# --- reading events -----------------------------------------------------------------------


def _events(ics_texts: Sequence[str]) -> Iterator[_Event]:
    """Every VEVENT of every part, in order; a part icalendar cannot read is scanned."""
    for text in ics_texts:
        if not isinstance(text, str) or "BEGIN:VEVENT" not in text.upper():
            continue
        text = text[:_MAX_TEXT]
        events = _icalendar_events(text)
        yield from events if events else _scanned_events(text)


def _icalendar_events(text: str) -> list[_Event]:
    try:
        import icalendar

        components = icalendar.Calendar.from_ical(text, multiple=True)
        return [
            _Event(*_icalendar_start(event), _icalendar_addresses(event))
            for component in components
            for event in component.walk("VEVENT")
        ]
    except Exception:  # icalendar's errors are many and loosely typed; the scanner is next
        return []


def _icalendar_start(event: object) -> tuple[date | datetime | None, str | None]:
    prop = event.get("DTSTART")  # type: ignore[attr-defined]
    value = getattr(prop, "dt", None)
    if not isinstance(value, date):
        return None, None  # missing, or icalendar's vBroken
    tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
    return value, str(tzid) if tzid else None


def _icalendar_addresses(event: object) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("ORGANIZER", "ATTENDEE"):
        values = event.get(name)  # type: ignore[attr-defined]
        for value in values if isinstance(values, list) else [values]:
            if value is None:
                continue
            params = {str(k).upper(): str(v) for k, v in getattr(value, "params", {}).items()}
            if (address := _address(str(value), params)) is not None:
                found.append(address)
    return tuple(found)


_EMAIL = re.compile(r"[^@\s<>,;:\"'()\[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _address(value: str, params: dict[str, str]) -> str | None:
    """A person's lower-cased address from a cal-address value and its parameters."""
    if params.get("CUTYPE", "").upper() in ("RESOURCE", "ROOM"):
        return None
    value = value.strip()
    if value.lower().startswith("mailto:"):
        candidate = unquote(value[7:].split("?", 1)[0]).strip()
    else:
        candidate = params.get("EMAIL", "").strip().strip('"')
    return candidate.lower() if _EMAIL.fullmatch(candidate) else None


# --- the fallback scanner -----------------------------------------------------------------

_CONTENT_LINE = re.compile(r"([A-Za-z0-9-]+)((?:;[^:]*)?):(.*)")
_DATE_VALUE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?")


def _scanned_events(text: str) -> list[_Event]:
    """Read DTSTART, ORGANIZER and ATTENDEE lines between BEGIN:VEVENT and END:VEVENT."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    events: list[_Event] = []
    inside = False
    start: date | datetime | None = None
    tzid: str | None = None
    addresses: list[str] = []
    for line in unfolded.splitlines():
        upper = line.strip().upper()
        if upper == "BEGIN:VEVENT":
            inside, start, tzid, addresses = True, None, None, []
            continue
        if not inside:
            continue
        if upper == "END:VEVENT":
            events.append(_Event(start, tzid, tuple(addresses)))
            inside = False
            continue
        if not (m := _CONTENT_LINE.match(line.strip())):
            continue
        name, params = m[1].upper(), _params(m[2])
        if name == "DTSTART" and start is None:
            start = _scanned_date(m[3].strip())
            tzid = params.get("TZID") or None
        elif name in ("ORGANIZER", "ATTENDEE") and (address := _address(m[3], params)):
            addresses.append(address)
    if inside:  # cut short: what was read still counts
        events.append(_Event(start, tzid, tuple(addresses)))
    return events


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for m in re.finditer(r';([A-Za-z0-9-]+)=("[^"]*"|[^;]*)', text):
        params[m[1].upper()] = m[2].strip('"')
    return params


def _scanned_date(value: str) -> date | datetime | None:
    if not (m := _DATE_VALUE.fullmatch(value)):
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
        if m[4] is None:
            return day
        moment = datetime(day.year, day.month, day.day, int(m[4]), int(m[5]), int(m[6]))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if m[7] else moment
