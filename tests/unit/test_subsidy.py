"""Subsidy profiles: every packaged figure from domain.md §4, caps, table edges, file format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from colift.errors import BadInput
from colift.rules.subsidy import (
    CONFIDENCES,
    SubsidyInput,
    available_subsidy_profiles,
    load_subsidy_profile,
    parse_subsidy_profile,
)

YUAN = 100  # fen


def subsidy(name: str, cost_yuan: int, storeys: int = 6, **extra: object) -> int:
    data = SubsidyInput(cost_yuan * YUAN, storeys, **extra)  # type: ignore[arg-type]
    return load_subsidy_profile(name).compute(data).fen


REQUIRED = {
    "shanghai",
    "beijing",
    "beijing-haidian",
    "chengdu-2018",
    "chongqing",
    "hefei",
    "jinan",
    "qingdao",
    "chuzhou",
    "tongling",
    "weifang",
    "none",
}


def test_all_required_profiles_ship() -> None:
    assert set(available_subsidy_profiles()) >= REQUIRED
    assert available_subsidy_profiles() == sorted(available_subsidy_profiles())


@pytest.mark.parametrize("name", available_subsidy_profiles())
def test_every_profile_names_its_source_and_confidence(name: str) -> None:
    profile = load_subsidy_profile(name)
    assert profile.id == name
    assert profile.name_zh and profile.name_en and profile.city
    assert profile.source.title
    assert profile.source.confidence in CONFIDENCES and profile.confidence in CONFIDENCES


CITIES = (
    "beijing", "shanghai", "shenzhen", "chengdu", "hangzhou", "wuhan", "tianjin", "nanjing",
    "chongqing", "jinan", "qingdao", "wuxi", "hefei", "chuzhou", "tongling", "weifang",
)  # fmt: skip


def test_fifteen_cities_have_a_current_subsidy_with_an_amount() -> None:
    for city in CITIES:
        profile = load_subsidy_profile(city)
        assert profile.key == city and profile.amount_known
        assert profile.compute(SubsidyInput(45_000_000, 6, maintenance_annual_fen=360_000)).fen > 0
    assert len(CITIES) >= 15
    # The named cities whose amount was not found are there, and refuse to guess.
    for city in ("suzhou", "xian", "zhengzhou"):
        with pytest.raises(BadInput, match="give the amount in the approval letter as subsidy_fen"):
            load_subsidy_profile(city).compute(SubsidyInput(45_000_000, 6))
    assert load_subsidy_profile("guangzhou").compute(SubsidyInput(45_000_000, 6)).fen == 0


@pytest.mark.parametrize(
    ("cost_yuan", "expected_yuan"),
    [(450_000, 180_000), (700_000, 280_000), (700_001, 280_000), (1_000_000, 280_000), (0, 0)],
)
def test_shanghai_40_percent_capped_at_280k(cost_yuan: int, expected_yuan: int) -> None:
    assert subsidy("shanghai", cost_yuan) == expected_yuan * YUAN


def test_percentage_rounds_down_to_the_fen() -> None:
    shanghai = load_subsidy_profile("shanghai")
    assert shanghai.compute(SubsidyInput(12346, 6)).fen == 4938  # 40% = 4938.4
    assert shanghai.compute(SubsidyInput(12349, 6)).fen == 4939  # 40% = 4939.6, still down


@given(cost=st.integers(min_value=0, max_value=10**10))
def test_shanghai_never_rounds_up_and_never_exceeds_cost(cost: int) -> None:
    fen = load_subsidy_profile("shanghai").compute(SubsidyInput(cost, 6)).fen
    assert fen == min(cost * 2 // 5, 28_000_000)
    assert fen <= cost


def test_the_beijing_split_fixed_sum_plus_city_pipeline_money() -> None:
    # A ¥650,000 lift whose pipeline relocation costs ¥150,000: ¥240,000 fixed for purchase and
    # installation, plus the ¥150,000 pipeline work at cost: ¥390,000 in all.
    result = load_subsidy_profile("beijing").compute(
        SubsidyInput(650_000 * YUAN, 6, pipeline_fen=150_000 * YUAN)
    )
    assert [(line.label, line.fen) for line in result.lines] == [
        ("city subsidy for purchase and installation", 240_000 * YUAN),
        ("city pipeline relocation subsidy", 150_000 * YUAN),
    ]
    assert result.fen == 390_000 * YUAN
    # The pipeline money stops at ¥400,000; without pipeline work that part is 0.
    assert subsidy("beijing", 1_000_000, pipeline_fen=500_000 * YUAN) == 640_000 * YUAN
    assert subsidy("beijing", 450_000) == 240_000 * YUAN
    # The fixed sum never pays for the pipeline work: it stops at the rest of the cost.
    assert subsidy("beijing", 300_000, pipeline_fen=100_000 * YUAN) == 300_000 * YUAN


def test_beijing_haidian_adds_to_the_city_subsidy() -> None:
    result = load_subsidy_profile("beijing-haidian").compute(
        SubsidyInput(650_000 * YUAN, 6, pipeline_fen=150_000 * YUAN)
    )
    assert [line.profile_id for line in result.lines] == ["beijing", "beijing", "beijing-haidian"]
    assert [line.fen for line in result.lines] == [240_000 * YUAN, 150_000 * YUAN, 60_000 * YUAN]
    assert result.fen == 450_000 * YUAN
    assert subsidy("beijing-haidian", 450_000) == 300_000 * YUAN  # no pipeline work given


def test_chengdu_2018_200k_for_six_storeys_or_more() -> None:
    assert subsidy("chengdu-2018", 450_000, storeys=6) == 200_000 * YUAN
    assert subsidy("chengdu-2018", 450_000, storeys=9) == 200_000 * YUAN
    assert subsidy("chengdu-2018", 450_000, storeys=5) == 0
    assert subsidy("chengdu-2018", 150_000, storeys=6) == 150_000 * YUAN  # never above cost
    line = load_subsidy_profile("chengdu-2018").compute(SubsidyInput(1, 5)).lines[0]
    assert line.explanation == "does not apply: needs 6 or more storeys, the building has 5"


def test_chongqing_60_percent_capped_at_250k() -> None:
    assert subsidy("chongqing", 400_000) == 240_000 * YUAN
    assert subsidy("chongqing", 416_666) == 249_999 * YUAN + 60
    assert subsidy("chongqing", 416_667) == 250_000 * YUAN
    assert subsidy("chongqing", 500_000) == 250_000 * YUAN


def test_hefei_separates_the_bundled_maintenance_money() -> None:
    # ¥250,000 includes 10 years of maintenance (here ¥3,600 a year) and ¥3,000 electricity.
    result = load_subsidy_profile("hefei").compute(
        SubsidyInput(450_000 * YUAN, 6, maintenance_annual_fen=3_600 * YUAN)
    )
    assert result.running_fen == (10 * 3_600 + 3_000) * YUAN
    assert result.fen == (250_000 - 39_000) * YUAN  # construction money only
    # Without the plan's maintenance, ¥3,600 a year is assumed, and the line says so.
    assumed = load_subsidy_profile("hefei").compute(SubsidyInput(450_000 * YUAN, 6))
    assert assumed.running_fen == (36_000 + 3_000) * YUAN
    assert "assumed" in assumed.lines[-1].explanation


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("jinan", {1: 0, 3: 0, 4: 160_000, 5: 180_000, 6: 200_000, 7: 220_000, 8: 220_000}),
        ("chuzhou", {3: 0, 4: 150_000, 5: 160_000, 6: 170_000, 7: 180_000, 9: 180_000}),
        ("tongling", {4: 0, 5: 160_000, 6: 180_000, 7: 200_000, 8: 200_000}),
    ],
)
def test_per_storey_tables_and_their_edges(name: str, table: dict[int, int]) -> None:
    for storeys, expected_yuan in table.items():
        assert subsidy(name, 500_000, storeys=storeys) == expected_yuan * YUAN, storeys


def test_qingdao_100k_or_50k_with_an_existing_shaft() -> None:
    # The city's sum and the district's match (at least as much, modelled as equal).
    assert subsidy("qingdao", 450_000) == 200_000 * YUAN
    assert subsidy("qingdao", 450_000, existing_shaft=True) == 100_000 * YUAN


def test_weifang_up_to_150k() -> None:
    assert subsidy("weifang", 100_000) == 100_000 * YUAN
    assert subsidy("weifang", 450_000) == 150_000 * YUAN


def test_none_pays_nothing() -> None:
    result = load_subsidy_profile("none").compute(SubsidyInput(45_000_000, 6))
    assert result.fen == 0 and result.lines == ()


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(BadInput) as caught:
        load_subsidy_profile("atlantis")
    assert caught.value.render("en").startswith(
        "unknown subsidy profile 'atlantis': known profiles are"
    )
    assert "shanghai" in caught.value.message and "jinan" in caught.value.message


def test_profile_names_are_read_case_insensitively() -> None:
    assert load_subsidy_profile(" Shanghai ").id == "shanghai"


def test_a_city_name_resolves_by_date_and_dated_ids_stay() -> None:
    from datetime import date

    assert load_subsidy_profile("wuhan").id == "wuhan-2024"
    assert load_subsidy_profile("chengdu-2018").id == "chengdu-2018"
    with pytest.raises(BadInput, match="no wuhan subsidy was in force on 2020-01-01"):
        load_subsidy_profile("wuhan", date(2020, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"construction_fen": -1, "storeys": 6}, "construction_fen must not be negative"),
        ({"construction_fen": 1.5, "storeys": 6}, "construction_fen must be a whole number of fen"),
        ({"construction_fen": 100, "storeys": 0}, "storeys must be 1 or more"),
        (
            {"construction_fen": 100, "storeys": 6, "equipment_fen": 101},
            r"equipment_fen ¥1\.01 is more",
        ),
        ({"construction_fen": 100, "storeys": 6, "pipeline_fen": -1}, "pipeline_fen must not be"),
    ],
)
def test_subsidy_input_checks(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        SubsidyInput(**kwargs)  # type: ignore[arg-type]


PROFILE = """
id = "test"
name_zh = "测试"
name_en = "Test"
city = "Nowhere"
[source]
title = "t"
publisher = "p"
date = "2020"
confidence = "assumption"
"""


def test_components_add_up_but_never_exceed_the_cost() -> None:
    profile = parse_subsidy_profile(
        PROFILE
        + """
