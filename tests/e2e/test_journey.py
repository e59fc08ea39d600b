"""Browser tests for the whole journey (issue 13): documents on paper, money on its face,
forms that behave and pages in Chinese, at desktop and phone width. Screenshots are kept."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from colift.services.registry import list_units
from colift.services.views import unit_page

from .conftest import PHONE, LiveApp

MM = 96 / 25.4  # CSS pixels per millimetre


def twelve_flat_unit(app: LiveApp, passed: bool | None = None) -> int:
    for unit in list_units(app.engine, app.code):
        page = unit_page(app.engine, unit.id)
        flats = sum(len(floor) for floor in page.floors)
        wanted = passed is None or page.consent.result.passed is passed
        if flats == 12 and page.shares is not None and wanted:
            return unit.id
    raise AssertionError("the demo has no 12-flat unit with a cost plan")


def pdf_of(context: BrowserContext, path: str, shots: Path, name: str) -> PdfReader:
    answer = context.request.get(path, timeout=90_000)
    assert answer.status == 200, answer.text()[:300]
    body = answer.body()
    (shots / f"{name}.pdf").write_bytes(body)
    return PdfReader(io.BytesIO(body))


def page_texts(reader: PdfReader) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text() or "") for p in reader.pages]


def nothing_sticks_out(page: Page) -> None:
    """Every element of the printed page lies inside the body: no clipped right border."""
    overflow = page.evaluate(
        """() => {
        const body = document.body.getBoundingClientRect();
        const out = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.width && r.right > body.right + 1) out.push(el.tagName + '.' + el.className + ' ' + r.right + '>' + body.right);
        }
        return out.slice(0, 5);
      }"""
    )
    assert not overflow, overflow


def test_the_survey_for_twelve_flats_fits_one_a4_landscape_page(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shots: Path,
    shoot: Callable[..., Path],
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = twelve_flat_unit(live_app)
    reader = pdf_of(context, f"/units/{unit_id}/print/survey.pdf", shots, "survey-12-flats")
    assert len(reader.pages) == 1, f"the survey prints on {len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height), "the survey is printed landscape"
    assert abs(float(box.width) - 842) < 3 and abs(float(box.height) - 595) < 3  # A4 in points
    text = page_texts(reader)[0]
    assert "单元长（签字）" in text and "□" not in text[:0]

    # The same page in the browser, as printed: 277 mm wide, nothing clipped, no word broken.
    page.set_viewport_size({"width": round(277 * MM), "height": round(190 * MM)})
    page.goto(f"/units/{unit_id}/print/survey")
    page.emulate_media(media="print")
    nothing_sticks_out(page)
    choices = page.locator(".choice")
    assert choices.count() == 12 * 9
    heights = choices.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    line = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.choice')).lineHeight) || 20"
    )
    assert max(heights) < 1.6 * line, "a choice box wraps onto a second line"
    expect(page.get_by_test_id("unit-qr").locator("svg")).to_be_visible()
    shoot(page, "print-survey", full_page=True)


def test_documents_print_without_orphans_and_with_the_ledger_head(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shots: Path,
    shoot: Callable[..., Path],
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = twelve_flat_unit(live_app, passed=True)
    for kind in ("notice", "agreement", "signatures"):
        page.set_viewport_size({"width": round(180 * MM), "height": 1000})
        page.goto(f"/units/{unit_id}/print/{kind}")
        page.emulate_media(media="print")
        nothing_sticks_out(page)
        expect(page.get_by_test_id("ledger-head")).to_be_visible()
        # each heading with the first words after it
        pairs = page.evaluate(
            """() => [...document.querySelectorAll('h2')].map(h => [h.textContent,
                 (h.nextElementSibling ? h.nextElementSibling.textContent : '')])"""
        )
        shoot(page, f"print-{kind}", full_page=True)
        texts = page_texts(pdf_of(context, f"/units/{unit_id}/print/{kind}.pdf", shots, kind))
        for heading, following in pairs:
            head = re.sub(r"\s+", "", heading)
            after = re.sub(r"\s+", "", following)[:6]
            on = [i for i, t in enumerate(texts) if head in t]
            assert on, f"{kind}: heading {head} not in the PDF"
            assert after in texts[on[0]], f"{kind}: heading {head} is orphaned at a page end"
        for block in ("计票人（签字）", "社区居民委员会（盖章）"):
            pages = [i for i, t in enumerate(texts) if block in t]
            if pages:  # the signature block shares its page with what it signs
                assert len(texts[pages[0]].split(block)[0]) > 10, f"{kind}: {block} orphaned"


def test_a_failed_vote_prints_its_notice_as_a_draft(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = twelve_flat_unit(live_app, passed=False)
    page.goto(f"/units/{unit_id}/print/notice")
    expect(page.locator(".draft-mark")).to_have_text("草稿")
    expect(page.get_by_test_id("draft-reason")).to_contain_text("不得张贴")
    page.emulate_media(media="print")
    shoot(page, "print-notice-draft", full_page=True)


# ASCII words a zh-CN page may show: file formats, the product's name, time zone, a key.
ALLOWED_ASCII = {"PDF", "JSON", "CSV", "colift", "UTC", "Ctrl", "QR", "English"}
ASCII_WORD = re.compile(r"[A-Za-z]{3,}")


def english_on(page: Page) -> list[str]:
    """ASCII words of 3+ letters on the page, outside code (hashes, commands) and the allow-list."""
    text = page.evaluate(
        """() => { const b = document.body.cloneNode(true);
           b.querySelectorAll('code, script, style, svg').forEach(e => e.remove());
           return b.innerText; }"""
    )
    return sorted({w for w in ASCII_WORD.findall(text) if w not in ALLOWED_ASCII})


def test_zh_pages_and_documents_hold_no_english_words(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = twelve_flat_unit(live_app, passed=False)
    for path in ("", "/print/notice", "/print/agreement", "/print/signatures", "/print/survey"):
        page.goto(f"/units/{unit_id}{path}")
        assert english_on(page) == [], f"/units/{unit_id}{path}"


def test_a_resident_on_a_phone_sees_their_due_and_confirms_a_vote_in_words(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, "resident")
    assert re.search(r"/units/\d+$", page.url)
    unit_id = int(page.url.rsplit("/", 1)[1])
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a 390px phone"
    due = page.locator("#shares tr.mine td.due")
    expect(due).to_be_visible()
    box = due.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(page.get_by_test_id("crumbs").locator("a")).to_have_count(0)
    assert english_on(page) == []
    shoot(page, "phone-resident-unit", full_page=True)

    before = page.get_by_test_id("own-vote").inner_text()
    for name in ("同意", "不同意", "弃权"):
        expect(page.get_by_role("radio", name=name, exact=True)).not_to_be_checked()
    page.get_by_role("radio", name="不同意", exact=True).check()
    page.get_by_role("button", name="下一步：核对并确认").click()
    expect(page.get_by_test_id("choice-spelled")).to_contain_text("不同意")
    assert page.url.endswith(f"/units/{unit_id}/vote?vote=disagree")
    shoot(page, "phone-vote-confirm", full_page=True)
    page.reload()  # the confirmation step is a GET page: a refresh shows it again
    expect(page.get_by_test_id("choice-spelled")).to_contain_text("不同意")
    page.get_by_role("link", name="返回重新选择").click()
    expect(page.get_by_test_id("own-vote")).to_have_text(before)  # nothing recorded


def test_a_refused_form_then_a_refresh_shows_the_page_not_an_error(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, "worker")
    unit_id = twelve_flat_unit(live_app, passed=False)
    page.goto(f"/units/{unit_id}")
    page.locator("#shares details summary").click()
    form = page.locator(f"form[action='/units/{unit_id}/plan']")
    expect(form.locator("input[name=total]")).not_to_have_value("420000")  # the stored plan
    form.locator("input[name=total]").fill("not money")
    form.locator("button").click()
    expect(page.locator("#form-error")).to_be_visible()
    assert "/plan" not in page.url, page.url
    page.reload()
    expect(page.locator("h1")).to_contain_text("单元")
    assert "Method Not Allowed" not in page.content()
    page.goto(f"/units/{unit_id}/plan")
    assert page.url.endswith(f"/units/{unit_id}#shares")


def test_the_api_docs_work_offline_under_the_csp(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    shoot: Callable[..., Path],
) -> None:
    context = new_context()
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_app.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    answer = page.goto("/api/v1/docs")
    assert answer is not None and "script-src 'self'" in answer.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("colift")
    expect(page.locator(".opblock").first).to_be_visible()
    assert not outside, outside
    assert not [p for p in problems if "Content Security Policy" in p], problems
    shoot(page, "api-docs-offline")
