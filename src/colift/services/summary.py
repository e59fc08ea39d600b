"""Overviews from maintained figures: the per-unit summary lines and how they stay current.

`recount_line` computes a unit's line the way the compound report always has (consent under
its round's rule, cost shares, the path model's advice, the stage). `refresh_in` is registered
with the store: every committed write recomputes the lines of the units it touched, in the
same transaction. The vote path writes only its unit's consent columns and marks the advice
stale; `refresh_stale` (run by `colift serve` in the background, and by `colift summary
refresh`) brings those advice columns up to date, never overwriting a newer line.

The street, compound and city overviews read these lines: one indexed query per page, one
GROUP BY for the counts, no advice computed on a page view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from colift.coproduction.advisor import advise
from colift.coproduction.catalogue import Catalogue, load_catalogue
from colift.coproduction.stalls import stall_limit_days
from colift.errors import ColiftError, NotFound
from colift.model.coproduction import STAGE_ORDER, Stage
from colift.services.advice import build_snapshot
from colift.services.consent import consent_figures, unit_consent_in
from colift.services.costshare import unit_shares_in
from colift.store import UnitInfo, UnitOfWork, ledger
from colift.store import summary as store
from colift.store.summary import Filter, SummaryLine

PAGE_SIZE = 50
# What every write keeps exact at once (the vote path too); the rest is the advice.
CONSENT_KEYS = (*store.CONSENT_COLUMNS, "stage", "stage_since")
MAX_PAGE_SIZE = 500


def recount_line(
    uow: UnitOfWork, unit_id: int, today: date | None = None, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """A unit's line computed from the store, from scratch (what the summary must equal)."""
    today = today or date.today()
    catalogue = catalogue or load_catalogue()
    info = uow.units.info(unit_id)
    if info.households == 0:
        return _empty_line(uow, info)  # nothing to count yet: a unit before its roster
    consent = unit_consent_in(uow, unit_id)
    info = consent.unit
    shares = unit_shares_in(uow, unit_id)
    unresolved = sum(1 for o in consent.input.objections if o.status.unresolved)
    snapshot = build_snapshot(uow, unit_id, today, consent=consent, shares=shares)
    advice = advise(snapshot, catalogue)
    project = uow.projects.find(unit_id)
    compound = uow.compounds.get(info.compound_id)
    first = advice.recommendations[0] if advice.recommendations else None
    tool = catalogue.tools.get(first.tool) if first else None
    round_ = consent.input.round
    stage = project.stage if project else Stage.SURVEY
    since = project.stage_since if project else None
    return {
        "compound_id": info.compound_id,
        "street": compound.street,
        "building": info.building_number,
        "label": info.label,
        "stage": (project.stage if project else Stage.SURVEY).value,
        "stage_since": project.stage_since if project else None,
        **consent_figures(consent.result, None if round_ is None else round_.id, unresolved),
        "cooperation_level": int(advice.cooperation.level),
        "heterogeneity_milli": round(advice.heterogeneity.index * 1000),
        "next_action": ((tool.name_zh if tool else first.tool) if first else "")[:200],
        "due_on": stall_due(stage, since, today),
    }


def stall_due(stage: Stage, since: date | None, today: date) -> date | None:
    """The first day after `today` on which the unit's stall status changes with nothing
    written (it has then been in `stage` more than the stage's limit); None: no such day
    (already stalled, no date, or a stage that never stalls). The advice must be recomputed
    that day: the refresher picks the line up by this column."""
    limit = stall_limit_days(stage)
    if since is None or limit is None:
        return None
    crossing = since + timedelta(days=limit + 1)
    return crossing if crossing > today else None


