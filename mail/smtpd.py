"""The SMTP door: an aiosmtpd handler that answers 250 only once the bytes are stored.

It accepts mail for our own domain only (it is no open relay), leaves the size
limit to aiosmtpd (552), and stores in a thread so the event loop never waits
on the database; messages that arrive together share a transaction (group
commit). When storing fails for any reason the
answer is 451: the sending server keeps the message and tries again, so an
exception here can delay mail but never turn it into a bounce.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("drumbeat.smtpd")



@dataclass(frozen=True)
class Incoming:
    """One message as the SMTP session hands it over: bytes and envelope."""

    raw: bytes
    mail_from: str | None
    rcpt_tos: tuple[str, ...]


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
    ) -> None:
        self.domain = domain.lower()
        self.store = GroupCommit(store, executor)
        self.on_stored = on_stored

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
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            row_id = await self.store(Incoming(raw, envelope.mail_from,
                                               tuple(envelope.rcpt_tos)))
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
