"""Where people look: the unit page and the printed documents name the rule in Chinese, show
the Civil-Code warning wherever the verdict shows, and add the money up on their face."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.rules.costshare import parse_plan
from colift.services.costshare import set_cost_plan, unit_cost_shares
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.store import tables


def _signed_in(engine: Engine) -> TestClient:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": "worker", "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def demo(engine: Engine) -> tuple[Engine, int, TestClient]:
    code, _ = seed_demo(engine)
    logins = {a.username: a for a in seed_demo_accounts(engine, code)}
    from colift.services.accounts import list_accounts

    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    assert resident.unit_id is not None and "worker" in logins
    return engine, resident.unit_id, _signed_in(engine)


def test_the_page_and_the_papers_name_the_rule_and_add_the_money_up(
    demo: tuple[Engine, int, TestClient],
) -> None:
    engine, unit_id, client = demo
    plan = parse_plan(
        {
            "total_fen": 45_000_000,
            "scheme": {"kind": "area"},
            "subsidy_profile": "jinan",
            "compensation": [{"floors": [1], "fen_each": 300_000}],
            "funding": [
                {"household": "601", "kind": "provident_fund", "fen": 1_000_000},
                {"household": "601", "kind": "instalments", "count": 2},
            ],
        }
    )
    set_cost_plan(engine, unit_id, plan, actor="test")
    split = unit_cost_shares(engine, unit_id).result
    page = client.get(f"/units/{unit_id}").text
    assert 'data-testid="rule-name">民法典第二百七十八条<' in page
    money = _plain(page.split('data-testid="money-sum"')[1].split("</div>")[0])
    for label in ("工程总费用", "补贴", "低层补偿", "业主出资", "住房公积金提取", "其中业主现付"):
        assert label in money, label
    assert split.total_fen - split.subsidy_fen + split.compensation_fen == split.payable_fen
    agreement = _plain(client.get(f"/units/{unit_id}/print/agreement").text)
    assert "低层补偿" in agreement and "= 业主出资" in agreement
    assert "住房公积金提取" in agreement and "竣工后分期支付" in agreement
    notice = _plain(client.get(f"/units/{unit_id}/print/notice").text)
    assert "依据民法典第二百七十八条" in notice and "民法典第二百零三条" in notice
    signatures = _plain(client.get(f"/units/{unit_id}/print/signatures").text)
    assert "表决规则：民法典第二百七十八条" in signatures


def test_a_laxer_old_rule_is_warned_about_wherever_the_verdict_shows(
    demo: tuple[Engine, int, TestClient],
) -> None:
    engine, unit_id, client = demo
    with engine.begin() as conn:
        conn.execute(
            tables.units.update()
            .where(tables.units.c.id == unit_id)
            .values(consent_profile="chengdu-2018")
        )
        conn.execute(tables.vote_rounds.delete())  # count under the unit's own rule, today
    page = client.get(f"/units/{unit_id}").text
    assert "成都市既有住宅自主增设电梯实施意见（2018）" in page
    assert 'data-testid="consent-warning"' in page and "低于民法典第二百七十八条" in page
    for kind in ("signatures", "notice"):
        assert "低于民法典第二百七十八条" in client.get(f"/units/{unit_id}/print/{kind}").text, kind
    english = client.get(f"/units/{unit_id}?lang=en").text
    assert "laxer than Civil Code art. 278" in english
    assert "Chengdu 2018: two-thirds agree" in english  # the rule's English name
    api = client.get(f"/api/v1/units/{unit_id}").json()
    assert any("Civil Code art. 278" in w["en"] for w in api["consent"]["warnings"])


def test_a_worker_records_a_work_step_on_the_page(demo: tuple[Engine, int, TestClient]) -> None:
    _, unit_id, client = demo
    page = client.get(f"/units/{unit_id}").text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert csrf
    done = client.post(
        f"/units/{unit_id}/steps",
        data={
            "csrf_token": csrf[1],
            "step": "installation_notice",
            "on": "2026-11-20",
            "reference": "历城市监特告〔2026〕9号",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200
    steps = _plain(done.text.split('data-testid="steps"')[1].split("</ul>")[0])
    assert "特种设备安装书面告知 · 2026-11-20 · 历城市监特告〔2026〕9号" in steps
    refused = client.post(
        f"/units/{unit_id}/steps",
        data={"csrf_token": csrf[1], "step": "blessing", "on": "2026-11-20"},
    )
    assert refused.status_code == 400 and "不是工程步骤" in refused.text
