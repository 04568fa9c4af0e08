"""A real IMAP server for tests: Debian's Dovecot with its own config on a private port.

Runs in the foreground as a child process; mail lives in a temporary folder.
As root (CI) mail is owned by the ``dovecot`` system user; otherwise Dovecot
runs entirely as the current user.
"""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.relay import free_port

USER, PASSWORD = "drumbeat", "secret"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
{users}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise FileNotFoundError("dovecot is not installed (Debian package dovecot-imapd)")
        self.binary = binary
        self.config = root / "dovecot.conf"
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("dovecot")
            users = ""
            for sub in ("mail", "home"):
                shutil.chown(root / sub, owner.pw_uid, owner.pw_gid)
        else:
            owner = pwd.getpwnam(getpass.getuser())
            users = (f"default_internal_user = {owner.pw_name}\n"
                     f"default_login_user = {owner.pw_name}\n")
        self.config.write_text(CONFIG.format(
            root=root, port=self.port, uid=owner.pw_uid, gid=owner.pw_gid, users=users,
            password=PASSWORD), encoding="utf-8")

    def start(self) -> Dovecot:
        self.process = subprocess.Popen([self.binary, "-F", "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start; see {self.root / 'dovecot.log'}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        client.create(folder)
        client.append(folder, None, None, raw)
        client.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        _, [count] = client.select(folder)
        if count in (b"0", None):
            client.logout()
            return []
        _, data = client.fetch("1:*", "(FLAGS)")
        client.logout()
        return [item for item in data if isinstance(item, bytes)]
