"""SQLite writers queue on a gate (a thread lock, then `flock` on `<database>-writers`) instead
of SQLite's sleep-and-retry: many concurrent writers all get through with a busy timeout far
shorter than their total wait, and a unit of work opened inside another in the same thread
does not wait for itself."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

import colift.store.engine as engine_module
from colift.store import UnitOfWork, make_engine, migrate
from colift.store.engine import write_gate


def test_many_writers_queue_on_the_gate_not_on_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each writer holds the write lock 20 ms; 16 writers wait up to 300 ms in all, far beyond
    # a busy timeout of 50 ms: without the gate most would fail with "database is locked".
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    database = tmp_path / "gate.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with UnitOfWork(engine) as uow:
                n = uow.connection.execute(text("SELECT n FROM counter")).scalar_one()
                threading.Event().wait(0.02)
                uow.connection.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                uow.commit()
        except BaseException as exc:  # collected: the assertion below names them
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 16  # none lost
    assert (tmp_path / "gate.db-writers").exists()
    engine.dispose()


def test_a_unit_of_work_inside_another_does_not_wait_for_itself(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested.db'}")
    migrate(engine)
    done = threading.Event()

    def nested() -> None:
        # the outer one takes the gate and runs no statement; the inner one writes
        with UnitOfWork(engine), UnitOfWork(engine) as inner:
            inner.connection.execute(text("SELECT 1"))
            inner.commit()
        done.set()

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert done.is_set()
    engine.dispose()


def test_an_in_memory_database_has_no_gate() -> None:
    memory = make_engine("sqlite://")
    assert write_gate(memory) is None
    memory.dispose()
