"""The unit model of docs/simulation.md written as a plain Mesa 3 model: a reference to time.

Households and stairwells are `mesa.Agent` objects; one `RetrofitModel` holds many stairwells
and steps them week by week with Python loops over agents, the way a Mesa user writes an ABM:
`AgentSet.do` for the weekly activations and a `DataCollector` for the series. It implements the
dynamics of `colift.sim.model` (leaders, tool plans through the catalogue's effects,
Friedkin–Johnsen influence with two-step flow, thresholds, the consent tally, phases,
objections, failures) but shares none of its code: the default numbers are read from the data
file `colift.sim.params.Defaults` reads (`colift/sim/defaults.toml`) and the plans are copied
from `colift.sim.strategies`, so a timing comparison measures the two implementations, not a
shared kernel. A week's tools act as colift's do: which
are due and whom they target is read before any of them acts, chances combine as independent
draws, and lasting boosts are added use by use, less credible messengers first. The tool catalogue (data) is read from
the package, as both models read it. The advisor policy is not implemented here.

    python benchmarks/mesa_unit.py [--units 100] [--weeks 104] [--seed 0] [--strategy guided]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import mesa

from colift.coproduction.catalogue import Catalogue, Reach, Tool, load_catalogue
from colift.model import Role
from colift.model.coproduction import Obstacle

# ---------------------------------------------------------------- parameters
# The values are data: read from colift's packaged `colift/sim/defaults.toml`, the same file
# `colift.sim.params.Defaults` reads, so the two models cannot drift apart (a test compares them).


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _packaged_defaults() -> dict[str, Any]:
    text = (files("colift.sim") / "defaults.toml").read_text(encoding="utf-8")
    return {name: _tuples(entry["value"]) for name, entry in tomllib.loads(text).items()}


_D = _packaged_defaults()


@dataclass(frozen=True)
class Params:
    support_prior: tuple[tuple[float, float], ...] = _D["support_prior"]
    support_need_upper: float = _D["support_need_upper"]
    need_floor_min: int = _D["need_floor_min"]
    thresholds: tuple[float, ...] = _D["thresholds"]
    abstain_band: float = _D["abstain_band"]
    susceptibility_resident: float = _D["susceptibility_resident"]
    susceptibility_leader: float = _D["susceptibility_leader"]
    party_anchor: float = _D["party_anchor"]
    elderly_share: float = _D["elderly_share"]
    need_share: float = _D["need_share"]
    party_share: float = _D["party_share"]
    tenure_shares: tuple[float, ...] = _D["tenure_shares"]
    area_m2: tuple[float, float] = _D["area_m2"]
    ability_median_fen: int = _D["ability_median_fen"]
    ability_sigma: float = _D["ability_sigma"]
    low_floor_loss_1f: float = _D["low_floor_loss_1f"]
    low_floor_loss_2f: float = _D["low_floor_loss_2f"]
    compensation_full_fen: int = _D["compensation_full_fen"]
    cost_weight: float = _D["cost_weight"]
    cost_reference: float = _D["cost_reference"]
    cost_cap: float = _D["cost_cap"]
    afford_factor: float = _D["afford_factor"]
    pool_share: float = _D["pool_share"]
    subsidy_tool_cap: float = _D["subsidy_tool_cap"]
    p_media: float = _D["p_media"]
    w_same_floor: float = _D["w_same_floor"]
    w_adjacent: float = _D["w_adjacent"]
    w_party: float = _D["w_party"]
    persuasion_cap: float = _D["persuasion_cap"]
    pressure_cap: float = _D["pressure_cap"]
    targets_per_use: int = _D["targets_per_use"]
    trust_alone: float = _D["trust_alone"]
    trust_direct: float = _D["trust_direct"]
    technical_fix_p: float = _D["technical_fix_p"]
    negotiation_median_weeks: float = _D["negotiation_median_weeks"]
    negotiation_sigma: float = _D["negotiation_sigma"]
    approval_weeks: tuple[int, int] = _D["approval_weeks"]
    approval_min_weeks: int = _D["approval_min_weeks"]
    construction_weeks: tuple[int, int] = _D["construction_weeks"]
    acceptance_weeks: tuple[int, int] = _D["acceptance_weeks"]
    p_object: float = _D["p_object"]
    objection_resolve_weekly: tuple[float, ...] = _D["objection_resolve_weekly"]
    objection_escalate_weeks: tuple[int, ...] = _D["objection_escalate_weeks"]
    objection_deadline_weeks: int = _D["objection_deadline_weeks"]
    p_technical: float = _D["p_technical"]
    technical_deadline_weeks: int = _D["technical_deadline_weeks"]
    p_initiator_exit: float = _D["p_initiator_exit"]
    p_replace_guided: float = _D["p_replace_guided"]
    stall_fail_weeks: int = _D["stall_fail_weeks"]
    deadline_weeks: int = _D["deadline_weeks"]
    # Scenario() defaults: cost of one lift, compensation per 1F flat, no subsidy profile.
    total_cost_fen: int = 45_000_000
    compensation_fen: int = 0
    subsidy_fen: int = 0


# Floor coefficients of the default cost-sharing scheme (area-weighted), as in sim.params.
FLOOR_COEFFICIENT = {1: 0.0, 2: 0.4, 3: 0.7, 4: 0.8, 5: 0.9, 6: 1.0, 7: 1.1, 8: 1.2, 9: 1.3}
COEFFICIENT_ABOVE = 1.3


@dataclass(frozen=True)
class ConsentRule:
    """A double threshold as integer fractions; the default is Civil Code art. 278."""

    quorum_area: tuple[int, int] | None = (2, 3)
    quorum_heads: tuple[int, int] | None = (2, 3)
    approval_of_total: bool = False
    approval_area: tuple[int, int] | None = (3, 4)
    approval_heads: tuple[int, int] | None = (3, 4)
    inclusive: bool = True  # 以上 includes the number itself (art. 1259)
    no_unresolved_objection: bool = False
    occupied_owners_must_agree: bool = False
    notice_days: int = 20


CIVIL_CODE_278 = ConsentRule()

# Phases, vote codes and failure causes.
NEGOTIATION, NOTICE, APPROVAL, CONSTRUCTION, ACCEPTANCE, SERVICE, FAILED = range(7)
AGREE, DISAGREE, ABSTAIN, ABSENT = range(4)
CAUSES = ("no_consent", "objection", "funding", "technical", "initiator_exit", "deadline")

# ---------------------------------------------------------------- strategies
# Copied from colift.sim.strategies: (tool, phases, first week in phase, every, condition).

PlanRow = tuple[str, frozenset[int], int, int, str]
PRE = frozenset({NEGOTIATION})
ALL = frozenset({NEGOTIATION, NOTICE, APPROVAL, CONSTRUCTION, ACCEPTANCE})


def _ph(*phases: int) -> frozenset[int]:
    return frozenset(phases)


INFORMAL_PLAN: tuple[PlanRow, ...] = (
    ("chat_group", ALL, 0, 8, "always"),
    ("door_to_door", PRE, 1, 1, "always"),
    ("signature_collection", PRE, 2, 4, "always"),
)
FORMAL_PLAN: tuple[PlanRow, ...] = (
    ("policy_briefing", PRE, 0, 8, "always"),
    ("willingness_survey", PRE, 1, 12, "always"),
    ("deliberation_meeting", PRE, 2, 4, "always"),
    ("site_visit", PRE, 3, 8, "always"),
    ("subsidy_application", PRE, 4, 0, "always"),
    ("success_stories", PRE, 5, 8, "always"),
    ("written_agreement", PRE, 6, 8, "always"),
    ("vendor_introduction", PRE, 6, 0, "always"),
    ("formal_vote", PRE, 8, 4, "always"),
    ("joint_meeting", PRE, 4, 8, "technical"),
    ("pipeline_coordination", _ph(NEGOTIATION, APPROVAL), 2, 2, "technical"),
    ("public_notice", _ph(NOTICE), 0, 0, "always"),
    ("deliberation_meeting", _ph(NOTICE), 0, 2, "objection"),
    ("mediation", _ph(NOTICE, APPROVAL, CONSTRUCTION), 0, 2, "objection"),
    ("hearing", _ph(NOTICE, APPROVAL), 2, 4, "objection"),
    ("joint_meeting", _ph(APPROVAL), 0, 4, "always"),
    ("one_stop_approval", _ph(APPROVAL), 0, 0, "always"),
    ("joint_acceptance", _ph(ACCEPTANCE), 0, 0, "always"),
)
GUIDED_PLAN: tuple[PlanRow, ...] = (
    *FORMAL_PLAN,
    *INFORMAL_PLAN,
    ("party_member_pledge", PRE, 0, 8, "always"),
    ("building_party_group", PRE, 1, 0, "always"),
    ("neighbourly_persuasion", PRE, 2, 2, "always"),
    ("emotional_appeal", PRE, 3, 4, "always"),
    ("compensation_agreement", _ph(NEGOTIATION, NOTICE), 4, 8, "low_floor"),
    ("design_change", PRE, 6, 0, "low_floor"),
    ("price_negotiation", PRE, 8, 0, "cost"),
    ("absentee_tracing", PRE, 3, 6, "absentee"),
    ("emotional_appeal", _ph(NOTICE), 1, 2, "objection"),
    ("legal_advice", _ph(NOTICE), 0, 4, "objection"),
    ("design_review", _ph(APPROVAL), 0, 2, "technical"),
    ("fund_escrow", _ph(APPROVAL), 0, 0, "always"),
    ("progress_followup", _ph(APPROVAL, CONSTRUCTION), 0, 2, "always"),
    ("self_managed_maintenance", _ph(ACCEPTANCE), 0, 0, "always"),
)

FORMAL_ROLES = frozenset({Role.COORDINATOR, Role.CONSULTATION_ORGANIZER, Role.VISION_PROMOTER})
INFORMAL_ROLES = frozenset({Role.OPINION_LEADER, Role.ACTION_LEADER, Role.COMMUNITY_ELITE})


@dataclass(frozen=True)
class Strategy:
    name: str
    roles: frozenset[Role]
    direct: bool
    embedded: bool
    plan: tuple[PlanRow, ...]


STRATEGIES = {
    "informal_only": Strategy(
        "informal_only", frozenset({Role.ACTION_LEADER}), False, False, INFORMAL_PLAN
    ),
    "formal_only": Strategy("formal_only", FORMAL_ROLES, True, False, FORMAL_PLAN),
    "guided": Strategy("guided", FORMAL_ROLES | INFORMAL_ROLES, True, True, GUIDED_PLAN),
}

# ---------------------------------------------------------------- input flats


@dataclass(frozen=True)
class Flat:
    """One flat as the reference model reads it (tenure: owner, rented, absentee, developer)."""

    floor: int
    stack: int
    area_cm2: int
    owner: str
    tenure: str = "owner"
    elderly: bool = False
    need: bool = False
    party: bool = False
    ability_fen: float | None = None
    leader: bool = False
    occupied: bool = False
    support: float | None = None


def random_unit(
    rng: random.Random, p: Params = Params(), storeys: int = 6, per_floor: int = 2
) -> list[Flat]:
    """A 1990s walk-up stairwell drawn from the same distributions as the simulation's."""
    n = storeys * per_floor
    tenures = rng.choices(("owner", "rented", "absentee", "developer"), p.tenure_shares, k=n)
    lo, hi = p.area_m2
    flats: list[Flat] = []
    for i in range(n):
        floor = i // per_floor + 1
        flats.append(
            Flat(
                floor=floor,
                stack=i % per_floor,
                area_cm2=rng.randint(round(lo * 100), round(hi * 100)) * 100,
                owner=f"owner-{floor}{i % per_floor + 1:02d}",
                tenure=tenures[i],
                elderly=rng.random() < p.elderly_share,
                need=rng.random() < p.need_share,
                party=rng.random() < p.party_share,
                ability_fen=rng.lognormvariate(math.log(p.ability_median_fen), p.ability_sigma),
            )
        )
    lives = [i for i, f in enumerate(flats) if f.tenure in ("owner", "rented")]
    upstairs = [i for i in lives if flats[i].floor >= 3] or lives
    if upstairs:
        pick = rng.choice(upstairs)
        f = flats[pick]
        flats[pick] = Flat(**{**f.__dict__, "leader": True})
    return flats


