"""The FastAPI application: everything under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from colift.api.auth import Principal
from colift.api.errors import install_error_handlers
from colift.api.routes import router

PREFIX = "/api/v1"


def create_app(engine: Engine, tokens: dict[str, Principal] | None = None) -> FastAPI:
    """An app serving `engine`; `tokens` maps bearer tokens to principals (none: every call 401)."""
    app = FastAPI(
        title="colift",
        summary="Elevator retrofits in walk-up compounds: consent, advice and stages",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.tokens = dict(tokens or {})
    install_error_handlers(app)
    app.include_router(router, prefix=PREFIX)
    return app
