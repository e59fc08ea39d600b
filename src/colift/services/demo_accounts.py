"""Demo sign-ins, one per role, for the seeded demo compound; printed by `make demo`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from colift.model.accounts import Account, AccountRole
from colift.services.accounts import create_account, list_accounts
from colift.services.registry import get_compound, list_units
from colift.services.views import unit_page

DEMO_PASSWORD = "colift-demo-2026"  # printed for the demo; never used outside it
DEMO_UNIT = "2栋1单元"  # a unit in the middle of its vote, with an objection to handle
DEMO_ROOM = "502"  # a household there that has not voted yet


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: AccountRole
    what: str


def seed_demo_accounts(engine: Engine, code: str) -> list[DemoLogin]:
    """Create the demo accounts once (existing ones are kept); returns every demo login."""
    compound = get_compound(engine, code)
    unit = next(u for u in list_units(engine, code) if u.label == DEMO_UNIT)
    page = unit_page(engine, unit.id)
    rooms = [f.room for floor in page.floors for f in floor]
    room = DEMO_ROOM if DEMO_ROOM in rooms else rooms[0]
    wanted = [
        (
            Account(0, "worker", "李春梅", AccountRole.WORKER, compound_code=code),
            f"社区工作者：管理{compound.name}",
        ),
        (
            Account(
                0, "leader", "周建国", AccountRole.UNIT_LEADER, compound_code=code,
                unit_id=unit.id,
            ),
            f"单元长：{DEMO_UNIT}",
        ),
        (
            Account(
                0, "resident", f"{room}室业主", AccountRole.RESIDENT, compound_code=code,
                unit_id=unit.id, room=room,
            ),
            f"业主：{DEMO_UNIT}{room}室",
        ),
        (
            Account(0, "street", "洪家楼街道加梯专班", AccountRole.STREET_VIEWER, street=compound.street),
            f"街道办：{compound.street or '全部街道'}",
        ),
        (Account(0, "admin", "系统管理员", AccountRole.ADMIN), "管理员"),
    ]
    have = {a.username for a in list_accounts(engine)}
    out = []
    for account, what in wanted:
        if account.username not in have:
            create_account(engine, account, DEMO_PASSWORD)
        out.append(DemoLogin(account.username, DEMO_PASSWORD, account.role, what))
    return out
