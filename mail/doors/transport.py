"""Getting a built message out: an SMTP relay, or a local Maildir on the embedded setup.

Failures are sorted into the two kinds the outbox acts on: temporary (connection
refused or dropped, 4xx: try again later) and permanent (5xx: record the
server's answer and stop). Of the temporary ones, ``RelayUnavailable`` says the
relay itself is unusable (not this message), so a batch stops at it. One SMTP
connection is kept per thread and reused across messages and batches.
"""

from __future__ import annotations

import contextlib
import mailbox
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Protocol

from mail.write.compose import to_bytes


class DeliveryError(Exception):
    """A message could not be handed over; ``answer`` is what the server said."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class TemporaryFailure(DeliveryError):
    """Worth retrying: the relay was unreachable or answered 4xx."""


class RelayUnavailable(TemporaryFailure):
    """The relay (or the Maildir) could not be reached or used at all: every message
    would meet the same, so a sender of many stops at the first."""


class PermanentFailure(DeliveryError):
    """Not worth retrying: the relay answered 5xx for this message or recipient."""


class Transport(Protocol):
    def send(self, message: Message, sender: str, recipients: list[str]) -> None: ...


class MaildirTransport:
    """Writes each message into a Maildir, where any mail client (or `ls`) can read it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips an existing folder
            (path / sub).mkdir(parents=True, exist_ok=True)
        self._maildir = mailbox.Maildir(path, create=False)
        self._lock = threading.Lock()

    def send(self, message: Message, sender: str, recipients: list[str]) -> None:
        try:
            with self._lock:
                self._maildir.add(to_bytes(message))
        except OSError as exc:  # a full or unwritable disk: worth trying again later
            raise RelayUnavailable(f"cannot write to {self.path}: {exc}") from exc


@dataclass(frozen=True)
class RelayConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 30.0


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {words}".strip()


class SmtpTransport:
    """Sends through a relay, reusing one connection per thread across messages."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self._local = threading.local()

    def _connection(self) -> smtplib.SMTP:
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        config = self.config
        connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        connection.ehlo()
        if config.starttls and connection.has_extn("starttls"):
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        elif config.starttls and config.username:
            connection.close()  # never send the password in clear text
            raise smtplib.SMTPNotSupportedError(
                "the relay offers no STARTTLS, so the password was not sent; use a relay "
                "with STARTTLS, or set DRUMBEAT_SMTP_STARTTLS=false for one on a trusted "
                "network")
        if config.username:
            connection.login(config.username, config.password or "")
        self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    def send(self, message: Message, sender: str, recipients: list[str]) -> None:
        data = to_bytes(message)
        for fresh in (False, True):
            try:
                refused = self._connection().sendmail(sender, recipients, data)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if not fresh:
                    continue  # a reused connection the relay had closed: try a new one once
                raise RelayUnavailable(f"connection lost: {exc}") from exc
            except (smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError,
                    smtplib.SMTPNotSupportedError) as exc:
                # The relay itself is unusable (greeting refused, login failed): every
                # message would fail alike, so wait for the operator rather than give up.
                self._drop()
                raise RelayUnavailable(f"relay {self.config.host}: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset()
                raise _classify(*next(iter(exc.recipients.values()))) from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise _classify(exc.smtp_code, exc.smtp_error) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise RelayUnavailable(f"cannot reach {self.config.host}:{self.config.port}: "
                                       f"{exc}") from exc
            if refused:
                raise _classify(*next(iter(refused.values())))
            return

    def _reset(self) -> None:
        """After a refusal the session stays usable once RSET; if not, start over next time."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            return
        try:
            connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def close(self) -> None:
        self._drop()


def _classify(code: int, text: bytes | str) -> DeliveryError:
    answer = _answer(code, text)
    return PermanentFailure(answer) if 500 <= code < 600 else TemporaryFailure(answer)
