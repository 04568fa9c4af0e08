"""The SMTP door: an aiosmtpd handler that answers 250 only once the bytes are stored.

It accepts mail for our own domain only (it is no open relay), leaves the size
limit to aiosmtpd (552), and runs the storing function in a thread so the
event loop never waits on the database. When storing fails for any reason the
answer is 451: the sending server keeps the message and tries again, so an
exception here can delay mail but never turn it into a bounce.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("drumbeat.smtpd")

Store = Callable[[bytes, str | None, Sequence[str]], int]


class IntakeHandler:
    """aiosmtpd handler: check recipients, store the message, then say 250."""

    def __init__(
        self,
        domain: str,
        store: Store,
        on_stored: Callable[[int], None] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.domain = domain.lower()
        self.store = store
        self.on_stored = on_stored
        self.executor = executor

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
        loop = asyncio.get_running_loop()
        try:
            row_id = await loop.run_in_executor(
                self.executor, self.store, raw, envelope.mail_from, list(envelope.rcpt_tos)
            )
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
