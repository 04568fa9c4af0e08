"""The README's screenshots are real: this test renders a real agenda (and one in
Japanese) and a real HR digest, opens them in headless Chromium and writes
``docs/screenshots/*.png``.

Run it after changing a template and commit the new pictures. Chromium comes from
Debian's ``chromium`` package and the Japanese glyphs from ``fonts-noto-cjk``
(``.ci/run`` installs both); locally the test skips without them, under CI it fails.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from drumbeat.cli_digest import write_preview
from mail.write.charts import CJK_FONTS
from mail.write.digest_render import render_digest
from tests.conftest import Database, service_missing
from tests.test_cli_mail import NOW, company_env, drumbeat
from tests.test_digest_golden import NOW as QUARTER_END
from tests.test_digest_golden import seed
from workers import digests
from workers.evaluations import compute_figures, window_named

SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    service_missing("Chromium", FileNotFoundError("install Debian's chromium package"))
    raise AssertionError("unreachable")


def screenshot(html: Path, png: Path, height: int, width: int = 720) -> tuple[int, int]:
    """Headless Chromium at a mail client's width (or a phone's); returns the PNG's size."""
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={png}",
                    f"--window-size={width},{height}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_real_agenda_rendered_in_chromium(db: Database, tmp_path: Path) -> None:
    env = company_env(db, tmp_path)
    html = tmp_path / "agenda.html"
    result = drumbeat(env, "agendas", "preview", "lukas.novak@northwind.example", "--now",
                      NOW, "--html", str(html))
    assert result.returncode == 0, result.stderr
    assert screenshot(html, SCREENSHOTS / "agenda.png", 1100) == (720, 1100)
    assert (SCREENSHOTS / "agenda.png").stat().st_size > 30_000  # not a blank page
    # The same agenda on a phone: one column, nothing cut off at the right.
    assert screenshot(html, SCREENSHOTS / "agenda-phone.png", 1200, 390) == (390, 1200)
    assert (SCREENSHOTS / "agenda-phone.png").stat().st_size > 30_000


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_real_agenda_in_japanese_rendered_in_chromium(db: Database, tmp_path: Path) -> None:
    """Yuki Tanaka reads Drumbeat in Japanese (the example company's people file)."""
    if not any(Path(regular).is_file() for regular, _bold in CJK_FONTS):
        service_missing("Noto Sans CJK", FileNotFoundError("install Debian's fonts-noto-cjk"))
    env = company_env(db, tmp_path)
    html = tmp_path / "agenda-ja.html"
    result = drumbeat(env, "agendas", "preview", "yuki.tanaka@northwind.example", "--now",
                      NOW, "--html", str(html))
    assert result.returncode == 0, result.stderr
    assert "返信のしかた" in html.read_text(encoding="utf-8")
    assert screenshot(html, SCREENSHOTS / "agenda-ja.png", 1000) == (720, 1000)
    assert (SCREENSHOTS / "agenda-ja.png").stat().st_size > 30_000


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_real_hr_digest_rendered_in_chromium(db: Database, tmp_path: Path) -> None:
    seed(db)
    window = window_named("2026-Q4", 1, QUARTER_END.date())
    with db.session() as session, session.begin():
        figures = compute_figures(session, window, QUARTER_END)
        snapshot = digests.take_snapshot(session, figures, QUARTER_END)
        view = digests.hr_view(snapshot, "Hana", digests.managers_map(session),
                               figures.initiatives)
    html = write_preview(render_digest(view), tmp_path, window.label, "hr")
    assert screenshot(html, SCREENSHOTS / "hr-digest.png", 2200) == (720, 2200)
    assert (SCREENSHOTS / "hr-digest.png").stat().st_size > 50_000


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_real_hr_digest_with_its_review_cycle_rendered_in_chromium(db: Database,
                                                                      tmp_path: Path) -> None:
    from tests.test_digest_cycle import seed_cycle

    ids = seed_cycle(db)
    window = window_named("2026-Q4", 1, QUARTER_END.date())
    with db.session() as session, session.begin():
        figures = compute_figures(session, window, QUARTER_END)
        snapshot = digests.take_snapshot(session, figures, QUARTER_END)
        view = digests.view_of(session, "hr", snapshot, ids["hana"], "Hana",
                               digests.managers_map(session), figures.initiatives)
    assert view.cycle is not None and view.cycle.calibration
    html = write_preview(render_digest(view), tmp_path, window.label, "hr")
    assert screenshot(html, SCREENSHOTS / "hr-review.png", 1900) == (720, 1900)
    assert (SCREENSHOTS / "hr-review.png").stat().st_size > 50_000


def test_a_real_review_form_rendered_in_chromium(tmp_path: Path) -> None:
    """The manager's form for one report: the figures, the charts and the self-review."""
    import base64
    from datetime import date

    from mail.write.review_mail import render_review_mail
    from tests.test_review_mail import view

    rendered, images = render_review_mail(view("manager", recipient_name="Mia Park",
                                               answer_by=date(2027, 1, 14)))
    html = rendered.html
    for image in images:  # as a mail client shows them: inline
        html = html.replace(f"cid:{image.cid}", "data:image/png;base64,"
                            + base64.b64encode(image.png).decode("ascii"))
    page = tmp_path / "review-form.html"
    page.write_text(html, encoding="utf-8")
    assert screenshot(page, SCREENSHOTS / "review-form.png", 1300) == (720, 1300)
    assert (SCREENSHOTS / "review-form.png").stat().st_size > 30_000
