"""The columnar build: units as columns give the same arrays and the same seeded run as specs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_sim_pinned import _specs, _uniform_specs

from colift.errors import BadInput
from colift.sim.batch import (
    UnitBatch,
    UnitColumns,
    synthetic_columns,
    synthetic_unit,
)
from colift.sim.model import UnitModel
from colift.sim.params import Scenario


def _assert_same_batch(a: UnitBatch, b: UnitBatch) -> None:
    assert a.labels == b.labels
    assert a.rooms == b.rooms
    assert a.profiles == b.profiles and a.scenario_key == b.scenario_key
    arrays_a, arrays_b = a._arrays(), b._arrays()
    assert arrays_a.keys() == arrays_b.keys()
    for name, x in arrays_a.items():
        y = arrays_b[name]
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (a.ties is None) == (b.ties is None)


def _assert_same_run(a: UnitBatch, b: UnitBatch, scenario: Scenario) -> None:
    ra = UnitModel(a, scenario, 5).run(60)
    rb = UnitModel(b, scenario, 5).run(60)
    for field in ("success", "week_consent", "week_service", "failure", "cooperation"):
        np.testing.assert_array_equal(getattr(ra, field), getattr(rb, field), err_msg=field)
    np.testing.assert_array_equal(ra.resident_fen, rb.resident_fen)


SCENARIO = Scenario(strategy="guided", subsidy_profile="jinan", compensation_fen=300_000)


@pytest.mark.parametrize("make", [_specs, _uniform_specs], ids=["ragged", "uniform"])
def test_columns_from_specs_build_the_same_batch(make) -> None:  # type: ignore[no-untyped-def]
    specs = make()
    old = UnitBatch.from_specs(specs, SCENARIO)
    cols = UnitColumns.from_specs(specs)
    new = UnitBatch.from_columns(cols, SCENARIO)
    _assert_same_batch(old, new)
    _assert_same_run(old, new, SCENARIO)


def test_synthetic_columns_equal_synthetic_units_drawn_one_by_one() -> None:
    specs = [synthetic_unit(np.random.default_rng(3), label="x")]  # warm the path
    rng_a, rng_b = np.random.default_rng(21), np.random.default_rng(21)
    specs = [synthetic_unit(rng_a, label=f"u{i}") for i in range(150)]
    cols = synthetic_columns(rng_b, 150)
    for scenario in (Scenario(), SCENARIO):
        old = UnitBatch.from_specs(specs, scenario)
        new = UnitBatch.from_columns(cols, scenario)
        _assert_same_batch(old, new)
        _assert_same_run(old, new, scenario)
    # the generator is left where the one-by-one draws leave it
    assert rng_a.random() == rng_b.random()
    # and the model takes the columns directly
    direct = UnitModel(cols, SCENARIO, 5).run(60)
    via = UnitModel(UnitBatch.from_specs(specs, SCENARIO), SCENARIO, 5).run(60)
    np.testing.assert_array_equal(direct.week_consent, via.week_consent)


def test_bad_columns_say_which_unit_and_flat() -> None:
    cols = synthetic_columns(np.random.default_rng(1), 3)
    floor = cols.floor.copy()
    floor[12 + 4] = 9
    with pytest.raises(BadInput, match="unit u1: household 301 on floor 9, outside storeys 1–6"):
        UnitBatch.from_columns(dataclasses.replace(cols, floor=floor), Scenario())
    area = cols.area_cm2.copy()
    area[2] = 0
    with pytest.raises(BadInput, match="unit u0: household 201 needs an area above 0"):
        UnitBatch.from_columns(dataclasses.replace(cols, area_cm2=area), Scenario())
    room = cols.room.copy()
    room[24 + 1] = room[24]
    with pytest.raises(BadInput, match="unit u2: a room is listed twice"):
        UnitBatch.from_columns(dataclasses.replace(cols, room=room), Scenario())
    support = cols.support.copy()
    support[0] = 1.5
    with pytest.raises(BadInput, match=r"household 101 support must be in \[0, 1\]"):
        UnitBatch.from_columns(dataclasses.replace(cols, support=support), Scenario())
