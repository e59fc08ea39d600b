"""The REST API on both backends: endpoints, the authorization matrix and the error shape."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.http.auth import demo_tokens
from colift.services.access import Principal, Role
from colift.services.demo import seed_demo
from colift.services.registry import list_units

API = "/api/v1"
ROLES = list(Role)


@dataclass
class Api:
    engine: Engine
    client: TestClient
    code: str
    tokens: dict[Role, str]
    principals: dict[Role, Principal]

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def unit(self) -> int:
        """The unit of the demo resident and unit leader."""
        unit_id = self.principals[Role.RESIDENT].unit_id
        assert unit_id is not None
        return unit_id

    @property
    def room(self) -> str:
        room = self.principals[Role.RESIDENT].room
        assert room is not None
        return room

    def other_unit(self) -> int:
        return next(u.id for u in list_units(self.engine, self.code) if u.id != self.unit)

    def other_room(self) -> str:
        body = self.client.get(f"{API}/units/{self.unit}", headers=self.headers(Role.ADMIN)).json()
        return next(str(h["room"]) for h in body["households"] if h["room"] != self.room)


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    code, _ = seed_demo(engine)
    tokens = demo_tokens(engine, code)
    with TestClient(create_app(engine, tokens), raise_server_exceptions=False) as client:
        yield Api(
            engine,
            client,
            code,
            {p.role: t for t, p in tokens.items()},
            {p.role: p for p in tokens.values()},
        )


def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    # code and message always; messages (each language) and detail (technical) beside them
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "messages", "detail"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


def test_openapi_lists_every_endpoint(api: Api) -> None:
    schema = api.client.get(f"{API}/openapi.json").json()
    paths = {(p, m) for p, item in schema["paths"].items() for m in item}
    assert paths >= {
        (f"{API}/compounds", "get"),
        (f"{API}/compounds/{{code}}/report", "get"),
        (f"{API}/units/{{unit_id}}", "get"),
        (f"{API}/units/{{unit_id}}/advice", "get"),
        (f"{API}/votes", "post"),
        (f"{API}/rounds", "post"),
        (f"{API}/objections", "post"),
        (f"{API}/objections/{{objection_id}}/status", "post"),
        (f"{API}/units/{{unit_id}}/stage", "post"),
    }
    assert api.client.get(f"{API}/docs").status_code == 200


def test_reads_happy_path(api: Api) -> None:
    compounds = api.client.get(f"{API}/compounds", headers=api.headers(Role.WORKER))
    assert compounds.status_code == 200
    assert [c["code"] for c in compounds.json()] == [api.code]

    report = api.client.get(f"{API}/compounds/{api.code}/report", headers=api.headers(Role.WORKER))
    assert report.status_code == 200
    line = report.json()["units"][0]
    assert {
        "label",
        "stage",
        "passed",
        "counts",
        "cooperation_level",
        "heterogeneity_index",
        "first_recommendation",
    } <= set(line)

    unit = api.client.get(f"{API}/units/{api.unit}", headers=api.headers(Role.STREET_VIEWER))
    assert unit.status_code == 200
    body = unit.json()
    assert body["stage"] and "passed" in body["consent"] and body["households"]

    advice = api.client.get(f"{API}/units/{api.unit}/advice", headers=api.headers(Role.UNIT_LEADER))
    assert advice.status_code == 200
    assert "cooperation_level" in advice.json()


def test_resident_sees_aggregates_and_own_household_only(api: Api) -> None:
    body = api.client.get(f"{API}/units/{api.unit}", headers=api.headers(Role.RESIDENT)).json()
    assert "households" not in body
    assert body["household"]["room"] == api.room
    assert isinstance(body["consent"]["unresolved_objections"], int)
    advice = api.client.get(f"{API}/units/{api.unit}/advice", headers=api.headers(Role.RESIDENT))
    assert_error(advice, 403, "forbidden")
    other = api.client.get(f"{API}/units/{api.other_unit()}", headers=api.headers(Role.RESIDENT))
    assert_error(other, 403, "forbidden")
    report = api.client.get(
        f"{API}/compounds/{api.code}/report", headers=api.headers(Role.RESIDENT)
    )
    assert_error(report, 403, "forbidden")


def test_writes_happy_path(api: Api) -> None:
    worker = api.headers(Role.WORKER)
    vote = api.client.post(
        f"{API}/votes",
        headers=api.headers(Role.RESIDENT),
        json={"unit_id": api.unit, "room": api.room, "vote": "反对"},
    )
    assert vote.status_code == 200, vote.text
    assert vote.json()["household"] == {
        "room": api.room,
        "floor": vote.json()["household"]["floor"],
        "vote": "disagree",
    }

    made = api.client.post(
        f"{API}/objections",
        headers=worker,
        json={"unit_id": api.unit, "room": api.room, "reasons": ["light"], "notes": "north window"},
    )
    assert made.status_code == 201, made.text
    objection_id = made.json()["id"]
    moved = api.client.post(
        f"{API}/objections/{objection_id}/status", headers=worker, json={"status": "negotiation"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"id": objection_id, "status": "negotiation"}

    opened = api.client.post(f"{API}/rounds", headers=worker, json={"unit_id": api.other_unit()})
    assert opened.status_code in (201, 409), opened.text
    if opened.status_code == 201:
        assert opened.json()["closed_on"] is None

    suspended = api.client.post(
        f"{API}/units/{api.unit}/stage",
        headers=worker,
        json={"target": "suspended", "reason": "waiting for the mediation"},
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["to_stage"] == "suspended"
    unit = api.client.get(f"{API}/units/{api.unit}", headers=worker).json()
    assert unit["stage"] == "suspended"


def _writes(api: Api, room: str, unit: int) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "vote": (f"{API}/votes", {"unit_id": unit, "room": room, "vote": "agree"}),
        "round": (f"{API}/rounds", {"unit_id": unit}),
        "objection": (
            f"{API}/objections",
            {"unit_id": unit, "room": room, "reasons": ["noise"]},
        ),
        "status": (f"{API}/objections/{{id}}/status", {"status": "negotiation"}),
        "stage": (f"{API}/units/{unit}/stage", {"target": "suspended", "reason": "pause"}),
    }


ALLOWED = {
    "vote": {Role.WORKER, Role.UNIT_LEADER, Role.RESIDENT, Role.ADMIN},
    "round": {Role.WORKER, Role.ADMIN},
    "objection": {Role.WORKER, Role.UNIT_LEADER, Role.RESIDENT, Role.ADMIN},
    "status": {Role.WORKER, Role.ADMIN},
    "stage": {Role.WORKER, Role.ADMIN},
}


def test_authorization_matrix(api: Api) -> None:
    made = api.client.post(
        f"{API}/objections",
        headers=api.headers(Role.ADMIN),
        json={"unit_id": api.unit, "room": api.room, "reasons": ["cost"]},
    )
    objection_id = made.json()["id"]
    for write, (path, body) in _writes(api, api.room, api.unit).items():
        url = path.replace("{id}", str(objection_id))
        assert_error(api.client.post(url, json=body), 401, "unauthorized")
        bad = {"Authorization": "Bearer not-a-token"}
        assert_error(api.client.post(url, json=body, headers=bad), 401, "unauthorized")
        for role in ROLES:
            response = api.client.post(url, json=body, headers=api.headers(role))
            if role in ALLOWED[write]:
                # allowed: the service answers (a rule may still refuse, never the role check)
                assert response.status_code not in (401, 403), (write, role, response.text)
                assert response.status_code < 500, (write, role, response.text)
            else:
                assert_error(response, 403, "forbidden")


def test_scoped_roles_stop_at_their_household_and_unit(api: Api) -> None:
    other_room = api.other_room()
    for write in ("vote", "objection"):
        path, body = _writes(api, other_room, api.unit)[write]
        assert_error(api.client.post(path, json=body, headers=api.headers(Role.RESIDENT)), 403)
        path, body = _writes(api, api.room, api.other_unit())[write]
        assert_error(api.client.post(path, json=body, headers=api.headers(Role.UNIT_LEADER)), 403)
    # a worker of another compound reads and changes nothing here
    elsewhere = {"w": Principal("worker:elsewhere", Role.WORKER, compound="elsewhere")}
    with TestClient(create_app(api.engine, elsewhere)) as client:
        outsider = {"Authorization": "Bearer w"}
        assert client.get(f"{API}/compounds", headers=outsider).json() == []
        assert_error(client.get(f"{API}/units/{api.unit}", headers=outsider), 403)
        for path, body in _writes(api, api.room, api.unit).values():
            if "{id}" not in path:
                assert_error(client.post(path, json=body, headers=outsider), 403)
        assert_error(
            client.post(
                f"{API}/objections/1/status", json={"status": "negotiation"}, headers=outsider
            ),
            404,
        )


def test_bad_input_uses_the_error_shape(api: Api) -> None:
    worker = api.headers(Role.WORKER)
    post = api.client.post
    assert_error(
        post(f"{API}/votes", headers=worker, json={"unit_id": "x"}), 422, "invalid_request"
    )
    assert_error(post(f"{API}/votes", headers=worker, content=b"{not json"), 422)
    assert_error(
        post(
            f"{API}/votes",
            headers=worker,
            json={"unit_id": api.unit, "room": api.room, "vote": "maybe"},
        ),
        400,
        "bad_input",
    )
    assert_error(
        post(
            f"{API}/votes", headers=worker, json={"unit_id": 99999, "room": "101", "vote": "agree"}
        ),
        404,
        "not_found",
    )
    assert_error(
        post(
            f"{API}/votes",
            headers=worker,
            json={"unit_id": api.unit, "room": "9999", "vote": "agree"},
        ),
        404,
        "not_found",
    )
    assert_error(api.client.get(f"{API}/units/99999", headers=worker), 404, "not_found")
    assert_error(api.client.get(f"{API}/units/abc", headers=worker), 422)
    assert_error(
        api.client.get(f"{API}/compounds/nowhere/report", headers=api.headers(Role.ADMIN)), 404
    )
    assert_error(
        post(
            f"{API}/objections/99999/status",
            headers=api.headers(Role.ADMIN),
            json={"status": "resolved"},
        ),
        404,
    )
    assert_error(post(f"{API}/objections/1/status", headers=worker, json={"status": "sorted"}), 422)
    assert_error(
        post(
            f"{API}/objections",
            headers=worker,
            json={"unit_id": api.unit, "room": api.room, "reasons": []},
        ),
        400,
    )
    assert_error(
        post(f"{API}/units/{api.unit}/stage", headers=worker, json={"target": "moon"}), 422
    )
    illegal = post(f"{API}/units/{api.unit}/stage", headers=worker, json={"target": "operation"})
    assert_error(illegal, 409, "rule_violation")
    assert "operation" in illegal.json()["error"]["message"]
    assert_error(api.client.get(f"{API}/nowhere", headers=worker), 404)
