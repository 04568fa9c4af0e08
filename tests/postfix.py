"""A private Postfix (Debian's package) on loopback ports, relaying one domain to the intake.

Its own configuration, queue and data directories live in a temporary folder; nothing
of the system's Postfix (``/etc/postfix``, port 25) is used or started. It runs
``master`` in the foreground as root, as ``postfix start`` would, with the daemons
dropping to the ``postfix`` user; the folder must therefore be reachable by that user.
A deferred message waits five minutes before its next try, so a test decides when it
goes out: ``flush`` asks for the queue to be delivered now (``postqueue -f``).
"""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SBIN = Path("/usr/sbin")
DAEMONS = Path("/usr/lib/postfix/sbin")

MASTER_CF = """\
{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def installed() -> bool:
    return (DAEMONS / "master").is_file() and (SBIN / "postconf").is_file()


@dataclass
class Postfix:
    """One private instance: SMTP on ``127.0.0.1:port``; mail for ``domain`` goes to
    ``smtp:[127.0.0.1]:next_port``, with STARTTLS required on that hop when
    ``tls_to_next`` (as a site whose intake offers it would set)."""

    root: Path
    port: int
    domain: str
    next_port: int
    tls_to_next: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.root / "etc"

    @property
    def log(self) -> Path:
        return self.root / "maillog"

    def main_cf(self) -> str:
        queue, data = self.root / "queue", self.root / "data"
        lines = {
            "compatibility_level": "3.6",
            "queue_directory": str(queue), "data_directory": str(data),
            "command_directory": str(SBIN), "daemon_directory": str(DAEMONS),
            "meta_directory": str(self.config), "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix", "setgid_group": "postdrop",
            "myhostname": f"mx.{self.domain}", "mydomain": self.domain,
            "myorigin": "$myhostname", "mydestination": "",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8", "relay_domains": self.domain,
            "transport_maps": f"inline:{{ {self.domain}=smtp:[127.0.0.1]:{self.next_port} }}",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "alias_maps": "", "alias_database": "", "local_recipient_maps": "",
            "biff": "no", "smtputf8_enable": "yes",
            "maillog_file": str(self.log), "maillog_file_prefixes": str(self.root),
            "smtp_tls_security_level": "encrypt" if self.tls_to_next else "may",
            "smtp_tls_loglevel": "1",
            # a deferred message waits for `flush` (the retry times are long for a test)
            "queue_run_delay": "300s", "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s", "smtp_connect_timeout": "5s",
            "delay_warning_time": "0", "bounce_queue_lifetime": "1d",
            "maximal_queue_lifetime": "1d",
        }
        return "".join(f"{name} = {value}\n" for name, value in lines.items())

    def start(self) -> Postfix:
        for folder in (self.config, self.root / "queue", self.root / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.config / "main.cf").write_text(self.main_cf())
        (self.config / "master.cf").write_text(MASTER_CF.format(port=self.port))
        for name in ("postfix-files", "dynamicmaps.cf"):  # what set-permissions reads
            if (Path("/etc/postfix") / name).exists():
                shutil.copy(Path("/etc/postfix") / name, self.config / name)
        self.log.touch()
        shutil.chown(self.root / "data", user="postfix")
        self.postfix("check")  # creates the queue folders with their owners and modes
        self.process = subprocess.Popen(
            [str(DAEMONS / "master"), "-c", str(self.config), "-d"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"postfix did not start: {self.tail()}")
            time.sleep(0.2)
        return self

    def postfix(self, *args: str) -> str:
        done = subprocess.run([str(SBIN / "postfix"), "-c", str(self.config), *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def answers(self) -> bool:
        try:
            smtplib.SMTP("127.0.0.1", self.port, timeout=2).quit()
        except (OSError, smtplib.SMTPException):
            return False
        return True

    def flush(self) -> None:
        """Deliver what is queued now (``postqueue -f``)."""
        subprocess.run([str(SBIN / "postqueue"), "-c", str(self.config), "-f"], check=True,
                       capture_output=True, timeout=30)

    def queued(self) -> int:
        """Messages in the queue (``postqueue -j``: one JSON line each)."""
        done = subprocess.run([str(SBIN / "postqueue"), "-c", str(self.config), "-j"],
                              check=True, capture_output=True, text=True, timeout=30)
        return len([line for line in done.stdout.splitlines() if line.strip()])

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # master and the daemons it started
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
