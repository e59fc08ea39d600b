"""Per-account limits on expensive work: one request over the limit answers 429 with
Retry-After, on the API and on the pages (in Chinese there), and counts per account."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.http.auth import demo_tokens
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.quota import Quota, QuotaSettings, RateLimited, Work

API = "/api/v1"


def _quota(per_minute: int) -> Quota:
    return Quota(QuotaSettings({w: per_minute for w in Work}))


def test_the_limit_counts_per_account_and_names_the_wait() -> None:
    quota = _quota(2)
    quota.spend(Work.PDF, "account:1")
    quota.spend(Work.PDF, "account:1")
    quota.spend(Work.PDF, "account:2")  # another account has its own count
    quota.spend(Work.WHATIF, "account:1")  # and another kind of work
    with pytest.raises(RateLimited) as refused:
        quota.spend(Work.PDF, "account:1")
    assert 1 <= refused.value.retry_after <= 60
    assert "每个账号每分钟最多2次" in refused.value.render("zh-CN")
    assert "打印PDF" in refused.value.render("zh-CN")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_api_and_pages_answer_429_with_retry_after(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    tokens = demo_tokens(engine, code)
    worker = next(t for t, p in tokens.items() if p.role.value == "worker")
    app = create_app(engine, tokens)
    app.state.quota = _quota(1)
    api = TestClient(app, base_url="http://127.0.0.1")
    unit_id = next(p.unit_id for p in tokens.values() if p.unit_id is not None)
    headers = {"Authorization": f"Bearer {worker}"}
    first = api.get(f"{API}/units/{unit_id}/whatif?runs=1", headers=headers)
    assert first.status_code == 200, first.text
    second = api.get(f"{API}/units/{unit_id}/whatif?runs=1", headers=headers)
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 60
    assert second.json()["error"]["code"] == "rate_limited"

    seed_demo_accounts(engine, code)
    page = TestClient(app, base_url="http://127.0.0.1")
    form = page.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    page.post(
        "/login",
        data={"username": "worker", "password": DEMO_PASSWORD, "csrf_token": csrf[1]},
        follow_redirects=False,
    )
    assert page.get(f"/units/{unit_id}/whatif?runs=1").status_code == 200
    refused = page.get(f"/units/{unit_id}/whatif?runs=1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "模拟推演请求过于频繁" in refused.text
