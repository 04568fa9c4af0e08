"""The forward corpora, shared by ``tests/test_forward_corpus.py`` and ``bench/forwards.py``.

1. ``tests/fixtures/forwards``: our own forwarded messages, each with a hand-written
   ``NAME.expected.json`` sidecar (``FIXTURES``).
2. ``tests/fixtures/corpora/forwards-crisp``: crisp's email-forward-parser test bodies
   (``CRISP``, MIT; the licence is kept beside them). Every body forwards the same
   message (``CRISP_FROM``, ``CRISP_SUBJECT``, ``CRISP_BODY``); the date each writes is
   ``crisp_date``; the subject a mail client would pass with it is ``crisp_subject``;
   checks that cannot pass for a file are in ``CRISP_SKIPS`` with the reason.

Bodies are compared after ``normalize``. Paths only: nothing here reads outside the
repository.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "forwards"
CRISP = REPO / "tests" / "fixtures" / "corpora" / "forwards-crisp"

CRISP_SUBJECT = "Integer consequat non purus"
CRISP_FROM = "john.doe@acme.com"
CRISP_BODY = (
    "Aenean quis diam urna. Maecenas eleifend vulputate ligula ac consequat. Pellentesque "
    "cursus tincidunt mauris non venenatis.\nSed nec facilisis tellus. Nunc eget eros quis ex "
    "congue iaculis nec quis massa. Morbi in nisi tincidunt, euismod ante eget, eleifend nisi."
    "\n\nPraesent ac ligula orci. Pellentesque convallis suscipit mi, at congue massa sagittis "
    "eget."
)
# file -> {check: why it is skipped}
CRISP_SKIPS: dict[str, dict[str, str]] = {
    "unknown_en_body_variant_12": {
        "from": "its From line is 'From: John Doe', a name without an address",
    },
}


def normalize(text: str | None) -> str:
    """Lines without surrounding whitespace, runs of blank lines collapsed, none around."""
    out: list[str] = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def crisp_subject(path: Path) -> str | None:
    """The outer subject of a crisp body: its own ``*_subject*`` file, else its family's."""
    folder, name = path.parent, path.stem
    own = folder / f"{name.replace('_body', '_subject')}.txt"
    if own.is_file():
        return own.read_text(encoding="utf-8").strip()
    family = re.match(r"(new_outlook_2019|outlook_2019|outlook_live|outlook_2013|unknown)_", name)
    if not family:
        return None
    base = {
        "new_outlook_2019": "new_outlook_2019_en_subject",
        "outlook_2019": "outlook_2019_subject",
        "outlook_live": "outlook_live_en_subject",
        "outlook_2013": "outlook_2013_en_subject",
        "unknown": "unknown_en_subject",
    }[family.group(1)]
    if "variant_4" in name:
        base = "outlook_2019_en_subject" if family.group(1) == "outlook_2019" else base
        base += "_variant_4"
    return (folder / f"{base}.txt").read_text(encoding="utf-8").strip()


def crisp_date(name: str) -> tuple[int, int, int, int, int]:
    """The date each crisp fixture writes (wall clock as written: year, month, day, h, min)."""
    if re.search(r"_variant_1[45]", name):
        return (2023, 4, 6, 16, 17)
    fixed = {
        "apple_mail_en_body_variant_13": (2022, 8, 17, 9, 6),
        "apple_mail_en_body_variant_6": (2021, 7, 16, 19, 24),
        "apple_mail_en_body_variant_7": (2021, 7, 16, 19, 24),
        "hubspot_fr_body": (2022, 9, 19, 15, 20),
        "missive_en_body": (2022, 7, 19, 15, 9),
        "missive_en_body_variant_3": (2022, 7, 1, 17, 3),
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("apple_mail_en"):
        return (2021, 10, 25, 11, 17)
    families = (
        ("apple_mail_", (2021, 10, 26, 14, 25)),
        ("gmail_", (2021, 10, 27, 9, 31)),
        ("hubspot_", (2022, 9, 19, 17, 55)),
        ("ionos_", (2023, 2, 10, 16, 52)),
        ("mailmate_", (2021, 10, 27, 9, 31)),
        ("missive_", (2022, 7, 19, 15, 36)),
        ("outlook_2013_", (2021, 10, 25, 11, 17)),
        ("outlook_2019_", (2021, 10, 28, 12, 46)),
        ("outlook_live_", (2021, 10, 27, 15, 14)),
        ("thunderbird_", (2021, 11, 3, 15, 51)),
        ("unknown_", (2022, 7, 23, 7, 53)),
        ("yahoo_", (2021, 11, 2, 9, 26)),
    )
    if name.startswith("new_outlook_2019_"):
        minute = 6 if re.match(r"new_outlook_2019_(cs|da|fi|fr|nl)_", name) else 46
        return (2021, 10, 28, 12, minute)
    return next(value for prefix, value in families if name.startswith(prefix))
