"""Browser tests for the pages of the journey (issue 13): what a worker, an admin and a resident
see with their own eyes — money that adds up on its face, only what is missing, a glossary,
account management, a filled plan form, buildings in natural order, a readable analysis and a
resident's own copy on a phone. Screenshots are kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from colift.model.order import natural_key
from colift.services.accounts import list_accounts
from colift.services.registry import list_units
from colift.services.views import unit_page
from colift.store import UnitOfWork
from factories import make_unit

from .conftest import PHONE, LiveApp

YUAN = re.compile(r"¥\s*([\d,]+\.\d{2})")


def _fen(text: str) -> int:
    return int(Decimal(text.replace(",", "")) * 100)


def unit_where(app: LiveApp, passed: bool) -> int:
    """A unit with a cost plan whose vote passed (or failed)."""
    for unit in list_units(app.engine, app.code):
        page = unit_page(app.engine, unit.id)
        if page.shares is not None and page.consent.result.passed is passed:
            return unit.id
    raise AssertionError(f"the demo has no unit with a cost plan and passed={passed}")


def worker_page(
    new_context: Callable[..., BrowserContext], sign_in: Callable[..., None], user: str = "worker"
) -> Page:
    page = new_context().new_page()
    sign_in(page, user)
    return page


def test_the_money_adds_up_on_the_face_of_the_unit_page(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    unit_id = unit_where(live_app, passed=False)
    stored = unit_page(live_app.engine, unit_id).shares
    assert stored is not None and stored.compensation_fen > 0
    page = worker_page(new_context, sign_in)
    page.goto(f"/units/{unit_id}")
    money = page.get_by_test_id("money-sum")
    expect(money).to_be_visible()
    rows = [
        (r.locator("td").nth(0).inner_text().strip(), r.locator("td").nth(1).inner_text())
        for r in money.locator("tr").all()
    ]
    assert rows[0][0] == "工程总费用", rows
    total = _fen(YUAN.search(rows[0][1])[1])  # type: ignore[index]
    signed, payable = total, None
    for name, amount in rows[1:]:
        found = YUAN.search(amount)
        assert found, (name, amount)
        fen = _fen(found[1])
        if name.startswith("−"):
            assert "政府补贴" in name, name  # each subsidy line is named
            signed -= fen
        elif name.startswith("+"):
            assert "低层补偿" in name, name
            signed += fen
        elif name.startswith("="):
            assert "业主出资" in name, name
            payable = fen
            break
    assert payable is not None, rows
    assert signed == payable == stored.payable_fen, (rows, signed, payable)
    text = page.locator("body").inner_text()
    assert "获补偿" in text, "a compensated household reads 获补偿"
    assert "-¥" not in text and "实付" not in text
    money.scroll_into_view_if_needed()
    shoot(page, "journey-money-sum")


def test_still_needed_is_shown_only_for_what_is_missing(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    page = worker_page(new_context, sign_in)
    before_vote = None
    for unit in list_units(live_app.engine, live_app.code):
        view = unit_page(live_app.engine, unit.id)
        page.goto(f"/units/{unit.id}")
        text = page.locator("body").inner_text()
        assert "0.01㎡" not in text and "还需0位" not in text and "0 位业主" not in text, unit
        if not any(r.vote.value != "absent" for r in view.consent.input.rows):
            before_vote = before_vote or unit.id
            assert "尚无业主参与表决" in text, unit.label
            notes = page.locator(".barnote").all_inner_texts()
            # the agreement bars say nobody voted; only participation is "still needed"
            assert sum("尚无业主参与表决" in n for n in notes) == 2, notes
            for note in notes:
                assert not re.search(r"还需0(\.\d+)?(?!\d)", note), note
            margin = page.get_by_test_id("margin").inner_text()
            assert margin.startswith("尚无业主参与表决") and "还需" in margin, margin
    assert before_vote is not None, "the demo has a unit before any vote"
    page.goto(f"/units/{before_vote}")
    shoot(page, "journey-before-any-vote")


def test_the_unit_page_links_its_terms_to_a_chinese_glossary(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    page = worker_page(new_context, sign_in)
    unit_id = unit_where(live_app, passed=True)
    page.goto(f"/units/{unit_id}")
    level = page.locator("a.term[href='/help#level']")
    expect(level).to_have_text("合作水平")
    assert len(level.get_attribute("title") or "") >= 8, "the term has a tooltip"
    hetero = page.locator("a.term[href='/help#heterogeneity']")
    expect(hetero).to_have_text("异质性")
    assert len(hetero.get_attribute("title") or "") >= 8
    hetero.click()
    page.wait_for_url("**/help#heterogeneity")
    glossary = page.get_by_test_id("glossary")
    text = glossary.inner_text()
    for word in ("合作水平", "L0", "L4", "异质性", "嵌入式引领"):
        assert word in text, word
    terms = glossary.locator("dt").all_inner_texts()
    for role in (
        "多方关系协调者",
        "正式协商组织者",
        "共同愿景促进者",
        "意见领袖",
        "行动领袖",
        "社区精英",
    ):
        assert role in terms, role
    assert not re.search(r"\b(the|and|of|level)\b", text), "the glossary is in Chinese"
    shoot(page, "journey-glossary", full_page=True)


def test_an_admin_manages_an_account_in_the_browser(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    page = worker_page(new_context, sign_in, "admin")
    page.goto("/admin/accounts")
    expect(page.locator("h1")).to_have_text("账号管理")
    listed = page.locator("#list tbody tr td:first-child").all_inner_texts()
    assert {"admin", "worker", "resident"} <= set(listed), listed

    form = page.locator("form[action='/admin/accounts']")
    form.locator("input[name=username]").fill("zhaomin")
    form.locator("input[name=display_name]").fill("赵敏")
    form.locator("select[name=role]").select_option("worker")
    form.locator("input[name=compound_code]").fill(live_app.code)
    form.locator("input[name=password]").fill("lift-for-bldg-7")
    with page.expect_navigation():
        form.locator("button").click()
    expect(page.locator("body")).to_contain_text("账号zhaomin已创建")
    row = page.locator("#list tbody tr", has=page.locator("td:first-child", has_text="zhaomin"))
    expect(row).to_contain_text("赵敏")
    expect(row.locator("td").nth(4)).to_have_text("正常")

    with page.expect_navigation():
        row.locator("form[action$='/disable'] button").click()
    expect(page.locator("body")).to_contain_text("账号zhaomin已停用")
    expect(row.locator("td").nth(4)).to_have_text("已停用")

    with page.expect_navigation():
        row.locator("form[action$='/enable'] button").click()
    expect(page.locator("body")).to_contain_text("账号zhaomin已启用")
    row.locator("form[action$='/password'] input[name=password]").fill("new-pass-bldg-7")
    with page.expect_navigation():
        row.locator("form[action$='/password'] button").click()
    expect(page.locator("body")).to_contain_text("zhaomin")
    shoot(page, "journey-admin-accounts", full_page=True)

    other = new_context().new_page()
    sign_in(other, "zhaomin", "new-pass-bldg-7")
    assert any(a.username == "zhaomin" and a.active for a in list_accounts(live_app.engine))


def test_the_plan_form_shows_the_stored_plan(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    unit_id = unit_where(live_app, passed=False)
    stored = unit_page(live_app.engine, unit_id).shares
    assert stored is not None
    page = worker_page(new_context, sign_in)
    page.goto(f"/units/{unit_id}")
    form = page.locator(f"form[action='/units/{unit_id}/plan']")
    expect(form.locator("input[name=total]")).to_have_value(str(stored.total_fen // 100))
    city = form.locator("select").filter(has=page.locator("option[value=jinan]"))
    expect(city).to_have_value("jinan")
    assert city.evaluate("s => s.options[s.selectedIndex].text").startswith("济南市")
    form.scroll_into_view_if_needed()
    shoot(page, "journey-plan-form")


def test_the_compound_page_puts_building_2_before_building_10(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    # A compound of its own, its buildings added out of order: 10 first, then 2 and 9.
    code = "e2e-natural"
    with UnitOfWork(live_app.engine) as uow:
        first = make_unit(uow, code=code, building_number="10")
        for number in ("2", "9"):
            make_unit(uow, compound=first.compound, building_number=number)
        uow.commit()
    page = worker_page(new_context, sign_in, "admin")
    page.goto(f"/compounds/{code}")
    heads = [h.strip() for h in page.locator(".building h3").all_inner_texts()]
    assert heads == ["2栋", "9栋", "10栋"], heads
    cells = page.locator(".unitcell strong").all_inner_texts()
    assert cells == sorted(cells, key=natural_key) and cells[0].startswith("2栋"), cells
    shoot(page, "journey-natural-order")

    # and the demo compound, as its worker sees it, in the same order
    page = worker_page(new_context, sign_in)
    page.goto(f"/compounds/{live_app.code}")
    demo = [h.strip() for h in page.locator(".building h3").all_inner_texts()]
    assert len(demo) > 1 and demo == sorted(demo, key=natural_key), demo


def test_the_evidence_analysis_reads_in_words(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    from colift.services.evidence import list_projects

    project = list_projects(live_app.engine)[0].name
    page = worker_page(new_context, sign_in)
    page.goto(f"/evidence/{project}/analysis")
    links = page.locator("table tbody tr", has=page.locator("td:first-child", has_text="→"))
    assert links.count() > 0
    examples = links.locator("td.notes").all_inner_texts()
    assert any("「" in e for e in examples), examples  # 例句: the passage's own words
    assert not any(re.fullmatch(r"\s*", e) for e in examples), examples
    charts = page.locator(".chart canvas")
    expect(charts.first).to_be_visible()
    options = page.evaluate(
        """() => [...document.querySelectorAll('.chart')].map(el => {
             const c = window.echarts && echarts.getInstanceByDom(el);
             const o = c && c.getOption();
             if (!o || !o.xAxis || !o.xAxis.length) return null;
             const x = o.xAxis[0];
             return {x: x.name, y: o.yAxis[0].name, data: x.data, at: x.nameLocation,
                     every: x.axisLabel.interval === 0 && o.yAxis[0].axisLabel.interval === 0};
           })"""
    )
    heat, saturation = options[1], options[2]
    assert heat and heat["x"] == "编码" and heat["y"] == "编码", heat
    assert all(re.search(r"[\u4e00-\u9fff]", str(label)) for label in heat["data"]), heat
    assert saturation and saturation["x"] == "按加入顺序的资料", saturation
    # the axis names sit under the axes, inside the chart; no code name on the heat map skipped
    assert heat["at"] == saturation["at"] == "middle" and heat["every"], (heat, saturation)
    assert all(re.match(r"\d+\. \S", str(x)) for x in saturation["data"]), saturation
    page.locator(".chart").nth(1).scroll_into_view_if_needed()
    shoot(page, "journey-evidence-analysis")


def test_a_resident_on_a_phone_opens_the_agreement_and_only_their_own_row(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Any],
) -> None:
    resident = next(a for a in list_accounts(live_app.engine) if a.username == "resident")
    assert resident.unit_id is not None and resident.room is not None
    view = unit_page(live_app.engine, resident.unit_id)
    others = [
        person.name
        for floor in view.floors
        for flat in floor
        if flat.room != resident.room
        for person in flat.residents
    ]
    assert others
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, "resident")
    for kind in ("agreement", "signatures"):
        page.goto(f"/units/{resident.unit_id}/print/{kind}")
        expect(page.get_by_test_id("own-copy")).to_be_visible()
        rooms = {
            t.strip()
            for t in page.locator("tbody tr td:first-child").all_inner_texts()
            if re.fullmatch(r"\d{3,4}", t.strip())
        }
        assert rooms == {resident.room}, (kind, rooms)
        text = page.locator("body").inner_text()
        for name in others:
            assert name not in text, (kind, name)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{kind} is {width} px wide on a 390 px phone"
        shoot(page, f"journey-resident-{kind}-phone", full_page=True)
