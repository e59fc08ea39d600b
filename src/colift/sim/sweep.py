"""Sweeps over scenarios × seeds, in this process or on a dask.distributed cluster.

Each (grid point, seed) is one task (a grid's combinations, or a list of points such as the
parameter sets of a calibration round): the same units simulated under `scenario.replace(**point)`
with that seed. On a cluster, consecutive tasks go together into chunks of at least about half a
second of model time (`chunk_size`), so that two workers on two cores give nearly twice the speed. `local_sweep` runs the tasks one after the other; `sweep` sends them to a
cluster (a `LocalCluster` of worker processes by default, or a running scheduler by address),
ships the unit batch to every worker once, and returns the rows in the same fixed order. The
model draws every random number from its seed, so both give identical rows (a test checks it).

Rows have the shape of `colift.sim.model.batch_run`: ``{"params", "seed", "summary"}``; the
summary adds the weekly series ``share_consented``, ``share_in_service`` and ``share_failed``.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from colift.errors import BadInput
from colift.sim.batch import UnitBatch, UnitColumns, UnitSpec, as_batch
from colift.sim.params import Scenario

Progress = Callable[[int, int], None]
SERIES_KEYS = ("share_consented", "share_in_service", "share_failed")


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, keys in the grid's order, last key fastest."""
    keys = list(grid)
    for key in keys:
        values = grid[key]
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise BadInput("grid {key}: give a non-empty list of values", key=repr(key))
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]


def simulate_task(
    batch: UnitBatch,
    scenario: Scenario,
    params: Mapping[str, Any],
    seed: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """One sweep task: the batch under the scenario with `params` changed, from `seed`."""
    from colift.sim.model import UnitModel

    model = UnitModel(batch, scenario.replace(**params), seed)
    summary = model.run(progress=progress).summary()
    frame = model.datacollector.frame()
    for key in SERIES_KEYS:
        summary[key] = [float(x) for x in frame[key]]
    return {"params": dict(params), "seed": int(seed), "summary": summary}


def simulate_chunk(
    batch: UnitBatch, scenario: Scenario, tasks: Sequence[tuple[Mapping[str, Any], int]]
) -> list[dict[str, Any]]:
    """Several sweep tasks in one go, in order: one cluster task, long enough to be worth it."""
    return [simulate_task(batch, scenario, point, seed) for point, seed in tasks]


# A cluster task runs at least this many unit-weeks (about half a second of model time), so
# that the scheduler's round trip, on the same cores, is small beside it; but there are at least
# four tasks per worker thread, so that no worker idles long at the end.
MIN_UNIT_WEEKS_PER_TASK = 300_000
TASKS_PER_THREAD = 4


def chunk_size(n_units: int, weeks: int, n_tasks: int, threads: int) -> int:
    """How many sweep tasks one cluster task runs."""
    wanted = -(-MIN_UNIT_WEEKS_PER_TASK // max(1, n_units * weeks))
    balanced = n_tasks // (TASKS_PER_THREAD * max(1, threads))
    return max(1, min(wanted, balanced))


Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]


def _points(grid: Grid) -> list[dict[str, Any]]:
    """A grid's combinations, or the given points (parameter sets of a calibration round)."""
    if isinstance(grid, Mapping):
        return grid_points(grid)
    if isinstance(grid, str) or not grid or not all(isinstance(p, Mapping) for p in grid):
        raise BadInput("give a grid of values or a non-empty list of parameter sets")
    return [dict(p) for p in grid]


def _tasks(
    units: Sequence[UnitSpec] | UnitColumns | UnitBatch,
    scenario: Scenario,
    grid: Grid,
    seeds: Sequence[int],
) -> tuple[UnitBatch, list[tuple[dict[str, Any], int]]]:
    if not seeds:
        raise BadInput("give at least one seed")
    points = _points(grid)
    for point in points:
        scenario.replace(**point)  # a bad key or value fails here, before any work starts
    batch = as_batch(units, scenario)
    return batch, [(point, int(seed)) for point in points for seed in seeds]


def local_sweep(
    units: Sequence[UnitSpec] | UnitColumns | UnitBatch,
    scenario: Scenario,
    grid: Grid,
    seeds: Sequence[int],
    *,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """The sweep's tasks run in this process, in order."""
    batch, tasks = _tasks(units, scenario, grid, seeds)
    rows = []
    for done, (point, seed) in enumerate(tasks, start=1):
        rows.append(simulate_task(batch, scenario, point, seed))
        if progress is not None:
            progress(done, len(tasks))
    return rows


# Dask sets MALLOC_TRIM_THRESHOLD_ in its workers; glibc then returns memory so eagerly that the
# model's large temporaries run about a fifth slower. None leaves glibc's default.
_WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def distributed() -> Any:
    """The dask.distributed module; its API is untyped, so it is used through Any."""
    import distributed as module

    return module


@contextmanager
def dask_client(
    scheduler: str | None = None, n_workers: int = 2, threads_per_worker: int = 1
) -> Iterator[Any]:
    """A client on `scheduler`, or on a new LocalCluster of worker processes; always closed."""
    dist = distributed()
    if scheduler is not None:
        try:
            client = dist.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise BadInput(
                "cannot reach the Dask scheduler at {scheduler}: {exc}",
                scheduler=scheduler,
                exc=exc,
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    if n_workers < 1:
        raise BadInput("a local Dask cluster needs at least 1 worker")
    import dask

    with warnings.catch_warnings(), dask.config.set(_WORKER_ENVIRON):
        # Without a dashboard the scheduler's health endpoint still asks for port 8787 and
        # falls back to a free port when it is taken: nothing for the user to act on.
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        # Processes, not threads: the model is NumPy-heavy Python and would share the GIL.
        cluster = dist.LocalCluster(
            processes=True,
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        client = dist.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def sweep(
    units: Sequence[UnitSpec] | UnitColumns | UnitBatch,
    scenario: Scenario,
    grid: Grid,
    seeds: Sequence[int],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every grid point × seed on a Dask cluster; rows identical to `local_sweep`'s.

    `grid` is a table of values to combine, or a list of points: the parameter sets of a
    calibration round, e.g. ``[{"defaults.trust_alone": 0.5, "defaults.p_object": 0.3}, …]``.

    Without a scheduler address and with `n_workers` 0 the tasks run in this process.
    """
    if scheduler is None and n_workers < 1:
        return local_sweep(units, scenario, grid, seeds, progress=progress)
    batch, tasks = _tasks(units, scenario, grid, seeds)
    with dask_client(scheduler, n_workers, threads_per_worker) as client:
        # The batch goes to every worker once; tasks refer to it by its future.
        shared = client.scatter(batch, broadcast=True)
        threads = sum(client.nthreads().values())
        weeks = max(int(point.get("weeks", scenario.weeks)) for point, _ in tasks)
        size = chunk_size(batch.n_units, weeks, len(tasks), threads)
        chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        futures = [
            client.submit(simulate_chunk, shared, scenario, chunk, pure=False) for chunk in chunks
        ]
        position = {f.key: i for i, f in enumerate(futures)}
        parts: list[list[dict[str, Any]]] = [[] for _ in futures]
        done = 0
        for future in distributed().as_completed(futures):
            part = future.result()
            parts[position[future.key]] = part
            done += len(part)
            if progress is not None:
                progress(done, len(tasks))
    return [row for part in parts for row in part]
