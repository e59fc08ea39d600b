"""The domain model: plain dataclasses and enums, no storage or web types."""

from colift.model.registry import (
    AgeBand,
    AreaSource,
    Building,
    Compound,
    Household,
    Mobility,
    Owner,
    OwnerKind,
    Person,
    Tenure,
    Unit,
)
from colift.model.roles import (
    INFORMAL_ROLES,
    LEADER_ROLES,
    PARTY_ROLES,
    ROLE_NAMES_ZH,
    Role,
    RoleAssignment,
    ScopeKind,
)
from colift.model.voting import (
    ObjectionReason,
    ObjectionStatus,
    Vote,
    parse_objection_reason,
    parse_objection_status,
    parse_vote,
)

__all__ = [
    "INFORMAL_ROLES",
    "LEADER_ROLES",
    "PARTY_ROLES",
    "ROLE_NAMES_ZH",
    "AgeBand",
    "AreaSource",
    "Building",
    "Compound",
    "Household",
    "Mobility",
    "ObjectionReason",
    "ObjectionStatus",
    "Owner",
    "OwnerKind",
    "Person",
    "Role",
    "RoleAssignment",
    "ScopeKind",
    "Tenure",
    "Unit",
    "Vote",
    "parse_objection_reason",
    "parse_objection_status",
    "parse_vote",
]
