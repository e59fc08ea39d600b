"""The application: the REST API under /api/v1 and the web pages beside it.

This module is above both faces: `colift.api` and `colift.web` never import each other, only
`colift.http` (what they share) and `colift.services`; here they are mounted on one app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from colift.api.account_routes import router as account_actions
from colift.api.action_routes import router as web_actions
from colift.api.evidence_routes import evidence_router
from colift.api.overview_routes import router as overview_router
from colift.api.regeneration_routes import router as regeneration_router
from colift.api.roster_routes import router as roster_router
from colift.api.routes import router
from colift.http.errors import install_error_handlers, install_openapi
from colift.http.headers import SecurityHeaders
from colift.http.limits import BodyLimit, InputGuard
from colift.services.access import Principal
from colift.services.quota import Quota

PREFIX = "/api/v1"
STATIC = Path(__file__).resolve().parent / "web" / "static"

def swagger_assets() -> Path:
    """Swagger UI's files as the `fastapi-offline` package ships them (a maintained PyPI
    package whose point is FastAPI docs without a CDN): the docs work offline."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def docs_page(openapi_url: str, assets: str) -> str:
    """The API docs page: Swagger UI from this server, started by a script file (no inline
    script, so the Content-Security-Policy stays as strict as on every other page)."""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>colift API</title>"
        f"<link rel=\"stylesheet\" href=\"{assets}/swagger-ui.css\">"
        f"<link rel=\"icon\" href=\"{assets}/favicon.png\"></head><body>"
        f"<div id=\"swagger-ui\" data-openapi=\"{openapi_url}\"></div>"
        f"<script src=\"{assets}/swagger-ui-bundle.js\"></script>"
        "<script src=\"/static/swagger-init.js\"></script></body></html>"
    )


def create_app(
    engine: Engine,
    tokens: dict[str, Principal] | None = None,
    *,
    secure_cookies: bool | None = None,
    read_engine: Engine | None = None,
) -> FastAPI:
    """An app serving `engine`.

    `tokens` maps extra in-memory bearer tokens to principals (tests, scripts); accounts' own
    tokens and sessions live in the database. `secure_cookies` forces the cookies' Secure flag
    (None: on, except over plain http on 127.0.0.1/localhost). `read_engine` serves the
    overview lists (a read replica, `COLIFT_READ_DATABASE_URL`); None: `engine`.
    """
    from colift.web.account_pages import router as account_pages
    from colift.web.calibration import router as calibration_pages
    from colift.web.city_pages import router as city_pages
    from colift.web.errors import html_error, install_page_errors
    from colift.web.evidence_pages import router as evidence_pages
    from colift.web.pages import router as pages
    from colift.web.print_routes import router as print_routes
    from colift.web.roster_pages import router as roster_pages

    app = FastAPI(
        title="colift",
        summary="Elevator retrofits in walk-up compounds: consent, cost sharing, advice, stages",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served below from local assets, under the app's CSP
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.read_engine = read_engine or engine
    app.state.tokens = dict(tokens or {})
    app.state.quota = Quota()  # per-account limits on PDF, what-if and import
    app.state.secure_cookies = secure_cookies
    app.state.html_error = html_error
    install_error_handlers(app)
    install_openapi(app)
    install_page_errors(app)
    app.include_router(router, prefix=PREFIX)
    app.include_router(evidence_router, prefix=PREFIX)
    app.include_router(web_actions, prefix=PREFIX)
    app.include_router(print_routes, prefix=PREFIX)
    app.include_router(roster_router, prefix=PREFIX)
    app.include_router(regeneration_router, prefix=PREFIX)
    app.include_router(roster_pages)
    app.include_router(overview_router, prefix=PREFIX)
    app.include_router(account_actions, prefix=PREFIX)
    app.include_router(pages)
    app.include_router(city_pages)
    app.include_router(evidence_pages)
    app.include_router(calibration_pages)
    app.include_router(account_pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(f"{PREFIX}/docs/assets", StaticFiles(directory=swagger_assets()), name="docs")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(docs_page(f"{PREFIX}/openapi.json", f"{PREFIX}/docs/assets"))

    # the last added runs first: the size limit counts the bytes the guard reads
    app.add_middleware(InputGuard)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries the headers
    return app
