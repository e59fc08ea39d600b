"""What a vote costs in SQL, and what the ledger's share of it is (counted, not timed).

Before the ledger moved to one chain per compound, `cast_vote` issued 24 statements on SQLite
and 25 on PostgreSQL (a global advisory lock, a `SELECT … ORDER BY seq DESC LIMIT 1` for the
chain's end, one INSERT). Now the round and its chain's head are read and locked in one
statement, and the ledger adds one INSERT and one UPDATE of the head row: no scan, no global
lock.

The short vote path (store/vote_path.py) then brought the whole vote from 24 statements over
one connection down to 7: the round with its chain's head, the flats with their ballots, the
objections' statuses and occupied flats, the ballot upsert, the ledger entry, its head, and
the unit's summary line. The tally after the vote is counted from the rows read before it,
with the new vote put in; no objection text is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from colift.model import ScopeKind, Vote
from colift.services.consent import cast_vote, raise_objection
from colift.services.summary import unit_lines
from colift.store import UnitOfWork
from factories import make_unit

# Measured on this branch (docs/reliability.md); a test fails if a change adds statements.
MAX_STATEMENTS = {"sqlite": 8, "postgresql": 8}


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []
    connections: set[int] = set()

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))
        connections.add(id(getattr(conn, "connection", conn)))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
        assert len(connections) <= 1, "a vote uses one connection"
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_vote_costs_the_ledger_one_insert_and_one_head_update(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor="居委会")
        uow.commit()
    unit_id = unit.unit.id
    cast_vote(engine, unit_id, "301", Vote.DISAGREE, actor="居委会")
    for vote in (Vote.AGREE, Vote.DISAGREE):
        with statements(engine) as seen:
            cast_vote(engine, unit_id, "301", vote, actor="居委会")
        real = [s for s in seen if s.upper() not in ("BEGIN", "BEGIN IMMEDIATE")]
        assert len(real) <= MAX_STATEMENTS[engine.dialect.name], real
        on_ledger = [s for s in real if " ledger" in s or "ledger_heads" in s]
        kinds = [s.split()[0].upper() for s in on_ledger]
        # The round's lock row read (joined with its head), the entry, the head moved.
        assert kinds == ["SELECT", "INSERT", "UPDATE"], on_ledger
        assert "vote_rounds" in on_ledger[0] and "ledger_heads" in on_ledger[0]
        assert "max(" not in " ".join(on_ledger).lower()
        assert "pg_advisory" not in " ".join(real)


def test_a_vote_reads_no_objection_text_and_updates_the_summary_line(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor="居委会")
        uow.commit()
    unit_id = unit.unit.id
    raise_objection(engine, unit_id, "201", ["light"], actor="居委会", notes="挡光，长长的说明")
    with statements(engine) as seen:
        after = cast_vote(engine, unit_id, "301", Vote.AGREE, actor="居委会")
    real = [s for s in seen if s.upper() not in ("BEGIN", "BEGIN IMMEDIATE")]
    assert len(real) <= 8, real
    assert not any("notes" in s or "reasons" in s for s in real), real
    assert sum("unit_summaries" in s for s in real) == 1
    line = unit_lines(engine)[unit_id]
    assert line.agree_heads == after.result.counts.agree_heads == 1
    assert line.open_objections == 1
    assert line.stale == 1  # the advice columns wait for the refresher


def test_a_vote_through_the_api_costs_ten_statements_at_most(engine: Engine) -> None:
    """The caller's place (two reads), then the short vote path (was 29 over 3 connections)."""
    from fastapi.testclient import TestClient

    from colift.app import create_app
    from colift.services.access import Principal, Role

    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor="居委会")
        uow.commit()
    client = TestClient(create_app(engine, {"t": Principal("管理员", Role.ADMIN)}))
    body = {"unit_id": unit.unit.id, "room": "301", "vote": "disagree"}
    headers = {"Authorization": "Bearer t"}
    assert client.post("/api/v1/votes", json=body, headers=headers).status_code == 200
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = client.post("/api/v1/votes", json={**body, "vote": "agree"}, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200
    real = [s for s in seen if not s.upper().startswith("BEGIN")]
    assert len(real) <= 10, real  # 11 with a token looked up in the database
