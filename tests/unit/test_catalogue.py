"""The governance-tool catalogue (path-model.md §5) and activities checked against it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from colift.coproduction.activities import parse_activity, validate_activity
from colift.coproduction.catalogue import (
    Basis,
    Catalogue,
    CountsAs,
    Reach,
    Tool,
    ToolEffects,
    load_catalogue,
    merge_catalogue,
    parse_catalogue,
)
from colift.errors import BadInput
from colift.model import LEADER_ROLES, Role
from colift.model.coproduction import (
    Activity,
    GuidanceMode,
    Obstacle,
    Outcome,
    Stage,
    Stance,
    StanceChange,
)

# Every tool path-model.md §5 names, by the role the table gives it.
PATH_MODEL_TOOLS: dict[Role, set[str]] = {
    Role.COORDINATOR: {
        "joint_meeting",
        "pipeline_coordination",
        "one_stop_approval",
        "subsidy_application",
        "vendor_introduction",
    },
    Role.CONSULTATION_ORGANIZER: {
        "willingness_survey",
        "deliberation_meeting",
        "hearing",
        "written_agreement",
        "public_notice",
        "formal_vote",
    },
    Role.VISION_PROMOTER: {
        "policy_briefing",
        "site_visit",
        "success_stories",
        "party_member_pledge",
    },
    Role.OPINION_LEADER: {"door_to_door", "neighbourly_persuasion", "emotional_appeal"},
    Role.ACTION_LEADER: {
        "signature_collection",
        "fund_escrow",
        "progress_followup",
        "chat_group",
        "absentee_tracing",
    },
    Role.COMMUNITY_ELITE: {
        "design_review",
        "legal_advice",
        "price_negotiation",
        "design_change",
    },
}
# The obstacles the §5 table says each role addresses.
PATH_MODEL_OBSTACLES: dict[Role, set[Obstacle]] = {
    Role.COORDINATOR: {Obstacle.TECHNICAL, Obstacle.APPROVAL, Obstacle.COST},
    Role.CONSULTATION_ORGANIZER: {Obstacle.INTEREST, Obstacle.LEGITIMACY},
    Role.VISION_PROMOTER: {Obstacle.INFORMATION, Obstacle.TRUST},
    Role.OPINION_LEADER: {Obstacle.TRUST, Obstacle.INTEREST},
    Role.ACTION_LEADER: {Obstacle.TENURE, Obstacle.COORDINATION},
    Role.COMMUNITY_ELITE: {Obstacle.TECHNICAL, Obstacle.COST, Obstacle.INTEREST},
}
EXTRA_TOOLS = {
    "compensation_agreement",
    "mediation",
    "self_managed_maintenance",
    "joint_acceptance",
    "building_party_group",
}

GOOD_TOOL = """
[[tool]]
id = "stairwell_tea"
name_zh = "楼道茶话会"
name_en = "stairwell tea party"
description_zh = "在楼道口摆几张凳子泡壶茶，邻居们边喝边聊加装电梯的事。"
roles = ["opinion_leader", "residents_committee"]
guidance = ["embedded"]
addresses = ["trust"]
reaches = "unit"
effort_hours = 2
evidences = 1
source = "assumption"
[tool.effects]
support_delta = 0.04
source = "assumption"
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-tools.toml"
    path.write_text(text, encoding="utf-8")
    return path


def tool_text(**changes: str) -> str:
    """GOOD_TOOL with some `key = value` lines replaced (value as TOML) or dropped (value "")."""
    lines = []
    for line in GOOD_TOOL.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in changes and "[" not in key:
            if changes[key]:
                lines.append(f"{key} = {changes[key]}")
            continue
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------- the packaged catalogue


