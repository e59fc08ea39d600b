"""The CLI contracts: `colift consent evaluate` and `colift costshare`, their JSON and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from colift.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def write(tmp_path: Path, data: Any, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data)
    return path


def unit(**extra: Any) -> dict[str, Any]:
    hh = [
        {"id": f"{f}0{d}", "floor": f, "area_m2": "56.30", "owner": f"O{f}{d}", "vote": "agree"}
        for f in range(1, 7)
        for d in (1, 2)
    ]
    return {"rule": "cn-civil-code-278", "households": hh, **extra}


def test_consent_evaluate_json_has_the_contract_fields(tmp_path: Path) -> None:
    result = runner.invoke(app, ["consent", "evaluate", str(write(tmp_path, unit())), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["passed"] is True and out["quorum_met"] is True and out["approval_met"] is True
    assert (out["total_area"], out["participating_area"], out["agree_area"]) == ("675.60",) * 3
    assert (out["total_heads"], out["participating_heads"], out["agree_heads"]) == (12, 12, 12)
    assert out["reasons"] == []


def test_consent_evaluate_example_files() -> None:
    ok = runner.invoke(
        app, ["consent", "evaluate", str(ROOT / "examples/unit-consent.json"), "--json"]
    )
    assert json.loads(ok.stdout)["passed"] is True
    blocked = runner.invoke(
        app, ["consent", "evaluate", str(ROOT / "examples/unit-consent-chengdu.json"), "--json"]
    )
    out = json.loads(blocked.stdout)
    assert out["passed"] is False and out["quorum_met"] is None
    assert "objection by 101" in out["reasons"][0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (unit(rule="nowhere-2099"), "unknown consent rule"),
        ("{not json", "not valid JSON"),
        ({"households": [{"id": "1", "area_m2": "-1", "vote": "agree"}]}, "positive"),
        ({"households": [{"id": "1", "area_m2": "x", "vote": "agree"}]}, "not a number"),
        ({"households": [{"id": "1", "area_m2": "50", "vote": "perhaps"}]}, "unknown vote"),
        (
            {
                "households": [
                    {"id": "1", "area_m2": "50", "owner": "A", "vote": "agree"},
                    {"id": "2", "area_m2": "50", "owner": "A", "vote": "disagree"},
                ]
            },
            "one owner casts one vote",
        ),
    ],
)
def test_consent_bad_input_exits_2_with_one_line(tmp_path: Path, data: Any, message: str) -> None:
    result = runner.invoke(app, ["consent", "evaluate", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["consent", "evaluate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_costshare_json_contract(tmp_path: Path) -> None:
    data = {
        "total_fen": 45_000_000,
        "subsidy_fen": 0,
        "scheme": {
            "kind": "floor-coefficient",
            "coefficients": {"1": "0", "3": "0.7"},
            "area_weighted": True,
        },
        "households": [
            {"id": "101", "floor": 1, "area_m2": "56.30"},
            {"id": "301", "floor": 3, "area_m2": "56.30"},
            {"id": "302", "floor": 3, "area_m2": "62.15"},
        ],
    }
    result = runner.invoke(app, ["costshare", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["payable_fen"] == 45_000_000
    assert [s["id"] for s in out["shares"]] == ["101", "301", "302"]
    assert sum(s["fen"] for s in out["shares"]) == 45_000_000
    assert out["shares"][0]["fen"] == 0


def test_costshare_accepts_a_subsidy_profile(tmp_path: Path) -> None:
    data = {
        "total_fen": 45_000_000,
        "subsidy_profile": "shanghai",
        "scheme": {"kind": "equal"},
        "households": [{"id": str(i), "floor": 2 + i % 5, "area_m2": "60"} for i in range(10)],
    }
    out = json.loads(runner.invoke(app, ["costshare", str(write(tmp_path, data)), "--json"]).stdout)
    assert out["payable_fen"] == 45_000_000 - 18_000_000  # 40% of ¥450,000, under the ¥280,000 cap


def test_costshare_bad_input(tmp_path: Path) -> None:
    data = {"total_fen": 1.5, "scheme": {"kind": "equal"}, "households": [{"id": "1", "floor": 1}]}
    result = runner.invoke(app, ["costshare", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, unit(rule="nowhere"))
    proc = subprocess.run(
        [sys.executable, "-m", "colift.cli", "consent", "evaluate", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("colift: 未知的表决规则 'nowhere'")
    assert "unknown consent rule 'nowhere'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_advise_file_contract() -> None:
    result = runner.invoke(app, ["advise", str(ROOT / "examples/unit-advise.json"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert isinstance(out["heterogeneity"]["index"], float)
    assert isinstance(out["heterogeneity"]["dimensions"], dict)
    assert isinstance(out["obstacles"], list) and out["obstacles"]
    assert out["cooperation_level"] == 2
    first = out["recommendations"][0]
    assert {"role", "tool", "targets", "rationale"} <= set(first)


def test_advise_prints_a_chinese_checklist_without_tool_ids() -> None:
    from colift.coproduction.catalogue import load_catalogue

    result = runner.invoke(app, ["advise", str(ROOT / "examples/unit-advise.json")])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for heading in (
        "当前障碍",
        "下一步（按先后）",
        "谁去做：",
        "为什么：",
        "怎么做：",
        "做完记录：",
    ):
        assert heading in text, heading
    # 501's share is above what it can pay: the first answer is a personal funding lever
    assert "1. 公积金提取帮办 —— 对象：501" in text
    assert not [t.id for t in load_catalogue() if t.id in text]
    first = json.loads(
        runner.invoke(app, ["advise", str(ROOT / "examples/unit-advise.json"), "--json"]).stdout
    )["recommendations"][0]
    assert first["tool"] == "provident_fund_withdrawal" and first["rule"] == "cost_gap"
    assert first["how_zh"] and first["record_zh"] and first["why_zh"].startswith("501")


def test_advise_bad_file_is_one_line(tmp_path: Path) -> None:
    data = {
        "households": [{"id": "101", "floor": 1, "area_m2": "50"}],
        "stances": [{"household": "909", "stance": "support"}],
    }
    result = runner.invoke(app, ["advise", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "colift: 第 1 条态度：住户 '909' 不在本单元 / stance #1: household '909' is not in the unit"
    )  # the command line says it in both languages


def test_consent_profiles_shows_every_version_in_full_and_as_json() -> None:
    from colift.rules.consent import all_profiles

    shown = runner.invoke(app, ["consent", "profiles", "--on", "2026-12-03"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    for profile in all_profiles():
        assert profile.id in shown.stdout
        for source in profile.sources:  # titles in full, never cut to the terminal's width
            assert source.title in shown.stdout.replace("\n    ", " ").replace("\n", ""), (
                source.title
            )
    assert "京建发〔2023〕306号" in shown.stdout
    as_json = runner.invoke(app, ["consent", "profiles", "--json"])
    data = json.loads(as_json.stdout)
    beijing = next(p for p in data["profiles"] if p["id"] == "beijing-2023")
    assert beijing["key"] == "beijing" and beijing["confidence"] == "secondary"
    assert beijing["in_force_from"] == "2023-09-18" and beijing["in_force_until"] is None
    assert beijing["sources"][0]["url"].startswith("http")
    old = next(p for p in data["profiles"] if p["id"] == "chengdu-2018")
    assert old["laxer_than_civil_code"] and not old["in_force_on_day"]


def test_consent_evaluate_counts_a_city_under_the_rule_of_the_day(tmp_path: Path) -> None:
    votes = [("agree" if i < 8 else "disagree") for i in range(12)]
    data = unit(rule="beijing")
    for h, v in zip(data["households"], votes, strict=True):
        h["vote"] = v
    path = write(tmp_path, data)
    today = json.loads(runner.invoke(app, ["consent", "evaluate", str(path), "--json"]).stdout)
    assert today["rule"] == "beijing-2023" and today["passed"] is False
    then = runner.invoke(app, ["consent", "evaluate", str(path), "--on", "2020-07-01", "--json"])
    assert json.loads(then.stdout)["rule"] == "beijing-2020"
    assert json.loads(then.stdout)["passed"] is True
    text = runner.invoke(
        app, ["consent", "evaluate", str(write(tmp_path, unit(rule="chengdu-2018"), "old.json"))]
    )
    assert "民法典第二百七十八条" in text.stdout and "laxer than Civil Code art. 278" in text.stdout
    bad = runner.invoke(app, ["consent", "evaluate", str(path), "--on", "someday"])
    assert bad.exit_code == 2 and "must be a date" in bad.stderr


def test_costshare_shows_now_later_and_sources(tmp_path: Path) -> None:
    data = {
        "total_fen": 45_000_000,
        "households": [{"id": f"{f}01", "floor": f, "area_m2": "60"} for f in range(1, 7)],
        "funding": [
            {"household": "601", "kind": "provident_fund", "fen": 1_000_000},
            {"household": "601", "kind": "instalments", "count": 2},
        ],
    }
    shown = runner.invoke(app, ["costshare", str(write(tmp_path, data))])
    assert shown.exit_code == 0, shown.output
    assert "provident_fund" in shown.stdout and "Civil Code art. 283" in shown.stdout
    out = json.loads(runner.invoke(app, ["costshare", str(write(tmp_path, data)), "--json"]).stdout)
    funding = out["shares"][-1]["funding"]
    assert funding["pays_now_fen"] == 0 and funding["pays_later_fen"] == 7_500_000 - 1_000_000
    assert funding["later_instalments"] == [3_250_000, 3_250_000]
    assert out["funding"]["totals"]["provident_fund"] == 1_000_000
