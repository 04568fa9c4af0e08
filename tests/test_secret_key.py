"""The secret key: `drumbeat serve` makes and keeps its own; the other commands that sign
or read reply addresses refuse to start without a fit one, and say how to set it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drumbeat.secret_key import OLD_DEFAULT_SECRET_KEY, load_or_create
from tests.relay import free_port

DRUMBEAT = str(Path(sys.executable).with_name("drumbeat"))


def keyless_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of someone who set up nothing about the key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRUMBEAT_")}
    return {**env, "DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'drumbeat.sqlite'}",
            "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
            "DRUMBEAT_SMTPD_PORT": str(free_port()), **extra}


def serve_until_ready(env: dict[str, str], cwd: Path) -> str:
    """Start `drumbeat serve`, wait for its ready line, stop it with Ctrl-C; its output."""
    process = subprocess.Popen([DRUMBEAT, "serve", "--drain", "1"], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    timer = threading.Timer(60, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if "drumbeat serving" in line:
                process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(lines)
    finally:
        timer.cancel()
    return "".join(lines)


def test_serve_makes_a_private_key_once_and_keeps_using_it(tmp_path: Path) -> None:
    env = keyless_env(tmp_path)
    subprocess.run([DRUMBEAT, "db", "upgrade"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    key_file = tmp_path / "var" / "secret_key"

    first = serve_until_ready(env, tmp_path)
    assert "signed with the key in var/secret_key" in first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text(encoding="utf-8").strip()
    assert len(key) >= 32 and key != OLD_DEFAULT_SECRET_KEY

    second = serve_until_ready(env, tmp_path)
    assert "signed with the key in var/secret_key" in second
    assert key_file.read_text(encoding="utf-8").strip() == key  # the same key after a restart
    assert [p.name for p in key_file.parent.iterdir() if "secret_key" in p.name] == [
        "secret_key"]  # no drafts left behind


def test_serve_refuses_the_old_default(tmp_path: Path) -> None:
    env = keyless_env(tmp_path, DRUMBEAT_SECRET_KEY=OLD_DEFAULT_SECRET_KEY)
    result = subprocess.run([DRUMBEAT, "serve"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "old default 'change-me'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_two_first_starts_at_once_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    keys: list[str] = []
    starts = [threading.Thread(target=lambda: keys.append(load_or_create(path)))
              for _ in range(8)]
    for start in starts:
        start.start()
    for start in starts:
        start.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert path.read_text(encoding="utf-8").strip() == keys[0]


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    from drumbeat.secret_key import KeyFileProblem

    path = tmp_path / "secret_key"
    path.write_text("a-key-that-is-long-enough-to-use\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(KeyFileProblem, match="chmod 600"):
        load_or_create(path)
    path.chmod(0o600)
    assert load_or_create(path) == "a-key-that-is-long-enough-to-use"


COMMANDS = [["smtpd"], ["worker"], ["scheduler", "--once"], ["imap-poll", "--once"],
            ["inbox", "retry", "1"]]
EXTRA = {"DRUMBEAT_REDIS_URL": "redis://127.0.0.1:6379/15",  # worker needs it, others ignore
         "DRUMBEAT_IMAP_HOST": "127.0.0.1", "DRUMBEAT_IMAP_USERNAME": "drumbeat"}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("key, words", [
    (None, "no secret key is set"),
    (OLD_DEFAULT_SECRET_KEY, "old default 'change-me'"),
    ("short-key", "only 9 characters"),
])
def test_commands_that_sign_or_read_tokens_refuse_an_unfit_key(
        tmp_path: Path, command: list[str], key: str | None, words: str) -> None:
    env = keyless_env(tmp_path, **EXTRA)
    if key is not None:
        env["DRUMBEAT_SECRET_KEY"] = key
    result = subprocess.run([DRUMBEAT, *command], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, check=False)
    said = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in said and "Traceback" not in result.stderr
    assert "Set DRUMBEAT_SECRET_KEY" in said and "DRUMBEAT_SECRET_KEY_FILE" in said
