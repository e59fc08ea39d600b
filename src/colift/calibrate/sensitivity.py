"""Global sensitivity: Sobol indices of the calibrated parameters, by SALib (Saltelli sampling).

Each sample point sets the parameters (within their prior boxes), simulates `copies` copies of
the unit under the scenario's strategy and under each compared strategy, and reads: the success
rate, the mean weeks to consent and to service (a unit that never gets there counts the horizon),
and — with two or more strategies — the gap in success between the first two strategies, which is
what decides their ranking. First-order (S1) and total (ST) indices, with 95 % confidence halves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.calibrate.priors import Prior, apply_params, default_prior
from colift.sim.batch import UnitBatch, UnitSpec
from colift.sim.model import UnitModel
from colift.sim.params import Scenario

OUTPUTS = ("success", "weeks_to_consent", "weeks_to_service")


def _outputs(batch: UnitBatch, scenario: Scenario, seed: int) -> list[float]:
    r = UnitModel(batch, scenario, seed).run()
    w = scenario.weeks
    consent = np.where(r.week_consent >= 0, r.week_consent, w)
    service = np.where(r.week_service >= 0, r.week_service, w)
    return [float(r.success.mean()), float(consent.mean()), float(service.mean())]


def sobol(
    spec: UnitSpec,
    scenario: Scenario,
    *,
    strategies: Sequence[str] = (),
    names: Sequence[str] = (),
    samples: int = 32,
    copies: int = 40,
    seed: int = 0,
) -> dict[str, Any]:
    """Sobol indices of `names` (all calibrated parameters by default) for the unit's outcomes."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    prior: Prior = default_prior(names or None, scenario.defaults)
    problem = {
        "num_vars": prior.dim,
        "names": list(prior.names),
        "bounds": [[float(lo), float(hi)] for lo, hi in zip(prior.low, prior.high, strict=True)],
    }
    points: NDArray[np.float64] = sample.sample(
        problem, samples, calc_second_order=False, seed=seed
    )
    one = UnitBatch.from_specs([spec], scenario)
    batch = one.select(np.zeros(copies, np.intp))
    compared = list(strategies)[:2]
    columns: list[str] = list(OUTPUTS)
    if len(compared) == 2:
        columns.append(f"gap:{compared[0]}-{compared[1]}")
    y = np.zeros((points.shape[0], len(columns)))
    for i, theta in enumerate(points):
        values = {n: float(v) for n, v in zip(prior.names, theta, strict=True)}
        sc = apply_params(scenario, values)
        y[i, :3] = _outputs(batch, sc, seed + i)
        if len(compared) == 2:
            a = _outputs(batch, sc.replace(strategy=compared[0]), seed + i)[0]
            b = _outputs(batch, sc.replace(strategy=compared[1]), seed + i)[0]
            y[i, 3] = a - b
    out: dict[str, Any] = {
        "parameters": list(prior.names),
        "samples": int(points.shape[0]),
        "copies": copies,
        "weeks": scenario.weeks,
        "indices": {},
    }
    for k, col in enumerate(columns):
        if np.allclose(y[:, k], y[0, k]):
            zero = {n: 0.0 for n in prior.names}
            out["indices"][col] = {"S1": zero, "ST": zero, "S1_conf": zero, "ST_conf": zero}
            continue
        res = analyze.analyze(problem, y[:, k], calc_second_order=False, seed=seed)
        out["indices"][col] = {
            key: {n: float(v) for n, v in zip(prior.names, res[key], strict=True)}
            for key in ("S1", "ST", "S1_conf", "ST_conf")
        }
    return out


def plot_sobol(result: dict[str, Any], path: str) -> None:
    """Bars of S1 and ST per parameter, one panel per output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = list(result["indices"])
    names = result["parameters"]
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    x = np.arange(len(names))
    for ax, col in zip(axes, cols, strict=True):
        idx = result["indices"][col]
        ax.barh(x - 0.2, [idx["S1"][n] for n in names], 0.4, label="S1")
        ax.barh(x + 0.2, [idx["ST"][n] for n in names], 0.4, label="ST")
        ax.set_title(col, fontsize=9)
        ax.set_xlim(0, 1)
    axes[0].set_yticks(x, names, fontsize=8)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
