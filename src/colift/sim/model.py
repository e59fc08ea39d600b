"""The unit model: stairwells simulated week by week, many at once (docs/simulation.md §3).

`UnitModel` keeps Mesa's vocabulary (`step`, `run`, `datacollector`) but holds every unit and
household in arrays, households household-major (H, U): nothing loops over units, households or
tool uses in Python. Each week:

1. leaders: an action leader may quit; formal guidance may find a new one; a unit with no leader
   left stalls;
2. interventions: the week's tool uses act together through their catalogue effects. Which are
   due and whom they target is read from the state at the start of the week; their effects are
   summed as rows of a matrix (`effects._effect_row`), and for a plan the sum for each (phase, week in
   phase, conditions, leader, make-up) is a table built once, so a week is one lookup per unit;
   chances combine as 1 − ∏(1 − p), saturating boosts and pressure as products;
3. influence: Friedkin–Johnsen, y ← Λ W y + (I − Λ) a, with a the lasting anchors;
4. decisions: reached owner groups agree, abstain or disagree by their thresholds;
5. objections move through their stages;
6. phases advance: consent by the vectorized tally, notice, approval (technical block, funding
   check), construction, acceptance, service;
7. failures are recorded with the blocker at the time.

The code reads in parts: `colift.sim.codes` (failure causes, conditions, the rows of a week's
effects), `colift.sim.effects` (a tool as effect rows), `colift.sim.build` (`ModelState`: draws,
roles, network, the plan and the tally compiled to tables), `colift.sim.step` (the week, bound
here as methods), `colift.sim.results` (series and outcomes); this module joins them as
`UnitModel` and keeps the names others import from it. Cost shares come from
`colift.sim.costsplit`, parameters from `colift/sim/defaults.toml`.

Randomness: `SeedSequence(seed).spawn(2)` gives one stream for the initial draws and one for the
dynamics, drawn in a fixed order, so one seed gives bit-identical results wherever it runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from colift.sim import step as _step
from colift.sim.batch import UnitBatch, UnitColumns, UnitSpec, as_batch
from colift.sim.build import ModelState
from colift.sim.codes import (
    ADVISOR_CANDIDATES,
    ADVISOR_OBSTACLES,
    APPROVAL_SEVERITY,
    CONDITION_CODES,
    COORDINATION_SEVERITY,
    FAILURES,
    N_EFFECTS,
    SERIES,
)
from colift.sim.params import Scenario
from colift.sim.results import DataCollector, RunResult, wilson
from colift.sim.strategies import (
    PHASE_NAMES,
    SERVICE,
)

# Names other modules import from here, as before the model was split into modules.
__all__ = [
    "ADVISOR_CANDIDATES",
    "ADVISOR_OBSTACLES",
    "APPROVAL_SEVERITY",
    "CONDITION_CODES",
    "COORDINATION_SEVERITY",
    "FAILURES",
    "N_EFFECTS",
    "SERIES",
    "DataCollector",
    "ModelState",
    "RunResult",
    "UnitModel",
    "batch_run",
    "compare_strategies",
    "run_unit",
    "wilson",
]


class UnitModel(ModelState):
    """Stairwells simulated forward under one scenario; see the module docstring.

    Built by `ModelState` (colift.sim.build); each week is `step` (colift.sim.step).
    """

    _conditions = _step._conditions
    _interventions = _step._interventions
    _extra_uses = _step._extra_uses
    _apply_week = _step._apply_week
    _persuade_targets = _step._persuade_targets
    _seed_stubborn = _step._seed_stubborn
    _advise = _step._advise
    _severities = _step._severities
    step = _step.step
    _objections = _step._objections
    _tally = _step._tally
    _phases = _step._phases
    _move = _step._move
    _fail = _step._fail
    _file_objections = _step._file_objections
    _funding_gap = _step._funding_gap
    _failures = _step._failures

    # ------------------------------------------------------------ running

    def run(
        self, weeks: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> RunResult:
        total = self.scenario.weeks if weeks is None else weeks
        for k in range(total):
            self.step()
            if progress is not None:
                progress(k + 1, total)
        return self.result()

    def result(self) -> RunResult:
        success = self.phase == SERVICE
        zero = np.zeros(self.batch.n_units, np.int64)
        return RunResult(
            success=success,
            week_consent=self.week_consent.copy(),
            week_service=self.week_service.copy(),
            failure=np.asarray(FAILURES, dtype="<U14")[self.failure],
            cooperation=np.stack(self._history),
            resident_fen=np.where(success, self.payable, zero),
            subsidy_fen=np.where(success, self.subsidy, zero),
            compensation_fen=np.where(success, self.comp * self.n1, zero),
            weeks=self.week,
            labels=list(self.batch.labels),
            strategy=self.strategy.name,
        )

    def phase_names(self) -> list[str]:
        return [PHASE_NAMES[p] for p in self.phase]


# ---------------------------------------------------------------- helpers


def run_unit(spec: UnitSpec, scenario: Scenario, runs: int, seed: int) -> RunResult:
    """Monte Carlo for one unit: `runs` copies of it simulated together in one batch."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    one = UnitBatch.from_specs([spec], scenario)
    batch = one.select(np.zeros(runs, np.intp))
    batch.labels = [f"{spec.label}#{i}" for i in range(runs)]
    return UnitModel(batch, scenario, seed).run()


def compare_strategies(
    spec: UnitSpec, scenario: Scenario, strategies: Sequence[str], runs: int, seed: int
) -> dict[str, dict[str, Any]]:
    """One summary per strategy, on the same unit and the same seed."""
    one = UnitBatch.from_specs([spec], scenario)
    batch = one.select(np.zeros(runs, np.intp))
    out: dict[str, dict[str, Any]] = {}
    for name in strategies:
        sc = scenario.replace(strategy=name)
        out[name] = UnitModel(batch, sc, seed).run().summary()
    return out


def batch_run(
    units: Sequence[UnitSpec] | UnitColumns | UnitBatch,
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
) -> list[dict[str, Any]]:
    """Every combination of grid values (`Scenario.replace` keys) × seed, in a fixed order."""
    batch = as_batch(units, scenario)
    keys = list(grid)
    rows: list[dict[str, Any]] = []
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        sc = scenario.replace(**params)
        for seed in seeds:
            result = UnitModel(batch, sc, seed).run()
            rows.append({"params": params, "seed": seed, "summary": result.summary()})
    return rows
