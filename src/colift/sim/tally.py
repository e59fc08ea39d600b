"""The consent tally over many units at once, exactly as `rules.consent` counts and decides.

Votes are int8 codes (`VOTE_CODES`). Areas are integer cm² and every threshold is compared by
integer cross-multiplication (num × q ≥ p × den, or > for exclusive words), as
`consent.meets` does; heads follow SPC arts. 8-9 through the batch's owner groups: each group is
counted once, at its lead flat, whose vote is the owner's vote. A test checks this tally against
`consent.count_votes` + `consent.decide` on thousands of random units for every packaged rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from colift.model import Vote
from colift.rules.consent import Basis, ConsentProfile, load_profile

if TYPE_CHECKING:
    from colift.sim.batch import UnitBatch

VOTE_CODES: dict[Vote, int] = {Vote.AGREE: 0, Vote.DISAGREE: 1, Vote.ABSTAIN: 2, Vote.ABSENT: 3}
CODE_VOTES: dict[int, Vote] = {v: k for k, v in VOTE_CODES.items()}
AGREE, DISAGREE, ABSTAIN, ABSENT = 0, 1, 2, 3


@dataclass(frozen=True)
class RuleTable:
    """One row per profile: the fractions of its steps as integers, ready to gather per unit."""

    has_quorum: NDArray[np.bool_]
    q_area: NDArray[np.int64]  # (P, 2): numerator, denominator; (0, 1) when absent
    q_heads: NDArray[np.int64]
    q_has_area: NDArray[np.bool_]
    q_has_heads: NDArray[np.bool_]
    q_inclusive: NDArray[np.bool_]
    a_total: NDArray[np.bool_]  # approval counted of the total (else of those taking part)
    a_area: NDArray[np.int64]
    a_heads: NDArray[np.int64]
    a_has_area: NDArray[np.bool_]
    a_has_heads: NDArray[np.bool_]
    a_inclusive: NDArray[np.bool_]
    no_objection: NDArray[np.bool_]
    occupied_agree: NDArray[np.bool_]
    notice_days: NDArray[np.int64]


def _frac(value: object) -> tuple[int, int]:
    if value is None:
        return (0, 1)
    from fractions import Fraction

    assert isinstance(value, Fraction)
    return (value.numerator, value.denominator)


@cache
def rule_table(profiles: tuple[str, ...]) -> RuleTable:
    """The integer form of each named consent profile."""
    loaded: list[ConsentProfile] = [load_profile(p) for p in profiles]
    q = [p.quorum for p in loaded]
    a = [p.approval for p in loaded]
    return RuleTable(
        has_quorum=np.array([s is not None for s in q]),
        q_area=np.array([_frac(s.area if s else None) for s in q], dtype=np.int64).reshape(-1, 2),
        q_heads=np.array([_frac(s.heads if s else None) for s in q], dtype=np.int64).reshape(-1, 2),
        q_has_area=np.array([s is not None and s.area is not None for s in q]),
        q_has_heads=np.array([s is not None and s.heads is not None for s in q]),
        q_inclusive=np.array([s is not None and s.inclusive for s in q]),
        a_total=np.array([s.of is Basis.TOTAL for s in a]),
        a_area=np.array([_frac(s.area) for s in a], dtype=np.int64).reshape(-1, 2),
        a_heads=np.array([_frac(s.heads) for s in a], dtype=np.int64).reshape(-1, 2),
        a_has_area=np.array([s.area is not None for s in a]),
        a_has_heads=np.array([s.heads is not None for s in a]),
        a_inclusive=np.array([s.inclusive for s in a]),
        no_objection=np.array([p.no_unresolved_objection for p in loaded]),
        occupied_agree=np.array([p.occupied_owners_must_agree for p in loaded]),
        notice_days=np.array([p.notice_days for p in loaded], dtype=np.int64),
    )


def tally_counts(
    batch: UnitBatch, votes: NDArray[np.int8], *, rows: NDArray[np.intp] | None = None
) -> dict[str, NDArray[np.int64]]:
    """Areas (cm²) and heads per unit: total, taking part and agreeing, as `count_votes` counts.

    `votes` must give every flat of one owner the same code (the model does; `count_votes`
    refuses anything else). Also `occupied_not_agreeing`: occupied flats whose vote is not agree.
    With `rows`, `votes` holds those units only and the counts are theirs.
    """
    mask = batch.mask if rows is None else batch.mask[rows]
    area_cm2 = batch.area_cm2 if rows is None else batch.area_cm2[rows]
    occupied = batch.occupied if rows is None else batch.occupied[rows]
    is_lead = batch.is_lead if rows is None else batch.is_lead[rows]
    area = np.where(mask, area_cm2, 0)
    part = (votes != ABSENT) & mask
    agree = (votes == AGREE) & mask
    lead = is_lead & mask
    return {
        "total_area_cm2": area.sum(axis=1),
        "participating_area_cm2": np.where(part, area, 0).sum(axis=1),
        "agree_area_cm2": np.where(agree, area, 0).sum(axis=1),
        "total_heads": lead.sum(axis=1, dtype=np.int64),
        "participating_heads": (lead & part).sum(axis=1, dtype=np.int64),
        "agree_heads": (lead & agree).sum(axis=1, dtype=np.int64),
        "occupied_not_agreeing": (occupied & mask & ~agree).sum(axis=1, dtype=np.int64),
    }


def _meets(
    num: NDArray[np.int64],
    den: NDArray[np.int64],
    frac: NDArray[np.int64],
    inclusive: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """num/den ≥ p/q (or >) by integer cross-multiplication; 0 of 0 never meets a ratio."""
    lhs = num * frac[:, 1]
    rhs = frac[:, 0] * den
    ok = np.where(inclusive, lhs >= rhs, lhs > rhs)
    return ok & (den > 0)


def passes(
    profiles: tuple[str, ...],
    profile_index: NDArray[np.integer],
    counts: dict[str, NDArray[np.int64]],
    objections: NDArray[np.integer] | None = None,
) -> NDArray[np.bool_]:
    """Whether counts (as `tally_counts` gives them) pass each unit's consent profile."""
    t = rule_table(profiles)
    pi = np.asarray(profile_index)
    if len(profiles) == 1 or (pi.size and (pi == pi[0]).all()):
        return _passes_profile(t, int(pi[0]) if pi.size else 0, counts, objections)
    present = np.unique(pi)
    ok = np.zeros(pi.shape[0], dtype=bool)
    for p in present.tolist():
        sel = pi == p
        part = {k: v[sel] for k, v in counts.items()}
        ok[sel] = _passes_profile(t, p, part, None if objections is None else objections[sel])
    return ok


