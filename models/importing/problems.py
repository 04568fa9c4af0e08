"""Import problems: every refusal names the file, the row, the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPORTED = 200


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import file, in words an HR person can act on."""

    file: str
    row: int | None
    field: str | None
    message: str
    hint: str = ""
    unit: str = "row"  # "row" in a CSV file, "line" in a YAML file

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.unit} {self.row}"
        if self.field:
            where += f", {self.field}"
        text = f"{where}: {self.message}"
        return f"{text}. {self.hint}" if self.hint else text


class ImportFailed(Exception):
    """The import was refused as a whole; nothing was written."""

    def __init__(self, problems: list[ImportProblem], total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(f"{self.total} problem(s); nothing was imported")

    def report(self) -> str:
        """All problems, one per line, then a summary line."""
        lines = [str(problem) for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more problem(s)")
        lines.append(f"{self.total} problem(s); nothing was imported. Fix them and run it again.")
        return "\n".join(lines)


class ProblemLog:
    """Collects problems for one file, keeping the first MAX_REPORTED and a count."""

    def __init__(self, file: str, unit: str = "row") -> None:
        self.file = file
        self.unit = unit
        self.problems: list[ImportProblem] = []
        self.total = 0

    def add(self, row: int | None, field: str | None, message: str, hint: str = "") -> None:
        self.total += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(ImportProblem(self.file, row, field, message, hint, self.unit))

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.total:
            raise ImportFailed(self.problems, self.total)
