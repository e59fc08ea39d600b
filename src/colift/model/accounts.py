"""Accounts of the web app and API: who signs in, in which role and over which scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AccountRole(StrEnum):
    WORKER = "worker"  # 社区工作者 / 党组织书记: manages one compound
    UNIT_LEADER = "unit_leader"  # 楼栋长 / 单元长: one unit's activities
    RESIDENT = "resident"  # 业主: one household
    STREET_VIEWER = "street_viewer"  # 街道办: reads the compounds of a street, writes nothing
    ADMIN = "admin"


ACCOUNT_ROLE_NAMES_ZH: dict[AccountRole, str] = {
    AccountRole.WORKER: "社区工作者",
    AccountRole.UNIT_LEADER: "单元长",
    AccountRole.RESIDENT: "业主",
    AccountRole.STREET_VIEWER: "街道办",
    AccountRole.ADMIN: "管理员",
}


@dataclass(frozen=True)
class Account:
    """A person who signs in; `compound_code`, `unit_id`, `room` and `street` scope the role."""

    id: int
    username: str
    display_name: str
    role: AccountRole
    compound_code: str | None = None
    unit_id: int | None = None
    room: str | None = None
    street: str | None = None
    active: bool = True
    created_at: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    """An API token as its owner and admins see it: never the token itself."""

    id: int
    account_id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
