"""Bounds on every input, before any of it reaches a service (docs/security.md).

Two pure ASGI middlewares and one router dependency:

- `BodyLimit`: a request body larger than its limit is answered 413 before it is read whole
  (JSON 1 MiB; forms and uploads 6 MiB; research imports and sources 16 MiB). The `Content-Length` header
  is checked first; a body sent in chunks is counted as it arrives.
- `InputGuard`: a JSON body is parsed once with bounded hooks before FastAPI parses it: an
  integer of more than 19 digits or a decimal of more than 40 characters is refused before it
  is converted (so "1e3000000" costs nothing), NaN and Infinity are refused, and every string
  (keys too) is checked for NUL characters, lone surrogates and length. The query string is
  checked the same way. Any refusal is a 422 in the one error shape.
- `bounded_ids`: a unit, round or objection id in a path beyond the database's integer column
  (2³¹ − 1) is a 404 on every backend, not a PostgreSQL overflow.

Field-specific bounds (amounts up to ¥100 million, areas of 1–1,000 m², note lengths) are in
the request models and in the parsers of `colift.rules`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import AfterValidator, Field
from starlette.exceptions import HTTPException

from colift.errors import BadInput, NotFound
from colift.evidence.sources import NOT_TEXT
from colift.i18n import Message, bilingual, msg

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_ID = 2**31 - 1  # the INTEGER primary keys of units, rounds, objections
MAX_JSON_BYTES = 1024 * 1024
MAX_FORM_BYTES = 6 * 1024 * 1024  # a 5 MiB roster or source file and its form
MAX_IMPORT_BYTES = 16 * 1024 * 1024  # a research project sent as base64 JSON
MAX_TEXT_CHARS = 20_000  # any one string of a JSON body or query (a research import: the body)
MAX_NOTE_CHARS = 2_000  # a note, reason or title typed by a person
MAX_NAME_CHARS = 200  # a name, label, room or code
MAX_INT_DIGITS = 19  # |n| < 10**19: every BIGINT, and far beyond any amount in fen
MAX_FLOAT_CHARS = 40
MAX_QUERY_CHARS = 4_096
ID_PARAMS = ("unit_id", "round_id", "objection_id")
EVIDENCE = "/api/v1/evidence/"


def is_import(path: str) -> bool:
    """A research import or source upload: a whole project or file sent as JSON."""
    return path.startswith(EVIDENCE) and (path.endswith("/sources") or "/import/" in path)


def body_limit(path: str, content_type: str) -> int:
    """The most bytes a request to `path` with this content type may carry."""
    if is_import(path):
        return MAX_IMPORT_BYTES
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return MAX_FORM_BYTES
    return MAX_JSON_BYTES


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: Message
) -> None:
    """The error shape under /api; the web app's error page, in the reader's language, elsewhere."""
    html = getattr(getattr(scope.get("app"), "state", None), "html_error", None)
    if html is not None and not scope.get("path", "").startswith("/api/"):
        page = html(Request(scope, _nothing), status, code, message)
        page.headers["connection"] = "close"
        await page(scope, _nothing, send)
        return
    body = json.dumps(
        {"error": {"code": code, "message": bilingual(message)}}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _nothing() -> ASGIMessage:
    return {"type": "http.disconnect"}


def _too_large(limit: int) -> Message:
    return msg(
        "the request is too large: at most {size} may be sent here",
        size=f"{limit // 1024} KiB" if limit < 1024 * 1024 else f"{limit // (1024 * 1024)} MiB",
    )


def check_text(value: str, where: str, most: int = MAX_TEXT_CHARS) -> str:
    """`value` unless it holds a NUL, a lone surrogate, or more than `most` characters."""
    if len(value) > most:
        raise BadInput(
            "{where} is too long: at most {most} characters", where=where or "text", most=most
        )
    if "\x00" in value:
        raise BadInput("{where} contains a NUL character", where=where or "text")
    if NOT_TEXT.search(value):
        raise BadInput(
            "{where} contains a control character that is not text", where=where or "text"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(
            "{where} contains a character that is not valid text (a lone surrogate)",
            where=where or "text",
        ) from None
    return value


def _int_hook(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadInput("a number has more than {most} digits", most=MAX_INT_DIGITS)
    return int(text)


def _float_hook(text: str) -> float:
    if len(text) > MAX_FLOAT_CHARS:
        raise BadInput("a number has more than {most} characters", most=MAX_FLOAT_CHARS)
    value = float(text)
    if not math.isfinite(value):
        raise BadInput("a number is too large")
    return value


def _constant_hook(text: str) -> float:
    raise BadInput("{value} is not a number JSON allows", value=text)


def _walk(value: object, where: str, most: int) -> None:
    if isinstance(value, str):
        check_text(value, where, most)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{where}.{key}"[:80].lstrip("."), MAX_NAME_CHARS)
            _walk(item, f"{where}.{key}"[:80].lstrip("."), most)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]"[:80], most)


def check_json(raw: bytes, most: int = MAX_TEXT_CHARS) -> None:
    """Refuse (BadInput) a JSON body with an unbounded number, NUL, lone surrogate or over-long
    string; a body that is not JSON at all is left to FastAPI's own 422."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the request body is not UTF-8 text") from None
    try:
        parsed = json.loads(
            text, parse_int=_int_hook, parse_float=_float_hook, parse_constant=_constant_hook
        )
    except RecursionError:
        raise BadInput("the request body is nested too deeply") from None
    except ValueError:
        return  # not JSON: FastAPI answers 422
    _walk(parsed, "", most)


