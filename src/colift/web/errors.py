"""HTML answers for errors on page paths: sign-in redirects, refusals and the rule's message."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from colift.i18n import Message
from colift.i18n import render as i18n_render
from colift.web.render import page_language, render


def html_error(request: Request, status: int, code: str, message: str | Message) -> Response:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    shown = i18n_render(message, page_language(request))
    return render(request, "error.html", status=status, code=code, message=shown)


def install_page_errors(app: FastAPI) -> None:
    from colift.web.pages import Refused, SignInRequired

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        return html_error(request, 401, "unauthorized", "")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return html_error(request, 403, "forbidden", exc.message)

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Refused, refused)
