"""Simulate one unit forward under each strategy: a stored unit or a unit file.

The unit's recorded facts become the simulation's starting point (`unit_spec_from_snapshot`);
its consent rule and cost plan (total, scheme, subsidy profile, ground-floor compensation)
become the scenario unless the caller gives one. Each strategy runs the same `runs` copies of
the unit from the same seed, as `compare_strategies` does, here or on a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from colift.coproduction.snapshot import UnitSnapshot
from colift.datafiles import reject_unknown
from colift.errors import BadInput
from colift.sim.batch import UnitBatch, UnitSpec, unit_spec_from_snapshot
from colift.sim.params import Scenario
from colift.sim.strategies import strategy_for
from colift.sim.sweep import simulate_task, sweep

DEFAULT_STRATEGIES = ("informal_only", "guided", "advisor")
Progress = Callable[[int, int], None]


def scenario_from_facts(
    snapshot: UnitSnapshot, plan: Mapping[str, Any] | None, subsidy_profile: str | None = None
) -> Scenario:
    """The scenario a unit's own records imply: its rule, and its cost plan when it has one."""
    values: dict[str, Any] = {"name": snapshot.label, "consent_profile": snapshot.consent_profile}
    profile = subsidy_profile
    if plan is not None:
        if isinstance(plan.get("total_fen"), int):
            values["total_cost_fen"] = plan["total_fen"]
        if isinstance(plan.get("scheme"), Mapping):
            values["scheme"] = dict(plan["scheme"])
        named = plan.get("subsidy_profile", plan.get("subsidy"))
        if isinstance(named, str):
            profile = named
        values["compensation_fen"] = _ground_floor_compensation(plan.get("compensation"))
    values["subsidy_profile"] = profile
    return Scenario(**values)


def _ground_floor_compensation(raw: object) -> int:
    """The plan's compensation to each ground-floor flat, the model's K."""
    if not isinstance(raw, list):
        return 0
    for item in raw:
        if isinstance(item, Mapping) and 1 in (item.get("floors") or []):
            fen = item.get("fen_each")
            return fen if isinstance(fen, int) else 0
    return 0


