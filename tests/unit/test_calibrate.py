"""Calibration recovers a known parameter set from a synthetic street (fixed seed, small)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pytest

from colift.calibrate.abc import abc_smc
from colift.calibrate.observe import Observations, censor, summaries
from colift.calibrate.posterior import weighted_quantile
from colift.calibrate.priors import Prior, apply_params, default_prior
from colift.calibrate.simulator import UnitsSimulator
from colift.calibrate.synthetic import TRUE_VALUES, synthetic_street
from colift.errors import BadInput
from colift.sim.params import Defaults, Scenario


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    """All seven parameters on a street of 120 units led in three ways (guided, an action
    leader alone, formal leaders alone), whose records hold stage dates, objections, technical
    blocks and stance changes heard on five levels. One seed: over seeds 5, 11, 21 and 33, 13
    of 14 informed intervals held the true value (docs/calibration.md §3)."""
    from colift.services.calibration import fit

    batch, obs = synthetic_street(120, seed=5, min_span=20, max_span=60)
    out = fit(batch, obs, Scenario(), particles=30, generations=3, seed=5, test_share=0.3)
    return {"rows": out["parameters"], "held": out["heldout"], "out": out}


def test_informed_parameters_are_recovered_within_their_90_percent_interval(fitted) -> None:
    rows = fitted["rows"]
    informed = {r["name"] for r in rows if r["informed"]}
    # the timing informs the negotiation time; the activity-level records inform the trust of
    # informal tools alone (stance changes in informal units), the cap of lasting effects and
    # the technical-block rate. The trust of formal tools under direct guidance (stance changes
    # in formal units) moves the heard stances too little for 120 units: on five levels a
    # worker hears, it is not informed (docs/calibration.md §3)
    expected = {"negotiation_median_weeks", "trust_alone", "persuasion_cap", "p_technical"}
    assert expected <= informed
    for r in rows:
        if r["informed"]:
            lo, hi = r["interval90"]
            assert lo <= TRUE_VALUES[r["name"]] <= hi, r
    assert set(fitted["out"]["informed"]) == informed
    assert set(fitted["out"]["not_informed"]) == {r["name"] for r in rows} - informed


def test_the_output_says_where_each_parameter_is_informed_from(fitted) -> None:
    rows = {r["name"]: r for r in fitted["rows"]}
    first = {n: [x["summary"] for x in r["informed_by"]][:1] for n, r in rows.items()}
    assert first["trust_alone"][0].endswith("_informal")
    assert first["p_technical"] == ["technical_share"]
    assert first["p_object"] == ["objections_per_consent"]
    assert first["trust_direct"][0].endswith("_formal")
    assert first["negotiation_median_weeks"][0] in {"consent_time", "service_time"}
    assert rows["trust_alone"]["predictability"] > 0.5
    assert "stance_w4_informal" in fitted["out"]["summaries_used"]


def test_the_held_out_prediction_beats_the_uncalibrated_model(fitted) -> None:
    held = fitted["held"]
    assert held["better"], held


def test_a_record_of_stage_dates_alone_leaves_the_activity_summaries_out() -> None:
    batch, obs = synthetic_street(16, seed=3, min_span=10, max_span=30)
    full = summaries(obs)
    dates = summaries(obs.timing_only())
    assert np.isfinite(full).all()
    assert np.isfinite(dates[:7]).all() and np.isnan(dates[7:]).all()
    prior = default_prior(["p_technical"])
    sim = UnitsSimulator(batch, obs.span, Scenario(), prior.names, obs.group)
    result = abc_smc(sim, dates, prior, particles=6, generations=1, seed=1)
    assert not result.used[7:].any() and result.used[:7].all()


def test_summaries_and_censoring() -> None:
    obs = Observations(
        np.array([10, 20], np.int32), np.array([5, -1], np.int32), np.array([-1, -1], np.int32)
    )
    s = summaries(obs)
    assert s[:5].tolist() == pytest.approx([0.5, (0.5 + 1.0) / 2, 0.5, 0.0, 1.0])
    assert np.isnan(s[5:]).all()  # nothing but stage dates recorded
    assert censor(np.array([3, 30, -1]), np.array([10, 10, 10])).tolist() == [3, -1, -1]
    assert obs.level().tolist() == [1, 0]


def test_priors_hold_the_defaults_and_refuse_unknown_names() -> None:
    prior = default_prior()
    d = Defaults()
    for i, name in enumerate(prior.names):
        assert prior.low[i] <= getattr(d, name) <= prior.high[i]
    with pytest.raises(BadInput):
        default_prior(["no_such"])
    sc = apply_params(Scenario(), {"trust_alone": 0.4})
    assert sc.defaults.trust_alone == 0.4


def test_weighted_quantile_of_equal_weights_is_the_median() -> None:
    x = np.array([1.0, 2.0, 3.0])
    assert weighted_quantile(x, np.ones(3), 0.5)[0] == pytest.approx(2.0)


def test_abc_smc_on_a_toy_model_finds_the_mean_and_is_deterministic() -> None:
    prior = Prior(("mu",), np.array([-5.0]), np.array([5.0]))

    def sim(theta: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.array([rng.normal(theta[0], 1.0, 50).mean()])

    a = abc_smc(sim, np.array([1.5]), prior, particles=60, generations=5, seed=4)
    b = abc_smc(sim, np.array([1.5]), prior, particles=60, generations=5, seed=4)
    assert np.array_equal(a.particles, b.particles)
    lo, _med, hi = weighted_quantile(a.particles[:, 0], a.weights, [0.05, 0.5, 0.95])
    assert lo <= 1.5 <= hi and hi - lo < 2.0


def test_abc_smc_on_dask_gives_the_same_posterior_as_the_serial_map() -> None:
    from colift.calibrate.simulator import DaskMapper
    from colift.sim.sweep import dask_client

    batch, obs = synthetic_street(12, seed=3, min_span=10, max_span=20)
    prior = default_prior(["negotiation_median_weeks"])
    sim = UnitsSimulator(batch, obs.span, Scenario(), prior.names, obs.group)
    options = {"particles": 6, "generations": 2, "seed": 1}
    serial = abc_smc(sim, summaries(obs), prior, **options)
    with dask_client(None, 2) as client:  # a local cluster of worker processes (the default)
        on_dask = abc_smc(sim, summaries(obs), prior, mapper=DaskMapper(client), **options)
        # the same cluster reached by its scheduler address, as `--scheduler ADDR` reaches one
        with dask_client(client.scheduler.address) as remote:
            by_address = abc_smc(sim, summaries(obs), prior, mapper=DaskMapper(remote), **options)
    for other in (on_dask, by_address):
        assert np.array_equal(serial.particles, other.particles)
        assert np.array_equal(serial.weights, other.weights)


def test_evidence_links_a_tool_to_consent_in_cases_and_segments() -> None:
    from colift.calibrate.evidence import check_posterior, for_tool, links
    from colift.evidence.model import Coding, Source

    text = "党员带头承诺。" * 10
    sources = {
        "s1": Source("s1", "访谈1", text, case_ids=("c1",)),
        "s2": Source("s2", "访谈2", text, case_ids=("c2",)),
    }
    codings = [
        Coding("s1", 0, 7, "tool.party_member_pledge", "a"),
        Coding("s1", 7, 14, "outcome.consent", "a"),
        Coding("s2", 0, 7, "tool.party_member_pledge", "a"),
        Coding("s2", 7, 14, "cooperation.collaborating", "a"),
        Coding("s2", 21, 28, "tool.party_member_pledge", "a"),
        Coding("s2", 28, 35, "outcome.consent", "a"),
        Coding("s1", 42, 49, "tool.door_to_door", "a"),
        Coding("s1", 42, 49, "outcome.failure", "a"),
    ]
    found = links(codings, sources, {"tool.party_member_pledge": "党员带头承诺"}, project="p")
    pledge = for_tool(found, "party_member_pledge")
    assert pledge is not None and pledge.outcome == "consent"
    assert (pledge.cases, pledge.segments) == (2, 2)
    assert pledge.sentence_zh() == "在2个个案的2段访谈中，党员带头承诺之后出现了同意"
    # one passage of a meeting's minutes that speaks for four cases is not "4 cases in 1 passage"
    meeting = replace(pledge, cases=4, segments=1)
    assert meeting.sentence_zh() == "在1段访谈（涉及4个个案）中，党员带头承诺之后出现了同意"
    assert pledge.to_json()["examples"][0] == {"source": "s1", "start": 0, "end": 7}
    assert for_tool(found, "door_to_door") is None  # only contradicted
    rows = [
        {"name": "trust_direct", "interval90": [1.0, 1.1]},
        {"name": "trust_alone", "interval90": [1.2, 1.4]},
    ]
    direct = [dataclasses.replace(pledge, code="guidance.direct")]
    assert check_posterior(rows, direct) and not check_posterior(rows, found)


def test_the_evidence_include_links_each_segment_to_its_source() -> None:
    from colift.web.render import environment

    link = {
        "project": "demo",
        "sentence_zh": "在2个个案的2段访谈中，党员带头承诺之后出现了同意",
        "contradicting": 1,
        "examples": [{"source": "s1", "start": 0, "end": 7}],
    }
    html = environment("zh-CN").get_template("_evidence_links.html").render(links=[link])
    assert "党员带头承诺之后出现了同意（1段相悖）" in html
    assert 'href="/evidence/demo/sources/s1"' in html


def test_the_evidence_prior_holds_direct_guidance_at_least_as_trusted() -> None:
    from colift.calibrate.evidence import Link
    from colift.calibrate.priors import with_evidence

    prior = default_prior(["trust_alone", "trust_direct", "p_object"])
    direct = Link("guidance.direct", "直接引领", "consent", 2, 3, 1)
    narrowed, why = with_evidence(prior, [direct])
    assert narrowed.order == (("trust_direct", "trust_alone"),) and "3 interview segments" in why[0]
    assert with_evidence(prior, [dataclasses.replace(direct, contradicting=5)]) == (prior, [])

    def sim(theta: np.ndarray, seed: int) -> np.ndarray:
        return np.array([theta[0], theta[2]]) + np.random.default_rng(seed).normal(0, 0.01, 2)

    # the data alone would favour trust_alone 0.95 above most of trust_direct's box
    result = abc_smc(sim, np.array([0.95, 0.3]), narrowed, particles=20, generations=3, seed=1)
    assert np.all(result.particles[:, 1] >= result.particles[:, 0])


def test_how_a_stored_unit_was_led_is_read_from_its_activities() -> None:
    from datetime import date

    from colift.coproduction.snapshot import UnitSnapshot
    from colift.model import Role
    from colift.model.coproduction import Activity, GuidanceMode
    from colift.services.calibration import led_as

    start = date(2026, 1, 5)

    def unit(*acts: tuple[Role, GuidanceMode]) -> UnitSnapshot:
        return UnitSnapshot(
            "1-1",
            (),
            date(2026, 6, 1),
            activities=tuple(
                Activity(1, None, "x", role.value, mode, "door_to_door", date(2026, 2, 1))
                for role, mode in acts
            ),
        )

    alone = (Role.ACTION_LEADER, GuidanceMode.NONE)
    formal = (Role.CONSULTATION_ORGANIZER, GuidanceMode.DIRECT)
    assert led_as(unit(alone, alone), start) == 1
    assert led_as(unit(formal), start) == 2
    assert led_as(unit(alone, formal), start) == 0
    assert led_as(unit(), start) == 0
    assert led_as(unit(alone), date(2026, 3, 1)) == 0  # activities before the start do not count


def test_stance_changes_are_read_from_households_heard_at_the_start_and_near_the_week() -> None:
    from colift.services.calibration import stance_changes

    heard = {
        1: [(0, 0.25), (4, 0.75), (12, 1.0)],  # +0.5 by week 4, +0.75 by week 12
        2: [(1, 0.5), (5, 0.5), (3, 0.25), (14, 0.75)],  # week 5 beats 3 (as near, later)
        3: [(0, None), (4, 1.0)],  # not heard at the start: 未接触 is no stance
        4: [(2, 0.0), (4, 1.0)],  # first heard in week 2: too late to be the start
        5: [(0, 0.5), (8, 1.0)],  # heard in week 8 only: near neither week
    }
    w4, w12 = stance_changes(heard)
    assert w4 == pytest.approx((0.5 + 0.0) / 2)
    assert w12 == pytest.approx((0.75 + 0.25) / 2)
    assert all(np.isnan(stance_changes({1: [(0, 0.5)]})))


def test_the_simulated_record_hears_five_stances_of_the_households_living_there() -> None:
    from colift.calibrate.observe import heard, simulate_histories, stance_change

    assert heard(np.array([0.0, 0.12, 0.13, 0.5, 0.874, 0.876, 1.0])).tolist() == [
        0,
        0,
        1,
        2,
        3,
        4,
        4,
    ]
    batch, _ = synthetic_street(12, seed=2, min_span=8, max_span=30)
    span = np.array([8, 30] * 6, np.int32)
    obs, kept = simulate_histories(batch, span, Scenario(), 4)
    lives = batch.lives_here
    assert ((kept.levels >= 0) <= lives[:, None, :]).all()  # absentees are never heard
    assert (kept.levels[span < 12, 2] == -1).all()  # nor after the unit's span
    assert np.allclose(stance_change(kept.levels, lives), obs.stance, equal_nan=True)
    filed = (kept.filed_week >= 0).sum(axis=1)
    assert obs.objections is not None
    consented = obs.consent >= 0
    assert (filed[consented] <= obs.objections[consented]).all()
