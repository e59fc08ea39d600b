"""Posterior summaries: weighted median and 90 % interval, and whether the data informs each."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.calibrate.abc import AbcResult
from colift.calibrate.priors import Prior

# A parameter is "informed" when its posterior 90 % interval is at most this share of the prior's.
INFORMED_RATIO = 0.6
# Below this many effective particles the 5 % and 95 % order statistics sit on the second or
# third particle and come out too narrow; the interval is then mean ± 1.645 sd (in the box).
MIN_ESS_FOR_QUANTILES = 100.0


def weighted_quantile(
    x: NDArray[np.float64], w: NDArray[np.float64], q: float | list[float]
) -> NDArray[np.float64]:
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws) - 0.5 * ws
    cum /= ws.sum()
    out: NDArray[np.float64] = np.interp(np.atleast_1d(q), cum, xs)
    return out


def posterior_table(
    result: AbcResult, prior: Prior, defaults: dict[str, float]
) -> list[dict[str, Any]]:
    """One row per parameter: default, prior box, posterior median and 90 % interval, informed."""
    plo, phi = prior.interval90()
    w = result.weights / result.weights.sum()
    ess = float(1.0 / (w**2).sum())
    rows = []
    for i, name in enumerate(result.names):
        x = result.particles[:, i]
        lo, med, hi = weighted_quantile(x, w, [0.05, 0.5, 0.95])
        if ess < MIN_ESS_FOR_QUANTILES:
            mean = float(w @ x)
            sd = float(np.sqrt(w @ (x - mean) ** 2))
            lo = max(float(prior.low[i]), mean - 1.645 * sd)
            hi = min(float(prior.high[i]), mean + 1.645 * sd)
        ratio = float((hi - lo) / (phi[i] - plo[i]))
        rows.append(
            {
                "name": name,
                "default": defaults[name],
                "prior": [float(prior.low[i]), float(prior.high[i])],
                "median": float(med),
                "interval90": [float(lo), float(hi)],
                "width_ratio": ratio,
                "informed": ratio <= INFORMED_RATIO,
            }
        )
    return rows


def medians(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["name"]: r["median"] for r in rows}
