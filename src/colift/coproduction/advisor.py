"""The advisor: which role should use which tool next, for which households, and why.

Rules first, every step explainable (path-model.md §5, §8):
1. the obstacles of the unit (heterogeneity.obstacles) and the procedural next step of its stage
   are the problems to solve;
2. for each problem, the catalogue's tools that address it are ranked by how strongly their
   effects act on its cause (a low-floor loss is met first by tools that lower the loss or
   compensate it, an unreached absentee by tools that reach absentees), weighed by severity and
   divided by effort;
3. each tool goes to a role that holds it, preferring a leader the unit already has, under the
   guidance mode the unit can give (embedded when a Party member lives in the stairwell);
4. leadership gaps (a missing role, no embedded Party member, an informal leader without formal
   backing) are reported beside the actions, with candidates from the influence network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from colift.coproduction.catalogue import Catalogue, Reach, Tool
from colift.coproduction.cooperation import (
    ActorLink,
    CooperationAssessment,
    actor_cooperation,
    cooperation_level,
)
from colift.coproduction.heterogeneity import (
    REASON_ZH,
    STATUS_ZH,
    Finding,
    HeterogeneityProfile,
    consent_for,
    heterogeneity,
    obstacles,
)
from colift.coproduction.network import (
    Candidate,
    Messenger,
    messenger_for,
    opinion_leader_candidates,
    unreached,
)
from colift.coproduction.reasons import ReasonRule, ReasonTable, load_reason_table
from colift.coproduction.snapshot import Leader, UnitSnapshot
from colift.model import (
    INFORMAL_ROLES,
    LEADER_ROLES,
    PARTY_ROLES,
    ROLE_NAMES_ZH,
    Role,
)
from colift.model.coproduction import STAGE_NAMES_ZH, GuidanceMode, Obstacle, Stage
from colift.rules.consent import ConsentResult

_ToolEffect = Callable[[Tool], float]

# How strongly a tool acts on the cause of each obstacle, read from its catalogue effects.
# Weights are assumptions; they only order tools and never invent an effect the catalogue lacks.
CAUSE_LEVERS: dict[Obstacle, tuple[tuple[float, _ToolEffect], ...]] = {
    Obstacle.INTEREST: (
        (3.0, lambda t: t.effects.loss_delta),
        (1.5, lambda t: t.effects.compensation_fen / 1_000_000),  # per ¥10,000 offered
        (1.0, lambda t: t.effects.support_delta),
        (0.5, lambda t: t.effects.pressure_delta),
    ),
    Obstacle.OBJECTION: (
        (2.0, lambda t: t.effects.objection_resolve_p),
        (1.0, lambda t: t.effects.loss_delta),
        (0.5, lambda t: t.effects.compensation_fen / 1_000_000),
    ),
    Obstacle.TENURE: ((2.0, lambda t: t.effects.reach_absentee_p),),
    Obstacle.INFORMATION: (
        (2.0, lambda t: t.effects.support_delta),
        (1.0, lambda t: t.effects.trust_delta),
        (0.1, lambda t: 1.0 if t.reaches is Reach.UNIT else 0.0),
    ),
    Obstacle.TRUST: (
        (3.0, lambda t: t.effects.trust_delta),
        (0.1, lambda t: t.effects.stubborn_supporters),
    ),
    Obstacle.NEED: ((2.0, lambda t: t.effects.support_delta),),
    Obstacle.COST: (
        (4.0, lambda t: t.effects.subsidy_delta),
        (0.5, lambda t: t.effects.trust_delta),
    ),
    Obstacle.TECHNICAL: (
        (0.1, lambda t: -t.effects.approval_weeks_delta),
        (1.0, lambda t: t.effects.loss_delta),
    ),
    Obstacle.APPROVAL: ((0.25, lambda t: -t.effects.approval_weeks_delta),),
    Obstacle.LEGITIMACY: (
        (2.0, lambda t: t.effects.pressure_delta),
        (1.0, lambda t: t.effects.support_delta),
        (0.5, lambda t: t.effects.reach_absentee_p),
    ),
    Obstacle.COORDINATION: (
        (1.0, lambda t: t.effects.pressure_delta),
        (1.0, lambda t: t.effects.trust_delta),
        (0.1, lambda t: t.effects.stubborn_supporters),
        (0.05, lambda t: -t.effects.approval_weeks_delta),
    ),
}
FIRST_LISTED_BONUS = 0.1  # the catalogue lists first the obstacle a tool is mainly for
EFFORT_SCALE = 20.0  # hours: a 20-hour tool counts half as attractive as a free one
LOCAL_LEADER_BONUS = 1.15  # an action by someone the unit already has is likelier to happen

# Once the notice has passed, the decision stands: the split of interests, need, information and
# consent are history and weigh little; objections, money, coordination and technique still matter.
DECIDED_STAGES = frozenset({Stage.APPROVAL, Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.OPERATION})
SETTLED_OBSTACLES = frozenset(
    {Obstacle.INTEREST, Obstacle.NEED, Obstacle.LEGITIMACY, Obstacle.INFORMATION, Obstacle.TENURE}
)
SETTLED_WEIGHT = 0.25


def stage_weight(obstacle: Obstacle, stage: Stage) -> float:
    """How much an obstacle still matters at this stage."""
    if stage in DECIDED_STAGES and obstacle in SETTLED_OBSTACLES:
        return SETTLED_WEIGHT
    return 1.0


STAGE_STEP_SEVERITY = 0.7
RULE_SCORE = 1.5  # a reason-table answer counts like a strong tool (assumption: orders only)
RULE_DECAY = 0.8  # each later tool of a row a little less than the one before
# Tools carried person to person: the household's own messenger carries them.
PERSONAL_TOOLS = frozenset({"door_to_door", "neighbourly_persuasion", "emotional_appeal"})
GENERIC_RECORD_ZH = (
    "在活动记录里登记：日期、谁去的、见了哪几户、结果（立场或异议有变化的一并更新）。"
)

OBSTACLE_NAMES_ZH: dict[Obstacle, str] = {
    Obstacle.INTEREST: "利益冲突",
    Obstacle.NEED: "需求不足",
    Obstacle.COST: "费用",
    Obstacle.TENURE: "产权与居住",
    Obstacle.INFORMATION: "信息",
    Obstacle.TRUST: "信任",
    Obstacle.TECHNICAL: "技术条件",
    Obstacle.APPROVAL: "审批",
    Obstacle.LEGITIMACY: "合法性（同意）",
    Obstacle.COORDINATION: "组织协调",
    Obstacle.OBJECTION: "异议",
}


# Why a tool is worth using against each kind of finding the reason table does not cover,
# said the way a worker would say it; {concern} is the finding, {tool} the tool's name.
OBSTACLE_WHY_ZH: dict[Obstacle, str] = {
    Obstacle.INTEREST: "{concern}：低层的顾虑不化解，就凑不够同意",
    Obstacle.NEED: "{concern}：楼上没人急需，就没人牵头，用「{tool}」把需要讲出来",
    Obstacle.COST: "{concern}：钱的缺口不补上，出资户不会签字",
    Obstacle.TENURE: "{concern}：外地业主同样有表决权，联系不上就凑不够人数和面积",
    Obstacle.INFORMATION: "{concern}：没听说过的住户无法表态，先让他们知道",
    Obstacle.TRUST: "{concern}：不信任组织者的住户听不进任何方案，先用「{tool}」重建信任",
    Obstacle.TECHNICAL: "{concern}：技术问题不解决，设计和审批都过不了",
    Obstacle.APPROVAL: "{concern}：审批卡住，项目就停在这一步",
    Obstacle.LEGITIMACY: "{concern}：同意达不到规定，项目不能报批",
    Obstacle.COORDINATION: "{concern}：没人跟进，签字、收钱和进度都会停下",
    Obstacle.OBJECTION: "{concern}：书面异议不处理，公示和审批会被卡住",
}


@dataclass(frozen=True)
class Recommendation:
    role: Role
    tool: str
    targets: tuple[str, ...]
    rationale: str
    obstacle: Obstacle
    guidance: GuidanceMode
    score: float
    who: str | None = None  # the leader or messenger suggested to act (name or room)
    tool_zh: str = ""  # the tool's Chinese name
    how_zh: str = ""  # the tool's how-to (description_zh)
    why_zh: str = ""  # one sentence tying the tool to the obstacle
    record_zh: str = ""  # what to record afterwards
    who_zh: str = ""  # who acts, in Chinese: a person, a messenger and the tie, or a role
    messenger: Messenger | None = None
    rule: str | None = None  # the reason-table row that chose the tool, if any

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "tool": self.tool,
            "tool_zh": self.tool_zh,
            "targets": list(self.targets),
            "rationale": self.rationale,
            "obstacle": self.obstacle.value,
            "guidance": self.guidance.value,
            "score": round(self.score, 3),
            "who": self.who,
            "who_zh": self.who_zh,
            "how_zh": self.how_zh,
            "why_zh": self.why_zh,
            "record_zh": self.record_zh,
            "messenger": None if self.messenger is None else self.messenger.to_json(),
            "rule": self.rule,
        }


@dataclass(frozen=True)
class LeadershipGap:
    kind: str  # missing_role, no_embedded_party_member, informal_without_backing
    message: str
    role: Role | None = None
    candidates: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "role": self.role.value if self.role else None,
            "message": self.message,
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True)
class Advice:
    snapshot: UnitSnapshot
    heterogeneity: HeterogeneityProfile
    findings: list[Finding]
    cooperation: CooperationAssessment
    recommendations: list[Recommendation]
    leadership: list[LeadershipGap]
    candidates: list[Candidate]
    unreached: list[str]
    consent: ConsentResult | None = None
    notes: list[str] = field(default_factory=list)
    actors: list[ActorLink] = field(default_factory=list)  # who worked with whom, on what

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.snapshot.label,
            "stage": self.snapshot.stage.value,
            "heterogeneity": self.heterogeneity.to_json(),
            "obstacles": [f.to_json() for f in self.findings],
            "cooperation_level": self.cooperation.level,
            "cooperation": {
                "level": self.cooperation.level,
                "name": self.cooperation.name,
                "name_zh": self.cooperation.name_zh,
                "evidence": [
                    {"date": e.on.isoformat(), "level": e.level, "tool": e.tool, "text": e.text}
                    for e in self.cooperation.basis
                ],
                "missing": self.cooperation.missing,
            },
            "recommendations": [r.to_json() for r in self.recommendations],
            "leadership": [g.to_json() for g in self.leadership],
            "opinion_leader_candidates": [c.to_json() for c in self.candidates],
            "unreached": self.unreached,
            "actor_cooperation": [link.to_json() for link in self.actors],
            "consent": None
            if self.consent is None
            else {
                "passed": self.consent.passed,
                "reasons": list(self.consent.reasons),
            },
        }


def _has_votes(snapshot: UnitSnapshot) -> bool:
    return any(h.vote is not None for h in snapshot.households)


def advise(
    snapshot: UnitSnapshot,
    catalogue: Catalogue,
    *,
    limit: int = 8,
    table: ReasonTable | None = None,
) -> Advice:
    """Diagnose the unit and rank the next actions.

    Findings about one household's opposition (interest, objection, cost) are answered by the
    reason table (reason × status × stage); every other finding by the catalogue's effects.
    """
    table = table or load_reason_table()
    consent = consent_for(snapshot) if _has_votes(snapshot) else None
    profile = heterogeneity(snapshot)
    findings = obstacles(snapshot, consent)
    stall_finding, stall_recs = _stalled(snapshot, catalogue, table)
    if stall_finding is not None:
        findings = [stall_finding, *findings]
    cooperation = cooperation_level(
        snapshot, catalogue, consent_passed=None if consent is None else consent.passed
    )
    candidates = opinion_leader_candidates(snapshot)
    lonely = unreached(snapshot)
    gaps, gap_recs = _leadership(snapshot, catalogue, candidates)
    # Every problem gets its best tool before any problem gets a second one.
    queues = [stall_recs, _stage_steps(snapshot, catalogue, table)] + [[r] for r in gap_recs]
    queues += [
        _ranked_for(f, snapshot, catalogue, candidates, table)
        for f in findings
        if f is not stall_finding
    ]
    queues = [sorted(q, key=lambda r: (-r.score, r.tool)) for q in queues if q]
    chosen: set[tuple[str, tuple[str, ...]]] = set()
    ranked: list[Recommendation] = []
    depth = 0
    while len(ranked) < limit and any(depth < len(q) for q in queues):
        round_picks: list[Recommendation] = []
        for queue in queues:
            pick = next((r for r in queue[depth:] if (r.tool, r.targets) not in chosen), None)
            if pick is not None and pick not in round_picks:
                round_picks.append(pick)
                chosen.add((pick.tool, pick.targets))
        ranked += sorted(round_picks, key=lambda r: (-r.score, r.tool))
        depth += 1
    ranked = _stall_first(ranked, stall_recs)[:limit]
    return Advice(
        snapshot,
        profile,
        findings,
        cooperation,
        ranked,
        gaps,
        candidates,
        lonely,
        consent,
        actors=actor_cooperation(snapshot.activities),
    )


def _done(snapshot: UnitSnapshot, tool: str) -> bool:
    """The log shows the tool used; for the formal vote, ballots cast count as well."""
    if tool == "formal_vote" and any(
        h.vote is not None and h.vote.participates for h in snapshot.households
    ):
        return True
    done = {tool, *DONE_BY.get(tool, ())}
    return any(a.tool in done for a in snapshot.activities)


# A step counts as taken when the log shows an older tool that included it.
DONE_BY: dict[str, tuple[str, ...]] = {
    # owners co-managing the lift (self_managed_maintenance) designate its use manager
    "use_manager_designation": ("self_managed_maintenance",),
}


def _who_zh(role: Role, holder: Leader | None, messenger: Messenger | None) -> str:
    if messenger is not None:
        return messenger.label
    if holder is not None:
        return f"{holder.name}（{ROLE_NAMES_ZH[role]}）"
    return f"{ROLE_NAMES_ZH[role]}（本单元尚无人担任，需先落实）"


def _recommend(
    tool: Tool,
    snapshot: UnitSnapshot,
    *,
    targets: tuple[str, ...],
    obstacle: Obstacle,
    score: float,
    why_zh: str,
    rationale: str,
    messenger: Messenger | None = None,
    rule: str | None = None,
) -> Recommendation:
    """One recommendation with everything a worker reads: who, whom, why, how, what to record."""
    role, holder = _pick_role(tool, snapshot)
    if messenger is not None and Role.OPINION_LEADER in tool.roles:
        role, holder = Role.OPINION_LEADER, None
    if holder is not None:
        score *= LOCAL_LEADER_BONUS
    who = messenger.name or messenger.room if messenger is not None else None
    return Recommendation(
        role,
        tool.id,
        targets,
        rationale,
        obstacle,
        _guidance(tool, snapshot, role),
        score,
        who if who is not None else (holder.name if holder else None),
        tool_zh=tool.name_zh,
        how_zh=tool.description_zh,
        why_zh=why_zh,
        record_zh=tool.record_zh or GENERIC_RECORD_ZH,
        who_zh=_who_zh(role, holder, messenger),
        messenger=messenger,
        rule=rule,
    )


def _embedded(tool: Tool, snapshot: UnitSnapshot, **kw: Any) -> Recommendation:
    """A recommendation that builds embedded guidance itself (a Party group, a pledge)."""
    return replace(_recommend(tool, snapshot, **kw), guidance=GuidanceMode.EMBEDDED)


def _stage_steps(
    snapshot: UnitSnapshot, catalogue: Catalogue, table: ReasonTable
) -> list[Recommendation]:
    """The procedural steps the unit's stage needs, when the log shows them not taken."""
    step = table.steps.get(snapshot.stage)
    if step is None:
        return []
    out: list[Recommendation] = []
    for tool_id in step.tools:
        if tool_id not in catalogue or _done(snapshot, tool_id):
            continue
        tool = catalogue.get(tool_id)
        out.append(
            _recommend(
                tool,
                snapshot,
                targets=tuple(_default_targets(tool, snapshot)),
                obstacle=step.obstacle,
                score=STAGE_STEP_SEVERITY * RULE_DECAY ** len(out),
                why_zh=step.why_zh,
                rationale=f"{step.why_zh} → {tool.name_zh} ({tool.id}): the "
                f"{snapshot.stage.value} stage needs it",
            )
        )
    return out


