"""The simulator ABC calls: parameter values in, summary statistics of a set of units out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.calibrate.abc import Simulator
from colift.calibrate.observe import Observations, simulate_observations, summaries
from colift.calibrate.priors import apply_params
from colift.sim.batch import UnitBatch
from colift.sim.params import Scenario


@dataclass
class UnitsSimulator:
    """Simulates `batch` (the units' start states) censored at `span`, under given values.

    Picklable, so a Dask worker can hold one copy and run many proposals on it."""

    batch: UnitBatch
    span: NDArray[np.int32]
    scenario: Scenario
    names: tuple[str, ...]

    def observations(self, theta: NDArray[np.float64], seed: int) -> Observations:
        values = {n: float(v) for n, v in zip(self.names, theta, strict=True)}
        return simulate_observations(
            self.batch, self.span, apply_params(self.scenario, values), seed
        )

    def __call__(self, theta: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
        return summaries(self.observations(theta, seed))


def _call(sim: Simulator, theta: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
    return sim(theta, seed)


class DaskMapper:
    """Runs a generation's proposals on a Dask client (see `sim.sweep.dask_client`).

    The proposals and their seeds are fixed before they are sent, and the results come back in
    the order sent, so the posterior is the same as with the serial map."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._sim: Any = None
        self._scattered: Any = None

    def __call__(
        self, sim: Simulator, thetas: Sequence[NDArray[np.float64]], seeds: Sequence[int]
    ) -> list[Any]:
        if self._sim is not sim:
            # The units go to every worker once; tasks refer to them by their future.
            self._scattered = self.client.scatter(sim, broadcast=True)
            self._sim = sim
        futures = self.client.map(
            _call, [self._scattered] * len(thetas), list(thetas), list(seeds), pure=False
        )
        return list(self.client.gather(futures))