[[component]]
kind = "fixed"
label = "a"
fen = 600
[[component]]
kind = "percentage"
label = "b"
percent = 50.5
cap_fen = 450
"""
    )
    result = profile.compute(SubsidyInput(1000, 6))
    assert [line.fen for line in result.lines] == [600, 450, -50]
    assert result.fen == 1000
    assert result.lines[-1].label == "limit"


def test_table_gap_takes_the_nearest_lower_row_and_below_lowest() -> None:
    profile = parse_subsidy_profile(
        PROFILE
        + """
[[component]]
kind = "per-storey"
label = "t"
below = "lowest"
above = "nothing"
[component.table]
4 = 100
7 = 400
"""
    )
    assert [profile.compute(SubsidyInput(10_000, s)).fen for s in (2, 4, 5, 6, 7, 8)] == [
        100, 100, 100, 100, 400, 0,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[component]]\nkind = "lottery"\nlabel = "x"', "kind 'lottery' is unknown"),
        ('[[component]]\nkind = "fixed"\nlabel = "x"', "fen is required"),
        ('[[component]]\nkind = "fixed"\nlabel = "x"\nfen = 1.5', "fen must be a whole"),
        ('[[component]]\nkind = "percentage"\nlabel = "x"\npercent = "abc"', "is not a number"),
        ('[[component]]\nkind = "percentage"\nlabel = "x"\npercent = "140"', "between 0 and 100"),
        ('[[component]]\nkind = "percentage"\nlabel = "x"\npercent = "40"\nbase = "land"',
         "base 'land' is unknown"),
        ('[[component]]\nkind = "per-storey"\nlabel = "x"', "needs a table"),
        ('[[component]]\nkind = "per-storey"\nlabel = "x"\n[component.table]\nsix = 1',
         "table key 'six'"),
        ('[[component]]\nkind = "fixed"\nlabel = "x"\nfen = 1\ncolour = "red"',
         "unknown field 'colour'"),
        ('[[component]]\nkind = "fixed"\nlabel = "x"\nfen = 1\nexisting_shaft = "yes"',
         "existing_shaft must be true or false"),
    ],
)  # fmt: skip
def test_bad_profile_files_name_the_field(extra: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_subsidy_profile(PROFILE + extra, origin="test.toml")


def test_profile_without_source_or_with_bad_toml() -> None:
    with pytest.raises(BadInput, match=r"a \[source\] table is required"):
        parse_subsidy_profile('id = "x"\nname_zh = "x"\nname_en = "x"\ncity = "x"')
    with pytest.raises(BadInput, match="not valid TOML"):
        parse_subsidy_profile("id = ")
    with pytest.raises(BadInput, match="unknown field 'cty'"):
        parse_subsidy_profile(PROFILE + 'cty = "x"')
