"""Strategies (docs/simulation.md §4): which roles act, under which guidance, with which tools when.

A strategy names its roles and guidance modes and either a plan (tool, phases, first week in the
phase, period, condition), the advisor policy, or a week-by-week schedule from a scenario file.
Tools are catalogue ids; what a tool does is read from the catalogue's effects by the model, never
from here. The named strategies differ only in who is present and which tools they hold: the
outcomes follow from the mechanisms (trust, replacement, coordination, compensation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from colift.datafiles import reject_unknown
from colift.errors import BadInput
from colift.model import LEADER_ROLES, Role
from colift.model.coproduction import GuidanceMode

# Phases of a unit's project, in order; FAILED is terminal like SERVICE.
NEGOTIATION, NOTICE, APPROVAL, CONSTRUCTION, ACCEPTANCE, SERVICE, FAILED = range(7)
PHASE_NAMES = (
    "negotiation",
    "notice",
    "approval",
    "construction",
    "acceptance",
    "service",
    "failed",
)

# When a planned use happens, besides its timing.
CONDITIONS = ("always", "objection", "technical", "low_floor", "cost", "absentee")

FORMAL = frozenset({Role.COORDINATOR, Role.CONSULTATION_ORGANIZER, Role.VISION_PROMOTER})
INFORMAL = frozenset({Role.OPINION_LEADER, Role.ACTION_LEADER, Role.COMMUNITY_ELITE})


@dataclass(frozen=True)
class PlanItem:
    """Use `tool` in `phases`, first after `start` weeks in the phase, then every `every` weeks
    (0: once per phase), when `when` holds for the unit."""

    tool: str
    phases: frozenset[int]
    start: int = 0
    every: int = 0
    when: str = "always"

    def __post_init__(self) -> None:
        if self.when not in CONDITIONS:
            raise BadInput(
                "plan item {tool}: when must be one of {CONDITIONS}",
                tool=self.tool,
                CONDITIONS=", ".join(CONDITIONS),
            )
        if self.start < 0 or self.every < 0:
            raise BadInput("plan item {tool}: start and every must be ≥ 0", tool=self.tool)


@dataclass(frozen=True)
class StrategySpec:
    name: str
    roles: frozenset[Role]
    guidance: frozenset[GuidanceMode]
    plan: tuple[PlanItem, ...] = ()
    schedule: Mapping[int, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    policy: str = "plan"  # plan | advisor | schedule

    @property
    def direct(self) -> bool:
        return GuidanceMode.DIRECT in self.guidance

    @property
    def embedded(self) -> bool:
        return GuidanceMode.EMBEDDED in self.guidance

    def tool_ids(self) -> list[str]:
        ids = [p.tool for p in self.plan]
        for tools in self.schedule.values():
            ids.extend(tools)
        return list(dict.fromkeys(ids))


def _item(
    tool: str, phases: Sequence[int], start: int = 0, every: int = 0, when: str = "always"
) -> PlanItem:
    return PlanItem(tool, frozenset(phases), start, every, when)


PRE = (NEGOTIATION,)
ALL = (NEGOTIATION, NOTICE, APPROVAL, CONSTRUCTION, ACCEPTANCE)

# The three tools docs/simulation.md §4 gives an action leader acting alone.
INFORMAL_PLAN = (
    _item("chat_group", ALL, 0, 8),
    _item("door_to_door", PRE, 1, 1),
    _item("signature_collection", PRE, 2, 4),
)

# Informal leaders together, without Party guidance or formal leaders: each of the three
# informal roles with its own catalogue tools, the action leader's fund escrow included
# (docs/simulation.md §4). `informal_only` stays what it is: one action leader alone.
INFORMAL_LEADERS_PLAN = (
    *INFORMAL_PLAN,
    _item("neighbourly_persuasion", PRE, 2, 2),
    _item("emotional_appeal", PRE, 3, 4),
    _item("absentee_tracing", PRE, 3, 6, "absentee"),
    _item("compensation_agreement", (NEGOTIATION, NOTICE), 4, 8, "low_floor"),
    _item("design_change", PRE, 6, 0, "low_floor"),
    _item("price_negotiation", PRE, 8, 0, "cost"),
    _item("legal_advice", (NOTICE,), 0, 4, "objection"),
    _item("design_review", (APPROVAL,), 0, 2, "technical"),
    _item("fund_escrow", (APPROVAL,)),
    _item("progress_followup", (APPROVAL, CONSTRUCTION), 0, 2),
)

FORMAL_PLAN = (
    _item("policy_briefing", PRE, 0, 8),
    _item("willingness_survey", PRE, 1, 12),
    _item("deliberation_meeting", PRE, 2, 4),
    _item("site_visit", PRE, 3, 8),
    _item("subsidy_application", PRE, 4),
    _item("success_stories", PRE, 5, 8),
    _item("written_agreement", PRE, 6, 8),
    _item("vendor_introduction", PRE, 6),
    _item("formal_vote", PRE, 8, 4),
    _item("joint_meeting", PRE, 4, 8, "technical"),
    _item("pipeline_coordination", (NEGOTIATION, APPROVAL), 2, 2, "technical"),
    _item("public_notice", (NOTICE,)),
    _item("deliberation_meeting", (NOTICE,), 0, 2, "objection"),
    _item("mediation", (NOTICE, APPROVAL, CONSTRUCTION), 0, 2, "objection"),
    _item("hearing", (NOTICE, APPROVAL), 2, 4, "objection"),
    _item("joint_meeting", (APPROVAL,), 0, 4),
    _item("one_stop_approval", (APPROVAL,)),
    _item("joint_acceptance", (ACCEPTANCE,)),
)

# Guided: formal and informal leaders together; informal tools act under embedded guidance, and
# low floors are offered compensation and a design change (docs/simulation.md §4).
GUIDED_PLAN = (
    *FORMAL_PLAN,
    *INFORMAL_PLAN,
    _item("party_member_pledge", PRE, 0, 8),
    _item("building_party_group", PRE, 1),
    _item("neighbourly_persuasion", PRE, 2, 2),
    _item("emotional_appeal", PRE, 3, 4),
    _item("compensation_agreement", (NEGOTIATION, NOTICE), 4, 8, "low_floor"),
    _item("design_change", PRE, 6, 0, "low_floor"),
    _item("price_negotiation", PRE, 8, 0, "cost"),
    _item("absentee_tracing", PRE, 3, 6, "absentee"),
    _item("emotional_appeal", (NOTICE,), 1, 2, "objection"),
    _item("legal_advice", (NOTICE,), 0, 4, "objection"),
    _item("design_review", (APPROVAL,), 0, 2, "technical"),
    _item("fund_escrow", (APPROVAL,)),
    _item("progress_followup", (APPROVAL, CONSTRUCTION), 0, 2),
    _item("self_managed_maintenance", (ACCEPTANCE,)),
)

ALL_LEADERS = frozenset(LEADER_ROLES)

STRATEGIES: dict[str, StrategySpec] = {
    "informal_only": StrategySpec(
        "informal_only", frozenset({Role.ACTION_LEADER}), frozenset(), INFORMAL_PLAN
    ),
    "informal_leaders": StrategySpec(
        "informal_leaders", INFORMAL, frozenset(), INFORMAL_LEADERS_PLAN
    ),
    "formal_only": StrategySpec(
        "formal_only", FORMAL, frozenset({GuidanceMode.DIRECT}), FORMAL_PLAN
    ),
    "guided": StrategySpec(
        "guided",
        ALL_LEADERS,
        frozenset({GuidanceMode.DIRECT, GuidanceMode.EMBEDDED}),
        GUIDED_PLAN,
    ),
    "advisor": StrategySpec(
        "advisor",
        ALL_LEADERS,
        frozenset({GuidanceMode.DIRECT, GuidanceMode.EMBEDDED}),
        policy="advisor",
    ),
}


def _roles(raw: object, where: str) -> frozenset[Role]:
    if not isinstance(raw, list | tuple) or not all(isinstance(r, str) for r in raw):
        raise BadInput("{where}: roles must be a list of role names", where=where)
    out = set()
    for value in raw:
        try:
            out.add(Role(value))
        except ValueError:
            known = ", ".join(sorted(r.value for r in LEADER_ROLES))
            raise BadInput(
                "{where}: unknown role {value}; leader roles are {known}",
                where=where,
                value=repr(value),
                known=known,
            ) from None
    return frozenset(out)


def _guidance(raw: object, where: str) -> frozenset[GuidanceMode]:
    if not isinstance(raw, list | tuple) or not all(isinstance(g, str) for g in raw):
        raise BadInput(
            '{where}: guidance must be a list such as ["direct", "embedded"]', where=where
        )
    try:
        return frozenset(GuidanceMode(g) for g in raw if g != GuidanceMode.NONE)
    except ValueError:
        raise BadInput(
            "{where}: guidance values are direct, embedded or none", where=where
        ) from None


def _schedule(raw: object, where: str) -> dict[int, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise BadInput("{where}: schedule must be a table {{week = [tool, …]}}", where=where)
    out: dict[int, tuple[str, ...]] = {}
    for key, tools in raw.items():
        try:
            week = int(key)
        except (TypeError, ValueError):
            raise BadInput(
                "{where}: schedule key {key} is not a week number", where=where, key=repr(key)
            ) from None
        if week < 0:
            raise BadInput("{where}: schedule week {week} must be ≥ 0", where=where, week=week)
        if isinstance(tools, str):
            tools = [tools]
        if not isinstance(tools, list | tuple) or not all(isinstance(t, str) for t in tools):
            raise BadInput(
                "{where}: schedule week {week} must list tool ids", where=where, week=week
            )
        out[week] = tuple(tools)
    return out


_STRATEGY_KEYS = frozenset({"schedule", "roles", "guidance", "base"})


def strategy_for(scenario_strategy: str | Mapping[str, Any]) -> StrategySpec:
    """A named strategy, or a table {schedule, roles, guidance} from a scenario file.

    A table may name a `base` strategy: its roles, guidance and plan, with the schedule on top.
    Without roles, a schedule runs with the roles its tools need (their first leader role).
    """
    if isinstance(scenario_strategy, str):
        spec = STRATEGIES.get(scenario_strategy)
        if spec is None:
            raise BadInput(
                "unknown strategy {scenario_strategy}: use {STRATEGIES} or a table with a schedule",
                scenario_strategy=repr(scenario_strategy),
                STRATEGIES=", ".join(STRATEGIES),
            )
        return spec
    if not isinstance(scenario_strategy, Mapping):
        raise BadInput("strategy must be a name or a table with a schedule")
    where = "strategy"
    reject_unknown(scenario_strategy, _STRATEGY_KEYS, where)
    base_name = scenario_strategy.get("base")
    base = strategy_for(str(base_name)) if base_name is not None else None
    schedule = _schedule(scenario_strategy.get("schedule", {}), where)
    if base is None and not schedule:
        raise BadInput(
            "{where}: give a schedule {{week = [tool, …]}} or a base strategy", where=where
        )
    if "roles" in scenario_strategy:
        roles = _roles(scenario_strategy["roles"], where)
    elif base is not None:
        roles = base.roles
    else:
        roles = frozenset()  # filled from the tools by the model
    if "guidance" in scenario_strategy:
        guidance = _guidance(scenario_strategy["guidance"], where)
    else:
        guidance = base.guidance if base is not None else frozenset()
    return StrategySpec(
        name=str(base_name) + "+schedule" if base is not None else "schedule",
        roles=roles,
        guidance=guidance,
        plan=base.plan if base is not None else (),
        schedule=MappingProxyType(schedule),
        policy=base.policy if base is not None else "schedule",
    )
