"""Charts for evaluation digests: PNG bytes from plain figures, no database.

Made for email: 1200 px wide (a 600 px column at 2x), a white background (they
stay readable when a client shows the message in dark mode), the Okabe-Ito
colour-blind-safe palette, and every state told apart by its legend label too.

matplotlib is used through its object API only (``Figure`` + ``FigureCanvasAgg``):
no pyplot, so no global figure registry that would keep figures alive across
thousands of digests, and no global rcParams changes; the Agg backend is
selected on import unless someone already imported pyplot. Fonts are
matplotlib's own bundled DejaVu Sans files, loaded by path, and the PNG (encoded
by Pillow as a 64-colour palette image, to stay well under 150 KB) has only the
IHDR, PLTE, pHYs, IDAT and IEND chunks: no "Software" or date metadata, so the
same figures give the same bytes (a golden hash is possible on one matplotlib
and Pillow version). matplotlib itself is not thread-safe, so drawing is
serialised by a module lock.

Names are drawn as plain text (no mathtext: a ``$`` in a name is just a ``$``).
Chinese, Japanese and Korean names need a font DejaVu Sans is not: when Debian's
``fonts-noto-cjk`` is installed (``.ci/run`` installs it; the slim Docker image does
not), Noto Sans
CJK is the fallback for the glyphs DejaVu Sans lacks (matplotlib's per-glyph font
fallback); characters neither has are drawn as ``□``, and the HTML part of the digest
has every name in full.
"""

from __future__ import annotations

import io
import math
import sys
import threading
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:  # never switch a backend someone else is using
    matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch
from PIL import Image  # a dependency of matplotlib

from mail.write.digest import CalibrationRow, CheckinState, PersonFigures, RatingLevel
from mail.write.render import oneline

__all__ = [
    "DPI",
    "STATE_COLOURS",
    "STATE_LABELS",
    "WIDTH_INCHES",
    "calibration_chart",
    "checkin_timeline_chart",
    "goal_progress_chart",
]

WIDTH_INCHES = 6.0
DPI = 200  # 6 in x 200 = 1200 px: sharp at 600 px on a retina screen
_ROW = 0.28  # inches per person
_COLOURS = 64  # palette size of the PNG
_LEFT = 2.0  # inches for the names
_LABEL_SIZE = 10.0
_NAME_POINTS = (_LEFT - 0.12) * 72

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any common
# colour-vision deficiency.
_BLUE, _SKY, _YELLOW, _VERMILLION = "#0072B2", "#56B4E9", "#F0E442", "#D55E00"
_INK, _MUTED, _GRID = "#1f2328", "#59636e", "#d0d7de"

STATE_COLOURS: dict[CheckinState, str] = {
    "confirmed": _BLUE,
    "held": _SKY,
    "excused": _YELLOW,
    "disputed": "#CC79A7",  # Okabe & Ito's reddish purple
    "missed": _VERMILLION,
    "upcoming": "#ffffff",
    "inactive": "#e4e7eb",
    "untracked": "#ffffff",  # outlined in the grid's grey: nothing was expected yet
}
STATE_LABELS: dict[CheckinState, str] = {
    "confirmed": "Held, confirmed by both",
    "held": "Held",
    "excused": "Excused",
    "disputed": "Disputed",
    "missed": "Missed",
    "upcoming": "Upcoming",
    "inactive": "Not active",
    "untracked": "Before tracking",
}
_EDGES: dict[CheckinState, str] = {"upcoming": "#8c959f", "excused": "#a89a00",
                                   "untracked": _GRID}

_LOCK = threading.Lock()
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- fonts and text -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _font_paths() -> tuple[str, str]:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(folder / "DejaVuSans.ttf"), str(folder / "DejaVuSans-Bold.ttf")


