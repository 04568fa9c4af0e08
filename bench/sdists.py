"""Peers' own test data for the accuracy benchmarks (replies.py, forwards.py): a package's
source archive from PyPI, unpacked into a cache, and the cases of its parametrized tests."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any


def fetch_sdist(cache: Path, name: str, requirement: str, download: bool
                ) -> tuple[Path | None, str | None]:
    """The unpacked source tree of ``requirement`` (``name`` or ``name==version``) under
    ``cache``, downloaded with pip when missing and ``download`` is set; and pip's last
    error line when a download failed (None otherwise)."""
    cache.mkdir(parents=True, exist_ok=True)
    version = requirement.split("==")[1] if "==" in requirement else None

    def archives() -> list[Path]:
        found = sorted(cache.glob(f"{name}-*.tar.gz"))
        return [a for a in found if a.name == f"{name}-{version}.tar.gz"] if version else found

    error = None
    if not archives() and download:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             requirement, "-d", str(cache)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode:
            error = (result.stderr.strip().splitlines() or ["?"])[-1]
    if not archives():
        return None, error
    archive = archives()[-1]
    tree = cache / archive.name.removesuffix(".tar.gz")
    if not tree.is_dir():
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    return tree, error


def parametrized(module_path: Path, function: str) -> list[tuple[Any, ...]]:
    """The argument tuples of a ``@pytest.mark.parametrize``-decorated test function."""
    spec = importlib.util.spec_from_file_location(f"_qq_{module_path.stem}", module_path)
    if spec is None or spec.loader is None:
        return []
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for mark in getattr(getattr(module, function), "pytestmark", []):
        if mark.name == "parametrize":
            return [tuple(values) for values in mark.args[1]]
    return []
