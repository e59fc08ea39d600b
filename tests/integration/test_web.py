"""The web pages without a browser: sign-in, CSRF on every form, what each role sees, languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.views import unit_page
from colift.services.workflow import unit_stage


@dataclass
class Site:
    engine: Engine
    code: str
    unit_id: int
    room: str

    def client(self) -> TestClient:
        return TestClient(create_app(self.engine), base_url="http://127.0.0.1")

    def signed_in(self, username: str) -> tuple[TestClient, str]:
        client = self.client()
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "the login form carries a CSRF token"
        done = client.post(
            "/login",
            data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        home = client.get("/")
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text)
        assert csrf
        return client, csrf[1]


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    code, _ = seed_demo(engine)
    logins = {login.username: login for login in seed_demo_accounts(engine, code)}
    assert set(logins) == {"worker", "leader", "resident", "street", "admin"}
    from colift.services.accounts import list_accounts

    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    assert resident.unit_id is not None and resident.room is not None
    yield Site(engine, code, resident.unit_id, resident.room)


def test_pages_need_a_sign_in(site: Site) -> None:
    client = site.client()
    answer = client.get(f"/units/{site.unit_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_a_login_post_without_its_csrf_token_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/login")
    answer = client.post("/login", data={"username": "worker", "password": DEMO_PASSWORD})
    assert answer.status_code == 403
    assert "colift_session" not in client.cookies


def test_a_wrong_password_shows_the_form_again(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login", data={"username": "worker", "password": "nope-nope", "csrf_token": token[1]}
    )
    assert answer.status_code == 401
    assert "用户名或密码不正确" in answer.text


def test_each_role_starts_where_its_work_is(site: Site) -> None:
    for username, where in [
        ("worker", f"/compounds/{site.code}"),
        ("leader", f"/units/{site.unit_id}"),
        ("resident", f"/units/{site.unit_id}"),
        ("street", "/street"),
        ("admin", "/street"),
    ]:
        client, _ = site.signed_in(username)
        assert client.get("/", follow_redirects=False).headers["location"] == where


def test_a_form_without_the_csrf_token_changes_nothing(site: Site) -> None:
    client, _ = site.signed_in("worker")
    before = unit_stage(site.engine, site.unit_id).stage
    url = f"/units/{site.unit_id}/stage"
    refused = client.post(url, data={"target": "survey", "reason": "x"})
    assert refused.status_code == 403
    wrong = client.post(url, data={"target": "survey", "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert unit_stage(site.engine, site.unit_id).stage == before


def test_a_closed_gate_shows_the_rules_explanation(site: Site) -> None:
    client, csrf = site.signed_in("worker")
    page = unit_page(site.engine, site.unit_id)
    assert not page.consent.result.passed  # the demo unit is still short of consent
    answer = client.post(
        f"/units/{site.unit_id}/stage", data={"target": "design", "csrf_token": csrf}
    )
    assert answer.status_code == 409
    assert 'id="form-error"' in answer.text
    assert unit_stage(site.engine, site.unit_id).stage.value == "vote"


def test_a_resident_votes_for_their_own_flat_only(site: Site) -> None:
    client, csrf = site.signed_in("resident")
    own = client.post(
        f"/units/{site.unit_id}/votes",
        data={"room": site.room, "vote": "agree", "confirmed": "yes", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert own.status_code == 303
    rows = {r.room: r.vote.value for r in unit_page(site.engine, site.unit_id).consent.input.rows}
    assert rows[site.room] == "agree"
    other = next(room for room in rows if room != site.room)
    refused = client.post(
        f"/units/{site.unit_id}/votes",
        data={"room": other, "vote": "disagree", "csrf_token": csrf},
    )
    assert refused.status_code == 403
    after = {r.room: r.vote.value for r in unit_page(site.engine, site.unit_id).consent.input.rows}
    assert after[other] == rows[other]


def test_a_resident_never_sees_another_households_names(site: Site) -> None:
    page = unit_page(site.engine, site.unit_id)
    others = [
        person.name
        for floor in page.floors
        for flat in floor
        if flat.room != site.room
        for person in flat.residents
    ]
    assert others
    client, _ = site.signed_in("resident")
    html = client.get(f"/units/{site.unit_id}").text
    for name in others:
        assert name not in html
    assert 'id="advice"' not in html
    worker, _ = site.signed_in("worker")
    assert others[0] in worker.get(f"/units/{site.unit_id}").text


def test_a_resident_cannot_read_another_unit(site: Site) -> None:
    client, _ = site.signed_in("resident")
    other = site.unit_id + 1
    assert client.get(f"/units/{other}").status_code == 403


def test_the_street_view_is_read_only(site: Site) -> None:
    client, _ = site.signed_in("street")
    street = client.get("/street")
    assert street.status_code == 200 and "阶段漏斗" in street.text
    unit = client.get(f"/units/{site.unit_id}").text
    assert 'action="/units/' not in unit  # no forms for a viewer


def test_english_is_one_click_away(site: Site) -> None:
    client, _ = site.signed_in("worker")
    assert "导入住户名册" in client.get(f"/compounds/{site.code}").text
    client.get("/lang/en?next=/")
    english = client.get(f"/compounds/{site.code}").text
    assert "Import a roster" in english and "导入住户名册" not in english


def test_pages_send_security_headers(site: Site) -> None:
    answer = site.client().get("/login")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_the_session_cookie_is_http_only(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login",
        data={"username": "worker", "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    cookie = done.headers["set-cookie"]
    assert "colift_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_cookies_are_secure_off_the_loopback(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    client = TestClient(create_app(engine), base_url="https://lift.example.org")
    page = client.get("/login")
    assert "Secure" in page.headers["set-cookie"]


def test_evidence_pages_read_for_researchers_and_refuse_residents(site: Site) -> None:
    from colift.services.evidence import list_projects

    project = list_projects(site.engine)[0].name
    street, _ = site.signed_in("street")
    for path in ("", "/agreement", "/analysis", "/sources/interview-secretary"):
        answer = street.get(f"/evidence/{project}{path}")
        assert answer.status_code == 200, (path, answer.text[:300])
    assert "Krippendorff" in street.get(f"/evidence/{project}/agreement").text
    resident, _ = site.signed_in("resident")
    assert resident.get(f"/evidence/{project}").status_code == 403


def test_a_worker_codes_a_passage_and_accepts_a_suggestion(site: Site) -> None:
    from colift.services.evidence import get_project, list_projects, source_view

    project = list_projects(site.engine)[0].name
    before = len(get_project(site.engine, project).codings)
    client, csrf = site.signed_in("worker")
    url = f"/evidence/{project}/sources/interview-secretary/codings"
    refused = client.post(url, data={"start": "0", "end": "5", "code": "guidance.direct"})
    assert refused.status_code == 403
    done = client.post(
        url,
        data={"start": "0", "end": "5", "code": "guidance.direct", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    view = source_view(site.engine, project, "interview-secretary")
    offer = view.uncoded[0]
    accepted = client.post(
        url,
        data={
            "action": "accept",
            "start": str(offer.span.start),
            "end": str(offer.span.end),
            "code": offer.suggestions[0].code,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert len(get_project(site.engine, project).codings) == before + 2
    bad = client.post(url, data={"start": "9", "end": "3", "code": "x", "csrf_token": csrf})
    assert bad.status_code == 400 and 'id="form-error"' in bad.text


def test_a_worker_imports_a_source_writes_a_memo_and_merges_codes(site: Site) -> None:
    from colift.services.evidence import get_project, list_projects

    project = list_projects(site.engine)[0].name
    client, csrf = site.signed_in("worker")
    text = "访谈：三楼住户\r\n我们家老人腿脚不好，加装电梯是盼了好多年的事。"
    imported = client.post(
        f"/evidence/{project}/sources",
        data={"csrf_token": csrf, "kind": "interview", "name": "三楼住户访谈"},
        files={"file": ("third-floor.txt", text.encode("utf-8"), "text/plain")},
        follow_redirects=False,
    )
    assert imported.status_code == 303, imported.text[:300]
    loaded = get_project(site.engine, project)
    added = next(s for s in loaded.sources.values() if s.name == "三楼住户访谈")
    assert added.text == text  # exact, CRLF kept
    memo = client.post(
        f"/evidence/{project}/memos",
        data={"csrf_token": csrf, "target_kind": "source", "target": added.id, "text": "需求迫切"},
        follow_redirects=False,
    )
    assert memo.status_code == 303
    before = sum(1 for c in loaded.codings if c.code == "tool.chat_group")
    merged = client.post(
        f"/evidence/{project}/codebook",
        data={
            "csrf_token": csrf,
            "operation": "merge",
            "code": "tool.chat_group",
            "into": "tool.door_to_door",
            "note": "线上线下都算入户沟通",
        },
        follow_redirects=False,
    )
    assert merged.status_code == 303
    after = get_project(site.engine, project)
    assert "tool.chat_group" not in after.codebook.ids()
    assert not any(c.code == "tool.chat_group" for c in after.codings)
    assert after.history and after.history[-1].operation == "merge"
    assert any(m.text == "需求迫切" for m in after.memos.values())
    assert before >= 0
    page = client.get(f"/evidence/{project}")
    assert "线上线下都算入户沟通" in page.text
    refused = client.post(
        f"/evidence/{project}/codebook", data={"csrf_token": csrf, "operation": "explode"}
    )
    assert refused.status_code == 400 and 'id="form-error"' in refused.text
    street, street_csrf = site.signed_in("street")
    viewer = street.post(
        f"/evidence/{project}/memos",
        data={"csrf_token": street_csrf, "text": "街道看法"},
    )
    assert viewer.status_code == 403
