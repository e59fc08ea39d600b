"""The held-out check: fit on some units, predict the others, score against what happened.

For each held-out unit the prediction is the share of simulated copies (under parameter values
drawn from the posterior, or under today's defaults) that reached consent within the unit's
span, the expected time to consent (restricted to the span) and the most likely stage level.
Scores: the Brier score of "consented within the span", the mean absolute error of the time to
consent in weeks, and the share of units whose stage level is predicted right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.calibrate.observe import LEVELS, Observations
from colift.calibrate.simulator import UnitsSimulator


def split(n: int, test_share: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Train and test indices: a seeded shuffle, the test part at least one unit."""
    order = np.random.default_rng(seed).permutation(n)
    k = max(1, round(n * test_share))
    return np.sort(order[k:]), np.sort(order[:k])


def predict(
    sim: UnitsSimulator, draws: Sequence[NDArray[np.float64]], seed: int
) -> dict[str, NDArray[np.float64]]:
    """Per unit: P(consent within span), expected restricted weeks to consent, level shares."""
    runs = [sim.observations(theta, seed + k) for k, theta in enumerate(draws)]
    span = sim.span.astype(np.float64)
    consent = np.stack([r.consent >= 0 for r in runs])
    weeks = np.stack([np.where(r.consent >= 0, r.consent, span) for r in runs])
    levels = np.stack([r.level() for r in runs])
    level_share = np.stack([(levels == v).mean(axis=0) for v in range(len(LEVELS))], axis=1)
    return {"p_consent": consent.mean(axis=0), "weeks": weeks.mean(axis=0), "levels": level_share}


def score(pred: dict[str, NDArray[np.float64]], obs: Observations) -> dict[str, float]:
    got = (obs.consent >= 0).astype(np.float64)
    weeks = np.where(obs.consent >= 0, obs.consent, obs.span).astype(np.float64)
    level = obs.level()
    return {
        "brier_consent": float(((pred["p_consent"] - got) ** 2).mean()),
        "mae_weeks_to_consent": float(np.abs(pred["weeks"] - weeks).mean()),
        "stage_accuracy": float((pred["levels"].argmax(axis=1) == level).mean()),
        "stage_log_score": float(
            -np.log(np.maximum(pred["levels"][np.arange(level.size), level], 0.02)).mean()
        ),
    }


def compare(
    sim: UnitsSimulator,
    obs: Observations,
    posterior_draws: Sequence[NDArray[np.float64]],
    default_theta: NDArray[np.float64],
    seed: int,
) -> dict[str, Any]:
    """Scores of the calibrated and of the uncalibrated model on the same held-out units."""
    calibrated = score(predict(sim, posterior_draws, seed), obs)
    uncalibrated = score(predict(sim, [default_theta] * len(posterior_draws), seed), obs)
    return {
        "units": obs.n_units,
        "observed": {
            "consented": int((obs.consent >= 0).sum()),
            "in_service": int((obs.service >= 0).sum()),
        },
        "calibrated": calibrated,
        "uncalibrated": uncalibrated,
        "better": calibrated["brier_consent"] < uncalibrated["brier_consent"]
        and calibrated["mae_weeks_to_consent"] < uncalibrated["mae_weeks_to_consent"],
    }
