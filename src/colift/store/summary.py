"""The per-unit summary the overviews read (table `unit_summaries`): derived data, not ledger state.

Every write names the units it changes: the ledger does it for each entry it appends (the
entry's unit, a `household:N` subject's unit, or every unit of a compound for an entry about
the compound), and a few repositories whose rows are not in the ledger call `touch_units`.
`UnitOfWork.commit()` hands the touched units to the refresher registered by the services
layer (`register_refresher`), which recomputes their lines in the same transaction. The vote
path writes its unit's consent columns itself (`write_consent`) and leaves the advice columns
to the background refresher (`stale` = 1).

Reads are one indexed query per page (`page`) and one GROUP BY per city or street (`counts`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, false, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from colift.store.tables import buildings, households, unit_summaries, units

_UNITS = "colift_summary_units"
_HOUSEHOLDS = "colift_summary_households"
_COMPOUNDS = "colift_summary_compounds"
_DONE = "colift_summary_done"
UNCOUNTABLE = 3  # `stale` of a line whose unit the consent rules cannot count (no refresh)

# Columns a full recount writes (everything but the key and the bookkeeping).
LINE_COLUMNS = (
    "compound_id",
    "street",
    "building",
    "label",
    "stage",
    "stage_since",
    "round_id",
    "passed",
    "agree_heads",
    "total_heads",
    "heads_short",
    "area_short",
    "open_objections",
    "cooperation_level",
    "heterogeneity_milli",
    "next_action",
    "due_on",
)
CONSENT_COLUMNS = (
    "round_id",
    "passed",
    "agree_heads",
    "total_heads",
    "heads_short",
    "area_short",
    "open_objections",
)


@dataclass(frozen=True)
class SummaryLine:
    """One unit's line as stored."""

    unit_id: int
    compound_id: int
    street: str
    building: str
    label: str
    stage: str
    stage_since: date | None
    round_id: int | None
    passed: bool
    agree_heads: int
    total_heads: int
    heads_short: int
    area_short: str
    open_objections: int
    cooperation_level: int
    heterogeneity_milli: int
    next_action: str
    due_on: date | None  # the day the advice must be recomputed (stall status changes); None: never
    stale: int
    version: int

    def figures(self) -> dict[str, Any]:
        """The computed columns, for comparing a stored line with a recount."""
        return {c: getattr(self, c) for c in LINE_COLUMNS}


_PASSED = [f.name for f in fields(SummaryLine)].index("passed")
# A line is built from its row by position (a street or a city reads tens of thousands).
assert [f.name for f in fields(SummaryLine)] == [c.name for c in unit_summaries.columns]


def _line(row: Any) -> SummaryLine:
    values = list(row)
    values[_PASSED] = bool(values[_PASSED])
    return SummaryLine(*values)


# --- which units a transaction changed -------------------------------------------------------


def touch_units(conn: Connection, unit_ids: Iterable[int | None]) -> None:
    """Note units whose summary this transaction changes (recomputed at commit)."""
    conn.info.setdefault(_UNITS, set()).update(u for u in unit_ids if u is not None)


def touch_households(conn: Connection, household_ids: Iterable[int]) -> None:
    conn.info.setdefault(_HOUSEHOLDS, set()).update(household_ids)


def touch_compound(conn: Connection, compound_id: int) -> None:
    conn.info.setdefault(_COMPOUNDS, set()).add(compound_id)


def mark_done(conn: Connection, unit_id: int) -> None:
    """The caller has written this unit's line itself (the vote path): no recount at commit."""
    conn.info.setdefault(_DONE, set()).add(unit_id)


def note_ledger_entry(conn: Connection, chain: str, subject: str, unit_id: int | None) -> None:
    """What a ledger entry tells about the units it changes (called by the ledger)."""
    if unit_id is not None:
        touch_units(conn, [unit_id])
        return
    head = subject.partition("/")[0]
    kind, _, number = head.partition(":")
    if kind == "household" and number.isdigit():
        touch_households(conn, [int(number)])
    elif kind == "unit" and number.isdigit():
        touch_units(conn, [int(number)])
    elif chain.startswith("compound:") and chain[9:].isdigit():
        touch_compound(conn, int(chain[9:]))


def take_touched(conn: Connection) -> set[int]:
    """The units this transaction changed, less those already written; clears the notes."""
    found: set[int] = set(conn.info.pop(_UNITS, set()))
    household_ids = conn.info.pop(_HOUSEHOLDS, set())
    compound_ids = conn.info.pop(_COMPOUNDS, set())
    done: set[int] = set(conn.info.pop(_DONE, set()))
    if household_ids:
        found.update(
            conn.execute(
                select(households.c.unit_id).where(households.c.id.in_(sorted(household_ids)))
            ).scalars()
        )
    if compound_ids:
        found.update(
            conn.execute(
                select(units.c.id)
                .join_from(units, buildings)
                .where(buildings.c.compound_id.in_(sorted(compound_ids)))
            ).scalars()
        )
    return found - done


