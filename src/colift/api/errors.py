"""One error shape for every failure: {"error": {"code": ..., "message": ...}}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from colift.errors import BadInput, ColiftError, NotFound, RowError, RuleViolation

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def status_for(exc: ColiftError) -> int:
    """The HTTP status of a domain error; anything of the family is the caller's to fix (4xx)."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, RuleViolation):
        return 409
    if isinstance(exc, RowError):
        return 422
    if isinstance(exc, BadInput):
        return 400
    return 400


async def _colift_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ColiftError)
    return JSONResponse(error_body(exc.code, exc.message), status_code=status_for(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return JSONResponse(error_body("invalid_request", "; ".join(parts)), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # a bug, not bad input: keep the shape but do not leak internals into the message
    return JSONResponse(error_body("internal", "internal error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ColiftError, _colift_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
