"""The main pages of a worker and a resident in each language, on a desktop and a 390 px phone.

A zh-CN page shows no English word outside the allow-list (what Chromium renders: closed "详情"
disclosures are not read); an English page shows no raw id (snake_case, the rule's id) and no
sentence of the system's own in Chinese, only the user's data (names, the compound's, notes).
Each page is saved as a screenshot: lang-<language>-<width>-<role>-<page>.png, and its first
screen as …-top.png (the README's pictures in docs/img are the zh-CN ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize

from colift.services.demo_accounts import DEMO_UNIT
from colift.services.registry import list_units

from .conftest import DESKTOP, PHONE, LiveApp

pytestmark = pytest.mark.e2e

ENGLISH_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}")
# formats, units, the language switch, keyboard keys, the demo's usernames and compound code
ALLOWED = {
    "PDF", "CSV", "JSON", "Excel", "XLSX", "API", "English", "Ctrl", "colift",
    "worker", "resident", "leader", "street", "admin",
}  # fmt: skip
RAW_ID = re.compile(r"\b[a-z]+_[a-z_]+\b|cn-civil-code-\d+")


def _unit(app: LiveApp) -> int:
    return next(u.id for u in list_units(app.engine, app.code) if u.label == DEMO_UNIT)


def _pages(app: LiveApp, role: str) -> list[tuple[str, str]]:
    unit = _unit(app)
    if role == "worker":
        return [("compound", f"/compounds/{app.code}"), ("unit", f"/units/{unit}")]
    return [("unit", f"/units/{unit}"), ("vote", f"/units/{unit}/vote?vote=agree")]


def _visible_text(page: Page) -> str:
    text: str = page.evaluate("document.body.innerText")
    return text


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("role", ["worker", "resident"])
def test_main_pages_speak_the_page_language(
    live_app: LiveApp,
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    shoot: Callable[..., Path],
    role: str,
    lang: str,
    viewport: ViewportSize,
) -> None:
    page = new_context(viewport=viewport, locale=lang).new_page()
    sign_in(page, role)
    if lang == "en":
        page.goto("/lang/en")
    own = {live_app.code, *re.findall(r"[A-Za-z]+", live_app.code)}
    for name, url in _pages(live_app, role):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang", timeout=5_000) in (lang, lang[:2])
        text = _visible_text(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"{role} {url} is {wide} px wide at {viewport['width']}"
        if lang == "zh-CN":
            words = sorted({w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED | own})
            assert not words, f"{role} {url}: English words on a zh-CN page: {words}"
        else:
            ids = sorted(set(RAW_ID.findall(text)))
            assert not ids, f"{role} {url}: raw ids on an English page: {ids}"
            assert "Sign out" in text or "sign out" in text.lower(), "the page is in English"
        width = viewport["width"]
        shoot(page, f"lang-{lang}-{width}-{role}-{name}", full_page=True)
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, f"lang-{lang}-{width}-{role}-{name}-top")  # what the first screen shows
