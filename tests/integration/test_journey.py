"""The whole journey of a worker and a resident, on the server side (issue 13): money that adds
up on its face, documents only when they may be issued, forms that behave, words in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.registry import list_units
from colift.services.views import unit_page


@dataclass
class Journey:
    engine: Engine
    code: str
    unit_id: int  # the resident's unit
    room: str

    def signed_in(self, username: str) -> tuple[TestClient, str]:
        client = TestClient(create_app(self.engine), base_url="http://127.0.0.1")
        login = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
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

    def unit_where(self, passed: bool, stage: str | None = None) -> int:
        for unit in list_units(self.engine, self.code):
            page = unit_page(self.engine, unit.id)
            if page.shares is None or page.consent.result.passed is not passed:
                continue
            if stage is None or page.project.stage.value == stage:
                return unit.id
        raise AssertionError(f"the demo has no unit with passed={passed} stage={stage}")


@pytest.fixture
def journey(engine: Engine) -> Iterator[Journey]:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    from colift.services.accounts import list_accounts

    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    assert resident.unit_id is not None and resident.room is not None
    yield Journey(engine, code, resident.unit_id, resident.room)


def _fen(text: str) -> int:
    return int(Decimal(text.replace("¥", "").replace(",", "")) * 100)


def money_lines(html: str) -> list[tuple[str, int]]:
    """The (label, fen) rows of the page's money sum, in order."""
    block = re.search(r'<table class="money-sum".*?</table>', html, re.S)
    assert block, "the page shows the money sum"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", block[0], re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        rows.append((cells[0], _fen(cells[1])))
    return rows


def test_money_adds_up_on_its_face_on_the_page_and_every_document(journey: Journey) -> None:
    """Total − each subsidy line + compensation = owners' contributions = the shares added up,
    on the unit page, the 公示, the agreement and the signature sheet; no negative amount."""
    worker, _ = journey.signed_in("worker")
    unit_id = journey.unit_where(passed=False)
    page = unit_page(journey.engine, unit_id)
    assert page.shares is not None and page.shares.compensation_fen > 0
    for path in ("", "/print/notice", "/print/agreement", "/print/signatures"):
        html = worker.get(f"/units/{unit_id}{path}").text
        rows = money_lines(html)
        assert rows[0][0] == "工程总费用"
        signed = 0
        for name, fen in rows:
            if name.startswith("−"):
                signed -= fen
                assert "：" in name or name == "− 政府补贴", name  # each subsidy line is named
            elif name.startswith("+"):
                signed += fen
                assert "低层补偿" in name
            elif name.startswith("="):
                assert "业主出资" in name
                assert rows[0][1] + signed == fen == page.shares.payable_fen, (path, rows)
                break
        else:
            raise AssertionError(f"{path}: no '=' line")
        assert "-¥" not in html and "实付" not in html, path
        assert "获补偿 ¥3,000.00" in html, path
    notice = worker.get(f"/units/{unit_id}/print/notice").text
    total_row = re.search(r"<tfoot>.*?合计.*?<td[^>]*>(¥[\d,.]+)</td>", notice, re.S)
    assert total_row and _fen(total_row[1]) == page.shares.payable_fen


def test_a_notice_for_a_unit_whose_vote_failed_is_a_draft(journey: Journey) -> None:
    worker, _ = journey.signed_in("worker")
    failed = journey.unit_where(passed=False)
    draft = worker.get(f"/units/{failed}/print/notice").text
    assert 'class="draft-mark"' in draft and 'data-testid="draft-reason"' in draft
    assert "本公示不得张贴" in draft
    assert "止（期间最后一日" not in draft  # no live notice period on a draft
    passed = journey.unit_where(passed=True, stage="notice")
    issued = worker.get(f"/units/{passed}/print/notice").text
    assert 'class="draft-mark"' not in issued and "止（期间最后一日" in issued
    unit = worker.get(f"/units/{failed}").text
    assert 'data-testid="draft-notice"' in unit
    assert 'data-testid="draft-notice"' not in worker.get(f"/units/{passed}").text


