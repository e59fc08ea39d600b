"""Evidence pages in words (issue 13): coders by their names, case attributes and memo targets
by what they are, in Chinese on zh-CN pages; a raw id where a name belongs fails here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services import evidence as ev
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts


def signed_in(engine: Engine, username: str) -> TestClient:
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


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r"(.*?)" + re.escape(end), html, re.S)
    assert found, f"the page has a part from {start!r} to {end!r}"
    return text_of(found[1])


@pytest.fixture
def site(engine: Engine) -> tuple[Engine, str]:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    project = ev.list_projects(engine)[0].name
    # A coding stored under a login (as an API client may send it): shown as the person.
    ev.code_segment(engine, project, "interview-secretary", 0, 8, "guidance.direct", "worker")
    return engine, project


def test_coders_show_by_name_not_login(site: tuple[Engine, str]) -> None:
    engine, project = site
    client = signed_in(engine, "street")
    source = client.get(f"/evidence/{project}/sources/interview-secretary")
    assert source.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", source.text, re.S)
    coders = {
        text_of(re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)[2]).strip()
        for r in rows
        if r.count("<td") >= 3
    }
    assert "李春梅" in coders and "worker" not in coders, coders
    assert {"研究员甲", "研究员乙"} <= coders
    agreement = text_of(client.get(f"/evidence/{project}/agreement").text)
    assert "李春梅" in agreement and " worker " not in agreement
    projects = text_of(client.get("/evidence").text)
    assert "李春梅" in projects and "worker" not in projects


def test_case_attributes_and_memo_targets_in_chinese(site: tuple[Engine, str]) -> None:
    engine, project = site
    client = signed_in(engine, "worker")
    html = client.get(f"/evidence/{project}").text
    sources = section(html, "<tbody>", "</tbody>")
    for raw in ("age_band", "owner_occupied", "formal", "resident", "role=", "interview "):
        assert raw not in sources, f"{raw!r} is a raw id on the sources table: {sources[:300]}"
    assert "年龄段：75岁及以上" in sources and "楼层：6楼" in sources
    assert "产权与居住：业主自住" in sources and "访谈" in sources
    memos = section(html, 'id="memos">', "</ul>")
    loaded = ev.get_project(engine, project)
    for memo in loaded.memos.values():
        if memo.target:
            assert memo.target not in memos, f"memo target {memo.target!r} shown as an id"
    assert "编码「与模型相悖」" in memos and "资料「访谈：1栋2单元101陈丽华」" in memos
    assert "调解记录：1栋2单元101采光异议：「" in memos
    for kind in ("project", "code", "source", "segment"):
        assert f"({kind}" not in memos and f"（{kind}" not in memos

    analysis = client.get(f"/evidence/{project}/analysis").text
    heads = [text_of(h).strip() for h in re.findall(r"<h3>(.*?)</h3>", analysis, re.S)]
    assert {"角色", "楼层", "身份"} <= set(heads), heads
    columns = {text_of(c).strip() for c in re.findall(r"<th>(.*?)</th>", analysis, re.S)}
    for raw in ("formal", "informal", "resident", "(none)", "1", "6"):
        assert raw not in columns, f"{raw!r} is a raw value heading a column"
    assert {"正式组织人员", "非正式领袖", "未填", "1楼", "6楼"} <= columns


def test_english_pages_say_it_in_english(site: tuple[Engine, str]) -> None:
    engine, project = site
    client = signed_in(engine, "worker")
    html = client.get(f"/evidence/{project}?lang=en").text
    sources = section(html, "<tbody>", "</tbody>")
    assert "age band: 75 and over" in sources and "tenure: owner-occupied" in sources
    assert "年龄段" not in sources
