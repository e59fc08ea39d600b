"""The array cost split equals `rules.costshare` to the fen, on random units."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.errors import BadInput
from colift.rules.costshare import (
    MAX_FEN,
    Compensation,
    CostScheme,
    ShareInput,
    apportion,
    share_costs,
)
from colift.sim.costsplit import split_fen, split_units, tie_rank

coefficient = st.fractions(min_value=0, max_value=3, max_denominator=20)


@st.composite
def schemes(draw: st.DrawFn) -> CostScheme:
    kind = draw(st.sampled_from(["floor-coefficient", "floor-coefficient", "equal", "area"]))
    exempt = frozenset(draw(st.sets(st.integers(1, 3), max_size=1)))
    if kind != "floor-coefficient":
        return CostScheme(kind, exempt_floors=exempt)
    coefficients = draw(st.dictionaries(st.integers(1, 9), coefficient, max_size=9))
    default = draw(coefficient)  # every floor has a coefficient, so every unit can be split
    return CostScheme(
        kind, coefficients, area_weighted=draw(st.booleans()), default=default, exempt_floors=exempt
    )


@st.composite
def units(draw: st.DrawFn) -> tuple[int, list[ShareInput]]:
    storeys = draw(st.integers(1, 9))
    n = draw(st.integers(1, 14))
    rooms = draw(
        st.lists(
            st.text("0123456789-AB", min_size=1, max_size=4), min_size=n, max_size=n, unique=True
        )
    )
    flats = []
    for room in rooms:
        floor = draw(st.integers(1, storeys))
        # Areas alike on purpose now and then, so remainders tie and the tie order decides.
        cm2 = draw(st.one_of(st.just(600_000), st.integers(1, 2_000_000)))
        flats.append(ShareInput(room, floor, Decimal(cm2) / 10_000))
    return storeys, flats


@settings(max_examples=150, deadline=None)
@given(
    scheme=schemes(),
    batch=st.lists(units(), min_size=1, max_size=5),
    total=st.integers(0, MAX_FEN),
    subsidy_part=st.fractions(0, 1),
    compensation=st.one_of(st.just(0), st.integers(0, 5_000_000)),
)
def test_the_array_split_equals_the_rule_to_the_fen(
    scheme: CostScheme,
    batch: list[tuple[int, list[ShareInput]]],
    total: int,
    subsidy_part: Fraction,
    compensation: int,
) -> None:
    subsidy = int(total * subsidy_part)
    expected: list[list[int] | None] = []
    for _, flats in batch:
        comp = (
            [Compensation(compensation, floors=frozenset({1}))]
            if compensation and any(f.floor == 1 for f in flats)
            else []
        )
        try:
            result = share_costs(flats, total, scheme, subsidy=subsidy, compensation=comp)
        except BadInput:
            expected.append(None)  # nobody can pay: the array split must refuse it too
            continue
        expected.append([line.fen for line in result.lines])
        assert [line.compensation_fen for line in result.lines] == [
            compensation if f.floor == 1 else 0 for f in flats
        ]
    width = max(len(f) for _, f in batch)
    shape = (len(batch), width)
    floor = np.zeros(shape, np.int16)
    area = np.zeros(shape, np.int64)
    mask = np.zeros(shape, bool)
    rooms = np.full(shape, "", dtype=object)
    for u, (_, flats) in enumerate(batch):
        for i, f in enumerate(flats):
            assert f.area_m2 is not None
            floor[u, i], area[u, i], mask[u, i] = f.floor, int(f.area_m2 * 10_000), True
            rooms[u, i] = f.id
    rooms_text = rooms.astype(str)
    n_units = len(batch)
    args = (
        np.full(n_units, total),
        np.full(n_units, subsidy),
        np.full(n_units, compensation),
        floor,
        area,
        mask,
        rooms_text,
    )
    if any(e is None for e in expected):
        with pytest.raises(BadInput):
            split_units(scheme, *args)
        return
    split = split_units(scheme, *args)
    for u, (_, flats) in enumerate(batch):
        assert split.share_fen[u, : len(flats)].tolist() == expected[u]
        assert not split.share_fen[u, len(flats) :].any()
        comp_here = compensation * sum(f.floor == 1 for f in flats)
        assert int(split.payable_fen[u]) == total - subsidy + comp_here
        assert int(split.share_fen[u].sum()) == int(split.payable_fen[u])
        net = split.net_fen[u, : len(flats)].tolist()
        assert net == [
            s - (compensation if f.floor == 1 else 0)
            for s, f in zip(expected[u] or [], flats, strict=True)
        ]


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(0, 2**40), min_size=1, max_size=12).filter(any),
    amount=st.integers(2**30, MAX_FEN),
)
def test_huge_products_split_exactly_in_python_integers(weights: list[int], amount: int) -> None:
    # amount × weight passes 2**62 here, so the exact (object) path is taken.
    w = np.array([weights], np.int64)
    mask = np.ones_like(w, bool)
    rank = np.arange(len(weights), dtype=np.int64)[None, :]
    assert split_fen(np.array([amount]), w, rank, mask)[0].tolist() == apportion(amount, weights)


def test_tie_order_is_higher_floor_then_smaller_room() -> None:
    floor = np.array([[1, 2, 2, 3, 0]], np.int16)
    mask = np.array([[True, True, True, True, False]])
    rooms = np.array([["101", "202", "201", "301", ""]])
    assert tie_rank(floor, mask, rooms)[0, :4].tolist() == [3, 2, 1, 0]
    # Four equal flats, 10 fen: 2 each, and the two left over go to the top of the tie order.
    weight = np.array([[1, 1, 1, 1, 0]], np.int64)
    shares = split_fen(np.array([10]), weight, tie_rank(floor, mask, rooms), mask)
    assert shares.tolist() == [[2, 2, 3, 3, 0]]
    assert shares.tolist()[0][:4] == apportion(
        10, [1, 1, 1, 1], [(-1, "101"), (-2, "202"), (-2, "201"), (-3, "301")]
    )


def test_from_specs_reads_every_flat_as_a_loop_over_flats_would() -> None:
    import dataclasses

    from colift.model import ObjectionStatus, Tenure, Vote
    from colift.sim.batch import (
        DEVELOPER_ABILITY_FEN,
        OBJECTION_CODES,
        TENURE_CODES,
        UnitBatch,
        synthetic_unit,
    )
    from colift.sim.params import Scenario
    from colift.sim.tally import VOTE_CODES

    rng = np.random.default_rng(4)
    specs = []
    for u in range(6):
        spec = synthetic_unit(rng, label=f"u{u}", storeys=4 + u % 3)
        flats = list(spec.households)
        # a second flat of the first owner, a developer flat, a vote, an objection, a stance
        flats[1] = dataclasses.replace(flats[1], owner=flats[0].owner)
        flats[-1] = dataclasses.replace(flats[-1], tenure=Tenure.DEVELOPER_UNSOLD, ability_fen=None)
        flats[2] = dataclasses.replace(flats[2], vote=Vote.AGREE, support=0.25)
        flats[3] = dataclasses.replace(flats[3], objection=ObjectionStatus.MEDIATION)
        specs.append(dataclasses.replace(spec, households=tuple(reversed(flats[u % 2 :]))))
    batch = UnitBatch.from_specs(specs, Scenario())
    for u, spec in enumerate(specs):
        assert batch.rooms is not None and batch.rooms[u] == tuple(h.room for h in spec.households)
        first: dict[str, int] = {}
        seen: dict[int, int] = {}
        for i, h in enumerate(spec.households):
            key = "\x00developer" if h.tenure.developer_held else h.owner
            assert batch.lead[u, i] == first.setdefault(key, i)
            assert batch.stack[u, i] == seen.get(h.floor, 0)
            seen[h.floor] = seen.get(h.floor, 0) + 1
            assert (batch.floor[u, i], batch.area_cm2[u, i]) == (h.floor, h.area_cm2)
            assert batch.tenure[u, i] == TENURE_CODES[h.tenure]
            ability = h.ability_fen or (DEVELOPER_ABILITY_FEN if h.tenure.developer_held else None)
            assert (np.isnan(batch.ability_fen[u, i]) and ability is None) or (
                batch.ability_fen[u, i] == ability
            )
            assert batch.vote[u, i] == (-1 if h.vote is None else VOTE_CODES[h.vote])
            support = batch.support[u, i]
            assert (np.isnan(support) and h.support is None) or support == h.support
            assert batch.objection[u, i] == (
                0 if h.objection is None else OBJECTION_CODES[h.objection]
            )
            for flag in ("elderly", "need", "party", "leader", "occupied"):
                assert getattr(batch, flag)[u, i] == getattr(h, flag)
        assert not batch.mask[u, len(spec.households) :].any()
        assert batch.lead[u, len(spec.households) :].tolist() == list(
            range(len(spec.households), batch.width)
        )


@settings(max_examples=60, deadline=None)
@given(
    batch=units(),
    total=st.integers(1_000_000, 100_000_000),
    compensation=st.integers(0, 3_000_000),
    data=st.data(),
)
def test_funding_levers_equal_the_rule(
    batch: tuple[int, list[ShareInput]], total: int, compensation: int, data: st.DataObject
) -> None:
    from colift.rules.costshare import FundingLever, LeverKind
    from colift.sim.costsplit import funding

    _, flats = batch
    scheme = CostScheme("area")
    comp = [Compensation(compensation, floors=frozenset({1}))] if compensation else []
    try:
        plain = share_costs(flats, total, scheme, compensation=comp)
    except BadInput:
        return  # nothing to fund
    sources_kinds = [k for k in LeverKind if k is not LeverKind.INSTALMENTS]
    levers: list[FundingLever] = []
    shape = (1, len(flats))
    sources = np.zeros(shape, np.int64)
    count = np.zeros(shape, np.int64)
    now = np.zeros(shape, np.int64)
    uses = np.zeros(shape, bool)
    for i, line in enumerate(plain.lines):
        net = line.fen - line.compensation_fen
        if net <= 0 or not data.draw(st.booleans()):
            continue
        before = len(levers)
        left = net
        for kind in data.draw(st.lists(st.sampled_from(sources_kinds), max_size=2, unique=True)):
            fen = data.draw(st.integers(0, left))
            levers.append(FundingLever(line.id, kind, fen=fen))
            sources[0, i] += fen
            left -= fen
        if data.draw(st.booleans()):
            n = data.draw(st.integers(1, 12))
            paid_now = data.draw(st.integers(0, left))
            levers.append(FundingLever(line.id, LeverKind.INSTALMENTS, count=n, now_fen=paid_now))
            count[0, i], now[0, i] = n, paid_now
        uses[0, i] = len(levers) > before
    result = share_costs(flats, total, scheme, compensation=comp, levers=levers)
    net_fen = np.array([[ln.fen - ln.compensation_fen for ln in result.lines]], np.int64)
    got = funding(net_fen, sources, count, now, uses)
    for i, line in enumerate(result.lines):
        if line.funding is None:
            assert not uses[0, i]
            continue
        f = line.funding
        assert got.pays_now_fen[0, i] == f.pays_now_fen
        assert got.pays_later_fen[0, i] == f.pays_later_fen
        base, plus = int(got.instalment_fen[0, i]), int(got.larger_instalments[0, i])
        expected = [base + 1] * plus + [base] * (int(count[0, i]) - plus) if count[0, i] else []
        assert list(f.later_instalments) == expected


def test_funding_is_refused_as_the_rule_refuses_it() -> None:
    from colift.sim.costsplit import funding

    one = np.ones((1, 1), np.int64)
    yes = np.ones((1, 1), bool)
    with pytest.raises(BadInput, match="pays nothing"):
        funding(0 * one, 0 * one, 0 * one, 0 * one, yes)
    with pytest.raises(BadInput, match="more than its share"):
        funding(100 * one, 101 * one, 0 * one, 0 * one, yes)
    with pytest.raises(BadInput, match="more now"):
        funding(100 * one, 50 * one, 2 * one, 60 * one, yes)
