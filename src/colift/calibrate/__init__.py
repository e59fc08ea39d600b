"""Calibration of the simulation on recorded histories (docs/calibration.md).

Pure: no store, no I/O. `observe` turns unit outcomes into summary statistics, `priors` gives the
calibrated parameters with their prior boxes around today's defaults, `abc` runs ABC-SMC,
`posterior` summarises it, `heldout` checks predictions on units the fit did not see, and
`synthetic` draws a street from a known parameter set (to test that the method recovers it).
"""

from colift.calibrate.abc import AbcResult, abc_smc
from colift.calibrate.observe import Observations, simulate_observations, summaries
from colift.calibrate.posterior import posterior_table
from colift.calibrate.priors import CALIBRATED, Prior, apply_params, default_prior

__all__ = [
    "CALIBRATED",
    "AbcResult",
    "Observations",
    "Prior",
    "abc_smc",
    "apply_params",
    "default_prior",
    "posterior_table",
    "simulate_observations",
    "summaries",
]
