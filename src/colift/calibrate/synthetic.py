"""A street drawn from a known parameter set: the test of the method, not only of the code.

Units are 1990s walk-ups (`UnitBatch.synthetic`); each project started some weeks before today
(spans between `min_span` and `max_span` weeks), and what happened to it is simulated under the
"true" values. Calibrating on these outcomes should give back the true values within the
posterior intervals of the parameters the data informs.

The units are led in three ways (`group_shares`, 40/30/30 % by default): under guidance
(`guided`), by an action leader alone (`informal_only`) and by formal leaders under direct
guidance without informal ones (`formal_only`), as on a street where compounds differ; the record of each unit holds its stage dates, the
objections filed, whether a technical block was found and the stance changes after the first
activities (`calibrate.observe`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from colift.calibrate.observe import Observations, simulate_observations
from colift.calibrate.priors import apply_params
from colift.sim.batch import UnitBatch
from colift.sim.params import Scenario

# The "true" values of the synthetic street: away from today's defaults, inside the priors.
TRUE_VALUES: dict[str, float] = {
    "negotiation_median_weeks": 30.0,
    "negotiation_sigma": 0.6,
    "persuasion_cap": 0.12,
    "trust_alone": 0.5,
    "trust_direct": 1.5,
    "p_object": 0.5,
    "p_technical": 0.05,
}


def synthetic_street(
    n_units: int,
    seed: int,
    *,
    scenario: Scenario | None = None,
    true_values: Mapping[str, float] = TRUE_VALUES,
    min_span: int = 26,
    max_span: int = 156,
    group_shares: tuple[float, float, float] | None = (0.4, 0.3, 0.3),
) -> tuple[UnitBatch, Observations]:
    """`n_units` start states and their outcomes under `true_values`."""
    base = scenario or Scenario()
    rng = np.random.default_rng(seed)
    batch = UnitBatch.synthetic(n_units, base, rng, storeys=(5, 6, 7), label_prefix="s")
    span = rng.integers(min_span, max_span + 1, n_units).astype(np.int32)
    group = None
    if group_shares is not None:
        cum = np.cumsum(group_shares) / sum(group_shares)
        group = np.searchsorted(cum, rng.random(n_units), side="right").astype(np.int8)
    obs = simulate_observations(batch, span, apply_params(base, true_values), seed + 1, group)
    return batch, obs
