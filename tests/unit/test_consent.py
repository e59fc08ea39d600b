"""Consent law: every boundary of the thresholds, the counting of heads and areas, and the profiles."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.errors import BadInput, NotFound
from colift.model import ObjectionStatus, Vote
from colift.rules.consent import (
    Flat,
    Objection,
    available_profiles,
    count_votes,
    decide,
    evaluate,
    evaluate_request,
    load_profile,
    meets,
    parse_profile,
    shortfall,
    verdict,
)

CIVIL = load_profile("cn-civil-code-278")
PROPERTY = load_profile("cn-property-law-76")
CHENGDU = load_profile("chengdu-2018")
M2 = 10_000  # cm² per m²


def flats(votes: str, area_m2: int = 60) -> list[Flat]:
    """One flat per character: a=agree d=disagree s=abstain -=absent; equal areas, own owners."""
    code = {"a": Vote.AGREE, "d": Vote.DISAGREE, "s": Vote.ABSTAIN, "-": Vote.ABSENT}
    return [
        Flat(id=f"f{i}", area_cm2=area_m2 * M2, owner=f"o{i}", vote=code[c])
        for i, c in enumerate(votes)
    ]


# ---------------------------------------------------------------- Civil Code art. 278


def test_exactly_two_thirds_turnout_meets_the_quorum() -> None:
    # 12 owners, 8 take part (exactly 2/3), 6 of them agree (exactly 3/4): 以上 includes the number.
    r = evaluate(CIVIL, flats("aaaaaadd----"))
    assert r.quorum_met is True
    assert r.approval_met is True
    assert r.passed


def test_one_short_of_the_two_thirds_quorum_fails() -> None:
    r = evaluate(CIVIL, flats("aaaaaad-----"))  # 7 of 12 take part
    assert r.quorum_met is False
    assert not r.passed
    heads = next(c for c in r.checks if c.step == "quorum" and c.basis == "heads")
    assert heads.short_by == 1
    assert "1 more owner taking part needed" in " ".join(r.reasons)


def test_at_two_thirds_turnout_half_of_all_owners_can_approve() -> None:
    # domain.md §1: 2/3 turnout × 3/4 approval = 1/2 of all owners.
    r = evaluate(CIVIL, flats("aaaaaass----"))
    assert r.counts.agree_heads == 6 and r.counts.total_heads == 12
    assert r.passed


def test_one_short_of_three_quarters_approval_fails() -> None:
    r = evaluate(CIVIL, flats("aaaaaaddd---"))  # 6 of 9 participating agree = 2/3 < 3/4
    assert r.quorum_met is True
    assert r.approval_met is False
    heads = next(c for c in r.checks if c.step == "approval" and c.basis == "heads")
    assert heads.short_by == 1  # 7 of 9 would pass (7*4 = 28 ≥ 27)


def test_abstention_takes_part_but_does_not_agree() -> None:
    r = evaluate(CIVIL, flats("aaaaaaaas---"))
    assert r.counts.participating_heads == 9
    assert r.counts.agree_heads == 8
    assert r.passed  # 8/9 ≥ 3/4
    r2 = evaluate(CIVIL, flats("aaaaaassss--"))
    assert r2.counts.participating_heads == 10
    assert not r2.approval_met  # 6/10 < 3/4


def test_heads_pass_while_area_fails() -> None:
    # 12 owners all take part; 9 small flats agree (heads 3/4), 3 big flats disagree.
    small = [Flat(f"s{i}", 40 * M2, f"s{i}", Vote.AGREE) for i in range(9)]
    big = [Flat(f"b{i}", 100 * M2, f"b{i}", Vote.DISAGREE) for i in range(3)]
    r = evaluate(CIVIL, small + big)
    kinds = {(c.step, c.basis): c.met for c in r.checks}
    assert kinds[("approval", "heads")] is True
    assert kinds[("approval", "area")] is False  # 360 of 660 m²
    area = next(c for c in r.checks if c.step == "approval" and c.basis == "area")
    assert area.short_by == 660 * M2 * 3 // 4 - 360 * M2  # 135 m² more
    assert not r.passed


def test_area_passes_while_heads_fail() -> None:
    big = [Flat(f"b{i}", 120 * M2, f"b{i}", Vote.AGREE) for i in range(6)]
    small = [Flat(f"s{i}", 20 * M2, f"s{i}", Vote.DISAGREE) for i in range(6)]
    r = evaluate(CIVIL, big + small)
    kinds = {(c.step, c.basis): c.met for c in r.checks}
    assert kinds[("approval", "area")] is True  # 720 of 840 m²
    assert kinds[("approval", "heads")] is False  # 6 of 12 owners
    assert not r.passed


def test_exact_area_boundary_to_the_square_centimetre() -> None:
    # agree area exactly 3/4 of participating passes; one cm² less fails.
    agree = Flat("a", 75 * M2, "a", Vote.AGREE)
    other = Flat("d", 25 * M2, "d", Vote.DISAGREE)
    three = [Flat(f"x{i}", 1, f"x{i}", Vote.AGREE) for i in range(3)]  # tip heads over 3/4
    sub = load_profile("cn-civil-code-278")
    r = evaluate(sub, [agree, other])
    area = next(c for c in r.checks if c.step == "approval" and c.basis == "area")
    assert area.met
    less = dataclasses.replace(agree, area_cm2=75 * M2 - 1)
    r2 = evaluate(sub, [less, dataclasses.replace(other, area_cm2=25 * M2 + 1), *three])
    area2 = next(c for c in r2.checks if c.step == "approval" and c.basis == "area")
    assert not area2.met
    assert area2.short_by >= 1


# ---------------------------------------------------------------- who counts (SPC arts. 8-9)


def test_one_buyer_with_several_flats_is_one_head_with_their_total_area() -> None:
    fl = [
        Flat("501", 60 * M2, "王建华", Vote.AGREE),
        Flat("502", 70 * M2, "王建华", Vote.AGREE),
        Flat("601", 60 * M2, "李秀英", Vote.DISAGREE),
    ]
    c = count_votes(fl)
    assert c.total_heads == 2
    assert c.agree_heads == 1
    assert c.agree_area_cm2 == 130 * M2


def test_one_owner_cannot_vote_two_ways() -> None:
    fl = [Flat("501", 60 * M2, "王建华", Vote.AGREE), Flat("502", 70 * M2, "王建华", Vote.ABSTAIN)]
    with pytest.raises(BadInput, match="one owner casts one vote"):
        count_votes(fl)


def test_developer_held_flats_count_together_as_one_owner() -> None:
    fl = [
        Flat("101", 60 * M2, "开发商甲", Vote.ABSENT, developer_held=True),
        Flat("102", 60 * M2, "开发商乙名下", Vote.ABSENT, developer_held=True),
        Flat("201", 60 * M2, "a", Vote.AGREE),
    ]
    c = count_votes(fl)
    assert c.total_heads == 2
    assert c.total_area_cm2 == 180 * M2
    mixed = [*fl[:1], dataclasses.replace(fl[1], vote=Vote.AGREE), fl[2]]
    with pytest.raises(BadInput, match="the developer"):
        count_votes(mixed)


def test_a_unit_where_nobody_voted_fails_every_check() -> None:
    r = evaluate(CIVIL, flats("------------"))
    assert not r.passed
    assert all(not c.met for c in r.checks)


# ---------------------------------------------------------------- other rules


def test_property_law_76_counts_agreement_over_all_owners() -> None:
    r = evaluate(PROPERTY, flats("aaaaaaaa----"))
    assert r.quorum_met is None
    assert r.passed  # 8 of 12 = 2/3 of all
    assert not evaluate(PROPERTY, flats("aaaaaaa-----")).passed


@pytest.mark.parametrize(
    ("status", "blocks"),
    [
        (ObjectionStatus.OPEN, True),
        (ObjectionStatus.NEGOTIATION, True),
        (ObjectionStatus.MEDIATION, True),
        (ObjectionStatus.HEARING, True),
        (ObjectionStatus.LITIGATION, True),
        (ObjectionStatus.WITHDRAWN, False),
        (ObjectionStatus.RESOLVED, False),
        (ObjectionStatus.OVERRULED, False),
    ],
)
def test_objection_states_under_a_no_objection_rule(status: ObjectionStatus, blocks: bool) -> None:
    fl = flats("aaaaaaaaaaad")
    r = evaluate(CHENGDU, fl, objections=[Objection("f11", status)])
    assert r.passed is (not blocks)
    assert r.approval_met  # the thresholds are met either way
    if blocks:
        assert any("objection by f11" in reason for reason in r.reasons)
    # The national rule has no objection clause: the same objection never blocks it.
    assert evaluate(CIVIL, fl, objections=[Objection("f11", status)]).passed


def test_occupied_flat_owner_must_agree_where_the_rule_says_so() -> None:
    fl = flats("daaaaaaaaaaa")
    assert not evaluate(CHENGDU, fl, occupied=["f0"]).passed
    assert evaluate(CHENGDU, fl, occupied=["f1"]).passed
    # The national default too (Civil Code art. 272): the occupied owner's refusal fails it.
    refused = evaluate(CIVIL, fl, occupied=["f0"])
    assert not refused.passed and refused.quorum_met and refused.approval_met
    assert any("f0" in reason for reason in refused.reasons)
    assert evaluate(CIVIL, fl, occupied=["f1"]).passed
    # A rule that does not ask for it (the repealed Property Law) lets it pass.
    assert evaluate(PROPERTY, flats("daaaaaaaaaaa"), occupied=["f0"]).passed


def test_exclusive_operator_chao_guo_does_not_include_the_number() -> None:
    data = {
        "id": "strict",
        "name_zh": "超过三分之二",
        "name_en": "more than two-thirds",
        "approval": {"of": "total", "area": "2/3", "heads": "2/3", "operator": "超过"},
        "sources": [{"title": "a test rule", "confidence": "assumption"}],
    }
    strict = parse_profile(data)
    assert not evaluate(strict, flats("aaaaaaaa----")).passed  # exactly 2/3
    assert evaluate(strict, flats("aaaaaaaaa---")).passed


def test_meets_and_shortfall_are_exact() -> None:
    assert meets(2, 3, Fraction(2, 3), inclusive=True)
    assert not meets(2, 3, Fraction(2, 3), inclusive=False)
    assert shortfall(1, 3, Fraction(2, 3), inclusive=True) == 1
    assert shortfall(2, 3, Fraction(2, 3), inclusive=False) == 1
    assert shortfall(0, 12, Fraction(3, 4), inclusive=True) == 9


def test_every_profile_loads_and_carries_a_source() -> None:
    names = available_profiles()
    for required in (
        "cn-civil-code-278",
        "cn-property-law-76",
        "chengdu-2018",
        "beijing-2020",
        "shanghai-2019",
        "wuxi-2022",
    ):
        assert required in names
    for name in names:
        p = load_profile(name)
        assert p.id == name
        assert p.sources, f"{name} has no source"
        assert p.notice_days > 0


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match="cn-civil-code-278"):
        load_profile("atlantis")


# ---------------------------------------------------------------- the JSON contract


def _request(**extra: object) -> dict[str, object]:
    hh = [
        {"id": f"{f}0{d}", "floor": f, "area_m2": "56.30", "owner": f"O{f}{d}", "vote": "agree"}
        for f in range(1, 7)
        for d in (1, 2)
    ]
    return {"rule": "cn-civil-code-278", "households": hh, **extra}


def test_contract_output_keys_and_decimal_strings() -> None:
    out = evaluate_request(_request())
    for key in ("passed", "quorum_met", "approval_met", "reasons"):
        assert key in out
    assert out["total_area"] == "675.60"
    assert out["agree_area"] == "675.60"
    assert out["total_heads"] == 12
    assert out["passed"] is True


def test_contract_reads_objections_and_occupied() -> None:
    req = _request(rule="chengdu-2018", objections=[{"household": "101", "status": "open"}])
    out = evaluate_request(req)
    assert out["passed"] is False
    assert out["quorum_met"] is None
    assert out["unresolved_objections"] == ["101"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["households"][0].update(vote="maybe"), "unknown vote"),
        (lambda r: r["households"][0].update(area_m2="-5"), "positive"),
        (lambda r: r["households"][0].update(area_m2="abc"), "not a number"),
        (lambda r: r.update(rule="atlantis"), "unknown consent rule"),
        (lambda r: r["households"][1].update(owner="O11", vote="disagree"), "one vote"),
        (lambda r: r.update(households=[]), "non-empty"),
        (
            lambda r: r.update(objections=[{"household": "999", "status": "open"}]),
            "not in the list",
        ),
        (
            lambda r: r.update(objections=[{"household": "101", "status": "??"}]),
            "unknown objection",
        ),
    ],
)
def test_contract_bad_input_is_one_clear_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    req = _request()
    mutate(req)
    with pytest.raises(BadInput, match=message):
        evaluate_request(req)


# ---------------------------------------------------------------- properties

VOTES = st.sampled_from(list(Vote))


@st.composite
def unit_flats(draw: st.DrawFn) -> list[Flat]:
    n = draw(st.integers(min_value=1, max_value=16))
    owners = draw(st.lists(st.integers(0, n), min_size=n, max_size=n))
    owner_votes = {o: draw(VOTES) for o in set(owners)}
    dev_vote = draw(VOTES)
    out = []
    for i, o in enumerate(owners):
        dev = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
        out.append(
            Flat(
                id=f"h{i}",
                area_cm2=draw(st.integers(min_value=1, max_value=200 * M2)),
                owner=f"o{o}",
                vote=dev_vote if dev else owner_votes[o],
                developer_held=dev,
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(unit_flats(), st.randoms(use_true_random=False), st.sampled_from(available_profiles()))
def test_verdict_never_changes_when_flats_are_reordered(fl: list[Flat], rnd, name: str) -> None:  # type: ignore[no-untyped-def]
    profile = load_profile(name)
    objections = [Objection(fl[0].id, ObjectionStatus.OPEN)]
    occupied = [fl[-1].id]
    before = evaluate(profile, fl, objections, occupied)
    shuffled = list(fl)
    rnd.shuffle(shuffled)
    after = evaluate(profile, shuffled, objections, occupied)
    assert before.passed == after.passed
    assert before.counts == after.counts
    assert before.to_json() == after.to_json()


@settings(max_examples=300, deadline=None)
@given(unit_flats(), st.sampled_from(available_profiles()))
def test_fast_verdict_agrees_with_the_explained_decision(fl: list[Flat], name: str) -> None:
    profile = load_profile(name)
    counts = count_votes(fl, [Objection(fl[0].id, ObjectionStatus.MEDIATION)], [fl[-1].id])
    result = decide(profile, counts)
    assert verdict(profile, counts) == result.passed
    assert result.passed == (not result.reasons)
    for check in result.checks:
        assert check.met == (check.short_by == 0)
