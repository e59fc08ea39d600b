"""The application: the REST API under /api/v1 and the web pages beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from colift.api.auth import Principal
from colift.api.errors import install_error_handlers, install_openapi
from colift.api.evidence_routes import evidence_router
from colift.api.limits import BodyLimit, InputGuard
from colift.api.routes import router
from colift.api.routes_web import router as web_actions

PREFIX = "/api/v1"
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"

# No inline scripts and nothing from another origin; inline styles stay for the print pages.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def create_app(
    engine: Engine,
    tokens: dict[str, Principal] | None = None,
    *,
    secure_cookies: bool | None = None,
) -> FastAPI:
    """An app serving `engine`.

    `tokens` maps extra in-memory bearer tokens to principals (tests, scripts); accounts' own
    tokens and sessions live in the database. `secure_cookies` forces the cookies' Secure flag
    (None: on, except over plain http on 127.0.0.1/localhost).
    """
    from colift.web.errors import html_error, install_page_errors
    from colift.web.evidence_pages import router as evidence_pages
    from colift.web.pages import router as pages

    app = FastAPI(
        title="colift",
        summary="Elevator retrofits in walk-up compounds: consent, cost sharing, advice, stages",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.tokens = dict(tokens or {})
    app.state.secure_cookies = secure_cookies
    app.state.html_error = html_error
    install_error_handlers(app)
    install_openapi(app)
    install_page_errors(app)
    app.include_router(router, prefix=PREFIX)
    app.include_router(evidence_router, prefix=PREFIX)
    app.include_router(web_actions, prefix=PREFIX)
    app.include_router(pages)
    app.include_router(evidence_pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # the last added runs first: the size limit counts the bytes the guard reads
    app.add_middleware(InputGuard)
    app.add_middleware(BodyLimit)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(f"{PREFIX}/docs"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return app