def forget_touched(conn: Connection) -> None:
    for key in (_UNITS, _HOUSEHOLDS, _COMPOUNDS, _DONE):
        conn.info.pop(key, None)


Refresher = Callable[[Any, set[int]], None]
_refresher: list[Refresher] = []


def register_refresher(refresher: Refresher) -> None:
    """The services layer registers the function that recomputes lines (once, at import)."""
    _refresher[:] = [refresher]


def refresher() -> Refresher | None:
    return _refresher[0] if _refresher else None


# --- writing ---------------------------------------------------------------------------------


def _upsert(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(unit_summaries)


def write_lines(
    conn: Connection, lines: Mapping[int, Mapping[str, Any]], *, stale: int = 0
) -> None:
    """Store full recounts (`stale` 0), replacing what was there."""
    if not lines:
        return
    rows = [{"unit_id": u, **dict(v), "stale": stale, "version": 0} for u, v in lines.items()]
    stmt = _upsert(conn)
    stmt = stmt.on_conflict_do_update(
        index_elements=["unit_id"],
        set_={
            **{c: stmt.excluded[c] for c in LINE_COLUMNS},
            "stale": stale,
            "version": unit_summaries.c.version + 1,
        },
    )
    conn.execute(stmt, rows)


def mark_stale(conn: Connection, unit_ids: Iterable[int]) -> None:
    """Mark lines wholly stale (a bulk load); units without a line are found as missing."""
    ids = sorted(set(unit_ids))
    for start in range(0, len(ids), 500):
        conn.execute(
            update(unit_summaries)
            .where(unit_summaries.c.unit_id.in_(ids[start : start + 500]))
            .values(stale=2, version=unit_summaries.c.version + 1)
        )


@functools.cache
def _write_consent() -> Any:
    """The vote path's line update, built once: each consent column bound as `v_<column>`."""
    return (
        update(unit_summaries)
        .where(unit_summaries.c.unit_id == bindparam("v_unit_id"))
        .values(
            **{c: bindparam(f"v_{c}") for c in CONSENT_COLUMNS},
            stale=case((unit_summaries.c.stale == 2, 2), else_=1),
            version=unit_summaries.c.version + 1,
        )
    )


def write_consent(conn: Connection, unit_id: int, figures: Mapping[str, Any]) -> None:
    """The vote path: the unit's consent columns, the advice left to the refresher."""
    conn.execute(
        _write_consent(),
        {"v_unit_id": unit_id, **{f"v_{c}": figures[c] for c in CONSENT_COLUMNS}},
    )
    mark_done(conn, unit_id)


def write_if_unchanged(
    conn: Connection, unit_id: int, version: int, figures: Mapping[str, Any], stale: int = 0
) -> bool:
    """The refresher's write: only if no write came in since it read `version`."""
    done = conn.execute(
        update(unit_summaries)
        .where(unit_summaries.c.unit_id == unit_id, unit_summaries.c.version == version)
        .values(**dict(figures), stale=stale, version=version + 1)
    )
    return bool(done.rowcount)


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What a long list is narrowed to; None: no condition."""

    street: str | None = None
    compound_id: int | None = None
    stage: str | None = None
    passed: bool | None = None
    with_objections: bool = False
    # stalled units only: (stage, cutoff) pairs, a line counts when its stage is one of them
    # and it entered that stage before the cutoff (the caller owns the stalled rule)
    stalled_before: tuple[tuple[str, date], ...] | None = None


def _stalled(cutoffs: tuple[tuple[str, date], ...]) -> Any:
    s = unit_summaries.c
    if not cutoffs:
        return false()
    return or_(*(and_(s.stage == stage, s.stage_since < day) for stage, day in cutoffs))


def _where(f: Filter) -> Any:
    conds = []
    if f.street is not None:
        conds.append(unit_summaries.c.street == f.street)
    if f.compound_id is not None:
        conds.append(unit_summaries.c.compound_id == f.compound_id)
    if f.stage is not None:
        conds.append(unit_summaries.c.stage == f.stage)
    if f.passed is not None:
        conds.append(unit_summaries.c.passed == f.passed)
    if f.with_objections:
        conds.append(unit_summaries.c.open_objections > 0)
    if f.stalled_before is not None:
        conds.append(_stalled(f.stalled_before))
    return and_(true(), *conds)


def count(conn: Connection, f: Filter) -> int:
    """How many lines match `f` (for the number of pages)."""
    return int(
        conn.execute(select(func.count()).select_from(unit_summaries).where(_where(f))).scalar_one()
    )


def compound_stage_counts(
    conn: Connection, f: Filter, stalled_before: tuple[tuple[str, date], ...]
) -> list[tuple[int, str, int, int]]:
    """(compound, stage, units, stalled units) over every line under `f`: one aggregate query,
    so a street's totals do not need its thousands of lines."""
    s = unit_summaries.c
    rows = conn.execute(
        select(
            s.compound_id,
            s.stage,
            func.count(),
            func.sum(case((_stalled(stalled_before), 1), else_=0)),
        )
        .where(_where(f))
        .group_by(s.compound_id, s.stage)
    )
    return [(int(c), str(st), int(n), int(k or 0)) for c, st, n, k in rows]


def stage_since_counts(conn: Connection, f: Filter) -> list[tuple[str, date, int]]:
    """(stage, day it was entered, units) under `f`: enough for exact medians and maxima of
    the days in each stage, at most one row per stage and day."""
    s = unit_summaries.c
    rows = conn.execute(
        select(s.stage, s.stage_since, func.count())
        .where(and_(_where(f), s.stage_since.is_not(None)))
        .group_by(s.stage, s.stage_since)
    )
    return [(str(st), d, int(n)) for st, d, n in rows]


def lines(conn: Connection, f: Filter) -> list[SummaryLine]:
    """Every line under `f`, in no particular order (the caller sorts what it keeps)."""
    return [_line(r) for r in conn.execute(select(unit_summaries).where(_where(f)))]


def page(conn: Connection, f: Filter, *, offset: int = 0, limit: int = 50) -> list[SummaryLine]:
    """One page of lines in compound, building, unit order (numbers sort as numbers)."""
    s = unit_summaries.c
    rows = conn.execute(
        select(unit_summaries)
        .where(_where(f))
        .order_by(
            s.street,
            s.compound_id,
            func.length(s.building),
            s.building,
            func.length(s.label),
            s.label,
        )
        .offset(offset)
        .limit(limit)
    )
    return [_line(r) for r in rows]


def get(conn: Connection, unit_id: int) -> SummaryLine | None:
    row = conn.execute(select(unit_summaries).where(unit_summaries.c.unit_id == unit_id)).first()
    return None if row is None else _line(row)


def all_lines(conn: Connection) -> list[SummaryLine]:
    return [
        _line(r) for r in conn.execute(select(unit_summaries).order_by(unit_summaries.c.unit_id))
    ]


def counts(conn: Connection, f: Filter, *, by: str = "stage") -> list[tuple[Any, ...]]:
    """(group, units, passed, open objections, stale) grouped by `stage` or `street`."""
    s = unit_summaries.c
    key = s.stage if by == "stage" else s.street
    rows = conn.execute(
        select(
            key,
            func.count(),
            func.sum(case((s.passed, 1), else_=0)),
            func.sum(s.open_objections),
            func.sum(case((s.stale > 0, 1), else_=0)),
        )
        .where(_where(f))
        .group_by(key)
        .order_by(key)
    )
    return [tuple(r) for r in rows]


def stale_units(conn: Connection, limit: int) -> list[tuple[int, int]]:
    """(unit, version) of lines waiting for the refresher, wholly stale ones first."""
    rows = conn.execute(
        select(unit_summaries.c.unit_id, unit_summaries.c.version)
        .where(unit_summaries.c.stale.in_([1, 2]))
        .order_by(unit_summaries.c.stale.desc(), unit_summaries.c.unit_id)
        .limit(limit)
    )
    return [(int(r.unit_id), int(r.version)) for r in rows]


def due_units(conn: Connection, today: date, limit: int) -> list[tuple[int, int]]:
    """(unit, version) of up-to-date lines whose advice changes by `today` with nothing written
    (the unit crossed its stage's stall limit): one indexed range query on `due_on`."""
    s = unit_summaries.c
    rows = conn.execute(
        select(s.unit_id, s.version)
        .where(s.due_on <= today, s.stale == 0)
        .order_by(s.due_on, s.unit_id)
        .limit(limit)
    )
    return [(int(r.unit_id), int(r.version)) for r in rows]


def missing_units(conn: Connection) -> list[int]:
    """Units without a line at all (bulk-loaded behind the store's back)."""
    rows = conn.execute(
        select(units.c.id)
        .outerjoin(unit_summaries, unit_summaries.c.unit_id == units.c.id)
        .where(unit_summaries.c.unit_id.is_(None))
    )
    return [int(r[0]) for r in rows]
