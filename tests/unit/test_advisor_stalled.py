"""A unit stalled in its stage gets that stage's unblocking actions first, never an empty step,
and no consent-building tool once the vote has passed and the plan is approved (issue 13)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from test_advisor import CATALOGUE, unit

from colift.coproduction.advisor import STALL_FOLLOWUP, advise
from colift.coproduction.reasons import load_reason_table
from colift.coproduction.snapshot import UnitSnapshot
from colift.coproduction.stalls import STALLED_AFTER_DAYS, read_stall_limits, stall_limits
from colift.coproduction.unitfile import read_unit_file
from colift.datafiles import TomlText
from colift.errors import BadInput
from colift.model.coproduction import Stage

TABLE = load_reason_table()
DECIDED = (Stage.APPROVAL, Stage.CONSTRUCTION, Stage.ACCEPTANCE)
# Tools that build consent toward a vote: pledges, persuasion, briefings, negotiation, signatures.
CONSENT_BUILDING = frozenset(
    {
        "party_member_pledge",
        "neighbourly_persuasion",
        "emotional_appeal",
        "site_visit",
        "success_stories",
        "policy_briefing",
        "deliberation_meeting",
        "signature_collection",
        "willingness_survey",
        "written_agreement",
    }
)


def snapshot(stage: Stage, days: int | None, **over: Any) -> UnitSnapshot:
    snap = read_unit_file(unit(stage=stage.value, **over))
    return replace(snap, days_in_stage=days, stall_limit_days=STALLED_AFTER_DAYS.get(stage))


def test_the_limits_are_data_with_source_and_confidence() -> None:
    limits = stall_limits()
    assert limits[Stage.APPROVAL].days == STALLED_AFTER_DAYS[Stage.APPROVAL]
    assert Stage.OPERATION not in limits  # a lift in service is not stalled
    for limit in limits.values():
        assert limit.source and limit.confidence in ("confirmed", "secondary", "assumption")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[approva]\ndays = 3\nsource = 'x'\nconfidence = 'assumption'", "not a stage"),
        ("[approval]\ndays = 0\nsource = 'x'\nconfidence = 'assumption'", "days must be"),
        ("[approval]\ndays = 3\nsource = 'x'\nconfidence = 'sure'", "confidence"),
        ("[approval]\ndays = 3\nsource = 'x'\nconfidence = 'assumption'\ndayz = 1", "dayz"),
    ],
)
def test_bad_limits_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        read_stall_limits(TomlText(text, "stalls.toml"))


def test_every_stage_with_a_limit_has_a_stalled_row() -> None:
    assert set(TABLE.stalled) == set(stall_limits())


@pytest.mark.parametrize("stage", sorted(STALLED_AFTER_DAYS, key=lambda s: s.order))
def test_a_stalled_unit_gets_a_stage_relevant_first_step(stage: Stage) -> None:
    days = STALLED_AFTER_DAYS[stage] + 1
    advice = advise(snapshot(stage, days), CATALOGUE)
    assert advice.snapshot.stalled
    first = advice.recommendations[0]
    assert first.tool in (*TABLE.stalled[stage].tools, STALL_FOLLOWUP), first
    assert (
        f"已停留{days}天" in first.why_zh
        and f"超过参考的{STALLED_AFTER_DAYS[stage]}天" in first.why_zh
    )
    stalled = [f for f in advice.findings if "stalled" in f.message]
    assert len(stalled) == 1 and f"已停留{days}天" in stalled[0].message


def test_not_stalled_on_the_limit_itself_nor_without_a_date() -> None:
    for days in (STALLED_AFTER_DAYS[Stage.APPROVAL], None):
        advice = advise(snapshot(Stage.APPROVAL, days), CATALOGUE)
        assert not advice.snapshot.stalled
        assert all("已停留" not in r.why_zh for r in advice.recommendations)


def test_stalled_in_approval_follows_up_the_approval() -> None:
    advice = advise(snapshot(Stage.APPROVAL, 61), CATALOGUE)
    first = advice.recommendations[0]
    assert first.tool == "approval_followup"
    assert first.why_zh.startswith("在审查审批阶段已停留61天，超过参考的60天：")
    assert "住建" in first.how_zh and "材料" in first.how_zh


def test_stalled_in_acceptance_organises_acceptance_then_registration() -> None:
    done = {
        "role": "consultation_organizer",
        "guidance": "direct",
        "tool": "joint_acceptance",
        "date": "2026-10-01",
        "outcome": {"participants": 6},
    }
    data = unit()
    advice = advise(
        snapshot(Stage.ACCEPTANCE, 70, activities=[*data["activities"], done]), CATALOGUE
    )
    tools = [r.tool for r in advice.recommendations]
    assert tools[0] == "use_registration", tools  # acceptance held since the stage began
    assert "使用登记" in advice.recommendations[0].how_zh


def test_a_stalled_unit_whose_row_is_all_done_still_gets_a_follow_up() -> None:
    data = unit()
    used = [
        {
            "role": "coordinator",
            "guidance": "direct",
            "tool": t,
            "date": "2026-10-20",
            "outcome": {"participants": 0},
        }
        for t in TABLE.stalled[Stage.APPROVAL].tools
    ]
    advice = advise(
        snapshot(Stage.APPROVAL, 61, activities=[*data["activities"], *used]), CATALOGUE
    )
    assert advice.recommendations[0].tool == STALL_FOLLOWUP
    assert "查清卡在哪一步" in advice.recommendations[0].why_zh


def test_a_stalled_unit_without_any_row_still_gets_a_follow_up() -> None:
    table = replace(TABLE, stalled={})
    advice = advise(snapshot(Stage.CONSTRUCTION, 200), CATALOGUE, table=table)
    assert advice.recommendations[0].tool == STALL_FOLLOWUP
    assert advice.recommendations[0].why_zh.startswith("在施工阶段已停留200天")


def _no_party_leader_in_the_stairwell() -> list[dict[str, Any]]:
    """Party members live in the unit, but no leader is one: the pledge gap opens."""
    return [{**ld, "party_member": False} for ld in unit()["leaders"]]


@pytest.mark.parametrize("stage", DECIDED)
def test_after_approval_no_consent_building_tool_for_a_stalled_unit(stage: Stage) -> None:
    days = STALLED_AFTER_DAYS[stage] + 10
    advice = advise(snapshot(stage, days, leaders=_no_party_leader_in_the_stairwell()), CATALOGUE)
    tools = [r.tool for r in advice.recommendations]
    assert tools and tools[0] not in CONSENT_BUILDING
    assert not CONSENT_BUILDING & set(tools), tools


@pytest.mark.parametrize("stage", DECIDED)
def test_after_approval_no_pledge_even_when_not_stalled(stage: Stage) -> None:
    advice = advise(snapshot(stage, 1, leaders=_no_party_leader_in_the_stairwell()), CATALOGUE)
    assert "party_member_pledge" not in [r.tool for r in advice.recommendations]


def test_before_the_vote_the_pledge_is_still_suggested() -> None:
    advice = advise(snapshot(Stage.VOTE, 1, leaders=_no_party_leader_in_the_stairwell()), CATALOGUE)
    assert "party_member_pledge" in [r.tool for r in advice.recommendations]


def test_consent_building_tools_stop_at_approval() -> None:
    for tool_id in CONSENT_BUILDING:
        tool = CATALOGUE.get(tool_id)
        assert tool.stages, f"{tool_id} fits every stage"
        assert not set(tool.stages) & {*DECIDED, Stage.OPERATION}, tool_id


def test_objection_in_court_still_comes_before_the_stall() -> None:
    data = unit()
    for s in data["stances"]:
        if s["household"] == "101":
            s.update(stance="oppose", reasons=["light"])
    objections = [{"household": "101", "status": "litigation", "reasons": ["light"]}]
    advice = advise(
        snapshot(Stage.CONSTRUCTION, 130, stances=data["stances"], objections=objections),
        CATALOGUE,
    )
    tools = [r.tool for r in advice.recommendations]
    assert tools[0] == "court_mediation", tools
    assert "progress_followup" in tools[:3]


def test_a_unit_file_can_say_since_when_the_unit_is_in_its_stage() -> None:
    snap = read_unit_file(unit(stage="approval", stage_since="2026-09-01"))  # today 2026-11-01
    assert snap.days_in_stage == 61 and snap.stall_limit_days == STALLED_AFTER_DAYS[Stage.APPROVAL]
    assert advise(snap, CATALOGUE).recommendations[0].tool == "approval_followup"
    assert not read_unit_file(unit(stage="approval")).stalled  # no date: never stalled
