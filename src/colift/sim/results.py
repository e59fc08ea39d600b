"""What a run gives: the weekly series (`DataCollector`) and per-unit outcomes (`RunResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from colift.sim.codes import FAILURES, SERIES

if TYPE_CHECKING:
    from colift.sim.build import ModelState


class DataCollector:
    """Unit-wide aggregates per week (index 0: before the first step)."""

    def __init__(self) -> None:
        self.series: dict[str, list[float]] = {name: [] for name in SERIES}

    def collect(self, model: ModelState) -> None:
        n = max(model.batch.n_units, 1)
        values = (
            model.week,
            model.mean_support(),
            model.n_consented / n,
            model.n_in_service / n,
            model.n_failed / n,
            int(np.add.reduce(model.cooperation, axis=None, dtype=np.int64)) / n,
        )
        for name, value in zip(SERIES, values, strict=True):
            self.series[name].append(value)

    def frame(self) -> dict[str, NDArray[Any]]:
        return {name: np.asarray(values) for name, values in self.series.items()}


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _quartiles(values: NDArray[Any]) -> dict[str, float | None]:
    if values.size == 0:
        return {"q1": None, "median": None, "q3": None}
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"q1": float(q1), "median": float(med), "q3": float(q3)}


@dataclass
class RunResult:
    success: NDArray[np.bool_]
    week_consent: NDArray[np.int32]  # -1: never
    week_service: NDArray[np.int32]
    failure: NDArray[np.str_]  # "" when in service or still running
    cooperation: NDArray[np.int8]  # (weeks + 1, U)
    resident_fen: NDArray[np.int64]  # paid by the payers (includes the compensation they raise)
    subsidy_fen: NDArray[np.int64]
    compensation_fen: NDArray[np.int64]  # paid to low floors out of the residents' pool
    weeks: int = 0
    labels: list[str] = field(default_factory=list)
    strategy: str = ""

    def summary(self) -> dict[str, Any]:
        n = int(self.success.size)
        k = int(self.success.sum())
        lo, hi = wilson(k, n)
        failed = self.failure != ""
        causes = {code: int((self.failure == code).sum()) for code in FAILURES[1:]}
        n_failed = int(failed.sum())
        return {
            "units": n,
            "weeks": self.weeks,
            "strategy": self.strategy,
            "success_rate": k / n if n else 0.0,
            "success_ci95": [lo, hi],
            "successes": k,
            "failed": n_failed,
            "running": n - k - n_failed,
            "weeks_to_consent": _quartiles(self.week_consent[self.week_consent >= 0]),
            "weeks_to_service": _quartiles(self.week_service[self.week_service >= 0]),
            "failure_causes": causes,
            "failure_mix": {c: (v / n_failed if n_failed else 0.0) for c, v in causes.items()},
            "mean_cooperation": [float(x) for x in self.cooperation.mean(axis=1)] if n else [],
            "money_fen": {
                "residents": int(self.resident_fen.sum()),
                "subsidy": int(self.subsidy_fen.sum()),
                "compensation": int(self.compensation_fen.sum()),
                "residents_per_success": int(self.resident_fen.sum()) // k if k else 0,
                "subsidy_per_success": int(self.subsidy_fen.sum()) // k if k else 0,
            },
        }
