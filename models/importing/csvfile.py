"""Opening the CSV files people export from spreadsheets and HR systems.

Excel writes UTF-8 with a byte-order mark, or Windows-1252, and in much of
Europe separates columns with semicolons; headers come in any case and
spelling. This module hides all of that behind one iterator of dict rows.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.importing.problems import ProblemLog


@dataclass(frozen=True)
class CsvRow:
    """One data row: its spreadsheet row number and its cells by canonical column name."""

    number: int
    cells: dict[str, str]
    extra_cells: int = 0  # non-empty cells beyond the header's columns


def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else Windows-1252.

    Decodes in chunks so a large export is never held in memory twice.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def canonical(header: str, synonyms: dict[str, str]) -> str:
    """``"Manager Email"`` → ``"manager_email"``, then any synonym → its column."""
    key = "_".join(header.strip().lower().replace("-", " ").split())
    return synonyms.get(key, key)


def sniff_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab, judged on the header line (quoting is always Excel's)."""
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


class CsvFile:
    """A CSV file streamed row by row, with canonical headers; use it as a context manager."""

    def __init__(self, path: Path, synonyms: dict[str, str] | None = None) -> None:
        self.path = path
        self.encoding = detect_encoding(path)
        self._handle = path.open(encoding=self.encoding, errors="replace", newline="")
        first_line = self._handle.readline()
        self._handle.seek(0)
        self._reader = csv.reader(self._handle, csv.excel, delimiter=sniff_delimiter(first_line))
        header = next(self._reader, [])
        self.columns = [canonical(h, synonyms or {}) for h in header]

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._handle.close()

    def rows(self) -> Iterator[CsvRow]:
        """Data rows, skipping blank lines; row numbers count lines as a text editor does."""
        reader = self._reader
        width = len(self.columns)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            padded = cells + [""] * (width - len(cells))
            extra = sum(1 for cell in cells[width:] if cell.strip())
            yield CsvRow(reader.line_num, dict(zip(self.columns, padded, strict=False)), extra)


def check_header(columns: list[str], required: tuple[str, ...], known: tuple[str, ...],
                 log: ProblemLog) -> tuple[list[str], bool]:
    """(the columns we will not read, whether the rows can be read at all): a missing
    required column or a column named twice is reported on row 1."""
    missing = [name for name in required if name not in columns]
    for name in missing:
        log.add(1, None, f"the header has no {name!r} column",
                f"The first row must name the columns; required: {', '.join(required)}.")
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    for name in duplicated:
        log.add(1, None, f"the column {name!r} appears twice", "Keep one of them.")
    ignored = [c for c in columns if c and c not in known]
    return ignored, not (missing or duplicated)
