"""The adapters' side of the per-account limits (`services/quota.py`): whose count a request
spends, for the API and the pages alike."""

from __future__ import annotations

from fastapi import Request

from colift.services.access import Principal
from colift.services.quota import Quota, Work


def spend(request: Request, who: Principal, work: Work) -> None:
    """Count one `work` for the caller's account, or raise `RateLimited` (429, Retry-After)."""
    quota: Quota = request.app.state.quota
    key = f"account:{who.account_id}" if who.account_id is not None else f"name:{who.name}"
    quota.spend(work, key)
