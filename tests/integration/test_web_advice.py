"""The unit page's advice block reads as a worker's checklist in Chinese, without tool ids."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.coproduction.catalogue import load_catalogue
from colift.services.accounts import list_accounts
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts


def _worker(engine: Engine) -> TestClient:
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


def test_advice_block_says_who_why_how_and_what_to_record(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    html = _worker(engine).get(f"/units/{resident.unit_id}").text
    block = html.split('id="advice"', 1)[1].split("</section>", 1)[0]
    first = block.split("<li>", 1)[1].split("</li>", 1)[0]
    for heading in ("谁去做", "为什么", "怎么做", "做完记录"):
        assert heading in first, heading
    ids = [t.id for t in load_catalogue()]
    # what a reader sees: the evidence links carry a code id in their address, never in the text
    advice_list = re.sub(r"<[^>]+>", "", block.split("</ol>", 1)[0])
    assert not [i for i in ids if i in advice_list], "tool ids belong in --json only"
    assert "多方合作" in block  # who worked with whom, read from the demo's activity log


def test_compound_page_has_a_regeneration_section(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    html = _worker(engine).get(f"/compounds/{code}").text
    section = html.split('id="regeneration"', 1)[1].split("</section>", 1)[0]
    assert "社区更新" in section and "集体行动" in section


def test_street_page_lists_each_compounds_regeneration(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"username": "street", "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    html = client.get("/street").text
    section = html.split('id="regeneration"', 1)[1].split("</section>", 1)[0]
    assert "红星机械厂家属院" in section and "集体行动" in section
