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
from colift.i18n import Label, Message, bilingual, msg, normalize
from colift.i18n import render as render_in

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
    `code` and `message` every error has. A page renders `message` in its reader's language.
    JSON gives `message` in the language the caller asks for with Accept-Language (zh-CN
    unless it asks for English); a caller that asks for none gets both languages in one
    string, as before (docs/api.md). `messages` always holds each language apart.
    """
    html = getattr(request.app.state, "html_error", None)
    if html is not None and not request.url.path.startswith("/api/"):
        page: Response = html(request, status, code, message)
        if status == 429 and headers:
            page.headers.update(headers)
        return page
    asked = request.headers.get("accept-language")
    said = bilingual(message) if not asked else render_in(message, normalize(asked))
    body = error_body(code, said)
    body["error"]["messages"] = {lang: render_in(message, lang) for lang in ("zh-CN", "en")}
    body["error"].update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers)


async def _colift_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ColiftError)
    extra: dict[str, Any] | None = None
    if isinstance(exc, RowError):
        asked = request.headers.get("accept-language")
        extra = {
            "errors": [
                {
                    "row": row,
                    "column": column,
                    "message": render_in(message, normalize(asked))
                    if asked
                    else bilingual(message),
                }
                for row, column, message in exc.errors
            ]
        }
    if exc.detail:  # the technical reasoning (a gate's rule in English), apart from the message
        extra = {**(extra or {}), "detail": exc.detail}
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    return _answer(request, exc.code, exc.text, status_for(exc), headers=headers, extra=extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts: list[Message] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problem = _SCHEMA_PROBLEMS.get(str(err.get("type")))
        bound = next(iter((err.get("ctx") or {}).values()), None)  # pydantic's limit, if any
        if problem is not None and problem.template in _WITH_LIMIT and bound is not None:
            bound = str(bound)
            problem = msg(
                _WITH_LIMIT[problem.template], max_length=bound, min_length=bound, limit=bound
            )
        said: str | Message = problem or str(err.get("msg", "invalid"))
        parts.append(
            msg("{field}: {problem}", field=where, problem=said)
            if where
            else msg("{problem}", problem=said)
        )
    return _answer(request, "invalid_request", _joined(parts), 422)


def _joined(parts: list[Message]) -> Message:
    zh = "；".join(p.render("zh-CN") for p in parts)
    return msg("{problem}", problem=Label(zh, "; ".join(p.render("en") for p in parts)))


# The same, with pydantic's limit (its error's ctx) named.
_WITH_LIMIT = {
    "is too long": "is too long: at most {max_length}",
    "is too short": "is too short: at least {min_length}",
    "has too many items": "has too many items: at most {max_length}",
    "is too small": "is too small: at least {limit}",
    "is too large": "is too large: at most {limit}",
}
_LIMIT_TEMPLATES = (
    msg("is too long: at most {max_length}"),
    msg("is too short: at least {min_length}"),
    msg("has too many items: at most {max_length}"),
    msg("is too small: at least {limit}"),
    msg("is too large: at most {limit}"),
)


# What the schema check found, in words (pydantic's error types); others keep pydantic's English.
_SCHEMA_PROBLEMS: dict[str, Message] = {
    "missing": msg("required"),
    "extra_forbidden": msg("not a field of this request"),
    "string_type": msg("must be text"),
    "int_type": msg("must be a whole number"),
    "int_parsing": msg("must be a whole number"),
    "int_from_float": msg("must be a whole number"),
    "float_type": msg("must be a number"),
    "float_parsing": msg("must be a number"),
    "bool_type": msg("must be true or false"),
    "bool_parsing": msg("must be true or false"),
    "date_type": msg("must be a date such as 2025-04-01"),
    "date_parsing": msg("must be a date such as 2025-04-01"),
    "date_from_datetime_parsing": msg("must be a date such as 2025-04-01"),
    "list_type": msg("must be a list"),
    "dict_type": msg("must be an object"),
    "model_type": msg("must be an object"),
    "enum": msg("is not one of the allowed values"),
    "literal_error": msg("is not one of the allowed values"),
    "string_too_long": msg("is too long"),
    "string_too_short": msg("is too short"),
    "too_long": msg("has too many items"),
    "greater_than": msg("is too small"),
    "greater_than_equal": msg("is too small"),
    "less_than": msg("is too large"),
    "less_than_equal": msg("is too large"),
    "json_invalid": msg("is not valid JSON"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = str(exc.detail)
    said: str | Message = detail
    if exc.status_code == 404 and detail == "Not Found":  # the framework's own words
        said = msg("there is nothing at this address")
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        said = msg("this address does not take this kind of request")
    return _answer(request, code, said, exc.status_code, exc.headers)


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
    message: str = Field(
        description="what went wrong, written for the person who must fix it: in the language "
        "Accept-Language asks for (zh-CN unless English), both languages if it asks for none"
    )
    messages: dict[str, str] | None = Field(
        default=None, description='the message in each language: {"zh-CN": ..., "en": ...}'
    )
    detail: str | None = Field(
        default=None, description="technical detail, e.g. a closed gate's reasoning in English"
    )


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
