"""The unit model: reproducibility, scenarios, strategies, phases, failures, money and speed."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from colift.errors import BadInput
from colift.model import ObjectionStatus, Role, Tenure
from colift.model.coproduction import Stage
from colift.sim import (
    FAILURES,
    Defaults,
    HouseholdSpec,
    RunResult,
    Scenario,
    UnitBatch,
    UnitModel,
    UnitSpec,
    batch_run,
    compare_strategies,
    load_scenario,
    run_unit,
    scenario_from_dict,
    strategy_for,
    synthetic_unit,
    wilson,
)
from colift.sim.tally import AGREE, tally

ARRAYS = (
    "success",
    "week_consent",
    "week_service",
    "failure",
    "cooperation",
    "resident_fen",
    "subsidy_fen",
    "compensation_fen",
)


def city(n: int = 300, seed: int = 1, **kw: object) -> UnitBatch:
    return UnitBatch.synthetic(n, Scenario(), np.random.default_rng(seed), **kw)  # type: ignore[arg-type]


def unit(label: str = "1-1", **kw: object) -> UnitSpec:
    """Six storeys, two flats a floor, everyone living there, 60 m² each."""
    households = tuple(
        HouseholdSpec(f"{f}0{k}", f, 600_000, f"o{f}{k}", **kw)  # type: ignore[arg-type]
        for f in range(1, 7)
        for k in (1, 2)
    )
    return UnitSpec(label, households)


def same(a: RunResult, b: RunResult) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ARRAYS)


# ---------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_results_and_other_seeds_differ() -> None:
    batch = city()
    sc = Scenario(strategy="guided", weeks=80)
    first = UnitModel(batch, sc, seed=42).run()
    again = UnitModel(batch, sc, seed=42).run()
    other = UnitModel(batch, sc, seed=43).run()
    assert same(first, again)
    assert not same(first, other)
    assert np.array_equal(
        UnitModel(batch, sc, seed=42).datacollector.frame()["mean_support"],
        UnitModel(batch, sc, seed=42).datacollector.frame()["mean_support"],
    )


def test_the_plans_week_row_is_looked_up_as_it_is_computed() -> None:
    # the week's plan row for a week in phase: looked up up to the weeks a scenario runs,
    # computed past them (a run longer than its scenario); both give the same row
    model = UnitModel(city(), Scenario(strategy="guided", weeks=20), seed=3)
    w = np.arange(model._wi_of.size + 50)
    s0, period = model._s0, model._period
    computed = np.minimum(w, s0 + (w - s0) % period)
    assert np.array_equal(model._wi_of, computed[: model._wi_of.size])
    assert model._wi_of.size > model.d.deadline_weeks
    # a model without the table computes every row, and runs the same
    sc = Scenario(strategy="guided", weeks=60)
    computing = UnitModel(city(), sc, seed=3)
    computing._wi_of = computing._wi_of[:0]
    assert same(UnitModel(city(), sc, seed=3).run(), computing.run())


def test_a_sweep_gives_the_same_rows_in_any_order() -> None:
    batch = city(120)
    sc = Scenario(weeks=60)
    grid = {"strategy": ["informal_only", "guided"], "defaults.p_object": [0.0, 0.5]}
    rows = batch_run(batch, sc, grid, seeds=[3, 4])
    assert len(rows) == 8
    reversed_rows = batch_run(
        batch, sc, {k: list(reversed(v)) for k, v in grid.items()}, seeds=[4, 3]
    )
    key = lambda r: (r["params"]["strategy"], r["params"]["defaults.p_object"], r["seed"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(reversed_rows, key=key)
    direct = UnitModel(batch, sc.replace(strategy="guided", **{"defaults.p_object": 0.5}), 3)
    match = next(r for r in rows if key(r) == ("guided", 0.5, 3))
    assert match["summary"] == direct.run().summary()


# ---------------------------------------------------------------- results and collectors


def test_run_result_shapes_summary_and_collector() -> None:
    batch = city(50)
    model = UnitModel(batch, Scenario(weeks=30), seed=1)
    seen: list[int] = []
    result = model.run(progress=lambda week, total: seen.append(week))
    assert seen == list(range(1, 31))
    assert result.cooperation.shape == (31, 50) and result.cooperation.dtype == np.int8
    assert set(result.failure.tolist()) <= set(FAILURES)
    frame = model.datacollector.frame()
    assert set(frame) >= {
        "mean_support",
        "share_consented",
        "share_in_service",
        "share_failed",
        "mean_cooperation",
    }
    assert all(len(v) == 31 for v in frame.values())
    summary = result.summary()
    lo, hi = summary["success_ci95"]
    assert 0 <= lo <= summary["success_rate"] <= hi <= 1
    assert len(summary["mean_cooperation"]) == 31
    assert summary["successes"] + summary["failed"] + summary["running"] == 50


def test_wilson_interval() -> None:
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0


def test_money_adds_up_for_units_in_service() -> None:
    sc = Scenario(subsidy_profile="shanghai", compensation_fen=1_000_000, weeks=160)
    result = UnitModel(city(200), sc, seed=2).run()
    ok = result.success
    assert ok.any()
    total = result.resident_fen - result.compensation_fen + result.subsidy_fen
    assert np.all(total[ok] == sc.total_cost_fen)
    assert np.all(result.resident_fen[~ok] == 0)


def test_owner_groups_vote_as_one_and_consent_is_the_tally() -> None:
    batch = city(300)
    model = UnitModel(batch, Scenario(strategy="guided"), seed=5)
    for _ in range(30):
        model.step()
        votes = model.votes
        lead_votes = np.take_along_axis(votes, batch.lead.astype(np.intp), axis=1)
        assert np.array_equal(np.where(batch.mask, votes, 0), np.where(batch.mask, lead_votes, 0))
    consented = model.week_consent == 30
    if consented.any():  # a unit that passed this week passes the tally on its votes
        assert tally(batch, model.votes)[consented].all()


# ---------------------------------------------------------------- scenarios


def test_scenario_toml_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "hangzhou pilot"\nconsent_profile = "shanghai"\nsubsidy_profile = "shanghai"\n'
        "compensation_fen = 1500000\nweeks = 52\n"
        "[defaults]\np_object = 0.2\nsupport_prior = [[0.1, 0.3], [0.4, 0.6], [0.7, 0.8], "
        "[0.8, 0.9]]\n"
        '[strategy]\nroles = ["action_leader", "coordinator"]\nguidance = ["direct"]\n'
        '[strategy.schedule]\n0 = ["policy_briefing"]\n4 = ["door_to_door", "mediation"]\n',
        encoding="utf-8",
    )
    sc = load_scenario(path)
    assert sc.defaults.p_object == 0.2 and sc.defaults.support_prior[0] == (0.1, 0.3)
    assert scenario_from_dict(sc.to_dict()) == sc
    spec = strategy_for(sc.strategy)
    assert spec.schedule[4] == ("door_to_door", "mediation")
    assert spec.roles == frozenset({Role.ACTION_LEADER, Role.COORDINATOR})
    path.write_text('weeks = 10\nstratgy = "guided"\n[defaults]\np_objekt = 1\n')
    with pytest.raises(BadInput, match="stratgy"):
        load_scenario(path)
    with pytest.raises(BadInput, match="p_objekt"):
        scenario_from_dict({"defaults": {"p_objekt": 1}})
    with pytest.raises(BadInput, match="unknown strategy"):
        Scenario(strategy="wishful")
    with pytest.raises(BadInput, match="consent rule"):
        Scenario(consent_profile="nowhere")


def test_replace_accepts_dotted_defaults_and_every_default_has_a_source() -> None:
    sc = Scenario().replace(
        weeks=10, **{"defaults.p_object": 0.9, "defaults.approval_weeks": [3, 5]}
    )
    assert sc.weeks == 10 and sc.defaults.p_object == 0.9
    assert sc.defaults.approval_weeks == (3, 5)
    with pytest.raises(BadInput, match="p_objekt"):
        Scenario().replace(**{"defaults.p_objekt": 1})
    sources = Defaults().sources()
    assert set(sources) == {f.name for f in dataclasses.fields(Defaults)}
    assert all(sources.values())
    with pytest.raises(BadInput):
        Defaults(p_media=1.5)


# ---------------------------------------------------------------- strategies and mechanisms


def test_a_schedule_runs_its_tools_on_its_weeks() -> None:
    sc = Scenario(strategy={"schedule": {3: ["policy_briefing"]}}, weeks=6)
    model = UnitModel(city(40), sc, seed=1)
    model.run(3)
    assert (model.cooperation == 0).all()  # nothing happened before week 3
    model.step()
    assert (model.cooperation >= 1).all()  # the briefing reached every unit's residents
    with pytest.raises(BadInput, match="unknown tool"):
        UnitModel(city(5), Scenario(strategy={"schedule": {0: ["magic"]}}), seed=1)


def test_an_open_objection_holds_the_notice_under_a_no_objection_rule() -> None:
    spec = dataclasses.replace(unit(), stage=Stage.NOTICE, technical_block=False)
    spec = dataclasses.replace(
        spec,
        households=(
            dataclasses.replace(spec.households[0], objection=ObjectionStatus.OPEN),
            *spec.households[1:],
        ),
    )
    stuck = Scenario(consent_profile="shanghai", strategy="informal_only", weeks=40).replace(
        **{
            "defaults.objection_resolve_weekly": (0, 0, 0, 0),
            "defaults.objection_deadline_weeks": 30,
        }
    )
    result = run_unit(spec, stuck, runs=20, seed=1)
    assert not result.success.any()
    assert (result.failure == "objection").all()
    settles = stuck.replace(**{"defaults.objection_resolve_weekly": (1, 1, 1, 1)})
    assert run_unit(spec, settles, runs=20, seed=1).success.mean() > 0.7


def test_a_technical_block_needs_a_coordinator() -> None:
    spec = dataclasses.replace(unit(), technical_block=True)
    sc = Scenario(weeks=160).replace(**{"defaults.p_initiator_exit": 0.0})
    alone = run_unit(spec, sc.replace(strategy="informal_only"), runs=40, seed=3)
    guided = run_unit(spec, sc.replace(strategy="guided"), runs=40, seed=3)
    assert (alone.failure == "technical").mean() > 0.9
    assert guided.success.mean() > 0.8


def test_a_funding_gap_fails_without_pooling_or_subsidy() -> None:
    poor = unit(ability_fen=1_000_000)  # ¥10,000 each, far below a ¥30,000 share
    sc = Scenario(weeks=160).replace(
        **{"defaults.p_initiator_exit": 0.0, "defaults.p_technical": 0.0}
    )
    result = run_unit(poor, sc.replace(strategy="informal_only"), runs=40, seed=1)
    assert not result.success.any()
    # Funding is the main cause; a heavy share also lowers support, so some fail earlier.
    causes, counts = np.unique(result.failure, return_counts=True)
    assert causes[np.argmax(counts)] == "funding" and counts.max() > 0.6 * counts.sum()


def test_absentees_stay_absent_until_a_tool_reaches_them() -> None:
    spec = unit(tenure=Tenure.ABSENTEE)
    sc = Scenario(strategy={"schedule": {0: ["policy_briefing"]}}, weeks=5)
    model = UnitModel([spec], sc, seed=1)
    model.run()
    assert not model.reached.any()  # a whole-unit message reaches only those living there
    sc = Scenario(strategy={"schedule": {0: ["absentee_tracing"], 1: ["absentee_tracing"]}})
    model = UnitModel([spec], sc, seed=1)
    model.run(3)
    assert model.reached.sum() >= 6


def test_run_unit_and_compare_strategies() -> None:
    spec = synthetic_unit(np.random.default_rng(4), label="4-2")
    sc = Scenario(weeks=80)
    result = run_unit(spec, sc, runs=64, seed=9)
    assert result.success.shape == (64,) and result.labels[0] == "4-2#0"
    table = compare_strategies(spec, sc, ["informal_only", "guided", "advisor"], runs=64, seed=9)
    assert set(table) == {"informal_only", "guided", "advisor"}
    assert all(t["units"] == 64 for t in table.values())


def test_a_unit_in_service_stays_there_and_votes_seed_support() -> None:
    spec = dataclasses.replace(unit(), stage=Stage.OPERATION)
    result = run_unit(spec, Scenario(weeks=5), runs=3, seed=1)
    assert result.success.all() and (result.week_service == 0).all()
    from colift.model import Vote

    voted = unit(vote=Vote.AGREE)
    model = UnitModel([voted], Scenario(strategy="informal_only"), seed=1)
    assert (model.votes[0] == AGREE).all()


# ---------------------------------------------------------------- speed


def test_speed_of_a_thousand_units_and_a_million_households() -> None:
    sc = Scenario(strategy="guided")
    batch = UnitBatch.synthetic(1000, sc, np.random.default_rng(1))
    start = time.perf_counter()
    UnitModel(batch, sc, seed=1).run(104)
    assert time.perf_counter() - start < 5.0  # typically about 0.3 s
    start = time.perf_counter()
    big = UnitBatch.synthetic(83_334, sc, np.random.default_rng(2))
    assert big.n_households == 1_000_008
    assert time.perf_counter() - start < 5.0  # typically about 0.3 s