# ---------------------------------------------------------------- tools


@dataclass(frozen=True)
class ToolUse:
    """A catalogue tool as the strategy's roles hold it."""

    tool: Tool
    formal: bool  # a formal role present holds it
    other_informal: bool  # an informal role other than the action leader holds it
    action: bool  # the action leader holds it
    target: str  # unit, owners, low_floor, objectors, stubborn, persuade, none
    message: bool  # a whole-unit message, which travels by two-step flow
    technical: bool
    pooling: bool


def _target(tool: Tool) -> str:
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


def compile_tool(tool: Tool, roles: frozenset[Role]) -> ToolUse:
    held = set(tool.roles) & roles
    e = tool.effects
    return ToolUse(
        tool=tool,
        formal=bool(held & FORMAL_ROLES),
        other_informal=bool(held & (INFORMAL_ROLES - {Role.ACTION_LEADER})),
        action=Role.ACTION_LEADER in held,
        target=_target(tool),
        message=(
            tool.reaches is Reach.UNIT
            and tool.evidences <= 1
            and e.support_delta >= 0
            and e.trust_delta >= 0
        ),
        technical=Obstacle.TECHNICAL in tool.addresses,
        pooling=tool.evidences >= 4 and Obstacle.COST in tool.addresses,
    )


# ---------------------------------------------------------------- agents