# Where Debian's fonts-noto-cjk puts Noto Sans CJK (regular, bold), newest layout first.
CJK_FONTS = (("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
             ("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Bold.ttc"))


@lru_cache(maxsize=1)
def _cjk_family() -> str | None:
    """Noto Sans CJK's family name, registered with matplotlib, when it is installed."""
    for regular, bold in CJK_FONTS:
        if Path(regular).is_file():
            for path in (regular, bold):
                if Path(path).is_file():
                    font_manager.fontManager.addfont(path)
            return str(FT2Font(regular).family_name)
    return None


@lru_cache(maxsize=1)
def _measurer() -> FT2Font:
    return FT2Font(_font_paths()[0])


@lru_cache(maxsize=1)
def _cjk_measurer() -> FT2Font | None:
    family = _cjk_family()
    return FT2Font(next(r for r, _b in CJK_FONTS if Path(r).is_file())) if family else None


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    cjk = _cjk_measurer()
    return frozenset(_measurer().get_charmap()) | (
        frozenset(cjk.get_charmap()) if cjk is not None else frozenset())


def _points(text: str, size: float) -> float:
    """The drawn width of ``text`` at ``size`` points, in points: DejaVu Sans, and Noto
    Sans CJK for what DejaVu Sans has no glyph for."""
    latin, cjk = _measurer(), _cjk_measurer()  # only used under _LOCK
    own = frozenset(latin.get_charmap()) if cjk is not None else None
    width = 0.0
    run_font, run = latin, ""
    for ch in text + "\0":
        font = latin if ch == "\0" or own is None or ord(ch) in own or cjk is None else cjk
        if (font is not run_font or ch == "\0") and run:
            run_font.set_size(size, 72)
            run_font.set_text(run, 0.0)
            width += run_font.get_width_height()[0] / 64
            run = ""
        run_font, run = font, run + ("" if ch == "\0" else ch)
    return width


def _font(size: float, bold: bool = False) -> FontProperties:
    cjk = _cjk_family()
    if cjk is None:
        return FontProperties(fname=_font_paths()[1 if bold else 0], size=size)
    return FontProperties(family=["DejaVu Sans", cjk], weight="bold" if bold else "normal",
                          size=size)


def _label(value: object, size: float = _LABEL_SIZE, room: float = _NAME_POINTS) -> str:
    """One line, drawable with DejaVu Sans, at most ``room`` points wide (then cut with "…")."""
    known = _glyphs()
    text = "".join(ch if ord(ch) in known else "□" for ch in oneline(value))[:60]
    if _points(text, size) <= room:
        return text
    while text and _points(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _right_room(widest: str) -> float:
    """Inches right of the plot for values as wide as ``widest`` (and the gap before them)."""
    return (_points(widest, _LABEL_SIZE) + 14) / 72


def _number(value: float | None) -> float | None:
    """A percentage clamped to 0..100; None (and NaN) stay "nothing to judge"."""
    if value is None or not math.isfinite(value):
        return None
    return min(100.0, max(0.0, float(value)))


def _pct(value: float | None) -> str:
    value = _number(value)
    if value is None:
        return "–"
    return f"{value:.0f}%" if value == round(value) else f"{value:.1f}%"


def _count(n: int) -> str:
    return f"{n:,}"


# --- figure plumbing ------------------------------------------------------------------


def _png(figure: Figure) -> bytes:
    """The figure as an 8-bit palette PNG with no metadata chunks.

    Flat colours and anti-aliased text need far fewer than 64 colours, and a
    palette PNG is a third of the size of matplotlib's RGBA one (a 40-row chart:
    ~120 KB instead of ~350 KB). Octree quantising without dithering is fast and
    deterministic; its bucket colours are then snapped back to the exact colours
    drawn (pure white stays pure white on a white email).
    """
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    figure.clear()  # break the artist cycles now rather than at the next gc pass
    palette = image.convert("RGB").quantize(
        colors=_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette.putpalette(_snapped(palette.getpalette() or []))
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", compress_level=6, dpi=(DPI, DPI))
    return buffer.getvalue()


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


# Ratings, lowest to highest: Okabe & Ito's vermillion, orange, grey, sky blue, blue.
_RATING_STOPS = (_VERMILLION, "#E69F00", "#BBBBBB", _SKY, _BLUE)
_GREEN = "#009E73"  # the team's goal progress; its adherence is drawn in _INK
_EXACT = tuple(_hex(c) for c in ("#ffffff", _INK, _MUTED, _GRID, *STATE_COLOURS.values(),
                                 *_EDGES.values(), *_RATING_STOPS, _GREEN))


def _snapped(palette: list[int]) -> list[int]:
    """The palette with entries within 4 of a colour we draw set to that colour."""
    out = list(palette)
    for i in range(0, len(out) - 2, 3):
        r, g, b = out[i : i + 3]
        for exact in _EXACT:
            if max(abs(r - exact[0]), abs(g - exact[1]), abs(b - exact[2])) <= 4:
                out[i : i + 3] = exact
                break
    return out


def _empty(title: str) -> bytes:
    figure = Figure(figsize=(WIDTH_INCHES, 1.0), dpi=DPI, facecolor="white")
    figure.text(0.03, 0.68, title, fontproperties=_font(11, bold=True), color=_INK,
                parse_math=False)
    figure.text(0.03, 0.3, "Nothing to show for this period.", fontproperties=_font(10),
                color=_MUTED, parse_math=False)
    return _png(figure)


def _frame(rows: int, *, top: float, bottom: float, left: float, right: float,
           ) -> tuple[Figure, object]:
    """A figure whose plot area holds ``rows`` rows of ``_ROW`` inches, margins in inches."""
    height = top + rows * _ROW + bottom
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, facecolor="white")
    axes = figure.add_axes((left / WIDTH_INCHES, bottom / height,
                            (WIDTH_INCHES - left - right) / WIDTH_INCHES, rows * _ROW / height))
    axes.set_ylim(rows - 0.5, -0.5)  # first row on top
    axes.set_yticks([])
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(_GRID)
    axes.tick_params(axis="x", colors=_MUTED, length=0, pad=4)
    return figure, axes


def _titles(figure: Figure, title: str, subtitle: str) -> None:
    height = figure.get_figheight()
    figure.text(0.02, 1 - 0.12 / height, title, fontproperties=_font(12, bold=True),
                color=_INK, va="top", parse_math=False)
    if subtitle:
        figure.text(0.02, 1 - 0.38 / height, subtitle, fontproperties=_font(9),
                    color=_MUTED, va="top", parse_math=False)


def _bars(axes: object, rows: Sequence[float], lefts: Sequence[float],
          widths: Sequence[float], height: float, colour: str, edge: str | None = None,
          ) -> None:
    """Horizontal bars as one collection: far cheaper than one patch per bar (barh)."""
    half = height / 2
    verts = [((x, y - half), (x + w, y - half), (x + w, y + half), (x, y + half))
             for y, x, w in zip(rows, lefts, widths, strict=True) if w > 0]
    if verts:
        axes.add_collection(PolyCollection(  # type: ignore[attr-defined]
            verts, facecolors=colour, edgecolors=edge or colour,
            linewidths=0.5 if edge else 0, antialiaseds=True), autolim=False)


def _row_labels(axes: object, names: Sequence[str], values: Sequence[str]) -> None:
    transform = axes.get_yaxis_transform()  # type: ignore[attr-defined]
    for row, (name, value) in enumerate(zip(names, values, strict=True)):
        axes.text(-0.015, row, name, transform=transform, ha="right", va="center",  # type: ignore[attr-defined]
                  fontproperties=_font(_LABEL_SIZE), color=_INK, parse_math=False, clip_on=False)
        axes.text(1.015, row, value, transform=transform, ha="left", va="center",  # type: ignore[attr-defined]
                  fontproperties=_font(_LABEL_SIZE), color=_INK, parse_math=False, clip_on=False)


def _tick_labels(axes: object) -> None:
    for label in axes.get_xticklabels():  # type: ignore[attr-defined]
        label.set_fontproperties(_font(9))


# --- goal progress --------------------------------------------------------------------


def goal_progress_chart(people: Sequence[PersonFigures], *, limit: int = 40) -> bytes:
    """Horizontal bars per person: goal progress at the period's start and end.

    Lowest end progress first. People with no goal progress at all are left out
    (and counted under the title); when more than ``limit`` remain, the ``limit``
    lowest are shown and the title says so.
    """
    with _LOCK:
        return _goal_progress_chart(people, max(1, limit))


def _goal_progress_chart(people: Sequence[PersonFigures], limit: int) -> bytes:
    title = "Goal progress, start → end of the period"
    shown = [p for p in people if _number(p.goal_progress_start) is not None
             or _number(p.goal_progress_end) is not None]
    if not shown:
        return _empty(title)

    def key(p: PersonFigures) -> tuple[float, float, str]:
        end, start = _number(p.goal_progress_end), _number(p.goal_progress_start)
        first = end if end is not None else start
        return (first if first is not None else 0.0, start or 0.0, oneline(p.name).casefold())

    shown.sort(key=key)
    total = len(shown)
    if total > limit:
        shown = shown[:limit]
        title = f"Goal progress: the {limit} lowest of {_count(total)} people"
    notes = ["Lowest at the end of the period first"]
    left_out = len(people) - total
    if left_out:
        notes.append(f"{_count(left_out)} {'person' if left_out == 1 else 'people'} "
                     "without goal progress not shown")

    figure, axes = _frame(len(shown), top=0.92, bottom=0.35, left=_LEFT,
                          right=_right_room("99.9% → 99.9%"))
    _titles(figure, title, "; ".join(notes))
    rows = range(len(shown))
    starts = [_number(p.goal_progress_start) for p in shown]
    ends = [_number(p.goal_progress_end) for p in shown]
    _bars(axes, [r - 0.19 for r in rows], [0.0] * len(shown), [s or 0.0 for s in starts],
          0.36, _SKY)
    _bars(axes, [r + 0.19 for r in rows], [0.0] * len(shown), [e or 0.0 for e in ends],
          0.36, _BLUE)
    axes.set_xlim(0, 100)
    axes.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    _tick_labels(axes)
    axes.grid(axis="x", color=_GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    _row_labels(axes, [_label(p.name) for p in shown],
                [f"{_pct(s)} → {_pct(e)}" for s, e in zip(starts, ends, strict=True)])
    height = figure.get_figheight()
    figure.legend(
        handles=[Patch(color=_SKY, label="Start of period"),
                 Patch(color=_BLUE, label="End of period")],
        loc="upper left", bbox_to_anchor=(0.01, 1 - 0.56 / height), ncols=2,
        frameon=False, prop=_font(9), handlelength=1.2, columnspacing=1.4,
        handletextpad=0.5)
    return _png(figure)


# --- check-in timeline ----------------------------------------------------------------


def _cells(person: PersonFigures) -> list[tuple[int, int, CheckinState]]:
    """(first day ordinal, length in days, state) per cadence period, in date order."""
    marks = sorted(person.timeline, key=lambda m: m.period_start)
    days = [m.period_start.toordinal() for m in marks]
    gaps = [b - a for a, b in pairwise(days) if b > a]
    usual = min(gaps) if gaps else 7
    cells = []
    for i, mark in enumerate(marks):
        length = days[i + 1] - days[i] if i + 1 < len(marks) else usual
        cells.append((days[i], max(1, min(length, usual * 2)), mark.state))
    return cells


def _month_ticks(first: int, last: int) -> tuple[list[int], list[str]]:
    """Month starts in [first, last] (day ordinals): every month for up to 6 of them,
    else every 2nd or 3rd so labels never touch; the year where it changes."""
    start = date.fromordinal(first)
    day = date(start.year, start.month, 1)
    if day.toordinal() < first:
        day = _next_month(day)
    months = []
    while day.toordinal() <= last:
        months.append(day)
        day = _next_month(day)
    step = 1 if len(months) <= 6 else 2 if len(months) <= 9 else 3
    shown = months[::step]
    several_years = start.year != date.fromordinal(last).year
    labels = [f"{_MONTHS[m.month - 1]} {m.year}" if several_years and (i == 0 or m.month <= step)
              else _MONTHS[m.month - 1] for i, m in enumerate(shown)]
    return [m.toordinal() for m in shown], labels


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def checkin_timeline_chart(people: Sequence[PersonFigures], *, limit: int = 40) -> bytes:
    """One row per pair (the employee's name), one cell per cadence period, coloured
    by its state; adherence on the right. Lowest adherence first; when more than
    ``limit`` people have a timeline, the ``limit`` lowest are shown and the title
    says so."""
    with _LOCK:
        return _checkin_timeline_chart(people, max(1, limit))


def _checkin_timeline_chart(people: Sequence[PersonFigures], limit: int) -> bytes:
    title = "Check-ins per cadence period"
    shown = [p for p in people if p.timeline]
    if not shown:
        return _empty(title)

    def key(p: PersonFigures) -> tuple[bool, float, int, str]:
        value = _number(p.adherence)
        return (value is None, value or 0.0, -(p.days_since_checkin or 0),
                oneline(p.name).casefold())

    shown.sort(key=key)
    total = len(shown)
    if total > limit:
        shown = shown[:limit]
        title = f"Check-ins: the {limit} lowest adherence of {_count(total)} people"

    figure, axes = _frame(len(shown), top=1.12, bottom=0.35, left=_LEFT,
                          right=_right_room("99.9%"))
    _titles(figure, title, "Adherence on the right" if len(shown) == 1
            else "Lowest adherence first; adherence on the right")
    by_state: dict[CheckinState, tuple[list[float], list[float], list[float]]] = {}
    first, last = None, None
    for row, person in enumerate(shown):
        for start, length, state in _cells(person):
            lefts, widths, ys = by_state.setdefault(state, ([], [], []))
            lefts.append(start + 0.5)
            widths.append(max(0.6, length - 1.0))
            ys.append(row)
            first = start if first is None else min(first, start)
            last = start + length if last is None else max(last, start + length)
    assert first is not None and last is not None
    for state in STATE_COLOURS:
        if state in by_state:
            lefts, widths, ys = by_state[state]
            _bars(axes, ys, lefts, widths, 0.72, STATE_COLOURS[state],
                  _EDGES.get(state, STATE_COLOURS[state]))
    axes.set_xlim(first, last)
    ticks, labels = _month_ticks(first, last)
    axes.set_xticks(ticks, labels)
    _tick_labels(axes)
    axes.tick_params(axis="x", length=3, color=_GRID)
    _row_labels(axes, [_label(p.name) for p in shown], [_pct(p.adherence) for p in shown])
    height = figure.get_figheight()
    figure.legend(
        handles=[Patch(facecolor=STATE_COLOURS[s], edgecolor=_EDGES.get(s, STATE_COLOURS[s]),
                       linewidth=0.5, label=STATE_LABELS[s]) for s in STATE_COLOURS
                 if s != "untracked" or s in by_state],  # only a new install has it
        loc="upper left", bbox_to_anchor=(0.01, 1 - 0.56 / height), ncols=3,
        frameon=False, prop=_font(9), handlelength=1.2, columnspacing=1.4,
        handletextpad=0.5, labelspacing=0.3)
    return _png(figure)



# --- calibration: ratings beside the record -------------------------------------------


def _rating_colours(levels: int) -> list[str]:
    """``levels`` colours from the lowest rating's to the highest's (the five stops,
    picked evenly; between stops for longer scales)."""
    if levels <= 1:
        return [_BLUE]
    out = []
    for i in range(levels):
        at = i * (len(_RATING_STOPS) - 1) / (levels - 1)
        low, high = _hex(_RATING_STOPS[math.floor(at)]), _hex(
            _RATING_STOPS[min(len(_RATING_STOPS) - 1, math.floor(at) + 1)])
        share = at - math.floor(at)
        out.append("#" + "".join(f"{round(a + (b - a) * share):02x}"
                                 for a, b in zip(low, high, strict=True)))
    return out


def calibration_chart(rows: Sequence[CalibrationRow], scale: Sequence[RatingLevel]) -> bytes:
    """One row per manager: on the left their ratings as shares of their rated reports,
    lowest rating first; on the right their team's mean goal progress and check-in
    adherence. Rows in the order given (the digest's calibration table)."""
    with _LOCK:
        return _calibration_chart(rows, scale)


def _calibration_chart(rows: Sequence[CalibrationRow], scale: Sequence[RatingLevel]) -> bytes:
    title = "Ratings beside the record"
    shown = [r for r in rows if r.rated]
    if not shown or not scale:
        return _empty(title)
    split = 3.55  # inches: the ratings end and the record begins
    figure, axes = _frame(len(shown), top=1.12, bottom=0.35, left=_LEFT,
                          right=WIDTH_INCHES - split + 0.1)
    height = figure.get_figheight()
    record = figure.add_axes(((split + 0.5) / WIDTH_INCHES, axes.get_position().y0,
                              (WIDTH_INCHES - split - 0.8) / WIDTH_INCHES,
                              axes.get_position().height))
    record.set_ylim(len(shown) - 0.5, -0.5)
    record.set_yticks([])
    for side in ("top", "right", "left"):
        record.spines[side].set_visible(False)
    record.spines["bottom"].set_color(_GRID)
    record.tick_params(axis="x", colors=_MUTED, length=0, pad=4)
    _titles(figure, title, "Left: manager ratings, lowest first, as shares of the rated "
            "reports. Right: the team's record")
    colours = _rating_colours(len(scale))
    lefts = [0.0] * len(shown)
    for level, colour in enumerate(colours):
        widths = [100 * r.distribution[level] / r.rated if level < len(r.distribution)
                  else 0.0 for r in shown]
        _bars(axes, list(range(len(shown))), lefts, widths, 0.72, colour)
        lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
    rows_at = range(len(shown))
    goals = [_number(r.goal_progress_mean) for r in shown]
    adherence = [_number(r.adherence_mean) for r in shown]
    _bars(record, [y - 0.19 for y in rows_at], [0.0] * len(shown), [g or 0.0 for g in goals],
          0.36, _GREEN)
    _bars(record, [y + 0.19 for y in rows_at], [0.0] * len(shown),
          [a or 0.0 for a in adherence], 0.36, _INK)
    for ax in (axes, record):
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 50, 100], ["0%", "50%", "100%"])
        _tick_labels(ax)
        ax.grid(axis="x", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
    transform = axes.get_yaxis_transform()
    for row, r in enumerate(shown):
        axes.text(-0.015 * WIDTH_INCHES / (split - _LEFT), row, _label(r.manager_name),
                  transform=transform, ha="right", va="center", fontproperties=_font(
                      _LABEL_SIZE), color=_INK, parse_math=False, clip_on=False)
    level_names = [f"{lv.value} {lv.label}".strip() if lv.label else str(lv.value)
                   for lv in scale]
    handles = [Patch(color=c, label=_label(n, 9, 90)) for c, n in zip(colours, level_names,
                                                                        strict=True)]
    handles += [Patch(color=_GREEN, label="Team goal progress"),
                Patch(color=_INK, label="Team adherence")]
    figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.56 / height),
                  ncols=min(len(handles), 4), frameon=False, prop=_font(9), handlelength=1.2,
                  columnspacing=1.2, handletextpad=0.5, labelspacing=0.3)
    return _png(figure)
