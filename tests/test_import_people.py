"""Importing the people CSV, on SQLite and PostgreSQL: what HR sees, and what the database holds.

Every refusal is checked by the exact text the person importing reads (file,
row, field, what is wrong, how to fix it), and every failed import is checked
to leave the database exactly as it was. The regression tests at the end
reproduce bugs found while writing these tests.
"""

from __future__ import annotations

import csv
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import Base
from models.db import unit_of_work
from models.importing.load_people import Defaults, PeopleSummary, load_people
from models.importing.people_file import read_people
from models.importing.problems import ImportFailed
from models.people import Person, PersonAlias
from tests.conftest import EXAMPLES, Database

PEOPLE_CSV = EXAMPLES / "people.csv"
DOMAIN = "@northwind.example"


# --- helpers ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "people.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def import_people(db: Database, path: Path) -> PeopleSummary:
    """What ``drumbeat import people FILE`` does: read, check and load in one transaction."""
    with unit_of_work(db.sessions) as session:
        return load_people(session, read_people(path))


def refused(db: Database, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        import_people(db, path)
    return caught.value


def problems(failure: ImportFailed) -> list[str]:
    return [str(problem) for problem in failure.problems]


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with db.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(
                select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def everyone(db: Database) -> dict[str, Person]:
    """People by email, with their manager and aliases loaded."""
    with db.session() as session:
        people = session.scalars(select(Person).options(
            selectinload(Person.aliases), selectinload(Person.manager))).all()
        return {person.email: person for person in people}


def count(db: Database, model: type[Base]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def example_text() -> str:
    return PEOPLE_CSV.read_text(encoding="utf-8")


# --- the example company ----------------------------------------------------------------


def test_example_people_import_all_thirty(db: Database) -> None:
    summary = import_people(db, PEOPLE_CSV)

    assert len(summary.created) == 30
    assert summary.updated == []
    assert summary.unchanged == 0
    people = everyone(db)
    assert len(people) == 30
    assert all(email == email.lower() for email in people)

    with PEOPLE_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        person = people[row["email"].lower()]
        assert person.name == row["name"]
        expected_manager = row["manager_email"].lower() or None
        assert (person.manager.email if person.manager else None) == expected_manager
        assert person.timezone == row["timezone"]


def test_example_people_values_and_defaults(db: Database) -> None:
    import_people(db, PEOPLE_CSV)
    people = everyone(db)

    # The top of the organisation: only a time zone given, the rest defaults.
    helena = people["helena.lindqvist" + DOMAIN]
    assert helena.manager is None
    assert (helena.timezone, helena.cadence) == ("Europe/Berlin", "weekly")
    assert (helena.checkin_weekday, helena.checkin_time) == (0, time(10, 0))
    assert helena.is_hr is False
    assert helena.aliases == []

    # "Marcus.Bell@…" in the file is stored lower-cased, and reports are attached to him.
    marcus = people["marcus.bell" + DOMAIN]
    assert marcus.manager is helena
    assert (marcus.cadence, marcus.weekday_name, marcus.checkin_time) == (
        "monthly", "Monday", time(11, 0))
    assert len([p for p in people.values() if p.manager is marcus]) == 5

    sanjay = people["sanjay.kulkarni" + DOMAIN]
    assert (sanjay.weekday_name, sanjay.checkin_time, sanjay.timezone) == (
        "Thursday", time(12, 30), "Asia/Kolkata")
    assert sanjay.is_hr is False  # "0"
    assert [a.email for a in sanjay.aliases] == ["sanjay.k" + DOMAIN]

    lukas = people["lukas.novak" + DOMAIN]
    assert (lukas.name, lukas.cadence, lukas.weekday_name) == ("Lukáš Novák", "biweekly",
                                                               "Monday")
    assert people["fang.wang" + DOMAIN].name == "王芳"
    assert people["zoe" + DOMAIN].name == "Zoë Ødegaard"

    # HR flags: "yes" and "true"; everyone else no ("no", "0" or empty).
    assert sorted(p.email for p in people.values() if p.is_hr) == [
        "amara.mensah" + DOMAIN, "nora.jensen" + DOMAIN]
    nora = people["nora.jensen" + DOMAIN]
    assert nora.manager is people["amara.mensah" + DOMAIN]
    assert (nora.weekday_name, nora.timezone) == ("Thursday", "Europe/Copenhagen")

    # Weekday spellings of the file: wed, Thu, MON, fri, Monday, Tuesday, Wednesday, MONDAY …
    weekdays = {email.split("@")[0]: p.weekday_name for email, p in people.items()}
    assert weekdays["ana.costa"] == "Wednesday"
    assert weekdays["diego.fernandez"] == "Tuesday"
    assert weekdays["aisha.patel"] == "Monday"
    assert weekdays["zoe"] == "Wednesday"

    assert people["hannah.schmidt" + DOMAIN].active_until == date(2026, 12, 31)
    assert people["rafael.oliveira" + DOMAIN].active_from == date(2026, 10, 12)
    assert people["mateo.rossi" + DOMAIN].active_from == date(2026, 11, 2)

    aliases = {a.email: p.email for p in people.values() for a in p.aliases}
    assert aliases == {
        "sanjay.k" + DOMAIN: "sanjay.kulkarni" + DOMAIN,
        "wang.fang" + DOMAIN: "fang.wang" + DOMAIN,
        "sarah.klein" + DOMAIN: "sarah.goldberg" + DOMAIN,
        "jnunez" + DOMAIN: "jose.nunez" + DOMAIN,
        "zoe.odegaard" + DOMAIN: "zoe" + DOMAIN,
    }


def test_only_email_and_name_required_the_rest_defaults(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name\nann@x.com,Ann\n"))

    ann = everyone(db)["ann@x.com"]
    assert (ann.name, ann.manager, ann.timezone, ann.cadence) == ("Ann", None, "UTC", "weekly")
    assert (ann.checkin_weekday, ann.checkin_time, ann.is_hr) == (0, time(10, 0), False)
    assert (ann.active_from, ann.active_until, ann.aliases) == (None, None, [])


def test_reimporting_the_same_file_changes_nothing(db: Database) -> None:
    import_people(db, PEOPLE_CSV)
    before = snapshot(db)

    summary = import_people(db, PEOPLE_CSV)

    assert (summary.created, summary.updated, summary.unchanged) == ([], [], 30)
    assert snapshot(db) == before  # same ids, same values, not even updated_at moved
    assert count(db, Person) == 30
    assert count(db, PersonAlias) == 5


def test_changing_name_and_manager_in_the_file_updates_in_place(
    db: Database, tmp_path: Path
) -> None:
    import_people(db, PEOPLE_CSV)
    ids = {email: person.id for email, person in everyone(db).items()}
    edited = example_text().replace(
        "ben.carter@northwind.example,Ben Carter,kenji.watanabe@northwind.example",
        "ben.carter@northwind.example,Benjamin Carter,marcus.bell@northwind.example",
    )
    assert edited != example_text()

    summary = import_people(db, write(tmp_path, edited))

    assert summary.created == []
    people = everyone(db)
    assert {email: person.id for email, person in people.items()} == ids
    ben = people["ben.carter" + DOMAIN]
    assert ben.name == "Benjamin Carter"
    assert ben.manager is people["marcus.bell" + DOMAIN]
    assert count(db, Person) == 30


def test_summary_names_the_people_the_file_changed(db: Database, tmp_path: Path) -> None:
    import_people(db, PEOPLE_CSV)
    edited = example_text().replace(",Ben Carter,", ",Benjamin Carter,")

    summary = import_people(db, write(tmp_path, edited))

    assert summary.updated == ["ben.carter" + DOMAIN]
    assert summary.unchanged == 29


def test_email_matched_whatever_the_case(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name\nann@x.com,Ann\n"))

    summary = import_people(db, write(tmp_path, "Email,Name,Manager\nAnn@X.com,Ann Lee,\n"
                                                "BOB@x.com,Bob,ANN@x.COM\n"))

    assert summary.created == ["bob@x.com"]
    people = everyone(db)
    assert sorted(people) == ["ann@x.com", "bob@x.com"]
    assert people["ann@x.com"].name == "Ann Lee"
    assert people["bob@x.com"].manager is people["ann@x.com"]


def test_semicolon_export_with_bom_and_spreadsheet_headers(db: Database, tmp_path: Path) -> None:
    text = ("\ufeffE-Mail;Full Name;Reports To;Time Zone;Check-in Day;Check-in Time;Is HR\r\n"
            "jose@x.com;José Núñez;;europe/madrid;Tues.;9am;Yes\r\n"
            "zoe@x.com;\"Ødegaard; Zoë\";jose@x.com;Europe/Oslo;thurs;2:30 pm;N\r\n")

    import_people(db, write(tmp_path, text))

    people = everyone(db)
    jose, zoe = people["jose@x.com"], people["zoe@x.com"]
    assert (jose.name, jose.timezone, jose.weekday_name, jose.checkin_time, jose.is_hr) == (
        "José Núñez", "Europe/Madrid", "Tuesday", time(9, 0), True)
    assert (zoe.name, zoe.manager, zoe.weekday_name, zoe.checkin_time, zoe.is_hr) == (
        "Ødegaard; Zoë", jose, "Thursday", time(14, 30), False)


def test_windows_1252_semicolon_export(db: Database, tmp_path: Path) -> None:
    text = ("email;name;manager_email;hr\r\n"
            "jose@x.com;José Núñez;;no\r\n"
            "chloe@x.com;Chloé Dubois;jose@x.com;yes\r\n"
            "zoe@x.com;Zoë Ødegaard – €;jose@x.com;\r\n")
    path = write(tmp_path, text, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8

    import_people(db, path)

    people = everyone(db)
    assert people["jose@x.com"].name == "José Núñez"
    assert people["chloe@x.com"].name == "Chloé Dubois"
    assert people["chloe@x.com"].is_hr is True
    assert people["zoe@x.com"].name == "Zoë Ødegaard – €"
    assert people["zoe@x.com"].manager is people["jose@x.com"]


def test_quotes_inside_a_quoted_cell(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, 'email,name\nbob@x.com,"Robert ""Bob"" Smith"\n'))
    assert everyone(db)["bob@x.com"].name == 'Robert "Bob" Smith'


def test_tab_separated_export(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email\tname\tmanager_email\na@x.com\tA\t\n"
                                      "b@x.com\tB, Jr.\ta@x.com\n"))
    people = everyone(db)
    assert people["b@x.com"].name == "B, Jr."
    assert people["b@x.com"].manager is people["a@x.com"]


def test_a_column_left_out_keeps_what_is_stored(db: Database, tmp_path: Path) -> None:
    import_people(db, PEOPLE_CSV)

    import_people(db, write(tmp_path, "email,name\nnora.jensen@northwind.example,Nora J.\n"))

    nora = everyone(db)["nora.jensen" + DOMAIN]
    assert nora.name == "Nora J."
    assert nora.manager is not None and nora.manager.email == "amara.mensah" + DOMAIN
    assert (nora.timezone, nora.is_hr, nora.weekday_name) == ("Europe/Copenhagen", True,
                                                              "Thursday")


def test_an_empty_manager_cell_means_reports_to_nobody(db: Database, tmp_path: Path) -> None:
    import_people(db, PEOPLE_CSV)

    import_people(db, write(tmp_path, "email,name,manager_email,timezone\n"
                                      "nora.jensen@northwind.example,Nora Jensen,,\n"))

    nora = everyone(db)["nora.jensen" + DOMAIN]
    assert nora.manager is None
    assert nora.timezone == "Europe/Copenhagen"  # an empty cell keeps the stored value


def test_a_row_under_an_old_address_listed_as_alias_renames_the_person(
    db: Database, tmp_path: Path
) -> None:
    import_people(db, write(tmp_path, "email,name\nann@old.com,Ann\n"))
    ann_id = everyone(db)["ann@old.com"].id

    renamed = write(tmp_path, "email,name,aliases\nann@new.com,Ann,ann@old.com\n")
    summary = import_people(db, renamed)

    assert summary.created == []
    people = everyone(db)
    assert list(people) == ["ann@new.com"]
    assert people["ann@new.com"].id == ann_id
    assert [a.email for a in people["ann@new.com"].aliases] == ["ann@old.com"]


def test_swapping_primary_address_and_alias(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,aliases\nann@old.com,Ann,ann@new.com\n"))
    ann_id = everyone(db)["ann@old.com"].id

    import_people(db, write(tmp_path, "email,name,aliases\nann@new.com,Ann,ann@old.com\n"))

    people = everyone(db)
    assert list(people) == ["ann@new.com"]
    assert people["ann@new.com"].id == ann_id
    assert [a.email for a in people["ann@new.com"].aliases] == ["ann@old.com"]


def test_deployment_defaults_apply_to_new_people_only(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name\nann@x.com,Ann\n"))
    defaults = Defaults(timezone="Europe/Berlin", cadence="biweekly", checkin_weekday=3,
                        checkin_time=time(9, 15))

    with unit_of_work(db.sessions) as session:
        load_people(session, read_people(write(tmp_path, "email,name,timezone\n"
                                                         "ann@x.com,Ann,\nbob@x.com,Bob,\n")),
                    defaults)

    people = everyone(db)
    ann, bob = people["ann@x.com"], people["bob@x.com"]
    assert (ann.timezone, ann.cadence, ann.checkin_weekday, ann.checkin_time) == (
        "UTC", "weekly", 0, time(10, 0))
    assert (bob.timezone, bob.cadence, bob.checkin_weekday, bob.checkin_time) == (
        "Europe/Berlin", "biweekly", 3, time(9, 15))


def test_each_person_gets_their_language_or_the_default(db: Database, tmp_path: Path) -> None:
    with unit_of_work(db.sessions) as session:
        load_people(session, read_people(write(
            tmp_path, "email,name,language\nann@x.com,Ann,de-DE\nbob@x.com,Bob,日本語\n"
                      "cy@x.com,Cy,\n")), Defaults(language="fr"))
    people = everyone(db)
    assert [people[a].language for a in ("ann@x.com", "bob@x.com", "cy@x.com")] == [
        "de", "ja", "fr"]

    import_people(db, write(tmp_path, "email,name\nann@x.com,Ann\n"))  # no column: kept
    assert everyone(db)["ann@x.com"].language == "de"


def test_a_language_without_a_catalog_is_refused(db: Database, tmp_path: Path) -> None:
    failure = refused(db, write(tmp_path, "email,name,language\nann@x.com,Ann,Klingon\n"))
    assert problems(failure) == [
        "people.csv, row 2, language: 'Klingon' is not a language Drumbeat writes mail in. "
        "Use one of en (English), de (Deutsch), fr (Français), es (Español), "
        "pt (Português), ja (日本語), zh (中文)."]
    assert count(db, Person) == 0


def test_aliases_replaced_on_reimport(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,aliases\nann@x.com,Ann,a1@x.com; A2@x.com\n"))
    assert sorted(a.email for a in everyone(db)["ann@x.com"].aliases) == ["a1@x.com", "a2@x.com"]

    import_people(db, write(tmp_path, "email,name,aliases\nann@x.com,Ann,a2@x.com;a3@x.com\n"))

    assert sorted(a.email for a in everyone(db)["ann@x.com"].aliases) == ["a2@x.com", "a3@x.com"]
    assert count(db, PersonAlias) == 2


def test_unused_columns_are_listed_not_refused(tmp_path: Path) -> None:
    people = read_people(write(tmp_path, "email,name,Department,Cost Center\na@x.com,A,R&D,42\n"))
    assert not people.problems
    assert people.ignored_columns == ["department", "cost_center"]


# --- refusals: the message each one shows -----------------------------------------------

HEADER = "email,name,manager_email,timezone,cadence,checkin_day,checkin_time,hr\n"
ANN = "ann@x.com,Ann,,,,,,\n"

REFUSALS = {
    "unknown manager": (
        HEADER + ANN + "bob@x.com,Bob,ghost@x.com,,,,,\n",
        "people.csv, row 3, manager_email: no person has the address ghost@x.com. "
        "Add a row for the manager, or correct the address.",
    ),
    "manager cycle": (
        HEADER + ANN + "bob@x.com,Bob,cat@x.com,,,,,\n" + "cat@x.com,Cat,dan@x.com,,,,,\n"
        + "dan@x.com,Dan,bob@x.com,,,,,\n",
        "people.csv, row 3, manager_email: managers form a cycle: "
        "bob@x.com → cat@x.com → dan@x.com → bob@x.com. "
        "Someone in this chain must report to a person outside it (or to nobody).",
    ),
    "own manager": (
        HEADER + "ann@x.com,Ann,ANN@x.com,,,,,\n",
        "people.csv, row 2, manager_email: a person cannot be their own manager. "
        "Leave it empty for the top of the organisation.",
    ),
    "duplicate email in another case": (
        HEADER + ANN + "bob@x.com,Bob,,,,,,\n" + "Ann@X.com,Ann Again,,,,,,\n",
        "people.csv, row 4, email: ann@x.com is already used on row 2. "
        "Each address belongs to one person; emails match whatever the case.",
    ),
    "alias is another person's email": (
        "email,name,aliases\nann@x.com,Ann,\nbob@x.com,Bob,robert@x.com; ann@x.com\n",
        "people.csv, row 3, aliases: ann@x.com is already used on row 2. "
        "Each address belongs to one person; emails match whatever the case.",
    ),
    "bad email": (
        HEADER + "ann@,Ann,,,,,,\n",
        "people.csv, row 2, email: 'ann@' is not an email address",
    ),
    "bad time zone": (
        HEADER + "ann@x.com,Ann,,CET+5,,,,\n",
        "people.csv, row 2, timezone: 'CET+5' is not a time zone. "
        "Use an IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo.",
    ),
    "bad day": (
        HEADER + "ann@x.com,Ann,,,,Funday,,\n",
        "people.csv, row 2, checkin_day: 'Funday' is not a day of the week. "
        "Write a day name, full or short: Monday, mon, TUE, thurs.",
    ),
    "ambiguous day": (
        HEADER + "ann@x.com,Ann,,,,s,,\n",
        "people.csv, row 2, checkin_day: 's' is not a day of the week. "
        "Write a day name, full or short: Monday, mon, TUE, thurs.",
    ),
    "bad time": (
        HEADER + "ann@x.com,Ann,,,,,25:00,\n",
        "people.csv, row 2, checkin_time: '25:00' is not a time of day. "
        "Write a 24-hour time such as 09:30 or 14:00 (9:30am also works).",
    ),
    "bad boolean": (
        HEADER + "ann@x.com,Ann,,,,,,maybe\n",
        "people.csv, row 2, hr: 'maybe' is not yes or no. Write yes/no, true/false or 1/0.",
    ),
    "bad cadence": (
        HEADER + "ann@x.com,Ann,,,daily,,,\n",
        "people.csv, row 2, cadence: 'daily' is not a check-in cadence. "
        "Write weekly, biweekly or monthly.",
    ),
    "missing required column": (
        "email,manager_email\nann@x.com,\n",
        "people.csv, row 1: the header has no 'name' column. "
        "The first row must name the columns; required: email, name.",
    ),
    "column twice": (
        "email,name,E-Mail\nann@x.com,Ann,ann@x.com\n",
        "people.csv, row 1: the column 'email' appears twice. Keep one of them.",
    ),
    "empty name": (
        HEADER + "ann@x.com,  ,,,,,,\n",
        "people.csv, row 2, name: is empty. Write the person's name as it should appear.",
    ),
    "empty email": (
        HEADER + ",Ann,,,,,,\n",
        "people.csv, row 2, email: is empty. Every person needs an email address.",
    ),
    "extra cells": (
        "email,name\nann@x.com,Ann,Sales\n",
        "people.csv, row 2: the row has more cells than the header has columns. "
        "Check for a stray comma or a missing header.",
    ),
    "end before start": (
        "email,name,active_from,active_until\nann@x.com,Ann,2026-10-01,2026-09-30\n",
        "people.csv, row 2, active_until: is before active_from. "
        "The end date must be on or after the start date.",
    ),
    "date that is not a date": (
        "email,name,active_from\nann@x.com,Ann,01/10/2026\n",
        "people.csv, row 2, active_from: '01/10/2026' is not a date. "
        "Write dates as YYYY-MM-DD, e.g. 2026-12-04.",
    ),
    "header only": (
        HEADER,
        "people.csv: the file has no people in it. Add one row per person.",
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_refusal_names_file_row_field_and_fix(
    db: Database, tmp_path: Path, text: str, expected: str
) -> None:
    failure = refused(db, write(tmp_path, text))

    assert len(failure.problems) == 1
    assert str(failure.problems[0]).startswith(expected)
    assert failure.report().endswith(
        "1 problem(s); nothing was imported. Fix them and run it again.")
    assert count(db, Person) == 0
    assert count(db, PersonAlias) == 0


def test_row_numbers_count_blank_lines_like_an_editor(db: Database, tmp_path: Path) -> None:
    text = "email,name,timezone\nann@x.com,Ann,UTC\n\n,,\nbob@x.com,Bob,Mars/Base\n"

    failure = refused(db, write(tmp_path, text))

    assert problems(failure) == [
        "people.csv, row 5, timezone: 'Mars/Base' is not a time zone. "
        "Use an IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo."]


def test_cycle_through_a_person_already_in_the_database(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,manager_email\nboss@x.com,Boss,\n"
                                      "emp@x.com,Emp,boss@x.com\n"))
    before = snapshot(db)

    # Only the boss is in the file; the employee's line is in the database.
    failure = refused(db, write(tmp_path, "email,name,manager_email\nboss@x.com,Boss,emp@x.com\n"))

    assert len(failure.problems) == 1
    problem = failure.problems[0]
    assert (problem.file, problem.row, problem.field) == ("people.csv", 2, "manager_email")
    assert problem.message in {
        "managers form a cycle: boss@x.com → emp@x.com → boss@x.com",
        "managers form a cycle: emp@x.com → boss@x.com → emp@x.com",
    }
    assert "must report to a person outside it" in str(problem)
    assert snapshot(db) == before


def test_alias_owned_by_another_person_in_the_database(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name\nann@x.com,Ann\nbob@x.com,Bob\n"))
    before = snapshot(db)

    failure = refused(db, write(tmp_path, "email,name,aliases\nbob@x.com,Bob,ann@x.com\n"))

    assert problems(failure) == [
        "people.csv, row 2, aliases: ann@x.com already belongs to ann@x.com. "
        "One address, one person: remove it from the other person first."]
    assert snapshot(db) == before


def test_manager_known_only_from_the_database_is_accepted(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name\nboss@x.com,Boss\n"))

    import_people(db, write(tmp_path, "email,name,manager_email\nemp@x.com,Emp,Boss@x.com\n"))

    people = everyone(db)
    assert people["emp@x.com"].manager is people["boss@x.com"]


def test_every_problem_in_a_file_is_reported_at_once(db: Database, tmp_path: Path) -> None:
    text = (HEADER
            + "ann@x.com,Ann,,Europe/Berlin,,mon,9:30,no\n"
            + "bob@x.com,Bob,ann@x.com,Mars/Base,,,,\n"
            + "cat@x.com,Cat,ann@x.com,,,Funday,,\n"
            + "dan@x.com,Dan,nobody@x.com,,,,,\n"
            + "ANN@x.com,Ann Twice,,,,,,\n"
            + "eve@x.com,Eve,ann@x.com,,,,13pm,perhaps\n")

    failure = refused(db, write(tmp_path, text))

    report = failure.report().splitlines()
    assert report == [
        "people.csv, row 3, timezone: 'Mars/Base' is not a time zone. "
        "Use an IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo.",
        "people.csv, row 4, checkin_day: 'Funday' is not a day of the week. "
        "Write a day name, full or short: Monday, mon, TUE, thurs.",
        "people.csv, row 7, checkin_time: '13pm' is not a time of day. "
        "Write a 24-hour time such as 09:30 or 14:00 (9:30am also works).",
        "people.csv, row 7, hr: 'perhaps' is not yes or no. Write yes/no, true/false or 1/0.",
        "people.csv, row 6, email: ann@x.com is already used on row 2. "
        "Each address belongs to one person; emails match whatever the case.",
        "people.csv, row 5, manager_email: no person has the address nobody@x.com. "
        "Add a row for the manager, or correct the address.",
        "6 problem(s); nothing was imported. Fix them and run it again.",
    ]
    assert failure.total == 6
    assert count(db, Person) == 0


# --- all or nothing ---------------------------------------------------------------------

BAD_LAST_ROWS = {
    "bad time zone (found reading the file)":
        "zz@northwind.example,Zed,helena.lindqvist@northwind.example,Mars/Base,,,,,,,\n",
    "unknown manager (found against the database)":
        "zz@northwind.example,Zed,ghost@northwind.example,,,,,,,,\n",
    "cycle (found against the database)":
        "helena.lindqvist@northwind.example,Helena Lindqvist,nora.jensen@northwind.example,"
        "Europe/Berlin,,,,no,,,\n",
}


@pytest.mark.parametrize("bad_row", list(BAD_LAST_ROWS.values()), ids=list(BAD_LAST_ROWS))
def test_failed_import_into_an_empty_database_writes_nothing(
    db: Database, tmp_path: Path, bad_row: str
) -> None:
    before = snapshot(db)

    refused(db, write(tmp_path, example_text() + bad_row))

    assert snapshot(db) == before
    assert count(db, Person) == 0


@pytest.mark.parametrize("bad_row", list(BAD_LAST_ROWS.values()), ids=list(BAD_LAST_ROWS))
def test_failed_reimport_leaves_the_earlier_import_exactly_as_it_was(
    db: Database, tmp_path: Path, bad_row: str
) -> None:
    import_people(db, PEOPLE_CSV)
    before = snapshot(db)
    # A file that renames someone, moves a manager, changes aliases and adds a person, and
    # ends with one bad row: none of it may land.
    edited = (example_text()
              .replace(",Ben Carter,kenji.watanabe@", ",Benjamin Carter,marcus.bell@")
              .replace("sanjay.k@northwind.example", "sk@northwind.example")
              + "new.hire@northwind.example,New Hire,zoe@northwind.example,,,,,,,,\n")
    edited = edited.replace(
        "helena.lindqvist@northwind.example,Helena Lindqvist,,Europe/Berlin,,,,no,,,\n", "")
    failure = refused(db, write(tmp_path, edited + bad_row))

    assert failure.problems
    assert snapshot(db) == before


# --- regressions: bugs found while writing these tests ---------------------------------


def test_manager_named_by_an_alias_in_the_same_file(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,aliases,manager_email\n"
                                      "boss@x.com,Boss,big.boss@x.com,\n"
                                      "emp@x.com,Emp,,big.boss@x.com\n"))
    people = everyone(db)
    assert people["emp@x.com"].manager is people["boss@x.com"]


def test_cycle_through_an_alias_in_the_database_is_refused(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,manager_email,aliases\nboss@x.com,Boss,,\n"
                                      "emp@x.com,Emp,boss@x.com,emp.alt@x.com\n"))
    before = snapshot(db)

    try:
        import_people(db, write(tmp_path, "email,name,manager_email\n"
                                          "boss@x.com,Boss,emp.alt@x.com\n"))
    except ImportFailed as exc:
        failure: ImportFailed | None = exc
    else:
        failure = None

    people = everyone(db)
    assert people["boss@x.com"].manager is not people["emp@x.com"], "a cycle was committed"
    assert failure is not None
    assert "managers form a cycle" in str(failure.problems[0])
    assert snapshot(db) == before


def test_own_alias_as_manager_is_refused_with_a_message(db: Database, tmp_path: Path) -> None:
    import_people(db, write(tmp_path, "email,name,aliases\nann@x.com,Ann,ann.alt@x.com\n"))

    own_alias = write(tmp_path, "email,name,manager_email\nann@x.com,Ann,ann.alt@x.com\n")
    failure = refused(db, own_alias)

    assert problems(failure)[0].startswith("people.csv, row 2, manager_email: ")


def test_pairs_the_import_forms_are_tracked_from_its_day(db: Database, tmp_path: Path) -> None:
    first = write(tmp_path, "email,name,manager_email,tracking_from\n"
                            "boss@x.example,Boss,,\n"
                            "ann@x.example,Ann,boss@x.example,\n"
                            "bob@x.example,Bob,boss@x.example,2026-10-01\n", name="first.csv")
    with unit_of_work(db.sessions) as session:
        load_people(session, read_people(first), tracking_from=date(2026, 12, 6))
    tracked = {email: p.tracking_from for email, p in everyone(db).items()}
    assert tracked == {"boss@x.example": None, "ann@x.example": date(2026, 12, 6),
                       "bob@x.example": date(2026, 10, 1)}
    # the same file a week later: no pair is formed, nothing moves
    with unit_of_work(db.sessions) as session:
        summary = load_people(session, read_people(first), tracking_from=date(2026, 12, 13))
    assert summary.unchanged == 3
    assert {email: p.tracking_from for email, p in everyone(db).items()} == tracked


def test_a_tracking_from_that_is_not_a_date_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "email,name,tracked since\nann@x.example,Ann,6 Dec\n")
    assert problems(refused(db, path)) == [
        "people.csv, row 2, tracking_from: '6 Dec' is not a date. Write dates as YYYY-MM-DD, "
        "e.g. 2026-12-04."]
