"""A city of old walk-up compounds under a policy: how many lifts a year, at what public cost.

A `CityScenario` describes the housing stock (a mix of compound types, each with its storeys,
flats per floor, flat sizes, ages, tenure and elevator cost) and the policy levers a housing
bureau or street office controls:

- ``subsidy_profile``: the subsidy rule (a packaged profile such as "jinan"; None for none);
- ``compensation_fen``: the compensation norm paid to each ground-floor household;
- ``approval_weeks``: how long review and approval take (lo, hi weeks);
- ``guidance_share``: the share of compounds whose retrofits run under Party-building guidance
  (strategy "guided"); the others rely on residents alone ("informal_only");
- ``start_share_per_year``: the share of the city's units that start a project each year.

`synthesize_city` draws the units as arrays (`UnitBatch.synthetic` per compound type and flats
per floor), groups them into compounds, picks the guided compounds and each unit's start week.
`run_city` simulates every started unit from its start week to the horizon and reports
installations per year, government cost, residents' money, success by compound type and by
guidance, and where units stall. Tasks are fixed chunks with their own seeds, so the result is
the same in this process and on a Dask cluster.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.datafiles import read_toml, reject_unknown
from colift.errors import BadInput
from colift.sim.batch import UnitBatch
from colift.sim.model import FAILURES, UnitModel, wilson
from colift.sim.params import Defaults, Scenario
from colift.sim.strategies import PHASE_NAMES, SERVICE, strategy_for

Progress = Callable[[int, int], None]
WEEKS_PER_YEAR = 52
# Units per simulation task: bounds memory and gives a cluster pieces to share (assumption).
CHUNK_UNITS = 10_000
# Distinct streams of the city's seed: synthesis, and one per task.
_SYNTH_STREAM, _TASK_STREAM = 1, 2


@dataclass(frozen=True)
class CompoundType:
    """One kind of compound in the housing stock; each number's source is in DEFAULT_TYPES."""

    id: str
    name_zh: str
    share: float  # of the city's households
    storeys: tuple[int, ...]
    storey_weights: tuple[float, ...]
    per_floor: tuple[int, ...] = (2,)  # flats per floor on one stairwell
    per_floor_weights: tuple[float, ...] = (1.0,)
    units_per_compound: tuple[int, int] = (6, 24)
    area_m2: tuple[float, float] = (45.0, 90.0)
    elderly_share: float = 0.35
    tenure_shares: tuple[float, ...] = (0.72, 0.15, 0.12, 0.01)
    ability_median_fen: int = 12_000_000
    total_cost_fen: int = 45_000_000  # one lift, all in

    def __post_init__(self) -> None:
        where = f"compound type {self.id!r}"
        if not self.id:
            raise BadInput("a compound type needs an id")
        if not 0.0 <= self.share <= 1.0:
            raise BadInput("{where}: share must be in [0, 1]", where=where)
        _weights(self.storeys, self.storey_weights, f"{where}: storeys", 2, 12)
        _weights(self.per_floor, self.per_floor_weights, f"{where}: per_floor", 1, 4)
        lo, hi = self.units_per_compound
        if not 1 <= lo <= hi:
            raise BadInput("{where}: units_per_compound is (lo, hi) with 1 ≤ lo ≤ hi", where=where)
        if not 0 < self.area_m2[0] <= self.area_m2[1]:
            raise BadInput("{where}: area_m2 is (lo, hi) m² with 0 < lo ≤ hi", where=where)
        if self.total_cost_fen <= 0 or self.ability_median_fen <= 0:
            raise BadInput(
                "{where}: total_cost_fen and ability_median_fen must be above 0", where=where
            )

    @property
    def mean_households_per_unit(self) -> float:
        storeys = np.average(self.storeys, weights=self.storey_weights)
        per_floor = np.average(self.per_floor, weights=self.per_floor_weights)
        return float(storeys * per_floor)

    def defaults(self, base: Defaults) -> Defaults:
        """The model defaults with this type's households."""
        return dataclasses.replace(
            base,
            area_m2=self.area_m2,
            elderly_share=self.elderly_share,
            tenure_shares=self.tenure_shares,
            ability_median_fen=self.ability_median_fen,
        )


