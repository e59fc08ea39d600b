"""What is compared: per unit, when it reached consent and service, and what happened on the way.

A unit is observed for `span` weeks from the start of its project. `consent` is the week its
owners' consent was recorded (the move past the vote), `service` the week the lift went into
operation; -1 when not (yet) reached within the span. Simulated units are censored at the same
spans, so a unit watched for 30 weeks is compared with simulated units watched for 30 weeks.

Besides the timing, a record can hold (each optional: None where it was not recorded):
  group — how the unit was led (GROUPS): 0 under the calibration's strategy (`guided` by
             default), 1 by an action leader alone without guidance (`informal_only`), 2 by
             formal leaders under direct guidance without informal ones (`formal_only`)
  objections — objections its households filed (at the notice, so known once consent is)
  technical — a blocking technical issue was found (1) or not (0), -1 unknown
  stance — the mean change of the households' stance scores as a worker hears them (支持 1,
             倾向支持 0.75, 观望 0.5, 倾向反对 0.25, 反对 0: `heard`) from the first survey at
             the start of the project to week 4 and week 12 (STANCE_WEEKS), over the households
             heard both times; NaN when the unit was not watched that long (or nobody was heard)

The summary statistics of a set of units (SUMMARY_NAMES; each in [0, 1] but the stance
changes; NaN where the record does not have what it needs, and then left out of the distance):
  consented — share that reached consent within their span
  consent_time — restricted mean time to consent (censored at the span), as a share of the span
  consent_early — share that reached consent within half their span
  served — share in service within their span
  service_time — restricted mean time to service, as a share of the span
  consent_time_informal, consent_time_formal — consent_time of the informal and formal units
  objections_per_consent — objections filed per unit that reached consent
  technical_share — share of units with a blocking technical issue
  stance_w4_guided, stance_w12_guided, … _informal, … _formal — the mean stance change by
      week 4 and 12 in each group: the early change moves with a tool's effect times its
      messenger's trust, the later one with the cap of lasting effects (`persuasion_cap`) times
      that trust. Informal units' tools act at `trust_alone`, formal units' at `trust_direct`,
      guided units mix formal tools at `trust_direct` with informal ones at full trust: the
      three groups together separate the two multipliers and the cap
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.sim.batch import UnitBatch
from colift.sim.model import UnitModel
from colift.sim.params import Scenario

STANCE_WEEKS: tuple[int, ...] = (4, 12)
# how a unit was led: the calibration's own strategy, or one of these
GROUPS: tuple[str, ...] = ("guided", "informal", "formal")
GROUP_STRATEGIES: tuple[str | None, ...] = (None, "informal_only", "formal_only")
SUMMARY_NAMES: tuple[str, ...] = (
    "consented",
    "consent_time",
    "consent_early",
    "served",
    "service_time",
    "consent_time_informal",
    "consent_time_formal",
    "objections_per_consent",
    "technical_share",
    *(f"stance_w{w}_{g}" for g in GROUPS for w in STANCE_WEEKS),
)
# Stage levels a prediction is scored on: 0 before consent, 1 consented, 2 in service.
LEVELS = ("negotiation", "consented", "service")


@dataclass(frozen=True)
class Observations:
    """Outcomes of units, one entry per unit, in weeks from the start of each project."""

    span: NDArray[np.int32]
    consent: NDArray[np.int32]  # -1: not within the span
    service: NDArray[np.int32]
    group: NDArray[np.int8] | None = None  # GROUPS; None: all under the scenario's strategy
    objections: NDArray[np.int32] | None = None  # -1: not recorded
    technical: NDArray[np.int8] | None = None  # -1: not recorded
    stance: NDArray[np.float64] | None = None  # (units, len(STANCE_WEEKS)); NaN: not recorded

    def __post_init__(self) -> None:
        n = self.span.size
        if self.consent.size != n or self.service.size != n:
            raise ValueError("span, consent and service need one entry per unit")
        for name in ("group", "objections", "technical", "stance"):
            value = getattr(self, name)
            if value is not None and value.shape[0] != n:
                raise ValueError(f"{name} needs one entry per unit")

    @property
    def n_units(self) -> int:
        return int(self.span.size)

    def select(self, index: NDArray[np.intp]) -> Observations:
        def pick(a: NDArray[np.generic] | None) -> NDArray[np.generic] | None:
            return None if a is None else a[index]

        return Observations(
            self.span[index],
            self.consent[index],
            self.service[index],
            pick(self.group),  # type: ignore[arg-type]
            pick(self.objections),  # type: ignore[arg-type]
            pick(self.technical),  # type: ignore[arg-type]
            pick(self.stance),  # type: ignore[arg-type]
        )

    def timing_only(self) -> Observations:
        """What a record of stage dates alone shows (the unit's guidance kept)."""
        return replace(self, objections=None, technical=None, stance=None)

    def level(self) -> NDArray[np.int8]:
        """The stage level each unit reached within its span (see LEVELS)."""
        return (self.consent >= 0).astype(np.int8) + (self.service >= 0).astype(np.int8)

    def to_dict(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {
            "span": self.span.tolist(),
            "consent": self.consent.tolist(),
            "service": self.service.tolist(),
        }
        if self.group is not None:
            out["group"] = [GROUPS[int(x)] for x in self.group]
        if self.objections is not None:
            out["objections"] = self.objections.tolist()
        if self.technical is not None:
            out["technical"] = self.technical.tolist()
        if self.stance is not None:
            out["stance"] = [
                [None if np.isnan(x) else float(x) for x in row] for row in self.stance
            ]
        return out


def censor(week: NDArray[np.integer], span: NDArray[np.integer]) -> NDArray[np.int32]:
    """Weeks after the span (or never) become -1."""
    return np.where((week >= 0) & (week <= span), week, -1).astype(np.int32)


def _mean(x: NDArray[np.float64]) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def summaries(obs: Observations) -> NDArray[np.float64]:
    """The summary statistics of a set of units (SUMMARY_NAMES); NaN where not recorded."""
    span = np.maximum(obs.span.astype(np.float64), 1.0)
    c = obs.consent >= 0
    s = obs.service >= 0
    tc = np.where(c, obs.consent, span) / span
    ts = np.where(s, obs.service, span) / span
    early = c & (obs.consent <= span / 2)
    nan = float("nan")
    group = obs.group if obs.group is not None else np.zeros(obs.n_units, np.int8)
    out = [float(c.mean()), float(tc.mean()), float(early.mean()), float(s.mean())]
    out.append(float(ts.mean()))
    for g in (1, 2):
        out.append(_mean(tc[group == g]) if obs.group is not None else nan)
    if obs.objections is not None and (obs.objections[c] >= 0).any():
        filed = obs.objections[c]
        out.append(float(filed[filed >= 0].sum()) / max(int((filed >= 0).sum()), 1))
    else:
        out.append(nan)
    if obs.technical is not None and (obs.technical >= 0).any():
        out.append(float((obs.technical[obs.technical >= 0] == 1).mean()))
    else:
        out.append(nan)
    for g in range(len(GROUPS)):
        for k in range(len(STANCE_WEEKS)):
            if obs.stance is None or (obs.group is None and g > 0):
                out.append(nan)
            else:
                out.append(_mean(obs.stance[group == g, k]))
    return np.asarray(out, np.float64)


def heard(support: NDArray[np.floating]) -> NDArray[np.int8]:
    """A household's support as a worker hears it: the nearest of the five stances, as its
    level 0 (反对) … 4 (支持); the level's score (`Stance.score`) is level / 4."""
    return np.clip(np.rint(np.asarray(support, np.float64) * 4.0), 0, 4).astype(np.int8)


def stance_change(levels: NDArray[np.integer], asked: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per unit, the mean change of the heard stance score from the first survey to each later
    one, over the households `asked` both times. `levels` is (units, 1 + surveys, households)
    (-1: not heard), `asked` (units, households); NaN where nobody was heard twice."""
    first = levels[:, :1, :].astype(np.float64)
    later = levels[:, 1:, :].astype(np.float64)
    both = asked[:, None, :] & (levels[:, :1, :] >= 0) & (levels[:, 1:, :] >= 0)
    n = both.sum(axis=2)
    total = np.where(both, later - first, 0.0).sum(axis=2) / 4.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _run(
    batch: UnitBatch,
    span: NDArray[np.int32],
    scenario: Scenario,
    seed: int,
    keep: bool = False,
) -> dict[str, NDArray[np.generic]]:
    """One model over the batch, watched as a record would watch it: the households that live
    there are heard at the start and in the STANCE_WEEKS (`heard`). With `keep`, also what a
    record of each household holds (`Histories`)."""
    weeks = int(span.max()) if span.size else 0
    model = UnitModel(batch, scenario.replace(weeks=weeks), seed)
    lives = batch.lives_here
    levels = np.full((batch.n_units, 1 + len(STANCE_WEEKS), batch.width), -1, np.int8)
    levels[:, 0, :] = np.where(lives, heard(model.support), -1)
    filed_week = np.full((batch.n_units, batch.width), -1, np.int32)
    settled_week = np.full((batch.n_units, batch.width), -1, np.int32)
    for _ in range(weeks):
        before = model.objections_filed.copy() if keep else None
        was_open = model.obj_stage > 0 if keep else None
        model.step()
        if model.week in STANCE_WEEKS:
            k = 1 + STANCE_WEEKS.index(model.week)
            watched = (span >= model.week)[:, None] & lives
            levels[:, k, :] = np.where(watched, heard(model.support), -1)
        if keep:
            assert before is not None and was_open is not None
            stage = model.obj_stage
            new = (stage == 1) & ~was_open  # a closed objection opens only when filed
            if int(new.sum()) != int((model.objections_filed - before).sum()):
                raise AssertionError("objections filed and the households filing them differ")
            filed_week[new] = model.week
            done = was_open & (stage == 0) & (settled_week < filed_week)
            settled_week[done] = model.week
    result = model.result()
    consent = censor(result.week_consent, span)
    out: dict[str, NDArray[np.generic]] = {
        "consent": consent,
        "service": censor(result.week_service, span),
        "objections": np.where(consent >= 0, model.objections_filed, -1).astype(np.int32),
        "technical": model.technical0.astype(np.int8),
        "stance": stance_change(levels, lives),
    }
    if keep:
        out["levels"] = levels
        out["filed_week"] = filed_week
        out["settled_week"] = settled_week
    return out


@dataclass(frozen=True)
class Histories:
    """What the record of each household of each unit holds, from the same run as the
    `Observations` (`simulate_histories`): (units, households) arrays, one column per flat of
    the batch (`UnitBatch.width`; flats a unit does not have are never heard and never file).

    levels — the stance heard (`heard`: 0 反对 … 4 支持; -1 not heard) at the first survey and in
        each of STANCE_WEEKS, (units, 1 + len(STANCE_WEEKS), households); only the households
        that live there are heard, and only within the unit's span
    filed_week — the week the household filed an objection (-1: none)
    settled_week — the week that objection was settled (-1: not settled within the run)
    """

    levels: NDArray[np.int8]
    filed_week: NDArray[np.int32]
    settled_week: NDArray[np.int32]


def simulate_observations(
    batch: UnitBatch,
    span: NDArray[np.int32],
    scenario: Scenario,
    seed: int,
    group: NDArray[np.int8] | None = None,
) -> Observations:
    """The batch's units simulated under `scenario`, each censored at its own span; with
    `group`, the informal and formal units run as `informal_only` and `formal_only`, each
    group in a model of its own (the first with `seed`, the others seeded apart)."""
    return _simulate(batch, span, scenario, seed, group, keep=False)[0]


def simulate_histories(
    batch: UnitBatch,
    span: NDArray[np.int32],
    scenario: Scenario,
    seed: int,
    group: NDArray[np.int8] | None = None,
) -> tuple[Observations, Histories]:
    """`simulate_observations` (the same draws, the same outcomes) with each household's record:
    what a street's demo writes into the store as its history (`colift.demo_street`)."""
    obs, parts = _simulate(batch, span, scenario, seed, group, keep=True)
    return obs, Histories(
        parts["levels"].astype(np.int8),
        parts["filed_week"].astype(np.int32),
        parts["settled_week"].astype(np.int32),
    )


def _simulate(
    batch: UnitBatch,
    span: NDArray[np.int32],
    scenario: Scenario,
    seed: int,
    group: NDArray[np.int8] | None,
    *,
    keep: bool,
) -> tuple[Observations, dict[str, NDArray[np.generic]]]:
    span = span.astype(np.int32)
    codes = np.zeros(batch.n_units, np.int8) if group is None else group.astype(np.int8)
    parts: dict[str, NDArray[np.generic]] = {}
    for g, strategy in enumerate(GROUP_STRATEGIES):
        where = codes == g
        if not where.any():
            continue
        sc = scenario if strategy is None else scenario.replace(strategy=strategy)
        sd = seed if g == 0 else int(np.random.SeedSequence([seed, g]).generate_state(1)[0])
        idx = np.flatnonzero(where)
        part = batch.select(idx) if idx.size < batch.n_units else batch
        got = _run(part, span[idx], sc, sd, keep)
        for key, value in got.items():
            if key not in parts:
                shape = (batch.n_units, *value.shape[1:-1], batch.width)
                if value.ndim == 1 or key == "stance":
                    shape = (batch.n_units, *value.shape[1:])
                parts[key] = np.full(shape, -1, value.dtype)
            if value.ndim == 1 or key == "stance":
                parts[key][idx] = value
            else:
                parts[key][idx, ..., : value.shape[-1]] = value
    obs = Observations(
        span,
        parts["consent"].astype(np.int32),
        parts["service"].astype(np.int32),
        None if group is None else codes,
        parts["objections"].astype(np.int32),
        parts["technical"].astype(np.int8),
        parts["stance"].astype(np.float64),
    )
    return obs, parts
