"""Jinja2 environments per language, and the context every page shares."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from colift.http.auth import session_of
from colift.i18n import for_reader, msg
from colift.services import access
from colift.services.access import Principal, Role
from colift.store.personal import mask_phone
from colift.web import i18n
from colift.web.glossary import explain
from colift.web.labels import choices, label, yuan
from colift.web.present import dimension_text, rationale, side, still_needed
from colift.web.qr import qr_svg, unit_address

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "colift_flash"


def _json_attr(value: Any) -> str:
    """A value as JSON for a data- attribute; autoescaping makes it safe, app.js reads it back."""
    return json.dumps(value, ensure_ascii=False, default=str)


# What a template may ask about the reader: `may.read_city(who)` and the like, the same
# predicates the routes check (services/access.py).
MAY = SimpleNamespace(
    read_street_board=access.can_read_street_board,
    read_city=access.can_read_city,
    read_evidence=access.can_read_evidence,
    manage_accounts=access.can_manage_accounts,
)


def said(value: Any, lang: str) -> Markup:
    """A message as its reader sees it: in the page's language, technical detail behind 详情."""
    from colift.errors import ColiftError

    technical = ""
    if isinstance(value, ColiftError):
        technical, value = value.detail, value.text
    text, detail = for_reader(value, lang)
    if not detail and technical and i18n.normalize(lang) != "en":
        detail = technical
    shown = escape(text)
    if not detail:
        return Markup(shown)
    summary = escape(msg("Details").render(lang))
    return Markup(
        f'{shown}<details class="detail"><summary>{summary}</summary>{escape(detail)}</details>'
    )


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.gettext_for(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = yuan
    env.filters["json_attr"] = _json_attr
    env.filters["said"] = lambda value: said(value, lang)
    env.globals["qr_svg"] = qr_svg
    env.globals["rule_name"] = lambda profile_id: rule_name(profile_id, lang)
    env.globals["explain"] = lambda kind, value: explain(kind, value, lang)
    env.globals["still_needed"] = lambda result: still_needed(result, lang)
    env.globals["unit_address"] = unit_address
    env.filters["mask_phone"] = mask_phone  # 138****5678 (store/personal.py)
    env.globals["lang"] = lang
    env.globals["Role"] = Role
    env.globals["may"] = MAY  # the nav asks services/access.py, as the routes do
    env.globals["label"] = lambda kind, value: label(kind, value, lang)
    env.globals["choices"] = lambda kind: choices(kind, lang)
    env.globals["side"] = lambda text: side(text, lang)
    env.globals["rationale"] = lambda text: rationale(text, lang)
    env.globals["dimension_text"] = lambda name, text, measured: dimension_text(
        name, text, measured, lang
    )
    return env


def rule_name(profile_id: str, lang: str) -> str:
    """A consent rule's name in the page's language (its id only if no rule has that id)."""
    from colift.errors import ColiftError
    from colift.rules.consent import load_profile

    try:
        profile = load_profile(profile_id)
    except (ColiftError, ValueError, KeyError):
        return profile_id
    return profile.name_en if lang == "en" else profile.name_zh


def _return_path(request: Request) -> str:
    """Where the language link comes back to: this page, or after a form the page it was on."""
    if request.method == "GET":
        return request.url.path
    referer = urlparse(request.headers.get("referer", ""))
    same_site = not referer.netloc or referer.netloc == request.url.netloc
    return referer.path if same_site and referer.path.startswith("/") else "/"


def page_language(request: Request) -> str:
    return i18n.pick(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = page_language(request)
    session = session_of(request)
    who: Principal | None = session[0] if session else None
    csrf = session[1] if session else getattr(request.state, "login_csrf", "")
    raw_flash = request.cookies.get(FLASH_COOKIE, "")
    flash = unquote(raw_flash)
    body = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            who=who,
            csrf=csrf,
            flash=flash,
            today=date.today(),
            path=_return_path(request),
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status)
    if raw_flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def render_print(template: str, lang: str = "zh-CN", **context: Any) -> str:
    """A print template as HTML without a request (the command line's PDFs)."""
    return environment(lang).get_template(template).render(today=date.today(), **context)