def _passes_profile(
    t: RuleTable,
    p: int,
    c: dict[str, NDArray[np.int64]],
    objections: NDArray[np.integer] | None,
) -> NDArray[np.bool_]:
    """`passes` for units that all follow profile `p`: its fractions are plain numbers."""
    if t.a_total[p]:
        den_area, den_heads = c["total_area_cm2"], c["total_heads"]
    else:
        den_area, den_heads = c["participating_area_cm2"], c["participating_heads"]
    # every threshold of the profile as one row: num/den ≥ p/q ⇔ num·q ≥ p·den (or >)
    checks = [
        (t.q_has_area[p], c["participating_area_cm2"], c["total_area_cm2"], t.q_area[p], 0),
        (t.q_has_heads[p], c["participating_heads"], c["total_heads"], t.q_heads[p], 0),
        (t.a_has_area[p], c["agree_area_cm2"], den_area, t.a_area[p], 1),
        (t.a_has_heads[p], c["agree_heads"], den_heads, t.a_heads[p], 1),
    ]
    used = [row for row in checks if row[0]]
    ok = np.ones(c["total_area_cm2"].shape[0], dtype=bool)
    if used:
        num = np.stack([row[1] for row in used])
        den = np.stack([row[2] for row in used])
        q = np.array([[int(row[3][1])] for row in used], dtype=np.int64)
        pp = np.array([[int(row[3][0])] for row in used], dtype=np.int64)
        incl = np.array(
            [[bool(t.q_inclusive[p] if row[4] == 0 else t.a_inclusive[p])] for row in used]
        )
        lhs = num * q
        rhs = pp * den
        met = np.where(incl, lhs >= rhs, lhs > rhs) & (den > 0)
        ok = np.asarray(met.all(axis=0), dtype=bool)
    if objections is not None and t.no_objection[p]:
        ok &= objections <= 0
    if t.occupied_agree[p]:
        ok &= c["occupied_not_agreeing"] <= 0
    return ok


def tally(
    batch: UnitBatch,
    votes: NDArray[np.int8],
    objections: NDArray[np.integer] | None = None,
    *,
    rows: NDArray[np.intp] | None = None,
) -> NDArray[np.bool_]:
    """Whether each unit's vote passes its consent profile; `objections` counts open ones.

    With `rows`, `votes` and `objections` hold those units only and the answer is theirs.
    """
    c = tally_counts(batch, votes, rows=rows)
    pi = batch.profile_index if rows is None else batch.profile_index[rows]
    return passes(batch.profiles, pi, c, objections)
