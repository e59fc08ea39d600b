"""The calibration commands end to end: demo, calibrate --json, params, simulate --params and
--sensitivity --json, advise beside the evidence."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from colift.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_calibrate_params_and_simulate_with_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert invoke("demo", "-d", db)[0] == 0
    code, out, err = invoke(
        "calibrate", "-c", "hx-1994", "-p", "negotiation_median_weeks", "--particles", "6",
        "--generations", "1", "--save", "fit", "--dates-only", "--json", "-d", db,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["saved"]["name"] == "fit" and result["parameters"][0]["interval90"]
    assert "evidence" in result and "evidence_check" in result
    assert result["summaries_used"] == [
        "consented", "consent_time", "consent_early", "served", "service_time"
    ]  # fmt: skip
    for flag in ((), ("--activities",)):  # what the record holds on the way: the default
        code, out, err = invoke(
            "calibrate", "-c", "hx-1994", "-p", "p_technical", "--particles", "6",
            "--generations", "1", *flag, "--json", "-d", db,
        )  # fmt: skip
        assert code == 0, err
        used = json.loads(out)["summaries_used"]
        assert {"objections_per_consent", "technical_share"} <= set(used)
        # the demo compound's households were heard at its first survey and not again near
        # week 4 or 12, so it has no stance change to fit; its units are all guided, so no
        # informal or formal timing either
        assert not any(n.startswith("stance_") for n in used)
        assert not any(n.endswith(("_informal", "_formal")) for n in used)
    code, out, err = invoke("params", "list", "--json", "-d", db)
    assert code == 0 and [s["name"] for s in json.loads(out)] == ["fit"]
    code, out, err = invoke(
        "simulate", str(EXAMPLES / "unit-scenario.toml"), "--params", "fit", "--runs", "5",
        "--weeks", "10", "--json", "-d", db,
    )  # fmt: skip
    assert code == 0, err
    assert (
        json.loads(out)["params"]
        == json.loads(invoke("params", "show", "fit", "--json", "-d", db)[1])["values"]
    )
    code, _, err = invoke("params", "show", "nope", "-d", db)
    assert code == 2 and "没有名为nope的参数集" in err
    code, out, err = invoke("calibrate", "-d", db)
    assert code == 2 and "--street" in err
    code, out, _ = invoke("advise", "--unit", "1", "-d", db)
    assert code == 0
    code, out, err = invoke(
        "simulate", "--unit", "1", "--params", "fit", "--runs", "4", "--weeks", "10", "-d", db
    )
    assert code == 0, err
    assert "参数集 fit（指定" in out and "hx-1994" in out


def test_advise_with_a_stored_parameter_set_forecasts_with_its_provenance(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert invoke("demo", "-d", db)[0] == 0
    code, out, err = invoke(
        "calibrate", "-c", "hx-1994", "-p", "negotiation_median_weeks", "--particles", "6",
        "--generations", "1", "--save", "fit", "--dates-only", "--json", "-d", db,
    )  # fmt: skip
    assert code == 0, err
    fitted = json.loads(out)["parameters"][0]["median"]
    code, out, err = invoke(
        "advise", "--unit", "1", "--params", "fit", "--runs", "6", "--json", "-d", db
    )
    assert code == 0, err
    forecast = json.loads(out)["forecast"]
    used = forecast["param_set"]
    assert used["name"] == "fit" and used["chosen"] == "named"
    assert used["values"] == {"negotiation_median_weeks": fitted}
    assert used["compounds"] == ["hx-1994"] and used["method"] == "ABC-SMC"
    assert forecast["strategy"] == "advisor" and forecast["runs"] == 6
    for key in ("with_params", "defaults"):
        assert 0.0 <= forecast[key]["success_rate"] <= 1.0
    code, out, err = invoke("advise", "--unit", "1", "--params", "fit", "--runs", "6", "-d", db)
    assert code == 0, err
    assert "按建议推进的模拟预测" in out and "参数集 fit（指定；ABC-SMC" in out
    assert "该参数集" in out and "默认参数" in out
    # a unit file, under the adopted set; none adopted yet: the defaults, said so
    unit_file = str(EXAMPLES / "unit-advise.json")
    code, out, err = invoke("advise", unit_file, "--params", "adopted", "--runs", "4", "-d", db)
    assert code == 0, err
    assert "参数：默认值（未采用校准参数集）" in out
    assert invoke("params", "adopt", "fit", "-d", db)[0] == 0
    code, out, err = invoke(
        "advise", unit_file, "--params", "adopted", "--runs", "4", "--json", "-d", db
    )
    assert code == 0, err
    assert json.loads(out)["forecast"]["param_set"]["chosen"] == "adopted"
    code, _, err = invoke("advise", "--unit", "1", "--params", "nope", "-d", db)
    assert code == 2 and "没有名为nope的参数集" in err


def test_simulate_sensitivity_json_prints_sobol_indices() -> None:
    code, out, err = invoke(
        "simulate", str(EXAMPLES / "unit-scenario.toml"), "--sensitivity", "--samples", "2",
        "--runs", "4", "--weeks", "20", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert set(data["indices"]) >= {"success", "weeks_to_consent", "weeks_to_service"}
    assert set(data["indices"]["success"]["ST"]) == set(data["parameters"])
