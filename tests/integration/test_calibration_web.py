"""The calibration page: street offices run a bounded fit of their street, admins adopt it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.calibration import param_values
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.registry import list_units


def _signed_in(engine: Engine, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert csrf
    return client, csrf[1]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_run_see_and_adopt_a_calibration_from_the_page(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    street, csrf = _signed_in(engine, "street")
    page = street.get("/calibration")
    assert page.status_code == 200 and "运行校准" in page.text
    too_big = street.post(
        "/calibration/run",
        data={"name": "big", "particles": "5000", "generations": "2", "csrf_token": csrf},
    )
    assert too_big.status_code == 400 and "particles" in too_big.text
    worker, _ = _signed_in(engine, "worker")
    unit_id = list_units(engine, code)[0].id
    before = worker.get(f"/units/{unit_id}/whatif", params={"runs": 3})
    assert before.status_code == 200 and "参数：默认值" in before.text  # says what it rests on
    done = street.post(
        "/calibration/run",
        data={"name": "街道校准", "particles": "6", "generations": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = street.get(done.headers["location"])
    assert "negotiation_median_weeks" in shown.text and "留出检验" in shown.text
    assert "采用此参数集" not in shown.text  # only an admin adopts
    assert (
        street.post("/calibration/sets/街道校准/adopt", data={"csrf_token": csrf}).status_code
        == 403
    )
    admin, admin_csrf = _signed_in(engine, "admin")
    adopted = admin.post("/calibration/sets/街道校准/adopt", data={"csrf_token": admin_csrf})
    assert adopted.status_code == 200 and "已采用" in adopted.text
    assert param_values(engine, None)  # the what-if panel now simulates under it
    after = worker.get(f"/units/{unit_id}/whatif", params={"runs": 3})
    assert "参数集「街道校准」（已采用）" in after.text and "ABC" in after.text, after.text
    named = worker.get(f"/units/{unit_id}/whatif", params={"runs": 3, "params": "街道校准"})
    assert "参数集「街道校准」（指定）" in named.text
    assert worker.get("/calibration").status_code == 403
