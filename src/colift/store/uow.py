"""The unit of work: one connection, one transaction, every repository and the ledger.

    with UnitOfWork(engine) as uow:
        unit = uow.units.find(compound.id, "3", "2")
        uow.votes.set_ballot(round_id, household_id, Vote.AGREE, actor="居委会")
        uow.commit()

Leaving the block without `commit()`, or by an exception, rolls everything back: a half
import or a vote without its ledger entry is never stored. On SQLite the transaction starts
with BEGIN IMMEDIATE, so writers queue for the file's single write lock up front.

`UnitOfWork(engine, read_only=True)` is for pages and reports: on SQLite its transaction is a
plain deferred BEGIN, which in WAL mode reads a snapshot beside the writer and never waits
for the write lock; it cannot commit. On PostgreSQL a read takes no row locks either way; its
transaction begins READ ONLY (the database refuses any write in it) and ends with COMMIT, not
ROLLBACK: psycopg forgets every prepared statement of a connection at each ROLLBACK, so pages
and the token lookup ending in one made every later statement on that connection be parsed and
planned again (about 1.9 ms of the database's CPU a vote).
"""

from __future__ import annotations

import contextlib
import functools
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from colift.store import summary
from colift.store.accounts import AccountRepository
from colift.store.coproduction import (
    ActivityRepository,
    HouseholdProfileRepository,
    ProjectRepository,
    StanceRepository,
    TechnicalRepository,
    TieRepository,
)
from colift.store.costplans import CostPlanRepository
from colift.store.engine import SQLITE_IMMEDIATE, write_gate
from colift.store.ledger import Ledger
from colift.store.repository import (
    BuildingRepository,
    CompoundRepository,
    HouseholdRepository,
    OwnerRepository,
    PersonRepository,
    RoleRepository,
    UnitRepository,
)
from colift.store.steps import StepRepository
from colift.store.voting import ObjectionRepository, VotingRepository

_REPOSITORIES = (
    "compounds",
    "buildings",
    "units",
    "owners",
    "households",
    "persons",
    "roles",
    "votes",
    "objections",
    "cost_plans",
    "projects",
    "activities",
    "stances",
    "household_profiles",
    "technical",
    "ties",
    "ledger",
    "accounts",
    "steps",
)


class UnitOfWork:
    """Atomic access to the store; use it as a context manager and call `commit()`."""

    connection: Connection

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self._entered = False
        self._defer_summary = False
        self._gate: contextlib.ExitStack | None = None

    def defer_summary(self) -> None:
        """For bulk loads: at commit, mark the touched units' summary lines stale instead of
        recounting them; `colift summary refresh` (or the server's refresher) recounts them."""
        self._defer_summary = True

    def __enter__(self) -> Self:
        if self._entered:
            raise RuntimeError("this unit of work is already in use")
        gate = None if self.read_only else write_gate(self.engine)
        if gate is not None:  # SQLite writers queue here, not in SQLite's sleep-and-retry
            self._gate = contextlib.ExitStack()
            self._gate.enter_context(gate.held())
        # The connection begins its transaction on first use, also after each commit.
        try:
            connection = self.engine.connect()
        except BaseException:
            self._release_gate()
            raise
        if connection.dialect.name == "sqlite" and not self.read_only:
            connection.execution_options(**{SQLITE_IMMEDIATE: True})
        elif connection.dialect.name == "postgresql" and self.read_only:
            connection.execution_options(postgresql_readonly=True)
        self._entered = True
        self.connection = connection
        for name in _REPOSITORIES:  # a unit of work entered again: repositories of this connection
            self.__dict__.pop(name, None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            summary.forget_touched(self.connection)
            if self.read_only and exc_type is None and self.connection.dialect.name != "sqlite":
                self.connection.commit()  # READ ONLY: nothing to keep; see the module's text
            else:
                self.connection.rollback()
        finally:
            self._entered = False
            try:
                self.connection.close()
            finally:
                self._release_gate()

    def _release_gate(self) -> None:
        if self._gate is not None:
            gate, self._gate = self._gate, None
            gate.close()

    def commit(self) -> None:
        """Make everything done so far permanent; later writes need another commit."""
        self._require_entered()
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        touched = summary.take_touched(self.connection)
        refresh = summary.refresher()
        if touched and self._defer_summary:
            summary.mark_stale(self.connection, touched)
        elif touched and refresh is not None:
            refresh(self, touched)  # the overviews' lines, in this same transaction
        self.connection.commit()

    def rollback(self) -> None:
        """Drop everything done since the last commit."""
        self._require_entered()
        summary.forget_touched(self.connection)
        self.connection.rollback()

    # The repositories are made on first use: a vote uses three of the nineteen, and making
    # them all for every unit of work was 4 % of a vote's CPU.
    @functools.cached_property
    def compounds(self) -> CompoundRepository:
        return CompoundRepository(self.connection)

    @functools.cached_property
    def buildings(self) -> BuildingRepository:
        return BuildingRepository(self.connection)

    @functools.cached_property
    def units(self) -> UnitRepository:
        return UnitRepository(self.connection)

    @functools.cached_property
    def owners(self) -> OwnerRepository:
        return OwnerRepository(self.connection)

    @functools.cached_property
    def households(self) -> HouseholdRepository:
        return HouseholdRepository(self.connection)

    @functools.cached_property
    def persons(self) -> PersonRepository:
        return PersonRepository(self.connection)

    @functools.cached_property
    def roles(self) -> RoleRepository:
        return RoleRepository(self.connection)

    @functools.cached_property
    def votes(self) -> VotingRepository:
        return VotingRepository(self.connection)

    @functools.cached_property
    def objections(self) -> ObjectionRepository:
        return ObjectionRepository(self.connection)

    @functools.cached_property
    def cost_plans(self) -> CostPlanRepository:
        return CostPlanRepository(self.connection)

    @functools.cached_property
    def projects(self) -> ProjectRepository:
        return ProjectRepository(self.connection)

    @functools.cached_property
    def activities(self) -> ActivityRepository:
        return ActivityRepository(self.connection)

    @functools.cached_property
    def stances(self) -> StanceRepository:
        return StanceRepository(self.connection)

    @functools.cached_property
    def household_profiles(self) -> HouseholdProfileRepository:
        return HouseholdProfileRepository(self.connection)

    @functools.cached_property
    def technical(self) -> TechnicalRepository:
        return TechnicalRepository(self.connection)

    @functools.cached_property
    def ties(self) -> TieRepository:
        return TieRepository(self.connection)

    @functools.cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.connection)

    @functools.cached_property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.connection)

    @functools.cached_property
    def steps(self) -> StepRepository:
        return StepRepository(self.connection)

    def _require_entered(self) -> None:
        if not self._entered:
            raise RuntimeError("use the unit of work in a `with` block")
