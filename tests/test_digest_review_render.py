"""The review cycle's part of a digest as its readers see it, from views built by hand
(no database): the scale, HR's tables and chart, a manager's and an employee's copy,
escaping, 72 columns, big companies, and the CSV's review columns."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

import pytest

from mail.write.digest import (
    CalibrationRow,
    CycleCompletion,
    CycleSummary,
    OpenDispute,
    RatingLevel,
    ReviewFigures,
    parse_scale,
)
from mail.write.digest_render import render_digest
from mail.write.digest_review import TABLE_ROWS, calibration_order
from tests.test_digest_render import (
    big_hr_view,
    employee_view,
    hr_view,
    manager_view,
    visible,
)

SCALE = parse_scale("1-5:Unsatisfactory,Below,Meets,Exceeds,Outstanding")
BEN = ReviewFigures(2, "Ben Okafor", "Ana Ruiz", "done", "done", "disputed", 4, 2,
                    "Missed the Q4 targets.\n<i>Good</i> partner work.")
ZOE = ReviewFigures(3, "Zoë O'Brien, Jr.", "Ana Ruiz", "done", "done", "agreed", 4, 4)
EVE = ReviewFigures(4, "<b>Eve</b>", "Ana Ruiz", "missed", "done", "waiting", None, 3)
ANA = ReviewFigures(1, "Ana Ruiz", "Hannah Lee", "done", "waiting", "pending", 5, None)


def cycle(**changes: object) -> CycleSummary:
    made = CycleSummary(
        "2026-Q4", date(2027, 1, 4), date(2027, 1, 25), False, SCALE, (ANA, BEN, ZOE, EVE),
        completion=(CycleCompletion("Ana Ruiz", 3, 2, 1, 3, 0, 1, 1, 0),
                    CycleCompletion("Hannah Lee", 1, 1, 0, 0, 0, 0, 0, 0)),
        disputes=(OpenDispute("Ben Okafor", "Ana Ruiz", "<script>x</script> left out the "
                              "partner launch", date(2027, 1, 12)),),
        calibration=(CalibrationRow("Ana Ruiz", 3, 3, (0, 1, 1, 1, 0), 3.0, 68.8, 85.0,
                                    42.1, 41.7),
                     CalibrationRow("Hannah Lee", 1, 0, (0, 0, 0, 0, 0), None, 85.0, 85.0,
                                    100.0, 100.0)))
    return replace(made, **changes)


def test_a_scale_is_read_with_or_without_labels() -> None:
    assert parse_scale("1-5") == tuple(RatingLevel(v) for v in range(1, 6))
    assert parse_scale(" 0 - 2 : Low, Mid ,High ") == (
        RatingLevel(0, "Low"), RatingLevel(1, "Mid"), RatingLevel(2, "High"))
    assert parse_scale(None) == () == parse_scale("  ")
    assert len(parse_scale("1–10")) == 10  # an en dash too, up to ten levels
    for bad in ("5-1", "1-1", "1-5:a,b", "1-5:a,,c,d,e", "one to five", "0-10", "1-99"):
        with pytest.raises(ValueError, match="1-5"):
            parse_scale(bad)


def test_hr_sees_completion_disputes_and_calibration_in_both_parts() -> None:
    rendered = render_digest(hr_view(cycle=cycle()))
    text, html = rendered.text, "\n".join(visible(rendered.html))
    assert "THE 2026-Q4 REVIEW CYCLE" in text and "The 2026-Q4 review cycle" in html
    summary = ("Of 4 reviews: 3 self-reviews done, 3 manager reviews done, 1 acknowledged, "
               "1 disputed (open), 1 step missed.")
    assert summary in " ".join(text.split()) and summary in html
    assert re.search(r"^Ana Ruiz\s+3\s+2\s+3\s+1\s+1\s+1$", text, re.M)
    assert "Ana Ruiz 3 2 3 1 1 1" in html
    assert re.search(r"^Ana Ruiz\s+3\s+0\s+1\s+1\s+1\s+0\s+3\.0\s+68\.8%\s+85%\s+42\.1%\s+"
                     r"41\.7%$", text, re.M)
    assert "Ana Ruiz 3 0 1 1 1 0 3.0 68.8% 85% 42.1% 41.7%" in html
    assert "Hannah Lee 0 of 1 0 0 0 0 0 – 85% 85% 100% 100%" in html
    assert "Ben Okafor Ana Ruiz <script>x</script> left out the partner launch 12 Jan 2027" \
        in html
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "1 Unsatisfactory, 2 Below, 3 Meets, 4 Exceeds, 5 Outstanding" in html
    # the section sits right after the headline figures
    assert text.index("AT A GLANCE") < text.index("REVIEW CYCLE") < text.index(
        "MANAGERS TO TALK TO FIRST")
    assert "Missed the Q4 targets" not in text  # HR's view never carries comments anyway


def test_hr_gets_a_calibration_chart_with_alt_text() -> None:
    rendered = render_digest(hr_view(cycle=cycle()))
    [chart] = [i for i in rendered.images if i.cid.startswith("calibration.")]
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.png) < 150_000
    alt = re.search(r'<img src="cid:calibration[^"]*" alt="([^"]+)"', rendered.html)
    assert alt is not None and "share of their reports given each rating" in alt[1]
    unrated = render_digest(hr_view(cycle=cycle(scale=(), calibration=())))
    assert not [i for i in unrated.images if i.cid.startswith("calibration.")]
    assert "Calibration" not in unrated.text and "Open disputes" in unrated.text


def test_a_manager_sees_each_reports_steps_and_ratings() -> None:
    mine = cycle(reviews=(BEN, ZOE, EVE), completion=(), disputes=(), calibration=())
    rendered = render_digest(manager_view(cycle=mine))
    text = rendered.text
    assert re.search(r"^Ben Okafor\s+done\s+4 Exceeds\s+done\s+2 Below\s+disputed$", text,
                     re.M)
    assert re.search(r"^<b>Eve</b>\s+missed\s+–\s+done\s+3 Meets\s+waiting$", text, re.M)
    html = "\n".join(visible(rendered.html))
    assert "Zoë O'Brien, Jr. done 4 Exceeds done 4 Exceeds agreed" in html
    assert "Completion by manager" not in html and "Calibration" not in html


def test_an_employee_sees_their_own_review_and_the_comment() -> None:
    mine = cycle(reviews=(BEN,), completion=(), disputes=(), calibration=())
    rendered = render_digest(employee_view(cycle=mine))
    text = " ".join(rendered.text.split())
    html = " ".join(visible(rendered.html))
    for part in (text, html):
        assert "Your self-review is in, rating 4 Exceeds." in part
        assert "Ana Ruiz's review is in: rating 2 Below." in part
        assert "You disputed the review; HR has it and will answer." in part
        assert "Missed the Q4 targets." in part and "<i>Good</i> partner work." in part
    assert "&lt;i&gt;Good&lt;/i&gt;" in rendered.html
    waiting = cycle(reviews=(replace(BEN, manager_state="waiting", manager_rating=None,
                                     manager_comment=None, ack_state="pending"),))
    again = " ".join(render_digest(employee_view(cycle=waiting)).text.split())
    assert "Ana Ruiz's review is not in yet." in again and "Below" not in again
    outside = " ".join(render_digest(employee_view(cycle=cycle(reviews=()))).text.split())
    assert "You were not part of the 2026-Q4 review cycle." in outside


def test_every_text_line_fits_72_columns_even_with_a_long_scale() -> None:
    long_name = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    ten = parse_scale("1-10")
    wide = cycle(scale=ten, reviews=(replace(BEN, name=long_name, manager_name=long_name),),
                 calibration=(CalibrationRow(long_name, 12, 12, (1, 0, 2, 3, 1, 1, 1, 1, 1, 1),
                                             5.5, 100.0, 100.0, 100.0, 100.0),),
                 disputes=(OpenDispute(long_name, long_name, "x " * 120, None),))
    for view in (hr_view(cycle=wide), manager_view(cycle=wide), employee_view(cycle=wide)):
        for line in render_digest(view).text.splitlines():
            assert len(line) <= 72 or "王芳" in line, line
    assert "1·0·2·3·1·1·1·1·1·1" in render_digest(hr_view(cycle=wide)).text


def test_calibration_puts_ratings_furthest_from_the_record_first() -> None:
    def row(name: str, mean: float, record: float) -> CalibrationRow:
        return CalibrationRow(name, 5, 5, (0, 0, 5, 0, 0), mean, record, record, record,
                              record)

    rows = [row("Fair A", 3.0, 60.0), row("Generous", 4.8, 20.0), row("Fair B", 4.0, 80.0),
            row("Fair C", 2.0, 40.0), CalibrationRow("Unrated", 5, 0, (0,) * 5, None, 50.0,
                                                     50.0, 50.0, 50.0)]
    ordered = [r.manager_name for r in calibration_order(rows)]
    assert ordered[0] == "Generous" and ordered[-1] == "Unrated"
    many = tuple(row(f"Manager {i:03d}", 3.0 + (i % 3) / 2, 50.0 + i % 7) for i in range(100))
    view = hr_view(cycle=cycle(calibration=(*many, row("Zed Generous", 5.0, 5.0))))
    text = render_digest(view).text
    assert f"The {TABLE_ROWS} managers of 101 whose ratings stand furthest from their team's " \
        "record" in " ".join(text.split())
    table = text.split("Calibration: ratings beside the record")[1]
    assert table.split("--\n")[1].lstrip("-").lstrip().startswith("Zed Generous")
    assert f"…and {101 - TABLE_ROWS} more managers." in " ".join(table.split())


def test_ten_thousand_reviews_keep_the_digest_small() -> None:
    view = big_hr_view(10_000)
    reviews = tuple(ReviewFigures(p.person_id, p.name, p.manager_name, "done", "done",
                                  "disputed" if i % 30 == 0 else "agreed", 3, 1 + i % 5)
                    for i, p in enumerate(view.people))
    managers = sorted({p.manager_name or "" for p in view.people})
    many = cycle(
        reviews=reviews,
        completion=tuple(CycleCompletion(m, 10, 9, 1, 8, 1, 7, 1, 0) for m in managers),
        disputes=tuple(OpenDispute(r.name, r.manager_name, "The rating leaves out the "
                                   "migration I led", date(2027, 1, 12))
                       for r in reviews if r.ack_state == "disputed"),
        calibration=tuple(CalibrationRow(m, 10, 10, (1, 2, 4, 2, 1), 3.0, 50.0, 50.0, 80.0,
                                         80.0) for m in managers))
    rendered = render_digest(replace(view, cycle=many))
    assert len(rendered.html.encode()) < 320_000
    assert len(rendered.text.encode()) < 200_000
    assert rendered.csv.count(b"\r\n") == 10_001
    assert f"…and {len(managers) - TABLE_ROWS:,} more managers." in rendered.text


def test_the_csv_has_the_review_columns_empty_without_a_cycle() -> None:
    def rows(data: bytes) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))

    review_columns = ("Review opened", "Review deadline", "Self-review", "Self rating",
                      "Manager review", "Manager rating", "Acknowledgement")
    plain = rows(render_digest(hr_view()).csv)
    assert all(row[c] == "" for row in plain for c in review_columns)
    with_cycle = {row["Name"]: row for row in rows(render_digest(hr_view(cycle=cycle())).csv)}
    assert [with_cycle["Ben Okafor"][c] for c in review_columns] == [
        "2027-01-04", "2027-01-25", "done", "4", "done", "2", "disputed"]
    assert [with_cycle["<b>Eve</b>"][c] for c in review_columns[2:]] == [
        "missed", "", "done", "3", "waiting"]
    assert with_cycle["王芳"]["Review opened"] == ""  # no review of theirs in the cycle


def test_an_hr_digest_is_in_its_readers_language() -> None:
    """HR reads the company's digest, its review cycle part included, in their language."""
    english = render_digest(hr_view(cycle=cycle()))
    rendered = render_digest(hr_view(locale="de", cycle=cycle()))
    assert rendered.subject == "Drumbeat · Auswertung 2026-Q4 (aktualisiert) — Acme (HR)"
    assert english.subject == "Drumbeat · 2026-Q4 evaluation (updated) — Acme (HR)"
    text = " ".join(rendered.text.split())
    assert text.startswith("Hallo Priya Shah, Hier ist die Auswertung 2026-Q4 für Acme: "
                           "Zielfortschritt und Check-in-Verlauf von 6 Personen")
    for heading in ("FÜHRUNGSKRÄFTE, MIT DENEN DU ZUERST SPRECHEN SOLLTEST", "NACH INITIATIVE",
                    "DER BEURTEILUNGSZYKLUS 2026-Q4", "Offene Widersprüche:"):
        assert heading in rendered.text
    assert "Ben Okafor (Führungskraft Ana Ruiz), seit 12.01.2027:" in text
    assert re.search(r"^Ana Ruiz +3 +0 +1 +1 +1 +0 +3,0 +68,8\s%", rendered.text, re.M)
    assert "Kalibrierung: Bewertungen neben dem Verlauf" in rendered.html
    for english_words in ("Managers to talk to first", "By initiative", "review cycle",
                          "Open disputes", "Calibration", "Completion by manager"):
        assert english_words in english.text + english.html
        assert english_words not in rendered.text + rendered.html, english_words
