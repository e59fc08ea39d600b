"""Shared database fixtures: every store test runs on a migrated SQLite file and PostgreSQL.

PostgreSQL tests create a fresh database per test on the server of `COLIFT_TEST_POSTGRES_URL`
(default: postgres@127.0.0.1:5432/test, used only as the admin connection) and drop it after;
migrated ones are copies of one template migrated per session.
Without a server they are skipped, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from colift.store import make_engine, migrate, normalize_url

# Property tests check what holds, not how fast: a loaded CI machine must not fail them on
# Hypothesis's per-example deadline.
settings.register_profile("colift", deadline=None)
settings.load_profile("colift")

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def admin_url() -> str:
    return os.environ.get("COLIFT_TEST_POSTGRES_URL", "").strip() or DEFAULT_ADMIN_URL


@cache
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None; probed once per session."""
    engine = make_engine(admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    shown = normalize_url(admin_url()).render_as_string(hide_password=True)
    message = (
        f"PostgreSQL not reachable at {shown} ({problem}): "
        "set COLIFT_TEST_POSTGRES_URL or start one"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def sqlite_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


class PostgresServer:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self) -> None:
        self.admin = make_engine(admin_url(), isolation_level="AUTOCOMMIT")
        self._template: str | None = None

    def url(self, name: str) -> str:
        return normalize_url(admin_url()).set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        name = f"colift_t_{secrets.token_hex(6)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def migrated_template(self) -> str:
        """A migrated database to copy: a copy costs a tenth of creating and migrating."""
        if self._template is None:
            name = self.create()
            engine = make_engine(self.url(name))
            try:
                migrate(engine)
            finally:
                engine.dispose()  # a template must have no open connections
            self._template = name
        return self._template

    def close(self) -> None:
        if self._template is not None:
            self.drop(self._template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    require_postgres()
    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = postgres_server.create()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop(name)


@pytest.fixture
def migrated_postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database copied from a migrated template."""
    name = postgres_server.create(template=postgres_server.migrated_template())
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database: a SQLite file, then a fresh PostgreSQL database."""
    if backend == "sqlite":
        eng = sqlite_engine(tmp_path / "colift.db")
    else:
        url: str = request.getfixturevalue("migrated_postgres_database")
        eng = make_engine(url)
        migrate(eng)  # already at head: checks the copy and costs one query
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def unmigrated_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database that was never migrated, on each backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id with small costs in tests: the same algorithm, a millisecond per hash."""
    from argon2 import PasswordHasher

    from colift.services import accounts

    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        accounts._hasher = production


# --- the ledger key: one per test session, never a file in the user's home --------------------
os.environ.setdefault("COLIFT_LEDGER_KEY", "test-ledger-key-" + secrets.token_hex(16))
os.environ.setdefault("COLIFT_DATA_KEY", secrets.token_hex(64))  # phone and ID numbers
# Suites that import, print and simulate many times a minute as one account: the limits per
# account (services/quota.py) are tested with their own settings in test_quota.py.
for _work in ("PDF", "WHATIF", "IMPORT"):
    os.environ.setdefault(f"COLIFT_LIMIT_{_work}", "100000")


# --- two processes (`make test` runs `pytest -n 2 --dist loadgroup`) ---------------------------
# The browser suites share one live server and one Chromium per process: they stay together on
# one worker, so the other worker runs the rest beside them instead of a second browser
# competing for the same two cores (timeouts under load).
_BROWSER_FILES = ("tests/e2e/", "tests/integration/test_pdf_pool.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.replace("\\", "/")
        if path.startswith(_BROWSER_FILES):
            item.add_marker(pytest.mark.xdist_group("browser"))
