"""The simulation's parameters are data: one file, read by the model and the Mesa reference."""

from __future__ import annotations

import dataclasses
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from colift.datafiles import TomlText
from colift.errors import BadInput
from colift.sim.batch import synthetic_unit
from colift.sim.model import UnitModel
from colift.sim.params import (
    CONFIDENCES,
    DEFAULT_SCHEME,
    Defaults,
    Params,
    Scenario,
    parameter_table,
    read_parameter_table,
)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _mesa_params() -> object:
    sys.path.insert(0, str(BENCH))
    try:
        import mesa_unit  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH))
    return mesa_unit


def test_every_parameter_is_in_the_data_file_with_source_and_confidence() -> None:
    table = parameter_table()
    assert set(table) == {f.name for f in dataclasses.fields(Defaults)}
    d = Defaults()
    for name, info in table.items():
        assert getattr(d, name) == info.value
        assert info.source and info.confidence in CONFIDENCES
        if info.range is not None:
            assert info.range[0] <= info.value <= info.range[1]
    assert d.sources()["trust_alone"] == table["trust_alone"].source
    # The multipliers that decide the strategy ranking cite only this project: assumptions.
    assert d.confidences()["trust_alone"] == "assumption"
    assert d.confidences()["trust_direct"] == "assumption"


def test_the_mesa_reference_reads_the_same_values() -> None:
    mesa_unit = _mesa_params()
    reference = mesa_unit.Params()  # type: ignore[attr-defined]
    ours = Defaults()
    scenario = Scenario()
    shared = 0
    for f in dataclasses.fields(reference):
        value = getattr(reference, f.name)
        if hasattr(ours, f.name):
            assert value == getattr(ours, f.name), f.name
            shared += 1
        else:  # the few scenario fields the reference holds beside the defaults
            assert f.name in {"total_cost_fen", "compensation_fen", "subsidy_fen"}
            expected = getattr(scenario, f.name) if hasattr(scenario, f.name) else 0
            assert value == expected, f.name
    assert shared >= 45
    coefficients = DEFAULT_SCHEME["coefficients"]
    for floor, c in mesa_unit.FLOOR_COEFFICIENT.items():  # type: ignore[attr-defined]
        assert Fraction(c).limit_denominator(100) == Fraction(coefficients[str(floor)])
    assert Fraction(mesa_unit.COEFFICIENT_ABOVE).limit_denominator(100) == Fraction(  # type: ignore[attr-defined]
        DEFAULT_SCHEME["default"]
    )


def test_with_overrides_changes_a_checked_copy() -> None:
    base = Params()
    changed = base.with_overrides(
        {"trust_alone": 0.5}, p_object=0.2, thresholds=[0.6, 0.5, 0.3, 0.1]
    )
    assert (changed.trust_alone, changed.p_object) == (0.5, 0.2)
    assert changed.thresholds == (0.6, 0.5, 0.3, 0.1)
    assert base.trust_alone == 0.6 and base.with_overrides() is base
    with pytest.raises(BadInput, match="trust_alone"):
        base.with_overrides(trust_alon=0.5)
    with pytest.raises(BadInput, match="probability"):
        base.with_overrides(p_object=1.5)
    with pytest.raises(BadInput, match="whole number"):
        base.with_overrides(targets_per_use=2.5)
    scenario = Scenario().with_params({"p_object": 0.0})
    assert scenario.defaults.p_object == 0.0 and Scenario().defaults.p_object == 0.35


def test_an_override_reaches_the_model() -> None:
    import numpy as np

    specs = [synthetic_unit(np.random.default_rng(1), label=f"u{i}") for i in range(30)]
    usual = UnitModel(specs, Scenario(), seed=3).run(104).summary()
    # Nobody's threshold can be met and nobody supports: no unit reaches consent.
    never = Scenario().with_params(
        thresholds=[1.0] * 4, support_prior=[[0.0, 0.0]] * 4, support_need_upper=0.0
    )
    summary = UnitModel(specs, never, seed=3).run(104).summary()
    assert usual["successes"] > 0 and usual["weeks_to_consent"]["median"] is not None
    assert summary["successes"] == 0 and summary["weeks_to_consent"]["median"] is None


def test_a_broken_defaults_file_is_refused_by_name() -> None:
    good = '[x]\nvalue = 0.5\nsource = "s"\nconfidence = "assumption"\nrange = [0.1, 0.9]\n'
    assert read_parameter_table(TomlText(good, "d.toml"))["x"].range == (0.1, 0.9)
    for bad, words in (
        (good.replace('confidence = "assumption"', 'confidence = "sure"'), "confidence"),
        (good.replace('source = "s"\n', ""), "source"),
        (good.replace("range = [0.1, 0.9]", "range = [0.6, 0.9]"), "range"),
        (good + "valu = 1\n", "valu"),
        ("x = 1\n", "table"),
    ):
        with pytest.raises(BadInput, match=words):
            read_parameter_table(TomlText(bad, "d.toml"))
