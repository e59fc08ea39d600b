"""Bad input to every /api/v1 endpoint answers 4xx in the one error shape, never a 500.

Wrong types, missing fields, unknown ids, illegal stage and objection moves, votes without an
open round, repeated and changed votes, unknown tools and roles, bad dates, files that are no
roster, oversized simulations; on SQLite and PostgreSQL. The demo compound is seeded once per
module and backend; callers hold the in-memory tokens of `demo_tokens`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.errors import NotFound
from colift.http.auth import demo_tokens
from colift.services.access import Role
from colift.services.costshare import unit_cost_shares
from colift.services.demo import seed_demo
from colift.services.documents import DOCUMENTS, chromium_path
from colift.services.registry import list_units
from colift.services.workflow import unit_stage
from colift.store import make_engine, migrate

API = "/api/v1"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
DATA = Path(__file__).resolve().parent.parent / "data"
VOTING_UNIT = "2栋1单元"  # the demo unit in the middle of its vote
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@dataclass
class World:
    engine: Engine
    client: TestClient
    code: str
    tokens: dict[Role, str]
    unit: int  # in its vote, with an open round
    room: str
    other_room: str

    def headers(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(f"{API}{path}", headers=self.headers(), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(f"{API}{path}", headers=self.headers(), **kwargs)


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('inputs') / 'colift.db'}")
        migrate(engine)
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create(template=server.migrated_template())
        engine = make_engine(server.url(name))
        drop = lambda: server.drop(name)  # noqa: E731
    try:
        code, _ = seed_demo(engine)
        tokens = demo_tokens(engine, code)
        unit = next(u.id for u in list_units(engine, code) if u.label == VOTING_UNIT)
        with TestClient(create_app(engine, tokens), raise_server_exceptions=False) as client:
            admin = next(t for t, p in tokens.items() if p.role is Role.ADMIN)
            body = client.get(
                f"{API}/units/{unit}", headers={"Authorization": f"Bearer {admin}"}
            ).json()
            rooms = [h["room"] for h in body["households"]]
            yield World(
                engine, client, code, {p.role: t for t, p in tokens.items()}, unit, *rooms[:2]
            )
    finally:
        engine.dispose()
        drop()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


# --- one row per bad request: (what, method, path, request, status, code) ----------------------

U = "{unit}"
# endpoints that take no input but the caller (tested in test_api_matrix)
INPUTLESS = {
    ("GET", "/me"),
    ("GET", "/compounds"),
    ("GET", "/accounts"),
    ("GET", "/street"),
    ("GET", "/me/tokens"),
}
BAD: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
    ("unknown path", "GET", "/nowhere", {}, 404, "not_found"),
    ("method not allowed", "DELETE", f"/units/{U}", {}, 405, "method_not_allowed"),
    ("report of unknown compound", "GET", "/compounds/nowhere/report", {}, 404, "not_found"),
    ("overview of unknown compound", "GET", "/compounds/nowhere/overview", {}, 404, "not_found"),
    ("unit id not a number", "GET", "/units/abc", {}, 422, "invalid_request"),
    ("unknown unit", "GET", "/units/99999", {}, 404, "not_found"),
    ("advice of unknown unit", "GET", "/units/99999/advice", {}, 404, "not_found"),
    ("activities of unknown unit", "GET", "/units/99999/activities", {}, 404, "not_found"),
    ("objections of unknown unit", "GET", "/units/99999/objections", {}, 404, "not_found"),
    ("objections, unit not a number", "GET", "/units/x/objections", {}, 422, None),
    ("cost plan of unknown unit", "GET", "/units/99999/cost-plan", {}, 404, "not_found"),
    ("stage of unknown unit", "GET", "/units/99999/stage", {}, 404, "not_found"),
    ("document of unknown unit", "GET", "/units/99999/documents/survey", {}, 404, "not_found"),
    ("unknown document", "GET", f"/units/{U}/documents/menu", {}, 422, "invalid_request"),
    (
        "unknown document format",
        "GET",
        f"/units/{U}/documents/survey",
        {"params": {"format": "doc"}},
        422,
        None,
    ),
    ("whatif of unknown unit", "GET", "/units/99999/whatif", {"params": {"runs": 1}}, 404, None),
    ("no runs", "GET", f"/units/{U}/whatif", {"params": {"runs": 0}}, 422, "invalid_request"),
    ("oversized runs", "GET", f"/units/{U}/whatif", {"params": {"runs": 5000}}, 422, None),
    ("runs not a number", "GET", f"/units/{U}/whatif", {"params": {"runs": "many"}}, 422, None),
    ("negative seed", "GET", f"/units/{U}/whatif", {"params": {"seed": -1}}, 422, None),
    # activities
    (
        "activity: unknown tool",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "magic_wand", "role": "unit_leader"}},
        400,
        "bad_input",
    ),
    (
        "activity: unknown role",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "king"}},
        400,
        "bad_input",
    ),
    (
        "activity: tool not used by the role",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "one_stop_approval", "role": "unit_leader"}},
        400,
        "bad_input",
    ),
    (
        "activity: missing tool",
        "POST",
        f"/units/{U}/activities",
        {"json": {"role": "unit_leader"}},
        422,
        "invalid_request",
    ),
    (
        "activity: bad date",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "on": "2024-13-40"}},
        422,
        "invalid_request",
    ),
    (
        "activity: a day in the future",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "on": TOMORROW}},
        400,
        "bad_input",
    ),
    (
        "activity: participants not a number",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "participants": "many"}},
        422,
        None,
    ),
    (
        "activity: negative money",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "money_fen": -5}},
        422,
        None,
    ),
    (
        "activity: unknown target room",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "targets": ["9999"]}},
        404,
        "not_found",
    ),
    (
        "activity: unknown guidance",
        "POST",
        f"/units/{U}/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader", "guidance": "loud"}},
        422,
        None,
    ),
    (
        "activity: body not JSON",
        "POST",
        f"/units/{U}/activities",
        {"content": b"{tool", "headers": {"Content-Type": "application/json"}},
        422,
        None,
    ),
    (
        "activity in unknown unit",
        "POST",
        "/units/99999/activities",
        {"json": {"tool": "door_to_door", "role": "unit_leader"}},
        404,
        "not_found",
    ),
    # stances
    (
        "stance: unknown stance",
        "POST",
        f"/units/{U}/stances",
        {"json": {"room": "{room}", "stance": "meh"}},
        400,
        "bad_input",
    ),
    (
        "stance: unknown room",
        "POST",
        f"/units/{U}/stances",
        {"json": {"room": "9999", "stance": "support"}},
        404,
        "not_found",
    ),
    (
        "stance: missing room",
        "POST",
        f"/units/{U}/stances",
        {"json": {"stance": "support"}},
        422,
        None,
    ),
    (
        "stance: bad date",
        "POST",
        f"/units/{U}/stances",
        {"json": {"room": "{room}", "stance": "support", "on": "yesterday"}},
        422,
        None,
    ),
    (
        "stance: reasons not a list",
        "POST",
        f"/units/{U}/stances",
        {"json": {"room": "{room}", "stance": "oppose", "reasons": 7}},
        422,
        None,
    ),
    # cost plan
    ("plan: not an object", "PUT", f"/units/{U}/cost-plan", {"json": [1, 2]}, 422, None),
    (
        "plan: no total",
        "PUT",
        f"/units/{U}/cost-plan",
        {"json": {"scheme": {"kind": "equal"}}},
        400,
        "bad_input",
    ),
    (
        "plan: total not a number",
        "PUT",
        f"/units/{U}/cost-plan",
        {"json": {"total_fen": "lots", "scheme": {"kind": "equal"}}},
        400,
        "bad_input",
    ),
    (
        "plan: unknown key",
        "PUT",
        f"/units/{U}/cost-plan",
        {"json": {"total_fen": 100, "scheme": {"kind": "equal"}, "bribe": 1}},
        400,
        "bad_input",
    ),
    (
        "plan: unknown scheme",
        "PUT",
        f"/units/{U}/cost-plan",
        {"json": {"total_fen": 100, "scheme": {"kind": "lottery"}}},
        400,
        "bad_input",
    ),
    (
        "plan of unknown unit",
        "PUT",
        "/units/99999/cost-plan",
        {"json": {"total_fen": 100, "scheme": {"kind": "equal"}}},
        404,
        "not_found",
    ),
    # stages
    ("stage: unknown target", "POST", f"/units/{U}/stage", {"json": {"target": "moon"}}, 422, None),
    ("steps of unknown unit", "GET", "/units/99999/steps", {}, 404, "not_found"),
    ("step: unknown step", "POST", f"/units/{U}/steps", {"json": {"step": "moon"}}, 422, None),
    (
        "step: reference too long",
        "POST",
        f"/units/{U}/steps",
        {"json": {"step": "pipeline_survey", "reference": "x" * 201}},
        422,
        None,
    ),
    ("stage: no target", "POST", f"/units/{U}/stage", {"json": {}}, 422, None),
    (
        "stage: skipping to operation",
        "POST",
        f"/units/{U}/stage",
        {"json": {"target": "operation"}},
        409,
        "rule_violation",
    ),
    (
        "stage: acceptance date on another move",
        "POST",
        f"/units/{U}/stage",
        {"json": {"target": "suspended", "reason": "x", "acceptance_on": "2024-01-01"}},
        400,
        "bad_input",
    ),
    (
        "stage: before the current stage began",
        "POST",
        f"/units/{U}/stage",
        {"json": {"target": "suspended", "reason": "x", "on": "1990-01-01"}},
        400,
        "bad_input",
    ),
    (
        "stage: bad date",
        "POST",
        f"/units/{U}/stage",
        {"json": {"target": "suspended", "on": "1st of May"}},
        422,
        None,
    ),
    (
        "stage of unknown unit",
        "POST",
        "/units/99999/stage",
        {"json": {"target": "suspended", "reason": "x"}},
        404,
        "not_found",
    ),
    # votes, rounds, objections
    ("vote: unit not a number", "POST", "/votes", {"json": {"unit_id": "x"}}, 422, None),
    ("vote: missing fields", "POST", "/votes", {"json": {}}, 422, "invalid_request"),
    (
        "vote: unknown word",
        "POST",
        "/votes",
        {"json": {"unit_id": U, "room": "{room}", "vote": "maybe"}},
        400,
        "bad_input",
    ),
    (
        "vote: unknown unit",
        "POST",
        "/votes",
        {"json": {"unit_id": 99999, "room": "101", "vote": "agree"}},
        404,
        "not_found",
    ),
    (
        "vote: unknown room",
        "POST",
        "/votes",
        {"json": {"unit_id": U, "room": "9999", "vote": "agree"}},
        404,
        "not_found",
    ),
    (
        "vote: bad date",
        "POST",
        "/votes",
        {"json": {"unit_id": U, "room": "{room}", "vote": "agree", "on": "2024-02-30"}},
        422,
        None,
    ),
    ("round: unit not a number", "POST", "/rounds", {"json": {"unit_id": "x"}}, 422, None),
    (
        "round: unknown unit",
        "POST",
        "/rounds",
        {"json": {"unit_id": 99999}},
        404,
        "not_found",
    ),
    (
        "round: while one is open",
        "POST",
        "/rounds",
        {"json": {"unit_id": U}},
        409,
        "rule_violation",
    ),
    ("rounds of unknown unit", "GET", "/units/99999/rounds", {}, 404, "not_found"),
    ("close: unknown round", "POST", "/rounds/99999/close", {"json": {}}, 404, "not_found"),
    ("close: bad date", "POST", "/rounds/99999/close", {"json": {"on": "soon"}}, 422, None),
    ("void: no reason", "POST", "/rounds/99999/void", {"json": {}}, 422, "invalid_request"),
    ("void: unknown round", "POST", "/rounds/99999/void", {"json": {"reason": "x"}}, 404, None),
    (
        "objection: no reasons",
        "POST",
        "/objections",
        {"json": {"unit_id": U, "room": "{room}", "reasons": []}},
        400,
        "bad_input",
    ),
    (
        "objection: unknown reason",
        "POST",
        "/objections",
        {"json": {"unit_id": U, "room": "{room}", "reasons": ["astrology"]}},
        400,
        "bad_input",
    ),
    (
        "objection: unknown room",
        "POST",
        "/objections",
        {"json": {"unit_id": U, "room": "9999", "reasons": ["light"]}},
        404,
        "not_found",
    ),
    (
        "objection: reasons not a list",
        "POST",
        "/objections",
        {"json": {"unit_id": U, "room": "{room}", "reasons": "light"}},
        422,
        None,
    ),
    (
        "objection status: unknown objection",
        "POST",
        "/objections/99999/status",
        {"json": {"status": "resolved"}},
        404,
        "not_found",
    ),
    (
        "objection status: unknown status",
        "POST",
        "/objections/1/status",
        {"json": {"status": "sorted"}},
        422,
        None,
    ),
    (
        "objection status: id not a number",
        "POST",
        "/objections/one/status",
        {"json": {"status": "resolved"}},
        422,
        None,
    ),
    # overviews read from the maintained summary: bounded pages
    ("city: negative offset", "GET", "/city", {"params": {"offset": "-1"}}, 422, None),
    ("street units: a page of 0", "GET", "/street/units", {"params": {"limit": "0"}}, 422, None),
    # community regeneration after a lift runs
    ("regeneration of unknown compound", "GET", "/compounds/nowhere/regeneration", {}, 404, None),
    (
        "regeneration: no kind",
        "POST",
        "/compounds/{code}/regeneration",
        {"json": {"title": "楼道扶手"}},
        422,
        None,
    ),
    # roster update: preview, then confirm
    (
        "roster preview: no file",
        "POST",
        "/compounds/{code}/roster/previews",
        {"data": {"x": "1"}},
        422,
        None,
    ),
    ("unknown roster preview", "GET", "/compounds/{code}/roster/previews/nope", {}, 404, None),
    (
        "confirm an unknown roster preview",
        "POST",
        "/compounds/{code}/roster/previews/nope/confirm",
        {},
        404,
        None,
    ),
    # roster
    ("roster: no file", "POST", "/compounds/{code}/roster", {"data": {"x": "1"}}, 422, None),
    (
        "roster: not a roster file",
        "POST",
        "/compounds/{code}/roster",
        {"files": {"roster": ("notes.txt", b"hello", "text/plain")}},
        400,
        "bad_input",
    ),
    (
        "roster: garbage named .xlsx",
        "POST",
        "/compounds/{code}/roster",
        {"files": {"roster": ("roster.xlsx", b"not a workbook", "application/octet-stream")}},
        400,
        None,
    ),
    (
        "roster: header only",
        "POST",
        "/compounds/{code}/roster",
        {
            "files": {
                "roster": ("roster.csv", "楼栋,单元,楼层,房号,面积,业主\n".encode(), "text/csv")
            }
        },
        400,
        "bad_input",
    ),
    (
        "roster: missing columns",
        "POST",
        "/compounds/{code}/roster",
        {"files": {"roster": ("roster.csv", (DATA / "missing_column.csv").read_bytes())}},
        422,
        None,
    ),
    (
        "roster into unknown compound",
        "POST",
        "/compounds/nowhere/roster",
        {"files": {"roster": ("roster.csv", (DATA / "good.csv").read_bytes())}},
        404,
        "not_found",
    ),
    # accounts
    ("account: missing password", "POST", "/accounts", {"json": {"username": "x"}}, 422, None),
    (
        "account: short password",
        "POST",
        "/accounts",
        {"json": {"username": "shorty", "password": "short", "role": "admin"}},
        422,
        None,
    ),
    (
        "account: unknown role",
        "POST",
        "/accounts",
        {"json": {"username": "king", "password": "long-enough-1", "role": "king"}},
        422,
        None,
    ),
    (
        "account: resident without a room",
        "POST",
        "/accounts",
        {
            "json": {
                "username": "roomless",
                "password": "long-enough-1",
                "role": "resident",
                "compound_code": "{code}",
                "unit_id": U,
            }
        },
        400,
        "bad_input",
    ),
    (
        "account: worker of unknown compound",
        "POST",
        "/accounts",
        {
            "json": {
                "username": "lost",
                "password": "long-enough-1",
                "role": "worker",
                "compound_code": "nowhere",
            }
        },
        404,
        "not_found",
    ),
    (
        "account: spaces in the name",
        "POST",
        "/accounts",
        {"json": {"username": "a b", "password": "long-enough-1", "role": "admin"}},
        400,
        "bad_input",
    ),
    (
        "token for unknown account",
        "POST",
        "/accounts/nobody/tokens",
        {"json": {"label": "x"}},
        404,
        "not_found",
    ),
    (
        "token: label not a string",
        "POST",
        "/accounts/nobody/tokens",
        {"json": {"label": ["x"]}},
        422,
        None,
    ),
    (
        "token: days out of range",
        "POST",
        "/accounts/nobody/tokens",
        {"json": {"days": 0}},
        422,
        None,
    ),
    ("tokens of unknown account", "GET", "/accounts/nobody/tokens", {}, 404, "not_found"),
    ("disable unknown account", "POST", "/accounts/nobody/disable", {}, 404, "not_found"),
    ("enable unknown account", "POST", "/accounts/nobody/enable", {}, 404, "not_found"),
    ("unlock unknown account", "POST", "/accounts/nobody/unlock", {}, 404, "not_found"),
    ("reset: no body", "PUT", "/accounts/nobody/password", {}, 422, "invalid_request"),
    (
        "reset unknown account",
        "PUT",
        "/accounts/nobody/password",
        {"json": {"password": "long-enough-pass-1"}},
        404,
        "not_found",
    ),
    ("own password: no body", "POST", "/me/password", {}, 422, "invalid_request"),
    ("revoke unknown token", "POST", "/tokens/99999/revoke", {}, 404, "not_found"),
    ("revoke: token id not a number", "POST", "/tokens/x/revoke", {}, 422, "invalid_request"),
]


def _fill(value: Any, w: World) -> Any:
    """Put the world's unit, room and compound into a row's request."""
    if isinstance(value, str):
        if value == U:
            return w.unit
        return value.replace(U, str(w.unit)).replace("{room}", w.room).replace("{code}", w.code)
    if isinstance(value, dict):
        return {k: _fill(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, w) for v in value]
    if isinstance(value, tuple):
        return tuple(_fill(v, w) if isinstance(v, str) else v for v in value)
    return value


@pytest.mark.parametrize(
    ("what", "method", "path", "request_", "status", "code"), BAD, ids=[row[0] for row in BAD]
)
def test_bad_input_answers_4xx_in_the_error_shape(
    world: World,
    what: str,
    method: str,
    path: str,
    request_: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    kwargs = {k: v if k in ("files", "content") else _fill(v, world) for k, v in request_.items()}
    headers = {**world.headers(), **kwargs.pop("headers", {})}
    response = world.client.request(method, f"{API}{_fill(path, world)}", headers=headers, **kwargs)
    assert_error(response, status, code)


def test_every_endpoint_has_a_bad_input_row(world: World) -> None:
    """Each documented endpoint outside /evidence (tested with its module) has a row above."""
    schema = world.client.app.openapi()  # type: ignore[attr-defined]
    documented = {
        (m.upper(), p)
        for p, item in schema["paths"].items()
        for m in item
        if not p.startswith(f"{API}/evidence")
    }
    inputless = {(m, f"{API}{p}") for m, p in INPUTLESS}
    patterns = {t: re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$") for _, t in documented}
    covered = {
        (method, template)
        for _, method, path, *_ in BAD
        for template, pattern in patterns.items()
        if pattern.match(f"{API}{_fill(path, world)}")
    }
    missing = documented - covered - inputless
    assert not missing, f"no bad-input row for {sorted(missing)}"


# --- behaviour that takes more than one request ------------------------------------------------


def test_a_bad_roster_lists_every_row_and_imports_nothing(world: World) -> None:
    before = len(list_units(world.engine, world.code))
    for name in ("bad.csv", "bad.xlsx"):
        response = world.post(
            f"/compounds/{world.code}/roster",
            files={"roster": (name, (DATA / name).read_bytes())},
        )
        error = assert_error(response, 422, "bad_rows")
        assert error["errors"], error
        for line in error["errors"]:
            assert set(line) == {"row", "column", "message"}
            assert isinstance(line["row"], int) and line["message"]
    assert len(list_units(world.engine, world.code)) == before


def test_an_oversized_upload_is_refused(world: World) -> None:
    big = b"a" * (5 * 1024 * 1024 + 1)
    response = world.post(
        f"/compounds/{world.code}/roster", files={"roster": ("big.csv", big, "text/csv")}
    )
    assert_error(response, 413, "too_large")


def test_votes_need_a_round_and_repeat_or_change_per_the_service(world: World) -> None:
    # a fresh unit from a roster without votes has no round yet
    csv = "楼栋,单元,总层数,楼层,房号,面积(㎡),业主\n" + "".join(
        f"77,1,6,{f},{f}01,60.5,业主{f}\n" for f in (1, 2, 3)
    )
    imported = world.post(
        f"/compounds/{world.code}/roster", files={"roster": ("r.csv", csv.encode())}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["units_created"] == 1
    fresh = next(u.id for u in list_units(world.engine, world.code) if u.label.startswith("77"))
    vote = {"unit_id": fresh, "room": "301", "vote": "agree"}
    assert_error(world.post("/votes", json=vote), 409, "rule_violation")
    assert world.post("/rounds", json={"unit_id": fresh, "title": "first"}).status_code == 201
    assert_error(world.post("/rounds", json={"unit_id": fresh}), 409, "rule_violation")
    assert_error(world.post("/rounds", json={"unit_id": fresh, "profile": "atlantis"}), 404)

    first = world.post("/votes", json=vote)
    assert first.status_code == 200, first.text
    again = world.post("/votes", json=vote)  # the same vote again: no change, same answer
    assert again.status_code == 200
    assert again.json() == first.json()
    changed = world.post("/votes", json={**vote, "vote": "反对"})  # a changed vote replaces it
    assert changed.status_code == 200
    row = next(h for h in changed.json()["households"] if h["room"] == "301")
    assert row["vote"] == "disagree"
    assert changed.json()["consent"]["agree_heads"] == first.json()["consent"]["agree_heads"] - 1


def test_objection_moves_follow_the_lifecycle(world: World) -> None:
    made = world.post(
        "/objections", json={"unit_id": world.unit, "room": world.room, "reasons": ["light"]}
    )
    assert made.status_code == 201, made.text
    oid = made.json()["id"]
    early = world.post(
        f"/objections/{oid}/status", json={"status": "mediation", "on": "1990-01-01"}
    )
    assert_error(early, 400, "bad_input")
    done = world.post(f"/objections/{oid}/status", json={"status": "resolved"})
    assert done.status_code == 200, done.text
    back = world.post(f"/objections/{oid}/status", json={"status": "negotiation"})
    assert_error(back, 409, "rule_violation")


def test_a_unit_without_a_cost_plan_has_no_shares(world: World) -> None:
    without = []
    for unit in list_units(world.engine, world.code):
        try:
            unit_cost_shares(world.engine, unit.id)
        except NotFound:
            without.append(unit.id)
    if not without:
        pytest.skip("every demo unit has a cost plan")
    assert_error(world.get(f"/units/{without[0]}/cost-plan"), 404, "not_found")


def test_the_happy_paths_of_the_new_endpoints(world: World) -> None:
    unit = world.unit
    activity = world.post(
        f"/units/{unit}/activities",
        json={"tool": "door_to_door", "role": "unit_leader", "targets": [world.room], "on": None},
    )
    assert activity.status_code == 201, activity.text
    assert activity.json()["id"] and activity.json()["tool"] == "door_to_door"
    log = world.get(f"/units/{unit}/activities").json()
    assert activity.json()["id"] in [a["id"] for a in log]
    stance = world.post(f"/units/{unit}/stances", json={"room": world.room, "stance": "反对"})
    assert stance.json()["stance"] == "oppose"
    plan = world.client.put(
        f"{API}/units/{unit}/cost-plan",
        headers=world.headers(),
        json={"total_fen": 30000000, "scheme": {"kind": "equal"}, "households": [{"id": "x"}]},
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["total_fen"] == 30000000
    assert world.get(f"/units/{unit}/cost-plan").json()["total_fen"] == 30000000
    stage = world.get(f"/units/{unit}/stage").json()
    assert stage["stage"] == unit_stage(world.engine, unit).stage.value
    assert stage["gate"]["target"] == stage["next_stage"]
    assert isinstance(stage["history"], list) and "actor" in stage["history"][-1]
    overview = world.get(f"/compounds/{world.code}/overview").json()
    assert unit in [u["unit_id"] for u in overview["units"]]
    street = world.get("/street").json()
    assert street["funnel"][0]["stage"] == "survey"
    whatif = world.get(f"/units/{unit}/whatif", params={"runs": 3, "seed": 7})
    assert whatif.status_code == 200, whatif.text
    assert whatif.json()["runs"] == 3 and whatif.json()["strategies"]
    for kind in DOCUMENTS:
        page = world.get(f"/units/{unit}/documents/{kind}")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
    me = world.get("/me").json()
    assert me["role"] == "admin"


@pytest.mark.skipif(chromium_path() is None, reason="no Chromium to print PDFs with")
def test_a_document_prints_to_pdf(world: World) -> None:
    pdf = world.get(f"/units/{world.unit}/documents/notice", params={"format": "pdf"})
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_accounts_and_tokens(world: World) -> None:
    made = world.post(
        "/accounts",
        json={
            "username": "api-leader",
            "password": "long-enough-1",
            "role": "unit_leader",
            "compound_code": world.code,
            "unit_id": world.unit,
        },
    )
    assert made.status_code == 201, made.text
    assert "password" not in made.text and "hash" not in made.text
    assert_error(
        world.post(
            "/accounts",
            json={"username": "api-leader", "password": "long-enough-1", "role": "admin"},
        ),
        400,
        "bad_input",
    )
    token = world.post("/accounts/api-leader/tokens", json={"label": "script"}).json()["token"]
    me = world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "unit_leader" and me["unit_id"] == world.unit
    assert "api-leader" in [a["username"] for a in world.get("/accounts").json()]


def test_openapi_lists_every_endpoint_and_the_docs_serve(world: World) -> None:
    schema = world.client.get(f"{API}/openapi.json")
    assert schema.status_code == 200
    paths = {(p, m) for p, item in schema.json()["paths"].items() for m in item}
    wanted = {
        ("/me", "get"),
        ("/compounds", "get"),
        ("/compounds/{code}/report", "get"),
        ("/compounds/{code}/overview", "get"),
        ("/compounds/{code}/roster", "post"),
        ("/street", "get"),
        ("/units/{unit_id}", "get"),
        ("/units/{unit_id}/advice", "get"),
        ("/units/{unit_id}/activities", "get"),
        ("/units/{unit_id}/activities", "post"),
        ("/units/{unit_id}/stances", "post"),
        ("/units/{unit_id}/objections", "get"),
        ("/units/{unit_id}/cost-plan", "get"),
        ("/units/{unit_id}/cost-plan", "put"),
        ("/units/{unit_id}/stage", "get"),
        ("/units/{unit_id}/stage", "post"),
        ("/units/{unit_id}/documents/{kind}", "get"),
        ("/units/{unit_id}/whatif", "get"),
        ("/votes", "post"),
        ("/rounds", "post"),
        ("/objections", "post"),
        ("/objections/{objection_id}/status", "post"),
        ("/accounts", "get"),
        ("/accounts", "post"),
        ("/accounts/{username}/tokens", "post"),
    }
    assert {(f"{API}{p}", m) for p, m in wanted} <= paths
    ours = [
        op
        for path, item in schema.json()["paths"].items()
        if (path.removeprefix(API), next(iter(item))) in wanted
        for op in item.values()
    ]
    assert all(op.get("summary") and op.get("tags") for op in ours)
    schemes = schema.json()["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
    docs = world.client.get(f"{API}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