class Household(mesa.Agent):
    """One flat and the household deciding for it."""

    def __init__(self, model: RetrofitModel, unit: Stairwell, flat: Flat) -> None:
        super().__init__(model)
        p = model.p
        self.unit = unit
        self.floor = flat.floor
        self.stack = flat.stack
        self.area_cm2 = flat.area_cm2
        self.party = flat.party
        self.leader = flat.leader
        self.occupied = flat.occupied
        self.lives = flat.tenure in ("owner", "rented")
        self.head_key = "\x00developer" if flat.tenure == "developer" else flat.owner
        band = min(max(flat.floor, 1), 4) - 1
        lo, hi = p.support_prior[band]
        prior = self.random.uniform(lo, hi)
        if flat.floor >= p.need_floor_min and (flat.elderly or flat.need):
            prior = p.support_need_upper
        if flat.support is not None:
            prior = flat.support
        self.prior = min(max(prior, 0.0), 1.0)
        self.theta = p.thresholds[band]
        ability = flat.ability_fen
        if ability is None:
            ability = self.random.lognormvariate(math.log(p.ability_median_fen), p.ability_sigma)
        self.ability = max(float(ability), 1.0)
        self.d0 = {1: p.low_floor_loss_1f, 2: p.low_floor_loss_2f}.get(flat.floor, 0.0)
        self.weight = FLOOR_COEFFICIENT.get(flat.floor, COEFFICIENT_ABOVE) * flat.area_cm2
        self.share = 0.0
        self.penalty = 0.0
        self.boost = 0.0
        self.reached = False
        self.opinion = self.lives and (flat.leader or flat.party)
        self.stubborn = self.lives and flat.party and model.strategy.embedded
        self.lam = p.susceptibility_resident
        self.neighbours: list[tuple[Household, float]] = []
        self.lead: Household = self
        self.support = 0.0
        self.next_support = 0.0
        self.vote = ABSENT
        self.obj_stage = 0  # 0 none, 1 negotiation, 2 mediation, 3 hearing, 4 litigation
        self.obj_weeks = 0
        self.obj_age = 0

    def set_share(self, payable: float, total_weight: float) -> None:
        p = self.model.p
        self.share = payable * self.weight / total_weight if total_weight > 0 else 0.0
        ratio = self.share / self.ability
        self.penalty = min(max(p.cost_weight * (ratio - p.cost_reference), 0.0), p.cost_cap)

    def threshold(self) -> float:
        return self.theta - self.unit.pressure

    def anchor(self) -> float:
        """Initial support plus every lasting effect (docs/simulation.md §3.2)."""
        p = self.model.p
        unit = self.unit
        loss = self.d0 * unit.loss_factor
        a = self.prior + self.boost + (self.d0 - loss) - self.penalty
        if self.floor == 1:
            a += min(loss, p.low_floor_loss_1f * unit.comp / p.compensation_full_fen)
        a = min(max(a, 0.0), 1.0)
        if self.stubborn:
            a = max(a, p.party_anchor)
        return a

    def listen(self) -> None:
        """Friedkin–Johnsen: y ← λ Σ w y_neighbour + (1 − λ) anchor."""
        heard = 0.0
        for other, w in self.neighbours:
            heard += w * other.support
        self.next_support = self.lam * heard + (1.0 - self.lam) * self.anchor()

    def commit(self) -> None:
        self.support = self.next_support

    def leaning(self) -> int:
        """What this household would say: agree, abstain or disagree by its threshold."""
        te = self.threshold()
        if self.support >= te:
            return AGREE
        if self.support >= te - self.model.p.abstain_band:
            return ABSTAIN
        return DISAGREE

    @property
    def objecting(self) -> bool:
        return 1 <= self.obj_stage <= 4