def simulate_spec(
    spec: UnitSpec,
    scenario: Scenario,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    runs: int = 200,
    seed: int = 0,
    *,
    progress: Progress | None = None,
    scheduler: str | None = None,
    n_workers: int = 0,
    params: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Each strategy's summary (with weekly series) on `runs` copies of the unit; `params`
    replaces defaults (a stored parameter set, `colift params`)."""
    if params:
        from colift.calibrate.priors import apply_params

        scenario = apply_params(scenario, params)
    if runs < 1:
        raise BadInput("runs must be at least 1")
    if not strategies:
        raise BadInput("give at least one strategy")
    for name in strategies:
        strategy_for(name)
    # The same copies and seed per strategy as `compare_strategies`, so results agree.
    batch = UnitBatch.from_specs([spec], scenario).select(np.zeros(runs, np.intp))
    grid = {"strategy": list(strategies)}
    if scheduler is not None or n_workers >= 1:
        rows = sweep(
            batch,
            scenario,
            grid,
            [seed],
            scheduler=scheduler,
            n_workers=n_workers,
            progress=progress,
        )
    else:
        rows = []
        total = len(strategies) * scenario.weeks
        for i, name in enumerate(strategies):
            step = None if progress is None else _offset(progress, i * scenario.weeks, total)
            rows.append(simulate_task(batch, scenario, {"strategy": name}, seed, step))
    return {
        "unit": spec.label,
        "households": len(spec.households),
        "storeys": spec.storeys,
        "runs": runs,
        "seed": seed,
        "weeks": scenario.weeks,
        "params": dict(params or {}),
        "scenario": {
            "name": scenario.name,
            "consent_profile": scenario.consent_profile,
            "subsidy_profile": scenario.subsidy_profile,
            "total_cost_fen": scenario.total_cost_fen,
            "compensation_fen": scenario.compensation_fen,
        },
        "strategies": {row["params"]["strategy"]: row["summary"] for row in rows},
    }


def _offset(progress: Progress, base: int, total: int) -> Progress:
    def step(week: int, _weeks: int) -> None:
        progress(base + week, total)

    return step


def simulate_snapshot(
    snapshot: UnitSnapshot,
    scenario: Scenario,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    runs: int = 200,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    return simulate_spec(
        unit_spec_from_snapshot(snapshot), scenario, strategies, runs, seed, **options
    )


def simulate_stored_unit(
    engine: Engine,
    unit_id: int,
    scenario: Scenario | None = None,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    runs: int = 200,
    seed: int = 0,
    *,
    weeks: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A stored unit simulated forward; without a scenario, its rule, plan and subsidy apply."""
    from colift.services.advice import build_snapshot
    from colift.store import UnitOfWork

    with UnitOfWork(engine, read_only=True) as uow:
        snapshot = build_snapshot(uow, unit_id)
        plan = uow.cost_plans.find(unit_id)
        compound = uow.compounds.get(uow.units.info(unit_id).compound_id)
    if scenario is None:
        scenario = scenario_from_facts(
            snapshot, plan.document if plan is not None else None, compound.subsidy_profile
        )
    if weeks is not None:
        scenario = scenario.replace(weeks=weeks)
    return simulate_snapshot(snapshot, scenario, strategies, runs, seed, **options)


def simulate_unit_file(
    data: object,
    scenario: Scenario | None = None,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    runs: int = 200,
    seed: int = 0,
    *,
    weeks: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A unit file (the `colift advise` format) simulated forward under each strategy."""
    from colift.coproduction.unitfile import read_unit_file

    snapshot = read_unit_file(data)
    if scenario is None:
        plan = data.get("cost_plan") if isinstance(data, Mapping) else None
        scenario = scenario_from_facts(snapshot, plan if isinstance(plan, Mapping) else None)
    if weeks is not None:
        scenario = scenario.replace(weeks=weeks)
    return simulate_snapshot(snapshot, scenario, strategies, runs, seed, **options)


# ---------------------------------------------------------------- scenario files

_UNIT_KEYS = frozenset({"file", "storeys", "per_floor", "label"})


def scenario_of_document(data: Mapping[str, Any]) -> Scenario:
    """The scenario of a parsed unit-scenario TOML document; its [unit] table is not part of it."""
    from colift.sim.params import scenario_from_dict

    return scenario_from_dict({k: v for k, v in data.items() if k != "unit"})


def unit_of_document(
    data: Mapping[str, Any], base_dir: Path, seed: int = 0
) -> UnitSnapshot | UnitSpec:
    """The unit a scenario document names in its [unit] table: a unit file, or a typical
    synthetic stairwell of `storeys` × `per_floor` flats (6 × 2 without a table)."""
    from colift.sim.batch import synthetic_unit

    raw = data.get("unit", {})
    if not isinstance(raw, Mapping):
        raise BadInput('[unit] must be a table: file = "unit.json", or storeys and per_floor')
    reject_unknown(raw, _UNIT_KEYS, "[unit]")
    if "file" in raw:
        if set(raw) - {"file"}:
            raise BadInput("[unit]: give either file or storeys and per_floor, not both")
        from colift.coproduction.unitfile import read_unit_file

        path = base_dir / str(raw["file"])
        return read_unit_file(_read_json(path))
    storeys, per_floor = raw.get("storeys", 6), raw.get("per_floor", 2)
    for name, value, hi in (("storeys", storeys, 12), ("per_floor", per_floor, 4)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
            raise BadInput("[unit]: {name} must be a whole number 1–{hi}", name=name, hi=hi)
    label = str(raw.get("label", f"typical {storeys}-storey unit"))
    scenario = scenario_of_document(data)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x0411]))
    return synthetic_unit(rng, storeys=storeys, per_floor=per_floor, label=label, scenario=scenario)


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput("unit file not found: {path}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput("cannot read {path}: {exc}", path=path, exc=exc) from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            "{path} is not valid JSON: {msg} at line {lineno}",
            path=path,
            msg=exc.msg,
            lineno=exc.lineno,
        ) from None


def simulate_document(
    data: Mapping[str, Any],
    base_dir: Path,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    runs: int = 200,
    seed: int = 0,
    *,
    weeks: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A unit-scenario TOML document (scenario fields plus an optional [unit]) simulated."""
    scenario = scenario_of_document(data)
    if weeks is not None:
        scenario = scenario.replace(weeks=weeks)
    unit = unit_of_document(data, base_dir, seed)
    if isinstance(unit, UnitSnapshot):
        return simulate_snapshot(unit, scenario, strategies, runs, seed, **options)
    return simulate_spec(unit, scenario, strategies, runs, seed, **options)
