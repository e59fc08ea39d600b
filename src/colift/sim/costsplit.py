"""The cost split of `rules.costshare` over many units at once, in integer array arithmetic.

`rules.costshare.share_costs` splits one unit's payable sum (total − subsidy + compensation)
among its flats by the largest-remainder method: each flat gets ⌊payable × w / Σw⌋ fen, and the
fen left over go one each to the largest remainders, ties to the higher floor, then the smaller
room id. It works in exact fractions, one unit at a time, which is right for one unit and slow
for a city. `split_fen` does the same for a (U, H) batch with NumPy integers:

- weights are made whole numbers: a floor coefficient c = C / D (D the common denominator of
  the scheme's coefficients) times the area in cm² (an m² area is cm² / 10,000 exactly), so
  w = C × cm² is the rule's weight times a constant that cancels out of w / Σw;
- ⌊payable × w / Σw⌋ and the remainder payable × w mod Σw are integer operations, and the
  remainders of one unit share the denominator Σw, so "largest remainder" compares integers;
- the leftover fen are handed out by one `lexsort` over (unit, −remainder, tie rank).

`funding` does for many households what `rules.costshare` does for each household's funding
levers: where its net share comes from (named sources, own cash now, instalments later).

When payable × w could pass 2⁶³ the products are taken as Python integers (object arrays),
still exact, only slower. A test draws random units, schemes, subsidies and compensation and
checks every share, to the fen, against `rules.costshare`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.errors import BadInput
from colift.rules.costshare import CostScheme, ShareInput

_INT64_SAFE = 2**62


@dataclass(frozen=True)
class Split:
    """A batch's split: per flat its share (gross), the compensation it receives, the net."""

    share_fen: NDArray[np.int64]  # (U, H): what the flat pays towards payable
    compensation_fen: NDArray[np.int64]  # (U, H): what it receives (raised from the payers)
    payable_fen: NDArray[np.int64]  # (U,): total − subsidy + compensation

    @property
    def net_fen(self) -> NDArray[np.int64]:
        """Share less compensation received: what the flat itself is out of pocket."""
        out: NDArray[np.int64] = self.share_fen - self.compensation_fen
        return out


