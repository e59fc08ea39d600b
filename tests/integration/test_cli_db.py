"""The database commands as a community worker runs them: init, import, export, demo, ledger."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from colift.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def db(tmp_path: Path) -> list[str]:
    return ["--database", f"sqlite:///{tmp_path / 'c.db'}"]


def test_commands_need_init_first(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(tmp_path / "x.csv"), "-c", "a", *db(tmp_path)])
    assert result.exit_code == 2
    assert "colift init" in result.stderr


def test_import_export_and_unit_report(tmp_path: Path) -> None:
    init = runner.invoke(app, ["init", *db(tmp_path)])
    assert init.exit_code == 0 and "ledger key" in init.stdout and "COLIFT_LEDGER_KEY" in init.stdout
    roster = str(ROOT / "examples" / "roster.csv")
    args = ["import", roster, "-c", "jsl", "--name", "建设里", "--city", "大连市", *db(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "48 flats" in result.stdout
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already registered" in again.stderr
    assert "row 2, 房号" in again.stderr
    out = tmp_path / "export.xlsx"
    assert runner.invoke(app, ["export", str(out), "-c", "jsl", *db(tmp_path)]).exit_code == 0
    assert out.stat().st_size > 0
    unit = runner.invoke(app, ["consent", "unit", "3-1", "-c", "jsl", "--json", *db(tmp_path)])
    assert unit.exit_code == 0, unit.output
    assert json.loads(unit.stdout)["total_heads"] >= 1
    missing = runner.invoke(app, ["consent", "unit", "9-9", "-c", "jsl", *db(tmp_path)])
    assert missing.exit_code == 2 and "no unit 9-9" in missing.stderr


def test_a_bad_roster_lists_every_row_and_imports_nothing(tmp_path: Path) -> None:
    runner.invoke(app, ["init", *db(tmp_path)])
    bad = str(ROOT / "tests" / "data" / "bad.csv")
    result = runner.invoke(
        app, ["import", bad, "-c", "x", "--name", "x", "--city", "y", *db(tmp_path)]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert "nothing was imported" in lines[0]
    assert len(lines) > 3 and all(line.startswith("  row ") for line in lines[1:])
    with create_engine(f"sqlite:///{tmp_path / 'c.db'}").connect() as conn:
        assert conn.execute(text("select count(*) from compounds")).scalar_one() == 0


def test_demo_prints_the_compound_and_the_ledger_verifies(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", *db(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "红星机械厂家属院" in result.stdout
    assert "units have consent" in result.stdout
    ok = runner.invoke(app, ["ledger", "verify", *db(tmp_path)])
    assert ok.exit_code == 0 and "ledger intact" in ok.stdout
    with create_engine(f"sqlite:///{tmp_path / 'c.db'}").begin() as conn:
        conn.execute(text("update ledger set actor = 'someone else' where seq = 30"))
    broken = runner.invoke(app, ["ledger", "verify", *db(tmp_path)])
    assert broken.exit_code == 1
    assert "ledger BROKEN" in broken.stderr and "compound:1 #30" in broken.stderr


def test_advise_a_stored_unit(tmp_path: Path) -> None:
    runner.invoke(app, ["demo", *db(tmp_path)])
    result = runner.invoke(app, ["advise", "--unit", "1", "--json", *db(tmp_path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {"heterogeneity", "obstacles", "cooperation_level", "recommendations"}
    assert 0 <= out["heterogeneity"]["index"] <= 1
    missing = runner.invoke(app, ["advise", "--unit", "9999", *db(tmp_path)])
    assert missing.exit_code == 2
    neither = runner.invoke(app, ["advise", *db(tmp_path)])
    assert neither.exit_code == 2 and "either a unit FILE or --unit" in neither.stderr
