"""Building a `UnitModel`: households' draws, roles, the network, tools compiled to arrays,
the tally compiled per rule, and the state readings the week uses (`ModelState`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.catalogue import Catalogue, Reach, Tool, load_catalogue
from colift.model import Role
from colift.model.coproduction import LOW_FLOOR_MAX, Obstacle, Stage
from colift.sim.advisor_strategy import advisor_tools
from colift.sim.batch import LEADER_ORDER, ROLE_INDEX, UnitBatch, UnitColumns, UnitSpec, as_batch
from colift.sim.codes import (
    _ACTION,
    _BIG,
    _FORMAL_IDX,
    _OTHER_INFORMAL_IDX,
    _TINY,
    ADVISOR_CANDIDATES,
    ADVISOR_OBSTACLES,
    CONDITION_CODES,
    N_EFFECTS,
)
from colift.sim.effects import (
    _effect_row,
    _lcm,
    _levels,
    _nz,
    _row_bits,
    _rows_any,
    _settle,
    _target_kind,
    _ToolUse,
)
from colift.sim.params import Scenario
from colift.sim.results import DataCollector
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    CONSTRUCTION,
    FAILED,
    FORMAL,
    INFORMAL,
    NEGOTIATION,
    NOTICE,
    SERVICE,
    StrategySpec,
    strategy_for,
)
from colift.sim.tally import ABSENT, ABSTAIN, AGREE, DISAGREE, rule_table


class ModelState:
    """The state of stairwells under one scenario, built from units; `UnitModel` steps it.

    Household arrays are held household-major, shape (H, U), so that sums over a unit's flats
    run along contiguous rows; `support`, `votes` and `reached` give them as (U, H).
    """

    def __init__(
        self,
        units: Sequence[UnitSpec] | UnitColumns | UnitBatch,
        scenario: Scenario = Scenario(),
        seed: int = 0,
        *,
        catalogue: Catalogue | None = None,
    ) -> None:
        batch = as_batch(units, scenario)
        self.batch = b = batch.for_scenario(scenario)
        self.scenario = scenario
        self.d = d = scenario.defaults
        self.catalogue = catalogue or load_catalogue()
        self.strategy: StrategySpec = strategy_for(scenario.strategy)
        self.seed = seed
        init_seq, dyn_seq = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(init_seq)
        self.rng = np.random.default_rng(dyn_seq)
        self.week = 0
        u_n, h_n = b.n_units, b.width
        mask = b.mask
        lives = b.lives_here
        band = (np.clip(b.floor, 1, 4) - 1).astype(np.intp)

        # ---- households: prior support, thresholds, ability (init stream, fixed order)
        lo = np.array([p[0] for p in d.support_prior], np.float32)
        hi = np.array([p[1] for p in d.support_prior], np.float32)
        draw = rng.random((u_n, h_n), dtype=np.float32)
        prior = lo[band] + (hi - lo)[band] * draw
        needy = (b.floor >= d.need_floor_min) & (b.elderly | b.need)
        prior = np.where(needy, np.float32(d.support_need_upper), prior)
        theta = np.asarray(d.thresholds, np.float32)[band]
        voted = b.vote >= 0
        from_vote = np.select(
            [b.vote == AGREE, b.vote == ABSTAIN, b.vote == DISAGREE],
            [theta + 0.1, theta - 0.1, theta - 0.35],
            prior,
        )
        prior = np.where(voted, from_vote, prior)
        prior = np.where(np.isnan(b.support), prior, b.support)
        prior = np.where(mask, np.clip(prior, 0, 1), 0).astype(np.float32)
        ability = rng.lognormal(np.log(d.ability_median_fen), d.ability_sigma, (u_n, h_n))
        ability = np.maximum(np.where(np.isnan(b.ability_fen), ability, b.ability_fen), 1.0)
        tech_draw = rng.random(u_n) < d.p_technical
        self.technical: NDArray[np.bool_] = np.where(b.technical < 0, tech_draw, b.technical == 1)
        # what a record can show of a unit: a blocking technical issue at the start, and how
        # many objections its households filed (counted, never drawn: results do not move)
        self.technical0: NDArray[np.bool_] = self.technical.copy()
        self.objections_filed: NDArray[np.int32] = np.zeros(u_n, np.int32)
        neg = rng.lognormal(np.log(d.negotiation_median_weeks), d.negotiation_sigma, u_n)
        self.neg_weeks = np.maximum(1, np.rint(neg)).astype(np.int32)
        self.approval_weeks = rng.integers(d.approval_weeks[0], d.approval_weeks[1] + 1, u_n)
        self.construction_weeks = rng.integers(
            d.construction_weeks[0], d.construction_weeks[1] + 1, u_n
        )
        self.acceptance_weeks = rng.integers(d.acceptance_weeks[0], d.acceptance_weeks[1] + 1, u_n)
        table = rule_table(b.profiles)
        self.notice_weeks = -(-table.notice_days[b.profile_index] // 7)
        self.no_objection_rule = table.no_objection[b.profile_index]

        def hu(a: NDArray[Any], dtype: Any = None) -> NDArray[Any]:
            return np.ascontiguousarray(a.T, dtype=dtype)

        # ---- household-major copies of what the weeks read
        self._mask = hu(mask)
        self._lives = hu(lives)
        self._livesf = self._lives.astype(np.float32)
        self._nonres = self._mask & ~self._lives
        self._low_lives = self._lives & hu(b.floor <= LOW_FLOOR_MAX)
        self._low_livesf = self._low_lives.astype(np.float32)
        self._lives_any = _rows_any(self._lives.T)
        self._low_any = _rows_any(self._low_lives.T)
        self._some_without_residents = not bool(self._lives_any.all())
        self._theta = hu(theta, np.float32)
        self._theta_off = self._theta - ~self._lives * _BIG  # θ, far down off the residents
        self._prior = prior.T.copy()
        self._ability = hu(ability, np.float64)
        self._ability_masked = self._ability * self._mask
        self._gap_fen = np.zeros(u_n)
        self._spare_fen = np.zeros(u_n)
        self._party = hu(b.party)
        self._n_mask = max(int(mask.sum()), 1)

        # ---- low-floor loss D and money
        self._floor1 = hu((b.floor == 1) & mask)
        self.n1 = self._floor1.sum(axis=0)
        self._d0 = np.where(
            self._floor1,
            np.float32(d.low_floor_loss_1f),
            np.where(hu((b.floor == 2) & mask), np.float32(d.low_floor_loss_2f), np.float32(0)),
        ).astype(np.float32)
        self.loss_factor = np.ones(u_n, np.float32)
        self.comp = b.compensation_fen.astype(np.int64).copy()
        self.extra_subsidy = np.zeros(u_n)
        total_w = b.weight.sum(axis=1, keepdims=True)
        frac = np.divide(b.weight, total_w, out=np.zeros_like(b.weight), where=total_w > 0)
        self._frac = hu(frac, np.float64)
        self._share = hu(b.share_fen, np.float64)
        self.subsidy = b.subsidy_fen.astype(np.int64).copy()
        self.payable = b.payable_fen.astype(np.int64).copy()
        self.pooling = np.zeros(u_n, bool)
        self._pen = self._penalty(self._share, self._ability, self._mask)
        # An observed stance already holds the household's view of its share: count only changes.
        observed = hu(voted | ~np.isnan(b.support))
        self._pen_base = np.where(observed, self._pen, np.float32(0)).astype(np.float32)
        self._cost_cond: NDArray[np.bool_] = _rows_any(
            (self._mask & (self._share > self._ability)).T
        )
        self._money_sums(slice(None))
        self._base = np.zeros((h_n, u_n), np.float32)  # the anchor without boost and stubbornness
        self._refresh_base(None)

        # ---- roles and guidance
        self._roles(b)

        # ---- influence network and susceptibility
        self._W = np.ascontiguousarray(self._network(b).transpose(1, 2, 0))
        self._opinion = self._lives & hu(b.leader | b.party)
        self._opinion_pos = _nz(self._opinion)
        self._opinion_unit = self._opinion_pos % max(u_n, 1)
        self._nonres_pos = _nz(self._nonres)
        self._nonres_unit = self._nonres_pos % max(u_n, 1)
        self._stubborn: NDArray[np.bool_] = (
            self._lives & self._party & np.bool_(self.strategy.embedded)
        )
        lam = np.where(mask, np.float32(d.susceptibility_resident), np.float32(0))
        informal_here = _rows_any(self.roles[:, [ROLE_INDEX[r] for r in INFORMAL]])
        lam = np.where(b.leader & informal_here[:, None], np.float32(d.susceptibility_leader), lam)
        self._lam = hu(lam, np.float32)
        self._lam[self._stubborn] = np.float32(d.susceptibility_leader)
        self._oml = (np.float32(1) - self._lam).astype(np.float32)
        self._stub_anchor = (self._stubborn * np.float32(d.party_anchor)).astype(np.float32)
        self._boost = np.zeros((h_n, u_n), np.float32)
        self._buf_log = np.zeros((h_n, u_n), np.float32)
        self._buf_gap = np.zeros((h_n, u_n), np.float32)
        self._buf_anchor = np.zeros((h_n, u_n), np.float32)
        self._buf_te = np.zeros((h_n, u_n), np.float32)
        self._buf_agree = np.zeros((h_n, u_n), bool)
        self.pressure = np.zeros(u_n, np.float32)
        self.approval_adjust = np.zeros(u_n, np.float32)

        # ---- owner groups: flats that are not their owner's lead flat (flat positions h·U + u)
        self.is_lead = b.is_lead
        nu, nh = np.nonzero(~self.is_lead & mask)
        self._nonlead_pos = nh.astype(np.intp) * u_n + nu
        self._lead_pos = b.lead[nu, nh].astype(np.intp) * u_n + nu
        self._absent3 = np.zeros((h_n, u_n), np.int8)
        self._groups_dirty = True
        self._absentees_dirty = True
        self._absentees_left = np.zeros(u_n, bool)

        # ---- the consent tally's fixed parts
        self._compile_tally()

        # ---- phases, objections, outcomes
        self.phase = b.phase0.astype(np.int8).copy()
        self.wip = np.zeros(u_n, np.int32)  # whole weeks spent in the current phase
        self._obj_stage = hu(np.where(mask, b.objection, 0), np.int8)
        self._obj_weeks = np.zeros((h_n, u_n), np.int16)
        self._obj_age = np.zeros((h_n, u_n), np.int16)
        self._open = self._obj_stage > 0
        self._any_open = bool(self._open.any())  # kept with _open: is any objection open?
        self._no_open = np.zeros(u_n, bool)  # read only: no unit has an open objection
        self._no_open.flags.writeable = False
        self._reached = hu((b.vote >= 0) & (b.vote != ABSENT) & mask)
        self._residents_left = True
        self.week_consent = np.where(self.phase >= NOTICE, 0, -1).astype(np.int32)
        self.week_service = np.where(self.phase == SERVICE, 0, -1).astype(np.int32)
        self.failure = np.zeros(u_n, np.int8)
        self.leaderless = np.zeros(u_n, np.int32)
        self.cooperation = np.where(self.phase >= NOTICE, 3, 0).astype(np.int8)
        self.n_consented = int(np.count_nonzero(self.week_consent >= 0))
        self.n_in_service = int(np.count_nonzero(self.phase == SERVICE))
        self.n_failed = int(np.count_nonzero(self.phase == FAILED))
        self._cols = np.arange(u_n)
        self._bits_seen: dict[int, list[bool]] = {}
        # weeks each phase lasts, per unit (service and failure never end)
        self._need = np.full((u_n, 8), 1e9)
        self._need[:, NEGOTIATION] = self.neg_weeks
        self._need[:, NOTICE] = self.notice_weeks
        self._need[:, CONSTRUCTION] = self.construction_weeks
        self._need[:, ACCEPTANCE] = self.acceptance_weeks
        self._need[:, APPROVAL] = self.approval_weeks
        self._no_objection_any = bool(self.no_objection_rule.any())
        self._may_repeat = ~self.no_objection_rule  # a failed count may stand while votes hold
        self._tally_failed = np.zeros(u_n, bool)  # counted last week in negotiation, and failed
        self._need_at = np.arange(u_n) * 8  # flat position of each unit's row in _need

        # ---- tools
        self._direct = self.strategy.direct  # (a property: read once)
        self._compile_tools()

        # ---- state at week 0
        self._support = self._anchor()
        self._votes = self._decide()
        self._votes_before = self._votes
        self.datacollector = DataCollector()
        self._history: list[NDArray[np.int8]] = [self.cooperation.copy()]
        self.datacollector.collect(self)

    # ------------------------------------------------------------ views, shape (U, H)

    @property
    def support(self) -> NDArray[np.float32]:
        return self._support.T

    @property
    def votes(self) -> NDArray[np.int8]:
        return self._votes.T

    @property
    def reached(self) -> NDArray[np.bool_]:
        return self._reached.T

    @property
    def obj_stage(self) -> NDArray[np.int8]:
        return self._obj_stage.T

    # ------------------------------------------------------------ setup helpers

    def _roles(self, b: UnitBatch) -> None:
        strat = self.strategy
        u_n = b.n_units
        if strat.roles:
            vec = np.array([r in strat.roles for r in LEADER_ORDER])
            roles = np.broadcast_to(vec, (u_n, len(LEADER_ORDER))).copy()
        else:
            # A schedule without roles runs with the unit's leaders and those its tools need.
            needed = set()
            for tool_id in strat.tool_ids():
                tool = self.catalogue.get(tool_id)
                if tool.leader_roles:
                    needed.add(tool.leader_roles[0])
            vec = np.array([r in needed for r in LEADER_ORDER])
            roles = b.leaders | vec[None, :]
            if not roles.any():
                roles[:, _ACTION] = True
        self.roles = roles
        self.formal_here = roles[:, _FORMAL_IDX].any(axis=1)
        self.other_informal = roles[:, _OTHER_INFORMAL_IDX].any(axis=1)
        self._other_leader = self.formal_here | self.other_informal
        self._always_led = bool(self._other_leader.all())
        self.had_action = roles[:, _ACTION].copy()
        self.action_here = roles[:, _ACTION].copy()
        d = self.d
        self.formal_mult = d.trust_direct if strat.direct else 1.0
        self.informal_mult = 1.0 if (strat.direct or strat.embedded) else d.trust_alone

    def _network(self, b: UnitBatch) -> NDArray[np.float32]:
        d = self.d
        f = b.floor.astype(np.int16)
        h_n = b.width
        eye = np.eye(h_n, dtype=bool)[None]
        same = (f[:, :, None] == f[:, None, :]) & ~eye
        adj = (np.abs(f[:, :, None] - f[:, None, :]) == 1) & (
            b.stack[:, :, None] == b.stack[:, None, :]
        )
        party = b.party[:, :, None] & b.party[:, None, :] & ~eye
        w = (
            np.float32(d.w_same_floor) * same
            + np.float32(d.w_adjacent) * adj
            + np.float32(d.w_party) * party
        ).astype(np.float32)
        if b.ties is not None:
            w += b.ties
        # Absentee and developer flats neither hear nor are heard: self-loop only.
        live = b.lives_here
        w *= live[:, :, None] & live[:, None, :]
        rows = w.sum(axis=2)
        w += (rows == 0)[:, :, None] * eye
        w /= np.maximum(w.sum(axis=2, keepdims=True), np.float32(1e-12))
        result: NDArray[np.float32] = w.astype(np.float32)
        return result

    def _use_for(self, tool: Tool) -> _ToolUse:
        found = self._by_id.get(tool.id)
        if found is not None:
            return found
        holders = set(tool.roles)
        col_of = {r: ROLE_INDEX[r] for r in LEADER_ORDER}
        formal = np.zeros(self.batch.n_units, bool)
        other = np.zeros(self.batch.n_units, bool)
        for role in holders & FORMAL:
            formal |= self.roles[:, col_of[role]]
        for role in holders & (INFORMAL - {Role.ACTION_LEADER}):
            other |= self.roles[:, col_of[role]]
        action = (
            self.roles[:, _ACTION]
            if Role.ACTION_LEADER in holders
            else np.zeros(self.batch.n_units, bool)
        )
        e = tool.effects
        use = _ToolUse(
            tool=tool,
            col=len(self._uses),
            formal=formal,
            other_informal=other,
            action=action,
            target=_target_kind(tool),
            message=tool.reaches is Reach.UNIT and tool.evidences <= 1,
            technical=Obstacle.TECHNICAL in tool.addresses,
            pooling=tool.evidences >= 4 and Obstacle.COST in tool.addresses,
        )
        if e.support_delta < 0 or e.trust_delta < 0:
            use.message = False
        self._uses.append(use)
        self._by_id[tool.id] = use
        return use

    def _compile_tools(self) -> None:
        """Every tool the strategy may use, as arrays; the plan as a lookup table."""
        self._uses: list[_ToolUse] = []
        self._by_id: dict[str, _ToolUse] = {}
        plan = self.strategy.plan
        item_tools = [self._use_for(self.catalogue.get(item.tool)).col for item in plan]
        self._schedule = {
            week: [self._use_for(self.catalogue.get(t)).col for t in tools]
            for week, tools in self.strategy.schedule.items()
        }
        self._advisor: dict[tuple[int, int], list[_ToolUse]] = {}
        if self.strategy.policy == "advisor":
            stages = (
                Stage.CONSULTATION,
                Stage.VOTE,
                Stage.NOTICE,
                Stage.APPROVAL,
                Stage.CONSTRUCTION,
                Stage.ACCEPTANCE,
            )
            for oi, obstacle in enumerate(ADVISOR_OBSTACLES):
                for si, stage in enumerate(stages):
                    usable = advisor_tools(  # hook: sim/advisor_strategy.py
                        obstacle,
                        stage,
                        self.catalogue,
                        self.strategy.roles,
                        limit=ADVISOR_CANDIDATES,
                    )
                    self._advisor[(oi, si)] = [self._use_for(t) for t in usable]
        uses = self._uses
        u_n = self.batch.n_units
        n_t = len(uses)
        d = self.d
        fm, im = self.formal_mult, self.informal_mult
        lo_mult, hi_mult = min(fm, im), max(fm, im)
        self._caps = (
            np.float32(d.persuasion_cap * lo_mult),
            np.float32(d.persuasion_cap * hi_mult),
        )
        f_base = 0 if fm == lo_mult else 1
        i_base = 0 if im == lo_mult else 1
        shape = (n_t, N_EFFECTS)
        self._pressure_rises = all(u.tool.effects.pressure_delta >= 0 for u in uses)
        self._e_formal = np.array([_effect_row(u, fm, f_base, d) for u in uses]).reshape(shape)
        self._e_informal = np.array([_effect_row(u, im, i_base, d) for u in uses]).reshape(shape)
        # (U, T): who may use each tool, and whether a formal holder does (trust_direct).
        col = np.zeros((u_n, 0), bool)
        self._t_formal = np.stack([u.formal for u in uses], axis=1) if uses else col
        self._t_able = (
            np.stack([u.formal | u.other_informal for u in uses], axis=1) if uses else col
        )
        self._t_action = np.stack([u.action for u in uses], axis=1) if uses else col
        # First-use effects (loss and subsidy) need to know which tools a unit has used.
        first = [u.col for u in uses if u.tool.effects.loss_delta or u.tool.effects.subsidy_delta]
        self._first_cols = np.array(first, np.intp)
        self._first_loss = np.array(
            [math.log(max(1.0 - uses[c].tool.effects.loss_delta, _TINY)) for c in first]
        )
        self._first_subsidy = np.array([uses[c].tool.effects.subsidy_delta for c in first])
        self._used_first = np.zeros((u_n, len(first)), bool)
        self.last_use = np.full((u_n, n_t if self._advisor else 0), -(10**4), np.int32)

        # ---- the plan: items (K) as a table of (phase, week in phase, conditions) → due
        self._k = len(plan)
        if not plan:
            return
        ti = np.array(item_tools, np.intp)
        k_formal = self._t_formal[:, ti]
        k_able = self._t_able[:, ti]
        k_action = self._t_action[:, ti]
        first_of = {c: j for j, c in enumerate(first)}
        k_first = np.zeros((len(plan), len(first)), np.float32)
        for k, c in enumerate(item_tools):
            if c in first_of:
                k_first[k, first_of[c]] = 1.0
        # Conditions the plan reads, one bit each.
        whens = sorted({CONDITION_CODES[item.when] for item in plan} - {0})
        self._when_codes = whens
        n_c = 1 << len(whens)
        starts = [item.start for item in plan]
        periods = [item.every for item in plan if item.every]
        s0 = max(starts) + 1
        period = _lcm(periods)
        rows = s0 + period
        self._s0, self._period, self._rows, self._n_c = s0, period, rows, n_c
        # the plan's row for each week in phase (the plan repeats with its period), up to
        # the weeks a scenario runs; a longer phase computes it
        w_max = np.arange(max(rows, self.scenario.weeks + 1, d.deadline_weeks + 1))
        self._wi_of = np.minimum(w_max, s0 + (w_max - s0) % period).astype(np.int32)
        self._phase_pos = np.arange(8, dtype=np.intp) * rows
        # one byte per condition and unit, 8 to a unit, so a unit's bits pack by one product
        self._cond_buf = np.zeros((u_n, 8), bool)
        self._cond_word = np.zeros(u_n, np.uint64)
        w = np.arange(rows)
        timing = np.zeros((len(plan), rows), bool)
        phases = np.zeros((len(plan), 8), bool)  # phase 7: a unit that does not work this week
        sat = np.zeros((n_c, len(plan)), bool)
        bits = np.arange(n_c)
        for k, item in enumerate(plan):
            if item.every:
                timing[k] = (w >= item.start) & ((w - item.start) % item.every == 0)
            else:
                timing[k] = w == item.start
            phases[k, sorted(item.phases)] = True
            code = CONDITION_CODES[item.when]
            sat[:, k] = True if code == 0 else (bits >> whens.index(code)) & 1 == 1
        due = phases.T[:, None, None, :] & timing.T[None, :, None, :] & sat[None, None, :, :]
        due = due.reshape(8 * rows * n_c, len(plan))
        # for each condition, the (phase, week in phase) rows where an item reading it is due
        at = (phases.T[:, None, :] & timing.T[None, :, :]).reshape(8 * rows, len(plan))
        codes = [CONDITION_CODES[item.when] for item in plan]
        self._cond_rows = np.array(
            [at[:, [k for k, c in enumerate(codes) if c == when]].any(axis=1) for when in whens]
        ).reshape(len(whens), 8 * rows)
        uniform = bool((k_formal == k_formal[:1]).all() and (k_able == k_able[:1]).all())
        uniform = uniform and bool((k_action == k_action[:1]).all()) and u_n > 0
        self._k_table = uniform and due.shape[0] * 8 * N_EFFECTS <= 16_000_000
        if self._k_table:
            # Every unit has the same holders: the week's effects are a row of a table indexed
            # by (phase, week in phase, conditions, action leader present).
            effects = np.where(k_formal[0][:, None], self._e_formal[ti], self._e_informal[ti])
            with_leader = due & (k_able[0] | k_action[0])
            without = due & k_able[0]
            self._k_has_action = bool(k_action[0].any())
            both = np.concatenate([without, with_leader]) if self._k_has_action else without
            # Most of the table's rows repeat: compute each distinct (uses due, phase) once and
            # keep, per row, where its values are (`_row_of`), for each make-up: residents
            # (bit 0) and low-floor residents (bit 1).
            n_rows = both.shape[0]
            _, first_of_pattern, pattern = np.unique(
                _row_bits(both), return_index=True, return_inverse=True
            )
            pattern = pattern.ravel()
            raw = _levels((both[first_of_pattern].astype(np.float64) @ effects).astype(np.float32))
            row_phase = np.tile(np.repeat(np.arange(8), rows * n_c), n_rows // due.shape[0])
            _, first_of_key, key_of_row = np.unique(
                pattern * 8 + row_phase, return_index=True, return_inverse=True
            )
            n_keys = first_of_key.size
            base = raw[pattern[first_of_key]]
            phase_of_key = row_phase[first_of_key]
            tables = []
            for make_up in range(4):
                lives_bit = np.full(n_keys, bool(make_up & 1))
                low_bit = np.full(n_keys, bool(make_up & 2))
                tables.append(_settle(base.copy(), phase_of_key, lives_bit, low_bit))
            self._feature_table = np.concatenate(tables)
            self._row_of = np.concatenate(
                [key_of_row.ravel() + make_up * n_keys for make_up in range(4)]
            ).astype(np.intp)
            self._static_code = (self._lives_any + 2 * self._low_any.astype(np.intp)) * n_rows
            self._buf_feats = np.empty((u_n, N_EFFECTS), np.float32)
            self._feature_bits = _row_bits(self._feature_table != 0)
            first_rows = (both[first_of_pattern].astype(np.float32) @ k_first)[
                pattern[first_of_key]
            ]
            self._first_table = np.concatenate([first_rows] * 4) if first else None
        else:
            self._plan_due = due
            self._k_able, self._k_action, self._k_formal = k_able, k_action, k_formal
            self._k_e_formal = self._e_formal[ti].astype(np.float32)
            self._k_e_informal = self._e_informal[ti].astype(np.float32)
            self._k_first = k_first

    # ------------------------------------------------------------ state readings

    def _penalty(
        self, share: NDArray[np.float64], ability: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.float32]:
        d = self.d
        pen = np.clip(d.cost_weight * (share / ability - d.cost_reference), 0.0, d.cost_cap)
        result: NDArray[np.float32] = np.where(mask, pen, 0.0).astype(np.float32)
        return result

    def _some(self, sel: NDArray[np.bool_]) -> Any:
        """The units `sel` as an index, or all units when most are selected (cheaper, and the
        recomputations it feeds give the same values for units that did not change)."""
        n = np.count_nonzero(sel)
        return slice(None) if 4 * n > sel.size else _nz(sel)

    def _recompute_money(self, idx: Any) -> None:
        b = self.batch
        total = b.total_fen[idx]
        extra = np.floor(self.extra_subsidy[idx] * total).astype(np.int64)
        self.subsidy[idx] = np.minimum(total, b.subsidy_fen[idx] + extra)
        self.payable[idx] = total - self.subsidy[idx] + self.comp[idx] * self.n1[idx]
        share = self.payable[idx][None, :] * self._frac[:, idx]
        self._share[:, idx] = share
        mask, ability = self._mask[:, idx], self._ability[:, idx]
        self._pen[:, idx] = self._penalty(share, ability, mask)
        self._cost_cond[idx] = _rows_any((mask & (share > ability)).T)
        self._money_sums(idx)

    def _refresh_base(self, idx: Any) -> None:
        """The anchor's lasting part: prior, low-floor loss and compensation, cost (−1 off mask)."""
        d = self.d
        sel: Any = slice(None) if idx is None else idx
        d0 = self._d0[:, sel]
        loss = d0 * self.loss_factor[sel]
        offset = np.minimum(
            loss,
            np.float32(d.low_floor_loss_1f)
            * (self.comp[sel] / d.compensation_full_fen).astype(np.float32),
        )
        a = self._prior[:, sel] + (d0 - loss) - (self._pen[:, sel] - self._pen_base[:, sel])
        a = np.where(self._floor1[:, sel], a + offset, a)
        self._base[:, sel] = np.where(self._mask[:, sel], a, np.float32(-1))

    def _anchor(self, out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
        # clip to [0, 1], then embedded Party members hold at least their anchor (≥ 0 always)
        a = np.add(self._base, self._boost, out=out)
        np.minimum(a, np.float32(1), out=a)
        np.maximum(a, self._stub_anchor, out=a)
        return a

    def _theta_eff(self, idx: NDArray[np.intp] | None = None) -> NDArray[np.float32]:
        """Thresholds lowered by the unit's social pressure, (H, U) (of the units `idx`, or all)."""
        if idx is None:
            result: NDArray[np.float32] = self._theta - self.pressure
        else:
            result = self._theta.take(idx, axis=1) - self.pressure[idx]
        return result

    def _decide(self) -> NDArray[np.int8]:
        """Vote codes per flat: the owner's lead flat decides for all the owner's flats."""
        if self._groups_dirty:
            reached = self._reached.copy()
            if self._nonlead_pos.size:
                np.logical_or.at(
                    reached.reshape(-1),
                    self._lead_pos,
                    self._reached.reshape(-1)[self._nonlead_pos],
                )
            np.multiply(~(reached & self._mask), np.int8(ABSENT), out=self._absent3)
            self._groups_dirty = False
        te = np.subtract(self._theta, self.pressure, out=self._buf_te)
        y = self._support
        agree = np.greater_equal(y, te, out=self._buf_agree).view(np.int8)
        te -= np.float32(self.d.abstain_band)
        code: NDArray[np.int8] = np.greater_equal(y, te).view(np.int8)
        code += np.int8(1)  # agree 0, disagree 1, abstain 2
        code -= agree
        code -= agree
        code |= self._absent3
        if self._nonlead_pos.size:
            flat = code.reshape(-1)
            flat[self._nonlead_pos] = flat[self._lead_pos]
        return code

    def mean_support(self) -> float:
        """Mean support over real flats (zero off the mask)."""
        return float(np.add.reduce(self._support, axis=None)) / self._n_mask

    def open_objections(self) -> NDArray[np.int64]:
        result: NDArray[np.int64] = self._open.sum(axis=0, dtype=np.int64)
        return result

    def _compile_tally(self) -> None:
        """The consent rule as integer rows, when every unit follows one profile: a count
        passes when num·q − p·den ≥ 0 (≥ 1 for exclusive words) and den > 0 on every row."""
        b = self.batch
        mask = b.mask
        self._tally_w = np.ascontiguousarray(
            np.stack(
                [
                    np.where(mask, b.area_cm2, 0).T,
                    (self.is_lead & mask).T,
                    (b.occupied & mask).T,
                ],
                axis=1,
            ).astype(np.int64)
        )  # (H, 3, U): area, heads, occupied
        self._tally_total = self._tally_w.sum(axis=0)  # (3, U)
        pi = b.profile_index
        self._rule: tuple[Any, ...] | None = None
        if pi.size and not (pi == pi[0]).all():
            return
        t = rule_table(b.profiles)
        p = int(pi[0]) if pi.size else 0
        rows = []  # (kind of numerator, row of counts, denominator of total?, fraction, inclusive)
        if t.q_has_area[p]:
            rows.append((0, 0, True, t.q_area[p], t.q_inclusive[p]))
        if t.q_has_heads[p]:
            rows.append((0, 1, True, t.q_heads[p], t.q_inclusive[p]))
        if t.a_has_area[p]:
            rows.append((1, 0, bool(t.a_total[p]), t.a_area[p], t.a_inclusive[p]))
        if t.a_has_heads[p]:
            rows.append((1, 1, bool(t.a_total[p]), t.a_heads[p], t.a_inclusive[p]))
        q = np.array([[int(r[3][1])] for r in rows], np.int64).reshape(-1, 1)
        frac = np.array([[int(r[3][0])] for r in rows], np.int64).reshape(-1, 1)
        thr = np.array([[0 if r[4] else 1] for r in rows], np.int64).reshape(-1, 1)
        # rows of (part, agree, total) stacked: part 0-2, agree 3-5, total 6-8
        num_rows = np.array([3 * r[0] + r[1] for r in rows], np.intp)
        den_rows = np.array([(6 if r[2] else 0) + r[1] for r in rows], np.intp)
        # num·q − frac·den for every row at once: one integer product with the stacked counts
        lin = np.zeros((len(rows), 9), np.int64)
        for i in range(len(rows)):
            lin[i, num_rows[i]] += q[i, 0]
            lin[i, den_rows[i]] -= frac[i, 0]
        self._rule = (
            num_rows,
            den_rows,
            lin,
            thr,
            bool(t.no_objection[p]),
            bool(t.occupied_agree[p]),
        )

    def _money_sums(self, idx: Any) -> None:
        """Per unit: the shares above afford_factor × ability, and the spare ability left."""
        share = self._share[:, idx]
        # off the mask share is 0 and ability positive: no gap there, and no spare (masked)
        over = np.maximum(share - self.d.afford_factor * self._ability[:, idx], 0.0)
        self._gap_fen[idx] = over.sum(axis=0)
        self._spare_fen[idx] = np.maximum(self._ability_masked[:, idx] - share, 0.0).sum(axis=0)
