"""The advisor on crafted units: each obstacle gets the tools that act on its cause first."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from colift.coproduction.advisor import advise
from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.unitfile import read_unit_file
from colift.errors import BadInput
from colift.model import Role
from colift.model.coproduction import GuidanceMode

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue()
ALL_ROLES = [
    ("王书记", "coordinator", "compound", None),
    ("孙主任", "consultation_organizer", "compound", None),
    ("刘红英", "vision_promoter", "compound", None),
    ("周大姐", "opinion_leader", "unit", "502"),
    ("赵师傅", "action_leader", "unit", "601"),
    ("钱工", "community_elite", "unit", "402"),
]


def unit(**over: Any) -> dict[str, Any]:
    """A calm 6-storey unit: everyone lives here, upstairs needs the lift, all roles held."""
    households = [
        {"id": f"{f}0{d}", "floor": f, "area_m2": "60.00", "owner": f"业主{f}0{d}"}
        for f in range(1, 7)
        for d in (1, 2)
    ]
    persons = [
        {"name": f"住户{h['id']}", "household": h["id"], "age": 72 if int(h["floor"]) >= 3 else 50,
         "mobility": "reduced" if int(h["floor"]) >= 4 else "none",
         "party_member": h["id"] in ("502", "601")}
        for h in households
    ]
    leaders = [
        {"name": n, "role": r, "scope": s, "household": room, "party_member": True}
        for n, r, s, room in ALL_ROLES
    ]
    data: dict[str, Any] = {
        "label": "3栋2单元",
        "storeys": 6,
        "stage": "design",
        "today": "2026-11-01",
        "households": households,
        "persons": persons,
        "leaders": leaders,
        "stances": [{"household": h["id"], "stance": "support"} for h in households],
        "activities": [
            {"role": "vision_promoter", "guidance": "direct", "tool": "policy_briefing",
             "date": "2026-03-01", "outcome": {"participants": 12}},
            {"role": "consultation_organizer", "guidance": "direct", "tool": "willingness_survey",
             "date": "2026-03-10", "outcome": {"participants": 12}},
        ],
    }
    data.update(over)
    return data


def run(data: dict[str, Any]) -> dict[str, Any]:
    return advise(read_unit_file(data), CATALOGUE).to_json()


def test_low_floor_light_objections_get_design_change_and_compensation_first() -> None:
    data = unit()
    for s in data["stances"]:
        if s["household"] in ("101", "102"):
            s.update(stance="oppose", reasons=["light"])
    data["objections"] = [
        {"household": "101", "status": "open", "reasons": ["light"]},
        {"household": "102", "status": "negotiation", "reasons": ["light"]},
    ]
    out = run(data)
    kinds = {o["kind"] for o in out["obstacles"]}
    assert kinds <= {"interest", "objection"}, out["obstacles"]
    # one obstacle per household, each answered by design first, then compensation
    assert [o["households"] for o in out["obstacles"]] == [["101"], ["102"]]
    firsts = [(r["tool"], r["targets"]) for r in out["recommendations"][:2]]
    assert sorted(firsts) == [("design_change", ["101"]), ("design_change", ["102"])]
    seconds = [r["tool"] for r in out["recommendations"][2:4]]
    assert seconds == ["compensation_agreement"] * 2
    top = out["recommendations"][0]
    assert top["role"] == "community_elite"
    assert "采光" in top["why_zh"] and "错层" in top["how_zh"]


def test_unreached_absentee_owners_get_an_action_leader_tool() -> None:
    data = unit()
    for h in data["households"]:
        if h["id"] in ("301", "402", "602"):
            h["tenure"] = "absentee"
    data["persons"] = [p for p in data["persons"] if p["household"] not in ("301", "402", "602")]
    data["stances"] = [s for s in data["stances"] if s["household"] not in ("301", "402", "602")]
    data["leaders"] = [ld for ld in data["leaders"] if ld.get("household") not in ("402",)]
    out = run(data)
    tenure = [o for o in out["obstacles"] if o["kind"] == "tenure"]
    assert tenure and set(tenure[0]["households"]) == {"301", "402", "602"}
    first = out["recommendations"][0]
    assert first["tool"] == "absentee_tracing"
    assert first["role"] == Role.ACTION_LEADER.value
    assert set(first["targets"]) == {"301", "402", "602"}
    assert first["who"] == "赵师傅"  # the unit's action leader


def test_a_unit_without_any_party_member_gets_embedded_guidance() -> None:
    data = unit()
    for p in data["persons"]:
        p["party_member"] = False
    for ld in data["leaders"]:
        ld["party_member"] = False
    out = run(data)
    assert any(g["kind"] == "no_embedded_party_member" for g in out["leadership"])
    embedded = [r for r in out["recommendations"] if r["guidance"] == GuidanceMode.EMBEDDED.value]
    assert embedded and embedded[0]["tool"] == "building_party_group"


def test_missing_informal_leaders_are_named_with_candidates() -> None:
    data = unit(leaders=[{"name": "孙主任", "role": "consultation_organizer", "scope": "compound"}])
    out = run(data)
    missing = {g["role"] for g in out["leadership"] if g["kind"] == "missing_role"}
    assert {"action_leader", "opinion_leader", "community_elite", "coordinator"} <= missing
    action = next(g for g in out["leadership"] if g["role"] == "action_leader")
    assert action["candidates"], "the influence network should propose someone"


def test_informal_leader_alone_is_flagged() -> None:
    data = unit(
        leaders=[{"name": "赵师傅", "role": "action_leader", "household": "601"}],
        activities=[{"role": "action_leader", "guidance": "none", "tool": "signature_collection",
                     "date": "2026-05-01", "targets": ["101", "102"]}],
    )
    out = run(data)
    assert any(g["kind"] == "informal_without_backing" for g in out["leadership"])


def test_stage_step_is_suggested_when_missing() -> None:
    out = run(unit(stage="survey", activities=[]))
    assert out["recommendations"][0]["tool"] in {"willingness_survey", "policy_briefing",
                                                 "door_to_door", "success_stories"}
    assert any(r["tool"] == "willingness_survey" for r in out["recommendations"])


def test_contract_shape_and_catalogue_ids() -> None:
    out = run(unit())
    assert set(out) >= {"heterogeneity", "obstacles", "cooperation_level", "recommendations"}
    assert 0.0 <= out["heterogeneity"]["index"] <= 1.0
    assert set(out["heterogeneity"]["dimensions"]) == {
        "interest", "demographic", "economic", "tenure", "trust_information", "technical"
    }
    assert out["cooperation_level"] in range(5)
    for r in out["recommendations"]:
        assert r["tool"] in CATALOGUE
        assert Role(r["role"])
        assert isinstance(r["targets"], list) and isinstance(r["rationale"], str)


def test_example_unit_file_advises() -> None:
    data = json.loads((ROOT / "examples" / "unit-advise.json").read_text(encoding="utf-8"))
    out = run(data)
    assert out["recommendations"]
    assert out["cooperation_level"] >= 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stances": [{"household": "909", "stance": "support"}]}, "not in the unit"),
        ({"stances": [{"household": "101", "stance": "maybe"}]}, "unknown stance"),
        ({"stage": "flying"}, "stage"),
        ({"technical": [{"kind": "pipes", "severity": 5}]}, "severity"),
        ({"ties": [{"a": "101", "b": "101"}]}, "two different"),
        ({"activities": [{"role": "coordinator", "guidance": "direct", "tool": "teleport",
                          "date": "2026-01-01"}]}, "unknown tool"),
    ],
)
def test_bad_unit_files_are_clear_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        read_unit_file(unit(**change), today=date(2026, 11, 1))


def test_ballots_already_cast_count_as_the_formal_vote() -> None:
    asked = run(unit(stage="vote"))
    assert any(r["tool"] == "formal_vote" for r in asked["recommendations"])
    voted = unit(stage="vote")
    for h in voted["households"]:
        h["vote"] = "agree"  # consent passed through ballots, with no formal_vote activity logged
    out = run(voted)
    assert not any(r["tool"] == "formal_vote" for r in out["recommendations"])
    assert not any("no formal vote" in r["rationale"] for r in out["recommendations"])
