"""One error shape for every failure: {"error": {"code": ..., "message": ...}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from colift.errors import BadInput, ColiftError, NotFound, RowError, RuleViolation
from colift.i18n import Message, bilingual

_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_attempts",
}


def error_body(code: str, message: str) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "message": message}}


def status_for(exc: ColiftError) -> int:
    """The HTTP status of a domain error; anything of the family is the caller's to fix (4xx)."""
    if isinstance(exc, NotFound):
        return 404
    if exc.code == "login_failed":
        return 401
    if exc.code in ("too_many_attempts", "rate_limited", "print_busy"):
        return 429
    if exc.code == "too_large":
        return 413
    if exc.code == "print_unavailable":
        return 503
    if isinstance(exc, RuleViolation):
        return 409
    if isinstance(exc, RowError):
        return 422
    if isinstance(exc, BadInput):
        return 400
    return 400


def _answer(
    request: Request,
    code: str,
    message: str | Message,
    status: int,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """JSON under /api; elsewhere the web app's HTML error page when the app installed one.

    `extra` adds fields inside the error object (a bad roster's `errors` list), beside the
    `code` and `message` every error has. A page renders `message` in its reader's language;
    JSON carries both languages until the API says which one its caller reads.
    """
    html = getattr(request.app.state, "html_error", None)
    if html is not None and not request.url.path.startswith("/api/"):
        page: Response = html(request, status, code, message)
        if status == 429 and headers:
            page.headers.update(headers)
        return page
    body = error_body(code, bilingual(message))
    body["error"].update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers)


async def _colift_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ColiftError)
    extra = None
    if isinstance(exc, RowError):
        extra = {
            "errors": [
                {"row": row, "column": column, "message": message}
                for row, column, message in exc.errors
            ]
        }
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    return _answer(request, exc.code, exc.text, status_for(exc), headers=headers, extra=extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return _answer(request, "invalid_request", "; ".join(parts), 422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return _answer(request, code, str(exc.detail), exc.status_code, exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # a bug, not bad input: keep the shape but do not leak internals into the message
    return _answer(request, "internal", "internal error", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ColiftError, _colift_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: bad_input, not_found, rule_violation, ...")
    message: str = Field(description="what went wrong, written for the person who must fix it")


class ErrorOut(BaseModel):
    """The one error shape; a rejected roster adds `errors`: [{row, column, message}]."""

    error: ErrorDetail


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": text}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("bad input the caller can fix (a wrong vote word, an unknown tool, ...)"),
    401: _described("no valid bearer token or session"),
    403: _described("the caller's role or scope may not do this, or the CSRF token is missing"),
    404: _described("an unknown compound, unit, room, objection or account"),
    409: _described("a rule refuses: a closed stage gate, a vote without an open round, ..."),
    422: _described("the request does not match the schema (wrong types, missing fields)"),
}


# Every operation may answer these in the one error shape: the role or scope check, an unknown
# record (also an id beyond the column), a refused input (InputGuard, the models' bounds), a
# body over its limit (BodyLimit), a rule's refusal.
EVERY_OPERATION: dict[str, str] = {
    "400": "bad input the caller can fix",
    "401": "no valid bearer token or session",
    "403": "the caller's role or scope may not do this, or the CSRF token is missing",
    "404": "an unknown record, or an id beyond what the database holds",
    "409": "a rule refuses: a closed stage gate, a vote without an open round, ...",
    "413": "the body is larger than this endpoint takes (docs/security.md)",
    "422": "the request breaks the schema or a bound: a NUL, a lone surrogate, too long a text, "
    "too large a number, a day in the future, ...",
}
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the error answers of every operation as JSON in the error shape, whatever the
    media type of its success (an HTML or PDF document still fails in JSON)."""
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
    components.setdefault(
        "ErrorOut",
        {
            "title": "ErrorOut",
            "type": "object",
            "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
            "required": ["error"],
        },
    )
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, text in EVERY_OPERATION.items():
                responses.setdefault(status, {"description": text})
            for status, response in responses.items():
                if str(status)[0] in "45":
                    response["content"] = {"application/json": {"schema": ref}}
    return schema


def install_openapi(app: FastAPI) -> None:
    """`app.openapi()` with `document_errors` applied once."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
