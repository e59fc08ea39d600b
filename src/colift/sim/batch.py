"""Units as arrays: one row per unit (stairwell), one column per flat, a mask for real flats.

`UnitSpec`/`HouseholdSpec` describe one unit in Python objects (from a snapshot, a file or
`synthetic_unit`). `UnitBatch` holds many units as NumPy arrays of shape (U, H), built once and
read by the model; `UnitBatch.synthetic` builds a city of 1990s walk-ups directly as arrays, with
no per-household objects. Unknown values stay as sentinels (NaN support or ability, -1 vote or
technical block) and are drawn by the model from its own seed.

Cost shares are those of `rules.costshare`, to the fen, for every builder: `colift.sim.costsplit`
splits all units at once in integer arrays (the scheme parsed by costshare's own parser, the same
payable total − subsidy + compensation, the same largest-remainder rounding and tie order), and a
test checks it against the rule on random units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.coproduction.snapshot import UnitSnapshot
from colift.errors import BadInput
from colift.model import INFORMAL_ROLES, LEADER_ROLES, ObjectionStatus, Role, Tenure, Vote
from colift.model.coproduction import Stage
from colift.rules.consent import CM2_PER_M2, area_to_cm2, load_profile
from colift.rules.costshare import ShareInput, _check_fen
from colift.rules.subsidy import SubsidyInput, load_subsidy_profile
from colift.sim.costsplit import split_units
from colift.sim.params import Scenario, scheme_of
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    CONSTRUCTION,
    NEGOTIATION,
    NOTICE,
    SERVICE,
)
from colift.sim.tally import VOTE_CODES

TENURE_CODES: dict[Tenure, int] = {
    Tenure.OWNER_OCCUPIED: 0,
    Tenure.RENTED: 1,
    Tenure.ABSENTEE: 2,
    Tenure.DEVELOPER_UNSOLD: 3,
    Tenure.DEVELOPER_UNDELIVERED: 4,
}
LEADER_ORDER: tuple[Role, ...] = tuple(sorted(LEADER_ROLES, key=lambda r: r.value))
ROLE_INDEX: dict[Role, int] = {r: i for i, r in enumerate(LEADER_ORDER)}
OBJECTION_CODES: dict[ObjectionStatus, int] = {
    ObjectionStatus.OPEN: 1,
    ObjectionStatus.NEGOTIATION: 1,
    ObjectionStatus.MEDIATION: 2,
    ObjectionStatus.HEARING: 3,
    ObjectionStatus.LITIGATION: 4,
}
STAGE_PHASE: dict[Stage, int] = {
    Stage.SURVEY: NEGOTIATION,
    Stage.CONSULTATION: NEGOTIATION,
    Stage.VOTE: NEGOTIATION,
    Stage.SUSPENDED: NEGOTIATION,
    Stage.DESIGN: NOTICE,  # design follows the vote; the notice is the next gate
    Stage.NOTICE: NOTICE,
    Stage.APPROVAL: APPROVAL,
    Stage.CONSTRUCTION: CONSTRUCTION,
    Stage.ACCEPTANCE: ACCEPTANCE,
    Stage.OPERATION: SERVICE,
}
DEVELOPER_ABILITY_FEN = 10**12  # a developer never fails to pay its share
_TENURE_BY_ID = {id(t): code for t, code in TENURE_CODES.items()}
_DEVELOPER_CODES = [code for t, code in TENURE_CODES.items() if t.developer_held]
_SPEC_FIELDS = attrgetter(
    "label", "households", "storeys", "technical_block", "stage", "leaders", "ties"
)
_FLAG_FIELDS = ("elderly", "need", "party", "leader", "occupied")
_HOUSEHOLD_FIELDS = (
    *("floor", "area_cm2", "tenure", "ability_fen", "support", "vote", "objection", "owner"),
    "room",
    *_FLAG_FIELDS,
)


@dataclass(frozen=True)
class HouseholdSpec:
    """One flat. `support` is an observed stance score in [0, 1]; it overrides the prior."""

    room: str
    floor: int
    area_cm2: int
    owner: str
    tenure: Tenure = Tenure.OWNER_OCCUPIED
    elderly: bool = False
    need: bool = False
    party: bool = False
    ability_fen: int | None = None
    support: float | None = None
    vote: Vote | None = None
    leader: bool = False  # an informal leader (action or opinion leader) lives here
    occupied: bool = False  # the plan occupies this flat's exclusive part
    objection: ObjectionStatus | None = None  # its objection, if it has one


@dataclass(frozen=True)
class UnitSpec:
    label: str
    households: tuple[HouseholdSpec, ...]
    storeys: int = 6
    leaders: frozenset[Role] = frozenset()
    technical_block: bool | None = None  # None: drawn with p_technical
    stage: Stage = Stage.SURVEY
    ties: tuple[tuple[str, str, float], ...] = ()  # extra ties between rooms (kin, friends)


# ---------------------------------------------------------------- from a snapshot


def unit_spec_from_snapshot(snapshot: UnitSnapshot) -> UnitSpec:
    """The simulation's view of a recorded unit: flats, people, stances, leaders, objections."""
    leader_rooms = {
        ld.room for ld in snapshot.leaders if ld.room is not None and ld.role in INFORMAL_ROLES
    }
    objection = {o.room: o.status for o in snapshot.objections if o.status.unresolved}
    occupied = set(snapshot.occupied)
    households = tuple(
        HouseholdSpec(
            room=h.room,
            floor=h.floor,
            area_cm2=area_to_cm2(h.area_m2, f"household {h.room}: area_m2"),
            owner=h.owner,
            tenure=h.tenure,
            elderly=h.elderly,
            need=h.needs_lift,
            party=h.party_member,
            ability_fen=h.ability_to_pay_fen,
            support=h.stance.score,
            vote=h.vote,
            leader=h.room in leader_rooms,
            occupied=h.room in occupied,
            objection=objection.get(h.room),
        )
        for h in snapshot.households
    )
    if snapshot.technical:
        technical: bool | None = any(t.severity >= 3 and not t.resolved for t in snapshot.technical)
    else:
        technical = None
    rooms = set(snapshot.rooms)
    ties = tuple(
        (t.a, t.b, float(t.weight)) for t in snapshot.ties if t.a in rooms and t.b in rooms
    )
    return UnitSpec(
        label=snapshot.label,
        households=households,
        storeys=snapshot.top_floor,
        leaders=frozenset(ld.role for ld in snapshot.leaders if ld.role in LEADER_ROLES),
        technical_block=technical,
        stage=snapshot.stage,
        ties=ties,
    )