def _empty_line(uow: UnitOfWork, info: UnitInfo) -> dict[str, Any]:
    project = uow.projects.find(info.id)
    return {
        "compound_id": info.compound_id,
        "street": uow.compounds.get(info.compound_id).street,
        "building": info.building_number,
        "label": info.label,
        "stage": (project.stage if project else Stage.SURVEY).value,
        "stage_since": project.stage_since if project else None,
        "round_id": None,
        "passed": False,
        "agree_heads": 0,
        "total_heads": 0,
        "heads_short": 0,
        "area_short": "0.00",
        "open_objections": 0,
        "cooperation_level": 0,
        "heterogeneity_milli": 0,
        "next_action": "",
        "due_on": None,
    }


def refresh_in(uow: UnitOfWork, unit_ids: set[int]) -> None:
    """Recompute the lines of `unit_ids` inside the caller's transaction (the commit hook)."""
    catalogue = load_catalogue()
    lines: dict[int, dict[str, Any]] = {}
    broken: dict[int, dict[str, Any]] = {}
    postgres = uow.connection.dialect.name == "postgresql"
    for unit_id in sorted(unit_ids):
        try:
            if postgres:
                # Take the compound's chain lock (held already by any write that went through
                # the ledger): a vote cannot commit between this recount and its write, so
                # the line written is never older than a vote's (SQLite: BEGIN IMMEDIATE).
                info = uow.units.info(unit_id)
                ledger.lock(uow.connection, ledger.compound_chain(info.compound_id))
            lines[unit_id] = recount_line(uow, unit_id, catalogue=catalogue)
        except NotFound:
            continue  # the unit was deleted in this transaction
        except ColiftError:
            # A count the rules refuse never fails the write that led to it: the line says
            # "cannot be counted" (stale 3) until a later write makes it countable.
            broken[unit_id] = _empty_line(uow, uow.units.info(unit_id))
    store.write_lines(uow.connection, lines)
    store.write_lines(uow.connection, broken, stale=store.UNCOUNTABLE)


store.register_refresher(refresh_in)


def refresh_stale(engine: Engine, limit: int = 50, today: date | None = None) -> int:
    """Bring up to `limit` stale lines up to date; returns how many were written.

    Stale lines come first, then lines due by `today` (their unit crossed its stall limit since
    they were computed, with nothing written: `due_on`), then units without a line. Each line is computed in a read transaction, then written in a short write transaction
    only if no vote or other write changed it meanwhile (its version): never a lost update.
    """
    with UnitOfWork(engine, read_only=True) as uow:
        today = today or date.today()
        waiting = store.stale_units(uow.connection, limit)
        seen = {u for u, _ in waiting}
        due = store.due_units(uow.connection, today, max(0, limit - len(waiting)))
        waiting += [(u, v) for u, v in due if u not in seen]
        waiting += [
            (u, -1) for u in store.missing_units(uow.connection)[: max(0, limit - len(waiting))]
        ]
        catalogue = load_catalogue()
        computed = {}
        broken: set[int] = set()
        for unit_id, version in waiting:
            try:
                computed[unit_id] = (version, recount_line(uow, unit_id, today, catalogue))
            except NotFound:
                continue
            except ColiftError:
                broken.add(unit_id)
                computed[unit_id] = (version, _empty_line(uow, uow.units.info(unit_id)))
    if not computed:
        return 0
    written = 0
    with UnitOfWork(engine) as uow:
        for unit_id, (version, figures) in computed.items():
            stale = store.UNCOUNTABLE if unit_id in broken else 0
            if version < 0:
                store.write_lines(uow.connection, {unit_id: figures}, stale=stale)
                written += 1
            elif store.write_if_unchanged(uow.connection, unit_id, version, figures, stale):
                written += 1
        uow.commit()
    return written


def refresh_all(engine: Engine, batch: int = 200, today: date | None = None) -> int:
    """Refresh every stale, due or missing line (after an import behind the store's back)."""
    total = 0
    while True:
        done = refresh_stale(engine, batch, today)
        total += done
        if done == 0:
            return total


