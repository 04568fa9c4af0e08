"""Regenerate the talon and quotequail reply corpora in ``tests/fixtures/corpora`` from
those packages' source archives (their own tests are the ground truth).

Not needed at test time: the tests and ``bench/replies.py`` read the files this writes.
It runs each upstream test function with stand-ins for the library under test: a call
to ``talon.quotations.extract_from_plain`` (``extract_from_html``) or to quotequail's
``quote``/``quote_html``/``unwrap``/``unwrap_html`` returns a placeholder, and the
assertion that compares the placeholder with the test's expectation records the pair
(input, expected). Nothing of either library runs, so neither needs to be installed.
Usage (the archives from ``pip download --no-deps --no-binary :all: talon quotequail``)::

    .venv/bin/python bench/extract_corpora.py TALON_SDIST_DIR QUOTEQUAIL_SDIST_DIR
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import re
import shutil
import sys
import types
import unittest.mock
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpora"

# Upstream tests that assert no new text of a whole message: internals, limits and mocks.
TALON_SKIPPED = {
    "test_too_many_lines": "patches talon's MAX_LINES_COUNT (a talon setting)",
    "test_extract_from_respects_content_type": "mocks talon's own dispatch",
    "test_crash_inside_extract_from": "mocks a crash inside talon",
    "test_mark_message_lines": "talon's internal line markers",
    "test_process_marked_lines": "talon's internal line markers",
    "test_preprocess": "talon's internal preprocessing",
    "test_split_email": "talon's internal line markers",
    "test_validate_output_html": "asserts talon's HTML well-formedness, no text",
    "test_too_large_html": "patches talon's tag limit (a talon setting)",
    "test_bad_html": "mocks talon's HTML parser",
    "test_reply_quotations_share_block": "asserts only 'non-empty, no From', no text",
    "test_standard_replies": "read from the fixture files instead (below)",
}
# Forwards, which talon leaves whole on purpose (out of scope: Drumbeat's forward parser).
TALON_FORWARDS = {"test_dont_parse_quotations_for_forwarded_messages", "test_gmail_forwarded_msg"}
FORWARD = re.compile(
    r"forwarded message|begin forwarded|doorgestuurd|weitergeleitet|message transf|"
    r"^\W*(?:>\s*)?fwd?:",
    re.I | re.M,
)


class _Token(str):
    """What a stand-in returns: a unique string that survives ``re.sub(r"\\s", "")``."""

    def decode(self, *_: Any) -> str:
        return str(self)


class _Recorder:
    """Stand-ins for the library's calls and for the assertion that checks them."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, Any, dict[str, Any]]] = {}
        self.found: list[tuple[str, Any, dict[str, Any], Any]] = []

    def call(self, name: str) -> Callable[..., Any]:
        def stand_in(value: Any, **kwargs: Any) -> Any:
            token = _Token(f"\x00{len(self.calls)}\x00")
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            self.calls[token] = (name, value, kwargs)
            return _Compared(self, token)

        return stand_in

    def eq(self, first: Any, second: Any, *_: Any) -> None:
        for got, want in ((second, first), (first, second)):
            token = re.search(r"\x00\d+\x00", got) if isinstance(got, str) else None
            if token is not None:
                name, value, kwargs = self.calls[token.group(0)]
                self.found.append((name, value, kwargs, want))
                return


class _Compared(_Token):
    """A placeholder that records what it is compared with (quotequail's ``assert ==``)."""

    def __new__(cls, recorder: _Recorder, token: str) -> _Compared:
        made = super().__new__(cls, token)
        made.recorder = recorder  # type: ignore[attr-defined]
        return made

    def __eq__(self, other: object) -> bool:
        self.recorder.eq(str(self), other)  # type: ignore[attr-defined]
        return True

    __hash__ = str.__hash__


def _fake_module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def _run_tests(module: types.ModuleType, recorder: _Recorder, skipped: dict[str, str]
               ) -> list[tuple[str, list[tuple[str, Any, dict[str, Any], Any]]]]:
    """Each test function's recorded (call, input, kwargs, expected), in source order."""
    out = []
    functions = [(n, f) for n, f in vars(module).items() if n.startswith("test") and callable(f)]
    functions.sort(key=lambda item: inspect.getsourcelines(item[1])[1])
    for name, function in functions:
        if name in skipped:
            continue
        marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
        runs = [(name, ())] if not marks else [
            (f"{name}_{number}", tuple(values)) for number, values in enumerate(marks[0].args[1])
        ]
        for run_name, arguments in runs:
            if len(inspect.signature(function).parameters) != len(arguments):
                continue  # needs a pytest fixture (a file the archive does not ship)
            recorder.found = []
            function(*arguments)
            out.append((run_name, list(recorder.found)))
    return out


def _source(function: Any) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _ids(name: str, found: list[Any]) -> list[str]:
    return [name if len(found) == 1 else f"{name}_{n + 1}" for n in range(len(found))]


