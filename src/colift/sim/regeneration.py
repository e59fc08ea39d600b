"""Community regeneration as an outcome of the simulation: what a unit carries into its next
collective action (楼道改造, a second lift, a shared fund) after this one.

The study's path ends in regeneration: residents who co-produced a lift act together again.
The simulation reads it from each unit's end state (success, final cooperation level):

- a unit that co-produced its lift (in service, cooperation level 4) starts the next action with
  trust raised by CO_PRODUCED_GAIN;
- one that got its lift with less cooperation, by LIFT_ONLY_GAIN;
- one that failed after consent was reached or objections were fought, by FAILED_LOSS (negative:
  a failed collective action leaves distrust).

The three numbers are assumptions (docs/simulation.md §12); the order of the three groups is the
study's claim, the sizes are not. The evidence code `outcome.regeneration` is the same outcome
in coded interviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.sim.model import RunResult

CO_PRODUCED_GAIN = 0.10  # assumption
LIFT_ONLY_GAIN = 0.04  # assumption
FAILED_LOSS = -0.05  # assumption
CO_PRODUCING = 4  # cooperation level "co-producing"


@dataclass(frozen=True)
class NextAction:
    """Per unit: the trust it carries into the next collective action, and the counts."""

    trust_carry: NDArray[np.float64]
    co_produced: int
    lift_only: int
    failed: int

    def summary(self) -> dict[str, Any]:
        n = int(self.trust_carry.size)
        return {
            "evidence_code": "outcome.regeneration",
            "units": n,
            "co_produced": self.co_produced,
            "lift_only": self.lift_only,
            "failed": self.failed,
            "regeneration_share": self.co_produced / n if n else 0.0,
            "mean_trust_carry": float(self.trust_carry.mean()) if n else 0.0,
        }


def next_action(result: RunResult) -> NextAction:
    """What each simulated unit carries into its next collective action."""
    final = result.cooperation[-1] if result.cooperation.size else np.zeros(0, np.int8)
    success = result.success
    co = success & (final >= CO_PRODUCING)
    lift_only = success & ~co
    failed = (result.failure != "") & ~success
    carry = np.zeros(success.size)
    carry[co] = CO_PRODUCED_GAIN
    carry[lift_only] = LIFT_ONLY_GAIN
    carry[failed] = FAILED_LOSS
    return NextAction(carry, int(co.sum()), int(lift_only.sum()), int(failed.sum()))