def integer_weights(
    scheme: CostScheme,
    floor: NDArray[np.integer[Any]],
    area_cm2: NDArray[np.integer[Any]],
    mask: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Each flat's weight under `scheme` as a whole number proportional to the rule's weight.

    Floors are looked up through the scheme's own `weight` (so exemptions, defaults and a
    missing coefficient behave as in the rule); the fractions are brought to one denominator.
    """
    top = int(floor[mask].max()) if mask.any() else 1
    per_floor = [Fraction(0)] + [
        scheme.weight(ShareInput(f"floor {f}", f, Decimal(1)), "scheme") for f in range(1, top + 1)
    ]
    denominator = math.lcm(*(w.denominator for w in per_floor))
    numerators = [int(w * denominator) for w in per_floor]
    common = math.gcd(*numerators) or 1
    numerators = [n // common for n in numerators]
    largest_area = int(np.max(area_cm2, initial=1)) if scheme.uses_area else 1
    if max(numerators) * largest_area * max(floor.shape[1], 1) >= _INT64_SAFE:
        raise BadInput("cost split: the scheme's coefficients are too fine to split in arrays")
    whole = np.array(numerators, dtype=np.int64)
    safe_floor = np.where(mask, floor, 0).astype(np.intp)
    weight = whole[safe_floor]
    if scheme.uses_area:
        weight = weight * np.asarray(area_cm2, np.int64)
    result: NDArray[np.int64] = np.where(mask, weight, 0).astype(np.int64)
    return result


def tie_rank(
    floor: NDArray[np.integer[Any]], mask: NDArray[np.bool_], rooms: NDArray[Any] | None = None
) -> NDArray[np.int64]:
    """Each flat's place in the rule's tie order within its unit: higher floor first, then the
    smaller room id (`rooms`, strings); without rooms, the column order stands for the id."""
    u_n, h_n = floor.shape
    unit = np.repeat(np.arange(u_n), h_n)
    neg_floor = np.where(mask, -np.asarray(floor, np.int64), np.iinfo(np.int64).max).ravel()
    if rooms is None:
        order = np.lexsort((np.tile(np.arange(h_n), u_n), neg_floor, unit))
    else:
        order = np.lexsort((np.asarray(rooms).ravel(), neg_floor, unit))
    rank = np.empty(u_n * h_n, np.int64)
    rank[order] = np.tile(np.arange(h_n), u_n)
    return rank.reshape(u_n, h_n)


def split_fen(
    payable_fen: NDArray[np.integer[Any]],
    weight: NDArray[np.int64],
    rank: NDArray[np.int64],
    mask: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Split each unit's `payable_fen` over its flats in proportion to `weight`, to the fen.

    The largest-remainder method of `rules.costshare.apportion`: leftover fen go to the largest
    remainders, ties to the smaller `rank` (see `tie_rank`). Shares add up to payable exactly.
    """
    payable = np.asarray(payable_fen, np.int64)
    if np.any(payable < 0) or np.any(weight < 0):
        raise BadInput("cost split: amounts and weights must not be negative")
    weight = np.where(mask, weight, 0)
    total_w = weight.sum(axis=1)
    if np.any((total_w == 0) & (payable > 0)):
        raise BadInput("every household weighs 0 under the scheme in some unit: nobody can pay")
    safe_total = np.maximum(total_w, 1)[:, None]
    big = int(payable.max(initial=0)) * int(weight.max(initial=0)) >= _INT64_SAFE
    u_n, h_n = weight.shape
    if big:  # exact in Python integers; remainders are ranked by Python's sort
        product = payable.astype(object)[:, None] * weight.astype(object)
        base = (product // safe_total.astype(object)).astype(np.int64)
        flat = (product % safe_total.astype(object)).ravel().tolist()
        dense = {v: i for i, v in enumerate(sorted(set(flat)))}  # equal remainders tie
        key_rem = -np.array([dense[v] for v in flat], np.int64)
    else:
        product = payable[:, None] * weight
        base = product // safe_total
        key_rem = -(product % safe_total).ravel()
    left = payable - base.sum(axis=1)
    unit = np.repeat(np.arange(u_n), h_n)
    key_rem = np.where(mask.ravel(), key_rem, np.iinfo(np.int64).max)
    order = np.lexsort((rank.ravel(), key_rem, unit))
    position = np.empty(u_n * h_n, np.int64)
    position[order] = np.tile(np.arange(h_n), u_n)
    extra = position.reshape(u_n, h_n) < left[:, None]
    shares: NDArray[np.int64] = np.where(mask, base + extra, 0).astype(np.int64)
    return shares


def split_units(
    scheme: CostScheme,
    total_fen: NDArray[np.integer[Any]],
    subsidy_fen: NDArray[np.integer[Any]],
    compensation_each_fen: NDArray[np.integer[Any]],
    floor: NDArray[np.integer[Any]],
    area_cm2: NDArray[np.integer[Any]],
    mask: NDArray[np.bool_],
    rooms: NDArray[Any] | None = None,
    *,
    compensated_floors: tuple[int, ...] = (1,),
) -> Split:
    """Each unit's cost split as `rules.costshare.share_costs` makes it, for a whole batch.

    Per unit: `total_fen` less `subsidy_fen`, plus `compensation_each_fen` for every flat on
    `compensated_floors` (the scenario's low-floor compensation), shared by `scheme`.
    """
    total = np.asarray(total_fen, np.int64)
    subsidy = np.asarray(subsidy_fen, np.int64)
    if np.any(subsidy > total):
        raise BadInput("cost split: a subsidy is more than the total cost")
    receives = np.isin(floor, compensated_floors) & mask
    comp = np.where(receives, np.asarray(compensation_each_fen, np.int64)[:, None], 0)
    payable = total - subsidy + comp.sum(axis=1)
    weight = integer_weights(scheme, floor, area_cm2, mask)
    shares = split_fen(payable, weight, tie_rank(floor, mask, rooms), mask)
    return Split(shares, comp.astype(np.int64), payable)


@dataclass(frozen=True)
class Funding:
    """Where each household's net share comes from, as `rules.costshare` accounts for it."""

    pays_now_fen: NDArray[np.int64]  # own cash while the works are paid
    pays_later_fen: NDArray[np.int64]  # own cash in instalments after completion
    instalment_fen: NDArray[np.int64]  # each instalment (0 without a plan) …
    larger_instalments: NDArray[np.int64]  # … the first this many are one fen more


def funding(
    net_fen: NDArray[np.int64],
    sources_fen: NDArray[np.int64],
    instalments: NDArray[np.int64],
    now_fen: NDArray[np.int64],
    uses_levers: NDArray[np.bool_],
) -> Funding:
    """The funding of many households at once, as `rules.costshare._funding` gives it.

    Per household: `sources_fen` paid from named sources (provident fund, maintenance fund,
    covered, hardship relief), an instalment plan of `instalments` payments (0: none) with
    `now_fen` paid now. Own cash is net − sources; with a plan, `now_fen` of it now and the rest
    in equal instalments, the spare fen to the earliest. Refused as the rule refuses: levers on
    a household that pays nothing, sources above the share, or more paid now than is left.
    """
    net = np.asarray(net_fen, np.int64)
    cash = net - sources_fen
    plan = instalments > 0
    if np.any(uses_levers & (net <= 0)):
        raise BadInput("funding: a household that pays nothing cannot use a funding source")
    if np.any(uses_levers & (cash < 0)):
        raise BadInput("funding: a household's sources add up to more than its share")
    if np.any(uses_levers & plan & (now_fen > cash)):
        raise BadInput("funding: a household pays more now than it has left to pay itself")
    later = np.where(uses_levers & plan, cash - now_fen, 0)
    count = np.maximum(instalments, 1)
    return Funding(
        pays_now_fen=np.where(plan, now_fen, cash).astype(np.int64),
        pays_later_fen=later.astype(np.int64),
        instalment_fen=np.where(plan, later // count, 0).astype(np.int64),
        larger_instalments=np.where(plan, later % count, 0).astype(np.int64),
    )
