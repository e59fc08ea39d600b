"""The unit model: stairwells simulated week by week, many at once (docs/simulation.md §3).

`UnitModel` keeps Mesa's vocabulary (`step`, `run`, `datacollector`) but holds every unit and
household in arrays of shape (U, H): nothing loops over units or households in Python; loops run
over the strategy's tools and the phases only. Each week:

1. leaders: an action leader may quit; formal guidance may find a new one; a unit with no leader
   left stalls;
2. interventions: the strategy's tools act through their catalogue effects;
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

from colift.coproduction.advisor import stage_weight, tool_ranking
from colift.coproduction.catalogue import Catalogue, Reach, Tool, load_catalogue
from colift.coproduction.heterogeneity import OBJECTION_SEVERITY, SEVERITY_SCALE
from colift.model import ObjectionStatus, Role
from colift.model.coproduction import LOW_FLOOR_MAX, Obstacle, Stage
from colift.sim.batch import LEADER_ORDER, ROLE_INDEX, UnitBatch, UnitSpec
from colift.sim.params import Scenario
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
from colift.sim.tally import ABSENT, ABSTAIN, AGREE, DISAGREE, rule_table, tally

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
        self.series: dict[str, list[NDArray[Any]]] = {name: [] for name in SERIES}

    def collect(self, model: UnitModel) -> None:
        n = max(model.batch.n_units, 1)
        mask = model.batch.mask
        values = {
            "week": np.asarray(model.week),
            "mean_support": np.asarray(float(model.support[mask].mean()) if mask.any() else 0.0),
            "share_consented": np.asarray(float((model.week_consent >= 0).sum()) / n),
            "share_in_service": np.asarray(float((model.phase == SERVICE).sum()) / n),
            "share_failed": np.asarray(float((model.phase == FAILED).sum()) / n),
            "mean_cooperation": np.asarray(float(model.cooperation.mean())),
        }
        for name, value in values.items():
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


@dataclass
class _ToolUse:
    """One catalogue tool as the model applies it, with what the strategy's roles make of it."""

    tool: Tool
    col: int  # column in the use counters
    formal: NDArray[np.bool_]  # (U,) a formal role of the unit holds it
    other_informal: NDArray[np.bool_]  # (U,) an informal role other than the action leader
    action: NDArray[np.bool_]  # (U,) the action leader holds it
    target: str  # unit, owners, low_floor, objectors, stubborn, persuade, none
    message: bool  # a whole-unit message: two-step flow
    technical: bool
    pooling: bool


@dataclass(frozen=True)
class _Planned:
    use: _ToolUse
    phases: NDArray[np.bool_]  # (7,)
    start: int
    every: int
    when: int


def _rows_any(a: NDArray[np.bool_]) -> NDArray[np.bool_]:
    return np.asarray(a.any(axis=1), dtype=bool)


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


# ---------------------------------------------------------------- the model


