"""The street's stalled list on the demo: every stalled unit has a next step that belongs to the
stage it is stuck in (issue 13)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from colift.coproduction.advisor import STALL_FOLLOWUP
from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.reasons import load_reason_table
from colift.services.advice import unit_advice
from colift.services.demo import seed_demo
from colift.services.views import street_overview


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_stalled_units_all_have_a_stage_relevant_next_step(engine: Engine) -> None:
    today = date.today()
    seed_demo(engine, today=today)
    catalogue, table = load_catalogue(), load_reason_table()
    overview = street_overview(engine, today=today)
    stalled = [u for c in overview.compounds for u in c.stalled]
    assert stalled, "the demo has stalled units"
    for line in stalled:
        row = table.stalled[line.stage]
        names = {catalogue.get(t).name_zh for t in (*row.tools, STALL_FOLLOWUP)}
        assert line.next_action in names, (line.label, line.stage, line.next_action)
        advice = unit_advice(engine, line.unit_id, today=today)
        first = advice.recommendations[0]
        assert f"已停留{line.days_in_stage}天" in first.why_zh, (line.label, first.why_zh)
