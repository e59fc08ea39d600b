"""Who may do what: every role and scope check of the app, in one place.

Both faces ask here, the REST API (`colift.api`) and the pages (`colift.web`), and so do the
services that shape what a reader receives (a resident's own view of a unit,
`services/views.py`). A caller is a `Principal`: an account's role and the compound, unit,
room and street that scope it (`colift.http.auth` finds it from a token or a session).

The rule behind the resident's checks: a resident never sees another household's name, phone,
vote, stance, share or objection reasons; they read their own flat's line and the unit's counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from colift.model.accounts import Account, AccountRole

if TYPE_CHECKING:
    from colift.services.evidence import ProjectScope

Role = AccountRole


@dataclass(frozen=True)
class Principal:
    """Who is calling; `compound`, `unit_id`, `room` and `street` scope the role."""

    name: str
    role: Role
    compound: str | None = None
    unit_id: int | None = None
    room: str | None = None
    street: str | None = None
    account_id: int | None = None


def principal_of(account: Account) -> Principal:
    return Principal(
        name=account.display_name or account.username,
        role=account.role,
        compound=account.compound_code,
        unit_id=account.unit_id,
        room=account.room,
        street=account.street,
        account_id=account.id,
    )


@dataclass(frozen=True)
class UnitPlace:
    """Where a unit sits, as authorization needs it."""

    unit_id: int
    compound: str
    street: str = ""


# --- who the caller is ---------------------------------------------------------------------------


def is_admin(p: Principal) -> bool:
    return p.role is Role.ADMIN


def is_resident(p: Principal) -> bool:
    """A household's own account: it reads its own flat's line and the unit's counts only."""
    return p.role is Role.RESIDENT


def own_room(p: Principal) -> str | None:
    """The one flat whose line this reader may see, or None when they may see every flat."""
    return (p.room or "").strip() if is_resident(p) else None


# --- compounds, streets, the city ---------------------------------------------------------------


def can_read_compound(p: Principal, code: str, street: str) -> bool:
    if p.role is Role.ADMIN:
        return True
    if p.role is Role.STREET_VIEWER:
        return p.street is None or p.street == street
    return p.role is Role.WORKER and p.compound == code


def can_read_street_board(p: Principal) -> bool:
    """The street overview: street offices (their street) and admins (every street)."""
    return p.role in (Role.STREET_VIEWER, Role.ADMIN)


def can_read_street(p: Principal, street: str | None) -> bool:
    """One street's overview (None: every street the reader may see): a street office bound to
    a street reads that one; admins and a city-wide office read any."""
    if p.role is Role.STREET_VIEWER:
        return street is None or p.street is None or street == p.street
    return p.role is Role.ADMIN


def is_street_office(p: Principal) -> bool:
    return p.role is Role.STREET_VIEWER


def street_scope(p: Principal) -> str | None:
    """The street a street office reads; None: every street (admins, a city-wide office)."""
    return p.street if p.role is Role.STREET_VIEWER else None


def can_read_city(p: Principal) -> bool:
    """The city overview: admins and a street office not bound to one street."""
    return p.role is Role.ADMIN or (p.role is Role.STREET_VIEWER and p.street is None)


def can_manage_accounts(p: Principal) -> bool:
    return p.role is Role.ADMIN


def can_calibrate(p: Principal) -> bool:
    """Fit the simulation's parameters to the street's records: street offices and admins."""
    return p.role in (Role.STREET_VIEWER, Role.ADMIN)


def can_adopt_parameters(p: Principal) -> bool:
    """Adopt a fitted parameter set for everyone's forecasts: admins only."""
    return p.role is Role.ADMIN


def sees_phones_in_full(p: Principal, compound: str) -> bool:
    """The compound's own worker calls households; everyone else reads a masked number."""
    return p.role is Role.WORKER and p.compound == compound


# --- units -------------------------------------------------------------------------------------


def can_read_unit(p: Principal, place: UnitPlace) -> bool:
    if p.role in (Role.ADMIN, Role.STREET_VIEWER, Role.WORKER):
        return can_read_compound(p, place.compound, place.street)
    return p.unit_id == place.unit_id


