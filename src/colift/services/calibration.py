"""Calibration from the store: fit the simulation to what happened, keep it as a parameter set.

One function per user action: `calibrate` (fit, check on held-out units, save), `list_param_sets`,
`show_param_set`, `adopt_param_set`, and `scenario_with_params` for the adapters that simulate.
See docs/calibration.md for the method and what it can and cannot identify.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from colift.calibrate.abc import Mapper, abc_smc
from colift.calibrate.heldout import compare, split
from colift.calibrate.observe import STANCE_WEEKS, SUMMARY_NAMES, Observations, summaries
from colift.calibrate.posterior import medians, posterior_table
from colift.calibrate.priors import Prior, apply_params, default_prior
from colift.calibrate.simulator import DaskMapper, UnitsSimulator
from colift.coproduction.snapshot import UnitSnapshot
from colift.errors import BadInput
from colift.model import INFORMAL_ROLES
from colift.model.coproduction import GuidanceMode, Stage, Stance
from colift.sim.batch import UnitBatch, UnitSpec, unit_spec_from_snapshot
from colift.sim.params import Defaults, Scenario
from colift.store import UnitOfWork
from colift.store.paramsets import ParamSetRepository

MIN_UNITS = 6
MAX_PARTICLES = 400  # bounds a run started from a page
CONSENTED = {Stage.DESIGN, Stage.NOTICE, Stage.APPROVAL, Stage.CONSTRUCTION}
CONSENTED |= {Stage.ACCEPTANCE, Stage.OPERATION}


@dataclass
class Record:
    """The units of a calibration: start states, outcomes, labels, the scenario they share."""

    specs: list[UnitSpec]
    observations: Observations
    labels: list[str]
    scenario: Scenario
    compounds: list[str]
    first_start: date | None


def start_state(spec: UnitSpec) -> UnitSpec:
    """A unit as it was when its project began: no votes, stances or objections yet, and no
    technical issue known (the simulation draws it with `p_technical`, which the record's
    issues inform)."""
    households = tuple(
        dataclasses.replace(h, support=None, vote=None, objection=None) for h in spec.households
    )
    return dataclasses.replace(
        spec, households=households, stage=Stage.SURVEY, technical_block=None
    )


# How far from week 4 and week 12 a stance may be heard and still count as heard then.
STANCE_NEAR: dict[int, int] = {w: max(1, w // 6) for w in STANCE_WEEKS}


def stance_changes(heard: Mapping[int, Sequence[tuple[int, float | None]]]) -> list[float]:
    """The unit's mean change of stance score by each of STANCE_WEEKS, from what was heard.

    `heard` gives, per household, its stances as heard: (week since the project began, score;
    None for 未接触). A household counts when it was heard at the start (the first stance known
    in week 0 or 1) and again near the week (`STANCE_NEAR`; the nearest, the later of two as
    near); the change is the difference of the two scores. NaN where no household counts."""
    out: list[float] = []
    for week in STANCE_WEEKS:
        changes = []
        for entries in heard.values():
            known = sorted((w, x) for w, x in entries if x is not None)
            first = next((x for w, x in known if w <= 1), None)
            near = [(abs(w - week), -w, x) for w, x in known if abs(w - week) <= STANCE_NEAR[week]]
            if first is None or not near:
                continue
            changes.append(min(near)[2] - first)
        out.append(sum(changes) / len(changes) if changes else float("nan"))
    return out


def _heard(uow: UnitOfWork, unit_id: int, start: date) -> dict[int, list[tuple[int, float | None]]]:
    """Every stance recorded for the unit's households since `start` (the ledger's `stance.set`
    entries: a survey's, an activity's or one set by hand), by household."""
    heard: dict[int, list[tuple[int, float | None]]] = {}
    for entry in uow.ledger.history(unit_id=unit_id):
        if entry.action != "stance.set":
            continue
        p = entry.payload
        day = date.fromisoformat(str(p["on"])) if p.get("on") else entry.at.date()
        if day < start:
            continue
        score = Stance(p["stance"]).score
        heard.setdefault(int(p["household_id"]), []).append((_weeks(start, day), score))
    return heard


_INFORMAL = {r.value for r in INFORMAL_ROLES}


def led_as(snapshot: UnitSnapshot, start: date) -> int:
    """How a unit was led (`observe.GROUPS`), from its recorded activities since `start`: 1
    when every activity was by an informal role without Party guidance, 2 when none was by an
    informal role and some was under direct guidance, else 0 (guided)."""
    acts = [a for a in snapshot.activities if a.on >= start]
    roles = {a.role for a in acts}
    modes = {a.guidance for a in acts}
    if acts and modes <= {GuidanceMode.NONE} and roles <= _INFORMAL:
        return 1
    if acts and not roles & _INFORMAL and GuidanceMode.DIRECT in modes:
        return 2
    return 0


def _weeks(start: date, day: date) -> int:
    return (day - start).days // 7


def recorded_units(
    engine: Engine,
    codes: Sequence[str] = (),
    *,
    street: str | None = None,
    everything: bool = False,
    today: date | None = None,
    activities: bool = True,
) -> Record:
    """The units with a recorded project in the named compounds (or street, or all).

    With `activities` (the default), what happened on the way is read too, and the fit uses
    it (`observe.summaries`): how each unit was led (`led_as`), its objections (how many its
    households filed), its technical issues (a blocking one found or not) and the change of
    its households' stances from the start to week 4 and week 12 (`stance_changes`). Without,
    the stage dates alone."""
    from colift.services.advice import build_snapshot

    if not codes and street is None and not everything:
        raise BadInput("name compounds with -c CODE, a street with --street, or use --all")
    today = today or date.today()
    specs: list[UnitSpec] = []
    labels: list[str] = []
    span: list[int] = []
    consent: list[int] = []
    service: list[int] = []
    filed: list[int] = []
    blocked: list[int] = []
    groups: list[int] = []
    stance: list[list[float]] = []
    starts: list[date] = []
    with UnitOfWork(engine) as uow:
        if everything:
            compounds = uow.compounds.all()
        elif street is not None:
            compounds = [c for c in uow.compounds.all() if c.street == street]
            if not compounds:
                raise BadInput("no compound on the street {street}", street=street)
        else:
            compounds = [uow.compounds.get_by_code(code) for code in codes]
        if not compounds:
            raise BadInput("there are no compounds to calibrate on")
        first = compounds[0]
        scenario = Scenario(
            consent_profile=first.consent_profile, subsidy_profile=first.subsidy_profile
        )
        names: list[str] = []
        for compound in compounds:
            assert compound.id is not None
            code = uow.compounds.code_of(compound.id)
            names.append(code)
            for info in uow.units.list_by_compound(compound.id):
                moves = uow.projects.transitions(info.id)
                if not moves:
                    continue
                start = moves[0].on
                watched = _weeks(start, today)
                if watched < 1:
                    continue
                when_consent = next((m.on for m in moves if m.to_stage in CONSENTED), None)
                when_service = next((m.on for m in moves if m.to_stage is Stage.OPERATION), None)
                snapshot = build_snapshot(uow, info.id, today)
                specs.append(start_state(unit_spec_from_snapshot(snapshot)))
                labels.append(f"{code} {snapshot.label}")
                span.append(watched)
                consent.append(_weeks(start, when_consent) if when_consent else -1)
                service.append(_weeks(start, when_service) if when_service else -1)
                starts.append(start)
                # what else the record holds: objections filed, a blocking technical issue
                filed.append(len(uow.objections.list_by_unit(info.id)))
                issues = uow.technical.list_by_unit(info.id)
                blocked.append(int(any(t.to_issue().severity >= 3 for t in issues)))
                groups.append(led_as(snapshot, start))
                if activities:
                    stance.append(stance_changes(_heard(uow, info.id, start)))
    if len(specs) < MIN_UNITS:
        raise BadInput(
            "calibration needs at least {need} units with a recorded project; found {found}",
            need=MIN_UNITS,
            found=len(specs),
        )
    obs = Observations(
        np.asarray(span, np.int32),
        np.asarray(consent, np.int32),
        np.asarray(service, np.int32),
        objections=np.asarray(filed, np.int32) if activities else None,
        technical=np.asarray(blocked, np.int8) if activities else None,
        group=np.asarray(groups, np.int8) if activities else None,
        stance=np.asarray(stance, np.float64).reshape(-1, len(STANCE_WEEKS))
        if activities
        else None,
    )
    return Record(specs, obs, labels, scenario, names, min(starts) if starts else None)


def fit(
    batch: UnitBatch,
    obs: Observations,
    scenario: Scenario,
    *,
    names: Sequence[str] = (),
    particles: int = 100,
    generations: int = 4,
    seed: int = 0,
    test_share: float = 0.25,
    mapper: Mapper | None = None,
    prior: Prior | None = None,
) -> dict[str, Any]:
    """ABC-SMC on the training units, then the held-out check; plain data for --json."""
    if not 4 <= particles <= MAX_PARTICLES:
        raise BadInput("particles must be between 4 and {most}", most=MAX_PARTICLES)
    if not 1 <= generations <= 10:
        raise BadInput("generations must be between 1 and 10")
    if not 0.0 < test_share < 0.9:
        raise BadInput("the held-out share must be above 0 and below 0.9")
    t0 = time.perf_counter()
    prior = prior or default_prior(names or None, scenario.defaults)
    train, test = split(obs.n_units, test_share, seed)

    def group(index: np.ndarray) -> np.ndarray | None:
        return None if obs.group is None else obs.group[index]

    sim = UnitsSimulator(batch.select(train), obs.span[train], scenario, prior.names, group(train))
    observed = summaries(obs.select(train))
    result = abc_smc(
        sim,
        observed,
        prior,
        particles=particles,
        generations=generations,
        seed=seed,
        mapper=mapper,
    )
    d = scenario.defaults
    defaults = {n: float(getattr(d, n)) for n in prior.names}
    rows = posterior_table(result, prior, defaults)
    sources = result.informed_by(SUMMARY_NAMES)
    for i, row in enumerate(rows):
        row["informed_by"] = [{"summary": n, "rho": rho} for n, rho in sources[row["name"]]]
        r2 = float(result.predictability[i]) if result.predictability.size else float("nan")
        row["predictability"] = round(r2, 3) if np.isfinite(r2) else None
    held_sim = UnitsSimulator(
        batch.select(test), obs.span[test], scenario, prior.names, group(test)
    )
    draws = list(result.draw(np.random.default_rng(seed + 1), 20))
    default_theta = np.array([defaults[n] for n in prior.names], float)
    held = compare(held_sim, obs.select(test), draws, default_theta, seed + 2)
    wall = time.perf_counter() - t0
    return {
        "method": "ABC-SMC",
        "units": obs.n_units,
        "train_units": int(train.size),
        "test_units": int(test.size),
        "particles": particles,
        "generations": len(result.epsilons),
        "simulations": result.simulations,
        "unit_simulations": result.simulations * int(train.size),
        "wall_s": wall,
        "epsilons": [e if np.isfinite(e) else None for e in result.epsilons],
        "acceptance": result.acceptance,
        "summaries": {
            n: (v if np.isfinite(v) else None)
            for n, v in zip(SUMMARY_NAMES, observed.tolist(), strict=True)
        },
        "summaries_used": [
            n for n, v in zip(SUMMARY_NAMES, observed, strict=True) if np.isfinite(v)
        ],
        "parameters": rows,
        "informed": [r["name"] for r in rows if r["informed"]],
        "not_informed": [r["name"] for r in rows if not r["informed"]],
        "heldout": held,
        "seed": seed,
    }


def calibrate(
    engine: Engine,
    codes: Sequence[str] = (),
    *,
    street: str | None = None,
    everything: bool = False,
    name: str | None = None,
    actor: str = "calibration",
    particles: int = 100,
    generations: int = 4,
    seed: int = 0,
    test_share: float = 0.25,
    parameters: Sequence[str] = (),
    scheduler: str | None = None,
    workers: int = 0,
    today: date | None = None,
    evidence_prior: bool = False,
    activities: bool = True,
) -> dict[str, Any]:
    """Fit on the recorded units and save the posterior medians as the parameter set `name`;
    with `evidence_prior`, the coded interviews narrow the prior (`priors.with_evidence`)."""
    from colift.calibrate.evidence import check_posterior
    from colift.calibrate.priors import with_evidence

    record = recorded_units(
        engine, codes, street=street, everything=everything, today=today, activities=activities
    )
    batch = UnitBatch.from_specs(record.specs, record.scenario)
    found = evidence_links(engine)
    prior = default_prior(parameters or None, record.scenario.defaults)
    narrowed: list[str] = []
    if evidence_prior:
        prior, narrowed = with_evidence(prior, found)
    options: dict[str, Any] = {
        "prior": prior,
        "particles": particles,
        "generations": generations,
        "seed": seed,
        "test_share": test_share,
    }
    if scheduler is not None or workers > 0:
        from colift.sim.sweep import dask_client

        with dask_client(scheduler, max(workers, 1)) as client:
            out = fit(
                batch, record.observations, record.scenario, mapper=DaskMapper(client), **options
            )
    else:
        out = fit(batch, record.observations, record.scenario, **options)
    out["compounds"] = record.compounds
    out["prior_from_evidence"] = narrowed
    out["evidence"] = [x.to_json() for x in found]
    out["evidence_check"] = check_posterior(out["parameters"], found)
    out["since"] = record.first_start.isoformat() if record.first_start else None
    out["today"] = (today or date.today()).isoformat()
    if name:
        provenance = {k: v for k, v in out.items() if k != "parameters"}
        provenance["posterior"] = out["parameters"]
        with UnitOfWork(engine) as uow:
            saved = ParamSetRepository(uow.connection).add(
                name, medians(out["parameters"]), provenance, actor=actor
            )
            uow.commit()
        out["saved"] = saved.summary()
    return out


def list_param_sets(engine: Engine) -> list[dict[str, Any]]:
    with UnitOfWork(engine) as uow:
        return [p.summary() for p in ParamSetRepository(uow.connection).list()]


def show_param_set(engine: Engine, name: str) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        p = ParamSetRepository(uow.connection).get(name)
    return {**p.summary(), "provenance": p.provenance}


def adopt_param_set(engine: Engine, name: str) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        p = ParamSetRepository(uow.connection).adopt(name)
        uow.commit()
    return p.summary()


def param_values(engine: Engine, name: str | None) -> dict[str, float]:
    """The named set's values; without a name, the adopted set's (or none)."""
    with UnitOfWork(engine) as uow:
        repo = ParamSetRepository(uow.connection)
        if name:
            return repo.get(name).values
        adopted = repo.adopted()
        return adopted.values if adopted is not None else {}


def param_set_used(engine: Engine, name: str | None) -> dict[str, Any] | None:
    """Which parameter set applies (the named one, else the adopted one, else none) and where
    it comes from: what a simulation or a forecast shows beside its figures."""
    with UnitOfWork(engine) as uow:
        repo = ParamSetRepository(uow.connection)
        found = repo.get(name) if name else repo.adopted()
    if found is None:
        return None
    prov = found.provenance
    held = prov.get("heldout") or {}
    posterior = prov.get("posterior") or []
    return {
        **found.summary(),
        "chosen": "named" if name else "adopted",
        "compounds": list(prov.get("compounds", [])),
        "since": prov.get("since"),
        "today": prov.get("today"),
        "seed": prov.get("seed"),
        "informed": [r["name"] for r in posterior if r.get("informed")],
        "not_informed": [r["name"] for r in posterior if not r.get("informed")],
        "heldout_better": held.get("better"),
    }


def provenance_line(used: dict[str, Any] | None) -> str:
    """One line (Chinese, then English) saying which parameter set a figure rests on."""
    if used is None:
        return "参数：默认值（未采用校准参数集）/ parameters: the defaults (no calibrated set)"
    where = "、".join(used["compounds"]) or "—"
    informed = ", ".join(used["informed"]) or "—"
    return (
        f"参数集 {used['name']}（{'指定' if used['chosen'] == 'named' else '已采用'}；"
        f"{used['method'] or '—'}，{used['units']}个单元，{where}，{used['created_at'][:10]}；"
        f"数据有信息的参数：{informed}）/ parameter set {used['name']}"
    )


def scenario_with_params(engine: Engine, scenario: Scenario, name: str | None) -> Scenario:
    """`scenario` under the named (or adopted) parameter set."""
    return apply_params(scenario, param_values(engine, name))


def defaults_with_params(engine: Engine, name: str | None) -> Defaults:
    return scenario_with_params(engine, Scenario(), name).defaults


def sensitivity(
    data: dict[str, Any] | None,
    unit_file: dict[str, Any] | None,
    base_dir: Path,
    *,
    strategies: Sequence[str] = (),
    weeks: int | None = None,
    samples: int = 8,
    copies: int = 30,
    seed: int = 0,
    params: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Sobol indices for a unit-scenario document or a unit file (calibrate/sensitivity.py)."""
    from colift.calibrate.sensitivity import sobol
    from colift.coproduction.snapshot import UnitSnapshot
    from colift.services.simulation import scenario_of_document, unit_of_document

    if not 2 <= samples <= 1024 or not 1 <= copies <= 1000:
        raise BadInput("--samples must be 2–1024 and copies 1–1000")
    if data is not None:
        scenario = scenario_of_document(data)
        unit = unit_of_document(data, base_dir, seed)
    elif unit_file is not None:
        from colift.coproduction.unitfile import read_unit_file

        scenario = Scenario()
        unit = read_unit_file(unit_file)
    else:
        raise BadInput("--sensitivity needs a FILE: a unit scenario (.toml) or a unit file (.json)")
    spec = unit_spec_from_snapshot(unit) if isinstance(unit, UnitSnapshot) else unit
    if weeks is not None:
        scenario = scenario.replace(weeks=weeks)
    scenario = apply_params(scenario, params or {})
    result = sobol(spec, scenario, strategies=strategies, samples=samples, copies=copies, seed=seed)
    result["unit"] = spec.label
    return result


def evidence_links(engine: Engine, readable: Callable[[str], bool] | None = None) -> list[Any]:
    """Tool and guidance codes linked to consent or cooperation, over every evidence project
    (or only those `readable(name)` allows: a page shows a reader only their own projects)."""
    from colift.calibrate.evidence import links
    from colift.services.evidence import get_project, list_projects

    found = []
    for summary in list_projects(engine):
        if readable is not None and not readable(summary.name):
            continue
        project = get_project(engine, summary.name)
        names = {k: v.name for k, v in project.codebook.codes.items()}
        found += links(project.codings, project.sources, names, project=summary.name)
    return found
