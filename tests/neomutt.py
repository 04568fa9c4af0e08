"""NeoMutt from Debian's packages, driven in a private tmux server as a person types.

Each user gets a private neomuttrc whose spool is a Maildir holding the one message
they act on, so the cursor is on it when NeoMutt opens. The editor is a small script
that writes what the test says the user typed (lines on top, or a line under a quoted
line) into the draft, so nothing waits on a real editor. Mail goes out over SMTP with
STARTTLS to ``drumbeat serve``, the test's certificate being the one NeoMutt accepts.
"""

from __future__ import annotations

import json
import mailbox
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

EDITOR = '''\
"""Write the planned text into NeoMutt's draft: lines on top, or under a quoted line."""
import json, sys
plan = json.load(open(sys.argv[1], encoding="utf-8"))
path = sys.argv[2]
lines = open(path, encoding="utf-8").read().split("\\n")
under = plan.get("under")
if under:
    at = next(i for i, line in enumerate(lines) if line.startswith(">") and under in line)
    lines[at + 1:at + 1] = plan["lines"]
else:
    lines[0:0] = plan["lines"]
open(path, "w", encoding="utf-8").write("\\n".join(lines))
'''


def installed() -> str | None:
    """The NeoMutt and tmux that can run here, or why not."""
    for program in ("neomutt", "tmux"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    return None


def version() -> str:
    done = subprocess.run(["neomutt", "-v"], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[0].strip()


@dataclass(frozen=True)
class User:
    """One person's NeoMutt: their address, name and private folder."""

    address: str
    name: str
    home: Path


@dataclass(frozen=True)
class Typed:
    """What the user writes in the editor: ``lines`` on top, or under the first quoted
    line containing ``under``."""

    lines: tuple[str, ...]
    under: str | None = None


class NeoMutt:
    """A private tmux server for NeoMutt sessions, torn down by ``stop``."""

    def __init__(self, root: Path, smtp_port: int, certificate: Path) -> None:
        self.root = root
        self.smtp_port = smtp_port
        self.certificate = certificate
        self.socket = root / f"tmux-{uuid.uuid4().hex[:8]}"
        self.editor = root / "editor.py"
        self.editor.write_text(EDITOR, encoding="utf-8")

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                              text=True, timeout=30)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "mutt").stdout

    def stop(self) -> None:
        self.tmux("kill-server")

    def rc(self, user: User, message: EmailMessage, typed: Typed, mime_forward: bool) -> Path:
        """The user's neomuttrc, their spool holding just ``message``."""
        spool = user.home / f"spool-{uuid.uuid4().hex[:8]}"
        mailbox.Maildir(spool, create=True).add(message)
        plan = user.home / "plan.json"
        plan.write_text(json.dumps({"lines": list(typed.lines), "under": typed.under}),
                        encoding="utf-8")
        settings = {
            "folder": spool, "spoolfile": spool, "mbox_type": "Maildir",
            "from": user.address, "realname": user.name, "use_from": "yes",
            "hostname": user.address.split("@")[1],
            "smtp_url": f"smtp://127.0.0.1:{self.smtp_port}/",
            "ssl_starttls": "yes", "ssl_force_tls": "yes", "ssl_verify_host": "no",
            "certificate_file": self.certificate,
            "editor": f"{sys.executable} {self.editor} {plan}",
            "edit_headers": "no", "fast_reply": "yes", "include": "yes", "reply_to": "yes",
            "forward_format": "[%a: %s]", "mime_forward": "yes" if mime_forward else "no",
            "forward_attachments": "no", "forward_decode": "yes", "forward_quote": "no",
            "record": "", "copy": "no", "postponed": user.home / "postponed",
            "recall": "no", "abort_noattach": "no", "abort_unmodified": "no",
            "crypt_autosign": "no", "crypt_autoencrypt": "no", "crypt_replyencrypt": "no",
            "crypt_replysign": "no", "crypt_opportunistic_encrypt": "no",
            "sleep_time": "0", "confirmappend": "no", "quit": "yes", "move": "no",
            "wait_key": "no", "beep": "no", "signature": "", "header_cache": "",
            "message_cachedir": "", "charset": "utf-8", "send_charset": "utf-8",
            "mark_old": "no", "delete": "no",
        }
        lines = [f'set {name}="{value}"' for name, value in settings.items()]
        lines.append("alternative_order text/plain text/html")
        path = user.home / f"neomuttrc-{uuid.uuid4().hex[:8]}"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def wait_screen(self, what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while what not in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"NeoMutt never showed {what!r}; its screen:\n"
                                     + self.screen())
            time.sleep(0.1)

    def send(self, user: User, message: EmailMessage, typed: Typed, *,
             forward_to: str | None = None, mime_forward: bool = False,
             sent: Callable[[], bool]) -> None:
        """Open NeoMutt on ``message``, reply (or forward to ``forward_to``) with
        ``typed``, send, and quit once ``sent`` holds."""
        user.home.mkdir(parents=True, exist_ok=True)
        rc = self.rc(user, message, typed, mime_forward)
        command = f"env HOME={user.home} TERM=xterm neomutt -n -F {rc}"
        done = self.tmux("new-session", "-d", "-s", "mutt", "-x", "200", "-y", "50", command)
        assert done.returncode == 0, done.stderr
        try:
            self.wait_screen("NeoMutt")
            if forward_to is None:
                self.tmux("send-keys", "-t", "mutt", "r")
            else:
                self.tmux("send-keys", "-t", "mutt", "f")
                self.wait_screen("To:")
                self.tmux("send-keys", "-t", "mutt", forward_to, "Enter")
            self.wait_screen("y:Send")
            self.tmux("send-keys", "-t", "mutt", "y")
            deadline = time.monotonic() + 60
            while not sent():
                if time.monotonic() > deadline:
                    raise AssertionError("Drumbeat never stored what NeoMutt sent; its "
                                         "screen:\n" + self.screen())
                time.sleep(0.2)
            self.tmux("send-keys", "-t", "mutt", "q")
        finally:
            self.tmux("kill-session", "-t", "mutt")
