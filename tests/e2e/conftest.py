"""End-to-end fixtures: the web app served by uvicorn on a free local port, driven by Chromium.

One server per session on a fresh, migrated SQLite file seeded with the demo compound and its
demo accounts. The browser is Debian's chromium package (a CJK font installed beside it) driven
by Playwright's sync API; Playwright's own browser downloads are never used. Without
/usr/bin/chromium the tests are skipped, except under CI=true where they fail.

Screenshots go to $COLIFT_ARTIFACTS, else artifacts/screenshots under the repository root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.store import make_engine, migrate

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def artifacts_dir() -> Path:
    chosen = os.environ.get("COLIFT_ARTIFACTS", "").strip()
    root = Path(chosen) if chosen else REPO_ROOT / "artifacts" / "screenshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass(frozen=True)
class LiveApp:
    """The running server: its base URL, its database and the demo compound's code."""

    url: str
    engine: Engine
    code: str
    password: str = DEMO_PASSWORD


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the uvicorn thread ended before the server answered")
        if server.started:
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not answer within 30 s")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app on a fresh demo database, served in a background thread for the whole session."""
    db = tmp_path_factory.mktemp("e2e") / "colift.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    port = _free_port()
    config = uvicorn.Config(
        create_app(engine),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, thread, url)
        yield LiveApp(url, engine, code)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def chromium() -> Path:
    """The browser executable; checked before the server is seeded, so a skip costs nothing."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium package to run e2e tests"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    """Headless Chromium from the distribution's package, shared by the session's tests."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(chromium), args=["--headless", "--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_context(browser: Browser, live_app: LiveApp) -> Iterator[Callable[..., BrowserContext]]:
    """Opens fresh browser contexts (own cookies) on the live app; all closed after the test."""
    opened: list[BrowserContext] = []

    def make(viewport: ViewportSize | None = None, locale: str = "zh-CN") -> BrowserContext:
        context = browser.new_context(
            base_url=live_app.url, viewport=viewport or DESKTOP, locale=locale
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    return artifacts_dir()


@pytest.fixture
def shoot(shots: Path) -> Callable[..., Path]:
    """Saves a screenshot of a page as <name>.png in the artifacts directory."""

    def save(page: Page, name: str, *, full_page: bool = False) -> Path:
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save


@pytest.fixture
def sign_in(live_app: LiveApp) -> Callable[..., None]:
    """Signs a page in through the login form and waits for the page the role starts on."""

    def login(page: Page, username: str, password: str | None = None) -> None:
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password or live_app.password)
        with page.expect_navigation():
            page.click("form[action='/login'] button")
        assert "/login" not in page.url, f"{username} was not signed in"

    return login
