"""The SMTP door: an aiosmtpd handler that answers 250 only once the bytes are stored.

It accepts mail for our own domain only (it is no open relay), leaves the size
limit to aiosmtpd (552), and stores in a thread so the event loop never waits
on the database; messages that arrive together share a transaction (group
commit). When storing fails for any reason the
answer is 451: the sending server keeps the message and tries again, so an
exception here can delay mail but never turn it into a bounce.

One client cannot wear the door down (:class:`SessionLimits`): past a number of
open sessions a new one is answered 421 and closed, recipients beyond a number
per message get 452, and a session ends (421) at an absolute deadline however
busy it keeps itself, so a client trickling bytes cannot hold a session forever.
The client's IP address goes with each message to storage: it is what
DRUMBEAT_TRUSTED_RELAYS checks. With a certificate (:class:`~mail.doors.tls.DoorTls`)
the door offers STARTTLS, and can require it before MAIL from clients outside
the trusted relays (530).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

if TYPE_CHECKING:
    from config.settings import Settings
    from mail.doors.tls import DoorTls

log = logging.getLogger("drumbeat.smtpd")


@dataclass(frozen=True)
class Incoming:
    """One message as the SMTP session hands it over: bytes, envelope, and the client's IP
    address (None when it is not known, as for mail fetched over IMAP)."""

    raw: bytes
    mail_from: str | None
    rcpt_tos: tuple[str, ...]
    peer_address: str | None = None


@dataclass(frozen=True)
class SessionLimits:
    """What one SMTP client may take of the door (DRUMBEAT_SMTPD_MAX_SESSIONS,
    DRUMBEAT_SMTPD_MAX_RECIPIENTS, DRUMBEAT_SMTPD_SESSION_SECONDS)."""

    max_sessions: int = 200
    max_recipients: int = 50
    session_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLimits:
        return cls(max_sessions=settings.smtpd_max_sessions,
                   max_recipients=settings.smtpd_max_recipients,
                   session_seconds=settings.smtpd_session_seconds)


def peer_address_of(peer: Any) -> str | None:
    """The client's IP address from aiosmtpd's ``session.peer`` (an IPv4 address mapped
    into IPv6 as plain IPv4, so a relay listed as IPv4 matches); None if it has none."""
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return None
    try:
        address = ipaddress.ip_address(peer[0].partition("%")[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


class GroupStore(Protocol):
    def store_each(self, group: Sequence[Incoming]) -> list[int | Exception]:
        """Store every message (in one transaction when it can); a row id or the error
        for each, in order."""
        ...


class GroupCommit:
    """Stores the messages the open sessions hand in a group at a time (group commit).

    One writer at a time runs ``store_each`` in a thread; whatever arrives while it
    runs waits for it, then goes in the next group. A message alone is stored at
    once, so nothing waits for company; under load a group shares one transaction
    and one commit, the costliest part of storing. Each session still gets its 250
    only once its message is committed, or a 451 when its storing failed.
    """

    def __init__(self, store: GroupStore, executor: Executor | None = None,
                 max_group: int = 64) -> None:
        self.store = store
        self.executor = executor
        self.max_group = max_group
        self._waiting: list[tuple[Incoming, asyncio.Future[int]]] = []
        self._writing = False

    async def __call__(self, incoming: Incoming) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((incoming, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        return await future

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group = self._waiting[:self.max_group]
                del self._waiting[:self.max_group]
                try:
                    results: list[int | Exception] = await loop.run_in_executor(
                        self.executor, self.store.store_each, [item for item, _ in group])
                except Exception as error:  # the store itself broke: every one gets a 451
                    results = [error] * len(group)
                for (_item, future), result in zip(group, results, strict=True):
                    if future.done():  # the session went away meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._writing = False


class IntakeHandler:
    """aiosmtpd handler: check recipients, store the message, then say 250."""

    def __init__(
        self,
        domain: str,
        store: GroupStore,
        on_stored: Callable[[int], None] | None = None,
        executor: Executor | None = None,
        limits: SessionLimits | None = None,
    ) -> None:
        self.domain = domain.lower()
        self.store = GroupCommit(store, executor)
        self.on_stored = on_stored
        self.limits = limits or SessionLimits()

    def accepts(self, address: str) -> bool:
        return address.rpartition("@")[2].strip().lower().rstrip(".>") == self.domain

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return f"550 5.7.1 <{address}>: we only accept mail for @{self.domain}"
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return (f"452 4.5.3 Too many recipients: at most {self.limits.max_recipients} "
                    "per message")
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            row_id = await self.store(Incoming(raw, envelope.mail_from,
                                               tuple(envelope.rcpt_tos),
                                               peer_address_of(session.peer)))
        except Exception:
            log.exception("could not store a message from %s; answered 451", envelope.mail_from)
            return "451 4.3.0 Temporary problem storing your message, please try again later"
        if self.on_stored is not None:
            try:
                self.on_stored(row_id)
            except Exception:  # stored is what counts: the inbox sweeper will pick it up
                log.exception("stored message %s but could not queue it", row_id,
                              extra={"inbound_id": row_id})
        log.info("stored message %s from %s", row_id, envelope.mail_from,
                 extra={"inbound_id": row_id})
        return f"250 2.0.0 OK: queued as {row_id}"


class LimitedSMTP(SMTP):
    """aiosmtpd's SMTP protocol with the door's session cap and absolute deadline, and
    STARTTLS required or not by who the client is.

    ``open_sessions`` is shared by every session of one server (they all run on its
    event loop); aiosmtpd's own idle timeout still applies between commands.
    """

    def __init__(self, handler: Any, *, limits: SessionLimits, open_sessions: set[SMTP],
                 tls: DoorTls | None = None, **kwargs: Any) -> None:
        if tls is not None:
            kwargs["tls_context"] = tls.context
        super().__init__(handler, **kwargs)
        self.tls = tls
        self.limits = limits
        self.open_sessions = open_sessions
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self in self.open_sessions:  # STARTTLS: the same session on a new transport
            super().connection_made(transport)
            return
        if len(self.open_sessions) >= self.limits.max_sessions:
            self._refused = True
            log.warning("refused an SMTP session from %s: %d open already",
                        peer_address_of(transport.get_extra_info("peername")),
                        len(self.open_sessions))
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            return
        self.open_sessions.add(self)
        super().connection_made(transport)
        if self.tls is not None:  # aiosmtpd answers 530 to anything but EHLO/STARTTLS/QUIT
            self.require_starttls = self.tls.required_for(
                peer_address_of(transport.get_extra_info("peername")))
        self._deadline = self.loop.call_later(self.limits.session_seconds, self._time_is_up)

    def _time_is_up(self) -> None:
        """However busy, the session ends: a trickling client gets 421 and is closed."""
        transport = self.transport
        if transport is None:
            return
        log.warning("SMTP session from %s reached its %.0f s limit; closed",
                    peer_address_of(self.session.peer if self.session else None),
                    self.limits.session_seconds)
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(b"421 4.4.2 Session time limit reached, closing\r\n")
        transport.close()

    def eof_received(self) -> bool | None:
        if self._refused:
            return False
        return super().eof_received()

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:  # never started: nothing of aiosmtpd's to tear down
            return
        self.open_sessions.discard(self)
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(error)


class IntakeController(Controller):
    """aiosmtpd's Controller serving :class:`LimitedSMTP` with the handler's limits and,
    given ``tls``, STARTTLS."""

    def __init__(self, handler: IntakeHandler, *, tls: DoorTls | None = None,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.tls = tls
        self.open_sessions: set[SMTP] = set()

    def factory(self) -> SMTP:
        return LimitedSMTP(self.handler, limits=self.handler.limits,
                           open_sessions=self.open_sessions, tls=self.tls, **self.SMTP_kwargs)