# A unit stalled in its stage (snapshot.stalled, limits in stalls.toml): its stage's [[stalled]]
# row in the reason table, then always a follow-up, so the street's list never shows no step.
# The row's first tool leads the advice; only a household's objection in court or at a hearing
# (reason-table rows in STALL_BLOCKING_RULES) comes before it, since that is then what stalls the
# unit. The later tools are ranked by score with the rest (assumptions: they only order).
STALL_SEVERITY = 0.9
STALL_BLOCKING_RULES = frozenset({"in_court", "at_hearing"})
STALL_FOLLOWUP = "progress_followup"
STALL_FOLLOWUP_WHY_ZH = (
    "在{stage}阶段已停留{days}天，超过参考的{limit}天：查清卡在哪一步、谁在办、什么时候办完，"
    "在楼里通报进度"
)


def _stalled(
    snapshot: UnitSnapshot, catalogue: Catalogue, table: ReasonTable
) -> tuple[Finding | None, list[Recommendation]]:
    """The stalled-stage finding and its actions, best first; (None, []) when not stalled."""
    if not snapshot.stalled:
        return None, []
    days, limit = snapshot.days_in_stage or 0, snapshot.stall_limit_days or 0
    stage_zh = STAGE_NAMES_ZH[snapshot.stage]
    row = table.stalled.get(snapshot.stage)
    obstacle = row.obstacle if row is not None else Obstacle.COORDINATION
    overdue = min(1.0, (days - limit) / limit) if limit else 1.0
    finding = Finding(
        obstacle,
        round(STALL_SEVERITY * (0.8 + 0.2 * overdue), 3),
        (),
        f"在{stage_zh}阶段已停留{days}天，超过参考的{limit}天 / stalled: {days} days in "
        f"{snapshot.stage.value}, over the {limit}-day limit",
    )
    since = snapshot.today.toordinal() - days
    used = {a.tool for a in snapshot.activities if a.on.toordinal() >= since}
    wanted = list(row.tools) if row is not None else []
    out: list[Recommendation] = []
    for tool_id in [*wanted, STALL_FOLLOWUP]:
        tool = catalogue.tools.get(tool_id)
        if tool is None or not tool.fits(snapshot.stage) or any(r.tool == tool_id for r in out):
            continue
        if tool_id != STALL_FOLLOWUP and (tool_id in used or _done_in_stage(snapshot, tool_id)):
            continue
        why = row.why_zh if row is not None and tool_id in wanted else STALL_FOLLOWUP_WHY_ZH
        out.append(
            _recommend(
                tool,
                snapshot,
                targets=tuple(_default_targets(tool, snapshot)) if tool.evidences else (),
                obstacle=obstacle,
                score=finding.severity * RULE_SCORE * RULE_DECAY ** len(out),
                why_zh=why.format(stage=stage_zh, days=days, limit=limit),
                rationale=f"{finding.message} → {tool.name_zh} ({tool.id}): "
                + (
                    f"reason table [[stalled]] row for {snapshot.stage.value}"
                    if tool_id in wanted
                    else "follow-up of a stalled stage"
                ),
            )
        )
    return finding, out


