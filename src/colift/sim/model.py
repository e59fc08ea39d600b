"""The unit model: stairwells simulated week by week, many at once (docs/simulation.md §3).

`UnitModel` keeps Mesa's vocabulary (`step`, `run`, `datacollector`) but holds every unit and
household in arrays, households household-major (H, U): nothing loops over units, households or
tool uses in Python. Each week:

1. leaders: an action leader may quit; formal guidance may find a new one; a unit with no leader
   left stalls;
2. interventions: the week's tool uses act together through their catalogue effects. Which are
   due and whom they target is read from the state at the start of the week; their effects are
   summed as rows of a matrix (`_effect_row`), and for a plan the sum for each (phase, week in
   phase, conditions, leader, make-up) is a table built once, so a week is one lookup per unit;
   chances combine as 1 − ∏(1 − p), saturating boosts and pressure as products;
3. influence: Friedkin–Johnsen, y ← Λ W y + (I − Λ) a, with a the lasting anchors;
4. decisions: reached owner groups agree, abstain or disagree by their thresholds;
5. objections move through their stages;
6. phases advance: consent by the vectorized tally, notice, approval (technical block, funding
   check), construction, acceptance, service;
7. failures are recorded with the blocker at the time.

Randomness: `SeedSequence(seed).spawn(2)` gives one stream for the initial draws and one for the
dynamics, drawn in a fixed order, so one seed gives bit-identical results wherever it runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.advisor import stage_weight
from colift.coproduction.catalogue import Catalogue, Reach, Tool, load_catalogue
from colift.coproduction.heterogeneity import OBJECTION_SEVERITY, SEVERITY_SCALE
from colift.model import ObjectionStatus, Role
from colift.model.coproduction import LOW_FLOOR_MAX, Obstacle, Stage
from colift.sim.advisor_strategy import advise_week, advisor_tools
from colift.sim.batch import LEADER_ORDER, ROLE_INDEX, UnitBatch, UnitSpec
from colift.sim.params import Defaults, Scenario
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    CONSTRUCTION,
    FAILED,
    FORMAL,
    INFORMAL,
    NEGOTIATION,
    NOTICE,
    PHASE_NAMES,
    SERVICE,
    StrategySpec,
    strategy_for,
)
from colift.sim.tally import ABSENT, ABSTAIN, AGREE, DISAGREE, passes, rule_table

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


# ---------------------------------------------------------------- results


class DataCollector:
    """Unit-wide aggregates per week (index 0: before the first step)."""

    def __init__(self) -> None:
        self.series: dict[str, list[float]] = {name: [] for name in SERIES}

    def collect(self, model: UnitModel) -> None:
        n = max(model.batch.n_units, 1)
        values = (
            model.week,
            model.mean_support(),
            model.n_consented / n,
            model.n_in_service / n,
            model.n_failed / n,
            int(np.add.reduce(model.cooperation, axis=None, dtype=np.int64)) / n,
        )
        for name, value in zip(SERIES, values, strict=True):
            self.series[name].append(value)

    def frame(self) -> dict[str, NDArray[Any]]:
        return {name: np.asarray(values) for name, values in self.series.items()}


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _quartiles(values: NDArray[Any]) -> dict[str, float | None]:
    if values.size == 0:
        return {"q1": None, "median": None, "q3": None}
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"q1": float(q1), "median": float(med), "q3": float(q3)}


@dataclass
class RunResult:
    success: NDArray[np.bool_]
    week_consent: NDArray[np.int32]  # -1: never
    week_service: NDArray[np.int32]
    failure: NDArray[np.str_]  # "" when in service or still running
    cooperation: NDArray[np.int8]  # (weeks + 1, U)
    resident_fen: NDArray[np.int64]  # paid by the payers (includes the compensation they raise)
    subsidy_fen: NDArray[np.int64]
    compensation_fen: NDArray[np.int64]  # paid to low floors out of the residents' pool
    weeks: int = 0
    labels: list[str] = field(default_factory=list)
    strategy: str = ""

    def summary(self) -> dict[str, Any]:
        n = int(self.success.size)
        k = int(self.success.sum())
        lo, hi = wilson(k, n)
        failed = self.failure != ""
        causes = {code: int((self.failure == code).sum()) for code in FAILURES[1:]}
        n_failed = int(failed.sum())
        return {
            "units": n,
            "weeks": self.weeks,
            "strategy": self.strategy,
            "success_rate": k / n if n else 0.0,
            "success_ci95": [lo, hi],
            "successes": k,
            "failed": n_failed,
            "running": n - k - n_failed,
            "weeks_to_consent": _quartiles(self.week_consent[self.week_consent >= 0]),
            "weeks_to_service": _quartiles(self.week_service[self.week_service >= 0]),
            "failure_causes": causes,
            "failure_mix": {c: (v / n_failed if n_failed else 0.0) for c, v in causes.items()},
            "mean_cooperation": [float(x) for x in self.cooperation.mean(axis=1)] if n else [],
            "money_fen": {
                "residents": int(self.resident_fen.sum()),
                "subsidy": int(self.subsidy_fen.sum()),
                "compensation": int(self.compensation_fen.sum()),
                "residents_per_success": int(self.resident_fen.sum()) // k if k else 0,
                "subsidy_per_success": int(self.subsidy_fen.sum()) // k if k else 0,
            },
        }


# ---------------------------------------------------------------- compiled tools

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


@dataclass
class _ToolUse:
    """One catalogue tool as the model applies it, with what the strategy's roles make of it."""

    tool: Tool
    col: int  # column in the per-tool arrays
    formal: NDArray[np.bool_]  # (U,) a formal role of the unit holds it
    other_informal: NDArray[np.bool_]  # (U,) an informal role other than the action leader
    action: NDArray[np.bool_]  # (U,) the action leader holds it
    target: str  # unit, owners, low_floor, objectors, stubborn, persuade, none
    message: bool  # a whole-unit message: two-step flow
    technical: bool
    pooling: bool


