"""The simulation's arrays agree with the rules: the vectorized tally with `rules.consent`, the
vectorized shares with `rules.costshare`, and a snapshot converts to a unit spec."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.coproduction.snapshot import (
    HouseholdView,
    Leader,
    ObjectionView,
    Resident,
    UnitSnapshot,
)
from colift.model import AgeBand, Mobility, ObjectionStatus, Role, Tenure, Vote
from colift.model.coproduction import Stage, Stance, TechnicalIssue
from colift.rules.consent import (
    Flat,
    Objection,
    available_profiles,
    count_votes,
    decide,
    load_profile,
)
from colift.rules.costshare import evaluate_request
from colift.sim import (
    VOTE_CODES,
    HouseholdSpec,
    Scenario,
    UnitBatch,
    UnitSpec,
    tally,
    tally_counts,
    unit_spec_from_snapshot,
)
from colift.sim.batch import _m2_text

PROFILES = available_profiles()
VOTES = (Vote.AGREE, Vote.DISAGREE, Vote.ABSTAIN, Vote.ABSENT)
TENURES = (
    Tenure.OWNER_OCCUPIED,
    Tenure.RENTED,
    Tenure.ABSENTEE,
    Tenure.DEVELOPER_UNSOLD,
    Tenure.DEVELOPER_UNDELIVERED,
)
UNRESOLVED = (ObjectionStatus.OPEN, ObjectionStatus.MEDIATION, ObjectionStatus.LITIGATION)
# Equal shares: a random unit may have ground floors only, which pay nothing under floor schemes.
EQUAL = Scenario(scheme={"kind": "equal"})


def random_unit(
    rng: np.random.Generator, label: str
) -> tuple[UnitSpec, list[Objection], list[str]]:
    """A unit with shared owners, developer flats, occupied flats and open objections."""
    n = int(rng.integers(1, 15))
    owners = [f"o{int(k)}" for k in rng.integers(0, max(1, n - 1), size=n)]  # some share
    tenure = [TENURES[int(k)] for k in rng.choice(5, size=n, p=[0.55, 0.15, 0.15, 0.1, 0.05])]
    owner_vote = {o: VOTES[int(rng.integers(0, 4))] for o in set(owners)}
    developer_vote = VOTES[int(rng.integers(0, 4))]
    households = []
    for i in range(n):
        vote = developer_vote if tenure[i].developer_held else owner_vote[owners[i]]
        households.append(
            HouseholdSpec(
                room=f"r{i}",
                floor=int(rng.integers(1, 8)),
                # Small areas make exact thresholds (ties) common.
                area_cm2=int(
                    rng.choice([10_000, 20_000, 30_000, int(rng.integers(10_000, 2_000_000))])
                ),
                owner=owners[i],
                tenure=tenure[i],
                vote=vote,
                occupied=bool(rng.random() < 0.15),
            )
        )
    objections = [
        Objection(h.room, UNRESOLVED[int(rng.integers(0, 3))])
        for h in households
        if rng.random() < 0.08
    ]
    occupied = [h.room for h in households if h.occupied]
    return UnitSpec(label, tuple(households), storeys=7), objections, occupied


def scalar_passed(
    spec: UnitSpec, objections: list[Objection], occupied: list[str], profile: str
) -> tuple[bool, dict[str, int]]:
    flats = [
        Flat(h.room, h.area_cm2, h.owner, h.vote or Vote.ABSENT, h.tenure.developer_held, h.floor)
        for h in spec.households
    ]
    counts = count_votes(flats, objections, occupied)
    result = decide(load_profile(profile), counts)
    return result.passed, {
        "total_area_cm2": counts.total_area_cm2,
        "participating_area_cm2": counts.participating_area_cm2,
        "agree_area_cm2": counts.agree_area_cm2,
        "total_heads": counts.total_heads,
        "participating_heads": counts.participating_heads,
        "agree_heads": counts.agree_heads,
        "occupied_not_agreeing": len(counts.occupied_not_agreeing),
    }


def vote_array(batch: UnitBatch) -> np.ndarray:
    return np.where(batch.vote >= 0, batch.vote, VOTE_CODES[Vote.ABSENT]).astype(np.int8)


def test_vectorized_tally_equals_count_votes_and_decide_on_thousands_of_units() -> None:
    rng = np.random.default_rng(20240601)
    units = [random_unit(rng, f"u{i}") for i in range(3000)]
    specs = [u[0] for u in units]
    batch = UnitBatch.from_specs(specs, EQUAL)
    votes = vote_array(batch)
    n_objections = np.array([len(u[1]) for u in units])
    passed_somewhere = 0
    for profile in PROFILES:
        b = batch.with_consent_profile(profile)
        vec = tally(b, votes, n_objections)
        counts = tally_counts(b, votes)
        for i, (spec, objections, occupied) in enumerate(units):
            ok, expected = scalar_passed(spec, objections, occupied, profile)
            assert vec[i] == ok, (profile, spec)
            for key, value in expected.items():
                assert counts[key][i] == value, (profile, key, spec)
        passed_somewhere += int(vec.sum())
    assert passed_somewhere > 100  # the cases are not all failures


@st.composite
def unit_votes(draw: st.DrawFn) -> tuple[UnitSpec, list[Objection], list[str]]:
    n = draw(st.integers(1, 10))
    owners = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=n, max_size=n))
    tenures = draw(st.lists(st.sampled_from(TENURES), min_size=n, max_size=n))
    by_owner = {o: draw(st.sampled_from(VOTES)) for o in sorted(set(owners))}
    dev_vote = draw(st.sampled_from(VOTES))
    areas = draw(st.lists(st.integers(10_000, 300_000), min_size=n, max_size=n))
    occupied = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    households = tuple(
        HouseholdSpec(
            room=f"r{i}",
            floor=1 + i % 6,
            area_cm2=areas[i],
            owner=owners[i],
            tenure=tenures[i],
            vote=dev_vote if tenures[i].developer_held else by_owner[owners[i]],
            occupied=occupied[i],
        )
        for i in range(n)
    )
    objectors = draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True))
    objections = [Objection(f"r{i}", ObjectionStatus.OPEN) for i in objectors]
    return UnitSpec("h", households), objections, [h.room for h in households if h.occupied]


@settings(max_examples=150, deadline=None)
@given(unit_votes())
def test_tally_property(case: tuple[UnitSpec, list[Objection], list[str]]) -> None:
    spec, objections, occupied = case
    batch = UnitBatch.from_specs([spec], EQUAL)
    votes = vote_array(batch)
    for profile in PROFILES:
        vec = tally(batch.with_consent_profile(profile), votes, np.array([len(objections)]))
        assert bool(vec[0]) == scalar_passed(spec, objections, occupied, profile)[0]


def test_tally_on_rows_matches_the_whole_batch() -> None:
    rng = np.random.default_rng(3)
    specs = [random_unit(rng, f"u{i}")[0] for i in range(200)]
    batch = UnitBatch.from_specs(specs, EQUAL)
    votes = vote_array(batch)
    rows = np.arange(0, 200, 3)
    assert np.array_equal(tally(batch, votes)[rows], tally(batch, votes[rows], rows=rows))


# ---------------------------------------------------------------- cost shares


@pytest.mark.parametrize(
    ("subsidy", "compensation"),
    [(None, 0), ("shanghai", 0), ("hefei", 1_500_000), (None, 2_000_000)],
)
def test_vectorized_shares_equal_costshare_to_the_fen(
    subsidy: str | None, compensation: int
) -> None:
    scenario = Scenario(
        subsidy_profile=subsidy, compensation_fen=compensation, total_cost_fen=52_345_678
    )
    batch = UnitBatch.synthetic(150, scenario, np.random.default_rng(11), storeys=(4, 5, 6, 7, 9))
    for u in range(batch.n_units):
        idx = np.flatnonzero(batch.mask[u])
        request: dict[str, object] = {
            "total_fen": scenario.total_cost_fen,
            "scheme": dict(scenario.scheme),
            "households": [
                {
                    "id": f"h{i}",
                    "floor": int(batch.floor[u, i]),
                    "area_m2": _m2_text(int(batch.area_cm2[u, i])),
                }
                for i in idx
            ],
        }
        if subsidy:
            request["subsidy_profile"] = subsidy
            request["storeys"] = int(batch.storeys[u])
        if compensation:
            request["compensation"] = [{"floors": [1], "fen_each": compensation}]
        out = evaluate_request(request)
        assert out["payable_fen"] == batch.payable_fen[u]
        assert out["subsidy_fen"] == batch.subsidy_fen[u]
        exact = [s["fen"] for s in out["shares"]]  # type: ignore[attr-defined]
        assert batch.share_fen[u, idx].tolist() == exact  # to the fen, rounding and all


def test_from_specs_takes_its_shares_from_costshare() -> None:
    spec = UnitSpec(
        "1-1",
        tuple(
            HouseholdSpec(f"{f}0{k}", f, 600_000 + 1_234 * k, f"o{f}{k}")
            for f in range(1, 7)
            for k in (1, 2)
        ),
    )
    scenario = Scenario(subsidy_profile="shanghai", compensation_fen=500_000)
    batch = UnitBatch.from_specs([spec], scenario)
    request = {
        "total_fen": scenario.total_cost_fen,
        "scheme": dict(scenario.scheme),
        "households": [
            {"id": h.room, "floor": h.floor, "area_m2": _m2_text(h.area_cm2)}
            for h in spec.households
        ],
        "subsidy_profile": "shanghai",
        "storeys": 6,
        "compensation": [{"floors": [1], "fen_each": 500_000}],
    }
    out = evaluate_request(request)
    assert [s["fen"] for s in out["shares"]] == batch.share_fen[0].tolist()  # type: ignore[attr-defined]
    assert batch.payable_fen[0] == out["payable_fen"]


# ---------------------------------------------------------------- snapshots and batches


def test_unit_spec_from_snapshot_reads_people_stances_leaders_and_objections() -> None:
    elder = Resident("elder", AgeBand.AGE_80_PLUS, Mobility.REDUCED, party_member=True)
    households = (
        HouseholdView("101", 1, Decimal("62.5"), "o101", stance=Stance.OPPOSE),
        HouseholdView("102", 1, Decimal("58"), "o102", tenure=Tenure.ABSENTEE),
        HouseholdView(
            "601",
            6,
            Decimal("70.25"),
            "o601",
            residents=(elder,),
            stance=Stance.SUPPORT,
            vote=Vote.AGREE,
            ability_to_pay_fen=9_000_000,
        ),
        HouseholdView("602", 6, Decimal("70"), "o601"),
    )
    snapshot = UnitSnapshot(
        label="3-1",
        households=households,
        today=date(2025, 6, 1),
        storeys=6,
        stage=Stage.NOTICE,
        objections=(ObjectionView("101", ("light",), ObjectionStatus.MEDIATION),),
        leaders=(
            Leader("leader A", Role.ACTION_LEADER, room="601"),
            Leader("branch office", Role.COORDINATOR, scope="compound"),
        ),
        technical=(TechnicalIssue("pipes", 3),),
        occupied=("101",),
    )
    spec = unit_spec_from_snapshot(snapshot)
    h101, h102, h601, _ = spec.households
    assert h101.area_cm2 == 625_000 and h101.support == 0.0 and h101.occupied
    assert h101.objection is ObjectionStatus.MEDIATION
    assert h102.tenure is Tenure.ABSENTEE and h102.support is None
    assert h601.elderly and h601.need and h601.party and h601.leader
    assert h601.vote is Vote.AGREE and h601.ability_fen == 9_000_000
    assert spec.leaders == frozenset({Role.ACTION_LEADER, Role.COORDINATOR})
    assert spec.technical_block is True and spec.stage is Stage.NOTICE
    batch = UnitBatch.from_specs([spec], Scenario())
    assert batch.lead[0].tolist() == [0, 1, 2, 2]  # 601 and 602 have one owner
    assert batch.objection[0, 0] == 2 and batch.phase0[0] == 1


def test_synthetic_batch_shapes_and_distributions() -> None:
    scenario = Scenario()
    batch = UnitBatch.synthetic(
        20_000, scenario, np.random.default_rng(5), storeys=(5, 7), storey_weights=(1, 3)
    )
    n = batch.n_households
    assert batch.width == 14
    assert abs((batch.storeys == 7).mean() - 0.75) < 0.02
    tenure = batch.tenure[batch.mask]
    for code, share in enumerate(scenario.defaults.tenure_shares):
        assert abs((tenure == code).mean() - share) < 0.01
    assert abs(batch.elderly[batch.mask].mean() - 0.35) < 0.01
    area_m2 = batch.area_cm2[batch.mask] / 10_000
    assert area_m2.min() >= 45 and area_m2.max() <= 90
    second = (~batch.is_lead & batch.mask & ~batch.developer).sum() / n
    assert 0.01 < second < 0.04  # about 3 % of flats belong to an owner of two
    assert (batch.leader.sum(axis=1) <= 1).all()
    assert batch.select(np.arange(10)).n_units == 10


def test_concatenate_pads_and_keeps_each_unit() -> None:
    scenario = Scenario()
    low = UnitBatch.synthetic(30, scenario, np.random.default_rng(1), storeys=(4,))
    high = UnitBatch.synthetic(20, scenario, np.random.default_rng(2), storeys=(7,))
    both = UnitBatch.concatenate([low, high])
    assert both.n_units == 50 and both.width == 14
    assert both.n_households == low.n_households + high.n_households
    assert np.array_equal(both.area_cm2[:30, :8], low.area_cm2)
    assert np.array_equal(both.lead[30:], high.lead)
    assert not both.mask[:30, 8:].any()
    assert np.array_equal(both.share_fen[30:], high.share_fen)
    votes = np.zeros(both.mask.shape, np.int8)  # everyone agrees
    assert tally(both, votes).all()
