"""Regeneration records from the compound page's form and the API: who may write, what is
refused (in Chinese, nothing saved), and that each record is in the ledger, so a direct edit of
the table is caught by `ledger verify`."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select, update

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.ledger import verify_ledger
from colift.store.tables import regeneration_events


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
    return client, token[1]


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return token[1]


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(regeneration_events)).scalar_one())


@pytest.fixture
def demo(engine: Engine) -> tuple[Engine, str]:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    return engine, code


FORM = {
    "kind": "stairwell_renovation",
    "title": "3栋楼道粉刷",
    "on": "2026-10-01",
    "households": "10",
    "of_households": "12",
}


def test_the_worker_records_from_the_compound_page_and_the_ledger_holds_it(
    demo: tuple[Engine, str],
) -> None:
    engine, code = demo
    client, _ = _signed_in(engine, "worker")
    page = client.get(f"/compounds/{code}")
    assert page.status_code == 200 and 'data-testid="regeneration-form"' in page.text
    before = _count(engine)
    done = client.post(
        f"/compounds/{code}/regeneration",
        data={**FORM, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/compounds/{code}#regeneration"
    after = client.get(done.headers["location"])
    assert "3栋楼道粉刷" in after.text and "楼道改造" in after.text
    assert _count(engine) == before + 1
    report = verify_ledger(engine)
    assert report.ok, report.message
    # a direct edit of the recorded row is caught
    with engine.begin() as conn:
        conn.execute(
            update(regeneration_events)
            .where(regeneration_events.c.title == "3栋楼道粉刷")
            .values(households=12)
        )
    broken = verify_ledger(engine)
    assert not broken.ok
    assert "regeneration_events" in broken.message


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"on": (date.today() + timedelta(days=1)).isoformat()}, "未来"),
        ({"on": "2026-13-01"}, "不是日期"),
        ({"title": ""}, "标题"),
        ({"title": "楼" * 201}, "200"),
        ({"households": "13"}, "13"),
        ({"households": "-1"}, "户数"),
        ({"households": "20000", "of_households": "30000"}, "10000"),
        ({"kind": "party"}, "楼道改造"),
    ],
)
def test_a_refused_form_says_why_in_chinese_and_saves_nothing(
    demo: tuple[Engine, str], change: dict[str, str], shown: str
) -> None:
    engine, code = demo
    client, _ = _signed_in(engine, "worker")
    token = _csrf(client.get(f"/compounds/{code}").text)
    before = _count(engine)
    ledger_before = verify_ledger(engine).count
    refused = client.post(
        f"/compounds/{code}/regeneration",
        data={**FORM, **change, "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code in (400, 422), refused.status_code
    error = re.search(r'id="regeneration-error">([^<]+)<', refused.text)
    assert error, refused.text[:400]
    assert shown in error[1] and re.search(r"[\u4e00-\u9fff]", error[1]), error[1]
    assert _count(engine) == before
    assert verify_ledger(engine).count == ledger_before


def test_only_the_compound_worker_or_an_admin_writes_and_the_form_needs_its_token(
    demo: tuple[Engine, str],
) -> None:
    engine, code = demo
    street, _ = _signed_in(engine, "street")
    page = street.get(f"/compounds/{code}")
    assert page.status_code == 200 and 'data-testid="regeneration-form"' not in page.text
    refused = street.post(
        f"/compounds/{code}/regeneration",
        data={**FORM, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    worker, _ = _signed_in(engine, "worker")
    stale = worker.post(
        f"/compounds/{code}/regeneration",
        data={**FORM, "csrf_token": "not-the-token"},
        follow_redirects=False,
    )
    assert stale.status_code == 403
    admin, _ = _signed_in(engine, "admin")
    ok = admin.post(
        f"/compounds/{code}/regeneration",
        data={**FORM, "csrf_token": _csrf(admin.get(f"/compounds/{code}").text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert _count(engine) == 1


def _api(engine: Engine, username: str) -> tuple[TestClient, dict[str, str]]:
    from colift.http.auth import CSRF_HEADER

    client, _ = _signed_in(engine, username)
    page = client.get("/street" if username == "street" else "/")
    return client, {CSRF_HEADER: _csrf(page.text)}


def test_the_api_records_lists_and_refuses_with_the_error_shape(
    demo: tuple[Engine, str],
) -> None:
    engine, code = demo
    client, headers = _api(engine, "admin")
    url = f"/api/v1/compounds/{code}/regeneration"
    made = client.post(
        url,
        json={"kind": "共同基金", "title": "电梯维保基金", "households": 9, "of_households": 12},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "shared_fund" and made.json()["id"]
    listed = client.get(url).json()
    assert [e["title"] for e in listed["events"]] == ["电梯维保基金"]
    for body in (
        {"kind": "shared_fund", "title": "x", "on": (date.today() + timedelta(days=3)).isoformat()},
        {"kind": "shared_fund", "title": "x", "households": 13, "of_households": 12},
        {"kind": "shared_fund", "title": "x", "households": 10_001},
        {"kind": "party", "title": "x"},
        {"kind": "shared_fund", "title": ""},
    ):
        refused = client.post(url, json=body, headers=headers)
        assert refused.status_code in (400, 422), (body, refused.text)
        error = refused.json()["error"]
        assert error["code"] and error["message"], body
    assert len(client.get(url).json()["events"]) == 1
    assert client.get("/api/v1/compounds/nope/regeneration").status_code == 404
    assert verify_ledger(engine).ok


def test_a_row_written_around_the_service_is_reported(demo: tuple[Engine, str]) -> None:
    engine, _ = demo
    assert verify_ledger(engine).ok
    from colift.store.tables import compounds

    with engine.begin() as conn:
        compound_id = conn.execute(select(func.min(compounds.c.id))).scalar_one()
        conn.execute(
            insert(regeneration_events).values(
                compound_id=compound_id,
                kind="complaint",
                on=date(2026, 1, 5),
                households=1,
                of_households=0,
                title="未入账的投诉",
            )
        )
    report = verify_ledger(engine)
    assert not report.ok and "regeneration_events" in report.message
