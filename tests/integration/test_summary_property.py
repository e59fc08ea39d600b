"""The overviews' summary lines equal a full recount after any sequence of writes (property test).

Random votes, objections and their statuses, stage moves, rounds closed and opened run through
the real services on two units of one compound. Afterwards every unit's consent columns
(round, passed, heads, shortfall, open objections) and stage equal a recount from scratch at
once; the advice columns (cooperation level, heterogeneity, next action), which a vote leaves
to the refresher, equal it after `refresh_stale`. The ledger still verifies: the summary is
derived data, not ledger state. Then time passes with nothing written: after the refresher's
step as of a later day, every line equals a recount as of that day (a unit that crossed its
stall limit has the stalled-stage advice).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from colift.errors import ColiftError
from colift.model import ObjectionStatus, Vote
from colift.model.coproduction import Stage
from colift.services.consent import (
    cast_vote,
    close_vote_round,
    current_unit_round,
    open_vote_round,
    raise_objection,
    set_objection_status,
    unit_consent,
)
from colift.services.ledger import verify_ledger
from colift.services.summary import CONSENT_KEYS, recount_all, refresh_all, unit_lines
from colift.services.workflow import advance_stage
from colift.store import UnitOfWork
from colift.store import summary as summary_store
from factories import make_unit

ROOMS = ["101", "201", "202", "301", "302", "401", "501", "502", "601", "602"]
VOTES = [Vote.AGREE, Vote.DISAGREE, Vote.ABSTAIN]

step = st.one_of(
    st.tuples(st.just("vote"), st.integers(0, 1), st.sampled_from(ROOMS), st.sampled_from(VOTES)),
    st.tuples(st.just("object"), st.integers(0, 1), st.sampled_from(ROOMS)),
    st.tuples(st.just("status"), st.integers(0, 5), st.sampled_from(list(ObjectionStatus))),
    st.tuples(
        st.just("stage"),
        st.integers(0, 1),
        st.sampled_from([Stage.CONSULTATION, Stage.VOTE, Stage.SURVEY, Stage.SUSPENDED]),
    ),
    st.tuples(st.just("reround"), st.integers(0, 1)),
)


def _apply(engine: Engine, units: list[int], objections: list[int], op: tuple[Any, ...]) -> None:
    kind = op[0]
    try:
        if kind == "vote":
            cast_vote(engine, units[op[1]], op[2], op[3], actor="居委会")
        elif kind == "object":
            objections.append(
                raise_objection(engine, units[op[1]], op[2], ["light"], actor="居委会")
            )
        elif kind == "status" and objections:
            set_objection_status(engine, objections[op[1] % len(objections)], op[2], actor="居委会")
        elif kind == "stage":
            advance_stage(engine, units[op[1]], op[2], actor="居委会", reason="测试")
        elif kind == "reround":
            unit_id = units[op[1]]
            close_vote_round(engine, current_unit_round(engine, unit_id).id, actor="居委会")
            open_vote_round(engine, unit_id, actor="居委会", title="第二轮")
    except ColiftError:
        pass  # a refused step writes nothing; the summary must still match


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(step, min_size=1, max_size=12), later=st.integers(0, 400))
def test_summary_equals_a_full_recount_after_random_writes(
    engine: Engine, ops: list[tuple[Any, ...]], later: int
) -> None:
    with UnitOfWork(engine) as uow:
        existing = [
            int(i) for i in uow.connection.exec_driver_sql("SELECT id FROM units").scalars()
        ]
        if not existing:
            first = make_unit(uow)
            second = make_unit(uow, compound=first.compound, building_number="5")
            existing = [first.unit.id, second.unit.id]  # type: ignore[list-item]
            uow.commit()
    units = sorted(existing)
    if unit_consent(engine, units[0]).input.round is None:
        for unit_id in units:
            open_vote_round(engine, unit_id, actor="居委会", title="第一轮")
    objections: list[int] = []
    for op in ops:
        _apply(engine, units, objections, op)

    recount = recount_all(engine)
    stored = unit_lines(engine)
    assert stored.keys() == recount.keys()
    for unit_id, fresh in recount.items():
        line = stored[unit_id].figures()
        assert {k: line[k] for k in CONSENT_KEYS} == {k: fresh[k] for k in CONSENT_KEYS}

    refresh_all(engine)
    stored = unit_lines(engine)
    assert {u: line.figures() for u, line in stored.items()} == recount
    assert all(line.stale == 0 for line in stored.values())
    assert verify_ledger(engine).ok

    # Time passes, nothing is written: the refresher's step as of that day makes every line
    # equal a recount as of that day.
    day = date.today() + timedelta(days=later)
    refresh_all(engine, today=day)
    stored = unit_lines(engine)
    assert {u: line.figures() for u, line in stored.items()} == recount_all(engine, day)
    # Time cannot run back: the next example starts from lines recounted as of today.
    with UnitOfWork(engine) as uow:
        summary_store.mark_stale(uow.connection, stored)
        uow.commit()
    refresh_all(engine)
