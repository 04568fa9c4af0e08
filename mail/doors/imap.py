"""The IMAP door's client side: list new UIDs, fetch exact bytes, then flag, move or delete.

A thin layer over imap-tools (connection, login, folder status, flags, moves).
The raw bytes are fetched with ``BODY.PEEK[]`` so reading never marks a
message seen: only :meth:`ImapClient.done` does, after the caller has stored it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags, U
from imap_tools.mailbox import BaseMailBox


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    username: str
    password: str
    folder: str = "INBOX"
    ssl: bool = True
    after: str = "seen"  # "seen", "delete" or "move:FOLDER"

    @property
    def key(self) -> str:
        """Names the mailbox in the cursor table (no password)."""
        return f"{self.username}@{self.host}:{self.port}"


class ImapClient:
    """One logged-in connection to one folder. Use as a context manager."""

    def __init__(self, account: ImapAccount, timeout: float = 30) -> None:
        self.account = account
        box_class = MailBox if account.ssl else MailBoxUnencrypted
        self.box: BaseMailBox = box_class(account.host, account.port, timeout=timeout)

    def __enter__(self) -> ImapClient:
        self.box.login(
            self.account.username, self.account.password, initial_folder=self.account.folder
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):  # the connection may already be gone
            self.box.logout()

    def uidvalidity(self) -> int:
        status = self.box.folder.status(self.account.folder, ["UIDVALIDITY"])
        return int(status["UIDVALIDITY"])

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, oldest first ("N:*" also returns the newest, so filter)."""
        found = self.box.uids(AND(uid=U(last_uid + 1, "*")))
        return sorted(uid for uid in map(int, found) if uid > last_uid)

    def fetch_raw(self, uid: int) -> bytes | None:
        """The message's exact bytes, without setting \\Seen; None if it vanished meanwhile."""
        return self._fetch_bytes(uid, "(BODY.PEEK[])")

    def fetch_header(self, uid: int, most: int = 65536) -> bytes | None:
        """The message's header block (at most ``most`` bytes), without setting \\Seen."""
        return self._fetch_bytes(uid, f"(BODY.PEEK[HEADER]<0.{most}>)")

    def size_of(self, uid: int) -> int | None:
        """The message's size as the server counts it (RFC822.SIZE); None if it vanished."""
        status, data = self.box.client.uid("FETCH", str(uid), "(RFC822.SIZE)")
        if status != "OK":
            return None
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            found = re.search(rb"RFC822\.SIZE (\d+)", line) if isinstance(line, bytes) else None
            if found:
                return int(found.group(1))
        return None

    def _fetch_bytes(self, uid: int, what: str) -> bytes | None:
        status, data = self.box.client.uid("FETCH", str(uid), what)
        if status != "OK":
            return None
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark_seen(self, uid: int) -> None:
        """Only flag it seen, whatever the account does with stored messages: for a message
        Drumbeat could not read, which stays in the mailbox for a person to look at."""
        self.box.flag(str(uid), MailMessageFlags.SEEN, True)

    def done(self, uid: int) -> None:
        """What the account says to do with a stored message: seen, delete, or move."""
        after = self.account.after
        if after == "delete":
            self.box.delete(str(uid))
        elif after.startswith("move:"):
            self.box.move(str(uid), after.removeprefix("move:"))
        else:
            self.box.flag(str(uid), MailMessageFlags.SEEN, True)
