"""The store: schema, migrations, repositories, the unit of work and the vote ledger.

Services open a `UnitOfWork(make_engine())` and use its repositories; nothing else in colift
touches SQLAlchemy.
"""

from colift.store.engine import (
    DEFAULT_URL,
    ENV_VAR,
    current_revision,
    database_url,
    head_revision,
    make_engine,
    migrate,
    normalize_url,
    sqlite_url,
)
from colift.store.ledger import GENESIS_HASH, LedgerEntry, LedgerRecord, LedgerReport
from colift.store.repository import UnitInfo, cm2_to_m2, m2_to_cm2, unit_label
from colift.store.uow import UnitOfWork
from colift.store.voting import (
    Ballot,
    ConsentInput,
    ConsentRow,
    Objection,
    OccupiedHousehold,
    VoteRound,
)

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "GENESIS_HASH",
    "Ballot",
    "ConsentInput",
    "ConsentRow",
    "LedgerEntry",
    "LedgerRecord",
    "LedgerReport",
    "Objection",
    "OccupiedHousehold",
    "UnitInfo",
    "UnitOfWork",
    "VoteRound",
    "cm2_to_m2",
    "current_revision",
    "database_url",
    "head_revision",
    "m2_to_cm2",
    "make_engine",
    "migrate",
    "normalize_url",
    "sqlite_url",
    "unit_label",
]
