"""Single pages in a real browser: sign-in refusals, what each role may see, charts, PDF, phone."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from colift.model.accounts import Account, AccountRole
from colift.services.demo_accounts import DEMO_ROOM, DEMO_UNIT
from colift.services.registry import list_units
from colift.services.views import unit_page

from .conftest import PHONE, LiveApp

pytestmark = pytest.mark.e2e

# Families of CJK fonts a Debian machine may embed; pdffonts prints the embedded font's name.
CJK_FONT = re.compile(
    r"WenQuanYi|WQY|Noto\w*CJK|NotoSans(SC|TC|HK|JP|KR)|SourceHan|Droid\w*Fallback|"
    r"AR\w*(Ming|Kai)|UMing|UKai|Hei|Song|Kai|Fang",
    re.I,
)
ECHARTS_ANIMATION_MS = 1_200


def demo_unit_id(app: LiveApp) -> int:
    return next(u.id for u in list_units(app.engine, app.code) if u.label == DEMO_UNIT)


def charts_drawn(page: Page, selector: str, count: int = 1) -> None:
    """Waits until ECharts has drawn a canvas inside `count` elements matching `selector`."""
    expect(page.locator(f"{selector} canvas")).to_have_count(count, timeout=15_000)
    page.wait_for_timeout(ECHARTS_ANIMATION_MS)  # screenshots after the charts' entry animation


def test_login_refuses_wrong_password_then_rate_limits(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    shoot: Callable[..., Path],
) -> None:
    from colift.services.accounts import create_account

    create_account(
        live_app.engine,
        Account(
            0, "e2e-lockout", "社区工作者 测试", AccountRole.WORKER, compound_code=live_app.code
        ),
        "right-password-1",
    )
    page = new_context().new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("h1")).to_have_text("登录")
    shoot(page, "login")

    def attempt(password: str) -> int:
        page.fill("input[name=username]", "e2e-lockout")
        page.fill("input[name=password]", password)
        with page.expect_response(
            lambda r: r.url.endswith("/login") and r.request.method == "POST"
        ) as answer:
            page.click("form[action='/login'] button")
        page.wait_for_load_state()
        return answer.value.status

    for n in range(5):
        assert attempt(f"wrong-{n}") == 401
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
        expect(page.locator("input[name=username]")).to_have_value("e2e-lockout")
    shoot(page, "login-refused")

    # The sixth try is not even checked, right password or not: the account waits.
    assert attempt("right-password-1") == 429
    expect(page.get_by_role("alert")).to_contain_text("登录失败次数过多")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_resident_sees_only_their_own_flat(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    unit_id = demo_unit_id(live_app)
    stored = unit_page(live_app.engine, unit_id)
    others = [f for floor in stored.floors for f in floor if f.room != DEMO_ROOM]
    names = {r.name for f in others for r in f.residents if r.name}
    assert names, "the demo unit should name its residents"

    page = new_context().new_page()
    sign_in(page, "resident")
    expect(page).to_have_url(re.compile(f"/units/{unit_id}$"))

    own = page.get_by_test_id(f"flat-{DEMO_ROOM}")
    expect(own).to_be_visible()
    expect(own).to_contain_text("表决")
    hidden = page.locator(".flat.hidden-flat")
    expect(hidden).to_have_count(len(others))
    for flat in hidden.all():
        text = flat.inner_text()
        assert "表决" not in text and "态度" not in text, text
    body = page.locator("main").inner_text()
    leaked = sorted(n for n in names if n in body)
    assert not leaked, f"a resident sees other households' names: {leaked}"

    for section in ("#advice", "#activities", "#whatif"):
        expect(page.locator(section)).to_have_count(0)
    expect(page.locator("#shares [data-testid=share-table] tbody tr")).to_have_count(1)
    expect(page.get_by_role("radio", name="同意", exact=True)).not_to_be_checked()
    shoot(page, "unit-resident", full_page=True)

    # What a resident may not run or read is refused, not just hidden.
    answer = page.goto(f"/units/{unit_id}/whatif")
    assert answer is not None and answer.status == 403
    # The signature sheet is theirs to read, as an own copy: their flat's line only.
    answer = page.goto(f"/units/{unit_id}/print/signatures")
    assert answer is not None and answer.status == 200
    expect(page.get_by_test_id("own-copy")).to_be_visible()


def test_street_viewer_sees_funnel_and_no_forms(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    page = new_context().new_page()
    sign_in(page, "street")
    expect(page).to_have_url(re.compile(r"/street$"))
    expect(page.locator("h1")).to_contain_text("街道总览")
    expect(page.locator("main")).to_contain_text("红星机械厂家属院")
    charts_drawn(page, ".chart", count=2)  # the stage funnel and the days in stage
    funnel = page.locator(".chart").first
    box = funnel.locator("canvas").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    # the list's filter is a GET form (it changes nothing); no form that writes
    expect(page.locator("main form[method='get']")).to_have_count(1)
    expect(page.locator("main form:not([method='get'])")).to_have_count(0)
    shoot(page, "street-overview", full_page=True)

    # A unit of the street: readable, but without a single form to change it.
    page.goto(f"/units/{demo_unit_id(live_app)}")
    expect(page.get_by_test_id("gauge")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    answer = page.goto(f"/compounds/{live_app.code}/import")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("alert")).to_contain_text("导入")


def test_notice_pdf_embeds_a_cjk_font(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    tmp_path: Path,
    shots: Path,
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = demo_unit_id(live_app)
    answer = context.request.get(f"/units/{unit_id}/print/notice.pdf", timeout=60_000)
    assert answer.status == 200, answer.text()[:500]
    assert answer.headers["content-type"] == "application/pdf"
    pdf = answer.body()
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf or b"/FontFile3" in pdf, "the PDF embeds no font program"
    (shots / "notice.pdf").write_bytes(pdf)

    pdffonts = shutil.which("pdffonts")
    if pdffonts is None:
        return  # poppler-utils is optional: the embedded font program was checked above
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    listed = subprocess.run(
        [pdffonts, str(path)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    rows = listed.splitlines()[2:]
    cjk = [row for row in rows if CJK_FONT.search(row.split()[0])]
    assert cjk, f"no CJK font among the PDF's fonts:\n{listed}"
    assert all(" yes " in f" {row} " for row in cjk), f"a CJK font is not embedded:\n{listed}"


def test_whatif_panel_draws_its_charts(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
    shots: Path,
) -> None:
    page = new_context().new_page()
    sign_in(page, "worker")
    page.goto(f"/units/{demo_unit_id(live_app)}")
    panel = page.locator("#whatif")
    expect(panel.get_by_test_id("whatif")).to_have_count(0)
    panel.get_by_role("button", name="模拟200次").click()
    result = panel.get_by_test_id("whatif")
    expect(result).to_be_visible(timeout=90_000)
    expect(result.locator("tbody tr").first).to_be_visible()
    assert result.locator("tbody tr").count() >= 2  # strategies compared
    charts_drawn(page, "#whatif-result .chart", count=2)
    panel.scroll_into_view_if_needed()
    shoot(page, "whatif")
    panel.screenshot(path=str(shots / "whatif-panel.png"))


@pytest.mark.parametrize("username", ["resident", "worker"])
def test_phone_width_unit_page_has_no_horizontal_overflow(
    username: str,
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, username)
    page.goto(f"/units/{demo_unit_id(live_app)}")
    expect(page.get_by_test_id("gauge")).to_be_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    shoot(page, f"unit-phone-{username}", full_page=True)
    assert widths[1] == PHONE["width"]
    assert widths[0] <= widths[1] + 1, (
        f"the page is {widths[0]} px wide on a {widths[1]} px phone; too wide: "
        + "; ".join(page.evaluate(TOO_WIDE))
    )


# The outermost elements sticking out on the right (not those a scrolling box holds), to name.
TOO_WIDE = """() => {
  const limit = window.innerWidth + 1, out = [];
  const held = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll("main *")) {
    const r = el.getBoundingClientRect(), up = el.parentElement;
    if (r.right <= limit || held(el) || (up && up.getBoundingClientRect().right > limit)) continue;
    const section = el.closest("section[id]");
    out.push(`${el.tagName.toLowerCase()} in #${section ? section.id : "?"} (${Math.round(r.right)} px)`);
  }
  return out.slice(0, 8);
}"""


def test_a_worker_closes_a_round_and_the_printed_sheet_carries_the_head(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    from colift.services.consent import unit_rounds
    from colift.services.ledger import verify_ledger
    from colift.store.ledger_verify import Anchor

    # A unit other than the one the resident's tests vote in, with a round still open.
    unit_id = next(
        u.id
        for u in list_units(live_app.engine, live_app.code)
        if u.label != DEMO_UNIT and any(r.is_open for r in unit_rounds(live_app.engine, u.id))
    )
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, "worker")
    page.goto(f"/units/{unit_id}#rounds")
    expect(page.get_by_test_id("open-round")).to_be_visible()
    page.get_by_text("结束本轮表决", exact=True).click()
    page.get_by_label("计票结果已确认").check()
    with page.expect_navigation():
        page.get_by_role("button", name="结束表决", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("表决已结束")
    expect(page.get_by_test_id("no-open-round")).to_be_visible()
    expect(page.get_by_test_id("rounds")).to_contain_text("已结束")
    shoot(page, "unit-round-closed", full_page=True)

    sheet = new_context().new_page()
    sign_in(sheet, "worker")
    sheet.goto(f"/units/{unit_id}/print/signatures")
    line = sheet.get_by_test_id("ledger-head")
    expect(line).to_contain_text("最新记录哈希")
    found = re.search(r"[0-9a-f]{64}", line.inner_text())
    assert found, line.inner_text()
    report = verify_ledger(live_app.engine, [Anchor(found[0], source="signature sheet")])
    assert report.ok, report.message
