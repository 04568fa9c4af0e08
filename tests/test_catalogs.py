"""The gettext catalogs are complete and in step with the words in the code.

Every message the templates, ``mail/`` and ``workers/`` mark for translation must be in
every shipped catalog, translated (not empty, not fuzzy), with the same placeholders and
the right number of plural forms; and the catalogs must hold what a fresh extraction
with Babel's own tools (``pybabel extract`` with ``babel.cfg``, as ``make catalogs``
runs it) finds, no more and no less. A new English sentence without translations fails
here; ``make catalogs`` adds it to every ``.po`` for a translator to fill.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from config.languages import LANGUAGES
from mail.write.language import translations

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "templates" / "locales"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the code and templates mark today, extracted afresh with pybabel."""
    out = tmp_path_factory.mktemp("catalogs") / "fresh.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract",
                    "-F", "babel.cfg", "-o", str(out), "."], cwd=ROOT, check=True)
    return _catalog(out)


def _keys(catalog: Catalog) -> set[tuple[str | None, str | tuple[str, ...]]]:
    return {(message.context, message.id) for message in catalog if message.id}


def test_the_shipped_catalogs_are_the_listed_languages() -> None:
    assert sorted(path.stem for path in LOCALES.glob("*.po")) == sorted(LANGUAGES)


def test_the_template_catalog_is_the_fresh_extraction(extracted: Catalog) -> None:
    assert _keys(_catalog(LOCALES / "drumbeat.pot")) == _keys(extracted)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_holds_exactly_the_extracted_messages(extracted: Catalog,
                                                           language: str) -> None:
    shipped = _keys(_catalog(LOCALES / f"{language}.po", language))
    fresh = _keys(extracted)
    assert sorted(map(str, fresh - shipped)) == [], "run make catalogs, then translate"
    assert sorted(map(str, shipped - fresh)) == [], "run make catalogs (obsolete entries)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    catalog = _catalog(LOCALES / f"{language}.po", language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"possessive"}  # "Ann's": English only
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        if isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, not {catalog.num_plurals}: {ids[0]!r}")
        allowed = set(PLACEHOLDER.findall(" ".join(ids)))
        if "possessive" in allowed:  # "Ann's" comes with the bare name, for other languages
            allowed.add("name")
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # A one-form language may leave %(num)d out of a sentence that reads without it.
            if found - allowed or wanted - found - {"num"}:
                problems.append(f"placeholders {sorted(found)} for {ids[0]!r}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_compiles_and_translates(language: str) -> None:
    words = translations(language).gettext("Your tasks")
    assert words and (language == "en") == (words == "Your tasks")