def _weights(values: Sequence[int], weights: Sequence[float], where: str, lo: int, hi: int) -> None:
    if not values or len(values) != len(weights):
        raise BadInput("{where}: give as many weights as values", where=where)
    if any(not lo <= v <= hi for v in values):
        raise BadInput("{where}: values must be {lo}–{hi}", where=where, lo=lo, hi=hi)
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise BadInput("{where}: weights must be ≥ 0 and not all 0", where=where)


# The default stock. Pre-2000 walk-ups are what the old-compound programme renovates (State
# Council General Office guidance 2020 No. 23: compounds built before the end of 2000).
DEFAULT_TYPES: tuple[CompoundType, ...] = (
    CompoundType(
        id="work_unit_1980s",
        name_zh="八十年代单位大院",
        share=0.40,  # assumption: work-unit housing sold to tenants in the 1990s housing reform
        storeys=(5, 6),  # domain notes: 5–6 storey walk-ups
        storey_weights=(0.4, 0.6),  # assumption
        per_floor=(2, 3),  # 一梯两户 mostly, some 一梯三户 (assumption)
        per_floor_weights=(0.8, 0.2),  # assumption
        area_m2=(40.0, 65.0),  # assumption: small 1980s flats
        elderly_share=0.45,  # assumption: ageing first occupants, above the 30–40% city average
        tenure_shares=(0.70, 0.18, 0.11, 0.01),  # assumption
        ability_median_fen=10_000_000,  # assumption: retirees, ¥100,000
        total_cost_fen=40_000_000,  # domain notes: ¥350k–500k for 6 storeys; fewer floors
    ),
    CompoundType(
        id="commercial_1990s",
        name_zh="九十年代商品房",
        share=0.45,  # assumption
        storeys=(6, 7),  # domain notes: 6-storey units typical
        storey_weights=(0.7, 0.3),  # assumption
        per_floor=(2, 3),
        per_floor_weights=(0.7, 0.3),  # assumption
        area_m2=(50.0, 95.0),  # assumption
        elderly_share=0.35,  # Shanghai, Hangzhou, Beijing reports: 30–40%
        tenure_shares=(0.72, 0.15, 0.12, 0.01),  # assumption (the model's default)
        ability_median_fen=12_000_000,  # assumption (the model's default)
        total_cost_fen=45_000_000,  # domain notes: ¥350k–500k
    ),
    CompoundType(
        id="commercial_2000s",
        name_zh="两千年代多层",
        share=0.15,  # assumption: the newest walk-ups some cities also admit
        storeys=(6, 7),  # brief: 7 storeys, some 6
        storey_weights=(0.2, 0.8),  # assumption
        per_floor=(2,),  # assumption
        per_floor_weights=(1.0,),
        area_m2=(70.0, 120.0),  # assumption
        elderly_share=0.25,  # assumption: younger owners
        tenure_shares=(0.66, 0.20, 0.12, 0.02),  # assumption: more rented flats
        ability_median_fen=15_000_000,  # assumption, ¥150,000
        total_cost_fen=50_000_000,  # domain notes: top of ¥350k–500k for 7 storeys
    ),
)