class Stairwell(mesa.Agent):
    """One unit (单元): its households, leaders, money, phase and objections."""

    def __init__(self, model: RetrofitModel, flats: Sequence[Flat]) -> None:
        super().__init__(model)
        p = model.p
        s = model.strategy
        rng = self.random
        self.households = [Household(model, self, f) for f in flats]
        self.phase = NEGOTIATION
        self.wip = 0
        self.technical = rng.random() < p.p_technical
        neg = rng.lognormvariate(math.log(p.negotiation_median_weeks), p.negotiation_sigma)
        self.neg_weeks = max(1, round(neg))
        self.approval_weeks = rng.randint(*p.approval_weeks)
        self.construction_weeks = rng.randint(*p.construction_weeks)
        self.acceptance_weeks = rng.randint(*p.acceptance_weeks)
        self.notice_weeks = -(-model.rule.notice_days // 7)
        # Money: shares from the scheme's weights; compensation K raised from the payers.
        self.n1 = sum(1 for h in self.households if h.floor == 1)
        self.total_weight = sum(h.weight for h in self.households)
        self.comp = p.compensation_fen
        self.extra_subsidy = 0.0
        self.subsidy = p.subsidy_fen
        self.payable = p.total_cost_fen - self.subsidy + self.comp * self.n1
        self.pooling = False
        for h in self.households:
            h.set_share(self.payable, self.total_weight)
        self.loss_factor = 1.0
        self.pressure = 0.0
        self.approval_adjust = 0.0
        # Leaders present under the strategy.
        self.formal_here = bool(s.roles & FORMAL_ROLES)
        self.other_informal = bool(s.roles & (INFORMAL_ROLES - {Role.ACTION_LEADER}))
        self.action_here = self.had_action = Role.ACTION_LEADER in s.roles
        informal_here = bool(s.roles & INFORMAL_ROLES)
        for h in self.households:
            if (h.leader and informal_here) or h.stubborn:
                h.lam = p.susceptibility_leader
        self._wire()
        self.uses: dict[str, int] = {}
        self.cooperation = 0
        self.week_consent = -1
        self.week_service = -1
        self.failure = ""
        self.leaderless = 0
        self.active = True
        self.working = True
        for h in self.households:
            h.support = h.anchor()
        self.decide()

    def _wire(self) -> None:
        """Neighbour lists with row-normalized weights, and each owner's lead flat."""
        p = self.model.p
        first: dict[str, Household] = {}
        for h in self.households:
            h.lead = first.setdefault(h.head_key, h)
            if not h.lives:
                h.neighbours = [(h, 1.0)]  # absentee and developer flats: self-loop only
                continue
            links: list[tuple[Household, float]] = []
            for o in self.households:
                if o is h or not o.lives:
                    continue
                w = 0.0
                if o.floor == h.floor:
                    w += p.w_same_floor
                if abs(o.floor - h.floor) == 1 and o.stack == h.stack:
                    w += p.w_adjacent
                if h.party and o.party:
                    w += p.w_party
                if w > 0:
                    links.append((o, w))
            total = sum(w for _, w in links)
            h.neighbours = [(o, w / total) for o, w in links] if total > 0 else [(h, 1.0)]

    # ------------------------------------------------------------ week, first half

    def start_week(self) -> None:
        """Leaders come and go, then the strategy's tools act."""
        p = self.model.p
        self.active = self.phase < SERVICE
        if self.active and self.action_here and self.random.random() < p.p_initiator_exit:
            self.action_here = False
        if (
            self.model.strategy.direct
            and self.active
            and self.had_action
            and not self.action_here
            and self.random.random() < p.p_replace_guided
        ):
            self.action_here = True
        stalled = (
            self.active
            and not self.formal_here
            and not self.other_informal
            and not self.action_here
        )
        self.leaderless = self.leaderless + 1 if stalled else 0
        self.working = self.active and not stalled
        if self.working:
            self.intervene()

    def intervene(self) -> None:
        """The week's tool uses: which are due, and whom they reach, read before any acts."""
        uses = []
        for tool_id, phases, start, every, when in self.model.strategy.plan:
            if self.phase not in phases:
                continue
            if every:
                if self.wip < start or (self.wip - start) % every:
                    continue
            elif self.wip != start:
                continue
            if when != "always" and not self.condition(when):
                continue
            use = self.model.tools[tool_id]
            if use.formal or use.other_informal or (use.action and self.action_here):
                uses.append(use)
        if uses:
            self.apply(uses)

    def condition(self, when: str) -> bool:
        hs = self.households
        if when == "objection":
            return any(h.objecting for h in hs)
        if when == "technical":
            return self.technical
        if when == "low_floor":
            return any(h.lives and h.floor <= 2 and h.vote != AGREE for h in hs)
        if when == "cost":
            return any(h.share > h.ability for h in hs)
        if when == "absentee":
            return any(not h.lives and not h.reached for h in hs)
        return True

    def apply(self, uses: list[ToolUse]) -> None:
        """The week's uses through their catalogue effects (docs/simulation.md §3): targets are
        chosen before any use acts; chances combine as independent draws; lasting boosts are
        added use by use, the less credible messengers' first."""
        model = self.model
        p = model.p
        rng = self.random
        hs = self.households
        mults = [model.formal_mult if u.formal else model.informal_mult for u in uses]
        targets = [self.targets(u) for u in uses]
        objecting = [h for h in hs if h.objecting]
        # Absentees found this week, by any of the week's uses that seek them.
        seeks = [u.tool.reaches_absentees and u.tool.effects.reach_absentee_p > 0 for u in uses]
        missed = 1.0
        for use, m, seek in zip(uses, mults, seeks, strict=True):
            if seek:
                missed *= 1.0 - min(1.0, use.tool.effects.reach_absentee_p * m)
        found = [h for h in hs if not h.lives and rng.random() < 1.0 - missed] if any(seeks) else []
        # Opinion leaders who follow this week's official messages (two-step flow).
        heard = []
        if any(u.message for u in uses):
            heard = [h for h in hs if h.opinion and rng.random() < p.p_media]
        for h in found:
            h.reached = True
        boosts: list[tuple[float, float, list[Household]]] = []
        first_uses = {u.tool.id: u for u in uses if self.uses.get(u.tool.id, 0) == 0}
        stubborn = 0
        kept_objection = kept_technical = 1.0
        money = False
        for use, m, reached, seek in zip(uses, mults, targets, seeks, strict=True):
            e = use.tool.effects
            for h in reached:
                h.reached = True
            dv = e.support_delta + e.trust_delta
            if dv > 0:
                receivers = heard if use.message else reached
                boosts.append((p.persuasion_cap * m, dv, receivers + (found if seek else [])))
            if e.compensation_fen:
                self.comp = max(
                    self.comp, min(self.comp + e.compensation_fen, p.compensation_full_fen)
                )
                money = True
            if e.approval_weeks_delta and self.phase <= APPROVAL:
                self.approval_adjust += e.approval_weeks_delta
            stubborn += e.stubborn_supporters
            if e.objection_resolve_p:
                kept_objection *= 1.0 - min(1.0, e.objection_resolve_p * m)
            if use.technical:
                kept_technical *= 1.0 - min(1.0, p.technical_fix_p * m)
            if use.pooling:
                self.pooling = True
            level = use.tool.evidences
            touched = bool(reached) or (use.target in ("unit", "owners") and bool(found))
            if level >= 1 and touched:
                self.cooperation = max(self.cooperation, min(level, 2))
            if level >= 4 and self.phase >= NOTICE:
                self.cooperation = 4
            self.uses[use.tool.id] = self.uses.get(use.tool.id, 0) + 1
        for cap, dv, receivers in sorted(boosts, key=lambda b: b[0]):
            step = min(1.0, dv / p.persuasion_cap)
            for h in receivers:
                h.boost += max(0.0, cap - h.boost) * step
        for use in first_uses.values():
            e = use.tool.effects
            if e.loss_delta:
                self.loss_factor *= 1 - e.loss_delta
            if e.subsidy_delta:
                self.extra_subsidy = min(p.subsidy_tool_cap, self.extra_subsidy + e.subsidy_delta)
                money = True
        if money:
            total = p.total_cost_fen
            self.subsidy = min(total, p.subsidy_fen + math.floor(self.extra_subsidy * total))
            self.payable = total - self.subsidy + self.comp * self.n1
            for h in hs:
                h.set_share(self.payable, self.total_weight)
        if stubborn:
            self.seed_stubborn(stubborn)
        if kept_objection < 1.0:
            for h in objecting:
                if rng.random() < 1.0 - kept_objection:
                    h.obj_stage = 0
        if kept_technical < 1.0 and self.technical and rng.random() < 1.0 - kept_technical:
            self.technical = False
        # Social pressure last: the week's targets were chosen under last week's pressure.
        for use, m in zip(uses, mults, strict=True):
            delta = use.tool.effects.pressure_delta
            if delta:
                cap = p.pressure_cap
                self.pressure = min(
                    max(self.pressure + delta * m * (1 - self.pressure / cap), 0.0), cap
                )

    def targets(self, use: ToolUse) -> list[Household]:
        hs = self.households
        if use.target in ("unit", "owners"):
            return [h for h in hs if h.lives]
        if use.target == "low_floor":
            return [h for h in hs if h.lives and h.floor <= 2]
        if use.target == "objectors":
            return [h for h in hs if h.objecting]
        if use.target == "persuade":  # those furthest below their threshold first
            below = [
                (h.support - h.threshold(), i)
                for i, h in enumerate(hs)
                if h.lives and h.support < h.threshold()
            ]
            below.sort()
            return [hs[i] for _, i in below[: self.model.p.targets_per_use]]
        return []

    def seed_stubborn(self, n: int) -> None:
        """Party members first, then supporters, become stubborn early supporters."""
        cands = [
            (-(2.0 * h.party + h.support), i)
            for i, h in enumerate(self.households)
            if h.lives and not h.stubborn and (h.party or h.support >= h.threshold())
        ]
        cands.sort()
        for _, i in cands[:n]:
            h = self.households[i]
            h.stubborn = True
            h.lam = self.model.p.susceptibility_leader

    # ------------------------------------------------------------ week, second half

    def end_week(self) -> None:
        """Decisions, objections, phases and failures once opinions have moved."""
        self.decide()
        if self.active:
            self.objections()
        if self.working:
            self.wip += 1
            self.advance()
        if self.active:
            self.check_failures()

    def decide(self) -> None:
        """A reached owner decides for all their flats by their lead flat's leaning."""
        hs = self.households
        reached_groups = {h.lead for h in hs if h.reached}
        leaning = {h: h.leaning() for h in hs if h.lead is h}
        for h in hs:
            h.vote = leaning[h.lead] if h.lead in reached_groups else ABSENT

    def objections(self) -> None:
        p = self.model.p
        for h in self.households:
            if not h.objecting:
                continue
            stage = h.obj_stage
            if self.random.random() < p.objection_resolve_weekly[stage - 1]:
                h.obj_stage = h.obj_weeks = h.obj_age = 0
                continue
            h.obj_weeks += 1
            h.obj_age += 1
            if stage < 4 and h.obj_weeks >= p.objection_escalate_weeks[stage - 1]:
                h.obj_stage = stage + 1
                h.obj_weeks = 0

    def open_objections(self) -> int:
        return sum(1 for h in self.households if h.objecting)

    def tally(self) -> bool:
        """The consent rule on heads (one per owner) and integer cm², cross-multiplied."""
        rule = self.model.rule
        total_a = part_a = agree_a = 0
        total_h = part_h = agree_h = 0
        occupied_not_agreeing = 0
        for h in self.households:
            takes_part = h.vote != ABSENT
            agrees = h.vote == AGREE
            total_a += h.area_cm2
            if takes_part:
                part_a += h.area_cm2
                if agrees:
                    agree_a += h.area_cm2
            if h.lead is h:
                total_h += 1
                part_h += takes_part
                agree_h += agrees
            if h.occupied and not agrees:
                occupied_not_agreeing += 1

        def meets(num: int, den: int, frac: tuple[int, int] | None) -> bool:
            if frac is None:
                return True
            if den <= 0:
                return False
            lhs, rhs = num * frac[1], frac[0] * den
            return lhs >= rhs if rule.inclusive else lhs > rhs

        ok = meets(part_a, total_a, rule.quorum_area) and meets(part_h, total_h, rule.quorum_heads)
        den_a, den_h = (total_a, total_h) if rule.approval_of_total else (part_a, part_h)
        ok = ok and meets(agree_a, den_a, rule.approval_area)
        ok = ok and meets(agree_h, den_h, rule.approval_heads)
        if rule.no_unresolved_objection and self.open_objections():
            ok = False
        if rule.occupied_owners_must_agree and occupied_not_agreeing:
            ok = False
        return ok

    def advance(self) -> None:
        """At most one phase a week: consent, notice, approval, construction, acceptance."""
        p = self.model.p
        done_week = self.model.week + 1
        if self.phase == NEGOTIATION:
            if self.wip >= self.neg_weeks and self.tally():
                self.phase, self.wip = NOTICE, 0
                self.week_consent = done_week
                self.cooperation = max(self.cooperation, 3)
                self.file_objections()
        elif self.phase == NOTICE:
            open_n = self.open_objections()
            if self.model.rule.no_unresolved_objection and open_n:
                self.wip = 0  # a "no objection" rule restarts the notice
            elif self.wip >= self.notice_weeks and open_n == 0:
                self.phase, self.wip = APPROVAL, 0
        elif self.phase == APPROVAL:
            need = max(p.approval_min_weeks, self.approval_weeks + self.approval_adjust)
            if self.wip >= need and not self.technical:
                if self.funding_gap():
                    self.fail("funding")
                else:
                    self.phase, self.wip = CONSTRUCTION, 0
        elif self.phase == CONSTRUCTION:
            if self.wip >= self.construction_weeks:
                self.phase, self.wip = ACCEPTANCE, 0
        elif self.phase == ACCEPTANCE and self.wip >= self.acceptance_weeks:
            self.phase, self.wip = SERVICE, 0
            self.week_service = done_week

    def file_objections(self) -> None:
        p = self.model.p
        for h in self.households:
            if (
                h.lives
                and h.floor <= 2
                and h.support < h.threshold()
                and h.obj_stage == 0
                and self.random.random() < p.p_object
            ):
                h.obj_stage, h.obj_weeks, h.obj_age = 1, 0, 0

    def funding_gap(self) -> bool:
        """Shares above afford_factor × ability not covered by pooled spare ability."""
        p = self.model.p
        gap = sum(max(0.0, h.share - p.afford_factor * h.ability) for h in self.households)
        pooled = 0.0
        if self.pooling:
            pooled = p.pool_share * sum(max(0.0, h.ability - h.share) for h in self.households)
        return gap > pooled + 0.5

    def fail(self, cause: str) -> None:
        if self.phase < SERVICE:
            self.phase = FAILED
            self.failure = cause

    def check_failures(self) -> None:
        p = self.model.p
        if self.phase == APPROVAL and self.technical and self.wip >= p.technical_deadline_weeks:
            self.fail("technical")
        if any(h.objecting and h.obj_age >= p.objection_deadline_weeks for h in self.households):
            self.fail("objection")
        if self.leaderless >= p.stall_fail_weeks:
            self.fail("initiator_exit")
        if self.model.week + 1 >= p.deadline_weeks and self.phase < SERVICE:
            cause = "deadline"
            if self.phase == APPROVAL and self.technical:
                cause = "technical"
            if self.phase == NOTICE and self.open_objections():
                cause = "objection"
            if self.phase == NEGOTIATION:
                cause = "no_consent"
            if self.leaderless > 0:
                cause = "initiator_exit"
            self.fail(cause)


# ---------------------------------------------------------------- the model


def _mean_support(model: RetrofitModel) -> float:
    return statistics.fmean(model.households.get("support")) if len(model.households) else 0.0


def _share(model: RetrofitModel, test: Any) -> float:
    units = model.stairwells
    return sum(1 for u in units if test(u)) / max(len(units), 1)


@dataclass
class Summary:
    units: int
    weeks: int
    successes: int
    failed: int
    causes: dict[str, int] = field(default_factory=dict)
    weeks_to_consent: list[int] = field(default_factory=list)
    weeks_to_service: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def median(xs: list[int]) -> float | None:
            return float(statistics.median(xs)) if xs else None

        return {
            "units": self.units,
            "weeks": self.weeks,
            "success_rate": self.successes / self.units if self.units else 0.0,
            "successes": self.successes,
            "failed": self.failed,
            "failure_causes": self.causes,
            "median_weeks_to_consent": median(self.weeks_to_consent),
            "median_weeks_to_service": median(self.weeks_to_service),
        }


class RetrofitModel(mesa.Model):
    """Many stairwells under one strategy, stepped weekly."""

    def __init__(
        self,
        units: Sequence[Sequence[Flat]],
        *,
        strategy: str = "guided",
        seed: int = 0,
        params: Params | None = None,
        rule: ConsentRule = CIVIL_CODE_278,
        catalogue: Catalogue | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.p = p = params or Params()
        self.rule = rule
        self.strategy = STRATEGIES[strategy]
        self.formal_mult = p.trust_direct if self.strategy.direct else 1.0
        direct_or_embedded = self.strategy.direct or self.strategy.embedded
        self.informal_mult = 1.0 if direct_or_embedded else p.trust_alone
        cat = catalogue or load_catalogue()
        self.tools = {
            row[0]: compile_tool(cat.get(row[0]), self.strategy.roles) for row in self.strategy.plan
        }
        self.week = 0
        for flats in units:
            Stairwell(self, flats)
        self.stairwells = self.agents_by_type[Stairwell]
        self.households = self.agents_by_type[Household]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "week": "week",
                "mean_support": _mean_support,
                "share_consented": lambda m: _share(m, lambda u: u.week_consent >= 0),
                "share_in_service": lambda m: _share(m, lambda u: u.phase == SERVICE),
                "share_failed": lambda m: _share(m, lambda u: u.phase == FAILED),
                "mean_cooperation": lambda m: statistics.fmean(m.stairwells.get("cooperation")),
            }
        )
        self.datacollector.collect(self)

    def step(self) -> None:
        self.stairwells.do("start_week")
        self.households.do("listen")  # everyone hears last week's opinions ...
        self.households.do("commit")  # ... then all update at once
        self.stairwells.do("end_week")
        self.week += 1
        self.datacollector.collect(self)

    def run_weeks(self, weeks: int) -> Summary:
        for _ in range(weeks):
            self.step()
        return self.summary()

    def summary(self) -> Summary:
        units = list(self.stairwells)
        causes = {c: sum(1 for u in units if u.failure == c) for c in CAUSES}
        return Summary(
            units=len(units),
            weeks=self.week,
            successes=sum(1 for u in units if u.phase == SERVICE),
            failed=sum(1 for u in units if u.phase == FAILED),
            causes=causes,
            weeks_to_consent=[u.week_consent for u in units if u.week_consent >= 0],
            weeks_to_service=[u.week_service for u in units if u.week_service >= 0],
        )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strategy", choices=sorted(STRATEGIES), default="guided")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    units = [random_unit(rng) for _ in range(args.units)]
    t0 = time.perf_counter()
    model = RetrofitModel(units, strategy=args.strategy, seed=args.seed)
    t1 = time.perf_counter()
    summary = model.run_weeks(args.weeks)
    t2 = time.perf_counter()
    out = summary.as_dict() | {"build_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3)}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
