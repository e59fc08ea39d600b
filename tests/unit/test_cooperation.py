"""Cooperation level (path-model.md §6): each level from crafted units, with its evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from colift.coproduction.catalogue import Catalogue, load_catalogue
from colift.coproduction.cooperation import (
    CONSENT_SHARE,
    CONSULTED_SHARE,
    CooperationLevel,
    cooperation_level,
    cooperation_timeline,
)
from colift.coproduction.snapshot import HouseholdView, UnitSnapshot
from colift.model.coproduction import Activity, GuidanceMode, Outcome

TODAY = date(2026, 9, 1)
BRIEFING = date(2026, 1, 10)
SURVEY = date(2026, 3, 2)
VOTE = date(2026, 5, 20)
ESCROW = date(2026, 7, 1)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def households(count: int = 12) -> tuple[HouseholdView, ...]:
    """Two flats a floor: 101, 102, 201, …"""
    return tuple(
        HouseholdView(
            room=f"{i // 2 + 1}0{i % 2 + 1}",
            floor=i // 2 + 1,
            area_m2=Decimal("70"),
            owner=f"owner-{i}",
        )
        for i in range(count)
    )


def act(
    tool: str,
    on: date,
    *,
    role: str = "consultation_organizer",
    targets: tuple[str, ...] = (),
    participants: int = 0,
    money_fen: int = 0,
    labour_hours: int = 0,
    id: int | None = None,
) -> Activity:
    return Activity(
        unit_id=1,
        person_id=None,
        actor_name="社区",
        role=role,
        guidance=GuidanceMode.DIRECT,
        tool=tool,
        on=on,
        targets=targets,
        outcome=Outcome(participants=participants, money_fen=money_fen, labour_hours=labour_hours),
        id=id,
    )


def unit(*activities: Activity, count: int = 12, has_cost_plan: bool = False) -> UnitSnapshot:
    return UnitSnapshot(
        label="和园一区 3栋 1单元",
        households=households(count),
        today=TODAY,
        unit_id=1,
        activities=activities,
        has_cost_plan=has_cost_plan,
    )


def briefing() -> Activity:
    return act("policy_briefing", BRIEFING, role="vision_promoter", id=1)


def survey(participants: int = 10) -> Activity:
    return act("willingness_survey", SURVEY, participants=participants, id=2)


def vote(participants: int = 9) -> Activity:
    return act("formal_vote", VOTE, participants=participants, id=3)


def escrow(money_fen: int = 1_200_000) -> Activity:
    return act("fund_escrow", ESCROW, role="action_leader", money_fen=money_fen, id=4)


def test_thresholds_are_inclusive(catalogue: Catalogue) -> None:
    half, two_thirds = int(CONSULTED_SHARE * 12), int(CONSENT_SHARE * 12)
    assert (half, two_thirds) == (6, 8)
    assert cooperation_level(unit(survey(participants=half)), catalogue).level == 2
    assert cooperation_level(unit(survey(participants=half - 1)), catalogue).level == 1
    planned = unit(vote(participants=two_thirds), has_cost_plan=True)
    assert cooperation_level(planned, catalogue).level == 3


def test_level_0_without_activity(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(), catalogue)
    assert (found.level, found.name, found.evidence, found.basis) == (0, "none", [], [])
    assert found.missing.startswith("inform the residents, e.g.")


def test_level_0_when_no_resident_took_part(catalogue: Catalogue) -> None:
    meeting = act("joint_meeting", BRIEFING, role="coordinator")
    assert cooperation_level(unit(meeting), catalogue).level == 0


def test_level_1_informed(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(briefing()), catalogue)
    assert (found.level, found.name, found.name_zh) == (1, "informed", "告知")
    assert found.level == CooperationLevel.INFORMED
    [evidence] = found.evidence
    assert evidence.text == "2026-01-10 政策宣讲 policy_briefing: aimed at the whole unit"
    assert (evidence.on, evidence.level, evidence.tool, evidence.activity_id) == (
        BRIEFING,
        1,
        "policy_briefing",
        1,
    )
    assert found.basis == [evidence]
    assert "at least 6 of 12 households" in found.missing
    assert "听取至少6户（共12户）的意见" in found.missing_zh


def test_targeted_visit_informs(catalogue: Catalogue) -> None:
    talk = act("door_to_door", BRIEFING, role="opinion_leader", targets=("101", "102"))
    found = cooperation_level(unit(talk), catalogue)
    assert found.level == 1
    assert found.evidence[0].text.endswith("2 of 12 households reached (101, 102)")


def test_low_participation_survey_stays_at_1(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(survey(participants=5)), catalogue)
    assert found.level == 1
    [evidence] = found.evidence
    assert evidence.level == 1
    assert evidence.text.startswith(
        "2026-03-02 意愿征询 willingness_survey: 5 of 12 households took part"
    )
    assert "fewer than the 6 needed to count as consulted" in evidence.text


def test_survey_without_recorded_participation_only_informs(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(survey(participants=0)), catalogue)
    assert found.level == 1
    assert "participation not recorded" in found.evidence[0].text


def test_level_2_consulted(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(briefing(), survey()), catalogue)
    assert (found.level, found.name) == (2, "consulted")
    assert (
        found.evidence[-1].text
        == "2026-03-02 意愿征询 willingness_survey: 10 of 12 households took part"
    )
    assert [e.tool for e in found.basis] == ["policy_briefing", "willingness_survey"]
    assert "reach consent" in found.missing and "agree the plan" in found.missing
    assert "达成同意" in found.missing_zh and "商定方案和费用分摊" in found.missing_zh


def test_consultation_alone_is_also_evidence_of_being_informed(catalogue: Catalogue) -> None:
    assert cooperation_level(unit(survey(participants=6)), catalogue).level == 2
    assert cooperation_level(unit(survey(participants=3), count=5), catalogue).level == 2
    assert cooperation_level(unit(survey(participants=2), count=5), catalogue).level == 1


def test_targets_count_as_participants_when_no_count_is_given(catalogue: Catalogue) -> None:
    meeting = act(
        "deliberation_meeting", SURVEY, targets=("101", "102", "201", "202", "301", "302")
    )
    assert cooperation_level(unit(meeting), catalogue).level == 2


def test_level_3_needs_consent_and_a_plan(catalogue: Catalogue) -> None:
    consent_only = cooperation_level(unit(briefing(), survey(), vote()), catalogue)
    assert consent_only.level == 2
    assert consent_only.evidence[-1].level == 3
    assert "consent shown" in consent_only.evidence[-1].text
    assert "agree the plan" in consent_only.missing and "reach consent" not in consent_only.missing

    found = cooperation_level(unit(briefing(), survey(), vote(), has_cost_plan=True), catalogue)
    assert (found.level, found.name) == (3, "collaborating")
    assert [e.tool for e in found.basis] == [
        "policy_briefing",
        "willingness_survey",
        "formal_vote",
        None,
    ]
    assert found.basis[-1].text == "2026-09-01 a cost-sharing plan is recorded for the unit"
    assert found.basis[2].text == (
        "2026-05-20 表决/签字 formal_vote: 9 of 12 households took part; consent shown"
    )
    assert "fund collection and escrow" in found.missing  # the tool by its name, not its id


def test_vote_below_two_thirds_is_not_consent(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(briefing(), vote(participants=7), has_cost_plan=True), catalogue)
    assert found.level == 2
    assert "consent needs 8 of 12 households" in found.evidence[1].text


def test_a_signed_agreement_is_consent_and_plan_at_once(catalogue: Catalogue) -> None:
    signed = act("written_agreement", VOTE, participants=12, id=9)
    found = cooperation_level(unit(signed), catalogue)
    assert found.level == 3
    assert [e.activity_id for e in found.basis] == [9]


def test_consent_flag_with_a_written_agreement(catalogue: Catalogue) -> None:
    signed = act("written_agreement", VOTE, participants=3)
    without = cooperation_level(unit(signed), catalogue)
    assert without.level == 1  # an agreement signed by few: a plan, but no consent
    found = cooperation_level(unit(signed), catalogue, on=VOTE, consent_passed=True)
    assert found.level == 3
    assert "2026-05-20 consent passed under rule cn-civil-code-278" in [e.text for e in found.basis]


def test_tally_against_consent_outranks_a_vote_activity(catalogue: Catalogue) -> None:
    snapshot = unit(briefing(), vote(participants=12), has_cost_plan=True)
    assert cooperation_level(snapshot, catalogue).level == 3
    refused = cooperation_level(snapshot, catalogue, consent_passed=False)
    assert refused.level == 2
    assert "the vote tally says consent has not passed" in refused.evidence[1].text


def test_level_4_co_producing(catalogue: Catalogue) -> None:
    found = cooperation_level(
        unit(briefing(), survey(), vote(), escrow(), has_cost_plan=True), catalogue
    )
    assert (found.level, found.name, found.name_zh) == (4, "co-producing", "合作生产")
    assert (
        found.basis[-1].text
        == found.evidence[-2].text
        == (
            "2026-07-01 资金归集与监管 fund_escrow: aimed at the whole unit; "
            "residents contributed 12,000.00 yuan"
        )
    )
    assert found.missing == "nothing: co-producing is the highest level"


def test_co_management_counts_without_money(catalogue: Catalogue) -> None:
    acceptance = act("joint_acceptance", ESCROW, participants=4)
    found = cooperation_level(unit(vote(), acceptance, has_cost_plan=True), catalogue)
    assert found.level == 4
    assert "residents co-manage" in found.basis[-1].text
    labour = act("self_managed_maintenance", ESCROW, role="action_leader", labour_hours=20)
    assert cooperation_level(unit(vote(), labour, has_cost_plan=True), catalogue).level == 4


def test_escrow_without_resident_money_is_not_co_production(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(vote(), escrow(money_fen=0), has_cost_plan=True), catalogue)
    assert found.level == 3
    [record] = [e for e in found.evidence if e.tool == "fund_escrow"]
    assert record.level == 1
    assert record.text.endswith("; no resident money or labour recorded yet")


def test_levels_never_skip_evidence(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(escrow()), catalogue)
    assert found.level == 1
    assert found.evidence[0].level == 4
    assert "evidence for level 4 is already recorded" in found.missing


def test_on_cuts_off_later_activities(catalogue: Catalogue) -> None:
    snapshot = unit(briefing(), survey(), vote(), escrow(), has_cost_plan=True)
    levels = [
        cooperation_level(snapshot, catalogue, on=day).level
        for day in (date(2026, 1, 9), BRIEFING, SURVEY, date(2026, 5, 19), VOTE, ESCROW)
    ]
    assert levels == [0, 1, 2, 2, 3, 4]
    before_vote = cooperation_level(snapshot, catalogue, on=date(2026, 5, 19))
    assert [e.tool for e in before_vote.evidence] == ["policy_briefing", "willingness_survey", None]


def test_timeline_steps(catalogue: Catalogue) -> None:
    snapshot = unit(
        briefing(),
        act("success_stories", date(2026, 2, 1), role="vision_promoter"),
        survey(),
        vote(),
        escrow(),
        has_cost_plan=True,
    )
    steps = cooperation_timeline(snapshot, catalogue)
    assert [(s.on, s.level) for s in steps] == [(BRIEFING, 1), (SURVEY, 2), (VOTE, 3), (ESCROW, 4)]
    on, level, evidence = steps[2]
    assert (on, level) == (VOTE, 3)
    assert [e.tool for e in evidence] == ["formal_vote", None]
    assert [e.tool for e in steps[0].evidence] == ["policy_briefing"]


def test_timeline_can_jump_levels(catalogue: Catalogue) -> None:
    steps = cooperation_timeline(unit(act("written_agreement", VOTE, participants=12)), catalogue)
    assert [(s.on, s.level) for s in steps] == [(VOTE, 3)]
    assert [e.tool for e in steps[0].evidence] == ["written_agreement"]


def test_timeline_with_the_day_consent_passed(catalogue: Catalogue) -> None:
    passed = date(2026, 6, 10)
    snapshot = unit(briefing(), survey(), vote(), has_cost_plan=True)
    steps = cooperation_timeline(snapshot, catalogue, consent_passed_on=passed)
    assert [(s.on, s.level) for s in steps] == [(BRIEFING, 1), (SURVEY, 2), (passed, 3)]
    assert [e.text for e in steps[-1].evidence] == [
        "2026-06-10 consent passed under rule cn-civil-code-278",
        "2026-06-10 a cost-sharing plan is recorded for the unit",
    ]
    before = cooperation_level(snapshot, catalogue, on=date(2026, 6, 9), consent_passed=False)
    assert before.level == 2
    assert cooperation_timeline(unit(), catalogue) == []


def test_unknown_tools_are_noted_not_counted(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(act("tea_party", BRIEFING)), catalogue)
    assert found.level == 0
    assert found.notes == ["2026-01-10 tea_party: not in the tool catalogue, not counted"]


def test_unit_without_households(catalogue: Catalogue) -> None:
    found = cooperation_level(unit(briefing(), count=0), catalogue)
    assert found.missing == "record the unit's households first"
