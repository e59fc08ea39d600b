"""City rules as they stand on a day: resolution by date, the Civil Code floor, each city's
boundaries, strict profile files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from colift.errors import BadInput, NotFound
from colift.model import Vote
from colift.rules.consent import (
    CIVIL_CODE_IN_FORCE,
    Flat,
    ObjectionsBlock,
    Scope,
    all_profiles,
    evaluate,
    evaluate_request,
    load_profile,
    load_profile_file,
    parse_profile,
    resolve_profile,
    rule_keys,
)

# The cities the issue names, and the national rule.
CITIES = (
    "beijing",
    "shanghai",
    "guangzhou",
    "shenzhen",
    "chengdu",
    "hangzhou",
    "wuhan",
    "tianjin",
    "nanjing",
    "chongqing",
    "suzhou",
    "xian",
    "zhengzhou",
    "jinan",
    "qingdao",
    "wuxi",
)
TODAY = date(2026, 12, 3)


def flats(votes: str) -> list[Flat]:
    """One 60 m² flat per character: a=agree d=disagree s=abstain -=absent."""
    code = {"a": Vote.AGREE, "d": Vote.DISAGREE, "s": Vote.ABSTAIN, "-": Vote.ABSENT}
    return [Flat(f"f{i}", 600_000, f"o{i}", code[c]) for i, c in enumerate(votes)]


def test_every_named_city_has_a_current_rule_with_sources_and_a_confidence() -> None:
    assert set(CITIES) <= set(rule_keys())
    current = {p.key for p in all_profiles() if p.in_force_on(TODAY) and p.key != "cn"}
    assert len(current) >= 15
    for city in CITIES:
        profile = load_profile(city, TODAY)
        assert profile.key == city and profile.in_force_on(TODAY)
        assert profile.sources and profile.confidence.value in {
            "confirmed",
            "secondary",
            "assumption",
        }
        assert profile.jurisdiction and profile.name_zh


def test_no_packaged_profile_in_force_after_2021_is_laxer_than_article_278() -> None:
    """Civil Code art. 278 prevails from 2021-01-01: a city may add conditions, never go lower."""
    for profile in all_profiles():
        after_2021 = profile.in_force_until is None or profile.in_force_until >= CIVIL_CODE_IN_FORCE
        if after_2021:
            assert profile.laxer_than_civil_code() == (), profile.id
    # The historical ones are laxer, and end before the Code.
    for old in ("beijing-2020", "chengdu-2018", "shanghai-2019", "shenzhen-2018"):
        profile = load_profile(old)
        assert profile.laxer_than_civil_code()
        assert profile.in_force_until is not None and profile.in_force_until < CIVIL_CODE_IN_FORCE


@pytest.mark.parametrize("city", CITIES)
def test_each_city_at_its_threshold_and_one_short(city: str) -> None:
    profile = load_profile(city, TODAY)
    if profile.id == "chongqing-2021":  # every household of the unit agrees
        at, short = ["a" * 12], ["a" * 11 + "-", "a" * 11 + "d"]
    else:  # art. 278: 8 of 12 take part (2/3), 6 of those 8 agree (3/4)
        at = ["aaaaaadd----", "aaaaaass----"]
        short = ["aaaaaad-----", "aaaaaddd----", "aaaaasdd----"]
    for votes in at:
        result = evaluate(profile, flats(votes), on=TODAY)
        assert result.passed, (city, votes, result.reasons)
        assert result.warnings == ()
    for votes in short:
        assert not evaluate(profile, flats(votes), on=TODAY).passed, (city, votes)


@pytest.mark.parametrize("old", ["beijing-2020", "chengdu-2018", "shanghai-2019", "shenzhen-2018"])
def test_old_dated_rules_count_as_before_and_warn_after_2021(old: str) -> None:
    profile = load_profile(old)
    a = flats("aaaaaaaadddd")  # 8 agree, 4 oppose: 2/3 of all agree
    b = flats("aaaaaadd----")  # 6 agree, 2 oppose, 4 absent
    assert evaluate(profile, a, on=date(2019, 6, 1)).passed
    assert not evaluate(profile, b, on=date(2019, 6, 1)).passed
    assert not evaluate(profile, flats("aaaaaaa-----"), on=date(2019, 6, 1)).passed  # one short
    assert evaluate(profile, a, on=date(2019, 6, 1)).warnings == ()
    late = evaluate(profile, a, on=TODAY)
    assert late.passed  # still counted as the old rule counts ...
    (warning,) = late.warnings  # ... with the warning wherever the verdict is shown
    assert "laxer than Civil Code art. 278" in warning.render("en")
    assert "民法典第二百七十八条" in warning.render("zh-CN")
    # Today's rule of the same city gives the law's answer on both cases.
    city = load_profile(profile.key, TODAY)
    assert not evaluate(city, a, on=TODAY).passed
    assert evaluate(city, b, on=TODAY).passed


def _request(rule: str, votes: str, **extra: object) -> dict[str, object]:
    households = [
        {"id": f"{n:03d}", "area_m2": "60", "vote": {"a": "agree", "d": "disagree", "-": None}[c]}
        for n, c in enumerate(votes, start=101)
    ]
    return {"rule": rule, "households": households, **extra}


@pytest.mark.parametrize("city", CITIES)
def test_the_json_contract_counts_a_city_under_todays_rule(city: str) -> None:
    out = evaluate_request(_request(city, "aaaaaaaadddd"), on=TODAY)
    profile = load_profile(city, TODAY)
    assert out["rule"] == profile.id and out["rule_key"] == city
    assert out["rule_name_zh"] == profile.name_zh
    assert out["on"] == TODAY.isoformat()
    assert out["passed"] is False  # 8 agree of 12 taking part is below 3/4
    assert out["warnings"] == []


def test_the_day_picks_the_rule_in_force_and_the_file_may_give_it() -> None:
    assert evaluate_request(_request("beijing", "aaaaaaaadddd", on="2020-07-01"))["rule"] == (
        "beijing-2020"
    )
    assert evaluate_request(_request("beijing", "aaaaaaaadddd"), on=date(2024, 1, 1))["rule"] == (
        "beijing-2023"
    )
    assert evaluate_request(_request("cn", "aaaaaaaadddd"), on=date(2019, 1, 1))["rule"] == (
        "cn-property-law-76"
    )
    # No Beijing text of its own between the Code and the 2023 guidelines: the national rule,
    # and the result says so.
    gap = evaluate_request(_request("beijing", "aaaaaadd----"), on=date(2022, 5, 1))
    assert gap["rule"] == "cn-civil-code-278" and gap["passed"]
    assert any("no beijing rule of its own" in w["en"] for w in gap["warnings"])
    with pytest.raises(BadInput, match="must be a date"):
        evaluate_request(_request("beijing", "aaaa", on="yesterday"))


def test_a_dated_id_counted_today_carries_the_civil_code_warning_in_json() -> None:
    out = evaluate_request(_request("chengdu-2018", "aaaaaaaadddd"), on=TODAY)
    assert out["rule"] == "chengdu-2018" and out["passed"] is True
    assert any("Civil Code art. 278" in w["en"] for w in out["warnings"])


def test_a_rule_name_is_never_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(_profile_text(), encoding="utf-8")
    with pytest.raises(NotFound):
        resolve_profile(str(path))
    with pytest.raises(BadInput, match="unknown consent rule"):
        evaluate_request(_request(str(path), "aaaa"))


def _profile_text(**conditions: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in conditions.items())
    return f"""
