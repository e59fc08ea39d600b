"""The compound report: every unit's stage, consent, cost shares, diagnosis and next action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from colift.coproduction.advisor import Advice, advise
from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.regeneration import RegenerationOutcome, regeneration_outcome
from colift.model import Compound
from colift.services.advice import build_snapshot
from colift.services.consent import UnitConsent, unit_consent_in
from colift.services.costshare import UnitSplit, unit_shares_in
from colift.services.regeneration import lift_running_since
from colift.store import UnitOfWork
from colift.store.regeneration import RegenerationRepository


@dataclass(frozen=True)
class UnitReport:
    consent: UnitConsent
    shares: UnitSplit | None
    open_objections: int
    advice: Advice


@dataclass(frozen=True)
class CompoundReport:
    code: str
    compound: Compound
    units: list[UnitReport]
    regeneration: RegenerationOutcome | None = None  # after the first lift runs (社区更新)


def compound_report(engine: Engine, code: str, today: date | None = None) -> CompoundReport:
    """Every unit of the compound, read back from the store in one transaction."""
    catalogue = load_catalogue()
    with UnitOfWork(engine, read_only=True) as uow:
        compound = uow.compounds.get_by_code(code)
        assert compound.id is not None
        reports = []
        for info in uow.units.list_by_compound(compound.id):
            consent = unit_consent_in(uow, info.id)
            shares = unit_shares_in(uow, info.id)
            unresolved = sum(1 for o in consent.input.objections if o.status.unresolved)
            snapshot = build_snapshot(uow, info.id, today, consent=consent, shares=shares)
            advice = advise(snapshot, catalogue)
            reports.append(UnitReport(consent, shares, unresolved, advice))
        events = RegenerationRepository(uow.connection).list_by_compound(compound.id)
        since = lift_running_since(uow, compound.id)
        regeneration = regeneration_outcome(events, since, today or date.today())
        return CompoundReport(code, compound, reports, regeneration)
