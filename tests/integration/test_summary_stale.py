"""A summary line stays exact as time passes with nothing written: a unit that crosses its
stage's stall limit gets the stalled-stage next step from the refresher (and on a page read
before the refresher ran), found by one indexed query on `due_on`."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from colift.coproduction.advisor import STALL_FOLLOWUP
from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.reasons import load_reason_table
from colift.coproduction.stalls import stall_limit_days
from colift.model.coproduction import Stage
from colift.services.summary import (
    overview_page,
    recount_all,
    refresh_stale,
    unit_lines,
)
from colift.store import UnitOfWork
from colift.store import summary as store
from colift.store.summary import Filter
from factories import make_unit


def _stalled_steps(stage: Stage) -> set[str]:
    catalogue, table = load_catalogue(), load_reason_table()
    row = table.stalled[stage]
    return {catalogue.get(t).name_zh for t in (*row.tools, STALL_FOLLOWUP)}


def test_a_unit_crossing_its_stall_limit_gets_the_stalled_step_without_a_write(
    engine: Engine,
) -> None:
    limit = stall_limit_days(Stage.SURVEY)
    assert limit is not None
    since = date.today() - timedelta(days=10)
    with UnitOfWork(engine) as uow:
        unit_id = make_unit(uow).unit.id
        assert unit_id is not None
        uow.projects.get_or_create(unit_id, actor="居委会", on=since)
        uow.commit()  # the commit hook computes the line as of the real today
    line = unit_lines(engine)[unit_id]
    crossing = since + timedelta(days=limit + 1)  # first day with days in stage > limit
    assert line.stage == "survey" and line.stage_since == since
    assert line.due_on == crossing and line.stale == 0
    before = line.next_action  # the pre-stall step (survey: 政策宣讲)

    # The day before the crossing nothing is due: the refresher writes nothing.
    with UnitOfWork(engine, read_only=True) as uow:
        assert store.due_units(uow.connection, crossing - timedelta(days=1), 50) == []
        assert store.due_units(uow.connection, crossing, 50) == [(unit_id, line.version)]
    assert refresh_stale(engine, today=crossing - timedelta(days=1)) == 0

    # A page read on the crossing day, before the refresher ran, shows the stalled step already.
    page = overview_page(engine, Filter(), today=crossing)
    shown = {x.unit_id: x for x in page.lines}[unit_id]
    assert shown.next_action in _stalled_steps(Stage.SURVEY)
    assert shown.next_action != before  # survey, stalled: 意愿征询
    assert unit_lines(engine)[unit_id].version == line.version  # a read writes nothing

    # The refresher's step on the crossing day rewrites the line; nothing is due after it.
    assert refresh_stale(engine, today=crossing) == 1
    after = unit_lines(engine)[unit_id]
    assert after.next_action in _stalled_steps(Stage.SURVEY)
    assert after.next_action == shown.next_action != before
    assert after.due_on is None and after.stale == 0
    assert after.figures() == recount_all(engine, crossing)[unit_id]
    assert refresh_stale(engine, today=crossing + timedelta(days=400)) == 0