class UnitModel:
    """Stairwells simulated forward under one scenario; see the module docstring."""

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
        self.lives = lives = b.lives_here
        self.nonres = mask & ~lives
        band = (np.clip(b.floor, 1, 4) - 1).astype(np.intp)

        # ---- households: prior support, thresholds, ability (init stream, fixed order)
        lo = np.array([p[0] for p in d.support_prior], np.float32)
        hi = np.array([p[1] for p in d.support_prior], np.float32)
        draw = rng.random((u_n, h_n), dtype=np.float32)
        prior = lo[band] + (hi - lo)[band] * draw
        needy = (b.floor >= d.need_floor_min) & (b.elderly | b.need)
        prior = np.where(needy, np.float32(d.support_need_upper), prior)
        self.theta = np.asarray(d.thresholds, np.float32)[band]
        voted = b.vote >= 0
        from_vote = np.select(
            [b.vote == AGREE, b.vote == ABSTAIN, b.vote == DISAGREE],
            [self.theta + 0.1, self.theta - 0.1, self.theta - 0.35],
            prior,
        )
        prior = np.where(voted, from_vote, prior)
        prior = np.where(np.isnan(b.support), prior, b.support)
        self.prior = np.where(mask, np.clip(prior, 0, 1), 0).astype(np.float32)
        ability = rng.lognormal(np.log(d.ability_median_fen), d.ability_sigma, (u_n, h_n))
        self.ability = np.maximum(np.where(np.isnan(b.ability_fen), ability, b.ability_fen), 1.0)
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

        # ---- low-floor loss D and money
        self.floor1 = (b.floor == 1) & mask
        self.n1 = self.floor1.sum(axis=1)
        self.d0 = np.where(
            self.floor1,
            d.low_floor_loss_1f,
            np.where((b.floor == 2) & mask, d.low_floor_loss_2f, 0.0),
        ).astype(np.float32)
        self.loss_factor = np.ones(u_n, np.float32)
        self.comp = b.compensation_fen.astype(np.int64).copy()
        self.extra_subsidy = np.zeros(u_n)
        total_w = b.weight.sum(axis=1, keepdims=True)
        self.frac = np.divide(b.weight, total_w, out=np.zeros_like(b.weight), where=total_w > 0)
        self.share = b.share_fen.astype(np.float64).copy()
        self.subsidy = b.subsidy_fen.astype(np.int64).copy()
        self.payable = b.payable_fen.astype(np.int64).copy()
        self.pooling = np.zeros(u_n, bool)
        self._penalty()
        # An observed stance already holds the household's view of its share: count only changes.
        observed = voted | ~np.isnan(b.support)
        self.penalty_base = np.where(observed, self.cost_penalty, 0).astype(np.float32)

        # ---- roles and guidance
        self._roles(b)

        # ---- influence network and susceptibility
        self.W = self._network(b)
        self.opinion = lives & (b.leader | b.party)
        self.stubborn: NDArray[np.bool_] = lives & b.party & np.bool_(self.strategy.embedded)
        self.lam = np.where(mask, np.float32(d.susceptibility_resident), np.float32(0))
        informal_here = _rows_any(self.roles[:, [ROLE_INDEX[r] for r in INFORMAL]])
        self.lam = np.where(
            b.leader & informal_here[:, None], np.float32(d.susceptibility_leader), self.lam
        )
        self.lam = np.where(self.stubborn, np.float32(d.susceptibility_leader), self.lam).astype(
            np.float32
        )
        self.boost = np.zeros((u_n, h_n), np.float32)
        self.pressure = np.zeros(u_n, np.float32)
        self.approval_adjust = np.zeros(u_n, np.float32)

        # ---- owner groups: flats that are not their owner's lead flat
        self.is_lead = b.is_lead
        nu, nh = np.nonzero(~self.is_lead & mask)
        self._non_lead = (nu, nh, b.lead[nu, nh].astype(np.intp))
        self._lead_index = b.lead.astype(np.intp)

        # ---- phases, objections, outcomes
        self.phase = b.phase0.astype(np.int8).copy()
        self.wip = np.zeros(u_n, np.int32)  # whole weeks spent in the current phase
        self.obj_stage = np.where(mask, b.objection, 0).astype(np.int8)
        self.obj_weeks = np.zeros((u_n, h_n), np.int16)
        self.obj_age = np.zeros((u_n, h_n), np.int16)
        self.reached = (b.vote >= 0) & (b.vote != ABSENT) & mask
        self.week_consent = np.where(self.phase >= NOTICE, 0, -1).astype(np.int32)
        self.week_service = np.where(self.phase == SERVICE, 0, -1).astype(np.int32)
        self.failure = np.zeros(u_n, np.int8)
        self.leaderless = np.zeros(u_n, np.int32)
        self.cooperation = np.where(self.phase >= NOTICE, 3, 0).astype(np.int8)

        # ---- tools
        self._compile_tools()
        self.uses = np.zeros((u_n, len(self._uses)), np.int16)
        self.last_use = np.full((u_n, len(self._uses)), -(10**4), np.int32)

        # ---- state at week 0
        self.support = self._anchor()
        self.votes = self._decide()
        self.datacollector = DataCollector()
        self._history: list[NDArray[np.int8]] = [self.cooperation.copy()]
        self.datacollector.collect(self)

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
        live = self.lives
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
        self._uses: list[_ToolUse] = []
        self._by_id: dict[str, _ToolUse] = {}
        self._plan: list[_Planned] = []
        for item in self.strategy.plan:
            use = self._use_for(self.catalogue.get(item.tool))
            phases = np.zeros(7, bool)
            phases[list(item.phases)] = True
            self._plan.append(
                _Planned(use, phases, item.start, item.every, CONDITION_CODES[item.when])
            )
        self._schedule = {
            week: [self._use_for(self.catalogue.get(t)) for t in tools]
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
                    ranked = tool_ranking(
                        obstacle, stage, self.catalogue, material=obstacle is Obstacle.OBJECTION
                    )
                    usable = [t for t, _ in ranked if set(t.roles) & self.strategy.roles]
                    self._advisor[(oi, si)] = [
                        self._use_for(t) for t in usable[:ADVISOR_CANDIDATES]
                    ]

    # ------------------------------------------------------------ state readings

    def _penalty(self) -> None:
        d = self.d
        ratio = self.share / self.ability
        pen = np.clip(d.cost_weight * (ratio - d.cost_reference), 0.0, d.cost_cap)
        self.cost_penalty = np.where(self.batch.mask, pen, 0.0).astype(np.float32)

    def _recompute_money(self, idx: NDArray[np.intp]) -> None:
        b = self.batch
        total = b.total_fen[idx]
        extra = np.floor(self.extra_subsidy[idx] * total).astype(np.int64)
        self.subsidy[idx] = np.minimum(total, b.subsidy_fen[idx] + extra)
        self.payable[idx] = total - self.subsidy[idx] + self.comp[idx] * self.n1[idx]
        self.share[idx] = self.payable[idx, None] * self.frac[idx]
        d = self.d
        ratio = self.share[idx] / self.ability[idx]
        pen = np.clip(d.cost_weight * (ratio - d.cost_reference), 0.0, d.cost_cap)
        self.cost_penalty[idx] = np.where(b.mask[idx], pen, 0.0)

    def _anchor(self) -> NDArray[np.float32]:
        d = self.d
        loss = self.d0 * self.loss_factor[:, None]
        offset = np.minimum(
            loss,
            np.float32(d.low_floor_loss_1f)
            * (self.comp[:, None] / d.compensation_full_fen).astype(np.float32),
        )
        a = self.prior + self.boost + (self.d0 - loss) - (self.cost_penalty - self.penalty_base)
        a = np.where(self.floor1, a + offset, a)
        a = np.clip(a, 0.0, 1.0)
        a = np.where(self.stubborn, np.maximum(a, np.float32(d.party_anchor)), a)
        return np.where(self.batch.mask, a, 0.0).astype(np.float32)

    def _theta_eff(self, idx: NDArray[np.intp] | None = None) -> NDArray[np.float32]:
        """Thresholds lowered by the unit's social pressure (of the units `idx`, or all)."""
        if idx is None:
            result: NDArray[np.float32] = self.theta - self.pressure[:, None]
        else:
            result = self.theta[idx] - self.pressure[idx, None]
        return result

    def _decide(self) -> NDArray[np.int8]:
        """Vote codes per flat: the owner's lead flat decides for all the owner's flats."""
        te = self._theta_eff()
        y = self.support
        code = np.where(
            y >= te, AGREE, np.where(y >= te - np.float32(self.d.abstain_band), ABSTAIN, DISAGREE)
        ).astype(np.int8)
        reached = self.reached.copy()
        nu, nh, nl = self._non_lead
        if nu.size:
            np.logical_or.at(reached, (nu, nl), self.reached[nu, nh])
        code = np.where(reached, code, np.int8(ABSENT)).astype(np.int8)
        votes = np.take_along_axis(code, self._lead_index, axis=1)
        result: NDArray[np.int8] = np.where(self.batch.mask, votes, np.int8(ABSENT)).astype(np.int8)
        return result

    def open_objections(self) -> NDArray[np.int64]:
        result: NDArray[np.int64] = ((self.obj_stage >= 1) & (self.obj_stage <= 4)).sum(
            axis=1, dtype=np.int64
        )
        return result

    def _condition(self, code: int, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Which units `idx` meet a plan item's condition this week."""
        b = self.batch
        result: NDArray[np.bool_]
        if code == 1:
            result = _rows_any((self.obj_stage[idx] >= 1) & (self.obj_stage[idx] <= 4))
        elif code == 2:
            result = self.technical[idx]
        elif code == 3:
            low = b.mask[idx] & (b.floor[idx] <= LOW_FLOOR_MAX) & self.lives[idx]
            result = _rows_any(low & (self.votes[idx] != AGREE))
        elif code == 4:
            result = _rows_any(b.mask[idx] & (self.share[idx] > self.ability[idx]))
        elif code == 5:
            result = _rows_any(self.nonres[idx] & ~self.reached[idx])
        else:
            result = np.ones(idx.size, bool)
        return result

    # ------------------------------------------------------------ interventions

    def _apply(self, use: _ToolUse, idx: NDArray[np.intp]) -> None:
        """One use of a tool in the units `idx`, through its catalogue effects."""
        if idx.size == 0:
            return
        able_formal = use.formal[idx]
        able = able_formal | use.other_informal[idx] | (use.action[idx] & self.action_here[idx])
        if not able.all():
            idx = idx[able]
            able_formal = able_formal[able]
            if idx.size == 0:
                return
        d = self.d
        rng = self.rng
        tool = use.tool
        e = tool.effects
        mult = np.where(able_formal, self.formal_mult, self.informal_mult).astype(np.float32)
        lives = self.lives[idx]
        # ---- whom it reaches
        reached = lives.copy() if use.target in ("unit", "owners") else self._targets(use, idx)
        if tool.reaches_absentees and e.reach_absentee_p > 0:
            p = np.minimum(1.0, e.reach_absentee_p * mult)[:, None]
            nonres = self.nonres[idx]
            reached |= nonres & (rng.random(nonres.shape, dtype=np.float32) < p)
        self.reached[idx] |= reached
        # ---- lasting support: saturating boost, capped by the messenger's credibility
        dv = e.support_delta + e.trust_delta
        if dv > 0:
            if use.message:
                recv = self.opinion[idx] & (
                    rng.random(lives.shape, dtype=np.float32) < np.float32(d.p_media)
                )
            else:
                recv = reached
            boost = self.boost[idx]
            cap = np.float32(d.persuasion_cap) * mult[:, None]
            gain = np.float32(dv) * mult[:, None] * np.maximum(0, 1 - boost / cap)
            self.boost[idx] = np.where(recv, boost + gain, boost)
        # ---- unit effects
        if e.pressure_delta:
            pcap = np.float32(d.pressure_cap)
            p = self.pressure[idx]
            self.pressure[idx] = np.clip(
                p + np.float32(e.pressure_delta) * mult * (1 - p / pcap), 0, pcap
            )
        first = self.uses[idx, use.col] == 0
        money = False
        if e.loss_delta and first.any():
            self.loss_factor[idx] *= np.where(first, np.float32(1 - e.loss_delta), 1)
        if e.compensation_fen:
            full = max(d.compensation_full_fen, 0)
            comp = self.comp[idx]
            self.comp[idx] = np.maximum(comp, np.minimum(comp + e.compensation_fen, full))
            money = True
        if e.subsidy_delta and first.any():
            self.extra_subsidy[idx] = np.where(
                first,
                np.minimum(d.subsidy_tool_cap, self.extra_subsidy[idx] + e.subsidy_delta),
                self.extra_subsidy[idx],
            )
            money = True
        if money:
            self._recompute_money(idx)
        if e.approval_weeks_delta:
            before = self.phase[idx] <= APPROVAL
            self.approval_adjust[idx] += np.where(before, np.float32(e.approval_weeks_delta), 0)
        if e.stubborn_supporters:
            self._seed_stubborn(idx, e.stubborn_supporters)
        if e.objection_resolve_p:
            stage = self.obj_stage[idx]
            open_ = (stage >= 1) & (stage <= 4)
            p = np.minimum(1.0, e.objection_resolve_p * mult)[:, None]
            settled = open_ & (rng.random(stage.shape, dtype=np.float32) < p)
            self.obj_stage[idx] = np.where(settled, 0, stage)
        if use.technical:
            fix = rng.random(idx.size, dtype=np.float32) < np.minimum(1.0, d.technical_fix_p * mult)
            self.technical[idx] &= ~fix
        if use.pooling:
            self.pooling[idx] = True
        # ---- cooperation evidence
        level = tool.evidences
        if level >= 1:
            touched = reached.any(axis=1)
            coop = self.cooperation[idx]
            new = np.where(touched, np.maximum(coop, min(level, 2)), coop)
            if level >= 4:
                new = np.where(self.phase[idx] >= NOTICE, np.int8(4), new)
            self.cooperation[idx] = new.astype(np.int8)
        self.uses[idx, use.col] += 1
        self.last_use[idx, use.col] = self.week

    def _targets(self, use: _ToolUse, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        b = self.batch
        lives = self.lives[idx]
        if use.target == "low_floor":
            result: NDArray[np.bool_] = lives & (b.floor[idx] <= LOW_FLOOR_MAX)
            return result
        if use.target == "objectors":
            stage = self.obj_stage[idx]
            return (stage >= 1) & (stage <= 4)
        if use.target == "persuade":
            te = self._theta_eff(idx)
            y = self.support[idx]
            margin = np.where(lives & (y < te), y - te, np.inf)
            k = min(self.d.targets_per_use, margin.shape[1])
            order = np.argsort(margin, axis=1, kind="stable")[:, :k]
            chosen = np.zeros(margin.shape, bool)
            rows = np.arange(idx.size)[:, None]
            chosen[rows, order] = np.isfinite(margin[rows, order])
            return chosen
        return np.zeros(lives.shape, bool)

    def _seed_stubborn(self, idx: NDArray[np.intp], n: int) -> None:
        """Party members first, then supporters, become stubborn early supporters."""
        b = self.batch
        y = self.support[idx]
        agree = y >= self._theta_eff(idx)
        cand = self.lives[idx] & ~self.stubborn[idx] & (b.party[idx] | agree)
        key = np.where(cand, b.party[idx] * 2.0 + y, -np.inf)
        k = min(n, key.shape[1])
        order = np.argsort(-key, axis=1, kind="stable")[:, :k]
        rows = np.arange(idx.size)[:, None]
        pick = np.zeros(key.shape, bool)
        pick[rows, order] = np.isfinite(key[rows, order])
        self.stubborn[idx] |= pick
        self.lam[idx] = np.where(pick, np.float32(self.d.susceptibility_leader), self.lam[idx])

    def _interventions(self, working: NDArray[np.bool_]) -> None:
        if not working.any():
            return
        phase = self.phase
        wip = self.wip
        for item in self._plan:
            sel = working & item.phases[phase]
            if item.every:
                sel &= (wip >= item.start) & ((wip - item.start) % item.every == 0)
            else:
                sel &= wip == item.start
            idx = np.flatnonzero(sel)
            if idx.size and item.when:
                idx = idx[self._condition(item.when, idx)]
            self._apply(item.use, idx)
        for use in self._schedule.get(self.week, ()):
            self._apply(use, np.flatnonzero(working))
        if self._advisor:
            self._advise(working)

    def _advise(self, working: NDArray[np.bool_]) -> None:
        """Each unit uses the tool the advisor ranks first for its largest obstacle now."""
        idx = np.flatnonzero(working)
        if idx.size == 0:
            return
        sev = self._severities(idx)
        best = np.argmax(sev, axis=1)
        has = sev[np.arange(idx.size), best] > 0
        phase = self.phase[idx]
        stage_i = np.where(
            phase == NEGOTIATION, np.where(self.wip[idx] < self.neg_weeks[idx], 0, 1), phase + 1
        )
        cooldown = self.d.advisor_cooldown_weeks
        chosen = np.full(idx.size, -1, np.int32)
        for key in set(zip(best[has].tolist(), stage_i[has].tolist(), strict=True)):
            rows = np.flatnonzero(has & (best == key[0]) & (stage_i == key[1]))
            for use in self._advisor.get(key, []):
                free = chosen[rows] < 0
                ok = free & (self.week - self.last_use[idx[rows], use.col] >= cooldown)
                ok &= (
                    use.formal[idx[rows]]
                    | use.other_informal[idx[rows]]
                    | (use.action[idx[rows]] & self.action_here[idx[rows]])
                )
                chosen[rows[ok]] = use.col
        for col in np.unique(chosen[chosen >= 0]).tolist():
            self._apply(self._uses[col], idx[chosen == col])

    def _severities(self, idx: NDArray[np.intp]) -> NDArray[np.float64]:
        """Severity of each advisor obstacle per unit, scaled as heterogeneity scales them."""
        b = self.batch
        mask = b.mask[idx]
        lives = self.lives[idx]
        nonres = self.nonres[idx]
        n = np.maximum(mask.sum(axis=1), 1)
        phase = self.phase[idx]
        votes = self.votes[idx]
        out = np.zeros((idx.size, len(ADVISOR_OBSTACLES)))

        def scaled(ob: Obstacle, share: NDArray[np.float64]) -> NDArray[np.float64]:
            base, slope = SEVERITY_SCALE[ob]
            res: NDArray[np.float64] = np.where(share > 0, base + slope * share, 0.0)
            return res

        stage = self.obj_stage[idx]
        open_stage = np.where((stage >= 1) & (stage <= 4), stage, 0).max(axis=1)
        out[:, 0] = _OBJECTION_STAGE_SEVERITY[open_stage]
        out[:, 1] = np.where(self.technical[idx], 1.0, 0.0)
        low = lives & (b.floor[idx] <= LOW_FLOOR_MAX)
        out[:, 2] = scaled(
            Obstacle.INTEREST, (low & (votes != AGREE)).sum(1) / np.maximum(low.sum(1), 1)
        )
        out[:, 3] = scaled(Obstacle.TENURE, (nonres & ~self.reached[idx]).sum(1) / n)
        out[:, 4] = scaled(Obstacle.COST, (mask & (self.share[idx] > self.ability[idx])).sum(1) / n)
        out[:, 5] = scaled(Obstacle.INFORMATION, (lives & ~self.reached[idx]).sum(1) / n)
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
        rng = self.rng
        u_n = self.batch.n_units
        active = self.phase < SERVICE
        # 1. leaders: exit, replacement under formal guidance, stall
        quit_draw = rng.random(u_n)
        quits = active & self.action_here & (quit_draw < d.p_initiator_exit)
        self.action_here &= ~quits
        replace_draw = rng.random(u_n)
        if self.strategy.direct:
            back = (
                active & self.had_action & ~self.action_here & (replace_draw < d.p_replace_guided)
            )
            self.action_here |= back
        stalled = active & ~self.formal_here & ~self.other_informal & ~self.action_here
        self.leaderless = np.where(stalled, self.leaderless + 1, 0).astype(np.int32)
        working = active & ~stalled
        # 2. interventions
        self._interventions(working)
        # 3. influence
        anchor = self._anchor()
        wy = np.einsum("uij,uj->ui", self.W, self.support)
        self.support = (self.lam * wy + (1 - self.lam) * anchor).astype(np.float32)
        # 4. decisions
        self.votes = self._decide()
        # 5. objections
        self._objections(active)
        # 6. phases
        self.wip = np.where(working, self.wip + 1, self.wip).astype(np.int32)
        self._phases(working)
        # 7. failures
        self._failures(active)
        self.week += 1
        self._history.append(self.cooperation.copy())
        self.datacollector.collect(self)

    def _objections(self, active: NDArray[np.bool_]) -> None:
        stage_all = self.obj_stage
        has = active & ((stage_all >= 1) & (stage_all <= 4)).any(axis=1)
        idx = np.flatnonzero(has)
        if idx.size == 0:
            return
        d = self.d
        stage = self.obj_stage[idx]
        open_ = (stage >= 1) & (stage <= 4)
        p = np.asarray((0.0, *d.objection_resolve_weekly), np.float32)[stage]
        esc = np.asarray((0, *d.objection_escalate_weeks, 10**4), np.int32)[stage]
        draw = self.rng.random(stage.shape, dtype=np.float32)
        settled = open_ & (draw < p)
        weeks = np.where(open_ & ~settled, self.obj_weeks[idx] + 1, 0)
        up = open_ & ~settled & (stage < 4) & (weeks >= esc)
        self.obj_stage[idx] = np.where(settled, 0, np.where(up, stage + 1, stage)).astype(np.int8)
        self.obj_weeks[idx] = np.where(up, 0, weeks).astype(np.int16)
        self.obj_age[idx] = np.where(open_ & ~settled, self.obj_age[idx] + 1, 0).astype(np.int16)

    def _phases(self, working: NDArray[np.bool_]) -> None:
        d = self.d
        done_week = self.week + 1
        phase = self.phase.copy()
        wip = self.wip
        open_n = self.open_objections()
        # negotiation: the vote is counted weekly once the negotiation time has passed
        cand = working & (phase == NEGOTIATION) & (wip >= self.neg_weeks)
        if cand.any():
            idx = np.flatnonzero(cand)
            new = idx[tally(self.batch, self.votes[idx], open_n[idx], rows=idx)]
            self.phase[new] = NOTICE
            self.wip[new] = 0
            self.week_consent[new] = done_week
            self.cooperation[new] = np.maximum(self.cooperation[new], 3)
            self._file_objections(new)
            open_n[new] = self.open_objections()[new]
        # notice: a "no objection" rule restarts it while an objection is open
        notice = working & (phase == NOTICE)
        restart = notice & self.no_objection_rule & (open_n > 0)
        self.wip[restart] = 0
        go = notice & ~restart & (wip >= self.notice_weeks) & (open_n == 0)
        self._move(go, APPROVAL)
        # approval: waits for the technical block; the funding check opens construction
        need = np.maximum(d.approval_min_weeks, self.approval_weeks + self.approval_adjust)
        go = working & (phase == APPROVAL) & (wip >= need) & ~self.technical
        if go.any():
            idx = np.flatnonzero(go)
            short = np.zeros_like(go)
            short[idx] = self._funding_gap(idx)
            self._fail(short, F_FUNDING)
            self._move(go & ~short, CONSTRUCTION)
        self._move(working & (phase == CONSTRUCTION) & (wip >= self.construction_weeks), ACCEPTANCE)
        served = working & (phase == ACCEPTANCE) & (wip >= self.acceptance_weeks)
        self._move(served, SERVICE)
        self.week_service[served] = done_week

    def _move(self, sel: NDArray[np.bool_], to: int) -> None:
        self.phase[sel] = to
        self.wip[sel] = 0

    def _fail(self, sel: NDArray[np.bool_], code: int) -> None:
        sel = sel & (self.phase < SERVICE)
        self.phase[sel] = FAILED
        self.failure[sel] = code

    def _file_objections(self, idx: NDArray[np.intp]) -> None:
        """At the notice, each opposing low-floor household objects with p_object."""
        if idx.size == 0:
            return
        b = self.batch
        below = self.support[idx] < self._theta_eff(idx)
        low = self.lives[idx] & (b.floor[idx] <= LOW_FLOOR_MAX) & below & (self.obj_stage[idx] == 0)
        draw = self.rng.random(low.shape, dtype=np.float32)
        files = low & (draw < np.float32(self.d.p_object))
        self.obj_stage[idx] = np.where(files, 1, self.obj_stage[idx]).astype(np.int8)
        self.obj_weeks[idx] = np.where(files, 0, self.obj_weeks[idx])
        self.obj_age[idx] = np.where(files, 0, self.obj_age[idx])

    def _funding_gap(self, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Shares above afford_factor × ability not covered by pooled spare ability."""
        d = self.d
        mask = self.batch.mask[idx]
        share, ability = self.share[idx], self.ability[idx]
        gap = np.where(mask, np.maximum(0.0, share - d.afford_factor * ability), 0.0)
        spare = np.where(mask, np.maximum(0.0, ability - share), 0.0)
        pooled = np.where(self.pooling[idx], d.pool_share * spare.sum(axis=1), 0.0)
        result: NDArray[np.bool_] = gap.sum(axis=1) > pooled + 0.5
        return result

    def _failures(self, active: NDArray[np.bool_]) -> None:
        d = self.d
        phase = self.phase
        self._fail(
            active
            & (phase == APPROVAL)
            & self.technical
            & (self.wip >= d.technical_deadline_weeks),
            F_TECHNICAL,
        )
        stage = self.obj_stage
        old = ((stage >= 1) & (stage <= 4) & (self.obj_age >= d.objection_deadline_weeks)).any(1)
        self._fail(active & old, F_OBJECTION)
        self._fail(active & (self.leaderless >= d.stall_fail_weeks), F_EXIT)
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