def test_the_notice_and_the_survey_carry_a_qr_code_to_the_units_page(journey: Journey) -> None:
    import segno.helpers  # noqa: F401 - the library that draws it is installed

    worker, _ = journey.signed_in("worker")
    unit_id = journey.unit_where(passed=True, stage="notice")
    for kind in ("notice", "survey"):
        html = worker.get(f"/units/{unit_id}/print/{kind}").text
        qr = re.search(r'data-testid="unit-qr"><svg[^>]*>.*?</svg>', html, re.S)
        assert qr and "<path" in qr[0], kind
        assert "http" not in qr[0].split(">", 2)[2]  # drawn inline, nothing fetched
    assert 'data-testid="unit-qr"' not in worker.get(f"/units/{unit_id}/print/agreement").text


def test_a_resident_reads_the_agreement_and_their_own_row_of_the_signature_sheet(
    journey: Journey,
) -> None:
    page = unit_page(journey.engine, journey.unit_id)
    others = [
        (flat.room, person.name)
        for floor in page.floors
        for flat in floor
        if flat.room != journey.room
        for person in flat.residents
    ]
    assert others
    resident, _ = journey.signed_in("resident")
    for kind in ("agreement", "signatures"):
        answer = resident.get(f"/units/{journey.unit_id}/print/{kind}")
        assert answer.status_code == 200, kind
        assert 'data-testid="own-copy"' in answer.text
        rows = re.findall(r"<tbody>(.*?)</tbody>", answer.text, re.S)
        rooms = {r for body in rows for r in re.findall(r"<tr><td>(\d{3,4})</td>", body)}
        assert rooms == {journey.room}, (kind, rooms)
        for _room, name in others:
            assert name not in answer.text, (kind, name)
    api = resident.get(f"/api/v1/units/{journey.unit_id}/documents/signatures")
    assert api.status_code == 200 and 'data-testid="own-copy"' in api.text
    other_unit = next(
        u.id for u in list_units(journey.engine, journey.code) if u.id != journey.unit_id
    )
    assert resident.get(f"/units/{other_unit}/print/agreement").status_code == 403


