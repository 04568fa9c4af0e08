"""The layers import only downwards: mail/ reads and writes mail without the database,
models/ is the database without the mail or the workers, and the workers do without
the command line. Every module's imports are read from its syntax tree, so a new
import across a layer fails here, wherever in the module it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "mail": ("models", "workers", "drumbeat"),
    "models": ("workers", "drumbeat", "mail"),
    "workers": ("drumbeat",),
}

# Settings still live in the CLI package (drumbeat/settings.py) until they move to a
# package of their own that every layer may import: until then the workers and the
# migrations import them, and mail/ names the type for annotations only.
SETTINGS = "drumbeat.settings"
SETTINGS_ALLOWED = {
    "mail": "type_checking",
    "workers": "anywhere",
    "models/migrations": "anywhere",
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, package: str) -> list[tuple[int, str, bool]]:
    """Every module imported (line, dotted name, under ``if TYPE_CHECKING:``)."""
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name, typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


def _settings_allowed(relative: str, typing_only: bool) -> bool:
    for prefix, where in SETTINGS_ALLOWED.items():
        if relative == prefix or relative.startswith(prefix + "/"):
            return where == "anywhere" or typing_only
    return False


def violations_in(source: str, relative: str) -> list[str]:
    """The imports of one module (``relative``: its path from the root) that cross a
    layer the wrong way, as ``path:line imports name``."""
    layer = relative.split("/")[0]
    forbidden = FORBIDDEN.get(layer, ())
    package = ".".join(Path(relative).with_suffix("").parts[:-1])
    found = []
    for line, name, typing_only in _imports(ast.parse(source), package):
        top = name.split(".")[0]
        if top not in forbidden:
            continue
        if (name == SETTINGS or name.startswith(SETTINGS + ".")) and _settings_allowed(
                relative, typing_only):
            continue
        found.append(f"{relative}:{line} imports {name}")
    return found


def all_violations() -> list[str]:
    found = []
    for layer in FORBIDDEN:
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            found.extend(violations_in(path.read_text(encoding="utf-8"), relative))
    return found


def test_no_module_imports_across_its_layer() -> None:
    assert all_violations() == []


@pytest.mark.parametrize(("relative", "source"), [
    ("mail/read/inspect.py", "from workers.notes import which_day\n"),
    ("mail/write/render.py", "def f():\n    import models.db\n"),
    ("mail/doors/tls.py", "from drumbeat.settings import Settings\n"),  # not TYPE_CHECKING
    ("mail/read/message.py", "from drumbeat import cli\n"),
    ("models/people.py", "from mail.read.message import ParsedMessage\n"),
    ("models/plan.py", "from workers import apply\n"),
    ("models/importing/values.py", "from ...workers import apply\n"),
    ("workers/inbound.py", "from drumbeat.cli_mail import inbox\n"),
    ("workers/sending.py", "if TYPE_CHECKING:\n    from drumbeat.cli import main\n"),
])
def test_an_import_across_a_layer_is_found(relative: str, source: str) -> None:
    assert len(violations_in(source, relative)) == 1


@pytest.mark.parametrize(("relative", "source"), [
    ("mail/doors/tls.py", "if TYPE_CHECKING:\n    from drumbeat.settings import Settings\n"),
    ("mail/read/inspect.py", "from mail.read.notes_reading import which_day\n"),
    ("workers/runtime.py", "from drumbeat.settings import Settings\n"),
    ("workers/inbound.py", "from models.people import Person\nfrom mail.read import message\n"),
    ("models/migrations/env.py", "def f():\n    from drumbeat.settings import get_settings\n"),
])
def test_an_import_down_the_layers_is_allowed(relative: str, source: str) -> None:
    assert violations_in(source, relative) == []
