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
    group: NDArray[np.int8] | None = None  # how each unit was led (observe.GROUPS)

    def observations(self, theta: NDArray[np.float64], seed: int) -> Observations:
        values = {n: float(v) for n, v in zip(self.names, theta, strict=True)}
        return simulate_observations(
            self.batch, self.span, apply_params(self.scenario, values), seed, self.group
        )

    def __call__(self, theta: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
        return summaries(self.observations(theta, seed))


def _call_many(
    sim: Simulator, thetas: Sequence[NDArray[np.float64]], seeds: Sequence[int]
) -> list[NDArray[np.float64]]:
    """Several proposals in one cluster task, in order."""
    return [sim(t, s) for t, s in zip(thetas, seeds, strict=True)]


# Tasks per worker thread: enough that no worker idles long at the end of a round, few enough
# that the scheduler's round trip (on the same cores) stays small beside a task.
TASKS_PER_THREAD = 3


class DaskMapper:
    """Runs a generation's proposals on a Dask client (see `sim.sweep.dask_client`).

    The proposals and their seeds are fixed before they are sent, and the results come back in
    the order sent, so the posterior is the same as with the serial map. Consecutive proposals
    go together, `TASKS_PER_THREAD` tasks per worker thread (a simulation of a street is tens of
    milliseconds; one task each would leave the scheduler a large share of the time)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._sim: Any = None
        self._scattered: Any = None
        self._threads = max(1, sum(client.nthreads().values()))

    def __call__(
        self, sim: Simulator, thetas: Sequence[NDArray[np.float64]], seeds: Sequence[int]
    ) -> list[Any]:
        if self._sim is not sim:
            # The units go to every worker once; tasks refer to them by their future.
            self._scattered = self.client.scatter(sim, broadcast=True)
            self._sim = sim
        n = len(thetas)
        size = max(1, -(-n // (TASKS_PER_THREAD * self._threads)))
        starts = range(0, n, size)
        futures = self.client.map(
            _call_many,
            [self._scattered] * len(starts),
            [list(thetas[a : a + size]) for a in starts],
            [list(seeds[a : a + size]) for a in starts],
            pure=False,
        )
        return [out for chunk in self.client.gather(futures) for out in chunk]
