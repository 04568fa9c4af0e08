"""The layers import only downwards: config/ is the settings alone, mail/ reads and
writes mail without the database, models/ is the database without the mail or the
workers, and the workers do without the command line. Every module's imports are read
from its syntax tree, so a new import across a layer fails here, wherever in the module
it is written (inside a function, or under ``if TYPE_CHECKING:``, too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "config": ("mail", "models", "workers", "drumbeat"),
    "mail": ("models", "workers", "drumbeat"),
    "models": ("workers", "drumbeat", "mail"),
    "workers": ("drumbeat",),
}


def _imports(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """Every module imported, anywhere in the module: (line, dotted name)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def violations_in(source: str, relative: str) -> list[str]:
    """The imports of one module (``relative``: its path from the root) that cross a
    layer the wrong way, as ``path:line imports name``."""
    layer = relative.split("/")[0]
    forbidden = FORBIDDEN.get(layer, ())
    package = ".".join(Path(relative).with_suffix("").parts[:-1])
    return [f"{relative}:{line} imports {name}"
            for line, name in _imports(ast.parse(source), package)
            if name.split(".")[0] in forbidden]


def all_violations() -> list[str]:
    found: list[str] = []
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
    ("mail/doors/tls.py", "if TYPE_CHECKING:\n    from drumbeat.cli import main\n"),
    ("mail/read/message.py", "from drumbeat import cli\n"),
    ("models/people.py", "from mail.read.message import ParsedMessage\n"),
    ("models/plan.py", "from workers import apply\n"),
    ("models/importing/values.py", "from ...workers import apply\n"),
    ("models/migrations/env.py", "def f():\n    from drumbeat.cli import main\n"),
    ("workers/inbound.py", "from drumbeat.cli_mail import inbox\n"),
    ("config/settings.py", "from models.db import make_engine\n"),
])
def test_an_import_across_a_layer_is_found(relative: str, source: str) -> None:
    assert len(violations_in(source, relative)) == 1


@pytest.mark.parametrize(("relative", "source"), [
    ("mail/doors/tls.py", "if TYPE_CHECKING:\n    from config.settings import Settings\n"),
    ("mail/read/inspect.py", "from mail.read.notes_reading import which_day\n"),
    ("workers/runtime.py", "from config.settings import Settings\n"),
    ("workers/inbound.py", "from models.people import Person\nfrom mail.read import message\n"),
    ("models/migrations/env.py", "def f():\n    from config.settings import get_settings\n"),
    ("drumbeat/cli.py", "from workers import actors\n"),
])
def test_an_import_down_the_layers_is_allowed(relative: str, source: str) -> None:
    assert violations_in(source, relative) == []


MAPPED_PACKAGES = ("mail", "mail/read", "mail/write", "mail/doors", "workers", "models",
                   "models/importing", "config", "drumbeat")


@pytest.mark.parametrize("package", MAPPED_PACKAGES)
def test_each_package_init_maps_every_module_it_holds(package: str) -> None:
    """A newcomer reads a package's ``__init__`` first: it names each of its modules (and
    sub-packages), so the map cannot fall behind the tree."""
    folder = ROOT / package
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    held = sorted({p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
                  | {p.parent.name for p in folder.glob("*/__init__.py")})
    unmapped = [name for name in held if f"``{name}``" not in doc and f"`{name}`" not in doc]
    assert unmapped == [], f"{package}/__init__.py does not name: {', '.join(unmapped)}"