def _stall_first(
    ranked: list[Recommendation], stall_recs: list[Recommendation]
) -> list[Recommendation]:
    """A stalled unit's first step is its stage's unblocking action, whatever else scores higher;
    only a written objection in court or at a hearing comes before it (that is then the stall)."""
    if not stall_recs or stall_recs[0] not in ranked:
        return ranked
    lead = stall_recs[0]
    rest = [r for r in ranked if r is not lead]
    at = 0
    while at < len(rest) and rest[at].rule in STALL_BLOCKING_RULES:
        at += 1
    return [*rest[:at], lead, *rest[at:]]


def _done_in_stage(snapshot: UnitSnapshot, tool_id: str) -> bool:
    """A one-time step of the stage (the formal vote) already taken counts as used."""
    return tool_id == "formal_vote" and _done(snapshot, tool_id)


def _strength(tool: Tool, obstacle: Obstacle, material: bool = False) -> float:
    levers = CAUSE_LEVERS.get(obstacle, ())
    if obstacle is Obstacle.OBJECTION and material:
        # An objection over light or noise is settled by removing the loss, not by procedure alone.
        levers = CAUSE_LEVERS[Obstacle.INTEREST] + ((1.0, lambda t: t.effects.objection_resolve_p),)
    strength = sum(weight * max(0.0, effect(tool)) for weight, effect in levers)
    if tool.addresses and tool.addresses[0] is obstacle:
        strength += FIRST_LISTED_BONUS
    return strength