@dataclass(frozen=True)
class CityScenario:
    """The housing stock and the policy levers of one city run."""

    name: str = "city"
    n_households: int = 200_000
    types: tuple[CompoundType, ...] = DEFAULT_TYPES
    consent_profile: str = "cn-civil-code-278"
    subsidy_profile: str | None = None
    compensation_fen: int = 0  # per ground-floor household, raised from the payers
    approval_weeks: tuple[int, int] = (4, 13)  # domain notes: 1–3 months
    guidance_share: float = 0.5  # assumption: half the compounds under Party guidance
    # Beijing 2019: 693 starts among about 100,000 suitable doorways (0.7%); Guangzhou reached
    # about 17% of eligible buildings over several years; 5% a year is an assumption between.
    start_share_per_year: float = 0.05
    cohort_weeks: int = 13  # projects start at the turn of each quarter (assumption)
    guided_strategy: str = "guided"
    unguided_strategy: str = "informal_only"
    weeks: int = 104
    seed: int = 0
    defaults: Defaults = field(default_factory=Defaults)

    def __post_init__(self) -> None:
        if self.n_households < 1:
            raise BadInput("city: households must be at least 1")
        if not self.types:
            raise BadInput("city: give at least one compound type")
        ids = [t.id for t in self.types]
        if len(set(ids)) != len(ids):
            raise BadInput("city: compound type ids must be unique")
        if sum(t.share for t in self.types) <= 0:
            raise BadInput("city: compound type shares must not all be 0")
        for name in ("guidance_share", "start_share_per_year"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BadInput(
                    "city: {name} must be in [0, 1], got {value}", name=name, value=value
                )
        lo, hi = self.approval_weeks
        if not 1 <= lo <= hi:
            raise BadInput("city: approval_weeks is (lo, hi) with 1 ≤ lo ≤ hi")
        if self.weeks < 1 or self.cohort_weeks < 1:
            raise BadInput("city: weeks and cohort_weeks must be at least 1")
        if self.compensation_fen < 0:
            raise BadInput("city: compensation_fen must be ≥ 0")
        if self.seed < 0:
            raise BadInput("city: seed must be ≥ 0")
        for s in (self.guided_strategy, self.unguided_strategy):
            strategy_for(s)
        self.scenario(self.types[0], self.guided_strategy)  # checks the rule and the profile

    @property
    def years(self) -> int:
        return math.ceil(self.weeks / WEEKS_PER_YEAR)

    def replace(self, **changes: Any) -> CityScenario:
        return dataclasses.replace(self, **changes)

    def scenario(self, ctype: CompoundType, strategy: str, weeks: int | None = None) -> Scenario:
        """The unit scenario of one compound type under the city's levers."""
        defaults = dataclasses.replace(
            ctype.defaults(self.defaults), approval_weeks=self.approval_weeks
        )
        return Scenario(
            name=f"{self.name}:{ctype.id}",
            defaults=defaults,
            consent_profile=self.consent_profile,
            subsidy_profile=self.subsidy_profile,
            total_cost_fen=ctype.total_cost_fen,
            compensation_fen=self.compensation_fen,
            strategy=strategy,
            weeks=self.weeks if weeks is None else weeks,
        )

    def levers(self) -> dict[str, Any]:
        return {
            "subsidy_profile": self.subsidy_profile,
            "compensation_fen": self.compensation_fen,
            "approval_weeks": list(self.approval_weeks),
            "guidance_share": self.guidance_share,
            "start_share_per_year": self.start_share_per_year,
            "consent_profile": self.consent_profile,
        }


# ---------------------------------------------------------------- synthesis


@dataclass
class CitySegment:
    """Units of one compound type and one stairwell layout, with their compound and start."""

    type_index: int
    per_floor: int
    batch: UnitBatch
    compound: NDArray[np.int64]  # city-wide compound number
    guided: NDArray[np.bool_]
    start_week: NDArray[np.int64]  # -1: no project within the horizon


@dataclass
class CityBatch:
    city: CityScenario
    segments: list[CitySegment]
    n_compounds: int

    @property
    def n_units(self) -> int:
        return sum(s.batch.n_units for s in self.segments)

    @property
    def n_households(self) -> int:
        return sum(s.batch.n_households for s in self.segments)


def synthesize_city(city: CityScenario) -> CityBatch:
    """The city's units as arrays, grouped by compound type and layout; one seed, one city."""
    rng = np.random.default_rng(np.random.SeedSequence([city.seed, _SYNTH_STREAM]))
    total_share = sum(t.share for t in city.types)
    segments: list[CitySegment] = []
    n_compounds = 0
    for ti, ctype in enumerate(city.types):
        households = city.n_households * ctype.share / total_share
        scenario = city.scenario(ctype, city.guided_strategy)
        storeys_mean = float(np.average(ctype.storeys, weights=ctype.storey_weights))
        pf_weights = np.asarray(ctype.per_floor_weights, float)
        pf_weights /= pf_weights.sum()
        type_segments: list[CitySegment] = []
        for per_floor, w in zip(ctype.per_floor, pf_weights, strict=True):
            n_units = round(households * w / (storeys_mean * per_floor))
            if n_units < 1:
                continue
            batch = UnitBatch.synthetic(
                n_units,
                scenario,
                rng,
                storeys=ctype.storeys,
                storey_weights=ctype.storey_weights,
                per_floor=per_floor,
                label_prefix=f"{ctype.id}/{per_floor}/",
            )
            empty = np.zeros(n_units, np.int64)
            type_segments.append(
                CitySegment(ti, per_floor, batch, empty.copy(), np.zeros(n_units, bool), empty - 1)
            )
        if not type_segments:
            continue
        # A compound is built to one design, so it takes consecutive units of one layout.
        for seg in type_segments:
            seg.compound, count = _compounds(seg.batch.n_units, ctype.units_per_compound, rng)
            seg.compound += n_compounds
            n_compounds += count
        segments.extend(type_segments)
    if not segments:
        raise BadInput("city: too few households for even one unit")
    # Guidance is decided per compound: exactly the share, the compounds drawn at random.
    guided = np.zeros(n_compounds, bool)
    guided[rng.permutation(n_compounds)[: round(city.guidance_share * n_compounds)]] = True
    for seg in segments:
        seg.guided = guided[seg.compound]
    _start_weeks(city, segments, rng)
    return CityBatch(city, segments, n_compounds)


def _compounds(
    n_units: int, size: tuple[int, int], rng: np.random.Generator
) -> tuple[NDArray[np.int64], int]:
    """Consecutive units grouped into compounds of uniform(lo, hi) units."""
    lo, hi = size
    sizes = rng.integers(lo, hi + 1, size=n_units // lo + 1)
    ends = np.cumsum(sizes)
    compound = np.searchsorted(ends, np.arange(n_units), side="right").astype(np.int64)
    return compound, int(compound[-1]) + 1


def _start_weeks(city: CityScenario, segments: list[CitySegment], rng: np.random.Generator) -> None:
    """Each quarter (cohort) a share of the city's units starts a project, in random order."""
    n = sum(s.batch.n_units for s in segments)
    per_week = city.start_share_per_year / WEEKS_PER_YEAR
    starts = np.full(n, -1, np.int64)
    order = rng.permutation(n)
    taken = 0
    for start in range(0, city.weeks, city.cohort_weeks):
        cumulative = min(n, round(n * per_week * (start + city.cohort_weeks)))
        starts[order[taken:cumulative]] = start
        taken = max(taken, cumulative)
    offset = 0
    for seg in segments:
        seg.start_week = starts[offset : offset + seg.batch.n_units]
        offset += seg.batch.n_units


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class CityTask:
    """One simulation: a chunk of units of one segment, guidance and start week."""

    segment: int
    guided: bool
    start_week: int
    chunk: int
    index: NDArray[np.int64]  # positions in the segment's batch
    seed: int
    weeks: int


def city_tasks(city_batch: CityBatch) -> list[CityTask]:
    """The fixed list of tasks; the same wherever they run."""
    city = city_batch.city
    tasks: list[CityTask] = []
    for si, seg in enumerate(city_batch.segments):
        for guided in (False, True):
            for start in np.unique(seg.start_week[seg.start_week >= 0]).tolist():
                index = np.flatnonzero((seg.guided == guided) & (seg.start_week == start))
                for chunk, lo in enumerate(range(0, index.size, CHUNK_UNITS)):
                    entropy = [city.seed, _TASK_STREAM, si, int(guided), int(start), chunk]
                    seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
                    tasks.append(
                        CityTask(
                            si,
                            guided,
                            int(start),
                            chunk,
                            index[lo : lo + CHUNK_UNITS],
                            seed,
                            city.weeks - int(start),
                        )
                    )
    return tasks


def run_city_task(
    batch: UnitBatch,
    scenario: Scenario,
    seed: int,
    weeks: int,
    progress: Progress | None = None,
) -> dict[str, NDArray[Any]]:
    """Simulate one chunk; the per-unit outcomes as small arrays."""
    model = UnitModel(batch, scenario, seed)
    result = model.run(weeks, progress=progress)
    return {
        "success": result.success,
        "week_consent": result.week_consent,
        "week_service": result.week_service,
        "failure": model.failure.copy(),
        "phase": model.phase.copy(),
        "subsidy_fen": result.subsidy_fen,
        "resident_fen": result.resident_fen,
        "compensation_fen": result.compensation_fen,
        "cooperation": result.cooperation[-1].copy(),
    }


def _task_inputs(city_batch: CityBatch, task: CityTask) -> tuple[UnitBatch, Scenario]:
    city = city_batch.city
    seg = city_batch.segments[task.segment]
    strategy = city.guided_strategy if task.guided else city.unguided_strategy
    scenario = city.scenario(city.types[seg.type_index], strategy, task.weeks)
    return seg.batch.select(task.index), scenario


@dataclass
class CityResult:
    """Per started unit: its type, guidance, start, outcome and money; `summary()` for reports."""

    city: CityScenario
    n_units: int
    n_households: int
    n_compounds: int
    units_by_type: dict[str, int]
    type_index: NDArray[np.int64]
    guided: NDArray[np.bool_]
    start_week: NDArray[np.int64]
    success: NDArray[np.bool_]
    week_consent: NDArray[np.int64]  # city week, -1 never
    week_service: NDArray[np.int64]  # city week, -1 never
    failure: NDArray[np.int8]  # code in FAILURES, 0 none
    phase: NDArray[np.int8]
    subsidy_fen: NDArray[np.int64]
    resident_fen: NDArray[np.int64]
    compensation_fen: NDArray[np.int64]
    cooperation: NDArray[np.int8]

    @property
    def started(self) -> int:
        return int(self.success.size)

    def installations_per_year(self, sel: NDArray[np.bool_] | None = None) -> list[int]:
        """Lifts entering service in each year of the horizon (of the units in `sel`)."""
        done = self.success if sel is None else self.success & sel
        year = (self.week_service[done] - 1) // WEEKS_PER_YEAR
        return [int(v) for v in np.bincount(year, minlength=self.city.years)[: self.city.years]]

    def subsidy_per_year(self) -> list[int]:
        year = (self.week_service[self.success] - 1) // WEEKS_PER_YEAR
        paid = self.subsidy_fen[self.success]
        # Integer sums per year: a float bincount could lose fen on a big city.
        return [int(paid[year == y].sum()) for y in range(self.city.years)]

    def _group(self, sel: NDArray[np.bool_], units: int | None = None) -> dict[str, Any]:
        n = int(sel.sum())
        k = int((sel & self.success).sum())
        lo, hi = wilson(k, n)
        out: dict[str, Any] = {}
        if units is not None:
            out["units"] = units
        out.update(
            {
                "started": n,
                "installed": k,
                "installations_per_year": self.installations_per_year(sel),
                "success_rate": k / n if n else 0.0,
                "success_ci95": [lo, hi],
                "subsidy_fen": int(self.subsidy_fen[sel].sum()),
                "residents_fen": int(self.resident_fen[sel].sum()),
            }
        )
        return out

    def summary(self) -> dict[str, Any]:
        city = self.city
        types = [t.id for t in city.types]
        installed = int(self.success.sum())
        failed = self.failure > 0
        running = ~self.success & ~failed
        service_weeks = (self.week_service - self.start_week)[self.success]
        consent_weeks = (self.week_consent - self.start_week)[self.week_consent >= 0]
        by_type: dict[str, Any] = {}
        for ti, tid in enumerate(types):
            sel = self.type_index == ti
            entry = self._group(sel, self.units_by_type.get(tid, 0))
            entry["name_zh"] = city.types[ti].name_zh
            entry["by_guidance"] = {
                city.guided_strategy: self._group(sel & self.guided),
                city.unguided_strategy: self._group(sel & ~self.guided),
            }
            by_type[tid] = entry
        return {
            "city": city.name,
            "households": self.n_households,
            "units": self.n_units,
            "compounds": self.n_compounds,
            "weeks": city.weeks,
            "years": city.years,
            "seed": city.seed,
            "levers": city.levers(),
            "started": self.started,
            "installed": installed,
            "installed_share_of_units": installed / self.n_units if self.n_units else 0.0,
            "success_rate": installed / self.started if self.started else 0.0,
            "installations_per_year": self.installations_per_year(),
            "government_cost_fen": int(self.subsidy_fen[self.success].sum()),
            "government_cost_per_year_fen": self.subsidy_per_year(),
            "government_cost_per_lift_fen": (
                int(self.subsidy_fen[self.success].sum()) // installed if installed else 0
            ),
            "residents_fen": int(self.resident_fen[self.success].sum()),
            "compensation_fen": int(self.compensation_fen[self.success].sum()),
            "weeks_to_consent": _quartiles(consent_weeks),
            "weeks_to_service": _quartiles(service_weeks),
            "by_type": by_type,
            "by_guidance": {
                city.guided_strategy: self._group(self.guided),
                city.unguided_strategy: self._group(~self.guided),
            },
            "stalls": {
                "not_started": self.n_units - self.started,
                "failed": {
                    cause: int((self.failure == code).sum())
                    for code, cause in enumerate(FAILURES)
                    if code
                },
                "running": {
                    PHASE_NAMES[p]: int((running & (self.phase == p)).sum()) for p in range(SERVICE)
                },
            },
            "cooperation_at_end": {
                str(level): int((self.cooperation == level).sum()) for level in range(5)
            },
        }


def _quartiles(values: NDArray[Any]) -> dict[str, float | None]:
    if values.size == 0:
        return {"q1": None, "median": None, "q3": None}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"q1": float(q1), "median": float(median), "q3": float(q3)}


def run_city(
    city: CityScenario,
    progress: Progress | None = None,
    *,
    scheduler: str | None = None,
    n_workers: int = 0,
    threads_per_worker: int = 1,
    city_batch: CityBatch | None = None,
) -> CityResult:
    """Synthesize the city (unless given) and simulate every started unit.

    `progress(done, total)` counts simulated unit-chunk weeks. With `n_workers` ≥ 1 or a
    `scheduler` address the chunks run on Dask; the result is identical to the local run.
    """
    cb = city_batch or synthesize_city(city)
    if cb.city != city:
        raise BadInput("the city batch was synthesized for another city scenario")
    tasks = city_tasks(cb)
    total = sum(t.weeks for t in tasks)
    if scheduler is None and n_workers < 1:
        outputs = _run_local(cb, tasks, progress, total)
    else:
        outputs = _run_dask(cb, tasks, progress, total, scheduler, n_workers, threads_per_worker)
    return _collect(cb, tasks, outputs)


def _run_local(
    cb: CityBatch, tasks: list[CityTask], progress: Progress | None, total: int
) -> list[dict[str, NDArray[Any]]]:
    outputs = []
    done = 0
    for task in tasks:
        batch, scenario = _task_inputs(cb, task)
        step = None if progress is None else _offset(progress, done, total)
        outputs.append(run_city_task(batch, scenario, task.seed, task.weeks, step))
        done += task.weeks
    return outputs


def _offset(progress: Progress, base: int, total: int) -> Progress:
    """A task's week counter as a count over all tasks."""

    def step(week: int, _weeks: int) -> None:
        progress(base + week, total)

    return step


def _run_dask(
    cb: CityBatch,
    tasks: list[CityTask],
    progress: Progress | None,
    total: int,
    scheduler: str | None,
    n_workers: int,
    threads_per_worker: int,
) -> list[dict[str, NDArray[Any]]]:
    from colift.sim.sweep import dask_client, distributed

    with dask_client(scheduler, max(n_workers, 1), threads_per_worker) as client:
        # Workers rebuild the city from its seed (a second or two) instead of receiving it.
        futures = [client.submit(_worker_task, cb.city, task, pure=False) for task in tasks]
        position = {f.key: i for i, f in enumerate(futures)}
        outputs: list[dict[str, NDArray[Any]] | None] = [None] * len(futures)
        done = 0
        for future in distributed().as_completed(futures):
            i = position[future.key]
            outputs[i] = future.result()
            done += tasks[i].weeks
            if progress is not None:
                progress(done, total)
    return [o for o in outputs if o is not None]


@functools.lru_cache(maxsize=2)
def _worker_city(city: CityScenario) -> CityBatch:
    return synthesize_city(city)


def _worker_task(city: CityScenario, task: CityTask) -> dict[str, NDArray[Any]]:
    """One task on a Dask worker, on the city this worker synthesized once."""
    batch, scenario = _task_inputs(_worker_city(city), task)
    return run_city_task(batch, scenario, task.seed, task.weeks)


def _collect(
    cb: CityBatch, tasks: list[CityTask], outputs: list[dict[str, NDArray[Any]]]
) -> CityResult:
    def cat(key: str, dtype: Any) -> NDArray[Any]:
        if not outputs:
            return np.zeros(0, dtype)
        return np.concatenate([o[key] for o in outputs]).astype(dtype)

    sizes = [t.index.size for t in tasks]
    start = np.repeat(np.array([t.start_week for t in tasks], np.int64), sizes)

    def shifted(key: str) -> NDArray[np.int64]:
        weeks = cat(key, np.int64)
        return np.where(weeks >= 0, weeks + start, -1)

    units_by_type: dict[str, int] = {}
    for seg in cb.segments:
        tid = cb.city.types[seg.type_index].id
        units_by_type[tid] = units_by_type.get(tid, 0) + seg.batch.n_units
    return CityResult(
        city=cb.city,
        n_units=cb.n_units,
        n_households=cb.n_households,
        n_compounds=cb.n_compounds,
        units_by_type=units_by_type,
        type_index=np.repeat(
            np.array([cb.segments[t.segment].type_index for t in tasks], np.int64), sizes
        ),
        guided=np.repeat(np.array([t.guided for t in tasks], bool), sizes),
        start_week=start,
        success=cat("success", bool),
        week_consent=shifted("week_consent"),
        week_service=shifted("week_service"),
        failure=cat("failure", np.int8),
        phase=cat("phase", np.int8),
        subsidy_fen=cat("subsidy_fen", np.int64),
        resident_fen=cat("resident_fen", np.int64),
        compensation_fen=cat("compensation_fen", np.int64),
        cooperation=cat("cooperation", np.int8),
    )


# ---------------------------------------------------------------- TOML


_CITY_KEYS = frozenset(
    {
        "name",
        "households",
        "consent_profile",
        "subsidy_profile",
        "compensation_fen",
        "approval_weeks",
        "guidance_share",
        "start_share_per_year",
        "cohort_weeks",
        "guided_strategy",
        "unguided_strategy",
        "weeks",
        "seed",
        "defaults",
        "compound_type",
    }
)
_TYPE_KEYS = frozenset(f.name for f in dataclasses.fields(CompoundType)) | {"source"}


def city_from_dict(data: Mapping[str, Any]) -> CityScenario:
    """A city scenario from the [city] table of a TOML file (or the same as a dict)."""
    if not isinstance(data, Mapping):
        raise BadInput("a city must be a table of fields")
    reject_unknown(data, _CITY_KEYS, "city")
    values: dict[str, Any] = {}
    for key in (
        "name",
        "consent_profile",
        "subsidy_profile",
        "guided_strategy",
        "unguided_strategy",
    ):
        if key in data:
            values[key] = _text(data[key], f"city: {key}")
    if values.get("subsidy_profile") in ("", "none"):
        values["subsidy_profile"] = None
    for key, name in (
        ("households", "n_households"),
        ("compensation_fen", "compensation_fen"),
        ("cohort_weeks", "cohort_weeks"),
        ("weeks", "weeks"),
        ("seed", "seed"),
    ):
        if key in data:
            values[name] = _whole(data[key], f"city: {key}")
    for key in ("guidance_share", "start_share_per_year"):
        if key in data:
            values[key] = _number(data[key], f"city: {key}")
    if "approval_weeks" in data:
        pair = data["approval_weeks"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise BadInput("city: approval_weeks must be [lo, hi] weeks, e.g. [4, 13]")
        values["approval_weeks"] = (
            _whole(pair[0], "city: approval_weeks"),
            _whole(pair[1], "city: approval_weeks"),
        )
    if "defaults" in data:
        values["defaults"] = _defaults(data["defaults"])
    if "compound_type" in data:
        raw = data["compound_type"]
        if not isinstance(raw, list) or not raw:
            raise BadInput("city: compound types are [[city.compound_type]] tables")
        values["types"] = tuple(_compound_type(item, n) for n, item in enumerate(raw, start=1))
    return CityScenario(**values)


def _compound_type(raw: object, n: int) -> CompoundType:
    if not isinstance(raw, Mapping):
        raise BadInput("compound type #{n} must be a table", n=n)
    where = f"compound type {raw.get('id', f'#{n}')!r}"
    reject_unknown(raw, _TYPE_KEYS, where)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "source":
            continue  # documentation only
        if key in ("id", "name_zh"):
            values[key] = _text(value, f"{where}: {key}")
        elif key in ("share", "elderly_share"):
            values[key] = _number(value, f"{where}: {key}")
        elif key in ("ability_median_fen", "total_cost_fen"):
            values[key] = _whole(value, f"{where}: {key}")
        elif key in ("storeys", "per_floor", "units_per_compound"):
            values[key] = tuple(_whole(v, f"{where}: {key}") for v in _seq(value, where, key))
        else:
            values[key] = tuple(_number(v, f"{where}: {key}") for v in _seq(value, where, key))
    if "id" not in values:
        raise BadInput("compound type #{n} needs an id", n=n)
    for key in ("share", "storeys"):
        if key not in values:
            raise BadInput("{where}: {key} is required", where=where, key=key)
    if "storey_weights" not in values:
        values["storey_weights"] = tuple(1.0 for _ in values["storeys"])
    if "per_floor" in values and "per_floor_weights" not in values:
        values["per_floor_weights"] = tuple(1.0 for _ in values["per_floor"])
    for key in ("units_per_compound", "area_m2"):
        if key in values and len(values[key]) != 2:
            raise BadInput("{where}: {key} is [lo, hi]", where=where, key=key)
    try:
        return CompoundType(**values)
    except TypeError as exc:
        raise BadInput("{where}: {exc}", where=where, exc=exc) from None


def _defaults(raw: object) -> Defaults:
    from colift.sim.params import scenario_from_dict

    if not isinstance(raw, Mapping):
        raise BadInput("city: defaults must be a table")
    return scenario_from_dict({"defaults": dict(raw)}).defaults


def _seq(value: object, where: str, key: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise BadInput("{where}: {key} must be a non-empty list", where=where, key=key)
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BadInput("{where} must be text", where=where)
    return value


def _whole(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(
            "{where} must be a whole number, got {value}", where=where, value=repr(value)
        )
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput("{where} must be a number, got {value}", where=where, value=repr(value))
    return float(value)


def is_city_file(data: Mapping[str, Any]) -> bool:
    """A TOML document holds a city when it has a [city] table."""
    return isinstance(data.get("city"), Mapping)


def load_city(path: Path) -> CityScenario:
    """A city scenario from a TOML file with a [city] table."""
    data = read_toml(path, "city")
    if not is_city_file(data):
        raise BadInput("{name}: a city file needs a [city] table", name=Path(path).name)
    return city_from_dict(MappingProxyType(data["city"]))
