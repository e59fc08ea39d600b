"""Sweeps on a Dask cluster give exactly the rows of the same sweep run in this process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

from colift.errors import BadInput
from colift.sim.batch import UnitBatch, synthetic_unit
from colift.sim.city import CityScenario, run_city
from colift.sim.model import batch_run
from colift.sim.params import Scenario
from colift.sim.sweep import chunk_size, grid_points, local_sweep, sweep

SCENARIO = Scenario(subsidy_profile="shanghai", weeks=40)
GRID = {"strategy": ["informal_only", "guided"], "defaults.p_object": [0.2, 0.6]}
SEEDS = [1, 2]


@pytest.fixture(scope="module")
def units() -> UnitBatch:
    return UnitBatch.synthetic(60, SCENARIO, np.random.default_rng(5), storeys=(6, 7))


@pytest.fixture(scope="module")
def local_rows(units: UnitBatch) -> list[dict[str, object]]:
    return local_sweep(units, SCENARIO, GRID, SEEDS)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """One running cluster for the tests that connect by address."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_grid_points_in_a_fixed_order() -> None:
    assert grid_points({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    with pytest.raises(BadInput, match="non-empty list"):
        grid_points({"a": []})


def test_local_sweep_agrees_with_batch_run(
    units: UnitBatch, local_rows: list[dict[str, object]]
) -> None:
    reference = batch_run(units, SCENARIO, GRID, SEEDS)
    assert len(local_rows) == len(reference) == 8
    for row, ref in zip(local_rows, reference, strict=True):
        assert row["params"] == ref["params"] and row["seed"] == ref["seed"]
        summary = row["summary"]
        assert isinstance(summary, dict)
        assert {k: summary[k] for k in ref["summary"]} == ref["summary"]
        assert len(summary["share_in_service"]) == SCENARIO.weeks + 1


def test_a_local_cluster_gives_identical_rows(
    units: UnitBatch, local_rows: list[dict[str, object]]
) -> None:
    done: list[int] = []
    rows = sweep(units, SCENARIO, GRID, SEEDS, n_workers=2, progress=lambda d, t: done.append(d))
    assert rows == local_rows
    assert sorted(done) == list(range(1, 9))


def test_a_scheduler_address_gives_identical_rows(
    scheduler: str, local_rows: list[dict[str, object]]
) -> None:
    specs = [synthetic_unit(np.random.default_rng(i), label=f"u{i}") for i in range(4)]
    grid = {"compensation_fen": [0, 2_000_000]}
    here = local_sweep(specs, SCENARIO, grid, [3, 4])
    there = sweep(specs, SCENARIO, grid, [3, 4], scheduler=scheduler)
    assert there == here


def test_a_city_on_the_cluster_equals_the_local_run(scheduler: str) -> None:
    city = CityScenario(n_households=6_000, start_share_per_year=0.4, weeks=39, seed=11)
    assert run_city(city, scheduler=scheduler).summary() == run_city(city).summary()


def test_no_workers_runs_here(units: UnitBatch, local_rows: list[dict[str, object]]) -> None:
    assert sweep(units, SCENARIO, GRID, SEEDS, n_workers=0) == local_rows


def test_bad_sweeps_fail_before_any_work(units: UnitBatch) -> None:
    with pytest.raises(BadInput, match="p_objekt"):
        sweep(units, SCENARIO, {"defaults.p_objekt": [0.1]}, [1], n_workers=2)
    with pytest.raises(BadInput, match="seed"):
        sweep(units, SCENARIO, {"strategy": ["guided"]}, [], n_workers=2)


def test_a_calibration_round_of_parameter_sets_is_identical_on_the_cluster(
    scheduler: str, units: UnitBatch
) -> None:
    sets = [
        {"defaults.negotiation_median_weeks": 40.0, "defaults.p_object": 0.5},
        {"defaults.trust_direct": 1.1, "defaults.persuasion_cap": 0.3},
        {},
    ]
    here = local_sweep(units, SCENARIO, sets, [7])
    assert [r["params"] for r in here] == sets
    assert here[0]["summary"] != here[2]["summary"]  # the parameters took effect
    assert sweep(units, SCENARIO, sets, [7], scheduler=scheduler) == here
    with pytest.raises(BadInput, match="parameter sets"):
        local_sweep(units, SCENARIO, [], [7])
    with pytest.raises(BadInput, match="trust_alon"):
        local_sweep(units, SCENARIO, [{"defaults.trust_alon": 0.5}], [7])


def test_cluster_tasks_are_long_but_enough_for_every_worker() -> None:
    # 1,000 units × 104 weeks is about a quarter second: three of them make one cluster task,
    assert chunk_size(1_000, 104, 64, 1) == 3
    # unless that would leave fewer than four tasks per worker thread;
    assert chunk_size(1_000, 104, 64, 2) == 3
    assert chunk_size(1_000, 104, 16, 2) == 2
    assert chunk_size(10, 40, 7, 2) == 1
    # a task already long enough runs alone.
    assert chunk_size(100_000, 104, 64, 2) == 1


def test_chunked_tasks_give_identical_rows_in_order(scheduler: str, units: UnitBatch) -> None:
    seeds = [1, 2, 3, 4]  # 16 tasks on 2 workers: chunks of 2
    assert chunk_size(units.n_units, SCENARIO.weeks, 16, 2) == 2
    done: list[int] = []
    rows = sweep(
        units, SCENARIO, GRID, seeds, scheduler=scheduler, progress=lambda d, t: done.append(d)
    )
    assert rows == local_sweep(units, SCENARIO, GRID, seeds)
    assert [(r["params"], r["seed"]) for r in rows] == [
        (p, s) for p in grid_points(GRID) for s in seeds
    ]
    assert sorted(done) == list(range(2, 17, 2))
