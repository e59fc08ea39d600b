"""A zh-CN page speaks Chinese: no English word reaches a Chinese reader outside "详情".

Every page each demo role can reach (links followed from its start page, bounded), the
refused forms (a bad vote, a closed gate, an activity with the form's defaults) and the API's
error messages asked for in Chinese are read as a user sees them: visible text, tooltips and
<option> text, without <script>/<style> and without a `<details>` whose summary is 详情 (the
technical detail). A word of three or more ASCII letters fails the test unless it is on the
allow-list (units, formats, the user's own data such as the demo usernames).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts

ROLES = ("admin", "street", "worker", "leader", "resident")
MAX_PAGES = 45  # per role; the demo's distinct pages are fewer, households repeat

# Words a Chinese reader sees as they are: formats, units, ids of their own data.
ALLOWED = {
    "PDF",
    "CSV",
    "Excel",
    "XLSX",
    "xlsx",
    "csv",
    "pdf",
    "API",
    "QR",
    "URL",
    "JSON",
    "json",
    "Bearer",
    "token",
    "Token",
    "ZIP",
    "zip",
    "QDA",
    "qdpx",
    "qdc",
    "txt",
    "docx",
    "TXT",
    "DOCX",
    "REFI",
    "NVivo",
    "ATLAS",
    "WeChat",
    "kWh",
    "MPa",
    "UTC",
    "ISO",
    "TOML",
    "toml",
    "HTTP",
    "HTTPS",
    "https",
    "http",
    "colift",
    "Colift",
    "SHA",
    "HMAC",
    "Ctrl",
    # the language switch names the other language in that language
    "English",
    # names of software and of methods a researcher looks up by name
    "QualCoder",
    "MAXQDA",
    "Krippendorff",
    "Cohen",
    "ABC",
    "SMC",
    # the demo's own data: usernames, the compound's code (pinyin), demo names
    *ROLES,
    "maybe",  # what the refused vote below typed: a message may quote the user's input
}
UNTRANSLATED = "这条消息还没有中文译文"
WORD = re.compile(r"[A-Za-z]{3,}")
SKIP_PATHS = ("/static/", "/logout", "/lang/", "/api/", "/docs", "/openapi", "/redoc")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".json", ".qdpx", ".zip", ".png", ".svg")


_VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr"}


class _Visible(HTMLParser):
    """The text a reader sees: no script/style, no 详情 disclosure, no literal (translate="no":
    a command, a hash, an id of the user's own data); tooltips and options kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0  # inside <script>/<style>
        self._details: list[bool] = []  # one per open <details>: is it a 详情 disclosure?
        self._pending_details = False
        self._summary: list[str] | None = None
        self._literal: list[str] = []  # open elements marked translate="no"

    def _hidden(self) -> bool:
        return self._skip > 0 or any(self._details) or bool(self._literal)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "template"):
            self._skip += 1
            return
        if tag == "details":
            self._details.append(False)
            self._pending_details = True
            return
        if tag == "summary" and self._pending_details:
            self._summary = []
            return
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("translate") == "no" and tag not in _VOID:
            self._literal.append(tag)
        if self._hidden():
            return
        for name in ("title", "placeholder", "alt", "aria-label"):
            if a.get(name):
                self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if self._literal and self._literal[-1] == tag:
            self._literal.pop()
            return
        if tag in ("script", "style", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag == "summary" and self._summary is not None:
            text = "".join(self._summary).strip()
            if self._details:
                self._details[-1] = text.startswith("详情")
            if (not self._details or not self._details[-1]) and not self._hidden():
                self.parts.append(text)
            self._summary = None
            self._pending_details = False
        elif tag == "details" and self._details:
            self._details.pop()
            self._pending_details = False

    def handle_data(self, data: str) -> None:
        if self._summary is not None:
            self._summary.append(data)
            return
        if self._pending_details and data.strip():
            self._pending_details = False  # a <details> without a leading summary
        if not self._hidden():
            self.parts.append(data)


def visible(html: str) -> tuple[str, list[str]]:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.links


_HEX = re.compile(r"[0-9a-f]{16,}")


def english_words(text: str, allowed: set[str]) -> list[str]:
    """Each offending word with some context around it (hashes are not words)."""
    found = []
    for m in WORD.finditer(text):
        word, start, end = m.group(0), m.start(), m.end()
        if word in allowed:
            continue
        if any(
            _HEX.fullmatch(h)
            for h in re.findall(r"[0-9a-f]+", text[max(0, start - 64) : end + 64])
            if word in h
        ):
            continue
        found.append(f"{word!r} in …{text[max(0, start - 40) : end + 40]}…")
    return found


@dataclass
class Crawl:
    problems: dict[str, list[str]] = field(default_factory=dict)

    def check(self, where: str, html: str, allowed: set[str]) -> list[str]:
        text, links = visible(html)
        bad = english_words(text, allowed)
        if UNTRANSLATED in text:  # the page's safety net: an English message went under 详情
            bad.append(f"an untranslated message: {html[html.find('详情') :][:300]!r}")
        if bad:
            self.problems[where] = bad
        return links

    def report(self) -> str:
        lines = []
        for where, words in sorted(self.problems.items()):
            lines.append(where)
            lines.extend(f"    {w}" for w in words[:12])
            if len(words) > 12:
                lines.append(f"    … {len(words) - 12} more")
        return "\n".join(lines)


@pytest.fixture
def demo(engine: Engine) -> Iterator[tuple[Engine, str, set[str]]]:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    own = {code, *re.findall(r"[A-Za-z]+", code)}
    # the demo research project's codebook: its code ids are the researchers' own data, and
    # their memos cite them
    from colift.services.evidence import codebook_of, list_projects

    for project in list_projects(engine):
        for c in codebook_of(engine, project.name):
            own.update(re.findall(r"[A-Za-z]+", c.id))
    yield engine, code, own


def _sign_in(engine: Engine, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    home = client.get("/")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text)
    assert csrf
    return client, csrf[1]


def _crawlable(href: str) -> str | None:
    href, _ = urldefrag(href)
    url = urlparse(href)
    if url.scheme or url.netloc or not url.path.startswith("/"):
        return None
    if any(url.path.startswith(p) for p in SKIP_PATHS) or url.path.endswith(SKIP_SUFFIXES):
        return None
    if "lang=" in url.query:
        return None
    return href


def _normal(path: str) -> str:
    """Pages that differ by a household or a number are one page for the crawl's bound."""
    return re.sub(r"\d+", "N", path)


def crawl(client: TestClient, start: list[str], crawl_: Crawl, who: str, allowed: set[str]) -> int:
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = list(start)
    visited = 0
    while queue and visited < MAX_PAGES:
        href = queue.pop(0)
        if href in seen:
            continue
        seen.add(href)
        shape = _normal(href)
        if shapes.get(shape, 0) >= 2:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        answer = client.get(href)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        visited += 1
        links = crawl_.check(f"{who} GET {href} ({answer.status_code})", answer.text, allowed)
        queue.extend(h for h in (_crawlable(link) for link in links) if h and h not in seen)
    return visited


def test_a_zh_page_has_no_english_words(demo: tuple[Engine, str, set[str]]) -> None:
    engine, code, own = demo
    allowed = ALLOWED | own
    found = Crawl()
    from colift.services.accounts import list_accounts

    resident = next(a for a in list_accounts(engine) if a.username == "resident")
    unit = resident.unit_id
    assert unit is not None
    extra = [
        f"/units/{unit}",
        f"/units/{unit}/vote",
        f"/units/{unit}/whatif",
        "/help",
        "/account",
        "/city",
        "/street",
        "/calibration",
        "/evidence",
        f"/compounds/{code}",
        f"/compounds/{code}/import",
        f"/compounds/{code}/import/update",
    ] + [f"/units/{unit}/print/{kind}" for kind in ("notice", "agreement", "signatures", "survey")]
    pages = 0
    for role in ROLES:
        client, csrf = _sign_in(engine, role)
        pages += crawl(client, ["/", *extra], found, role, allowed)

    # refused forms, as the worker sees them
    client, csrf = _sign_in(engine, "worker")
    for what, url, data in [
        ("a bad vote", f"/units/{unit}/votes", {"room": "9999", "vote": "maybe"}),
        ("a closed gate", f"/units/{unit}/stage", {"target": "design"}),
        ("a skipped stage", f"/units/{unit}/stage", {"target": "completed"}),
        ("an activity with the form's defaults", f"/units/{unit}/activities", {}),
        ("an empty stance", f"/units/{unit}/stances", {"room": "101"}),
        ("a second round", f"/units/{unit}/rounds", {}),
        ("an empty plan", f"/units/{unit}/plan", {}),
    ]:
        answer = client.post(url, data={**data, "csrf_token": csrf})
        found.check(f"worker POST {url}: {what} ({answer.status_code})", answer.text, allowed)
    # the activity form's own defaults, as a browser would post them
    page = client.get(f"/units/{unit}")
    form = _form_defaults(page.text, f"/units/{unit}/activities")
    answer = client.post(f"/units/{unit}/activities", data={**form, "csrf_token": csrf})
    found.check(f"worker POST activity with defaults ({answer.status_code})", answer.text, allowed)
    followed = client.get(f"/units/{unit}")
    found.check("worker GET unit page after the activity (flash)", followed.text, allowed)

    # the API's error messages asked for in Chinese
    for method, url, body in [
        ("GET", "/api/v1/units/999999/stage", None),
        ("POST", f"/api/v1/units/{unit}/votes", {"room": "9999", "vote": "maybe"}),
        ("POST", f"/api/v1/units/{unit}/stage", {"target": "design"}),
        ("POST", f"/api/v1/units/{unit}/activities", {"tool": "nope"}),
    ]:
        answer = client.request(
            method, url, json=body, headers={"Accept-Language": "zh-CN", "X-CSRF-Token": csrf}
        )
        assert answer.status_code >= 400, (url, answer.text)
        error = answer.json()["error"]
        said = f"{error['message']} {error['messages']['zh-CN']}"
        said = re.sub(r"「[^」]*」", "「」", said)  # a field name or the caller's input, quoted
        bad = english_words(said, allowed)
        if bad:
            found.problems[f"API {method} {url} ({answer.status_code})"] = bad

    assert pages > 20, "the crawl reached the demo's pages"
    assert not found.problems, "English on zh-CN pages:\n" + found.report()


class _FormDefaults(HTMLParser):
    """The fields a browser posts for one form as it is first shown."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "").endswith(self.action) or a.get(
                "hx-post", ""
            ).endswith(self.action)
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("checkbox", "radio"):
            self.fields.setdefault(a["name"], a.get("value", ""))
        if tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.fields.setdefault(a["name"], a.get("value", "on"))
        if tag == "select" and a.get("name"):
            self._select = a["name"]
            self._first_option = True
        if tag == "option" and self._select:
            if "selected" in a or self._first_option:
                self.fields[self._select] = a.get("value", "")
            self._first_option = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        if tag == "select":
            self._select = None


def _form_defaults(html: str, action: str) -> dict[str, str]:
    parser = _FormDefaults(action)
    parser.feed(html)
    parser.fields.pop("csrf_token", None)
    return parser.fields


def test_an_api_error_speaks_the_language_asked_for(demo: tuple[Engine, str, set[str]]) -> None:
    engine, _, _ = demo
    from colift.services.accounts import list_accounts

    unit = next(a for a in list_accounts(engine) if a.username == "resident").unit_id
    client, csrf = _sign_in(engine, "worker")
    url, body = f"/api/v1/units/{unit}/stage", {"target": "design"}

    def refused(lang: str | None) -> dict[str, str]:
        headers = {"X-CSRF-Token": csrf} | ({"Accept-Language": lang} if lang else {})
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == 409, answer.text
        error: dict[str, str] = answer.json()["error"]
        return error

    zh = refused("zh-CN,zh;q=0.9")
    assert zh["message"] == "不能进入设计与管线踏勘：表决未通过"
    assert zh["code"] == "rule_violation"
    assert "Civil Code art. 278" in zh["detail"]  # the rule's reasoning, apart
    en = refused("en-US,en;q=0.8")
    assert en["message"].startswith("cannot start the design: consent has not passed under")
    assert "不能" not in en["message"]
    both = refused(None)  # a caller that asks for no language: both, as before
    assert both["message"] == f"{zh['message']} / {en['message']}"
    assert both["messages"] == {"zh-CN": zh["message"], "en": en["message"]}
