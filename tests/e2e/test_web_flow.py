"""One unit's whole way through the web app, as its users click it in a real browser.

A community worker imports the roster of a new stairwell, records the first survey and a
deliberation meeting, prices the plan and opens the vote; owners sign in on their own and vote
until the consent gauge shows the vote passed; the worker opens the public notice, an owner's
written objection during the notice blocks it, mediation resolves the objection and the notice
is passed into approval.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from colift.model.accounts import Account, AccountRole
from colift.services.accounts import create_account

from .conftest import LiveApp

pytestmark = pytest.mark.e2e

BUILDING, UNIT = "9", "1"
LABEL = f"{BUILDING}栋{UNIT}单元"
OWNERS = [
    ("101", "孙秀英", "13905310101", 58.40),
    ("102", "马国强", "13905310102", 64.20),
    ("201", "高玉珍", "", 58.40),
    ("202", "林志刚", "13905310202", 64.20),
    ("301", "何丽萍", "13905310301", 58.40),
    ("302", "罗德明", "", 64.20),
    ("401", "梁桂芳", "13905310401", 58.40),
    ("402", "宋文华", "13905310402", 64.20),
    ("501", "郑美兰", "", 58.40),
    ("502", "谢国平", "13905310502", 64.20),
    ("601", "韩淑珍", "13905310601", 58.40),
    ("602", "唐建军", "13905310602", 64.20),
]
# Owners who vote yes in their own browser, in this order; 101 and 102 stay away.
VOTERS = ["601", "602", "501", "502", "401", "402", "301", "302", "201", "202"]
OBJECTOR = "101"
PASSWORD = "e2e-owner-pass"


def roster_csv() -> str:
    lines = ["楼栋,单元,总层数,楼层,房号,面积,业主,电话,居住状态,住户"]
    for room, owner, phone, area in OWNERS:
        tenure, resident = ("出租", "租户 陈晓东") if room == "302" else ("自住", owner)
        lines.append(
            f"{BUILDING},{UNIT},6,{room[0]},{room},{area:.2f},{owner},{phone},{tenure},{resident}"
        )
    return "\n".join(lines) + "\n"


BAD_CSV = (
    "楼栋,单元,总层数,楼层,房号,面积,业主,电话\n"
    "9,2,6,1,101,58.40,王小明,13905319101\n"
    "9,2,6,1,102,-5,李大山,\n"  # negative area
    "9,2,6,2,201,58.40,,\n"  # no owner
    "9,2,6,9,901,58.40,赵六,\n"  # floor above the storeys
)


def stage_badge(page: Page) -> str:
    return page.get_by_test_id("stage").inner_text().strip()


def move_stage(page: Page, target: str, on: date, reason: str = "") -> None:
    """Submits the stage form; the caller asserts what the page shows after."""
    form = page.locator("#stage form")
    form.locator("select[name=target]").select_option(target)
    form.locator("input[name=on]").fill(on.isoformat())
    if reason:
        form.locator("input[name=reason]").fill(reason)
    form.locator("button").click()


def test_unit_from_roster_to_approval(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    today = date.today()
    worker = new_context().new_page()

    # The worker signs in through the form and lands on the compound.
    sign_in(worker, "worker")
    expect(worker).to_have_url(re.compile(f"/compounds/{live_app.code}$"))
    expect(worker.locator("h1")).to_contain_text("红星机械厂家属院")
    shoot(worker, "compound-dashboard", full_page=True)

    # A roster with a wrong row is refused whole, each problem listed by row and column.
    bad = tmp_path / "9栋2单元-有误.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    worker.goto(f"/compounds/{live_app.code}/import")
    worker.set_input_files("input[name=roster]", str(bad))
    worker.click("form[enctype] button")
    errors = worker.locator("#errors")
    expect(errors.get_by_role("alert")).to_contain_text("全部未导入")
    rows = errors.locator("table.errors tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("面积")
    expect(rows.nth(1)).to_contain_text("业主")
    expect(rows.nth(2)).to_contain_text("楼层")
    shoot(worker, "import-errors", full_page=True)

    # The good roster: a new building with one six-storey stairwell of twelve flats.
    good = tmp_path / "9栋1单元名册.csv"
    good.write_text(roster_csv(), encoding="utf-8-sig")
    worker.set_input_files("input[name=roster]", str(good))
    worker.click("form[enctype] button")
    imported = worker.locator("#imported")
    expect(imported).to_be_visible()
    counts = imported.locator("li")
    expect(counts.nth(0)).to_have_text(re.compile(r"楼栋.*[:：]\s*1$"))  # buildings created
    expect(counts.nth(1)).to_have_text(re.compile(r"单元.*[:：]\s*1$"))  # units created
    expect(counts.nth(2)).to_have_text(re.compile(r"[:：]\s*12$"))  # households
    expect(worker.locator("#errors")).to_have_count(0)
    shoot(worker, "import-result", full_page=True)

    # Back on the compound the new stairwell is listed; the worker opens it.
    worker.click("#imported a.button")
    # On a loaded machine the page load alone can outlast expect()'s 5 s: wait for it first
    # (the context's 15 s), then check what it shows.
    worker.wait_for_url(re.compile(f"/compounds/{live_app.code}$"), wait_until="load")
    cell = worker.locator("a.unitcell", has_text=LABEL)
    expect(cell).to_contain_text("意愿征询")
    cell.click()
    expect(worker.locator("h1")).to_contain_text(LABEL)
    unit_id = int(worker.url.rsplit("/", 1)[1].split("#")[0])
    expect(worker.locator(".flat")).to_have_count(12)
    expect(worker.get_by_test_id("flat-601")).to_contain_text("韩淑珍")
    assert stage_badge(worker) == "意愿征询"

    # The door-to-door survey and the owners' meeting, recorded through the activity form.
    record_activity(
        worker, "willingness_survey", today - timedelta(days=45), 12, "挨家挨户发征询表"
    )
    timeline = worker.locator("#activities ol.timeline")
    expect(timeline).to_contain_text("意愿征询")
    record_activity(
        worker,
        "deliberation_meeting",
        today - timedelta(days=42),
        10,
        "高低层业主议事，商定补偿一楼",
    )
    expect(timeline).to_contain_text("议事协商会")
    expect(timeline).to_contain_text("高低层业主议事")

    # The vote gate needs a priced plan: the worker saves a cost plan under the city's subsidy.
    worker.locator("#shares details summary").click()
    plan = worker.locator("form[action$='/plan']")
    plan.locator("input[name=total]").fill("450000")
    plan.locator("select[name=subsidy_profile]").select_option("jinan")
    plan.locator("button").click()
    expect(worker.locator(".flash")).to_contain_text("费用分摊方案已保存")
    expect(worker.locator("#shares [data-testid=share-table] tbody tr")).to_have_count(12)

    # survey → consultation → vote, dated back so the notice can later open 25 days ago.
    move_stage(worker, "consultation", today - timedelta(days=40))
    expect(worker.get_by_test_id("stage")).to_have_text("协商签约")
    move_stage(worker, "vote", today - timedelta(days=35))
    expect(worker.get_by_test_id("stage")).to_have_text("表决")

    # The vote round opens; nobody has voted, so the gauge shows the vote open.
    worker.locator("form[action$='/rounds'] input[name=title]").evaluate(
        "el => el.closest('details').open = true"
    )
    worker.fill("form[action$='/rounds'] input[name=title]", "9栋1单元加装电梯表决")
    worker.locator("form[action$='/rounds'] button").click()
    expect(worker.locator(".flash")).to_contain_text("已开始新一轮表决")
    expect(worker.get_by_test_id("consent-open")).to_be_visible()
    shoot(worker, "unit-before-vote", full_page=True)

    # Each owner signs in in their own browser and presses 同意 on their unit page.
    for room, owner, _, _ in OWNERS:
        create_account(
            live_app.engine,
            Account(
                0,
                f"owner-9-1-{room}",
                f"业主 {owner}",
                AccountRole.RESIDENT,
                compound_code=live_app.code,
                unit_id=unit_id,
                room=room,
            ),
            PASSWORD,
        )
    needed = [margin_heads(worker)]
    gauges = [worker.get_by_test_id("gauge").inner_text()]
    votes = 0
    for room in VOTERS:
        owner_page = new_context().new_page()
        sign_in(owner_page, f"owner-9-1-{room}", PASSWORD)
        expect(owner_page).to_have_url(re.compile(f"/units/{unit_id}$"))
        expect(owner_page.get_by_test_id("own-vote")).to_have_text("未表决")
        owner_page.get_by_role("radio", name="同意", exact=True).check()
        owner_page.get_by_role("button", name="下一步：核对并确认").click()
        owner_page.wait_for_url(re.compile(f"/units/{unit_id}/vote\\?"), wait_until="load")
        expect(owner_page.get_by_test_id("choice-spelled")).to_contain_text("同意")
        owner_page.get_by_role("button", name="确认： 同意").click()
        owner_page.wait_for_url(re.compile(f"/units/{unit_id}(#consent)?$"), wait_until="load")
        expect(owner_page.get_by_test_id("own-vote")).to_have_text("同意")
        votes += 1
        gauge_now = owner_page.get_by_test_id("gauge").inner_text()
        assert gauge_now != gauges[-1], f"the gauge did not move after {room} voted"
        gauges.append(gauge_now)
        if owner_page.get_by_test_id("consent-passed").count():
            shoot(owner_page, "unit-resident-after-vote", full_page=True)
            owner_page.context.close()
            break
        expect(owner_page.get_by_test_id("consent-open")).to_be_visible()
        needed.append(margin_heads(owner_page))
        assert needed[-1] <= needed[-2], needed
        owner_page.context.close()
    else:
        pytest.fail(f"consent did not pass after {votes} votes: {gauges[-1]}")
    assert votes == 8  # two-thirds of twelve owners and of the area, all agreeing
    assert needed[0] > needed[-1]

    worker.reload()
    expect(worker.get_by_test_id("consent-passed")).to_be_visible()
    expect(worker.get_by_test_id("margin")).to_have_count(0)
    expect(worker.get_by_test_id("gate-open")).to_be_visible()
    shoot(worker, "unit-page", full_page=True)

    # vote → design, then the public notice opens 25 days ago.
    move_stage(worker, "design", today - timedelta(days=30))
    expect(worker.get_by_test_id("stage")).to_have_text("设计与管线踏勘")
    opened = today - timedelta(days=25)
    move_stage(worker, "notice", opened)
    expect(worker.get_by_test_id("stage")).to_have_text("公示")
    expect(worker.locator("#stage")).to_contain_text(opened.isoformat())

    notice = worker.context.new_page()
    notice.goto(f"/units/{unit_id}/print/notice")
    expect(notice.locator("body")).to_contain_text(LABEL)
    shoot(notice, "notice-print", full_page=True)
    notice.close()

    # An owner who stayed away objects in writing during the notice.
    objector = new_context().new_page()
    sign_in(objector, f"owner-9-1-{OBJECTOR}", PASSWORD)
    form = objector.locator("form[action$='/objections']")
    objector.locator("#objections details summary").click()
    form.locator("input[name=reasons]").first.check()
    # Day 5 of the 10-day notice (counted from the day after posting, Civil Code art. 201).
    form.locator("input[name=on]").fill((opened + timedelta(days=5)).isoformat())
    form.locator("textarea[name=notes]").fill("担心电梯井挡住一楼采光")
    form.locator("button").click()
    expect(objector.locator(".flash")).to_contain_text("已登记书面异议")
    expect(objector.locator("#objections tbody tr")).to_have_count(1)
    objector.context.close()

    # The objection blocks passing the notice: the gate's refusal comes back as a 409 page.
    worker.reload()
    row = worker.locator("#objections tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(OBJECTOR)
    expect(row).to_contain_text("已提出")
    expect(worker.get_by_test_id("gate-closed")).to_be_visible()
    with worker.expect_response(
        lambda r: r.url.endswith(f"/units/{unit_id}/stage") and r.request.method == "POST"
    ) as refused:
        move_stage(worker, "approval", today)
    assert refused.value.status == 409
    error = worker.locator("#form-error")
    expect(error).to_contain_text("异议")
    expect(error).to_contain_text(OBJECTOR)
    expect(worker.get_by_test_id("stage")).to_have_text("公示")
    shoot(worker, "notice-blocked", full_page=True)

    # Mediation, then resolved: the objection no longer blocks.
    set_objection(worker, "mediation", "街道人民调解委员会上门调解")
    expect(row).to_contain_text("调解中")
    set_objection(worker, "resolved", "调整井道位置，一楼业主同意")
    expect(row).to_contain_text("已化解")
    expect(worker.get_by_test_id("gate-open")).to_be_visible()

    # The notice passes into approval.
    move_stage(worker, "approval", today, reason="公示期满，异议已化解")
    expect(worker.get_by_test_id("stage")).to_have_text("审查审批")
    expect(worker.locator(".flash")).to_contain_text("阶段已变更")
    expect(worker.locator("#form-error")).to_have_count(0)

    # Once in English: the same page in the other language, then back to Chinese.
    worker.get_by_role("link", name="English").click()
    expect(worker.locator("html")).to_have_attribute("lang", "en")
    expect(worker.locator("#consent h2")).to_contain_text("Consent")
    expect(worker.get_by_test_id("stage")).to_have_text(re.compile("approval", re.I))
    shoot(worker, "unit-page-en", full_page=True)
    worker.get_by_role("link", name="中文").click()
    expect(worker.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(worker.get_by_test_id("stage")).to_have_text("审查审批")


def record_activity(page: Page, tool: str, on: date, participants: int, notes: str) -> None:
    form = page.locator("form[action$='/activities']")
    form.evaluate("el => el.closest('details').open = true")
    form.locator("select[name=tool]").select_option(tool)
    # Party guidance is chosen every time (no silent default): the worker's committee leads
    form.locator("select[name=guidance]").select_option("direct")
    form.locator("input[name=on]").fill(on.isoformat())
    form.locator("input[name=participants]").fill(str(participants))
    form.locator("textarea[name=notes]").fill(notes)
    form.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("已记录活动")


def set_objection(page: Page, status: str, note: str) -> None:
    form = page.locator("#objections tbody tr form")
    form.locator("select[name=status]").select_option(status)
    form.locator("input[name=notes]").fill(note)
    form.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("异议状态已更新")


def margin_heads(page: Page) -> int:
    """Owners still needed, as the line under the gauge says."""
    text = page.get_by_test_id("margin").inner_text()
    found = re.search(r"\d+", text)
    assert found, text
    return int(found.group())
