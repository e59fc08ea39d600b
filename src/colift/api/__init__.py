"""The REST API under /api/v1: an adapter that calls `colift.services` and nothing below it."""

from colift.api.app import create_app
from colift.api.auth import Principal, Role, demo_tokens

__all__ = ["Principal", "Role", "create_app", "demo_tokens"]
