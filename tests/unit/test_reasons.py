"""The reason table on crafted units: one case per row, the messenger, and the strict loader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from colift.coproduction.advisor import Advice, Recommendation, advise
from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.network import messenger_for
from colift.coproduction.reasons import load_reason_table
from colift.coproduction.snapshot import (
    HouseholdView,
    Leader,
    ObjectionView,
    Resident,
    UnitSnapshot,
)
from colift.datafiles import TomlText
from colift.errors import BadInput
from colift.model import AgeBand, ObjectionStatus, Role
from colift.model.coproduction import Activity, GuidanceMode, Stage, Stance, Tie

CATALOGUE = load_catalogue()
TABLE = load_reason_table()
TODAY = date(2026, 11, 1)


def hh(room: str, **kw: Any) -> HouseholdView:
    floor = int(room[:-2])
    kw.setdefault("stance", Stance.SUPPORT)
    kw.setdefault("residents", (Resident(f"住户{room}", AgeBand.AGE_70_79),))
    return HouseholdView(room, floor, Decimal("60"), f"o{room}", **kw)


def unit(stage: Stage, *changed: HouseholdView, **kw: Any) -> UnitSnapshot:
    """A 6-storey unit of 12 flats, everyone told and for it, all roles held; `changed` replace."""
    flats = {r: hh(r) for r in (f"{f}0{d}" for f in range(1, 7) for d in (1, 2))}
    for h in changed:
        flats[h.room] = h
    leaders = (
        Leader("王书记", Role.COORDINATOR, "compound", True),
        Leader("孙主任", Role.CONSULTATION_ORGANIZER, "compound"),
        Leader("刘红英", Role.VISION_PROMOTER, "compound"),
        Leader("周大姐", Role.OPINION_LEADER, "unit", True, "502"),
        Leader("赵师傅", Role.ACTION_LEADER, "unit", False, "601"),
        Leader("钱工", Role.COMMUNITY_ELITE, "unit", False, "402"),
    )
    briefing = Activity(
        1,
        None,
        "刘红英",
        "vision_promoter",
        GuidanceMode.DIRECT,
        "policy_briefing",
        date(2026, 3, 1),
    )
    kw.setdefault("leaders", leaders)
    kw.setdefault("activities", (briefing,))
    return UnitSnapshot("3栋2单元", tuple(flats.values()), TODAY, stage=stage, **kw)


def for_room(advice: Advice, room: str) -> list[Recommendation]:
    return [r for r in advice.recommendations if r.targets == (room,)]


def oppose(room: str, *reasons: str, **kw: Any) -> HouseholdView:
    return hh(room, stance=Stance.OPPOSE, stance_reasons=reasons, **kw)


def objection(room: str, status: ObjectionStatus, *reasons: str) -> ObjectionView:
    return ObjectionView(room, reasons, status, date(2026, 9, 1))


@dataclass(frozen=True)
class Case:
    rule: str
    snapshot: Callable[[], UnitSnapshot]
    room: str
    first: str  # the first tool the household gets
    never: frozenset[str] = frozenset()  # tools it must not get


CASES = [
    Case(
        "in_court",
        lambda: unit(
            Stage.SUSPENDED,
            oppose("101", "light"),
            objections=(objection("101", ObjectionStatus.LITIGATION, "light"),),
        ),
        "101",
        "court_mediation",
        frozenset({"mediation", "design_change", "neighbourly_persuasion", "deliberation_meeting"}),
    ),
    Case(
        "at_hearing",
        lambda: unit(
            Stage.NOTICE,
            oppose("101", "light"),
            objections=(objection("101", ObjectionStatus.HEARING, "light"),),
        ),
        "101",
        "authority_decision",
        frozenset({"mediation", "compensation_agreement"}),
    ),
    Case(
        "operation_dispute",
        lambda: unit(Stage.OPERATION, oppose("101", "noise")),
        "101",
        "use_rules_agreement",
        frozenset({"neighbourly_persuasion", "compensation_agreement", "design_change"}),
    ),
    Case(
        "operation_cost",
        lambda: unit(Stage.OPERATION, hh("501", ability_to_pay_fen=100_000, share_fen=300_000)),
        "501",
        "running_cost_collection",
        frozenset({"subsidy_application", "neighbour_cover"}),
    ),
    Case(
        "after_approval",
        lambda: unit(Stage.CONSTRUCTION, oppose("101", "light")),
        "101",
        "construction_notice",
        frozenset(
            {"compensation_agreement", "design_change", "formal_vote", "neighbourly_persuasion"}
        ),
    ),
    Case(
        "after_approval_unknown",
        lambda: unit(Stage.CONSTRUCTION, oppose("102")),
        "102",
        "door_to_door",
        frozenset({"compensation_agreement", "neighbourly_persuasion", "formal_vote"}),
    ),
    Case(
        "unknown_reason",
        lambda: unit(Stage.CONSULTATION, oppose("101")),
        "101",
        "door_to_door",
        frozenset({"compensation_agreement", "neighbourly_persuasion"}),
    ),
    Case(
        "daylight_noise_privacy",
        lambda: unit(Stage.CONSULTATION, oppose("102", "privacy")),
        "102",
        "design_change",
    ),
    Case(
        "property_value",
        lambda: unit(Stage.VOTE, oppose("101", "value")),
        "101",
        "compensation_agreement",
        frozenset({"design_change"}),
    ),
    Case(
        "safety",
        lambda: unit(
            Stage.DESIGN,
            oppose("201", "safety"),
            objections=(objection("201", ObjectionStatus.OPEN, "safety"),),
        ),
        "201",
        "structural_appraisal",
        frozenset({"compensation_agreement"}),
    ),
    Case(
        "access",
        lambda: unit(Stage.CONSULTATION, oppose("101", "access")),
        "101",
        "design_review",
    ),
    Case(
        "cost_gap",
        lambda: unit(
            Stage.CONSULTATION, hh("501", ability_to_pay_fen=1_500_000, share_fen=3_400_000)
        ),
        "501",
        "provident_fund_withdrawal",
        frozenset({"subsidy_application"}),
    ),
]


def test_every_row_of_the_table_has_a_case() -> None:
    assert {c.rule for c in CASES} == {r.id for r in TABLE.rules}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_row_answers_its_crafted_unit(case: Case) -> None:
    advice = advise(case.snapshot(), CATALOGUE, limit=30)
    mine = for_room(advice, case.room)
    assert mine, [r.tool for r in advice.recommendations]
    assert mine[0].tool == case.first
    assert mine[0].rule == case.rule
    assert not {r.tool for r in mine} & case.never
    # the sentence a worker reads names the household
    assert case.room in mine[0].why_zh


def test_two_ground_floor_opponents_nobody_asked_get_a_visit_first() -> None:
    snap = unit(Stage.CONSULTATION, oppose("101"), oppose("102"))
    advice = advise(snap, CATALOGUE)
    top3 = [(r.tool, r.targets) for r in advice.recommendations[:3]]
    assert ("door_to_door", ("101",)) in top3 and ("door_to_door", ("102",)) in top3


def test_a_reason_with_two_rows_gets_both_answers_in_order() -> None:
    snap = unit(Stage.CONSULTATION, oppose("101", "value", "light"))
    tools = [r.tool for r in for_room(advise(snap, CATALOGUE, limit=30), "101")]
    assert tools[:3] == ["compensation_agreement", "fee_arrangement", "design_change"]


def test_operation_stage_steps_name_the_use_manager_and_a_licensed_firm() -> None:
    advice = advise(unit(Stage.OPERATION), CATALOGUE, limit=10)
    tools = [r.tool for r in advice.recommendations]
    assert tools[0] == "use_manager_designation"
    assert {
        "licensed_maintenance_contract",
        "annual_inspection",
        "lift_insurance",
        "running_cost_collection",
    } <= set(tools)
    assert "self_managed_maintenance" not in tools


# ---------------------------------------------------------------- messenger


def test_messenger_is_the_households_own_friend_not_the_unit_hub() -> None:
    snap = unit(
        Stage.CONSULTATION,
        oppose("101"),
        ties=(Tie("101", "301", "friend"), Tie("501", "502", "kin"), Tie("501", "601", "friend")),
    )
    m = messenger_for(snap, "101")
    assert m is not None and m.room == "301" and m.via == ("friend",)
    rec = for_room(advise(snap, CATALOGUE), "101")[0]
    assert rec.tool == "door_to_door" and rec.messenger == m
    assert rec.role is Role.OPINION_LEADER
    assert rec.who_zh.startswith("301 住户301（朋友")


def test_kin_outweighs_a_landing_neighbour_and_an_opponent_never_carries_it() -> None:
    snap = unit(
        Stage.CONSULTATION,
        oppose("101"),
        oppose("401", "light"),
        ties=(Tie("101", "401", "kin", 2.0), Tie("101", "601", "kin")),
    )
    m = messenger_for(snap, "101")
    assert m is not None and m.room == "601" and "kin" in m.via  # 401 opposes: not sent


def test_without_ties_the_unit_ranking_stands_in() -> None:
    flats = [hh("101", stance=Stance.OPPOSE), hh("301"), hh("302"), hh("401")]
    snap = UnitSnapshot("1-1", tuple(flats), TODAY, stage=Stage.CONSULTATION)
    m = messenger_for(snap, "101")
    assert m is not None and m.via == ("centrality",) and m.room != "101"
    assert not m.from_ties


def test_a_party_member_of_the_building_is_a_tie() -> None:
    party = Resident("党员老李", AgeBand.AGE_70_79, party_member=True)
    snap = unit(Stage.CONSULTATION, oppose("101"), hh("302", residents=(party,)), leaders=())
    m = messenger_for(snap, "101")
    # the landing neighbour 102 and the Party member 302 are both ties; the landing is closer
    assert m is not None and m.room == "102" and m.via == ("same_landing",)
    snap = replace(snap, households=tuple(h for h in snap.households if h.room != "102"))
    m = messenger_for(snap, "101")
    assert m is not None and m.room == "302" and m.via == ("party_member",)


# ---------------------------------------------------------------- strict loader

GOOD_ROW = """
[[rule]]
id = "x"
obstacles = ["interest"]
reasons = ["light"]
statuses = ["*"]
stages = ["*"]
tools = ["design_change"]
why_zh = "{room}因{reasons}反对"
"""


def load(text: str) -> Any:
    return load_reason_table(TomlText(text, "t.toml"), CATALOGUE)


def test_a_good_row_loads() -> None:
    table = load(GOOD_ROW)
    assert [r.id for r in table.rules] == ["x"]
    assert table.rules[0].why("101", "采光", "") == "101因采光反对"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (('tools = ["design_change"]', 'tools = ["glass_shaft"]'), "unknown tool"),
        (('reasons = ["light"]', 'reasons = ["sunlight"]'), "reasons has unknown value"),
        (('statuses = ["*"]', 'statuses = ["appeal"]'), "statuses has unknown value"),
        (('stages = ["*"]', 'stages = ["building"]'), "stages has unknown value"),
        (('why_zh = "{room}', 'why_zh = "{floor}'), "unknown field floor"),
        (('id = "x"', 'id = "x"\nweight = 2'), "weight"),
    ],
)
def test_a_bad_row_is_refused_by_name(change: tuple[str, str], match: str) -> None:
    with pytest.raises(BadInput, match=match):
        load(GOOD_ROW.replace(*change))


# ---------------------------------------------------------------- guidance labels


def test_direct_guidance_is_the_party_organisations_own_and_government_is_a_partner() -> None:
    from colift.coproduction.advisor import _guidance

    snap = unit(Stage.APPROVAL)
    joint = CATALOGUE.get("joint_meeting")  # street office, bureau, Party committee, coordinator
    assert _guidance(joint, snap, Role.STREET_OFFICE) is GuidanceMode.NONE
    assert _guidance(joint, snap, Role.HOUSING_BUREAU) is GuidanceMode.NONE
    assert _guidance(joint, snap, Role.COMMUNITY_PARTY_COMMITTEE) is GuidanceMode.DIRECT
    # a formal leader acts under direct guidance only where a Party organisation is there
    with_party = unit(
        Stage.APPROVAL, leaders=(Leader("党委书记", Role.COMMUNITY_PARTY_COMMITTEE, "compound"),)
    )
    assert _guidance(joint, with_party, Role.COORDINATOR) is GuidanceMode.DIRECT
    assert _guidance(joint, snap, Role.COORDINATOR) is GuidanceMode.NONE


# ---------------------------------------------------------------- cooperation between actors


def test_actor_cooperation_reads_who_worked_with_whom_from_the_log() -> None:
    from colift.coproduction.cooperation import actor_cooperation

    def act(role: str, tool: str, on: date) -> Activity:
        return Activity(1, None, role, role, GuidanceMode.NONE, tool, on)

    log = [
        # one push in March: the Party committee convenes, the street office and vendor join
        act("community_party_committee", "joint_meeting", date(2026, 3, 3)),
        act("street_office", "joint_meeting", date(2026, 3, 3)),
        act("elevator_vendor", "vendor_introduction", date(2026, 3, 10)),
        # another in May, the Party committee and the street office again
        act("street_office", "joint_meeting", date(2026, 5, 10)),
        act("community_party_committee", "joint_meeting", date(2026, 5, 10)),
        # escrow in July: an owner and the residents' committee
        act("action_leader", "fund_escrow", date(2026, 7, 12)),
        act("residents_committee", "fund_escrow", date(2026, 7, 12)),
        # a visit in October, alone: links to nobody
        act("opinion_leader", "door_to_door", date(2026, 10, 13)),
    ]
    links = actor_cooperation(log)
    first = links[0]
    assert (first.a, first.b, first.times, first.tools) == (
        "party",
        "street_office",
        2,
        ("joint_meeting",),
    )
    pairs = {(link.a, link.b) for link in links}
    assert pairs == {
        ("party", "street_office"),
        ("party", "vendor"),
        ("street_office", "vendor"),
        ("owners", "residents_committee"),
    }
    vendor = next(link for link in links if link.b == "vendor" and link.a == "party")
    assert vendor.tools == ("joint_meeting", "vendor_introduction")
    assert first.text_zh == "党组织与街道办"


def test_docs_show_every_row_of_the_reason_table() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs/tools.md").read_text(encoding="utf-8")
    section = text.split("## 原因对照表 The reason table", 1)[1].split("\n## ", 1)[0]
    for rule in TABLE.rules:
        line = next(ln for ln in section.splitlines() if ln.startswith(f"| `{rule.id}` |"))
        positions = [line.index(f"`{t}`") for t in rule.tools]
        assert positions == sorted(positions), rule.id  # the tools, in the table's order


def test_a_unit_that_already_co_manages_its_lift_is_not_told_to_name_a_use_manager() -> None:
    managed = Activity(
        1,
        None,
        "赵师傅",
        "action_leader",
        GuidanceMode.EMBEDDED,
        "self_managed_maintenance",
        date(2026, 10, 1),
    )
    advice = advise(unit(Stage.OPERATION, activities=(managed,)), CATALOGUE, limit=10)
    tools = [r.tool for r in advice.recommendations]
    assert "use_manager_designation" not in tools
    assert "licensed_maintenance_contract" in tools


def test_an_opponent_is_never_proposed_as_a_leader() -> None:
    from colift.coproduction.network import opinion_leader_candidates

    snap = unit(
        Stage.VOTE,
        oppose("301", "cost"),
        leaders=(),
        ties=(Tie("301", "401", "kin"), Tie("301", "501", "friend"), Tie("301", "601", "kin")),
    )
    rooms = [c.room for c in opinion_leader_candidates(snap, k=12)]
    assert "301" not in rooms and rooms
