"""Roster update in the browser's terms: download, edit, upload, preview table, confirm (PRG)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.ledger import verify_ledger


@pytest.fixture(autouse=True)
def _preview_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLIFT_ROSTER_PREVIEW_DIR", str(tmp_path / "previews"))


def _signed_in(engine: Engine, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert csrf
    return client, csrf[1]


def test_worker_downloads_edits_previews_and_confirms(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    client, csrf = _signed_in(engine, "worker")
    page = client.get(f"/compounds/{code}/import")
    assert f'href="/compounds/{code}/import/update"' in page.text
    page = client.get(f"/compounds/{code}/import/update")
    assert "更新已登记的房屋" in page.text and 'id="export"' in page.text
    download = client.get(f"/compounds/{code}/import/roster.xlsx")
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    owner_col = header.index("业主") + 1
    old_owner = sheet.cell(row=2, column=owner_col).value
    sheet.cell(row=2, column=owner_col).value = "欧阳新业主"
    edited = io.BytesIO()
    book.save(edited)

    upload = {"roster": ("roster.xlsx", edited.getvalue(), "application/octet-stream")}
    sent = client.post(
        f"/compounds/{code}/import/preview",
        data={"csrf_token": csrf},
        files=upload,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:300]
    where = sent.headers["location"]
    preview = client.get(where)
    assert preview.status_code == 200
    assert f"<del>{old_owner}</del> → <ins>欧阳新业主</ins>" in preview.text
    assert 'data-testid="changed">1<' in preview.text
    assert 'id="confirm"' in preview.text

    done = client.post(f"{where}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert 'id="applied"' in after.text and 'id="confirm"' not in after.text
    again = client.post(f"{where}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert again.status_code == 400 and "已经确认过" in again.text
    assert verify_ledger(engine).ok


def test_a_typo_is_listed_with_its_row_and_a_resident_is_refused(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    client, csrf = _signed_in(engine, "worker")
    bad = "楼栋,单元,楼层,房号,面积,业主\n九十九栋x,1,1,101,56.3,张桂兰\n".encode()
    sent = client.post(
        f"/compounds/{code}/import/preview",
        data={"csrf_token": csrf},
        files={"roster": ("roster.csv", bad, "text/csv")},
    )
    assert sent.status_code == 422
    assert "<td>2</td><td>楼栋</td>" in sent.text and "九十九栋x" in sent.text
    resident, token = _signed_in(engine, "resident")
    refused = resident.post(
        f"/compounds/{code}/import/preview",
        data={"csrf_token": token},
        files={"roster": ("roster.csv", bad, "text/csv")},
    )
    assert refused.status_code == 403
    assert resident.get(f"/compounds/{code}/import/roster.xlsx").status_code == 403
    assert resident.get(f"/compounds/{code}/import/update").status_code == 403