id = "my-city"
name_zh = "我市规则"
name_en = "My city"
[approval]
of = "total"
area = "2/3"
heads = "2/3"
[conditions]
{lines}
[[sources]]
title = "our own notice"
confidence = "assumption"
"""


def test_a_typo_in_a_profile_is_refused_with_the_key_named(tmp_path: Path) -> None:
    path = tmp_path / "my-city.toml"
    path.write_text(_profile_text(no_unresolved_objections="true"), encoding="utf-8")
    with pytest.raises(BadInput, match="'no_unresolved_objections'") as caught:
        load_profile_file(path)
    assert "my-city.toml" in caught.value.message
    assert "no_unresolved_objection" in caught.value.message  # the known ones are listed
    path.write_text(_profile_text(no_unresolved_objection="true"), encoding="utf-8")
    good = load_profile_file(path)
    assert good.no_unresolved_objection and good.objections_block is ObjectionsBlock.ANY
    for bad, field in (
        (
            {"id": "x", "name_zh": "x", "name_en": "x", "approval": {"area": "2/3", "head": "2/3"}},
            "'head'",
        ),
        ({"id": "x", "name_zh": "x", "name_en": "x", "aproval": {}}, "'aproval'"),
    ):
        with pytest.raises(BadInput, match=field):
            parse_profile(bad)


def test_options_are_data_litigation_and_which_objections_block() -> None:
    civil = load_profile("cn-civil-code-278")
    assert civil.occupied_owners_must_agree
    assert civil.objections_block is ObjectionsBlock.DURING_NOTICE
    assert not civil.litigation_blocks_notice
    assert load_profile("chengdu-2018").litigation_blocks_notice  # as it was counted before


def test_shanghai_counts_at_two_levels() -> None:
    first = load_profile("shanghai-yizheng", TODAY)
    second = load_profile("shanghai", TODAY)
    assert first.default_scope is Scope.COMPOUND
    assert second.default_scope is Scope.BUILDING
    assert first.id != second.id and first.key != second.key


def test_every_profile_is_on_the_cities_page() -> None:
    from colift.rules.subsidy import available_subsidy_profiles

    page = (Path(__file__).resolve().parents[2] / "docs" / "cities.md").read_text(encoding="utf-8")
    for profile in all_profiles():
        assert f"`{profile.id}` (`{profile.key}`)" in page, profile.id
        assert profile.confidence.value in page
    for name in available_subsidy_profiles():
        assert f"`{name}`" in page, name
