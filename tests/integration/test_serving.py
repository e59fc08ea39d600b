"""Serving: the background refresher brings a vote's advice up to date, one process at a time;
the worker factory takes its databases from the environment."""

from __future__ import annotations

import time
from pathlib import Path

import anyio.to_thread
import pytest
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from colift.model import ScopeKind, Vote
from colift.services.consent import cast_vote
from colift.services.summary import recount_all, unit_lines
from colift.serving import (
    POOL_ENV_VAR,
    READ_ENV_VAR,
    REFRESH_ENV_VAR,
    THREADS_ENV_VAR,
    SummaryRefresher,
    app_from_env,
)
from colift.store import UnitOfWork
from factories import make_unit


def test_the_refresher_catches_up_with_a_vote_and_runs_once_per_database(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        made = make_unit(uow)
        unit_id = made.unit.id
        assert unit_id is not None
        uow.votes.open_round(ScopeKind.UNIT, unit_id, actor="居委会")
        uow.commit()
    cast_vote(engine, unit_id, "301", Vote.AGREE, actor="居委会")
    assert unit_lines(engine)[unit_id].stale == 1
    first, second = SummaryRefresher(engine), SummaryRefresher(engine)
    first.duty = 1.0
    first.start()
    try:
        for _ in range(600):  # bounded: at most about a minute on a busy machine
            if unit_lines(engine)[unit_id].stale == 0:
                break
            time.sleep(0.1)
        assert second._try_lock() is False  # the first holds the database's refresher lock
    finally:
        first.close()
    line = unit_lines(engine)[unit_id]
    assert line.stale == 0
    assert line.figures() == recount_all(engine)[unit_id]
    assert second._try_lock() is True  # free again once the first has stopped
    assert second._lock_file is not None
    second._lock_file.close()


def test_the_worker_factory_reads_its_databases_from_the_environment(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("COLIFT_DATABASE_URL", url)
    monkeypatch.setenv(READ_ENV_VAR, url)
    monkeypatch.setenv(REFRESH_ENV_VAR, "0")
    app = app_from_env()
    assert app.state.read_engine is not app.state.engine
    assert str(app.state.read_engine.url) == str(app.state.engine.url)
    app.state.engine.dispose()
    app.state.read_engine.dispose()


def test_a_pooled_connection_idle_too_long_is_pinged_and_replaced_when_dead(
    tmp_path: Path,
) -> None:
    from sqlalchemy import text

    from colift.serving import ping_when_idle
    from colift.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", poolclass=QueuePool)
    ping_when_idle(engine, idle_seconds=0.0)
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert first is not None
    first.close()  # the server side went away while the connection sat in the pool
    with engine.connect() as conn:  # the ping finds it dead: a new one, no error
        assert conn.connection.dbapi_connection is not first
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_a_worker_has_a_pooled_connection_for_each_of_its_threads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads beyond the pool took overflow connections, opened and closed again within a
    few requests (a new PostgreSQL backend each time, its prepared statements lost)."""
    from fastapi.testclient import TestClient

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("COLIFT_DATABASE_URL", url)
    monkeypatch.setenv(REFRESH_ENV_VAR, "0")
    monkeypatch.setenv(THREADS_ENV_VAR, "12")
    monkeypatch.delenv(POOL_ENV_VAR, raising=False)
    app = app_from_env()
    try:
        with TestClient(app) as client:
            assert client.get("/api/v1/openapi.json").status_code == 200
            limiter = anyio.to_thread.current_default_thread_limiter
            assert client.portal is not None
            assert client.portal.call(lambda: limiter().total_tokens) == 12
        pool = app.state.engine.pool
        if engine.dialect.name == "postgresql":
            assert isinstance(pool, QueuePool)
            assert pool.size() >= 12 + 1  # every thread and the refresher
    finally:
        app.state.engine.dispose()