def can_read_households(p: Principal, place: UnitPlace) -> bool:
    """Every flat's line of a unit (names, votes, stances, shares): anyone who reads the unit
    except a resident, who reads only their own."""
    return not is_resident(p) and can_read_unit(p, place)


def can_lead_unit(p: Principal, place: UnitPlace) -> bool:
    """Record activities and stances: the compound's managers or the unit's own leader."""
    return can_manage_unit(p, place) or (p.role is Role.UNIT_LEADER and p.unit_id == place.unit_id)


def can_manage_unit(p: Principal, place: UnitPlace) -> bool:
    """Round, stage and objection handling: the compound's worker or an admin."""
    return p.role is Role.ADMIN or (p.role is Role.WORKER and p.compound == place.compound)


def can_act_for_room(p: Principal, place: UnitPlace, room: str) -> bool:
    """Vote or object for a flat: managers, the unit's leader, or the household itself."""
    if can_manage_unit(p, place):
        return True
    if p.role is Role.UNIT_LEADER:
        return p.unit_id == place.unit_id
    if p.role is Role.RESIDENT:
        return p.unit_id == place.unit_id and p.room == room.strip()
    return False


# --- documents ---------------------------------------------------------------------------------

PUBLIC_DOCUMENTS = frozenset({"survey", "notice"})
# A resident reads the contract they are asked to sign, and the sheet they sign, as an own copy:
# only their flat's line reaches the template (services.documents.unit_document(only_room=...)).
OWN_COPY_DOCUMENTS = frozenset({"agreement", "signatures"})


def can_read_document(p: Principal, place: UnitPlace, kind: str) -> bool:
    """Survey forms and notices are public in the stairwell; sheets with owners' names are not:
    those go to the unit's leader, its managers and the street office."""
    if kind in PUBLIC_DOCUMENTS:
        return can_read_unit(p, place)
    if p.role is Role.RESIDENT and kind in OWN_COPY_DOCUMENTS:
        return can_read_unit(p, place) and p.room is not None
    return can_lead_unit(p, place) or (p.role is Role.STREET_VIEWER and can_read_unit(p, place))


def can_export_ledger(p: Principal, place: UnitPlace) -> bool:
    """A unit's ledger evidence file names every owner: those who may print the whole signature
    sheet (the unit's leader, its managers, the street office), never a resident's own copy."""
    return p.role is not Role.RESIDENT and can_read_document(p, place, "signatures")


def document_room(p: Principal, kind: str) -> str | None:
    """The one flat a document may show this reader (a resident's own copy), or None for all."""
    if p.role is Role.RESIDENT and kind not in PUBLIC_DOCUMENTS:
        return p.room or ""
    return None


# --- research records --------------------------------------------------------------------------


def can_read_evidence(p: Principal) -> bool:
    """Research records (interviews, minutes): community, street office and admins read them."""
    return p.role in (Role.ADMIN, Role.WORKER, Role.STREET_VIEWER)


def can_write_evidence(p: Principal) -> bool:
    """Coding, memos, imports and codebook edits: community workers and admins."""
    return p.role in (Role.ADMIN, Role.WORKER)


def can_read_project(p: Principal, scope: ProjectScope) -> bool:
    """A project of a compound: that compound's worker and its street's office; a project
    without a compound: admins, and every worker and street office once an admin shared it."""
    if p.role is Role.ADMIN:
        return True
    if not can_read_evidence(p):
        return False
    if scope.compound is None:
        return scope.shared
    return can_read_compound(p, scope.compound, scope.street or "")


def can_write_project(p: Principal, scope: ProjectScope) -> bool:
    """Coding in a project: its compound's worker (any worker in a shared one) and admins."""
    if p.role is Role.ADMIN:
        return True
    if not can_write_evidence(p):
        return False
    if scope.compound is None:
        return scope.shared
    return p.compound == scope.compound


def can_create_project(p: Principal, compound: str | None, shared: bool) -> bool:
    """Admins make any project; a worker makes projects of their own compound only."""
    if p.role is Role.ADMIN:
        return True
    return p.role is Role.WORKER and not shared and compound in (None, p.compound)
