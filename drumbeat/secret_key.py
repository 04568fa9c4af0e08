"""The secret key that signs reply addresses: refuse a missing or guessable one.

Whoever knows the key can mint a ``checkin+TOKEN@`` address for anyone's agenda,
so no command that mints or verifies tokens runs without a real one.
``drumbeat serve`` (the one-laptop setup) makes its own on first start and keeps
it under var/; every other command must be given one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path

from config.settings import DEFAULT_VAR_DIR, Settings
from mail.write.tokens import OLD_DEFAULT_SECRET_KEY  # published in the source, so refused

MIN_KEY_LENGTH = 16
# Where `drumbeat serve` keeps the key it made (beside its SQLite file and Maildir).
SERVE_KEY_PATH = DEFAULT_VAR_DIR / "secret_key"
HOW_TO_SET = ("Set DRUMBEAT_SECRET_KEY to a long random value (e.g. the output of "
              "`openssl rand -hex 32`), or DRUMBEAT_SECRET_KEY_FILE to a file holding one, "
              "and keep it: changing it voids the reply addresses of agendas already sent.")
EXIT_BAD_KEY = 2


class KeyFileProblem(Exception):
    """The key file exists but cannot be used (unreadable, too open, or a weak key)."""


def key_problem(settings: Settings) -> str | None:
    """What is wrong with the configured key, in plain words with the fix; None if nothing."""
    key = settings.secret_key.get_secret_value()
    if not key:
        made = (f" (`drumbeat serve` keeps the one it made in {SERVE_KEY_PATH}: "
                f"DRUMBEAT_SECRET_KEY_FILE={SERVE_KEY_PATH} shares it)"
                if SERVE_KEY_PATH.is_file() else "")
        return ("no secret key is set: reply addresses cannot be signed, so anyone could "
                f"update tasks as someone else. {HOW_TO_SET}{made}")
    if key == OLD_DEFAULT_SECRET_KEY:
        return (f"DRUMBEAT_SECRET_KEY is the old default {OLD_DEFAULT_SECRET_KEY!r}, which "
                "anyone who reads the source knows: they could forge reply addresses and "
                f"update tasks as someone else. {HOW_TO_SET}")
    if len(key) < MIN_KEY_LENGTH:
        return (f"DRUMBEAT_SECRET_KEY is only {len(key)} characters; it needs at least "
                f"{MIN_KEY_LENGTH} so that nobody can guess it. {HOW_TO_SET}")
    return None


def require_key(settings: Settings) -> None:
    """Stop the command (exit status 2) with the problem and its fix when the key is unfit."""
    problem = key_problem(settings)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_KEY)


def load_or_create(path: Path) -> str:
    """The key kept at ``path``, made (random, mode 0600) if there is none yet.

    The new key is written in full to a file of its own first (``O_EXCL``, 0600) and
    then linked to ``path``, which fails if it exists: two first starts at the same
    time agree on one key, and nobody ever reads a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path, secrets.token_urlsafe(32))
    return _read(path)


def _create(path: Path, key: str) -> None:
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another start made it first: use theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileProblem(f"the secret key file {path} cannot be read ({exc}); fix or "
                             f"remove it. {HOW_TO_SET}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileProblem(f"the secret key file {path} can be read by others "
                             f"(mode {stat.S_IMODE(mode):o}); run `chmod 600 {path}`.")
    if len(key) < MIN_KEY_LENGTH or key == OLD_DEFAULT_SECRET_KEY:
        raise KeyFileProblem(f"the secret key file {path} holds no usable key; remove it "
                             f"and a new one is made at the next start. {HOW_TO_SET}")
    return key