# ---------------------------------------------------------------- one synthetic unit


def _draw_unit(
    rng: np.random.Generator, d: Any, storeys: int, per_floor: int
) -> tuple[NDArray[Any], ...]:
    """One synthetic unit's draws, in the order `synthetic_unit` always made them.

    Returns areas (cm²), tenure codes, elderly, need, party, each flat's owner flat (the index
    of the flat whose owner owns it), the informal leader's flat (-1: none) and the occupied
    flag of flat 0."""
    n = storeys * per_floor
    lo, hi = d.area_m2
    areas = rng.integers(round(lo * 100), round(hi * 100) + 1, size=n) * 100
    tenures = rng.choice(4, size=n, p=list(d.tenure_shares))
    elderly = rng.random(n) < d.elderly_share
    need = rng.random(n) < d.need_share
    party = rng.random(n) < d.party_share
    second = rng.random(n) < d.two_flat_share
    partner = rng.integers(0, n, size=n)
    leader_key = rng.random(n)
    occupied_unit = rng.random() < d.p_occupied
    idx = np.arange(n)
    ok = second & (partner != idx) & ~second[partner] & (tenures != 3) & (tenures[partner] != 3)
    owner = np.where(ok, partner, idx)
    floors = idx // per_floor + 1
    lives = tenures <= 1
    candidates = lives & (floors >= 3)
    if not candidates.any():
        candidates = lives
    # the first flat with the largest key among the candidates (as max() over a list picks)
    leader = int(np.argmax(np.where(candidates, leader_key, -1.0))) if candidates.any() else -1
    occupied = np.zeros(n, bool)
    occupied[0] = occupied_unit and bool(lives[0])
    return areas, tenures, elderly, need, party, owner, np.asarray(leader), occupied


def synthetic_unit(
    rng: np.random.Generator,
    *,
    storeys: int = 6,
    per_floor: int = 2,
    label: str = "",
    scenario: Scenario | None = None,
) -> UnitSpec:
    """A 1990s walk-up stairwell: areas 45–90 m², tenure 72/15/12/1 %, elderly 35 %, a few
    owners of two flats, one informal leader living upstairs (`defaults` of `scenario`).
    Ability to pay is left to the model, which draws it from its scenario's defaults."""
    d = (scenario or Scenario()).defaults
    n = storeys * per_floor
    areas, tenures, elderly, need, party, owner, leader, occupied = _draw_unit(
        rng, d, storeys, per_floor
    )
    tenure_list = [Tenure.OWNER_OCCUPIED, Tenure.RENTED, Tenure.ABSENTEE, Tenure.DEVELOPER_UNSOLD]
    rooms = [f"{i // per_floor + 1}{i % per_floor + 1:02d}" for i in range(n)]
    households = tuple(
        HouseholdSpec(
            room=rooms[i],
            floor=i // per_floor + 1,
            area_cm2=int(areas[i]),
            owner=f"owner-{rooms[int(owner[i])]}",
            tenure=tenure_list[int(tenures[i])],
            elderly=bool(elderly[i]),
            need=bool(need[i]),
            party=bool(party[i]),
            leader=i == int(leader),
            occupied=bool(occupied[i]),
        )
        for i in range(n)
    )
    return UnitSpec(label or "synthetic", households, storeys=storeys)


