"""Cost sharing: largest-remainder apportionment, schemes, compensation, schedules, JSON."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.errors import BadInput
from colift.rules.costshare import (
    SCHEDULE_30_50_20,
    Compensation,
    CostScheme,
    PaymentSchedule,
    RunningCost,
    ShareInput,
    apportion,
    evaluate_request,
    share_costs,
)

GUANGZHOU = {3: Fraction(7, 10), 4: Fraction(8, 10), 5: Fraction(9, 10), 6: Fraction(1)}


def unit(floors: int = 6, areas: tuple[str, str] = ("56.30", "62.15")) -> list[ShareInput]:
    """A stairwell with two flats a floor: x01 and x02."""
    return [
        ShareInput(f"{f}0{i + 1}", f, Decimal(area))
        for f in range(1, floors + 1)
        for i, area in enumerate(areas)
    ]


def request(**changes: Any) -> dict[str, object]:
    base: dict[str, object] = {
        "total_fen": 45000000,
        "subsidy_fen": 0,
        "scheme": {
            "kind": "floor-coefficient",
            "coefficients": {"1": "0", "2": "0", "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0"},
            "area_weighted": True,
        },
        "households": [{"id": h.id, "floor": h.floor, "area_m2": str(h.area_m2)} for h in unit()],
    }
    base.update(changes)
    return base


# --- apportion -----------------------------------------------------------------------------


def test_apportion_splits_exactly_and_breaks_ties_by_position() -> None:
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(100, [1, 1, 1], tie_break=["c", "b", "a"]) == [33, 33, 34]


def test_apportion_gives_leftover_fen_to_largest_remainders() -> None:
    # Exact shares 10/7·{1,2,4} = 1.43, 2.86, 5.71: floors 1+2+5 = 8, the 2 fen go to .86 and .71.
    assert apportion(10, [1, 2, 4]) == [1, 3, 6]


def test_apportion_zero_amount_and_zero_weights() -> None:
    assert apportion(0, [0, 0]) == [0, 0]
    assert apportion(0, [1, 2]) == [0, 0]
    assert apportion(5, [0, 3, 0]) == [0, 5, 0]


@pytest.mark.parametrize(
    ("amount", "weights", "tie_break"),
    [(-1, [1], None), (5, [0, 0], None), (5, [1, -1], None), (5, [1, 1], ["a"])],
)
def test_apportion_rejects_misuse(amount: int, weights: list[int], tie_break: Any) -> None:
    with pytest.raises(ValueError):
        apportion(amount, weights, tie_break)


weights_strategy = st.lists(
    st.one_of(
        st.just(Fraction(0)),
        st.fractions(min_value=0, max_value=1000, max_denominator=10_000),
        st.integers(min_value=0, max_value=10**6).map(Fraction),
    ),
    min_size=1,
    max_size=40,
).filter(lambda ws: any(ws))


@given(amount=st.integers(min_value=0, max_value=10**11), weights=weights_strategy)
def test_apportion_properties(amount: int, weights: list[Fraction]) -> None:
    shares = apportion(amount, weights)
    total = sum(weights)
    assert sum(shares) == amount
    for share, weight in zip(shares, weights, strict=True):
        exact = amount * weight / total
        assert abs(share - exact) < 1
        if weight == 0:
            assert share == 0


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    weights=weights_strategy,
    data=st.data(),
)
def test_apportion_with_keys_ignores_input_order(
    amount: int, weights: list[Fraction], data: st.DataObject
) -> None:
    keys = [f"h{i:03d}" for i in range(len(weights))]
    order = data.draw(st.permutations(range(len(weights))))
    first = dict(zip(keys, apportion(amount, weights, keys), strict=True))
    shuffled_keys = [keys[i] for i in order]
    shuffled = apportion(amount, [weights[i] for i in order], shuffled_keys)
    assert dict(zip(shuffled_keys, shuffled, strict=True)) == first


# --- schemes -------------------------------------------------------------------------------


def test_guangzhou_dongpu_lijiang_equal_areas_gives_round_figures() -> None:
    # Floors 1–2 pay nothing; 3F..6F at 0.7..1.0 of ¥50,000 when all flats have the same area.
    scheme = CostScheme("floor-coefficient", {1: Fraction(0), 2: Fraction(0), **GUANGZHOU})
    result = share_costs(unit(areas=("60", "60")), 34000000, scheme)
    by_floor = {line.floor: line.fen for line in result.lines}
    assert by_floor == {1: 0, 2: 0, 3: 3500000, 4: 4000000, 5: 4500000, 6: 5000000}
    assert result.payable_fen == sum(result.by_id().values()) == 34000000


def test_guangzhou_formula_coefficient_times_area() -> None:
    scheme = CostScheme("floor-coefficient", GUANGZHOU, exempt_floors=frozenset({1, 2}))
    households = unit()
    result = share_costs(households, 45000000, scheme)
    total_weight = sum(GUANGZHOU.get(h.floor, 0) * Fraction(h.area_m2 or 0) for h in households)
    for line in result.lines:
        coefficient = GUANGZHOU.get(line.floor, Fraction(0))
        expected = coefficient * Fraction(line.area_m2 or 0) * 45000000 / total_weight
        assert line.exact == expected
        assert abs(line.fen - expected) < 1
    assert sum(line.fen for line in result.lines) == 45000000
    assert result.by_id()["301"] == 4403571  # remainder .63, one of the three largest
    assert result.by_id()["602"] == 6944479  # remainder .93
    assert result.by_id()["302"] == 4861135  # remainder .25 gets no spare fen


def test_guangzhou_coefficients_up_to_ninth_floor() -> None:
    coefficients = {**GUANGZHOU, 7: Fraction(11, 10), 8: Fraction(12, 10), 9: Fraction(13, 10)}
    scheme = CostScheme(
        "floor-coefficient", coefficients, area_weighted=False, exempt_floors=frozenset({1, 2})
    )
    households = [ShareInput(f"{f}01", f) for f in range(1, 10)]
    result = share_costs(households, 7000000, scheme)  # Σ coefficients 3F..9F = 7.0
    assert [line.fen for line in result.lines] == [
        0, 0, 700000, 800000, 900000, 1000000, 1100000, 1200000, 1300000,
    ]  # fmt: skip


def test_changsha_like_example() -> None:
    # ¥350k, floors 1–2 exempt, top floor about ¥70k each, lower paying floors ¥20k–30k.
    coefficients = {3: Fraction(20), 4: Fraction(30), 5: Fraction(55), 6: Fraction(70)}
    scheme = CostScheme(
        "floor-coefficient", coefficients, area_weighted=False, exempt_floors=frozenset({1, 2})
    )
    result = share_costs(unit(), 35000000, scheme)
    by_floor = {line.floor: line.fen for line in result.lines}
    assert by_floor == {1: 0, 2: 0, 3: 2000000, 4: 3000000, 5: 5500000, 6: 7000000}
    assert result.payable_fen == 35000000


def test_equal_and_area_schemes_with_exempt_floors() -> None:
    households = unit(floors=3, areas=("50", "70"))
    equal = share_costs(households, 100001, CostScheme("equal", exempt_floors=frozenset({1})))
    assert equal.by_id() == {
        "101": 0,
        "102": 0,
        "201": 25000,
        "202": 25000,
        "301": 25001,
        "302": 25000,
    }
    area = share_costs(households, 240000, CostScheme("area", exempt_floors=frozenset({1})))
    assert area.by_id() == {
        "101": 0,
        "102": 0,
        "201": 50000,
        "202": 70000,
        "301": 50000,
        "302": 70000,
    }


def test_default_coefficient_fills_unlisted_floors() -> None:
    scheme = CostScheme(
        "floor-coefficient", {6: Fraction(2)}, area_weighted=False, default=Fraction(1)
    )
    result = share_costs(unit(floors=6), 1400, scheme)
    assert {line.floor: line.fen for line in result.lines} == {
        1: 100, 2: 100, 3: 100, 4: 100, 5: 100, 6: 200,
    }  # fmt: skip


def test_missing_coefficient_names_the_household_and_floor() -> None:
    scheme = CostScheme("floor-coefficient", {3: Fraction(1)}, exempt_floors=frozenset({1, 2}))
    with pytest.raises(BadInput, match=r"household 401: no coefficient for floor 4"):
        share_costs(unit(floors=4), 1000, scheme)


def test_all_weights_zero_is_bad_input() -> None:
    scheme = CostScheme("equal", exempt_floors=frozenset({1, 2}))
    with pytest.raises(BadInput, match="every household weighs 0"):
        share_costs(unit(floors=2), 1000, scheme)
    assert share_costs(unit(floors=2), 0, scheme).by_id() == dict.fromkeys(
        ["101", "102", "201", "202"], 0
    )


def test_subsidy_reduces_what_is_payable_and_may_not_exceed_cost() -> None:
    scheme = CostScheme("equal")
    result = share_costs(unit(floors=1), 1000, scheme, subsidy=400)
    assert result.payable_fen == 600 and result.by_id() == {"101": 300, "102": 300}
    with pytest.raises(BadInput, match=r"subsidy ¥10.01 is more than the total cost ¥10.00"):
        share_costs(unit(floors=1), 1000, scheme, subsidy=1001)


def test_tie_break_prefers_higher_floor_then_id_whatever_the_order() -> None:
    households = [ShareInput("b", 2), ShareInput("a", 2), ShareInput("z", 1), ShareInput("c", 3)]
    scheme = CostScheme("equal")
    # 6 fen over 4 flats: 1 each, then 2 spare fen go to floor 3 ("c"), then floor 2's "a".
    expected = {"a": 2, "b": 1, "c": 2, "z": 1}
    assert share_costs(households, 6, scheme).by_id() == expected
    assert share_costs(list(reversed(households)), 6, scheme).by_id() == expected


household_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=12),
        st.decimals(min_value=Decimal("20.00"), max_value=Decimal("180.00"), places=2),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150)
@given(
    rows=household_strategy,
    amount=st.integers(min_value=0, max_value=10**9),
    coefficients=st.dictionaries(
        st.integers(min_value=1, max_value=12),
        st.fractions(min_value=0, max_value=3, max_denominator=100),
    ),
    area_weighted=st.booleans(),
    data=st.data(),
)
def test_share_costs_properties(
    rows: list[tuple[int, Decimal]],
    amount: int,
    coefficients: dict[int, Fraction],
    area_weighted: bool,
    data: st.DataObject,
) -> None:
    households = [ShareInput(f"{floor}-{i}", floor, area) for i, (floor, area) in enumerate(rows)]
    scheme = CostScheme(
        "floor-coefficient", coefficients, area_weighted=area_weighted, default=Fraction(1, 2)
    )
    if amount > 0 and not any(scheme.weight(h) for h in households):
        with pytest.raises(BadInput, match="every household weighs 0"):
            share_costs(households, amount, scheme)
        return
    result = share_costs(households, amount, scheme)
    assert sum(line.fen for line in result.lines) == amount == result.payable_fen
    for line in result.lines:
        assert abs(line.fen - line.exact) < 1
        if line.weight == 0:
            assert line.fen == 0
    shuffled = data.draw(st.permutations(households))
    assert share_costs(shuffled, amount, scheme).by_id() == result.by_id()


# --- compensation ---------------------------------------------------------------------------


def test_compensation_to_first_floor_is_raised_from_payers() -> None:
    scheme = CostScheme("equal", exempt_floors=frozenset({1, 2}))
    comp = Compensation(500000, floors=frozenset({1}), reason="lost light")
    result = share_costs(unit(floors=4), 4000000, scheme, subsidy=1000000, compensation=[comp])
    assert result.compensation_fen == 1000000
    assert result.payable_fen == 4000000 - 1000000 + 1000000
    lines = {line.id: line for line in result.lines}
    assert lines["101"].fen == 0 and lines["101"].compensation_fen == 500000
    assert lines["101"].net_fen == -500000
    assert lines["201"].fen == 0 and lines["201"].compensation_fen == 0
    assert lines["301"].fen == 1000000
    assert any("lost light" in text for text in result.explanation)


def test_compensation_to_named_paying_household_adds_up() -> None:
    scheme = CostScheme("equal")
    comps = [
        Compensation(300, households=frozenset({"201"})),
        Compensation(100, floors=frozenset({2}), households=frozenset({"101"})),
    ]
    result = share_costs(unit(floors=2), 1000, scheme, compensation=comps)
    lines = {line.id: line for line in result.lines}
    assert result.payable_fen == 1000 + 300 + 100 * 3
    assert lines["201"].compensation_fen == 400
    assert lines["101"].compensation_fen == 100
    assert lines["202"].compensation_fen == 100
    assert lines["102"].compensation_fen == 0
    assert sum(line.fen for line in result.lines) == 1600


def test_compensation_must_name_existing_recipients() -> None:
    scheme = CostScheme("equal")
    with pytest.raises(BadInput, match="compensation 1: household 999 is not in households"):
        share_costs(
            unit(floors=1),
            100,
            scheme,
            compensation=[Compensation(5, households=frozenset({"999"}))],
        )
    with pytest.raises(BadInput, match="compensation 1: no household on floor 7"):
        share_costs(
            unit(floors=1), 100, scheme, compensation=[Compensation(5, floors=frozenset({7}))]
        )
    with pytest.raises(BadInput, match="compensation 1: name the floors or the households"):
        share_costs(unit(floors=1), 100, scheme, compensation=[Compensation(5)])


# --- schedules ------------------------------------------------------------------------------


def test_schedule_30_50_20_splits_each_share_exactly() -> None:
    schedule = PaymentSchedule.from_percents(
        [("deposit", "30"), ("after installation", 50), ("after acceptance", "20")]
    )
    assert schedule == SCHEDULE_30_50_20 or [s.ratio for s in schedule.stages] == [
        s.ratio for s in SCHEDULE_30_50_20.stages
    ]
    assert schedule.split(4501428) == [1350428, 2250714, 900286]
    assert schedule.split(1) == [0, 1, 0]
    assert schedule.split(10) == [3, 5, 2]
    result = share_costs(unit(floors=3), 3333333, CostScheme("equal"), schedule=schedule)
    for line in result.lines:
        assert [name for name, _ in line.instalments] == [
            "deposit",
            "after installation",
            "after acceptance",
        ]
        assert sum(fen for _, fen in line.instalments) == line.fen


@given(share=st.integers(min_value=0, max_value=10**9))
def test_schedule_split_properties(share: int) -> None:
    parts = SCHEDULE_30_50_20.split(share)
    assert sum(parts) == share
    for part, stage in zip(parts, SCHEDULE_30_50_20.stages, strict=True):
        assert abs(part - share * stage.ratio) < 1


def test_schedule_must_add_up_to_100() -> None:
    with pytest.raises(BadInput, match="schedule percents add up to 90, not 100"):
        PaymentSchedule.from_percents([("deposit", "30"), ("rest", "60")])
    with pytest.raises(BadInput, match=r"schedule percents add up to 100\.1, not 100"):
        PaymentSchedule.from_percents([("deposit", "30.1"), ("rest", "70")])


# --- running costs --------------------------------------------------------------------------


def test_running_costs_shenzhen_second_floor_exempt_from_electricity() -> None:
    # Ground floor is open stilts: flats start on 2F; 2F pays no construction and no electricity.
    households = [h for h in unit(floors=7, areas=("60", "60")) if h.floor >= 2]
    coefficients = {f: Fraction(f) for f in range(3, 8)}
    scheme = CostScheme(
        "floor-coefficient", coefficients, area_weighted=False, exempt_floors=frozenset({2})
    )
    maintenance = RunningCost("maintenance", 360000, CostScheme("equal"))
    electricity = RunningCost("electricity", 100000)  # the construction scheme applies
    result = share_costs(households, 50000000, scheme, running=[maintenance, electricity])
    lines = {line.id: line for line in result.lines}
    assert lines["201"].fen == 0
    assert dict(result.running[1].fen_by_id)["201"] == 0
    assert dict(result.running[0].fen_by_id)["201"] == 30000
    assert sum(fen for _, fen in result.running[1].fen_by_id) == 100000
    assert sum(fen for _, fen in result.running[0].fen_by_id) == 360000
    # 7F weight 7 of Σ 2·(3+4+5+6+7) = 50.
    assert dict(result.running[1].fen_by_id)["701"] == 14000
    assert lines["701"].running_fen == 30000 + 14000


def test_running_costs_follow_the_construction_scheme_by_default() -> None:
    # Changsha-like: ¥3,500 a year, floors 1–2 exempt, the same coefficients as construction.
    coefficients = {3: Fraction(20), 4: Fraction(30), 5: Fraction(55), 6: Fraction(70)}
    scheme = CostScheme(
        "floor-coefficient", coefficients, area_weighted=False, exempt_floors=frozenset({1, 2})
    )
    result = share_costs(unit(), 35000000, scheme, running=[RunningCost("maintenance", 350000)])
    yearly = dict(result.running[0].fen_by_id)
    assert result.running[0].scheme is scheme
    assert yearly == {
        "101": 0, "102": 0, "201": 0, "202": 0, "301": 20000, "302": 20000,
        "401": 30000, "402": 30000, "501": 55000, "502": 55000, "601": 70000, "602": 70000,
    }  # fmt: skip
    assert {line.id: line.running_fen for line in result.lines} == yearly


# --- the JSON contract ----------------------------------------------------------------------


def test_contract_minimal_example() -> None:
    out = evaluate_request(
        {
            "total_fen": 45000000,
            "subsidy_fen": 0,
            "scheme": {
                "kind": "floor-coefficient",
                "coefficients": {"1": "0", "3": "0.7"},
                "area_weighted": True,
            },
            "households": [{"id": "301", "floor": 3, "area_m2": "56.30"}],
        }
    )
    assert out["payable_fen"] == 45000000
    assert out["shares"] == [
        {"id": "301", "fen": 45000000, "floor": 3, "weight": "39.41", "exact_fen": "45000000"}
    ]


def test_contract_shares_in_input_order_and_numbers_accepted() -> None:
    data = request()
    households = list(reversed(data["households"]))  # type: ignore[call-overload]
    data["households"] = households
    out = evaluate_request(data)
    assert [s["id"] for s in out["shares"]] == [h["id"] for h in households]  # type: ignore[attr-defined]
    by_id = {s["id"]: s["fen"] for s in out["shares"]}  # type: ignore[attr-defined]
    assert by_id == {s["id"]: s["fen"] for s in evaluate_request(request())["shares"]}  # type: ignore[attr-defined]
    numeric = request(
        scheme={
            "kind": "floor_coefficient",
            "coefficients": {"3": 0.7, "4": 0.8, "5": 0.9, "6": 1},
            "exempt_floors": [1, 2],
        },
        households=[
            {"id": h.id, "floor": h.floor, "area_m2": float(h.area_m2 or 0)} for h in unit()
        ],
    )
    assert {s["id"]: s["fen"] for s in evaluate_request(numeric)["shares"]} == by_id  # type: ignore[attr-defined]


def test_contract_with_profile_compensation_schedule_and_running() -> None:
    data = request(
        compensation=[{"floors": [1], "fen_each": 500000, "reason": "lost light"}],
        running={"annual_fen": 350000},
        schedule=[
            {"name": "deposit", "percent": "30"},
            {"name": "after installation", "percent": 50},
            {"name": "after acceptance", "percent": "20%"},
        ],
    )
    del data["subsidy_fen"]
    data["subsidy_profile"] = "shanghai"
    out = evaluate_request(data)
    assert out["subsidy_fen"] == 18000000
    assert out["payable_fen"] == 45000000 - 18000000 + 1000000
    assert out["compensation_fen"] == 1000000
    shares: list[dict[str, Any]] = out["shares"]  # type: ignore[assignment]
    assert sum(s["fen"] for s in shares) == out["payable_fen"]
    assert shares[0]["compensation_fen"] == 500000 and shares[0]["net_fen"] == -500000
    for s in shares:
        assert sum(i["fen"] for i in s["instalments"]) == s["fen"]
    schedule: list[dict[str, Any]] = out["schedule"]  # type: ignore[assignment]
    assert [(s["name"], s["percent"], s["fen"]) for s in schedule] == [
        ("deposit", "30", 8400000),
        ("after installation", "50", 14000000),
        ("after acceptance", "20", 5600000),
    ]
    running: list[dict[str, Any]] = out["running"]  # type: ignore[assignment]
    assert running[0]["annual_fen"] == 350000
    assert sum(s["fen"] for s in running[0]["shares"]) == 350000
    assert sum(s["running_fen"] for s in shares) == 350000
    subsidy: dict[str, Any] = out["subsidy"]  # type: ignore[assignment]
    assert subsidy["profile"] == "shanghai" and subsidy["fen"] == 18000000
    assert "confidence" in subsidy["source"]


def test_contract_subsidy_alias_storeys_and_profile_inputs() -> None:
    data = request(subsidy="jinan")
    del data["subsidy_fen"]
    assert evaluate_request(data)["subsidy_fen"] == 20000000  # storeys default to the top floor
    data["storeys"] = 7
    assert evaluate_request(data)["subsidy_fen"] == 22000000
    beijing = request(subsidy_profile="beijing", pipeline_fen=12000000)
    del beijing["subsidy_fen"]
    # Beijing: ¥240,000 fixed + the ¥120,000 pipeline work at cost.
    assert evaluate_request(beijing)["subsidy_fen"] == 36000000
    qingdao = request(subsidy_profile="qingdao", existing_shaft=True)
    del qingdao["subsidy_fen"]
    assert evaluate_request(qingdao)["subsidy_fen"] == 10000000  # city ¥50,000 + district match


def test_contract_running_list_with_own_schemes() -> None:
    data = request(
        running=[
            {"name": "maintenance", "annual_fen": 360000, "scheme": {"kind": "equal"}},
            {
                "name": "electricity",
                "annual_fen": 120000,
                "scheme": {"kind": "equal", "exempt_floors": [1, 2]},
            },
        ]
    )
    out = evaluate_request(data)
    shares: list[dict[str, Any]] = out["shares"]  # type: ignore[assignment]
    assert shares[0]["running_fen"] == 30000
    assert shares[-1]["running_fen"] == 30000 + 15000


def test_contract_integer_ids_come_back_as_given() -> None:
    out = evaluate_request(
        {
            "total_fen": 301,
            "scheme": {"kind": "equal"},
            "households": [{"id": 301, "floor": 3}, {"id": "302", "floor": 3}],
        }
    )
    assert out["shares"] == [
        {"id": 301, "fen": 151, "floor": 3, "weight": "1", "exact_fen": "150.5"},
        {"id": "302", "fen": 150, "floor": 3, "weight": "1", "exact_fen": "150.5"},
    ]


def _household(index: int, **changes: Any) -> dict[str, object]:
    data = request()
    households: list[dict[str, object]] = copy.deepcopy(data["households"])  # type: ignore[arg-type]
    households[index].update(changes)
    data["households"] = households
    return data


def _without(key: str) -> dict[str, object]:
    data = request()
    del data[key]
    return data


def _scheme(**changes: Any) -> dict[str, object]:
    data = request()
    scheme: dict[str, object] = dict(data["scheme"])  # type: ignore[call-overload]
    scheme.update(changes)
    return request(scheme=scheme)


BAD_REQUESTS: list[tuple[str, object, str]] = [
    ("not an object", [1, 2], "the request must be a JSON object"),
    (
        "unknown field",
        request(subsidy_profil="shanghai"),
        "request: unknown field 'subsidy_profil'",
    ),
    ("total missing", _without("total_fen"), "total_fen is missing: give the whole cost in fen"),
    (
        "total float",
        request(total_fen=1.5),
        "total_fen must be a whole number of fen (1 yuan = 100 fen), got 1.5",
    ),
    (
        "total string",
        request(total_fen="450000"),
        "total_fen must be a whole number of fen (1 yuan = 100 fen), got '450000'",
    ),
    ("total bool", request(total_fen=True), "total_fen must be a whole number of fen"),
    ("total negative", request(total_fen=-1), "total_fen must not be negative, got -1"),
    (
        "subsidy float",
        request(subsidy_fen=10.5),
        "subsidy_fen must be a whole number of fen (1 yuan = 100 fen), got 10.5",
    ),
    ("subsidy negative", request(subsidy_fen=-5), "subsidy_fen must not be negative, got -5"),
    (
        "subsidy too big",
        request(subsidy_fen=45000001),
        "subsidy ¥450,000.01 is more than the total cost ¥450,000.00",
    ),
    (
        "unknown profile",
        request(subsidy_fen=None, subsidy_profile="atlantis"),
        "unknown subsidy profile 'atlantis': known profiles are beijing, beijing-haidian,",
    ),
    (
        "profile and fen",
        request(subsidy_profile="shanghai"),
        "give subsidy_fen or subsidy_profile, not both",
    ),
    (
        "profile and alias",
        request(subsidy_fen=None, subsidy_profile="shanghai", subsidy="jinan"),
        "give subsidy_profile or subsidy, not both",
    ),
    (
        "subsidy number",
        request(subsidy_fen=None, subsidy=100000),
        'subsidy must name a subsidy profile such as "shanghai"; give an amount as subsidy_fen',
    ),
    ("storeys without profile", request(storeys=6), "storeys is only used with subsidy_profile"),
    (
        "storeys too low",
        request(subsidy_fen=None, subsidy_profile="jinan", storeys=5),
        "storeys 5 is lower than household 601's floor 6",
    ),
    (
        "equipment float",
        request(subsidy_fen=None, subsidy_profile="beijing", equipment_fen=1.5),
        "equipment_fen must be a whole number of fen",
    ),
    (
        "equipment over total",
        request(subsidy_fen=None, subsidy_profile="beijing", equipment_fen=50000000),
        "equipment_fen ¥500,000.00 is more than the total cost ¥450,000.00",
    ),
    (
        "shaft not bool",
        request(subsidy_fen=None, subsidy_profile="qingdao", existing_shaft="yes"),
        "existing_shaft must be true or false",
    ),
    ("scheme not object", request(scheme="equal"), "scheme must be an object such as"),
    (
        "scheme kind unknown",
        _scheme(kind="lottery"),
        "scheme kind 'lottery' is unknown: use floor-coefficient, equal, area",
    ),
    (
        "scheme kind missing",
        request(scheme={"coefficients": {"3": "1"}}),
        "scheme: kind is missing",
    ),
    ("scheme unknown field", _scheme(exempt_floor=[1]), "scheme: unknown field 'exempt_floor'"),
    (
        "coefficient text",
        _scheme(coefficients={"3": "0.x"}),
        "scheme coefficient for floor 3: '0.x' is not a number",
    ),
    (
        "coefficient negative",
        _scheme(coefficients={"3": "-0.7"}),
        "scheme coefficient for floor 3 must not be negative",
    ),
    (
        "coefficient floor",
        _scheme(coefficients={"3F": "0.7"}),
        "scheme coefficients: floor '3F' is not a whole number",
    ),
    (
        "coefficients missing",
        request(scheme={"kind": "floor-coefficient"}),
        "scheme: kind floor-coefficient needs coefficients",
    ),
    (
        "coefficient missing for floor",
        _scheme(coefficients={"3": "1"}),
        "household 101: no coefficient for floor 1 in the scheme",
    ),
    (
        "coefficients on equal",
        request(scheme={"kind": "equal", "coefficients": {"3": "1"}}),
        "scheme: kind equal takes no coefficients",
    ),
    (
        "area_weighted on area",
        request(scheme={"kind": "area", "area_weighted": False}),
        "scheme: area_weighted applies to kind floor-coefficient only",
    ),
    (
        "area_weighted not bool",
        _scheme(area_weighted="yes"),
        "scheme: area_weighted must be true or false",
    ),
    ("default negative", _scheme(default="-1"), "scheme default must not be negative"),
    ("exempt not list", _scheme(exempt_floors=1), "scheme: exempt_floors must be a list"),
    (
        "exempt floor zero",
        _scheme(exempt_floors=[0]),
        "scheme exempt_floors: floor 0 must be 1 or higher",
    ),
    (
        "all exempt",
        _scheme(exempt_floors=[1, 2, 3, 4, 5, 6]),
        "every household weighs 0 in the scheme (exempt floors or coefficient 0), "
        "so nobody can pay ¥450,000.00",
    ),
    ("households missing", _without("households"), "households is missing: list each flat as"),
    ("households not list", request(households={"id": "301"}), "households must be a list"),
    ("households empty", request(households=[]), "households is empty"),
    (
        "household not object",
        request(households=["301"]),
        "household number 1 in the list must be an object",
    ),
    ("id missing", _household(0, id=None), "household number 1 in the list: id is missing"),
    ("id empty", _household(0, id=" "), "household number 1 in the list: id ' ' is not valid"),
    (
        "duplicate id",
        _household(1, id="101"),
        "household 101 appears twice: each id must be unique",
    ),
    ("floor missing", _household(4, floor=None), "household 301: floor is missing"),
    ("floor zero", _household(4, floor=0), "household 301: floor 0 must be 1 or higher"),
    (
        "floor text",
        _household(4, floor="three"),
        "household 301: floor 'three' is not a whole number",
    ),
    ("floor float", _household(4, floor=3.5), "household 301: floor 3.5 is not a whole number"),
    ("area text", _household(4, area_m2="abc"), "household 301: area_m2 'abc' is not a number"),
    ("area nan", _household(4, area_m2="NaN"), "household 301: area_m2 'NaN' is not a number"),
    (
        "area negative",
        _household(4, area_m2="-56.3"),
        "household 301: area_m2 '-56.3' must be greater than 0",
    ),
    ("area zero", _household(4, area_m2=0), "household 301: area_m2 '0' must be greater than 0"),
    (
        "area missing",
        _household(4, area_m2=None),
        "household 301: area_m2 is missing, and the scheme shares by area",
    ),
    ("compensation not list", request(compensation={"floors": [1]}), "compensation must be a list"),
    (
        "compensation fen missing",
        request(compensation=[{"floors": [1]}]),
        "compensation 1: fen_each is missing",
    ),
    (
        "compensation fen float",
        request(compensation=[{"floors": [1], "fen_each": 5.5}]),
        "compensation 1: fen_each must be a whole number of fen",
    ),
    (
        "compensation unknown household",
        request(compensation=[{"households": ["999"], "fen_each": 1}]),
        "compensation 1: household 999 is not in households",
    ),
    (
        "compensation empty floor",
        request(compensation=[{"floors": [9], "fen_each": 1}]),
        "compensation 1: no household on floor 9",
    ),
    (
        "compensation nobody",
        request(compensation=[{"fen_each": 1}]),
        "compensation 1: name the floors or the households",
    ),
    (
        "compensation unknown field",
        request(compensation=[{"floor": [1], "fen_each": 1}]),
        "compensation 1: unknown field 'floor'",
    ),
    (
        "running fen missing",
        request(running={"scheme": {"kind": "equal"}}),
        "running: annual_fen is missing",
    ),
    (
        "running fen float",
        request(running={"annual_fen": 3500.5}),
        "running: annual_fen must be a whole number of fen",
    ),
    (
        "running scheme bad",
        request(running={"annual_fen": 1, "scheme": {"kind": "x"}}),
        "running scheme kind 'x' is unknown",
    ),
    (
        "running all exempt",
        request(
            running={
                "annual_fen": 1,
                "scheme": {"kind": "equal", "exempt_floors": [1, 2, 3, 4, 5, 6]},
            }
        ),
        "every household weighs 0 in the running-cost scheme (running costs)",
    ),
    ("schedule not list", request(schedule={"deposit": 30}), "schedule must be a list such as"),
    (
        "schedule sum",
        request(schedule=[{"name": "deposit", "percent": "30"}, {"name": "rest", "percent": "60"}]),
        "schedule percents add up to 90, not 100",
    ),
    (
        "schedule percent text",
        request(schedule=[{"name": "deposit", "percent": "thirty"}]),
        "schedule stage deposit: percent: 'thirty' is not a number",
    ),
    (
        "schedule percent missing",
        request(schedule=[{"name": "deposit"}]),
        "schedule stage deposit: percent is missing",
    ),
    (
        "schedule negative",
        request(schedule=[{"name": "a", "percent": "-10"}, {"name": "b", "percent": "110"}]),
        "schedule stage a: percent must not be negative",
    ),
    (
        "schedule duplicate",
        request(schedule=[{"name": "a", "percent": "50"}, {"name": "a", "percent": "50"}]),
        "schedule: stage name 'a' appears twice",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [pytest.param(data, message, id=name) for name, data, message in BAD_REQUESTS],
)
def test_contract_bad_input(data: Any, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        evaluate_request(data)
    assert message in caught.value.message
    assert "\n" not in caught.value.message
