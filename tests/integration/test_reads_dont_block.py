"""Reads never wait for a writer: a page is read while another connection holds the write lock.

On SQLite the writer holds `BEGIN IMMEDIATE` with a vote written and not committed; on
PostgreSQL it holds the round's row and its ledger head `FOR UPDATE`, as a vote does. The
reading engine gives up after 300 ms (SQLite busy timeout, PostgreSQL lock timeout), so a read
that queued behind the writer fails here instead of waiting: the test checks no read fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, Engine, text

import colift.store.engine as engine_module
from colift.model import ScopeKind, Vote
from colift.services.consent import cast_vote, unit_consent
from colift.services.summary import city_overview, street_page
from colift.services.views import street_overview, unit_page
from colift.store import UnitOfWork, make_engine
from factories import make_unit


@pytest.fixture
def impatient(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A second engine on the same database that waits at most 300 ms for any lock."""
    if engine.dialect.name == "sqlite":
        monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
        other = make_engine(engine.url)
    else:
        other = make_engine(engine.url, connect_args={"options": "-c lock_timeout=300"})
    yield other
    other.dispose()


def _hold_write_lock(conn: Connection, round_id: int, household_id: int) -> None:
    if conn.dialect.name == "sqlite":
        conn.execution_options(**{engine_module.SQLITE_IMMEDIATE: True})
        conn.exec_driver_sql("SELECT 1")  # the transaction begins: BEGIN IMMEDIATE
    else:
        conn.execute(text("SELECT id FROM vote_rounds WHERE id = :r FOR UPDATE"), {"r": round_id})
        conn.execute(text("SELECT chain FROM ledger_heads FOR UPDATE"))
    conn.execute(
        text("UPDATE ballots SET vote = 'disagree' WHERE round_id = :r AND household_id = :h"),
        {"r": round_id, "h": household_id},
    )


def test_pages_are_read_while_a_vote_holds_the_write_lock(
    engine: Engine, impatient: Engine
) -> None:
    with UnitOfWork(engine) as uow:
        made = make_unit(uow)
        unit_id = made.unit.id
        assert unit_id is not None
        opened = uow.votes.open_round(ScopeKind.UNIT, unit_id, actor="居委会")
        uow.commit()
    cast_vote(engine, unit_id, "301", Vote.AGREE, actor="居委会")
    household = unit_consent(engine, unit_id).input.rows[0].household_id
    writer = engine.connect()
    try:
        _hold_write_lock(writer, opened.id, household)
        # Every read below would fail with "database is locked" / a lock timeout if it queued.
        seen = unit_consent(impatient, unit_id)
        assert seen.result.counts.agree_heads == 1  # the committed vote, not the pending one
        page = unit_page(impatient, unit_id, today=date(2026, 12, 1))
        assert page.info.id == unit_id
        street = street_page(impatient, "玉林街道")
        assert [line.unit_id for line in street.lines] == [unit_id]
        assert street.lines[0].agree_heads == 1
        assert city_overview(impatient).units == 1
        assert [u.unit_id for u in street_overview(impatient, "玉林街道").units] == [unit_id]
    finally:
        writer.rollback()
        writer.close()


def test_a_read_on_postgresql_is_read_only_and_keeps_the_prepared_statements(
    engine: Engine,
) -> None:
    """A page's transaction begins READ ONLY and ends with COMMIT: psycopg forgets a
    connection's prepared statements at every ROLLBACK, which made the database parse and plan
    every statement of every vote again. A write inside a read is refused, not committed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared statements and READ ONLY transactions are PostgreSQL's")
    from sqlalchemy.exc import DBAPIError

    from colift.store import UnitOfWork

    query = text("SELECT count(*) FROM units WHERE id > :n")
    engine.pool.dispose()
    for _ in range(8):  # psycopg prepares a statement at its fifth use on a connection
        with UnitOfWork(engine, read_only=True) as uow:
            uow.connection.execute(query, {"n": 0}).scalar_one()
    with UnitOfWork(engine, read_only=True) as uow:
        prepared = uow.connection.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :s"),
            {"s": "SELECT count(*) FROM units WHERE id >%"},
        ).scalar_one()
    assert prepared == 1
    with pytest.raises(DBAPIError, match="read-only"), UnitOfWork(engine, read_only=True) as uow:
        uow.connection.execute(text("UPDATE units SET number = number"))