def tool_ranking(
    obstacle: Obstacle, stage: Stage, catalogue: Catalogue, *, material: bool = False
) -> list[tuple[Tool, float]]:
    """The catalogue's tools for one obstacle at one stage, best first, scored as `advise` does.

    Score is (0.5 + strength) / (1 + effort / EFFORT_SCALE), before severity and the local-leader
    bonus; ties go to the tool id. The simulation's advisor strategy reads this order.
    """
    ranked = [
        (tool, _tool_score(tool, obstacle, material))
        for tool in catalogue.for_obstacle(obstacle)
        if tool.fits(stage)
    ]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0].id))


def _tool_score(tool: Tool, obstacle: Obstacle, material: bool) -> float:
    """How well a tool meets an obstacle for the effort it takes (before severity)."""
    return (0.5 + _strength(tool, obstacle, material)) / (1 + tool.effort_hours / EFFORT_SCALE)


def _holders(snapshot: UnitSnapshot, role: Role) -> list[Leader]:
    return [ld for ld in snapshot.leaders if ld.role is role]


def _pick_role(tool: Tool, snapshot: UnitSnapshot) -> tuple[Role, Leader | None]:
    """The tool's leader role that the unit already fills, else its first leader role."""
    roles = tool.leader_roles or tool.roles
    for role in roles:
        holders = _holders(snapshot, role)
        if holders:
            local = [h for h in holders if h.room is not None]
            return role, (local or holders)[0]
    return roles[0], None


