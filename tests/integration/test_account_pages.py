"""The account pages without a browser: an admin creates, disables, enables, resets and unlocks;
everyone changes their own password and revokes their own tokens; others are refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.accounts import (
    FREE_FAILURES_PER_USER,
    LoginRefused,
    get_account,
    issue_api_token,
    list_tokens,
    sign_in,
    token_account,
)
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts


def _signed_in(
    engine: Engine, username: str, password: str = DEMO_PASSWORD
) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert csrf
    return client, csrf[1]


@pytest.fixture
def site(engine: Engine) -> tuple[Engine, str]:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    return engine, code


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_admin_manages_accounts_from_the_page(site: tuple[Engine, str]) -> None:
    engine, code = site
    admin, csrf = _signed_in(engine, "admin")
    page = admin.get("/admin/accounts")
    assert page.status_code == 200 and "账号管理" in page.text and "worker" in page.text
    weak = admin.post(
        "/admin/accounts",
        data={
            "csrf_token": csrf,
            "username": "zhao",
            "role": "worker",
            "compound_code": code,
            "password": "12345678",
        },
    )
    assert weak.status_code == 400 and "最常见的密码" in weak.text
    made = admin.post(
        "/admin/accounts",
        data={
            "csrf_token": csrf,
            "username": "zhao",
            "display_name": "赵敏",
            "role": "worker",
            "compound_code": code,
            "password": "lift-for-bldg-7",
        },
    )
    assert made.status_code == 200 and "zhao" in made.text
    token = issue_api_token(engine, "zhao", "script").token
    for _ in range(FREE_FAILURES_PER_USER):
        with pytest.raises(LoginRefused):
            sign_in(engine, "zhao", "wrong-guess", client="x")
    assert "登录需等待" in admin.get("/admin/accounts").text
    admin.post("/admin/accounts/zhao/unlock", data={"csrf_token": csrf})
    assert "登录需等待" not in admin.get("/admin/accounts").text
    admin.post("/admin/accounts/zhao/disable", data={"csrf_token": csrf})
    assert not get_account(engine, "zhao").active and token_account(engine, token) is None
    admin.post("/admin/accounts/zhao/enable", data={"csrf_token": csrf})
    reset = admin.post(
        "/admin/accounts/zhao/password", data={"csrf_token": csrf, "password": "new-pass-bldg-7"}
    )
    assert reset.status_code == 200
    assert sign_in(engine, "zhao", "new-pass-bldg-7", client="x").account.active

    worker, worker_csrf = _signed_in(engine, "worker")
    assert worker.get("/admin/accounts").status_code == 403
    refused = worker.post("/admin/accounts/zhao/disable", data={"csrf_token": worker_csrf})
    assert refused.status_code == 403 and get_account(engine, "zhao").active


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_everyone_changes_their_password_and_revokes_their_tokens(
    site: tuple[Engine, str],
) -> None:
    engine, _ = site
    made = issue_api_token(engine, "resident", "phone app")
    other = issue_api_token(engine, "worker", "not yours")
    client, csrf = _signed_in(engine, "resident")
    page = client.get("/account")
    assert page.status_code == 200 and "phone app" in page.text and "not yours" not in page.text
    differ = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": DEMO_PASSWORD,
            "new_password": "stairwell-new-1",
            "confirm_password": "stairwell-new-2",
        },
    )
    assert differ.status_code == 400 and "两次输入的新密码不一致" in differ.text
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": DEMO_PASSWORD,
            "new_password": "stairwell-new-1",
            "confirm_password": "stairwell-new-1",
        },
    )
    assert changed.status_code == 200 and "密码已修改" in changed.text
    assert client.get("/account").status_code == 200, "this session stays"
    client.post(f"/account/tokens/{made.info.id}/revoke", data={"csrf_token": csrf})
    assert token_account(engine, made.token) is None
    foreign = client.post(f"/account/tokens/{other.info.id}/revoke", data={"csrf_token": csrf})
    assert foreign.status_code == 404 and token_account(engine, other.token) is not None
    assert [t.revoked_at is not None for t in list_tokens(engine, made.info.account_id)] == [True]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_admin_makes_and_revokes_a_token_from_the_page(site: tuple[Engine, str]) -> None:
    engine, _ = site
    admin, csrf = _signed_in(engine, "admin")
    made = admin.post(
        "/admin/accounts/worker/tokens", data={"csrf_token": csrf, "label": "报表脚本", "days": "7"}
    )
    assert made.status_code == 201
    shown = re.search(r'data-testid="new-token">([^<]+)<', made.text)
    assert shown and token_account(engine, shown[1]) is not None
    (info,) = list_tokens(engine, get_account(engine, "worker").id)
    assert info.label == "报表脚本" and info.expires_at is not None
    assert (info.expires_at - info.created_at).days == 7
    listed = admin.get("/admin/accounts/worker/tokens")
    assert shown[1] not in listed.text, "a token is shown only once"
    admin.post(f"/admin/tokens/{info.id}/revoke", data={"csrf_token": csrf})
    assert token_account(engine, shown[1]) is None
    bad = admin.post("/admin/accounts/worker/tokens", data={"csrf_token": csrf, "days": "9999"})
    assert bad.status_code == 400
