"""Law in force, end to end on both databases: a round pins its rule and the hash of the
rule's file, a recount after the file changed says so, and the work steps the law requires
are recorded and read by the gates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from colift.coproduction.workflow import GateClosed, WorkStep
from colift.errors import BadInput
from colift.model import Vote
from colift.model.coproduction import Stage
from colift.rules import consent as consent_rules
from colift.rules.costshare import parse_plan
from colift.services.consent import cast_vote, open_vote_round, unit_consent
from colift.services.costshare import set_cost_plan
from colift.services.workflow import advance_stage, check_stage, record_step, unit_steps
from colift.store import UnitOfWork, tables
from factories import UnitFixture, make_unit

WORKER = "玉林社区 陈书记"


@pytest.fixture
def unit_id(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        made: UnitFixture = make_unit(uow)
        uow.commit()
    assert made.unit.id is not None
    return made.unit.id


CITY_RULE = """
id = "testcity-2024"
key = "testcity"
name_zh = "测试市加装电梯规则"
name_en = "Test city rule"
in_force_from = 2024-01-01
confidence = "assumption"
[quorum]
area = "2/3"
heads = "2/3"
[approval]
of = "participating"
area = "{approval}"
heads = "{approval}"
[[sources]]
title = "a test"
confidence = "assumption"
"""


def test_a_round_pins_the_rule_in_force_and_a_changed_file_is_said_at_recount(
    engine: Engine, unit_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "testcity-2024.toml"
    path.write_text(CITY_RULE.replace("{approval}", "3/4"), encoding="utf-8")
    real = consent_rules._profile_files
    monkeypatch.setattr(consent_rules, "_profile_files", lambda: {**real(), path.stem: path})
    consent_rules._packaged.cache_clear()
    try:
        opened = open_vote_round(
            engine, unit_id, actor=WORKER, profile="testcity", opened_on=date(2025, 3, 1)
        )
        # The name resolved to the dated version in force, and its file's hash is kept.
        assert opened.profile == "testcity-2024"
        pinned = consent_rules.load_profile("testcity-2024").sha256
        assert opened.profile_sha256 == pinned
        with engine.connect() as conn:
            stored = conn.execute(
                select(tables.vote_rounds.c.profile_sha256).where(
                    tables.vote_rounds.c.id == opened.id
                )
            ).scalar_one()
        assert stored == pinned
        for room in ("201", "202", "301", "302", "401", "402", "501", "601"):
            cast_vote(engine, unit_id, room, Vote.AGREE, actor=WORKER)
        before = unit_consent(engine, unit_id).result
        assert before.profile.id == "testcity-2024" and before.warnings == ()
        assert before.on == date(2025, 3, 1)  # counted for the round's day

        # The city changes its file after the round opened: the recount says so.
        path.write_text(CITY_RULE.replace("{approval}", "4/5"), encoding="utf-8")
        consent_rules._packaged.cache_clear()
        after = unit_consent(engine, unit_id).result
        (changed,) = after.warnings
        assert f"has changed since round {opened.id} opened on 2025-03-01" in changed.render("en")
        assert "已被修改" in changed.render("zh-CN")
        assert pinned[:12] in changed.render("en")
        assert any("已被修改" in w["zh"] for w in after.to_json()["warnings"])
    finally:
        consent_rules._packaged.cache_clear()


def test_work_steps_are_recorded_and_open_the_gates(engine: Engine, unit_id: int) -> None:
    record_step(
        engine,
        unit_id,
        WorkStep.PIPELINE_SURVEY,
        actor="燃气公司",
        on=date(2025, 2, 1),
        reference="踏勘记录12号",
    )
    (step,) = unit_steps(engine, unit_id)
    assert (step.step, step.done_on, step.reference) == (
        "pipeline_survey",
        date(2025, 2, 1),
        "踏勘记录12号",
    )
    with pytest.raises(BadInput, match="is not a work step"):
        record_step(engine, unit_id, "blessing", actor=WORKER)
    # Recording again corrects it, through the ledger.
    record_step(engine, unit_id, "pipeline_survey", actor="燃气公司", on=date(2025, 2, 3))
    assert [s.done_on for s in unit_steps(engine, unit_id)] == [date(2025, 2, 3)]
    with engine.connect() as conn:
        actions = conn.execute(
            select(tables.ledger.c.action).where(tables.ledger.c.action == "step.record")
        ).all()
    assert len(actions) == 2


def test_a_city_that_votes_on_a_concrete_plan_needs_design_and_survey_first(
    engine: Engine, unit_id: int
) -> None:
    with engine.begin() as conn:
        conn.execute(
            tables.units.update()
            .where(tables.units.c.id == unit_id)
            .values(consent_profile="beijing")
        )
    day = date(2025, 3, 1)
    advance_stage(engine, unit_id, Stage.CONSULTATION, actor=WORKER, on=day)
    set_cost_plan(
        engine,
        unit_id,
        parse_plan({"total_fen": 40_000_000, "scheme": {"kind": "equal"}}),
        actor=WORKER,
        on=day,
    )
    report = check_stage(engine, unit_id, on=day)
    assert [f.zh for f in report.failures] == ["尚未记录管线踏勘", "尚未记录初步设计方案"]
    with pytest.raises(GateClosed):
        advance_stage(engine, unit_id, Stage.VOTE, actor=WORKER, on=day)
    record_step(engine, unit_id, WorkStep.PIPELINE_SURVEY, actor="燃气公司", on=day)
    record_step(engine, unit_id, WorkStep.PRELIMINARY_DESIGN, actor="设计院", on=day)
    advance_stage(engine, unit_id, Stage.VOTE, actor=WORKER, on=day)


def test_shanghai_counts_the_compound_first_then_the_building(engine: Engine) -> None:
    """一征 over the whole compound under shanghai-yizheng, 二征 over one building under
    shanghai: two rounds of two scopes, each counted under its own rule."""
    from colift.model import ScopeKind
    from colift.services.consent import consent_from_input

    with UnitOfWork(engine) as uow:
        first = make_unit(uow, code="sh")
        second = make_unit(uow, compound=first.compound, building_number="4", unit_number="1")
        uow.commit()
    assert first.compound.id is not None and first.building.id is not None
    day = date(2026, 3, 2)
    yizheng = consent_rules.load_profile("shanghai-yizheng", day)
    erzheng = consent_rules.load_profile("shanghai", day)
    with UnitOfWork(engine) as uow:
        compound_round = uow.votes.open_round(
            ScopeKind.COMPOUND,
            first.compound.id,
            actor=WORKER,
            profile=yizheng.id,
            opened_on=day,
            profile_sha256=yizheng.sha256,
        )
        everyone = [h.id for h in first.households + second.households if h.id is not None]
        uow.votes.set_ballots(compound_round.id, dict.fromkeys(everyone, Vote.AGREE), actor=WORKER)
        counted = consent_from_input(uow.votes.unit_consent_rows(round_id=compound_round.id))
        assert counted.profile.id == "shanghai-yizheng-2021"
        assert counted.scope.value == "compound" and counted.passed
        # Per unit 10 owners (602 is 601's), and the developer's flats once across the compound.
        assert counted.counts.total_heads == 2 * 10 + 1
        building_round = uow.votes.open_round(
            ScopeKind.BUILDING,
            first.building.id,
            actor=WORKER,
            profile=erzheng.id,
            opened_on=day,
            profile_sha256=erzheng.sha256,
        )
        own = [h.id for h in first.households if h.id is not None]
        uow.votes.set_ballots(building_round.id, dict.fromkeys(own[:6], Vote.AGREE), actor=WORKER)
        building = consent_from_input(uow.votes.unit_consent_rows(round_id=building_round.id))
        assert building.profile.id == "shanghai-2021" and building.scope.value == "building"
        assert building.counts.total_heads == 11
        assert not building.passed  # 6 of 11 owners taking part is short of the 2/3 quorum
