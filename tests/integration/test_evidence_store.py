"""Evidence on both databases: the repository, the services, the CLI and the /evidence router."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from colift.api.evidence_routes import evidence_router
from colift.cli import app as cli_app
from colift.errors import BadInput, NotFound
from colift.evidence.refiqda import PROJECT_XSD, import_qdpx, schema_errors
from colift.http.errors import install_error_handlers
from colift.services import evidence as ev
from colift.services.access import Principal, Role
from colift.services.registry import CompoundDetails, create_compound

DEMO = ev.DEMO_PROJECT
ACTOR = "研究员甲"


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    assert ev.seed_evidence_demo(engine) is True
    assert ev.seed_evidence_demo(engine) is False
    return engine


def test_demo_project_is_stored_exactly(seeded: Engine) -> None:
    stored = ev.get_project(seeded, DEMO)
    built = ev.demo_project()
    assert list(stored.codebook) == list(built.codebook)
    assert stored.sources == built.sources
    assert stored.cases == built.cases
    assert sorted(stored.codings, key=repr) == sorted(built.codings, key=repr)
    assert stored.memos == built.memos
    (summary,) = ev.list_projects(seeded)
    assert (summary.sources, summary.codings) == (7, len(built.codings))
    assert set(summary.coders) == {"研究员甲", "研究员乙"}


def test_two_coders_agree_mostly_but_not_fully(seeded: Engine) -> None:
    report = ev.agreement_report(seeded, DEMO)
    assert report.kappa is not None and 0.7 < report.kappa < 1
    assert report.disagreements


def test_crlf_source_offsets_are_stable_in_the_database(engine: Engine, tmp_path: Path) -> None:
    ev.create_project(engine, "p", actor=ACTOR)
    text = "问：一楼怎么看？\r\n答：一楼采光本来就差。\r\n"
    path = tmp_path / "访谈.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    source = ev.import_source(engine, "p", path, source_id="s1", actor=ACTOR)
    start = text.index("一楼采光")
    ev.code_segment(engine, "p", "s1", start, start + 4, "heterogeneity.low_floor_loss", ACTOR)
    stored = ev.get_project(engine, "p")
    assert stored.sources["s1"].text == text == source.text
    (coding,) = stored.codings
    assert stored.sources["s1"].text[coding.start : coding.end] == "一楼采光"


def test_coding_errors_are_bad_input(engine: Engine) -> None:
    ev.create_project(engine, "p", actor=ACTOR)
    ev.add_source(engine, "p", "一楼采光差".encode(), "a.txt", source_id="s1", actor=ACTOR)
    with pytest.raises(BadInput, match="outside"):
        ev.code_segment(engine, "p", "s1", 0, 99, "heterogeneity.low_floor_loss", ACTOR)
    with pytest.raises(BadInput, match="not in the codebook"):
        ev.code_segment(engine, "p", "s1", 0, 2, "no.such", ACTOR)
    with pytest.raises(BadInput, match="start < end"):
        ev.code_segment(engine, "p", "s1", 3, 3, "heterogeneity.low_floor_loss", ACTOR)
    with pytest.raises(NotFound):
        ev.code_segment(engine, "nope", "s1", 0, 2, "heterogeneity.low_floor_loss", ACTOR)
    with pytest.raises(BadInput, match="already exists"):
        ev.create_project(engine, "p", actor=ACTOR)


def test_cases_links_memos_and_codebook_edits(seeded: Engine) -> None:
    ev.add_case(seeded, DEMO, "cheng-bowen", "程博文（202）", {"floor": "2", "role": "住户"})
    ev.link_source_to_case(seeded, DEMO, "interview-unit-leader", "cheng-bowen")
    ev.link_source(seeded, DEMO, "interview-unit-leader", "person", "林天佑")
    with pytest.raises(NotFound):
        ev.link_source(seeded, DEMO, "interview-unit-leader", "compound", "no-such-compound")
    memo = ev.add_memo(
        seeded,
        DEMO,
        "二楼的犹豫来自出资",
        ACTOR,
        target_kind="code",
        target="heterogeneity.ability_to_pay",
    )
    before = ev.get_project(seeded, DEMO)
    n_trust = sum(c.code == "heterogeneity.trust" for c in before.codings)
    record = ev.edit_codebook(
        seeded,
        DEMO,
        "merge",
        "heterogeneity.ability_to_pay",
        actor=ACTOR,
        into="heterogeneity.floor_interest",
    )
    assert record.operation == "merge"
    ev.edit_codebook(seeded, DEMO, "rename", "heterogeneity.trust", actor=ACTOR, name="邻里信任")
    after = ev.get_project(seeded, DEMO)
    assert "heterogeneity.ability_to_pay" not in after.codebook
    assert not any(c.code == "heterogeneity.ability_to_pay" for c in after.codings)
    assert after.codebook.get("heterogeneity.trust").name == "邻里信任"
    assert sum(c.code == "heterogeneity.trust" for c in after.codings) == n_trust
    assert after.memos[memo.id].target == "heterogeneity.floor_interest"
    assert [h.operation for h in after.history] == ["merge", "rename"]
    assert "cheng-bowen" in after.sources["interview-unit-leader"].case_ids
    with pytest.raises(BadInput, match="unknown codebook edit"):
        ev.edit_codebook(seeded, DEMO, "explode", "heterogeneity.trust", actor=ACTOR)


def test_suggestions_are_stored_only_when_accepted(seeded: Engine) -> None:
    project = ev.get_project(seeded, DEMO)
    text = project.sources["interview-602"].text
    start = text.index("钱都存到")
    end = start + 30
    found = ev.suggest_for_segment(seeded, DEMO, "interview-602", start, end)
    assert found and all(s.score > 0 for s in found)
    n = len(project.codings)
    first, *rest = found
    assert (
        ev.decide_suggestion(
            seeded,
            DEMO,
            "interview-602",
            start,
            end,
            first.code,
            accepted=False,
            coder=ACTOR,
            score=first.score,
        )
        is None
    )
    assert len(ev.get_project(seeded, DEMO).codings) == n
    again = ev.suggest_for_segment(seeded, DEMO, "interview-602", start, end)
    assert first.code not in [s.code for s in again]
    if rest:
        made = ev.decide_suggestion(
            seeded, DEMO, "interview-602", start, end, rest[0].code, accepted=True, coder=ACTOR
        )
        assert made is not None and made in ev.get_project(seeded, DEMO).codings
    assert len(ev.suggestion_decisions(seeded, DEMO)) == 1 + bool(rest)


def test_export_import_round_trip_through_the_database(seeded: Engine) -> None:
    data = ev.export_project_qdpx(seeded, DEMO)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert schema_errors(archive.read("project.qde"), PROJECT_XSD) == []
    result = ev.import_project_qdpx(seeded, data, name="副本", actor=ACTOR)
    copy = ev.get_project(seeded, "副本")
    original = ev.get_project(seeded, DEMO)
    assert copy.sources == original.sources and copy.cases == original.cases
    assert sorted(copy.codings, key=repr) == sorted(original.codings, key=repr)
    assert copy.memos == original.memos
    assert result.project.name == "副本"
    again = import_qdpx(ev.export_project_qdpx(seeded, "副本")).project
    assert sorted(again.codings, key=repr) == sorted(copy.codings, key=repr)


def test_qdc_import_creates_or_replaces_a_codebook(seeded: Engine) -> None:
    data = ev.export_codebook_qdc(seeded, DEMO)
    made, warnings = ev.import_codebook_qdc(seeded, data, "新项目", actor=ACTOR)
    assert len(made.codebook) == len(ev.codebook_of(seeded, "新项目")) and warnings == []
    replaced, _ = ev.import_codebook_qdc(seeded, data, DEMO, actor=ACTOR)
    assert replaced.history[-1].operation == "import"


def test_analysis_and_search(seeded: Engine) -> None:
    report = ev.analysis_report(seeded, DEMO)
    assert report.code_totals["heterogeneity.low_floor_loss"] > 0
    assert "floor" in report.frequencies
    assert report.saturation[0].source_id == "interview-secretary"
    hits = ev.search_sources(seeded, DEMO, "采光")
    assert hits and all(h.match == "采光" for h in hits)


# ---------------------------------------------------------------- the command line


def test_cli_import_code_agreement_export(seeded: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    url = seeded.url.render_as_string(hide_password=False)
    db = ["--database", url]
    source = tmp_path / "访谈-楼长.md"
    source.write_text("# 访谈\r\n党员带头签字，一楼采光差。", encoding="utf-8")
    r = runner.invoke(cli_app, ["evidence", "import", str(source), "--project", "cli", *db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli_app,
        [
            "evidence",
            "code",
            "cli",
            "访谈-楼长",
            "6",
            "12",
            "tool.party_member_pledge",
            "--coder",
            "甲",
            *db,
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli_app,
        [
            "evidence",
            "code",
            "cli",
            "访谈-楼长",
            "6",
            "999",
            "tool.party_member_pledge",
            "--coder",
            "甲",
            *db,
        ],
    )
    assert r.exit_code == 2 and "outside" in r.stderr
    r = runner.invoke(cli_app, ["evidence", "agreement", DEMO, "--json", *db])
    assert r.exit_code == 0 and json.loads(r.stdout)["kappa"] > 0.7
    target = tmp_path / "demo.qdpx"
    r = runner.invoke(cli_app, ["evidence", "export", DEMO, "--qdpx", str(target), *db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["evidence", "import", str(target), "--project", "again", *db])
    assert r.exit_code == 0 and "codings" in r.stdout
    r = runner.invoke(cli_app, ["evidence", "search", DEMO, "监管账户", *db])
    assert r.exit_code == 0 and "hits" in r.stdout
    r = runner.invoke(cli_app, ["evidence", "analyse", DEMO, "--json", *db])
    assert r.exit_code == 0 and "saturation" in json.loads(r.stdout)


# ---------------------------------------------------------------- the API router


@pytest.fixture
def client(seeded: Engine) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    # the callers' compound owns the demo project (docs/security.md: evidence is scoped)
    create_compound(seeded, "hx-1994", CompoundDetails(name="红星家属院", city="济南"))
    ev.set_project_scope(seeded, ev.DEMO_PROJECT, compound="hx-1994")
    api = FastAPI()
    api.state.engine = seeded
    tokens = {f"t-{role.value}": Principal(role.value, role, compound="hx-1994") for role in Role}
    api.state.tokens = tokens
    install_error_handlers(api)
    api.include_router(evidence_router)
    headers = {p.role: {"Authorization": f"Bearer {t}"} for t, p in tokens.items()}
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c, headers


def test_api_read_and_write_permissions(
    client: tuple[TestClient, dict[Role, dict[str, str]]],
) -> None:
    c, h = client
    assert c.get("/evidence/projects").status_code == 401
    for role in (Role.ADMIN, Role.WORKER, Role.STREET_VIEWER):
        assert c.get("/evidence/projects", headers=h[role]).status_code == 200
    for role in (Role.RESIDENT, Role.UNIT_LEADER):
        assert c.get("/evidence/projects", headers=h[role]).status_code == 403
    body = {"name": "街道项目"}
    assert c.post("/evidence/projects", json=body, headers=h[Role.STREET_VIEWER]).status_code == 403
    assert c.post("/evidence/projects", json=body, headers=h[Role.WORKER]).status_code == 201


def test_api_coding_flow_and_reports(client: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    c, h = client
    w = h[Role.WORKER]
    r = c.post(
        f"/evidence/projects/{DEMO}/sources",
        json={"filename": "群聊.txt", "text": "楼长：资金进监管账户。\r\n"},
        headers=w,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = c.post(
        f"/evidence/projects/{DEMO}/codings",
        json={"source": sid, "start": 3, "end": 10, "code": "tool.fund_escrow"},
        headers=w,
    )
    assert r.status_code == 201, r.text
    assert r.json()["coder"] == "worker"
    r = c.post(
        f"/evidence/projects/{DEMO}/codings",
        json={"source": sid, "start": 3, "end": 99, "code": "tool.fund_escrow"},
        headers=w,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    assert c.get("/evidence/projects/nope", headers=w).status_code == 404
    s = c.get(f"/evidence/projects/{DEMO}/sources/{sid}", headers=w).json()
    assert s["text"] == "楼长：资金进监管账户。\r\n" and len(s["codings"]) == 1
    r = c.post(
        "/evidence/suggest", json={"segments": [{"id": "a", "text": "一楼采光差"}]}, headers=w
    )
    assert r.json()["suggestions"][0]["codes"][0]["code"] == "heterogeneity.low_floor_loss"
    analysis = c.get(f"/evidence/projects/{DEMO}/analysis", headers=w)
    assert analysis.status_code == 200 and analysis.json()["cooccurrence"]["pairs"]
    hits = c.get(f"/evidence/projects/{DEMO}/search", params={"q": "采光"}, headers=w).json()
    assert hits["hits"]
    r = c.post(
        f"/evidence/projects/{DEMO}/memos",
        json={"text": "备忘", "target_kind": "source", "target": sid},
        headers=w,
    )
    assert r.status_code == 201
    exported = c.get(f"/evidence/projects/{DEMO}/export.qdpx", headers=h[Role.STREET_VIEWER])
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    r = c.post(
        "/evidence/import/qdpx",
        headers=w,
        json={"content_base64": base64.b64encode(exported.content).decode(), "name": "导入"},
    )
    assert r.status_code == 201 and r.json()["codings"] > 100
    assert c.get("/evidence/codebook.qdc", headers=w).content.startswith(b"<?xml")
    r = c.post(
        f"/evidence/projects/{DEMO}/codebook/edits",
        headers=w,
        json={"operation": "move", "code": "analytic.contradicts", "new_parent": "outcome"},
    )
    assert r.status_code == 200, r.text