def synthetic_columns(
    rng: np.random.Generator,
    n_units: int,
    *,
    storeys: int = 6,
    per_floor: int = 2,
    label_prefix: str = "u",
    scenario: Scenario | None = None,
) -> UnitColumns:
    """`n_units` units as `synthetic_unit` draws them one after the other from `rng` (the
    same draws, the same units), written straight into columns: no flat objects at all.
    `UnitBatch.from_columns` of it equals `UnitBatch.from_specs` of the specs, array for array."""
    if n_units < 1:
        raise BadInput("n_units must be at least 1")
    d = (scenario or Scenario()).defaults
    n = storeys * per_floor
    draws = [_draw_unit(rng, d, storeys, per_floor) for _ in range(n_units)]
    areas, tenures, elderly, need, party, owner, leader, occupied = (
        np.concatenate([np.atleast_1d(x[k]) for x in draws]) for k in range(8)
    )
    idx = np.arange(n)
    rooms = np.array([f"{i // per_floor + 1}{i % per_floor + 1:02d}" for i in idx])
    offset = np.repeat(np.arange(n_units, dtype=np.int64) * n, n)
    is_leader = np.zeros(n_units * n, bool)
    has = leader >= 0
    is_leader[(np.arange(n_units) * n + leader)[has]] = True
    total = n_units * n
    return UnitColumns(
        labels=[f"{label_prefix}{i}" for i in range(n_units)],
        counts=np.full(n_units, n, np.int64),
        storeys=np.full(n_units, storeys, np.int16),
        technical=np.full(n_units, -1, np.int8),
        phase0=np.zeros(n_units, np.int8),
        leaders=np.zeros((n_units, len(LEADER_ORDER)), bool),
        room=np.tile(rooms, n_units),
        floor=np.tile((idx // per_floor + 1).astype(np.int16), n_units),
        area_cm2=areas.astype(np.int64),
        tenure=tenures.astype(np.int8),
        owner=offset + owner,
        elderly=elderly,
        need=need,
        party=party,
        leader=is_leader,
        occupied=occupied,
        ability_fen=np.full(total, np.nan),
        support=np.full(total, np.nan),
        vote=np.full(total, -1, np.int8),
        objection=np.zeros(total, np.int8),
    )


@dataclass
class UnitColumns:
    """Units as columns: one array per household field over the flats of all units (units in
    order, each unit's flats in listed order; `counts` says how many each has) and one array
    per unit field. What `UnitBatch.from_columns` builds the model's arrays from with array
    operations only; `UnitColumns.from_specs` reads unit specs into it once.

    Unknown values are sentinels as in `UnitBatch` (NaN ability or support, -1 vote, -1
    technical block). Equal `owner` codes within a unit are one owner. Extra ties are rows
    (unit, flat a, flat b, weight) with a and b positions within the unit."""

    labels: list[str]
    counts: NDArray[np.int64]
    storeys: NDArray[np.int16]
    technical: NDArray[np.int8]
    phase0: NDArray[np.int8]
    leaders: NDArray[np.bool_]  # (U, 6) in LEADER_ORDER
    room: NDArray[np.str_]
    floor: NDArray[np.int16]
    area_cm2: NDArray[np.int64]
    tenure: NDArray[np.int8]  # TENURE_CODES
    owner: NDArray[np.int64]
    elderly: NDArray[np.bool_]
    need: NDArray[np.bool_]
    party: NDArray[np.bool_]
    leader: NDArray[np.bool_]
    occupied: NDArray[np.bool_]
    ability_fen: NDArray[np.float64]
    support: NDArray[np.float64]
    vote: NDArray[np.int8]
    objection: NDArray[np.int8]
    tie_unit: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    tie_a: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    tie_b: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    tie_w: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    ties_given: bool = False  # some unit listed ties (the batch then carries a tie array)

    @property
    def n_units(self) -> int:
        return int(self.counts.size)

    @classmethod
    def from_specs(cls, specs: Sequence[UnitSpec]) -> UnitColumns:
        """Read unit specs once: each field of all flats in one C-level pass, then as arrays."""
        if not specs:
            raise BadInput("no units to simulate")
        u_n = len(specs)
        (s_label, s_hh, s_storeys, s_technical, s_stage, s_leaders, s_ties) = zip(
            *map(_SPEC_FIELDS, specs), strict=True
        )
        counts = np.fromiter(map(len, s_hh), np.int64, u_n)
        if (counts == 0).any():
            for spec in specs:
                _check_spec(spec)
        n = int(counts.sum())
        fields = [vars(h) for hs in s_hh for h in hs]
        columns = [list(map(itemgetter(name), fields)) for name in _HOUSEHOLD_FIELDS]
        (c_floor, c_area, c_tenure, c_ability, c_support, c_vote, c_obj, c_owner, c_room) = columns[
            :9
        ]

        # Unknown values are None; a column of Nones only (the usual case) is not read further.
        def known(column: list[Any], convert: Any, dtype: Any, fill: Any) -> NDArray[Any]:
            if column.count(None) == n:
                return np.full(n, fill, dtype)
            return np.asarray(convert(column), dtype)

        owners = {o: i for i, o in enumerate(dict.fromkeys(c_owner))}
        leaders = np.zeros((u_n, len(LEADER_ORDER)), bool)
        tie_rows: list[tuple[int, int, int, float]] = []
        starts = np.cumsum(counts) - counts
        for u, (roles, unit_ties) in enumerate(zip(s_leaders, s_ties, strict=True)):
            for role in roles:
                if role in ROLE_INDEX:
                    leaders[u, ROLE_INDEX[role]] = True
            if unit_ties:
                a0 = int(starts[u])
                index = {r: i for i, r in enumerate(c_room[a0 : a0 + int(counts[u])])}
                for a, b, w in unit_ties:
                    if a in index and b in index and a != b:
                        tie_rows.append((u, index[a], index[b], w))
        ties = np.asarray(tie_rows, np.float64).reshape(-1, 4)
        return cls(
            labels=list(s_label),
            counts=counts,
            storeys=np.fromiter(s_storeys, np.int16, u_n),
            technical=np.fromiter((-1 if t is None else int(t) for t in s_technical), np.int8, u_n),
            phase0=np.fromiter((STAGE_PHASE.get(s, NEGOTIATION) for s in s_stage), np.int8, u_n),
            leaders=leaders,
            room=np.array(c_room, dtype=str),
            floor=np.asarray(c_floor, np.int16),
            area_cm2=np.asarray(c_area, np.int64),
            # Enum members are singletons: look them up by identity (hashing an Enum is slow).
            tenure=np.fromiter(map(_TENURE_BY_ID.__getitem__, map(id, c_tenure)), np.int8, n),
            owner=np.fromiter(map(owners.__getitem__, c_owner), np.int64, n),
            **{k: np.asarray(columns[9 + i], bool) for i, k in enumerate(_FLAG_FIELDS)},
            ability_fen=known(c_ability, list, np.float64, np.nan),  # None reads as NaN
            support=known(c_support, list, np.float64, np.nan),
            vote=known(
                c_vote, lambda c: [-1 if v is None else VOTE_CODES[v] for v in c], np.int8, -1
            ),
            objection=known(
                c_obj,
                lambda c: [0 if o is None else OBJECTION_CODES.get(o, 0) for o in c],
                np.int8,
                0,
            ),
            tie_unit=ties[:, 0].astype(np.int64),
            tie_a=ties[:, 1].astype(np.int64),
            tie_b=ties[:, 2].astype(np.int64),
            tie_w=ties[:, 3].astype(np.float32),
            ties_given=any(map(bool, s_ties)),
        )


# ---------------------------------------------------------------- the arrays


def _scenario_key(scenario: Scenario) -> tuple[Any, ...]:
    return (
        scenario.consent_profile,
        scenario.subsidy_profile,
        scenario.total_cost_fen,
        repr(sorted(_flat(scenario.scheme).items())),
        scenario.compensation_fen,
    )


def _flat(scheme: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): repr(v) for k, v in scheme.items()}


@dataclass
class UnitBatch:
    """Many units as arrays of shape (U, H) plus per-unit arrays of shape (U,)."""

    labels: list[str]
    mask: NDArray[np.bool_]
    floor: NDArray[np.int16]
    stack: NDArray[np.int16]
    area_cm2: NDArray[np.int64]
    tenure: NDArray[np.int8]
    lead: NDArray[np.int16]  # index of the flat that casts this flat's owner's vote
    elderly: NDArray[np.bool_]
    need: NDArray[np.bool_]
    party: NDArray[np.bool_]
    leader: NDArray[np.bool_]
    occupied: NDArray[np.bool_]
    ability_fen: NDArray[np.float64]  # NaN: drawn by the model
    support: NDArray[np.float64]  # NaN: drawn from the prior by the model
    vote: NDArray[np.int8]  # -1: no vote recorded
    objection: NDArray[np.int8]  # 0 none, 1-4 negotiation … litigation
    weight: NDArray[np.float64]  # cost-share weight under the scheme
    share_fen: NDArray[np.float64]
    storeys: NDArray[np.int16]
    total_fen: NDArray[np.int64]
    subsidy_fen: NDArray[np.int64]
    compensation_fen: NDArray[np.int64]  # K per 1F household
    payable_fen: NDArray[np.int64]
    technical: NDArray[np.int8]  # -1 drawn, 0 none, 1 blocking
    phase0: NDArray[np.int8]
    leaders: NDArray[np.bool_]  # (U, 6) in LEADER_ORDER
    profile_index: NDArray[np.int16]
    profiles: tuple[str, ...]
    ties: NDArray[np.float32] | None = None  # (U, H, H) extra tie weights
    rooms: list[tuple[str, ...]] | None = None
    scenario_key: tuple[Any, ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -------------------------------------------------------- shape and views

    @property
    def n_units(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    @property
    def n_households(self) -> int:
        return int(self.mask.sum())

    @property
    def is_lead(self) -> NDArray[np.bool_]:
        cached = self._cache.get("is_lead")
        if cached is None:
            cached = self.lead == np.arange(self.width, dtype=np.int16)
            self._cache["is_lead"] = cached
        result: NDArray[np.bool_] = cached
        return result

    @property
    def lives_here(self) -> NDArray[np.bool_]:
        return self.mask & (self.tenure <= 1)

    @property
    def developer(self) -> NDArray[np.bool_]:
        return self.mask & (self.tenure >= 3)

    def _arrays(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }

    def select(self, index: NDArray[np.integer] | NDArray[np.bool_]) -> UnitBatch:
        """The units at `index` (integer positions or a boolean mask), in that order."""
        idx = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index)
        arrays = {k: v[idx] for k, v in self._arrays().items()}
        return dataclasses.replace(
            self,
            labels=[self.labels[i] for i in idx],
            rooms=None if self.rooms is None else [self.rooms[i] for i in idx],
            _cache={},
            **arrays,
        )

    @classmethod
    def concatenate(cls, batches: Sequence[UnitBatch]) -> UnitBatch:
        """One batch of all units (padded to the widest); profiles are merged by name."""
        if not batches:
            raise BadInput("no batches to join")
        width = max(b.width for b in batches)
        profiles = tuple(dict.fromkeys(p for b in batches for p in b.profiles))
        parts: dict[str, list[Any]] = {}
        for b in batches:
            for name, arr in b._arrays().items():
                if name == "profile_index":
                    remap = np.array([profiles.index(p) for p in b.profiles], dtype=np.int16)
                    arr = remap[arr]
                elif arr.ndim >= 2 and arr.shape[1] == b.width and name != "leaders":
                    arr = _pad(arr, width, name)
                parts.setdefault(name, []).append(arr)
        ties_any = any(b.ties is not None for b in batches)
        arrays: dict[str, Any] = {}
        for name, chunks in parts.items():
            if name == "ties":
                continue
            arrays[name] = np.concatenate(chunks, axis=0)
        ties = None
        if ties_any:
            ties = np.concatenate(
                [
                    _pad(b.ties, width, "ties")
                    if b.ties is not None
                    else np.zeros((b.n_units, width, width), np.float32)
                    for b in batches
                ]
            )
        keys = {b.scenario_key for b in batches}
        return cls(
            labels=[lb for b in batches for lb in b.labels],
            rooms=None
            if any(b.rooms is None for b in batches)
            else [r for b in batches for r in (b.rooms or [])],
            profiles=profiles,
            ties=ties,
            scenario_key=keys.pop() if len(keys) == 1 else (),
            **arrays,
        )

    # -------------------------------------------------------- scenario-dependent parts

    def for_scenario(self, scenario: Scenario) -> UnitBatch:
        """This batch under `scenario`'s rule and money: itself when they already match."""
        key = _scenario_key(scenario)
        if key == self.scenario_key:
            return self
        money = _money(self.floor, self.area_cm2, self.mask, self.storeys, scenario)
        profiles = (scenario.consent_profile,)
        return dataclasses.replace(
            self,
            profiles=profiles,
            profile_index=np.zeros(self.n_units, dtype=np.int16),
            scenario_key=key,
            _cache={},
            **money,
        )

    def with_consent_profile(self, name: str) -> UnitBatch:
        """The same units counted under another consent rule."""
        load_profile(name)
        return dataclasses.replace(
            self,
            profiles=(name,),
            profile_index=np.zeros(self.n_units, dtype=np.int16),
            scenario_key=(),
            _cache={},
        )

    # -------------------------------------------------------- builders

    @classmethod
    def from_specs(cls, specs: Sequence[UnitSpec], scenario: Scenario) -> UnitBatch:
        """Arrays from unit specs; shares split as `rules.costshare` splits them, to the fen.

        The specs are read once into columns (`UnitColumns.from_specs`: each field of all
        flats in one pass) and built by `from_columns`."""
        return cls.from_columns(UnitColumns.from_specs(specs), scenario)

    @classmethod
    def from_columns(cls, cols: UnitColumns, scenario: Scenario) -> UnitBatch:
        """Arrays from units as columns, with array operations only; the cost split is
        `colift.sim.costsplit` (integer arrays, tested equal to the rule)."""
        u_n = cols.n_units
        if u_n == 0:
            raise BadInput("no units to simulate")
        counts = cols.counts
        if (counts == 0).any():
            raise BadInput(
                "unit {unit}: no households", unit=cols.labels[int(np.argmax(counts == 0))]
            )
        width = int(counts.max())
        shape = (u_n, width)
        n = int(counts.sum())
        unit = np.repeat(np.arange(u_n), counts)
        col = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
        at = (unit, col)
        # Units of one width (the usual case) need no scatter: a column is the array, reshaped.
        uniform = n == u_n * width

        def scatter(values: Any, dtype: Any, fill: Any) -> NDArray[Any]:
            flat = np.asarray(values, dtype)
            if uniform:
                return flat.reshape(shape)
            out = np.full(shape, fill, dtype)
            out[at] = flat
            return out

        def gather(a: NDArray[Any]) -> NDArray[Any]:
            return a.reshape(-1) if uniform else a[at]

        mask = scatter(np.ones(n, bool), bool, False)
        floor = scatter(cols.floor, np.int16, 0)
        area = scatter(cols.area_cm2, np.int64, 0)
        tenure = scatter(cols.tenure, np.int8, 0)
        developer = np.isin(tenure, _DEVELOPER_CODES) & mask
        flags: dict[str, Any] = {k: scatter(getattr(cols, k), bool, False) for k in _FLAG_FIELDS}
        ability = scatter(cols.ability_fen, np.float64, np.nan)
        ability = np.where(np.isnan(ability) & developer, float(DEVELOPER_ABILITY_FEN), ability)
        support = scatter(cols.support, np.float64, np.nan)
        vote = scatter(cols.vote, np.int8, -1)
        objection = scatter(cols.objection, np.int8, 0)
        # The n-th flat of a floor (in listed order) is stack n: rank within (unit, floor).
        flat_floor = np.asarray(cols.floor)
        if uniform and np.array_equal(
            flat_floor.reshape(shape), np.broadcast_to(flat_floor[:width], shape)
        ):
            # every unit laid out alike (the usual case): rank the first unit's floors only
            first_floor = flat_floor[:width]
            order = np.lexsort((np.arange(width), first_floor))
            grp = first_floor[order]
            starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
            ranks = np.arange(width) - np.repeat(starts, np.diff(np.r_[starts, width]))
            row = np.zeros(width, np.int16)
            row[order] = ranks
            stack = np.broadcast_to(row, shape).copy()
        else:
            by_floor = np.lexsort((col, flat_floor, unit))
            group = unit[by_floor] * (int(flat_floor.max()) + 1) + flat_floor[by_floor]
            starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
            ranks = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
            stack = np.zeros(shape, np.int16)
            stack[unit[by_floor], col[by_floor]] = ranks
        # A flat's vote is cast by its owner's first flat; developer-held flats are one owner.
        owner_id = np.asarray(cols.owner, np.int64)
        n_owners = int(owner_id.max()) + 1 if n else 0
        owner_id = np.where(gather(developer), n_owners, owner_id)
        _, first, inverse = np.unique(
            unit * (n_owners + 1) + owner_id, return_index=True, return_inverse=True
        )
        lead = np.tile(np.arange(width, dtype=np.int16), (u_n, 1))
        lead[at] = col[first[inverse.ravel()]]
        room_text = cols.room
        c_room = room_text.tolist()
        ends = np.cumsum(counts).tolist()
        rooms = [tuple(c_room[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        # Rooms as whole numbers in the order of their ids (the rule's tie order reads ids).
        by_room = np.argsort(room_text, kind="stable")
        room_code = np.empty(n, np.int64)
        room_code[by_room] = np.arange(n)
        room_order = scatter(room_code, np.int64, 0)
        storeys = np.asarray(cols.storeys, np.int16)
        # Every check at once; the first unit that fails one says why.
        same_room = np.zeros(n, bool)
        if n > 1:
            ordered = room_text[by_room]
            dup = (ordered[1:] == ordered[:-1]) & (unit[by_room][1:] == unit[by_room][:-1])
            same_room[by_room[1:][dup]] = True
        flat_support = np.asarray(cols.support, np.float64)
        flat_area = np.asarray(cols.area_cm2)
        bad_floor = (flat_floor < 1) | (flat_floor > storeys[unit])
        bad_support = ~((flat_support >= 0.0) & (flat_support <= 1.0) | np.isnan(flat_support))
        bad = bad_floor | (flat_area <= 0) | bad_support | same_room
        if bad.any():
            _explain(cols, unit, bad, same_room, bad_floor, flat_area <= 0, bad_support)
        ties: NDArray[np.float32] | None = None
        if cols.tie_w.size or cols.ties_given:
            ties = np.zeros((u_n, width, width), np.float32)
            # a → b then b → a for each tie in its order: the same float32 sums as one by one
            tu = np.repeat(cols.tie_unit, 2)
            ta = np.stack([cols.tie_a, cols.tie_b], axis=1).ravel()
            tb = np.stack([cols.tie_b, cols.tie_a], axis=1).ravel()
            np.add.at(ties, (tu, ta, tb), np.repeat(cols.tie_w, 2))
        money = _money(floor, area, mask, storeys, scenario, room_order)
        return cls(
            labels=list(cols.labels),
            mask=mask,
            floor=floor,
            stack=stack,
            area_cm2=area,
            tenure=tenure,
            lead=lead,
            ability_fen=ability,
            support=support,
            vote=vote,
            objection=objection,
            storeys=storeys,
            technical=np.asarray(cols.technical, np.int8),
            phase0=np.asarray(cols.phase0, np.int8),
            leaders=np.asarray(cols.leaders, bool),
            profile_index=np.zeros(u_n, np.int16),
            profiles=(scenario.consent_profile,),
            ties=ties,
            rooms=rooms,
            scenario_key=_scenario_key(scenario),
            **flags,
            **money,
        )

    @classmethod
    def synthetic(
        cls,
        n_units: int,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        storeys: Sequence[int] = (6,),
        storey_weights: Sequence[float] | None = None,
        per_floor: int = 2,
        label_prefix: str = "u",
    ) -> UnitBatch:
        """A city of 1990s walk-ups drawn directly as arrays (the distributions of
        `synthetic_unit`); one million households build in about a second."""
        if n_units < 1:
            raise BadInput("n_units must be at least 1")
        if any(s < 1 for s in storeys) or per_floor < 1:
            raise BadInput("storeys and per_floor must be at least 1")
        d = scenario.defaults
        p = None if storey_weights is None else np.asarray(storey_weights, float)
        if p is not None:
            p = p / p.sum()
        n_storeys = rng.choice(np.asarray(storeys, np.int16), size=n_units, p=p).astype(np.int16)
        width = int(max(storeys)) * per_floor
        shape = (n_units, width)
        col = np.arange(width, dtype=np.int16)
        floor1 = (col // per_floor + 1).astype(np.int16)
        mask = floor1[None, :] <= n_storeys[:, None]
        floor = np.where(mask, floor1[None, :], 0).astype(np.int16)
        stack = np.broadcast_to((col % per_floor).astype(np.int16), shape).copy()
        lo, hi = d.area_m2
        area = rng.integers(round(lo * 100), round(hi * 100) + 1, size=shape) * 100
        cum = np.cumsum(d.tenure_shares)
        tenure = np.searchsorted(cum, rng.random(shape) * cum[-1], side="right")
        tenure = np.minimum(tenure, 3).astype(np.int8)
        elderly = (rng.random(shape) < d.elderly_share) & mask
        need = (rng.random(shape) < d.need_share) & mask
        party = (rng.random(shape) < d.party_share) & mask
        dev = (tenure == 3) & mask
        # Ability to pay is drawn by the model, so a sweep over its defaults takes effect.
        ability = np.where(dev, float(DEVELOPER_ABILITY_FEN), np.nan)
        # Owners of two flats: a second flat joins a random first flat of the same unit.
        n_here = (n_storeys.astype(np.int64) * per_floor)[:, None]
        second = (rng.random(shape) < d.two_flat_share) & mask & ~dev
        partner = (rng.random(shape) * n_here).astype(np.int64)
        row = np.arange(n_units)[:, None]
        ok = second & (partner != col[None, :]) & ~second[row, partner] & ~dev[row, partner]
        group = np.where(ok, partner, col[None, :].astype(np.int64))
        first_dev = np.where(dev.any(axis=1), np.argmax(dev, axis=1), 0)
        group = np.where(dev, first_dev[:, None], group)
        same = (group[:, :, None] == group[:, None, :]) & mask[:, None, :]
        lead = np.argmax(same, axis=2).astype(np.int16)
        lead = np.where(mask, lead, col[None, :]).astype(np.int16)
        # The informal leader lives upstairs in the stairwell when anyone does.
        lives = mask & (tenure <= 1)
        key = rng.random(shape) + np.where(floor >= 3, 1.0, 0.0)
        key = np.where(lives, key, -1.0)
        pick = np.argmax(key, axis=1)
        leader = np.zeros(shape, bool)
        leader[np.arange(n_units), pick] = key[np.arange(n_units), pick] >= 0
        occupied = np.zeros(shape, bool)
        occupied[:, 0] = (rng.random(n_units) < d.p_occupied) & lives[:, 0]
        money = _money(floor, area, mask, n_storeys, scenario)
        return cls(
            labels=[f"{label_prefix}{i}" for i in range(n_units)],
            mask=mask,
            floor=floor,
            stack=stack,
            area_cm2=area.astype(np.int64),
            tenure=tenure,
            lead=lead,
            elderly=elderly,
            need=need,
            party=party,
            leader=leader,
            occupied=occupied,
            ability_fen=ability,
            support=np.full(shape, np.nan),
            vote=np.full(shape, -1, np.int8),
            objection=np.zeros(shape, np.int8),
            storeys=n_storeys,
            technical=np.full(n_units, -1, np.int8),
            phase0=np.zeros(n_units, np.int8),
            leaders=np.zeros((n_units, len(LEADER_ORDER)), bool),
            profile_index=np.zeros(n_units, np.int16),
            profiles=(scenario.consent_profile,),
            scenario_key=_scenario_key(scenario),
            **money,
        )


def _pad(arr: NDArray[Any], width: int, name: str) -> NDArray[Any]:
    extra = width - arr.shape[1]
    if extra <= 0:
        return arr
    if name == "ties":
        return np.pad(arr, ((0, 0), (0, extra), (0, extra)))
    fill: Any = 0
    if name in ("ability_fen", "support"):
        fill = np.nan
    elif name == "vote":
        fill = -1
    pad = np.full((arr.shape[0], extra, *arr.shape[2:]), fill, dtype=arr.dtype)
    if name == "lead":
        pad = np.broadcast_to(
            np.arange(arr.shape[1], width, dtype=arr.dtype), (arr.shape[0], extra)
        ).copy()
    return np.concatenate([arr, pad], axis=1)


def _check_spec(spec: UnitSpec) -> None:
    if not spec.households:
        raise BadInput("unit {unit}: no households", unit=spec.label)
    rooms = [h.room for h in spec.households]
    if len(set(rooms)) != len(rooms):
        raise BadInput("unit {unit}: a room is listed twice", unit=spec.label)
    for h in spec.households:
        if h.floor < 1 or h.floor > spec.storeys:
            raise BadInput(
                "unit {unit}: household {room} on floor {floor}, outside storeys 1–{storeys}",
                unit=spec.label,
                room=h.room,
                floor=h.floor,
                storeys=spec.storeys,
            )
        if h.area_cm2 <= 0:
            raise BadInput(
                "unit {unit}: household {room} needs an area above 0", unit=spec.label, room=h.room
            )
        if h.support is not None and not 0.0 <= h.support <= 1.0:
            raise BadInput(
                "unit {unit}: household {room} support must be in [0, 1]",
                unit=spec.label,
                room=h.room,
            )


def _explain(
    cols: UnitColumns,
    unit: NDArray[np.intp],
    bad: NDArray[np.bool_],
    same_room: NDArray[np.bool_],
    bad_floor: NDArray[np.bool_],
    bad_area: NDArray[np.bool_],
    bad_support: NDArray[np.bool_],
) -> None:
    """Raise for the first unit with a bad flat, in the words and order of `_check_spec`."""
    u = int(unit[int(np.argmax(bad))])
    label = cols.labels[u]
    mine = np.flatnonzero(unit == u)
    if same_room[mine].any():
        raise BadInput("unit {unit}: a room is listed twice", unit=label)
    for i in mine:
        room = str(cols.room[i])
        if bad_floor[i]:
            raise BadInput(
                "unit {unit}: household {room} on floor {floor}, outside storeys 1–{storeys}",
                unit=label,
                room=room,
                floor=int(cols.floor[i]),
                storeys=int(cols.storeys[u]),
            )
        if bad_area[i]:
            raise BadInput(
                "unit {unit}: household {room} needs an area above 0", unit=label, room=room
            )
        if bad_support[i]:
            raise BadInput(
                "unit {unit}: household {room} support must be in [0, 1]", unit=label, room=room
            )


def as_batch(units: Sequence[UnitSpec] | UnitColumns | UnitBatch, scenario: Scenario) -> UnitBatch:
    """A batch from specs, columns or a batch (itself)."""
    if isinstance(units, UnitBatch):
        return units
    if isinstance(units, UnitColumns):
        return UnitBatch.from_columns(units, scenario)
    return UnitBatch.from_specs(list(units), scenario)


def _m2_text(cm2: int) -> str:
    return str(Decimal(cm2) / CM2_PER_M2)


def scheme_weights(
    scenario: Scenario,
    floor: NDArray[np.int16],
    area_cm2: NDArray[np.int64],
    mask: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Each flat's weight under the scenario's scheme, read from costshare's `CostScheme`."""
    scheme = scheme_of(scenario)
    top = int(floor.max()) if floor.size else 1
    per_floor = np.zeros(top + 1)
    for f in range(1, top + 1):
        # A 1 m² flat's weight is the floor coefficient under area schemes.
        per_floor[f] = float(scheme.weight(ShareInput(f"floor {f}", f, Decimal(1)), "scheme"))
    weight = per_floor[floor]
    if scheme.uses_area:
        weight = weight * area_cm2
    result: NDArray[np.float64] = np.where(mask, weight, 0.0)
    return result


def subsidy_by_storeys(scenario: Scenario, storeys: NDArray[np.int16]) -> NDArray[np.int64]:
    """The subsidy profile's amount for each unit, computed once per storey count."""
    out = np.zeros(storeys.shape, np.int64)
    if scenario.subsidy_profile is None:
        return out
    profile = load_subsidy_profile(scenario.subsidy_profile)
    for s in np.unique(storeys):
        fen = profile.compute(SubsidyInput(scenario.total_cost_fen, int(s))).fen
        out[storeys == s] = fen
    return out


def _money(
    floor: NDArray[np.int16],
    area: NDArray[np.int64],
    mask: NDArray[np.bool_],
    storeys: NDArray[np.int16],
    scenario: Scenario,
    rooms: NDArray[Any] | None = None,
) -> dict[str, Any]:
    """Each unit's money under the scenario: the split of `rules.costshare`, to the fen.

    `rooms` (U, H) break ties as the rule does (higher floor, then smaller room id); without
    them the column order stands for the room order.
    """
    _check_fen(scenario.total_cost_fen, "total_fen")
    _check_fen(scenario.compensation_fen, "compensation fen_each")
    weight = scheme_weights(scenario, floor, area, mask)
    u_n = mask.shape[0]
    total = np.full(u_n, scenario.total_cost_fen, np.int64)
    subsidy = subsidy_by_storeys(scenario, storeys)
    comp = np.full(u_n, scenario.compensation_fen, np.int64)
    split = split_units(scheme_of(scenario), total, subsidy, comp, floor, area, mask, rooms)
    return {
        "weight": weight,
        "share_fen": split.share_fen.astype(np.float64),
        "total_fen": total,
        "subsidy_fen": subsidy,
        "compensation_fen": comp,
        "payable_fen": split.payable_fen,
    }
