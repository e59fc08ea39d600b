"""Engines and migrations: a SQLite file by default, PostgreSQL (psycopg 3) by URL.

`database_url()` reads `COLIFT_DATABASE_URL`; `make_engine()` builds an engine with the
settings colift relies on; `migrate()` brings a database to the newest schema with Alembic,
configured in code so no `alembic.ini` is needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text

ENV_VAR = "COLIFT_DATABASE_URL"
DEFAULT_URL = "sqlite:///colift.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Execution option a connection sets to open its SQLite transactions with BEGIN IMMEDIATE.
SQLITE_IMMEDIATE = "colift_sqlite_immediate"
# Writers wait this long for SQLite's single write lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Key of the PostgreSQL advisory lock that keeps two `migrate` runs from racing.
_MIGRATE_LOCK_KEY = 0x636F6C6966746D67


def database_url() -> str:
    """The URL from `COLIFT_DATABASE_URL`, else the SQLite file `colift.db` here."""
    return os.environ.get(ENV_VAR, "").strip() or DEFAULT_URL


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The URL of the SQLite file at `path` (relative paths stay relative to the cwd)."""
    return f"sqlite:///{Path(path)}"


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; plain `postgresql://` (or `postgres://`) URLs get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`); extra kwargs go to `create_engine`.

    SQLite gets foreign keys on, WAL journaling, a busy timeout, and transactions that
    SQLAlchemy begins itself so reads and DDL are transactional too.
    """
    parsed = normalize_url(url if url is not None else database_url())
    if parsed.get_backend_name() == "sqlite":
        create_private_file(parsed.database)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def create_private_file(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (0600): it holds names, votes and
    (encrypted) phone numbers. SQLite gives its -wal and -shm files the database file's mode.
    An existing file, `:memory:` and URI names are left as they are."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with contextlib.suppress(FileExistsError):  # another process made it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Turn off the driver's own lazy BEGIN: SQLAlchemy emits BEGIN in `_on_begin` below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write (the ledger) cannot race.
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class WriteGate:
    """A queue in front of one SQLite file's write lock, for the writers of every process.

    SQLite makes a writer that finds the file locked sleep and retry (1, 2, 5, … 100 ms) until
    its busy timeout: under many concurrent writers the lock sits idle between retries and a
    vote's wait grows to seconds. Here a writer waits instead on a thread lock (the writers of
    this process), then on an exclusive `flock` of the file `<database>-writers` beside it (the
    writers of every process); both hand over at once. The gate is re-entrant per thread, so a
    unit of work opened inside another behaves as it did without the gate."""

    def __init__(self, database: str) -> None:
        self.path = Path(database + "-writers")
        self._thread_lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._pid = os.getpid()
        self._owner: int | None = None
        self._depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        with self._thread_lock:
            handle = self._lock_file()
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._owner = me
            try:
                yield
            finally:
                self._owner = None
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _lock_file(self) -> IO[bytes]:
        if self._pid != os.getpid():  # a forked child: a lock of its own, not the parent's
            self._file, self._pid = None, os.getpid()
        if self._file is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "r+b")
        return self._file


_GATES: dict[str, WriteGate] = {}
_GATES_LOCK = threading.Lock()


def write_gate(engine: Engine) -> WriteGate | None:
    """The write gate of `engine`'s SQLite file; None for PostgreSQL and in-memory SQLite."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    with _GATES_LOCK:
        gate = _GATES.get(database)
        if gate is None:
            gate = _GATES[database] = WriteGate(database)
        return gate


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this version of colift."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in " + str(MIGRATIONS_DIR))
    return head


def current_revision(engine_or_url: Engine | str | URL) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def migrate(engine_or_url: Engine | str | URL, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default: the newest); running it again is a no-op."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until commit: a second `migrate` waits instead of creating tables twice.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()


def _engine(engine_or_url: Engine | str | URL) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True
