"""Per-account limits on expensive work: PDFs, what-if simulations and roster imports.

One account may ask for at most so many of each kind a minute (a moving window); one more is
refused with `RateLimited`, which the API and the pages answer with 429 and `Retry-After`. The
counting is done by `limits` (a maintained rate-limiting library, also behind slowapi): its
moving window is exact, and its storage is one setting away from Redis or Memcached, so
`colift serve --workers N` can share one count (`COLIFT_LIMITS_STORAGE=redis://…`); the default
`memory://` counts per process. Each kind's limit per minute is data: `COLIFT_LIMIT_PDF`,
`COLIFT_LIMIT_WHATIF`, `COLIFT_LIMIT_IMPORT` override the defaults below.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from colift.errors import ColiftError
from colift.i18n import Label, msg


class Work(StrEnum):
    PDF = "pdf"
    WHATIF = "whatif"
    IMPORT = "import"


WORK_NAMES: dict[Work, Label] = {
    Work.PDF: Label("打印PDF", "PDF printing"),
    Work.WHATIF: Label("模拟推演", "what-if simulation"),
    Work.IMPORT: Label("导入名册", "roster import"),
}

# Per account per minute. A worker prints a unit's four documents and its evidence file in one
# go, and a whole compound's notices in a few minutes; a simulation takes seconds of CPU; an
# import is a deliberate act.
DEFAULT_PER_MINUTE: dict[Work, int] = {Work.PDF: 30, Work.WHATIF: 10, Work.IMPORT: 5}


class RateLimited(ColiftError):
    """Too many requests of one kind from one account; `retry_after` is in seconds."""

    code = "rate_limited"

    def __init__(self, work: Work, limit: int, retry_after: int) -> None:
        super().__init__(
            msg(
                "too many requests for {work}: at most {limit} a minute per account; "
                "try again in {seconds} s",
                work=WORK_NAMES[work],
                limit=limit,
                seconds=retry_after,
            )
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class QuotaSettings:
    per_minute: dict[Work, int]
    storage: str = "memory://"

    @classmethod
    def from_env(cls) -> QuotaSettings:
        per_minute = {}
        for work, default in DEFAULT_PER_MINUTE.items():
            raw = os.environ.get(f"COLIFT_LIMIT_{work.value.upper()}", "")
            per_minute[work] = int(raw) if raw.isdigit() and int(raw) > 0 else default
        return cls(per_minute, os.environ.get("COLIFT_LIMITS_STORAGE", "memory://"))


class Quota:
    """The limits of one app (tests make a fresh one per app)."""

    def __init__(self, settings: QuotaSettings | None = None) -> None:
        self.settings = settings or QuotaSettings.from_env()
        self._limiter = MovingWindowRateLimiter(storage_from_string(self.settings.storage))
        self._items = {w: RateLimitItemPerMinute(n) for w, n in self.settings.per_minute.items()}

    def spend(self, work: Work, account: str) -> None:
        """Count one request of `work` for `account`, or refuse it with `RateLimited`."""
        item = self._items[work]
        if self._limiter.hit(item, "colift", work.value, account):
            return
        stats = self._limiter.get_window_stats(item, "colift", work.value, account)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(work, item.amount, wait)

    def reset(self) -> None:
        self._limiter.storage.reset()