def unit_lines(engine: Engine) -> dict[int, SummaryLine]:
    """Every stored line by unit (for checks and the property test)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return {line.unit_id: line for line in store.all_lines(uow.connection)}


def recount_all(engine: Engine, today: date | None = None) -> dict[int, dict[str, Any]]:
    """Every unit's line recounted from scratch (slow: for checks)."""
    with UnitOfWork(engine, read_only=True) as uow:
        ids = [int(i) for i in uow.connection.exec_driver_sql("SELECT id FROM units").scalars()]
        catalogue = load_catalogue()
        return {u: recount_line(uow, u, today, catalogue) for u in ids}


def current_lines(uow: UnitOfWork, lines: list[SummaryLine], today: date) -> list[SummaryLine]:
    """`lines` as of `today`: a line whose unit crossed its stall limit since it was computed
    (`due_on` reached) and that the refresher has not reached yet is recomputed here, in the
    read (only those lines: usually none, a handful on the day of a crossing); the store is
    left to the refresher."""
    out = []
    for line in lines:
        if line.due_on is not None and line.due_on <= today and line.stale == 0:
            try:
                line = replace(line, **recount_line(uow, line.unit_id, today))
            except ColiftError:  # the refresher marks it uncountable; show what is stored
                out.append(line)
                continue
        out.append(line)
    return out


@dataclass(frozen=True)
class GroupCount:
    key: str
    units: int
    passed: int
    open_objections: int
    stale: int


@dataclass(frozen=True)
class OverviewPage:
    """One page of a long list of units with the counts over the whole filtered list."""

    lines: list[SummaryLine]
    offset: int
    limit: int
    units: int  # lines matching the filter, over all pages
    by_stage: list[GroupCount]
    by_street: list[GroupCount]
    today: date

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.lines) < self.units


def _groups(rows: list[tuple[Any, ...]]) -> list[GroupCount]:
    return [
        GroupCount(str(k), int(n), int(p or 0), int(o or 0), int(s or 0)) for k, n, p, o, s in rows
    ]


# Counts by stage read in the order a project goes through them, a suspended one last.
_STAGE_RANK = {s.value: i for i, s in enumerate((*STAGE_ORDER, Stage.SUSPENDED))}


def _stage_rank(group: GroupCount) -> int:
    return _STAGE_RANK.get(str(group.key), len(_STAGE_RANK))


def overview_page(
    engine: Engine,
    f: Filter,
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    today: date | None = None,
    with_streets: bool = False,
    compound: str | None = None,
) -> OverviewPage:
    """A page of lines under `f` plus the counts by stage (and by street for a city);
    `compound`: only the units of the compound with this code."""
    offset = max(0, int(offset))
    limit = min(max(1, int(limit)), MAX_PAGE_SIZE)
    with UnitOfWork(engine, read_only=True) as uow:
        if compound is not None:  # NotFound names an unknown code
            f = replace(f, compound_id=uow.compounds.get_by_code(compound).id)
        today = today or date.today()
        lines = current_lines(uow, store.page(uow.connection, f, offset=offset, limit=limit), today)
        by_stage = sorted(_groups(store.counts(uow.connection, f, by="stage")), key=_stage_rank)
        by_street = _groups(store.counts(uow.connection, f, by="street")) if with_streets else []
    return OverviewPage(
        lines,
        offset,
        limit,
        sum(g.units for g in by_stage),
        by_stage,
        by_street,
        today,
    )


def street_page(
    engine: Engine,
    street: str | None,
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    stage: str | None = None,
    passed: bool | None = None,
    with_objections: bool = False,
    compound: str | None = None,
) -> OverviewPage:
    """The street office's list: every unit of `street` (None: every street), paginated;
    `compound`: one compound's units only."""
    f = Filter(street=street, stage=stage, passed=passed, with_objections=with_objections)
    return overview_page(engine, f, offset=offset, limit=limit, compound=compound)


def city_overview(
    engine: Engine, *, offset: int = 0, limit: int = PAGE_SIZE, stage: str | None = None
) -> OverviewPage:
    """The housing bureau's view: counts per street and per stage over every unit."""
    return overview_page(engine, Filter(stage=stage), offset=offset, limit=limit, with_streets=True)