def _party_in_stairwell(snapshot: UnitSnapshot) -> bool:
    residents = any(h.party_member for h in snapshot.households)
    leaders = any(ld.party_member and ld.room is not None for ld in snapshot.leaders)
    return residents or leaders


def _party_organization(snapshot: UnitSnapshot) -> bool:
    return any(ld.role in PARTY_ROLES for ld in snapshot.leaders)


# Government and market actors work beside the leaders as partners (seed study: formal leaders
# act under the Party organisation's direct guidance; the street office and the bureaus are
# their partners, not "direct guidance" themselves).
PARTNER_ROLES = frozenset(
    {
        Role.STREET_OFFICE,
        Role.HOUSING_BUREAU,
        Role.PROPERTY_MANAGER,
        Role.ELEVATOR_VENDOR,
        Role.UTILITY,
    }
)


def _guidance(tool: Tool, snapshot: UnitSnapshot, role: Role | None = None) -> GuidanceMode:
    """The guidance a use runs under, as the study labels it.

    Embedded: a Party member lives in the stairwell and the tool is carried from inside.
    Direct: the Party organisation itself acts, or convenes a formal leader (so only when the
    unit has one and the actor is not a government or market partner). Otherwise none.
    """
    modes = tool.guidance or (GuidanceMode.NONE,)
    if role in PARTNER_ROLES:
        return GuidanceMode.NONE
    if GuidanceMode.EMBEDDED in modes and _party_in_stairwell(snapshot):
        return GuidanceMode.EMBEDDED
    if role in PARTY_ROLES:
        return GuidanceMode.DIRECT
    if GuidanceMode.DIRECT in modes and _party_organization(snapshot):
        return GuidanceMode.DIRECT
    return GuidanceMode.NONE


