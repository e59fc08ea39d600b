"""Regeneration as a simulated outcome: co-produced lifts carry trust into the next action."""

from __future__ import annotations

import numpy as np

from colift.sim import Scenario, UnitBatch, UnitModel
from colift.sim.regeneration import CO_PRODUCED_GAIN, FAILED_LOSS, next_action


def test_units_that_co_produced_start_the_next_action_with_more_trust() -> None:
    batch = UnitBatch.synthetic(120, Scenario(), np.random.default_rng(5), storeys=(5, 6, 7))
    by_strategy = {}
    for name in ("informal_only", "guided"):
        result = UnitModel(batch, Scenario(strategy=name, weeks=160), seed=5).run()
        nxt = next_action(result)
        co = result.success & (result.cooperation[-1] >= 4)
        assert (nxt.trust_carry[co] == CO_PRODUCED_GAIN).all()
        assert (nxt.trust_carry[~result.success & (result.failure != "")] == FAILED_LOSS).all()
        assert nxt.co_produced + nxt.lift_only == int(result.success.sum())
        by_strategy[name] = nxt.summary()
    # guidance leads to more co-production, so more units start the next action trusting more
    assert (
        by_strategy["guided"]["regeneration_share"]
        > by_strategy["informal_only"]["regeneration_share"]
    )
    assert (
        by_strategy["guided"]["mean_trust_carry"] > by_strategy["informal_only"]["mean_trust_carry"]
    )
