"""The agent-based simulation of retrofits: units as arrays, strategies as tool plans.

See docs/simulation.md. `UnitModel` runs many stairwells week by week; `run_unit`,
`compare_strategies` and `batch_run` are the everyday entry points.
"""

from colift.sim.batch import (
    HouseholdSpec,
    UnitBatch,
    UnitColumns,
    UnitSpec,
    synthetic_columns,
    synthetic_unit,
    unit_spec_from_snapshot,
)
from colift.sim.model import (
    FAILURES,
    DataCollector,
    RunResult,
    UnitModel,
    batch_run,
    compare_strategies,
    run_unit,
    wilson,
)
from colift.sim.params import Defaults, Scenario, load_scenario, scenario_from_dict
from colift.sim.strategies import STRATEGIES, PlanItem, StrategySpec, strategy_for
from colift.sim.tally import VOTE_CODES, tally, tally_counts

__all__ = [
    "FAILURES",
    "STRATEGIES",
    "VOTE_CODES",
    "DataCollector",
    "Defaults",
    "HouseholdSpec",
    "PlanItem",
    "RunResult",
    "Scenario",
    "StrategySpec",
    "UnitBatch",
    "UnitColumns",
    "UnitModel",
    "UnitSpec",
    "batch_run",
    "compare_strategies",
    "load_scenario",
    "run_unit",
    "scenario_from_dict",
    "strategy_for",
    "synthetic_columns",
    "synthetic_unit",
    "tally",
    "tally_counts",
    "unit_spec_from_snapshot",
    "wilson",
]