def _role_text(role: Role) -> str:
    kind = "非正式领导者 informal leader" if role in INFORMAL_ROLES else "正式领导者 formal leader"
    return f"{ROLE_NAMES_ZH[role]}（{kind}）"


def _ranked_for(
    finding: Finding,
    snapshot: UnitSnapshot,
    catalogue: Catalogue,
    candidates: list[Candidate],
    table: ReasonTable,
) -> list[Recommendation]:
    rules = table.rules_for(finding.kind, finding.reasons, finding.status, snapshot.stage)
    if rules:
        return _by_rules(finding, rules, snapshot, catalogue, candidates)
    out = []
    severity = finding.severity * stage_weight(finding.kind, snapshot.stage)
    concern_zh = finding.message.split(" / ", 1)[0]
    for tool in catalogue.for_obstacle(finding.kind):
        if not tool.fits(snapshot.stage):
            continue
        messenger = _messenger(tool.id, False, finding, snapshot, candidates)
        why = OBSTACLE_WHY_ZH[finding.kind].format(concern=concern_zh, tool=tool.name_zh)
        out.append(
            _recommend(
                tool,
                snapshot,
                targets=tuple(finding.households or _default_targets(tool, snapshot))
                if tool.evidences
                else finding.households,
                obstacle=finding.kind,
                score=severity * _tool_score(tool, finding.kind, False),
                why_zh=why,
                rationale=f"{finding.message} → {tool.name_zh} ({tool.id}) addresses "
                f"{finding.kind.value}{_lever_text(tool, finding.kind)}",
                messenger=messenger,
            )
        )
    return out


