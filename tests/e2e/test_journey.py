"""Browser tests for the whole journey (issue 13): documents on paper, money on its face,
forms that behave and pages in Chinese, at desktop and phone width. Screenshots are kept."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from colift.services.registry import list_units
from colift.services.views import unit_page

from .conftest import LiveApp

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
                assert len(texts[pages[0]].split(block)[0]) > 40, f"{kind}: {block} orphaned"


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
