"""The week: interventions, influence, decisions, objections, the tally, phases and failures.

Functions of a `UnitModel` (`self`), bound as its methods; split from the class so that the
building and the stepping of the model read apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.advisor import stage_weight
from colift.coproduction.heterogeneity import SEVERITY_SCALE
from colift.model.coproduction import LOW_FLOOR_MAX, Obstacle, Stage
from colift.sim.advisor_strategy import advise_week
from colift.sim.codes import (
    _BIG,
    _OBJECTION_STAGE_SEVERITY,
    _PACK8,
    _SHIFT56,
    _STEPS,
    ADVISOR_OBSTACLES,
    APPROVAL_SEVERITY,
    B_ABS,
    B_LIVES,
    B_LOW,
    B_MSG,
    B_OBJ,
    B_PERS,
    COORDINATION_SEVERITY,
    E_ABSENTEE,
    E_ANY,
    E_APPROVAL,
    E_BOOST,
    E_COMP,
    E_COOP,
    E_FIRST,
    E_L1,
    E_L2,
    E_OBJECTION,
    E_POOL,
    E_PRESSURE,
    E_STUBBORN,
    E_TECHNICAL,
    F_DEADLINE,
    F_EXIT,
    F_FUNDING,
    F_OBJECTION,
    F_TECHNICAL,
    N_BOOST,
    N_EFFECTS,
    N_REACH,
    NO_CONSENT,
    R_LIVES,
    R_LOW,
    R_OBJ,
    R_PERS,
)
from colift.sim.effects import _levels, _nz, _rows_any, _settle
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    CONSTRUCTION,
    FAILED,
    NEGOTIATION,
    NOTICE,
    SERVICE,
)
from colift.sim.tally import ABSENT, AGREE, passes

if TYPE_CHECKING:
    from colift.sim.model import UnitModel


def _conditions(
    self: UnitModel, open_any: NDArray[np.bool_], pos: NDArray[np.intp]
) -> NDArray[np.int64]:
    """The plan's conditions per unit this week, one bit each (at most 8); `pos` is each
    unit's (phase, week in phase) row. A condition no due item reads is left false."""
    rows = self._cond_buf
    for j, code in enumerate(self._when_codes):
        if code in (3, 5) and not self._cond_rows[j].take(pos).any():
            rows[:, j] = False
        elif code == 1:
            rows[:, j] = open_any
        elif code == 2:
            rows[:, j] = self.technical
        elif code == 3:  # a low-floor resident who does not agree
            np.logical_or.reduce(self._low_lives & (self._votes != AGREE), axis=0, out=rows[:, j])
        elif code == 4:
            rows[:, j] = self._cost_cond
        else:
            if self._absentees_dirty:
                self._absentees_left = _rows_any((self._nonres & ~self._reached).T)
                self._absentees_dirty = False
            rows[:, j] = self._absentees_left
    # a unit's 8 condition bytes (0 or 1) as one little-endian word; the product moves
    # byte j's bit to bit 56 + j, with no carries, so the top byte holds the bits packed
    word = self._cond_word
    np.multiply(rows.view("<u8")[:, 0], _PACK8, out=word)
    np.right_shift(word, _SHIFT56, out=word)
    packed: NDArray[np.int64] = word.view(np.int64)
    return packed