def _messenger(
    tool_id: str,
    wanted: bool,
    finding: Finding,
    snapshot: UnitSnapshot,
    candidates: list[Candidate],
) -> Messenger | None:
    """The household's own messenger, for a tool carried person to person to one household."""
    if not (wanted or tool_id in PERSONAL_TOOLS) or len(finding.households) != 1:
        return None
    return messenger_for(snapshot, finding.households[0], candidates)


def _by_rules(
    finding: Finding,
    rules: list[ReasonRule],
    snapshot: UnitSnapshot,
    catalogue: Catalogue,
    candidates: list[Candidate],
) -> list[Recommendation]:
    """The reason table's tools for this finding, in the rows' order, fitted to the stage."""
    severity = finding.severity * stage_weight(finding.kind, snapshot.stage)
    rooms = "、".join(finding.households) or snapshot.label
    reasons = "、".join(REASON_ZH.get(r, r) for r in finding.reasons) or REASON_ZH["unstated"]
    status = STATUS_ZH.get(finding.status, "") if finding.status else "未书面提出"
    out: list[Recommendation] = []
    for rule in rules:
        why = rule.why(rooms, reasons, status)
        for tool_id in rule.tools:
            tool = catalogue.tools.get(tool_id)
            if tool is None or not tool.fits(snapshot.stage) or any(r.tool == tool_id for r in out):
                continue
            messenger = _messenger(
                tool_id, rule.messenger and not out, finding, snapshot, candidates
            )
            out.append(
                _recommend(
                    tool,
                    snapshot,
                    targets=finding.households,
                    obstacle=finding.kind,
                    score=severity * RULE_SCORE * RULE_DECAY ** len(out),
                    why_zh=why,
                    rationale=f"{finding.message} → {tool.name_zh} ({tool.id}): reason table "
                    f"row {rule.id} ({', '.join(finding.reasons)}; "
                    f"{finding.status.value if finding.status else 'no written objection'}; "
                    f"{snapshot.stage.value})",
                    messenger=messenger,
                    rule=rule.id,
                )
            )
    return out


def _lever_text(tool: Tool, obstacle: Obstacle) -> str:
    e = tool.effects
    parts = []
    if obstacle in (Obstacle.INTEREST, Obstacle.OBJECTION, Obstacle.TECHNICAL) and e.loss_delta:
        parts.append(f"lowers the low-floor loss by about {e.loss_delta:.0%}")
    if obstacle in (Obstacle.INTEREST, Obstacle.OBJECTION) and e.compensation_fen:
        parts.append(f"compensates about ¥{e.compensation_fen // 100:,} per low-floor flat")
    if obstacle is Obstacle.OBJECTION and e.objection_resolve_p:
        parts.append(f"resolves an objection with p≈{e.objection_resolve_p:.2f}")
    if obstacle is Obstacle.TENURE and e.reach_absentee_p:
        parts.append(f"reaches an absentee owner with p≈{e.reach_absentee_p:.2f}")
    if obstacle is Obstacle.COST and e.subsidy_delta:
        parts.append(f"covers about {e.subsidy_delta:.0%} more of the cost")
    return (" (" + "; ".join(parts) + ")") if parts else ""


