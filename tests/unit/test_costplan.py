"""Typed cost plans: parsed once with bounded numbers, split by `split_plan`, art. 283 as the
default, and every funding lever to the fen."""

from __future__ import annotations

import time

import pytest

from colift.errors import BadInput
from colift.rules.costshare import (
    CostPlan,
    LeverKind,
    evaluate_request,
    lever_rules,
    parse_households,
    parse_plan,
    plan_to_json,
    split_plan,
)

FLATS = parse_households(
    [{"id": f"{f}0{d}", "floor": f, "area_m2": "60"} for f in range(1, 7) for d in (1, 2)]
)
SCHEME = {
    "kind": "floor-coefficient",
    "coefficients": {"1": "0", "2": "0.5", "3": "1", "4": "1", "5": "1", "6": "1"},
}


def plan(**extra: object) -> CostPlan:
    return parse_plan({"total_fen": 45_000_000, "scheme": SCHEME, **extra})


def test_a_plan_round_trips_through_its_stored_form() -> None:
    p = plan(
        subsidy_profile="jinan",
        compensation=[{"floors": [1], "fen_each": 300_000, "reason": "采光"}],
        running={"annual_fen": 540_000, "kind": "maintenance"},
        schedule=[{"name": "定金", "percent": "30"}, {"name": "验收后", "percent": "70"}],
        funding=[{"household": "601", "kind": "provident_fund", "fen": 1_000_000}],
        name="2栋1单元",
    )
    assert parse_plan(plan_to_json(p)) == p
    assert split_plan(parse_plan(plan_to_json(p)), FLATS, storeys=6) == split_plan(
        p, FLATS, storeys=6
    )