def check_query(query: str) -> None:
    if len(query) > MAX_QUERY_CHARS:
        raise BadInput("the query string is too long: at most {most} characters", most=MAX_QUERY_CHARS)
    for key, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        check_text(key, "query", MAX_NAME_CHARS)
        check_text(value, key[:40], MAX_NOTE_CHARS)


class BodyLimit:
    """Answer 413 to a body over its limit (see `body_limit`), before it is read whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""), _header(scope, b"content-type").lower())
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, 413, "too_large", _too_large(limit))
            return
        seen = 0

        async def counted() -> ASGIMessage:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched(message: ASGIMessage) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(scope, receive, send, 413, "too_large", _too_large(limit))


class BodyTooLarge(HTTPException):
    """Raised while a body is read; FastAPI passes an HTTPException on to the error handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, bilingual(_too_large(limit)))
        self.limit = limit


class InputGuard:
    """Refuse hostile JSON bodies and query strings (422) before FastAPI parses them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query(bytes(scope.get("query_string", b"")).decode("latin-1"))
            if "%00" in scope.get("raw_path", b"").decode("latin-1") or "\x00" in scope.get(
                "path", ""
            ):
                raise BadInput("the address contains a NUL character")
        except BadInput as exc:
            await _refuse(scope, receive, send, 422, exc.code, exc.text)
            return
        content_type = _header(scope, b"content-type").lower()
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or "json" not in content_type:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            try:
                message = await receive()
            except BodyTooLarge as exc:
                await _refuse(scope, receive, send, 413, "too_large", _too_large(exc.limit))
                return
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        raw = b"".join(chunks)
        path = scope.get("path", "")
        try:
            check_json(raw, MAX_IMPORT_BYTES if is_import(path) else MAX_TEXT_CHARS)
        except BadInput as exc:
            await _refuse(scope, receive, send, 422, exc.code, exc.text)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": raw}], receive), send)


def _replay(messages: list[ASGIMessage], then: Receive) -> Receive:
    """The messages already read, then the connection's own (its disconnect, when it comes)."""
    pending = list(messages)

    async def receive() -> ASGIMessage:
        if pending:
            return pending.pop(0)
        return await then()

    return receive


async def bounded_ids(request: Request) -> None:
    """A unit, round or objection id beyond the INTEGER column is unknown (404), on every
    backend; PostgreSQL would otherwise fail the query."""
    for name in ID_PARAMS:
        raw = request.path_params.get(name)
        digits = raw.strip().lstrip("+-") if isinstance(raw, str) else ""
        if digits.isdigit() and (len(digits) > 12 or int(digits) > MAX_ID):
            raise NotFound("no record has the id {id}", id=digits[:24])


# --- field types of the request models -------------------------------------------------------

MAX_FEN = 10_000_000_000  # ¥100,000,000: no lift retrofit of a walk-up unit costs more
MAX_COUNT = 100_000
EARLIEST_DAY = date(1950, 1, 1)


def _not_future(day: date) -> date:
    """A day something happened: not after tomorrow (a UTC server and a UTC+8 office disagree
    about "today" for eight hours), not before 1950."""
    if day > date.today() + timedelta(days=1):
        raise ValueError(f"{day.isoformat()} is in the future: give the day it happened")
    if day < EARLIEST_DAY:
        raise ValueError(f"{day.isoformat()} is before {EARLIEST_DAY.year}: check the year")
    return day


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Note = Annotated[str, Field(max_length=MAX_NOTE_CHARS)]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PastDay = Annotated[date, AfterValidator(_not_future)]