def _default_targets(tool: Tool, snapshot: UnitSnapshot) -> list[str]:
    if tool.reaches is Reach.OWNERS:
        return list(snapshot.rooms)
    return [h.room for h in snapshot.households if h.lives_here]


def _leadership(
    snapshot: UnitSnapshot, catalogue: Catalogue, candidates: list[Candidate]
) -> tuple[list[LeadershipGap], list[Recommendation]]:
    gaps: list[LeadershipGap] = []
    recs: list[Recommendation] = []
    held = {ld.role for ld in snapshot.leaders}
    names = tuple(c.room for c in candidates)
    for role in sorted(LEADER_ROLES, key=lambda r: r.value):
        if role in held:
            continue
        if role in INFORMAL_ROLES:
            who = f"; candidates by centrality and trust: {', '.join(names)}" if names else ""
            message = f"尚无{ROLE_NAMES_ZH[role]} / no {role.value.replace('_', ' ')} yet{who}"
            gaps.append(LeadershipGap("missing_role", message, role, names))
        else:
            message = (
                f"尚无{ROLE_NAMES_ZH[role]} / no {role.value.replace('_', ' ')} named for this unit"
            )
            gaps.append(LeadershipGap("missing_role", message, role))
    if not _party_in_stairwell(snapshot):
        gaps.append(
            LeadershipGap(
                "no_embedded_party_member",
                "本单元没有嵌入的党员 / no embedded Party member in this stairwell: "
                "pair a Party member with it (党员联系户) or form a building Party group",
            )
        )
        if "building_party_group" in catalogue:
            tool = catalogue.get("building_party_group")
            why = "本单元没有党员嵌入居民网络：建立楼栋党小组、安排党员联系户，由党员从邻里内部带头"
            recs.append(
                _embedded(
                    tool,
                    snapshot,
                    targets=tuple(h.room for h in snapshot.households if h.lives_here),
                    obstacle=Obstacle.TRUST,
                    score=0.6,
                    why_zh=why,
                    rationale=f"{why} → building_party_group: embedded guidance (嵌入式引领) "
                    "is what moves cooperation from low to high in the path model",
                )
            )
    elif not any(ld.party_member and ld.room is not None for ld in snapshot.leaders):
        tool_id = "party_member_pledge"
        if (
            tool_id in catalogue
            and catalogue.get(tool_id).fits(snapshot.stage)
            and not _done(snapshot, tool_id)
        ):
            tool = catalogue.get(tool_id)
            members = tuple(h.room for h in snapshot.households if h.party_member)
            why = "党员住在本单元但尚未带头：请他们带头表态，先形成一批坚定的支持者"
            recs.append(
                _embedded(
                    tool,
                    snapshot,
                    targets=members,
                    obstacle=Obstacle.TRUST,
                    score=0.5,
                    why_zh=why,
                    rationale=f"{why} → party_member_pledge: a party-member-first pledge "
                    "seeds early supporters (embedded guidance)",
                )
            )
    informal = [a for a in snapshot.activities if _role_of(a.role) in INFORMAL_ROLES]
    formal = [
        a
        for a in snapshot.activities
        if _role_of(a.role) not in INFORMAL_ROLES or a.guidance is not GuidanceMode.NONE
    ]
    if informal and not formal and not _party_organization(snapshot):
        gaps.append(
            LeadershipGap(
                "informal_without_backing",
                "只有非正式领导者在推动、缺少组织支持 / only informal leaders act, without "
                "institutional backing: a known path to failure; ask the community Party committee "
                "to convene a joint meeting (direct guidance)",
            )
        )
    return gaps, recs


def _role_of(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None
