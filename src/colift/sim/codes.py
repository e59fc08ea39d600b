"""The model's codes: failure causes, plan conditions, series, and the rows and groups of
a week's combined tool effects (`E_*`, `R_*`, `B_*`), shared by the build and the step."""

from __future__ import annotations

import numpy as np

from colift.coproduction.heterogeneity import OBJECTION_SEVERITY
from colift.model import ObjectionStatus, Role
from colift.model.coproduction import Obstacle
from colift.sim.batch import ROLE_INDEX
from colift.sim.strategies import (
    ACCEPTANCE,
    CONSTRUCTION,
    FORMAL,
    INFORMAL,
    NOTICE,
)

FAILURES = ("", "no_consent", "objection", "funding", "technical", "initiator_exit", "deadline")
NO_CONSENT, F_OBJECTION, F_FUNDING, F_TECHNICAL, F_EXIT, F_DEADLINE = range(1, 7)
CONDITION_CODES = {
    "always": 0,
    "objection": 1,
    "technical": 2,
    "low_floor": 3,
    "cost": 4,
    "absentee": 5,
}
SERIES = (
    "week",
    "mean_support",
    "share_consented",
    "share_in_service",
    "share_failed",
    "mean_cooperation",
)

_FORMAL_IDX = np.array([ROLE_INDEX[r] for r in sorted(FORMAL)])
_ACTION = ROLE_INDEX[Role.ACTION_LEADER]
_STEPS = np.zeros(8, bool)  # phases that end when their weeks have passed (notice: if unopposed)
_STEPS[[NOTICE, CONSTRUCTION, ACCEPTANCE]] = True
_OTHER_INFORMAL_IDX = np.array(
    [ROLE_INDEX[r] for r in sorted(INFORMAL) if r is not Role.ACTION_LEADER]
)

# Obstacles the advisor strategy reads from the state, in a fixed order.
ADVISOR_OBSTACLES = (
    Obstacle.OBJECTION,
    Obstacle.TECHNICAL,
    Obstacle.INTEREST,
    Obstacle.TENURE,
    Obstacle.COST,
    Obstacle.INFORMATION,
    Obstacle.LEGITIMACY,
    Obstacle.APPROVAL,
    Obstacle.COORDINATION,
)
# Severity of the procedural obstacles, which heterogeneity does not score (assumption).
APPROVAL_SEVERITY = 0.5
COORDINATION_SEVERITY = 0.4
ADVISOR_CANDIDATES = 4
_OBJECTION_STAGE_SEVERITY = np.array(
    [0.0]
    + [
        OBJECTION_SEVERITY[s]
        for s in (
            ObjectionStatus.NEGOTIATION,
            ObjectionStatus.MEDIATION,
            ObjectionStatus.HEARING,
            ObjectionStatus.LITIGATION,
        )
    ]
)


# Whom a use reaches (and so who counts as reached from then on).
R_LIVES, R_LOW, R_OBJ, R_PERS = range(4)
N_REACH = 4
_REACH_OF = {
    "unit": R_LIVES,
    "owners": R_LIVES,
    "low_floor": R_LOW,
    "objectors": R_OBJ,
    "persuade": R_PERS,
}
# Who receives a use's lasting support: as reached, except whole-unit messages (opinion leaders
# who heard the week's messages) and absentees (those found this week).
B_LIVES, B_LOW, B_OBJ, B_PERS, B_MSG, B_ABS = range(6)
N_BOOST = 6
_BOOST_OF = {R_LIVES: B_LIVES, R_LOW: B_LOW, R_OBJ: B_OBJ, R_PERS: B_PERS}
# Rows of the week's combined effects: one matrix product of the week's uses by these rows.
E_PRESSURE, E_OBJECTION, E_TECHNICAL, E_ABSENTEE, E_APPROVAL, E_STUBBORN, E_POOL, E_COMP = range(8)
E_LEVEL4 = 8  # uses evidencing level 4 (co-funding, co-management)
E_FIRST = 9  # uses of tools whose first use only counts (loss, subsidy)
# 2 × N_BOOST rows: log-factors of boosts per group, the less then the more credible messengers
E_BOOST = 10
E_ANY = E_BOOST + 2 * N_BOOST  # N_REACH rows: uses per reach group
E_L1 = E_ANY + N_REACH  # N_REACH rows: uses evidencing level 1, per reach group
E_L2 = E_L1 + N_REACH  # N_REACH rows: uses evidencing level 2 or more
E_COOP = E_L2 + N_REACH  # the level residents' and low floors' uses and co-funding give
N_EFFECTS = E_COOP + 1
_TINY = 1e-300
_BIG = np.float32(1e30)
_PACK8 = np.uint64(0x0102040810204080)
_SHIFT56 = np.uint64(56)