def test_without_an_agreed_scheme_the_split_is_by_exclusive_area() -> None:
    flats = parse_households(
        [{"id": "101", "floor": 1, "area_m2": "50"}, {"id": "201", "floor": 2, "area_m2": "100"}]
    )
    result = split_plan(parse_plan({"total_fen": 300_000}), flats)
    assert result.default_split
    assert [line.fen for line in result.lines] == [100_000, 200_000]
    assert "Civil Code art. 283" in result.explanation[0]
    out = evaluate_request(
        {
            "total_fen": 300_000,
            "households": [
                {"id": "101", "floor": 1, "area_m2": "50"},
                {"id": "201", "floor": 2, "area_m2": "100"},
            ],
        }
    )
    assert out["scheme"].startswith("area (Civil Code art. 283")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"total_fen": 10_000_000_001}, "more than ¥100,000,000"),
        ({"total_fen": 1, "scheme": {"kind": "floor-coefficient", "coefficients": {"3": "1e3000000"}}}, "not a plain number"),
        ({"total_fen": 1, "scheme": {"kind": "floor-coefficient", "coefficients": {"3": "9" * 40}}}, "at most 32 characters"),
        ({"total_fen": 1, "scheme": {"kind": "floor-coefficient", "coefficients": {"3": "101"}}}, "not a sane coefficient"),
        ({"total_fen": 1, "scheme": {"kind": "floor-coefficient", "coefficients": {"3": "-1"}}}, "must not be negative"),
        ({"total_fen": 1, "funding": [{"household": "601", "kind": "lottery", "fen": 1}]}, "kind 'lottery' must be one of"),
        ({"total_fen": 1, "funding": [{"household": "601", "kind": "covered", "fen": 1}]}, "by must name who pays"),
        ({"total_fen": 1, "funding": [{"household": "601", "kind": "instalments", "count": 0}]}, "from 1 to 120"),
        ({"total_fen": 1, "fundng": []}, "unknown field 'fundng'"),
    ],
)  # fmt: skip
def test_numbers_are_bounded_while_parsing(data: dict[str, object], message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(BadInput, match=message):
        parse_plan(data)
    assert time.perf_counter() - started < 1  # refused before any costly parse


def test_areas_are_those_of_flats() -> None:
    for bad in ("0.5", "1000.01", "1" * 40):
        with pytest.raises(BadInput, match="area_m2"):
            parse_households([{"id": "101", "floor": 1, "area_m2": bad}])
    assert parse_households([{"id": "101", "floor": 1, "area_m2": "1000"}])[0].area_m2 == 1000


def _split(**extra: object):  # type: ignore[no-untyped-def]
    return split_plan(plan(**extra), FLATS)


def _line(result, room: str):  # type: ignore[no-untyped-def]
    return next(line for line in result.lines if line.id == room)


def test_each_funding_lever_to_the_fen() -> None:
    base = _line(_split(), "601")
    share = base.net_fen
    assert share == 5_000_000  # ¥450,000 over 9 full shares (two 2F flats at half), one share
    result = _split(
        funding=[
            {"household": "601", "kind": "provident_fund", "fen": 1_200_000},
            {"household": "601", "kind": "maintenance_fund", "fen": 800_000},
            {"household": "601", "kind": "covered", "fen": 500_000, "by": "女儿（住602）"},
            {"household": "601", "kind": "hardship_relief", "fen": 300_000, "by": "街道困难帮扶"},
            {"household": "601", "kind": "instalments", "count": 3, "now_fen": 1_000_001},
        ]
    )
    f = _line(result, "601").funding
    assert f is not None and f.net_fen == share
    assert [(s.kind, s.fen, s.when) for s in f.sources] == [
        (LeverKind.PROVIDENT_FUND, 1_200_000, "later"),
        (LeverKind.MAINTENANCE_FUND, 800_000, "now"),
        (LeverKind.COVERED, 500_000, "now"),
        (LeverKind.HARDSHIP_RELIEF, 300_000, "now"),
    ]
    own = share - 2_800_000
    assert f.pays_now_fen == 1_000_001
    assert f.pays_later_fen == own - 1_000_001 == 1_199_999
    assert f.later_instalments == (400_000, 400_000, 399_999)  # add up to the fen
    assert f.pays_now_fen + f.pays_later_fen + sum(s.fen for s in f.sources) == share
    # The other flats' shares do not move.
    assert [line.fen for line in result.lines] == [line.fen for line in _split().lines]
    totals = result.funding_totals
    assert totals["provident_fund"] == 1_200_000 and totals["later"] == 1_199_999
    assert sum(totals.values()) == result.payable_fen


@pytest.mark.parametrize(
    "kind", ["provident_fund", "maintenance_fund", "covered", "hardship_relief"]
)
def test_one_lever_alone_leaves_the_rest_to_pay_now(kind: str) -> None:
    lever = {"household": "502", "kind": kind, "fen": 123_456}
    if kind in ("covered", "hardship_relief"):
        lever["by"] = "某某"
    f = _line(_split(funding=[lever]), "502").funding
    assert f is not None
    assert f.sources[0].fen == 123_456
    assert f.pays_now_fen == f.net_fen - 123_456 and f.pays_later_fen == 0


def test_levers_are_refused_beyond_the_share_or_for_a_stranger() -> None:
    with pytest.raises(BadInput, match="more than its share"):
        _split(funding=[{"household": "601", "kind": "provident_fund", "fen": 9_000_000}])
    with pytest.raises(BadInput, match="household 999 is not in the households"):
        _split(funding=[{"household": "999", "kind": "provident_fund", "fen": 1}])
    with pytest.raises(BadInput, match="pays nothing"):
        _split(funding=[{"household": "101", "kind": "provident_fund", "fen": 1}])


def test_every_lever_has_its_rule_and_source() -> None:
    rules = lever_rules()
    assert set(rules) == set(LeverKind)
    for rule in rules.values():
        assert rule.rule_zh and rule.rule_en and rule.source
        assert rule.confidence in ("confirmed", "secondary", "assumption")
        assert rule.when in ("now", "later")
    assert "第二百八十一条" in rules[LeverKind.MAINTENANCE_FUND].rule_zh


def test_the_beijing_split_of_a_unit() -> None:
    # ¥650,000 with ¥150,000 pipeline work: the city pays ¥240,000 + ¥150,000; the owners of
    # 2F-6F share ¥260,000 (2F at half weight): ¥260,000 / 9 per full share.
    result = split_plan(
        plan(subsidy_profile="beijing", pipeline_fen=15_000_000, total_fen=65_000_000),
        FLATS,
        storeys=6,
    )
    assert result.subsidy_fen == 39_000_000
    assert result.payable_fen == 26_000_000
    assert sum(line.fen for line in result.lines) == 26_000_000
    assert _line(result, "601").fen in (2_888_888, 2_888_889)
    assert _line(result, "101").fen == 0
