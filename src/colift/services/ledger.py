"""Ledger use cases: check that no vote, objection or money record was altered."""

from __future__ import annotations

from sqlalchemy import Engine

from colift.store import LedgerReport, UnitOfWork


def verify_ledger(engine: Engine) -> LedgerReport:
    with UnitOfWork(engine) as uow:
        return uow.ledger.verify()