def _rows_any(a: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Any along axis 1, as a plain ufunc reduction (no Python-level wrapper)."""
    result: NDArray[np.bool_] = np.logical_or.reduce(a, axis=1)
    return result


def _nz(a: NDArray[Any]) -> NDArray[np.intp]:
    """Flat positions of the true (non-zero) items, without numpy's Python-level wrappers."""
    result: NDArray[np.intp] = a.reshape(-1).nonzero()[0]
    return result


def _target_kind(tool: Tool) -> str:
    e = tool.effects
    if tool.reaches is Reach.UNIT:
        return "unit"
    if tool.reaches is Reach.OWNERS:
        return "owners"
    if e.loss_delta > 0 or e.compensation_fen > 0:
        return "low_floor"
    if tool.addresses and tool.addresses[0] is Obstacle.OBJECTION:
        return "objectors"
    if e.stubborn_supporters > 0:
        return "stubborn"
    if e.support_delta + e.trust_delta > 0:
        return "persuade"
    return "none"


def _keep_log(p: float) -> float:
    """log of the chance that something survives one use acting with probability p."""
    return math.log(max(1.0 - min(1.0, max(p, 0.0)), _TINY))


def _effect_row(use: _ToolUse, mult: float, credible: int, d: Defaults) -> NDArray[np.float64]:
    """What one use does, as a row of the week's effect matrix (docs/simulation.md §3)."""
    tool = use.tool
    e = tool.effects
    row = np.zeros(N_EFFECTS)
    if e.pressure_delta and d.pressure_cap > 0:
        row[E_PRESSURE] = math.log(max(1.0 - e.pressure_delta * mult / d.pressure_cap, _TINY))
    if e.objection_resolve_p:
        row[E_OBJECTION] = _keep_log(e.objection_resolve_p * mult)
    if use.technical:
        row[E_TECHNICAL] = _keep_log(d.technical_fix_p * mult)
    seeks_absentees = tool.reaches_absentees and e.reach_absentee_p > 0
    if seeks_absentees:
        row[E_ABSENTEE] = _keep_log(e.reach_absentee_p * mult)
    row[E_APPROVAL] = e.approval_weeks_delta
    row[E_STUBBORN] = e.stubborn_supporters
    row[E_POOL] = float(use.pooling)
    row[E_COMP] = e.compensation_fen
    row[E_LEVEL4] = float(tool.evidences >= 4)
    row[E_FIRST] = float(bool(e.loss_delta or e.subsidy_delta))
    group = _REACH_OF.get(use.target)
    dv = e.support_delta + e.trust_delta
    if dv > 0 and d.persuasion_cap > 0:
        factor = math.log(max(1.0 - dv / d.persuasion_cap, _TINY))
        if group is not None:
            row[E_BOOST + 2 * (B_MSG if use.message else _BOOST_OF[group]) + credible] = factor
        if seeks_absentees:
            row[E_BOOST + 2 * B_ABS + credible] = factor
    if group is not None:
        row[E_ANY + group] = 1.0
        row[E_L1 + group] = float(tool.evidences == 1)
        row[E_L2 + group] = float(tool.evidences >= 2)
    return row


def _levels(feats: NDArray[np.float32]) -> NDArray[np.float32]:
    """Turn the per-group counts of level-1 and level-2 uses into the level reached (0, 1, 2)
    in the E_L1 rows, so that a week's cooperation evidence is one product per group."""
    l1 = feats[:, E_L1 : E_L1 + N_REACH]
    l2 = feats[:, E_L2 : E_L2 + N_REACH]
    feats[:, E_L1 : E_L1 + N_REACH] = np.where(l2 > 0, 2, (l1 > 0) * 1)
    feats[:, E_L2 : E_L2 + N_REACH] = 0
    return feats


def _settle(
    feats: NDArray[np.float32],
    phase: NDArray[np.integer],
    lives_any: NDArray[np.bool_],
    low_any: NDArray[np.bool_],
) -> NDArray[np.float32]:
    """Fold what the units' phase and fixed make-up decide into the effect rows: approval is
    sped up only up to approval, and E_COOP is the cooperation level the week's uses give
    through residents and low floors (a unit with none of either is not touched that way) and
    co-funding or co-management after consent."""
    feats[:, E_APPROVAL] *= phase <= APPROVAL
    level = np.maximum(feats[:, E_L1 + R_LIVES] * lives_any, feats[:, E_L1 + R_LOW] * low_any)
    four = (feats[:, E_LEVEL4] > 0) & (phase >= NOTICE) & (phase <= ACCEPTANCE)
    feats[:, E_COOP] = np.maximum(level, four * np.float32(4))
    return feats


def _lcm(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out = out * v // math.gcd(out, v)
    return out


# ---------------------------------------------------------------- the model


class UnitModel:
    """Stairwells simulated forward under one scenario; see the module docstring.

    Household arrays are held household-major, shape (H, U), so that sums over a unit's flats
    run along contiguous rows; `support`, `votes` and `reached` give them as (U, H).
    """

    def __init__(
        self,
        units: Sequence[UnitSpec] | UnitBatch,
        scenario: Scenario = Scenario(),
        seed: int = 0,
        *,
        catalogue: Catalogue | None = None,
    ) -> None:
        batch = (
            units if isinstance(units, UnitBatch) else UnitBatch.from_specs(list(units), scenario)
        )
        self.batch = b = batch.for_scenario(scenario)
        self.scenario = scenario
        self.d = d = scenario.defaults
        self.catalogue = catalogue or load_catalogue()
        self.strategy: StrategySpec = strategy_for(scenario.strategy)
        self.seed = seed
        init_seq, dyn_seq = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(init_seq)
        self.rng = np.random.default_rng(dyn_seq)
        self.week = 0
        u_n, h_n = b.n_units, b.width
        mask = b.mask
        lives = b.lives_here
        band = (np.clip(b.floor, 1, 4) - 1).astype(np.intp)

        # ---- households: prior support, thresholds, ability (init stream, fixed order)
        lo = np.array([p[0] for p in d.support_prior], np.float32)
        hi = np.array([p[1] for p in d.support_prior], np.float32)
        draw = rng.random((u_n, h_n), dtype=np.float32)
        prior = lo[band] + (hi - lo)[band] * draw
        needy = (b.floor >= d.need_floor_min) & (b.elderly | b.need)
        prior = np.where(needy, np.float32(d.support_need_upper), prior)
        theta = np.asarray(d.thresholds, np.float32)[band]
        voted = b.vote >= 0
        from_vote = np.select(
            [b.vote == AGREE, b.vote == ABSTAIN, b.vote == DISAGREE],
            [theta + 0.1, theta - 0.1, theta - 0.35],
            prior,
        )
        prior = np.where(voted, from_vote, prior)
        prior = np.where(np.isnan(b.support), prior, b.support)
        prior = np.where(mask, np.clip(prior, 0, 1), 0).astype(np.float32)
        ability = rng.lognormal(np.log(d.ability_median_fen), d.ability_sigma, (u_n, h_n))
        ability = np.maximum(np.where(np.isnan(b.ability_fen), ability, b.ability_fen), 1.0)
        tech_draw = rng.random(u_n) < d.p_technical
        self.technical: NDArray[np.bool_] = np.where(b.technical < 0, tech_draw, b.technical == 1)
        neg = rng.lognormal(np.log(d.negotiation_median_weeks), d.negotiation_sigma, u_n)
        self.neg_weeks = np.maximum(1, np.rint(neg)).astype(np.int32)
        self.approval_weeks = rng.integers(d.approval_weeks[0], d.approval_weeks[1] + 1, u_n)
        self.construction_weeks = rng.integers(
            d.construction_weeks[0], d.construction_weeks[1] + 1, u_n
        )
        self.acceptance_weeks = rng.integers(d.acceptance_weeks[0], d.acceptance_weeks[1] + 1, u_n)
        table = rule_table(b.profiles)
        self.notice_weeks = -(-table.notice_days[b.profile_index] // 7)
        self.no_objection_rule = table.no_objection[b.profile_index]

        def hu(a: NDArray[Any], dtype: Any = None) -> NDArray[Any]:
            return np.ascontiguousarray(a.T, dtype=dtype)

        # ---- household-major copies of what the weeks read
        self._mask = hu(mask)
        self._lives = hu(lives)
        self._livesf = self._lives.astype(np.float32)
        self._nonres = self._mask & ~self._lives
        self._low_lives = self._lives & hu(b.floor <= LOW_FLOOR_MAX)
        self._low_livesf = self._low_lives.astype(np.float32)
        self._lives_any = _rows_any(self._lives.T)
        self._low_any = _rows_any(self._low_lives.T)
        self._some_without_residents = not bool(self._lives_any.all())
        self._theta = hu(theta, np.float32)
        self._theta_off = self._theta - ~self._lives * _BIG  # θ, far down off the residents
        self._prior = prior.T.copy()
        self._ability = hu(ability, np.float64)
        self._ability_masked = self._ability * self._mask
        self._gap_fen = np.zeros(u_n)
        self._spare_fen = np.zeros(u_n)
        self._party = hu(b.party)
        self._n_mask = max(int(mask.sum()), 1)

        # ---- low-floor loss D and money
        self._floor1 = hu((b.floor == 1) & mask)
        self.n1 = self._floor1.sum(axis=0)
        self._d0 = np.where(
            self._floor1,
            np.float32(d.low_floor_loss_1f),
            np.where(hu((b.floor == 2) & mask), np.float32(d.low_floor_loss_2f), np.float32(0)),
        ).astype(np.float32)
        self.loss_factor = np.ones(u_n, np.float32)
        self.comp = b.compensation_fen.astype(np.int64).copy()
        self.extra_subsidy = np.zeros(u_n)
        total_w = b.weight.sum(axis=1, keepdims=True)
        frac = np.divide(b.weight, total_w, out=np.zeros_like(b.weight), where=total_w > 0)
        self._frac = hu(frac, np.float64)
        self._share = hu(b.share_fen, np.float64)
        self.subsidy = b.subsidy_fen.astype(np.int64).copy()
        self.payable = b.payable_fen.astype(np.int64).copy()
        self.pooling = np.zeros(u_n, bool)
        self._pen = self._penalty(self._share, self._ability, self._mask)
        # An observed stance already holds the household's view of its share: count only changes.
        observed = hu(voted | ~np.isnan(b.support))
        self._pen_base = np.where(observed, self._pen, np.float32(0)).astype(np.float32)
        self._cost_cond: NDArray[np.bool_] = _rows_any(
            (self._mask & (self._share > self._ability)).T
        )
        self._money_sums(slice(None))
        self._base = np.zeros((h_n, u_n), np.float32)  # the anchor without boost and stubbornness
        self._refresh_base(None)

        # ---- roles and guidance
        self._roles(b)

        # ---- influence network and susceptibility
        self._W = np.ascontiguousarray(self._network(b).transpose(1, 2, 0))
        self._opinion = self._lives & hu(b.leader | b.party)
        self._opinion_pos = _nz(self._opinion)
        self._opinion_unit = self._opinion_pos % max(u_n, 1)
        self._nonres_pos = _nz(self._nonres)
        self._nonres_unit = self._nonres_pos % max(u_n, 1)
        self._stubborn: NDArray[np.bool_] = (
            self._lives & self._party & np.bool_(self.strategy.embedded)
        )
        lam = np.where(mask, np.float32(d.susceptibility_resident), np.float32(0))
        informal_here = _rows_any(self.roles[:, [ROLE_INDEX[r] for r in INFORMAL]])
        lam = np.where(b.leader & informal_here[:, None], np.float32(d.susceptibility_leader), lam)
        self._lam = hu(lam, np.float32)
        self._lam[self._stubborn] = np.float32(d.susceptibility_leader)
        self._oml = (np.float32(1) - self._lam).astype(np.float32)
        self._stub_anchor = (self._stubborn * np.float32(d.party_anchor)).astype(np.float32)
        self._boost = np.zeros((h_n, u_n), np.float32)
        self._buf_log = np.zeros((h_n, u_n), np.float32)
        self._buf_gap = np.zeros((h_n, u_n), np.float32)
        self._buf_anchor = np.zeros((h_n, u_n), np.float32)
        self._buf_te = np.zeros((h_n, u_n), np.float32)
        self._buf_agree = np.zeros((h_n, u_n), bool)
        self.pressure = np.zeros(u_n, np.float32)
        self.approval_adjust = np.zeros(u_n, np.float32)

        # ---- owner groups: flats that are not their owner's lead flat (flat positions h·U + u)
        self.is_lead = b.is_lead
        nu, nh = np.nonzero(~self.is_lead & mask)
        self._nonlead_pos = nh.astype(np.intp) * u_n + nu
        self._lead_pos = b.lead[nu, nh].astype(np.intp) * u_n + nu
        self._absent3 = np.zeros((h_n, u_n), np.int8)
        self._groups_dirty = True
        self._absentees_dirty = True
        self._absentees_left = np.zeros(u_n, bool)

        # ---- the consent tally's fixed parts
        self._compile_tally()

        # ---- phases, objections, outcomes
        self.phase = b.phase0.astype(np.int8).copy()
        self.wip = np.zeros(u_n, np.int32)  # whole weeks spent in the current phase
        self._obj_stage = hu(np.where(mask, b.objection, 0), np.int8)
        self._obj_weeks = np.zeros((h_n, u_n), np.int16)
        self._obj_age = np.zeros((h_n, u_n), np.int16)
        self._open = self._obj_stage > 0
        self._any_open = bool(self._open.any())  # kept with _open: is any objection open?
        self._no_open = np.zeros(u_n, bool)  # read only: no unit has an open objection
        self._no_open.flags.writeable = False
        self._reached = hu((b.vote >= 0) & (b.vote != ABSENT) & mask)
        self._residents_left = True
        self.week_consent = np.where(self.phase >= NOTICE, 0, -1).astype(np.int32)
        self.week_service = np.where(self.phase == SERVICE, 0, -1).astype(np.int32)
        self.failure = np.zeros(u_n, np.int8)
        self.leaderless = np.zeros(u_n, np.int32)
        self.cooperation = np.where(self.phase >= NOTICE, 3, 0).astype(np.int8)
        self.n_consented = int(np.count_nonzero(self.week_consent >= 0))
        self.n_in_service = int(np.count_nonzero(self.phase == SERVICE))
        self.n_failed = int(np.count_nonzero(self.phase == FAILED))
        self._cols = np.arange(u_n)
        self._bits_seen: dict[int, list[bool]] = {}
        # weeks each phase lasts, per unit (service and failure never end)
        self._need = np.full((u_n, 8), 1e9)
        self._need[:, NEGOTIATION] = self.neg_weeks
        self._need[:, NOTICE] = self.notice_weeks
        self._need[:, CONSTRUCTION] = self.construction_weeks
        self._need[:, ACCEPTANCE] = self.acceptance_weeks
        self._need[:, APPROVAL] = self.approval_weeks
        self._no_objection_any = bool(self.no_objection_rule.any())
        self._may_repeat = ~self.no_objection_rule  # a failed count may stand while votes hold
        self._tally_failed = np.zeros(u_n, bool)  # counted last week in negotiation, and failed
        self._need_at = np.arange(u_n) * 8  # flat position of each unit's row in _need

        # ---- tools
        self._compile_tools()

        # ---- state at week 0
        self._support = self._anchor()
        self._votes = self._decide()
        self._votes_before = self._votes
        self.datacollector = DataCollector()
        self._history: list[NDArray[np.int8]] = [self.cooperation.copy()]
        self.datacollector.collect(self)

    # ------------------------------------------------------------ views, shape (U, H)

    @property
    def support(self) -> NDArray[np.float32]:
        return self._support.T

    @property
    def votes(self) -> NDArray[np.int8]:
        return self._votes.T

    @property
    def reached(self) -> NDArray[np.bool_]:
        return self._reached.T

    @property
    def obj_stage(self) -> NDArray[np.int8]:
        return self._obj_stage.T

    # ------------------------------------------------------------ setup helpers

    def _roles(self, b: UnitBatch) -> None:
        strat = self.strategy
        u_n = b.n_units
        if strat.roles:
            vec = np.array([r in strat.roles for r in LEADER_ORDER])
            roles = np.broadcast_to(vec, (u_n, len(LEADER_ORDER))).copy()
        else:
            # A schedule without roles runs with the unit's leaders and those its tools need.
            needed = set()
            for tool_id in strat.tool_ids():
                tool = self.catalogue.get(tool_id)
                if tool.leader_roles:
                    needed.add(tool.leader_roles[0])
            vec = np.array([r in needed for r in LEADER_ORDER])
            roles = b.leaders | vec[None, :]
            if not roles.any():
                roles[:, _ACTION] = True
        self.roles = roles
        self.formal_here = roles[:, _FORMAL_IDX].any(axis=1)
        self.other_informal = roles[:, _OTHER_INFORMAL_IDX].any(axis=1)
        self._other_leader = self.formal_here | self.other_informal
        self._always_led = bool(self._other_leader.all())
        self.had_action = roles[:, _ACTION].copy()
        self.action_here = roles[:, _ACTION].copy()
        d = self.d
        self.formal_mult = d.trust_direct if strat.direct else 1.0
        self.informal_mult = 1.0 if (strat.direct or strat.embedded) else d.trust_alone

    def _network(self, b: UnitBatch) -> NDArray[np.float32]:
        d = self.d
        f = b.floor.astype(np.int16)
        h_n = b.width
        eye = np.eye(h_n, dtype=bool)[None]
        same = (f[:, :, None] == f[:, None, :]) & ~eye
        adj = (np.abs(f[:, :, None] - f[:, None, :]) == 1) & (
            b.stack[:, :, None] == b.stack[:, None, :]
        )
        party = b.party[:, :, None] & b.party[:, None, :] & ~eye
        w = (
            np.float32(d.w_same_floor) * same
            + np.float32(d.w_adjacent) * adj
            + np.float32(d.w_party) * party
        ).astype(np.float32)
        if b.ties is not None:
            w += b.ties
        # Absentee and developer flats neither hear nor are heard: self-loop only.
        live = b.lives_here
        w *= live[:, :, None] & live[:, None, :]
        rows = w.sum(axis=2)
        w += (rows == 0)[:, :, None] * eye
        w /= np.maximum(w.sum(axis=2, keepdims=True), np.float32(1e-12))
        result: NDArray[np.float32] = w.astype(np.float32)
        return result

    def _use_for(self, tool: Tool) -> _ToolUse:
        found = self._by_id.get(tool.id)
        if found is not None:
            return found
        holders = set(tool.roles)
        col_of = {r: ROLE_INDEX[r] for r in LEADER_ORDER}
        formal = np.zeros(self.batch.n_units, bool)
        other = np.zeros(self.batch.n_units, bool)
        for role in holders & FORMAL:
            formal |= self.roles[:, col_of[role]]
        for role in holders & (INFORMAL - {Role.ACTION_LEADER}):
            other |= self.roles[:, col_of[role]]
        action = (
            self.roles[:, _ACTION]
            if Role.ACTION_LEADER in holders
            else np.zeros(self.batch.n_units, bool)
        )
        e = tool.effects
        use = _ToolUse(
            tool=tool,
            col=len(self._uses),
            formal=formal,
            other_informal=other,
            action=action,
            target=_target_kind(tool),
            message=tool.reaches is Reach.UNIT and tool.evidences <= 1,
            technical=Obstacle.TECHNICAL in tool.addresses,
            pooling=tool.evidences >= 4 and Obstacle.COST in tool.addresses,
        )
        if e.support_delta < 0 or e.trust_delta < 0:
            use.message = False
        self._uses.append(use)
        self._by_id[tool.id] = use
        return use

    def _compile_tools(self) -> None:
        """Every tool the strategy may use, as arrays; the plan as a lookup table."""
        self._uses: list[_ToolUse] = []
        self._by_id: dict[str, _ToolUse] = {}
        plan = self.strategy.plan
        item_tools = [self._use_for(self.catalogue.get(item.tool)).col for item in plan]
        self._schedule = {
            week: [self._use_for(self.catalogue.get(t)).col for t in tools]
            for week, tools in self.strategy.schedule.items()
        }
        self._advisor: dict[tuple[int, int], list[_ToolUse]] = {}
        if self.strategy.policy == "advisor":
            stages = (
                Stage.CONSULTATION,
                Stage.VOTE,
                Stage.NOTICE,
                Stage.APPROVAL,
                Stage.CONSTRUCTION,
                Stage.ACCEPTANCE,
            )
            for oi, obstacle in enumerate(ADVISOR_OBSTACLES):
                for si, stage in enumerate(stages):
                    usable = advisor_tools(  # hook: sim/advisor_strategy.py
                        obstacle,
                        stage,
                        self.catalogue,
                        self.strategy.roles,
                        limit=ADVISOR_CANDIDATES,
                    )
                    self._advisor[(oi, si)] = [self._use_for(t) for t in usable]
        uses = self._uses
        u_n = self.batch.n_units
        n_t = len(uses)
        d = self.d
        fm, im = self.formal_mult, self.informal_mult
        lo_mult, hi_mult = min(fm, im), max(fm, im)
        self._caps = (
            np.float32(d.persuasion_cap * lo_mult),
            np.float32(d.persuasion_cap * hi_mult),
        )
        f_base = 0 if fm == lo_mult else 1
        i_base = 0 if im == lo_mult else 1
        shape = (n_t, N_EFFECTS)
        self._pressure_rises = all(u.tool.effects.pressure_delta >= 0 for u in uses)
        self._e_formal = np.array([_effect_row(u, fm, f_base, d) for u in uses]).reshape(shape)
        self._e_informal = np.array([_effect_row(u, im, i_base, d) for u in uses]).reshape(shape)
        # (U, T): who may use each tool, and whether a formal holder does (trust_direct).
        col = np.zeros((u_n, 0), bool)
        self._t_formal = np.stack([u.formal for u in uses], axis=1) if uses else col
        self._t_able = (
            np.stack([u.formal | u.other_informal for u in uses], axis=1) if uses else col
        )
        self._t_action = np.stack([u.action for u in uses], axis=1) if uses else col
        # First-use effects (loss and subsidy) need to know which tools a unit has used.
        first = [u.col for u in uses if u.tool.effects.loss_delta or u.tool.effects.subsidy_delta]
        self._first_cols = np.array(first, np.intp)
        self._first_loss = np.array(
            [math.log(max(1.0 - uses[c].tool.effects.loss_delta, _TINY)) for c in first]
        )
        self._first_subsidy = np.array([uses[c].tool.effects.subsidy_delta for c in first])
        self._used_first = np.zeros((u_n, len(first)), bool)
        self.last_use = np.full((u_n, n_t if self._advisor else 0), -(10**4), np.int32)

        # ---- the plan: items (K) as a table of (phase, week in phase, conditions) → due
        self._k = len(plan)
        if not plan:
            return
        ti = np.array(item_tools, np.intp)
        k_formal = self._t_formal[:, ti]
        k_able = self._t_able[:, ti]
        k_action = self._t_action[:, ti]
        first_of = {c: j for j, c in enumerate(first)}
        k_first = np.zeros((len(plan), len(first)), np.float32)
        for k, c in enumerate(item_tools):
            if c in first_of:
                k_first[k, first_of[c]] = 1.0
        # Conditions the plan reads, one bit each.
        whens = sorted({CONDITION_CODES[item.when] for item in plan} - {0})
        self._when_codes = whens
        n_c = 1 << len(whens)
        starts = [item.start for item in plan]
        periods = [item.every for item in plan if item.every]
        s0 = max(starts) + 1
        period = _lcm(periods)
        rows = s0 + period
        self._s0, self._period, self._rows, self._n_c = s0, period, rows, n_c
        self._phase_pos = np.arange(8, dtype=np.intp) * rows
        # one byte per condition and unit, 8 to a unit, so a unit's bits pack by one product
        self._cond_buf = np.zeros((u_n, 8), bool)
        self._cond_word = np.zeros(u_n, np.uint64)
        w = np.arange(rows)
        timing = np.zeros((len(plan), rows), bool)
        phases = np.zeros((len(plan), 8), bool)  # phase 7: a unit that does not work this week
        sat = np.zeros((n_c, len(plan)), bool)
        bits = np.arange(n_c)
        for k, item in enumerate(plan):
            if item.every:
                timing[k] = (w >= item.start) & ((w - item.start) % item.every == 0)
            else:
                timing[k] = w == item.start
            phases[k, sorted(item.phases)] = True
            code = CONDITION_CODES[item.when]
            sat[:, k] = True if code == 0 else (bits >> whens.index(code)) & 1 == 1
        due = phases.T[:, None, None, :] & timing.T[None, :, None, :] & sat[None, None, :, :]
        due = due.reshape(8 * rows * n_c, len(plan))
        # for each condition, the (phase, week in phase) rows where an item reading it is due
        at = (phases.T[:, None, :] & timing.T[None, :, :]).reshape(8 * rows, len(plan))
        codes = [CONDITION_CODES[item.when] for item in plan]
        self._cond_rows = np.array(
            [at[:, [k for k, c in enumerate(codes) if c == when]].any(axis=1) for when in whens]
        ).reshape(len(whens), 8 * rows)
        uniform = bool((k_formal == k_formal[:1]).all() and (k_able == k_able[:1]).all())
        uniform = uniform and bool((k_action == k_action[:1]).all()) and u_n > 0
        self._k_table = uniform and due.shape[0] * 8 * N_EFFECTS <= 16_000_000
        if self._k_table:
            # Every unit has the same holders: the week's effects are a row of a table indexed
            # by (phase, week in phase, conditions, action leader present).
            effects = np.where(k_formal[0][:, None], self._e_formal[ti], self._e_informal[ti])
            with_leader = due & (k_able[0] | k_action[0])
            without = due & k_able[0]
            self._k_has_action = bool(k_action[0].any())
            both = np.concatenate([without, with_leader]) if self._k_has_action else without
            raw = _levels((both.astype(np.float64) @ effects).astype(np.float32))
            # rows again for each make-up: residents (bit 0) and low-floor residents (bit 1)
            row_phase = np.tile(np.repeat(np.arange(8), rows * n_c), raw.shape[0] // due.shape[0])
            tables = []
            for make_up in range(4):
                lives_bit = np.full(raw.shape[0], bool(make_up & 1))
                low_bit = np.full(raw.shape[0], bool(make_up & 2))
                tables.append(_settle(raw.copy(), row_phase, lives_bit, low_bit))
            self._feature_table = np.concatenate(tables)
            self._static_code = (self._lives_any + 2 * self._low_any.astype(np.intp)) * raw.shape[0]
            self._buf_feats = np.empty((u_n, N_EFFECTS), np.float32)
            nonzero = self._feature_table != 0
            self._feature_bits = (nonzero * (1 << np.arange(N_EFFECTS, dtype=np.int64))).sum(
                axis=1, dtype=np.int64
            )
            first_rows = both.astype(np.float32) @ k_first
            self._first_table = np.concatenate([first_rows] * 4) if first else None
        else:
            self._plan_due = due
            self._k_able, self._k_action, self._k_formal = k_able, k_action, k_formal
            self._k_e_formal = self._e_formal[ti].astype(np.float32)
            self._k_e_informal = self._e_informal[ti].astype(np.float32)
            self._k_first = k_first

    # ------------------------------------------------------------ state readings

    def _penalty(
        self, share: NDArray[np.float64], ability: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.float32]:
        d = self.d
        pen = np.clip(d.cost_weight * (share / ability - d.cost_reference), 0.0, d.cost_cap)
        result: NDArray[np.float32] = np.where(mask, pen, 0.0).astype(np.float32)
        return result

    def _some(self, sel: NDArray[np.bool_]) -> Any:
        """The units `sel` as an index, or all units when most are selected (cheaper, and the
        recomputations it feeds give the same values for units that did not change)."""
        n = np.count_nonzero(sel)
        return slice(None) if 4 * n > sel.size else _nz(sel)

    def _recompute_money(self, idx: Any) -> None:
        b = self.batch
        total = b.total_fen[idx]
        extra = np.floor(self.extra_subsidy[idx] * total).astype(np.int64)
        self.subsidy[idx] = np.minimum(total, b.subsidy_fen[idx] + extra)
        self.payable[idx] = total - self.subsidy[idx] + self.comp[idx] * self.n1[idx]
        share = self.payable[idx][None, :] * self._frac[:, idx]
        self._share[:, idx] = share
        mask, ability = self._mask[:, idx], self._ability[:, idx]
        self._pen[:, idx] = self._penalty(share, ability, mask)
        self._cost_cond[idx] = _rows_any((mask & (share > ability)).T)
        self._money_sums(idx)

    def _refresh_base(self, idx: Any) -> None:
        """The anchor's lasting part: prior, low-floor loss and compensation, cost (−1 off mask)."""
        d = self.d
        sel: Any = slice(None) if idx is None else idx
        d0 = self._d0[:, sel]
        loss = d0 * self.loss_factor[sel]
        offset = np.minimum(
            loss,
            np.float32(d.low_floor_loss_1f)
            * (self.comp[sel] / d.compensation_full_fen).astype(np.float32),
        )
        a = self._prior[:, sel] + (d0 - loss) - (self._pen[:, sel] - self._pen_base[:, sel])
        a = np.where(self._floor1[:, sel], a + offset, a)
        self._base[:, sel] = np.where(self._mask[:, sel], a, np.float32(-1))

    def _anchor(self, out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
        # clip to [0, 1], then embedded Party members hold at least their anchor (≥ 0 always)
        a = np.add(self._base, self._boost, out=out)
        np.minimum(a, np.float32(1), out=a)
        np.maximum(a, self._stub_anchor, out=a)
        return a

    def _theta_eff(self, idx: NDArray[np.intp] | None = None) -> NDArray[np.float32]:
        """Thresholds lowered by the unit's social pressure, (H, U) (of the units `idx`, or all)."""
        if idx is None:
            result: NDArray[np.float32] = self._theta - self.pressure
        else:
            result = self._theta.take(idx, axis=1) - self.pressure[idx]
        return result

    def _decide(self) -> NDArray[np.int8]:
        """Vote codes per flat: the owner's lead flat decides for all the owner's flats."""
        if self._groups_dirty:
            reached = self._reached.copy()
            if self._nonlead_pos.size:
                np.logical_or.at(
                    reached.reshape(-1),
                    self._lead_pos,
                    self._reached.reshape(-1)[self._nonlead_pos],
                )
            np.multiply(~(reached & self._mask), np.int8(ABSENT), out=self._absent3)
            self._groups_dirty = False
        te = np.subtract(self._theta, self.pressure, out=self._buf_te)
        y = self._support
        agree = np.greater_equal(y, te, out=self._buf_agree).view(np.int8)
        te -= np.float32(self.d.abstain_band)
        code: NDArray[np.int8] = np.greater_equal(y, te).view(np.int8)
        code += np.int8(1)  # agree 0, disagree 1, abstain 2
        code -= agree
        code -= agree
        code |= self._absent3
        if self._nonlead_pos.size:
            flat = code.reshape(-1)
            flat[self._nonlead_pos] = flat[self._lead_pos]
        return code

    def open_objections(self) -> NDArray[np.int64]:
        result: NDArray[np.int64] = self._open.sum(axis=0, dtype=np.int64)
        return result

    def _conditions(self, open_any: NDArray[np.bool_], pos: NDArray[np.intp]) -> NDArray[np.int64]:
        """The plan's conditions per unit this week, one bit each (at most 8); `pos` is each
        unit's (phase, week in phase) row. A condition no due item reads is left false."""
        rows = self._cond_buf
        for j, code in enumerate(self._when_codes):
            if code in (3, 5) and not self._cond_rows[j].take(pos).any():
                rows[:, j] = False
            elif code == 1:
                rows[:, j] = open_any
            elif code == 2:
                rows[:, j] = self.technical
            elif code == 3:  # a low-floor resident who does not agree
                np.logical_or.reduce(
                    self._low_lives & (self._votes != AGREE), axis=0, out=rows[:, j]
                )
            elif code == 4:
                rows[:, j] = self._cost_cond
            else:
                if self._absentees_dirty:
                    self._absentees_left = _rows_any((self._nonres & ~self._reached).T)
                    self._absentees_dirty = False
                rows[:, j] = self._absentees_left
        # a unit's 8 condition bytes (0 or 1) as one little-endian word; the product moves
        # byte j's bit to bit 56 + j, with no carries, so the top byte holds the bits packed
        word = self._cond_word
        np.multiply(rows.view("<u8")[:, 0], _PACK8, out=word)
        np.right_shift(word, _SHIFT56, out=word)
        packed: NDArray[np.int64] = word.view(np.int64)
        return packed

    # ------------------------------------------------------------ interventions

    def _interventions(self, working: NDArray[np.bool_]) -> None:
        """The week's tool uses, all read from the state at the start of the week."""
        if not working.any():
            return
        open_any = _rows_any(self._open.T) if self._any_open else self._no_open
        feats: NDArray[np.float32] | None = None
        first: NDArray[np.float32] | None = None
        bits = -1  # which effect rows are not zero somewhere; -1: not known
        if self._k:
            wip = self.wip
            if int(wip.max()) < self._rows:
                wi = wip
            else:  # the plan repeats with its period once every first use has passed
                wi = np.minimum(wip, self._s0 + (wip - self._s0) % self._period)
            # row of (phase, week in phase); a unit that does not work reads phase 7 (no use)
            ph = self.phase if self._always_led else np.where(working, self.phase, 7)
            pos = self._phase_pos.take(ph)
            pos += wi
            code = pos * self._n_c
            if self._when_codes:
                code += self._conditions(open_any, pos)
            if self._k_table:
                if self._k_has_action:
                    code += self.action_here * (8 * self._rows * self._n_c)
                code += self._static_code
                unit_bits = self._feature_bits.take(code)
                bits = int(np.bitwise_or.reduce(unit_bits))
                if bits == 0 and not self._schedule and not self._advisor:
                    return
                busy = np.count_nonzero(unit_bits)
                if 3 * busy < code.size and not self._schedule and not self._advisor:
                    # few units do anything this week: work on those alone
                    idx = _nz(unit_bits)
                    code = code[idx]
                    first = None
                    if self._first_table is not None:
                        first = self._first_table.take(code, axis=0)
                    feats = self._feature_table.take(code, axis=0)
                    self._apply_week(feats, first, open_any[idx], bits, idx)
                    return
                feats = np.take(self._feature_table, code, axis=0, out=self._buf_feats)
                if self._first_table is not None:
                    first = self._first_table.take(code, axis=0)
            else:
                due = self._plan_due[code]
                due &= self._k_able | (self._k_action & self.action_here[:, None])
                formal = (due & self._k_formal).astype(np.float32)
                feats = (
                    formal @ self._k_e_formal
                    + (due & ~self._k_formal).astype(np.float32) @ self._k_e_informal
                )
                first = due.astype(np.float32) @ self._k_first
                _settle(_levels(feats), ph, self._lives_any, self._low_any)
        extra = self._extra_uses(working)
        if extra is not None:
            able = self._t_able | (self._t_action & self.action_here[:, None])
            extra *= able
            formal = extra * self._t_formal
            more = (formal @ self._e_formal + (extra - formal) @ self._e_informal).astype(
                np.float32
            )
            if feats is not None:  # levels of the plan's uses back to counts, then add
                feats[:, E_L2 : E_L2 + N_REACH] = feats[:, E_L1 : E_L1 + N_REACH] == 2
                feats[:, E_L1 : E_L1 + N_REACH] = feats[:, E_L1 : E_L1 + N_REACH] == 1
            feats = _levels(more if feats is None else feats + more)
            phase_now = np.where(working, self.phase, 7)
            _settle(feats, phase_now, self._lives_any, self._low_any)
            bits = -1
            if self._first_cols.size:
                f2 = extra[:, self._first_cols].astype(np.float32)
                first = f2 if first is None else first + f2
            if self.last_use.size:
                self.last_use[extra > 0] = self.week
        if feats is not None:
            if bits < 0:
                nz = feats.any(axis=0)
                bits = int((nz * (1 << np.arange(N_EFFECTS, dtype=np.int64))).sum())
            self._apply_week(feats, first, open_any, bits)

    def _extra_uses(self, working: NDArray[np.bool_]) -> NDArray[np.float64] | None:
        """Uses this week outside the plan, (U, T): the schedule's and the advisor's."""
        cols = self._schedule.get(self.week, ())
        if not cols and not self._advisor:
            return None
        extra = np.zeros((self.batch.n_units, len(self._uses)))
        for c in cols:
            extra[:, c] += working
        if self._advisor:
            idx, chosen = self._advise(working)
            extra[idx, chosen] += 1.0
        return extra

    def _apply_week(
        self,
        feats: NDArray[np.float32],
        first: NDArray[np.float32] | None,
        open_any: NDArray[np.bool_],
        bits: int,
        idx: NDArray[np.intp] | None = None,
    ) -> None:
        """The week's uses through their catalogue effects; `feats` (n, N_EFFECTS) sums them
        for the units `idx` (all units when None).

        Whom a use reaches and which households it targets are read from the state at the start
        of the week; chances combine as independent draws, saturating effects as if applied one
        after the other (the less credible messengers first).
        """
        d = self.d
        rng = self.rng
        full = idx is None
        sel: Any = slice(None) if idx is None else idx
        at: NDArray[np.intp] = self._cols if idx is None else idx
        n = feats.shape[0]
        nz = self._bits_seen.get(bits)
        if nz is None:
            nz = self._bits_seen[bits] = [bool(bits >> j & 1) for j in range(N_EFFECTS)]

        def cols(a: NDArray[Any]) -> NDArray[Any]:
            return a if idx is None else a.take(idx, axis=1)

        any_open = self._any_open
        open_start = cols(self._open) if any_open else self._open[:, :0]
        # ---- whom the week's uses reach
        pers: NDArray[np.bool_] | None = None
        pers_any: NDArray[np.bool_] | None = None
        if nz[E_ANY + R_PERS]:
            pers, pers_any = self._persuade_targets(feats[:, E_ANY + R_PERS] > 0, idx)
        abs_pos: NDArray[np.intp] | None = None
        abs_unit: NDArray[np.intp] | None = None
        if nz[E_ABSENTEE]:
            if full:
                pos, unit = self._nonres_pos, self._nonres_unit
            else:
                pos = _nz(cols(self._nonres))
                unit = pos % n
            chance = np.expm1(feats[:, E_ABSENTEE]).take(unit)
            np.negative(chance, out=chance)
            hit = (rng.random(pos.size, dtype=np.float32) < chance).nonzero()[0]
            abs_pos, abs_unit = pos.take(hit), unit.take(hit)
        msg_pos: NDArray[np.intp] | None = None
        msg_unit: NDArray[np.intp] | None = None
        if nz[E_BOOST + 2 * B_MSG] or nz[E_BOOST + 2 * B_MSG + 1]:
            if full:
                pos, unit = self._opinion_pos, self._opinion_unit
            else:
                pos = _nz(cols(self._opinion))
                unit = pos % n
            heard = (rng.random(pos.size, dtype=np.float32) < np.float32(d.p_media)).nonzero()[0]
            msg_pos, msg_unit = pos.take(heard), unit.take(heard)
        # ---- lasting support: each class of messenger saturates toward its own cap
        boost = cols(self._boost)
        if any(nz[E_BOOST : E_BOOST + 2 * N_BOOST]):
            # per unit and group, the product of the week's (1 − dv/cap) factors
            factor = np.exp(feats[:, E_BOOST : E_BOOST + 2 * N_BOOST])
            # households that this week's messages, searches, visits and hearings reached
            parts = [(B_MSG, msg_pos, msg_unit), (B_ABS, abs_pos, abs_unit)]
            if pers is not None and (nz[E_BOOST + 2 * B_PERS] or nz[E_BOOST + 2 * B_PERS + 1]):
                p_pos = _nz(pers)
                parts.append((B_PERS, p_pos, p_pos % n))
            if any_open and (nz[E_BOOST + 2 * B_OBJ] or nz[E_BOOST + 2 * B_OBJ + 1]):
                o_pos = _nz(open_start)
                parts.append((B_OBJ, o_pos, o_pos % n))
            hits = [
                (g, pos, unit) for g, pos, unit in parts if pos is not None and unit is not None
            ]
            gap = self._buf_gap if full else np.empty(boost.shape, np.float32)
            livesf = cols(self._livesf)
            for k in (0, 1):
                if not any(nz[E_BOOST + k : E_BOOST + 2 * N_BOOST : 2]):
                    continue
                keep = self._buf_log if full else np.empty(boost.shape, np.float32)
                if nz[E_BOOST + 2 * B_LIVES + k]:  # 1 + lives·(F − 1)
                    np.multiply(livesf, factor[:, 2 * B_LIVES + k] - 1, out=keep)
                    keep += 1
                else:
                    keep.fill(1)
                if nz[E_BOOST + 2 * B_LOW + k]:
                    keep *= cols(self._low_livesf) * (factor[:, 2 * B_LOW + k] - 1) + 1
                flat = keep.reshape(-1)
                for g, pos, unit in hits:  # no flat twice within a group
                    if nz[E_BOOST + 2 * g + k]:
                        flat[pos] *= factor[:, 2 * g + k].take(unit)
                cap = self._caps[k]
                np.subtract(cap, boost, out=gap)
                gap *= keep
                np.subtract(cap, gap, out=gap)
                np.maximum(boost, gap, out=boost)
            if not full:
                self._boost[:, idx] = boost
        # ---- reached from now on
        changed = False
        # `take` gives a C-ordered copy, so `reach` below (a reshape) is a view of it and what
        # is marked through it is written back (a[:, idx] would come out column-major and the
        # reshape would be a copy that drops those marks)
        if full:
            reached = self._reached
        else:
            assert idx is not None  # a subset of the units is named when not full
            reached = self._reached.take(idx, axis=1)
        if self._residents_left:
            if nz[E_ANY + R_LIVES]:
                reached |= cols(self._lives) & (feats[:, E_ANY + R_LIVES] > 0)
            if nz[E_ANY + R_LOW]:
                reached |= cols(self._low_lives) & (feats[:, E_ANY + R_LOW] > 0)
            if pers is not None:
                reached |= pers
            changed = True
        reach = reached.reshape(-1)
        if nz[E_ANY + R_OBJ] and any_open and open_any.any():
            pos = _nz(open_start)
            pos = pos[feats[pos % n, E_ANY + R_OBJ] > 0]
            changed |= not reach[pos].all()
            reach[pos] = True
        if abs_pos is not None and abs_pos.size and not reach[abs_pos].all():
            reach[abs_pos] = True
            changed = True
        if changed:
            if not full:
                self._reached[:, idx] = reached
            if self._residents_left:
                self._residents_left = bool((self._lives & ~self._reached).any())
            self._groups_dirty = True
            self._absentees_dirty = True
        # ---- cooperation evidence: a use that reached someone, and co-funding after consent
        level: NDArray[np.float32] | None = feats[:, E_COOP] if nz[E_COOP] else None
        dynamic = [(R_OBJ, open_any), (R_PERS, pers_any)]
        if abs_unit is not None and self._some_without_residents:
            abs_any = np.zeros(n, bool)
            abs_any[abs_unit] = True
            dynamic.append((R_LIVES, abs_any & ~self._lives_any[sel]))
        for group, touched in dynamic:
            if touched is None or not nz[E_L1 + group]:
                continue
            raised = feats[:, E_L1 + group] * touched
            level = raised if level is None else np.maximum(level, raised)
        if level is not None:
            coop = self.cooperation[sel]
            np.maximum(coop, level.astype(np.int8), out=coop)
            if not full:
                self.cooperation[idx] = coop
        # ---- stubborn early supporters (Party members first, then supporters)
        if nz[E_STUBBORN]:
            count = feats[:, E_STUBBORN]
            if not full:
                count = np.zeros(self.batch.n_units, np.float32)
                count[idx] = feats[:, E_STUBBORN]
            self._seed_stubborn(count)
        # ---- objections settled, technical blocks solved, funds pooled, approval sped up
        if nz[E_OBJECTION] and any_open and open_any.any():
            pos = _nz(open_start)
            chance = -np.expm1(feats[pos % n, E_OBJECTION])
            pos, chance = pos[chance > 0], chance[chance > 0]
            if pos.size:
                settled = pos[rng.random(pos.size) < chance]
                if full:
                    self._obj_stage.reshape(-1)[settled] = 0
                else:
                    assert idx is not None
                    stage = self._obj_stage.take(idx, axis=1)  # C-ordered: as `reached` above
                    stage.reshape(-1)[settled] = 0
                    self._obj_stage[:, idx] = stage
                self._open = self._obj_stage > 0
                self._any_open = bool(self._open.any())
        if nz[E_TECHNICAL] and self.technical.any():
            tech = _nz(self.technical[sel] & (feats[:, E_TECHNICAL] < 0))
            if tech.size:
                fixed = rng.random(tech.size) < -np.expm1(feats[tech, E_TECHNICAL])
                self.technical[at[tech[fixed]]] = False
        if nz[E_POOL]:
            self.pooling[sel] |= feats[:, E_POOL] > 0
        if nz[E_APPROVAL]:  # (only units up to approval have it: see _settle)
            self.approval_adjust[sel] += feats[:, E_APPROVAL]
            self._need[sel, APPROVAL] += feats[:, E_APPROVAL]
        # ---- money and the low-floor loss
        money: NDArray[np.bool_] | None = None
        if nz[E_COMP]:
            fen = max(d.compensation_full_fen, 0)
            more = np.rint(feats[:, E_COMP]).astype(np.int64)
            comp = self.comp[sel]
            self.comp[sel] = np.maximum(comp, np.minimum(comp + more, fen))
            money = more > 0
        loss: NDArray[np.bool_] | None = None
        if first is not None and nz[E_FIRST]:
            used = first > 0
            fresh = used & ~self._used_first[sel]
            if fresh.any():
                self._used_first[sel] |= used
                ff = fresh.astype(np.float64)
                if self._first_loss.any():
                    factor = np.exp(ff @ self._first_loss).astype(np.float32)
                    self.loss_factor[sel] *= factor
                    loss = factor < 1
                if self._first_subsidy.any():
                    add = ff @ self._first_subsidy
                    got = _nz(add > 0)
                    where = at[got]
                    self.extra_subsidy[where] = np.minimum(
                        d.subsidy_tool_cap, self.extra_subsidy[where] + add[got]
                    )
                    money = add > 0 if money is None else money | (add > 0)
        if money is not None and money.any():
            self._recompute_money(self._some(money) if full else at[money])
            loss = money if loss is None else loss | money
        if loss is not None and loss.any():
            self._refresh_base(self._some(loss) if full else at[loss])
        # ---- social pressure last: the week's targets were chosen under last week's pressure
        if nz[E_PRESSURE]:
            pcap = np.float32(d.pressure_cap)
            rest = pcap - self.pressure[sel]
            rest *= np.exp(feats[:, E_PRESSURE])
            pressure = pcap - rest
            if not self._pressure_rises:  # a tool lowers pressure: keep it within [0, cap]
                pressure = np.minimum(np.maximum(pressure, 0), pcap)
            self.pressure[sel] = pressure

    def _persuade_targets(
        self, want: NDArray[np.bool_], idx: NDArray[np.intp] | None = None
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The households furthest below their threshold, `targets_per_use` in each unit that
        persuades this week (ties: the lower flat first), and which units have any; of the
        units `idx` (all when None), `want` being theirs."""
        if idx is None:
            te = self._theta_off - self.pressure  # far down off the residents
            y = self._support
        else:
            te = self._theta_off.take(idx, axis=1) - self.pressure[idx]
            y = self._support.take(idx, axis=1)
        below = y < te
        below &= want
        count = np.add.reduce(below.view(np.int8), axis=0, dtype=np.int16)  # flats below
        k = self.d.targets_per_use
        crowded = count > k  # more below than targets: the furthest below are chosen
        if k > 0 and crowded.any():
            c = _nz(crowded)
            margin = y[:, c] - te[:, c]
            margin += ~below[:, c] * _BIG
            pick = np.zeros(margin.shape, bool)
            for _ in range(k):  # the lowest margin, k times (a tie: the lower flat first)
                low = margin.min(axis=0)
                top = margin == low
                if np.count_nonzero(top) != c.size:
                    top = np.zeros(margin.shape, bool)
                    top[margin.argmin(axis=0), np.arange(c.size)] = True
                pick |= top
                margin += top * _BIG
            below[:, c] = pick
        elif k <= 0:
            below[:] = False
        return below, count > 0 if k > 0 else np.zeros(count.shape, bool)

    def _seed_stubborn(self, count: NDArray[np.float32]) -> None:
        """Party members first, then supporters, become stubborn early supporters."""
        c = _nz(count > 0)  # only the units seeding any (every column stands alone)
        if c.size == 0:
            return
        n = count[c]
        y = self._support.take(c, axis=1)
        agree = y >= self._theta.take(c, axis=1) - self.pressure[c]
        party = self._party.take(c, axis=1)
        cand = self._lives.take(c, axis=1) & ~self._stubborn.take(c, axis=1) & (party | agree)
        key = np.where(cand, party * np.float32(2) + y, -np.inf)
        pick = np.zeros(key.shape, bool)
        cols = np.arange(c.size)
        for k in range(min(int(n.max()), key.shape[0])):
            top = key.argmax(axis=0)
            ok = (k < n) & np.isfinite(key[top, cols])
            pick[top[ok], cols[ok]] = True
            key[top, cols] = -np.inf
        h, j = pick.nonzero()
        if h.size == 0:
            return
        u = c[j]
        self._stubborn[h, u] = True
        self._lam[h, u] = np.float32(self.d.susceptibility_leader)
        self._oml[h, u] = np.float32(1) - np.float32(self.d.susceptibility_leader)
        self._stub_anchor[h, u] = np.float32(self.d.party_anchor)

    def _advise(self, working: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """The advisor's uses this week, replanned from the state (sim/advisor_strategy.py)."""
        return advise_week(self, working, NEGOTIATION)

    def _severities(self, idx: NDArray[np.intp]) -> NDArray[np.float64]:
        """Severity of each advisor obstacle per unit, scaled as heterogeneity scales them."""
        b = self.batch
        mask = b.mask[idx]
        lives = self._lives.T[idx]
        nonres = self._nonres.T[idx]
        reached = self._reached.T[idx]
        n = np.maximum(mask.sum(axis=1), 1)
        phase = self.phase[idx]
        votes = self._votes.T[idx]
        out = np.zeros((idx.size, len(ADVISOR_OBSTACLES)))

        def scaled(ob: Obstacle, share: NDArray[np.float64]) -> NDArray[np.float64]:
            base, slope = SEVERITY_SCALE[ob]
            res: NDArray[np.float64] = np.where(share > 0, base + slope * share, 0.0)
            return res

        stage = self._obj_stage.T[idx]
        open_stage = np.where((stage >= 1) & (stage <= 4), stage, 0).max(axis=1)
        out[:, 0] = _OBJECTION_STAGE_SEVERITY[open_stage]
        out[:, 1] = np.where(self.technical[idx], 1.0, 0.0)
        low = lives & (b.floor[idx] <= LOW_FLOOR_MAX)
        out[:, 2] = scaled(
            Obstacle.INTEREST, (low & (votes != AGREE)).sum(1) / np.maximum(low.sum(1), 1)
        )
        out[:, 3] = scaled(Obstacle.TENURE, (nonres & ~reached).sum(1) / n)
        costly = mask & (self._share.T[idx] > self._ability.T[idx])
        out[:, 4] = scaled(Obstacle.COST, costly.sum(1) / n)
        out[:, 5] = scaled(Obstacle.INFORMATION, (lives & ~reached).sum(1) / n)
        heads = self.is_lead[idx] & mask
        agree = (heads & (votes == AGREE)).sum(1) / np.maximum(heads.sum(1), 1)
        out[:, 6] = np.where(
            phase == NEGOTIATION, scaled(Obstacle.LEGITIMACY, 1 - agree + 1e-9), 0.0
        )
        out[:, 7] = np.where(phase == APPROVAL, APPROVAL_SEVERITY, 0.0)
        out[:, 8] = np.where(
            (phase == CONSTRUCTION) | (phase == ACCEPTANCE), COORDINATION_SEVERITY, 0.0
        )
        stages = [
            Stage.CONSULTATION,
            Stage.NOTICE,
            Stage.APPROVAL,
            Stage.CONSTRUCTION,
            Stage.ACCEPTANCE,
        ]
        weights = np.array([[stage_weight(ob, st) for ob in ADVISOR_OBSTACLES] for st in stages])
        phase_row = np.clip(phase, 0, 4)
        result: NDArray[np.float64] = out * weights[phase_row]
        return result

    # ------------------------------------------------------------ the week

    def step(self) -> None:
        d = self.d
        active = self.phase < SERVICE
        # 1. leaders: exit, replacement under formal guidance, stall
        # (only working units read action_here, so finished ones may change it freely)
        draw = self.rng.random((2, self.batch.n_units))
        stays = self.action_here & (draw[0] >= d.p_initiator_exit)
        if self.strategy.direct:
            stays |= self.had_action & (draw[1] < d.p_replace_guided)
        self.action_here = stays
        if self._always_led:
            working = active
        else:
            stalled = active & ~self._other_leader & ~self.action_here
            self.leaderless += stalled
            self.leaderless *= stalled
            working = active & ~stalled
        # 2. interventions
        self._interventions(working)
        # 3. influence: y ← Λ W y + (I − Λ) a
        anchor = self._anchor(self._buf_anchor)
        wy = np.einsum("iju,ju->iu", self._W, self._support)
        wy *= self._lam
        anchor *= self._oml
        wy += anchor
        self._support = wy
        # 4. decisions
        self._votes_before = self._votes
        self._votes = self._decide()
        # 5. objections
        if self._any_open:
            self._objections(active)
        # 6. phases
        self.wip += working
        self._phases(working)
        # 7. failures
        self._failures(active)
        self.week += 1
        self._history.append(self.cooperation.copy())
        self.datacollector.collect(self)

    def _objections(self, active: NDArray[np.bool_]) -> None:
        has = active & self._open.any(axis=0)
        idx = _nz(has)
        if idx.size == 0:
            return
        d = self.d
        stage = self._obj_stage[:, idx]
        open_ = (stage >= 1) & (stage <= 4)
        p = np.asarray((0.0, *d.objection_resolve_weekly), np.float32)[stage]
        esc = np.asarray((0, *d.objection_escalate_weeks, 10**4), np.int32)[stage]
        draw = self.rng.random(stage.shape, dtype=np.float32)
        settled = open_ & (draw < p)
        weeks = np.where(open_ & ~settled, self._obj_weeks[:, idx] + 1, 0)
        up = open_ & ~settled & (stage < 4) & (weeks >= esc)
        self._obj_stage[:, idx] = np.where(settled, 0, np.where(up, stage + 1, stage))
        self._obj_weeks[:, idx] = np.where(up, 0, weeks)
        self._obj_age[:, idx] = np.where(open_ & ~settled, self._obj_age[:, idx] + 1, 0)
        self._open = self._obj_stage > 0
        self._any_open = bool(self._open.any())

    def _compile_tally(self) -> None:
        """The consent rule as integer rows, when every unit follows one profile: a count
        passes when num·q − p·den ≥ 0 (≥ 1 for exclusive words) and den > 0 on every row."""
        b = self.batch
        mask = b.mask
        self._tally_w = np.ascontiguousarray(
            np.stack(
                [
                    np.where(mask, b.area_cm2, 0).T,
                    (self.is_lead & mask).T,
                    (b.occupied & mask).T,
                ],
                axis=1,
            ).astype(np.int64)
        )  # (H, 3, U): area, heads, occupied
        self._tally_total = self._tally_w.sum(axis=0)  # (3, U)
        pi = b.profile_index
        self._rule: tuple[Any, ...] | None = None
        if pi.size and not (pi == pi[0]).all():
            return
        t = rule_table(b.profiles)
        p = int(pi[0]) if pi.size else 0
        rows = []  # (kind of numerator, row of counts, denominator of total?, fraction, inclusive)
        if t.q_has_area[p]:
            rows.append((0, 0, True, t.q_area[p], t.q_inclusive[p]))
        if t.q_has_heads[p]:
            rows.append((0, 1, True, t.q_heads[p], t.q_inclusive[p]))
        if t.a_has_area[p]:
            rows.append((1, 0, bool(t.a_total[p]), t.a_area[p], t.a_inclusive[p]))
        if t.a_has_heads[p]:
            rows.append((1, 1, bool(t.a_total[p]), t.a_heads[p], t.a_inclusive[p]))
        q = np.array([[int(r[3][1])] for r in rows], np.int64).reshape(-1, 1)
        frac = np.array([[int(r[3][0])] for r in rows], np.int64).reshape(-1, 1)
        thr = np.array([[0 if r[4] else 1] for r in rows], np.int64).reshape(-1, 1)
        # rows of (part, agree, total) stacked: part 0-2, agree 3-5, total 6-8
        num_rows = np.array([3 * r[0] + r[1] for r in rows], np.intp)
        den_rows = np.array([(6 if r[2] else 0) + r[1] for r in rows], np.intp)
        # num·q − frac·den for every row at once: one integer product with the stacked counts
        lin = np.zeros((len(rows), 9), np.int64)
        for i in range(len(rows)):
            lin[i, num_rows[i]] += q[i, 0]
            lin[i, den_rows[i]] -= frac[i, 0]
        self._rule = (
            num_rows,
            den_rows,
            lin,
            thr,
            bool(t.no_objection[p]),
            bool(t.occupied_agree[p]),
        )

    def _tally(self, idx: NDArray[np.intp], open_n: NDArray[np.int64]) -> NDArray[np.bool_]:
        """`sim.tally.tally` on the units `idx`, counted from the household-major arrays."""
        votes = self._votes.take(idx, axis=1)
        w = self._tally_w.take(idx, axis=2)  # (H, 3, n)
        # who takes part and who agrees, (2, H, 1, n): both counts from one product
        m = np.empty((2, votes.shape[0], 1, idx.size), bool)
        np.not_equal(votes, ABSENT, out=m[0, :, 0])
        np.equal(votes, AGREE, out=m[1, :, 0])
        counted = np.add.reduce(w * m, axis=1)  # (2, 3, n)
        part, agree = counted[0], counted[1]
        total = self._tally_total.take(idx, axis=1)
        if self._rule is None:
            counts = {
                "total_area_cm2": total[0],
                "participating_area_cm2": part[0],
                "agree_area_cm2": agree[0],
                "total_heads": total[1],
                "participating_heads": part[1],
                "agree_heads": agree[1],
                "occupied_not_agreeing": total[2] - agree[2],
            }
            return passes(self.batch.profiles, self.batch.profile_index[idx], counts, open_n)
        num_rows, den_rows, lin, thr, no_objection, occupied = self._rule
        if num_rows.size:
            c = np.concatenate((counted.reshape(6, -1), total))  # (9, n)
            met = lin @ c >= thr
            met &= c[den_rows] > 0
            ok: NDArray[np.bool_] = np.logical_and.reduce(met, axis=0)
        else:
            ok = np.ones(idx.size, bool)
        if no_objection:
            ok &= open_n <= 0
        if occupied:
            ok &= total[2] - agree[2] <= 0
        return ok

    def _phases(self, working: NDArray[np.bool_]) -> None:
        """At most one phase a week, once the phase's weeks have passed."""
        need = self._need.take(self._need_at + self.phase)
        ready = working & (self.wip >= need)
        open_now = self._any_open
        if self._no_objection_any and open_now:
            # notice: a "no objection" rule restarts it while an objection is open
            restart = working & (self.phase == NOTICE) & self.no_objection_rule
            restart &= self._open.any(axis=0)
            self.wip[restart] = 0
            ready &= ~restart
        idx = _nz(ready)
        if idx.size == 0:
            self._tally_failed[:] = False
            return
        done_week = self.week + 1
        phase = self.phase[idx]
        present = np.bincount(phase, minlength=8)
        open_n = self._open.take(idx, axis=1).sum(axis=0) if open_now else None
        # negotiation: the vote is counted weekly once the negotiation time has passed
        if present[NEGOTIATION]:
            neg = phase == NEGOTIATION
            cand = idx[neg]
            # a unit whose count failed last week and whose votes have not moved fails again
            same = self._tally_failed[cand]
            same &= self._may_repeat[cand]
            if same.any():
                moved = self._votes[:, cand] != self._votes_before[:, cand]
                same &= ~_rows_any(moved.T)
                counted = ~same
                count = cand[counted]
                open_c = open_n[neg][counted] if open_n is not None else None
            else:
                count = cand
                open_c = open_n[neg] if open_n is not None else None
            if open_c is None:
                open_c = np.zeros(count.size, np.int64)
            new = count[self._tally(count, open_c)] if count.size else count
            self._tally_failed[:] = False
            self._tally_failed[cand] = True
            if new.size:
                self._tally_failed[new] = False
                self.phase[new] = NOTICE
                self.wip[new] = 0
                self.week_consent[new] = done_week
                self.n_consented += new.size
                self.cooperation[new] = np.maximum(self.cooperation[new], 3)
                self._file_objections(new)
        else:
            self._tally_failed[:] = False
        # approval: waits for the technical block; the funding check opens construction
        if present[APPROVAL]:
            go = idx[(phase == APPROVAL) & ~self.technical[idx]]
            go = go[self.wip[go] >= self.d.approval_min_weeks]
            if go.size:
                short = self._funding_gap(go)
                if short.any():
                    self._fail(go[short], F_FUNDING)
                    go = go[~short]
                self._move(go, CONSTRUCTION)
        # notice (once no objection is open), construction and acceptance: the next phase
        if present[NOTICE] or present[CONSTRUCTION] or present[ACCEPTANCE]:
            step = _STEPS.take(phase)
            if present[NOTICE] and open_n is not None:
                step &= ~((phase == NOTICE) & (open_n > 0))
            on = idx[step]
            self.phase[on] += 1
            self.wip[on] = 0
            if present[ACCEPTANCE]:
                served = idx[phase == ACCEPTANCE]
                self.n_in_service += served.size
                self.week_service[served] = done_week

    def _move(self, sel: NDArray[np.intp], to: int) -> None:
        self.phase[sel] = to
        self.wip[sel] = 0

    def _fail(self, sel: NDArray[np.intp], code: int) -> None:
        sel = sel[self.phase[sel] < SERVICE]
        self.phase[sel] = FAILED
        self.failure[sel] = code
        self.n_failed += sel.size

    def _file_objections(self, idx: NDArray[np.intp]) -> None:
        """At the notice, each opposing low-floor household objects with p_object."""
        low = self._support.take(idx, axis=1) < self._theta_eff(idx)
        low &= self._low_lives.take(idx, axis=1)
        if self._any_open:  # (no objection open: every stage is 0)
            low &= self._obj_stage.take(idx, axis=1) == 0
        h, k = low.nonzero()
        files = self.rng.random(h.size, dtype=np.float32) < np.float32(self.d.p_object)
        if not files.any():
            return
        h, u = h[files], idx[k[files]]
        self._obj_stage[h, u] = 1
        self._obj_weeks[h, u] = 0
        self._obj_age[h, u] = 0
        self._open[h, u] = True
        self._any_open = True

    def _funding_gap(self, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Shares above afford_factor × ability not covered by pooled spare ability."""
        gap = self._gap_fen[idx] - self.pooling[idx] * (self.d.pool_share * self._spare_fen[idx])
        result: NDArray[np.bool_] = gap > 0.5
        return result

    def _money_sums(self, idx: Any) -> None:
        """Per unit: the shares above afford_factor × ability, and the spare ability left."""
        share = self._share[:, idx]
        # off the mask share is 0 and ability positive: no gap there, and no spare (masked)
        over = np.maximum(share - self.d.afford_factor * self._ability[:, idx], 0.0)
        self._gap_fen[idx] = over.sum(axis=0)
        self._spare_fen[idx] = np.maximum(self._ability_masked[:, idx] - share, 0.0).sum(axis=0)

    def _failures(self, active: NDArray[np.bool_]) -> None:
        d = self.d
        if self.technical.any():
            stuck = active & self.technical & (self.phase == APPROVAL)
            stuck &= self.wip >= d.technical_deadline_weeks
            if stuck.any():
                self._fail(_nz(stuck), F_TECHNICAL)
        if self._any_open:
            old = (self._open & (self._obj_age >= d.objection_deadline_weeks)).any(axis=0)
            if old.any():
                self._fail(_nz(active & old), F_OBJECTION)
        if not self._always_led:
            self._fail(_nz(active & (self.leaderless >= d.stall_fail_weeks)), F_EXIT)
        if self.week + 1 >= d.deadline_weeks:
            late = self.phase < SERVICE
            cause = np.full(self.batch.n_units, F_DEADLINE, np.int8)
            cause = np.where((self.phase == APPROVAL) & self.technical, F_TECHNICAL, cause)
            cause = np.where(
                (self.phase == NOTICE) & (self.open_objections() > 0), F_OBJECTION, cause
            )
            cause = np.where(self.phase == NEGOTIATION, NO_CONSENT, cause)
            cause = np.where(self.leaderless > 0, F_EXIT, cause)
            self.failure[late] = cause[late]
            self.phase[late] = FAILED
            self.n_failed += int(np.count_nonzero(late))

    # ------------------------------------------------------------ running

    def run(
        self, weeks: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> RunResult:
        total = self.scenario.weeks if weeks is None else weeks
        for k in range(total):
            self.step()
            if progress is not None:
                progress(k + 1, total)
        return self.result()

    def result(self) -> RunResult:
        success = self.phase == SERVICE
        zero = np.zeros(self.batch.n_units, np.int64)
        return RunResult(
            success=success,
            week_consent=self.week_consent.copy(),
            week_service=self.week_service.copy(),
            failure=np.asarray(FAILURES, dtype="<U14")[self.failure],
            cooperation=np.stack(self._history),
            resident_fen=np.where(success, self.payable, zero),
            subsidy_fen=np.where(success, self.subsidy, zero),
            compensation_fen=np.where(success, self.comp * self.n1, zero),
            weeks=self.week,
            labels=list(self.batch.labels),
            strategy=self.strategy.name,
        )

    def phase_names(self) -> list[str]:
        return [PHASE_NAMES[p] for p in self.phase]

    def mean_support(self) -> float:
        """Mean support over real flats (zero off the mask)."""
        return float(np.add.reduce(self._support, axis=None)) / self._n_mask


# ---------------------------------------------------------------- helpers


def run_unit(spec: UnitSpec, scenario: Scenario, runs: int, seed: int) -> RunResult:
    """Monte Carlo for one unit: `runs` copies of it simulated together in one batch."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    one = UnitBatch.from_specs([spec], scenario)
    batch = one.select(np.zeros(runs, np.intp))
    batch.labels = [f"{spec.label}#{i}" for i in range(runs)]
    return UnitModel(batch, scenario, seed).run()


def compare_strategies(
    spec: UnitSpec, scenario: Scenario, strategies: Sequence[str], runs: int, seed: int
) -> dict[str, dict[str, Any]]:
    """One summary per strategy, on the same unit and the same seed."""
    one = UnitBatch.from_specs([spec], scenario)
    batch = one.select(np.zeros(runs, np.intp))
    out: dict[str, dict[str, Any]] = {}
    for name in strategies:
        sc = scenario.replace(strategy=name)
        out[name] = UnitModel(batch, sc, seed).run().summary()
    return out


def batch_run(
    units: Sequence[UnitSpec] | UnitBatch,
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
) -> list[dict[str, Any]]:
    """Every combination of grid values (`Scenario.replace` keys) × seed, in a fixed order."""
    batch = units if isinstance(units, UnitBatch) else UnitBatch.from_specs(list(units), scenario)
    keys = list(grid)
    rows: list[dict[str, Any]] = []
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        sc = scenario.replace(**params)
        for seed in seeds:
            result = UnitModel(batch, sc, seed).run()
            rows.append({"params": params, "seed": seed, "summary": result.summary()})
    return rows
