"""Engines, sessions and the unit of work: the one place that opens connections.

SQLite gets the pragmas that make it a safe embedded ledger (foreign keys on,
WAL, a busy timeout) on every connection, and every transaction starts with
``BEGIN IMMEDIATE``: SQLite has no ``SELECT … FOR UPDATE``, and the driver's own
deferred transactions let two worker threads both read a message as
unprocessed and both apply it. Taking the write lock at BEGIN serializes the
writers (readers still read, WAL); PostgreSQL needs nothing special.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pre_ping: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file if it is missing.

    ``pre_ping`` tests each pooled connection before use (a round trip): worth it
    everywhere except on a hot path that handles a dead connection itself.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=pre_ping, **kwargs)
    event.listen(engine, "reset", _out_of_autocommit)
    return engine


def _out_of_autocommit(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    """A connection the intake's fast path (or a batch's send) switched to autocommit
    goes back to the pool in transactions again: else the next session that borrows it
    runs statement by statement, and a streamed query (a server-side cursor) fails."""
    if getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.autocommit = False


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (we pass them to renderers)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises."""
    with factory() as session, session.begin():
        yield session
