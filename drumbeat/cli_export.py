"""``drumbeat export plan|people``: the plan and the people as files the importer reads.

A thin shell over ``models.exporting``: it opens a read-only session, shows a
progress bar on stderr, and writes to stdout or to a file (replaced only once
the export is complete, so a failed export never leaves half a file).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

export_app = typer.Typer(
    help="Write the plan or the people as files `drumbeat import` reads back: edit them "
    "and import them again.", no_args_is_help=True)


class Form(StrEnum):
    YAML = "yaml"
    CSV = "csv"


OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", dir_okay=False, help="Write to this file (default: standard output).")]


@contextmanager
def _target(out: Path | None) -> Iterator[TextIO]:
    """Standard output, or a file written beside ``out`` and moved over it when complete."""
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int], None]]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from drumbeat.cli import err

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                   TextColumn("{task.completed:,} written"), TimeElapsedColumn(),
                   console=err, transient=True)
    with bar:
        job = bar.add_task(what, total=None)
        yield lambda done: bar.update(job, completed=done)


def _run(what: str, out: Path | None, export: Callable[..., object]) -> object:
    from sqlalchemy.exc import OperationalError

    from drumbeat.cli import Abort, _ready_engine
    from models.db import session_factory

    engine = _ready_engine()
    try:
        with session_factory(engine)() as session, _progress(what) as progress, \
                _target(out) as handle:
            return export(session, handle, progress)
    except OSError as exc:
        raise Abort(f"cannot write {out}: {exc.strerror or exc}") from exc
    except OperationalError as exc:
        raise Abort(f"the database failed during the export: {exc.orig}") from exc


@export_app.command("plan")
def export_plan(
    out: OutOption = None,
    form: Annotated[Form | None, typer.Option(
        "--format", "-f", help="yaml (nested, as examples/northwind/plan.yaml) or csv (one "
        "row per task); default: from --out's suffix, else yaml.")] = None,
) -> None:
    """Write the whole plan as it is now (changes by email included), every item pinned
    by its ref (I-, G-, P-, T-).

    Importing the file again changes nothing; importing an edited copy changes exactly
    what was edited: a title, an owner, a due date, a status, an item moved under
    another parent (its ref and history stay). Items added without a ref are created.
    """
    from drumbeat.cli import err
    from models.exporting import export_plan as write

    chosen = form or (Form.CSV if out is not None and out.suffix.lower() == ".csv"
                      else Form.YAML)
    summary = _run("exporting the plan", out,
                   lambda session, handle, progress: write(session, handle, chosen.value,
                                                           progress))
    counts = summary.counts  # type: ignore[attr-defined]
    parts = ", ".join(f"{counts.get(level, 0)} {level}s"
                      for level in ("initiative", "goal", "project", "task"))
    err.print(f"exported {parts}{f' to {out}' if out else ''}.", highlight=False,
              markup=False)


@export_app.command("people")
def export_people(out: OutOption = None) -> None:
    """Write everyone as the people CSV `drumbeat import people` reads (email, name,
    manager_email, timezone, cadence, check-in day and time, hr, aliases, dates).

    Importing it again changes nobody; importing an edited copy changes exactly the
    edited cells.
    """
    from drumbeat.cli import err
    from models.exporting import export_people as write

    summary = _run("exporting people", out, write)
    count = summary.counts.get("person", 0)  # type: ignore[attr-defined]
    err.print(f"exported {count} {'person' if count == 1 else 'people'}"
              f"{f' to {out}' if out else ''}.", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
