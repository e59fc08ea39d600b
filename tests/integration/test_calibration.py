"""Calibration from the store: the demo compound's units, parameter sets, --params, Sobol."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from colift.datafiles import read_toml
from colift.errors import BadInput, NotFound
from colift.services.calibration import (
    adopt_param_set,
    calibrate,
    list_param_sets,
    param_values,
    recorded_units,
    sensitivity,
    show_param_set,
)
from colift.services.demo import seed_demo
from colift.services.simulation import simulate_document

EXAMPLES = Path(__file__).parents[2] / "examples"
TODAY = date(2026, 12, 1)


def test_calibrate_saves_a_parameter_set_with_its_provenance(engine: Engine) -> None:
    code, _ = seed_demo(engine, today=TODAY)
    record = recorded_units(engine, [code], today=TODAY)
    assert record.observations.n_units >= 6
    # Start states carry no votes or stances: the simulation starts where the project did.
    assert all(h.vote is None and h.support is None for s in record.specs for h in s.households)
    out = calibrate(
        engine,
        [code],
        name="fit-1",
        particles=8,
        generations=2,
        parameters=["negotiation_median_weeks"],
        today=TODAY,
    )
    assert [r["name"] for r in out["parameters"]] == ["negotiation_median_weeks"]
    row = out["parameters"][0]
    lo, hi = row["interval90"]
    assert 6.0 <= lo <= row["median"] <= hi <= 40.0
    assert set(out["heldout"]) >= {"calibrated", "uncalibrated", "better"}
    shown = show_param_set(engine, "fit-1")
    assert shown["values"] == {"negotiation_median_weeks": row["median"]}
    assert shown["provenance"]["compounds"] == [code]
    assert shown["provenance"]["posterior"][0]["interval90"] == [lo, hi]
    assert [s["name"] for s in list_param_sets(engine)] == ["fit-1"]
    assert param_values(engine, None) == {}  # nothing adopted yet
    adopt_param_set(engine, "fit-1")
    assert param_values(engine, None) == shown["values"]
    with pytest.raises(BadInput):
        calibrate(engine, [code], name="fit-1", particles=8, generations=1, today=TODAY)
    with pytest.raises(NotFound):
        show_param_set(engine, "missing")


def test_calibrate_refuses_too_few_units_and_no_scope(engine: Engine) -> None:
    with pytest.raises(BadInput):
        recorded_units(engine)
    with pytest.raises(BadInput):
        recorded_units(engine, street="无此街道")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_simulate_with_params_uses_the_set(engine: Engine) -> None:
    data = read_toml(EXAMPLES / "unit-scenario.toml", "test")
    out = simulate_document(
        data, EXAMPLES, ["guided"], 5, 0, weeks=10, params={"negotiation_median_weeks": 30.0}
    )
    assert out["params"] == {"negotiation_median_weeks": 30.0}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sensitivity_gives_sobol_indices_per_output(backend: str) -> None:
    data = read_toml(EXAMPLES / "unit-scenario.toml", "test")
    out = sensitivity(
        data, None, EXAMPLES, strategies=["guided", "informal_only"], weeks=30, samples=2, copies=5
    )
    assert set(out["indices"]) == {
        "success",
        "weeks_to_consent",
        "weeks_to_service",
        "gap:guided-informal_only",
    }
    for idx in out["indices"].values():
        assert set(idx["ST"]) == set(out["parameters"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_demo_street_records_the_simulated_times_through_the_real_steps(
    engine: Engine,
) -> None:
    from colift.demo_street import STREET, build_street
    from colift.services.demo_street import seed_demo_street

    today = date.today()  # activities are checked against the real date
    street, made = seed_demo_street(engine, compounds=1, seed=7, today=today)
    assert (street, made) == (STREET, ["bh-01"])
    record = recorded_units(engine, street=STREET, today=today)
    truth = build_street(1, 7, today).observations
    assert record.observations.span.tolist() == truth.span.tolist()
    assert record.observations.consent.tolist() == truth.consent.tolist()
    assert 0 < int((truth.consent >= 0).sum()) < truth.n_units
    assert seed_demo_street(engine, compounds=1, seed=7, today=today)[1] == []  # once only
