"""What is compared: per unit, how long it was watched, when it reached consent and service.

A unit is observed for `span` weeks from the start of its project. `consent` is the week its
owners' consent was recorded (the move past the vote), `service` the week the lift went into
operation; -1 when not (yet) reached within the span. Simulated units are censored at the same
spans, so a unit watched for 30 weeks is compared with simulated units watched for 30 weeks.

The summary statistics of a set of units (each in [0, 1]):
  consented — share that reached consent within their span
  consent_time — restricted mean time to consent (censored at the span), as a share of the span
  consent_early — share that reached consent within half their span
  served — share in service within their span
  service_time — restricted mean time to service, as a share of the span
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from colift.sim.batch import UnitBatch
from colift.sim.model import UnitModel
from colift.sim.params import Scenario

SUMMARY_NAMES: tuple[str, ...] = (
    "consented",
    "consent_time",
    "consent_early",
    "served",
    "service_time",
)
# Stage levels a prediction is scored on: 0 before consent, 1 consented, 2 in service.
LEVELS = ("negotiation", "consented", "service")


@dataclass(frozen=True)
class Observations:
    """Outcomes of units, one entry per unit, in weeks from the start of each project."""

    span: NDArray[np.int32]
    consent: NDArray[np.int32]  # -1: not within the span
    service: NDArray[np.int32]

    def __post_init__(self) -> None:
        n = self.span.size
        if self.consent.size != n or self.service.size != n:
            raise ValueError("span, consent and service need one entry per unit")

    @property
    def n_units(self) -> int:
        return int(self.span.size)

    def select(self, index: NDArray[np.intp]) -> Observations:
        return Observations(self.span[index], self.consent[index], self.service[index])

    def level(self) -> NDArray[np.int8]:
        """The stage level each unit reached within its span (see LEVELS)."""
        return (self.consent >= 0).astype(np.int8) + (self.service >= 0).astype(np.int8)

    def to_dict(self) -> dict[str, list[int]]:
        return {
            "span": self.span.tolist(),
            "consent": self.consent.tolist(),
            "service": self.service.tolist(),
        }


def censor(week: NDArray[np.integer], span: NDArray[np.integer]) -> NDArray[np.int32]:
    """Weeks after the span (or never) become -1."""
    return np.where((week >= 0) & (week <= span), week, -1).astype(np.int32)


def summaries(obs: Observations) -> NDArray[np.float64]:
    """The summary statistics of a set of units (SUMMARY_NAMES), each in [0, 1]."""
    span = np.maximum(obs.span.astype(np.float64), 1.0)
    c = obs.consent >= 0
    s = obs.service >= 0
    tc = np.where(c, obs.consent, span) / span
    ts = np.where(s, obs.service, span) / span
    early = c & (obs.consent <= span / 2)
    return np.array([c.mean(), tc.mean(), early.mean(), s.mean(), ts.mean()], np.float64)


def simulate_observations(
    batch: UnitBatch, span: NDArray[np.int32], scenario: Scenario, seed: int
) -> Observations:
    """The batch's units simulated under `scenario`, each censored at its own span."""
    weeks = int(span.max()) if span.size else 0
    result = UnitModel(batch, scenario.replace(weeks=weeks), seed).run()
    return Observations(
        span.astype(np.int32),
        censor(result.week_consent, span),
        censor(result.week_service, span),
    )
