"""The REST API under /api/v1: an adapter that calls `colift.services` and nothing below it.

It shares sessions, CSRF, principals, errors, limits and uploads with the web pages through
`colift.http`, and never imports `colift.web`; the app that mounts both is `colift.app`.
`from colift.api import create_app, Principal, Role, demo_tokens` still works for code written
before that move: the names are looked up on first use, so importing an API module does not
load the pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Principal", "Role", "create_app", "demo_tokens"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from colift.app import create_app

        return create_app
    if name in ("Principal", "Role", "demo_tokens"):
        from colift.http import auth

        return getattr(auth, name)
    raise AttributeError(f"module 'colift.api' has no attribute {name!r}")
