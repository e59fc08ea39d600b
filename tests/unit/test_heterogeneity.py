"""Heterogeneity profile and obstacles: each dimension's figures, the index, the findings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.coproduction.heterogeneity import (
    DIMENSIONS,
    Finding,
    consent_for,
    heterogeneity,
    obstacles,
    reached_rooms,
)
from colift.coproduction.snapshot import HouseholdView, ObjectionView, Resident, UnitSnapshot
from colift.errors import BadInput
from colift.model import AgeBand, Mobility, ObjectionStatus, Tenure, Vote
from colift.model.coproduction import (
    Activity,
    GuidanceMode,
    Obstacle,
    Stance,
    TechnicalIssue,
)

TODAY = date(2025, 6, 1)
ELDER = Resident("elder", AgeBand.AGE_70_79)
ADULT = Resident("adult", AgeBand.AGE_18_59)


def hh(room: str, floor: int | None = None, **kw: Any) -> HouseholdView:
    """A flat of 60 m² with its own owner; the floor is read from the room unless given."""
    return HouseholdView(
        room=room,
        floor=floor if floor is not None else int(room[:-2]),
        area_m2=kw.pop("area_m2", Decimal("60")),
        owner=kw.pop("owner", f"o{room}"),
        **kw,
    )


def act(*targets: str, on: date = date(2025, 5, 1), actor: str = "worker") -> Activity:
    return Activity(
        unit_id=1,
        person_id=None,
        actor_name=actor,
        role="vision_promoter",
        guidance=GuidanceMode.DIRECT,
        tool="policy_briefing",
        on=on,
        targets=targets,
    )


def unit(*households: HouseholdView, **kw: Any) -> UnitSnapshot:
    return UnitSnapshot(label="3-1", households=households, today=TODAY, **kw)


def uniform() -> UnitSnapshot:
    """Four elderly owner-occupiers on floors 5-6, all for it, all able to pay, all told."""
    flats = [
        hh(
            r,
            residents=(ELDER,),
            stance=Stance.SUPPORT,
            ability_to_pay_fen=5_000_000,
            share_fen=4_000_000,
        )
        for r in ("501", "502", "601", "602")
    ]
    return unit(
        *flats,
        activities=(act(),),
        technical=(TechnicalIssue("pipes", 2, resolved=True),),
    )


def split() -> UnitSnapshot:
    """Twelve flats: low floors oppose over light, upper floors support; mixed in every way."""
    flats = []
    for floor in range(1, 7):
        for d in ("01", "02"):
            room = f"{floor}{d}"
            low = floor <= 2
            flats.append(
                hh(
                    room,
                    stance=Stance.OPPOSE if low else Stance.SUPPORT,
                    stance_reasons=("light",) if low else (),
                    residents=(ELDER,) if floor >= 4 else (ADULT,),
                    tenure=Tenure.ABSENTEE if room in ("202", "502") else Tenure.OWNER_OCCUPIED,
                    ability_to_pay_fen=1_000_000 if d == "01" else 8_000_000,
                    share_fen=0 if low else 3_000_000,
                )
            )
    return unit(
        *flats,
        activities=(act(),),
        technical=(TechnicalIssue("pipes", 2),),
    )


# ---------------------------------------------------------------- the index


def test_uniform_unit_has_index_near_zero_and_no_driver() -> None:
    profile = heterogeneity(uniform())
    assert profile.index == pytest.approx(0.0, abs=0.01)
    assert profile.driver is None
    assert all(d.score == 0 for d in profile.dimensions.values())


def test_split_unit_scores_higher_than_uniform() -> None:
    profile = heterogeneity(split())
    assert profile.index > 0.4
    assert profile.index > heterogeneity(uniform()).index
    assert profile.driver == "interest"


def test_index_is_sum_of_contributions_with_equal_default_weights() -> None:
    profile = heterogeneity(split())
    assert set(profile.dimensions) == set(DIMENSIONS)
    assert all(d.weight == 1.0 for d in profile.dimensions.values())
    total = sum(d.contribution for d in profile.dimensions.values())
    assert profile.index == pytest.approx(total)
    for d in profile.dimensions.values():
        assert d.contribution == pytest.approx(d.score / len(DIMENSIONS))


def test_to_json_shape() -> None:
    data = heterogeneity(split()).to_json()
    json.dumps(data, ensure_ascii=False)
    assert set(data) == {"index", "dimensions", "driver"}
    assert data["index"] == round(data["index"], 3)
    for d in data["dimensions"].values():
        assert set(d) == {
            "score",
            "known",
            "weight",
            "contribution",
            "explanation",
            "explanation_zh",
            "measured",
        }
        assert d["explanation"] and d["explanation_zh"]


def test_summaries_say_unknown_rather_than_contradict_the_facts() -> None:
    # two upper flats support, six were never asked: the summary says six are unknown
    flats = [hh("101", stance=Stance.OPPOSE), hh("102", stance=Stance.OPPOSE)]
    flats += [hh(f"{f}0{d}") for f in range(3, 7) for d in (1, 2)]
    flats[2] = replace(flats[2], stance=Stance.SUPPORT)
    flats[3] = replace(flats[3], stance=Stance.SUPPORT)
    profile = heterogeneity(unit(*flats))
    interest = profile.dimensions["interest"]
    assert "6户尚未问过态度" in interest.explanation_zh
    assert "6 not yet asked" in interest.explanation
    # one household compared, and it cannot afford: a 0.00 split is explained, not contradicted
    poor = unit(hh("501", ability_to_pay_fen=1_000_000, share_fen=3_000_000))
    economic = heterogeneity(poor).dimensions["economic"]
    assert economic.score == 0.0
    assert "全部如此：这是费用障碍" in economic.explanation_zh
    assert "a cost obstacle, not a split" in economic.explanation
    # nothing recorded: unknown, not zero
    blank = heterogeneity(unit(hh("501"))).dimensions["economic"]
    assert not blank.known and "未知" in blank.explanation_zh


def test_driver_is_the_dimension_made_dominant() -> None:
    snap = uniform()
    tech = UnitSnapshot(**{**snap.__dict__, "technical": (TechnicalIssue("structure", 3),)})
    profile = heterogeneity(tech)
    assert profile.driver == "technical"
    assert profile.drivers()[0] == "technical"
    assert profile.dimensions["technical"].score == 1.0
    assert profile.index == pytest.approx(1 / 6)


def test_weights_change_the_driver_and_are_validated() -> None:
    profile = heterogeneity(split(), weights={"interest": 0.0})
    assert profile.driver != "interest"
    assert profile.dimensions["interest"].contribution == 0
    with pytest.raises(BadInput, match="unknown heterogeneity dimension"):
        heterogeneity(split(), weights={"income": 1.0})
    with pytest.raises(BadInput, match="≥ 0"):
        heterogeneity(split(), weights={"interest": -1.0})
    with pytest.raises(BadInput, match="above 0"):
        heterogeneity(split(), weights=dict.fromkeys(DIMENSIONS, 0.0))


# ---------------------------------------------------------------- each dimension


def test_interest_structural_split_raised_by_stance_gap() -> None:
    d = heterogeneity(split()).dimensions["interest"]
    m = d.measured
    assert (m["low_floor"], m["upper_floor"], m["households"]) == (4, 8, 12)
    assert m["structural_split"] == pytest.approx(4 * (1 / 3) * (2 / 3), abs=1e-3)
    assert m["low_mean_support"] == 0.0 and m["upper_mean_support"] == 1.0
    assert m["stance_gap"] == 1.0
    assert d.score == 1.0
    assert m["low_opposing"] == ["101", "102", "201", "202"]
    assert "4 of 12 flats are on floors 1–2 and 4 of them oppose" in d.explanation


def test_interest_without_stances_is_structural_only() -> None:
    snap = unit(hh("101"), hh("301"), hh("401"), hh("501"))
    d = heterogeneity(snap).dimensions["interest"]
    assert d.measured["stance_gap"] is None
    assert d.score == pytest.approx(4 * 0.25 * 0.75)
    assert "stances not yet known" in d.explanation


def test_demographic_need_split_and_unknown_residents() -> None:
    snap = unit(
        hh("101", residents=(ADULT,)),
        hh("201", residents=(Resident("x", mobility=Mobility.WHEELCHAIR),)),
        hh("301", residents=(ELDER,)),
        hh("401", residents=(ADULT,)),
        hh("501"),  # nobody recorded
        hh("601", tenure=Tenure.ABSENTEE),
    )
    m = heterogeneity(snap).dimensions["demographic"].measured
    assert m["households_living"] == 5
    assert m["residents_recorded"] == 4
    assert m["residents_unknown"] == 1
    assert m["with_need"] == 2
    assert m["need_share"] == 0.5
    assert heterogeneity(snap).dimensions["demographic"].score == 1.0


def test_economic_counts_unknown_ability_as_unknown() -> None:
    snap = unit(hh("301"), hh("401"))
    d = heterogeneity(snap).dimensions["economic"]
    assert d.score == 0
    assert d.measured["known"] is False
    assert d.measured["ability_unknown"] == 2
    assert "not recorded" in d.explanation


def test_economic_cannot_afford_and_spread() -> None:
    snap = unit(
        hh("301", ability_to_pay_fen=1_000_000, share_fen=2_000_000),
        hh("401", ability_to_pay_fen=3_000_000, share_fen=2_000_000),
        hh("501", ability_to_pay_fen=3_000_000),
        hh("601"),
    )
    d = heterogeneity(snap).dimensions["economic"]
    m = d.measured
    assert (m["ability_known"], m["ability_unknown"], m["compared"]) == (3, 1, 2)
    assert m["cannot_afford_rooms"] == ["301"]
    assert m["afford_split"] == 1.0
    assert 0 < m["ability_gini"] < 1
    # The full split (1.0) is seen in 3 of 4 flats, so it counts three quarters.
    assert m["coverage"] == 0.75
    assert d.score == 0.75


def test_tenure_entropy() -> None:
    snap = unit(
        hh("101"),
        hh("201", tenure=Tenure.RENTED),
        hh("301", tenure=Tenure.ABSENTEE),
        hh("401", tenure=Tenure.DEVELOPER_UNSOLD),
    )
    d = heterogeneity(snap).dimensions["tenure"]
    assert d.score == pytest.approx(1.0)
    assert d.measured["developer_held"] == 1
    same = heterogeneity(unit(hh("101"), hh("201"))).dimensions["tenure"]
    assert same.score == 0
    assert same.measured["owner_occupied"] == 2


def test_trust_information_counts_unknown_unreached_and_distrust() -> None:
    snap = unit(
        hh("101", stance=Stance.UNKNOWN),
        hh("201", stance=Stance.UNDECIDED, stance_reasons=("distrust",)),
        hh("301", stance=Stance.SUPPORT, tenure=Tenure.ABSENTEE),
        hh("401", stance=Stance.SUPPORT),
        activities=(act(),),  # the whole unit, but it cannot reach the absentee
    )
    d = heterogeneity(snap).dimensions["trust_information"]
    m = d.measured
    assert m["stance_unknown_rooms"] == ["101"]
    assert m["never_reached_rooms"] == ["301"]
    assert m["distrust_rooms"] == ["201"]
    assert d.score == pytest.approx(3 / 4)


def test_technical_no_survey_is_not_called_fine() -> None:
    d = heterogeneity(unit(hh("101"))).dimensions["technical"]
    assert d.score == 0
    assert d.measured["survey_recorded"] is False
    assert "no technical survey recorded" in d.explanation
    snap = unit(hh("101"), technical=(TechnicalIssue("pipes", 2), TechnicalIssue("space", 1)))
    d = heterogeneity(snap).dimensions["technical"]
    assert d.score == pytest.approx(2 / 3)
    assert d.measured["unresolved_kinds"] == ["pipes", "space"]


def test_reach_rules() -> None:
    snap = unit(
        hh("101"),
        hh("201", tenure=Tenure.ABSENTEE),
        hh("301"),
        activities=(act(), act("201", on=date(2025, 7, 1))),  # the second is still to come
    )
    assert reached_rooms(snap) == {"101", "301"}
    snap = unit(hh("101"), hh("201", tenure=Tenure.ABSENTEE), activities=(act("201"),))
    assert reached_rooms(snap) == {"201"}


# ---------------------------------------------------------------- property


STANCES = st.sampled_from(list(Stance))
TENURES = st.sampled_from(list(Tenure))


@st.composite
def snapshots(draw: st.DrawFn) -> UnitSnapshot:
    n = draw(st.integers(0, 14))
    flats = []
    for i in range(n):
        floor = draw(st.integers(1, 9))
        flats.append(
            hh(
                f"{floor}{i:02d}",
                floor,
                tenure=draw(TENURES),
                stance=draw(STANCES),
                stance_reasons=tuple(
                    draw(
                        st.lists(st.sampled_from(["light", "cost", "trust", "rumour"]), max_size=2)
                    )
                ),
                residents=tuple(
                    Resident("r", draw(st.none() | st.sampled_from(list(AgeBand))))
                    for _ in range(draw(st.integers(0, 2)))
                ),
                ability_to_pay_fen=draw(st.none() | st.integers(0, 10_000_000)),
                share_fen=draw(st.none() | st.integers(0, 10_000_000)),
            )
        )
    rooms = [f.room for f in flats]
    targets = st.lists(st.sampled_from(rooms), max_size=3) if rooms else st.just([])
    activities = tuple(act(*draw(targets)) for _ in range(draw(st.integers(0, 3))))
    technical = tuple(
        TechnicalIssue("pipes", draw(st.integers(1, 3)), draw(st.booleans()))
        for _ in range(draw(st.integers(0, 2)))
    )
    return unit(*flats, activities=activities, technical=technical)


@settings(max_examples=150, deadline=None)
@given(snapshots(), st.dictionaries(st.sampled_from(DIMENSIONS), st.floats(0.01, 10)))
def test_index_always_in_unit_interval(snap: UnitSnapshot, weights: dict[str, float]) -> None:
    profile = heterogeneity(snap, weights)
    assert 0.0 <= profile.index <= 1.0
    for d in profile.dimensions.values():
        assert 0.0 <= d.score <= 1.0
        assert 0.0 <= d.contribution <= 1.0
    json.dumps(profile.to_json(), ensure_ascii=False)
    for f in obstacles(snap):
        assert 0.0 <= f.severity <= 1.0


# ---------------------------------------------------------------- obstacles


def kinds(found: list[Finding]) -> list[Obstacle]:
    return [f.kind for f in found]


def test_ground_floor_opposition_is_one_finding_per_household_with_all_reasons() -> None:
    snap = unit(
        hh("101", stance=Stance.OPPOSE, stance_reasons=("light",)),
        hh("102", stance=Stance.LEAN_OPPOSE, stance_reasons=("light", "noise")),
        hh("201", stance=Stance.UNDECIDED),
        hh("202", stance=Stance.OPPOSE),
        hh("601", stance=Stance.SUPPORT),
        objections=(ObjectionView("201", ("privacy",), ObjectionStatus.OPEN),),
        activities=(act(),),
    )
    found = [f for f in obstacles(snap) if f.kind is Obstacle.INTEREST]
    assert [f.households for f in found] == [("101",), ("102",), ("202",)]
    assert [f.reasons for f in found] == [("light",), ("light", "noise"), ("unstated",)]
    # severity still grows with the share of low floors opposed (3 of 4 without an objection)
    assert found[0].severity == pytest.approx(0.4 + 0.6 * 3 / 4)
    assert found[1].message == "102（1层）因采光、噪音反对 / 102 (floor 1) opposes: light, noise"
    assert found[2].message.startswith("202（2层）反对，原因未记录")
    # 201's written objection is its own finding, not an interest one as well
    (objection,) = [f for f in obstacles(snap) if f.kind is Obstacle.OBJECTION]
    assert objection.households == ("201",) and objection.reasons == ("privacy",)


def test_a_two_reason_objection_and_stance_merge_into_one_finding() -> None:
    snap = unit(
        hh("101", stance=Stance.OPPOSE, stance_reasons=("light", "value")),
        hh("601", stance=Stance.SUPPORT),
        objections=(
            ObjectionView("101", ("light", "noise"), ObjectionStatus.NEGOTIATION),
            ObjectionView("101", ("noise",), ObjectionStatus.OPEN),
        ),
        activities=(act(),),
    )
    found = [f for f in obstacles(snap) if f.households == ("101",)]
    assert len(found) == 1
    (f,) = found
    assert f.kind is Obstacle.OBJECTION
    assert f.reasons == ("light", "noise", "value")
    assert f.status is ObjectionStatus.NEGOTIATION
    assert f.message.startswith("101有2份书面异议未解决（采光、噪音、房屋价值；协商中）")


def test_written_objections_one_per_household_with_worst_status_severity() -> None:
    snap = unit(
        hh("101"),
        hh("102"),
        hh("201"),
        objections=(
            ObjectionView("101", ("light",), ObjectionStatus.HEARING),
            ObjectionView("102", ("light",), ObjectionStatus.OPEN),
            ObjectionView("201", ("cost",), ObjectionStatus.NEGOTIATION),
            ObjectionView("201", ("noise",), ObjectionStatus.RESOLVED),
        ),
    )
    found = [f for f in obstacles(snap) if f.kind is Obstacle.OBJECTION]
    assert [f.households for f in found] == [("101",), ("102",), ("201",)]
    assert [f.severity for f in found] == [0.85, 0.6, 0.6]
    assert found[2].reasons == ("cost",)  # the resolved noise objection is history
    assert "hearing" in found[0].message and found[0].status is ObjectionStatus.HEARING
    litigation = unit(
        hh("101"), objections=(ObjectionView("101", ("light",), ObjectionStatus.LITIGATION),)
    )
    assert obstacles(litigation)[0].severity > found[0].severity


def test_absentee_owners_unreached_until_an_activity_names_them() -> None:
    flats = (
        hh("101", stance=Stance.SUPPORT),
        hh("201", tenure=Tenure.ABSENTEE, stance=Stance.SUPPORT),
        hh("301", tenure=Tenure.ABSENTEE, stance=Stance.SUPPORT),
    )
    found = obstacles(unit(*flats, activities=(act(),)))
    tenure = [f for f in found if f.kind is Obstacle.TENURE]
    assert len(tenure) == 1
    assert tenure[0].households == ("201", "301")
    assert tenure[0].message == "2户外地业主未联系上 / 2 absentee owners unreached"
    found = obstacles(unit(*flats, activities=(act(), act("201"))))
    tenure = [f for f in found if f.kind is Obstacle.TENURE]
    assert tenure[0].households == ("301",)
    found = obstacles(unit(*flats, activities=(act("201", "301"),)))
    assert Obstacle.TENURE not in kinds(found)


def test_developer_held_flats_without_vote() -> None:
    snap = unit(
        hh("101", tenure=Tenure.DEVELOPER_UNSOLD, stance=Stance.SUPPORT, owner="dev"),
        hh("102", stance=Stance.SUPPORT),
        activities=(act(),),
    )
    tenure = [f for f in obstacles(snap) if f.kind is Obstacle.TENURE]
    assert tenure[0].households == ("101",)
    assert "developer-held" in tenure[0].message


def test_cost_above_ability_one_finding_per_household() -> None:
    snap = unit(
        hh("501", ability_to_pay_fen=2_000_000, share_fen=3_500_000, stance=Stance.SUPPORT),
        hh("502", ability_to_pay_fen=1_000_000, share_fen=3_500_000, stance=Stance.SUPPORT),
        hh("601", ability_to_pay_fen=5_000_000, share_fen=4_000_000, stance=Stance.SUPPORT),
        hh("401", share_fen=3_000_000, stance=Stance.SUPPORT),  # ability unknown: not counted
        activities=(act(),),
    )
    cost = [f for f in obstacles(snap) if f.kind is Obstacle.COST]
    assert [f.households for f in cost] == [("501",), ("502",)]
    assert cost[0].severity == pytest.approx(0.3 + 0.7 * 2 / 3)
    assert cost[0].reasons == ("cost",)
    assert cost[0].message.startswith("501分摊¥35,000，超出其承受能力¥20,000（缺口¥15,000）")


def test_opposing_over_cost_without_figures_is_a_cost_finding_with_unknown_gap() -> None:
    snap = unit(
        hh("501", stance=Stance.OPPOSE, stance_reasons=("cost",)),
        hh("601", stance=Stance.SUPPORT),
        activities=(act(),),
    )
    (cost,) = [f for f in obstacles(snap) if f.kind is Obstacle.COST]
    assert cost.households == ("501",)
    assert "缺口未知" in cost.message and "gap unknown" in cost.message


def test_never_informed_and_distrust() -> None:
    snap = unit(
        hh("101"),  # unknown, not reached
        hh("201", tenure=Tenure.ABSENTEE),  # unknown, not reached
        hh("301", stance=Stance.LEAN_OPPOSE, stance_reasons=("distrust",)),
        hh("401", stance=Stance.UNKNOWN),
        activities=(act("301", "401"),),
    )
    found = obstacles(snap)
    info = next(f for f in found if f.kind is Obstacle.INFORMATION)
    assert info.households == ("101", "201")
    assert info.message == "2户从未被告知 / 2 households never informed"
    trust = next(f for f in found if f.kind is Obstacle.TRUST)
    assert trust.households == ("301",)


def test_technical_issue_finding() -> None:
    snap = unit(
        hh("101", stance=Stance.SUPPORT),
        technical=(TechnicalIssue("pipes", 3, note="gas riser"), TechnicalIssue("space", 1, True)),
        activities=(act(),),
    )
    tech = [f for f in obstacles(snap) if f.kind is Obstacle.TECHNICAL]
    assert len(tech) == 1
    assert tech[0].severity == 1.0
    assert "pipes" in tech[0].message and "gas riser" in tech[0].message


def test_weak_need() -> None:
    snap = unit(
        hh("101", residents=(ELDER,)),
        hh("401", residents=(ADULT,)),
        hh("501", residents=(ADULT,)),
    )
    need = [f for f in obstacles(snap) if f.kind is Obstacle.NEED]
    assert need and need[0].households == ("401", "501")
    strong = unit(hh("101", residents=(ADULT,)), hh("501", residents=(ELDER,)))
    assert Obstacle.NEED not in kinds(obstacles(strong))
    silent = unit(hh("101"), hh("501"))  # nothing recorded: no claim either way
    assert Obstacle.NEED not in kinds(obstacles(silent))


def votes_unit(agree: int, absent: int) -> UnitSnapshot:
    flats = [hh(f"{i + 1}01", stance=Stance.SUPPORT, vote=Vote.AGREE) for i in range(agree)]
    flats += [hh(f"{agree + i + 1}01", stance=Stance.SUPPORT, vote=None) for i in range(absent)]
    return unit(*flats, activities=(act(),))


def test_consent_short_carries_the_margin_text() -> None:
    snap = votes_unit(agree=6, absent=6)
    legit = [f for f in obstacles(snap) if f.kind is Obstacle.LEGITIMACY]
    assert len(legit) == 1
    f = legit[0]
    assert "Civil Code art. 278" in f.message  # the rule by its title, not its id
    assert "2 more owners taking part needed" in f.message
    assert "尚差2位业主" in f.message
    assert f.households == ("701", "801", "901", "1001", "1101", "1201")
    assert 0.6 < f.severity <= 1.0


def test_consent_reached_or_not_voted_gives_no_legitimacy_finding() -> None:
    assert Obstacle.LEGITIMACY not in kinds(obstacles(votes_unit(agree=12, absent=0)))
    assert Obstacle.LEGITIMACY not in kinds(obstacles(votes_unit(agree=0, absent=4)))


def test_precomputed_consent_is_used() -> None:
    passed = consent_for(votes_unit(agree=12, absent=0))
    assert Obstacle.LEGITIMACY not in kinds(obstacles(votes_unit(agree=6, absent=6), passed))


def test_findings_sorted_and_serializable() -> None:
    found = obstacles(split())
    severities = [f.severity for f in found]
    assert severities == sorted(severities, reverse=True)
    data = [f.to_json() for f in found]
    json.dumps(data, ensure_ascii=False)
    assert set(data[0]) == {"kind", "severity", "households", "message", "reasons", "status"}


def test_a_ballot_counts_as_asked_and_reached() -> None:
    voted = hh("501", vote=Vote.AGREE)
    absent = hh("502", vote=Vote.ABSENT)
    snap = unit(voted, absent, hh("601"))
    assert reached_rooms(snap) == {"501"}
    measured = heterogeneity(snap).dimensions["trust_information"].measured
    assert measured["stance_unknown_rooms"] == ["502", "601"]
    assert measured["never_reached_rooms"] == ["502", "601"]
