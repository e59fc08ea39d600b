"""The `colift evidence` contracts that need no database: suggest, codebook, export --qdc."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from colift.cli import app
from colift.evidence.codebook import default_codebook
from colift.evidence.refiqda import CODEBOOK_XSD, import_qdc, schema_errors

runner = CliRunner()


def test_suggest_json_contract(tmp_path: Path) -> None:
    request = {
        "segments": [
            {"id": "s1", "text": "一楼采光本来就差，电梯井挡在窗前，冬天见不到太阳。"},
            {"id": "s2", "text": "按户交钱，资金归集到共管账户，账目公开。"},
            {"id": "s3", "text": "今天天气不错。"},
        ]
    }
    path = tmp_path / "segments.json"
    path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["evidence", "suggest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    ids = default_codebook().ids()
    assert [s["id"] for s in body["suggestions"]] == ["s1", "s2", "s3"]
    first = body["suggestions"][0]["codes"]
    assert first[0]["code"] == "heterogeneity.low_floor_loss"
    assert "采光" in first[0]["because"]
    for s in body["suggestions"]:
        scores = [c["score"] for c in s["codes"]]
        assert scores == sorted(scores, reverse=True)
        assert all(c["code"] in ids and set(c) == {"code", "score", "because"} for c in s["codes"])
    assert "tool.fund_escrow" in [c["code"] for c in body["suggestions"][1]["codes"]]
    assert body["suggestions"][2]["codes"] == []


def test_suggest_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"segments": [{"text": "没有 id"}]}', encoding="utf-8")
    result = runner.invoke(app, ["evidence", "suggest", str(path), "--json"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "needs an 'id'" in result.stderr
    missing = runner.invoke(app, ["evidence", "suggest", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "file not found" in missing.stderr


def test_codebook_json_contract() -> None:
    result = runner.invoke(app, ["evidence", "codebook", "--json"])
    assert result.exit_code == 0
    codes = json.loads(result.stdout)["codes"]
    assert [c["id"] for c in codes] == default_codebook().ids()
    assert all(set(c) == {"id", "name", "name_en", "parent"} for c in codes)
    assert codes[0]["parent"] is None


def test_export_default_codebook_as_qdc(tmp_path: Path) -> None:
    target = tmp_path / "codebook.qdc"
    result = runner.invoke(app, ["evidence", "export", "--qdc", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert schema_errors(data, CODEBOOK_XSD) == []
    assert import_qdc(data)[0] == default_codebook()


def test_export_needs_exactly_one_target(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evidence", "export"])
    assert result.exit_code == 2
    assert "exactly one of --qdpx FILE or --qdc FILE" in result.stderr
    result = runner.invoke(app, ["evidence", "export", "--qdpx", str(tmp_path / "p.qdpx")])
    assert result.exit_code == 2 and "name the project" in result.stderr
