"""A worker corrects the roster in the browser: update page, preview table, confirm.

Runs on the session's demo compound (buildings 1–8): one phone is corrected and a flat in a
new building 10 is added, so the dashboard must list 10栋 after 8栋.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from colift.services.registry import export_roster

from .conftest import PHONE, LiveApp


def _edited_roster(live_app: LiveApp, tmp_path: Path) -> tuple[Path, str]:
    exported = tmp_path / "export.csv"
    export_roster(live_app.engine, live_app.code, exported)
    with exported.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    at = {name: header.index(name) for name in ("楼栋", "单元", "房号", "联系电话")}
    target = next(r for r in rows if r[at["楼栋"]] == "8")
    target[at["联系电话"]] = "13900008888"
    flat = f"{target[at['楼栋']]}栋{target[at['单元']]}单元{target[at['房号']]}"
    new = list(target)
    new[at["楼栋"]], new[at["单元"]], new[at["房号"]] = "10", "1", target[at["房号"]]
    rows.append(new)
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    edited = tmp_path / "名册-更正.csv"
    edited.write_text(out.getvalue(), encoding="utf-8-sig")
    return edited, flat


def test_worker_previews_and_confirms_a_roster_update(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    edited, flat = _edited_roster(live_app, tmp_path)
    page = new_context().new_page()
    sign_in(page, "worker")
    page.goto(f"/compounds/{live_app.code}/import")
    page.click("#update a.button")
    expect(page.locator("#export")).to_be_visible()

    # A typo'd building is refused with its row and column, nothing kept.
    bad = tmp_path / "有误.csv"
    bad.write_text("楼栋,单元,楼层,房号,面积,业主\n九十九栋x,1,1,101,56.3,张桂兰\n", "utf-8")
    page.set_input_files("#update-form input[name=roster]", str(bad))
    page.click("#update-form button")
    errors = page.locator("#errors table.errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.nth(0)).to_contain_text("楼栋")
    expect(errors.nth(0)).to_contain_text("九十九栋x")

    page.set_input_files("#update-form input[name=roster]", str(edited))
    page.click("#update-form button")
    assert f"/compounds/{live_app.code}/import/preview/" in page.url
    changed = page.locator("#diff tbody tr.changed")
    expect(changed).to_have_count(1)
    expect(changed.nth(0)).to_contain_text(flat)
    expect(changed.nth(0)).to_contain_text("13900008888")
    expect(page.locator("#diff tbody tr.added")).to_have_count(1)
    expect(page.get_by_test_id("unchanged")).not_to_have_text("0")
    shoot(page, "roster-update-preview", full_page=True)
    phone = new_context(viewport=PHONE).new_page()
    sign_in(phone, "worker")
    phone.goto(page.url)
    # On a phone each flat is a card: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(phone.locator("#diff thead")).to_be_hidden()
    shoot(phone, "roster-update-preview-390", full_page=True)

    page.click("#confirm")
    expect(page.locator("#applied")).to_be_visible()
    expect(page.locator("#confirm")).to_have_count(0)
    shoot(page, "roster-update-applied", full_page=True)
    # A refresh after the confirmation is a GET of the preview page: no resubmission.
    page.reload()
    expect(page.locator("#applied")).to_be_visible()

    page.goto(f"/compounds/{live_app.code}")
    headings = [t.strip() for t in page.locator(".building h3").all_inner_texts()]
    numbers = [h.removesuffix("栋").strip() for h in headings]
    assert numbers.index("2") < numbers.index("8") < numbers.index("10"), numbers