def test_a_residents_vote_takes_a_confirmation_with_the_choice_in_words(journey: Journey) -> None:
    resident, csrf = journey.signed_in("resident")
    page = resident.get(f"/units/{journey.unit_id}").text
    radios = re.findall(r'<input type="radio" name="vote"[^>]*>', page)
    assert len(radios) == 3 and not any("checked" in r for r in radios)  # nothing chosen for them
    before = {r.room: r.vote for r in unit_page(journey.engine, journey.unit_id).consent.input.rows}
    one_tap = resident.post(
        f"/units/{journey.unit_id}/votes",
        data={"room": journey.room, "vote": "disagree", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert one_tap.status_code == 303
    assert one_tap.headers["location"] == f"/units/{journey.unit_id}/vote?vote=disagree"
    after = {r.room: r.vote for r in unit_page(journey.engine, journey.unit_id).consent.input.rows}
    assert after == before, "one tap recorded a legal vote"
    confirm = resident.get(one_tap.headers["location"])
    assert confirm.status_code == 200
    spelled = re.search(r'data-testid="choice-spelled">(.*?)</p>', confirm.text, re.S)
    assert spelled and "不同意" in spelled[1] and journey.room in spelled[1]
    done = resident.post(
        f"/units/{journey.unit_id}/votes",
        data={"room": journey.room, "vote": "disagree", "confirmed": "yes", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"/units/{journey.unit_id}"
    )
    shown = resident.get(done.headers["location"]).text
    own = re.search(r'data-testid="own-vote">([^<]*)<', shown)
    assert own and own[1] == "不同意"  # the button's word, not 反对
    assert ">反对<" not in shown


def test_a_refused_form_and_a_refresh_stay_on_get_addresses(journey: Journey) -> None:
    worker, csrf = journey.signed_in("worker")
    unit_id = journey.unit_where(passed=False)
    refused = worker.post(
        f"/units/{unit_id}/stage",
        data={"stage": "operation", "csrf_token": csrf},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert 400 <= refused.status_code < 500
    assert 'id="form-error"' in refused.text
    assert refused.headers["HX-Replace-Url"].startswith(f"/units/{unit_id}#")
    for form in ("stage", "plan", "votes", "objections", "activities", "stances", "steps"):
        again = worker.get(f"/units/{unit_id}/{form}", follow_redirects=False)
        assert again.status_code == 303, form
        assert again.headers["location"].startswith(f"/units/{unit_id}#"), form
    assert worker.get(f"/units/{unit_id}/rounds/1/close", follow_redirects=False).status_code == 303
    assert worker.get(f"/units/{unit_id}/nonsense").status_code == 404


def test_still_needed_names_only_what_is_missing(journey: Journey) -> None:
    worker, _ = journey.signed_in("worker")
    for unit in list_units(journey.engine, journey.code):
        page = unit_page(journey.engine, unit.id)
        html = worker.get(f"/units/{unit.id}").text
        assert "0.01㎡" not in html and "0 位业主" not in html and "还需0位" not in html
        if not any(r.vote.value != "absent" for r in page.consent.input.rows):
            assert "尚无业主参与表决" in html, unit.label


def test_the_glossary_explains_the_studys_terms_and_the_unit_page_links_to_it(
    journey: Journey,
) -> None:
    worker, _ = journey.signed_in("worker")
    glossary = worker.get("/help").text
    for word in ("合作水平", "L0", "L4", "异质性", "嵌入式引领", "直接引领"):
        assert word in glossary, word
    for role in (
        "多方关系协调者",
        "正式协商组织者",
        "共同愿景促进者",
        "意见领袖",
        "行动领袖",
        "社区精英",
    ):
        assert f">{role}</dt>" in glossary, role
    unit = worker.get(f"/units/{journey.unit_id}").text
    assert 'href="/help#level" class="term" title="' in unit
    assert re.search(r'<abbr class="term" title="[^"]{8,}">嵌入式引领</abbr>', unit)


def test_the_plan_form_is_filled_from_the_stored_plan(journey: Journey) -> None:
    worker, _ = journey.signed_in("worker")
    unit_id = journey.unit_where(passed=False)
    page = unit_page(journey.engine, unit_id)
    assert page.shares is not None
    html = worker.get(f"/units/{unit_id}").text
    form = html.split(f'action="/units/{unit_id}/plan"')[1].split("</form>")[0]
    assert f'name="total" inputmode="decimal" value="{page.shares.total_fen // 100}"' in form
    assert re.search(r'<option value="jinan" selected>济南市', form)


def test_cli_takes_a_unit_code_where_it_took_an_id(journey: Journey) -> None:
    from typer.testing import CliRunner

    from colift.cli import app

    url = str(journey.engine.url.render_as_string(hide_password=False))
    unit = next(u for u in list_units(journey.engine, journey.code) if u.label == "2栋1单元")
    runner = CliRunner()
    by_code = runner.invoke(
        app, ["advise", "--unit", "2-1", "-c", journey.code, "--database", url, "--json"]
    )
    assert by_code.exit_code == 0, by_code.output
    by_id = runner.invoke(app, ["advise", "--unit", str(unit.id), "--database", url, "--json"])
    assert by_id.exit_code == 0 and by_id.output == by_code.output
    missing = runner.invoke(app, ["advise", "--unit", "99-9", "--database", url])
    assert missing.exit_code != 0 and "99-9" in missing.output


def test_the_evidence_analysis_fills_its_examples_and_names_its_axes(journey: Journey) -> None:
    from colift.services.evidence import list_projects

    project = list_projects(journey.engine)[0].name
    worker, _ = journey.signed_in("worker")
    html = worker.get(f"/evidence/{project}/analysis").text
    rows = re.findall(r"<tr><td>[^<]*→[^<]*</td>.*?</tr>", html, re.S)
    assert rows
    examples = [re.findall(r'<td class="notes">(.*?)</td>', r, re.S)[0] for r in rows]
    assert any("「" in e for e in examples), examples  # 例句: the coded passage's own words
    charts = re.findall(r'data-chart="([^"]+)"', html)
    import html as html_lib
    import json

    specs = [json.loads(html_lib.unescape(c)) for c in charts]
    heat = next(s for s in specs if s["kind"] == "heatmap")
    assert heat["axis_name"] == "编码" and all(cell[2] > 0 for cell in heat["cells"])
    lines = next(s for s in specs if s["kind"] == "lines" and "x_name" in s and s["x_name"])
    assert lines["x_name"] == "按加入顺序的资料"
    assert all(re.match(r"\d+\. ", x) for x in lines["x"])
