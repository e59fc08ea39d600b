"""No input breaks the server (docs/security.md, "Input bounds").

Each row of the bounds table in docs/security.md has a test here, on SQLite and PostgreSQL:
ids beyond the INTEGER column, body sizes, NUL and lone surrogates, over-long text, numbers
written as text, days in the future, and the unit page after every kind of cost plan.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.errors import BadInput
from colift.http.auth import SESSION_COOKIE
from colift.http.limits import MAX_ID, MAX_JSON_BYTES, check_json
from colift.model.accounts import Account, AccountRole
from colift.services.access import Principal, Role
from colift.services.accounts import create_account, sign_in
from colift.services.demo import seed_demo
from colift.services.registry import list_units
from colift.services.views import unit_page

API = "/api/v1"
ADMIN = {"Authorization": "Bearer bounds-admin"}


@dataclass
class Site:
    client: TestClient
    engine: Engine
    unit: int
    cookie: dict[str, str]
    others: list[dict[str, str]]  # a worker's and a resident's session


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    from test_api_matrix import _engine  # one demo database per backend, as the matrix does

    request.param = request.param if hasattr(request, "param") else "sqlite"
    engine, close = _engine(request, tmp_path_factory.mktemp("bounds"))
    try:
        code, _ = seed_demo(engine)
        unit = list_units(engine, code)[0].id
        account = Account(0, "bounds-admin", "bounds admin", role=AccountRole.ADMIN)
        create_account(engine, account, "bounds-password-1")
        session = sign_in(engine, "bounds-admin", "bounds-password-1", client="t")
        cookie = {"Cookie": f"{SESSION_COOKIE}={session.token}"}
        room = unit_page(engine, unit).floors[-1][0].room
        others = []
        for name, role, extra in (
            ("bounds-worker", AccountRole.WORKER, {}),
            ("bounds-resident", AccountRole.RESIDENT, {"unit_id": unit, "room": room}),
        ):
            create_account(
                engine,
                Account(0, name, name, role=role, compound_code=code, **extra),  # type: ignore[arg-type]
                "bounds-password-1",
            )
            token = sign_in(engine, name, "bounds-password-1", client="t").token
            others.append({"Cookie": f"{SESSION_COOKIE}={token}"})
        app = create_app(engine, {"bounds-admin": Principal("admin", Role.ADMIN)})
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Site(client, engine, unit, cookie, others)
    finally:
        close()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
pytestmark = pytest.mark.parametrize("site", BACKENDS, indirect=True)


def _shape(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("big", [MAX_ID + 1, 2**63, 10**30])
def test_ids_beyond_the_column_are_not_found(site: Site, big: int) -> None:
    for url in (
        f"{API}/units/{big}",
        f"{API}/units/{big}/cost-plan",
        f"{API}/units/{big}/rounds",
        f"{API}/units/{big}/objections",
    ):
        got = site.client.get(url, headers=ADMIN)
        assert got.status_code == 404, (url, got.text)
        _shape(got)
    closed = site.client.post(f"{API}/rounds/{big}/close", json={}, headers=ADMIN)
    assert closed.status_code == 404, closed.text
    moved = site.client.post(
        f"{API}/objections/{big}/status", json={"status": "withdrawn"}, headers=ADMIN
    )
    assert moved.status_code == 404, moved.text
    vote = {"unit_id": big, "room": "101", "vote": "agree"}
    assert site.client.post(f"{API}/votes", json=vote, headers=ADMIN).status_code == 422
    page = site.client.get(f"/units/{big}", headers=site.cookie)
    assert page.status_code == 404


def test_a_ten_megabyte_objection_note_is_refused_before_it_is_read(site: Site) -> None:
    body = {"unit_id": site.unit, "room": "101", "reasons": ["noise"], "notes": "吵" * 10_000_000}
    got = site.client.post(f"{API}/objections", json=body, headers=ADMIN)
    assert got.status_code == 413
    assert _shape(got)["code"] == "too_large"


def test_a_body_sent_in_chunks_is_counted(site: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"unit_id": 1, "room": "101", "reasons": [], "notes": "'
        for _ in range(MAX_JSON_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    got = site.client.post(
        f"{API}/objections",
        content=chunks(),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert got.status_code == 413, got.text
    _shape(got)


def test_free_text_is_limited(site: Site) -> None:
    body = {"unit_id": site.unit, "room": "101", "reasons": ["noise"], "notes": "吵" * 2001}
    got = site.client.post(f"{API}/objections", json=body, headers=ADMIN)
    assert got.status_code == 422, got.text
    assert "notes" in _shape(got)["message"]


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfff"])
def test_nul_and_lone_surrogates_are_refused(site: Site, bad: str) -> None:
    body = {"unit_id": site.unit, "room": "101", "reasons": ["noise"], "notes": bad}
    raw = json.dumps(body).encode()  # ASCII, with the NUL and the surrogates as \u escapes
    got = site.client.post(
        f"{API}/objections", content=raw, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert got.status_code == 422, got.text
    _shape(got)
    query = site.client.get(f"{API}/street?street=a%00b", headers=ADMIN)
    assert query.status_code == 422, query.text


def test_numbers_as_text_are_refused_before_parsing(site: Site) -> None:
    plan = {
        "total_fen": 42000000,
        "scheme": {"kind": "floor-coefficient", "coefficients": {"1": "0", "2": "1e3000000"}},
    }
    started = time.perf_counter()
    got = site.client.put(f"{API}/units/{site.unit}/cost-plan", json=plan, headers=ADMIN)
    assert got.status_code == 400, got.text
    assert time.perf_counter() - started < 5  # a bound on a hang, not a timing claim
    with pytest.raises(BadInput):
        check_json(b'{"n": ' + b"9" * 5000 + b"}")
    with pytest.raises(BadInput):
        check_json(b'{"n": NaN}')
    with pytest.raises(BadInput):
        check_json(b"[" * 100_000 + b"]" * 100_000)


def test_amounts_above_a_hundred_million_yuan_are_refused(site: Site) -> None:
    plan = {"total_fen": 10_000_000_001, "scheme": {"kind": "equal"}}
    got = site.client.put(f"{API}/units/{site.unit}/cost-plan", json=plan, headers=ADMIN)
    assert got.status_code == 400, got.text
    activity = {"tool": "door_to_door", "role": "unit_leader", "money_fen": 10_000_000_001}
    got = site.client.post(f"{API}/units/{site.unit}/activities", json=activity, headers=ADMIN)
    assert got.status_code == 422, got.text


def test_a_day_in_the_future_is_refused(site: Site) -> None:
    later = (date.today() + timedelta(days=30)).isoformat()
    body = {"unit_id": site.unit, "room": "101", "reasons": ["noise"], "on": later}
    got = site.client.post(f"{API}/objections", json=body, headers=ADMIN)
    assert got.status_code == 422, got.text
    assert "future" in _shape(got)["message"]


def _csrf(site: Site) -> str:
    page = site.client.get(f"/units/{site.unit}", headers=site.cookie)
    assert page.status_code == 200, page.text[:500]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


PLANS = [
    {"total_fen": 42000000, "scheme": {"kind": "equal"}},
    {"total_fen": 42000000, "scheme": {"kind": "area"}, "compensation": []},
    {
        "total_fen": 42000000,
        "scheme": {"kind": "floor-coefficient", "coefficients": {str(f): "1" for f in range(1, 8)}},
        "compensation": [{"floors": [1], "fen_each": 300000}],
    },
    {"total_fen": 0, "scheme": {"kind": "equal"}, "subsidy_fen": 0},
]


@pytest.mark.parametrize("plan", PLANS, ids=["equal", "no-compensation", "compensation", "zero"])
def test_the_unit_page_answers_after_any_saved_plan(site: Site, plan: dict[str, object]) -> None:
    saved = site.client.put(f"{API}/units/{site.unit}/cost-plan", json=plan, headers=ADMIN)
    assert saved.status_code == 200, saved.text
    for cookie in (site.cookie, *site.others):  # an admin, a worker, a resident
        assert site.client.get(f"/units/{site.unit}", headers=cookie).status_code == 200
    assert site.client.get(f"{API}/units/{site.unit}", headers=ADMIN).status_code == 200


def test_a_plan_without_compensation_saved_from_the_page(site: Site) -> None:
    form = {
        "csrf_token": _csrf(site),
        "total": "420000",
        "coefficients": "1:0,2:0.4,3:0.7,4:0.85,5:1.0,6:1.1",
        "compensation": "",
        "running": "",
    }
    saved = site.client.post(
        f"/units/{site.unit}/plan", data=form, headers=site.cookie, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text[:300]
    assert site.client.get(f"/units/{site.unit}", headers=site.cookie).status_code == 200


def test_page_forms_refuse_hostile_text_in_chinese(site: Site) -> None:
    form = {"csrf_token": _csrf(site), "total": "9" * 5000, "coefficients": "1:0"}
    got = site.client.post(
        f"/units/{site.unit}/plan", data=form, headers=site.cookie, follow_redirects=False
    )
    assert got.status_code == 400, got.text[:300]
    assert "太长" in got.text or "过长" in got.text
    form = {"csrf_token": _csrf(site), "total": "1000", "coefficients": "1:0\x00"}
    got = site.client.post(
        f"/units/{site.unit}/plan", data=form, headers=site.cookie, follow_redirects=False
    )
    assert got.status_code == 400, got.text[:300]
    assert "空字符" in got.text


def test_a_page_form_over_its_limit_gets_a_chinese_page(site: Site) -> None:
    form = {"csrf_token": "x", "notes": "吵" * (3 * 1024 * 1024)}  # 9 MiB of UTF-8
    got = site.client.post(
        f"/units/{site.unit}/objections", data=form, headers=site.cookie, follow_redirects=False
    )
    assert got.status_code == 413
    assert "text/html" in got.headers["content-type"]
    assert "请求内容过大" in got.text


def test_control_characters_are_refused_so_every_project_exports(site: Site) -> None:
    made = site.client.post(
        f"{API}/evidence/projects", json={"name": "ctl", "description": "a\x01b"}, headers=ADMIN
    )
    assert made.status_code == 422, made.text
    source = {"filename": "访谈.txt", "text": "第一句。\x0b第二句。"}
    site.client.post(f"{API}/evidence/projects", json={"name": "ctl"}, headers=ADMIN)
    got = site.client.post(f"{API}/evidence/projects/ctl/sources", json=source, headers=ADMIN)
    assert got.status_code in (400, 422), got.text
    assert (
        site.client.get(f"{API}/evidence/projects/ctl/export.qdpx", headers=ADMIN).status_code
        == 200
    )