def _interventions(self: UnitModel, working: NDArray[np.bool_]) -> None:
    """The week's tool uses, all read from the state at the start of the week."""
    if not working.any():
        return
    open_any = _rows_any(self._open.T) if self._any_open else self._no_open
    feats: NDArray[np.float32] | None = None
    first: NDArray[np.float32] | None = None
    bits = -1  # which effect rows are not zero somewhere; -1: not known
    if self._k:
        wip = self.wip
        top = int(wip.max())
        if top < self._rows:
            wi = wip
        elif top < self._wi_of.size:  # the plan repeats with its period once every first
            wi = self._wi_of.take(wip)  # use has passed: the week's row, looked up
        else:
            wi = np.minimum(wip, self._s0 + (wip - self._s0) % self._period)
        # row of (phase, week in phase); a unit that does not work reads phase 7 (no use)
        ph = self.phase if self._always_led else np.where(working, self.phase, 7)
        pos = self._phase_pos.take(ph)
        pos += wi
        code = pos * self._n_c
        if self._when_codes:
            code += self._conditions(open_any, pos)
        if self._k_table:
            if self._k_has_action:
                code += self.action_here * (8 * self._rows * self._n_c)
            code += self._static_code
            code = self._row_of.take(code)
            unit_bits = self._feature_bits.take(code)
            bits = int(np.bitwise_or.reduce(unit_bits))
            if bits == 0 and not self._schedule and not self._advisor:
                return
            busy = np.count_nonzero(unit_bits)
            if 3 * busy < code.size and not self._schedule and not self._advisor:
                # few units do anything this week: work on those alone
                idx = _nz(unit_bits)
                code = code[idx]
                first = None
                if self._first_table is not None:
                    first = self._first_table.take(code, axis=0)
                feats = self._feature_table.take(code, axis=0)
                self._apply_week(feats, first, open_any[idx], bits, idx)
                return
            feats = np.take(self._feature_table, code, axis=0, out=self._buf_feats)
            if self._first_table is not None:
                first = self._first_table.take(code, axis=0)
        else:
            due = self._plan_due[code]
            due &= self._k_able | (self._k_action & self.action_here[:, None])
            formal = (due & self._k_formal).astype(np.float32)
            feats = (
                formal @ self._k_e_formal
                + (due & ~self._k_formal).astype(np.float32) @ self._k_e_informal
            )
            first = due.astype(np.float32) @ self._k_first
            _settle(_levels(feats), ph, self._lives_any, self._low_any)
    extra = self._extra_uses(working)
    if extra is not None:
        able = self._t_able | (self._t_action & self.action_here[:, None])
        extra *= able
        formal = extra * self._t_formal
        more = (formal @ self._e_formal + (extra - formal) @ self._e_informal).astype(np.float32)
        if feats is not None:  # levels of the plan's uses back to counts, then add
            feats[:, E_L2 : E_L2 + N_REACH] = feats[:, E_L1 : E_L1 + N_REACH] == 2
            feats[:, E_L1 : E_L1 + N_REACH] = feats[:, E_L1 : E_L1 + N_REACH] == 1
        feats = _levels(more if feats is None else feats + more)
        phase_now = np.where(working, self.phase, 7)
        _settle(feats, phase_now, self._lives_any, self._low_any)
        bits = -1
        if self._first_cols.size:
            f2 = extra[:, self._first_cols].astype(np.float32)
            first = f2 if first is None else first + f2
        if self.last_use.size:
            self.last_use[extra > 0] = self.week
    if feats is not None:
        if bits < 0:
            nz = feats.any(axis=0)
            bits = int((nz * (1 << np.arange(N_EFFECTS, dtype=np.int64))).sum())
        self._apply_week(feats, first, open_any, bits)


