"""A real SMTP relay for tests: aiosmtpd on loopback, recording what it accepts.

It can be told to answer the next messages with an error (``fail_next``), to
test retries (4xx) and refusals (5xx) against a real SMTP conversation.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RecordingHandler:
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # answers for the next messages
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content or b"")))
        return "250 OK"


class Relay:
    """Start with ``Relay().start()``; stop with ``.stop()``.

    With ``login=(user, password)`` the relay requires SMTP AUTH (over plain TCP:
    this is loopback) and refuses mail from a session that did not log in.
    """

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        options: dict[str, object] = {}
        if login is not None:
            def authenticate(server: SMTP, session: Session, envelope: Envelope,
                             mechanism: str, data: object) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (
                    data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok, handled=False)
            options = {"authenticator": authenticate, "auth_required": True,
                       "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     **options)

    def start(self) -> Relay:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def fail_next(self, *answers: str) -> None:
        with self.handler.lock:
            self.handler.failures.extend(answers)

    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            raw = [data for _rcpt, data in self.handler.received]
        return [message_from_bytes(data, policy=default) for data in raw]  # type: ignore[misc]