def test_packaged_catalogue_loads_once(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue
    assert len(catalogue) == len(catalogue.ids()) >= 32


def test_every_path_model_tool_is_there_under_its_role(catalogue: Catalogue) -> None:
    for role, ids in PATH_MODEL_TOOLS.items():
        for tool_id in ids:
            assert role in catalogue.get(tool_id).roles, (tool_id, role)
    assert set(catalogue.ids()) >= EXTRA_TOOLS


def test_every_tool_is_complete(catalogue: Catalogue) -> None:
    for tool in catalogue:
        assert tool.name_zh and tool.name_en and tool.description_zh, tool.id
        assert tool.roles and tool.addresses and tool.guidance, tool.id
        # sources are honest: no tool cites the project's own doc as if it were evidence
        assert tool.source and "path-model.md" not in tool.source, tool.id
        if tool.basis is Basis.ASSUMPTION:
            assert "not yet checked" in tool.source, tool.id
        assert tool.effects.source == "assumption", tool.id
        assert 0 <= tool.evidences <= 4 and tool.effort_hours > 0, tool.id
        assert tool.leader_roles, f"{tool.id} names no leader role"
        if tool.reaches is Reach.OWNERS:
            assert tool.reaches_absentees, tool.id


def test_each_role_has_tools_for_its_obstacles(catalogue: Catalogue) -> None:
    for role in LEADER_ROLES:
        tools = catalogue.for_role(role)
        assert len(tools) >= 3, role
        covered = {o for t in tools for o in t.addresses}
        assert PATH_MODEL_OBSTACLES[role] <= covered, role


def test_each_obstacle_has_a_tool(catalogue: Catalogue) -> None:
    for obstacle in Obstacle:
        assert catalogue.for_obstacle(obstacle), obstacle
    assert catalogue.for_obstacle("objection") == catalogue.for_obstacle(Obstacle.OBJECTION)


def test_specified_details(catalogue: Catalogue) -> None:
    assert Role.STREET_OFFICE in catalogue.get("joint_meeting").roles
    assert catalogue.get("joint_meeting").evidences == 0
    assert catalogue.get("self_managed_maintenance").evidences == 4
    assert catalogue.get("joint_acceptance").evidences == 4
    assert catalogue.get("building_party_group").guidance == (GuidanceMode.EMBEDDED,)
    assert {Obstacle.INTEREST, Obstacle.OBJECTION} <= set(
        catalogue.get("compensation_agreement").addresses
    )
    assert {Role.COMMUNITY_ELITE, Role.CONSULTATION_ORGANIZER} <= set(
        catalogue.get("compensation_agreement").roles
    )
    assert catalogue.get("compensation_agreement").effects.compensation_fen > 0
    assert catalogue.get("party_member_pledge").effects.stubborn_supporters >= 1
    assert catalogue.get("design_change").effects.loss_delta > 0
    assert catalogue.get("one_stop_approval").effects.approval_weeks_delta < 0
    assert catalogue.get("absentee_tracing").reaches_absentees
    assert catalogue.get("written_agreement").counts_as == (CountsAs.CONSENT, CountsAs.AGREEMENT)
    assert [t.id for t in catalogue.for_role(Role.OPINION_LEADER)][:1] == ["door_to_door"]


def test_evidence_levels_follow_section_6(catalogue: Catalogue) -> None:
    levels = {t.id: t.evidences for t in catalogue}
    assert levels["policy_briefing"] == levels["public_notice"] == levels["success_stories"] == 1
    assert levels["willingness_survey"] == levels["deliberation_meeting"] == levels["hearing"] == 2
    assert levels["written_agreement"] == levels["formal_vote"] == 3
    assert levels["fund_escrow"] == 4


def test_get_unknown_tool_names_near_matches(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="door_to_door"):
        catalogue.get("door_to_dor")
    with pytest.raises(BadInput, match="入户走访 door_to_door"):
        catalogue.get("入户走访")
    with pytest.raises(BadInput, match="known tools are"):
        catalogue.get("zzzz")


def test_catalogue_is_read_only(catalogue: Catalogue) -> None:
    with pytest.raises(TypeError):
        catalogue.tools["x"] = catalogue.get("hearing")  # type: ignore[index]


def test_unknown_role_or_obstacle_in_a_query(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="unknown role"):
        catalogue.for_role("mayor")
    with pytest.raises(BadInput, match="unknown obstacle"):
        catalogue.for_obstacle("weather")


# ---------------------------------------------------------------- a user's own catalogue


def test_user_file_is_merged_over_the_packaged_one(tmp_path: Path, catalogue: Catalogue) -> None:
    override = GOOD_TOOL.replace("stairwell_tea", "hearing").replace("楼道茶话会", "小型听证")
    merged = load_catalogue(user_file(tmp_path, GOOD_TOOL + override))
    assert len(merged) == len(catalogue) + 1
    assert merged.ids()[-1] == "stairwell_tea"
    assert merged.get("hearing").name_zh == "小型听证"
    assert merged.ids().index("hearing") == catalogue.ids().index("hearing")
    assert merged.get("stairwell_tea").effects == ToolEffects(support_delta=0.04)
    assert catalogue.get("hearing").name_zh == "听证会"  # the cached one is untouched


def test_user_file_replaces_the_catalogue(tmp_path: Path) -> None:
    only = load_catalogue(user_file(tmp_path, "replace = true\n" + GOOD_TOOL))
    assert only.ids() == ["stairwell_tea"]
    assert load_catalogue(user_file(tmp_path, GOOD_TOOL), replace=True).ids() == ["stairwell_tea"]


def test_user_file_removes_a_tool(tmp_path: Path, catalogue: Catalogue) -> None:
    trimmed = load_catalogue(user_file(tmp_path, 'remove = ["hearing"]\n'))
    assert "hearing" not in trimmed and len(trimmed) == len(catalogue) - 1
    with pytest.raises(BadInput, match=r"cannot remove unknown tool 'hearin'.*hearing"):
        load_catalogue(user_file(tmp_path, 'remove = ["hearin"]\n'))


def test_new_tool_reaches_absentees_by_default_when_it_reaches_owners() -> None:
    tool = parse_catalogue(tool_text(reaches='"owners"')).get("stairwell_tea")
    assert tool.reaches is Reach.OWNERS and tool.reaches_absentees


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[tool]\nid =", "not valid TOML"),
        ("tool = 3", r"\[\[tool\]\] tables"),
        ("", "lists no"),
        (
            tool_text(roles='["opinion_leader", "mayor"]'),
            "stairwell_tea: roles has unknown value 'mayor'",
        ),
        (tool_text(roles="[]"), "stairwell_tea: roles must name at least one"),
        (tool_text(roles='"opinion_leader"'), "stairwell_tea: roles must be a list"),
        (
            tool_text(addresses='["weather"]'),
            "stairwell_tea: addresses has unknown value 'weather'",
        ),
        (tool_text(guidance='["remote"]'), "stairwell_tea: guidance has unknown value 'remote'"),
        (tool_text(evidences="5"), "stairwell_tea: evidences is 5"),
        (tool_text(evidences="true"), "stairwell_tea: evidences is True"),
        (tool_text(evidences=""), "stairwell_tea: evidences is missing"),
        (tool_text(reaches='"city"'), "stairwell_tea: reaches is 'city'"),
        (tool_text(name_zh=""), "stairwell_tea: name_zh is missing"),
        (tool_text(name_en='""'), "stairwell_tea: name_en must be non-empty"),
        (tool_text(source=""), "stairwell_tea: source is missing"),
        (tool_text(id=""), "tool 1: id is missing"),
        (tool_text(id='"Stairwell Tea"'), "must be snake_case"),
        (tool_text(effort_hours='"two"'), "effort_hours must be a number"),
        (tool_text(effort_hours="-1"), "effort_hours = -1 is outside"),
        (GOOD_TOOL + "colour = 1\n", "unknown field 'colour'"),
        (
            GOOD_TOOL.replace("support_delta = 0.04", "support_delta = 3"),
            "effects: support_delta = 3",
        ),
        (GOOD_TOOL.replace("support_delta = 0.04", "luck = 1"), "effects: unknown field 'luck'"),
        (
            GOOD_TOOL.replace("support_delta = 0.04", "compensation_fen = 1.5"),
            "compensation_fen must be a whole",
        ),
        (
            GOOD_TOOL.replace("evidences = 1", 'evidences = 1\ncounts_as = ["vibes"]'),
            "counts_as has unknown value 'vibes'",
        ),
        (GOOD_TOOL + GOOD_TOOL, "stairwell_tea is listed twice"),
    ],
)
def test_bad_catalogue_is_rejected(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_catalogue(text, origin="my-tools.toml")


def test_bad_user_file_is_rejected(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match=r"my-tools\.toml: tool stairwell_tea is listed twice"):
        load_catalogue(user_file(tmp_path, GOOD_TOOL + GOOD_TOOL))
    with pytest.raises(BadInput, match="replace must be true or false"):
        load_catalogue(user_file(tmp_path, 'replace = "yes"\n'))
    with pytest.raises(BadInput, match="remove has no meaning"):
        load_catalogue(user_file(tmp_path, 'replace = true\nremove = ["hearing"]\n' + GOOD_TOOL))
    with pytest.raises(BadInput, match="would have no tools"):
        merge_catalogue(catalogue, "replace = true\n")
    with pytest.raises(BadInput, match="cannot read tool catalogue"):
        load_catalogue(tmp_path / "missing.toml")


def test_catalogue_refuses_duplicate_ids(catalogue: Catalogue) -> None:
    tool: Tool = catalogue.get("hearing")
    with pytest.raises(BadInput, match="hearing is listed twice"):
        Catalogue([tool, tool])


# ---------------------------------------------------------------- activities

ROOMS = ("101", "102", "201", "202", "301", "302")
TODAY = date(2026, 4, 1)


def activity(**changes: object) -> Activity:
    base = Activity(
        unit_id=1,
        person_id=7,
        actor_name="王阿姨",
        role="opinion_leader",
        guidance=GuidanceMode.EMBEDDED,
        tool="door_to_door",
        on=date(2026, 3, 2),
        targets=("101",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_good_activity_has_no_warnings(catalogue: Catalogue) -> None:
    assert validate_activity(activity(), catalogue, ROOMS, today=TODAY) == []


def test_unknown_tool_is_rejected(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="unknown tool 'door_knock'"):
        validate_activity(activity(tool="door_knock"), catalogue, ROOMS)


def test_unknown_role_is_rejected(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="role 'mayor' is not a role"):
        validate_activity(activity(role="mayor"), catalogue, ROOMS)


def test_leader_role_must_be_among_the_tools_roles(catalogue: Catalogue) -> None:
    with pytest.raises(
        BadInput,
        match="tool door_to_door is used by opinion_leader, action_leader; not by coordinator",
    ):
        validate_activity(activity(role="coordinator"), catalogue, ROOMS)


def test_actor_roles_may_borrow_formal_tools_with_a_warning(catalogue: Catalogue) -> None:
    survey = activity(role="street_office", tool="willingness_survey", targets=())
    survey = replace(survey, outcome=Outcome(participants=5))
    warnings = validate_activity(survey, catalogue, ROOMS)
    assert len(warnings) == 1
    # a warning names roles and tools by their names, in the reader's language, never by id
    assert "street office is not listed for" in warnings[0].render("en")
    zh = warnings[0].render("zh-CN")
    assert "街道办事处不在其中" in zh and "street_office" not in zh
    listed = replace(survey, role="residents_committee")
    assert validate_activity(listed, catalogue, ROOMS) == []


def test_actor_roles_cannot_use_informal_only_tools(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="unit_leader is informal"):
        validate_activity(activity(role="unit_leader", tool="formal_vote"), catalogue, ROOMS)
    with pytest.raises(BadInput, match="street_office is formal"):
        validate_activity(
            activity(role="street_office", tool="neighbourly_persuasion"), catalogue, ROOMS
        )


def test_targets_and_stance_changes_must_name_rooms_of_the_unit(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="target 901 is not a flat of this unit"):
        validate_activity(activity(targets=("101", "901")), catalogue, ROOMS)
    change = StanceChange("909", Stance.OPPOSE, Stance.UNDECIDED)
    with pytest.raises(BadInput, match="stance change names 909"):
        validate_activity(activity(outcome=Outcome(stances_changed=(change,))), catalogue, ROOMS)


@pytest.mark.parametrize("field", ["money_fen", "labour_hours", "participants"])
def test_negative_figures_are_rejected(catalogue: Catalogue, field: str) -> None:
    outcome = replace(Outcome(), **{field: -5})  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=f"{field} is -5; it cannot be negative"):
        validate_activity(activity(outcome=outcome), catalogue, ROOMS)


def test_future_date_is_rejected(catalogue: Catalogue) -> None:
    with pytest.raises(BadInput, match="after today"):
        validate_activity(activity(on=date(2026, 5, 1)), catalogue, ROOMS, today=TODAY)
    assert validate_activity(activity(on=TODAY), catalogue, ROOMS, today=TODAY) == []


def test_unusual_activities_give_warnings(catalogue: Catalogue) -> None:
    odd = activity(
        guidance=GuidanceMode.NONE,
        tool="emotional_appeal",
        targets=("101", "101"),
        outcome=Outcome(
            stances_changed=(
                StanceChange("102", Stance.OPPOSE, Stance.UNDECIDED),
                StanceChange("101", Stance.OPPOSE, Stance.OPPOSE),
            ),
            money_fen=100,
            participants=9,
        ),
    )
    found = validate_activity(odd, catalogue, ROOMS)
    warnings = " | ".join(w.render("en") for w in found)
    for expected in (
        "usually runs under embedded, direct guidance, recorded as no Party",
        "target 101 is listed more than once",
        "the stance of 102 changed, but it was not a target",
        "from oppose to the same",
        "9 participants but the unit has 6 households",
        "counts as co-production only with tools",
    ):
        assert expected in warnings
    unrecorded = activity(role="consultation_organizer", tool="willingness_survey", targets=())
    assert any("not recorded" in str(w) for w in validate_activity(unrecorded, catalogue, ROOMS))
    chinese = " | ".join(w.render("zh-CN") for w in found)
    assert "请按户数而不是人数填写" in chinese
    assert not re.search(r"[a-z]{3,}", chinese), chinese


def test_parse_activity_reads_the_unit_file_form(catalogue: Catalogue) -> None:
    data = {
        "id": 4,
        "person": "王阿姨",
        "person_id": 7,
        "role": "意见领袖",
        "guidance": "嵌入式引领",
        "tool": "door_to_door",
        "date": "2026-03-02",
        "targets": ["101", 102],
        "notes": "谈了两个小时",
        "outcome": {
            "stances_changed": [{"household": "101", "from": "oppose", "to": "观望"}],
            "objections_resolved": [3],
            "participants": 2,
        },
    }
    parsed = parse_activity(data, unit_id=9, today=TODAY)
    assert parsed == Activity(
        unit_id=9,
        person_id=7,
        actor_name="王阿姨",
        role="opinion_leader",
        guidance=GuidanceMode.EMBEDDED,
        tool="door_to_door",
        on=date(2026, 3, 2),
        targets=("101", "102"),
        notes="谈了两个小时",
        outcome=Outcome(
            stances_changed=(StanceChange("101", Stance.OPPOSE, Stance.UNDECIDED),),
            objections_resolved=(3,),
            participants=2,
        ),
        id=4,
    )
    assert validate_activity(parsed, catalogue, ROOMS, today=TODAY) == []


def test_parse_activity_names_an_organization_by_its_role() -> None:
    data = {
        "role": "street_office",
        "guidance": "direct",
        "tool": "joint_meeting",
        "date": "2026-01-05",
    }
    parsed = parse_activity(data, unit_id=1, today=TODAY)
    assert parsed.actor_name == "街道办事处" and parsed.person_id is None and parsed.targets == ()


GOOD_JSON = {
    "role": "opinion_leader",
    "guidance": "embedded",
    "tool": "door_to_door",
    "date": "2026-03-02",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role": "mayor"}, "role 'mayor' is unknown"),
        ({"role": None}, "role is missing"),
        ({"guidance": "remote"}, "guidance 'remote' is unknown"),
        ({"tool": ""}, "tool must be non-empty"),
        ({"date": "2026/03/02"}, "is not a date like"),
        ({"date": "2026-05-02"}, "after today"),
        ({"targets": "101"}, "targets: must be a list"),
        ({"targets": [None]}, "is not a flat number"),
        ({"person_id": "seven"}, "person_id: 'seven' must be a whole number"),
        ({"id": 0}, "id: 0 must be 1 or more"),
        ({"target": ["101"]}, "unknown field 'target'"),
        ({"outcome": {"money_fen": -1}}, "money_fen: -1 cannot be negative"),
        ({"outcome": {"money_fen": 12.5}}, "money_fen: 12.5 must be a whole number"),
        ({"outcome": {"labour_hours": -2}}, "labour_hours: -2 cannot be negative"),
        ({"outcome": {"participants": True}}, "participants: True must be a whole number"),
        ({"outcome": {"votes": 3}}, "outcome: unknown field 'votes'"),
        (
            {
                "outcome": {
                    "stances_changed": [{"household": "101", "from": "maybe", "to": "support"}]
                }
            },
            "from: unknown stance 'maybe'",
        ),
        (
            {"outcome": {"stances_changed": [{"household": "101", "to": "support"}]}},
            "from is missing",
        ),
        ({"outcome": {"stances_changed": ["101"]}}, "stances_changed 1: write"),
        ({"outcome": {"objections_resolved": "3"}}, "objections_resolved must be a list"),
        ({"outcome": []}, "outcome: must be an object"),
    ],
)
def test_parse_activity_rejects_bad_fields(changes: dict[str, object], message: str) -> None:
    data = {k: v for k, v in {**GOOD_JSON, **changes}.items() if v is not None}
    with pytest.raises(BadInput, match=message):
        parse_activity(data, unit_id=1, today=TODAY)


# ---------------------------------------------------------------- the docs page

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


def test_docs_list_every_tool_and_their_example_parses(catalogue: Catalogue) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for tool in catalogue:
        assert f"`{tool.id}`" in text, tool.id
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    assert parse_catalogue(example).ids() == ["stairwell_tea"]


# ------------------------------------------------------------- tools added for the reason table

NEW_TOOLS: dict[str, tuple[set[str], Basis]] = {
    # id: (obstacles it must address, what it rests on)
    "provident_fund_withdrawal": ({"cost"}, Basis.CITY_RULE),
    "maintenance_fund_application": ({"cost"}, Basis.CITY_RULE),
    "instalment_plan": ({"cost"}, Basis.PRACTICE_REPORT),
    "hardship_relief": ({"cost"}, Basis.PRACTICE_REPORT),
    "neighbour_cover": ({"cost"}, Basis.PRACTICE_REPORT),
    "fee_arrangement": ({"interest", "objection"}, Basis.PRACTICE_REPORT),
    "structural_appraisal": ({"technical", "objection"}, Basis.CITY_RULE),
    "authority_decision": ({"objection"}, Basis.CITY_RULE),
    "court_mediation": ({"objection"}, Basis.CITY_RULE),
    "construction_notice": ({"objection", "coordination"}, Basis.CITY_RULE),
    "use_manager_designation": ({"coordination"}, Basis.CITY_RULE),
    "licensed_maintenance_contract": ({"coordination"}, Basis.CITY_RULE),
    "annual_inspection": ({"coordination"}, Basis.CITY_RULE),
    "running_cost_collection": ({"cost", "coordination"}, Basis.PRACTICE_REPORT),
    "lift_insurance": ({"coordination"}, Basis.PRACTICE_REPORT),
    "use_rules_agreement": ({"coordination", "objection"}, Basis.PRACTICE_REPORT),
}


@pytest.mark.parametrize("tool_id", sorted(NEW_TOOLS))
def test_each_new_tool_has_roles_stages_effects_source_and_record(
    catalogue: Catalogue, tool_id: str
) -> None:
    tool = catalogue.get(tool_id)
    addresses, basis = NEW_TOOLS[tool_id]
    assert addresses <= {o.value for o in tool.addresses}
    assert tool.basis is basis
    assert tool.leader_roles
    assert tool.record_zh, "a worker is told what to record afterwards"
    effects = tool.effects
    assert (
        effects.subsidy_delta
        or effects.trust_delta
        or effects.objection_resolve_p
        or effects.support_delta
    ), "every tool does something in the simulation"
    if tool_id in {"use_manager_designation", "licensed_maintenance_contract", "annual_inspection"}:
        assert Stage.OPERATION in tool.stages and Stage.SURVEY not in tool.stages


def test_operation_tools_say_only_a_licensed_firm_maintains(catalogue: Catalogue) -> None:
    co_managed = catalogue.get("self_managed_maintenance")
    assert "轮流值守" not in co_managed.description_zh
    assert "有资质的维保单位" in co_managed.description_zh
    assert "使用管理人" in co_managed.description_zh
    assert "有资质" in catalogue.get("licensed_maintenance_contract").description_zh


def test_design_change_spares_low_floors_by_split_level_entry(catalogue: Catalogue) -> None:
    text = catalogue.get("design_change").description_zh
    assert "错层" in text and "玻璃井道" in text
    # 平层入户 is named only as the more intrusive option, never as the remedy
    assert "平层入户要占用" in text


def test_stage_limits_are_data_on_the_tools(catalogue: Catalogue) -> None:
    assert not catalogue.get("compensation_agreement").fits(Stage.CONSTRUCTION)
    assert catalogue.get("compensation_agreement").fits(Stage.NOTICE)
    assert catalogue.get("joint_meeting").fits(Stage.OPERATION)  # no stages: any stage


def test_an_unknown_basis_is_refused() -> None:
    bad = GOOD_TOOL.replace('source = "', 'basis = "hearsay"\nsource = "', 1)
    with pytest.raises(BadInput, match="basis"):
        parse_catalogue(bad)
