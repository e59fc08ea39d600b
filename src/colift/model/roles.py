"""Roles are many-to-many between persons and roles, each held over a scope (path-model.md §2, §5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from colift.i18n import Label


class Role(StrEnum):
    # The six leadership roles of the path model.
    COORDINATOR = "coordinator"  # 多方关系协调者 (formal)
    CONSULTATION_ORGANIZER = "consultation_organizer"  # 正式协商组织者 (formal)
    VISION_PROMOTER = "vision_promoter"  # 共同愿景促进者 (formal)
    OPINION_LEADER = "opinion_leader"  # 意见领袖 (informal)
    ACTION_LEADER = "action_leader"  # 行动领袖 (informal)
    COMMUNITY_ELITE = "community_elite"  # 社区精英 (informal)
    # Positions and memberships: the hats a person wears in the actors' table.
    STREET_OFFICE = "street_office"  # 街道办事处
    HOUSING_BUREAU = "housing_bureau"  # 区住建局
    COMMUNITY_PARTY_COMMITTEE = "community_party_committee"  # 社区党委
    COMPOUND_PARTY_BRANCH = "compound_party_branch"  # 小区党支部
    BUILDING_PARTY_GROUP = "building_party_group"  # 楼栋党小组
    RESIDENTS_COMMITTEE = "residents_committee"  # 居委会
    OWNERS_COMMITTEE = "owners_committee"  # 业委会
    PROPERTY_MANAGER = "property_manager"  # 物业公司
    ELEVATOR_VENDOR = "elevator_vendor"  # 电梯企业
    UTILITY = "utility"  # 管线单位
    BUILDING_LEADER = "building_leader"  # 楼栋长
    UNIT_LEADER = "unit_leader"  # 单元长

    @property
    def is_leader_role(self) -> bool:
        return self in LEADER_ROLES

    @property
    def is_formal(self) -> bool:
        """Formal leaders and formal organizations; informal leaders act without office."""
        return self not in INFORMAL_ROLES


LEADER_ROLES = frozenset(
    {
        Role.COORDINATOR,
        Role.CONSULTATION_ORGANIZER,
        Role.VISION_PROMOTER,
        Role.OPINION_LEADER,
        Role.ACTION_LEADER,
        Role.COMMUNITY_ELITE,
    }
)
INFORMAL_ROLES = frozenset(
    {
        Role.OPINION_LEADER,
        Role.ACTION_LEADER,
        Role.COMMUNITY_ELITE,
        Role.BUILDING_LEADER,
        Role.UNIT_LEADER,
    }
)
PARTY_ROLES = frozenset(
    {Role.COMMUNITY_PARTY_COMMITTEE, Role.COMPOUND_PARTY_BRANCH, Role.BUILDING_PARTY_GROUP}
)

ROLE_NAMES_ZH: dict[Role, str] = {
    Role.COORDINATOR: "多方关系协调者",
    Role.CONSULTATION_ORGANIZER: "正式协商组织者",
    Role.VISION_PROMOTER: "共同愿景促进者",
    Role.OPINION_LEADER: "意见领袖",
    Role.ACTION_LEADER: "行动领袖",
    Role.COMMUNITY_ELITE: "社区精英",
    Role.STREET_OFFICE: "街道办事处",
    Role.HOUSING_BUREAU: "区住建局",
    Role.COMMUNITY_PARTY_COMMITTEE: "社区党委",
    Role.COMPOUND_PARTY_BRANCH: "小区党支部",
    Role.BUILDING_PARTY_GROUP: "楼栋党小组",
    Role.RESIDENTS_COMMITTEE: "居委会",
    Role.OWNERS_COMMITTEE: "业委会",
    Role.PROPERTY_MANAGER: "物业公司",
    Role.ELEVATOR_VENDOR: "电梯企业",
    Role.UTILITY: "管线单位",
    Role.BUILDING_LEADER: "楼栋长",
    Role.UNIT_LEADER: "单元长",
}


class ScopeKind(StrEnum):
    CITY = "city"
    STREET = "street"
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"


@dataclass
class RoleAssignment:
    """Person `person_id` holds `role` over one compound, building or unit from `since`."""

    person_id: int
    role: Role
    scope_kind: ScopeKind
    scope_id: int | None = None
    since: date | None = None
    until: date | None = None
    id: int | None = None

    def active_on(self, day: date) -> bool:
        started = self.since is None or self.since <= day
        return started and (self.until is None or day <= self.until)


def role_label(role: Role) -> Label:
    """A role's name in both languages, for a message: 协商组织者 / consultation organizer."""
    return Label(ROLE_NAMES_ZH[role], role.value.replace("_", " "))


def roles_label(roles: Iterable[Role]) -> Label:
    """Several roles named in one phrase: 居委会、业委会 / residents committee, owners committee."""
    chosen = list(roles)
    return Label(
        "、".join(ROLE_NAMES_ZH[r] for r in chosen),
        ", ".join(r.value.replace("_", " ") for r in chosen),
    )
