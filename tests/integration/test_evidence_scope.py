"""Research projects belong to a compound (docs/security.md, "Evidence belongs to its compound").

The authorization matrix (test_api_matrix.py) checks every endpoint for every role; here: what
a listing shows, whose a new project becomes, the pages, the admin's scope change, and that a
project stored before the scope existed stays admins' only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from colift.app import create_app
from colift.http.auth import SESSION_COOKIE
from colift.model.accounts import Account, AccountRole
from colift.services import evidence as ev
from colift.services.access import Principal, Role
from colift.services.accounts import create_account, sign_in
from colift.services.registry import CompoundDetails, create_compound

A, B = "scope-a", "scope-b"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    create_compound(engine, A, CompoundDetails(name="甲小区", city="济南", street="甲街道"))
    create_compound(engine, B, CompoundDetails(name="乙小区", city="济南", street="乙街道"))
    ev.create_project(engine, "a-interviews", actor="t", compound=A)
    ev.create_project(engine, "b-interviews", actor="t", compound=B)
    ev.create_project(engine, "city-wide", actor="t", shared=True)
    ev.create_project(engine, "admins-only", actor="t")
    tokens = {
        "wa": Principal("worker a", Role.WORKER, compound=A),
        "wb": Principal("worker b", Role.WORKER, compound=B),
        "sa": Principal("street a", Role.STREET_VIEWER, street="甲街道"),
        "admin": Principal("admin", Role.ADMIN),
    }
    with TestClient(create_app(engine, tokens), raise_server_exceptions=False) as c:
        yield c


def _as(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}"}


def _names(client: TestClient, who: str) -> set[str]:
    got = client.get("/api/v1/evidence/projects", headers=_as(who))
    assert got.status_code == 200, got.text
    return {p["name"] for p in got.json()["projects"]}


def test_a_listing_shows_only_the_callers_projects(client: TestClient) -> None:
    assert _names(client, "wa") == {"a-interviews", "city-wide"}
    assert _names(client, "wb") == {"b-interviews", "city-wide"}
    assert _names(client, "sa") == {"a-interviews", "city-wide"}
    assert _names(client, "admin") == {"a-interviews", "b-interviews", "city-wide", "admins-only"}


def test_another_compounds_project_cannot_be_read_searched_exported_or_written(
    client: TestClient,
) -> None:
    base = "/api/v1/evidence/projects/a-interviews"
    for url in (base, f"{base}/search?q=电梯", f"{base}/export.qdpx", f"{base}/codings"):
        assert client.get(url, headers=_as("wb")).status_code == 403, url
        assert client.get(url, headers=_as("wa")).status_code == 200, url
    memo = {"text": "乙小区的社工不该写进来"}
    refused = client.post(f"{base}/memos", json=memo, headers=_as("wb"))
    assert refused.status_code == 403
    assert set(refused.json()) == {"error"}
    assert client.post(f"{base}/memos", json=memo, headers=_as("sa")).status_code == 403
    assert client.post(f"{base}/memos", json=memo, headers=_as("wa")).status_code == 201


def test_a_workers_new_project_is_their_compounds(client: TestClient, engine: Engine) -> None:
    made = client.post("/api/v1/evidence/projects", json={"name": "b-new"}, headers=_as("wb"))
    assert made.status_code == 201, made.text
    assert ev.project_scope(engine, "b-new").compound == B
    for body in ({"name": "x", "compound": A}, {"name": "y", "shared": True}):
        got = client.post("/api/v1/evidence/projects", json=body, headers=_as("wb"))
        assert got.status_code == 403, got.text
    assert client.get("/api/v1/evidence/projects/b-new", headers=_as("wa")).status_code == 403


def test_a_codebook_imported_under_a_new_name_makes_a_project_of_the_workers_compound(
    client: TestClient, engine: Engine
) -> None:
    qdc = client.get("/api/v1/evidence/codebook.qdc", headers=_as("wb"))
    assert qdc.status_code == 200
    body = {"content_base64": base64.b64encode(qdc.content).decode()}
    made = client.post("/api/v1/evidence/projects/b-codes/import/qdc", json=body, headers=_as("wb"))
    assert made.status_code == 200, made.text
    assert ev.project_scope(engine, "b-codes").compound == B
    foreign = "/api/v1/evidence/projects/a-interviews/import/qdc"
    assert client.post(foreign, json=body, headers=_as("wb")).status_code == 403


def test_only_an_admin_moves_a_project(client: TestClient, engine: Engine) -> None:
    url = "/api/v1/evidence/projects/admins-only/scope"
    assert client.put(url, json={"compound": B}, headers=_as("wb")).status_code == 403
    moved = client.put(url, json={"compound": B}, headers=_as("admin"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["compound"] == B
    assert "admins-only" in _names(client, "wb")
    both = client.put(url, json={"compound": B, "shared": True}, headers=_as("admin"))
    assert both.status_code == 400
    unknown = client.put(url, json={"compound": "nowhere"}, headers=_as("admin"))
    assert unknown.status_code == 404


def _session(engine: Engine, compound: str) -> dict[str, str]:
    user = f"page-{compound}"
    account = Account(0, user, user, role=AccountRole.WORKER, compound_code=compound)
    create_account(engine, account, "page-password-1")
    return {
        "Cookie": f"{SESSION_COOKIE}={sign_in(engine, user, 'page-password-1', client='t').token}"
    }


def test_pages_refuse_another_compounds_project_in_chinese(
    client: TestClient, engine: Engine
) -> None:
    wa, wb = _session(engine, A), _session(engine, B)
    page = client.get("/evidence/a-interviews", headers=wb)
    assert page.status_code == 403
    assert "属于另一个小区" in page.text
    assert client.get("/evidence/a-interviews", headers=wa).status_code == 200
    listing = client.get("/evidence", headers=wb)
    assert "b-interviews" in listing.text and "a-interviews" not in listing.text


def test_a_project_stored_before_scoping_is_admins_only(engine: Engine) -> None:
    ev.create_project(engine, "old", actor="t")
    with engine.begin() as conn:  # as revision 0009 leaves a project that existed before it
        row = conn.execute(
            text("SELECT compound_id, shared FROM evidence_projects WHERE name = 'old'")
        ).one()
    assert row.compound_id is None and not row.shared
    scope = ev.project_scope(engine, "old")
    assert scope.compound is None and scope.shared is False


def test_the_command_line_scopes_a_project(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from colift.cli import app
    from colift.store import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'c.db'}"
    local = make_engine(url)
    migrate(local)
    create_compound(local, A, CompoundDetails(name="甲小区", city="济南", street="甲街道"))
    ev.create_project(local, "p", actor="t")
    runner = CliRunner()
    moved = runner.invoke(app, ["evidence", "scope", "p", "--compound", A, "--database", url])
    assert moved.exit_code == 0, moved.output
    assert ev.project_scope(local, "p").compound == A
    listed = runner.invoke(app, ["evidence", "projects", "--json", "--database", url])
    assert '"compound": "scope-a"' in listed.output
    shared = runner.invoke(app, ["evidence", "scope", "p", "--shared", "--database", url])
    assert shared.exit_code == 0, shared.output
    assert ev.project_scope(local, "p") == ev.ProjectScope("p", None, None, True)
    local.dispose()
