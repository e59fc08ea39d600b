"""The calibrated parameters and their priors: a uniform box around today's default.

Each prior box is wide enough to hold the values the sources leave open (a fraction or a
multiple of the default); the default itself stays inside, so the uncalibrated model is one
point of the prior. `apply_params` is the one place that turns values into a scenario, so the
sim's parameter API can change under it without touching the rest of calibration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.errors import BadInput
from colift.sim.params import Defaults, Scenario

# name -> (low, high) of the uniform prior; today's default lies inside each box.
CALIBRATED: dict[str, tuple[float, float]] = {
    "negotiation_median_weeks": (6.0, 40.0),
    "negotiation_sigma": (0.4, 1.6),
    "persuasion_cap": (0.05, 0.40),
    "trust_alone": (0.3, 1.0),
    "trust_direct": (1.0, 1.8),
    "p_object": (0.10, 0.70),
    "p_technical": (0.02, 0.30),
}


@dataclass(frozen=True)
class Prior:
    """Independent uniform priors on a box, one row per parameter."""

    names: tuple[str, ...]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    # (greater, lesser): the prior holds only points where the first is at least the second
    order: tuple[tuple[str, str], ...] = ()

    @property
    def dim(self) -> int:
        return len(self.names)

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """`n` points of the box (without the order constraints; for tests and screens)."""
        return self.low + (self.high - self.low) * rng.random((n, self.dim))

    def inside(self, theta: NDArray[np.float64]) -> NDArray[np.bool_]:
        inside: NDArray[np.bool_] = np.all((theta >= self.low) & (theta <= self.high), axis=-1)
        for greater, lesser in self.order:
            i, j = self.names.index(greater), self.names.index(lesser)
            inside = inside & (theta[..., i] >= theta[..., j])
        return inside

    def interval90(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        width = self.high - self.low
        return self.low + 0.05 * width, self.low + 0.95 * width


def default_prior(names: Sequence[str] | None = None, defaults: Defaults | None = None) -> Prior:
    """The prior over `names` (all calibrated parameters by default); each box holds the default."""
    chosen = tuple(names) if names else tuple(CALIBRATED)
    d = defaults or Defaults()
    low, high = [], []
    for name in chosen:
        if name not in CALIBRATED:
            raise BadInput(
                "{name} is not a calibrated parameter; known: {known}",
                name=name,
                known=", ".join(CALIBRATED),
            )
        lo, hi = CALIBRATED[name]
        value = float(getattr(d, name))
        low.append(min(lo, value))
        high.append(max(hi, value))
    return Prior(chosen, np.asarray(low, float), np.asarray(high, float))


def with_evidence(prior: Prior, found: Sequence[Any]) -> tuple[Prior, list[str]]:
    """The prior narrowed by what the coded interviews say, and why (one line per change).

    Where segments link direct guidance to consent or cooperation and more support it than
    contradict it, formal tools under direct guidance are held at least as trusted as informal
    tools alone (`trust_direct ≥ trust_alone`)."""
    support = sum(x.segments for x in found if x.code == "guidance.direct")
    against = sum(x.contradicting for x in found if x.code == "guidance.direct")
    if support > against and {"trust_direct", "trust_alone"} <= set(prior.names):
        why = (
            f"trust_direct ≥ trust_alone: {support} interview segments link direct guidance "
            f"to consent or cooperation, {against} contradict it"
        )
        return replace(prior, order=(*prior.order, ("trust_direct", "trust_alone"))), [why]
    return prior, []


def apply_params(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """`scenario` with the given default values replaced (checked by the sim's own validation)."""
    if not values:
        return scenario
    return scenario.replace(**{f"defaults.{k}": float(v) for k, v in values.items()})


def as_values(prior: Prior, theta: NDArray[np.float64]) -> dict[str, float]:
    return {n: float(v) for n, v in zip(prior.names, theta, strict=True)}