def _extra_uses(self: UnitModel, working: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """Uses this week outside the plan, (U, T): the schedule's and the advisor's."""
    cols = self._schedule.get(self.week, ())
    if not cols and not self._advisor:
        return None
    extra = np.zeros((self.batch.n_units, len(self._uses)))
    for c in cols:
        extra[:, c] += working
    if self._advisor:
        idx, chosen = self._advise(working)
        extra[idx, chosen] += 1.0
    return extra


def _apply_week(
    self: UnitModel,
    feats: NDArray[np.float32],
    first: NDArray[np.float32] | None,
    open_any: NDArray[np.bool_],
    bits: int,
    idx: NDArray[np.intp] | None = None,
) -> None:
    """The week's uses through their catalogue effects; `feats` (n, N_EFFECTS) sums them
    for the units `idx` (all units when None).

    Whom a use reaches and which households it targets are read from the state at the start
    of the week; chances combine as independent draws, saturating effects as if applied one
    after the other (the less credible messengers first).
    """
    d = self.d
    rng = self.rng
    full = idx is None
    sel: Any = slice(None) if idx is None else idx
    at: NDArray[np.intp] = self._cols if idx is None else idx
    n = feats.shape[0]
    nz = self._bits_seen.get(bits)
    if nz is None:
        nz = self._bits_seen[bits] = [bool(bits >> j & 1) for j in range(N_EFFECTS)]

    def cols(a: NDArray[Any]) -> NDArray[Any]:
        return a if idx is None else a.take(idx, axis=1)

    any_open = self._any_open
    open_start = cols(self._open) if any_open else self._open[:, :0]
    # ---- whom the week's uses reach
    pers: NDArray[np.bool_] | None = None
    pers_any: NDArray[np.bool_] | None = None
    if nz[E_ANY + R_PERS]:
        pers, pers_any = self._persuade_targets(feats[:, E_ANY + R_PERS] > 0, idx)
    abs_pos: NDArray[np.intp] | None = None
    abs_unit: NDArray[np.intp] | None = None
    if nz[E_ABSENTEE]:
        if full:
            pos, unit = self._nonres_pos, self._nonres_unit
        else:
            pos = _nz(cols(self._nonres))
            unit = pos % n
        chance = np.expm1(feats[:, E_ABSENTEE]).take(unit)
        np.negative(chance, out=chance)
        hit = (rng.random(pos.size, dtype=np.float32) < chance).nonzero()[0]
        abs_pos, abs_unit = pos.take(hit), unit.take(hit)
    msg_pos: NDArray[np.intp] | None = None
    msg_unit: NDArray[np.intp] | None = None
    if nz[E_BOOST + 2 * B_MSG] or nz[E_BOOST + 2 * B_MSG + 1]:
        if full:
            pos, unit = self._opinion_pos, self._opinion_unit
        else:
            pos = _nz(cols(self._opinion))
            unit = pos % n
        heard = (rng.random(pos.size, dtype=np.float32) < np.float32(d.p_media)).nonzero()[0]
        msg_pos, msg_unit = pos.take(heard), unit.take(heard)
    # ---- lasting support: each class of messenger saturates toward its own cap
    boost = cols(self._boost)
    if any(nz[E_BOOST : E_BOOST + 2 * N_BOOST]):
        # per unit and group, the product of the week's (1 − dv/cap) factors
        factor = np.exp(feats[:, E_BOOST : E_BOOST + 2 * N_BOOST])
        # households that this week's messages, searches, visits and hearings reached
        parts = [(B_MSG, msg_pos, msg_unit), (B_ABS, abs_pos, abs_unit)]
        if pers is not None and (nz[E_BOOST + 2 * B_PERS] or nz[E_BOOST + 2 * B_PERS + 1]):
            p_pos = _nz(pers)
            parts.append((B_PERS, p_pos, p_pos % n))
        if any_open and (nz[E_BOOST + 2 * B_OBJ] or nz[E_BOOST + 2 * B_OBJ + 1]):
            o_pos = _nz(open_start)
            parts.append((B_OBJ, o_pos, o_pos % n))
        hits = [(g, pos, unit) for g, pos, unit in parts if pos is not None and unit is not None]
        gap = self._buf_gap if full else np.empty(boost.shape, np.float32)
        livesf = cols(self._livesf)
        for k in (0, 1):
            if not any(nz[E_BOOST + k : E_BOOST + 2 * N_BOOST : 2]):
                continue
            keep = self._buf_log if full else np.empty(boost.shape, np.float32)
            if nz[E_BOOST + 2 * B_LIVES + k]:  # 1 + lives·(F − 1)
                np.multiply(livesf, factor[:, 2 * B_LIVES + k] - 1, out=keep)
                keep += 1
            else:
                keep.fill(1)
            if nz[E_BOOST + 2 * B_LOW + k]:
                keep *= cols(self._low_livesf) * (factor[:, 2 * B_LOW + k] - 1) + 1
            flat = keep.reshape(-1)
            for g, pos, unit in hits:  # no flat twice within a group
                if nz[E_BOOST + 2 * g + k]:
                    flat[pos] *= factor[:, 2 * g + k].take(unit)
            cap = self._caps[k]
            np.subtract(cap, boost, out=gap)
            gap *= keep
            np.subtract(cap, gap, out=gap)
            np.maximum(boost, gap, out=boost)
        if not full:
            self._boost[:, idx] = boost
    # ---- reached from now on
    changed = False
    # `take` gives a C-ordered copy, so `reach` below (a reshape) is a view of it and what
    # is marked through it is written back (a[:, idx] would come out column-major and the
    # reshape would be a copy that drops those marks)
    if full:
        reached = self._reached
    else:
        assert idx is not None  # a subset of the units is named when not full
        reached = self._reached.take(idx, axis=1)
    if self._residents_left:
        if nz[E_ANY + R_LIVES]:
            reached |= cols(self._lives) & (feats[:, E_ANY + R_LIVES] > 0)
        if nz[E_ANY + R_LOW]:
            reached |= cols(self._low_lives) & (feats[:, E_ANY + R_LOW] > 0)
        if pers is not None:
            reached |= pers
        changed = True
    reach = reached.reshape(-1)
    if nz[E_ANY + R_OBJ] and any_open and open_any.any():
        pos = _nz(open_start)
        pos = pos[feats[pos % n, E_ANY + R_OBJ] > 0]
        changed |= not reach[pos].all()
        reach[pos] = True
    if abs_pos is not None and abs_pos.size and not reach[abs_pos].all():
        reach[abs_pos] = True
        changed = True
    if changed:
        if not full:
            self._reached[:, idx] = reached
        if self._residents_left:
            self._residents_left = bool((self._lives & ~self._reached).any())
        self._groups_dirty = True
        self._absentees_dirty = True
    # ---- cooperation evidence: a use that reached someone, and co-funding after consent
    level: NDArray[np.float32] | None = feats[:, E_COOP] if nz[E_COOP] else None
    dynamic = [(R_OBJ, open_any), (R_PERS, pers_any)]
    if abs_unit is not None and self._some_without_residents:
        abs_any = np.zeros(n, bool)
        abs_any[abs_unit] = True
        dynamic.append((R_LIVES, abs_any & ~self._lives_any[sel]))
    for group, touched in dynamic:
        if touched is None or not nz[E_L1 + group]:
            continue
        raised = feats[:, E_L1 + group] * touched
        level = raised if level is None else np.maximum(level, raised)
    if level is not None:
        coop = self.cooperation[sel]
        np.maximum(coop, level.astype(np.int8), out=coop)
        if not full:
            self.cooperation[idx] = coop
    # ---- stubborn early supporters (Party members first, then supporters)
    if nz[E_STUBBORN]:
        count = feats[:, E_STUBBORN]
        if not full:
            count = np.zeros(self.batch.n_units, np.float32)
            count[idx] = feats[:, E_STUBBORN]
        self._seed_stubborn(count)
    # ---- objections settled, technical blocks solved, funds pooled, approval sped up
    if nz[E_OBJECTION] and any_open and open_any.any():
        pos = _nz(open_start)
        chance = -np.expm1(feats[pos % n, E_OBJECTION])
        pos, chance = pos[chance > 0], chance[chance > 0]
        if pos.size:
            settled = pos[rng.random(pos.size) < chance]
            if full:
                self._obj_stage.reshape(-1)[settled] = 0
            else:
                assert idx is not None
                stage = self._obj_stage.take(idx, axis=1)  # C-ordered: as `reached` above
                stage.reshape(-1)[settled] = 0
                self._obj_stage[:, idx] = stage
            self._open = self._obj_stage > 0
            self._any_open = bool(self._open.any())
    if nz[E_TECHNICAL] and self.technical.any():
        tech = _nz(self.technical[sel] & (feats[:, E_TECHNICAL] < 0))
        if tech.size:
            fixed = rng.random(tech.size) < -np.expm1(feats[tech, E_TECHNICAL])
            self.technical[at[tech[fixed]]] = False
    if nz[E_POOL]:
        self.pooling[sel] |= feats[:, E_POOL] > 0
    if nz[E_APPROVAL]:  # (only units up to approval have it: see _settle)
        self.approval_adjust[sel] += feats[:, E_APPROVAL]
        self._need[sel, APPROVAL] += feats[:, E_APPROVAL]
    # ---- money and the low-floor loss
    money: NDArray[np.bool_] | None = None
    if nz[E_COMP]:
        fen = max(d.compensation_full_fen, 0)
        more = np.rint(feats[:, E_COMP]).astype(np.int64)
        comp = self.comp[sel]
        self.comp[sel] = np.maximum(comp, np.minimum(comp + more, fen))
        money = more > 0
    loss: NDArray[np.bool_] | None = None
    if first is not None and nz[E_FIRST]:
        used = first > 0
        fresh = used & ~self._used_first[sel]
        if fresh.any():
            self._used_first[sel] |= used
            ff = fresh.astype(np.float64)
            if self._first_loss.any():
                factor = np.exp(ff @ self._first_loss).astype(np.float32)
                self.loss_factor[sel] *= factor
                loss = factor < 1
            if self._first_subsidy.any():
                add = ff @ self._first_subsidy
                got = _nz(add > 0)
                where = at[got]
                self.extra_subsidy[where] = np.minimum(
                    d.subsidy_tool_cap, self.extra_subsidy[where] + add[got]
                )
                money = add > 0 if money is None else money | (add > 0)
    if money is not None and money.any():
        self._recompute_money(self._some(money) if full else at[money])
        loss = money if loss is None else loss | money
    if loss is not None and loss.any():
        self._refresh_base(self._some(loss) if full else at[loss])
    # ---- social pressure last: the week's targets were chosen under last week's pressure
    if nz[E_PRESSURE]:
        pcap = np.float32(d.pressure_cap)
        rest = pcap - self.pressure[sel]
        rest *= np.exp(feats[:, E_PRESSURE])
        pressure = pcap - rest
        if not self._pressure_rises:  # a tool lowers pressure: keep it within [0, cap]
            pressure = np.minimum(np.maximum(pressure, 0), pcap)
        self.pressure[sel] = pressure


def _persuade_targets(
    self: UnitModel, want: NDArray[np.bool_], idx: NDArray[np.intp] | None = None
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The households furthest below their threshold, `targets_per_use` in each unit that
    persuades this week (ties: the lower flat first), and which units have any; of the
    units `idx` (all when None), `want` being theirs."""
    if idx is None:
        te = self._theta_off - self.pressure  # far down off the residents
        y = self._support
    else:
        te = self._theta_off.take(idx, axis=1) - self.pressure[idx]
        y = self._support.take(idx, axis=1)
    below = y < te
    below &= want
    count = np.add.reduce(below.view(np.int8), axis=0, dtype=np.int16)  # flats below
    k = self.d.targets_per_use
    crowded = count > k  # more below than targets: the furthest below are chosen
    if k > 0 and crowded.any():
        c = _nz(crowded)
        # (`take` gives C-ordered copies, so `flat` below is a view of `margin`)
        margin = y.take(c, axis=1) - te.take(c, axis=1)
        margin += ~below.take(c, axis=1) * _BIG
        pick = np.zeros(margin.shape, bool)
        flat, picked, col = margin.reshape(-1), pick.reshape(-1), np.arange(c.size)
        for _ in range(k):  # the lowest margin, k times (argmin: on a tie, the lower flat)
            at = margin.argmin(axis=0)
            at *= c.size
            at += col
            picked[at] = True
            flat[at] = np.inf
        below[:, c] = pick
    elif k <= 0:
        below[:] = False
    return below, count > 0 if k > 0 else np.zeros(count.shape, bool)


def _seed_stubborn(self: UnitModel, count: NDArray[np.float32]) -> None:
    """Party members first, then supporters, become stubborn early supporters."""
    c = _nz(count > 0)  # only the units seeding any (every column stands alone)
    if c.size == 0:
        return
    n = count[c]
    y = self._support.take(c, axis=1)
    agree = y >= self._theta.take(c, axis=1) - self.pressure[c]
    party = self._party.take(c, axis=1)
    cand = self._lives.take(c, axis=1) & ~self._stubborn.take(c, axis=1) & (party | agree)
    key = np.where(cand, party * np.float32(2) + y, -np.inf)
    pick = np.zeros(key.shape, bool)
    cols = np.arange(c.size)
    for k in range(min(int(n.max()), key.shape[0])):
        top = key.argmax(axis=0)
        ok = (k < n) & np.isfinite(key[top, cols])
        pick[top[ok], cols[ok]] = True
        key[top, cols] = -np.inf
    h, j = pick.nonzero()
    if h.size == 0:
        return
    u = c[j]
    self._stubborn[h, u] = True
    self._lam[h, u] = np.float32(self.d.susceptibility_leader)
    self._oml[h, u] = np.float32(1) - np.float32(self.d.susceptibility_leader)
    self._stub_anchor[h, u] = np.float32(self.d.party_anchor)


def _advise(
    self: UnitModel, working: NDArray[np.bool_]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The advisor's uses this week, replanned from the state (sim/advisor_strategy.py)."""
    return advise_week(self, working, NEGOTIATION)


def _severities(self: UnitModel, idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """Severity of each advisor obstacle per unit, scaled as heterogeneity scales them."""
    b = self.batch
    mask = b.mask[idx]
    lives = self._lives.T[idx]
    nonres = self._nonres.T[idx]
    reached = self._reached.T[idx]
    n = np.maximum(mask.sum(axis=1), 1)
    phase = self.phase[idx]
    votes = self._votes.T[idx]
    out = np.zeros((idx.size, len(ADVISOR_OBSTACLES)))

    def scaled(ob: Obstacle, share: NDArray[np.float64]) -> NDArray[np.float64]:
        base, slope = SEVERITY_SCALE[ob]
        res: NDArray[np.float64] = np.where(share > 0, base + slope * share, 0.0)
        return res

    stage = self._obj_stage.T[idx]
    open_stage = np.where((stage >= 1) & (stage <= 4), stage, 0).max(axis=1)
    out[:, 0] = _OBJECTION_STAGE_SEVERITY[open_stage]
    out[:, 1] = np.where(self.technical[idx], 1.0, 0.0)
    low = lives & (b.floor[idx] <= LOW_FLOOR_MAX)
    out[:, 2] = scaled(
        Obstacle.INTEREST, (low & (votes != AGREE)).sum(1) / np.maximum(low.sum(1), 1)
    )
    out[:, 3] = scaled(Obstacle.TENURE, (nonres & ~reached).sum(1) / n)
    costly = mask & (self._share.T[idx] > self._ability.T[idx])
    out[:, 4] = scaled(Obstacle.COST, costly.sum(1) / n)
    out[:, 5] = scaled(Obstacle.INFORMATION, (lives & ~reached).sum(1) / n)
    heads = self.is_lead[idx] & mask
    agree = (heads & (votes == AGREE)).sum(1) / np.maximum(heads.sum(1), 1)
    out[:, 6] = np.where(phase == NEGOTIATION, scaled(Obstacle.LEGITIMACY, 1 - agree + 1e-9), 0.0)
    out[:, 7] = np.where(phase == APPROVAL, APPROVAL_SEVERITY, 0.0)
    out[:, 8] = np.where(
        (phase == CONSTRUCTION) | (phase == ACCEPTANCE), COORDINATION_SEVERITY, 0.0
    )
    stages = [
        Stage.CONSULTATION,
        Stage.NOTICE,
        Stage.APPROVAL,
        Stage.CONSTRUCTION,
        Stage.ACCEPTANCE,
    ]
    weights = np.array([[stage_weight(ob, st) for ob in ADVISOR_OBSTACLES] for st in stages])
    phase_row = np.clip(phase, 0, 4)
    result: NDArray[np.float64] = out * weights[phase_row]
    return result


def step(self: UnitModel) -> None:
    d = self.d
    active = self.phase < SERVICE
    # 1. leaders: exit, replacement under formal guidance, stall
    # (only working units read action_here, so finished ones may change it freely)
    draw = self.rng.random((2, self.batch.n_units))
    stays = self.action_here & (draw[0] >= d.p_initiator_exit)
    if self._direct:
        stays |= self.had_action & (draw[1] < d.p_replace_guided)
    self.action_here = stays
    if self._always_led:
        working = active
    else:
        stalled = active & ~self._other_leader & ~self.action_here
        self.leaderless += stalled
        self.leaderless *= stalled
        working = active & ~stalled
    # 2. interventions
    self._interventions(working)
    # 3. influence: y ← Λ W y + (I − Λ) a
    anchor = self._anchor(self._buf_anchor)
    wy = np.einsum("iju,ju->iu", self._W, self._support)
    wy *= self._lam
    anchor *= self._oml
    wy += anchor
    self._support = wy
    # 4. decisions
    self._votes_before = self._votes
    self._votes = self._decide()
    # 5. objections
    if self._any_open:
        self._objections(active)
    # 6. phases
    self.wip += working
    self._phases(working)
    # 7. failures
    self._failures(active)
    self.week += 1
    self._history.append(self.cooperation.copy())
    self.datacollector.collect(self)


def _objections(self: UnitModel, active: NDArray[np.bool_]) -> None:
    has = active & self._open.any(axis=0)
    idx = _nz(has)
    if idx.size == 0:
        return
    d = self.d
    stage = self._obj_stage[:, idx]
    open_ = (stage >= 1) & (stage <= 4)
    p = np.asarray((0.0, *d.objection_resolve_weekly), np.float32)[stage]
    esc = np.asarray((0, *d.objection_escalate_weeks, 10**4), np.int32)[stage]
    draw = self.rng.random(stage.shape, dtype=np.float32)
    settled = open_ & (draw < p)
    weeks = np.where(open_ & ~settled, self._obj_weeks[:, idx] + 1, 0)
    up = open_ & ~settled & (stage < 4) & (weeks >= esc)
    self._obj_stage[:, idx] = np.where(settled, 0, np.where(up, stage + 1, stage))
    self._obj_weeks[:, idx] = np.where(up, 0, weeks)
    self._obj_age[:, idx] = np.where(open_ & ~settled, self._obj_age[:, idx] + 1, 0)
    self._open = self._obj_stage > 0
    self._any_open = bool(self._open.any())


def _tally(self: UnitModel, idx: NDArray[np.intp], open_n: NDArray[np.int64]) -> NDArray[np.bool_]:
    """`sim.tally.tally` on the units `idx`, counted from the household-major arrays."""
    votes = self._votes.take(idx, axis=1)
    w = self._tally_w.take(idx, axis=2)  # (H, 3, n)
    # who takes part and who agrees, (2, H, 1, n): both counts from one product
    m = np.empty((2, votes.shape[0], 1, idx.size), bool)
    np.not_equal(votes, ABSENT, out=m[0, :, 0])
    np.equal(votes, AGREE, out=m[1, :, 0])
    counted = np.add.reduce(w * m, axis=1)  # (2, 3, n)
    part, agree = counted[0], counted[1]
    total = self._tally_total.take(idx, axis=1)
    if self._rule is None:
        counts = {
            "total_area_cm2": total[0],
            "participating_area_cm2": part[0],
            "agree_area_cm2": agree[0],
            "total_heads": total[1],
            "participating_heads": part[1],
            "agree_heads": agree[1],
            "occupied_not_agreeing": total[2] - agree[2],
        }
        return passes(self.batch.profiles, self.batch.profile_index[idx], counts, open_n)
    num_rows, den_rows, lin, thr, no_objection, occupied = self._rule
    if num_rows.size:
        c = np.concatenate((counted.reshape(6, -1), total))  # (9, n)
        met = lin @ c >= thr
        met &= c[den_rows] > 0
        ok: NDArray[np.bool_] = np.logical_and.reduce(met, axis=0)
    else:
        ok = np.ones(idx.size, bool)
    if no_objection:
        ok &= open_n <= 0
    if occupied:
        ok &= total[2] - agree[2] <= 0
    return ok


def _phases(self: UnitModel, working: NDArray[np.bool_]) -> None:
    """At most one phase a week, once the phase's weeks have passed."""
    need = self._need.take(self._need_at + self.phase)
    ready = working & (self.wip >= need)
    open_now = self._any_open
    if self._no_objection_any and open_now:
        # notice: a "no objection" rule restarts it while an objection is open
        restart = working & (self.phase == NOTICE) & self.no_objection_rule
        restart &= self._open.any(axis=0)
        self.wip[restart] = 0
        ready &= ~restart
    idx = _nz(ready)
    if idx.size == 0:
        self._tally_failed[:] = False
        return
    done_week = self.week + 1
    phase = self.phase[idx]
    present = np.bincount(phase, minlength=8)
    open_n = self._open.take(idx, axis=1).sum(axis=0) if open_now else None
    # negotiation: the vote is counted weekly once the negotiation time has passed
    if present[NEGOTIATION]:
        neg = phase == NEGOTIATION
        cand = idx[neg]
        # a unit whose count failed last week and whose votes have not moved fails again
        same = self._tally_failed[cand]
        same &= self._may_repeat[cand]
        if same.any():
            moved = self._votes[:, cand] != self._votes_before[:, cand]
            same &= ~_rows_any(moved.T)
            counted = ~same
            count = cand[counted]
            open_c = open_n[neg][counted] if open_n is not None else None
        else:
            count = cand
            open_c = open_n[neg] if open_n is not None else None
        if open_c is None:
            open_c = np.zeros(count.size, np.int64)
        new = count[self._tally(count, open_c)] if count.size else count
        self._tally_failed[:] = False
        self._tally_failed[cand] = True
        if new.size:
            self._tally_failed[new] = False
            self.phase[new] = NOTICE
            self.wip[new] = 0
            self.week_consent[new] = done_week
            self.n_consented += new.size
            self.cooperation[new] = np.maximum(self.cooperation[new], 3)
            self._file_objections(new)
    else:
        self._tally_failed[:] = False
    # approval: waits for the technical block; the funding check opens construction
    if present[APPROVAL]:
        go = idx[(phase == APPROVAL) & ~self.technical[idx]]
        go = go[self.wip[go] >= self.d.approval_min_weeks]
        if go.size:
            short = self._funding_gap(go)
            if short.any():
                self._fail(go[short], F_FUNDING)
                go = go[~short]
            self._move(go, CONSTRUCTION)
    # notice (once no objection is open), construction and acceptance: the next phase
    if present[NOTICE] or present[CONSTRUCTION] or present[ACCEPTANCE]:
        step = _STEPS.take(phase)
        if present[NOTICE] and open_n is not None:
            step &= ~((phase == NOTICE) & (open_n > 0))
        on = idx[step]
        self.phase[on] += 1
        self.wip[on] = 0
        if present[ACCEPTANCE]:
            served = idx[phase == ACCEPTANCE]
            self.n_in_service += served.size
            self.week_service[served] = done_week


def _move(self: UnitModel, sel: NDArray[np.intp], to: int) -> None:
    self.phase[sel] = to
    self.wip[sel] = 0


def _fail(self: UnitModel, sel: NDArray[np.intp], code: int) -> None:
    sel = sel[self.phase[sel] < SERVICE]
    self.phase[sel] = FAILED
    self.failure[sel] = code
    self.n_failed += sel.size


def _file_objections(self: UnitModel, idx: NDArray[np.intp]) -> None:
    """At the notice, each opposing low-floor household objects with p_object."""
    low = self._support.take(idx, axis=1) < self._theta_eff(idx)
    low &= self._low_lives.take(idx, axis=1)
    if self._any_open:  # (no objection open: every stage is 0)
        low &= self._obj_stage.take(idx, axis=1) == 0
    h, k = low.nonzero()
    files = self.rng.random(h.size, dtype=np.float32) < np.float32(self.d.p_object)
    if not files.any():
        return
    h, u = h[files], idx[k[files]]
    self.objections_filed += np.bincount(u, minlength=self.objections_filed.size).astype(np.int32)
    self._obj_stage[h, u] = 1
    self._obj_weeks[h, u] = 0
    self._obj_age[h, u] = 0
    self._open[h, u] = True
    self._any_open = True


def _funding_gap(self: UnitModel, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Shares above afford_factor × ability not covered by pooled spare ability."""
    gap = self._gap_fen[idx] - self.pooling[idx] * (self.d.pool_share * self._spare_fen[idx])
    result: NDArray[np.bool_] = gap > 0.5
    return result


def _failures(self: UnitModel, active: NDArray[np.bool_]) -> None:
    d = self.d
    if self.technical.any():
        stuck = active & self.technical & (self.phase == APPROVAL)
        stuck &= self.wip >= d.technical_deadline_weeks
        if stuck.any():
            self._fail(_nz(stuck), F_TECHNICAL)
    if self._any_open:
        old = (self._open & (self._obj_age >= d.objection_deadline_weeks)).any(axis=0)
        if old.any():
            self._fail(_nz(active & old), F_OBJECTION)
    if not self._always_led:
        self._fail(_nz(active & (self.leaderless >= d.stall_fail_weeks)), F_EXIT)
    if self.week + 1 >= d.deadline_weeks:
        late = self.phase < SERVICE
        cause = np.full(self.batch.n_units, F_DEADLINE, np.int8)
        cause = np.where((self.phase == APPROVAL) & self.technical, F_TECHNICAL, cause)
        cause = np.where((self.phase == NOTICE) & (self.open_objections() > 0), F_OBJECTION, cause)
        cause = np.where(self.phase == NEGOTIATION, NO_CONSENT, cause)
        cause = np.where(self.leaderless > 0, F_EXIT, cause)
        self.failure[late] = cause[late]
        self.phase[late] = FAILED
        self.n_failed += int(np.count_nonzero(late))