def talon_cases(tree: Path, target: Path) -> list[dict[str, Any]]:
    recorder = _Recorder()
    quotations = _fake_module(
        "talon.quotations",
        extract_from_plain=recorder.call("plain"),
        extract_from_html=recorder.call("html"),
        MAX_LINES_COUNT=1000,
        html_document_fromstring=None,
        mark_message_lines=None, process_marked_lines=None, preprocess=None, split_emails=None,
    )
    utils = _fake_module("talon.utils", _MAX_TAGS_COUNT=0, html_to_text=None)
    _fake_module("talon", quotations=quotations, utils=utils, init=lambda: None)
    tools = {"eq_": recorder.eq, "ok_": lambda *_: None, "assert_false": lambda *_: None}
    _fake_module("nose")
    _fake_module("nose.tools", **tools, __all__=list(tools))
    _fake_module("mock", **{n: getattr(unittest.mock, n) for n in ("patch", "Mock")},
                 __all__=["patch", "Mock"])
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    cases: list[dict[str, Any]] = []
    files = {
        (tree / "tests" / "fixtures" / name).read_text(encoding="utf-8"): name
        for name in ("OLK_SRC_BODY_SECTION.html", "reply-separated-by-hr.html")
    }
    for module_name, form in (("text_quotations_test", "plain"), ("html_quotations_test", "html")):
        module = importlib.import_module(f"tests.{module_name}")
        skipped = dict(TALON_SKIPPED)
        skipped.update({n: "a fixture file, below" for n, f in vars(module).items()
                        if n.startswith("test_") and "extract_reply_and_check(" in _source(f)})
        for name, found in _run_tests(module, recorder, skipped):
            for case_id, (_, value, _, want) in zip(_ids(name, found), found, strict=True):
                if form == "html" and want == re.sub(r"\s", "", value):
                    want = value  # "unchanged": the input itself reads better than its squeeze
                case = {"id": case_id, "format": form,
                        "kind": "forward" if name in TALON_FORWARDS else "reply"}
                if value in files:
                    case["input_file"] = files[value]
                    shutil.copy(tree / "tests" / "fixtures" / files[value], target / files[value])
                else:
                    case["input"] = value
                case["expected"] = want
                case["compare"] = "no-whitespace" if form == "html" else "normalized"
                cases.append(case)
    for folder in ("standard_replies", "html_replies"):
        (target / folder).mkdir(exist_ok=True)
        for path in sorted((tree / "tests" / "fixtures" / folder).iterdir()):
            shutil.copy(path, target / folder / path.name)
    for path in sorted((target / "standard_replies").glob("*.eml")):
        reply = path.with_name(path.stem + "_reply_text")
        cases.append({
            "id": f"standard_replies_{path.stem}", "format": "eml", "kind": "reply",
            "input_file": f"standard_replies/{path.name}",
            "expected": reply.read_text(encoding="utf-8").strip() if reply.exists() else "Hello",
            "compare": "normalized",
        })
    for path in sorted((target / "html_replies").glob("*.html")):
        cases.append({
            "id": f"html_replies_{path.stem}", "format": "html", "kind": "reply",
            "input_file": f"html_replies/{path.name}",
            "expected": "Hi. I am fine.\n\nThanks,\nAlex", "compare": "no-whitespace-text",
        })
    return cases


def _quoted_parts(parts: list[tuple[bool, str]]) -> tuple[str, str]:
    ours = "".join(text for own, text in parts if own)
    quoted = "".join(text for own, text in parts if not own)
    return ours, quoted


def quotequail_cases(tree: Path) -> list[dict[str, Any]]:
    recorder = _Recorder()
    _fake_module("quotequail", **{name: recorder.call(name) for name in
                                  ("quote", "quote_html", "unwrap", "unwrap_html")})
    sys.path.insert(0, str(tree / "tests"))
    cases: list[dict[str, Any]] = []
    skipped = {"test_limit": "quotequail's line limit (a quotequail setting)"}
    for module_name in ("test_quote", "test_unwrap", "test_quote_html", "test_unwrap_html"):
        module = importlib.import_module(module_name)
        for name, found in _run_tests(module, recorder, skipped):
            # test_quote*: keep the quote_intro_line=True expectation only.
            found = [f for f in found if not f[0].startswith("quote") or f[2]] or found
            for case_id, (call, value, _kwargs, want) in zip(_ids(name, found), found, strict=True):
                form = "html" if call.endswith("_html") else "plain"
                suffix = "html" if form == "html" else "text"
                if call.startswith("quote"):
                    expected, quoted = _quoted_parts(want)
                    kind = "reply" if quoted else "unquoted"
                    if FORWARD.search(value):
                        kind = "forward"
                elif want is None:
                    expected, kind = value, "unquoted"
                else:
                    parts = (want.get(f"{suffix}_top"), want.get(f"{suffix}_bottom"))
                    expected = "\n\n".join(part for part in parts if part)
                    kind = "forward" if want.get("type") == "forward" else "reply"
                cases.append({
                    "id": case_id, "format": form, "kind": kind, "input": value,
                    "expected": expected,
                    "compare": "no-whitespace" if form == "html" else "normalized",
                })
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("talon", type=Path, help="the unpacked talon source archive")
    parser.add_argument("quotequail", type=Path, help="the unpacked quotequail source archive")
    args = parser.parse_args(argv)
    for name, tree in (("talon", args.talon.resolve()), ("quotequail", args.quotequail.resolve())):
        target = OUT / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(tree / "LICENSE", target / "LICENSE")
        cases = talon_cases(tree, target) if name == "talon" else quotequail_cases(tree)
        text = json.dumps(cases, indent=1, ensure_ascii=False) + "\n"
        (target / "cases.json").write_text(text, encoding="utf-8")
        print(f"{name}: {len(cases)} cases -> {target / 'cases.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
