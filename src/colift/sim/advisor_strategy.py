"""The `advisor` strategy's choice of tools: the same rules as `colift advise`, read each week.

Each simulated week `UnitModel` scores every working unit's obstacles from its simulated state
(objections, technical block, low floors not agreeing, unreached absentees, shares above ability,
households never reached, consent short, approval, construction) and uses, for the largest, the
first tool here that its roles hold and whose cool-down has passed. This module says which tools
and in which order, for one obstacle at one stage:

0. for the procedural obstacle (coordination, during construction and acceptance) the reason
   table's [[step]] rows of the stage and of the next one, as `advise` lists the stage's steps;
1. the reason table's rows (coproduction/reasons.toml), as the advisor answers a household's
   opposition: the simulated low-floor loss is about light and noise, so interest and objections
   read the reason "light"; a share above ability reads "cost";
2. then the catalogue's tools ranked by their effects on the obstacle (`tool_ranking`), as the
   advisor answers every other finding.

Simulated households carry no recorded reasons or objection texts, so the rows keyed on an
unknown reason, a hearing or a court case never fire here; docs/simulation.md says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.advisor import tool_ranking
from colift.coproduction.catalogue import Catalogue, Tool
from colift.coproduction.reasons import ReasonTable, load_reason_table
from colift.model import Role
from colift.model.coproduction import Obstacle, Stage

# The reasons the simulated state stands for, per obstacle (see the module docstring).
SIMULATED_REASONS: Mapping[Obstacle, tuple[str, ...]] = {
    Obstacle.INTEREST: ("light",),
    Obstacle.OBJECTION: ("light",),
    Obstacle.COST: ("cost",),
}


_NEXT_STAGE: Mapping[Stage, Stage] = {
    Stage.CONSTRUCTION: Stage.ACCEPTANCE,
    Stage.ACCEPTANCE: Stage.OPERATION,
}


def advisor_tools(
    obstacle: Obstacle,
    stage: Stage,
    catalogue: Catalogue,
    roles: Collection[Role],
    *,
    limit: int,
    table: ReasonTable | None = None,
) -> list[Tool]:
    """Up to `limit` tools for `obstacle` at `stage` that `roles` can use, best first."""
    table = table or load_reason_table()
    ordered: list[Tool] = []
    if obstacle is Obstacle.COORDINATION:
        # the procedural obstacle: the stage's own steps first (joint acceptance), then the next
        # stage's that may start now (the use manager and running costs before operation)
        for step_stage in (stage, _NEXT_STAGE.get(stage)):
            step = table.steps.get(step_stage) if step_stage is not None else None
            for tool_id in step.tools if step is not None else ():
                tool = catalogue.tools.get(tool_id)
                if tool is not None and tool.fits(stage) and tool not in ordered:
                    ordered.append(tool)
    reasons = SIMULATED_REASONS.get(obstacle)
    if reasons:
        for rule in table.rules_for(obstacle, reasons, None, stage):
            for tool_id in rule.tools:
                tool = catalogue.tools.get(tool_id)
                if tool is not None and tool.fits(stage) and tool not in ordered:
                    ordered.append(tool)
    material = obstacle is Obstacle.OBJECTION
    for tool, _ in tool_ranking(obstacle, stage, catalogue, material=material):
        if tool not in ordered:
            ordered.append(tool)
    usable = [t for t in ordered if set(t.roles) & set(roles)]
    return usable[: max(0, limit)]


# ---------------------------------------------------------------- one simulated week

# How many obstacles a unit's leaders take on in one week, each with its first usable tool:
# `advise` gives every obstacle its best tool before any gets a second; a week has room for a
# few of them (assumption: three, about what the guided plan uses in a busy week).
ADVISOR_PER_WEEK = 3


class _Model(Protocol):
    """What `advise_week` reads of `UnitModel` (kept narrow so the model may move around)."""

    phase: NDArray[np.int8]
    wip: NDArray[np.int32]
    neg_weeks: NDArray[np.int32]
    week: int
    last_use: NDArray[np.int32]
    action_here: NDArray[np.bool_]
    d: Any
    _advisor: dict[tuple[int, int], list[Any]]
    _uses: Any

    def _severities(self, idx: NDArray[np.intp]) -> NDArray[np.float64]: ...


def advise_week(
    model: _Model, working: NDArray[np.bool_], negotiation: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """This week's advisor uses, as (unit, tool column) pairs, replanned from the state now.

    For each working unit, its obstacles by severity (largest first, up to ADVISOR_PER_WEEK
    with a positive severity) each get the first tool of `advisor_tools` whose role the unit
    has and whose cool-down has passed; no tool twice in one week.
    """
    idx = np.flatnonzero(working)
    if idx.size == 0:
        return idx, idx
    sev = model._severities(idx)
    phase = model.phase[idx]
    stage_i = np.where(
        phase == negotiation, np.where(model.wip[idx] < model.neg_weeks[idx], 0, 1), phase + 1
    )
    cooldown = model.d.advisor_cooldown_weeks
    order = np.argsort(-sev, axis=1, kind="stable")
    taken = np.zeros((idx.size, len(model._uses)), bool)
    units: list[NDArray[np.intp]] = []
    cols: list[NDArray[np.intp]] = []
    every = np.arange(idx.size)
    for rank in range(min(ADVISOR_PER_WEEK, sev.shape[1])):
        ob = order[:, rank]
        has = sev[every, ob] > 0
        if not has.any():
            break
        chosen = np.full(idx.size, -1, np.intp)
        for key in set(zip(ob[has].tolist(), stage_i[has].tolist(), strict=True)):
            rows = np.flatnonzero(has & (ob == key[0]) & (stage_i == key[1]))
            for use in model._advisor.get(key, []):
                u = idx[rows]
                ok = chosen[rows] < 0
                ok &= model.week - model.last_use[u, use.col] >= cooldown
                ok &= use.formal[u] | use.other_informal[u] | (use.action[u] & model.action_here[u])
                ok &= ~taken[rows, use.col]
                chosen[rows[ok]] = use.col
        sel = np.flatnonzero(chosen >= 0)
        taken[sel, chosen[sel]] = True
        units.append(idx[sel])
        cols.append(chosen[sel])
    if not units:
        return idx[:0], idx[:0]
    return np.concatenate(units), np.concatenate(cols)
