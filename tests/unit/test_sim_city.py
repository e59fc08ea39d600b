"""The city: synthesis of the stock, the levers, the yearly report and its TOML file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from colift.errors import BadInput
from colift.sim.city import (
    DEFAULT_TYPES,
    CityResult,
    CityScenario,
    city_from_dict,
    load_city,
    run_city,
    synthesize_city,
)
from colift.sim.plots import label, plot_city, text

ROOT = Path(__file__).resolve().parents[2]
SMALL = CityScenario(
    name="small",
    n_households=12_000,
    subsidy_profile="jinan",
    compensation_fen=1_000_000,
    start_share_per_year=0.3,
    weeks=52,
    seed=7,
)


@pytest.fixture(scope="module")
def small_result() -> CityResult:
    return run_city(SMALL)


def test_synthesis_matches_the_stock() -> None:
    city = CityScenario(n_households=200_000, guidance_share=0.4, seed=3)
    cb = synthesize_city(city)
    assert abs(cb.n_households - 200_000) / 200_000 < 0.01
    households = {t.id: 0 for t in DEFAULT_TYPES}
    for seg in cb.segments:
        ctype = city.types[seg.type_index]
        households[ctype.id] += seg.batch.n_households
        assert set(np.unique(seg.batch.storeys).tolist()) <= set(ctype.storeys)
        assert seg.batch.width == max(ctype.storeys) * seg.per_floor
    for t in DEFAULT_TYPES:
        assert households[t.id] / cb.n_households == pytest.approx(t.share, abs=0.01)
    guided = np.zeros(cb.n_compounds, bool)
    for seg in cb.segments:
        guided[seg.compound] = seg.guided
    assert guided.sum() == round(0.4 * cb.n_compounds)
    started = sum(int((s.start_week >= 0).sum()) for s in cb.segments)
    assert started == round(cb.n_units * city.start_share_per_year * 2)
    weeks = np.concatenate([s.start_week for s in cb.segments])
    assert set(np.unique(weeks[weeks >= 0]).tolist()) == set(range(0, 104, 13))


def test_synthesis_is_fixed_by_the_seed() -> None:
    a, b = synthesize_city(SMALL), synthesize_city(SMALL)
    c = synthesize_city(SMALL.replace(seed=8))
    for sa, sb in zip(a.segments, b.segments, strict=True):
        assert np.array_equal(sa.batch.area_cm2, sb.batch.area_cm2)
        assert np.array_equal(sa.start_week, sb.start_week)
    assert not np.array_equal(a.segments[0].batch.area_cm2, c.segments[0].batch.area_cm2)


def test_a_million_households_synthesize_in_seconds() -> None:
    began = time.perf_counter()
    cb = synthesize_city(CityScenario(n_households=1_000_000))
    assert cb.n_households > 990_000
    assert time.perf_counter() - began < 10


def test_the_report_adds_up(small_result: CityResult) -> None:
    s = small_result.summary()
    json.dumps(s)
    assert s["installed"] == sum(s["installations_per_year"]) > 0
    assert s["government_cost_fen"] == sum(s["government_cost_per_year_fen"]) > 0
    assert s["government_cost_fen"] == sum(t["subsidy_fen"] for t in s["by_type"].values())
    stalls = s["stalls"]
    accounted = (
        stalls["not_started"]
        + sum(stalls["failed"].values())
        + sum(stalls["running"].values())
        + s["installed"]
    )
    assert accounted == s["units"]
    assert sum(g["started"] for g in s["by_guidance"].values()) == s["started"]
    for entry in s["by_type"].values():
        assert sum(entry["installations_per_year"]) == entry["installed"]
        assert sum(g["installed"] for g in entry["by_guidance"].values()) == entry["installed"]
    assert s["compensation_fen"] > 0
    # Installed lifts come from units that started early enough to finish.
    done = small_result.week_service[small_result.success]
    assert (
        done.max() <= SMALL.weeks and (done > small_result.start_week[small_result.success]).all()
    )


def test_the_run_is_fixed_by_the_seed(small_result: CityResult) -> None:
    assert run_city(SMALL).summary() == small_result.summary()


def test_levers_move_the_results(small_result: CityResult) -> None:
    none = run_city(SMALL.replace(subsidy_profile=None)).summary()
    # Without a subsidy rule only what tools obtain (a subsidy application) is paid.
    assert none["government_cost_fen"] < small_result.summary()["government_cost_fen"] / 2
    everyone = run_city(SMALL.replace(guidance_share=1.0)).summary()
    assert everyone["by_guidance"]["informal_only"]["started"] == 0
    nobody = run_city(SMALL.replace(guidance_share=0.0)).summary()
    assert nobody["by_guidance"]["guided"]["started"] == 0
    assert everyone["installed"] > nobody["installed"]


def test_progress_counts_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    run_city(SMALL.replace(n_households=3_000), lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_example_city_loads() -> None:
    city = load_city(ROOT / "examples" / "city.toml")
    assert city.n_households == 200_000
    assert city.subsidy_profile == "jinan"
    assert [t.id for t in city.types] == [t.id for t in DEFAULT_TYPES]
    assert city.types == DEFAULT_TYPES
    assert city.defaults.p_object == 0.35


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"housholds": 10}, "unknown field 'housholds'"),
        ({"guidance_share": 1.5}, "guidance_share must be in [0, 1]"),
        ({"subsidy_profile": "atlantis"}, "unknown subsidy profile"),
        ({"approval_weeks": [4]}, "approval_weeks must be [lo, hi]"),
        ({"guided_strategy": "magic"}, "unknown strategy"),
        ({"defaults": {"p_objekt": 0.1}}, "unknown default"),
        ({"compound_type": [{"id": "x", "share": 1.0}]}, "storeys is required"),
        ({"compound_type": [{"id": "x", "share": 1, "storeys": [6], "floors": 2}]}, "'floors'"),
        ({"households": "many"}, "households must be a whole number"),
    ],
)
def test_bad_city_tables_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=None) as info:
        city_from_dict(data)
    assert message in info.value.message


def test_a_city_file_needs_a_city_table(tmp_path: Path) -> None:
    plain = tmp_path / "plain.toml"
    plain.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r"\[city\] table"):
        load_city(plain)
    broken = tmp_path / "broken.toml"
    broken.write_text("[city\n", encoding="utf-8")
    with pytest.raises(BadInput, match="not valid TOML"):
        load_city(broken)


def test_city_plots_are_written(small_result: CityResult, tmp_path: Path) -> None:
    for name in ("city.png", "city.svg"):
        path = plot_city(small_result, tmp_path / name)
        assert path.stat().st_size > 1000
    assert plot_city(small_result.summary(), tmp_path / "again.png").exists()
    with pytest.raises(BadInput, match=r"\.png or \.svg"):
        plot_city(small_result, tmp_path / "city.pdf")


def test_labels_stay_readable_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    from colift.sim import plots

    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    assert label("week", "周") == "week"
    assert text("示例城市 example") == "example"
    monkeypatch.setattr(plots, "cjk_font", lambda: "Noto Sans CJK SC")
    assert label("week", "周") == "week 周"
    assert text("示例城市") == "示例城市"
