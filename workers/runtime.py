"""The composition root of a worker process: settings, database, transport, clock,
and which function turns each kind of outbox row into words.

Actors receive only ids; everything else they need comes from here. A process
calls :func:`configure` once (the CLI does; tests pass their own database,
transport and clock), so nothing is built at import time, and no module registers
itself by being imported: the renderers are listed in :func:`outgoing_kinds`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from mail.doors.transport import MaildirTransport, RelayConfig, SmtpTransport, Transport
from mail.read.authentication import SenderPolicy
from mail.write.compose import AttachedFile, InlineImage
from mail.write.render import RenderedEmail
from models.base import utcnow
from models.db import make_engine, session_factory
from models.mailbox import OutboundMessage
from workers import agendas, digests, review_forms, reviews

T = TypeVar("T")
RENDERED_KEPT = 1000  # rows whose words and pictures a process keeps between render and parts
RowRenderer = Callable[[Session, OutboundMessage, "Runtime"], RenderedEmail]
# A batch's rows of one kind in, its reads done once, the renderer of each of them out.
Renderer = Callable[[Session, Sequence[OutboundMessage], "Runtime"],
                    Callable[[OutboundMessage], RenderedEmail]]
Parts = Callable[[Session, OutboundMessage, "Runtime"],
                 tuple[tuple[InlineImage, ...], tuple[AttachedFile, ...]]]


@dataclass(frozen=True)
class Renderers:
    """How outbox rows of each kind become words when first sent (rows stored with
    their words, like answers, need none), and the pictures and files a kind carries
    (made again on a retry, from the same stored figures, so every try sends the same).

    A kind's renderer takes all the rows of that kind in a batch, so what they show
    can be read once for all of them (agendas); ``one_by_one`` renders each alone."""

    words: dict[str, Renderer] = field(default_factory=dict)
    parts: dict[str, Parts] = field(default_factory=dict)


def outgoing_kinds() -> Renderers:
    """Every kind of row the scheduler queues, and what renders it."""
    return Renderers(
        words={agendas.AGENDA: agendas.agenda_renderer,
               agendas.NUDGE: one_by_one(agendas.render_nudge_row),
               digests.DIGEST: one_by_one(digests.render_digest_row),
               reviews.REVIEW: one_by_one(review_forms.render_review_row)},
        parts={digests.DIGEST: digests.digest_parts, reviews.REVIEW: review_forms.review_parts})


def one_by_one(render: RowRenderer) -> Renderer:
    """A kind whose rows share nothing worth reading once: each rendered on its own."""
    def each(session: Session, _rows: Sequence[OutboundMessage], rt: Runtime
             ) -> Callable[[OutboundMessage], RenderedEmail]:
        return lambda row: render(session, row, rt)
    return each


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    transport: Transport
    clock: Callable[[], datetime] = utcnow
    cache: dict[Any, Any] = field(default_factory=dict)  # short-lived figures, per process
    connection: Connection | None = None  # set by one_connection: the batch's connection
    renderers: Renderers = field(default_factory=outgoing_kinds)

    def rendered_once(self, kind: str, row_id: int, build: Callable[[], T]) -> T:
        """A row's rendering, built once per process: its words and its pictures (a
        renderer and its ``parts``) then come from one view, and charts are drawn once."""
        key = (kind, row_id)
        if key not in self.cache:
            if len(self.cache) > RENDERED_KEPT:
                self.cache.clear()
            self.cache[key] = build()
        return self.cache[key]  # type: ignore[no-any-return]


_current: Runtime | None = None


def transport_for(settings: Settings) -> Transport:
    """The relay when one is configured, else the local Maildir."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpTransport(RelayConfig(
            host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=password, starttls=settings.smtp_starttls))
    return MaildirTransport(settings.maildir)


def sender_policy_for(settings: Settings) -> SenderPolicy:
    """Who may vouch for a sender under these settings (the intake and doctor share it)."""
    return SenderPolicy(authserv_id=settings.trusted_authserv_id,
                        trusted_networks=settings.trusted_networks,
                        dkim_timeout=settings.dkim_timeout_seconds)


def simulated_clock(start: datetime, speed: float) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and runs ``speed`` times faster than the real one
    (``DRUMBEAT_CLOCK_START``/``DRUMBEAT_CLOCK_SPEED``: a quarter in a minute for the demo)."""
    began = time.monotonic()
    start = start if start.tzinfo else start.replace(tzinfo=UTC)

    def now() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - began) * speed)
    return now


def clock_for(settings: Settings) -> Callable[[], datetime]:
    """Drumbeat's clock: simulated from ``DRUMBEAT_CLOCK_START`` when set, else the real one.
    Every time Drumbeat stores (arrivals, answers, sends) and every "today" comes from it."""
    if settings.clock_start is not None:
        return simulated_clock(settings.clock_start, settings.clock_speed)
    return utcnow


def configure(settings: Settings, *, engine: Engine | None = None,
              transport: Transport | None = None,
              clock: Callable[[], datetime] | None = None) -> Runtime:
    """Build and install this process's runtime."""
    global _current
    engine = engine or make_engine(settings.database_url)
    _current = Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                       transport=transport or transport_for(settings),
                       clock=clock or clock_for(settings))
    return _current


@contextmanager
def one_connection(rt: Runtime) -> Iterator[Runtime]:
    """The same runtime with every session on one checked-out connection.

    A batch of short transactions (a nudge's messages, each applied and its answer
    marked sent) then pays the pool's checkout, pre-ping and reset once, not twice a
    message. Each session still commits its own transaction.
    """
    with rt.engine.connect() as connection:
        yield replace(rt, sessions=sessionmaker(bind=connection, expire_on_commit=False),
                      connection=connection)


def one_statement(rt: Runtime, sql: str, params: tuple[Any, ...]) -> list[Any] | None:
    """``sql`` as a transaction of its own on the batch's PostgreSQL connection, in
    autocommit and prepared: one round trip, where a session costs two more (BEGIN and
    COMMIT) and the ORM's Python besides. Returns its rows; None when there is no such
    connection free (no batch, SQLite, a transaction open), for the caller to use a
    session."""
    with _autocommit(rt) as driver:
        if driver is None:
            return None
        cursor = driver.execute(sql, params, prepare=True)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def read_session(rt: Runtime) -> Iterator[Session]:
    """A session for reads that need no snapshot of their own: on a batch's PostgreSQL
    connection it runs in autocommit, so its SELECTs cost no BEGIN and no ROLLBACK round
    trip; elsewhere a plain session. Never write in it: nothing would roll back."""
    with _autocommit(rt), rt.sessions() as session:
        yield session


@contextmanager
def _autocommit(rt: Runtime) -> Iterator[Any | None]:
    """The batch's PostgreSQL driver connection switched to autocommit for the block;
    None when there is none free. A connection found closed is marked invalid before the
    error goes on, so the batch tries the message again on a new one."""
    connection = rt.connection
    if connection is None or connection.dialect.name != "postgresql" \
            or connection.invalidated or connection.in_transaction():
        yield None
        return
    driver = connection.connection.driver_connection
    try:
        driver.autocommit = True  # no transaction is open (checked above)
        yield driver
    except Exception as error:
        if getattr(driver, "closed", False):
            connection.invalidate(error)
        raise
    finally:
        with contextlib.suppress(Exception):  # a dead connection keeps its setting
            driver.autocommit = False


def runtime() -> Runtime:
    """The installed runtime; an actor running without one is a wiring bug."""
    if _current is None:
        raise RuntimeError("workers.runtime.configure() was not called in this process")
    return _current
