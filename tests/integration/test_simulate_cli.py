"""`colift simulate` on a unit file, a stored unit, a unit scenario and a city; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from colift.cli import app
from colift.coproduction.unitfile import read_unit_file
from colift.services.simulation import scenario_from_facts, simulate_unit_file
from colift.sim import compare_strategies, unit_spec_from_snapshot

ROOT = Path(__file__).resolve().parents[2]
UNIT_FILE = str(ROOT / "examples" / "unit-advise.json")
runner = CliRunner()

SUMMARY_KEYS = {
    "success_rate",
    "success_ci95",
    "weeks_to_consent",
    "weeks_to_service",
    "failure_causes",
    "failure_mix",
    "mean_cooperation",
    "money_fen",
    "share_in_service",
}

SMALL_CITY = """
[city]
name = "small town"
households = 4000
weeks = 26
seed = 5
subsidy_profile = "jinan"
start_share_per_year = 0.5
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_unit_file_json_has_every_strategy_and_key() -> None:
    code, out, err = invoke("simulate", UNIT_FILE, "--runs", "50", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["runs"] == 50 and data["weeks"] == 104
    assert data["scenario"]["subsidy_profile"] == "jinan"  # from the unit's cost plan
    assert list(data["strategies"]) == ["informal_only", "guided", "advisor"]
    for summary in data["strategies"].values():
        assert set(summary) >= SUMMARY_KEYS
        assert summary["units"] == 50
        lo, hi = summary["success_ci95"]
        assert lo <= summary["success_rate"] <= hi


def test_the_service_agrees_with_compare_strategies() -> None:
    data = json.loads(Path(UNIT_FILE).read_text(encoding="utf-8"))
    ours = simulate_unit_file(data, None, ["informal_only", "guided"], 40, 3)
    snapshot = read_unit_file(data)
    scenario = scenario_from_facts(snapshot, data["cost_plan"])
    spec = unit_spec_from_snapshot(snapshot)
    reference = compare_strategies(spec, scenario, ["informal_only", "guided"], 40, 3)
    for name, summary in reference.items():
        assert {k: ours["strategies"][name][k] for k in summary} == summary


def test_unit_file_text_report_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "compare.svg"
    code, out, err = invoke(
        "simulate",
        UNIT_FILE,
        "--runs",
        "30",
        "-s",
        "guided",
        "-s",
        "informal_only",
        "--weeks",
        "52",
        "--plot",
        str(plot),
    )
    assert code == 0, err
    assert "guided" in out and "informal_only" in out and "advisor" not in out
    assert "95% CI" in out and "failure causes" in out and "w52" in out
    assert plot.stat().st_size > 1000


def test_unit_scenario_file() -> None:
    scenario = str(ROOT / "examples" / "unit-scenario.toml")
    code, out, err = invoke("simulate", scenario, "--runs", "20", "-s", "guided", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["scenario"]["compensation_fen"] == 2_000_000
    assert list(data["strategies"]) == ["guided"]
    code, out, err = invoke(
        "simulate", UNIT_FILE, "--scenario", scenario, "--runs", "20", "-s", "guided", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["scenario"]["compensation_fen"] == 2_000_000


def test_a_synthetic_unit_scenario(tmp_path: Path) -> None:
    path = tmp_path / "typical.toml"
    path.write_text("weeks = 30\n[unit]\nstoreys = 7\nper_floor = 3\n", encoding="utf-8")
    code, out, err = invoke("simulate", str(path), "--runs", "10", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["households"] == 21 and data["weeks"] == 30


def test_stored_unit_from_the_demo(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert invoke("demo", "-d", db)[0] == 0
    code, out, err = invoke("simulate", "--unit", "1", "-d", db, "--runs", "30", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["runs"] == 30 and set(data["strategies"]) == {"informal_only", "guided", "advisor"}
    code, out, err = invoke("simulate", "--unit", "1", "-d", db, "--runs", "20", "-s", "guided")
    assert code == 0, err
    assert "guided" in out


def test_city_file(tmp_path: Path) -> None:
    path = tmp_path / "town.toml"
    path.write_text(SMALL_CITY, encoding="utf-8")
    code, out, err = invoke("simulate", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["city"] == "small town" and data["seed"] == 5
    assert {"installations_per_year", "government_cost_fen", "stalls", "by_type"} <= set(data)
    plot = tmp_path / "town.png"
    code, out, err = invoke("simulate", str(path), "--seed", "6", "--plot", str(plot))
    assert code == 0, err
    assert "seed 6" in out and "installations" in out and "stalls" in out
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either a FILE"),
        ([UNIT_FILE, "--unit", "1"], "give either a FILE"),
        ([UNIT_FILE, "-s", "magic"], "unknown strategy 'magic'"),
        ([UNIT_FILE, "--runs", "0"], "--runs must be at least 1"),
        ([UNIT_FILE, "--plot", "out.pdf"], ".png or .svg"),
        (["missing.json"], "file not found"),
        ([str(ROOT / "README.md")], "give a unit file (.json)"),
        ([str(ROOT / "pyproject.toml")], "scenario: unknown fields"),
        ([str(ROOT / "examples" / "city.toml"), "--runs", "5"], "are for a unit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, _, err = invoke("simulate", *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_json_and_unknown_unit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    code, _, err = invoke("simulate", str(bad))
    assert code == 2 and "not valid JSON" in err
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    invoke("demo", "-d", db)
    code, _, err = invoke("simulate", "--unit", "999", "-d", db)
    assert code == 2 and "999" in err
    code, _, err = invoke("simulate", "--unit", "1", "-d", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 2 and "colift init" in err
