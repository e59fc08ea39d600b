"""A catalogue tool as the model applies it: effect rows (`_effect_row`), levels and the
settling of a week's effects, and small array helpers used by the build and the step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.catalogue import Reach, Tool
from colift.model.coproduction import Obstacle
from colift.sim.codes import (
    _BOOST_OF,
    _REACH_OF,
    _TINY,
    B_ABS,
    B_MSG,
    E_ABSENTEE,
    E_ANY,
    E_APPROVAL,
    E_BOOST,
    E_COMP,
    E_COOP,
    E_FIRST,
    E_L1,
    E_L2,
    E_LEVEL4,
    E_OBJECTION,
    E_POOL,
    E_PRESSURE,
    E_STUBBORN,
    E_TECHNICAL,
    N_EFFECTS,
    N_REACH,
    R_LIVES,
    R_LOW,
)
from colift.sim.params import Defaults
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    NOTICE,
)


@dataclass
class _ToolUse:
    """One catalogue tool as the model applies it, with what the strategy's roles make of it."""

    tool: Tool
    col: int  # column in the per-tool arrays
    formal: NDArray[np.bool_]  # (U,) a formal role of the unit holds it
    other_informal: NDArray[np.bool_]  # (U,) an informal role other than the action leader
    action: NDArray[np.bool_]  # (U,) the action leader holds it
    target: str  # unit, owners, low_floor, objectors, stubborn, persuade, none
    message: bool  # a whole-unit message: two-step flow
    technical: bool
    pooling: bool


def _rows_any(a: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Any along axis 1, as a plain ufunc reduction (no Python-level wrapper)."""
    result: NDArray[np.bool_] = np.logical_or.reduce(a, axis=1)
    return result


def _nz(a: NDArray[Any]) -> NDArray[np.intp]:
    """Flat positions of the true (non-zero) items, without numpy's Python-level wrappers."""
    result: NDArray[np.intp] = a.reshape(-1).nonzero()[0]
    return result


def _target_kind(tool: Tool) -> str:
    e = tool.effects
    if tool.reaches is Reach.UNIT:
        return "unit"
    if tool.reaches is Reach.OWNERS:
        return "owners"
    if e.loss_delta > 0 or e.compensation_fen > 0:
        return "low_floor"
    if tool.addresses and tool.addresses[0] is Obstacle.OBJECTION:
        return "objectors"
    if e.stubborn_supporters > 0:
        return "stubborn"
    if e.support_delta + e.trust_delta > 0:
        return "persuade"
    return "none"


def _keep_log(p: float) -> float:
    """log of the chance that something survives one use acting with probability p."""
    return math.log(max(1.0 - min(1.0, max(p, 0.0)), _TINY))


def _effect_row(use: _ToolUse, mult: float, credible: int, d: Defaults) -> NDArray[np.float64]:
    """What one use does, as a row of the week's effect matrix (docs/simulation.md §3)."""
    tool = use.tool
    e = tool.effects
    row = np.zeros(N_EFFECTS)
    if e.pressure_delta and d.pressure_cap > 0:
        row[E_PRESSURE] = math.log(max(1.0 - e.pressure_delta * mult / d.pressure_cap, _TINY))
    if e.objection_resolve_p:
        row[E_OBJECTION] = _keep_log(e.objection_resolve_p * mult)
    if use.technical:
        row[E_TECHNICAL] = _keep_log(d.technical_fix_p * mult)
    seeks_absentees = tool.reaches_absentees and e.reach_absentee_p > 0
    if seeks_absentees:
        row[E_ABSENTEE] = _keep_log(e.reach_absentee_p * mult)
    row[E_APPROVAL] = e.approval_weeks_delta
    row[E_STUBBORN] = e.stubborn_supporters
    row[E_POOL] = float(use.pooling)
    row[E_COMP] = e.compensation_fen
    row[E_LEVEL4] = float(tool.evidences >= 4)
    row[E_FIRST] = float(bool(e.loss_delta or e.subsidy_delta))
    group = _REACH_OF.get(use.target)
    dv = e.support_delta + e.trust_delta
    if dv > 0 and d.persuasion_cap > 0:
        factor = math.log(max(1.0 - dv / d.persuasion_cap, _TINY))
        if group is not None:
            row[E_BOOST + 2 * (B_MSG if use.message else _BOOST_OF[group]) + credible] = factor
        if seeks_absentees:
            row[E_BOOST + 2 * B_ABS + credible] = factor
    if group is not None:
        row[E_ANY + group] = 1.0
        row[E_L1 + group] = float(tool.evidences == 1)
        row[E_L2 + group] = float(tool.evidences >= 2)
    return row


def _levels(feats: NDArray[np.float32]) -> NDArray[np.float32]:
    """Turn the per-group counts of level-1 and level-2 uses into the level reached (0, 1, 2)
    in the E_L1 rows, so that a week's cooperation evidence is one product per group."""
    l1 = feats[:, E_L1 : E_L1 + N_REACH]
    l2 = feats[:, E_L2 : E_L2 + N_REACH]
    feats[:, E_L1 : E_L1 + N_REACH] = np.where(l2 > 0, 2, (l1 > 0) * 1)
    feats[:, E_L2 : E_L2 + N_REACH] = 0
    return feats


def _settle(
    feats: NDArray[np.float32],
    phase: NDArray[np.integer],
    lives_any: NDArray[np.bool_],
    low_any: NDArray[np.bool_],
) -> NDArray[np.float32]:
    """Fold what the units' phase and fixed make-up decide into the effect rows: approval is
    sped up only up to approval, and E_COOP is the cooperation level the week's uses give
    through residents and low floors (a unit with none of either is not touched that way) and
    co-funding or co-management after consent."""
    feats[:, E_APPROVAL] *= phase <= APPROVAL
    level = np.maximum(feats[:, E_L1 + R_LIVES] * lives_any, feats[:, E_L1 + R_LOW] * low_any)
    four = (feats[:, E_LEVEL4] > 0) & (phase >= NOTICE) & (phase <= ACCEPTANCE)
    feats[:, E_COOP] = np.maximum(level, four * np.float32(4))
    return feats


def _row_bits(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Each row's flags as the bits of one int64 (flag j is bit j); at most 63 flags."""
    if flags.shape[1] > 63:
        raise ValueError("at most 63 flags fit in one int64")
    packed = np.packbits(flags, axis=1, bitorder="little")
    padded = np.zeros((flags.shape[0], 8), np.uint8)
    padded[:, : packed.shape[1]] = packed
    bits: NDArray[np.int64] = padded.view("<i8").ravel().astype(np.int64)
    return bits


def _lcm(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out = out * v // math.gcd(out, v)
    return out
