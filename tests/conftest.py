"""Shared fixtures: real SQLite and real PostgreSQL, migrated with our own migrations.

``db`` is parametrized over both databases, so every test that takes it runs
twice. PostgreSQL tests get a private schema per test session and empty tables
per test. When a server is unreachable the test skips, except under CI
(``CI`` set), where a missing service fails the run instead of hiding tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import pytest
import redis
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models import Base
from models.db import make_engine, session_factory
from models.migrate import upgrade
from tests.dovecot import Dovecot
from tests.relay import Relay
from workers.broker import make_broker

POSTGRES_URL = os.environ.get(
    "DRUMBEAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("DRUMBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parent.parent
# Every command that signs or reads reply addresses refuses to start without a key (there
# is no default one); the tests' commands, run in this process or as children, get this.
TEST_SECRET_KEY = "a-long-random-key-for-the-tests-only"
os.environ.setdefault("DRUMBEAT_SECRET_KEY", TEST_SECRET_KEY)

# Under CI, property tests are derandomized: the same examples every run, so a red
# build is reproducible and a green one is not luck.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
EXAMPLES = REPO / "examples" / "northwind"


def service_missing(what: str, error: Exception) -> None:
    """Skip locally; fail under CI, where every service must be there."""
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


SPARE_REDIS_DBS = (2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14)  # 8 and 13: the benches' defaults
CLAIMS_DB = 0


@contextmanager
def spare_redis_db() -> Iterator[str]:
    """The URL of a Redis database no other test run on this machine is using, empty.

    Tests that start their own workers need a database of their own: two runs sharing
    one would take each other's messages. The claim is a key in database 0 that
    expires on its own if a run dies; the database is flushed before and after.
    """
    base = REDIS_URL.rsplit("/", 1)[0]
    claims = redis.Redis.from_url(f"{base}/{CLAIMS_DB}")
    try:
        claims.ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing("Redis", exc)
    token = uuid.uuid4().hex
    for number in SPARE_REDIS_DBS:
        key = f"drumbeat-tests:claim:{number}"
        if claims.set(key, token, nx=True, ex=3600):
            break
    else:
        claims.close()
        pytest.fail("every spare Redis database is claimed by another test run")
    url = f"{base}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
        if claims.get(key) == token.encode():
            claims.delete(key)
        claims.close()


@dataclass
class Database:
    """One migrated database for a test: its engine, a session factory and its kind."""

    kind: str
    engine: Engine
    sessions: sessionmaker[Session]
    url: str

    def session(self) -> Session:
        return self.sessions()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test copies it (much faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    engine.dispose()
    return path


@contextmanager
def empty_postgres_schema(prefix: str) -> Iterator[str]:
    """A schema of its own in the ``test`` database, dropped afterwards (PostgreSQL down:
    skip locally, fail under CI)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing("PostgreSQL", exc)
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, Engine]]:
    """A private, migrated schema in the ``test`` database, dropped at the end."""
    with empty_postgres_schema("drumbeat_test") as schema:
        engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        upgrade(engine)
        yield schema, engine
        engine.dispose()


def postgres_url(schema: str) -> str:
    """The test URL with the schema on the search path (for code that makes its own engine)."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite and PostgreSQL in turn."""
    if request.param == "sqlite":
        path = tmp_path / "drumbeat.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield Database("sqlite", engine, session_factory(engine), url)
        engine.dispose()
        return
    schema, engine = request.getfixturevalue("postgres_schema")
    yield Database("postgresql", engine, session_factory(engine), postgres_url(schema))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def relay() -> Iterator[Relay]:
    running = Relay().start()
    yield running
    running.stop()


@pytest.fixture
def redis_broker() -> Iterator[dramatiq.Broker]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing("Redis", exc)
    namespace = f"drumbeat-test-{uuid.uuid4().hex[:8]}"
    broker = make_broker(REDIS_URL, namespace=namespace)
    yield broker
    broker.close()
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    # Not under pytest's tmp_path: its folders are private to root (0700), and Dovecot's
    # mail processes run as the dovecot user, who must be able to reach the mail folder.
    root = Path(tempfile.mkdtemp(prefix="drumbeat-dovecot-"))
    root.chmod(0o755)
    try:
        server = Dovecot(root).start()
    except (FileNotFoundError, RuntimeError, KeyError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        service_missing("Dovecot", exc)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
