"""Evidence beside the advice: a worker reads what the coded interviews say about an advised
tool and opens its coded segments in one click; a resident sees no research records at all."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.accounts import list_accounts
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.evidence import (
    add_case,
    add_source,
    code_segment,
    create_project,
    link_source_to_case,
)
from colift.services.views import unit_page

SAID = "党员带头表态。后来大家都签了字。"


def _signed_in(engine: Engine, username: str) -> TestClient:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


def _advice(html: str) -> str:
    return html.split('id="advice"', 1)[1].split("</section>", 1)[0]


def test_a_worker_sees_the_evidence_of_an_advised_tool_and_a_resident_does_not(
    engine: Engine,
) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    assert resident.unit_id is not None
    tool = unit_page(engine, resident.unit_id).advice.recommendations[0].tool
    create_project(engine, "试点访谈", actor="测试", compound=code)  # the unit's own compound
    for n in (1, 2):
        add_case(engine, "试点访谈", f"c{n}", f"个案{n}")
        add_source(
            engine,
            "试点访谈",
            SAID.encode(),
            f"访谈{n}.txt",
            source_id=f"s{n}",
            name=f"访谈{n}",
            actor="测试",
        )
        link_source_to_case(engine, "试点访谈", f"s{n}", f"c{n}")
        code_segment(engine, "试点访谈", f"s{n}", 0, 7, f"tool.{tool}", "测试")
        code_segment(engine, "试点访谈", f"s{n}", 7, 16, "outcome.consent", "测试")

    worker = _signed_in(engine, "worker")
    block = _advice(worker.get(f"/units/{resident.unit_id}").text)
    assert re.search(r"在2个个案的2段访谈中，.+之后出现了同意", block)
    link = re.search(r'href="(/evidence/[^"]+\?code=[^"]+)#coded"', block)
    assert link, block
    segments = worker.get(link[1].replace("&amp;", "&")).text
    coded = segments.split('id="coded"', 1)[1].split("</section>", 1)[0]
    assert "访谈1 0–7" in coded and "访谈2 0–7" in coded and "党员带头表态" in coded

    html = _signed_in(engine, "resident").get(f"/units/{resident.unit_id}").text
    assert "之后出现了同意" not in html and "/evidence/" not in html
