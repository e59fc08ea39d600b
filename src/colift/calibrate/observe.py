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
  stance — the mean change of the households' stance scores from the start of the project to
             week 4 and week 12 (STANCE_WEEKS), after the activities that reached them; NaN
             when the unit was not watched that long

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


def _run(
    batch: UnitBatch, span: NDArray[np.int32], scenario: Scenario, seed: int
) -> dict[str, NDArray[np.generic]]:
    """One model over the batch, watched as a record would watch it."""
    weeks = int(span.max()) if span.size else 0
    model = UnitModel(batch, scenario.replace(weeks=weeks), seed)
    lives = batch.lives_here
    n_lives = np.maximum(lives.sum(axis=1), 1)
    start = model.support.astype(np.float64)
    stance = np.full((batch.n_units, len(STANCE_WEEKS)), np.nan)
    for _ in range(weeks):
        model.step()
        if model.week in STANCE_WEEKS:
            k = STANCE_WEEKS.index(model.week)
            change = ((model.support - start) * lives).sum(axis=1) / n_lives
            stance[:, k] = np.where(span >= model.week, change, np.nan)
    result = model.result()
    consent = censor(result.week_consent, span)
    return {
        "consent": consent,
        "service": censor(result.week_service, span),
        "objections": np.where(consent >= 0, model.objections_filed, -1).astype(np.int32),
        "technical": model.technical0.astype(np.int8),
        "stance": stance,
    }


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
        got = _run(batch.select(idx) if idx.size < batch.n_units else batch, span[idx], sc, sd)
        for key, value in got.items():
            if key not in parts:
                parts[key] = np.empty((batch.n_units, *value.shape[1:]), value.dtype)
            parts[key][idx] = value
    return Observations(
        span,
        parts["consent"].astype(np.int32),
        parts["service"].astype(np.int32),
        None if group is None else codes,
        parts["objections"].astype(np.int32),
        parts["technical"].astype(np.int8),
        parts["stance"].astype(np.float64),
    )
