"""The security headers on every answer, the Content-Security-Policy among them."""

from __future__ import annotations

from colift.http.limits import ASGIApp, ASGIMessage, Receive, Scope, Send

# No inline scripts and nothing from another origin; inline styles stay for the print pages.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", CSP.encode()),
)


class SecurityHeaders:
    """The security headers on every answer that does not set them itself, as a pure ASGI
    middleware: Starlette's `@app.middleware("http")` runs each request through a task group
    and memory streams, which cost more than many handlers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(k).lower() for k, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
