"""The digest charts: valid, sharp, small, deterministic PNGs that never raise."""

from __future__ import annotations

import gc
import hashlib
import io
import math
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image

from mail.write.charts import STATE_COLOURS, checkin_timeline_chart, goal_progress_chart
from mail.write.digest import CheckinMark, PersonFigures
from tests.test_digest_render import acme_people, crowd

PNG = b"\x89PNG\r\n\x1a\n"
Chart = Callable[..., bytes]
REPO_ROOT = Path(__file__).resolve().parent.parent
CHARTS = pytest.mark.parametrize("chart", [goal_progress_chart, checkin_timeline_chart])


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def chunks(png: bytes) -> list[bytes]:
    names, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        names.append(png[at + 4:at + 8])
        at += 12 + length
    return names


def colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _, colour in image.getcolors(1 << 16) or []}


@CHARTS
def test_a_chart_is_a_valid_retina_png_for_email(chart: Chart) -> None:
    png = chart(acme_people())
    width, height = size(png)
    assert width == 1200  # 600 px at 2x
    assert 300 < height < 1200
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert chunks(png) == [b"IHDR", b"PLTE", b"pHYs", b"IDAT", b"IEND"]  # no metadata
    assert len(png) < 60_000


@CHARTS
def test_the_same_figures_give_the_same_bytes(chart: Chart) -> None:
    people = acme_people()
    assert chart(people) == chart(list(people)) == chart(people)
    assert chart(people) != chart(people[:3])


def test_the_bytes_are_the_same_in_a_fresh_interpreter() -> None:
    """No state (font cache order, first-use effects) changes the output."""
    here = hashlib.sha256(goal_progress_chart(acme_people())
                          + checkin_timeline_chart(acme_people())).hexdigest()
    script = textwrap.dedent("""
        import hashlib, sys
        from mail.write.charts import checkin_timeline_chart, goal_progress_chart
        from tests.test_digest_render import acme_people
        data = goal_progress_chart(acme_people()) + checkin_timeline_chart(acme_people())
        print(hashlib.sha256(data).hexdigest())
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip() == here


@CHARTS
@pytest.mark.parametrize("people", [(), [replace(acme_people()[4], goal_progress_start=None,
                                                 goal_progress_end=None, timeline=())]])
def test_nothing_to_show_is_a_small_png_not_an_error(chart: Chart,
                                                     people: Sequence[PersonFigures]) -> None:
    png = chart(people)
    width, height = size(png)
    assert width == 1200 and height == 200
    assert len(png) < 20_000


@CHARTS
def test_more_people_than_the_limit_shows_the_limit(chart: Chart) -> None:
    people = crowd(300)
    capped = chart(people, limit=40)
    forty = chart(people[:40], limit=40)
    assert size(capped)[1] > 1500
    # 300 people (some without figures) draw exactly as many rows as 40 people with figures
    ok = [p for p in people if p.timeline and p.goal_progress_end is not None][:40]
    assert size(capped)[1] == size(chart(ok, limit=40))[1]
    assert capped != forty


@CHARTS
def test_a_full_chart_stays_under_150_kb(chart: Chart) -> None:
    # 40 rows, long names, a fiscal year of weekly check-ins: the worst case.
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(52)]
    states = list(STATE_COLOURS)
    people = [replace(p, name=f"Maximilian-Alexander Person {i} von Hohenzollern",
                      timeline=tuple(CheckinMark(w, states[(i + j) % 6])
                                     for j, w in enumerate(weeks)))
              for i, p in enumerate(crowd(40))]
    png = chart(people)
    assert size(png)[0] == 1200
    assert len(png) < 150_000


def test_the_timeline_uses_the_colour_of_every_state() -> None:
    drawn = colours(checkin_timeline_chart(acme_people()))
    for colour in STATE_COLOURS.values():
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in drawn, colour
    assert (255, 255, 255) in drawn  # pure white background, as the email card


@CHARTS
def test_odd_values_and_names_never_raise(chart: Chart) -> None:
    base = acme_people()[1]
    odd = [
        replace(base, name="$x^2$ \\frac{1}{2} $", goal_progress_end=math.nan),
        replace(base, name="Line\r\nbreak\x00\u2028", goal_progress_start=-5.0,
                goal_progress_end=250.0, adherence=math.inf),
        replace(base, name="王芳 🎉 محمد", adherence=None),
        replace(base, name="", timeline=(CheckinMark(date(2026, 10, 5), "held"),)),
        replace(base, name="W" * 500, timeline=tuple(reversed(base.timeline))),
    ]
    assert chart(odd).startswith(PNG)


def test_figures_are_freed_after_drawing() -> None:
    goal_progress_chart(acme_people())
    gc.collect()
    before = sum(isinstance(o, Figure) for o in gc.get_objects())
    for _ in range(5):
        goal_progress_chart(acme_people())
        checkin_timeline_chart(acme_people())
    gc.collect()
    assert sum(isinstance(o, Figure) for o in gc.get_objects()) == before == 0


def test_threads_get_the_same_pictures() -> None:
    people = acme_people()
    expected = [goal_progress_chart(people), checkin_timeline_chart(people)] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda f: f(people), [goal_progress_chart,
                                                  checkin_timeline_chart] * 4))
    assert got == expected


def test_cjk_names_are_drawn_with_noto_sans_cjk_not_as_boxes() -> None:
    """With Debian's fonts-noto-cjk installed (CI installs it), 王芳 is drawn in its own
    glyphs, measured as wide as they are, and the chart differs from one with a Latin name."""
    from mail.write import charts
    from tests.conftest import service_missing

    if not any(Path(regular).is_file() for regular, _bold in charts.CJK_FONTS):
        service_missing("Noto Sans CJK", FileNotFoundError("install Debian's fonts-noto-cjk"))
    assert charts._label("王芳 (Fang Wang)") == "王芳 (Fang Wang)"
    assert charts._points("王芳", 10) == pytest.approx(20, abs=1)
    people = acme_people()
    chinese = [replace(people[0], name="王芳"), *people[1:]]
    boxed = [replace(people[0], name="□□"), *people[1:]]
    assert goal_progress_chart(chinese) != goal_progress_chart(boxed)
